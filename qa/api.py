"""The HTTP face: REST endpoints, an OpenAI-compatible chat endpoint, health and metrics.

``create_app(engine)`` builds a self-contained FastAPI app (no module globals): its own
Prometheus registry, in-flight limit, optional bearer key and CORS settings. CPU-bound
engine calls run in the thread pool so the event loop keeps answering health checks.
Pydantic models live here only: the engine speaks dataclasses, the edge speaks JSON.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi_offline import FastAPIOffline
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa import ingest
from qa.engine import NO_ANSWER, Engine
from qa.errors import (
    BadInput,
    Busy,
    IndexMismatch,
    IndexNotFound,
    NotFound,
    QAError,
    require_text,
)
from qa.types import Citation, citation_to_dict, response_to_dict
from qa.types import Response as QAResponse

log = logging.getLogger("qa.api")

MODEL_ID = "qa-extractive"
DOCS_STATIC = "/docs-static"  # Swagger UI's files, served from the fastapi-offline package
OPEN_PATHS = frozenset({"/healthz", "/docs", "/docs/oauth2-redirect", "/openapi.json"})
_MODEL_CREATED = 1_700_000_000  # a fixed timestamp for the model list


# -- errors ------------------------------------------------------------------------------
class APIError(Exception):
    """An error with an HTTP status, rendered in the one error shape every endpoint uses."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.headers = headers or {}


_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    503: "service_unavailable",
}


def error_body(status: int, message: str, type_: str | None = None) -> dict[str, Any]:
    """``{"error": {"message", "type", "code"}}``: the OpenAI error shape, used everywhere."""
    return {
        "error": {
            "message": message,
            "type": type_ or _TYPES.get(status, "server_error" if status >= 500 else "error"),
            "code": status,
        }
    }


def error_response(
    status: int, message: str, type_: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, message, type_), status_code=status, headers=headers)


def qa_error_status(e: QAError) -> int:
    """BadInput → 400, NotFound → 404, a missing, mismatched or busy index → 503."""
    if isinstance(e, NotFound):
        return 404
    if isinstance(e, IndexNotFound | IndexMismatch | Busy):
        return 503
    return 400


def _validation_message(errors: list[Any]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
        if err.get("type") == "json_invalid":
            return "the request body is not valid JSON"
        if tuple(err.get("loc", ())) == ("body",):
            return "the request body must be a JSON object (Content-Type: application/json)"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


# -- request and response models ---------------------------------------------------------
class ErrorDetail(BaseModel):
    message: str
    type: str
    code: int


class ErrorBody(BaseModel):
    error: ErrorDetail


class AskRequest(BaseModel):
    question: str = Field(description="The question; the engine's max_question_chars applies.")
    k: StrictInt | None = Field(
        None,
        ge=1,
        le=50,
        description="Passages to retrieve and cite; the reader reads the best of them and "
        "those within the read floor (QA_READ_FLOOR).",
    )


class AnswerOut(BaseModel):
    text: str
    score: float
    doc_id: str
    start: int
    end: int
    citation: int | None
    passage_id: str


class PassageOut(BaseModel):
    """A passage with its document and offsets: ``document.text[start:end] == text``."""

    id: str
    doc_id: str
    source: str
    title: str
    start: int
    end: int
    text: str


class CitationOut(PassageOut):
    n: int
    score: float
    read: bool = Field(
        True, description="Whether the reader read this passage (QA_READ_FLOOR; all are cited)."
    )


class AskResponse(BaseModel):
    """The contract of ``qa ask --json``."""

    question: str
    answer: AnswerOut | None
    citations: list[CitationOut]
    timings_ms: dict[str, float]


class CiteResponse(PassageOut):
    context_before: str
    context_after: str


class DocumentInfo(BaseModel):
    id: str
    source: str
    title: str
    chars: int
    passages: int


class DocumentList(BaseModel):
    object: Literal["list"] = "list"
    data: list[DocumentInfo]


class AddDocumentRequest(BaseModel):
    text: str = Field(description="The document itself (not a path: nothing is read from disk).")
    kind: Literal["text", "markdown", "html"] | None = Field(
        None,
        description="How to read ``text``; default: from the source's extension "
        "(.html/.htm: html, .md/.markdown: markdown), else text.",
    )
    source: str | None = Field(None, description="A label shown in citations; never opened.")
    title: str | None = None


class AddDocumentResponse(BaseModel):
    id: str
    new: bool
    source: str
    title: str
    chars: int


class RemoveDocumentResponse(BaseModel):
    id: str
    removed: bool
    source: str
    title: str


class ModelInfo(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelInfo]


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None


class ChatRequest(BaseModel):
    """OpenAI's chat request; fields other than ``messages``, ``stream`` and ``n`` are
    accepted and ignored, ``model`` too: any name is answered by qa's one model, so a
    client configured for another server works unchanged (``k`` is an extension: passages
    to cite)."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: StrictBool | None = False
    n: StrictInt | None = Field(None, ge=1, le=1, description="Choices: qa gives one answer.")
    k: StrictInt | None = Field(None, ge=1, le=50)


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class ChatChoice(BaseModel):
    index: int
    message: ChatChoiceMessage
    finish_reason: str


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    citations: list[CitationOut]


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    documents: int
    passages: int
    index: str  # fingerprint of the indexed contents (qa.store.index_fingerprint)
    warning: str | None = None  # e.g. a newer save on disk that could not be opened


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": desc}
    for code, desc in [
        (400, "Bad input (malformed JSON, empty or over-long question, …)"),
        (401, "Missing or wrong API key"),
        (413, "Request body too large"),
        (422, "The body does not match the schema"),
        (503, "Overloaded (see Retry-After) or the index is not ready"),
    ]
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such id"}
}


# -- chat helpers ------------------------------------------------------------------------
_PRONOUNS = re.compile(
    r"\b(he|she|him|his|her|hers|they|them|their|theirs|it|its|this|that|these|those|there)\b",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(r"^\s*(and|also|but|so|what about|how about)\b", re.IGNORECASE)
FOLLOW_UP_WORDS = 5  # a last question this short probably leans on earlier turns
FOLLOW_UP_TURNS = 3  # user turns concatenated for retrieval


def message_text(m: ChatMessage) -> str:
    """A message's text; list content keeps only its text parts."""
    if m.content is None:
        return ""
    if isinstance(m.content, str):
        return m.content
    return " ".join(p.text for p in m.content if p.text)


def is_follow_up(question: str) -> bool:
    """Whether ``question`` probably leans on earlier turns (short, a pronoun, "and …")."""
    words = re.findall(r"\w+", question)
    return (
        len(words) <= FOLLOW_UP_WORDS
        or bool(_PRONOUNS.search(question))
        or bool(_CONTINUATION.match(question))
    )


def retrieval_query(user_turns: list[str], limit: int) -> str:
    """What to retrieve with: the last turn, or the recent turns when it is a follow-up."""
    last = user_turns[-1].strip()
    if len(user_turns) < 2 or not is_follow_up(last):
        return last
    query = " ".join(t.strip() for t in user_turns[-FOLLOW_UP_TURNS:] if t.strip())
    return query[-limit:].strip()  # keep the most recent words when over the limit


def source_line(c: Citation | dict[str, Any]) -> str:
    d = citation_to_dict(c) if isinstance(c, Citation) else c
    title = d["title"] or d["source"]
    unread = "" if d.get("read", True) else ", not read"
    return (
        f"[{d['n']}] {title} — {d['source']}, chars {d['start']}–{d['end']} (id {d['id']}{unread})"
    )


def chat_content(resp: QAResponse) -> str:
    """The assistant message: the answer with its ``[n]`` marker, then the sources list."""
    if resp.answer is None:
        head = NO_ANSWER
        heading = "Closest passages:"
    else:
        n = resp.answer_citation
        head = resp.answer.text.strip() + (f" [{n}]" if n is not None else "")
        heading = "Sources:"
    if not resp.citations:
        return head
    return head + "\n\n" + heading + "\n" + "\n".join(source_line(c) for c in resp.citations)


def rough_tokens(text: str) -> int:
    """A rough token count (about four characters a token); not a real tokenizer."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _pieces(text: str, size: int = 24) -> Iterator[str]:
    """``text`` in word-aligned pieces of about ``size`` characters (joined, equal to it)."""
    buf = ""
    for tok in re.findall(r"\S+\s*|\s+", text):
        buf += tok
        if len(buf) >= size:
            yield buf
            buf = ""
    if buf:
        yield buf


# -- middleware --------------------------------------------------------------------------
class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "qa_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "qa_http_request_duration_seconds",
            "HTTP request latency by route and method.",
            ["route", "method"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "qa_inference_in_flight",
            "Engine calls (ask, add, remove) running now.",
            registry=self.registry,
        )
        self.rejected = Counter(
            "qa_overload_rejections",
            "Requests refused with 503 because max_in_flight engine calls were running.",
            registry=self.registry,
        )


class _EdgeMiddleware:
    """Metrics, bearer-key check and body-size limit, in that order, around every request."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: _Metrics,
        api_key: str | None,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.api_key = api_key
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._handle(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(label, method, str(status)).inc()
            self.metrics.latency.labels(label, method).observe(time.perf_counter() - start)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            self.api_key
            and path not in OPEN_PATHS
            and not path.startswith(DOCS_STATIC + "/")
            and scope.get("method") != "OPTIONS"
            and not self._authorised(scope)
        ):
            await error_response(
                401,
                "missing or wrong API key: send the header 'Authorization: Bearer <key>'",
                headers={"WWW-Authenticate": "Bearer"},
            )(scope, receive, send)
            return
        if scope.get("method") in ("POST", "PUT", "PATCH"):
            body = await self._read_body(scope, receive)
            if body is None:
                await error_response(
                    413,
                    f"the request body is larger than the limit of {self.max_body_bytes} bytes",
                )(scope, receive, send)
                return
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()  # the disconnect, when it comes

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    def _authorised(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and self.api_key:
                    return secrets.compare_digest(token.strip().encode(), self.api_key.encode())
        return False

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None when it exceeds the limit (by header or by count)."""
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > self.max_body_bytes:
                        return None
                except ValueError:
                    pass
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


# -- the app -----------------------------------------------------------------------------
def create_app(
    engine: Engine,
    *,
    api_key: str | None = None,
    cors_origins: list[str] | None = None,
    max_in_flight: int = 4,
    max_body_bytes: int = 1_000_000,
    write_wait_s: float = 10.0,
) -> FastAPI:
    """The HTTP API over ``engine``.

    ``api_key`` defaults to ``$QA_API_KEY`` (empty: no key), ``cors_origins`` to the
    comma-separated ``$QA_CORS_ORIGINS`` (empty: CORS off). At most ``max_in_flight``
    engine calls run at once; more get 503 with ``Retry-After``. A document write waits
    at most ``write_wait_s`` for another process writing the index (503 + Retry-After).
    """
    if engine.lock_timeout is None:
        engine.lock_timeout = write_wait_s  # a request never hangs on a CLI's long write
    if api_key is None:
        api_key = os.environ.get("QA_API_KEY", "").strip() or None
    if cors_origins is None:
        raw = os.environ.get("QA_CORS_ORIGINS", "")
        cors_origins = [o.strip() for o in raw.split(",") if o.strip()]
    metrics = _Metrics()
    state: dict[str, Any] = {"ready": False, "load_error": None, "in_flight": 0}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(engine.load)
            state["ready"] = True
        except QAError as e:  # keep serving: /readyz says why, /healthz stays up
            state["load_error"] = str(e)
            log.error("the engine did not load: %s", e)
        yield

    # /docs works offline: Swagger UI comes from the package, not from a CDN.
    app = FastAPIOffline(
        title="qa",
        summary="Source-grounded extractive question answering with exact citations.",
        version="0.1.0",
        lifespan=lifespan,
        responses=_ERRORS,
        redoc_url=None,
        static_url=DOCS_STATIC,
        redirect_slashes=False,  # "/v1/documents/" is an unknown route (JSON 404), not a 307
    )

    # -- error handlers ------------------------------------------------------------------
    @app.exception_handler(APIError)
    async def _api_error(request: Request, e: APIError) -> JSONResponse:
        return error_response(e.status, e.message, e.type, e.headers)

    @app.exception_handler(QAError)
    async def _qa_error(request: Request, e: QAError) -> JSONResponse:
        status = qa_error_status(e)
        if isinstance(e, Busy):  # another process is writing the index: worth a retry
            return error_response(status, str(e), "index_busy", {"Retry-After": "5"})
        return error_response(status, str(e), None if status != 503 else "index_unavailable")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        errors = list(e.errors())
        malformed = any(
            err.get("type") == "json_invalid" or tuple(err.get("loc", ())) == ("body",)
            for err in errors
        )
        status = 400 if malformed else 422
        return error_response(status, _validation_message(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, e: StarletteHTTPException) -> JSONResponse:
        message = str(e.detail)
        if e.status_code == 400 and message == "There was an error parsing the body":
            message = (
                "the request body could not be read: send UTF-8 encoded JSON with "
                "Content-Type: application/json"
            )
        if e.status_code == 404:
            message = f"no route {request.url.path!r}; see /docs for the API"
        return error_response(e.status_code, message, headers=getattr(e, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, e: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(500, "internal error; the server log has the details")

    # -- bounded engine calls --------------------------------------------------------------
    async def limited(fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn`` in the thread pool, or refuse with 503 when max_in_flight are running.

        The counter is only touched on the event loop, so it needs no lock.
        """
        if state["in_flight"] >= max_in_flight:
            metrics.rejected.inc()
            raise APIError(
                503,
                f"the server is busy ({max_in_flight} requests in flight); retry shortly",
                "overloaded",
                {"Retry-After": "1"},
            )
        state["in_flight"] += 1
        metrics.in_flight.inc()
        try:
            return await run_in_threadpool(fn, *args)
        finally:
            state["in_flight"] -= 1
            metrics.in_flight.dec()

    def answer_chat(turns: list[str], k: int | None) -> QAResponse:
        """Read with the last turn; retrieve with the recent turns when it is a follow-up."""
        question = engine.check_question(turns[-1])
        query = retrieval_query(turns, engine.settings.max_question_chars)
        return engine.ask(question, k, retrieval_query=query)

    # -- endpoints -------------------------------------------------------------------------
    @app.get("/healthz", response_model=Health, tags=["ops"])
    async def healthz() -> dict[str, str]:
        """The process is alive (no key needed)."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=Ready, tags=["ops"])
    async def readyz() -> Any:
        """The index and models are loaded; 503 otherwise."""
        if not state["ready"]:
            why = state["load_error"] or "the index and models are still loading"
            return error_response(503, why, "not_ready")

        def info() -> dict[str, object]:  # may reopen an index another process saved
            store = engine.store
            return {
                "status": "ready",
                "documents": len(store.documents),
                "passages": len(store.passages),
                "index": engine.fingerprint,
                "warning": engine.reload_error,
            }

        return await run_in_threadpool(info)

    @app.get(
        "/metrics",
        tags=["ops"],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
    )
    async def prometheus_metrics() -> Response:
        """Prometheus text format: requests by route and status, latency, calls in flight."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/v1/ask", response_model=AskResponse, tags=["qa"])
    async def ask(body: AskRequest) -> JSONResponse:
        """Answer a question from the index, citing passages (the ``qa ask --json`` contract)."""
        engine.check_question(body.question)  # cheap: refuse bad input before queueing
        resp = await limited(engine.ask, body.question, body.k)
        return JSONResponse(response_to_dict(resp))

    @app.post("/v1/chat/completions", response_model=ChatCompletion, tags=["openai"])
    async def chat_completions(body: ChatRequest) -> Any:
        """OpenAI-compatible chat: the last user message is the question; the content carries
        ``[n]`` markers and a sources list, ``citations`` the structured sources."""
        turns = [message_text(m) for m in body.messages if m.role == "user"]
        turns = [t for t in turns if t.strip()]
        if not turns:
            raise APIError(400, "no user message with text: the question is the last user message")
        engine.check_question(turns[-1])
        resp: QAResponse = await limited(answer_chat, turns, body.k)
        content = chat_content(resp)
        citations = [citation_to_dict(c) for c in resp.citations]
        prompt = sum(rough_tokens(message_text(m)) for m in body.messages)
        completion = rough_tokens(content)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        cid = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if not body.stream:
            return {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": MODEL_ID,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
                "citations": citations,
            }

        def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
            payload = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": MODEL_ID,
                "choices": choices,
                **extra,
            }
            return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

        async def events() -> AsyncIterator[str]:
            yield chunk(
                [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]
            )
            for piece in _pieces(content):
                yield chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
            yield chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])
            yield chunk([], usage=usage, citations=citations)
            yield "data: [DONE]\n\n"

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get("/v1/models", response_model=ModelList, tags=["openai"])
    async def models() -> dict[str, Any]:
        """The one model this server answers as."""
        return {"object": "list", "data": [_model_info()]}

    @app.get(
        "/v1/models/{model_id}", response_model=ModelInfo, tags=["openai"], responses=_NOT_FOUND
    )
    async def model(model_id: str) -> dict[str, Any]:
        """One model by id."""
        if model_id != MODEL_ID:
            raise APIError(404, f"no model {model_id!r}; the only model is {MODEL_ID!r}")
        return _model_info()

    @app.get(
        "/v1/citations/{citation_id}",
        response_model=CiteResponse,
        tags=["qa"],
        responses=_NOT_FOUND,
    )
    async def citation(citation_id: str) -> dict[str, object]:
        """The passage behind a citation id, with its document, offsets and context."""
        return await run_in_threadpool(engine.cite, citation_id)

    @app.get("/v1/documents", response_model=DocumentList, tags=["documents"])
    async def documents() -> dict[str, object]:
        """The indexed documents."""
        return {"object": "list", "data": await run_in_threadpool(engine.documents)}

    @app.post(
        "/v1/documents",
        response_model=AddDocumentResponse,
        tags=["documents"],
        status_code=201,
        responses={200: {"model": AddDocumentResponse, "description": "Already indexed"}},
    )
    async def add_document(body: AddDocumentRequest) -> JSONResponse:
        """Add a document given as text (201 when new, 200 when already indexed).

        ``source`` is a label for citations; nothing is ever read from disk.
        """
        for what, value in (("text", body.text), ("source", body.source), ("title", body.title)):
            require_text(value or "", f"the document's {what}")
        source = (body.source or "").strip() or "api"
        kind = body.kind or ingest.kind_of(source)
        doc = ingest.from_string(
            body.text, source=source, kind=kind, title=(body.title or "").strip()
        )
        if not doc.text.strip():
            raise BadInput("the document has no text (after HTML extraction, if html)")
        added = await limited(engine.add_documents, [doc])
        store = await run_in_threadpool(lambda: engine.store)
        doc = store.documents.get(doc.id, doc)  # when not new: as indexed before
        return JSONResponse(
            {
                "id": doc.id,
                "new": bool(added),
                "source": doc.source,
                "title": doc.title,
                "chars": len(doc.text),
            },
            status_code=201 if added else 200,
        )

    @app.delete(
        "/v1/documents/{doc_id}",
        response_model=RemoveDocumentResponse,
        tags=["documents"],
        responses=_NOT_FOUND,
    )
    async def remove_document(doc_id: str) -> dict[str, object]:
        """Remove a document and its passages from the index."""
        doc = await limited(engine.remove, doc_id)
        return {"id": doc.id, "removed": True, "source": doc.source, "title": doc.title}

    if api_key:
        _declare_bearer(app)
    app.add_middleware(
        _EdgeMiddleware, metrics=metrics, api_key=api_key, max_body_bytes=max_body_bytes
    )
    if cors_origins:  # outermost, so preflights and error responses carry CORS headers
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.state.metrics_registry = metrics.registry
    app.state.qa_state = state
    return app


def _model_info() -> dict[str, Any]:
    return {"id": MODEL_ID, "object": "model", "created": _MODEL_CREATED, "owned_by": "qa"}


def _declare_bearer(app: FastAPI) -> None:
    """Document the bearer key in the OpenAPI schema so /docs can send it."""
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
        }
        for path, ops in schema.get("paths", {}).items():
            if path in OPEN_PATHS:
                continue
            for op in ops.values():
                op["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["MODEL_ID", "create_app"]
