"""Request and response bodies of the HTTP API: the JSON contract, published in /openapi.json.

Pydantic lives at the HTTP edge only; the engine speaks dataclasses (``qa.core.types``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from qa.core.config import MAX_K


def _whole_number(value: Any) -> Any:
    """A JSON integer, or a number with no fraction (``14.0``, which JSON Schema also calls
    an integer); booleans and strings are refused, not read as numbers."""
    if isinstance(value, bool | str):
        raise ValueError("must be a whole number")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
K_FIELD = Field(
    None,
    ge=1,
    le=MAX_K,
    description="Passages to retrieve and cite; the reader reads the best of them and "
    "those within the read floor (QA_READ_FLOOR).",
)


class ErrorDetail(BaseModel):
    message: str
    type: str
    code: int


class ErrorBody(BaseModel):
    error: ErrorDetail


FILTER_FIELD = Field(
    None,
    description="Restrict retrieval to some documents: field → glob pattern or list of them, "
    'e.g. {"source": "contracts/*", "format": "pdf"} or {"doc": ["d…"]}; fields are doc '
    "(ids), source, title, format and any metadata field (front matter, ...).",
)


class AskRequest(BaseModel):
    question: str = Field(
        min_length=1,
        pattern=r"\S",
        description="The question (not blank); the engine's max_question_chars applies.",
    )
    k: WholeNumber | None = K_FIELD
    filter: dict[str, str | list[str]] | None = FILTER_FIELD


class AnswerOut(BaseModel):
    text: str
    score: float = Field(description="The reader's span probability among the spans it read.")
    confidence: float | None = Field(
        None,
        description="The calibrated probability that the answer is right (QA_MIN_CONFIDENCE "
        "abstains below it); null when the reader has no calibrator.",
    )
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
    page: int | None = Field(None, description="The 1-based page it starts on (PDFs).")
    section: str = Field("", description='The headings above it, e.g. "Install > Linux".')


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
    format: str = ""
    pages: int | None = None
    chars: int
    passages: int
    meta: dict[str, Any] = Field(
        default_factory=dict,
        description="What is known besides the text: format, encoding, pages, mtime, "
        "front-matter fields, ...",
    )


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


class SkippedFile(BaseModel):
    source: str
    reason: str = Field(description="unsupported type, no text, unreadable or duplicate")
    detail: str


class DocumentRef(BaseModel):
    id: str
    source: str
    title: str


class DocumentChanges(BaseModel):
    added: list[DocumentRef]
    replaced: list[DocumentRef]
    unchanged: list[DocumentRef]
    removed: list[DocumentRef]


class IngestReport(BaseModel):
    """What a write did: counts, the documents by what happened to them, skipped files."""

    added: int
    replaced: int
    unchanged: int
    removed: int
    skipped: dict[str, int] = Field(description="Skipped files by reason.")
    documents: DocumentChanges
    skipped_files: list[SkippedFile]


class AddDocumentResponse(BaseModel):
    id: str
    new: bool
    source: str
    title: str
    chars: int
    report: IngestReport | None = None


class UploadResponse(IngestReport):
    """``POST /v1/documents`` with files (multipart): the summary of the upload."""


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
    """OpenAI's chat request; fields other than ``messages``, ``stream``, ``n`` and the
    token limits are accepted and ignored, ``model`` too: any name is answered by qa's one
    model, so a client configured for another server works unchanged (``k`` is an
    extension: passages to cite)."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: StrictBool | None = False
    n: WholeNumber | None = Field(None, ge=1, le=1, description="Choices: qa gives one answer.")
    k: WholeNumber | None = K_FIELD
    filter: dict[str, str | list[str]] | None = FILTER_FIELD
    max_tokens: WholeNumber | None = Field(
        None,
        ge=1,
        description="The reply's budget in rough tokens (4 characters each): the content is "
        'cut after the last whole line that fits (``finish_reason: "length"``).',
    )
    max_completion_tokens: WholeNumber | None = Field(
        None, ge=1, description="The same as ``max_tokens`` (the smaller applies)."
    )


class UrlCitation(BaseModel):
    start_index: int = Field(description="Where the link starts in the content.")
    end_index: int = Field(description="Where it ends: ``content[start_index:end_index]``.")
    url: str = Field(description="The document view: ``{base}/view/{doc_id}?start=…&end=…``.")
    title: str


class Annotation(BaseModel):
    """A source link in the content, as OpenAI's clients read it."""

    type: Literal["url_citation"]
    url_citation: UrlCitation


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"]
    content: str
    annotations: list[Annotation] = Field(default_factory=list)


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
    answer: AnswerOut | None = Field(
        description="The answer as ``/v1/ask`` gives it (null: the sources do not answer)."
    )


class ChunkDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    annotations: list[Annotation] | None = None


class ChunkChoice(BaseModel):
    index: int
    delta: ChunkDelta
    finish_reason: str | None


class ChatCompletionChunk(BaseModel):
    """One server-sent event of a streamed chat reply (``data: <this JSON>``); the last
    content delta carries the annotations, and the last chunk before ``data: [DONE]`` has
    no choices and carries ``usage``, ``citations`` and ``answer``."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    citations: list[CitationOut] | None = None
    answer: AnswerOut | None = None


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    documents: int
    passages: int
    index: str  # fingerprint of the indexed contents (qa.index.store.index_fingerprint)
    warning: str | None = None  # e.g. a newer save on disk that could not be opened


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": desc}
    for code, desc in [
        (400, "Bad input (malformed JSON, empty or over-long question, …)"),
        (401, "Missing or wrong API key"),
        (408, "The request body did not arrive in time"),
        (413, "Request body too large"),
        (422, "The body does not match the schema"),
        (503, "Overloaded (see Retry-After) or the index is not ready"),
    ]
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such id"}
}
