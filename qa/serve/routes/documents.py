"""The indexed documents: list, add (as text or files), remove, and one with its text."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from qa.core.errors import NotFound, require_text
from qa.core.progress import Reporter
from qa.serve.context import Context, ServeContext
from qa.serve.errors import APIError
from qa.serve.schemas import (
    NOT_FOUND,
    AddDocumentRequest,
    AddDocumentResponse,
    DocumentInfo,
    DocumentList,
    RemoveDocumentResponse,
    UploadResponse,
)

router = APIRouter(tags=["documents"])
log = logging.getLogger("qa.serve.documents")


@router.get("/v1/documents", response_model=DocumentList)
async def documents(ctx: Context) -> DocumentList:
    """The indexed documents."""
    rows = await run_in_threadpool(ctx.engine.documents)
    return DocumentList(data=[DocumentInfo.model_validate(r) for r in rows])


_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/AddDocumentRequest"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "One or more files (.pdf, .docx, .html, .md, .rst, "
                            ".info, .txt, man pages .1 to .9); each file's name is its source.",
                        },
                        "strict": {"type": "boolean", "description": "Fail on any skip."},
                    },
                    "required": ["file"],
                }
            },
        },
    }
}


@router.post(
    "/v1/documents",
    response_model=AddDocumentResponse | UploadResponse,
    status_code=201,
    responses={200: {"model": AddDocumentResponse, "description": "Already indexed"}},
    openapi_extra=_UPLOAD_DOC,
)
async def add_document(
    request: Request, response: Response, ctx: Context
) -> AddDocumentResponse | UploadResponse:
    """Add a document given as text (JSON; 201 when new, 200 when already indexed), or
    upload files (multipart: PDF, DOCX, HTML, Markdown, reStructuredText, text, man pages),
    answered with the summary of what was added, replaced, unchanged and skipped (with each
    file's reason).

    ``source`` is a label for citations; nothing is ever read from disk. Reading, chunking
    and embedding run off the event loop, within the write limits; the body limit
    (QA_MAX_BODY_BYTES) applies to uploads too.
    """
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await _upload(request, response, ctx)
    body = _json_body(await request.body())
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


def _json_body(raw: bytes) -> AddDocumentRequest:
    """The JSON body, refused the way FastAPI refuses any other (lone surrogates pass the
    JSON parser here and are refused by name afterwards, as for the other endpoints)."""
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", 0), "msg": str(e)}]
        ) from None
    try:
        return AddDocumentRequest.model_validate(data)
    except ValidationError as e:
        errors = [{**err, "loc": ("body", *err["loc"])} for err in e.errors(include_url=False)]
        raise RequestValidationError(errors) from None


async def _upload(request: Request, response: Response, ctx: ServeContext) -> UploadResponse:
    try:
        form = await request.form(max_files=1000, max_fields=100)
    except Exception as e:  # starlette raises several kinds for a malformed body
        raise APIError(
            400, f"the multipart body cannot be read ({e}); send files as 'file'"
        ) from None
    files: list[tuple[str, bytes]] = []
    for value in form.getlist("file"):
        if isinstance(value, str):
            raise APIError(400, "'file' must be a file part (with a filename), not a text field")
        name = Path(value.filename or "").name
        if not name:
            raise APIError(400, "an uploaded file has no filename; its name says its format")
        files.append((name, await value.read()))
    if not files:
        raise APIError(400, "no 'file' part in the multipart body: send one or more files")
    strict = str(form.get("strict", "")).lower() in ("1", "true", "yes", "on")
    progress = Reporter(lambda line: log.info("upload: %s", line))
    report = await ctx.write(request, ctx.engine.add_files, files, progress, strict)
    if report.added or report.replaced:
        ctx.metrics.documents_added.inc(len(report.added) + len(report.replaced))
    response.status_code = 201 if report.changed else 200
    return UploadResponse.model_validate(report.to_dict())


@router.delete("/v1/documents/{doc_id}", response_model=RemoveDocumentResponse, responses=NOT_FOUND)
async def remove_document(doc_id: str, request: Request, ctx: Context) -> RemoveDocumentResponse:
    """Remove a document and its passages from the index."""
    doc = await ctx.write(request, ctx.engine.remove, doc_id)
    ctx.metrics.documents_removed.inc()
    return RemoveDocumentResponse(id=doc.id, removed=True, source=doc.source, title=doc.title)


# -- one document, with its text and passages (the web page's document view) --------------
class DocumentPassage(BaseModel):
    """A passage's place in its document: ``text[start:end]``, in characters (code points)."""

    id: str
    start: int
    end: int
    page: int | None = None
    section: str = ""


class DocumentDetail(BaseModel):
    """A document: its text (which every offset indexes), metadata and passages in order."""

    id: str
    source: str
    title: str
    format: str = ""
    pages: int | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    text: str
    passages: list[DocumentPassage]


@router.get("/v1/documents/{doc_id}", response_model=DocumentDetail, responses=NOT_FOUND)
async def document(doc_id: str, ctx: Context) -> DocumentDetail:
    """One document: its text, metadata and passages (ids, offsets, pages, sections)."""
    return await run_in_threadpool(_document, ctx, doc_id)


def _document(ctx: ServeContext, doc_id: str) -> DocumentDetail:
    store = ctx.engine.store
    doc = store.documents.get(doc_id.strip())
    if doc is None:
        shown = repr(doc_id) if len(doc_id) <= 80 else f"{doc_id[:60]!r}… ({len(doc_id)} chars)"
        raise NotFound(f"no document {shown} in the index; GET /v1/documents lists the ids")
    passages = sorted(store.doc_passages(doc.id), key=lambda p: (p.start, p.end))
    return DocumentDetail(
        id=doc.id,
        source=doc.source,
        title=doc.title,
        format=str(doc.meta.get("format", "")),
        pages=doc.meta.get("pages"),
        meta=dict(doc.meta),
        text=doc.text,
        passages=[
            DocumentPassage(id=p.id, start=p.start, end=p.end, page=p.page, section=p.section)
            for p in passages
        ],
    )
