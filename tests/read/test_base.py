"""The sentence reader: the best-supporting sentence, verbatim, at document offsets."""

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.core.types import Document, Hit, Passage
from qa.index.chunk import chunk
from qa.read.base import SentenceReader


def _hits(*texts: str) -> list[Hit]:
    doc = Document.from_text("\n\n".join(texts), "d.txt", "d")
    hits, pos = [], 0
    for t in texts:
        start = doc.text.index(t, pos)
        hits.append(Hit(Passage.make(doc, start, start + len(t)), score=1.0))
        pos = start + len(t)
    return hits


def test_answer_is_the_best_supporting_sentence_verbatim():
    hits = _hits("Bees make honey. The queen lays eggs.", "Paris is the capital of France.")
    a = SentenceReader().read("Who lays the eggs?", hits)
    assert a is not None
    assert a.text == "The queen lays eggs."
    doc_text = "\n\n".join(h.passage.text for h in hits)
    assert doc_text[a.start : a.end] == a.text
    assert a.passage_id == hits[0].passage.id


def test_narrows_to_the_one_date_or_number_asked_for():
    hits = _hits("The tower was completed in March 1889 by a company.", "It has 300 steps.")
    when = SentenceReader().read("When was the tower completed?", hits)
    assert when is not None and when.text == "March 1889"
    many = SentenceReader().read("How many steps does it have?", hits)
    assert many is not None and many.text == "300"


def test_no_answer_when_nothing_supports_one():
    hits = _hits("Bees make honey.", "Paris is the capital of France.")
    assert SentenceReader().read("What is the boiling point of mercury?", hits) is None
    assert SentenceReader().read("the of", hits) is None
    assert SentenceReader().read("Who makes honey?", []) is None


def _joined(pieces: list[str], max_size: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces), max_size=max_size).map("".join)


@settings(max_examples=150, deadline=None)
@given(
    paragraphs=st.lists(
        _joined([*"abc xyz.!?\n", "“", "’", "é", "1889", " 300 ", "March "], 60),
        min_size=1,
        max_size=4,
    ),
    question=_joined([*"abc xyz?", "when ", "how many "], 12),
)
def test_answers_are_slices_of_the_document_inside_their_passage(paragraphs, question):
    paragraphs = [p for p in paragraphs if p.strip()]
    if not paragraphs:
        return
    doc = Document.from_text("\r\n\r\n".join(paragraphs), "d.txt", "d")
    hits = [Hit(p, 1.0) for p in chunk(doc, max_words=8)]
    a = SentenceReader().read(question, hits)
    if a is None:
        return
    assert doc.text[a.start : a.end] == a.text and a.text
    p = next(h.passage for h in hits if h.passage.id == a.passage_id)
    assert p.start <= a.start and a.end <= p.end
