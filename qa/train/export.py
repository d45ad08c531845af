"""The export: fp16 safetensors, tokenizer, config, ``qa_reader.json`` and the model card,
and the training record ``qa_reader.json`` keeps under ``training``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.read.bridge import MODEL_TOKENIZER
from qa.read.meta import update_meta
from qa.train.card import write_model_card
from qa.train.checkpoint import Position
from qa.train.config import TrainConfig
from qa.train.data import TrainingData
from qa.train.schedule import Plan

# qa_reader.json keys that describe one set of weights: dropped when new weights are exported.
TUNED_KEYS = (
    "null_threshold", "calibration", "retrieval_weight", "retrieval_tuning",
    "length_penalty", "length_tuning", "evaluation", "recipe",
)  # fmt: skip


def export(
    model: Any,
    tokenizer: Any,
    dest: str | Path,
    info: dict[str, Any],
    model_tokenizer: Any = None,
) -> Path:
    """Write fp16 safetensors, tokenizer, config, ``qa_reader.json`` (merged) and README.md.

    ``model_tokenizer`` (a bridged model's own tokenizer) goes to ``model_tokenizer/``.
    """
    import copy

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    half = copy.deepcopy(model).to("cpu").half()
    half.save_pretrained(dest, safe_serialization=True)
    tokenizer.save_pretrained(dest)
    if model_tokenizer is not None:
        model_tokenizer.save_pretrained(dest / MODEL_TOKENIZER)

    def record(meta: dict[str, Any]) -> None:
        # What was tuned for the weights these replace does not hold for the new ones.
        for key in TUNED_KEYS:
            meta.pop(key, None)
        meta["max_length"] = info.get("max_length")  # the windows are the training's
        meta["stride"] = info.get("stride")
        meta["training"] = info

    update_meta(dest, record)
    write_model_card(dest)
    return dest


def training_record(
    config: TrainConfig,
    *,
    init_name: str,
    data: TrainingData,
    plan: Plan,
    pos: Position,
    device: str,
    bf16: bool,
) -> dict[str, Any]:
    """What the run did, for ``qa_reader.json`` and the model card (the parts every run has)."""
    d, s = config.data, config.schedule
    tail = max(1, min(200, len(pos.losses) // 10))
    return {
        "init": init_name,
        "train_files": [str(Path(f).name) for f in d.train_files],
        "exclude_titles": list(d.exclude_titles),
        "fractions": dict(d.fractions or {}),
        **({"gold_files": data.gold_names} if d.gold_files else {}),
        "examples": data.examples + data.gold_examples,
        "features": len(data.feats),
        "steps": pos.step,
        "planned_steps": plan.total,
        "epochs_done": round(pos.step / plan.per_epoch, 3),
        "lr": s.lr,
        "warmup": s.warmup,
        "weight_decay": s.weight_decay,
        "batch_size": s.batch_size,
        "max_length": d.max_length,
        "stride": d.stride,
        "answer_target": d.answer,
        "windows_from": str(d.windows_from) if d.windows_from else None,
        "seed": s.seed,
        "device": device,
        "bf16": bf16,
        "train_seconds": round(pos.elapsed),
        "time_budget_s": s.time_budget_s,
        "loss_first": round(sum(pos.losses[:tail]) / tail, 4),
        "loss_last": round(sum(pos.losses[-tail:]) / tail, 4),
        "loss_window_steps": tail,
        "command": config.export.command,
    }


def layers_record(
    weight: float, guide_info: dict[str, Any], layer_losses: list[tuple[float, float]]
) -> dict[str, Any]:
    """The layer distillation's record: its weight, layer pairs, and mean attention and
    hidden-state losses over the first and last steps of this session."""
    out: dict[str, Any] = {"weight": weight, **guide_info}
    out["losses_over"] = "the first and last steps of this training session"
    k = min(200, len(layer_losses) // 10) or len(layer_losses)
    for i, name in ((0, "attention"), (1, "hidden")):
        if k:
            out[f"{name}_first"] = round(sum(x[i] for x in layer_losses[:k]) / k, 4)
            out[f"{name}_last"] = round(sum(x[i] for x in layer_losses[-k:]) / k, 4)
    return out
