"""The definitional question files: well-formed, and drawn from the right articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.train.squad import DATA_DIR, HELDOUT_TITLES, V1_DEV, V2_HALF, eval_titles, load

DEFS = Path(__file__).resolve().parents[2] / "data" / "definitions"


@pytest.mark.parametrize("name", ["train.json", "eval.json"])
def test_every_answer_is_the_text_at_its_offset(name: str) -> None:
    examples = load(DEFS / name)
    assert len(examples) > 300
    for ex in examples:
        assert ex.question.startswith(("Who is ", "Who was ")) and ex.question.endswith("?")
        ((text, start),) = ex.answers
        assert text and ex.context[start : start + len(text)] == text


@pytest.mark.skipif(
    not (DATA_DIR / V1_DEV).exists() or not (DATA_DIR / V2_HALF).exists(),
    reason="needs the SQuAD files of ../shared/data",
)
def test_training_questions_never_come_from_evaluation_or_held_out_articles() -> None:
    evaluation = set(eval_titles())
    train = {ex.title for ex in load(DEFS / "train.json")}
    assert not train & (evaluation | HELDOUT_TITLES)
    assert {ex.title for ex in load(DEFS / "eval.json")} <= evaluation
