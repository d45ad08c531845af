"""The HTTP face: ``create_app(engine)`` builds a self-contained FastAPI app (no module
globals): its own metrics registry, limits, optional bearer key and CORS settings.

CPU-bound work (answering, parsing, chunking, embedding) runs in the thread pool within
separate limits for questions and writes, so the event loop keeps answering probes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from qa.core.errors import BadInput, QAError
from qa.engine import Engine
from qa.serve import errors
from qa.serve.context import ServeContext
from qa.serve.limits import Limiter
from qa.serve.metrics import Metrics
from qa.serve.middleware import DOCS_STATIC, OPEN_PATHS, EdgeLimits, EdgeMiddleware
from qa.serve.routes import ask, chat, citations, documents, ops
from qa.serve.schemas import ERRORS, ChatCompletionChunk

log = logging.getLogger("qa.serve")


def _env_bool(name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise BadInput(f"{name}={raw!r} is not a yes/no value; use 1 or 0")


def _env_number(name: str, default: float, lo: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadInput(f"{name}={raw!r} is not a number; unset it or give a number") from None
    if not value >= lo:
        raise BadInput(f"{name} must be at least {lo:g}, not {raw}")
    return value


@dataclass(frozen=True)
class ServeSettings:
    """How the server protects itself; each has a ``QA_*`` variable (``from_env``)."""

    api_key: str | None = None  # QA_API_KEY: bearer key for everything but the open paths
    cors_origins: tuple[str, ...] = ()  # QA_CORS_ORIGINS, comma-separated
    metrics_public: bool = False  # QA_METRICS_PUBLIC: /readyz and /metrics without the key
    max_in_flight: int = 4  # QA_MAX_IN_FLIGHT: questions answered at once
    queue: int = 32  # QA_QUEUE: questions waiting for a slot; more get 503 at once
    queue_wait_s: float = 2.0  # QA_QUEUE_WAIT_S: longest wait for a slot, then 503
    max_writes: int = 1  # document writes at once (they take turns on the index anyway)
    write_queue: int = 8  # QA_WRITE_QUEUE: writes waiting for their turn
    write_wait_s: float = 10.0  # QA_WRITE_WAIT_S: for the turn, and for another process
    max_body_bytes: int = 1_000_000  # QA_MAX_BODY_BYTES
    body_timeout_s: float = 30.0  # QA_BODY_TIMEOUT_S: the whole body must arrive by then

    @classmethod
    def from_env(cls, **overrides: Any) -> ServeSettings:
        d = cls()
        origins = os.environ.get("QA_CORS_ORIGINS", "")
        values: dict[str, Any] = {
            "api_key": os.environ.get("QA_API_KEY", "").strip() or None,
            "cors_origins": tuple(o.strip() for o in origins.split(",") if o.strip()),
            "metrics_public": _env_bool("QA_METRICS_PUBLIC"),
            "max_in_flight": int(_env_number("QA_MAX_IN_FLIGHT", d.max_in_flight, 1)),
            "queue": int(_env_number("QA_QUEUE", d.queue, 0)),
            "queue_wait_s": _env_number("QA_QUEUE_WAIT_S", d.queue_wait_s, 0),
            "write_queue": int(_env_number("QA_WRITE_QUEUE", d.write_queue, 0)),
            "write_wait_s": _env_number("QA_WRITE_WAIT_S", d.write_wait_s, 0),
            "max_body_bytes": int(_env_number("QA_MAX_BODY_BYTES", d.max_body_bytes, 1)),
            "body_timeout_s": _env_number("QA_BODY_TIMEOUT_S", d.body_timeout_s, 0.1),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


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
    s = ServeSettings(**{**vars(s), **{k: v for k, v in overrides.items() if v is not None}})
    if engine.lock_timeout is None:
        engine.lock_timeout = s.write_wait_s  # a request never hangs on a CLI's long write
    metrics = Metrics()
    metrics.index_size(lambda: engine.size()[0], lambda: engine.size()[1])
    ctx = ServeContext(
        engine=engine,
        metrics=metrics,
        questions=Limiter("question", s.max_in_flight, s.queue, s.queue_wait_s),
        writes=Limiter("write", s.max_writes, s.write_queue, s.write_wait_s),
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
    for module in (ops, ask, chat, citations, documents):
        app.include_router(module.router)
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
