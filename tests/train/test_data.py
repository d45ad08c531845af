"""Training windows (labelled spans, the reader's own windows) and batches."""

from __future__ import annotations

from pathlib import Path

from qa.train.config import default_init
from qa.train.data import bucket_batches, make_features


def test_features_label_spans_and_cls() -> None:
    from transformers import AutoTokenizer

    from qa.train.squad import Example

    tok = AutoTokenizer.from_pretrained(default_init())
    ctx = "word " * 60 + "The answer is Lisbon today."
    ex = Example("a", "t", ctx, "Where?", (("Lisbon", ctx.index("Lisbon")),))
    feats = make_features([ex], tok, max_length=32, stride=8)
    assert len(feats) > 2
    labelled = [f for f in feats if f.start]
    assert labelled, "the window holding the answer is labelled"
    for f in labelled:
        assert tok.decode(f.input_ids[f.start : f.end + 1]) == "lisbon"
        assert f.token_type_ids[f.start] == 1
    assert any(f.start == f.end == 0 for f in feats)  # windows without it point at CLS
    none = make_features([Example("b", "t", "Short text.", "Q?", ())], tok, max_length=32, stride=8)
    assert [(f.start, f.end) for f in none] == [(0, 0)]


def test_training_windows_are_the_windows_the_reader_reads() -> None:
    from transformers import AutoTokenizer

    from qa.read.windows import encode_windows, fast_tokenizer
    from qa.train.squad import Example

    tok = AutoTokenizer.from_pretrained(default_init())
    ctx = "Zanzibar's spice trade, " * 30 + "ended in 1964."
    ex = Example("a", "t", ctx, "  When did it end?", (("1964", ctx.index("1964")),))
    feats = make_features([ex], tok, max_length=48, stride=16)
    fast = fast_tokenizer(Path(default_init()) / "tokenizer.json")
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
    batches = bucket_batches(lengths, 16, seed=3, bucket=4)
    flat = sorted(j for b in batches for j in b)
    assert flat == list(range(250))
    assert batches == bucket_batches(lengths, 16, seed=3, bucket=4)
    assert batches != bucket_batches(lengths, 16, seed=4, bucket=4)
