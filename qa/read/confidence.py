"""How sure an answer is: the probability that it is right, from evidence the reader has.

The reader's ``score`` (the answer group's span probability) says how the answer compares
with the other spans of the passages read, not whether any of them is right: off SQuAD's
shape wrong answers carry high scores. ``Calibrator`` is a logistic regression over a few
measured features (``FEATURES``) fitted on tuning questions (``scripts/fit_calibrator.py``);
its weights live beside the reader's (``confidence.json``). Applying it is one dot product.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.core.text import terms
from qa.core.types import Answer, Hit
from qa.read.answer_type import looks_like_code
from qa.read.rows import is_row

CONFIDENCE_JSON = "confidence.json"
# Everything ``features`` measures; a calibrator uses the subset its file names.
FEATURES = (
    "span_logit",  # log-odds of the answer group's span probability (the score)
    "null_margin",  # the span's logit over its window's null (no-answer) logit
    "second_share",  # the runner-up group's probability: rival answers
    "agreeing_passages",  # passages whose spans make up the answer group
    "retrieval_score",  # the fused retrieval score of the answer's passage
    "rank",  # that passage's place among those read (0: the best)
    "dense",  # its dense cosine with the question
    "answer_words",  # log of the answer's length in words
    "passages_read",
    "code_share",  # share of the answer's passage's words that look like code: docs vs prose
    "answer_code",  # 1 when the answer holds a code-like word (a command, option, path)
    "sectioned",  # 1 when the answer's passage sits under a heading: a structured document
    "question_overlap",  # share of the question's terms in the answer's sentence
    "table_row",  # 1 when the answer's line is a table row: a cell read among its neighbours
)
# A hinge "NAME>KNOT" (e.g. "null_margin>14") is max(NAME − KNOT, 0): the evidence of a
# feature that only starts to count past a point (the null margin: flat, then steep).
_HINGE = re.compile(r"^(\w+)>(-?\d+(?:\.\d+)?)$")
# a sentence ends at . ! or ? before a space, or at a line break (a list item, a table row)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def hinge(name: str, knot: float) -> str:
    """The name of the feature max(``name`` − ``knot``, 0)."""
    return f"{name}>{knot:g}"


def hinged(name: str) -> tuple[str, float] | None:
    """The feature and knot of a hinge's name ("null_margin>14"), else None."""
    m = _HINGE.match(name)
    return (m.group(1), float(m.group(2))) if m else None


def value(feats: Mapping[str, float], name: str) -> float:
    """Feature ``name`` of ``feats``: a measured one, or a hinge over one (``hinge``)."""
    h = hinged(name)
    if h is None:
        return float(feats[name])
    return max(float(feats[h[0]]) - h[1], 0.0)


def known(name: str) -> bool:
    """Whether ``name`` is a feature ``value`` can compute."""
    h = hinged(name)
    return (h[0] if h else name) in FEATURES


def sentence_at(text: str, offset: int) -> str:
    """The sentence (or line) of ``text`` that holds character ``offset``."""
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() >= offset:
            return text[start : m.start()]
        start = m.end()
    return text[start:]


def line_at(text: str, offset: int) -> str:
    """The line of ``text`` that holds character ``offset``."""
    end = text.find("\n", offset)
    return text[text.rfind("\n", 0, offset) + 1 : len(text) if end < 0 else end]


def question_overlap(question: str, sentence: str) -> float:
    """The share of the question's terms (stemmed, stop words out) that the sentence holds:
    an answer from a sentence that restates the question is right more often."""
    asked = set(terms(question))
    return len(asked & set(terms(sentence))) / len(asked) if asked else 0.0


def features(
    answer: Answer,
    margin: float,
    group_probs: Sequence[float],
    agreeing: int,
    hits: Sequence[Hit],
    question: str = "",
) -> dict[str, float]:
    """The evidence for ``answer`` to ``question`` (from ``hits``, the passages read):
    ``margin`` its span's null margin, ``group_probs`` every answer group's probability
    (the answer's the highest), ``agreeing`` how many passages its group's spans come from."""
    rank = next((i for i, h in enumerate(hits) if h.passage.id == answer.passage_id), 0)
    hit = hits[rank]
    probs = sorted(group_probs, reverse=True)
    words = hit.passage.text.split()
    return {
        "span_logit": _logit(answer.score),
        "null_margin": float(margin),
        "second_share": float(probs[1]) if len(probs) > 1 else 0.0,
        "agreeing_passages": float(agreeing),
        "retrieval_score": float(hit.score),
        "rank": float(rank),
        "dense": float(hit.dense),
        "answer_words": math.log(max(1, len(answer.text.split()))),
        "passages_read": float(len(hits)),
        "code_share": sum(map(looks_like_code, words)) / max(1, len(words)),
        "answer_code": float(any(map(looks_like_code, answer.text.split()))),
        "sectioned": float(bool(hit.passage.section)),
        "question_overlap": question_overlap(
            question, sentence_at(hit.passage.text, answer.start - hit.passage.start)
        ),
        "table_row": float(is_row(line_at(hit.passage.text, answer.start - hit.passage.start))),
    }


@dataclass(frozen=True)
class Calibrator:
    """P(right) = sigmoid(bias + Σ weight × (feature − mean) / scale) over ``names``."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    fit: Mapping[str, Any] | None = None  # what it was fitted on, and how well

    def probability(self, feats: Mapping[str, float]) -> float:
        """The probability that the answer these features describe is right."""
        x = np.array([value(feats, n) for n in self.names], dtype=np.float64)
        z = self.bias + float(((x - self.mean) / self.scale) @ self.weights)
        return 1.0 / (1.0 + math.exp(-min(max(z, -40.0), 40.0)))

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.names),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "weights": [round(float(v), 6) for v in self.weights],
            "bias": round(float(self.bias), 6),
            "fit": dict(self.fit or {}),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Calibrator:
        names = tuple(str(n) for n in d["features"])
        unknown = {n for n in names if not known(n)}
        if unknown:
            raise ValueError(f"unknown confidence features: {sorted(unknown)}")
        arrays = [np.asarray(d[k], dtype=np.float64) for k in ("mean", "scale", "weights")]
        if any(a.shape != (len(names),) for a in arrays):
            raise ValueError("confidence.json: mean, scale and weights need one value a feature")
        return cls(names, *arrays, float(d["bias"]), d.get("fit"))


def load_calibrator(model_dir: str | Path) -> Calibrator | None:
    """The calibrator stored in the reader folder (None: the folder has none)."""
    path = Path(model_dir) / CONFIDENCE_JSON
    if not path.is_file():
        return None
    return Calibrator.from_json(json.loads(path.read_text(encoding="utf-8")))


def fit_logistic(
    rows: Sequence[Mapping[str, float]],
    right: Sequence[bool],
    names: Sequence[str],
    l2: float = 1.0,
    weights: Sequence[float] | None = None,
    iterations: int = 50,
) -> Calibrator:
    """A logistic regression of ``right`` on the standardised features ``names`` (Newton's
    method, each row counted ``weights[i]`` times, an L2 penalty ``l2`` on the weights,
    not the bias)."""
    x = np.array([[value(r, n) for n in names] for r in rows], dtype=np.float64)
    y = np.asarray(right, dtype=np.float64)
    sw = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    mean = np.average(x, axis=0, weights=sw)
    scale = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=sw))
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -40, 40)))
        grad = z.T @ (sw * (p - y)) + penalty * w
        hess = (z * (sw * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return Calibrator(tuple(names), mean, scale, w[1:], float(w[0]))
