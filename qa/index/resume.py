"""What lets an interrupted ``qa index`` resume: its plan, a journal of the files done,
and the staging state the batches went to (here for the index folder; Milvus's is in
`qa.index.milvus_stage`).

The plan is what the rebuild would produce (the paths given, embedder, chunking, format
and store); a resumed rebuild must have the same one, else the staging state is
discarded. The journal has an entry a file (or a document kept from elsewhere): its
source, modification time and size, its document's id, text sha256 and passage count,
or why it was skipped. A file whose time and size are unchanged is not read again.

In an index folder the staging state is ``.staging/``: ``plan.json``, ``journal.jsonl``
(a line a batch, appended and fsync'd once the batch's files are), ``batch-<n>.jsonl``
(documents with their passages) and ``batch-<n>.npy`` (their vectors).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.core.types import Document, Passage
from qa.index.backend import StoreBackend
from qa.index.records import (
    FORMAT_VERSION,
    document_from_json,
    document_to_json,
    passage_to_json,
    text_sha256,
)
from qa.index.store import STAGING_NAME, IndexSpec, Store, fsync_path

Entry = dict[str, Any]  # a journal entry (`file_entry`, `kept_entry`)
Batch = list[tuple[Document, list[Passage], np.ndarray]]


@dataclass(frozen=True)
class Plan:
    """What a rebuild produces; equal plans can resume each other's staging state."""

    paths: list[str]
    spec: dict[str, object]
    store: str

    @classmethod
    def of(cls, paths: Sequence[Path], spec: IndexSpec, store: str) -> Plan:
        shown = [f"{p} ({p.resolve()})" for p in paths]
        return cls(shown, {**spec.to_json(), "format": FORMAT_VERSION}, store)

    def to_json(self) -> dict[str, object]:
        return {"paths": self.paths, "spec": self.spec, "store": self.store}

    @property
    def digest(self) -> str:
        blob = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def differs(self, saved: dict[str, Any]) -> str | None:
        """What differs from the plan ``saved`` (None: nothing), in a few words."""
        if saved.get("digest") == self.digest:
            return None
        if saved.get("spec") != self.spec:
            return "another embedder, chunking or format"
        if saved.get("store") != self.store:
            return "another store"
        return "other paths"


def file_entry(
    source: str,
    stat: tuple[int, int],
    doc: Document | None = None,
    passages: int = 0,
    skip: tuple[str, str] | None = None,
) -> Entry:
    """A file's journal entry: done (its document), or skipped with the reason."""
    e: Entry = {"key": source, "stat": list(stat), "doc": None, "sha": None, "n": passages}
    if doc is not None:
        e.update(doc=doc.id, sha=text_sha256(doc.text))
    if skip is not None:
        e["skip"] = [skip[0], skip[1][:500]]
    return e


def kept_entry(doc: Document, passages: int) -> Entry:
    """A document from elsewhere (not from the paths), embedded again: keyed by its id."""
    return {"key": f"doc:{doc.id}", "doc": doc.id, "sha": text_sha256(doc.text), "n": passages}


def file_stat(path: Path) -> tuple[int, int]:
    """What says a file is unchanged without reading it: modification time and size."""
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_mtime_ns, st.st_size)


@dataclass
class Resumed:
    """The journal checked against the files now: entries still valid, by key, and the
    documents in the staging state that must go (their files changed or went away)."""

    files: dict[str, Entry]
    kept: dict[str, Entry]
    stale: set[str]


def reconcile(journal: Iterable[Entry], stats: dict[str, tuple[int, int]]) -> Resumed:
    """Which journal entries still hold for files with ``stats`` (source → `file_stat`).

    A later entry for a key replaces an earlier one; when any file changed, the files
    skipped as duplicates are read again (what they duplicated may have changed).
    """
    latest: dict[str, Entry] = {}
    every_doc: set[str] = set()
    for e in journal:
        latest[e["key"]] = e
        if e.get("doc"):
            every_doc.add(e["doc"])
    files = {
        k: e
        for k, e in latest.items()
        if not k.startswith("doc:") and k in stats and tuple(e["stat"]) == stats[k]
    }
    if len(files) < sum(not k.startswith("doc:") for k in latest):
        files = {k: e for k, e in files.items() if (e.get("skip") or [""])[0] != "duplicate"}
    kept = {k: e for k, e in latest.items() if k.startswith("doc:")}
    keep = {e["doc"] for e in (*files.values(), *kept.values()) if e.get("doc")}
    return Resumed(files, kept, every_doc - keep)


class Staging(Protocol):
    """Where a rebuild's batches go until it is complete, durably, with its journal."""

    next_batch: int  # the number the next batch written gets

    def start(self, plan: Plan, restart: bool) -> tuple[list[Entry], str | None]:
        """Open the staging state of ``plan`` (or a new one): the journal so far, and a
        one-line notice when another plan's state was discarded."""
        ...

    def drop(self, doc_ids: Iterable[str]) -> None: ...

    def write(self, number: int, entries: list[Entry], batch: Batch) -> None: ...

    def finish(self, ivf_threshold: int, nprobe: int) -> StoreBackend: ...

    def discard(self) -> None: ...


class FolderStaging:
    """A rebuild of an index folder: batches in ``.staging/``, the store in memory (its
    FAISS index holds every vector, as the saved one will), saved atomically at the end."""

    def __init__(self, path: Path, spec: IndexSpec) -> None:
        self.path = Path(path)
        self.dir = self.path / STAGING_NAME
        self.store = Store(spec)
        self.next_batch = 1

    def start(self, plan: Plan, restart: bool) -> tuple[list[Entry], str | None]:
        saved = _read_json(self.dir / "plan.json")
        notice = None
        if saved is not None and not restart and plan.differs(saved) is None:
            return self._load(), None
        if saved is not None and not restart:
            notice = f"discarding an unfinished rebuild of {plan.differs(saved)}"
        self.discard()
        self.dir.mkdir(parents=True)
        saved = {**plan.to_json(), "digest": plan.digest}
        _write_durably(self.dir / "plan.json", json.dumps(saved, ensure_ascii=False))
        fsync_path(self.path)
        return [], notice

    def _load(self) -> list[Entry]:
        """The journal's entries, and the store holding its batches' documents and vectors
        (a batch written but not journaled, or a torn last line, counts as not done)."""
        journal: list[Entry] = []
        batches: set[int] = set()
        good = 0  # bytes of whole lines: a torn last line is cut, so appends start clean
        try:
            with open(self.dir / "journal.jsonl", "rb+") as f:
                for line in f:
                    try:
                        row = json.loads(line)
                    except ValueError:
                        break
                    if not line.endswith(b"\n"):
                        break
                    good += len(line)
                    batches.add(row["batch"])
                    journal.extend(row["entries"])
                f.truncate(good)
        except FileNotFoundError:
            pass
        for f in self.dir.glob("batch-*"):
            number = int(f.name[6:].split(".")[0])
            if number not in batches:
                f.unlink()
        self.next_batch = max(batches, default=0) + 1
        for number in sorted(batches):
            for doc, passages, vectors in _read_batch(self.dir, number):
                self.store.add(doc, passages, vectors)
        return journal

    def drop(self, doc_ids: Iterable[str]) -> None:
        for d in doc_ids:
            if d in self.store.documents:
                self.store.remove(d)

    def write(self, number: int, entries: list[Entry], batch: Batch) -> None:
        name = f"batch-{number:06d}"
        with open(self.dir / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for doc, passages, _ in batch:
                row = {
                    "doc": document_to_json(doc),
                    "passages": [passage_to_json(p) for p in passages],
                }
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        vectors = [v for _, _, v in batch]
        with open(self.dir / f"{name}.npy", "wb") as f:
            np.save(f, np.concatenate(vectors) if vectors else np.zeros((0, self.store.spec.dim)))
            f.flush()
            os.fsync(f.fileno())
        # the journal line last: a batch counts as done only once its files are on disk
        with open(self.dir / "journal.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps({"batch": number, "entries": entries}, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        for doc, passages, v in batch:
            self.store.add(doc, passages, v)

    def finish(self, ivf_threshold: int, nprobe: int) -> StoreBackend:
        self.store.optimise(ivf_threshold, nprobe)
        self.store.save(self.path)
        self.discard()
        return self.store

    def discard(self) -> None:
        if self.dir.exists():
            shutil.rmtree(self.dir)


def _read_batch(folder: Path, number: int) -> Batch:
    name = f"batch-{number:06d}"
    vectors = np.load(folder / f"{name}.npy")
    out: Batch = []
    i = 0
    with open(folder / f"{name}.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            doc = document_from_json(row["doc"])
            passages = [
                Passage(
                    r["id"],
                    doc.id,
                    r["start"],
                    r["end"],
                    doc.text[r["start"] : r["end"]],
                    r["section"],
                    r["page"],
                )
                for r in row["passages"]
            ]
            out.append((doc, passages, vectors[i : i + len(passages)].astype(np.float32)))
            i += len(passages)
    return out


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_durably(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
