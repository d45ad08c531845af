"""The reader commands as plain Typer functions (``qa train-reader``, ``qa eval``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.read.reader import DEFAULT_MODEL_DIR
from qa.train.cli import app
from qa.train.squad import DATA_DIR, V1_DEV
from tests.train.tiny import tiny_squad


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


def test_train_reader_refuses_a_teacher_with_another_vocabulary(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    from typer.testing import CliRunner

    from qa.train.cli import app

    vocab = {"[UNK]": 0, "[PAD]": 1, "[CLS]": 2, "[SEP]": 3, "kite": 4}
    tk = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    teacher = tmp_path / "teacher"
    PreTrainedTokenizerFast(
        tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]",
    ).save_pretrained(teacher)  # fmt: skip
    (teacher / "config.json").write_text("{}")
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    args = ["train-reader", str(data), "--out", str(tmp_path / "run"), "--max-steps", "1"]
    res = CliRunner().invoke(app, [*args, "--teacher", str(teacher), "--threads", "1"])
    assert res.exit_code == 2, res.output
    assert "another vocabulary" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(
        app, [*args, "--teacher", str(tmp_path / "nothing")], env={"COLUMNS": "300"}
    )
    assert res.exit_code != 0 and "not a reader folder" in res.output


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--batch-size", "-2"], "--batch-size must be at least 1"),
        (["--epochs", "0"], "--epochs must be above 0"),
        (["--lr", "-1"], "--lr must be above 0"),
        (["--max-length", "10"], "--max-length must be 32 to 4096"),
        (["--max-length", "64", "--stride", "64"], "--stride must be 0 to half"),
        (["--fraction", "tiny.json=0"], "SHARE above 0, at most 1"),
        (["--fraction", "tiny.json"], "SHARE above 0, at most 1"),
        (["--fraction", "other.json=0.5"], "NAME one of the training files (tiny.json)"),
        (["--distill-layers", "-1"], "--distill-layers must be 0 or more"),
        (["--distill-layers", "1"], "--distill-layers needs a --teacher"),
        (["--augment", "11"], "--augment must be between 0 and 10"),
        (["--layers", "13"], "--layers must be 1 to 12"),
        (["--layers", "0"], "--layers must be 1 to 12"),
    ],
)
def test_unworkable_training_settings_are_refused(tmp_path: Path, flags, needle) -> None:
    from typer.testing import CliRunner

    from qa.train.cli import app

    data = tmp_path / "tiny.json"
    tiny_squad(data)
    args = ["train-reader", str(data), "--out", str(tmp_path / "run"), "--max-steps", "1"]
    res = CliRunner().invoke(app, [*args, *flags], env={"COLUMNS": "300"})
    assert res.exit_code == 2 and needle in res.output, res.output
    assert "Traceback" not in res.output


def test_the_module_entry_point_runs_the_commands(tmp_path: Path) -> None:
    """`python -m qa.train.cli train-reader …` (how the GPU script runs training) reaches
    every helper the command uses (a NameError here once stopped every GPU run)."""
    import subprocess
    import sys

    data = tmp_path / "tiny.json"
    tiny_squad(data)
    res = subprocess.run(
        [sys.executable, "-m", "qa.train.cli", "train-reader", str(data), "--out",
         str(tmp_path / "run"), "--fraction", "tiny.json=0"],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "SHARE above 0, at most 1" in res.stderr and "NameError" not in res.stderr
