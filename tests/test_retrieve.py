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
