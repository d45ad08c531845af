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


def test_the_card_tells_how_a_jointly_tuned_threshold_was_chosen() -> None:
    from qa.train.card import _threshold

    row = {"threshold": 2.5, "squad_f1": 63.95, "doctune_f1": 54.66, "mean": 59.31,
           "doctune_answerable_abstained": 6}  # fmt: skip
    meta = {
        "null_threshold": 2.5,
        "null_threshold_tuning": {
            "squad": "held-out articles, open K=3",
            "doctune": "145 questions (126 answerable)",
            "table": [{**row, "threshold": 6.0}, row],
            "command": "scripts/tune_null_threshold.py",
        },
        "calibration": {"answerable_weight": 5.0},  # an older calibrate-reader record
    }
    text = "\n".join(_threshold(meta))
    assert "`null_threshold` = 2.5" in text and "(63.95)" in text and "(54.66;" in text
    assert "abstains on 6 answerable" in text and "scripts/tune_null_threshold.py" in text
