"""A model of another family (MPNet-style ids and pair template) reads the reader's windows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from qa.read.bridge import MODEL_TOKENIZER, Bridge
from qa.read.reader import NeuralReader
from qa.train.config import default_init
from qa.train.loop import train_reader
from tests.train.tiny import TINY_RUN, tiny_config, tiny_squad


def mpnet_style_tokenizer(reader_tok):
    """The reader's word-pieces with every id shifted by 4, MPNet's specials and template."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    vocab.update({p: i + 4 for p, i in reader_tok.get_vocab().items()})
    vocab["<mask>"] = len(vocab)
    tk = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tk.normalizer = normalizers.BertNormalizer(lowercase=True)
    tk.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tk.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    return PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<s>", eos_token="</s>", cls_token="<s>",
        sep_token="</s>", pad_token="<pad>", unk_token="[UNK]", mask_token="<mask>",
        model_input_names=["input_ids", "attention_mask"], model_max_length=512,
    )  # fmt: skip


def tiny_mpnet(folder: Path, model_tok, layers: int) -> Path:
    """A small random MPNet encoder (in its masked-LM form, as base models ship)."""
    from transformers import MPNetConfig, MPNetForMaskedLM

    cfg = MPNetConfig(
        vocab_size=len(model_tok), hidden_size=32, num_hidden_layers=layers,
        num_attention_heads=2, intermediate_size=64, pad_token_id=1, bos_token_id=0,
        eos_token_id=2,
    )  # fmt: skip
    torch.manual_seed(0)
    MPNetForMaskedLM(cfg).save_pretrained(folder)
    model_tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def reader_tok():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(default_init())


def test_bridge_feeds_the_model_its_own_encoding_and_maps_logits_back(reader_tok) -> None:
    model_tok = mpnet_style_tokenizer(reader_tok)
    bridge = Bridge(reader_tok, model_tok)
    assert bridge.extra == 1 and not bridge.types
    q = ["Who founded ETH Zürich?", "When?"]
    c = ["It was founded by the Swiss council in 1855.", "In 1990 it rained."]
    batch = dict(reader_tok(q, c, padding=True, return_tensors="pt"))
    inputs, pos = bridge.inputs(batch)
    want = model_tok(q, c, padding=True, return_tensors="pt")
    assert torch.equal(inputs["input_ids"], want["input_ids"])
    assert torch.equal(inputs["attention_mask"], want["attention_mask"])
    # A logit that is its model position comes back at the reader's position: the
    # model's extra separator (right after the first) is skipped.
    width = inputs["input_ids"].shape[1]
    back = Bridge.back(torch.arange(width).expand(2, width), pos)
    ids = batch["input_ids"]
    for row in range(2):
        sep = ids[row].tolist().index(reader_tok.sep_token_id)
        assert back[row, : sep + 1].tolist() == list(range(sep + 1))
        assert back[row, sep + 1 :].tolist() == list(range(sep + 2, width))


def test_bridge_refuses_a_tokenizer_that_splits_text_otherwise(reader_tok) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "[PAD]": 1, "[CLS]": 2, "[SEP]": 3, "who": 4}
    tk = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    other = PreTrainedTokenizerFast(
        tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]",
    )  # fmt: skip
    with pytest.raises(ValueError, match="other word-pieces"):
        Bridge(reader_tok, other)


def test_bridged_model_trains_on_the_reader_windows_and_teaches(
    tmp_path: Path,
    reader_tok,
) -> None:
    model_tok = mpnet_style_tokenizer(reader_tok)
    big = tiny_mpnet(tmp_path / "big", model_tok, layers=2)
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    kw = {**TINY_RUN, "max_steps": 40, "lr": 2e-3}
    teacher = train_reader(
        tiny_config([data], tmp_path / "t", init=str(big), windows_from=default_init(), **kw)
    )
    assert (teacher / MODEL_TOKENIZER / "tokenizer.json").is_file()
    info = json.loads((teacher / "qa_reader.json").read_text())["training"]
    assert info["windows_from"] == default_init()
    assert info["loss_last"] < 0.7 * info["loss_first"]
    # The folder reads like any reader (windows from its top-level tokenizer, the model
    # through the bridge, torch only): its logits are the model's on its own encoding,
    # less the position of the model's extra separator.
    r = NeuralReader(teacher, backend="onnx")
    assert r.backend == "torch"
    q, c = "What color is the kite?", "The kite is painted red."
    enc = r.load().encode_windows([q], [c])
    start, _ = r.forward(enc.arrays)
    native = model_tok(q, c, return_tensors="pt")
    with torch.inference_mode():
        want = r._model(**native).start_logits[0].numpy()
    sep = native["input_ids"][0].tolist().index(model_tok.sep_token_id)
    assert start.shape[1] == len(want) - 1
    assert abs(start[0] - [*want[: sep + 1], *want[sep + 2 :]]).max() < 1e-4
    # And it teaches a student of the reader's own family.
    student = train_reader(
        tiny_config([data], tmp_path / "s", teachers=[teacher], alpha=0.5, **{**kw, "max_steps": 2})
    )
    dist = json.loads((student / "qa_reader.json").read_text())["training"]["distillation"]
    assert dist["teachers"][0]["path"] == str(teacher)
    assert not (student / MODEL_TOKENIZER).exists()
    # Continuing the bridged reader keeps the bridge (also when --windows-from is given).
    again = train_reader(
        tiny_config(
            [data],
            tmp_path / "t2",
            init=str(teacher),
            windows_from=str(teacher),
            **{**kw, "max_steps": 1},
        )
    )
    assert (again / MODEL_TOKENIZER / "tokenizer.json").is_file()
    # Windows the model cannot read with its extra separator are refused up front.
    with pytest.raises(ValueError, match="use at most 511"):
        train_reader(
            tiny_config(
                [data],
                tmp_path / "t3",
                init=str(big),
                windows_from=default_init(),
                **{**kw, "max_length": 512, "max_steps": 1},
            )
        )


def test_unusable_init_and_windows_folders_are_clear_errors(tmp_path: Path, reader_tok) -> None:
    from typer.testing import CliRunner

    from qa.train.cli import app

    big = tmp_path / "big"
    mpnet_style_tokenizer(reader_tok).save_pretrained(big)
    (big / "config.json").write_text(json.dumps({"model_type": "mpnet"}))
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    args = ["train-reader", str(data), "--out", str(tmp_path / "run"), "--max-steps", "1"]
    res = CliRunner().invoke(app, [*args, "--windows-from", str(tmp_path / "nothing")])
    assert res.exit_code == 2 and "not a reader folder" in res.output, res.output
    res = CliRunner().invoke(app, [*args, "--init", str(big)], env={"COLUMNS": "300"})
    assert res.exit_code == 2 and "add --windows-from" in res.output, res.output


def test_student_learns_a_bridged_teachers_layers(tmp_path: Path, reader_tok) -> None:
    """--distill-layers: the student's attention maps and hidden states move towards a
    12-layer MPNet-style teacher's (read through the bridge), the layer loss is recorded,
    and the export is an ordinary reader (its attention dropout as before)."""
    big = tiny_mpnet(tmp_path / "big", mpnet_style_tokenizer(reader_tok), layers=12)
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    kw = {**TINY_RUN, "lr": 2e-3}
    teacher = train_reader(
        tiny_config(
            [data],
            tmp_path / "t",
            init=str(big),
            windows_from=default_init(),
            **{**kw, "max_steps": 4},
        )
    )
    student = train_reader(
        tiny_config(
            [data],
            tmp_path / "s",
            teachers=[teacher],
            alpha=0.5,
            layer_weight=1.0,
            **{**kw, "max_steps": 30, "lr": 5e-4},
        )
    )
    info = json.loads((student / "qa_reader.json").read_text())["training"]
    layers = info["distillation"]["layers"]
    assert layers["pairs"] == [[1, 2], [2, 4], [3, 6], [4, 8], [5, 10], [6, 12]]
    assert layers["teacher"] == str(teacher)
    assert layers["hidden_last"] < 0.8 * layers["hidden_first"]
    assert layers["attention_last"] < layers["attention_first"]
    config = json.loads((student / "config.json").read_text())
    assert config["attention_probs_dropout_prob"] == 0.1
    assert NeuralReader(student).load().read("What color is the kite?", []) is None
    # A layer teacher with fewer layers than the student, or none at all, is refused.
    shallow = tiny_mpnet(tmp_path / "b2", mpnet_style_tokenizer(reader_tok), layers=2)
    small = train_reader(
        tiny_config(
            [data],
            tmp_path / "t2",
            init=str(shallow),
            windows_from=default_init(),
            **{**kw, "max_steps": 1},
        )
    )
    with pytest.raises(ValueError, match="fewer than the student"):
        train_reader(
            tiny_config(
                [data],
                tmp_path / "s2",
                teachers=[small],
                layer_weight=1.0,
                **{**kw, "max_steps": 1},
            )
        )
    with pytest.raises(ValueError, match="needs a --teacher"):
        train_reader(tiny_config([data], tmp_path / "s3", layer_weight=1.0, **kw))


def test_layer_losses_are_zero_for_identical_maps_and_one_for_zeros() -> None:
    from qa.train.layer_distill import attention_kl, hidden_mse

    torch.manual_seed(0)
    att = torch.softmax(torch.randn(2, 3, 5, 5), dim=-1)
    mask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]])
    assert attention_kl(att, att, mask).item() < 1e-5
    other = torch.softmax(torch.randn(2, 3, 5, 5), dim=-1)
    assert attention_kl(att, other, mask).item() > 0.01
    hid = torch.randn(2, 5, 4)
    assert hidden_mse(hid, hid, mask).item() == 0
    assert abs(hidden_mse(hid, torch.zeros_like(hid), mask).item() - 1.0) < 1e-5


def test_layer_guide_takes_a_bridged_teachers_maps_back_to_the_reader_positions(
    reader_tok,
) -> None:
    """With a stub teacher whose hidden state at position p is p and whose attention from
    p to q is q + 1 (renormalised), the maps come back at the reader's positions: the
    model's extra separator, right after the first, is left out."""
    from types import SimpleNamespace

    from qa.train.layer_distill import LayerGuide

    bridge = Bridge(reader_tok, mpnet_style_tokenizer(reader_tok))
    batch = dict(reader_tok(["Who?", "When did it rain?"], ["Bob did.", "In 1990."],
                            padding=True, return_tensors="pt"))  # fmt: skip

    def teacher(input_ids, attention_mask, output_attentions, output_hidden_states):
        n, w = input_ids.shape
        p = torch.arange(w, dtype=torch.float32)
        hidden = p[None, :, None].expand(n, w, 3)
        att = (p + 1)[None, None, None, :].expand(n, 2, w, w)
        att = att / att.sum(-1, keepdim=True)
        return SimpleNamespace(attentions=(att, att), hidden_states=(hidden, hidden, hidden))

    guide = LayerGuide.__new__(LayerGuide)
    guide.bridge, guide.teacher, guide.pairs = bridge, teacher, [(0, 1)]
    ((ta, th),) = guide.teacher_layers(batch)
    ids = batch["input_ids"]
    for row in range(2):
        sep = ids[row].tolist().index(reader_tok.sep_token_id)
        want = [*range(sep + 1), *range(sep + 2, ids.shape[1] + 1)]  # model positions
        assert th[row, :, 0].tolist() == want
        expect = torch.tensor(want, dtype=torch.float32) + 1
        got = ta[row, 0, 3]  # one query's row: the kept keys, renormalised in attention_kl
        assert torch.allclose(got / got.sum(), expect / expect.sum())


def test_a_student_and_teacher_of_the_same_weights_have_no_attention_loss() -> None:
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from qa.train.layer_distill import LayerGuide

    tok = AutoTokenizer.from_pretrained(default_init())
    student = AutoModelForQuestionAnswering.from_pretrained(
        default_init(), attn_implementation="eager"
    ).eval()
    guide = LayerGuide(default_init(), tok, student, "cpu")
    assert guide.pairs == [(i, i) for i in range(6)]
    batch = dict(tok(["Who?"], ["Bob did it in 1990."], return_tensors="pt"))
    with torch.no_grad():
        out = student(**batch, output_attentions=True, output_hidden_states=True)
        att, hid = guide.losses(out, batch)
    assert att.item() < 1e-5 and hid.item() > 0  # the hidden map is still to be learned


def test_layer_distillation_resumes_with_its_map_and_refuses_other_settings(
    tmp_path: Path, reader_tok
) -> None:
    data = tmp_path / "tiny.json"
    tiny_squad(data)
    kw = {**TINY_RUN, "epochs": 2}
    teacher = train_reader(tiny_config([data], tmp_path / "t", **{**kw, "max_steps": 1}))
    run = tmp_path / "run"
    layered = {"teachers": [teacher], "layer_weight": 1.0}
    train_reader(tiny_config([data], run, max_steps=2, **layered, **kw))
    ck = run / "checkpoints" / "step-2" / "state.pt"
    state = torch.load(ck, weights_only=False)
    assert state["layer_guide"] and state["keep_layers"] is None
    for k in state["proj"]:  # a map no fresh start would make: resuming must load it
        state["proj"][k] = torch.full_like(state["proj"][k], 0.5)
    torch.save(state, ck)
    with pytest.raises(ValueError, match="other --distill-layers settings"):
        train_reader(tiny_config([data], run, resume=True, teachers=[teacher], **kw))
    with pytest.raises(ValueError, match="other --layers settings"):
        train_reader(tiny_config([data], run, resume=True, layers=4, **layered, **kw))
    train_reader(tiny_config([data], run, resume=True, **layered, **{**kw, "lr": 1e-9}))
    last = max(run.glob("checkpoints/step-*"), key=lambda p: int(p.name.split("-")[1]))
    assert last.name != "step-2"
    proj = torch.load(last / "state.pt", weights_only=False)["proj"]
    assert all(torch.allclose(v, torch.full_like(v, 0.5), atol=1e-4) for v in proj.values())
