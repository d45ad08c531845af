"""Fitting and measuring answer confidence (``qa.read.confidence``) on asked questions.

``collect`` asks questions through the engine as ``qa ask`` does and keeps, for each, the
final answer, its raw ``score``, the calibrator's features and whether it is right
(``RIGHT_F1``: SQuAD F1 against the golds at least 0.5; an answer to an unanswerable
question is wrong). ``fit`` chooses nothing by itself: the features and penalty are the
caller's, compared by leave-one-article-out log loss (``cross_validate``). The measures
(``ece``, ``reliability``, ``coverage_curve``, ``summary``) take (probability, right) pairs.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.core.types import Answer, Hit
from qa.read.confidence import Calibrator, fit_logistic, hinged
from qa.read.decide import Proposal
from qa.read.reader import NeuralReader
from qa.train import squad

RIGHT_F1 = 0.5  # an answer counts as right from this SQuAD F1 against the golds
BINS = 10
# Each answerable tuning question counts this many times: the held-out articles are 54%
# unanswerable, questions asked of one's own documents far fewer (as for the null
# threshold, `qa calibrate-reader --answerable-weight`).
ANSWERABLE_WEIGHT = 5.0
# Feature sets whose cross-validated log loss is this close to the best count as equals;
# among them the one calibrated best on its worst domain is kept (``pick``).
LOG_LOSS_SLACK = 0.005


class RecordingReader(NeuralReader):
    """The neural reader, keeping the evidence behind the last answer it gave."""

    last: dict[str, float] | None = None

    def finish(
        self, proposal: Proposal | None, hits: Sequence[Hit], question: str
    ) -> Answer | None:
        answer = super().finish(proposal, hits, question)
        if answer is None or proposal is None:
            self.last = None
        else:
            self.last = self.evidence(proposal, hits, question)
        return answer


@dataclass(frozen=True)
class Asked:
    """One question asked: the answer's text (None: abstained), raw score, confidence,
    features, F1 and whether it is right; ``group`` is its article (or file)."""

    id: str
    group: str
    prediction: str | None
    score: float | None
    confidence: float | None
    features: dict[str, float] | None
    f1: float
    em: float
    right: bool
    answerable: bool

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def judge(prediction: str | None, golds: Sequence[str]) -> tuple[float, float, bool]:
    """EM, F1 and whether an answer is right (no gold: any answer is wrong)."""
    if prediction is None or not golds:
        return 0.0, 0.0, False
    em, f1 = squad.score(prediction, golds)
    return em, f1, f1 >= RIGHT_F1


def collect(
    ask: Callable[[str], Answer | None],
    reader: RecordingReader,
    questions: Sequence[tuple[str, str, str, Sequence[str]]],
    progress: bool = True,
) -> list[Asked]:
    """Each ``(id, group, question, golds)`` asked with ``ask`` (the engine, K fixed)."""
    from tqdm import tqdm

    out = []
    for qid, group, question, golds in tqdm(
        questions, desc="ask", file=sys.stderr, mininterval=5, disable=not progress
    ):
        reader.last = None
        a = ask(question)
        pred = a.text if a is not None else None
        em, f1, right = judge(pred, golds)
        feats = reader.last if a is not None else None
        conf = a.confidence if a is not None else None
        score = a.score if a is not None else None
        out.append(Asked(qid, group, pred, score, conf, feats, f1, em, right, bool(golds)))
    return out


def ece(
    probs: Sequence[float],
    right: Sequence[bool],
    bins: int = BINS,
    weights: Sequence[float] | None = None,
) -> float:
    """Expected calibration error: |accuracy − mean probability| per equal-width bin,
    weighted by the bin's share of answers."""
    rows = reliability(probs, right, bins, weights)
    total = sum(r["weight"] for r in rows) or 1.0
    return sum(r["weight"] / total * abs(r["accuracy"] - r["mean_probability"]) for r in rows)


def ece_floor(probs: Sequence[float], draws: int = 1000, seed: int = 0) -> dict[str, float]:
    """The ECE a perfectly calibrated confidence shows on this many answers by chance: each
    answer right with its own probability, ``draws`` times; the mean and the 95th percentile
    (a measured ECE below the percentile is within chance of perfect)."""
    p = np.asarray(probs, dtype=np.float64)
    if not p.size:
        return {"": 0.0, "_p95": 0.0}
    rng = np.random.default_rng(seed)
    got = [ece(p, rng.random(p.size) < p) for _ in range(draws)]
    return {"": float(np.mean(got)), "_p95": float(np.percentile(got, 95))}


def reliability(
    probs: Sequence[float],
    right: Sequence[bool],
    bins: int = BINS,
    weights: Sequence[float] | None = None,
) -> list[dict]:
    """The reliability diagram's bins that hold answers: range, count, (weighted) mean
    probability and accuracy."""
    w = np.ones(len(probs)) if weights is None else np.asarray(weights, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(right, dtype=np.float64)
    which = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        m = which == b
        if m.any():
            out.append(
                {
                    "lo": b / bins,
                    "hi": (b + 1) / bins,
                    "n": int(m.sum()),
                    "weight": float(w[m].sum()),
                    "mean_probability": float(np.average(p[m], weights=w[m])),
                    "accuracy": float(np.average(y[m], weights=w[m])),
                }
            )
    return out


def coverage_curve(probs: Sequence[float], right: Sequence[bool], total: int) -> list[dict]:
    """Accuracy of the answers kept against the share of questions answered, as the
    threshold rises (answers sorted by probability, most sure first)."""
    order = sorted(range(len(probs)), key=lambda i: -probs[i])
    out, hits = [], 0
    for j, i in enumerate(order, 1):
        hits += bool(right[i])
        if j == len(order) or probs[order[j]] < probs[i]:
            out.append({"threshold": probs[i], "coverage": j / total, "accuracy": hits / j})
    return out


def summary(rows: Sequence[Asked], prob: Callable[[Asked], float | None]) -> dict[str, Any]:
    """The calibration figures of ``prob`` (raw score or confidence) over the answered rows."""
    answered = [r for r in rows if r.prediction is not None and prob(r) is not None]
    p = [float(prob(r)) for r in answered]  # type: ignore[arg-type]
    y = [r.right for r in answered]
    sure = [i for i, x in enumerate(p) if x >= 0.9]
    return {
        "answered": len(answered),
        "accuracy": round(100 * statistics.fmean(y), 1) if y else 0.0,
        "ece": round(ece(p, y), 4),
        **{f"ece_floor{k}": round(v, 4) for k, v in ece_floor(p).items()},
        "sure_answers": len(sure),
        "wrong_among_sure_pct": round(100 * sum(not y[i] for i in sure) / len(sure), 1)
        if sure
        else 0.0,
        "log_loss": round(log_loss(p, y), 4),
    }


def log_loss(
    probs: Sequence[float], right: Sequence[bool], weights: Sequence[float] | None = None
) -> float:
    """Mean (weighted) negative log-likelihood of ``right`` under ``probs``."""
    if not probs:
        return 0.0
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-6, 1 - 1e-6)
    y = np.asarray(right, dtype=bool)
    return float(-np.average(np.where(y, np.log(p), np.log(1 - p)), weights=weights))


AnswerableWeight = float | Mapping[str, float]  # one for all rows, or one a domain


def weight(
    row: Asked, answerable_weight: AnswerableWeight = ANSWERABLE_WEIGHT, doc: float = 1.0
) -> float:
    """How many times a tuning question counts (an answerable one ``answerable_weight``
    times, or its domain's; ``doc`` more for a documentation question, whose rows are far
    fewer than SQuAD's)."""
    aw = answerable_weight
    if isinstance(aw, Mapping):
        aw = aw[domain(row)]
    return (aw if row.answerable else 1.0) * (doc if domain(row) == "doctune" else 1.0)


def balanced_answerable_weights(rows: Sequence[Asked], base: str = "doctune") -> dict[str, float]:
    """Answerable weights that give every domain's unanswerable questions the same share of
    its weight as ``base``'s have, ``base``'s answerable ones counted once. With unequal
    shares, a feature that tells the domains apart (``sectioned``) learns the tuning sets'
    mixes, not how reliable an answer is: SQuAD's held-out articles are 54% unanswerable."""
    counts = {d: [0, 0] for d in sorted({domain(r) for r in rows})}
    for r in rows:
        counts[domain(r)][r.answerable] += 1
    unanswerable, answerable = counts[base]
    if not unanswerable or not answerable:
        raise ValueError(f"{base} needs answerable and unanswerable tuning questions")
    odds = answerable / unanswerable  # base's answerable weight over its unanswerable one
    return {d: (u * odds / a if a else 1.0) for d, (u, a) in counts.items()}


def fit(
    rows: Sequence[Asked],
    names: Sequence[str],
    l2: float = 1.0,
    aw: AnswerableWeight = ANSWERABLE_WEIGHT,
    doc: float = 1.0,
) -> Calibrator:
    """The calibrator over ``names`` fitted on the answered rows (answerable ones counted
    ``aw`` times, documentation ones ``doc`` times)."""
    answered = [r for r in rows if r.features is not None]
    feats = [r.features for r in answered if r.features is not None]
    w = [weight(r, aw, doc) for r in answered]
    return fit_logistic(feats, [r.right for r in answered], names, l2, w)


def cv_probabilities(
    rows: Sequence[Asked],
    names: Sequence[str],
    l2: float = 1.0,
    aw: AnswerableWeight = ANSWERABLE_WEIGHT,
    doc: float = 1.0,
) -> list[float | None]:
    """Leave one group (article) out: each answered row's probability from a calibrator
    fitted without its group (None: not answered)."""
    out: list[float | None] = [None] * len(rows)
    for g in sorted({r.group for r in rows}):
        cal = fit([r for r in rows if r.group != g], names, l2, aw, doc)
        for i, r in enumerate(rows):
            if r.group == g and r.features is not None:
                out[i] = cal.probability(r.features)
    return out


def cross_validate(
    rows: Sequence[Asked],
    names: Sequence[str],
    l2: float = 1.0,
    aw: AnswerableWeight = ANSWERABLE_WEIGHT,
    doc: float = 1.0,
) -> dict:
    """The weighted log loss and ECE of the leave-one-article-out probabilities, over all
    rows and per domain (``domain``: SQuAD articles, documentation files); ``doc`` weighs
    the fits, never the scores, so that every candidate is scored alike."""
    probs = cv_probabilities(rows, names, l2, aw, doc)
    out = _scores(rows, probs, aw)
    domains = sorted({domain(r) for r in rows})
    if len(domains) > 1:
        for d in domains:
            sel = [domain(r) == d for r in rows]
            part = _scores([r for r, k in zip(rows, sel, strict=True) if k],
                           [p for p, k in zip(probs, sel, strict=True) if k], aw)  # fmt: skip
            out[f"{d}_log_loss"], out[f"{d}_ece"] = part["log_loss"], part["ece"]
        out["worst_ece"] = max(out[f"{d}_ece"] for d in domains)
    return out


def domain(row: Asked) -> str:
    """Where a tuning question comes from: ``doctune`` (documentation: data/doctune, and
    data/tabletune's questions on tables) or ``squad``."""
    return "doctune" if row.group.startswith(("doctune:", "tabletune:")) else "squad"


def _scores(rows: Sequence[Asked], probs: Sequence[float | None], aw: AnswerableWeight) -> dict:
    kept = [(p, r) for p, r in zip(probs, rows, strict=True) if p is not None]
    p = [x for x, _ in kept]
    y = [r.right for _, r in kept]
    w = [weight(r, aw) for _, r in kept]
    return {"log_loss": round(log_loss(p, y, w), 4), "ece": round(ece(p, y, weights=w), 4)}


def rises_with(cal: Calibrator, name: str) -> bool:
    """Whether ``cal``'s probability never falls as feature ``name`` rises, the others held:
    its slope in ``name`` (the feature's weight, plus each hinge's past its knot) is never
    negative."""
    slope, knots = 0.0, []
    for n, w, scale in zip(cal.names, cal.weights, cal.scale, strict=True):
        if n == name:
            slope += float(w / scale)
        elif (h := hinged(n)) is not None and h[0] == name:
            knots.append((h[1], float(w / scale)))
    for _, w in sorted(knots):
        if slope < 0:
            return False
        slope += w
    return slope >= 0


def pick(
    scores: dict[Any, dict],
    slack: float = LOG_LOSS_SLACK,
    allowed: Callable[[Any], bool] | None = None,
) -> Any:
    """The candidate to keep: among those whose log loss is within ``slack`` of the best,
    the one whose worst per-domain ECE is lowest (a confidence that holds on both kinds of
    text); by log loss alone when there is one domain. Only candidates ``allowed`` takes
    count (all when None)."""
    scores = {k: s for k, s in scores.items() if allowed is None or allowed(k)}
    if not scores:
        raise ValueError("no candidate calibrator is allowed")
    best = min(s["log_loss"] for s in scores.values())
    near = [k for k, s in scores.items() if s["log_loss"] <= best + slack]
    return min(near, key=lambda k: (scores[k].get("worst_ece", 0.0), scores[k]["log_loss"]))


def threshold_table(
    rows: Sequence[Asked],
    probs: Sequence[float | None],
    thresholds: Sequence[float],
    aw: AnswerableWeight = ANSWERABLE_WEIGHT,
) -> list[dict[str, float]]:
    """For each threshold: the weighted F1 (an abstention on an unanswerable question
    scores 1, the SQuAD 2.0 rule), the share answered and the precision of the answers."""
    out = []
    w = np.array([weight(r, aw) for r in rows])
    for t in thresholds:
        kept = [p is not None and p >= t for p in probs]
        f1 = [r.f1 if k else float(not r.answerable) for r, k in zip(rows, kept, strict=True)]
        right = [k and r.right for r, k in zip(rows, kept, strict=True)]
        n_kept = float(w[kept].sum()) if any(kept) else 0.0
        out.append(
            {
                "threshold": t,
                "f1": round(100 * float(np.average(f1, weights=w)), 2),
                "answered_pct": round(100 * n_kept / float(w.sum()), 1),
                "precision": round(100 * float(w[right].sum()) / max(n_kept, 1e-9), 1),
            }
        )
    return out
