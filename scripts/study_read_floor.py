"""How the read floor (``QA_READ_FLOOR``) trades answer quality for reading time.

``qa ask`` reads the best retrieved passage and every other one whose fused retrieval
score reaches the floor times the best one's; the rest are cited but not read, unless
the passages read hold no answer (then all are read, and counted twice below). Questions for which
``qa.retrieve.retriever.selective`` says the scores say little (fewer than 3 content terms, or
asking who someone is) read every passage. This script reads each question's top K
passages once, then re-decides the answer for every floor and K from the same spans (a
passage's spans do not depend on the other passages read with it), as ``qa ask`` gives
it (the no-answer threshold applies):

- tuning: the answerable questions of the held-out articles (never trained or evaluated
  on) over all 2,067 paragraphs of SQuAD v1.1 dev, and the "who is" questions made from
  the training articles (``data/definitions/train.json``) over the training files'
  paragraphs;
- report: the seed-0 sample of evaluation questions that ``qa eval --mode open`` uses,
  and the "who is" questions of the evaluation articles (``data/definitions/eval.json``),
  over all 2,067 paragraphs of SQuAD v1.1 dev.

The shipped floor is the largest one that costs nothing on the tuning sets at every K
shown. ``--everything`` reads by the floor alone, without ``selective``. Retrieval uses
the default settings (``QA_ALPHA`` and the like are not read).

    .venv/bin/python scripts/study_read_floor.py [--k 3 5 10] [--limit 1500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.core.config import Settings  # noqa: E402
from qa.core.types import Answer, Hit  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.read.decide import Candidate, choose, gate_null_margin  # noqa: E402
from qa.read.reader import NeuralReader  # noqa: E402
from qa.retrieve import selective, within_floor  # noqa: E402
from qa.train import squad  # noqa: E402
from qa.train.evaluate import documents, select  # noqa: E402

FLOORS = (0.0, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)
TRAIN_FILES = (
    "squadshifts-new-wiki.json",
    "squad-v2.0-dev-half.json",
    "squadshifts-reddit.json",
    "squadshifts-amazon-reviews.json",
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, nargs="+", default=[3, 5, 10])
    ap.add_argument("--limit", type=int, default=1500, help="evaluation questions (seed 0)")
    ap.add_argument("--floors", type=float, nargs="+", default=list(FLOORS))
    ap.add_argument("--reader", type=Path, default=Settings().reader_dir)
    ap.add_argument("--data", type=Path, default=squad.DATA_DIR)
    ap.add_argument("--everything", action="store_true", help="apply the floor to every question")
    args = ap.parse_args(argv)
    v1 = args.data / squad.V1_DEV
    train_files = [args.data / n for n in TRAIN_FILES]
    reader = NeuralReader(args.reader).load()
    definitions = ROOT / "data" / "definitions"
    heldout = [ex for ex in squad.load(v1, titles=sorted(squad.HELDOUT_TITLES)) if ex.answers]
    sets = {
        "held-out articles (tuning)": (heldout, [v1]),
        '"who is", training articles (tuning)': (
            squad.load(definitions / "train.json"),
            train_files,
        ),
        "evaluation sample": (select(v1, limit=args.limit), [v1]),
        '"who is", evaluation articles': (squad.load(definitions / "eval.json"), [v1]),
    }
    engines: dict[tuple[Path, ...], Engine] = {}
    top = max(args.k)
    for name, (examples, corpus) in sets.items():
        key = tuple(corpus)
        if key not in engines:
            docs = [d for f in corpus for d in documents(f)]
            engines[key] = Engine.in_memory(docs, reader=reader)
        engine = engines[key]
        read = []
        for ex in tqdm(examples, desc=name, file=sys.stderr, mininterval=5):
            hits = engine.retrieve(ex.question, top)
            cands = reader.candidates(ex.question, hits, 0.0)
            by_floor = args.everything or selective(ex.question)
            read.append(([a for a, _ in ex.answers], hits, cands, by_floor))
        print(f"\n{name}: {len(examples)} questions, F1 (passages read on average)")
        print("| floor | " + " | ".join(f"K={k}" for k in args.k) + " |")
        print("|---|" + "---|" * len(args.k))
        for floor in args.floors:
            cells = []
            for k in args.k:
                f1s, counts = [], []
                for gold, hits, cands, by_floor in read:
                    n = len(within_floor(hits[:k], floor if by_floor else 0.0))  # the first n
                    answer = decided(reader, [c for c in cands if c.hit_index < n], hits)
                    if answer is None and n < len(hits[:k]):  # ask reads them all again
                        answer = decided(reader, [c for c in cands if c.hit_index < k], hits)
                        n += len(hits[:k])
                    f1s.append(squad.score(answer.text if answer else None, gold)[1])
                    counts.append(n)
                cells.append(f"{100 * statistics.fmean(f1s):.2f} ({statistics.fmean(counts):.2f})")
            print(f"| {floor:g} | " + " | ".join(cells) + " |")
    return 0


def decided(reader: NeuralReader, cands: list[Candidate], hits: list[Hit]) -> Answer | None:
    """The answer ``reader.read`` gives from these candidates (no-answer threshold applied)."""
    return gate_null_margin(choose(cands, hits), reader.null_threshold)


if __name__ == "__main__":
    raise SystemExit(main())
