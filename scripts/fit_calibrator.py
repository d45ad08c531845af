"""Fit the answer calibrator (``qa.read.confidence``) on SQuAD's tuning articles, open setting.

Tuning questions: the held-out articles of ``squad-v2.0-dev-half.json``
(``squad.HELDOUT_TITLES``: never trained on, never evaluated on; unanswerable questions
included, each answerable one counted ``ANSWERABLE_WEIGHT`` times), each asked as
``qa ask`` does with K=3 over every paragraph of SQuAD v1.1 dev. An answer is right when
its SQuAD F1 against the golds is at least 0.5 (an answer to an unanswerable question is
wrong). Feature sets and penalties are compared by leave-one-group-out log loss and ECE
(``qa.train.confidence.pick``: within ``LOG_LOSS_SLACK`` of the best log loss, the lowest
ECE on the worse of the two domains); the chosen one is fitted on all tuning answers and
written to the reader folder's ``confidence.json``, with the ``QA_MIN_CONFIDENCE`` table
on the tuning questions.

With ``--doctune``, the documentation tuning set (``data/doctune``: manuals, READMEs and
specifications, never evaluated on) is asked too, K=5 as on real documents, and fitted
with the SQuAD rows, so the calibrator also sees questions off SQuAD's shape; SQuAD's
answerable questions then count so that its unanswerable ones are the same share of its
weight as doctune's are of doctune's (``balanced_answerable_weights``). Files whose
questions the reader trained on (its record's ``--gold`` files, e.g.
``data/doctune/reader-train.json``) are left out, all their questions with them. With
``--tabletune`` as well, the questions on tables of ``data/tabletune`` (a tuning set) join
doctune's, grouped by file, as documentation: the calibrator then sees table cells read.

    .venv/bin/python scripts/fit_calibrator.py            # ask, compare, write
    .venv/bin/python scripts/fit_calibrator.py --reuse    # refit from bench/out's answers
    .venv/bin/python scripts/fit_calibrator.py --doctune  # SQuAD and data/doctune
    .venv/bin/python scripts/fit_calibrator.py --doctune --tabletune  # and data/tabletune

After any change to the reader or its decoding rules, refit without ``--reuse`` (the rows
hold the reader's answers; ``--reuse`` refuses rows another reader folder made):

    .venv/bin/python scripts/fit_calibrator.py --doctune --reader DIR   # DIR/confidence.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.core.config import Settings  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.read.confidence import CONFIDENCE_JSON, hinge  # noqa: E402
from qa.train import squad  # noqa: E402
from qa.train.confidence import (  # noqa: E402
    ANSWERABLE_WEIGHT,
    LOG_LOSS_SLACK,
    Asked,
    RecordingReader,
    balanced_answerable_weights,
    collect,
    cross_validate,
    cv_probabilities,
    fit,
    pick,
    rises_with,
    summary,
    threshold_table,
)
from qa.train.evaluate import documents  # noqa: E402

K = 3
DOC_K = 5  # as the real-documents benchmark asks
ROWS = ROOT / "bench" / "out" / "calibration-tune.json"
DOC_ROWS = ROOT / "bench" / "out" / "calibration-doctune.json"
DOCTUNE = ROOT / "data" / "doctune"
TABLE_ROWS = ROOT / "bench" / "out" / "calibration-tabletune.json"
TABLETUNE = ROOT / "data" / "tabletune"
# The feature sets compared (``qa.read.confidence.FEATURES``), simplest first.
_READER = ("span_logit", "null_margin", "second_share", "agreeing_passages")
_RETRIEVAL = (*_READER, "retrieval_score", "rank", "dense")
_ALL = (*_RETRIEVAL, "answer_words", "passages_read")
CANDIDATES = {
    "score": ("span_logit",),
    "score+margin": ("span_logit", "null_margin"),
    "reader": _READER,
    "reader+retrieval": _RETRIEVAL,
    "all": _ALL,
    # and what tells documentation from prose: code-like words in the passage, in the answer
    "all+code": (*_ALL, "code_share", "answer_code"),
    # and whether the answer's passage sits under a heading (documents have structure)
    "all+code+section": (*_ALL, "code_share", "answer_code", "sectioned"),
    # and how much of the question the answer's sentence restates
    "all+code+overlap": (*_ALL, "code_share", "answer_code", "question_overlap"),
    # and whether the answer is a cell of a table row (read among its neighbours' values)
    "all+code+section+table": (*_ALL, "code_share", "answer_code", "sectioned", "table_row"),
}
# Each set again with a hinge on the null margin: on the tuning answers, rightness is flat
# in the margin up to about 15 and climbs past it, which one linear weight cannot follow.
MARGIN_KNOTS = (10.0, 12.0, 14.0, 16.0, 18.0)
CANDIDATES |= {
    f"{name}+{hinge('null_margin', k)}": (*feats, hinge("null_margin", k))
    for name, feats in list(CANDIDATES.items())
    if "null_margin" in feats
    for k in MARGIN_KNOTS
}
PENALTIES = (0.1, 1.0, 10.0)
# times a data/doctune row counts in a fit (its rows are about a fifth of SQuAD's)
DOC_WEIGHTS = (1.0, 3.0)
THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)  # QA_MIN_CONFIDENCE values compared


def tuning_rows(reader_dir: Path, data: Path) -> list[Asked]:
    """Every tuning question asked through the engine, K=3."""
    reader = RecordingReader(reader_dir)
    reader.calibrator = None  # the features, not an older calibrator's output
    engine = Engine.in_memory(documents(data / squad.V1_DEV), Settings(), reader=reader)
    examples = squad.heldout_examples(data)
    questions = [(e.id, e.title, e.question, [a for a, _ in e.answers]) for e in examples]
    return collect(lambda q: engine.ask(q, K).answer, reader, questions)


def doctune_rows(reader_dir: Path) -> list[Asked]:
    """Every data/doctune question the reader did not train on, asked over the set's
    documents, K=5 (grouped by file): a calibrator fitted on answers to questions the
    reader learned would trust its answers on unseen documents too much."""
    from scripts.doctune_reader_train import untrained_questions

    return _ask_set(reader_dir, DOCTUNE, "doctune", untrained_questions(reader_dir))


def tabletune_rows(reader_dir: Path) -> list[Asked]:
    """Every data/tabletune question (the reader never trained on them), asked over the
    set's documents, K=5, grouped by file."""
    lines = (TABLETUNE / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return _ask_set(reader_dir, TABLETUNE, "tabletune", [json.loads(x) for x in lines if x])


def _ask_set(reader_dir: Path, folder: Path, name: str, qs: list[dict]) -> list[Asked]:
    """``qs`` (a documentation set's questions) asked over ``folder/docs``, K=5, each
    grouped as ``name:file``."""
    from qa.index import ingest

    reader = RecordingReader(reader_dir)
    reader.calibrator = None
    docs = ingest.scan(folder / "docs").documents
    engine = Engine.in_memory(docs, Settings(reader_dir=reader_dir), reader=reader)
    questions = [(q["id"], f"{name}:{q['file']}", q["question"], q["answers"]) for q in qs]
    return collect(lambda q: engine.ask(q, DOC_K).answer, reader, questions)


def _rows(
    path: Path, reuse: bool, reader_dir: Path, make: Callable[[], list[Asked]]
) -> list[Asked]:
    """The asked rows: from ``path`` with ``reuse`` (when the same reader made them), else
    asked now and stored there."""
    if reuse and path.exists():
        stored = json.loads(path.read_text())
        made_by = stored.get("reader") if isinstance(stored, dict) else None
        if made_by is not None and made_by != str(reader_dir.resolve()):
            raise SystemExit(
                f"{path} was asked with the reader {made_by}, not {reader_dir}: "
                "run without --reuse to ask the tuning questions with this reader"
            )
        return [Asked(**r) for r in (stored["rows"] if isinstance(stored, dict) else stored)]
    rows = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"reader": str(reader_dir.resolve()), "rows": [r.to_json() for r in rows]}
    path.write_text(json.dumps(record))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reader", type=Path, default=Settings().reader_dir)
    ap.add_argument("--data", type=Path, default=squad.DATA_DIR)
    ap.add_argument("--reuse", action="store_true", help=f"refit from {ROWS.name}")
    ap.add_argument("--dry-run", action="store_true", help="compare, write nothing")
    ap.add_argument("--doctune", action="store_true", help="fit on data/doctune as well")
    ap.add_argument(
        "--tabletune", action="store_true", help="and on data/tabletune (with --doctune)"
    )
    args = ap.parse_args(argv)
    if args.tabletune and not args.doctune:
        ap.error("--tabletune joins data/doctune's documentation rows: give --doctune too")
    rows = _rows(ROWS, args.reuse, args.reader, lambda: tuning_rows(args.reader, args.data))
    if args.doctune:
        rows += _rows(DOC_ROWS, args.reuse, args.reader, lambda: doctune_rows(args.reader))
    if args.tabletune:
        rows += _rows(TABLE_ROWS, args.reuse, args.reader, lambda: tabletune_rows(args.reader))
    answered = [r for r in rows if r.features is not None]
    print(
        f"{len(rows)} questions, {len(answered)} answered, {sum(r.right for r in answered)} right"
    )
    print("raw score:", summary(rows, lambda r: r.score))
    # with doctune, SQuAD's answerable questions count so that its unanswerable ones weigh
    # the share doctune's do: a domain feature then cannot learn the two sets' mixes
    aw = balanced_answerable_weights(rows) if args.doctune else ANSWERABLE_WEIGHT
    print("answerable weight:", aw)
    scores = {}
    for name, feats in CANDIDATES.items():
        for l2 in PENALTIES:
            for doc in DOC_WEIGHTS if args.doctune else (1.0,):
                scores[(name, l2, doc)] = cross_validate(rows, feats, l2, aw, doc)
                print(f"{name:18} l2={l2:<5} doc×{doc:<4} {scores[(name, l2, doc)]}")

    # a confidence that falls as the reader's null margin rises says the reader is surer
    # when it is less sure: such fits are not kept
    def rises(key: tuple[str, float, float]) -> bool:
        name, l2, doc = key
        return rises_with(fit(rows, CANDIDATES[name], l2, aw, doc), "null_margin")

    best = pick(scores, allowed=rises)
    name, l2, doc = best
    cal = fit(rows, CANDIDATES[name], l2, aw, doc)
    print("chosen:", name, l2, doc, dict(zip(cal.names, cal.weights.round(3), strict=True)))
    probs = cv_probabilities(rows, CANDIDATES[name], l2, aw, doc)
    table = threshold_table(rows, probs, THRESHOLDS, aw)
    print("QA_MIN_CONFIDENCE on the tuning questions (leave-one-article-out confidences):")
    for row in table:
        print("  ", row)
    record = {
        "tuning": "squad-v2.0-dev-half.json held-out articles "
        f"({', '.join(sorted(squad.HELDOUT_TITLES))}), open setting K={K} over SQuAD v1.1 dev"
        + (f"; data/doctune questions, K={DOC_K} over its documents" if args.doctune else "")
        + ("; data/tabletune questions, the same way" if args.tabletune else ""),
        "label": "right = SQuAD F1 >= 0.5 against the golds; unanswerable answered = wrong",
        "questions": len(rows),
        "answers": len(answered),
        "right": sum(r.right for r in answered),
        "feature_set": name,
        "l2": l2,
        "doc_weight": doc,
        "cv_log_loss": scores[best]["log_loss"],
        "cv_ece": scores[best]["ece"],
        "cv_by_domain": {k: v for k, v in scores[best].items() if k not in ("log_loss", "ece")},
        "selection": "leave-one-group-out (SQuAD article, doctune file); among the feature "
        f"sets, penalties and doctune weights within {LOG_LOSS_SLACK} of the best log loss, "
        "the lowest worst-domain ECE; only fits whose confidence never falls as the null "
        "margin rises",
        "answerable_weight": {k: round(v, 3) for k, v in aw.items()}
        if isinstance(aw, dict)
        else aw,
        "thresholds": table,
        "command": "scripts/fit_calibrator.py"
        + (" --doctune" if args.doctune else "")
        + (" --tabletune" if args.tabletune else ""),
    }
    cal = type(cal)(cal.names, cal.mean, cal.scale, cal.weights, cal.bias, record)
    if not args.dry_run:
        out = args.reader / CONFIDENCE_JSON
        out.write_text(json.dumps(cal.to_json(), indent=2) + "\n", encoding="utf-8")
        print("wrote", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
