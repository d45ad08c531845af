"""data/tabletune (the TUNING set of questions on tables): well-formed, its files exist and
hold their answers, most answers are table cells, and it is kept apart from every other
documentation set: no package, no file sha256 and no question text shared with
data/realdocs, data/doctune, data/docheld, data/doctrain, data/doctables or
data/tabletrain. Table renderings, decoding rules, calibrators and thresholds are tuned
here, so that data/doctables stays an evaluation set nothing was chosen on.

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

from scripts import make_doctrain, make_tabletrain, tabletune
from tests.test_docheld_data import _load, _norm, _sums
from tests.test_doctune_data import (
    FORMATS,
    LIGHT,
    check_each_question,
    check_files_recorded,
    check_formats,
)

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "tabletune"
QUESTION_SETS = ("realdocs", "doctune", "docheld", "doctables")  # questions.jsonl
FILE_SETS = (*QUESTION_SETS, "doctrain", "tabletrain")  # SHA256SUMS


@pytest.fixture(scope="module")
def questions() -> list[dict[str, Any]]:
    return _load(HERE / "questions.jsonl")


def test_questions_are_well_formed(questions: list[dict[str, Any]]) -> None:
    """doctune's checks of each question (fields, file, format, page, 1-8 word golds), plus
    a ``kind`` that agrees with the answers: ``none`` exactly when there is none."""
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids)), "question ids repeat"
    texts = [_norm(q["question"]) for q in questions]
    assert len(texts) == len(set(texts)), "question texts repeat"
    for q in questions:
        assert q.get("kind") in tabletune.KINDS, q["id"]
        assert (q["kind"] == "none") == (not q["answers"]), q["id"]
    check_each_question([{k: v for k, v in q.items() if k != "kind"} for q in questions], HERE)


def test_enough_questions_mostly_table_cells_some_unanswerable(
    questions: list[dict[str, Any]],
) -> None:
    """100-130 questions, every format and every file asked about; at least 65% table
    cells, some prose, about 10% unanswerable."""
    assert 100 <= len(questions) <= 130
    counts = collections.Counter(q["format"] for q in questions)
    assert all(counts[f] >= 10 for f in FORMATS), counts
    kinds = collections.Counter(q["kind"] for q in questions)
    assert kinds["table-cell"] / len(questions) >= 0.65, kinds
    assert 0.10 <= kinds["prose"] / len(questions) <= 0.30, kinds
    assert 0.08 <= kinds["none"] / len(questions) <= 0.20, kinds
    asked = {Path(q["file"]).name for q in questions}
    assert asked == {p.name for p in (HERE / "docs").iterdir()}, "a file has no question"


def test_every_file_has_provenance_and_the_bytes_recorded() -> None:
    """Each file of docs/ is in FILES (how to re-create it), SOURCES.md and SHA256SUMS."""
    check_files_recorded(HERE, tabletune.FILES, 14, 18)


def test_folder_stays_small() -> None:
    sizes = [p.stat().st_size for p in (HERE / "docs").iterdir()]
    assert sum(sizes) <= 10 * 2**20
    assert max(sizes) <= 1.5 * 2**20


def test_kept_apart_from_every_other_set(questions: list[dict[str, Any]]) -> None:
    """No package, no file bytes and no question text in common with realdocs, docheld and
    doctables (evaluation), doctune (tuning), doctrain or tabletrain (training)."""
    ours = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in (HERE / "docs").iterdir()}
    for other in FILE_SETS:
        theirs = _sums(ROOT / "data" / other / "SHA256SUMS")
        shared = {ours[h]: theirs[h] for h in set(ours) & set(theirs)}
        assert not shared, f"same bytes in tabletune and {other}: {shared}"
    packages = {s.package for s in tabletune.FILES}
    for name, theirs in (
        ("realdocs", {s.package for s in tabletune.rd.FILES}),
        ("doctune", {s.package for s in tabletune.doctune.FILES}),
        ("docheld", {s.package for s in tabletune.docheld.FILES}),
        ("doctables", {s.package for s in tabletune.doctables.FILES}),
        ("doctrain", {s.package for s in make_doctrain.FILES}),
        ("tabletrain", {p for p, _, _, _ in make_tabletrain.PACKAGES}),
    ):
        common = packages & theirs
        assert not common, f"packages shared with {name}: {common}"
    asked = {_norm(q["question"]) for q in questions}
    for other in QUESTION_SETS:
        theirs = {_norm(q["question"]) for q in _load(ROOT / "data" / other / "questions.jsonl")}
        assert not asked & theirs, f"asked in {other} too: {asked & theirs}"
    for path in (
        ROOT / "data" / "doctrain" / "train.json",
        ROOT / "data" / "tabletrain" / "train.json",
        ROOT / "data" / "tabletrain" / "tune.json",
    ):
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        trained = {_norm(q["question"]) for a in data for p in a["paragraphs"] for q in p["qas"]}
        assert not asked & trained, f"asked in {path.relative_to(ROOT)} too: {asked & trained}"


@pytest.mark.parametrize("fmt", LIGHT)
def test_gold_answers_occur_in_light_formats(questions: list[dict[str, Any]], fmt: str) -> None:
    check_formats(questions, (fmt,), HERE)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ("pdf", "docx"))
def test_gold_answers_occur_in_pdf_and_docx(questions: list[dict[str, Any]], fmt: str) -> None:
    """PDF answers on the stated page too (the blocks carry pages)."""
    check_formats(questions, (fmt,), HERE)
