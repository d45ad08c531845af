"""Real documents: index data/realdocs/docs with the real engine, ask data/realdocs/questions.jsonl.

    .venv/bin/python bench/realdocs.py                # prints the table (and the ingest summary)
    .venv/bin/python bench/realdocs.py --json out.json
    .venv/bin/python bench/run.py --only realdocs     # the same as a section of BENCHMARKS.md
    .venv/bin/python bench/realdocs.py --set docheld  # the second held-out set (--only docheld)
    .venv/bin/python bench/realdocs.py --set doctables  # questions on tables (--only doctables)

The folder holds real PDFs, DOCX, HTML pages, Markdown with front matter and cp1252 text
(data/realdocs/SOURCES.md). Every file there is meant to be indexed; the ingest summary
says which were left out and why. Each question is asked with K=5 and scored:

- EM / F1: the SQuAD metric (`qa.train.squad.score`) of the answer against the golds;
  an abstention (no answer) scores 0.
- recall@5: one of the 5 citations comes from the question's file and its text holds a
  gold answer (whitespace-normalised).
- right file: the answer's own citation comes from the question's file.
- page (PDFs): the answer's citation's page equals the gold page; an abstention counts
  as wrong.
- latency: wall time of `engine.ask` per question, after two warm-up questions.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "realdocs"
DOCS = HERE / "docs"
QUESTIONS = HERE / "questions.jsonl"
# data/doctune and data/tabletune (tables) are the tuning twins (decoding rules, renderings,
# calibrators, domain adaptation are judged there), with data/mantune (man pages) and
# data/rsttune (reStructuredText) and data/infotune (GNU Info manuals); data/realdocs,
# data/docheld, data/doctables, data/rstheld and data/infoheld are evaluation sets and are
# only ever measured
SETS = {
    name: ROOT / "data" / name
    for name in (
        "realdocs",
        "docheld",
        "doctables",
        "rstheld",
        "infoheld",
        "doctune",
        "tabletune",
        "mantune",
        "rsttune",
        "infotune",
    )
}
FORMATS = ("pdf", "docx", "html", "markdown", "rst", "text", "man", "info")
K = 5
SHORT_WORDS = 5  # a passage of fewer words counts as short


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _flat(s: str) -> str:
    return " ".join(s.split())


def build(
    reader_dir: Path | None = None,
    encoder: Any = None,
    reader: Any = None,
    docs: Path = DOCS,
) -> tuple[Any, Any, dict[str, Any]]:
    """(engine, what ingest.scan gave, the ingest record) over ``docs`` (data/realdocs/docs)."""
    from qa.core.config import Settings
    from qa.engine import Engine
    from qa.index import ingest

    t0 = time.perf_counter()
    loaded = ingest.scan(docs)
    t1 = time.perf_counter()
    settings = Settings(
        index_dir=ROOT / "bench" / "out" / "unused-index",
        reader_dir=reader_dir or Settings().reader_dir,
    )
    engine = Engine.in_memory(loaded.documents, settings, encoder=encoder, reader=reader)
    t2 = time.perf_counter()
    store = engine.store
    words = [len(p.text.split()) for d in store.documents for p in store.doc_passages(d)]
    short = sum(1 for n in words if n < SHORT_WORDS)
    found = collections.Counter(str(d.meta.get("format", "?")) for d in loaded.documents)
    formats = {f: found[f] for f in [*FORMATS, *sorted(set(found) - set(FORMATS))] if f in found}
    record = {
        "files": len(loaded.documents) + len(loaded.skipped),
        "indexed": len(loaded.documents),
        "indexed_by_format": formats,
        "skipped": dict(collections.Counter(s.reason for s in loaded.skipped)),
        "skipped_files": [
            {"file": Path(s.source).name, "reason": s.reason, "detail": s.detail}
            for s in loaded.skipped
        ],
        "characters": sum(len(d.text) for d in loaded.documents),
        "passages": len(words),
        "short_passages": short,
        "short_share": round(short / max(len(words), 1), 4),
        "read_s": round(t1 - t0, 2),
        "build_s": round(t2 - t1, 2),
    }
    return engine, loaded, record


def ask_one(engine: Any, q: dict[str, Any]) -> dict[str, Any]:
    """One question asked with K=5, scored (see the module docstring)."""
    from qa.train import squad

    t0 = time.perf_counter()
    resp = engine.ask(q["question"], K)
    ms = (time.perf_counter() - t0) * 1000
    name = Path(q["file"]).name
    golds = [_flat(a) for a in q["answers"]]
    pred = resp.answer.text if resp.answer is not None else None
    # no answer scores 0/0 when there are golds; with none (doctune), abstaining scores 1/1
    em, f1 = squad.score(pred, q["answers"])
    cited = [c for c in resp.citations[:K] if Path(c.source).name == name]
    recall = any(g in _flat(c.text) for c in cited for g in golds)
    own = None
    if resp.answer is not None:
        own = next((c for c in resp.citations if c.id == resp.answer.passage_id), None)
    row = {
        "id": q["id"],
        "format": q["format"],
        "prediction": pred,
        "em": em,
        "f1": round(f1, 4),
        f"recall@{K}": recall,
        "right_file": own is not None and Path(own.source).name == name,
        "confidence": None
        if resp.answer is None or resp.answer.confidence is None
        else round(resp.answer.confidence, 3),
        "ms": round(ms, 1),
    }
    if not q["answers"]:
        row["unanswerable"] = True
    if q["format"] == "pdf" and q.get("page"):
        row["page"] = getattr(own, "page", None) if own is not None else None
        row["page_ok"] = row["page"] == q["page"]
    return row


def _summary(all_rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """EM/F1, recall and abstentions over the answerable questions; the unanswerable ones
    (doctune only) are counted apart: how many were rightly left unanswered."""
    rows = [r for r in all_rows if not r.get("unanswerable")]
    none = [r for r in all_rows if r.get("unanswerable")]

    def share(key: str) -> float:
        return round(100 * statistics.fmean(float(r[key]) for r in rows), 1)

    out: dict[str, Any] = {
        "questions": len(rows),
        "em": share("em"),
        "f1": share("f1"),
        f"recall@{K}": share(f"recall@{K}"),
        "right_file": share("right_file"),
        "abstained": sum(1 for r in rows if r["prediction"] is None),
        "p50_ms": round(statistics.median(r["ms"] for r in all_rows), 1),
    }
    if none:
        out["unanswerable"] = len(none)
        out["unanswerable_abstained"] = sum(1 for r in none if r["prediction"] is None)
    pdf = [r for r in rows if "page_ok" in r]
    if pdf:
        out["page_accuracy"] = round(100 * statistics.fmean(float(r["page_ok"]) for r in pdf), 1)
        out["page_missing"] = sum(1 for r in pdf if r["prediction"] is not None and not r["page"])
    return out


def run(
    reader_dir: Path | None = None,
    encoder: Any = None,
    reader: Any = None,
    per_format: int | None = None,
    folder: Path = HERE,
) -> dict[str, Any]:
    """The whole benchmark as the part bench/run.py stores (``per_format``: a quick sample;
    ``folder``: data/realdocs, or data/doctune for tuning)."""
    questions = load_questions(folder / "questions.jsonl")
    if per_format:
        questions = [q for i, q in enumerate(questions) if _rank(questions, i) < per_format]
    engine, _, record = build(reader_dir, encoder, reader, docs=folder / "docs")
    for q in questions[:2]:  # warm-up, not counted
        engine.ask(q["question"], K)
    rows = [ask_one(engine, q) for q in questions]
    by_fmt = {f: [r for r in rows if r["format"] == f] for f in FORMATS}
    kinds: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for q, r in zip(questions, rows, strict=True):
        if "kind" in q and q["answers"]:  # data/doctables: table cells, prose
            kinds[q["kind"]].append(r)
    return {
        "corpus": f"data/{folder.name}/docs (SOURCES.md): real PDF, DOCX, HTML, Markdown "
        "and text documents from Debian and npm packages",
        "k": K,
        "ingest": record,
        "formats": {f: _summary(rs) for f, rs in by_fmt.items() if rs},
        "overall": _summary(rows),
        "kinds": {k: _summary(rs) for k, rs in sorted(kinds.items())},
        "questions": rows,
        "sample": f"first {per_format} questions a format" if per_format else "all questions",
        "command": ".venv/bin/python bench/realdocs.py"
        + ("" if folder == HERE else f" --set {folder.name}"),
    }


def _rank(questions: Sequence[dict[str, Any]], i: int) -> int:
    """How many questions of the same format come before question ``i``."""
    return sum(1 for q in questions[:i] if q["format"] == questions[i]["format"])


def render(part: dict[str, Any]) -> list[str]:
    """Markdown lines: the table (a row a format, then all) and the ingest summary."""
    ing = part["ingest"]
    first = "format or kind" if part.get("kinds") else "format"
    header = [first, "questions", "EM", "F1", f"recall@{K}", "right file", "abstained"]
    header += ["page accuracy (PDF)", "ask p50 ms"]
    unanswerable = "unanswerable" in part["overall"]
    if unanswerable:
        header.append("unanswerable left unanswered")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows = [*part["formats"].items(), *part.get("kinds", {}).items(), ("all", part["overall"])]
    for name, s in rows:
        page = f"{s['page_accuracy']}%" if "page_accuracy" in s else "–"
        cells = [name, s["questions"], s["em"], s["f1"], f"{s[f'recall@{K}']}%"]
        cells += [f"{s['right_file']}%", s["abstained"], page, s["p50_ms"]]
        if unanswerable:
            none = s.get("unanswerable")  # a kind's row (table cells, prose) has none
            cells.append(f"{s['unanswerable_abstained']} of {none}" if none else "–")
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    skipped = ", ".join(f"{r['file']} ({r['reason']})" for r in ing["skipped_files"]) or "none"
    by_fmt = ", ".join(f"{n} {f}" for f, n in ing.get("indexed_by_format", {}).items())
    lines += [
        "",
        f"Ingest: {ing['files']} files, {ing['indexed']} indexed ({by_fmt}), skipped: "
        f"{skipped}; {ing['characters']:,} characters, {ing['passages']:,} passages, "
        f"{ing['short_passages']} under {SHORT_WORDS} words "
        f"({100 * ing['short_share']:.1f}%); read {ing['read_s']} s, Engine.in_memory "
        f"{ing['build_s']} s. K={part['k']}, {part['sample']}. Metrics: SQuAD EM/F1 "
        "(abstentions score 0); recall@5 = a citation from the question's file holds a "
        "gold answer; right file = the answer's citation is from that file; page accuracy "
        "= the answer's citation page is the gold page. Command: "
        f"`{part['command']}`.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reader", type=Path, help="reader weights folder (default: qa's)")
    ap.add_argument("--per-format", type=int, help="ask only the first N questions a format")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--set", choices=sorted(SETS), default="realdocs", help="question set")
    args = ap.parse_args(argv)
    part = run(args.reader, per_format=args.per_format, folder=SETS[args.set])
    if args.json:
        args.json.write_text(json.dumps(part, indent=2) + "\n")
    print("\n".join(render(part)))
    wrong = [r["id"] for r in part["questions"] if not r["em"]]
    print(f"\nnot exact ({len(wrong)}): {', '.join(wrong)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
