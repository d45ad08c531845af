"""Bounded concurrency: a few calls run, a bounded queue waits briefly, the rest get 503.

Questions and writes get separate limiters, so writes waiting for the index lock never
take the slots questions need.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


class Rejected(Exception):
    """No slot: the queue was full (``overloaded``) or the wait ran out (``queue_timeout``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Limiter:
    """At most ``slots`` calls at once; up to ``queue`` more wait at most ``wait_s`` each."""

    kind: str
    slots: int
    queue: int
    wait_s: float

    def __post_init__(self) -> None:
        self.running = 0
        self.waiting = 0
        self._free: asyncio.Condition | None = None  # made on the event loop that uses it

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for the body of the ``async with``; raise `Rejected` when none comes."""
        if self._free is None:
            self._free = asyncio.Condition()
        if self.running >= self.slots:
            if self.waiting >= self.queue:
                raise Rejected(
                    "overloaded",
                    f"the server is busy ({self.slots} {self.kind}s running, {self.waiting} "
                    "waiting); retry shortly",
                )
            self.waiting += 1
            try:
                async with self._free:
                    await asyncio.wait_for(
                        self._free.wait_for(lambda: self.running < self.slots), self.wait_s
                    )
                    self.running += 1
            except TimeoutError:
                raise Rejected(
                    "queue_timeout",
                    f"the server is busy: no {self.kind} slot came free within "
                    f"{self.wait_s:g} s; retry shortly",
                ) from None
            finally:
                self.waiting -= 1
        else:
            self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            async with self._free:
                self._free.notify()
