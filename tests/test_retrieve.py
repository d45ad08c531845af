import numpy as np

from qa.chunk import chunk
from qa.retrieve import Retriever, terms
from qa.store import IndexSpec, Store
from qa.types import Document

from .conftest import FakeEncoder


def _retriever(texts: list[str], alpha: float = 0.5) -> Retriever:
    enc = FakeEncoder()
    store = Store(IndexSpec(enc.name, enc.dim, {}))
    for i, t in enumerate(texts):
        doc = Document.from_text(t, f"{i}.txt", str(i))
        ps = chunk(doc)
        store.add(doc, ps, enc.encode([p.text for p in ps]))
    return Retriever(store, enc, alpha=alpha)


def test_bm25_stems_and_drops_stop_words():
    assert terms("The dogs were running in the park") == ["dog", "run", "park"]


def test_bm25_works_on_a_one_document_corpus():
    r = _retriever(["Only one document mentions zebras."])
    hits = r.retrieve("zebras", 5)
    assert len(hits) == 1 and hits[0].lexical > 0


def test_fusion_ranks_the_relevant_passage_first():
    r = _retriever(
        [
            "Bees make honey in hives.",
            "The Eiffel Tower is in Paris.",
            "Volcanoes erupt lava and ash.",
        ]
    )
    hits = r.retrieve("Where is the Eiffel Tower?", 3)
    assert hits[0].passage.text == "The Eiffel Tower is in Paris."
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_stop_word_only_question_still_returns_dense_hits():
    r = _retriever(["Alpha beta.", "Gamma delta."])
    hits = r.retrieve("the of and", 2)
    assert len(hits) == 2 and all(h.lexical == 0 for h in hits)


def test_ranking_does_not_depend_on_insertion_order():
    texts = ["Red apples grow.", "Green apples are sour.", "Bananas are yellow.", "Apples."]
    a = _retriever(texts).retrieve("apples", 4)
    b = _retriever(texts[::-1]).retrieve("apples", 4)
    assert [h.passage.id for h in a] == [h.passage.id for h in b]
    assert np.allclose([h.score for h in a], [h.score for h in b])


def test_who_is_a_last_name_retrieves_the_passage_that_introduces_the_person():
    intro = "The Kremlin's top foreign policy aide, Yury Ushakov, spoke to reporters."
    later = [
        "Ushakov said the talks were useful. Ushakov will travel again.",
        "Ushakov declined to comment, Ushakov's office said.",
    ]
    r = _retriever([*later, intro], alpha=0.0)  # BM25 alone: the repeats outscore the intro
    assert r.retrieve("Ushakov", 1)[0].passage.text != intro
    for q in ("Who is Ushakov?", "who is ushakov", "Who's Ushakov?", "Who was Ushakov"):
        assert r.retrieve(q, 1)[0].passage.text == intro, q


def test_names_give_a_last_name_in_full_and_skip_titles_and_other_questions():
    from qa.retrieve import Names
    from qa.types import Passage

    text = (
        "President Donald Trump met President Vladimir Putin. President Trump spoke first. "
        "Later, Vladimir Putin replied. He said little."
    )
    doc = Document.from_text(text, "t.txt", "t")
    names = Names([Passage.make(doc, 0, len(text))])
    # "President" is a title, not a first name.
    assert names.expand("Who is Trump?") == "Who is Donald Trump?"
    assert names.expand("who was putin") == "who was Vladimir Putin"
    for q in (
        "Who is Donald Trump?",  # already in full
        "Who is Smith?",  # not in the passages
        "Who is he?",  # a stop word
        "What did Trump say?",  # not asking who someone is
        "Who is the president?",
    ):
        assert names.expand(q) == q
