"""Answer confidence: the calibrator, its file, the contract and the gate."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from qa.core.config import Settings
from qa.core.types import Answer, Citation, Response, confidence_in_words, response_to_dict
from qa.engine import Engine
from qa.read import decide
from qa.read.confidence import (
    CONFIDENCE_JSON,
    Calibrator,
    features,
    fit_logistic,
    hinge,
    known,
    load_calibrator,
    value,
)
from qa.read.reader import DEFAULT_MODEL_DIR
from tests.read.scripted import ScriptedModel, hit_at, make_reader, whole_hits

ANSWER = Answer("Vienna", 0.7, "d", 0, 6, "p")


def feats(score: float, **over: float) -> dict[str, float]:
    hits = whole_hits(["Vienna is a city."])
    a = Answer("Vienna", score, hits[0].passage.doc_id, 0, 6, hits[0].passage.id)
    return features(a, 2.0, (score, 0.1), 1, hits) | over


def test_the_shipped_calibrator_is_a_probability_monotone_in_the_span_probability() -> None:
    cal = load_calibrator(DEFAULT_MODEL_DIR)
    assert cal is not None and all(map(known, cal.names)) and "span_logit" in cal.names
    probs = [cal.probability(feats(s)) for s in np.linspace(0.01, 0.999, 40)]
    assert all(0.0 < p < 1.0 for p in probs)
    assert all(b >= a for a, b in itertools.pairwise(probs))
    assert probs[-1] > probs[0]


def test_the_shipped_calibrator_never_falls_as_the_null_margin_rises() -> None:
    cal = load_calibrator(DEFAULT_MODEL_DIR)
    assert cal is not None
    probs = [cal.probability(feats(0.8, null_margin=float(m))) for m in np.linspace(-2, 30, 65)]
    assert all(b >= a for a, b in itertools.pairwise(probs))


def test_a_hinge_counts_only_past_its_knot() -> None:
    name = hinge("null_margin", 14)
    assert name == "null_margin>14"
    assert value({"null_margin": 9.0}, name) == 0.0
    assert value({"null_margin": 17.5}, name) == 3.5
    assert value({"null_margin": 17.5}, "null_margin") == 17.5
    assert value({"rank": 1.0}, hinge("rank", -0.5)) == 1.5
    cal = Calibrator(("null_margin", name), np.zeros(2), np.ones(2), np.array([0.0, 1.0]), 0.0)
    assert cal.probability({"null_margin": 10.0}) == pytest.approx(0.5)
    assert cal.probability({"null_margin": 16.0}) == pytest.approx(1 / (1 + math.exp(-2)))
    back = Calibrator.from_json(cal.to_json())
    assert back.names == cal.names
    for bad in ("shoe_size>3", "null_margin>x", "null_margin>>3"):
        with pytest.raises(ValueError, match="unknown confidence features"):
            Calibrator.from_json(cal.to_json() | {"features": ["null_margin", bad]})


def test_fit_learns_a_hinge_a_linear_weight_cannot_follow() -> None:
    rng = np.random.default_rng(2)
    m = rng.uniform(0, 25, 8000)
    truth = 1 / (1 + np.exp(-(-1.0 + 0.5 * np.maximum(m - 15, 0))))  # flat, then steep
    right = rng.uniform(size=m.size) < truth
    rows = [{"null_margin": float(v)} for v in m]
    lin = fit_logistic(rows, right.tolist(), ("null_margin",), l2=0.0)
    bent = fit_logistic(rows, right.tolist(), ("null_margin", hinge("null_margin", 15)), l2=0.0)
    for at in (2.0, 10.0, 24.0):
        want = 1 / (1 + math.exp(-(-1.0 + 0.5 * max(at - 15, 0))))
        assert bent.probability({"null_margin": at}) == pytest.approx(want, abs=0.04)
    assert abs(lin.probability({"null_margin": 2.0}) - 0.269) > 0.08


def test_calibrator_round_trips_through_its_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = [feats(float(s)) for s in rng.uniform(0.01, 0.99, 200)]
    right = [bool(rng.uniform() < s) for s in (r["span_logit"] for r in rows)]
    cal = fit_logistic(rows, right, ("span_logit", "null_margin"))
    (tmp_path / CONFIDENCE_JSON).write_text(json.dumps(cal.to_json()))
    back = load_calibrator(tmp_path)
    assert back is not None and back.names == cal.names
    assert back.probability(rows[0]) == pytest.approx(cal.probability(rows[0]), abs=1e-5)
    assert load_calibrator(tmp_path / "none") is None
    bad = cal.to_json() | {"features": ["span_logit", "shoe_size"]}
    with pytest.raises(ValueError):
        Calibrator.from_json(bad)


def test_fit_recovers_a_known_logistic_rule() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 2, 4000)
    right = rng.uniform(size=x.size) < 1 / (1 + np.exp(-(0.5 + 1.5 * x)))
    rows = [{"span_logit": float(v)} for v in x]
    cal = fit_logistic(rows, right.tolist(), ("span_logit",), l2=0.0)
    slope = cal.weights[0] / cal.scale[0]
    bias = cal.bias - slope * cal.mean[0]
    assert slope == pytest.approx(1.5, abs=0.15) and bias == pytest.approx(0.5, abs=0.15)


def test_the_reader_gives_a_confidence_when_it_has_a_calibrator(tokenizer) -> None:
    text = "The treaty was signed in Vienna in 1815."
    from qa.core.types import Document

    hit = hit_at(Document.from_text(text, "t", "T"), 0, len(text))
    model = ScriptedModel(tokenizer, {("vienna", "vienna"): 8.0})
    reader = make_reader(tokenizer, model)
    assert reader.read("Where?", [hit]).confidence is None  # no confidence.json there
    reader.calibrator = Calibrator(("span_logit",), np.zeros(1), np.ones(1), np.ones(1), 0.0)
    a = reader.read("Where?", [hit])
    assert a is not None and a.confidence == pytest.approx(
        1 / (1 + math.exp(-feats(a.score)["span_logit"]))
    )
    assert reader.read_many([("Where?", [hit])])[0] == a


def test_confidence_is_in_the_json_and_http_contract() -> None:
    from qa.serve.schemas import AskResponse

    c = Citation(1, "p", "d", "a.txt", "A", 0, 6, "Vienna", 0.5)
    for conf in (0.93, None):
        a = Answer("Vienna", 0.7, "d", 0, 6, "p", confidence=conf)
        out = response_to_dict(Response("Where?", a, [c]))
        assert out["answer"]["confidence"] == conf  # type: ignore[index]
        assert AskResponse.model_validate(out).model_dump()["answer"]["confidence"] == conf


def test_min_confidence_abstains_below_it(fake_encoder, corpus_dir, tmp_path, monkeypatch) -> None:
    class Sure:
        def read(self, question, hits):
            p = hits[0].passage
            return Answer(p.text[:5], 0.9, p.doc_id, p.start, p.start + 5, p.id, confidence=0.4)

    def ask(min_confidence: float) -> Answer | None:
        s = Settings(index_dir=tmp_path / "i", reader_dir=None, min_confidence=min_confidence)
        e = Engine(s, encoder=fake_encoder, reader=Sure())
        e.index([corpus_dir])
        return e.ask("Who walked on the Moon?").answer

    assert ask(0.0) is not None and ask(0.4) is not None
    assert ask(0.5) is None
    assert decide.gate_confidence(ANSWER, 0.9) is ANSWER  # no confidence: not gated
    monkeypatch.setenv("QA_MIN_CONFIDENCE", "0.6")
    assert Settings.from_env().min_confidence == 0.6


def test_confidence_is_said_in_words_by_the_cli_and_the_chat_reply(capsys) -> None:
    from qa.cli.render import show_response
    from qa.serve.reply import answer_of, render

    assert confidence_in_words(0.93) == "high confidence (0.93)"
    assert confidence_in_words(0.31) == "low confidence (0.31)"
    assert confidence_in_words(0.6) == "medium confidence (0.60)"
    c = Citation(1, "p", "d", "a.txt", "A", 0, 6, "Vienna", 0.5)
    resp = Response("Where?", Answer("Vienna", 0.7, "d", 0, 6, "p", confidence=0.93), [c])
    show_response(resp)
    assert "high confidence (0.93)" in capsys.readouterr().out
    content = render(resp, "http://h").content
    assert content.splitlines()[0] == "Vienna [1] — high confidence (0.93)"
    assert answer_of(content) == "Vienna"
