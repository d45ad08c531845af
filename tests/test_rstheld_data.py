"""data/rstheld (the held-out reStructuredText set): well-formed, its files are the ones recorded,
every gold answer is a verbatim span of qa's reading of its page, and no file or question
is shared with another set."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from qa.index.formats import extract
from tests.test_docheld_data import _load, _norm, _sums

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "rstheld"
# every other set with documents: tuning sets as well, since nothing may be chosen on these
OTHERS = ("realdocs", "docheld", "doctables", "doctune", "tabletune", "mantune", "rsttune")


@pytest.fixture(scope="module")
def questions() -> list[dict[str, Any]]:
    return _load(HERE / "questions.jsonl")


def test_questions_are_well_formed(questions: list[dict[str, Any]]) -> None:
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids)) and len(questions) >= 45
    assert len({_norm(q["question"]) for q in questions}) == len(questions)
    for q in questions:
        assert set(q) == {"id", "file", "format", "question", "answers"}, q["id"]
        assert q["format"] == "rst" and (HERE / q["file"]).is_file(), q["id"]
        assert all(a.strip() == a and a for a in q["answers"]), q["id"]
    assert 5 <= sum(not q["answers"] for q in questions) <= 10


def test_the_files_are_the_ones_recorded() -> None:
    sums = _sums(HERE / "SHA256SUMS")
    files = sorted((HERE / "docs").iterdir())
    assert sorted(sums.values()) == [f.name for f in files]
    for f in files:
        assert sums[hashlib.sha256(f.read_bytes()).hexdigest()] == f.name


def test_no_file_or_question_is_shared_with_another_set(
    questions: list[dict[str, Any]],
) -> None:
    mine = set(_sums(HERE / "SHA256SUMS"))
    asked = {_norm(q["question"]) for q in questions}
    for name in OTHERS:
        other = ROOT / "data" / name
        theirs = {hashlib.sha256(f.read_bytes()).hexdigest() for f in (other / "docs").iterdir()}
        assert not mine & theirs, name
        assert not asked & {_norm(q["question"]) for q in _load(other / "questions.jsonl")}, name


def test_every_gold_answer_is_in_qas_reading_of_its_page(questions: list[dict[str, Any]]) -> None:
    texts = {f.name: extract(f.read_bytes(), f.name).text for f in (HERE / "docs").iterdir()}
    for q in questions:
        text = texts[Path(q["file"]).name]
        assert all(a in text for a in q["answers"]), q["id"]
