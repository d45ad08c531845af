"""The options of ``qa train-reader`` and ``qa eval``, each declared once as an annotated
type: its flag, help text and checks (the defaults stay with the commands in ``cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qa.core.config import MAX_K

# --- train-reader's options ------------------------------------------------------------

Files = Annotated[list[Path], typer.Argument(help="SQuAD-format JSON training files.")]
Out = Annotated[Path, typer.Option("--out", help="Run folder (checkpoints, final export).")]
Epochs = Annotated[float, typer.Option(help="Epochs; fractions allowed.")]
MaxLength = Annotated[int, typer.Option("--max-length", help="Tokens per window.")]
Stride = Annotated[int, typer.Option(help="Token overlap between windows.")]
Answer = Annotated[
    str,
    typer.Option(
        "--answer",
        help="Gold answer to train on when a question has several: first (as listed) or "
        "consensus (the text most annotators gave, the shortest on a tie).",
    ),
]
BatchSize = Annotated[int, typer.Option("--batch-size")]
Lr = Annotated[float, typer.Option(help="Peak learning rate (warmup, then linear decay).")]
MaxSteps = Annotated[int | None, typer.Option("--max-steps")]
TimeBudget = Annotated[
    float | None,
    typer.Option("--time-budget", help="Training seconds; the decay follows this clock too."),
]
Resume = Annotated[bool, typer.Option("--resume", help="Continue from the newest checkpoint.")]
Seed = Annotated[int, typer.Option()]
Bf16 = Annotated[
    bool | None, typer.Option("--bf16/--fp32", help="Autocast (default: bf16 on CUDA only).")
]
ExcludeTitle = Annotated[
    list[str] | None, typer.Option("--exclude-title", help="Skip this article (repeatable).")
]
Fraction = Annotated[
    list[str] | None,
    typer.Option("--fraction", help="NAME=SHARE: keep this share of a file's questions."),
]
Export = Annotated[Path | None, typer.Option("--export", help="Export folder.")]
CheckpointEvery = Annotated[float, typer.Option("--checkpoint-every", help="Seconds.")]
Init = Annotated[
    Path | None,
    typer.Option("--init", help="Start from this model folder (e.g. a trained reader)."),
]
Threads = Annotated[
    int | None,
    typer.Option(help="CPU threads (default: tuned while training, all CPUs or one)."),
]
Teacher = Annotated[
    list[Path] | None,
    typer.Option(
        "--teacher",
        help="Distil from this trained reader (repeatable: their mean logits).",
    ),
]
DistillAlpha = Annotated[
    float,
    typer.Option("--distill-alpha", help="Share of the loss from the teachers (0–1)."),
]
DistillTemperature = Annotated[
    float, typer.Option("--distill-temperature", help="Softmax temperature.")
]
WindowsFrom = Annotated[
    Path | None,
    typer.Option(
        "--windows-from",
        help="Build the windows with this reader folder's tokenizer: for an --init model "
        "of another family with the same word-pieces (e.g. MPNet), read through a bridge.",
    ),
]
DistillLayers = Annotated[
    float,
    typer.Option(
        "--distill-layers",
        help="Weight of the loss on the first teacher's inner layers (attention maps and "
        "hidden states; 0: off). The teacher runs beside every step, and the student "
        "trains with eager attention and no attention dropout (slower).",
    ),
]
Augment = Annotated[
    int,
    typer.Option(
        "--augment",
        help="Shortened copies of each training passage to add (sentences without a "
        "gold answer left out at random; 0–10).",
    ),
]
Layers = Annotated[
    int | None,
    typer.Option(
        "--layers",
        help="Keep only the first N encoder layers of --init (a smaller, faster "
        "reader), or with N above its count (at most twice it) repeat its layers in "
        "order (a deeper, slower one).",
    ),
]
Gold = Annotated[
    list[Path] | None,
    typer.Option(
        "--gold",
        help="Another training file whose questions train on their gold spans only, "
        "even when distilling: the teachers do not read it (repeatable).",
    ),
]


# --- eval's options ----------------------------------------------------------------------

EvalFile = Annotated[Path, typer.Argument(help="SQuAD-format JSON file.")]
Mode = Annotated[str, typer.Option(help="closed (gold paragraph) or open (retrieval).")]
Limit = Annotated[int | None, typer.Option(help="A fixed random sample of N questions (seed 0).")]
AsJson = Annotated[bool, typer.Option("--json", help="Last line: one JSON object.")]
Reader = Annotated[Path | None, typer.Option("--reader", help="Reader model folder.")]
EvalBatchSize = Annotated[
    int, typer.Option("--batch-size", help="Closed mode: questions per forward pass.")
]
Abstain = Annotated[
    bool,
    typer.Option(
        "--abstain/--always-answer",
        help="Use the calibrated no-answer threshold (default) or always answer.",
    ),
]
EvalSplit = Annotated[
    bool,
    typer.Option("--eval-split/--all", help="Only the 32 evaluation articles of v1.1 dev."),
]
Backend = Annotated[
    str | None,
    typer.Option(help="Reader backend: onnx (int8, the CPU default) or torch (fp32)."),
]
Record = Annotated[
    str | None,
    typer.Option(help="Store the result under this name in the reader's qa_reader.json and card."),
]
Device = Annotated[str, typer.Option(help="cpu, or cuda (torch backend) to evaluate on a GPU.")]
K = Annotated[
    int | None,
    typer.Option(
        "--k",
        help="Open mode: passages retrieved per question (default QA_TOP_K, 3); "
        "those within QA_READ_FLOOR of the best are read.",
        min=1,
        max=MAX_K,
    ),
]
Corpus = Annotated[
    Path | None,
    typer.Option(
        "--corpus",
        help="Open mode: retrieve over every paragraph of this SQuAD file instead of "
        "FILE's own (e.g. squad-v1.1-dev.json for questions written about some of them).",
        exists=True,
        dir_okay=False,
    ),
]
Store = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Open mode: retrieve through the index in Milvus at this URI "
        "(milvus://host:19530/collection, or file:///path/milvus.db for milvus-lite) instead "
        "of an in-memory one; an empty collection gets FILE's (or --corpus's) paragraphs "
        "built into it first, an existing index is evaluated as it is.",
    ),
]
