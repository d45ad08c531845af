"""Fusing dense and BM25 scores: min-max normalised over the candidates, interpolated."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.core.types import Hit, Passage


def minmax(x: np.ndarray) -> np.ndarray:
    """``x`` scaled to 0–1 (all ones when constant and positive, zeros when not)."""
    if x.size == 0:
        return x
    lo, hi = float(x.min()), float(x.max())
    if hi - lo < 1e-9:
        return np.ones_like(x) if hi > 0 else np.zeros_like(x)
    return (x - lo) / (hi - lo)


def fuse(
    passages: Sequence[Passage], dense: np.ndarray, lex: np.ndarray, k: int, alpha: float
) -> list[Hit]:
    """The top ``k`` of ``alpha * minmax(dense) + (1 - alpha) * minmax(lex)``; ties by id."""
    fused = alpha * minmax(dense) + (1 - alpha) * minmax(lex)
    order = sorted(range(len(passages)), key=lambda i: (-float(fused[i]), passages[i].id))[:k]
    return [
        Hit(passages[i], float(fused[i]), dense=float(dense[i]), lexical=float(lex[i]))
        for i in order
    ]
