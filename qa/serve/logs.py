"""Logging for the server: JSON lines when not on a terminal, readable lines on one.

``configure`` is called once, by ``qa serve``; the app itself only logs.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is data.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's copy of the message with terminal colours
}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class JSONFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``2026-12-06 10:00:00.123 INFO qa.serve: message key=value …`` for a person."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        return f"{line}  {extra}" if extra else line


class OncePer(logging.Filter):
    """Let a message through once per ``interval_s`` seconds, counting what it held back.

    For errors that repeat per connection (running out of file descriptors logs one
    traceback per refused accept): the first is logged, then one line per interval.
    """

    def __init__(self, needle: str, interval_s: float = 60.0) -> None:
        super().__init__()
        self.needle = needle
        self.interval_s = interval_s
        self._last = -float("inf")
        self._held = 0
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.needle not in record.getMessage():
            return True
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.interval_s:
                self._held += 1
                return False
            self._last, held, self._held = now, self._held, 0
        record.exc_info = None  # the traceback says nothing the message does not
        record.exc_text = None
        if held:
            record.msg = f"{record.getMessage()} ({held} more like it in the last interval)"
            record.args = ()
        return True


def configure(level: str = "info", fmt: str = "auto") -> None:
    """Send every logger (the server's, uvicorn's, asyncio's) to stderr in one format;
    ``level`` and ``fmt`` as ``ServeSettings`` checked them."""
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level.upper())  # some libraries set their own loggers to DEBUG
    handler.setFormatter(JSONFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # the request line is ours
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # which CPU build it tried
    logging.getLogger("asyncio").addFilter(OncePer("socket.accept() out of system resource"))
