"""Set the reader's no-answer threshold on SQuAD's held-out articles and data/doctune together.

    .venv/bin/python scripts/tune_null_threshold.py            # print the table, write the choice
    .venv/bin/python scripts/tune_null_threshold.py --dry-run  # print only

``qa calibrate-reader`` chooses the threshold on SQuAD's held-out articles alone, closed
book; there half the questions are unanswerable ones written to look answerable, so the
threshold it picks is strict, and on documentation it turns away answerable questions
(on data/doctune's files the reader never trained on, 16% of them at 6.7). This script
asks both tuning sets as ``qa ask`` does (SQuAD open, K=3 over every v1.1 dev paragraph;
doctune K=5 over its documents, the files the reader trained on left out), reads each
question once, and scores every threshold of ``GRID`` by the mean of two F1s: SQuAD's with
each answerable question counted ``ANSWERABLE_WEIGHT`` times (as ``calibrate-reader``
counts them) and doctune's over all its questions (an abstention on an unanswerable one
scores 1). Among the thresholds that turn away at most ``MAX_TURNED_AWAY`` of doctune's
answerable questions (the issue's bound on false abstentions: past it the best mean buys
SQuAD's unanswerable questions with documentation's answers), the best mean (on a tie, the
lower threshold) is written to the reader folder's ``qa_reader.json``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.core.config import Settings  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.read import decide  # noqa: E402
from qa.read.meta import update_meta  # noqa: E402
from qa.retrieve import selective, within_floor  # noqa: E402
from qa.train import squad  # noqa: E402
from qa.train.confidence import ANSWERABLE_WEIGHT  # noqa: E402
from qa.train.evaluate import documents  # noqa: E402
from scripts.doctune_reader_train import untrained_questions  # noqa: E402

DOCTUNE = ROOT / "data" / "doctune"
MAX_TURNED_AWAY = 0.10  # share of doctune's answerable questions a threshold may turn away
GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 8.0)
Asked = tuple[list[str], Any, Any]  # golds, proposal from the passages read, from all K


def ask_all(engine: Engine, questions: Sequence[tuple[str, list[str]]], k: int) -> list[Asked]:
    """Each question's proposals before the no-answer gate, as ``Engine.ask`` reads: the
    passages over the read floor, and all ``k`` for when those hold no answer."""
    from tqdm import tqdm

    reader: Any = engine.reader
    rules = reader.rules
    out = []
    for q, golds in tqdm(questions, desc="ask", file=sys.stderr, mininterval=5):
        hits = engine.retrieve(q, k)
        to_read = within_floor(hits, engine.settings.read_floor if selective(q) else 0.0)
        first = decide.choose(reader.candidates(q, to_read, decide.GROUP_FLOOR), to_read, q, rules)
        rest = None
        if len(to_read) < len(hits):
            rest = decide.choose(reader.candidates(q, hits, decide.GROUP_FLOOR), hits, q, rules)
        out.append((golds, first, rest))
    return out


def f1_at(asked: Sequence[Asked], threshold: float, answerable_weight: float) -> float:
    """F1 (0–100) when proposals whose null margin is under ``threshold`` abstain."""
    total = weight = 0.0
    for golds, first, rest in asked:
        chosen = next((p for p in (first, rest) if p is not None and p.margin >= threshold), None)
        f1 = squad.score(chosen.answer.text if chosen is not None else None, golds)[1]
        w = answerable_weight if golds else 1.0
        total, weight = total + w * f1, weight + w
    return 100 * total / weight


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reader", type=Path, default=Settings().reader_dir)
    ap.add_argument("--data", type=Path, default=squad.DATA_DIR)
    ap.add_argument("--dry-run", action="store_true", help="print the table, write nothing")
    args = ap.parse_args(argv)
    from qa.index import ingest

    settings = Settings(reader_dir=args.reader)
    sq_engine = Engine.in_memory(documents(args.data / squad.V1_DEV), settings)
    examples = squad.heldout_examples(args.data)
    sq = ask_all(sq_engine, [(e.question, [a for a, _ in e.answers]) for e in examples], 3)
    qs = untrained_questions(args.reader)
    doc_engine = Engine.in_memory(ingest.scan(DOCTUNE / "docs").documents, settings)
    doc = ask_all(doc_engine, [(q["question"], q["answers"]) for q in qs], 5)
    table = []
    for t in GRID:
        s, d = f1_at(sq, t, ANSWERABLE_WEIGHT), f1_at(doc, t, 1.0)
        abstained = sum(
            1 for g, a, b in doc if g and not any(p is not None and p.margin >= t for p in (a, b))
        )
        row = {"threshold": t, "squad_f1": round(s, 2), "doctune_f1": round(d, 2)}
        row |= {"mean": round((s + d) / 2, 2), "doctune_answerable_abstained": abstained}
        table.append(row)
        print(table[-1])
    n_doc = sum(1 for g, _, _ in doc if g)
    allowed = [r for r in table if r["doctune_answerable_abstained"] <= MAX_TURNED_AWAY * n_doc]
    if not allowed:
        raise SystemExit(
            f"every threshold turns away more than {MAX_TURNED_AWAY:.0%} of doctune's "
            f"{n_doc} answerable questions: extend GRID downwards"
        )
    best = max(allowed, key=lambda r: r["mean"])
    print(f"chosen: {best['threshold']} ({n_doc} answerable doctune questions)")
    if not args.dry_run:
        record = {
            "squad": f"held-out articles {', '.join(sorted(squad.HELDOUT_TITLES))}, open K=3, "
            f"{len(sq)} questions, answerable x{ANSWERABLE_WEIGHT:g}",
            "doctune": f"{len(doc)} questions ({n_doc} answerable) on the files the reader "
            "did not train on, K=5",
            "table": table,
            "rule": f"best mean F1 among thresholds turning away at most {MAX_TURNED_AWAY:.0%} "
            "of doctune's answerable questions",
            "command": "scripts/tune_null_threshold.py",
        }

        def store(meta: dict[str, Any]) -> None:
            meta["null_threshold"] = best["threshold"]
            meta["null_threshold_tuning"] = record

        update_meta(args.reader, store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
