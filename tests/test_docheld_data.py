"""data/docheld (the second held-out evaluation set): well-formed, its files exist and hold
their answers, and it is kept apart from every other documentation set: no package, no
file sha256 and no question text shared with data/realdocs, data/doctune or data/doctrain.

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

from scripts import docheld, make_doctrain
from tests.test_doctune_data import (
    FORMATS,
    LIGHT,
    check_each_question,
    check_files_recorded,
    check_formats,
)

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "docheld"


def _load(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def _norm(s: str) -> str:
    return " ".join(s.lower().split())


def _sums(path: Path) -> dict[str, str]:
    """sha256 → file name, from a SHA256SUMS file."""
    pairs = (line.split("  ", 1) for line in path.read_text().splitlines() if line)
    return {digest: name for digest, name in pairs}


@pytest.fixture(scope="module")
def questions() -> list[dict[str, Any]]:
    return _load(HERE / "questions.jsonl")


def test_questions_are_well_formed(questions: list[dict[str, Any]]) -> None:
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids)), "question ids repeat"
    texts = [_norm(q["question"]) for q in questions]
    assert len(texts) == len(set(texts)), "question texts repeat"
    check_each_question(questions, HERE)


def test_enough_questions_per_format_and_some_unanswerable(
    questions: list[dict[str, Any]],
) -> None:
    """About 200 questions (enough to measure calibration), at least 25 per format, about
    10% unanswerable, every file asked about."""
    counts = collections.Counter(q["format"] for q in questions)
    assert len(questions) >= 180
    assert all(counts[f] >= 25 for f in FORMATS), counts
    unanswerable = sum(not q["answers"] for q in questions)
    assert 0.08 <= unanswerable / len(questions) <= 0.20, unanswerable
    asked = {Path(q["file"]).name for q in questions}
    assert asked == {p.name for p in (HERE / "docs").iterdir()}, "a file has no question"


def test_every_file_has_provenance_and_the_bytes_recorded() -> None:
    """Each file of docs/ is in FILES (how to re-create it), SOURCES.md and SHA256SUMS."""
    check_files_recorded(HERE, docheld.FILES, 25, 40)


def test_folder_stays_small() -> None:
    sizes = [p.stat().st_size for p in (HERE / "docs").iterdir()]
    assert sum(sizes) <= 10 * 2**20
    assert max(sizes) <= 1.5 * 2**20


def test_kept_apart_from_every_other_set(questions: list[dict[str, Any]]) -> None:
    """No package, no file bytes and no question text in common with realdocs (evaluation),
    doctune (tuning) or doctrain (training): nothing tuned or trained has seen docheld."""
    ours = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in (HERE / "docs").iterdir()}
    for other in ("realdocs", "doctune", "doctrain", "doctables", "tabletune"):
        theirs = _sums(ROOT / "data" / other / "SHA256SUMS")
        shared = {ours[h]: theirs[h] for h in set(ours) & set(theirs)}
        assert not shared, f"same bytes in docheld and {other}: {shared}"
    packages = {s.package for s in docheld.FILES}
    for name, files in (
        ("realdocs", docheld.rd.FILES),
        ("doctune", docheld.doctune.FILES),
        ("doctrain", make_doctrain.FILES),
    ):
        common = packages & {s.package for s in files}
        assert not common, f"packages shared with {name}: {common}"
    asked = {_norm(q["question"]) for q in questions}
    for other in ("realdocs", "doctune"):
        theirs = {_norm(q["question"]) for q in _load(ROOT / "data" / other / "questions.jsonl")}
        assert not asked & theirs, f"asked in {other} too: {asked & theirs}"
    train = json.loads((ROOT / "data" / "doctrain" / "train.json").read_text(encoding="utf-8"))
    trained = {
        _norm(q["question"]) for a in train["data"] for p in a["paragraphs"] for q in p["qas"]
    }
    assert not asked & trained, f"asked in doctrain too: {asked & trained}"


@pytest.mark.parametrize("fmt", LIGHT)
def test_gold_answers_occur_in_light_formats(questions: list[dict[str, Any]], fmt: str) -> None:
    check_formats(questions, (fmt,), HERE)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ("pdf", "docx"))
def test_gold_answers_occur_in_pdf_and_docx(questions: list[dict[str, Any]], fmt: str) -> None:
    """PDF answers on the stated page too (the blocks carry pages)."""
    check_formats(questions, (fmt,), HERE)
