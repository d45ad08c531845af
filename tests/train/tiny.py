"""A tiny SQuAD file and the settings of a few-second training run on it."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from qa.train.config import (
    DataConfig,
    DistillConfig,
    ExportConfig,
    ModelConfig,
    RunConfig,
    ScheduleConfig,
    TrainConfig,
)

COLORS = ["red", "blue", "green", "yellow"]
THINGS = ["kite", "boat", "house", "car", "lamp", "chair", "door", "cup"]
# settings for a few-second run on the tiny dataset (fields of the TrainConfig groups)
TINY_RUN: dict[str, Any] = dict(
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


def tiny_config(files: list[Path], out: Path, **changes: Any) -> TrainConfig:
    """``TINY_RUN`` with ``changes``, each a field of one of the ``TrainConfig`` groups."""
    groups: dict[str, Any] = {
        "data": DataConfig(train_files=tuple(files)),
        "run": RunConfig(out_dir=out),
        "model": ModelConfig(),
        "schedule": ScheduleConfig(),
        "distill": DistillConfig(),
        "export": ExportConfig(),
    }
    for name, value in {**TINY_RUN, **changes}.items():
        group = next(g for g, c in groups.items() if name in {f.name for f in fields(c)})
        groups[group] = replace(groups[group], **{name: value})
    return TrainConfig(**groups)


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
