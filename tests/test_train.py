"""End to end: a few training steps on a tiny dataset, export, resume, read with the result."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from qa.core.types import Document, Hit, Passage
from qa.read.neural import NeuralReader
from qa.train import loop as train

COLORS = ["red", "blue", "green", "yellow"]
# train_reader settings for a few-second run on the tiny dataset
TINY_RUN: dict = dict(
    epochs=20,
    lr=5e-4,
    max_length=64,
    stride=16,
    batch_size=8,
    seed=0,
    checkpoint_every_s=1e9,
    log_every=1000,
    threads=1,
)
THINGS = ["kite", "boat", "house", "car", "lamp", "chair", "door", "cup"]


def tiny_squad(path: Path) -> None:
    paragraphs = []
    for i, thing in enumerate(THINGS):
        color = COLORS[i % len(COLORS)]
        ctx = f"Our {thing} was bought last year. The {thing} is painted {color} all over."
        paragraphs.append(
            {
                "context": ctx,
                "qas": [
                    {
                        "id": f"{thing}-c",
                        "question": f"What color is the {thing}?",
                        "answers": [{"text": color, "answer_start": ctx.index(color)}],
                    },
                    {
                        "id": f"{thing}-n",
                        "question": f"Who sold the {thing}?",
                        "answers": [],
                        "is_impossible": True,
                    },
                ],
            }
        )
    path.write_text(
        json.dumps({"version": "v2.0", "data": [{"title": "Tiny", "paragraphs": paragraphs}]})
    )


def test_features_label_spans_and_cls() -> None:
    from transformers import AutoTokenizer

    from qa.train.squad import Example

    tok = AutoTokenizer.from_pretrained(train.default_init())
    ctx = "word " * 60 + "The answer is Lisbon today."
    ex = Example("a", "t", ctx, "Where?", (("Lisbon", ctx.index("Lisbon")),))
    feats = train.make_features([ex], tok, max_length=32, stride=8)
    assert len(feats) > 2
    labelled = [f for f in feats if f.start]
    assert labelled, "the window holding the answer is labelled"
    for f in labelled:
        assert tok.decode(f.input_ids[f.start : f.end + 1]) == "lisbon"
        assert f.token_type_ids[f.start] == 1
    assert any(f.start == f.end == 0 for f in feats)  # windows without it point at CLS
    none = train.make_features(
        [Example("b", "t", "Short text.", "Q?", ())], tok, max_length=32, stride=8
    )
    assert [(f.start, f.end) for f in none] == [(0, 0)]


def test_training_windows_are_the_windows_the_reader_reads() -> None:
    from transformers import AutoTokenizer

    from qa.read.neural import encode_windows, fast_tokenizer
    from qa.train.squad import Example

    tok = AutoTokenizer.from_pretrained(train.default_init())
    ctx = "Zanzibar's spice trade, " * 30 + "ended in 1964."
    ex = Example("a", "t", ctx, "  When did it end?", (("1964", ctx.index("1964")),))
    feats = train.make_features([ex], tok, max_length=48, stride=16)
    fast = fast_tokenizer(Path(train.default_init()) / "tokenizer.json")
    enc = encode_windows(fast, ["When did it end?"], [ctx], 48, 16)
    mask = enc.arrays["attention_mask"].astype(bool)
    assert [f.input_ids for f in feats] == [
        row[m].tolist() for row, m in zip(enc.arrays["input_ids"], mask, strict=True)
    ]
    assert [f.token_type_ids for f in feats] == [
        row[m].tolist() for row, m in zip(enc.arrays["token_type_ids"], mask, strict=True)
    ]
    labelled = [f for f in feats if f.start]
    assert len(feats) > 4 and labelled
    for f in labelled:
        assert tok.decode(f.input_ids[f.start : f.end + 1]) == "1964"
    # the same windows as a transformers fast tokenizer gives with these settings
    enc = tok(
        "When did it end?",
        ctx,
        truncation="only_second",
        max_length=48,
        stride=16,
        return_overflowing_tokens=True,
    )
    assert [f.input_ids for f in feats] == enc["input_ids"]
    assert [f.token_type_ids for f in feats] == enc["token_type_ids"]


def test_bucket_batches_cover_every_feature_once() -> None:
    lengths = [(i * 37) % 101 for i in range(250)]
    batches = train.bucket_batches(lengths, 16, seed=3, bucket=4)
    flat = sorted(j for b in batches for j in b)
    assert flat == list(range(250))
    assert batches == train.bucket_batches(lengths, 16, seed=3, bucket=4)
    assert batches != train.bucket_batches(lengths, 16, seed=4, bucket=4)


@pytest.mark.slow
def test_train_export_resume_and_read(tmp_path: Path, tmp_cache: Path) -> None:
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    run = tmp_path / "run"
    kw = TINY_RUN
    # a first session stops early; the second resumes and finishes the schedule
    train.train_reader([data], run, max_steps=4, export_dir=tmp_path / "early", **kw)
    assert (run / "checkpoints" / "step-4" / "state.pt").exists()
    out = train.train_reader([data], run, max_steps=40, resume=True, **kw)

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
    together = onnx.best_many(items, batch_size=4)
    for (q, hs), found in zip(items, together, strict=True):
        alone = onnx.best(q, hs)
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


def test_distill_loss_zero_at_the_teacher_and_blind_to_padding() -> None:
    g = torch.Generator().manual_seed(0)
    start, end = torch.randn(3, 10, generator=g), torch.randn(3, 10, generator=g)
    mask = torch.ones(3, 10, dtype=torch.long)
    mask[1, 6:] = 0
    rows = [
        torch.stack([start[i, : int(mask[i].sum())], end[i, : int(mask[i].sum())]])
        for i in range(3)
    ]
    soft = train.pad_soft(rows, 10)
    assert soft.shape == (3, 2, 10) and soft[1, 0, 7] < -1e3
    same = train.distill_loss(start, end, soft, mask, 2.0)
    assert float(same) == pytest.approx(0.0, abs=1e-5)
    noisy = start.clone()
    noisy[1, 7:] += 50.0  # padding positions: not part of any distribution
    assert float(train.distill_loss(noisy, end, soft, mask, 2.0)) == pytest.approx(0.0, abs=1e-5)
    off = start.clone()
    off[0, 2] += 3.0
    assert float(train.distill_loss(off, end, soft, mask, 2.0)) > 0.01


@pytest.mark.slow
def test_distilled_student_learns_and_names_its_teacher(tmp_path: Path) -> None:
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    kw = {**TINY_RUN, "max_steps": 30}
    teacher = train.train_reader([data], tmp_path / "t", command="qa train-reader T", **kw)
    student = train.train_reader(
        [data], tmp_path / "s", teachers=[teacher], distill_alpha=0.5, **kw
    )
    info = json.loads((student / "qa_reader.json").read_text())["training"]
    dist = info["distillation"]
    assert dist["alpha"] == 0.5 and dist["teachers"][0]["path"] == str(teacher)
    assert info["loss_last"] < 0.5 * info["loss_first"]
    card = (student / "README.md").read_text()
    assert "Distilled from 1 teacher" in card and "qa train-reader T" in card
    meta = json.loads((student / "qa_reader.json").read_text())
    meta["recipe"] = "Trained by a recipe script."
    (student / "qa_reader.json").write_text(json.dumps(meta))
    card = train.write_model_card(student).read_text()
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


def test_exporting_new_weights_drops_the_old_weights_tuning(tmp_path: Path) -> None:
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    dest = tmp_path / "reader"
    dest.mkdir()
    (dest / "qa_reader.json").write_text(
        json.dumps({"max_length": 256, "stride": 96, "null_threshold": 3.0, "keep": 1})
    )
    train.train_reader([data], tmp_path / "run", export_dir=dest, **{**TINY_RUN, "max_steps": 1})
    meta = json.loads((dest / "qa_reader.json").read_text())
    assert "null_threshold" not in meta and meta["keep"] == 1
    assert (meta["max_length"], meta["stride"]) == (TINY_RUN["max_length"], TINY_RUN["stride"])


def test_train_reader_refuses_file_outputs_and_non_model_inits(tmp_path: Path) -> None:
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    kw = {**TINY_RUN, "max_steps": 1}
    with pytest.raises(ValueError, match=r"--out .* is a file"):
        train.train_reader([data], afile, **kw)
    with pytest.raises(ValueError, match=r"--export .* is a file"):
        train.train_reader([data], tmp_path / "run", export_dir=afile, **kw)
    with pytest.raises(ValueError, match=r"--init .* is not a model folder"):
        train.train_reader([data], tmp_path / "run", init=str(tmp_path), **kw)
    assert afile.read_text() == "keep me"


def test_augmented_training_adds_shortened_passages(tmp_path: Path) -> None:
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    kw = {**TINY_RUN, "max_steps": 1}
    plain = train.train_reader([data], tmp_path / "a", **kw)
    more = train.train_reader([data], tmp_path / "b", augment_copies=2, **kw)
    p = json.loads((plain / "qa_reader.json").read_text())["training"]
    m = json.loads((more / "qa_reader.json").read_text())["training"]
    assert "augmented" not in p
    assert m["augmented"]["copies"] == 2 and m["augmented"]["examples"] > 0
    assert m["features"] == p["features"] + m["augmented"]["examples"]  # one window each


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


def test_a_reader_can_keep_fewer_layers_than_its_init(tmp_path: Path) -> None:
    from safetensors import safe_open

    data = tmp_path / "tiny.json"
    tiny_squad(data)
    out = train.train_reader(
        [data], tmp_path / "run", keep_layers=4, **{**TINY_RUN, "max_steps": 2}
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
    init = Path(train.default_init())
    have = json.loads((init / "config.json").read_text())["num_hidden_layers"]
    out = train.train_reader(
        [data], tmp_path / "run", keep_layers=have + 2, **{**TINY_RUN, "max_steps": 1, "lr": 1e-9}
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


def test_gold_only_windows_train_on_gold_alone_while_others_are_distilled() -> None:
    g = torch.Generator().manual_seed(1)
    start, end = torch.randn(2, 8, generator=g), torch.randn(2, 8, generator=g)
    mask = torch.ones(2, 8, dtype=torch.long)
    batch = {
        "attention_mask": mask,
        "start_positions": torch.tensor([2, 3]),
        "end_positions": torch.tensor([4, 3]),
    }
    teacher = torch.stack([start[0] + 1.0 * torch.arange(8), end[0]])  # unlike the student
    ce = train.span_loss(start, end, batch, per_example=True)
    kd = train.distill_loss(start, end, train.pad_soft([teacher, teacher], 8), mask, 2.0, True)
    assert ce.shape == kd.shape == (2,) and float(kd[0]) > 0.01
    # the batch forms agree with the per-window ones
    assert float(train.span_loss(start, end, batch)) == pytest.approx(float(ce.mean()))
    both = train.distill_loss(start, end, train.pad_soft([teacher, teacher], 8), mask, 2.0)
    assert float(both) == pytest.approx(float(kd.mean()))
    # window 0 has a teacher row, window 1 is gold-only
    mixed = train.mixed_loss(start, end, batch, [teacher, None], 0.75, 2.0)
    assert float(mixed) == pytest.approx(float((0.25 * ce[0] + 0.75 * kd[0] + ce[1]) / 2))
    assert float(train.mixed_loss(start, end, batch, [teacher, teacher], 0.0, 2.0)) == (
        pytest.approx(float(ce.mean()))
    )


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
    teacher = train.train_reader([data], tmp_path / "t", **{**TINY_RUN, "max_steps": 1})
    read: list[int] = []
    real = train.teacher_logits

    def spy(teachers, feats, *a, **kw):  # type: ignore[no-untyped-def]
        read.append(len(feats))
        return real(teachers, feats, *a, **kw)

    monkeypatch.setattr(train, "teacher_logits", spy)
    kw = {**TINY_RUN, "max_steps": 2}
    out = train.train_reader(
        [data], tmp_path / "s", teachers=[teacher], distill_alpha=1.0, gold_files=[gold], **kw
    )
    info = json.loads((out / "qa_reader.json").read_text())["training"]
    assert info["gold_files"] == [str(gold)]
    assert info["examples"] == 2 * len(THINGS) + 1
    assert read == [info["features"] - 1]  # every window but the gold file's one
    # the same data without --gold: the teachers read every window
    train.train_reader([data, gold], tmp_path / "s2", teachers=[teacher], distill_alpha=1.0, **kw)
    assert read[-1] == info["features"]
    # a run cannot be resumed with other gold files (its batches would be other windows)
    with pytest.raises(ValueError, match="other --gold settings"):
        train.train_reader([data], tmp_path / "s", teachers=[teacher], resume=True, **kw)
    # nor combined with layer distillation, which would teach gold windows the teacher's layers
    with pytest.raises(ValueError, match="--gold with --distill-layers"):
        train.train_reader(
            [data], tmp_path / "s3", teachers=[teacher], gold_files=[gold], distill_layers=0.1, **kw
        )


def test_the_card_names_a_self_teacher_once_and_lists_earlier_stages_teachers(
    tmp_path: Path,
) -> None:
    stage5 = {
        "command": "qa train-reader S5",
        "distillation": {
            "alpha": 0.9,
            "teachers": [{"training": {"command": "qa train-reader T"}}],
        },
    }
    stage6 = {
        "command": "qa train-reader S6",
        "distillation": {
            "alpha": 1.0,
            "temperature": 2.0,
            "teachers": [{"path": "R", "training": {"command": "qa train-reader S5"}}],
        },
        "gold_files": ["g.json", "g.json"],
        "previous_stage": stage5,
    }
    (tmp_path / "qa_reader.json").write_text(json.dumps({"training": stage6}))
    card = train.write_model_card(tmp_path).read_text()
    assert "Distilled from the reader this stage started from" in card
    assert card.count("qa train-reader S5") == 1  # as the stage before, not again as teacher
    assert "It was distilled (α 0.9) from teachers trained by:" in card
    assert "qa train-reader T" in card and "g.json, g.json" in card
    assert "time budget" not in card
