"""A store whose vectors and BM25 live in Milvus (`qa.index.milvus` says where and how).

Changes are kept in memory until `flush` (the engine's save): a write copies the store,
changes the copy and flushes it, as with the folder store. The document table (texts,
offsets) is read into memory on open, so lookups, filters and citations cost nothing; the
searches go to Milvus. A rebuild (a fresh store) writes a new generation's collections and
flips the meta row to it when complete, so readers see the old index until then; a flush
of changes to the live generation (add, rm) is not atomic: a question during one may see
part of it.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Collection, Iterable
from typing import Any

import numpy as np

from qa.core.errors import Busy, IndexMismatch
from qa.core.text import terms
from qa.core.types import Document, Passage
from qa.index.milvus import BATCH, MilvusLocation, _fit, document_rows
from qa.index.store import IndexSpec, build_manifest, check_manifest

BM25 = {"bm25_k1": 1.5, "bm25_b": 0.75}  # bm25s's defaults, so scores equal the local ones
# Milvus's BM25 carries a factor (k1 + 1) that bm25s's (Lucene's) leaves out: divided out,
# the scores a hit reports are the local store's.
_SCALE = 1.0 / (1.0 + BM25["bm25_k1"])
# Seconds a save or load searches Strong before the configured level: twice the staleness
# bound of Bounded (Milvus's common.gracefulTime, 5 s by default), so once it ends the lag
# of a Bounded search reaches back no further than the save.
FRESH_S = 10.0


class MilvusStore:
    """Documents and passages in memory; vectors and BM25 searched in Milvus."""

    def __init__(
        self,
        spec: IndexSpec,
        location: MilvusLocation,
        fresh: bool = False,
        generation: str | None = None,
    ) -> None:
        self.spec = spec
        self.location = location
        # The collections this store reads and writes; a fresh store (a rebuild) gets a
        # new generation, published by the flush that completes it.
        self.generation = new_generation() if generation is None else generation
        self._created = not fresh  # a fresh store's collections exist once first flushed
        self.documents: dict[str, Document] = {}
        self.passages: dict[str, Passage] = {}
        self._doc_passages: dict[str, list[str]] = {}
        self.version = 0
        self.stamp: object | None = None
        self._fresh = fresh  # a rebuild: the flush publishes a new generation
        self._added: dict[str, tuple[Document, list[Passage], np.ndarray]] = {}
        self._removed: set[str] = set()
        self._level_stamp: object | None = None  # the save `read_level` last saw
        self._fresh_until = 0.0

    def __len__(self) -> int:
        return len(self.passages)

    kind = "milvus"

    @property
    def collections(self) -> tuple[str, str]:
        """The passages' and documents' collections of this store's generation."""
        return self.location.collections(self.generation)

    def optimise(self, ivf_threshold: int, nprobe: int = 32) -> None:
        """Milvus chooses and builds its own index (FLAT here: exact, as qa's default)."""

    def set_nprobe(self, nprobe: int) -> None:
        """No lists to probe in a FLAT index."""

    # -- changes (in memory until flush) -------------------------------------------------
    def add(self, doc: Document, passages: list[Passage], vectors: np.ndarray) -> None:
        if vectors.shape != (len(passages), self.spec.dim):
            raise ValueError(f"expected vectors of shape {(len(passages), self.spec.dim)}")
        if doc.id in self.documents:
            self.remove(doc.id)
        self.documents[doc.id] = doc
        self._doc_passages[doc.id] = [p.id for p in passages]
        self.passages.update((p.id, p) for p in passages)
        self._added[doc.id] = (doc, passages, np.asarray(vectors, dtype=np.float32))
        self.version += 1
        self.stamp = None

    def remove(self, doc_id: str) -> Document:
        doc = self.documents.pop(doc_id)
        for pid in self._doc_passages.pop(doc_id):
            self.passages.pop(pid, None)
        if self._added.pop(doc_id, None) is None:
            self._removed.add(doc_id)
        self.version += 1
        self.stamp = None
        return doc

    def copy(self) -> MilvusStore:
        new = MilvusStore(self.spec, self.location, self._fresh, self.generation)
        new._created = self._created
        new.documents = dict(self.documents)
        new.passages = dict(self.passages)
        new._doc_passages = {k: list(v) for k, v in self._doc_passages.items()}
        new._added = dict(self._added)
        new._removed = set(self._removed)
        new.version = self.version
        return new

    def flush(self, publish: bool = True) -> None:
        """Write the changes: removed documents deleted, added ones inserted, then (with
        ``publish``) the manifest and a new stamp (last, so a reader reloads only once the
        rows are in). A fresh store's first flush creates its generation's collections;
        its publishing flush points readers at them and drops the generation they left."""
        loc, c = self.location, self.location.client
        name, docs = self.collections
        empty = not self._created  # collections made just now hold no rows to delete
        if empty:
            create_collections(loc, self.spec.dim, self.generation)
            self._created = True
        elif not self._fresh:
            live = loc.live_generation()
            if live is None:
                raise loc.not_found()
            if live != self.generation:
                raise Busy(
                    f"the index at {loc.describe()} was rebuilt while this change was made; "
                    "retry it"
                )
        gone = [] if empty else sorted(self._removed | set(self._added))  # replaced: old out
        for i in range(0, len(gone), BATCH):
            ids = gone[i : i + BATCH]
            c.delete(name, filter=f"doc_id in {ids!r}".replace("'", '"'))
            c.delete(docs, filter=f"doc_id in {ids!r}".replace("'", '"'))
        rows: list[dict[str, object]] = []
        parts: list[dict[str, object]] = []  # documents' rows, sent before their passages'
        for doc, passages, vectors in self._added.values():
            parts.extend(document_rows(doc))
            rows.extend(_passage_row(doc, p, v) for p, v in zip(passages, vectors, strict=True))
            if len(rows) >= BATCH or len(parts) >= DOC_PARTS:
                _send(c, docs, parts, DOC_PARTS)
                _send(c, name, rows, BATCH, BATCH)
        _send(c, docs, parts, DOC_PARTS)
        _send(c, name, rows, BATCH)
        self._added, self._removed = {}, set()
        if publish:
            self.publish()

    def publish(self) -> None:
        """Point readers at this store's generation (one upsert of the meta row) with a new
        stamp; a rebuild's old generation is dropped once nobody is pointed at it."""
        loc = self.location
        before = loc.live_generation()
        stamp = uuid.uuid4().hex
        manifest = {k: v for k, v in self.manifest().items() if k != "documents"}
        loc.write_meta(manifest, stamp, self.generation)
        if before is not None and before != self.generation:
            drop_generation(loc, before)
        self._fresh = False
        self.stamp = stamp

    # -- reads ---------------------------------------------------------------------------
    def doc_passages(self, doc_id: str) -> list[Passage]:
        return [self.passages[p] for p in self._doc_passages.get(doc_id, [])]

    def _filter(self, among: Collection[str] | None) -> str:
        """``among`` (passage ids) as a filter: on doc_id when it is whole documents."""
        if among is None:
            return ""
        docs = sorted({self.passages[p].doc_id for p in among if p in self.passages})
        whole = sum(len(self._doc_passages[d]) for d in docs) == len(among)
        field, ids = ("doc_id", docs) if whole else ("id", sorted(among))
        return f"{field} in {ids!r}".replace("'", '"')

    def read_level(self) -> str:
        """The consistency level of a search now: Strong for `FRESH_S` after this store
        was saved or loaded (its first search then), so the save's rows are all found,
        the writer's own included; the location's level (QA_MILVUS_CONSISTENCY) after."""
        now = time.monotonic()
        if self.stamp is None or self.stamp != self._level_stamp:
            self._level_stamp, self._fresh_until = self.stamp, now + FRESH_S
        return "Strong" if now < self._fresh_until else self.location.consistency

    def _search(self, data: Any, field: str, n: int, flt: str, out: list[str]) -> list[dict]:
        metric = "BM25" if field == "sparse" else "IP"
        hits = self.location.client.search(
            self.collections[0],
            data=[data],
            anns_field=field,
            limit=n,
            filter=flt,
            output_fields=out,
            search_params={"metric_type": metric},
            consistency_level=self.read_level(),
        )
        return list(hits[0]) if hits else []

    def search(
        self, query: np.ndarray, k: int, among: Collection[str] | None = None
    ) -> list[tuple[Passage, float]]:
        if not self.passages or k <= 0 or (among is not None and not among):
            return []
        q = np.asarray(query, dtype=np.float32).ravel().tolist()
        hits = self._search(q, "vector", min(k, len(self)), self._filter(among), [])
        return [(self.passages[h["id"]], float(h["distance"])) for h in hits if h["id"] in self]

    def __contains__(self, passage_id: object) -> bool:
        return passage_id in self.passages

    def vectors(self, passage_ids: Iterable[str]) -> np.ndarray:
        ids = list(passage_ids)
        if not ids:
            return np.zeros((0, self.spec.dim), dtype=np.float32)
        rows = self.location.client.get(
            self.collections[0], ids=ids, output_fields=["vector"], consistency_level="Strong"
        )
        got = {r["id"]: r["vector"] for r in rows}
        return np.array([got[p] for p in ids], dtype=np.float32)

    def lexical_top(self, text: str, n: int) -> list[Passage]:
        """The passages BM25 ranks best for ``text`` (at most ``n``, scores above 0)."""
        t = " ".join(terms(text))
        if not t or not self.passages:
            return []
        hits = self._search(t, "sparse", n, "", [])
        return [self.passages[h["id"]] for h in hits if h["id"] in self and h["distance"] > 0]

    def candidates(
        self, question: str, q: np.ndarray, n: int, among: Collection[str] | None = None
    ) -> tuple[list[Passage], np.ndarray, np.ndarray]:
        """The union of Milvus's dense and BM25 top ``n``, by id, with both scores: dense
        from the vectors the hits carry (as the local retriever computes it), BM25 of the
        dense-only hits by one more search among them."""
        if not self.passages or (among is not None and not among):
            return [], np.zeros(0, np.float32), np.zeros(0, np.float32)
        flt = self._filter(among)
        qv = np.asarray(q, dtype=np.float32).ravel()
        vec: dict[str, list[float]] = {}
        for h in self._search(qv.tolist(), "vector", n, flt, ["vector"]):
            vec[h["id"]] = h["entity"]["vector"]
        bm25: dict[str, float] = {}
        t = " ".join(terms(question))
        if t:
            for h in self._search(t, "sparse", n, flt, ["vector"]):
                vec.setdefault(h["id"], h["entity"]["vector"])
                bm25[h["id"]] = float(h["distance"]) * _SCALE
            rest = sorted(set(vec) - set(bm25))
            if rest:
                rest_filter = f"id in {rest!r}".replace("'", '"')
                for h in self._search(t, "sparse", len(rest), rest_filter, []):
                    bm25[h["id"]] = float(h["distance"]) * _SCALE
        ids = sorted(p for p in vec if p in self)  # a row saved by another process: next load
        dense = np.array([vec[p] for p in ids], dtype=np.float32).reshape(-1, self.spec.dim) @ qv
        lex = np.array([bm25.get(p, 0.0) for p in ids], dtype=np.float32)
        return [self.passages[p] for p in ids], dense, lex

    # -- manifest and loading ------------------------------------------------------------
    def manifest(self) -> dict[str, object]:
        return build_manifest(self.spec, self.kind, self.documents, self._doc_passages)

    @classmethod
    def open(cls, location: MilvusLocation, expected: IndexSpec) -> MilvusStore:
        """The index saved at ``location``; `IndexMismatch` (one sentence, with the fix)
        when it was built with another embedder, chunking or format."""
        return cls.load(location, expected)

    @classmethod
    def load(cls, location: MilvusLocation, expected: IndexSpec | None) -> MilvusStore:
        meta = location.read_meta()
        if meta is None:
            raise location.not_found()
        manifest = meta.get("manifest") or {}
        hint = location.rebuild_hint()
        if expected is not None:
            check_manifest(manifest, expected, location.describe(), hint)
        spec = expected or IndexSpec(
            manifest["embedder"]["name"], manifest["embedder"]["dim"], manifest["chunking"]
        )
        store = cls.read(location, spec, str(meta.get("generation") or ""))
        store.stamp = meta.get("stamp")
        return store

    @classmethod
    def read(
        cls, location: MilvusLocation, spec: IndexSpec, generation: str, fresh: bool = False
    ) -> MilvusStore:
        """The documents and passages of ``generation`` (a rebuild's, ``fresh``, resumes)."""
        store = cls(spec, location, fresh, generation)
        store._created = True
        hint = location.rebuild_hint()
        try:
            store.documents = location.load_documents(generation)
            passages = location.load_passages(store.documents, generation)
        except (KeyError, ValueError, TypeError) as e:
            raise IndexMismatch(
                f"the index at {location.describe()} is damaged ({e}); rebuild it with {hint}"
            ) from None
        store._doc_passages = {d: [] for d in store.documents}
        for p in sorted(passages, key=lambda p: (p.doc_id, p.start, p.end)):
            store.passages[p.id] = p
            store._doc_passages[p.doc_id].append(p.id)
        return store


DOC_PARTS = 64  # documents' parts an insert sends (each up to 64 KB)


def _send(
    client: Any, collection: str, rows: list[dict[str, object]], size: int, at_least: int = 1
) -> None:
    """Insert ``rows``, ``size`` an insert, until fewer than ``at_least`` are left."""
    while rows and len(rows) >= at_least:
        client.insert(collection, rows[:size])
        del rows[:size]


def _passage_row(doc: Document, p: Passage, vector: np.ndarray) -> dict[str, object]:
    return {
        "id": p.id,
        "doc_id": doc.id,
        "source": _fit(doc.source, 4096),
        "title": _fit(doc.title, 4096),
        "start": p.start,
        "end": p.end,
        "text": _fit(p.text),
        "page": p.page or 0,  # pages count from 1: 0 is "no pages"
        "section": _fit(p.section, 4096),
        "terms": _fit(" ".join(terms(p.search_text))),
        "vector": vector.tolist(),
    }


def new_generation() -> str:
    return f"g{uuid.uuid4().hex[:8]}"


def generations(location: MilvusLocation) -> set[str]:
    """The generations that have collections at ``location`` (one listing)."""
    pattern = re.compile(rf"^{re.escape(location.name)}_(g[0-9a-f]{{8}})(?:_documents)?$")
    return {m[1] for n in location.client.list_collections() if (m := pattern.match(n))}


def drop_generation(location: MilvusLocation, generation: str) -> None:
    """Drop the passages' and documents' collections of ``generation``."""
    c = location.client
    for name in location.collections(generation):
        if c.has_collection(name):
            c.drop_collection(name)


def ensure_meta(location: MilvusLocation) -> None:
    """Create the meta collection of ``location`` unless it exists."""
    if not location.client.has_collection(location.names[2]):
        _create_table(location, location.names[2], {"value": 65535})


def create_collections(location: MilvusLocation, dim: int, generation: str) -> None:
    """(Re)create the passages' and documents' collections of ``generation``, empty, and
    the meta collection unless it exists."""
    from pymilvus import DataType, Function, FunctionType

    c = location.client
    drop_generation(location, generation)
    ensure_meta(location)
    name, docs = location.collections(generation)
    s = c.create_schema(auto_id=False)
    s.add_field("id", DataType.VARCHAR, max_length=64, is_primary=True)
    s.add_field("doc_id", DataType.VARCHAR, max_length=64)
    for field in ("source", "title", "section"):
        s.add_field(field, DataType.VARCHAR, max_length=4096)
    for field in ("start", "end", "page"):
        s.add_field(field, DataType.INT64)
    s.add_field("text", DataType.VARCHAR, max_length=65535)
    # qa's terms, whitespace-split: no second stemming, the same terms as bm25s sees
    s.add_field(
        "terms",
        DataType.VARCHAR,
        max_length=65535,
        enable_analyzer=True,
        analyzer_params={"tokenizer": "whitespace"},
    )
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    s.add_function(Function("bm25", FunctionType.BM25, ["terms"], ["sparse"]))
    ip = c.prepare_index_params()
    ip.add_index("vector", index_type="FLAT", metric_type="IP")
    ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25)
    c.create_collection(name, schema=s, index_params=ip, consistency_level="Strong")
    _create_table(location, docs, {"doc_id": 64, "data": 65535}, part=True)


def _create_table(location: MilvusLocation, name: str, fields: dict[str, int], part=False):
    """A collection of VARCHAR fields (Milvus wants a vector in each: a 2-d dummy)."""
    from pymilvus import DataType

    c = location.client
    s = c.create_schema(auto_id=False)
    s.add_field("id" if part else "key", DataType.VARCHAR, max_length=128, is_primary=True)
    for field, size in fields.items():
        s.add_field(field, DataType.VARCHAR, max_length=size)
    if part:
        s.add_field("part", DataType.INT64)
    s.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    ip = c.prepare_index_params()
    ip.add_index("v", index_type="FLAT", metric_type="L2")
    c.create_collection(name, schema=s, index_params=ip, consistency_level="Strong")
