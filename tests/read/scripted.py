"""A scripted span model and the reader around it: every test knows which span must win."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from qa.core.types import Document, Hit, Passage
from qa.read.reader import NeuralReader


@dataclass
class _Out:
    start_logits: object
    end_logits: object


class ScriptedModel:
    """Start logit ``w`` on word-piece ``first``, end logit ``w`` on ``last`` (context only).

    ``weights`` maps (first, last) word-pieces to a logit; CLS gets ``null``.
    """

    def __init__(self, tok: Any, weights: dict[tuple[str, str], float], null: float = 0.0) -> None:
        self.tok = tok
        self.weights = {
            (tok.convert_tokens_to_ids(a), tok.convert_tokens_to_ids(b)): w
            for (a, b), w in weights.items()
        }
        self.null = null
        self.seen: list[dict] = []

    def __call__(self, **inputs: Any) -> _Out:
        import torch

        self.seen.append(inputs)
        ids = inputs["input_ids"]
        ctx = inputs["token_type_ids"] == 1
        start = torch.full(ids.shape, -10.0)
        end = torch.full(ids.shape, -10.0)
        for (a, b), w in self.weights.items():
            start = torch.where((ids == a) & ctx, torch.full_like(start, w), start)
            end = torch.where((ids == b) & ctx, torch.full_like(end, w), end)
        start[:, 0] = self.null
        end[:, 0] = self.null
        return _Out(start, end)


def make_reader(tok: Any, model: ScriptedModel, **kw: Any) -> NeuralReader:
    """A torch-backend reader that reads with ``model`` and ``tok``'s word-pieces."""
    kw.setdefault("backend", "torch")
    r = NeuralReader(Path("/nonexistent"), **kw)
    r._tok = tok
    r._fast = Tokenizer.from_str(tok.backend_tokenizer.to_str())
    r._model = model
    return r


def hit_at(doc: Document, start: int, end: int, score: float = 1.0) -> Hit:
    return Hit(passage=Passage.make(doc, start, end), score=score)


def whole_hits(texts: Sequence[str], scores: Sequence[float] | None = None) -> list[Hit]:
    """One hit per text, covering the whole text (score 1.0 unless given)."""
    scores = scores or [1.0] * len(texts)
    docs = [Document.from_text(t, source=str(i), title="x") for i, t in enumerate(texts)]
    return [hit_at(d, 0, len(d.text), sc) for d, sc in zip(docs, scores, strict=True)]
