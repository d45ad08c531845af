"""OpenAI-compatible chat: POST /v1/chat/completions (plain or streamed) and the model list.

The reply is Markdown (``qa.serve.reply``): the answer, the sentence it comes from, the
sources as links to the document view, each link an OpenAI ``url_citation`` annotation.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from qa.core.filters import Filter
from qa.core.types import Response as QAResponse
from qa.core.types import response_to_dict
from qa.engine import Engine
from qa.serve.context import Context
from qa.serve.errors import APIError
from qa.serve.followup import is_follow_up, reader_question, retrieval_query
from qa.serve.reply import answer_of, cut, render, rough_tokens
from qa.serve.routes.ask import record
from qa.serve.schemas import (
    NOT_FOUND,
    ChatCompletion,
    ChatMessage,
    ChatRequest,
    ModelInfo,
    ModelList,
)

router = APIRouter(tags=["openai"])

MODEL_ID = "qa-extractive"
_MODEL_CREATED = 1_700_000_000  # a fixed timestamp for the model list

__all__ = ["MODEL_ID", "is_follow_up", "retrieval_query", "rough_tokens", "router"]


def message_text(m: ChatMessage) -> str:
    """A message's text; list content keeps only its text parts."""
    if m.content is None:
        return ""
    if isinstance(m.content, str):
        return m.content
    return " ".join(p.text for p in m.content if p.text)


def conversation(messages: list[ChatMessage]) -> tuple[list[str], list[str | None]]:
    """The user turns with text, and the answer the assistant's reply gave to each
    (None where there was none, or no reply of this server's form)."""
    turns: list[str] = []
    answers: list[str | None] = []
    for m in messages:
        if m.role == "user" and message_text(m).strip():
            turns.append(message_text(m))
            answers.append(None)
        elif m.role == "assistant" and turns and answers[-1] is None:
            answers[-1] = answer_of(message_text(m))
    return turns, answers


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


def answer_chat(
    engine: Engine,
    turns: list[str],
    k: int | None,
    where: Filter | None = None,
    answers: list[str | None] | None = None,
) -> QAResponse:
    """Retrieve with the recent turns when the last one is a follow-up, and read it as it
    stands in the conversation (``qa.serve.followup.reader_question``)."""
    limit = engine.settings.max_question_chars
    engine.check_question(turns[-1])
    question = reader_question(turns, answers or [None] * len(turns), limit)
    query = retrieval_query(turns, limit)
    if where:
        return engine.ask(question, k, retrieval_query=query, where=where)
    return engine.ask(question, k, retrieval_query=query)


_STREAM = {
    200: {
        "description": "A chat completion; with ``stream: true``, server-sent events: "
        "``data: <chat.completion.chunk JSON>`` each (``ChatCompletionChunk`` in the schemas), "
        "then ``data: [DONE]``.",
        "content": {
            "text/event-stream": {
                "schema": {
                    "type": "object",
                    "description": "One server-sent event: its ``data`` is a "
                    "``ChatCompletionChunk`` as JSON, or ``[DONE]``.",
                    "properties": {"data": {"type": "string"}, "event": {"type": "string"}},
                },
                "example": 'data: {"object": "chat.completion.chunk", ...}\n\ndata: [DONE]\n\n',
            }
        },
    }
}


def max_tokens(body: ChatRequest) -> int | None:
    """The content's budget: the smaller of ``max_tokens`` and ``max_completion_tokens``."""
    given = [t for t in (body.max_tokens, body.max_completion_tokens) if t is not None]
    return min(given) if given else None


@router.post(
    "/v1/chat/completions",
    response_model=ChatCompletion,
    responses=_STREAM,
)
async def chat_completions(body: ChatRequest, request: Request, ctx: Context) -> Any:
    """OpenAI-compatible chat: the last user message is the question. The content is
    Markdown (the answer, its sentence quoted, the sources linked to the document view);
    ``message.annotations`` holds the links as ``url_citation``s, ``citations`` the
    structured sources and ``answer`` the answer as ``/v1/ask`` gives it."""
    turns, answers = conversation(body.messages)
    if not turns:
        raise APIError(400, "no user message with text: the question is the last user message")
    ctx.engine.check_question(turns[-1])
    resp: QAResponse = await ctx.question(
        request, answer_chat, ctx.engine, turns, body.k, body.filter, answers
    )
    record(ctx, request, resp)
    base = ctx.base_url(request)
    content, annotations, was_cut = cut(render(resp, base), max_tokens(body))
    structured = response_to_dict(resp)
    prompt = sum(rough_tokens(message_text(m)) for m in body.messages)
    completion = rough_tokens(content)
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    head = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "created": int(time.time()),
        "model": MODEL_ID,
    }
    finish = "length" if was_cut else "stop"
    if not body.stream:
        message = {"role": "assistant", "content": content, "annotations": annotations}
        return ChatCompletion.model_validate(
            {
                **head,
                "object": "chat.completion",
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": usage,
                "citations": structured["citations"],
                "answer": structured["answer"],
            }
        )
    final = {"usage": usage, "citations": structured["citations"], "answer": structured["answer"]}
    return StreamingResponse(
        _events(head, content, annotations, finish, final),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    head: dict[str, Any],
    content: str,
    annotations: list[dict[str, Any]],
    finish: str,
    final: dict[str, Any],
) -> AsyncIterator[str]:
    """The reply as server-sent chunks: the role, the content in pieces (the annotations
    with the last piece, as OpenAI sends them), the finish reason, then ``usage``,
    ``citations`` and ``answer`` in a last chunk without choices."""

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
        payload = {"id": head["id"], "object": "chat.completion.chunk", **head}
        payload |= {"choices": choices, **extra}
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    def delta(d: dict[str, Any], reason: str | None = None) -> str:
        return chunk([{"index": 0, "delta": d, "finish_reason": reason}])

    yield delta({"role": "assistant", "content": ""})
    pieces = list(_pieces(content))
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        yield delta({"content": piece, **({"annotations": annotations} if last else {})})
    if not pieces and annotations:
        yield delta({"annotations": annotations})
    yield delta({}, finish)
    yield chunk([], **final)
    yield "data: [DONE]\n\n"


def _model_info() -> ModelInfo:
    return ModelInfo(id=MODEL_ID, created=_MODEL_CREATED, owned_by="qa")


@router.get("/v1/models", response_model=ModelList)
async def models() -> ModelList:
    """The one model this server answers as."""
    return ModelList(data=[_model_info()])


@router.get("/v1/models/{model_id}", response_model=ModelInfo, responses=NOT_FOUND)
async def model(model_id: str) -> ModelInfo:
    """One model by id."""
    if model_id != MODEL_ID:
        raise APIError(404, f"no model {model_id!r}; the only model is {MODEL_ID!r}")
    return _model_info()
