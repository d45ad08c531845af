"""The answer policy, one pure function at a time, on hand-made logits and candidates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.core.types import Answer, Document, Hit, Passage
from qa.read import decide
from qa.read.decide import Candidate, Proposal, SpanRules, WindowLogits

# A window over "abc defghi jklmn": [CLS] q [SEP] abc def ##ghi jklmn [SEP]
TEXT = "abc defghi jklmn"
WORDS = np.array([-1, -1, -1, 0, 1, 1, 2, -1])
WORD_STARTS = np.array([0, 4, 11])
WORD_ENDS = np.array([3, 10, 16])


def window(start: list[float], end: list[float], hit_index: int = 0, score: float = 1.0):
    return WindowLogits(
        hit_index=hit_index,
        retrieval_score=score,
        start_logits=np.array(start, dtype=np.float32),
        end_logits=np.array(end, dtype=np.float32),
        words=WORDS,
        word_starts=WORD_STARTS,
        word_ends=WORD_ENDS,
    )


# Question and special tokens score 9, so they would win if they were not left out.
START = [1.0, 9, 9, 5, 2, 3, 0, 9]
END = [0.5, 9, 9, 0, 1, 4, 3, 9]


def hits_over(*texts: str, dense: float = 0.5) -> list[Hit]:
    out = []
    for i, t in enumerate(texts):
        doc = Document.from_text(t, source=str(i), title="t")
        out.append(Hit(Passage.make(doc, 0, len(t)), score=1.0, dense=dense))
    return out


def cand(hit: int, start: int, end: int, prob: float, margin: float = 0.0) -> Candidate:
    return Candidate(hit, start, end, logit=1.0, margin=margin, prob=prob)


def test_decode_window_keeps_valid_whole_word_spans_of_the_top_starts_and_ends() -> None:
    spans = decide.decode_window(window(START, END), SpanRules(top_n=2, max_answer_tokens=3))
    assert spans is not None and spans.hit_index == 0
    # top starts: abc (5), ##ghi (3); top ends: ##ghi (4), jklmn (3); abc..jklmn is 4 pieces
    got = [TEXT[s:e] for s, e in zip(spans.starts, spans.ends, strict=True)]
    assert got == ["abc defghi", "defghi", "defghi jklmn"]  # a start inside a word: the word
    assert spans.logits.tolist() == [9.0, 7.0, 6.0]
    assert spans.logits.dtype == np.float64
    assert spans.margins.tolist() == [7.5, 5.5, 4.5]  # less the null: 1.0 + 0.5
    assert spans.tokens.tolist() == [3, 1, 2]
    assert spans.weighted.tolist() == spans.logits.tolist()  # no weights: unchanged


def test_decode_window_weighs_spans_by_retrieval_and_length_but_not_their_margins() -> None:
    rules = SpanRules(top_n=2, max_answer_tokens=3, retrieval_weight=2.0, length_penalty=0.5)
    spans = decide.decode_window(window(START, END, hit_index=4, score=0.5), rules)
    assert spans is not None and spans.hit_index == 4
    assert spans.margins.tolist() == [7.5, 5.5, 4.5]
    assert spans.weighted.tolist() == pytest.approx(
        [9 + 1 - 0.5 * math.log(3), 7 + 1, 6 + 1 - 0.5 * math.log(2)]
    )


def test_decode_window_drops_spans_too_long_or_ending_before_they_start() -> None:
    start = [0.0, 0, 0, 0, 0, 0, 9, 0]  # best start on jklmn
    end = [0.0, 0, 0, 9, 0, 0, 0, 0]  # best end on abc: before it
    spans = decide.decode_window(window(start, end), SpanRules(top_n=1, max_answer_tokens=3))
    assert spans is not None and len(spans.starts) == 0
    one = decide.decode_window(window(START, END), SpanRules(top_n=2, max_answer_tokens=1))
    assert one is not None
    assert [TEXT[s:e] for s, e in zip(one.starts, one.ends, strict=True)] == ["defghi"]


def test_decode_window_without_context_is_none() -> None:
    w = WindowLogits(
        0, 1.0, np.zeros(3), np.zeros(3), np.array([-1, -1, -1]), WORD_STARTS, WORD_ENDS
    )
    assert decide.decode_window(w, SpanRules()) is None


def test_one_softmax_over_every_window_of_the_question() -> None:
    rules = SpanRules(top_n=2, max_answer_tokens=3)
    a = decide.decode_window(window(START, END, hit_index=0), rules)
    b = decide.decode_window(window(START, END, hit_index=1), rules)
    cands = decide.score_candidates([a, b])
    assert [c.hit_index for c in cands] == [0, 0, 0, 1, 1, 1]
    assert sum(c.prob for c in cands) == pytest.approx(1.0)
    z = 2 * (math.exp(0) + math.exp(-2) + math.exp(-3))
    assert cands[0].prob == pytest.approx(1 / z) and cands[0].prob == cands[3].prob
    assert (cands[0].start, cands[0].end, cands[0].logit, cands[0].margin) == (0, 10, 9.0, 7.5)
    assert cands[0].tokens == 3
    kept = decide.score_candidates([a, b], min_ratio=0.2)  # e^-2 < 0.2 < 1
    assert kept == [cands[0], cands[3]]
    assert decide.score_candidates([]) == []
    empty = decide.decode_window(window(START, END), SpanRules(top_n=1, max_answer_tokens=0))
    assert decide.score_candidates([empty]) == []


def test_rescore_gives_what_reading_with_the_weights_gives() -> None:
    hits = hits_over(TEXT, TEXT)
    hits[1] = Hit(hits[1].passage, score=0.25)
    plain = SpanRules(top_n=2, max_answer_tokens=3)
    heavy = SpanRules(top_n=2, max_answer_tokens=3, retrieval_weight=2.0, length_penalty=0.5)
    read = [window(START, END, hit_index=i, score=h.score) for i, h in enumerate(hits)]
    a = decide.score_candidates([decide.decode_window(w, plain) for w in read])
    b = decide.score_candidates([decide.decode_window(w, heavy) for w in read])
    again = decide.rescore(a, hits, 2.0, 0.5)
    assert [c.prob for c in again] == pytest.approx([c.prob for c in b])
    assert [(c.start, c.end, c.logit, c.margin) for c in again] == [
        (c.start, c.end, c.logit, c.margin) for c in a
    ]
    assert decide.rescore([], hits, 2.0) == []


def test_group_by_text_joins_spans_that_normalise_alike() -> None:
    hits = hits_over("The Paris of old.", "paris! London")
    cands = [
        cand(0, 0, 9, 0.3),  # "The Paris"
        cand(1, 7, 13, 0.4),  # "London"
        cand(1, 0, 6, 0.2),  # "paris!"
        cand(1, 0, 5, 0.00001),  # "paris", below the floor
    ]
    groups = decide.group_by_text(cands, hits)
    assert [g.key for g in groups] == ["paris", "london"]  # by first member
    assert groups[0].members == (cands[0], cands[2])
    assert groups[0].prob == pytest.approx(0.5)
    assert len(decide.group_by_text(cands, hits, floor=0.0)[0].members) == 3
    assert decide.group_by_text([], hits) == []


def test_choose_takes_the_likeliest_group_and_its_likeliest_span() -> None:
    hits = hits_over("It was London, said one.", "Others said London too.", "A few said Paris.")
    cands = [
        cand(2, 11, 16, 0.4, margin=3.0),  # Paris: the best single span
        cand(0, 7, 13, 0.3, margin=1.0),  # London, twice
        cand(1, 12, 18, 0.25, margin=2.0),
    ]
    proposal = decide.choose(cands, hits)
    assert isinstance(proposal, Proposal)
    assert proposal.answer.text == "London" and proposal.answer.passage_id == hits[0].passage.id
    assert proposal.answer.score == pytest.approx(0.55)
    assert proposal.margin == 1.0  # the representative span's
    assert decide.choose([], hits) is None


def test_choose_completes_pairs_and_caps_the_score_at_one() -> None:
    hits = hits_over("It stretches 720 feet (220 m) along.")
    text = hits[0].passage.text
    s = text.index("720")
    # "720 feet (220 m" and "720 feet (220 m)" normalise alike: one group, 0.7 + 0.6
    cands = [cand(0, s, s + len("720 feet (220 m"), 0.7), cand(0, s, text.index(")") + 1, 0.6)]
    proposal = decide.choose(cands, hits)
    assert proposal is not None
    assert proposal.answer.text == "720 feet (220 m)"
    assert proposal.answer.score == 1.0


def test_span_answer_places_the_span_at_document_offsets() -> None:
    doc = Document.from_text("Intro.\n\nThe treaty was signed in Vienna.", "t", "T")
    p0 = doc.text.index("The treaty")
    passage = Passage.make(doc, p0, len(doc.text))
    a = decide.span_answer(passage, 25, 31, 0.75)
    assert a == Answer("Vienna", 0.75, doc.id, p0 + 25, p0 + 31, passage.id)
    assert doc.text[a.start : a.end] == a.text


@given(
    text=st.text(alphabet=st.sampled_from("ab \n“”’é東"), min_size=1, max_size=60),
    cuts=st.lists(st.integers(0, 60), min_size=4, max_size=4),
)
def test_every_span_answer_is_a_slice_of_its_document_inside_its_passage(text, cuts) -> None:
    doc = Document.from_text(text, "d", "d")
    n = len(doc.text)
    p_start, p_end = sorted(min(c, n) for c in cuts[:2])
    passage = Passage.make(doc, p_start, p_end)
    s, e = sorted(min(c, len(passage.text)) for c in cuts[2:])
    a = decide.span_answer(passage, s, e, 0.5)
    assert doc.text[a.start : a.end] == a.text == passage.text[s:e]
    assert passage.start <= a.start <= a.end <= passage.end


def test_gate_null_margin_abstains_below_the_threshold() -> None:
    answer = Answer("x", 0.5, "d", 0, 1, "p")
    assert decide.gate_null_margin(None, 0.0) is None
    assert decide.gate_null_margin(Proposal(answer, -5.0), None) is answer  # no threshold
    assert decide.gate_null_margin(Proposal(answer, -2.0), 0.0) is None
    assert decide.gate_null_margin(Proposal(answer, 0.0), 0.0) is answer
    assert decide.gate_null_margin(Proposal(answer, -2.0), -2.5) is answer


def test_gate_relevance_abstains_when_no_passage_is_close_enough() -> None:
    answer = Answer("x", 0.5, "d", 0, 1, "p")
    hits = hits_over("a", dense=0.3) + hits_over("b", dense=0.2)
    assert decide.gate_relevance(answer, hits, 0.0) is answer  # off
    assert decide.gate_relevance(answer, hits, 0.3) is answer  # the best one reaches it
    assert decide.gate_relevance(answer, hits, 0.31) is None
    assert decide.gate_relevance(None, hits, 0.0) is None
    assert decide.gate_relevance(None, [], 0.5) is None  # no answer: nothing to check


def test_weigh_adds_retrieval_evidence_and_takes_off_a_length_prior() -> None:
    out = decide.weigh(np.array([1.0, 2.0]), np.array([1, 4]), 0.5, 2.0, 0.5)
    assert out.tolist() == pytest.approx([2.0, 3.0 - 0.5 * math.log(4)])
