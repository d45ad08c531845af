import os
from pathlib import Path

import numpy as np
import pytest

from qa.core.config import Settings
from qa.core.errors import BadInput, IndexMismatch, IndexNotFound
from qa.core.types import Document
from qa.index.chunk import chunk
from qa.index.manifest import read_manifest
from qa.index.store import IndexSpec, Store, rebuild_hint

SPEC = IndexSpec("test/enc", 4, {"splitter": "syntok", "max_passage_words": 150})


def _store(*texts: str) -> Store:
    store = Store(SPEC)
    rng = np.random.default_rng(0)
    for i, t in enumerate(texts):
        doc = Document.from_text(t, f"{i}.txt", f"doc {i}")
        ps = chunk(doc)
        v = rng.normal(size=(len(ps), 4)).astype(np.float32)
        store.add(doc, ps, v / np.linalg.norm(v, axis=1, keepdims=True))
    return store


def test_save_and_open_round_trip(tmp_path: Path):
    store = _store("One.\n\nTwo.", "Three.")
    store.save(tmp_path / "idx")
    back = Store.open(tmp_path / "idx", SPEC)
    assert back.passages == store.passages
    assert back.documents == store.documents
    q = store.vectors([next(iter(store.passages))])[0]
    assert back.search(q, 3) == store.search(q, 3)
    m = read_manifest(tmp_path / "idx")
    assert m is not None and m["counts"] == {"documents": 2, "passages": 2}  # short ones merge


def test_remove_drops_vectors_and_passages():
    store = _store("One.\n\nTwo.", "Three.")
    doc_id = next(iter(store.documents))
    store.remove(doc_id)
    assert len(store) == 1 and store.index.ntotal == 1
    assert all(p.doc_id != doc_id for p in store.passages.values())


def test_open_missing_index_says_how_to_build(tmp_path: Path):
    with pytest.raises(IndexNotFound, match="qa index DOCS/ --index"):
        Store.open(tmp_path / "none", SPEC)
    # the default index is the one `make run` builds from seeds/
    assert rebuild_hint(Path(Settings().index_dir)).startswith("'qa index seeds/'")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (IndexSpec("other/enc", 4, SPEC.chunking), "built with embedder test/enc"),
        (IndexSpec("test/enc", 8, SPEC.chunking), r"\(dim 4\)"),
        (IndexSpec("test/enc", 4, {**SPEC.chunking, "max_passage_words": 99}), "chunked with"),
    ],
)
def test_open_with_another_model_or_chunking_explains(tmp_path: Path, spec, message):
    _store("One.").save(tmp_path / "idx")
    with pytest.raises(IndexMismatch, match=message):
        Store.open(tmp_path / "idx", spec)


def test_save_never_touches_what_is_not_the_index(tmp_path: Path):
    idx = tmp_path / "idx"
    (idx / "photos").mkdir(parents=True)
    (idx / "photos" / "a.jpg").write_bytes(b"x")
    with pytest.raises(BadInput, match="not a qa index and is not empty"):
        _store("One.").save(idx)
    assert (idx / "photos" / "a.jpg").read_bytes() == b"x" and not (idx / "CURRENT").exists()
    # inside a real index, a folder someone put there survives every later save
    fresh = tmp_path / "fresh"
    _store("One.").save(fresh)
    (fresh / "mine").mkdir()
    (fresh / "notes.txt").write_text("keep")
    _store("Two.").save(fresh)
    _store("Three.").save(fresh)
    assert (fresh / "mine").is_dir() and (fresh / "notes.txt").read_text() == "keep"
    assert sorted(p.name for p in fresh.glob("gen-*")) == ["gen-3"]  # old generations go
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(BadInput, match="is a file, not a folder"):
        _store("One.").save(file)
    assert file.read_text() == "x"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda g: (g / "passages.jsonl").write_text('{"id": "p1", "doc'), "is damaged"),
        (lambda g: (g / "passages.jsonl").unlink(), "is damaged"),
        (lambda g: (g / "documents.jsonl").write_bytes(b"\xff\xfe{"), "is damaged"),
        (lambda g: (g / "vectors.faiss").write_bytes(b"\0" * 40), "is damaged"),
        (lambda g: (g / "manifest.json").write_text("[1, 2]"), "damaged manifest"),
        (lambda g: (g.parent / "CURRENT").write_bytes(b"\xff\xfe\x00"), "no index at"),
    ],
)
def test_a_damaged_index_says_so_and_how_to_rebuild(tmp_path: Path, damage, message):
    idx = tmp_path / "idx"
    _store("One.\n\nTwo.", "Three.").save(idx)
    damage(idx / (idx / "CURRENT").read_text().strip())
    with pytest.raises((IndexMismatch, IndexNotFound), match=message) as e:
        Store.open(idx, SPEC)
    assert f"--index {idx}" in str(e.value)  # the fix names the folder it was asked for


def test_crash_during_save_leaves_previous_index_usable(tmp_path: Path, monkeypatch):
    path = tmp_path / "idx"
    old = _store("Old text.")
    old.save(path)
    real_replace = os.replace

    def crash(src, dst):
        if str(dst).endswith("CURRENT"):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        _store("New text.", "More.").save(path)
    monkeypatch.undo()
    assert Store.open(path, SPEC).passages == old.passages
    new = _store("New text.", "More.")
    new.save(path)  # the next save cleans up and wins
    assert Store.open(path, SPEC).passages == new.passages
    live = (path / "CURRENT").read_text().strip()
    assert sorted(p.name for p in path.iterdir()) == ["CURRENT", live]


def test_copy_is_independent():
    store = _store("One.", "Two.")
    copy = store.copy()
    copy.remove(next(iter(copy.documents)))
    assert len(store) == 2 and store.index.ntotal == 2 and len(copy) == 1


def test_large_store_moves_to_ivf_and_keeps_answers_removals_and_saves(tmp_path: Path):
    rng = np.random.default_rng(1)
    spec = IndexSpec("test/enc", 8, {})
    store = Store(spec)
    docs = []
    for i in range(300):
        doc = Document.from_text(f"Document number {i}.", f"{i}.txt", str(i))
        ps = chunk(doc)
        v = rng.normal(size=(len(ps), 8)).astype(np.float32)
        store.add(doc, ps, v / np.linalg.norm(v, axis=1, keepdims=True))
        docs.append(doc)
    q = store.vectors([next(iter(store.passages))])[0]
    exact = store.search(q, 5)
    store.optimise(ivf_threshold=1000)
    assert store.kind == "flat"
    store.optimise(ivf_threshold=100, nprobe=1000)  # nprobe ≥ lists: the search is exhaustive
    assert store.kind == "ivf"
    assert [p.id for p, _ in store.search(q, 5)] == [p.id for p, _ in exact]
    assert np.allclose(store.vectors([exact[0][0].id])[0], q)
    store.remove(docs[0].id)
    assert store.index.ntotal == 299 and len(store) == 299
    store.save(tmp_path / "idx")
    back = Store.open(tmp_path / "idx", spec)
    back.set_nprobe(1000)
    assert back.kind == "ivf" and back.manifest()["vector_index"] == "ivf"
    assert back.search(q, 5) == store.search(q, 5)
    copy = back.copy()
    copy.remove(docs[1].id)
    assert copy.kind == "ivf" and copy.index.ntotal == 298 and back.index.ntotal == 299


def test_every_thread_searches_with_one_openmp_thread(tmp_path) -> None:
    """OpenMP keeps its thread count per thread: a server's pool threads must each be set
    (left at every core, each query spun up a team and cost about a fifth more CPU)."""
    import threading

    import faiss
    import numpy as np

    from qa.core.types import Document
    from qa.index.chunk import chunk
    from qa.index.store import IndexSpec, Store

    store = Store(IndexSpec("fake", 4, {}))
    doc = Document.from_text("One passage here.", "a.txt", "a")
    store.add(doc, chunk(doc), np.ones((1, 4), dtype=np.float32) / 2)
    seen: list[int] = []

    def search() -> None:
        store.search(np.ones(4, dtype=np.float32), 1)
        seen.append(faiss.omp_get_max_threads())

    t = threading.Thread(target=search)
    t.start()
    t.join()
    assert seen == [1]
