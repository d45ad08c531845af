"""Distillation losses: the teachers' soft logits mixed with the gold spans."""

from __future__ import annotations

import pytest
import torch

from qa.train import distill


def test_distill_loss_zero_at_the_teacher_and_blind_to_padding() -> None:
    g = torch.Generator().manual_seed(0)
    start, end = torch.randn(3, 10, generator=g), torch.randn(3, 10, generator=g)
    mask = torch.ones(3, 10, dtype=torch.long)
    mask[1, 6:] = 0
    rows = [
        torch.stack([start[i, : int(mask[i].sum())], end[i, : int(mask[i].sum())]])
        for i in range(3)
    ]
    soft = distill.pad_soft(rows, 10)
    assert soft.shape == (3, 2, 10) and soft[1, 0, 7] < -1e3
    same = distill.distill_loss(start, end, soft, mask, 2.0)
    assert float(same) == pytest.approx(0.0, abs=1e-5)
    noisy = start.clone()
    noisy[1, 7:] += 50.0  # padding positions: not part of any distribution
    assert float(distill.distill_loss(noisy, end, soft, mask, 2.0)) == pytest.approx(0.0, abs=1e-5)
    off = start.clone()
    off[0, 2] += 3.0
    assert float(distill.distill_loss(off, end, soft, mask, 2.0)) > 0.01


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
    ce = distill.span_loss(start, end, batch, per_example=True)
    kd = distill.distill_loss(start, end, distill.pad_soft([teacher, teacher], 8), mask, 2.0, True)
    assert ce.shape == kd.shape == (2,) and float(kd[0]) > 0.01
    # the batch forms agree with the per-window ones
    assert float(distill.span_loss(start, end, batch)) == pytest.approx(float(ce.mean()))
    both = distill.distill_loss(start, end, distill.pad_soft([teacher, teacher], 8), mask, 2.0)
    assert float(both) == pytest.approx(float(kd.mean()))
    # window 0 has a teacher row, window 1 is gold-only
    mixed = distill.mixed_loss(start, end, batch, [teacher, None], 0.75, 2.0)
    assert float(mixed) == pytest.approx(float((0.25 * ce[0] + 0.75 * kd[0] + ce[1]) / 2))
    assert float(distill.mixed_loss(start, end, batch, [teacher, teacher], 0.0, 2.0)) == (
        pytest.approx(float(ce.mean()))
    )
