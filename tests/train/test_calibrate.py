"""Fitting the no-answer threshold (``qa.train.calibrate``)."""

from __future__ import annotations

import pytest

from qa.train.calibrate import fit_null_threshold


def test_weighting_answerable_questions_lowers_the_threshold() -> None:
    margins = [-3.0, -1.0, 0.5, 2.0]
    f1_if_answered = [0.0, 0.4, 0.0, 1.0]
    impossible = [True, False, True, False]
    # unweighted: abstaining on the three lowest scores 1 + 0 + 1 + 1 = 3 (of 4)
    plain = fit_null_threshold(margins, f1_if_answered, impossible)
    assert 0.5 < plain["null_threshold"] < 2.0
    assert plain["answerable_abstain_pct"] == 50.0
    # answerable questions 5x: answering the 0.4 one is worth 2, more than the 1 of the
    # unanswerable question above it, so only the lowest abstains: 1 + 2 + 0 + 5 = 8 of 12
    heavy = fit_null_threshold(margins, f1_if_answered, impossible, answerable_weight=5.0)
    assert -3.0 < heavy["null_threshold"] < -1.0
    assert heavy["answerable_abstain_pct"] == 0.0
    assert heavy["f1"] == pytest.approx(100 * 8 / 12)


def test_calibrate_picks_the_f1_maximising_threshold() -> None:
    margins = [-3.0, -1.0, 0.5, 2.0]
    f1_if_answered = [0.0, 0.0, 1.0, 0.5]
    impossible = [True, True, False, False]
    out = fit_null_threshold(margins, f1_if_answered, impossible)
    # abstaining on the two lowest margins: 1 + 1 + 1 + 0.5 = 3.5 of 4
    assert -1.0 < out["null_threshold"] < 0.5
    assert out["f1"] == pytest.approx(87.5)
    assert out["noans_precision"] == 100.0 and out["noans_recall"] == 100.0
