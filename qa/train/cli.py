"""``qa train-reader`` and ``qa eval``: plain functions with Typer annotations.

Registered in ``qa/cli.py``; ``python -m qa.train.cli`` runs them standalone. Heavy
libraries are imported inside the functions so ``qa --help`` stays fast.
"""

from __future__ import annotations

import json
import math
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer


def train_reader_cmd(
    files: Annotated[list[Path], typer.Argument(help="SQuAD-format JSON training files.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder (checkpoints, final export).")],
    epochs: Annotated[float, typer.Option(help="Epochs; fractions allowed.")] = 1.0,
    max_length: Annotated[int, typer.Option("--max-length", help="Tokens per window.")] = 256,
    stride: Annotated[int, typer.Option(help="Token overlap between windows.")] = 96,
    answer: Annotated[
        str,
        typer.Option(
            "--answer",
            help="Gold answer to train on when a question has several: first (as listed) or "
            "consensus (the text most annotators gave, the shortest on a tie).",
        ),
    ] = "first",
    batch_size: Annotated[int, typer.Option("--batch-size")] = 32,
    lr: Annotated[
        float, typer.Option(help="Peak learning rate (warmup, then linear decay).")
    ] = 2e-4,
    max_steps: Annotated[int | None, typer.Option("--max-steps")] = None,
    time_budget: Annotated[
        float | None,
        typer.Option("--time-budget", help="Training seconds; the decay follows this clock too."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the newest checkpoint.")
    ] = False,
    seed: Annotated[int, typer.Option()] = 0,
    bf16: Annotated[
        bool | None, typer.Option("--bf16/--fp32", help="Autocast (default: bf16 on CUDA only).")
    ] = None,
    exclude_title: Annotated[
        list[str] | None, typer.Option("--exclude-title", help="Skip this article (repeatable).")
    ] = None,
    fraction: Annotated[
        list[str] | None,
        typer.Option("--fraction", help="NAME=SHARE: keep this share of a file's questions."),
    ] = None,
    export: Annotated[Path | None, typer.Option("--export", help="Export folder.")] = None,
    checkpoint_every: Annotated[float, typer.Option("--checkpoint-every", help="Seconds.")] = 600.0,
    init: Annotated[
        Path | None,
        typer.Option("--init", help="Start from this model folder (e.g. a trained reader)."),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(help="CPU threads (default: tuned while training, all CPUs or one)."),
    ] = None,
    teacher: Annotated[
        list[Path] | None,
        typer.Option(
            "--teacher",
            help="Distil from this trained reader (repeatable: their mean logits).",
        ),
    ] = None,
    distill_alpha: Annotated[
        float,
        typer.Option("--distill-alpha", help="Share of the loss from the teachers (0–1)."),
    ] = 0.5,
    distill_temperature: Annotated[
        float, typer.Option("--distill-temperature", help="Softmax temperature.")
    ] = 2.0,
    windows_from: Annotated[
        Path | None,
        typer.Option(
            "--windows-from",
            help="Build the windows with this reader folder's tokenizer: for an --init model "
            "of another family with the same word-pieces (e.g. MPNet), read through a bridge.",
        ),
    ] = None,
    distill_layers: Annotated[
        float,
        typer.Option(
            "--distill-layers",
            help="Weight of the loss on the first teacher's inner layers (attention maps and "
            "hidden states; 0: off). The teacher runs beside every step, and the student "
            "trains with eager attention and no attention dropout (slower).",
        ),
    ] = 0.0,
    augment_copies: Annotated[
        int,
        typer.Option(
            "--augment",
            help="Shortened copies of each training passage to add (sentences without a "
            "gold answer left out at random; 0–10).",
        ),
    ] = 0,
    layers: Annotated[
        int | None,
        typer.Option(
            "--layers",
            help="Keep only the first N encoder layers of --init (a smaller, faster "
            "reader), or with N above its count (at most twice it) repeat its layers in "
            "order (a deeper, slower one).",
        ),
    ] = None,
    gold: Annotated[
        list[Path] | None,
        typer.Option(
            "--gold",
            help="Another training file whose questions train on their gold spans only, "
            "even when distilling: the teachers do not read it (repeatable).",
        ),
    ] = None,
) -> None:
    """Fine-tune the extractive reader from all-MiniLM-L6-v2 and export it (fp16)."""
    from qa.train.loop import train_reader

    if not 0.0 <= distill_alpha <= 1.0:
        raise typer.BadParameter("--distill-alpha must be between 0 and 1")
    if distill_temperature <= 0:
        raise typer.BadParameter("--distill-temperature must be positive")

    args = sys.argv[1:]
    if args[:1] != ["train-reader"]:
        args = ["train-reader", *args]
    command = "qa " + " ".join(shlex.quote(a) for a in args)
    try:
        dest = train_reader(
            files,
            out,
            epochs=epochs,
            lr=lr,
            max_length=max_length,
            stride=stride,
            batch_size=batch_size,
            max_steps=max_steps,
            time_budget_s=time_budget,
            seed=seed,
            bf16=bf16,
            exclude_titles=exclude_title or (),
            fractions=_fractions(fraction or [], files),
            resume=resume,
            threads=threads,
            export_dir=export,
            checkpoint_every_s=checkpoint_every,
            command=command,
            init=str(init) if init else None,
            teachers=[str(t) for t in teacher or []],
            distill_alpha=distill_alpha,
            distill_temperature=distill_temperature,
            answer=answer,
            windows_from=str(windows_from) if windows_from else None,
            distill_layers=distill_layers,
            augment_copies=augment_copies,
            keep_layers=layers,
            gold_files=gold or (),
        )
    except ValueError as e:  # e.g. a teacher that is no reader or has another vocabulary
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"exported {dest}")


def eval_cmd(
    file: Annotated[Path, typer.Argument(help="SQuAD-format JSON file.")],
    mode: Annotated[
        str, typer.Option(help="closed (gold paragraph) or open (retrieval).")
    ] = "closed",
    limit: Annotated[
        int | None, typer.Option(help="A fixed random sample of N questions (seed 0).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")] = False,
    reader: Annotated[Path | None, typer.Option("--reader", help="Reader model folder.")] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Closed mode: questions per forward pass.")
    ] = 16,
    abstain: Annotated[
        bool,
        typer.Option(
            "--abstain/--always-answer",
            help="Use the calibrated no-answer threshold (default) or always answer.",
        ),
    ] = True,
    eval_split: Annotated[
        bool,
        typer.Option("--eval-split/--all", help="Only the 32 evaluation articles of v1.1 dev."),
    ] = True,
    backend: Annotated[
        str | None,
        typer.Option(help="Reader backend: onnx (int8, the CPU default) or torch (fp32)."),
    ] = None,
    record: Annotated[
        str | None,
        typer.Option(
            help="Store the result under this name in the reader's qa_reader.json and card."
        ),
    ] = None,
    device: Annotated[
        str, typer.Option(help="cpu, or cuda (torch backend) to evaluate on a GPU.")
    ] = "cpu",
    k: Annotated[
        int | None,
        typer.Option(
            "--k",
            help="Open mode: passages retrieved per question (default QA_TOP_K, 3); "
            "those within QA_READ_FLOOR of the best are read.",
            min=1,
            max=50,
        ),
    ] = None,
    corpus: Annotated[
        Path | None,
        typer.Option(
            "--corpus",
            help="Open mode: retrieve over every paragraph of this SQuAD file instead of "
            "FILE's own (e.g. squad-v1.1-dev.json for questions written about some of them).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Exact match / F1 of the reader on a SQuAD file (closed or open book)."""
    from qa.read.neural import DEFAULT_MODEL_DIR, NeuralReader
    from qa.train.evaluate import evaluate

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
    r = NeuralReader(_reader_dir(reader or DEFAULT_MODEL_DIR), backend=backend, device=device)
    if not abstain:
        r.null_threshold = None
    res = evaluate(
        file, r, mode=mode, limit=limit, eval_split=eval_split, batch_size=batch_size, k=k,
        corpus=corpus,
    )  # fmt: skip
    res["backend"] = r.backend
    if record:
        from qa.train.loop import READER_JSON, write_model_card

        path = r.model_dir / READER_JSON
        meta = json.loads(path.read_text()) if path.exists() else {}
        meta.setdefault("evaluation", {})[record] = {
            k: round(v, 2) if isinstance(v, float) else v for k, v in res.items()
        }
        path.write_text(json.dumps(meta, indent=2) + "\n")
        write_model_card(r.model_dir)
    if as_json:
        typer.echo(json.dumps(res))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{Path(file).name} ({mode})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in res.items():
        table.add_row(k, f"{v:.2f}" if isinstance(v, float) else str(v))
    Console().print(table)


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
    from qa.read.neural import NeuralReader
    from qa.train.evaluate import calibrate_reader
    from qa.train.loop import write_model_card
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
    from qa.read.neural import NeuralReader
    from qa.train.evaluate import tune_length_penalty
    from qa.train.loop import write_model_card
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
    k: Annotated[int, typer.Option("--k", help="Passages read per question.", min=1, max=50)] = 3,
) -> None:
    """Set how much retrieval scores weigh against the reader's span scores.

    Tuned on the held-out articles' questions in the open setting (writes qa_reader.json).
    """
    from qa.read.neural import NeuralReader
    from qa.train.evaluate import tune_retrieval_weight
    from qa.train.loop import write_model_card

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
