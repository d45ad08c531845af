"""Follow-up questions in a chat: EM/F1 of the reader reading the last turn as it is
(before) and as it stands in the conversation (after, ``qa.serve.followup.RULE``).

Runs the conversations of ``data/followups`` (``scripts/followups.py`` checks them) with
the real engine (the shipped embedder and reader) over the seed document and every
paragraph of the SQuAD articles the conversations use, K=3, the way the chat endpoint
answers: each turn is retrieved with the recent turns when it is a follow-up, and read as
the rule says, the earlier turns' answers being the engine's own. On the tune split every
rule is scored (the rule was chosen there); on the eval split, before and after only.
It also checks that a question that is not a follow-up reaches the reader unchanged: the
single-turn seed questions of ``bench/load.py`` get the same answers through the chat
path as from ``Engine.ask``.

    .venv/bin/python bench/followups.py                    # writes bench/parts/followups.json
    .venv/bin/python bench/followups.py --out /tmp/f.json --k 5
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from qa.core.config import Settings  # noqa: E402
from qa.core.types import Document, Response  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.index import ingest  # noqa: E402
from qa.serve import followup  # noqa: E402
from qa.serve.routes.chat import answer_chat  # noqa: E402
from qa.train import squad  # noqa: E402
from scripts import followups as data  # noqa: E402

OUT = ROOT / "bench" / "parts" / "followups.json"


def documents() -> list[Document]:
    """The seed document, and every paragraph of the articles the conversations use."""
    titles = sorted(
        {c["title"] for s in data.SPLITS for c in data.load(s) if c["source"] == "squad"}
    )
    docs = list(ingest.load(ROOT / "seeds"))
    for title in titles:
        for i, text in enumerate(data.articles()[title]):
            docs.append(Document.from_text(text, source=f"{title}#{i}", title=title))
    return docs


def seed_questions() -> list[str]:
    """``QUESTIONS`` of bench/load.py, read from its source (it is a script, not a module)."""
    tree = ast.parse((ROOT / "bench" / "load.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "QUESTIONS" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise LookupError("bench/load.py has no QUESTIONS")


class Asker:
    """``Engine.ask`` with the answers kept: the same read and retrieval query is answered
    once whatever the rule (the first turns, and follow-ups a rule leaves as they are)."""

    def __init__(self, engine: Engine, k: int) -> None:
        self.engine, self.k = engine, k
        self.cache: dict[tuple[str, str], Response] = {}

    def __call__(self, question: str, retrieval_query: str) -> Response:
        key = (question, retrieval_query)
        if key not in self.cache:
            self.cache[key] = self.engine.ask(question, self.k, retrieval_query=retrieval_query)
        return self.cache[key]


def run_rule(ask: Asker, convs: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    """Every turn of ``convs`` as the chat answers it under ``rule``: read as, answer, scores."""
    limit = ask.engine.settings.max_question_chars
    rows = []
    for conv in convs:
        turns: list[str] = []
        answers: list[str | None] = []
        for i, t in enumerate(conv["turns"], 1):
            turns.append(t["question"])
            read = followup.reader_question(turns, [*answers, None], limit, rule)
            resp = ask(read, followup.retrieval_query(turns, limit))
            pred = resp.answer.text if resp.answer else None
            answers.append(pred)
            em, f1 = squad.score(pred, t["answers"])
            rows.append(
                {
                    "id": conv["id"],
                    "turn": i,
                    "follow_up": i > 1 and followup.is_follow_up(t["question"]),
                    "question": t["question"],
                    "read_as": read,
                    "answer": pred,
                    "em": em,
                    "f1": f1,
                }
            )
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """EM/F1 (0-100) overall, on first turns, on later turns, and per turn number."""
    groups: dict[str, Callable[[dict[str, Any]], bool]] = {
        "all": lambda r: True,
        "turn 1": lambda r: r["turn"] == 1,
        "later turns": lambda r: r["turn"] > 1,
        "turn 2": lambda r: r["turn"] == 2,
        "turn 3": lambda r: r["turn"] == 3,
    }
    out = {}
    for name, keep in groups.items():
        picked = [r for r in rows if keep(r)]
        n = len(picked)
        out[name] = {
            "n": n,
            "em": round(100 * sum(r["em"] for r in picked) / max(n, 1), 1),
            "f1": round(100 * sum(r["f1"] for r in picked) / max(n, 1), 1),
        }
    return out


def single_turn_check(engine: Engine, k: int) -> dict[str, Any]:
    """The seed questions alone through the chat path give ``Engine.ask``'s answers; as a
    second turn (after the question before them) they reach the reader as they are, and
    those that are not follow-ups (retrieved alone too) get the same answers."""
    questions = seed_questions()
    limit = engine.settings.max_question_chars

    def key(resp: Response) -> tuple[Any, ...] | None:
        a = resp.answer
        return None if a is None else (a.text, a.doc_id, a.start, a.end)

    alone = [key(engine.ask(q, k)) for q in questions]
    chat = [key(answer_chat(engine, [q], k)) for q in questions]
    before = [*questions[-1:], *questions[:-1]]
    pairs = list(zip(before, questions, alone, strict=True))
    unchanged = [followup.reader_question([p, q], [None, None], limit) == q for p, q, _ in pairs]
    second = [
        key(answer_chat(engine, [p, q], k, answers=[None, None])) == want
        for p, q, want in pairs
        if not followup.is_follow_up(q)
    ]
    return {
        "questions": len(questions),
        "identical_alone": sum(a == b for a, b in zip(alone, chat, strict=True)),
        "read_unchanged_as_second_turn": sum(unchanged),
        "not_follow_ups": len(second),
        "identical_as_second_turn": sum(second),
        "follow_ups_by_the_heuristic": [q for q in questions if followup.is_follow_up(q)],
    }


def table(results: dict[str, Any]) -> str:
    """The figures as a plain-text table."""
    lines = [f"{'split':6} {'rule':8} {'group':12} {'n':>3} {'EM':>6} {'F1':>6}"]
    for split in ("tune", "eval"):
        for rule, res in results[split].items():
            for group, s in res["summary"].items():
                if s["n"]:
                    lines.append(
                        f"{split:6} {rule:8} {group:12} {s['n']:3d} {s['em']:6.1f} {s['f1']:6.1f}"
                    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--tune-only", action="store_true", help="score the rules on tune only")
    args = ap.parse_args(argv)
    bad = [p for s in data.SPLITS for p in data.problems(s)]
    if bad:
        print("\n".join(bad), file=sys.stderr)
        return 1
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.in_memory(documents(), Settings(index_dir=Path(tmp) / "idx"))
    ask = Asker(engine, args.k)
    kept = followup.RULE
    results: dict[str, Any] = {"tune": {}, "eval": {}}
    for rule in followup.RULES:
        rows = run_rule(ask, data.load("tune"), rule)
        results["tune"][rule] = {"summary": summary(rows)}
    for name, rule in () if args.tune_only else (("before", "last"), ("after", kept)):
        rows = run_rule(ask, data.load("eval"), rule)
        results["eval"][name] = {"rule": rule, "summary": summary(rows), "turns": rows}
    print(table(results))
    if args.tune_only:
        return 0
    check = single_turn_check(engine, args.k)
    print(
        f"single turns: {check['identical_alone']}/{check['questions']} identical alone, "
        f"{check['read_unchanged_as_second_turn']}/{check['questions']} read unchanged as a "
        f"second turn, {check['identical_as_second_turn']}/{check['not_follow_ups']} "
        "non-follow-ups answered identically as a second turn"
    )
    docs, passages = engine.size()
    record = {
        "k": args.k,
        "rule": kept,
        "rules": list(followup.RULES),
        "set": {s: data.counts(s) for s in data.SPLITS},
        "index": f"seeds/ and every paragraph of the set's SQuAD articles: {docs} documents, "
        f"{passages} passages",
        "reader": str(engine.settings.reader_dir),
        "before": "the reader reads the last turn as it is (retrieval with the recent turns)",
        "after": f"follow-ups read by the rule {kept!r} (qa.serve.followup.reader_question)",
        **results,
        "single_turn": check,
        "command": ".venv/bin/python bench/followups.py"
        + (f" --k {args.k}" if args.k != 3 else ""),
        "wall_s": round(time.monotonic() - t0, 1),
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
