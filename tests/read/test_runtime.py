"""The runtime: which backend reads, and how windows reach the ONNX model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.core.errors import BadInput
from qa.read import runtime
from qa.read.bridge import MODEL_TOKENIZER
from qa.read.reader import NeuralReader


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(BadInput, match=r"QA_READER_BACKEND\) must be 'onnx' or 'torch'"):
        NeuralReader(Path("/nonexistent"), backend="tensorrt")


def test_backend_comes_from_the_argument_then_the_settings_then_the_machine(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("QA_READER_BACKEND", raising=False)
    assert runtime.pick_backend(tmp_path, "torch", "cpu", False) == "torch"
    assert runtime.pick_backend(tmp_path, None, "cpu", True) == "torch"  # int8 Linear: torch
    assert runtime.pick_backend(tmp_path, None, "cuda", False) == "torch"
    assert runtime.pick_backend(tmp_path, None, "cpu", False) in runtime.BACKENDS
    monkeypatch.setenv("QA_READER_BACKEND", "torch")
    assert runtime.pick_backend(tmp_path, None, "cpu", False) == "torch"
    assert runtime.pick_backend(tmp_path, "onnx", "cpu", False) == "onnx"
    (tmp_path / MODEL_TOKENIZER).mkdir()  # a bridged model runs in torch only
    assert runtime.pick_backend(tmp_path, "onnx", "cpu", False) == "torch"


def test_thread_count_defaults_to_the_cpus_this_process_may_use() -> None:
    assert runtime.thread_count(3) == 3
    assert runtime.thread_count(None) == runtime.thread_count(0) >= 1


class RecordingSession:
    """An ONNX session stand-in: logits are the token ids (start) and their negatives."""

    def __init__(self) -> None:
        self.feeds: list[dict[str, np.ndarray]] = []

    def run(self, outputs: object, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.feeds.append(feed)
        ids = feed["input_ids"].astype(np.float32)
        return [ids, -ids]


def test_onnx_windows_run_one_at_a_time_unpadded() -> None:
    ids = np.array([[101, 7, 8, 102, 0, 0], [101, 9, 102, 5, 6, 102]], dtype=np.int64)
    mask = (np.arange(6)[None, :] < np.array([[4], [6]])).astype(np.int64)
    arrays = {"input_ids": ids, "token_type_ids": np.zeros_like(ids), "attention_mask": mask}
    session = RecordingSession()
    start, end = runtime.onnx_logits(runtime.OnnxModel(session, None, 1), arrays)
    assert [f["input_ids"].shape for f in session.feeds] == [(1, 4), (1, 6)]
    assert all(set(f) == {"input_ids", "attention_mask", "token_type_ids"} for f in session.feeds)
    assert start.dtype == end.dtype == np.float32
    assert start[0].tolist() == [101, 7, 8, 102, 0, 0]  # padding scores 0
    assert end[1].tolist() == [-101, -9, -102, -5, -6, -102]


def test_windows_run_side_by_side_on_the_one_thread_session_a_lone_one_on_all_threads() -> None:
    whole, single = RecordingSession(), RecordingSession()
    model = runtime.OnnxModel(whole, single, 2)
    widths = [5, 3, 6, 2, 4]
    ids = np.zeros((5, 6), dtype=np.int64)
    for w, width in enumerate(widths):
        ids[w, :width] = np.arange(1, width + 1) * (w + 1)
    mask = (ids > 0).astype(np.int64)
    arrays = {"input_ids": ids, "token_type_ids": np.zeros_like(ids), "attention_mask": mask}
    start, _ = runtime.onnx_logits(model, arrays)
    assert whole.feeds == [] and len(single.feeds) == 5
    assert start.tolist() == ids.astype(np.float32).tolist()  # each window's own logits, in order
    runtime.onnx_logits(model, {k: v[:1] for k, v in arrays.items()})
    assert len(whole.feeds) == 1 and len(single.feeds) == 5


@pytest.mark.slow
def test_the_shipped_int8_reader_gives_the_same_bits_side_by_side_or_alone() -> None:
    from qa.read.reader import DEFAULT_MODEL_DIR

    reader = NeuralReader(DEFAULT_MODEL_DIR, backend="onnx", threads=2).load()
    windows = reader.encode_windows(
        ["When was the bridge built?"] * 3,
        [
            "The bridge was built in 1932 and widened in 1960.",
            "Nothing here mentions a bridge at all, only a river and a mill. " * 4,
            "Construction of the new bridge began in 2001.",
        ],
    )
    side_by_side = runtime.onnx_logits(reader._model, windows.arrays)
    one = [{k: v[w : w + 1] for k, v in windows.arrays.items()} for w in range(3)]
    alone = [runtime.onnx_logits(reader._model, arrays) for arrays in one]
    for w in range(3):
        assert np.array_equal(side_by_side[0][w : w + 1], alone[w][0])
        assert np.array_equal(side_by_side[1][w : w + 1], alone[w][1])
