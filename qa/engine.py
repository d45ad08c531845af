"""The engine wires the stages together; it is the only thing the CLI and the API talk to.

Reads and writes may overlap: a write builds a changed copy of the store, saves it, then
swaps it in with one assignment, so a question in flight keeps the snapshot it started with.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.core.config import MAX_K, Settings
from qa.core.errors import BadInput, NotFound, QAError, require_text
from qa.core.progress import Progress
from qa.core.types import Citation, Document, Hit, Response
from qa.index import ingest
from qa.index.build import embed_into
from qa.index.embed import Encoder, SentenceEncoder
from qa.index.ingest import from_paths, require_some_text
from qa.index.manifest import current_stamp, manifest_fingerprint, read_manifest
from qa.index.store import (
    IndexSpec,
    Store,
    check_index_folder,
    read_documents,
    text_sha256,
    write_lock,
)
from qa.read.base import Reader, load_reader
from qa.read.decide import gate_relevance
from qa.retrieve import Retriever, selective, within_floor

log = logging.getLogger(__name__)


NO_ANSWER = "The sources do not answer this question."


@dataclass(frozen=True)
class Rebuild:
    """What ``Engine.index`` built: the store, and the documents not from the paths given
    that it kept (embedded again) or dropped (``replace``)."""

    store: Store
    kept: list[Document]
    dropped: list[Document]


@dataclass(frozen=True)
class _Snapshot:
    store: Store
    retriever: Retriever


class Engine:
    """Questions in, answers with citations out. Cheap to build: models load on first use."""

    def __init__(
        self,
        settings: Settings | None = None,
        encoder: Encoder | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self._encoder = encoder
        self._reader = reader
        self._snap: _Snapshot | None = None
        self._write_lock = threading.Lock()
        self._unreadable: tuple[int, int, int] | None = None  # a save that failed to open
        self.reload_error: str | None = None
        # Seconds a write waits for another process's write (None: as long as it takes).
        self.lock_timeout: float | None = None
        self._load_lock = threading.Lock()
        self._loaded = False

    # -- construction --------------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: str | Path | None = None, **settings: object) -> Engine:
        """The engine over the index at ``index_dir`` (default: ``Settings.index_dir``);
        ``settings`` override other fields of ``Settings``. Models load on first use."""
        return cls(Settings.from_env(index_dir=index_dir, **settings))

    @classmethod
    def from_files(
        cls,
        paths: str | Path | Iterable[str | Path],
        index_dir: str | Path | None = None,
        **settings: object,
    ) -> Engine:
        """Index the files and folders at ``paths`` into ``index_dir`` and return the engine."""
        engine = cls.open(index_dir, **settings)
        engine.index([paths] if isinstance(paths, str | Path) else paths)
        return engine

    @classmethod
    def in_memory(
        cls,
        documents: Sequence[Document],
        settings: Settings | None = None,
        encoder: Encoder | None = None,
        reader: Reader | None = None,
        progress: Progress | None = None,
    ) -> Engine:
        """An engine over ``documents`` whose index lives in memory only (benchmarks, tests)."""
        engine = cls(settings, encoder, reader)
        engine._swap(engine.build(documents, progress))
        return engine

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            s = self.settings
            self._encoder = SentenceEncoder(backend=s.embed_backend, cache_dir=s.cache_dir)
        return self._encoder

    @property
    def reader(self) -> Reader:
        if self._reader is None:
            s = self.settings
            self._reader = load_reader(
                s.reader_dir, backend=s.reader_backend, cache_dir=s.cache_dir
            )
        return self._reader

    @property
    def spec(self) -> IndexSpec:
        s = self.settings
        return IndexSpec(
            embedder=self.encoder.name,
            dim=self.encoder.dim,
            chunking={
                "splitter": "syntok",
                "max_passage_words": s.max_passage_words,
                "overlap_sentences": s.overlap_sentences,
            },
        )

    @property
    def store(self) -> Store:
        return self._snapshot().store

    def size(self) -> tuple[int, int]:
        """Documents and passages of the index held now (no reload; 0, 0 before one)."""
        snap = self._snap
        return (0, 0) if snap is None else (len(snap.store.documents), len(snap.store.passages))

    @property
    def fingerprint(self) -> str:
        """Identifies the indexed contents (`qa.index.manifest.index_fingerprint` once saved)."""
        return manifest_fingerprint(self.store.manifest())

    def load(self) -> Engine:
        """Open the index, load the models and run each once, so the first question is fast."""
        snap = self._snapshot()
        for part in (self.encoder, self.reader):
            loader = getattr(part, "load", None)
            if callable(loader):
                loader()
        # The first forward pass of a torch model pays one-off costs; pay them here.
        self.encoder.encode(["warm-up"])
        first = next(iter(snap.store.passages.values()), None)
        if first is not None:
            self.reader.read("What is this about?", [Hit(first, 1.0)])
        self._loaded = True
        return self

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            with self._load_lock:
                if not self._loaded:
                    self.load()

    def _snapshot(self) -> _Snapshot:
        snap = self._snap
        if snap is None:
            with self._write_lock:
                return self._snapshot_unlocked()
        # Another process saved: reopen, unless this engine is writing (its own save comes
        # next); questions meanwhile keep the snapshot they have, never wait for a write.
        if self._moved_on(snap) and self._write_lock.acquire(blocking=False):
            try:
                return self._snapshot_unlocked(strict=False)
            finally:
                self._write_lock.release()
        return self._snap or snap

    def _moved_on(self, snap: _Snapshot, retry: bool = False) -> bool:
        """Whether the index on disk is another save than the one ``snap`` holds.

        One ``stat``; a store that was never saved (in memory) never moves on, and a save
        that could not be opened is not tried again until the next one (unless ``retry``).
        """
        have = snap.store.stamp
        if have is None:
            return False
        now = current_stamp(self.settings.index_dir)
        return now is not None and now != have and (retry or now != self._unreadable)

    def _swap(self, store: Store) -> None:
        retriever = Retriever(store, self.encoder, self.settings.alpha, self.settings.candidates)
        retriever.lexical  # noqa: B018 -- build BM25 before the snapshot goes live
        self._snap = _Snapshot(store, retriever)

    # -- writing -------------------------------------------------------------------------
    def _embed_into(
        self, store: Store, documents: Sequence[Document], progress: Progress | None
    ) -> None:
        embed_into(store, documents, self.encoder, self.settings, progress)

    def build(self, documents: Sequence[Document], progress: Progress | None = None) -> Store:
        """A new store holding ``documents`` (nothing is written to disk)."""
        store = Store(self.spec)
        self._embed_into(store, documents, progress)
        return store

    def index(
        self, paths: Iterable[str | Path], progress: Progress | None = None, replace: bool = False
    ) -> Rebuild:
        """Rebuild the index from ``paths`` and save it (atomically) to ``settings.index_dir``.

        Documents in the index that are not from ``paths`` (added through the API, or from
        other folders) are kept and embedded again, unless ``replace``: then they are
        dropped. Either way the result says which they were.
        """
        check_index_folder(self.settings.index_dir)  # before the work, not after it
        paths = [Path(p) for p in paths]
        docs = ingest.load(paths)
        if not docs:
            raise BadInput("no .txt, .md or .html files found there: nothing to index")
        require_some_text(docs, "index")
        with self._write_lock, write_lock(self.settings.index_dir, self.lock_timeout):
            ids = {d.id for d in docs}
            sources = {d.source for d in docs}
            others = [
                d
                for d in read_documents(self.settings.index_dir)
                if d.id not in ids and not from_paths(d.source, paths, sources)
            ]
            kept = [] if replace else others
            store = self.build(docs + kept, progress)
            store.save(self.settings.index_dir)
            self._swap(store)
        return Rebuild(store, kept, others if replace else [])

    def is_stale(self, paths: Iterable[str | Path]) -> bool:
        """Whether the saved index differs from what ``paths`` and the settings would build
        (documents from elsewhere, which a rebuild keeps, do not count)."""
        paths = [Path(p) for p in paths]
        manifest = read_manifest(self.settings.index_dir)
        if manifest is None:
            return True
        spec = self.spec.to_json()
        if manifest.get("format") != 1 or any(manifest.get(k) != v for k, v in spec.items()):
            return True
        want = {(d.source, text_sha256(d.text)) for d in ingest.load(paths)}
        sources = {s for s, _ in want}
        try:
            have = {
                (d["source"], d["sha256"])
                for d in manifest.get("documents", [])  # type: ignore[union-attr]
                if from_paths(d["source"], paths, sources)
            }
        except (KeyError, TypeError):  # a damaged manifest: rebuild
            return True
        return have != want

    def add_text(
        self,
        text: str,
        source: str = "api",
        kind: str | None = None,
        title: str = "",
        progress: Progress | None = None,
    ) -> tuple[Document, bool]:
        """Add one document given as text (``kind`` ``text``, ``markdown`` or ``html``;
        default: by the source's extension). Returns it as indexed, and whether it is new."""
        doc = ingest.from_string(
            text, source=source, kind=kind or ingest.kind_of(source), title=title
        )
        if not doc.text.strip():
            raise BadInput("the document has no text (after HTML extraction, if html)")
        added = self.add_documents([doc], progress)
        return self.store.documents.get(doc.id, doc), bool(added)

    def add_documents(
        self,
        documents: Sequence[Document],
        progress: Progress | None = None,
        replace_sources: bool = False,
    ) -> list[Document]:
        """Add documents and save; returns those that were not already indexed.

        With ``replace_sources``, a document whose source is already indexed with other
        contents (an edited file) replaces that older version.
        """
        self._snapshot()  # no index: say so before the lock creates anything
        with self._write_lock, write_lock(self.settings.index_dir, self.lock_timeout):
            current = self._snapshot_unlocked()  # the live index, whoever saved it
            new = [d for d in documents if d.id not in current.store.documents]
            if not new:
                return []
            store = current.store.copy()
            sources = {d.source for d in new} if replace_sources else set()
            for old in [d for d in store.documents.values() if d.source in sources]:
                store.remove(old.id)
            self._embed_into(store, new, progress)
            store.save(self.settings.index_dir)
            self._swap(store)
            return new

    def add(self, paths: Iterable[str | Path], progress: Progress | None = None) -> list[Document]:
        """Add the files under ``paths``; an edited file replaces its older version."""
        docs = ingest.load(list(paths))
        if not docs:
            raise BadInput("no .txt, .md or .html files found there: nothing to add")
        require_some_text(docs, "add")
        return self.add_documents(docs, progress, replace_sources=True)

    def remove(self, doc_id: str) -> Document:
        """Remove a document by id and save."""
        doc_id = doc_id.strip()
        self._snapshot()  # no index: say so before the lock creates anything
        with self._write_lock, write_lock(self.settings.index_dir, self.lock_timeout):
            current = self._snapshot_unlocked()  # the live index, whoever saved it
            if doc_id not in current.store.documents:
                raise NotFound(f"no document {doc_id!r} in the index; 'qa docs' lists the ids")
            store = current.store.copy()
            doc = store.remove(doc_id)
            store.save(self.settings.index_dir)
            self._swap(store)
            return doc

    def wait_for_writes(self) -> None:
        """Return once no write of this engine is running (a stopping server calls it)."""
        with self._write_lock:
            pass

    def _snapshot_unlocked(self, strict: bool = True) -> _Snapshot:
        """The live snapshot, (re)opening the saved index if needed (hold the write lock).

        When another process's save cannot be opened (other settings, damaged files), a
        writer (``strict``) fails with the reason; questions keep the index they have and
        the reason is kept in ``reload_error`` (shown by the server's /readyz).
        """
        snap = self._snap
        if snap is not None and not self._moved_on(snap, retry=strict):
            return snap
        try:
            store = Store.open(self.settings.index_dir, self.spec)
        except QAError as e:
            if snap is None or strict:
                raise
            self._unreadable = current_stamp(self.settings.index_dir)
            self.reload_error = f"answering from the index loaded before: {e}"
            log.warning("%s", self.reload_error)
            return snap
        self._unreadable = None
        self.reload_error = None
        store.set_nprobe(self.settings.nprobe)
        self._swap(store)
        assert self._snap is not None
        return self._snap

    # -- reading -------------------------------------------------------------------------
    def documents(self) -> list[dict[str, object]]:
        store = self.store
        return [
            {
                "id": d.id,
                "source": d.source,
                "title": d.title,
                "chars": len(d.text),
                "passages": len(store.doc_passages(d.id)),
            }
            for d in store.documents.values()
        ]

    def check_question(self, question: str) -> str:
        require_text(question, "the question")
        q = question.strip()
        if not q:
            raise BadInput('the question is empty: ask something, e.g. "Who visited Moscow?"')
        if len(q) > self.settings.max_question_chars:
            raise BadInput(
                f"the question is {len(q)} characters long; the limit is "
                f"{self.settings.max_question_chars} (QA_MAX_QUESTION_CHARS)"
            )
        return q

    def _check_k(self, k: int | None) -> int:
        k = self.settings.top_k if k is None else k
        if not 1 <= k <= MAX_K:
            raise BadInput(f"k must be between 1 and {MAX_K}, not {k}")
        return k

    def retrieve(self, question: str, k: int | None = None) -> list[Hit]:
        """The top ``k`` passages for ``question``."""
        q = self.check_question(question)
        return self._snapshot().retriever.retrieve(q, self._check_k(k))

    def ask(
        self, question: str, k: int | None = None, retrieval_query: str | None = None
    ) -> Response:
        """Answer ``question`` from the top ``k`` passages, citing them.

        The reader reads the best passage and those whose retrieval score reaches
        ``read_floor`` times the best one's, or all of them where the scores say little
        (``qa.retrieve.retriever.selective``) or the passages read hold no answer; every one of the
        ``k`` is cited, each saying whether it was read.

        ``retrieval_query`` (e.g. a chat follow-up joined with earlier turns) is what
        passages are retrieved with; the reader still reads ``question``.
        """
        q = self.check_question(question)
        rq = q if retrieval_query is None else self.check_question(retrieval_query)
        k = self._check_k(k)
        snap = self._snapshot()
        reader = self.reader
        self._ensure_loaded()
        t0 = time.perf_counter()
        rq = snap.retriever.query_for(rq)
        qvec = self.encoder.encode([rq])[0]
        t1 = time.perf_counter()
        hits = snap.retriever.retrieve(rq, k, query_vector=qvec)
        t2 = time.perf_counter()
        to_read = within_floor(hits, self.settings.read_floor if selective(q) else 0.0)
        answer = reader.read(q, to_read) if to_read else None
        if answer is None and len(to_read) < len(hits):
            to_read = hits  # no answer in the passages read: the others may hold one
            answer = reader.read(q, to_read)
        answer = gate_relevance(answer, hits, self.settings.min_relevance)
        t3 = time.perf_counter()
        read = {h.passage.id for h in to_read}
        citations = [
            self._citation(snap.store, n, h.passage.id, h.score, h.passage.id in read)
            for n, h in enumerate(hits, 1)
        ]
        timings = {
            "encode": round((t1 - t0) * 1000, 2),
            "retrieve": round((t2 - t1) * 1000, 2),
            "read": round((t3 - t2) * 1000, 2),
            "total": round((t3 - t0) * 1000, 2),
        }
        return Response(question=q, answer=answer, citations=citations, timings_ms=timings)

    @staticmethod
    def _citation(
        store: Store, n: int, passage_id: str, score: float, read: bool = True
    ) -> Citation:
        p = store.passages[passage_id]
        d = store.documents[p.doc_id]
        return Citation(
            n, p.id, d.id, d.source, d.title, p.start, p.end, p.text, round(score, 4), read
        )

    def cite(self, citation_id: str, context_chars: int = 300) -> dict[str, object]:
        """The passage behind a citation id, with its document, offsets and surrounding text."""
        store = self.store
        cid = citation_id.strip()
        if cid not in store.passages:
            shown = repr(cid) if len(cid) <= 80 else f"{cid[:60]!r}… ({len(cid)} characters)"
            raise NotFound(
                f"no citation {shown} in this index; citation ids come from 'qa ask' "
                f"(and change only when their document changes)"
            )
        p = store.passages[cid]
        d = store.documents[p.doc_id]
        return {
            "id": p.id,
            "doc_id": d.id,
            "source": d.source,
            "title": d.title,
            "start": p.start,
            "end": p.end,
            "text": p.text,
            "context_before": d.text[max(0, p.start - context_chars) : p.start],
            "context_after": d.text[p.end : p.end + context_chars],
        }
