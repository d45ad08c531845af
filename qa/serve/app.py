"""The HTTP face: ``create_app(engine)`` builds a self-contained FastAPI app (no module
globals): its own metrics registry, limits, optional bearer key and CORS settings.

CPU-bound work (answering, parsing, chunking, embedding) runs in the thread pool within
separate limits for questions and writes, so the event loop keeps answering probes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from qa.core.config import ServeSettings
from qa.core.errors import QAError
from qa.engine import Engine
from qa.serve import errors
from qa.serve.context import ServeContext
from qa.serve.limits import Limiter
from qa.serve.metrics import Metrics
from qa.serve.middleware import DOCS_STATIC, OPEN_PATHS, EdgeLimits, EdgeMiddleware
from qa.serve.routes import ask, chat, citations, documents, ops, web
from qa.serve.schemas import ERRORS, ChatCompletionChunk

log = logging.getLogger("qa.serve")


def create_app(
    engine: Engine,
    settings: ServeSettings | None = None,
    *,
    api_key: str | None = None,
    cors_origins: list[str] | None = None,
    max_in_flight: int | None = None,
    max_body_bytes: int | None = None,
    write_wait_s: float | None = None,
) -> FastAPI:
    """The HTTP API over ``engine``: ``settings`` (default: from the environment), with the
    keyword arguments overriding single fields."""
    s = settings or ServeSettings.from_env()
    overrides = {
        "api_key": api_key,
        "cors_origins": None if cors_origins is None else tuple(cors_origins),
        "max_in_flight": max_in_flight,
        "max_body_bytes": max_body_bytes,
        "write_wait_s": write_wait_s,
    }
    s = replace(s, **{k: v for k, v in overrides.items() if v is not None})
    if engine.lock_timeout is None:
        engine.lock_timeout = s.write_wait_s  # a request never hangs on a CLI's long write
    metrics = Metrics()
    metrics.index_size(lambda: engine.size()[0], lambda: engine.size()[1])
    ctx = ServeContext(
        engine=engine,
        metrics=metrics,
        questions=Limiter("question", s.max_in_flight, s.queue, s.queue_wait_s),
        writes=Limiter("write", s.max_writes, s.write_queue, s.write_wait_s),
        public_url=s.public_url,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(engine.load)
            ctx.ready = True
        except QAError as e:  # keep serving: /readyz says why, /healthz stays up
            ctx.load_error = str(e)
            log.error("the engine did not load: %s", e)
        yield
        ctx.ready = False
        # A write whose client went away still runs in its thread: let it finish its save.
        await run_in_threadpool(engine.wait_for_writes)
        log.info("stopped: requests in flight and index writes finished")

    # /docs works offline: Swagger UI comes from the package, not from a CDN.
    app = FastAPIOffline(
        title="qa",
        summary="Source-grounded extractive question answering with exact citations.",
        version="0.1.0",
        lifespan=lifespan,
        responses=ERRORS,
        redoc_url=None,
        static_url=DOCS_STATIC,
        redirect_slashes=False,  # "/v1/documents/" is an unknown route (JSON 404), not a 307
    )
    app.state.qa = ctx
    errors.install(app)
    for module in (ops, ask, chat, citations, documents, web):
        app.include_router(module.router)
    app.mount(web.STATIC_URL, web.static_files(), name="static")
    _document_schema(app, bearer=bool(s.api_key), open_paths=_open_paths(s))
    app.add_middleware(
        EdgeMiddleware,
        metrics=metrics,
        limits=EdgeLimits(s.api_key, s.max_body_bytes, s.body_timeout_s, s.metrics_public),
    )
    if s.cors_origins:  # outermost, so preflights and error responses carry CORS headers
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(s.cors_origins),
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.state.metrics_registry = metrics.registry
    return app


def _open_paths(s: ServeSettings) -> frozenset[str]:
    return OPEN_PATHS | ({"/readyz", "/metrics"} if s.metrics_public else set())


def _document_schema(app: FastAPI, bearer: bool, open_paths: frozenset[str]) -> None:
    """Add to the OpenAPI schema what routes cannot declare: the bearer key (so /docs can
    send it) and the streamed chat chunk."""
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {})
        chunk = ChatCompletionChunk.model_json_schema(ref_template="#/components/schemas/{model}")
        components.setdefault("schemas", {}).update(chunk.pop("$defs", {}))
        components["schemas"]["ChatCompletionChunk"] = chunk
        stream = schema["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
        stream["text/event-stream"]["x-event-data"] = {
            "$ref": "#/components/schemas/ChatCompletionChunk"
        }
        if bearer:
            components.setdefault("securitySchemes", {})["bearer"] = {
                "type": "http",
                "scheme": "bearer",
            }
            for path, ops_ in schema.get("paths", {}).items():
                if path not in open_paths:
                    for op in ops_.values():
                        op["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
