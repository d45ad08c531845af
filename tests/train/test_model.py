"""The student: fewer layers than its init, or more by repeating them."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from qa.core.types import Document, Hit, Passage
from qa.read.reader import NeuralReader
from qa.train.config import default_init
from qa.train.loop import train_reader
from tests.train.tiny import TINY_RUN, tiny_config, tiny_squad


def test_a_reader_can_keep_fewer_layers_than_its_init(tmp_path: Path) -> None:
    from safetensors import safe_open

    data = tmp_path / "tiny.json"
    tiny_squad(data)
    out = train_reader(
        tiny_config([data], tmp_path / "run", layers=4, **{**TINY_RUN, "max_steps": 2})
    )
    assert json.loads((out / "config.json").read_text())["num_hidden_layers"] == 4
    assert json.loads((out / "qa_reader.json").read_text())["training"]["layers_kept"] == 4
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        names = list(f.keys())
    assert any(".layer.3." in k for k in names) and not any(".layer.4." in k for k in names)
    doc = Document.from_text("The kite is painted red.", source="k.txt", title="k")
    hit = Hit(passage=Passage.make(doc, 0, len(doc.text)), score=1.0)
    for backend in ("torch", "onnx"):  # the 4-layer model runs in both runtimes
        reader = NeuralReader(out, backend=backend)
        reader.null_threshold = None
        ans = reader.load().read("What color is the kite?", [hit])
        assert ans is not None and ans.text in doc.text


def test_a_reader_can_grow_deeper_by_repeating_its_layers(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    data = tmp_path / "tiny.json"
    tiny_squad(data)
    init = Path(default_init())
    have = json.loads((init / "config.json").read_text())["num_hidden_layers"]
    out = train_reader(
        tiny_config(
            [data], tmp_path / "run", layers=have + 2, **{**TINY_RUN, "max_steps": 1, "lr": 1e-9}
        )
    )
    assert json.loads((out / "config.json").read_text())["num_hidden_layers"] == have + 2
    assert json.loads((out / "qa_reader.json").read_text())["training"]["layers_grown"] == have + 2
    grown = load_file(str(out / "model.safetensors"))
    name = "encoder.layer.{}.output.dense.weight"
    key = next(k for k in grown if k.endswith(name.format(1)))
    prefix = key[: -len(name.format(1))]
    # Layer 0 is repeated (6 -> 8: 0, 0, 1, 2, 3, 3, 4, 5), and copies of one layer start
    # equal (a step at lr 1e-9 moves them by under 1e-6).
    a, b = grown[prefix + name.format(0)], grown[prefix + name.format(1)]
    c = grown[prefix + name.format(2)]
    assert torch.allclose(a.float(), b.float(), atol=1e-3)
    assert not torch.allclose(a.float(), c.float(), atol=1e-3)
    card = (out / "README.md").read_text()
    assert f"MiniLM-L{have + 2}," in card and f"`--layers {have + 2}`" in card
    doc = Document.from_text("The kite is painted red.", source="k.txt", title="k")
    hit = Hit(passage=Passage.make(doc, 0, len(doc.text)), score=1.0)
    reader = NeuralReader(out, backend="onnx")
    reader.null_threshold = None
    ans = reader.load().read("What color is the kite?", [hit])
    assert ans is not None and ans.text in doc.text
