"""The index on disk: FAISS vectors keyed by passage id, the passage table and a manifest.

Layout of an index folder::

    CURRENT            name of the live generation (replaced atomically)
    gen-<n>/manifest.json, vectors.faiss, documents.jsonl, passages.jsonl

    .lock              held by the process writing (``write_lock``); never deleted
    .staging/          a rebuild under way or interrupted (`qa.index.resume`): kept until
                       it completes, so ``qa index`` can resume it

A save writes a new generation beside the live one, then swaps ``CURRENT``; a crash at
any moment leaves the previous generation readable. Reading takes no lock; writers in
any number of processes take turns on ``.lock`` and start from the live generation.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.core.errors import BadInput, Busy, IndexMismatch, IndexNotFound
from qa.core.types import Document, Passage
from qa.index.manifest import current_generation, current_stamp
from qa.index.records import (  # noqa: F401 -- FORMAT_VERSION and text_sha256 are used from here
    FORMAT_VERSION,
    build_manifest,
    document_from_json,
    document_to_json,
    passage_to_json,
    text_sha256,
)

log = logging.getLogger(__name__)

# What a save may replace or delete inside an index folder: generations and leftovers of
# crashed saves. Anything else there belongs to someone else and is never touched.
_OWNED = re.compile(r"^(gen-\d+|\.gen-\d+\.tmp-\d+|\.CURRENT\.tmp-\d+|CURRENT)$")
LOCK_NAME = ".lock"  # the writers' lock file: part of an index folder, never deleted
STAGING_NAME = ".staging"  # a rebuild's batches and journal (qa.index.resume)


@contextmanager
def write_lock(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the index folder's write lock: one writing process at a time, others wait
    (at most ``timeout`` seconds, then `Busy`; None: as long as it takes).

    Saves are atomic for readers already; the lock is for writers, so that two processes
    adding at once each start from the other's result instead of one losing it.
    """
    from filelock import FileLock, Timeout

    check_index_folder(path)
    path.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path / LOCK_NAME))
    first = 1.0 if timeout is None else min(1.0, timeout)
    try:
        try:
            lock.acquire(timeout=first)
        except Timeout:
            log.warning("waiting for another qa process to finish writing %s/ …", path)
            lock.acquire(timeout=-1 if timeout is None else max(0.0, timeout - first))
    except Timeout:
        raise Busy(
            f"another process has been writing the index at {path}/ for over {timeout:g} s; "
            "retry when it is done"
        ) from None
    except OSError as e:
        raise BadInput(
            f"cannot take the index's write lock {path / LOCK_NAME} ({e.strerror or e}); "
            "writing the index needs write access to its folder"
        ) from None
    try:
        clean_leftovers(path)  # no other writer now: what is not live is a crashed save's
        yield
    finally:
        lock.release()


_omp = threading.local()


def _one_search_thread() -> None:
    """One question at a time is searched fastest by one thread: OpenMP's waiting team
    would take the cores from the reader's and embedder's thread pools. OpenMP keeps the
    setting per thread (a server searches from its pool's threads), so once per thread."""
    if not getattr(_omp, "single", False):
        import faiss

        faiss.omp_set_num_threads(1)
        _omp.single = True


def rebuild_hint(path: Path) -> str:
    """The command that rebuilds the index at ``path`` (``--index`` named unless default)."""
    from qa.core.config import Settings

    default = Path(Settings().index_dir)
    if Path(path).resolve() == default.resolve():  # `make run` builds it from seeds/
        return "'qa index seeds/' (or the folders it was built from)"
    return f"'qa index DOCS/ --index {path}' (DOCS/: the folders of the documents it holds)"


def faiss_id(passage_id: str) -> int:
    """The int64 FAISS key of a passage id (``p`` + 15 hex digits = 60 bits)."""
    return int(passage_id[1:], 16)


@dataclass(frozen=True)
class IndexSpec:
    """What an index must agree with to be searched: the embedder and the chunking."""

    embedder: str
    dim: int
    chunking: dict[str, object]

    def to_json(self) -> dict[str, object]:
        return {"embedder": {"name": self.embedder, "dim": self.dim}, "chunking": self.chunking}


class Store:
    """Documents, passages and their vectors; exact inner-product search over the vectors."""

    def __init__(self, spec: IndexSpec) -> None:
        import faiss

        self.spec = spec
        self.documents: dict[str, Document] = {}
        self.passages: dict[str, Passage] = {}
        self._doc_passages: dict[str, list[str]] = {}
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(spec.dim))
        self._by_key: dict[int, str] = {}
        self.version = 0  # bumped on every change, so derived structures know to rebuild
        # Which save of the index on disk this store is (``current_stamp`` when opened or
        # saved); None once changed in memory, or for a store never on disk.
        self.stamp: tuple[int, int, int] | None = None

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def kind(self) -> str:
        """``flat`` (exact search) or ``ivf`` (inverted lists, for large stores)."""
        import faiss

        return "ivf" if isinstance(self.index, faiss.IndexIVF) else "flat"

    def optimise(self, ivf_threshold: int, nprobe: int = 32) -> None:
        """Move to an IVF index once the store holds ``ivf_threshold`` passages or more.

        Exact search grows linearly with the store; IVF scans ``nprobe`` of ``4·√n`` lists.
        IVF (unlike HNSW) can remove ids, which ``qa rm`` needs. The lists are trained on
        the vectors at hand; later additions go to the nearest existing list.
        """
        import faiss

        n = len(self)
        if self.kind == "ivf" or n < max(ivf_threshold, 1):
            self.set_nprobe(nprobe)
            return
        flat = faiss.downcast_index(self.index.index)
        vectors = faiss.vector_to_array(flat.codes).view(np.float32).reshape(n, self.spec.dim)
        keys = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        nlist = max(1, min(int(4 * n**0.5), n // 39))
        ivf = faiss.index_factory(self.spec.dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(n, size=min(n, nlist * 64), replace=False)]
        faiss.omp_set_num_threads(len(os.sched_getaffinity(0)))  # k-means: every core
        try:
            ivf.train(np.ascontiguousarray(sample))
        finally:
            faiss.omp_set_num_threads(1)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct + remove by id
        ivf.add_with_ids(np.ascontiguousarray(vectors), keys)
        ivf.nprobe = nprobe
        self.index = ivf
        self.version += 1

    # -- changes -----------------------------------------------------------------------
    def add(self, doc: Document, passages: list[Passage], vectors: np.ndarray) -> None:
        """Add a document with its passages and their vectors (replacing an equal-id one)."""
        if vectors.shape != (len(passages), self.spec.dim):
            raise ValueError(f"expected vectors of shape {(len(passages), self.spec.dim)}")
        if doc.id in self.documents:
            self.remove(doc.id)
        self.documents[doc.id] = doc
        self._doc_passages[doc.id] = [p.id for p in passages]
        keys = np.array([faiss_id(p.id) for p in passages], dtype=np.int64)
        for p, k in zip(passages, keys, strict=True):
            self.passages[p.id] = p
            self._by_key[int(k)] = p.id
        if len(passages):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), keys)
        self.version += 1
        self.stamp = None

    def remove(self, doc_id: str) -> Document:
        """Remove a document and its passages; raises KeyError if it is not here."""
        doc = self.documents.pop(doc_id)
        pids = self._doc_passages.pop(doc_id)
        keys = np.array([faiss_id(p) for p in pids], dtype=np.int64)
        if len(keys):
            self.index.remove_ids(keys)
        for pid, k in zip(pids, keys, strict=True):
            self.passages.pop(pid, None)
            self._by_key.pop(int(k), None)
        self.version += 1
        self.stamp = None
        return doc

    def copy(self) -> Store:
        """An independent copy (FAISS index cloned) to change while this one keeps serving."""
        import faiss

        new = Store(self.spec)
        new.documents = dict(self.documents)
        new.passages = dict(self.passages)
        new._doc_passages = {k: list(v) for k, v in self._doc_passages.items()}
        new._by_key = dict(self._by_key)
        new.index = faiss.clone_index(self.index)
        new.version = self.version
        return new

    def set_nprobe(self, nprobe: int) -> None:
        """Lists an IVF search scans (more: slower, closer to exact); no-op for flat."""
        if self.kind == "ivf":
            self.index.nprobe = nprobe

    # -- reads -------------------------------------------------------------------------
    def doc_passages(self, doc_id: str) -> list[Passage]:
        return [self.passages[p] for p in self._doc_passages.get(doc_id, [])]

    def search(
        self, query: np.ndarray, k: int, among: Collection[str] | None = None
    ) -> list[tuple[Passage, float]]:
        """The ``k`` passages whose vectors have the largest inner product with ``query``
        (only passages whose ids are in ``among``, when given)."""
        if not len(self.passages) or k <= 0 or (among is not None and not among):
            return []
        import faiss

        _one_search_thread()
        q = query.reshape(1, -1).astype(np.float32)
        if among is None:
            scores, keys = self.index.search(q, min(k, len(self)))
        else:
            sel = faiss.IDSelectorBatch(np.array([faiss_id(p) for p in among], dtype=np.int64))
            params = (
                faiss.SearchParametersIVF(sel=sel, nprobe=self.index.nprobe)
                if self.kind == "ivf"
                else faiss.SearchParameters(sel=sel)
            )
            scores, keys = self.index.search(q, min(k, len(among)), params=params)
        return [
            (self.passages[self._by_key[int(key)]], float(s))
            for s, key in zip(scores[0], keys[0], strict=True)
            if key >= 0
        ]

    def vectors(self, passage_ids: Iterable[str]) -> np.ndarray:
        """The stored vectors of ``passage_ids``, in order."""
        ids = list(passage_ids)
        if not ids:
            return np.zeros((0, self.spec.dim), dtype=np.float32)
        return np.stack([self.index.reconstruct(faiss_id(p)) for p in ids])

    # -- disk --------------------------------------------------------------------------
    def manifest(self) -> dict[str, object]:
        return build_manifest(self.spec, self.kind, self.documents, self._doc_passages)

    def save(self, path: Path) -> None:
        """Write atomically: a new generation beside the live one, then swap ``CURRENT``.

        Writers in other processes must be kept out (`write_lock`).
        """
        import faiss

        check_index_folder(path)
        path.mkdir(parents=True, exist_ok=True)
        # A crashed save may have left a newer generation that never went live: skip past it.
        taken = [int(p.name[4:]) for p in path.glob("gen-*") if p.name[4:].isdigit()]
        gen = f"gen-{max(taken, default=0) + 1}"
        tmp = path / f".{gen}.tmp-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        faiss.write_index(self.index, str(tmp / "vectors.faiss"))
        with open(tmp / "documents.jsonl", "w", encoding="utf-8") as f:
            for d in self.documents.values():
                f.write(json.dumps(document_to_json(d), ensure_ascii=False) + "\n")
        with open(tmp / "passages.jsonl", "w", encoding="utf-8") as f:
            for d in self.documents.values():
                for pid in self._doc_passages[d.id]:
                    p = self.passages[pid]
                    f.write(json.dumps(passage_to_json(p), ensure_ascii=False) + "\n")
        (tmp / "manifest.json").write_text(
            json.dumps(self.manifest(), indent=2, ensure_ascii=False)
        )
        for f in tmp.iterdir():
            _fsync(f)
        os.replace(tmp, path / gen)
        cur_tmp = path / f".CURRENT.tmp-{os.getpid()}"
        cur_tmp.write_text(gen + "\n")
        _fsync(cur_tmp)
        os.replace(cur_tmp, path / "CURRENT")
        clean_leftovers(path)  # older generations and leftovers of crashed saves
        self.stamp = current_stamp(path)  # writers are locked out: this is our save

    @classmethod
    def open(cls, path: Path, expected: IndexSpec) -> Store:
        """Load the index at ``path``; raise with a one-sentence fix if it does not fit.

        A writer may replace the generation being read (and delete the old one) meanwhile:
        then the new one is read.
        """
        tries = 3
        while True:
            stamp = current_stamp(path)  # before CURRENT is read: a later save reloads
            try:
                store = cls._open_generation(path, current_generation(path), expected)
            except (IndexMismatch, IndexNotFound):
                tries -= 1
                if tries and current_stamp(path) != stamp:
                    continue  # a writer replaced the index while it was read: read the new one
                raise
            store.stamp = stamp
            return store

    @classmethod
    def _open_generation(cls, path: Path, gen: str | None, expected: IndexSpec) -> Store:
        if gen is None:
            raise IndexNotFound(f"no index at {path}/ — build one with {rebuild_hint(path)}")
        folder = path / gen
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise IndexMismatch(
                f"the index at {path}/ is unreadable ({e}); rebuild it with {rebuild_hint(path)}"
            ) from None
        if not isinstance(manifest, dict):
            raise IndexMismatch(
                f"the index at {path}/ has a damaged manifest; rebuild it with {rebuild_hint(path)}"
            )
        check_manifest(manifest, expected, path)
        try:
            store = cls._load(folder, expected)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
            # faiss reports a damaged file as RuntimeError; JSON and UTF-8 errors are
            # ValueErrors; a line missing a field is a KeyError or TypeError
            what = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
            raise IndexMismatch(
                f"the index at {path}/ is damaged ({what}); rebuild it with {rebuild_hint(path)}"
            ) from None
        if store.index.d != expected.dim:
            raise IndexMismatch(
                f"the index at {path}/ holds vectors of dimension {store.index.d} but its "
                f"manifest and the embedder say {expected.dim}; rebuild it with "
                f"{rebuild_hint(path)}"
            )
        if store.index.ntotal != len(store.passages):
            raise IndexMismatch(
                f"the index at {path}/ has {store.index.ntotal} vectors for "
                f"{len(store.passages)} passages; rebuild it with {rebuild_hint(path)}"
            )
        return store

    @classmethod
    def _load(cls, folder: Path, expected: IndexSpec) -> Store:
        import faiss

        store = cls(expected)
        store.index = faiss.read_index(str(folder / "vectors.faiss"))
        docs: dict[str, Document] = {}
        with open(folder / "documents.jsonl", encoding="utf-8") as f:
            for line in f:
                d = document_from_json(json.loads(line))
                docs[d.id] = d
        store.documents = docs
        store._doc_passages = {d: [] for d in docs}
        with open(folder / "passages.jsonl", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                doc = docs[r["doc_id"]]
                start, end = r["start"], r["end"]
                if not (
                    isinstance(start, int)
                    and isinstance(end, int)
                    and 0 <= start < end <= len(doc.text)
                ):
                    raise ValueError(
                        f"passage {r['id']} has offsets {start}–{end} outside its document "
                        f"of {len(doc.text)} characters"
                    )
                p = Passage(
                    r["id"], doc.id, start, end, doc.text[start:end], r["section"], r["page"]
                )
                store.passages[p.id] = p
                store._doc_passages[doc.id].append(p.id)
                store._by_key[faiss_id(p.id)] = p.id
        return store


def clean_leftovers(path: Path) -> list[str]:
    """Delete what interrupted saves left in ``path`` (temporary folders, generations that
    never went live); call with the write lock held. Returns the names deleted."""
    if not path.is_dir():
        return []
    live = current_generation(path)
    gone = []
    for entry in path.iterdir():
        if entry.name in (live, "CURRENT") or not _OWNED.match(entry.name):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        gone.append(entry.name)
    return sorted(gone)


def check_index_folder(path: Path) -> None:
    """Refuse to save into a file, or into a folder holding anything but a qa index."""
    if path.exists() and not path.is_dir():
        raise BadInput(f"{path} is a file, not a folder: choose a folder for the index")
    if not path.is_dir() or (path / "CURRENT").exists():
        return
    foreign = sorted(
        p.name
        for p in path.iterdir()
        if not _OWNED.match(p.name) and p.name not in (LOCK_NAME, STAGING_NAME)
    )
    if foreign:
        shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
        raise BadInput(
            f"{path}/ is not a qa index and is not empty (it holds {shown}); choose an "
            "empty or new folder for the index, so nothing in it is overwritten"
        )


def check_manifest(
    manifest: dict[str, object],
    expected: IndexSpec,
    path: Path | str,
    hint: str | None = None,
) -> None:
    """Raise `IndexMismatch`, in one sentence with the fix, when ``manifest`` ≠ ``expected``
    (``path`` a folder, or another store's name with its rebuild command as ``hint``)."""
    fix = f"rebuild it with {hint or rebuild_hint(Path(path))}"
    path = str(path).rstrip("/")  # shown as "the index at <path>/"
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatch(
            f"the index at {path}/ has format {manifest.get('format')}, this qa reads "
            f"format {FORMAT_VERSION}; {fix}"
        )
    emb = manifest.get("embedder") or {}
    if not isinstance(emb, dict):
        raise IndexMismatch(f"the index at {path}/ has a damaged manifest; {fix}")
    if emb.get("name") != expected.embedder or emb.get("dim") != expected.dim:
        raise IndexMismatch(
            f"the index at {path}/ was built with embedder {emb.get('name')} "
            f"(dim {emb.get('dim')}) but qa now embeds with {expected.embedder} "
            f"(dim {expected.dim}); {fix}"
        )
    if manifest.get("chunking") != expected.chunking:
        raise IndexMismatch(
            f"the index at {path}/ was chunked with {manifest.get('chunking')} but the "
            f"settings ask for {expected.chunking}; {fix}, or restore the settings"
        )


def fsync_path(path: Path) -> None:
    """Make ``path`` (a file, or a folder's entries) durable."""
    _fsync(path)


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
