"""The question sets a reviewer wrote on one kind of document before asking qa (data/mantune:
man pages, data/rsttune: reStructuredText, data/infotune: GNU Info manuals, for tuning;
data/rstheld and data/infoheld: reStructuredText and Info manuals, held out): well-formed,
their files are the ones recorded, every gold answer is a verbatim span of qa's reading of
its page, and no file or question is shared with the sets it must stay apart from."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from qa.index.formats import extract
from tests.test_docheld_data import _load, _norm, _sums

ROOT = Path(__file__).resolve().parents[1]
EVALUATION = ("realdocs", "docheld", "doctables", "rstheld", "infoheld")
TUNING = ("doctune", "tabletune", "mantune", "rsttune", "infotune")


class QuestionSet(NamedTuple):
    name: str
    format: str
    least: int  # questions at least
    apart: tuple[str, ...]  # the sets it shares nothing with
    needs: str | None = None  # a program its reading needs


SETS = [
    QuestionSet("mantune", "man", 50, EVALUATION, "mandoc"),
    QuestionSet("rsttune", "rst", 50, EVALUATION),
    QuestionSet("infotune", "info", 55, EVALUATION),
    # held out: apart from the tuning sets too, since nothing may be chosen on it
    QuestionSet("rstheld", "rst", 45, tuple(s for s in EVALUATION + TUNING if s != "rstheld")),
    QuestionSet("infoheld", "info", 45, tuple(s for s in EVALUATION + TUNING if s != "infoheld")),
]


@pytest.fixture(params=SETS, ids=[s.name for s in SETS])
def qset(request: pytest.FixtureRequest) -> QuestionSet:
    return request.param


def _questions(s: QuestionSet) -> list[dict[str, Any]]:
    return _load(ROOT / "data" / s.name / "questions.jsonl")


def test_questions_are_well_formed(qset: QuestionSet) -> None:
    here, questions = ROOT / "data" / qset.name, _questions(qset)
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids)) and len(questions) >= qset.least
    assert len({_norm(q["question"]) for q in questions}) == len(questions)
    for q in questions:
        assert set(q) == {"id", "file", "format", "question", "answers"}, q["id"]
        assert q["format"] == qset.format and (here / q["file"]).is_file(), q["id"]
        assert all(a.strip() == a and a for a in q["answers"]), q["id"]
    assert 5 <= sum(not q["answers"] for q in questions) <= 10


def test_the_files_are_the_ones_recorded(qset: QuestionSet) -> None:
    here = ROOT / "data" / qset.name
    sums = _sums(here / "SHA256SUMS")
    files = sorted((here / "docs").iterdir())
    assert sorted(sums.values()) == [f.name for f in files]
    for f in files:
        assert sums[hashlib.sha256(f.read_bytes()).hexdigest()] == f.name


def test_no_file_or_question_is_shared_with_the_sets_it_stays_apart_from(
    qset: QuestionSet,
) -> None:
    mine = set(_sums(ROOT / "data" / qset.name / "SHA256SUMS"))
    asked = {_norm(q["question"]) for q in _questions(qset)}
    for name in qset.apart:
        other = ROOT / "data" / name
        theirs = {hashlib.sha256(f.read_bytes()).hexdigest() for f in (other / "docs").iterdir()}
        assert not mine & theirs, name
        assert not asked & {_norm(q["question"]) for q in _load(other / "questions.jsonl")}, name


def test_every_gold_answer_is_in_qas_reading_of_its_page(qset: QuestionSet) -> None:
    if qset.needs and shutil.which(qset.needs) is None:
        pytest.skip(f"{qset.needs} is not installed")
    docs = ROOT / "data" / qset.name / "docs"
    texts = {f.name: extract(f.read_bytes(), f.name).text for f in docs.iterdir()}
    for q in _questions(qset):
        text = texts[Path(q["file"]).name]
        assert all(a in text for a in q["answers"]), q["id"]
