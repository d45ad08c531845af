"""Exporting a trained reader into a folder that held one."""

from __future__ import annotations

import json
from pathlib import Path

from qa.train.loop import train_reader
from tests.train.tiny import TINY_RUN, tiny_config, tiny_squad


def test_exporting_new_weights_drops_the_old_weights_tuning(tmp_path: Path) -> None:
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    dest = tmp_path / "reader"
    dest.mkdir()
    (dest / "qa_reader.json").write_text(
        json.dumps({"max_length": 256, "stride": 96, "null_threshold": 3.0, "keep": 1})
    )
    train_reader(
        tiny_config([data], tmp_path / "run", export_dir=dest, **{**TINY_RUN, "max_steps": 1})
    )
    meta = json.loads((dest / "qa_reader.json").read_text())
    assert "null_threshold" not in meta and meta["keep"] == 1
    assert (meta["max_length"], meta["stride"]) == (TINY_RUN["max_length"], TINY_RUN["stride"])
