"""scripts/tune_null_threshold.py scores a threshold as ``qa ask`` would answer."""

from __future__ import annotations

from typing import Any

from qa.core.types import Answer
from qa.read.decide import Proposal
from scripts.tune_null_threshold import f1_at


def proposal(text: str, margin: float) -> Any:
    return Proposal(Answer(text, 0.5, "d", 0, len(text), "p"), margin)


def test_f1_at_abstains_under_the_threshold_and_falls_back_to_all_passages() -> None:
    asked = [
        (["--force"], proposal("--force", 4.0), None),  # kept at 3, dropped at 5
        (["gpasm"], proposal("gplink", 1.0), proposal("gpasm", 6.0)),  # the K passages answer
        ([], proposal("x", 2.0), None),  # unanswerable: abstaining scores 1
    ]
    assert f1_at(asked, 3.0, 1.0) == 100 * 3 / 3
    assert f1_at(asked, 5.0, 1.0) == 100 * 2 / 3
    # answerable questions weighed 5x: (0 + 5 + 1) / 11
    assert round(f1_at(asked, 5.0, 5.0), 4) == round(100 * 6 / 11, 4)
    assert f1_at(asked, 1.0, 1.0) == 100 * 1 / 3  # "gplink" answers, "x" answers
