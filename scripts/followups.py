"""The follow-up question set (data/followups): load it, and check it.

    .venv/bin/python scripts/followups.py            # check both splits, print their counts

Each line of ``data/followups/{tune,eval}.jsonl`` is one conversation of two or three
turns: ``{"id", "source": "seed"|"squad", "document" (seed) | "title" (squad), "turns":
[{"question", "answers", "paragraph" (squad)}]}``. The first turn is an ordinary question,
later ones lean on it ("When?", "Where was he born?", "And to the west?"); every turn has
its gold answers, each verbatim in the text it is asked about (the seed document, or the
SQuAD paragraph ``paragraph`` of the article ``title`` in squad-v1.1-dev.json).

SQuAD articles follow the project's split (``qa.train.squad``): ``tune`` uses only the
held-out articles (``HELDOUT_TITLES``: never trained or evaluated on), ``eval`` only the
32 evaluation articles; the seed document's conversations differ between the splits.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.train import squad  # noqa: E402

FOLDER = ROOT / "data" / "followups"
SPLITS = ("tune", "eval")


def load(split: str) -> list[dict[str, Any]]:
    """The conversations of ``split`` (``tune`` or ``eval``), in file order."""
    path = FOLDER / f"{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@cache
def articles() -> dict[str, list[str]]:
    """Every article of squad-v1.1-dev.json: title → its paragraphs' texts."""
    data = squad.read_articles(squad.DATA_DIR / squad.V1_DEV)
    return {a["title"]: [p["context"] for p in a["paragraphs"]] for a in data}


def allowed_titles(split: str) -> set[str]:
    """The SQuAD articles ``split`` may use: held-out (tune) or evaluation (eval) ones."""
    if split == "tune":
        return set(squad.HELDOUT_TITLES)
    return set(squad.eval_titles(squad.DATA_DIR))


def turn_text(conv: dict[str, Any], turn: dict[str, Any]) -> str:
    """The text a turn is asked about: the seed document, or its SQuAD paragraph."""
    if conv["source"] == "seed":
        return (ROOT / conv["document"]).read_text(encoding="utf-8")
    return articles()[conv["title"]][turn["paragraph"]]


def problems(split: str) -> list[str]:
    """Everything wrong with ``split``: bad shapes, unknown or wrong-split articles, gold
    answers not verbatim in their text."""
    out: list[str] = []
    allowed = allowed_titles(split)
    seen: set[str] = set()
    for conv in load(split):
        cid = conv.get("id", "?")
        if cid in seen:
            out.append(f"{cid}: the id is used twice")
        seen.add(cid)
        turns = conv.get("turns", [])
        if not 2 <= len(turns) <= 3:
            out.append(f"{cid}: {len(turns)} turns; a conversation has 2 or 3")
        if conv.get("source") == "seed":
            if not (ROOT / conv.get("document", "")).is_file():
                out.append(f"{cid}: no document {conv.get('document')!r}")
                continue
        elif conv.get("source") == "squad":
            title = conv.get("title")
            if title not in articles():
                out.append(f"{cid}: no article {title!r} in {squad.V1_DEV}")
                continue
            if title not in allowed:
                out.append(f"{cid}: {title!r} is not one of the {split} split's articles")
            for t in turns:
                if not 0 <= t.get("paragraph", -1) < len(articles()[title]):
                    out.append(f"{cid}: {title!r} has no paragraph {t.get('paragraph')}")
        else:
            out.append(f"{cid}: unknown source {conv.get('source')!r}")
            continue
        for i, t in enumerate(turns, 1):
            if not t.get("question", "").strip() or not t.get("answers"):
                out.append(f"{cid} turn {i}: a question and at least one answer are needed")
                continue
            if conv["source"] == "squad" and "paragraph" not in t:
                continue  # reported above
            text = turn_text(conv, t)
            for gold in t["answers"]:
                if gold not in text:
                    out.append(f"{cid} turn {i}: gold {gold!r} is not in the text")
    return out


def counts(split: str) -> dict[str, Any]:
    """Conversations and turns by source, and the articles used."""
    convs = load(split)
    by_source = Counter(c["source"] for c in convs)
    turns = Counter(c["source"] for c in convs for _ in c["turns"])
    return {
        "conversations": dict(by_source),
        "turns": dict(turns),
        "articles": sorted({c["title"] for c in convs if c["source"] == "squad"}),
    }


def main() -> int:
    bad = []
    for split in SPLITS:
        c = counts(split)
        print(
            f"{split}: {sum(c['conversations'].values())} conversations "
            f"({', '.join(f'{n} {s}' for s, n in sorted(c['conversations'].items()))}), "
            f"{sum(c['turns'].values())} turns; articles: {', '.join(c['articles'])}"
        )
        bad += [f"{split}: {p}" for p in problems(split)]
    tune = {c["title"] for c in load("tune") if c["source"] == "squad"}
    evaluation = {c["title"] for c in load("eval") if c["source"] == "squad"}
    bad += [f"article {t!r} is in both splits" for t in sorted(tune & evaluation)]
    for line in bad:
        print(line)
    print("ok" if not bad else f"{len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
