"""Checkpoints: model, optimizer, step, training seconds and losses in ``out/checkpoints``,
so that ``--resume`` continues a run where it stopped."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Position:
    """Where a run stands: steps done, seconds trained, each step's loss."""

    step: int = 0
    elapsed: float = 0.0
    losses: list[float] = field(default_factory=list)


def latest_checkpoint(ckpt_dir: Path) -> Path | None:
    """The newest complete checkpoint folder in ``ckpt_dir``, if any."""
    found = sorted(ckpt_dir.glob("step-*"), key=_step_of)
    found = [p for p in found if (p / "state.pt").exists()]
    return found[-1] if found else None


def _step_of(path: Path) -> int:
    return int(path.name.split("-")[1])


def save_checkpoint(
    ckpt_dir: Path,
    pos: Position,
    model: Any,
    opt: Any,
    guide: Any,
    total: int,
    shape: dict[str, Any],
) -> Path:
    """Write ``step-N/state.pt`` (via a temporary file) and keep the newest two.

    ``shape`` holds the settings that shape what a checkpoint holds (``resume`` checks them).
    """
    import torch

    d = ckpt_dir / f"step-{pos.step}"
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / "state.pt.tmp"
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "step": pos.step,
            "elapsed": pos.elapsed,
            "losses": pos.losses,
            "torch_rng": torch.get_rng_state(),
            "total": total,
            **shape,
            **({"proj": guide.proj.state_dict()} if guide is not None else {}),
        },
        tmp,
    )
    tmp.replace(d / "state.pt")
    for old in sorted(ckpt_dir.glob("step-*"), key=_step_of)[:-2]:
        for p in old.iterdir():
            p.unlink()
        old.rmdir()
    log.info("checkpoint %s", d)
    return d


# The settings that shape what a checkpoint holds: another value cannot continue it.
SHAPE_FLAGS = {"keep_layers": "--layers", "layer_guide": "--distill-layers", "gold_files": "--gold"}


def resume(
    ckpt_dir: Path, model: Any, opt: Any, guide: Any, shape: dict[str, Any], device: str
) -> Position | None:
    """Load the newest checkpoint into ``model``, ``opt`` and ``guide`` and restore the
    torch random state; returns its position (None when there is no checkpoint)."""
    import torch

    ck = latest_checkpoint(ckpt_dir)
    if ck is None:
        return None
    state = torch.load(ck / "state.pt", map_location=device, weights_only=False)
    for key, now in shape.items():
        if state.get(key, now) != now:
            raise ValueError(
                f"the checkpoint in {ckpt_dir} was trained with other {SHAPE_FLAGS[key]} "
                f"settings ({state.get(key)!r}, now {now!r}): resume with the same ones, or "
                "train into another --out"
            )
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as e:
        raise ValueError(
            f"the checkpoint in {ckpt_dir} does not fit this model (another --init?): "
            f"{str(e).splitlines()[0]}"
        ) from None
    opt.load_state_dict(state["optimizer"])
    if guide is not None and "proj" in state:
        guide.proj.load_state_dict(state["proj"])
    pos = Position(state["step"], state["elapsed"], state["losses"])
    torch.set_rng_state(state["torch_rng"])
    log.info("resumed from %s at step %d (%.0f s trained)", ck, pos.step, pos.elapsed)
    return pos
