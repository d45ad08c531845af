"""SQuAD loading, the official normalisation and EM/F1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.train import squad


def test_normalize_drops_case_punctuation_articles_and_spaces() -> None:
    assert squad.normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert squad.normalize_answer("  A cat, an owl and THE dog. ") == "cat owl and dog"
    assert squad.normalize_answer("theory") == "theory"  # "the" only as a whole word
    assert squad.normalize_answer("") == ""


def test_exact_match_values() -> None:
    assert squad.exact_match("the Denver Broncos", "Denver Broncos") == 1.0
    assert squad.exact_match("Denver Broncos.", "denver broncos") == 1.0
    assert squad.exact_match("Broncos", "Denver Broncos") == 0.0


def test_f1_values() -> None:
    # pred: [denver, broncos, team] gold: [denver, broncos] -> P 2/3, R 1 -> F1 0.8
    assert squad.f1_score("Denver Broncos team", "the Denver Broncos") == pytest.approx(0.8)
    assert squad.f1_score("Broncos", "Denver Broncos") == pytest.approx(2 / 3)
    assert squad.f1_score("Panthers", "Denver Broncos") == 0.0
    # repeated tokens count with multiplicity: common = min(counts)
    assert squad.f1_score("a b b", "b b b c") == pytest.approx(2 * (2 / 2) * (2 / 4) / (1 + 0.5))
    assert squad.f1_score("", "") == 1.0
    assert squad.f1_score("the", "Broncos") == 0.0  # normalises to empty


def test_score_takes_max_over_golds_and_handles_unanswerable() -> None:
    assert squad.score("Broncos", ["Denver Broncos", "Broncos"]) == (1.0, 1.0)
    em, f1 = squad.score("Denver", ["Denver Broncos", "Panthers"])
    assert (em, f1) == (0.0, pytest.approx(2 / 3))
    assert squad.score(None, []) == (1.0, 1.0)
    assert squad.score("anything", []) == (0.0, 0.0)
    assert squad.score(None, ["Broncos"]) == (0.0, 0.0)


def test_load_v1_and_v2(tmp_path: Path) -> None:
    data = {
        "version": "v2.0",
        "data": [
            {
                "title": "A",
                "paragraphs": [
                    {
                        "context": "Paris is in France.",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "Where is Paris?",
                                "answers": [{"text": "France", "answer_start": 12}],
                            },
                            {
                                "id": "q2",
                                "question": "Where is Rome?",
                                "answers": [],
                                "is_impossible": True,
                            },
                        ],
                    }
                ],
            },
            {"title": "B", "paragraphs": [{"context": "x", "qas": []}]},
        ],
    }
    p = tmp_path / "d.json"
    p.write_text(json.dumps(data))
    ex = squad.load(p)
    assert [e.id for e in ex] == ["q1", "q2"]
    assert ex[0].answers == (("France", 12),) and not ex[0].is_impossible
    assert ex[1].is_impossible
    assert ex[0].context[12:18] == "France"
    assert squad.load(p, titles=["B"]) == []
    assert squad.load(p, exclude_titles=["A"]) == []
    assert squad.titles(p) == ["A", "B"]


@pytest.mark.skipif(not (squad.DATA_DIR / squad.V1_DEV).exists(), reason="data not present")
def test_split_matches_the_data_readme() -> None:
    ev = squad.eval_examples()
    assert len(ev) == 7595
    assert len({e.title for e in ev}) == 32
    held = squad.heldout_examples()
    assert {e.title for e in held} == set(squad.HELDOUT_TITLES)
    assert any(e.is_impossible for e in held)
    train_titles = {e.title for e in squad.load(squad.DATA_DIR / squad.V2_HALF)}
    assert train_titles >= squad.HELDOUT_TITLES
    assert not ({e.title for e in ev} & train_titles)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("not json", "is not JSON"),
        ('{"foo": 1}', "expected an object with a 'data' list"),
        ("[1, 2]", "expected an object with a 'data' list"),
        ('{"data": [{"title": "t", "paragraphs": [{"context": "c"}]}]}', "paragraph 0"),
        ('{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "q"}]}]}]}', "article 0"),
    ],
)
def test_a_file_that_is_not_squad_is_a_clear_error(tmp_path: Path, content, message) -> None:
    from qa.core.errors import BadInput

    f = tmp_path / "data.json"
    if content is not None:
        f.write_text(content)
    with pytest.raises(BadInput, match=message):
        squad.load(f)


def test_eval_of_nothing_is_an_error_not_zeros(tmp_path: Path) -> None:
    from qa.core.errors import BadInput
    from qa.train.evaluate import evaluate

    f = tmp_path / "empty.json"
    f.write_text('{"data": []}')
    with pytest.raises(BadInput, match="no questions"):
        evaluate(f, object())
    with pytest.raises(BadInput, match="--limit must be at least 1"):
        evaluate(f, object(), limit=0)
