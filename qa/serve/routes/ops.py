"""Liveness, readiness and metrics: what orchestrators and Prometheus call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from qa.serve.context import Context
from qa.serve.errors import error_response
from qa.serve.schemas import Health, Ready

router = APIRouter(tags=["ops"])


@router.head("/healthz", include_in_schema=False)
@router.get("/healthz", response_model=Health)
async def healthz() -> dict[str, str]:
    """The process is alive (never needs the key)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Ready)
async def readyz(ctx: Context) -> Any:
    """The index and models are loaded; 503 otherwise (public with QA_METRICS_PUBLIC)."""
    if not ctx.ready:
        why = ctx.load_error or "the index and models are still loading"
        return error_response(503, why, "not_ready")

    def info() -> dict[str, object]:  # may reopen an index another process saved
        engine = ctx.engine
        store = engine.store
        return {
            "status": "ready",
            "documents": len(store.documents),
            "passages": len(store.passages),
            "index": engine.fingerprint,
            "warning": engine.reload_error,
        }

    return await run_in_threadpool(info)


@router.get(
    "/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}}
)
async def metrics(ctx: Context) -> Response:
    """Prometheus text format: requests, questions answered and abstained on, time per stage,
    index size, writes, rejections by reason, the process (public with QA_METRICS_PUBLIC)."""
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)
