"""Training settings that cannot work are refused before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.train.loop import train_reader
from tests.train.tiny import TINY_RUN, tiny_config, tiny_squad


def test_train_reader_refuses_file_outputs_and_non_model_inits(tmp_path: Path) -> None:
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    kw = {**TINY_RUN, "max_steps": 1}
    with pytest.raises(ValueError, match=r"--out .* is a file"):
        train_reader(tiny_config([data], afile, **kw))
    with pytest.raises(ValueError, match=r"--export .* is a file"):
        train_reader(tiny_config([data], tmp_path / "run", export_dir=afile, **kw))
    with pytest.raises(ValueError, match=r"--init .* is not a model folder"):
        train_reader(tiny_config([data], tmp_path / "run", init=str(tmp_path), **kw))
    assert afile.read_text() == "keep me"
