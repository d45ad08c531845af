"""data/realdocs: the questions file is well-formed, its files exist and hold their answers.

Fast (no models): the light formats (text, Markdown, HTML) are read with qa's own readers;
PDF and DOCX, whose readers take seconds over the folder, are checked under ``slow``.
"""

from __future__ import annotations

import collections
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from qa.core.types import Block, Document
from qa.index.ingest import load_file
from scripts import realdocs

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "realdocs"
FORMATS = ("pdf", "docx", "html", "markdown", "text")
SUFFIXES = {
    "pdf": {".pdf"},
    "docx": {".docx"},
    "html": {".html", ".htm"},
    "markdown": {".md"},
    "text": {".txt"},
}
LIGHT = ("text", "markdown", "html")


@pytest.fixture(scope="module")
def questions() -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in (HERE / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_questions_are_well_formed(questions: list[dict[str, Any]]) -> None:
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids)), "question ids repeat"
    for q in questions:
        where = q["id"]
        assert set(q) <= {"id", "file", "format", "question", "answers", "page", "match"}, where
        assert q["format"] in FORMATS, where
        assert q["question"].strip().endswith("?"), where
        assert q["answers"] and all(isinstance(a, str) and a.strip() for a in q["answers"]), where
        assert all(a == a.strip() and len(a.split()) <= 12 for a in q["answers"]), where
        path = HERE / q["file"]
        assert q["file"].startswith("docs/") and path.is_file(), f"{where}: no {q['file']}"
        assert path.suffix.lower() in SUFFIXES[q["format"]], where
        if q["format"] == "pdf":
            assert isinstance(q.get("page"), int) and q["page"] >= 1, where
        else:
            assert "page" not in q, where
        assert q.get("match", "exact") in ("exact", "whitespace"), where


def test_enough_questions_per_format(questions: list[dict[str, Any]]) -> None:
    counts = collections.Counter(q["format"] for q in questions)
    assert len(questions) >= 40
    assert all(counts[f] >= 6 for f in FORMATS), counts


def test_every_file_has_provenance_and_the_bytes_recorded() -> None:
    """Each file of docs/ is in FILES (how to re-create it), SOURCES.md and SHA256SUMS."""
    files = {p.name for p in (HERE / "docs").iterdir()}
    listed = {s.name for s in realdocs.FILES}
    assert files == listed
    sources = (HERE / "SOURCES.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in sources for name in files)
    sums = dict(
        reversed(line.split("  ", 1))
        for line in (HERE / "SHA256SUMS").read_text().splitlines()
        if line
    )
    for name in files:
        got = hashlib.sha256((HERE / "docs" / name).read_bytes()).hexdigest()
        assert sums.get(f"docs/{name}") == got, f"{name} differs from SHA256SUMS"


def test_folder_stays_small() -> None:
    sizes = [p.stat().st_size for p in (HERE / "docs").iterdir()]
    assert sum(sizes) <= 10 * 2**20
    assert max(sizes) <= 1.5 * 2**20


def _check_format(questions: list[dict[str, Any]], formats: tuple[str, ...]) -> None:
    check = realdocs.check_question
    docs: dict[str, Document] = {}
    problems = []
    for q in questions:
        if q["format"] not in formats:
            continue
        if q["file"] not in docs:
            docs[q["file"]] = load_file(HERE / q["file"])
        doc = docs[q["file"]]
        assert doc.meta.get("format") == q["format"], q["id"]
        problems += [f"{q['id']}: {p}" for p in check(q, doc)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("fmt", LIGHT)
def test_gold_answers_occur_in_light_formats(questions: list[dict[str, Any]], fmt: str) -> None:
    _check_format(questions, (fmt,))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ("pdf", "docx"))
def test_gold_answers_occur_in_pdf_and_docx(questions: list[dict[str, Any]], fmt: str) -> None:
    """PDF answers on the stated page too (the blocks carry pages)."""
    _check_format(questions, (fmt,))


def test_the_check_flags_a_missing_answer_and_a_wrong_page() -> None:
    script = realdocs
    text = "Intro.\n\nThe default is 42 points.\n\nMore  text here."
    doc = Document.from_text(
        text,
        "x.pdf",
        "x",
        blocks=(Block(0, 6, page=1), Block(8, 33, page=2), Block(35, 50, page=3)),
    )
    q = {"id": "t", "format": "pdf", "page": 2, "answers": ["42 points"]}
    assert script.check_question(q, doc) == []
    assert "not page 3" in script.check_question({**q, "page": 3}, doc)[0]
    missing = script.check_question({**q, "answers": ["43 points"]}, doc)
    assert "not in the extracted text" in missing[0]
    loose = script.check_question({**q, "page": 3, "answers": ["More text"]}, doc)
    assert "whitespace" in loose[0]
    assert (
        script.check_question(
            {**q, "page": 3, "answers": ["More text"], "match": "whitespace"}, doc
        )
        == []
    )


def test_load_docs_reports_each_skip_reason(tmp_path: Path) -> None:
    """What the check prints about a folder: documents, and the files left out with why."""
    (tmp_path / "a.md").write_text("---\ntitle: A\n---\n\n# A\n\nSome real text.\n")
    (tmp_path / "copy.md").write_bytes((tmp_path / "a.md").read_bytes())
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "data.bin").write_bytes(b"\x00\x01")
    loaded, crashes = realdocs.load_docs(tmp_path)
    assert crashes == []
    assert [Path(d.source).name for d in loaded.documents] == ["a.md"]
    reasons = {Path(s.source).name: s.reason for s in loaded.skipped}
    assert reasons == {
        "copy.md": "duplicate",
        "empty.txt": "no text",
        "data.bin": "unsupported type",
    }
