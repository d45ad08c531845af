"""Running the app: uvicorn with deadlines for slow clients and a graceful stop.

uvicorn closes idle keep-alive connections but never one that is slow to send its
request headers; ``GuardedH11Protocol`` gives each request's headers a deadline (the body
has its own, in the edge middleware), so stalled connections cannot pile up.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("qa.serve")


class GuardedH11Protocol(H11Protocol):
    """h11 with a deadline, from the connection's start or its last response, for the next
    request's headers; a connection that misses it is closed."""

    header_timeout_s: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        if getattr(self, "_deadline", None) is None:
            self._deadline = self.loop.call_later(self.header_timeout_s, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _in_request(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_request():
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self._in_request():  # a pipelined request may have started already
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _expire(self) -> None:
        self._deadline = None
        if not self._in_request() and not self.transport.is_closing():
            log.debug("closed a connection that sent no complete request in time")
            self.transport.close()


def raise_open_files_limit() -> int:
    """Raise this process's open-files limit to the hard limit (each connection takes one);
    returns the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def run(
    app: Any,
    host: str,
    port: int,
    header_timeout_s: float = 10.0,
    shutdown_timeout_s: float | None = 30.0,
) -> None:
    """Serve ``app`` until SIGTERM or SIGINT: then stop accepting, finish the requests in
    flight (at most ``shutdown_timeout_s``) and any index write, and exit."""
    import uvicorn

    protocol = type("Guarded", (GuardedH11Protocol,), {"header_timeout_s": header_timeout_s})
    raise_open_files_limit()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,  # type: ignore[arg-type]
        log_config=None,  # qa.serve.logs configured the loggers
        access_log=False,  # one line per request comes from the edge middleware
        timeout_graceful_shutdown=shutdown_timeout_s,
        server_header=False,
    )
    uvicorn.Server(config).run()
