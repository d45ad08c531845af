"""Reading latency: milliseconds per question, as percentiles."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

from qa.core.types import Document, Hit, Passage
from qa.train import squad


def percentile(xs: Sequence[float], q: float) -> float:
    """The ``q``-th percentile of ``xs`` (the nearest rank; 0.0 for no values)."""
    if not xs:
        return 0.0
    s = sorted(xs)
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return float(s[k])


def reader_latency(
    reader: Any,
    examples: Sequence[squad.Example],
    *,
    passages: int = 5,
    max_tokens: int = 128,
    n: int = 200,
    warmup: int = 5,
) -> dict[str, float]:
    """p50/p95 ms of one ``reader.read`` over ``passages`` passages of ≤ ``max_tokens``.

    Each question gets its gold paragraph plus the next paragraphs of the list, each cut
    to its first ``max_tokens`` word-pieces (whole words).
    """
    reader.load()
    tok = reader.tokenizer
    contexts = list(dict.fromkeys(ex.context for ex in examples))
    pos = {c: i for i, c in enumerate(contexts)}

    def cut(text: str) -> str:
        enc = tok(
            text,
            add_special_tokens=False,
            return_offsets_mapping=True,
            truncation=True,
            max_length=max_tokens,
        )
        offs = enc["offset_mapping"]
        end = offs[-1][1] if offs else len(text)
        return text[:end]

    times: list[float] = []
    for j, ex in enumerate(examples[: n + warmup]):
        i = pos[ex.context]
        hits = []
        for c in (contexts[(i + d) % len(contexts)] for d in range(passages)):
            doc = Document.from_text(c, source="", title="")
            hits.append(Hit(passage=Passage.make(doc, 0, len(cut(c))), score=1.0))
        t0 = time.perf_counter()
        reader.read(ex.question, hits)
        if j >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    return {
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "mean_ms": statistics.fmean(times) if times else 0.0,
        "n": float(len(times)),
        "passages": float(passages),
        "max_tokens": float(max_tokens),
    }
