"""Answer kinds: what a question asks for, and whether a span is of that kind."""

from __future__ import annotations

import pytest

from qa.core.types import Document, Hit, Passage
from qa.read.answer_type import (
    agreement,
    asked_kind,
    asks_command,
    looks_like_code,
    prefer_kind,
)
from qa.read.decide import Candidate


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many revisions were left to test?", "number"),
        ("How much does the Growth plan cost?", "number"),
        ("By which factor are deleted figures scaled?", "number"),
        ("On which port does the server run by default?", "number"),
        ("When was the manual dated?", "date"),
        ("In what year did the Normans arrive?", "date"),
        ("Which Perl version does latexdiff need at least?", "version"),
        ("What version of gputils does the manual describe?", "version"),
        ("Who wrote latexdiff?", "person"),
        ("Which curl option adds time stamps to a trace?", "code"),
        ("Which environment variable names the units data file?", "code"),
        ("Which gputils tool is a disassembler?", "code"),
        ("Who is the president of France?", None),  # a description, not only a name
        ("Why did the oil crisis start?", None),
        ("What is the capital of Normandy?", None),
    ],
)
def test_asked_kind_reads_the_question_wording(question, kind) -> None:
    assert asked_kind(question) == kind


@pytest.mark.parametrize(
    ("kind", "text", "want"),
    [
        ("number", "10928 revisions", 1),
        ("number", "forty-two", 1),
        ("number", "Prefixes", -1),
        ("date", "September 20, 2022", 1),
        ("date", "1973", 1),
        ("date", "the embargo", -1),
        ("version", "1.3.2", 1),
        ("version", "version number", -1),
        ("person", "F.J. Tilmann", 1),
        ("person", "new.tex", 0),
        ("person", "3 people", -1),
        ("code", "--trace-time", 1),
        ("code", "FLASK_RUN_PORT", 1),
        ("code", "UNITSFILE", 1),
        ("code", "zsh/pcre", 1),
        ("code", "1.1", -1),  # a section number is never the command asked for
        ("code", "pointers", 0),
        (None, "anything", 0),
    ],
)
def test_agreement_says_whether_a_span_is_of_the_kind(kind, text, want) -> None:
    assert agreement(kind, text) == want


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("--debug", True),
        ("-S", True),
        ("useData()", True),
        ("core.excludesFile", True),
        ("$GIT_DIR/info/exclude", True),
        ("UNITSFILE", True),
        ("option", False),
        ("U.S.", False),
        ("Normans", False),
        ("NATO", False),
        ("1973", False),
    ],
)
def test_looks_like_code(word, code) -> None:
    assert looks_like_code(word) is code


def test_prefer_kind_moves_probability_to_spans_of_the_kind_asked_for() -> None:
    text = "Section 1.1 says gpdasm is the disassembler."
    doc = Document.from_text(text, source="s", title="t")
    hits = [Hit(Passage.make(doc, 0, len(text)), score=1.0)]
    num = Candidate(0, text.index("1.1"), text.index("1.1") + 3, 1.0, 0.0, prob=0.6)
    tool = Candidate(0, text.index("gpdasm"), text.index("gpdasm") + 6, 1.0, 0.0, prob=0.3)
    q = "Which gputils tool is a disassembler?"
    out = prefer_kind([num, tool], hits, q, weight=1.0)
    assert out[1].prob > out[0].prob  # the section number lost its lead
    assert sum(c.prob for c in out) == pytest.approx(0.9)  # the total is kept
    assert prefer_kind([num, tool], hits, "Why is it so?", weight=1.0) == [num, tool]
    assert prefer_kind([num, tool], hits, q, weight=0.0) == [num, tool]


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("Which command creates the gplib archive math.a?", True),
        ("Which dmypy command tells whether a daemon is running?", True),
        ("What commands list the queue?", True),
        ("How do I generate the Diffie-Hellman parameters file?", True),
        ("Which command line option disables peer certificate verification?", False),
        ("Which command-line switch selects TagSoup?", False),
        ("What is the default key for aptitude's Purge command?", False),
        ("Who wrote latexdiff?", False),
    ],
)
def test_asks_command(question, asks) -> None:
    assert asks_command(question) is asks
