"""What tells documentation from prose in the calibrator's features, and how a calibrator
is picked so that it holds on both (``qa.train.confidence.pick``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from qa.core.types import Answer
from qa.read.confidence import Calibrator, features
from qa.train.confidence import Asked, cross_validate, domain, pick, rises_with
from tests.read.scripted import whole_hits


def evidence(passage: str, answer: str) -> dict[str, float]:
    hits = whole_hits([passage])
    i = passage.index(answer)
    a = Answer(answer, 0.6, hits[0].passage.doc_id, i, i + len(answer), hits[0].passage.id)
    return features(a, 2.0, (0.6, 0.1), 1, hits)


def test_code_features_tell_a_manual_from_prose() -> None:
    manual = evidence("Run flask --app hello run --debug with FLASK_RUN_PORT=8000 set.", "--debug")
    prose = evidence("The Normans were the people who gave their name to Normandy.", "Normandy")
    assert manual["code_share"] > 0.3 and manual["answer_code"] == 1.0
    assert prose["code_share"] == 0.0 and prose["answer_code"] == 0.0


def test_sectioned_tells_a_passage_under_a_heading() -> None:
    from dataclasses import replace

    prose = "The Normans were the people who gave their name to Normandy."
    hits = whole_hits([prose])
    a = Answer("Normandy", 0.6, hits[0].passage.doc_id, 52, 60, hits[0].passage.id)
    assert features(a, 2.0, (0.6,), 1, hits)["sectioned"] == 0.0
    under = [replace(hits[0], passage=replace(hits[0].passage, section="History > Names"))]
    assert features(a, 2.0, (0.6,), 1, under)["sectioned"] == 1.0


def test_table_row_tells_a_cell_among_its_neighbours() -> None:
    """An answer on a table row (qa's ``Name: value;`` cells, a Markdown row, tab-separated or
    space-aligned columns) is a cell read among other cells; prose is not."""
    rows = "Types\nName: smallint; Size: 2 bytes; Range: -32768 to +32767\nSee the manual."
    assert evidence(rows, "2 bytes")["table_row"] == 1.0
    assert evidence(rows, "See the manual")["table_row"] == 0.0
    assert evidence("Codes\n| 200 | OK |\n| 404 | Not Found |", "Not Found")["table_row"] == 1.0
    assert evidence("-a      all       show hidden files", "show hidden files")["table_row"] == 1.0
    prose = "Note: the default is 8; larger values use more memory."
    assert evidence(prose, "8")["table_row"] == 0.0
    # a bracket left open before the first colon is prose naming things, not a row's cells
    names = "The Normans (Norman: Nourmands; French: Normands) gave their name to Normandy."
    assert evidence(names, "Normandy")["table_row"] == 0.0
    assert evidence("Size (bytes): 4; Sign: none", "4")["table_row"] == 1.0


def test_question_overlap_reads_the_answers_own_sentence() -> None:
    text = "Paris is large. The tower was built in 1889 by Eiffel.\n- Height: 330 m"
    hits = whole_hits([text])

    def overlap(question: str, answer: str) -> float:
        i = text.index(answer)
        a = Answer(answer, 0.6, hits[0].passage.doc_id, i, i + len(answer), hits[0].passage.id)
        return features(a, 2.0, (0.6,), 1, hits, question)["question_overlap"]

    assert overlap("When was the tower built?", "1889") == 1.0  # "tower", "built"
    assert overlap("When was the tower built?", "330 m") == 0.0  # a line of its own
    assert overlap("How large is Paris?", "1889") == 0.0
    assert overlap("", "1889") == 0.0


def test_pick_prefers_the_calibrator_that_holds_on_its_worse_domain() -> None:
    scores = {
        "plain": {"log_loss": 0.575, "worst_ece": 0.085},
        "with code": {"log_loss": 0.577, "worst_ece": 0.029},  # within the slack: equal
        "overfit": {"log_loss": 0.600, "worst_ece": 0.010},  # far worse log loss: out
    }
    assert pick(scores) == "with code"
    assert pick(scores, slack=0.0) == "plain"
    assert pick({"a": {"log_loss": 0.5}, "b": {"log_loss": 0.4}}) == "b"  # one domain


def test_only_allowed_calibrators_are_picked() -> None:
    scores = {"falls": {"log_loss": 0.50}, "rises": {"log_loss": 0.51}}
    assert pick(scores) == "falls"
    assert pick(scores, allowed=lambda k: k == "rises") == "rises"
    with pytest.raises(ValueError, match="no candidate"):
        pick(scores, allowed=lambda k: False)


@pytest.mark.parametrize(
    ("weights", "rises"),
    [
        ((1.0, 0.5), True),
        ((-0.1, 2.0), False),  # falls up to the knot, then climbs
        ((0.5, -0.4), True),  # flatter past the knot, still rising
        ((0.5, -0.6), False),  # falls past the knot
    ],
)
def test_a_calibrator_rises_with_the_margin_when_every_stretch_does(weights, rises) -> None:
    names = ("null_margin", "null_margin>12", "rank")
    cal = Calibrator(names, np.zeros(3), np.ones(3), np.array([*weights, -3.0]), 0.0)
    assert rises_with(cal, "null_margin") is rises
    assert rises_with(cal, "rank") is False and rises_with(cal, "dense") is True


def test_cross_validate_scores_each_domain() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(240):
        s = float(rng.uniform(0.05, 0.95))
        group = f"doctune:f{i % 3}" if i % 2 else f"article{i % 4}"
        right = bool(rng.uniform() < s)
        rows.append(Asked(str(i), group, "x", s, None, {"span_logit": np.log(s / (1 - s))},
                          float(right), float(right), right, True))  # fmt: skip
    out = cross_validate(rows, ("span_logit",), 1.0)
    assert {domain(r) for r in rows} == {"doctune", "squad"}
    assert domain(replace(rows[1], group="tabletune:docs/ps.1.html")) == "doctune"
    for key in ("squad_ece", "doctune_ece", "squad_log_loss", "doctune_log_loss"):
        assert 0.0 <= out[key] < 1.0
    assert out["worst_ece"] == max(out["squad_ece"], out["doctune_ece"])
    assert out["log_loss"] == pytest.approx(
        (out["squad_log_loss"] + out["doctune_log_loss"]) / 2, abs=0.05
    )


def test_a_doc_weight_pulls_the_fit_toward_documentation_rows() -> None:
    from qa.train.confidence import fit, weight

    rng = np.random.default_rng(2)
    rows = []
    for i in range(600):
        doc = i % 5 == 0  # one row in five from documentation, as in the tuning data
        s = float(rng.uniform(0.05, 0.95))
        p = s * 0.6 if doc else s  # documentation answers are right less often
        right = bool(rng.uniform() < p)
        group = f"doctune:f{i % 3}" if doc else f"article{i % 4}"
        rows.append(Asked(str(i), group, "x", s, None, {"span_logit": np.log(s / (1 - s))},
                          float(right), float(right), right, True))  # fmt: skip
    assert weight(rows[0], 5.0, 3.0) == 15.0 and weight(rows[1], 5.0, 3.0) == 5.0
    docs = [r for r in rows if domain(r) == "doctune"]
    mean_doc = float(np.mean([r.right for r in docs]))

    def mean_prob(cal) -> float:
        return float(np.mean([cal.probability(r.features) for r in docs]))

    plain, weighed = fit(rows, ("span_logit",)), fit(rows, ("span_logit",), doc=3.0)
    assert abs(mean_prob(weighed) - mean_doc) < abs(mean_prob(plain) - mean_doc)


def test_ece_floor_is_what_chance_gives_a_perfect_confidence() -> None:
    from qa.train.confidence import ece, ece_floor

    rng = np.random.default_rng(1)
    small, large = rng.uniform(0.2, 1.0, 70), rng.uniform(0.2, 1.0, 3000)
    few, many = ece_floor(small, draws=300), ece_floor(large, draws=300)
    assert few[""] < few["_p95"] and many[""] < many["_p95"]
    assert few[""] > 2.5 * many[""]  # chance shrinks with the number of answers
    assert few[""] > 0.05  # 70 answers: the 0.05 goal sits under chance
    # a confidence that is off by 0.25 everywhere stands far above its floor
    right = rng.random(large.size) < large - 0.25
    assert ece(large, right) > 4 * many["_p95"]
    assert ece_floor([]) == {"": 0.0, "_p95": 0.0}
    assert ece_floor(small, draws=50) == ece_floor(small, draws=50)  # the same every run


def test_balanced_answerable_weights_give_each_domain_the_same_unanswerable_share() -> None:
    from qa.train.confidence import balanced_answerable_weights, weight

    def row(i: int, group: str, answerable: bool) -> Asked:
        return Asked(str(i), group, "x", 0.5, None, {}, 0.0, 0.0, False, answerable)

    rows = [row(i, "doctune:f", i >= 2) for i in range(10)]  # 2 of 10 unanswerable
    rows += [row(i, "article", i >= 6) for i in range(10)]  # 6 of 10 unanswerable
    aw = balanced_answerable_weights(rows)
    assert aw["doctune"] == pytest.approx(1.0) and aw["squad"] == pytest.approx(6.0)
    for d in ("doctune", "squad"):
        mine = [r for r in rows if domain(r) == d]
        total = sum(weight(r, aw) for r in mine)
        assert sum(weight(r, aw) for r in mine if not r.answerable) / total == pytest.approx(0.2)
    with pytest.raises(ValueError, match="unanswerable"):
        balanced_answerable_weights([r for r in rows if r.answerable])
