"""Fitting the reader's no-answer threshold on held-out questions."""

from __future__ import annotations

from collections.abc import Sequence


def fit_null_threshold(
    margins: Sequence[float],
    scores_if_answered: Sequence[float],
    impossible: Sequence[bool],
    answerable_weight: float = 1.0,
) -> dict[str, float]:
    """The null-margin threshold that maximises mean F1 (the SQuAD 2.0 ``best_f1`` rule).

    ``margins[i]`` is question i's proposed span's margin over its null score
    (``qa.read.decide.Proposal.margin``); ``scores_if_answered[i]`` its F1 (0..1) when the
    reader answers it; an abstention scores 1 on an unanswerable question and 0 otherwise.
    Each answerable question counts ``answerable_weight`` times (to calibrate for a mix
    with fewer unanswerable questions than the held-out set). Returns the threshold with
    the weighted F1, no-answer precision/recall and the abstention rates (0–100) at it.
    """
    n = len(margins)
    w = answerable_weight
    order = sorted(range(n), key=lambda i: margins[i])
    # Threshold just above order[j]'s margin: questions order[:j+1] abstain.
    # Start: threshold below every margin -> answer everything.
    cur = sum(0.0 if impossible[i] else w * scores_if_answered[i] for i in range(n))
    best_val, best_thr = cur, (margins[order[0]] - 1.0) if n else 0.0
    for j, i in enumerate(order):
        cur += 1.0 if impossible[i] else -w * scores_if_answered[i]
        nxt = margins[order[j + 1]] if j + 1 < n else margins[i] + 1.0
        if cur > best_val and nxt > margins[i]:
            best_val, best_thr = cur, (margins[i] + nxt) / 2
    abstain = [m < best_thr for m in margins]
    tp = sum(1 for a, imp in zip(abstain, impossible, strict=True) if a and imp)
    n_abs = sum(abstain)
    n_imp = sum(impossible)
    n_ans = n - n_imp
    return {
        "null_threshold": float(best_thr),
        "f1": 100.0 * best_val / max(1e-9, n_imp + w * n_ans),
        "noans_precision": 100.0 * tp / n_abs if n_abs else 0.0,
        "noans_recall": 100.0 * tp / n_imp if n_imp else 0.0,
        "answerable_abstain_pct": 100.0 * (n_abs - tp) / n_ans if n_ans else 0.0,
        "n": float(n),
    }
