"""Distillation: teachers' logits and the losses that mix them with the gold spans.

A teacher is a trained reader folder that tokenises like the student (``check_teachers``);
it reads every labelled training window once before the first step, and the student
learns the teachers' mean start/end logits.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.read.bridge import load_bridge, span_logits
from qa.read.meta import read_meta
from qa.train.data import Feature, collate


def check_teachers(
    teachers: Sequence[str | Path], tokenizer: Any, max_length: int | None = None
) -> None:
    """Raise ``ValueError`` unless every teacher is a reader folder with the same vocabulary.

    Distillation reads the teachers' logits token by token, so a teacher must tokenise
    exactly like the student.
    """
    from transformers import AutoTokenizer

    vocab = tokenizer.get_vocab() if teachers else None
    for t in teachers:
        if not (Path(t) / "config.json").is_file():
            raise ValueError(f"teacher {t}: not a reader folder (no config.json)")
        if AutoTokenizer.from_pretrained(t).get_vocab() != vocab:
            raise ValueError(
                f"teacher {t} has another vocabulary than the student: distillation reads "
                "logits token by token, so both must use the same tokenizer"
            )
        bridge = load_bridge(t, tokenizer)  # a bridged teacher must read these windows
        if bridge is not None and max_length is not None:
            bridge.check_length(max_length)


def teacher_logits(
    teachers: Sequence[str | Path],
    feats: Sequence[Feature],
    tokenizer: Any,
    *,
    device: str = "cpu",
    bf16: bool = False,
    batch_size: int = 128,
) -> list[Any]:
    """The teachers' mean start/end logits for every feature: one (2, len) fp32 tensor each.

    The teachers must have passed ``check_teachers`` (``train_reader`` checks them before
    reading the data): their logits are read position by position.
    """
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForQuestionAnswering

    order = sorted(range(len(feats)), key=lambda j: len(feats[j].input_ids))
    total: list[Any] = [None] * len(feats)
    for i, t in enumerate(teachers):
        m = AutoModelForQuestionAnswering.from_pretrained(t, dtype=torch.float32).to(device)
        m.eval()
        bridge = load_bridge(t, tokenizer)
        bar = tqdm(
            range(0, len(order), batch_size),
            desc=f"teacher {i + 1}/{len(teachers)}",
            mininterval=10,
            file=sys.stderr,
        )
        for lo in bar:
            idx = order[lo : lo + batch_size]
            inputs = collate([feats[j] for j in idx], tokenizer.pad_token_id)
            inputs = {k: v.to(device) for k, v in inputs.items()}
            with (
                torch.inference_mode(),
                torch.autocast(
                    device_type="cuda" if device.startswith("cuda") else "cpu",
                    dtype=torch.bfloat16,
                    enabled=bf16,
                ),
            ):
                start, end = span_logits(m, inputs, bridge)
            both = torch.stack([start, end], dim=1).float().cpu()
            for row, j in enumerate(idx):
                n = len(feats[j].input_ids)
                x = both[row, :, :n].clone()
                total[j] = x if total[j] is None else total[j] + x
        del m
    return [x / len(teachers) for x in total]


def span_loss(
    start_logits: Any, end_logits: Any, batch: dict[str, Any], per_example: bool = False
) -> Any:
    """Mean cross-entropy of the gold start and end positions (0/0: no answer).

    ``per_example``: one value per window instead of the batch mean.
    """
    import torch.nn.functional as F

    dev = start_logits.device
    red = "none" if per_example else "mean"
    s = F.cross_entropy(start_logits.float(), batch["start_positions"].to(dev), reduction=red)
    e = F.cross_entropy(end_logits.float(), batch["end_positions"].to(dev), reduction=red)
    return (s + e) / 2


def mixed_loss(
    start_logits: Any,
    end_logits: Any,
    batch: dict[str, Any],
    rows: Sequence[Any],
    alpha: float,
    temperature: float,
) -> Any:
    """Batch mean of each window's (1 - a) × gold-span CE + a × ``distill_loss``.

    ``rows`` are the windows' teacher logits; a = ``alpha`` where a window has them, and
    0 where its row is ``None`` (a gold-only window that no teacher read).
    """
    import torch

    dev = start_logits.device
    kd = distill_loss(
        start_logits,
        end_logits,
        pad_soft(rows, start_logits.shape[1]).to(dev),
        batch["attention_mask"].to(dev),
        temperature,
        per_example=True,
    )
    a = torch.tensor([0.0 if r is None else alpha for r in rows], device=dev)
    ce = span_loss(start_logits, end_logits, batch, per_example=True)
    return ((1.0 - a) * ce + a * kd).mean()


def pad_soft(rows: Sequence[Any], width: int) -> Any:
    """Stack (2, len) teacher logits into (batch, 2, width), padding with a large negative.

    A row that is ``None`` (a window no teacher read) stays all zeros.
    """
    import torch

    out = torch.full((len(rows), 2, width), -1e4, dtype=torch.float32)
    for i, r in enumerate(rows):
        if r is None:
            out[i] = 0.0
        else:
            out[i, :, : r.shape[1]] = r
    return out


def distill_loss(
    start_logits: Any,
    end_logits: Any,
    soft: Any,
    attention_mask: Any,
    temperature: float,
    per_example: bool = False,
) -> Any:
    """T² × mean KL(teacher ‖ student) over start and end, padding positions left out.

    ``per_example``: one value per window instead of the batch mean.
    """
    import torch.nn.functional as F

    pad = attention_mask == 0
    loss: Any = 0.0
    for k, student in enumerate((start_logits, end_logits)):
        s = student.float().masked_fill(pad, -1e4) / temperature
        t = soft[:, k, :].masked_fill(pad, -1e4) / temperature
        kl = F.kl_div(
            F.log_softmax(s, dim=-1), F.log_softmax(t, dim=-1), log_target=True, reduction="none"
        ).sum(-1)
        loss = loss + (kl if per_example else kl.mean())
    return loss / 2 * temperature * temperature


def teacher_info(path: str | Path) -> dict[str, Any]:
    """A teacher's training record, without its earlier stages (the card lists them once)."""
    t = read_meta(path).get("training", {})
    t = {k: v for k, v in t.items() if k != "previous_stage"}
    if "distillation" in t:
        d = t["distillation"]
        t["distillation"] = {
            **d,
            "teachers": [
                {"path": x.get("path"), "command": x.get("training", {}).get("command")}
                for x in d.get("teachers", [])
            ],
        }
    return {"path": str(path), "training": t}
