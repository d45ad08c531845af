"""data/tabletrain (rule-made training questions on table rows): well-formed SQuAD JSON whose
answers are verbatim spans of their contexts, capped per passage, page and package, its
tuning packages apart from its training ones, and kept apart from every question set:
no package that data/realdocs, data/docheld, data/doctables, data/tabletune, data/doctune
or data/doctrain uses, no question text asked there. Also the rules themselves on a small
passage.

Fast: no models, no downloads (re-creating the folder needs apt; see its README).
"""

from __future__ import annotations

import collections
import json
import random
from pathlib import Path
from typing import Any

import pytest

from scripts import docheld, doctables, doctune, make_doctrain, make_tabletrain, tabletune

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "tabletrain"
SETS = ("realdocs", "docheld", "doctables", "doctune", "tabletune")


def norm(s: str) -> str:
    return " ".join(s.lower().split())


def _rows(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [
        {"title": a["title"], "context": p["context"], **q}
        for a in data
        for p in a["paragraphs"]
        for q in p["qas"]
    ]


@pytest.fixture(scope="module")
def rows() -> dict[str, list[dict[str, Any]]]:
    return {"train": _rows(HERE / "train.json"), "tune": _rows(HERE / "tune.json")}


def test_answers_are_verbatim_spans_and_questions_unique(
    rows: dict[str, list[dict[str, Any]]],
) -> None:
    every = rows["train"] + rows["tune"]
    assert 400 <= len(rows["train"]) <= 3000 and len(rows["tune"]) >= 60
    assert len({r["id"] for r in every}) == len(every), "ids repeat"
    assert len({norm(r["question"]) for r in every}) == len(every), "question texts repeat"
    for r in every:
        (a,) = r["answers"]
        start, text = a["answer_start"], a["text"]
        assert text and text == text.strip(), r["id"]
        assert r["context"][start : start + len(text)] == text, r["id"]
        assert r["context"].count(text) == 1, r["id"]  # the row is what tells it
        assert r["question"].endswith("?"), r["id"]
        assert norm(text) not in norm(r["question"]), r["id"]


def test_capped_and_tuning_packages_apart(rows: dict[str, list[dict[str, Any]]]) -> None:
    m = make_tabletrain
    package = {name: name.split("/", 1)[0] for name in _sums()}
    for part in rows.values():
        assert {r["title"] for r in part} <= set(package)
        per_file = collections.Counter(r["title"] for r in part)
        per_passage = collections.Counter(r["context"] for r in part)
        assert max(per_file.values()) <= m.PER_FILE
        assert max(per_passage.values()) <= m.PER_PASSAGE
    per_pkg = collections.Counter(package[r["title"]] for r in rows["train"])
    assert max(per_pkg.values()) <= m.PER_PACKAGE
    assert not set(per_pkg) & set(m.TUNE_PACKAGES)
    assert {package[r["title"]] for r in rows["tune"]} <= set(m.TUNE_PACKAGES)


def _sums() -> dict[str, str]:
    pairs = (line.split("  ", 1) for line in (HERE / "SHA256SUMS").read_text().splitlines())
    return {name: digest for digest, name in pairs}


def test_every_package_recorded() -> None:
    """Each page's sha256 is recorded; each package is in SOURCES.md at its version."""
    sources = (HERE / "SOURCES.md").read_text(encoding="utf-8")
    names = {p for p, _, _, _ in make_tabletrain.PACKAGES}
    assert {name.split("/", 1)[0] for name in _sums()} == names
    assert all(f"`{p}`" in sources and v in sources for p, v, _, _ in make_tabletrain.PACKAGES)


def test_kept_apart_from_every_question_set(rows: dict[str, list[dict[str, Any]]]) -> None:
    ours = {p for p, _, _, _ in make_tabletrain.PACKAGES}
    theirs = {s.package for s in (*doctune.FILES, *doctune.rd.FILES, *docheld.FILES)}
    theirs |= {s.package for s in doctables.FILES}
    theirs |= {s.package for s in tabletune.FILES}
    theirs |= {s.package for s in make_doctrain.FILES}
    assert not ours & theirs
    asked = set()
    for name in SETS:
        text = (ROOT / "data" / name / "questions.jsonl").read_text(encoding="utf-8")
        asked |= {norm(json.loads(line)["question"]) for line in text.splitlines() if line}
    every = rows["train"] + rows["tune"]
    assert not [r["id"] for r in every if norm(r["question"]) in asked]


PASSAGE = """Table 3. Numeric Types

Name: smallint; Storage Size: 2 bytes; Range: -32768 to +32767
Name: integer; Storage Size: 4 bytes; Range: -2147483648 to +2147483647
Name: serial; Storage Size: 4 bytes; Range: 1 to 2147483647
Note: this line is prose; it is no row of the table."""


def test_rules_on_a_table_passage() -> None:
    m = make_tabletrain
    got = m.questions(PASSAGE, random.Random(0))
    answers = {(PASSAGE[s:e], rule) for _, s, e, rule in got}
    # each row's range, once in the passage; "4 bytes" twice: no row tells it apart
    assert ("-32768 to +32767", "cell") in answers
    assert ("1 to 2147483647", "cell") in answers
    assert not any(text == "4 bytes" for text, _ in answers)
    assert all(text != "this line is prose" for text, _ in answers)
    asked = {q for q, *_ in got}
    assert any("range" in q and "smallint" in q for q in asked), asked
    assert m.row_cells("Note: this line is prose; it is no row of the table.") is None
    assert m.column("Storage Size") == "storage size" and m.column("JSON type") == "JSON type"
