"""What every route needs, built once per app and injected: the engine, the limits, metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from qa.engine import Engine
from qa.serve.errors import APIError
from qa.serve.limits import Limiter, Rejected
from qa.serve.metrics import Metrics

T = TypeVar("T")


@dataclass
class ServeContext:
    engine: Engine
    metrics: Metrics
    questions: Limiter
    writes: Limiter
    ready: bool = False
    load_error: str | None = None
    public_url: str = ""  # QA_PUBLIC_URL: the base of links in replies ("": the request's)

    def base_url(self, request: Request) -> str:
        """Where users reach this server: QA_PUBLIC_URL, else the request's own address."""
        return (self.public_url or str(request.base_url)).rstrip("/")

    async def _limited(
        self, limiter: Limiter, request: Request, fn: Callable[..., T], *args: Any
    ) -> T:
        """Run ``fn`` in the thread pool within ``limiter``, or refuse with 503 + Retry-After."""
        gauge_run = self.metrics.in_flight.labels(limiter.kind)
        gauge_wait = self.metrics.waiting.labels(limiter.kind)
        gauge_wait.inc()
        try:
            async with limiter.slot():
                gauge_wait.dec()
                gauge_run.inc()
                try:
                    return await run_in_threadpool(fn, *args)
                finally:
                    gauge_run.dec()
        except Rejected as e:
            gauge_wait.dec()
            request.state.rejected = e.reason
            raise APIError(503, str(e), "overloaded", {"Retry-After": "1"}) from None

    async def question(self, request: Request, fn: Callable[..., T], *args: Any) -> T:
        """A question's engine call, within the question limits."""
        return await self._limited(self.questions, request, fn, *args)

    async def write(self, request: Request, fn: Callable[..., T], *args: Any) -> T:
        """A document write (parse, chunk, embed, save), within the write limits."""
        return await self._limited(self.writes, request, fn, *args)


def get_context(request: Request) -> ServeContext:
    ctx: ServeContext = request.app.state.qa
    return ctx


Context = Annotated[ServeContext, Depends(get_context)]
