"""More training passages for distillation: each question with a shortened passage.

A teacher labels any window, gold answer or not, so a student distilled from it can
learn from inputs beyond the training set's. ``shortened`` makes such inputs that still
read like the source: the passage with some of its sentences left out, the sentences
that hold a gold answer always kept (their answers' offsets are moved to match), the
order unchanged. Each copy is a new window layout of the same question and a new
context for the teacher to read.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace

from qa.train.squad import Example

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“(\[]?[A-Z0-9])")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of ``text``, covering all of it."""
    spans, lo = [], 0
    for m in SENTENCE_END.finditer(text):
        spans.append((lo, m.start()))
        lo = m.end()
    spans.append((lo, len(text)))
    return [s for s in spans if s[1] > s[0]]


def shortened(ex: Example, rng: random.Random, drop: float = 0.3) -> Example | None:
    """``ex`` with each sentence that holds no gold answer left out with chance ``drop``.

    Returns None when nothing was left out (a one-sentence passage, or every sentence
    kept). Answers keep their text; their offsets point into the new context.
    """
    spans = sentence_spans(ex.context)
    if len(spans) < 2:
        return None
    needed = set()
    for text, a0 in ex.answers:
        a1 = a0 + len(text)
        needed |= {i for i, (s0, s1) in enumerate(spans) if s0 < a1 and a0 < s1}
    keep = [i for i in range(len(spans)) if i in needed or rng.random() >= drop]
    if len(keep) == len(spans) or not keep:
        return None
    # Kept sentences joined by one space; runs of kept sentences keep their own spacing.
    pieces: list[tuple[int, int]] = []  # (old start, old end) of each kept run
    for j, i in enumerate(keep):
        if j and keep[j - 1] == i - 1:
            pieces[-1] = (pieces[-1][0], spans[i][1])
        else:
            pieces.append(spans[i])
    context, moves = "", []  # moves: (old start, old end, new start)
    for p0, p1 in pieces:
        if context:
            context += " "
        moves.append((p0, p1, len(context)))
        context += ex.context[p0:p1]
    answers = []
    for text, a0 in ex.answers:
        for p0, p1, n0 in moves:
            if p0 <= a0 and a0 + len(text) <= p1:
                answers.append((text, n0 + a0 - p0))
                break
    if len(answers) != len(ex.answers):  # an answer spanning two sentences: kept whole
        return None
    return replace(ex, id=f"{ex.id}~s", context=context, answers=tuple(answers))


def augment(examples: Sequence[Example], copies: int, seed: int = 0) -> list[Example]:
    """Up to ``copies`` shortened versions of each example (fixed seed), originals not included."""
    rng = random.Random(seed)
    out: list[Example] = []
    for ex in examples:
        for k in range(copies):
            new = shortened(ex, rng)
            if new is not None:
                out.append(replace(new, id=f"{new.id}{k}"))
    return out
