"""Progress of long work as plain lines: the size up front, then a line every few seconds.

For logs and for terminals that are not terminals (a pipe, a file, a container's stderr);
an interactive terminal gets a progress bar from the CLI instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Progress = Callable[[str, int, int], None]  # (stage, done, total)

# How far a reader has got through the file it reads (0..1), for whoever reads it.
_within_file: ContextVar[Callable[[float], None] | None] = ContextVar("within_file", default=None)


@contextmanager
def within_file(report: Callable[[float], None]) -> Iterator[None]:
    """While it lasts, a file reader's `file_part_done` calls go to ``report``."""
    token = _within_file.set(report)
    try:
        yield
    finally:
        _within_file.reset(token)


def file_part_done(fraction: float) -> None:
    """A reader has read ``fraction`` of its file (a PDF's pages, say): a long file moves
    the progress along while it is read, not only once it is done."""
    if (report := _within_file.get()) is not None:
        report(fraction)


def _file_size(n: int) -> str:
    if n < 1000:
        return f"{n:,} byte{'' if n == 1 else 's'} of files"
    return f"{n / 1e6:,.1f} MB of files" if n >= 1_000_000 else f"{n / 1e3:,.0f} KB of files"


def _text_size(chars: int) -> str:
    if chars < 1000:
        return f"{chars} characters"
    return f"{chars / 1e6:,.1f} MB" if chars >= 100_000 else f"{chars / 1e3:,.1f} KB"


# stage -> (verb as it runs, verb when done, how to show an amount of what it counts)
_STAGES: dict[str, tuple[str, str, Callable[[int], str]]] = {
    "read": ("reading", "read", lambda n: f"{n:,} file{'' if n == 1 else 's'}"),
    "chunk": ("chunking", "chunked", lambda n: f"{_text_size(n)} of text"),
    "embed": ("embedding", "embedded", lambda n: f"{n:,} passage{'' if n == 1 else 's'}"),
    # a rebuild streams: files read, chunked and embedded a batch at a time (qa.index.stream),
    # counted by their size, so one large PDF weighs as much as it takes; "read" when done,
    # since some of them may have been skipped
    "index": ("indexing", "read", _file_size),
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
        self._from = 0  # done when the stage started: a resumed rebuild starts part way
        self._ended = False  # its end is said once (an empty stage reports done again)

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        doing, did, show = _STAGES.get(stage, (stage, stage, lambda n: f"{n:,}"))
        if stage != self._stage:
            self._stage, self._started, self._last, self._from = stage, now, now, done
            self._ended = False
            self.emit(f"{doing} {show(total)}…")
            if done < total:
                return
        if done < total:
            self._ended = False  # more came in after an end: a later end is said again
        if done < total and now - self._last < self.interval_s:
            return
        self._last = now
        elapsed = now - self._started
        if done >= total:
            if not self._ended:
                self._ended = True
                self.emit(f"{did} {show(total)} in {_duration(elapsed)}")
            return
        line = f"{doing}: {100 * done / total:.0f}% of {show(total)}"
        if done > self._from and elapsed > 0:
            left = (total - done) * elapsed / (done - self._from)
            line += f", about {_duration(left)} left"
        self.emit(line)
