"""The model card rendered from a reader folder's qa_reader.json."""

from __future__ import annotations

import json
from pathlib import Path

from qa.train.card import write_model_card


def test_the_card_names_a_self_teacher_once_and_lists_earlier_stages_teachers(
    tmp_path: Path,
) -> None:
    stage5 = {
        "command": "qa train-reader S5",
        "distillation": {
            "alpha": 0.9,
            "teachers": [{"training": {"command": "qa train-reader T"}}],
        },
    }
    stage6 = {
        "command": "qa train-reader S6",
        "distillation": {
            "alpha": 1.0,
            "temperature": 2.0,
            "teachers": [{"path": "R", "training": {"command": "qa train-reader S5"}}],
        },
        "gold_files": ["g.json", "g.json"],
        "previous_stage": stage5,
    }
    (tmp_path / "qa_reader.json").write_text(json.dumps({"training": stage6}))
    card = write_model_card(tmp_path).read_text()
    assert "Distilled from the reader this stage started from" in card
    assert card.count("qa train-reader S5") == 1  # as the stage before, not again as teacher
    assert "It was distilled (α 0.9) from teachers trained by:" in card
    assert "qa train-reader T" in card and "g.json, g.json" in card
    assert "time budget" not in card
