"""The engine over Milvus (milvus-lite) answers as over the index folder: ``QA_STORE`` is
the only difference."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qa.core.config import Settings
from qa.core.errors import IndexNotFound
from qa.core.types import response_to_dict
from qa.engine import Engine

from .conftest import SEED_DIR, FakeEncoder
from .test_engine import QUESTIONS, _answers


@pytest.fixture
def milvus_engine(settings: Settings, milvus_uri: str, corpus_dir: Path) -> Engine:
    e = Engine(replace(settings, store=milvus_uri), encoder=FakeEncoder())
    e.index([corpus_dir])
    return e


def test_answers_equal_the_folder_store(milvus_engine: Engine, engine: Engine):
    assert type(milvus_engine.store).__name__ == "MilvusStore"
    assert _answers(milvus_engine) == _answers(engine)
    assert milvus_engine.documents() == engine.documents()
    assert milvus_engine.fingerprint == engine.fingerprint  # the same indexed contents


def test_no_local_bm25_index_over_milvus(milvus_engine: Engine, engine: Engine):
    """Milvus searches BM25 itself: the engine builds no bm25s index for it (the folder's
    engine does, before its first question)."""
    milvus_engine.ask(QUESTIONS[0], 3)
    assert milvus_engine._snap.retriever._lexical is None
    assert engine._snap.retriever._lexical is not None


def test_writes_reach_another_engine_and_survive_a_restart(milvus_engine: Engine, engine: Engine):
    other = Engine(milvus_engine.settings, encoder=FakeEncoder())
    assert len(other.store) == len(milvus_engine.store)
    doc, new = milvus_engine.add_text("Bees live in colonies of up to sixty thousand.", "b.txt")
    engine.add_text("Bees live in colonies of up to sixty thousand.", "b.txt")
    assert new and doc.id in other.store.documents  # reloaded: the stamp changed
    resp = other.ask("How many bees live in a colony?", 3)
    assert resp.citations and other.cite(resp.citations[0].id)["doc_id"]
    gone = next(d for d in engine.store.documents.values() if d.source.endswith("paris.txt"))
    milvus_engine.remove(gone.id)
    engine.remove(gone.id)
    fresh = Engine(milvus_engine.settings, encoder=FakeEncoder())
    assert fresh.store.documents == engine.store.documents
    assert fresh.store.passages == engine.store.passages
    assert _answers(fresh) == _answers(engine)


def test_filters_and_missing_index(milvus_engine: Engine, engine: Engine, milvus_uri: str):
    doc = next(d for d in engine.store.documents.values() if d.source.endswith("paris.txt"))
    where = {"doc": [doc.id]}
    a = response_to_dict(milvus_engine.ask(QUESTIONS[0], 3, where=where))
    b = response_to_dict(engine.ask(QUESTIONS[0], 3, where=where))
    a.pop("timings_ms"), b.pop("timings_ms")
    assert a == b and {c["doc_id"] for c in a["citations"]} == {doc.id}
    empty = Engine(replace(milvus_engine.settings, store=milvus_uri + "x"), encoder=FakeEncoder())
    with pytest.raises(IndexNotFound, match="--store file://"):
        empty.ask("Anyone?")


@pytest.mark.slow
def test_seed_answers_through_milvus_equal_the_folder_store(tmp_path: Path, milvus_uri: str):
    """The real embedder and reader over the seed article: the same answers and citations."""
    folder = Engine(Settings(index_dir=tmp_path / "index"))
    folder.index([SEED_DIR])
    milvus = Engine(replace(folder.settings, store=milvus_uri), folder._encoder, folder._reader)
    milvus.index([SEED_DIR])
    questions = [
        "Who is the Kremlin's top foreign policy aide?",
        "Who is Ushakov?",
        "Who will visit Moscow?",
        "When will the meeting take place?",
        "What did Putin say?",
    ]
    for q in questions:
        a, b = _same_up_to_rounding(milvus.ask(q, 5)), _same_up_to_rounding(folder.ask(q, 5))
        assert a == b, q


def _same_up_to_rounding(resp) -> dict:
    """The response without timings, its answer's score and confidence within 1e-5: Milvus
    sums BM25 in another order, so scores may differ in the last bit of a float32 (and a
    rounding to fixed places can still fall either side of a boundary)."""
    d = response_to_dict(resp)
    d.pop("timings_ms")
    if d["answer"]:
        for key in ("score", "confidence"):
            d["answer"][key] = pytest.approx(d["answer"][key], abs=1e-5)
    return d
