"""Progress of long work as plain lines: the size up front, then a line every few seconds.

For logs and for terminals that are not terminals (a pipe, a file, a container's stderr);
an interactive terminal gets a progress bar from the CLI instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# stage -> (what is counted, how to show an amount of it)
_UNITS: dict[str, tuple[str, Callable[[int], str]]] = {
    "chunk": ("of text chunked", lambda n: f"{n / 1e6:,.1f} MB"),
    "embed": ("passages embedded", lambda n: f"{n:,}"),
}


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class Reporter:
    """A progress callback ``(stage, done, total)`` that writes a line to ``emit`` when a
    stage starts, at most every ``interval_s`` seconds while it runs, and when it ends."""

    def __init__(self, emit: Callable[[str], None], interval_s: float = 5.0) -> None:
        self.emit = emit
        self.interval_s = interval_s
        self._stage: str | None = None
        self._started = 0.0
        self._last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        what, show = _UNITS.get(stage, (stage, lambda n: f"{n:,}"))
        if stage != self._stage:
            self._stage, self._started, self._last = stage, now, now
            self.emit(f"{stage}: {show(total)} to do")
            if done < total:
                return
        if done < total and now - self._last < self.interval_s:
            return
        self._last = now
        elapsed = now - self._started
        line = f"{stage}: {show(done)} / {show(total)} {what} ({100 * done / max(total, 1):.0f}%)"
        if 0 < done < total and elapsed > 0:
            rate = done / elapsed
            line += f", about {_duration((total - done) / rate)} left"
        elif done >= total:
            line += f" in {_duration(elapsed)}"
        self.emit(line)
