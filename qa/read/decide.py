"""Where an answer is chosen: the neural reader's answer policy, as pure functions.

The reader tokenises a question's passages into windows (``qa.read.windows``) and runs
the model on them (``qa.read.runtime``); every decision after that is made here, in order:

1. ``decode_window``: one window's start/end logits → its valid spans (whole words, at
   most ``max_answer_tokens`` word-pieces), each with its logit, its margin over the
   window's null (CLS) score and a weighted logit (``weigh``: the passage's retrieval
   evidence added, a length prior taken off);
2. ``score_candidates``: one softmax over the weighted logits of every span of the
   question, all passages and windows together, so probabilities compare across passages;
3. ``choose``: the decoding rules (``qa.read.policy``: one block, the code-like core,
   unpaired marks, the kind of answer asked for) reshape and re-weigh the spans; spans
   with the same normalised text (``group_by_text``) add their probabilities; the best
   group's most probable span, its quote or bracket pairs completed (and a date's year),
   is the proposed answer (``span_answer`` places it in the document);
4. ``gate_null_margin``, ``gate_relevance`` and ``gate_confidence``: whether to answer at all.

``rescore`` recomputes the probabilities for other weights without reading again (tuning).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from qa.core.text import normalize_answer
from qa.core.types import Answer, Hit, Passage
from qa.read import rows
from qa.read.policy import finish_span, reshape_rows
from qa.read.spans import complete_pairs

# Spans below this fraction of the best one cannot change which answer group wins or its
# summed probability noticeably, so answering skips them.
GROUP_FLOOR = 1e-4


@dataclass(frozen=True)
class Candidate:
    """A scored span inside one hit's passage (offsets are passage-relative)."""

    hit_index: int
    start: int
    end: int
    logit: float  # start logit + end logit
    margin: float  # logit minus the null (CLS) logit of the same window
    prob: float = 0.0  # softmax over all candidates of the question
    tokens: int = 1  # word-pieces from the start piece to the end piece


@dataclass(frozen=True)
class SpanRules:
    """How spans are decoded and weighed; the reader builds them from its settings."""

    top_n: int = 20  # start and end positions tried per window
    max_answer_tokens: int = 30
    retrieval_weight: float = 0.0
    length_penalty: float = 0.0
    # the decoding rules ``choose`` applies (``qa.read.policy``), each kept because it raised
    # F1 on data/doctune without lowering it on SQuAD's tuning articles
    one_block: bool = True
    code_core: bool = True
    strip_marks: bool = True
    complete_dates: bool = True
    kind_weight: float = 2.0
    whole_token: bool = True
    row_weight: float = 8.0
    row_margin: bool = True  # a cell the row rule prefers keeps the null margin it replaced
    column_weight: float = 8.0  # and more for a whole cell of the column the question names
    rule_margin: float = 0.5  # the chosen span's null margin rises by this × its rows gain
    command_line: bool = True  # a command asked for: the whole command line the span is in


@dataclass(frozen=True, eq=False)
class WindowLogits:
    """What the model read in one window, with where its tokens lie in the passage.

    ``words[t]`` is token ``t``'s word id (-1 outside the context); ``word_starts`` and
    ``word_ends`` give each word's first and last character in the passage, over all
    windows of the passage. Token 0 is the null (CLS) token.
    """

    hit_index: int
    retrieval_score: float
    start_logits: np.ndarray
    end_logits: np.ndarray
    words: np.ndarray
    word_starts: np.ndarray
    word_ends: np.ndarray


@dataclass(frozen=True, eq=False)
class WindowSpans:
    """The valid spans of one window, as parallel arrays (offsets passage-relative)."""

    hit_index: int
    starts: np.ndarray
    ends: np.ndarray
    logits: np.ndarray  # float64
    margins: np.ndarray  # logit minus the window's null logit
    weighted: np.ndarray  # logit with the retrieval evidence and the length prior
    tokens: np.ndarray


@dataclass(frozen=True)
class AnswerGroup:
    """Candidates whose texts normalise alike (``qa.core.text.normalize_answer``)."""

    key: str
    members: tuple[Candidate, ...]

    @property
    def prob(self) -> float:
        """The members' summed probability."""
        return sum(c.prob for c in self.members)


class Proposal(NamedTuple):
    """The answer before the no-answer gate, its span's null margin, every answer group's
    probability and how many passages the answer's group comes from (``qa.read.confidence``)."""

    answer: Answer
    margin: float
    group_probs: tuple[float, ...] = ()
    agreeing: int = 1
    read_margin: float | None = None  # the margin before ``rule_margin`` (None: ``margin``)


def weigh(
    logits: np.ndarray,
    tokens: np.ndarray,
    retrieval_score: float,
    retrieval_weight: float,
    length_penalty: float,
) -> np.ndarray:
    """``logits`` plus ``retrieval_weight`` × the passage's retrieval score, less
    ``length_penalty`` × the log of each span's length in word-pieces.

    A span from a passage the retriever ranks low needs a clearer reading to win, and a
    long span a clearer reading than a short one inside it.
    """
    prior = retrieval_weight * float(retrieval_score)
    return logits + prior - length_penalty * np.log(tokens)


def decode_window(window: WindowLogits, rules: SpanRules) -> WindowSpans | None:
    """The window's valid spans among its ``top_n`` best starts × ``top_n`` best ends.

    A span is valid when it ends at or after it starts, holds at most
    ``max_answer_tokens`` word-pieces and covers some text; its offsets are its words'
    (a start or end inside a word takes in the whole word). Spans come by start rank,
    then end rank. None when the window holds no context token.
    """
    words = window.words
    ctx = words >= 0
    n_ctx = int(ctx.sum())
    if not n_ctx:
        return None
    s_log = np.where(ctx, window.start_logits, -np.inf)
    e_log = np.where(ctx, window.end_logits, -np.inf)
    null = float(window.start_logits[0] + window.end_logits[0])
    k = min(rules.top_n, n_ctx)  # every context token's logit is finite
    top_s = np.argsort(-s_log, kind="stable")[:k]
    top_e = np.argsort(-e_log, kind="stable")[:k]
    c0 = window.word_starts[words[top_s]]
    c1 = window.word_ends[words[top_e]]
    length = top_e[None, :] - top_s[:, None] + 1
    ok = (length >= 1) & (length <= rules.max_answer_tokens) & (c1[None, :] > c0[:, None])
    si, ei = np.nonzero(ok)  # row-major: by start rank, then end rank
    logit = (s_log[top_s[si]] + e_log[top_e[ei]]).astype(np.float64)
    tokens = length[si, ei]
    weighted = weigh(
        logit, tokens, window.retrieval_score, rules.retrieval_weight, rules.length_penalty
    )
    return WindowSpans(window.hit_index, c0[si], c1[ei], logit, logit - null, weighted, tokens)


def score_candidates(windows: Sequence[WindowSpans], min_ratio: float = 0.0) -> list[Candidate]:
    """Every span of one question as a ``Candidate``, ``prob`` from one softmax over the
    weighted logits of all of them; spans below ``min_ratio`` × the best probability are
    left out."""
    if not windows:
        return []
    hit = np.concatenate([np.full(len(w.starts), w.hit_index) for w in windows])
    starts = np.concatenate([w.starts for w in windows])
    ends = np.concatenate([w.ends for w in windows])
    logit = np.concatenate([w.logits for w in windows])
    margin = np.concatenate([w.margins for w in windows])
    weighted = np.concatenate([w.weighted for w in windows])
    tokens = np.concatenate([w.tokens for w in windows])
    if not len(logit):
        return []
    ex = np.exp(weighted - weighted.max())
    prob = ex / ex.sum()
    keep = np.nonzero(prob >= prob.max() * min_ratio)[0]
    return [
        Candidate(
            int(hit[j]),
            int(starts[j]),
            int(ends[j]),
            float(logit[j]),
            float(margin[j]),
            float(prob[j]),
            int(tokens[j]),
        )
        for j in keep
    ]


def rescore(
    cands: Sequence[Candidate],
    hits: Sequence[Hit],
    retrieval_weight: float,
    length_penalty: float = 0.0,
) -> list[Candidate]:
    """``cands`` with ``prob`` recomputed as if read with these weights (see ``weigh``).

    ``cands`` must be every candidate of one question (as the reader's ``candidates``
    returns them).
    """
    if not cands:
        return []
    w = [
        c.logit
        + retrieval_weight * float(hits[c.hit_index].score)
        - length_penalty * math.log(c.tokens)
        for c in cands
    ]
    top = max(w)
    ex = [math.exp(x - top) for x in w]
    z = sum(ex)
    return [
        Candidate(c.hit_index, c.start, c.end, c.logit, c.margin, e / z, c.tokens)
        for c, e in zip(cands, ex, strict=True)
    ]


def group_by_text(
    cands: Sequence[Candidate], hits: Sequence[Hit], floor: float = GROUP_FLOOR
) -> list[AnswerGroup]:
    """Candidates grouped by normalised text, in order of each group's first member;
    candidates below ``floor`` × the best probability are left out."""
    if not cands:
        return []
    groups: dict[str, list[Candidate]] = {}
    least = max(c.prob for c in cands) * floor
    for c in (c for c in cands if c.prob >= least):
        key = normalize_answer(hits[c.hit_index].passage.text[c.start : c.end])
        groups.setdefault(key, []).append(c)
    return [AnswerGroup(key, tuple(members)) for key, members in groups.items()]


def choose(
    cands: Sequence[Candidate],
    hits: Sequence[Hit],
    question: str = "",
    rules: SpanRules | None = None,
) -> Proposal | None:
    """The answer: the most probable span of the group with the highest summed
    probability, its pairs completed, scored with the group's sum (at most 1). ``rules``
    say which decoding rules apply to the spans first (``qa.read.policy.reshape``)."""
    unrowed = None
    if rules is not None:
        cands, unrowed = reshape_rows(cands, hits, question, rules)
    groups = group_by_text(cands, hits)
    if not groups:
        return None
    best = max(groups, key=lambda g: g.prob)
    rep = max(best.members, key=lambda c: c.prob)
    passage = hits[rep.hit_index].passage
    start, end = complete_pairs(passage.text, rep.start, rep.end)
    if rules is not None:
        start, end = finish_span(passage.text, start, end, rules, question)
    answer = span_answer(passage, start, end, float(min(1.0, best.prob)))
    agreeing = len({c.hit_index for c in best.members})
    margin = rep.margin
    if rules is not None and rules.row_margin and unrowed is not None:
        margin = max(margin, _unrowed_margin(unrowed, hits, rep.hit_index))
    read = margin
    if rules is not None and rules.rule_margin and unrowed is not None:
        margin += rules.rule_margin * rows.gain(
            question, passage.text, rep.start, rep.end, rules.row_weight, rules.column_weight
        )
    return Proposal(answer, margin, tuple(g.prob for g in groups), agreeing, read)


def _unrowed_margin(unrowed: Sequence[Candidate], hits: Sequence[Hit], hit: int) -> float:
    """The null margin of the span chosen before the row rule, where it lies in passage
    ``hit`` (else -inf): whether the passage answers is the model's call, which of its
    cells answers is the row rule's."""
    groups = group_by_text(unrowed, hits)
    if not groups:
        return -math.inf
    alt = max(max(groups, key=lambda g: g.prob).members, key=lambda c: c.prob)
    return alt.margin if alt.hit_index == hit else -math.inf


def span_answer(passage: Passage, start: int, end: int, score: float) -> Answer:
    """The answer ``passage.text[start:end]`` (passage-relative offsets), placed at its
    document offsets: ``doc.text[answer.start:answer.end] == answer.text``."""
    return Answer(
        text=passage.text[start:end],
        score=score,
        doc_id=passage.doc_id,
        start=passage.start + start,
        end=passage.start + end,
        passage_id=passage.id,
    )


def gate_null_margin(proposal: Proposal | None, null_threshold: float | None) -> Answer | None:
    """The proposed answer, or None when its span beats its window's null score by less
    than ``null_threshold`` (None: always answer)."""
    if proposal is None:
        return None
    if null_threshold is not None and proposal.margin < null_threshold:
        return None
    return proposal.answer


def gate_relevance(
    answer: Answer | None, hits: Sequence[Hit], min_relevance: float
) -> Answer | None:
    """``answer``, or None when no hit's dense cosine reaches ``min_relevance``: the best
    passage is then too far from the question to trust an answer from it."""
    if answer is not None and max(h.dense for h in hits) < min_relevance:
        return None
    return answer


def gate_confidence(answer: Answer | None, min_confidence: float) -> Answer | None:
    """``answer``, or None when its confidence (the calibrated probability that it is
    right) is below ``min_confidence`` (0: off; an answer without one always passes)."""
    if answer is None or answer.confidence is None or answer.confidence >= min_confidence:
        return answer
    return None
