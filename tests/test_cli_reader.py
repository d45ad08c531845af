"""The reader commands as plain Typer functions (``qa train-reader``, ``qa eval``)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qa.read.neural import DEFAULT_MODEL_DIR
from qa.train.cli import app
from qa.train.squad import DATA_DIR, V1_DEV


def test_help_lists_the_options() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["train-reader", "--help"]).output
    for opt in (
        "--out",
        "--epochs",
        "--max-length",
        "--stride",
        "--batch-size",
        "--lr",
        "--max-steps",
        "--resume",
        "--seed",
    ):
        assert opt in out
    out = runner.invoke(app, ["eval", "--help"]).output
    for opt in ("--mode", "--limit", "--json", "--reader"):
        assert opt in out


@pytest.mark.slow
@pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "model.safetensors").exists() or not (DATA_DIR / V1_DEV).exists(),
    reason="no shipped reader or data",
)
def test_eval_json_last_line() -> None:
    res = CliRunner().invoke(app, ["eval", str(DATA_DIR / V1_DEV), "--limit", "8", "--json"])
    assert res.exit_code == 0, res.output
    last = json.loads(res.stdout.strip().splitlines()[-1])
    assert last["n"] == 8 and last["mode"] == "closed"
    assert 0.0 <= last["em"] <= last["f1"] <= 100.0


@pytest.mark.slow
@pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "model.safetensors").exists() or not (DATA_DIR / V1_DEV).exists(),
    reason="no shipped reader or data",
)
def test_eval_record_writes_the_model_card(tmp_path) -> None:
    import shutil

    reader = tmp_path / "reader"
    shutil.copytree(DEFAULT_MODEL_DIR, reader)
    args = ["eval", str(DATA_DIR / V1_DEV), "--limit", "6", "--json", "--reader", str(reader)]
    res = CliRunner().invoke(app, [*args, "--backend", "torch", "--record", "closed, 6 q"])
    assert res.exit_code == 0, res.output
    last = json.loads(res.stdout.strip().splitlines()[-1])
    assert last["backend"] == "torch"
    meta = json.loads((reader / "qa_reader.json").read_text())
    assert meta["evaluation"]["closed, 6 q"]["n"] == 6
    assert "closed, 6 q" in (reader / "README.md").read_text()
    bad = CliRunner().invoke(app, [*args, "--backend", "tpu"])
    assert bad.exit_code != 0 and "onnx or torch" in bad.output
