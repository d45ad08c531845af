"""data/doctune (the tuning set): well-formed, its files exist and hold their answers, and
it is kept apart from data/realdocs (the evaluation set): no shared file, no shared question.

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

from qa.core.types import Document
from qa.index.ingest import load_file
from scripts import doctune

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "doctune"
REALDOCS = ROOT / "data" / "realdocs"
FORMATS = ("pdf", "docx", "html", "markdown", "text")
SUFFIXES = {
    "pdf": {".pdf"},
    "docx": {".docx"},
    "html": {".html", ".htm"},
    "markdown": {".md"},
    "text": {".txt"},
}
LIGHT = ("text", "markdown", "html")


def _load(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


@pytest.fixture(scope="module")
def questions() -> list[dict[str, Any]]:
    return _load(HERE / "questions.jsonl")


def test_questions_are_well_formed(questions: list[dict[str, Any]]) -> None:
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids)), "question ids repeat"
    texts = [q["question"].strip().lower() for q in questions]
    assert len(texts) == len(set(texts)), "question texts repeat"
    check_each_question(questions)


def check_each_question(questions: list[dict[str, Any]], folder: Path = HERE) -> None:
    """Each question's fields, file, format and page are as a documents set needs them."""
    for q in questions:
        where = q["id"]
        assert set(q) <= {"id", "file", "format", "question", "answers", "page", "match"}, where
        assert q["format"] in FORMATS, where
        assert q["question"].strip().endswith("?"), where
        assert isinstance(q["answers"], list), where
        assert all(isinstance(a, str) and a.strip() for a in q["answers"]), where
        assert all(a == a.strip() and 1 <= len(a.split()) <= 8 for a in q["answers"]), where
        path = folder / q["file"]
        assert q["file"].startswith("docs/") and path.is_file(), f"{where}: no {q['file']}"
        assert path.suffix.lower() in SUFFIXES[q["format"]], where
        if q["format"] == "pdf" and q["answers"]:
            assert isinstance(q.get("page"), int) and q["page"] >= 1, where
        else:
            assert "page" not in q, where
        assert q.get("match", "exact") in ("exact", "whitespace"), where


def test_enough_questions_per_format_and_some_unanswerable(
    questions: list[dict[str, Any]],
) -> None:
    counts = collections.Counter(q["format"] for q in questions)
    assert len(questions) >= 150
    assert all(counts[f] >= 15 for f in FORMATS), counts
    unanswerable = sum(not q["answers"] for q in questions)
    assert 0.10 <= unanswerable / len(questions) <= 0.20, unanswerable
    asked = {Path(q["file"]).name for q in questions}
    assert asked == {p.name for p in (HERE / "docs").iterdir()}, "a file has no question"


def check_files_recorded(folder: Path, files_of: Any, least: int, most: int) -> None:
    """Each file of ``folder``/docs is in ``files_of`` (how to re-create it), SOURCES.md and
    SHA256SUMS with its bytes' sha256; between ``least`` and ``most`` files."""
    files = {p.name for p in (folder / "docs").iterdir()}
    assert least <= len(files) <= most
    assert files == {s.name for s in files_of}
    sources = (folder / "SOURCES.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in sources for name in files)
    assert all(f"`{s.package}`" in sources and s.licence for s in files_of)
    sums = dict(
        reversed(line.split("  ", 1))
        for line in (folder / "SHA256SUMS").read_text().splitlines()
        if line
    )
    assert set(sums) == {f"docs/{name}" for name in files}
    for name in files:
        got = hashlib.sha256((folder / "docs" / name).read_bytes()).hexdigest()
        assert sums.get(f"docs/{name}") == got, f"{name} differs from SHA256SUMS"


def test_every_file_has_provenance_and_the_bytes_recorded() -> None:
    """Each file of docs/ is in FILES (how to re-create it), SOURCES.md and SHA256SUMS."""
    check_files_recorded(HERE, doctune.FILES, 25, 90)


def test_folder_stays_small() -> None:
    sizes = [p.stat().st_size for p in (HERE / "docs").iterdir()]
    assert sum(sizes) <= 10 * 2**20
    assert max(sizes) <= 1.5 * 2**20


def test_kept_apart_from_the_evaluation_set(questions: list[dict[str, Any]]) -> None:
    """No file of doctune has the bytes of a realdocs file, no package is shared, and no
    question text is asked in both sets: tuning on doctune never sees realdocs."""

    def digests(folder: Path) -> dict[str, str]:
        return {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in folder.iterdir()}

    tune, evaluation = digests(HERE / "docs"), digests(REALDOCS / "docs")
    shared = {tune[h]: evaluation[h] for h in set(tune) & set(evaluation)}
    assert not shared, f"same bytes in both sets: {shared}"
    norm = lambda s: " ".join(s.lower().split())  # noqa: E731
    eval_questions = {norm(q["question"]) for q in _load(REALDOCS / "questions.jsonl")}
    repeated = [q["id"] for q in questions if norm(q["question"]) in eval_questions]
    assert not repeated, f"asked in realdocs too: {repeated}"
    script = doctune
    eval_packages = {s.package for s in script.rd.FILES}
    assert not eval_packages & {s.package for s in script.FILES}


def check_formats(
    questions: list[dict[str, Any]], formats: tuple[str, ...], folder: Path = HERE
) -> None:
    """Every question of ``formats`` in ``folder`` has its golds in qa's own extraction."""
    check = doctune.rd.check_question
    docs: dict[str, Document] = {}
    problems = []
    for q in questions:
        if q["format"] not in formats:
            continue
        if q["file"] not in docs:
            docs[q["file"]] = load_file(folder / q["file"])
        doc = docs[q["file"]]
        assert doc.meta.get("format") == q["format"], q["id"]
        problems += [f"{q['id']}: {p}" for p in check(q, doc)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("fmt", LIGHT)
def test_gold_answers_occur_in_light_formats(questions: list[dict[str, Any]], fmt: str) -> None:
    check_formats(questions, (fmt,))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ("pdf", "docx"))
def test_gold_answers_occur_in_pdf_and_docx(questions: list[dict[str, Any]], fmt: str) -> None:
    """PDF answers on the stated page too (the blocks carry pages)."""
    check_formats(questions, (fmt,))


def test_check_command_passes_and_flags_a_wrong_answer(tmp_path: Path) -> None:
    """``check --questions FILE``: OK for a good answer and an unanswerable question (no
    gold to look up), a failure (exit 1) for an answer that is not in the text."""
    row = {
        "id": "t-1",
        "file": "docs/units-readme.txt",
        "format": "text",
        "question": "Which environment variable names the units data file?",
        "answers": ["UNITSFILE"],
    }
    none = {**row, "id": "t-2", "question": "How many units are there?", "answers": []}
    script = doctune
    doc = load_file(HERE / "docs" / "units-readme.txt")
    assert script.rd.check_question(row, doc) == []
    assert script.rd.check_question(none, doc) == []
    assert script.rd.check_question({**row, "answers": ["UNITS_FILE_PATH"]}, doc)
