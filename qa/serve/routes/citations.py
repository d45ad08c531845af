"""GET /v1/citations/{id}: the exact passage behind a citation id."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from qa.serve.context import Context
from qa.serve.schemas import NOT_FOUND, CiteResponse

router = APIRouter(tags=["qa"])


@router.get("/v1/citations/{citation_id}", response_model=CiteResponse, responses=NOT_FOUND)
async def citation(citation_id: str, ctx: Context) -> CiteResponse:
    """The passage behind a citation id, with its document, offsets and context."""
    return CiteResponse.model_validate(await run_in_threadpool(ctx.engine.cite, citation_id))
