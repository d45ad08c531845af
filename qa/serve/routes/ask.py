"""POST /v1/ask: a question in, the answer with its cited passages out."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request

from qa.core.types import Response, response_to_dict
from qa.serve.context import Context, ServeContext
from qa.serve.schemas import AskRequest, AskResponse

router = APIRouter(tags=["qa"])


def record(ctx: ServeContext, request: Request, resp: Response) -> None:
    """Count the answer (or abstention) and its stage times; the request log line shows them."""
    ctx.metrics.answered(resp.answer is not None, resp.timings_ms)
    request.state.timings_ms = resp.timings_ms


@router.post("/v1/ask", response_model=AskResponse)
async def ask(body: AskRequest, request: Request, ctx: Context) -> AskResponse:
    """Answer a question from the index, citing passages (the ``qa ask --json`` contract)."""
    ctx.engine.check_question(body.question)  # cheap: refuse bad input before queueing
    ask = partial(ctx.engine.ask, where=body.filter) if body.filter else ctx.engine.ask
    resp = await ctx.question(request, ask, body.question, body.k)
    record(ctx, request, resp)
    return AskResponse.model_validate(response_to_dict(resp))
