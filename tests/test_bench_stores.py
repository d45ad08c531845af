"""bench/stores.py's arithmetic: recall against exact search, gold recall, the knob chosen."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import stores  # bench/stores.py, not a package


def test_recall_at_k_counts_the_true_neighbours_found() -> None:
    truth = np.array([[1, 2, 3], [4, 5, 6]])
    assert stores.recall_at_k([[1, 2, 3], [4, 5, 6]], truth, k=3) == 1.0
    assert stores.recall_at_k([[3, 9, 1], [7, 8, 9]], truth, k=3) == pytest.approx(2 / 6)
    # order within the top k does not matter; hits past k do not count
    assert stores.recall_at_k([[9, 9, 9, 1], [6, 5, 4]], truth, k=3) == pytest.approx(3 / 6)


def test_gold_recall_is_the_share_with_gold_in_the_first_k() -> None:
    ranked = [["a", "b", "c"], ["x", "a", "b"], ["x", "y", "z"], ["g", "h", "i"]]
    gold = ["a", "a", "a", "i"]
    assert stores.gold_recall(ranked, gold, (1, 2, 3)) == {
        "recall@1": 25.0,
        "recall@2": 50.0,
        "recall@3": 75.0,
    }


def test_smallest_meeting_takes_the_first_knob_reaching_the_target() -> None:
    sweep = [{"v": 1, "recall@10": 0.8}, {"v": 2, "recall@10": 0.95}, {"v": 4, "recall@10": 0.99}]
    assert stores.smallest_meeting(sweep)["v"] == 2
    assert stores.smallest_meeting(sweep[:1]) is None


def test_exactness_tells_exact_ignored_and_followed_knobs_apart() -> None:
    def sweep(*recalls: float) -> dict:
        return {
            "sweep": [{"params": {"nprobe": 2**i}, "recall@10": r} for i, r in enumerate(recalls)]
        }

    assert "exact at every setting" in stores.exactness(sweep(1.0))
    assert "the knob is ignored" in stores.exactness(sweep(0.6, 0.6, 0.6))
    assert "recall follows the knob" in stores.exactness(sweep(0.6, 0.8, 0.97))


def test_percentiles_of_nothing_are_not_numbers() -> None:
    assert stores.percentiles([])["n"] == 0
    assert stores.percentiles([1.0, 2.0, 3.0])["p50"] == 2.0
