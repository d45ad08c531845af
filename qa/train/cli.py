"""``qa train-reader``, ``qa eval`` and the tuning commands: plain functions with Typer
annotations.

Registered in ``qa/cli/commands.py``; ``python -m qa.train.cli`` runs them standalone. Heavy
libraries are imported inside the functions so ``qa --help`` stays fast. The options are
declared once each, in ``qa.train.options``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from qa.core.config import MAX_K
from qa.train import options as o


def train_reader_cmd(
    files: o.Files,
    out: o.Out,
    epochs: o.Epochs = 1.0,
    max_length: o.MaxLength = 256,
    stride: o.Stride = 96,
    answer: o.Answer = "first",
    batch_size: o.BatchSize = 32,
    lr: o.Lr = 2e-4,
    max_steps: o.MaxSteps = None,
    time_budget: o.TimeBudget = None,
    resume: o.Resume = False,
    seed: o.Seed = 0,
    bf16: o.Bf16 = None,
    exclude_title: o.ExcludeTitle = None,
    fraction: o.Fraction = None,
    export: o.Export = None,
    checkpoint_every: o.CheckpointEvery = 600.0,
    init: o.Init = None,
    threads: o.Threads = None,
    teacher: o.Teacher = None,
    distill_alpha: o.DistillAlpha = 0.5,
    distill_temperature: o.DistillTemperature = 2.0,
    windows_from: o.WindowsFrom = None,
    distill_layers: o.DistillLayers = 0.0,
    augment_copies: o.Augment = 0,
    layers: o.Layers = None,
    gold: o.Gold = None,
) -> None:
    """Fine-tune the extractive reader from all-MiniLM-L6-v2 and export it (fp16)."""
    from qa.train import config as c
    from qa.train.loop import train_reader

    _check_distill_options(distill_alpha, distill_temperature)
    config = c.TrainConfig(
        data=c.DataConfig(
            train_files=tuple(files),
            exclude_titles=tuple(exclude_title or ()),
            fractions=_fractions(fraction or [], files),
            gold_files=tuple(gold or ()),
            answer=answer,
            augment_copies=augment_copies,
            max_length=max_length,
            stride=stride,
            windows_from=str(windows_from) if windows_from else None,
        ),
        model=c.ModelConfig(init=str(init) if init else None, layers=layers),
        schedule=c.ScheduleConfig(
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            max_steps=max_steps,
            time_budget_s=time_budget,
            seed=seed,
        ),
        distill=c.DistillConfig(
            teachers=tuple(str(t) for t in teacher or []),
            alpha=distill_alpha,
            temperature=distill_temperature,
            layer_weight=distill_layers,
        ),
        run=c.RunConfig(
            out_dir=out,
            resume=resume,
            checkpoint_every_s=checkpoint_every,
            bf16=bf16,
            threads=threads,
        ),
        export=c.ExportConfig(export_dir=export, command=_command_line()),
    )
    try:
        with _progress_to_stdout():
            dest = train_reader(config)
    except ValueError as e:  # e.g. a teacher that is no reader or has another vocabulary
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"exported {dest}")


def _check_distill_options(alpha: float, temperature: float) -> None:
    if not 0.0 <= alpha <= 1.0:
        raise typer.BadParameter("--distill-alpha must be between 0 and 1")
    if temperature <= 0:
        raise typer.BadParameter("--distill-temperature must be positive")


def _command_line() -> str:
    """The command as typed, for the model card (``qa train-reader …``)."""
    args = sys.argv[1:]
    if args[:1] != ["train-reader"]:
        args = ["train-reader", *args]
    return "qa " + " ".join(shlex.quote(a) for a in args)


@contextlib.contextmanager
def _progress_to_stdout() -> Iterator[None]:
    """Training's progress lines (``qa.train`` loggers) go to stdout while it runs."""
    logger = logging.getLogger("qa.train")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # once, on stdout: not again through the CLI's stderr handler
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def eval_cmd(
    file: o.EvalFile,
    mode: o.Mode = "closed",
    limit: o.Limit = None,
    as_json: o.AsJson = False,
    reader: o.Reader = None,
    batch_size: o.EvalBatchSize = 16,
    abstain: o.Abstain = True,
    eval_split: o.EvalSplit = True,
    backend: o.Backend = None,
    record: o.Record = None,
    device: o.Device = "cpu",
    k: o.K = None,
    corpus: o.Corpus = None,
    store: o.Store = None,
) -> None:
    """Exact match / F1 of the reader on a SQuAD file (closed or open book)."""
    from qa.read.reader import DEFAULT_MODEL_DIR, NeuralReader
    from qa.train.evaluate import evaluate

    _check_eval_options(mode, backend, k, corpus, device)
    if store is not None and mode != "open":
        raise typer.BadParameter("--store applies to --mode open (closed reads the gold paragraph)")
    r = NeuralReader(_reader_dir(reader or DEFAULT_MODEL_DIR), backend=backend, device=device)
    if not abstain:
        r.null_threshold = None
    res = evaluate(
        file, r, mode=mode, limit=limit, eval_split=eval_split, batch_size=batch_size, k=k,
        corpus=corpus, store=store,
    )  # fmt: skip
    res["backend"] = r.backend
    if record:
        _record(r.model_dir, record, res)
    if as_json:
        typer.echo(json.dumps(res))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{Path(file).name} ({mode})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, v in res.items():
        table.add_row(name, f"{v:.2f}" if isinstance(v, float) else str(v))
    Console().print(table)


def _check_eval_options(
    mode: str, backend: str | None, k: int | None, corpus: Path | None, device: str
) -> None:
    if mode not in ("closed", "open"):
        raise typer.BadParameter("mode must be closed or open")
    if backend not in (None, "onnx", "torch"):
        raise typer.BadParameter("backend must be onnx or torch")
    if k is not None and mode != "open":
        raise typer.BadParameter("--k applies to --mode open (closed reads the gold paragraph)")
    if corpus is not None and mode != "open":
        raise typer.BadParameter(
            "--corpus applies to --mode open (closed reads the gold paragraph)"
        )
    if device != "cpu" and backend == "onnx":
        raise typer.BadParameter("--device other than cpu needs --backend torch")


def _record(model_dir: Path, name: str, res: dict[str, Any]) -> None:
    """Store ``res`` under ``evaluation.<name>`` in the reader's settings and card."""
    from qa.read.meta import update_meta
    from qa.train.card import write_model_card

    def store(meta: dict[str, Any]) -> None:
        meta.setdefault("evaluation", {})[name] = {
            k: round(v, 2) if isinstance(v, float) else v for k, v in res.items()
        }

    update_meta(model_dir, store)
    write_model_card(model_dir)


def calibrate_cmd(
    reader: Annotated[Path, typer.Option("--reader", help="Reader model folder to calibrate.")],
    quantize: Annotated[
        bool | None,
        typer.Option("--quantize/--no-quantize", help="Torch backend: calibrate dynamic int8."),
    ] = None,
    answerable_weight: Annotated[
        float,
        typer.Option(
            "--answerable-weight",
            help="Count each answerable question this many times: the held-out articles are "
            "54% unanswerable, questions asked of one's own documents far fewer.",
        ),
    ] = 5.0,
) -> None:
    """Set the no-answer threshold on the held-out v2.0 articles (writes qa_reader.json)."""
    from qa.read.reader import NeuralReader
    from qa.train.card import write_model_card
    from qa.train.evaluate import calibrate_reader
    from qa.train.squad import heldout_examples

    r = NeuralReader(_reader_dir(reader), quantize=quantize)
    res = _tuning(
        lambda: calibrate_reader(r, heldout_examples(), answerable_weight=answerable_weight)
    )
    write_model_card(r.model_dir)
    typer.echo(json.dumps(res))


def tune_length_cmd(
    reader: Annotated[Path, typer.Option("--reader", help="Reader model folder to tune.")],
) -> None:
    """Set how much a span's length counts against it (a log-length prior on span scores).

    Tuned closed-book on the held-out articles' answerable questions (writes
    qa_reader.json). Run it before calibrate-reader and tune-retrieval: both read spans
    as this prior ranks them.
    """
    from qa.read.reader import NeuralReader
    from qa.train.card import write_model_card
    from qa.train.evaluate import tune_length_penalty
    from qa.train.squad import heldout_examples

    r = NeuralReader(_reader_dir(reader))
    res = _tuning(lambda: tune_length_penalty(r, heldout_examples()))
    write_model_card(r.model_dir)
    for lp, v in res["by_penalty"].items():
        typer.echo(f"penalty {lp:>4}: EM {v['em']:6.2f}  F1 {v['f1']:6.2f}")
    typer.echo(json.dumps({"length_penalty": res["length_penalty"]}))


def tune_retrieval_cmd(
    reader: Annotated[Path, typer.Option("--reader", help="Reader model folder to tune.")],
    file: Annotated[
        Path | None,
        typer.Option("--file", help="SQuAD v1.1 dev (default: the data folder's copy)."),
    ] = None,
    k: Annotated[
        int, typer.Option("--k", help="Passages read per question.", min=1, max=MAX_K)
    ] = 3,
) -> None:
    """Set how much retrieval scores weigh against the reader's span scores.

    Tuned on the held-out articles' questions in the open setting (writes qa_reader.json).
    """
    from qa.read.reader import NeuralReader
    from qa.train.card import write_model_card
    from qa.train.evaluate import tune_retrieval_weight

    r = NeuralReader(_reader_dir(reader))
    res = _tuning(lambda: tune_retrieval_weight(r, file, k=k))
    write_model_card(r.model_dir)
    for w, v in res["by_weight"].items():
        typer.echo(f"weight {w:>4}: EM {v['em']:6.2f}  F1 {v['f1']:6.2f}")
    typer.echo(json.dumps({"retrieval_weight": res["retrieval_weight"], "k": k}))


app = typer.Typer(add_completion=False, no_args_is_help=True)
app.command("train-reader")(train_reader_cmd)
app.command("eval")(eval_cmd)
app.command("calibrate-reader")(calibrate_cmd)
app.command("tune-length")(tune_length_cmd)
app.command("tune-retrieval")(tune_retrieval_cmd)


def _reader_dir(path: Path) -> Path:
    """``path`` if it is a reader folder (weights and tokenizer), else a clear error."""
    missing = [n for n in ("model.safetensors", "tokenizer.json") if not (path / n).is_file()]
    if missing:
        raise typer.BadParameter(
            f"{path} is not a reader folder (no {' or '.join(missing)}); "
            "use qa/models/reader or a folder written by 'qa train-reader'",
            param_hint="--reader",
        )
    return path


def _tuning(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a tuning step; a data problem (e.g. no held-out questions) is one line, exit 2."""
    try:
        return run()
    except (ValueError, OSError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None


def _fractions(values: list[str], files: list[Path]) -> dict[str, float]:
    """``NAME=SHARE`` options as a dict, NAME one of the training files, 0 < SHARE <= 1."""
    names = {f.name for f in files}
    out: dict[str, float] = {}
    for v in values:
        name, _, share = v.partition("=")
        try:
            x = float(share)
        except ValueError:
            x = math.nan
        if name not in names or not 0 < x <= 1:
            raise typer.BadParameter(
                f"{v!r}: give NAME=SHARE with NAME one of the training files "
                f"({', '.join(sorted(names))}) and SHARE above 0, at most 1",
                param_hint="--fraction",
            )
        out[name] = x
    return out


if __name__ == "__main__":  # last: the commands use the helpers above
    app()
