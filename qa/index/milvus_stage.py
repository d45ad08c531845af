"""A rebuild in Milvus (`qa.index.resume.Staging`): batches go to a new generation's
collections, flushed one batch at a time, while readers keep the live generation; the
flip is one upsert of the meta row, then the old generation's collections are dropped.

The plan and journal live in the meta collection beside the ``index`` row: ``stage``
holds the plan's digest and the generation being built; ``stage/<n>`` holds batch n,
first as ``pending`` (its document ids, written before its rows) and then ``done`` (its
journal entries). A pending batch found on resume had its rows half written: they are
deleted and its files read again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from qa.core.types import Document
from qa.index.backend import StoreBackend
from qa.index.ingest import from_paths
from qa.index.milvus import BATCH, MilvusLocation
from qa.index.milvus_store import (
    MilvusStore,
    drop_generation,
    ensure_meta,
    generations,
    new_generation,
)
from qa.index.records import document_from_json
from qa.index.resume import Batch, Entry, Plan
from qa.index.store import IndexSpec

STAGE = "stage"


class MilvusStaging:
    """A rebuild of an index in Milvus, resumable from its journal rows."""

    def __init__(self, location: MilvusLocation, spec: IndexSpec) -> None:
        self.location = location
        self.spec = spec
        self.store: MilvusStore | None = None
        self.next_batch = 1

    # -- the meta collection's rows ------------------------------------------------------
    @property
    def _meta(self) -> str:
        return self.location.names[2]

    def _get(self, key: str) -> dict[str, Any] | None:
        rows = self.location.client.query(
            self._meta, filter=f'key == "{key}"', output_fields=["value"]
        )
        return json.loads(rows[0]["value"]) if rows else None

    def _put(self, key: str, value: dict[str, Any]) -> None:
        blob = json.dumps(value, ensure_ascii=False)
        self.location.client.upsert(self._meta, [{"key": key, "value": blob, "v": [0.0, 0.0]}])

    def _batches(self) -> list[tuple[str, dict[str, Any]]]:
        rows = _iterate(self.location, self._meta, 'key like "stage/%"', ["key", "value"])
        return sorted(((r["key"], json.loads(r["value"])) for r in rows), key=lambda kv: kv[0])

    # -- Staging -------------------------------------------------------------------------
    def start(self, plan: Plan, restart: bool) -> tuple[list[Entry], str | None]:
        loc = self.location
        ensure_meta(loc)
        saved = self._get(STAGE)
        live = loc.live_generation()
        if saved is not None and saved.get("generation") == live:
            self._forget()  # a rebuild published just before it could clear its rows
            saved = None
        notice = None
        if saved is not None and not restart:
            why = plan.differs(saved)
            if why is None and saved["generation"] not in generations(loc):
                why = "which the collections are missing"
            if why is None:
                self._sweep({live, saved["generation"]})
                return self._resume(saved["generation"]), None
            notice = f"discarding an unfinished rebuild of {why}"
        self.discard()
        gen = new_generation()
        self._put(STAGE, {"digest": plan.digest, "spec": plan.spec, "store": plan.store,
                          "generation": gen})  # fmt: skip
        self.store = MilvusStore(self.spec, loc, fresh=True, generation=gen)
        self.store.flush(publish=False)  # the generation's collections, empty
        self._sweep({live, gen})
        return [], notice

    def _resume(self, gen: str) -> list[Entry]:
        """The journal of generation ``gen``; a pending batch's rows are deleted first."""
        c, journal = self.location.client, []
        for key, row in self._batches():
            self.next_batch = max(self.next_batch, int(key.split("/")[1]) + 1)
            if row.get("state") == "done":
                journal.extend(row["entries"])
                continue
            ids = sorted(row.get("docs", []))
            for name in self.location.collections(gen):
                for i in range(0, len(ids), BATCH):
                    chunk = json.dumps(ids[i : i + BATCH])
                    c.delete(name, filter=f"doc_id in {chunk}")
            c.delete(self._meta, filter=f'key == "{key}"')
        self.store = MilvusStore.read(self.location, self.spec, gen, fresh=True)
        return journal

    def _sweep(self, keep: set[str | None]) -> None:
        """Drop generations nobody points at (left by a crash between a flip and its drop)."""
        for gen in generations(self.location) - keep:
            drop_generation(self.location, gen)

    def drop(self, doc_ids: Iterable[str]) -> None:
        assert self.store is not None
        gone = [d for d in doc_ids if d in self.store.documents]
        for d in gone:
            self.store.remove(d)
        if gone:
            self.store.flush(publish=False)

    def write(self, number: int, entries: list[Entry], batch: Batch) -> None:
        assert self.store is not None
        key = f"{STAGE}/{number:08d}"
        self._put(key, {"state": "pending", "docs": [d.id for d, _, _ in batch]})
        for doc, passages, vectors in batch:
            self.store.add(doc, passages, vectors)
        self.store.flush(publish=False)
        self._put(key, {"state": "done", "entries": entries})

    def finish(self, ivf_threshold: int, nprobe: int) -> StoreBackend:
        assert self.store is not None
        self.store.publish()  # the flip; the old generation is dropped
        self._forget()
        return self.store

    def discard(self) -> None:
        saved = self._get(STAGE)
        if saved is not None and saved.get("generation") != self.location.live_generation():
            drop_generation(self.location, saved["generation"])
        self._forget()

    def _forget(self) -> None:
        c = self.location.client
        c.delete(self._meta, filter=f'key == "{STAGE}"')
        c.delete(self._meta, filter=f'key like "{STAGE}/%"')


def milvus_others(
    location: MilvusLocation, paths: Sequence[Path], sources: set[str], exclude: set[str]
) -> list[Document]:
    """The live documents not from ``paths`` (nor in ``exclude``): their sources read from
    the first part of each document's row, then only those documents loaded."""
    gen = location.live_generation()
    docs = None if gen is None else location.collections(gen)[1]
    if docs is None or not location.client.has_collection(docs):
        return []
    wanted = []
    for r in _iterate(location, docs, "part == 0", ["doc_id", "data"]):
        if r["doc_id"] not in exclude and not from_paths(_source_of(r["data"]), paths, sources):
            wanted.append(r["doc_id"])
    out = []
    for i in range(0, len(wanted), 100):
        parts: dict[str, list[tuple[int, str]]] = {}
        flt = f"doc_id in {json.dumps(wanted[i : i + 100])}"
        for r in _iterate(location, docs, flt, ["doc_id", "part", "data"]):
            parts.setdefault(r["doc_id"], []).append((r["part"], r["data"]))
        for doc_id in wanted[i : i + 100]:
            blob = "".join(t for _, t in sorted(parts[doc_id]))
            out.append(document_from_json(json.loads(blob)))
    return out


def _source_of(head: str) -> str:
    """The source in the first part of a document's JSON (``{"id": …, "source": …``)."""
    at = head.index('"source": ') + len('"source": ')
    return str(json.JSONDecoder().raw_decode(head, at)[0])


def _iterate(
    location: MilvusLocation, collection: str, flt: str, fields: list[str]
) -> Iterator[dict[str, Any]]:
    it = location.client.query_iterator(
        collection, batch_size=1000, filter=flt, output_fields=fields
    )
    try:
        while batch := it.next():
            yield from batch
    finally:
        it.close()
