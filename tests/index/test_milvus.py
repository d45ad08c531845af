"""The Milvus store (through milvus-lite) against the folder store: the same passages,
searches, filters, citations and errors, whichever holds the index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.core.errors import BadInput, IndexMismatch, IndexNotFound
from qa.core.types import Document
from qa.index.backend import FolderLocation, HybridSearch, Location
from qa.index.chunk import chunk
from qa.index.milvus import MilvusLocation
from qa.index.records import cite_passage
from qa.index.store import IndexSpec
from qa.retrieve.lexical import Lexical

SPEC = IndexSpec("test/enc", 4, {"splitter": "syntok", "max_passage_words": 150})
TEXTS = [
    "The cat sat on the mat. Dogs bark at cats in the garden.",
    "Paris is the capital of France. The Eiffel Tower is in Paris.",
    "Moscow is the capital of Russia. The Kremlin is in Moscow.",
    "Cats and dogs are pets; dogs are loyal and cats are proud.",
]


@pytest.fixture(params=["folder", "milvus"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    if request.param == "folder":
        return FolderLocation(tmp_path / "idx")
    return MilvusLocation.parse(request.getfixturevalue("milvus_uri"))


def _doc(i: int) -> tuple[Document, list, np.ndarray]:
    doc = Document.from_text(TEXTS[i], f"{i}.txt", f"doc {i}")
    ps = chunk(doc)
    v = np.random.default_rng(i).normal(size=(len(ps), 4)).astype(np.float32)
    return doc, ps, v / np.linalg.norm(v, axis=1, keepdims=True)


def _build(location: Location, *which: int):
    store = location.new(SPEC)
    for i in which:
        store.add(*_doc(i))
    location.save(store)
    return store


def _query() -> np.ndarray:
    return np.array([0.5, -0.5, 0.5, 0.5], dtype=np.float32)


def test_round_trip_keeps_documents_passages_and_search(location: Location):
    store = _build(location, 0, 1, 2)
    back = location.open(SPEC)
    assert back.documents == store.documents and back.passages == store.passages
    assert back.search(_query(), 3) == store.search(_query(), 3) != []
    assert back.stamp == location.stamp() is not None


def test_add_and_remove_equal_a_rebuild(location: Location, tmp_path: Path):
    store = _build(location, 0, 1, 2).copy()
    store.remove(_doc(1)[0].id)
    store.add(*_doc(3))
    location.save(store)
    changed = location.open(SPEC)
    rebuilt = _build(FolderLocation(tmp_path / "rebuilt"), 0, 2, 3)
    assert changed.documents == rebuilt.documents and changed.passages == rebuilt.passages
    assert changed.search(_query(), 10) == rebuilt.search(_query(), 10)
    ids = sorted(rebuilt.passages)
    assert np.allclose(changed.vectors(ids), rebuilt.vectors(ids))


def test_filters_keep_to_the_documents_given(location: Location):
    store = _build(location, 0, 1, 2, 3)
    among = {p.id for p in store.doc_passages(_doc(2)[0].id)}
    hits = location.open(SPEC).search(_query(), 10, among)
    assert hits and {p.id for p, _ in hits} == among


def test_citations_resolve_after_reopening(location: Location):
    store = _build(location, 0, 1)
    pid = next(iter(store.passages))
    assert cite_passage(location.open(SPEC), pid) == cite_passage(store, pid)


def test_open_missing_index_says_how_to_build(location: Location):
    with pytest.raises(IndexNotFound, match="qa index DOCS/"):
        location.open(SPEC)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (IndexSpec("other/enc", 4, SPEC.chunking), "built with embedder test/enc"),
        (IndexSpec("test/enc", 8, SPEC.chunking), r"\(dim 4\)"),
        (IndexSpec("test/enc", 4, {**SPEC.chunking, "max_passage_words": 99}), "chunked with"),
    ],
)
def test_open_with_another_model_or_chunking_explains(location: Location, spec, message):
    _build(location, 0)
    with pytest.raises(IndexMismatch, match=message) as e:
        location.open(spec)
    assert "rebuild it with 'qa index DOCS/" in str(e.value) and "\n" not in str(e.value)


def test_milvus_candidates_score_as_the_local_retriever(milvus_uri: str):
    """Milvus's BM25 over qa's terms is bm25s's, and the dense scores are the vectors'."""
    location = MilvusLocation.parse(milvus_uri)
    store = _build(location, 0, 1, 2, 3)
    back = location.open(SPEC)
    assert isinstance(back, HybridSearch)
    lexical = Lexical(list(store.passages.values()))
    for question in ("dogs and cats", "the capital of France", "Kremlin"):
        passages, dense, lex = back.candidates(question, _query(), 50)
        want = lexical.scores(question)
        assert [p.id for p in passages] == sorted(p.id for p in passages)
        assert np.allclose(lex, [want[lexical.row[p.id]] for p in passages], rtol=1e-4)
        assert np.allclose(dense, store.vectors([p.id for p in passages]) @ _query(), atol=1e-5)
        assert {p.id for p in passages} >= {p.id for p in lexical.top(question, 50)}
    assert {p.id for p in back.lexical_top("Kremlin", 5)} == {
        p.id for p in lexical.top("Kremlin", 5)
    }


@pytest.mark.parametrize(
    ("uri", "name", "target"),
    [
        ("milvus://db.local:19530/docs", "docs", "http://db.local:19530"),
        ("milvus://db.local/docs", "docs", "http://db.local:19530"),
        ("file:///data/qa.db", "qa", "/data/qa.db"),
        ("file:///data/qa.db?collection=law", "law", "/data/qa.db"),
    ],
)
def test_store_uris(uri: str, name: str, target: str):
    loc = MilvusLocation.parse(uri)
    assert (loc.name, loc.uri) == (name, target)


@pytest.mark.parametrize(
    "uri", ["postgres://x/y", "milvus:///nohost", "file:///x.db?collection=1x"]
)
def test_bad_store_uris_say_what_is_wanted(uri: str):
    with pytest.raises(BadInput, match=r"milvus://|letters, digits"):
        MilvusLocation.parse(uri)
