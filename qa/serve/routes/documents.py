"""The indexed documents: list, add (as text), remove."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from qa.core.errors import require_text
from qa.core.progress import Reporter
from qa.serve.context import Context
from qa.serve.schemas import (
    NOT_FOUND,
    AddDocumentRequest,
    AddDocumentResponse,
    DocumentInfo,
    DocumentList,
    RemoveDocumentResponse,
)

router = APIRouter(tags=["documents"])
log = logging.getLogger("qa.serve.documents")


@router.get("/v1/documents", response_model=DocumentList)
async def documents(ctx: Context) -> DocumentList:
    """The indexed documents."""
    rows = await run_in_threadpool(ctx.engine.documents)
    return DocumentList(data=[DocumentInfo.model_validate(r) for r in rows])


@router.post(
    "/v1/documents",
    response_model=AddDocumentResponse,
    status_code=201,
    responses={200: {"model": AddDocumentResponse, "description": "Already indexed"}},
)
async def add_document(
    body: AddDocumentRequest, request: Request, response: Response, ctx: Context
) -> AddDocumentResponse:
    """Add a document given as text (201 when new, 200 when already indexed).

    ``source`` is a label for citations; nothing is ever read from disk. Reading, chunking
    and embedding run off the event loop, within the write limits.
    """
    for what, value in (("text", body.text), ("source", body.source), ("title", body.title)):
        require_text(value or "", f"the document's {what}")
    source = (body.source or "").strip() or "api"
    title = (body.title or "").strip()
    progress = Reporter(lambda line: log.info("%s: %s", source, line))
    doc, new = await ctx.write(
        request, ctx.engine.add_text, body.text, source, body.kind, title, progress
    )
    if new:
        ctx.metrics.documents_added.inc()
    response.status_code = 201 if new else 200
    return AddDocumentResponse(
        id=doc.id, new=new, source=doc.source, title=doc.title, chars=len(doc.text)
    )


@router.delete("/v1/documents/{doc_id}", response_model=RemoveDocumentResponse, responses=NOT_FOUND)
async def remove_document(doc_id: str, request: Request, ctx: Context) -> RemoveDocumentResponse:
    """Remove a document and its passages from the index."""
    doc = await ctx.write(request, ctx.engine.remove, doc_id)
    ctx.metrics.documents_removed.inc()
    return RemoveDocumentResponse(id=doc.id, removed=True, source=doc.source, title=doc.title)
