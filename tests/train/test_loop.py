"""End to end: a few training steps on a tiny dataset, export, resume, read with the result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from qa.core.types import Document, Hit, Passage
from qa.read.reader import NeuralReader
from qa.train import distill
from qa.train.card import write_model_card
from qa.train.loop import train_reader
from tests.train.tiny import COLORS, THINGS, TINY_RUN, tiny_config, tiny_squad


@pytest.mark.slow
def test_train_export_resume_and_read(tmp_path: Path, tmp_cache: Path) -> None:
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    run = tmp_path / "run"
    kw = TINY_RUN
    # a first session stops early; the second resumes and finishes the schedule
    train_reader(tiny_config([data], run, max_steps=4, export_dir=tmp_path / "early", **kw))
    assert (run / "checkpoints" / "step-4" / "state.pt").exists()
    out = train_reader(tiny_config([data], run, max_steps=40, resume=True, **kw))

    meta = json.loads((out / "qa_reader.json").read_text())
    info = meta["training"]
    assert info["steps"] == 40
    assert info["loss_last"] < 0.5 * info["loss_first"]
    size = sum(p.stat().st_size for p in out.iterdir())
    assert size < 50_000_000
    assert (out / "model.safetensors").exists() and (out / "config.json").exists()
    card = (out / "README.md").read_text()
    assert "## Training" in card and "tiny.json" in card
    assert "40 steps of batch 8" in card
    from safetensors import safe_open

    with safe_open(str(out / "model.safetensors"), "pt") as f:
        names = [k for k in f.keys() if "position_ids" not in k]  # noqa: SIM118
        assert names and all(f.get_tensor(k).dtype == torch.float16 for k in names)

    ctx = "Our kite was bought last year. The kite is painted red all over."
    doc = Document.from_text("Intro.\n\n" + ctx, source="t", title="Tiny")
    hit = Hit(passage=Passage.make(doc, 8, len(doc.text)), score=1.0)
    for backend in ("torch", "onnx"):
        reader = NeuralReader(out, backend=backend)
        ans = reader.read("What color is the kite?", [hit])
        assert ans is not None, backend
        assert ans.text == "red"
        assert doc.text[ans.start : ans.end] == "red"
    # a window's scores do not depend on the other questions read in the same call
    onnx = NeuralReader(out, backend="onnx")
    docs = [
        Document.from_text(
            f"Our {t} was bought last year. The {t} is painted {c} all over.", "t", t
        )
        for t, c in zip(THINGS[:3], COLORS, strict=False)
    ]
    hits = [Hit(passage=Passage.make(d, 0, len(d.text)), score=1.0) for d in docs]
    items = [(f"What color is the {t}?", hits) for t in THINGS[:4]]
    together = onnx.propose_many(items, batch_size=4)
    for (q, hs), found in zip(items, together, strict=True):
        alone = onnx.propose(q, hs)
        assert found is not None and alone is not None
        assert found[0].text == alone[0].text and found[0].passage_id == alone[0].passage_id
        assert found[1] == pytest.approx(alone[1], abs=1e-4)
    # the int8 model was built once into the cache, keyed by the weights, and is reused
    from qa.core import onnx as onnx_models

    built = onnx_models.int8_path(out)
    assert built.is_file() and built.parent.parent == tmp_cache / "reader"
    stamp = built.stat().st_mtime_ns
    NeuralReader(out, backend="onnx").load()
    assert built.stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_distilled_student_learns_and_names_its_teacher(tmp_path: Path) -> None:
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    kw = {**TINY_RUN, "max_steps": 30}
    teacher = train_reader(tiny_config([data], tmp_path / "t", command="qa train-reader T", **kw))
    student = train_reader(tiny_config([data], tmp_path / "s", teachers=[teacher], alpha=0.5, **kw))
    info = json.loads((student / "qa_reader.json").read_text())["training"]
    dist = info["distillation"]
    assert dist["alpha"] == 0.5 and dist["teachers"][0]["path"] == str(teacher)
    assert info["loss_last"] < 0.5 * info["loss_first"]
    card = (student / "README.md").read_text()
    assert "Distilled from 1 teacher" in card and "qa train-reader T" in card
    meta = json.loads((student / "qa_reader.json").read_text())
    meta["recipe"] = "Trained by a recipe script."
    (student / "qa_reader.json").write_text(json.dumps(meta))
    card = write_model_card(student).read_text()
    assert card.index("Trained by a recipe script.") < card.index("Distilled from")
    ans = NeuralReader(student, backend="torch").read(
        "What color is the boat?",
        [
            Hit(
                passage=Passage.make(
                    d := Document.from_text(
                        "Our boat was bought last year. The boat is painted blue all over.",
                        "t",
                        "T",
                    ),
                    0,
                    len(d.text),
                ),
                score=1.0,
            )
        ],
    )
    assert ans is not None and ans.text == "blue"


def test_augmented_training_adds_shortened_passages(tmp_path: Path) -> None:
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    kw = {**TINY_RUN, "max_steps": 1}
    plain = train_reader(tiny_config([data], tmp_path / "a", **kw))
    more = train_reader(tiny_config([data], tmp_path / "b", augment_copies=2, **kw))
    p = json.loads((plain / "qa_reader.json").read_text())["training"]
    m = json.loads((more / "qa_reader.json").read_text())["training"]
    assert "augmented" not in p
    assert m["augmented"]["copies"] == 2 and m["augmented"]["examples"] > 0
    assert m["features"] == p["features"] + m["augmented"]["examples"]  # one window each


def test_gold_files_are_trained_on_but_not_read_by_the_teachers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, gold = tmp_path / "tiny.json", tmp_path / "gold.json"
    tiny_squad(data)
    ctx = "The kite maker, Ann Lee, lives by the sea."
    gold.write_text(
        json.dumps(
            {
                "data": [
                    {
                        "title": "Gold",
                        "paragraphs": [
                            {
                                "context": ctx,
                                "qas": [
                                    {
                                        "id": "g",
                                        "question": "Who is Ann Lee?",
                                        "answers": [{"text": "The kite maker", "answer_start": 0}],
                                    }
                                ],
                            }
                        ],
                    }
                ]
            }
        )
    )
    teacher = train_reader(tiny_config([data], tmp_path / "t", **{**TINY_RUN, "max_steps": 1}))
    read: list[int] = []
    real = distill.teacher_logits

    def spy(teachers, feats, *a, **kw):  # type: ignore[no-untyped-def]
        read.append(len(feats))
        return real(teachers, feats, *a, **kw)

    monkeypatch.setattr(distill, "teacher_logits", spy)
    kw = {**TINY_RUN, "max_steps": 2}
    out = train_reader(
        tiny_config([data], tmp_path / "s", teachers=[teacher], alpha=1.0, gold_files=[gold], **kw)
    )
    info = json.loads((out / "qa_reader.json").read_text())["training"]
    assert info["gold_files"] == [str(gold)]
    assert info["examples"] == 2 * len(THINGS) + 1
    assert read == [info["features"] - 1]  # every window but the gold file's one
    # the same data without --gold: the teachers read every window
    train_reader(tiny_config([data, gold], tmp_path / "s2", teachers=[teacher], alpha=1.0, **kw))
    assert read[-1] == info["features"]
    # a run cannot be resumed with other gold files (its batches would be other windows)
    with pytest.raises(ValueError, match="other --gold settings"):
        train_reader(tiny_config([data], tmp_path / "s", teachers=[teacher], resume=True, **kw))
    # nor combined with layer distillation, which would teach gold windows the teacher's layers
    with pytest.raises(ValueError, match="--gold with --distill-layers"):
        train_reader(
            tiny_config(
                [data],
                tmp_path / "s3",
                teachers=[teacher],
                gold_files=[gold],
                layer_weight=0.1,
                **kw,
            )
        )
