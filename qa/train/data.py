"""Training data: questions from SQuAD files, the windows the reader reads, batches.

The windows are those the reader reads (``qa.read.windows.encode_windows``, straight from
the ``tokenizers`` library), so training sees the same windows as answering.
"""

from __future__ import annotations

import collections
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.train.augment import augment
from qa.train.config import ANSWER_TARGETS, DataConfig
from qa.train.squad import Example, load


@dataclass
class Feature:
    """One tokenised window of (question, context) with span labels (0/0 = CLS: no answer)."""

    input_ids: list[int]
    token_type_ids: list[int]
    start: int
    end: int


@dataclass
class TrainingData:
    """A run's windows: the labelled ones (``feats[:n_labelled]``, which teachers read),
    then the gold-only ones; the counts of questions behind them are for the record."""

    feats: list[Feature]
    n_labelled: int
    examples: int
    shortened: int
    gold_examples: int
    gold_names: list[str]

    @property
    def lengths(self) -> list[int]:
        return [len(f.input_ids) for f in self.feats]


def target_answer(answers: Sequence[tuple[str, int]], how: str = "first") -> tuple[str, int]:
    """The gold answer a question trains on: the ``first`` listed, or the ``consensus``
    (the text most annotators gave, the shortest on a tie; its first occurrence)."""
    if how == "first":
        return answers[0]
    if how != "consensus":
        raise ValueError(f"answer target must be one of {', '.join(ANSWER_TARGETS)}, not {how!r}")
    votes = collections.Counter(text for text, _ in answers)
    top = max(votes.values())
    text = min((t for t, v in votes.items() if v == top), key=len)
    return next(a for a in answers if a[0] == text)


def make_features(
    examples: Sequence[Example],
    tokenizer: Any,
    *,
    max_length: int,
    stride: int,
    chunk: int = 2000,
    answer: str = "first",
) -> list[Feature]:
    """Strided windows with labels; an answer missing from a window labels it CLS.

    ``target_answer(answers, answer)`` picks the gold answer each question trains on.
    ``stride`` is the token overlap between consecutive windows of a long context.
    ``tokenizer`` is a transformers fast tokenizer or a ``tokenizers.Tokenizer``.
    """
    from tokenizers import Tokenizer

    from qa.read.windows import check_windows, encode_windows, reading_text

    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    fast = Tokenizer.from_str(backend.to_str())  # a copy: encoding sets its truncation
    check_windows(fast)
    feats: list[Feature] = []
    for lo in range(0, len(examples), chunk):
        batch = examples[lo : lo + chunk]
        enc = encode_windows(
            fast,
            [e.question.lstrip() for e in batch],
            [reading_text(e.context) for e in batch],  # as the reader reads at answer time
            max_length,
            stride,
        )
        lengths = enc.arrays["attention_mask"].sum(axis=1).tolist()
        for w, m in enumerate(lengths):
            ex = batch[enc.sample[w]]
            seq = enc.sequence_ids[w][:m]
            start, end = 0, 0
            if ex.answers and 1 in seq:
                span = target_answer(ex.answers, answer)
                start, end = _label(span, seq, enc.offsets[w][:m])
            feats.append(
                Feature(
                    enc.arrays["input_ids"][w, :m].tolist(),
                    enc.arrays["token_type_ids"][w, :m].tolist(),
                    start,
                    end,
                )
            )
    return feats


def _label(
    span: tuple[str, int], seq: Sequence[int | None], offsets: Sequence[Any]
) -> tuple[int, int]:
    """The (start, end) tokens of the answer ``span`` in one window, 0/0 when the window's
    context does not hold all of it."""
    text, a0 = span
    a1 = a0 + len(text)
    m = len(seq)
    c0 = seq.index(1)
    c1 = m - 1 - seq[::-1].index(1)
    if not (offsets[c0][0] <= a0 and offsets[c1][1] >= a1):
        return 0, 0
    s = c0
    while s <= c1 and offsets[s][1] <= a0:
        s += 1
    e = c1
    while e >= c0 and offsets[e][0] >= a1:
        e -= 1
    return (s, e) if s <= e else (0, 0)


def load_training_data(config: DataConfig, tokenizer: Any, seed: int) -> TrainingData:
    """The run's windows: the training files (sampled by ``fractions``) and their
    shortened copies, then the gold-only files' windows."""
    examples: list[Example] = []
    for f in config.train_files:
        part = load(f, exclude_titles=config.exclude_titles)
        frac = (config.fractions or {}).get(Path(f).name, 1.0)
        if frac < 1.0:
            part = random.Random(seed).sample(part, round(frac * len(part)))
        examples += part
    extra = augment(examples, config.augment_copies, seed) if config.augment_copies else []
    windows = {"max_length": config.max_length, "stride": config.stride, "answer": config.answer}
    feats = make_features(examples + extra, tokenizer, **windows)
    gold = [ex for f in config.gold_files for ex in load(f, exclude_titles=config.exclude_titles)]
    n_labelled = len(feats)
    feats += make_features(gold, tokenizer, **windows)
    return TrainingData(
        feats=feats,
        n_labelled=n_labelled,
        examples=len(examples),
        shortened=len(extra),
        gold_examples=len(gold),
        gold_names=[str(f) for f in config.gold_files],  # as given: checked on resume
    )


def bucket_batches(
    lengths: Sequence[int], batch_size: int, seed: int, bucket: int = 50
) -> list[list[int]]:
    """Shuffled batches of similar length: shuffle, sort within blocks of ``bucket`` batches."""
    rng = random.Random(seed)
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    block = batch_size * bucket
    batches: list[list[int]] = []
    for lo in range(0, len(idx), block):
        part = sorted(idx[lo : lo + block], key=lambda j: lengths[j])
        batches += [part[k : k + batch_size] for k in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def epoch_batches(
    lengths: Sequence[int], batch_size: int, seed: int, epochs: float
) -> Iterator[list[int]]:
    """The whole run's batch order (epoch e uses seed + e), cut at ``epochs``."""
    per_epoch = math.ceil(len(lengths) / batch_size)
    total = max(1, round(epochs * per_epoch))
    done = 0
    e = 0
    while done < total:
        for b in bucket_batches(lengths, batch_size, seed + e):
            if done >= total:
                return
            yield b
            done += 1
        e += 1


def collate(feats: Sequence[Feature], pad_id: int) -> dict[str, Any]:
    """Pad a batch to its longest feature; returns torch tensors."""
    import torch

    n = max(len(f.input_ids) for f in feats)
    ids = torch.full((len(feats), n), pad_id, dtype=torch.long)
    tt = torch.zeros((len(feats), n), dtype=torch.long)
    mask = torch.zeros((len(feats), n), dtype=torch.long)
    for i, f in enumerate(feats):
        k = len(f.input_ids)
        ids[i, :k] = torch.tensor(f.input_ids)
        tt[i, :k] = torch.tensor(f.token_type_ids)
        mask[i, :k] = 1
    return {
        "input_ids": ids,
        "token_type_ids": tt,
        "attention_mask": mask,
        "start_positions": torch.tensor([f.start for f in feats]),
        "end_positions": torch.tensor([f.end for f in feats]),
    }
