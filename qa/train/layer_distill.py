"""Distil a teacher's inner layers into the reader: attention maps and hidden states.

The student's layer i (of n) learns from the teacher's layer ``(i + 1) · m / n`` (of m):
its attention distributions (every head, every query position) match the teacher's
under the KL divergence, and its hidden states, through a learned linear map to the
teacher's width, match the teacher's under the mean squared error relative to the
teacher's mean square (as in TinyBERT, made scale-free). The attention maps compared are
the averages over heads: the heads of two separately trained models do not correspond
one to one. A teacher of another family reads the same windows through its
``qa.read.bridge.Bridge``: its maps are taken back to the reader's positions and each
attention row renormalised over them (the bridge's extra separator is left out).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.read.bridge import load_bridge

EPS = 1e-8


def attention_kl(teacher: Any, student: Any, mask: Any) -> Any:
    """KL(teacher ‖ student) of the head-averaged (batch, heads, n, n) attention rows,
    averaged over the unmasked query positions."""
    import torch

    t = teacher.float().mean(1)
    t = t / t.sum(-1, keepdim=True).clamp_min(EPS)
    s = student.float().mean(1)
    kl = (t * (torch.log(t + EPS) - torch.log(s + EPS))).sum(-1)  # (batch, n)
    m = mask.float()
    return (kl * m).sum() / m.sum().clamp_min(1.0)


def hidden_mse(teacher: Any, student: Any, mask: Any) -> Any:
    """Mean squared error of (batch, n, width) hidden states over the unmasked positions,
    divided by the teacher's mean square there (so 1.0 is the error of predicting zeros)."""
    t = teacher.float()
    m = mask.float()
    err = ((student.float() - t) ** 2).mean(-1)
    scale = (t.pow(2).mean(-1) * m).sum().clamp_min(EPS)
    return (err * m).sum() / scale


def check_layer_teacher(teacher_dir: str | Path, student_layers: int) -> None:
    """Raise ``ValueError`` unless the teacher has at least the student's layers."""
    import json

    m = json.loads((Path(teacher_dir) / "config.json").read_text()).get("num_hidden_layers", 0)
    if m < student_layers:
        raise ValueError(
            f"the layer teacher {teacher_dir} has {m} layers, fewer than the student's "
            f"{student_layers}: --distill-layers needs a teacher at least as deep"
        )


class LayerGuide:
    """A teacher reader run alongside the student, and the loss on their inner layers.

    ``student`` is the model being trained (BERT-style, read without a bridge); the
    teacher is any reader folder that tokenises like it (``check_teachers``). Both must
    return attention maps, so both run with the "eager" attention implementation.
    ``proj`` holds the learned maps from the student's hidden width to the teacher's: they
    train with the student and are not exported.
    """

    def __init__(
        self, teacher_dir: str | Path, windows_tok: Any, student: Any, device: str
    ) -> None:
        import torch
        from transformers import AutoModelForQuestionAnswering

        self.path = str(teacher_dir)
        self.bridge = load_bridge(teacher_dir, windows_tok)
        self.teacher = AutoModelForQuestionAnswering.from_pretrained(
            teacher_dir, dtype=torch.float32, attn_implementation="eager"
        ).to(device)
        self.teacher.eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        sc, tc = student.config, self.teacher.config
        n, m = sc.num_hidden_layers, tc.num_hidden_layers
        check_layer_teacher(teacher_dir, n)
        self.pairs = [(i, (i + 1) * m // n - 1) for i in range(n)]
        with torch.random.fork_rng(devices=[]):  # the run's own random stream stays as seeded
            torch.manual_seed(0)
            self.proj = torch.nn.ModuleList(
                torch.nn.Linear(sc.hidden_size, tc.hidden_size) for _ in self.pairs
            ).to(device)

    def teacher_layers(self, batch: dict[str, Any]) -> list[tuple[Any, Any]]:
        """The teacher's (attention maps, hidden states) of each pair's layer, at the
        reader's positions: (batch, heads, n, n) and (batch, n, width), without gradients."""
        import torch

        ids = batch["input_ids"]
        n, width = ids.shape
        with torch.no_grad():
            if self.bridge is None:
                inputs = {
                    k: batch[k]
                    for k in ("input_ids", "token_type_ids", "attention_mask")
                    if k in batch
                }
                pos = torch.arange(width, device=ids.device).expand(n, width)
            else:
                inputs, pos = self.bridge.inputs(batch)
            out = self.teacher(**inputs, output_attentions=True, output_hidden_states=True)
        maps = []
        for _, t in self.pairs:
            ta = out.attentions[t]
            heads, wide = ta.shape[1], ta.shape[-1]
            ta = ta.gather(2, pos[:, None, :, None].expand(n, heads, width, wide))
            ta = ta.gather(3, pos[:, None, None, :].expand(n, heads, width, width))
            th = out.hidden_states[t + 1]
            th = th.gather(1, pos[:, :, None].expand(n, width, th.shape[-1]))
            maps.append((ta, th))
        return maps

    def losses(self, student_out: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
        """(attention KL, hidden-state MSE), each the mean over the layer pairs.

        ``student_out`` is the student's output on ``batch`` with attentions and hidden
        states; the teacher reads the same batch here, without gradients.
        """
        mask = batch["attention_mask"]
        att, hid = 0.0, 0.0
        for (s, _), (ta, th) in zip(self.pairs, self.teacher_layers(batch), strict=True):
            att = att + attention_kl(ta, student_out.attentions[s], mask)
            sh = self.proj[s](student_out.hidden_states[s + 1].float())
            hid = hid + hidden_mse(th, sh, mask)
        return att / len(self.pairs), hid / len(self.pairs)

    def info(self) -> dict[str, Any]:
        return {"teacher": self.path, "pairs": [[s + 1, t + 1] for s, t in self.pairs]}
