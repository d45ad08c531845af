"""OpenAI-compatible chat: POST /v1/chat/completions (plain or streamed) and the model list."""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from qa.core.filters import Filter
from qa.core.types import Citation, citation_to_dict
from qa.core.types import Response as QAResponse
from qa.engine import NO_ANSWER, Engine
from qa.serve.context import Context
from qa.serve.errors import APIError
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
    page = f", page {d['page']}" if d.get("page") else ""
    return (
        f"[{d['n']}] {title} — {d['source']}{page}, chars {d['start']}–{d['end']} "
        f"(id {d['id']}{unread})"
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


def answer_chat(
    engine: Engine, turns: list[str], k: int | None, where: Filter | None = None
) -> QAResponse:
    """Read with the last turn; retrieve with the recent turns when it is a follow-up."""
    question = engine.check_question(turns[-1])
    query = retrieval_query(turns, engine.settings.max_question_chars)
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
                "schema": {"type": "string"},
                "example": 'data: {"object": "chat.completion.chunk", ...}\n\ndata: [DONE]\n\n',
            }
        },
    }
}


@router.post(
    "/v1/chat/completions",
    response_model=ChatCompletion,
    responses=_STREAM,
)
async def chat_completions(body: ChatRequest, request: Request, ctx: Context) -> Any:
    """OpenAI-compatible chat: the last user message is the question; the content carries
    ``[n]`` markers and a sources list, ``citations`` the structured sources."""
    turns = [message_text(m) for m in body.messages if m.role == "user"]
    turns = [t for t in turns if t.strip()]
    if not turns:
        raise APIError(400, "no user message with text: the question is the last user message")
    ctx.engine.check_question(turns[-1])
    resp: QAResponse = await ctx.question(
        request, answer_chat, ctx.engine, turns, body.k, body.filter
    )
    record(ctx, request, resp)
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
        return ChatCompletion.model_validate(
            {
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
        )

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
