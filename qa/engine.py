"""The engine wires the stages together; it is the only thing the CLI and the API talk to.

Reads and writes may overlap: a write builds a changed copy of the store, saves it, then
swaps it in with one assignment, so a question in flight keeps the snapshot it started with.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.core.config import MAX_K, Settings
from qa.core.errors import BadInput, NotFound, QAError, require_text
from qa.core.filters import Filter, describe, matching
from qa.core.progress import Progress
from qa.core.types import Document, Hit, Response
from qa.index import ingest
from qa.index.backend import Location, StoreBackend, location_for
from qa.index.build import embed_into
from qa.index.embed import Encoder, SentenceEncoder
from qa.index.manifest import manifest_fingerprint
from qa.index.records import cite_passage, document_rows, make_citation
from qa.index.report import Report, check_loaded, manifest_is_stale, plan, read_uploads
from qa.index.store import IndexSpec, Store
from qa.index.stream import BATCH_PASSAGES, prescan, rebuild
from qa.read.base import Reader, load_reader
from qa.read.decide import gate_confidence, gate_relevance
from qa.retrieve import Retriever, selective, within_floor

log = logging.getLogger(__name__)


NO_ANSWER = "The sources do not answer this question."


@dataclass(frozen=True)
class Rebuild:
    """What ``Engine.index`` built: the store, and the documents not from the paths given
    that it kept (embedded again) or dropped (``replace``)."""

    store: StoreBackend
    kept: list[Document]
    dropped: list[Document]
    report: Report
    resumed: int = 0  # files an interrupted rebuild had done (not read again)


@dataclass(frozen=True)
class _Snapshot:
    store: StoreBackend
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
        self._unreadable: object | None = None  # the stamp of a save that failed to open
        self._location: Location | None = None
        self.reload_error: str | None = None
        # Seconds a write waits for another process's write (None: as long as it takes).
        self.lock_timeout: float | None = None
        self.index_batch = BATCH_PASSAGES  # passages `index` embeds and writes at a time
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
                "structure": 1,  # passages follow headings, lists and tables (qa.index.chunk)
                "min_passage_words": s.min_passage_words,
            },
        )

    @property
    def location(self) -> Location:
        """Where the index is saved: ``settings.store`` (Milvus) if set, else ``index_dir``."""
        if self._location is None:
            self._location = location_for(self.settings)
        return self._location

    @property
    def store(self) -> StoreBackend:
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
        now = self.location.stamp()
        return now is not None and now != have and (retry or now != self._unreadable)

    def _swap(self, store: StoreBackend) -> None:
        retriever = Retriever(store, self.encoder, self.settings.alpha, self.settings.candidates)
        retriever.warm()  # BM25 built before the snapshot goes live
        self._snap = _Snapshot(store, retriever)

    # -- writing -------------------------------------------------------------------------
    def _embed_into(
        self, store: StoreBackend, documents: Sequence[Document], progress: Progress | None
    ) -> None:
        embed_into(store, documents, self.encoder, self.settings, progress)

    def build(self, documents: Sequence[Document], progress: Progress | None = None) -> Store:
        """A new store holding ``documents`` (nothing is written to disk)."""
        store = Store(self.spec)
        self._embed_into(store, documents, progress)
        return store

    def index(
        self,
        paths: Iterable[str | Path],
        progress: Progress | None = None,
        replace: bool = False,
        strict: bool = False,
        restart: bool = False,
    ) -> Rebuild:
        """Rebuild the index from ``paths`` and publish it atomically at its location.

        Files are read, chunked and embedded ``index_batch`` passages at a time, each batch
        kept durably with a journal (`qa.index.stream`): an interrupted rebuild, run again
        with the same paths and settings, resumes (unless ``restart``).

        Documents in the index that are not from ``paths`` (added through the API, or from
        other folders) are kept and embedded again, unless ``replace``: then they are
        dropped. Either way the result says which they were, and which files were skipped
        (with ``strict``, any skipped file fails the rebuild before anything is written).
        """
        self.location.check()  # before the work, not after it
        paths = [Path(p) for p in paths]
        files = ingest.iter_files(paths)
        if not files:
            raise BadInput("no files found there: nothing to index")
        prescan(files, strict)
        with self._write_lock, self.location.lock(self.lock_timeout):
            built = rebuild(
                self.location, self.spec, self.encoder, self.settings, paths, files,
                replace=replace, progress=progress, restart=restart, batch=self.index_batch,
            )  # fmt: skip
            self._swap(built.store)
        return Rebuild(built.store, built.kept, built.dropped, built.report, built.resumed)

    def is_stale(self, paths: Iterable[str | Path]) -> bool:
        """Whether the saved index differs from what ``paths`` and the settings would build
        (documents from elsewhere, which a rebuild keeps, do not count)."""
        manifest = self.location.manifest()
        return manifest_is_stale(manifest, self.spec, [Path(p) for p in paths])

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

    def add_files(
        self,
        files: Sequence[tuple[str, bytes]],
        progress: Progress | None = None,
        strict: bool = False,
    ) -> Report:
        """Add uploaded files, each ``(name, bytes)``; the name is the source (and says the
        format). A file named like one indexed before replaces that version."""
        loaded = read_uploads(files)
        check_loaded(loaded, "add", strict)
        return self.apply(loaded.documents, progress, skipped=loaded.skipped)

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
        report = self.apply(documents, progress, replace_sources=replace_sources)
        return report.added + report.replaced

    def apply(
        self,
        documents: Sequence[Document],
        progress: Progress | None = None,
        replace_sources: bool = True,
        prune: bool = False,
        skipped: Sequence[ingest.Skipped] = (),
    ) -> Report:
        """Bring ``documents`` into the index and save (only when something changed).

        An edited file's older version is replaced (``replace_sources``); with ``prune``,
        every indexed document not among ``documents`` is removed.
        """
        self._snapshot()  # no index: say so before the lock creates anything
        with self._write_lock, self.location.lock(self.lock_timeout):
            current = self._snapshot_unlocked()  # the live index, whoever saved it
            indexed = current.store.documents
            if not replace_sources:  # sources do not tie versions together: equal texts do
                indexed = {d.id: indexed[d.id] for d in documents if d.id in indexed}
            new, remove, report = plan(indexed, documents, prune)
            report = dataclasses.replace(report, skipped=list(skipped))
            if not new and not remove:
                return report
            store = current.store.copy()
            for doc_id in remove:
                store.remove(doc_id)
            self._embed_into(store, new, progress)
            self.location.save(store)
            self._swap(store)
            return report

    def add(
        self,
        paths: Iterable[str | Path],
        progress: Progress | None = None,
        strict: bool = False,
        prune: bool = False,
    ) -> Report:
        """Add the files under ``paths``; an edited file replaces its older version. With
        ``prune`` (``qa sync``) the index ends up holding exactly these files' documents."""
        loaded = ingest.scan([Path(p) for p in paths], progress)
        check_loaded(loaded, "sync" if prune else "add", strict)
        return self.apply(
            loaded.documents, progress, replace_sources=True, prune=prune, skipped=loaded.skipped
        )

    def remove(self, doc_id: str) -> Document:
        """Remove a document by id and save."""
        doc_id = doc_id.strip()
        self._snapshot()  # no index: say so before the lock creates anything
        with self._write_lock, self.location.lock(self.lock_timeout):
            current = self._snapshot_unlocked()  # the live index, whoever saved it
            if doc_id not in current.store.documents:
                raise NotFound(f"no document {doc_id!r} in the index; 'qa docs' lists the ids")
            store = current.store.copy()
            doc = store.remove(doc_id)
            self.location.save(store)
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
            store = self.location.open(self.spec)
        except QAError as e:
            if snap is None or strict:
                raise
            self._unreadable = self.location.stamp()
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
        """A row a document: id, source, title, format, pages, chars, passages, meta."""
        return document_rows(self.store)

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
        self,
        question: str,
        k: int | None = None,
        retrieval_query: str | None = None,
        where: Filter | None = None,
    ) -> Response:
        """Answer ``question`` from the top ``k`` passages, citing them.

        The reader reads the best passage and those whose retrieval score reaches
        ``read_floor`` times the best one's, or all of them where the scores say little
        (``qa.retrieve.retriever.selective``) or the passages read hold no answer; every one of the
        ``k`` is cited, each saying whether it was read.

        ``retrieval_query`` (e.g. a chat follow-up joined with earlier turns) is what
        passages are retrieved with; the reader still reads ``question``. ``where``
        restricts retrieval to the documents it matches (`qa.core.filters`).
        """
        q = self.check_question(question)
        rq = q if retrieval_query is None else self.check_question(retrieval_query)
        k = self._check_k(k)
        snap = self._snapshot()
        among = self._among(snap.store, where) if where else None
        reader = self.reader
        self._ensure_loaded()
        t0 = time.perf_counter()
        rq = snap.retriever.query_for(rq)
        qvec = self.encoder.encode([rq])[0]
        t1 = time.perf_counter()
        hits = snap.retriever.retrieve(rq, k, query_vector=qvec, among=among)
        t2 = time.perf_counter()
        to_read = within_floor(hits, self.settings.read_floor if selective(q) else 0.0)
        answer = reader.read(q, to_read) if to_read else None
        if answer is None and len(to_read) < len(hits):
            to_read = hits  # no answer in the passages read: the others may hold one
            answer = reader.read(q, to_read)
        answer = gate_relevance(answer, hits, self.settings.min_relevance)
        answer = gate_confidence(answer, self.settings.min_confidence)
        t3 = time.perf_counter()
        read = {h.passage.id for h in to_read}
        citations = [
            make_citation(snap.store, n, h.passage.id, h.score, h.passage.id in read)
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
    def _among(store: StoreBackend, where: Filter) -> set[str]:
        """The passage ids of the documents ``where`` matches (an error when none does)."""
        ids = matching(store.documents, where)
        if not ids:
            raise BadInput(
                f"no indexed document matches the filter {describe(where)}; "
                f"'qa docs' lists the documents and their fields"
            )
        return {p.id for d in ids for p in store.doc_passages(d)}

    def cite(self, citation_id: str, context_chars: int = 300) -> dict[str, object]:
        """The passage behind a citation id, with its document, offsets and surrounding text."""
        return cite_passage(self.store, citation_id, context_chars)
