"""data/doctrain (rule-made training questions on documentation): well-formed SQuAD JSON
whose answers are verbatim spans of their contexts, capped per file and package, and kept
apart from data/doctune (tuning) and data/realdocs (evaluation): no shared package, no
shared file bytes, no shared question text. Also the rules themselves on small snippets.

Fast: no models, no downloads (re-creating the folder needs apt; see its README).
"""

from __future__ import annotations

import collections
import hashlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from scripts import doctune, make_doctrain

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "doctrain"
OTHERS = (ROOT / "data" / "doctune", ROOT / "data" / "realdocs")


def make() -> ModuleType:
    return make_doctrain


def norm(s: str) -> str:
    return " ".join(s.lower().split())


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    data = json.loads((HERE / "train.json").read_text(encoding="utf-8"))["data"]
    return [
        {"title": a["title"], "context": p["context"], **q}
        for a in data
        for p in a["paragraphs"]
        for q in p["qas"]
    ]


def test_answers_are_verbatim_spans_and_questions_unique(rows: list[dict[str, Any]]) -> None:
    assert 1500 <= len(rows) <= 4000
    assert len({r["id"] for r in rows}) == len(rows), "ids repeat"
    assert len({norm(r["question"]) for r in rows}) == len(rows), "question texts repeat"
    for r in rows:
        (a,) = r["answers"]
        start, text = a["answer_start"], a["text"]
        assert text and text == text.strip(), r["id"]
        assert r["context"][start : start + len(text)] == text, r["id"]
        assert r["question"].endswith("?"), r["id"]
        assert norm(text) not in norm(r["question"]), r["id"]


def test_capped_per_file_and_package(rows: list[dict[str, Any]]) -> None:
    m = make()
    package = {s.name: s.package for s in m.FILES}
    assert {r["title"] for r in rows} <= set(package)
    per_file = collections.Counter(r["title"] for r in rows)
    per_pkg = collections.Counter(package[r["title"]] for r in rows)
    assert max(per_file.values()) <= m.PER_FILE
    assert max(per_pkg.values()) <= m.PER_PACKAGE
    assert max(per_pkg.values()) <= 0.25 * len(rows), per_pkg.most_common(3)


def test_every_file_recorded() -> None:
    """Each file of FILES has its sha256 in SHA256SUMS and its package in SOURCES.md."""
    m = make()
    sums = dict(
        reversed(line.split("  ", 1))
        for line in (HERE / "SHA256SUMS").read_text().splitlines()
        if line
    )
    assert set(sums) == {s.name for s in m.FILES}
    sources = (HERE / "SOURCES.md").read_text(encoding="utf-8")
    assert all(f"`{s.package}`" in sources and s.version in sources for s in m.FILES)


def test_kept_apart_from_doctune_and_realdocs(rows: list[dict[str, Any]]) -> None:
    m = make()
    theirs = {s.package for s in doctune.FILES} | {s.package for s in doctune.rd.FILES}
    assert not theirs & {s.package for s in m.FILES}
    ours = {
        line.split("  ", 1)[0] for line in (HERE / "SHA256SUMS").read_text().splitlines() if line
    }
    for folder in OTHERS:
        for p in (folder / "docs").iterdir():
            assert hashlib.sha256(p.read_bytes()).hexdigest() not in ours, p.name
    asked = set()
    for folder in OTHERS:
        for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                asked.add(norm(json.loads(line)["question"]))
    shared = [r["id"] for r in rows if norm(r["question"]) in asked]
    assert not shared, shared


MAN = """OPTIONS
       -a, --all
              do not ignore entries whose names start with a dot

       -s, --size
              print the allocated size of each file, in blocks.
              The default is 1024 bytes.

DESCRIPTION
       List information about the FILEs.
"""


def test_option_rules_on_a_man_page_snippet() -> None:
    m = make()
    got = {q: (MAN[s:e], rule) for q, s, e, rule in m.questions(MAN, "ls", "man-text")}
    assert got["Which ls option does not ignore entries whose names start with a dot?"] == (
        "--all",
        "option-which",
    )
    assert got["Which ls option prints the allocated size of each file, in blocks?"][0] == (
        "--size"
    )
    assert got["What is the default value of --size in ls?"] == ("1024 bytes", "default-option")
    assert ("print the allocated size of each file, in blocks", "option-what") in got.values()
    # a section heading followed by indented text is not an environment variable
    assert not any(rule.startswith("env") for _, rule in got.values())


TABLE = """KeepAliveTimeout Directive

Description:: Amount of time the server will wait for subsequent requests
Syntax:: KeepAliveTimeout num[ms]
Default:: KeepAliveTimeout 5
Context:: server config, virtual host
Status:: Core
Module:: core
Compatibility:: Available in Apache httpd 2.3.5 and later"""


def test_table_rules_on_a_directive_box() -> None:
    m = make()
    got = {q: TABLE[s:e] for q, s, e, _ in m.questions(TABLE, "Apache httpd", "copy")}
    assert got["What is the default of the KeepAliveTimeout directive?"] == "5"
    assert got["Which module provides the KeepAliveTimeout directive?"] == "core"
    assert got["Since which version of Apache httpd is KeepAliveTimeout available?"] == "2.3.5"
    assert got["In which contexts can the KeepAliveTimeout directive be used?"] == (
        "server config, virtual host"
    )
    assert (
        got["What is the syntax of the KeepAliveTimeout directive?"] == "KeepAliveTimeout num[ms]"
    )


def test_verb_phrase() -> None:
    vp = make().verb_phrase
    assert vp("print version information and exit") == "prints version information and exit"
    assert vp("Forces ssh to use IPv4 addresses only") == "forces ssh to use IPv4 addresses only"
    assert vp("do not list implied entries") == "does not list implied entries"
    assert vp("equivalent to -vET") is None
