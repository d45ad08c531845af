"""``qa index`` in bounded memory: files are read, chunked and embedded a batch at a time
(at most ``batch`` passages, unless one document alone has more), and each batch goes to
the new index's staging state with a journal entry a file (`qa.index.resume`), so an
interrupted rebuild resumes where it stopped. Beyond what the store itself keeps (the
folder store holds every document and vector in memory; the Milvus store holds the
documents' texts and offsets), memory holds one batch's texts and vectors, and the ids
and sources of the files done.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.core.config import Settings
from qa.core.progress import Progress, within_file
from qa.core.types import Document, Passage
from qa.index.backend import FolderLocation, Location, StoreBackend
from qa.index.chunk import passages
from qa.index.embed import Encoder
from qa.index.ingest import Loaded, Skipped, from_paths, read_or_skip
from qa.index.records import document_from_json
from qa.index.report import Report, check_loaded, refuse_skips
from qa.index.resume import (
    Entry,
    FolderStaging,
    Plan,
    Staging,
    file_entry,
    file_stat,
    kept_entry,
    reconcile,
)
from qa.index.store import IndexSpec

log = logging.getLogger(__name__)

BATCH_PASSAGES = 2048  # passages a batch embeds and writes (about 25 s at 80 passages/s)
JOURNAL_BYTES = 48_000  # a batch's journal entries fit one Milvus VARCHAR (65,535 bytes)
READ_SHARE = 0.5  # of a file's share of the progress, reading it; the rest, embedding it


@dataclass(frozen=True)
class Built:
    """A rebuild's result: the store published, its report, the documents from elsewhere
    kept or dropped, and how many files an interrupted run had done already."""

    store: StoreBackend
    report: Report
    kept: list[Document]
    dropped: list[Document]
    resumed: int


def staging_for(location: Location, spec: IndexSpec) -> Staging:
    if isinstance(location, FolderLocation):
        return FolderStaging(location.path, spec)
    from qa.index.milvus import MilvusLocation
    from qa.index.milvus_stage import MilvusStaging

    assert isinstance(location, MilvusLocation)
    return MilvusStaging(location, spec)


def prescan(files: Sequence[Path], strict: bool) -> None:
    """With ``strict``, read every file first (one at a time) and refuse any skip before
    anything is written; the rebuild then reads them again."""
    if not strict:
        return
    seen: dict[str, str] = {}
    refuse_skips([s for f in files if isinstance(s := read_or_skip(f, seen), Skipped)], strict)


class _Batcher:
    """Collects files' documents and passages; embeds and writes them a batch at a time.

    Progress is in bytes of files: half of a file's size once it is read (a PDF's pages as
    they go), the other half as its batch is embedded, so the estimate follows the work
    whether the time goes to reading large PDFs or to embedding many small files."""

    def __init__(
        self,
        staging: Staging,
        encoder: Encoder,
        settings: Settings,
        limit: int,
        progress: Progress | None,
        files: tuple[int, int],
        size: tuple[int, int],
    ) -> None:
        self.staging, self.encoder, self.settings = staging, encoder, settings
        self.limit, self.progress = max(1, limit), progress
        self.done, self.total = files  # files done (before this run too), files in all
        self.done_bytes, self.total_bytes = size  # the same, in bytes of files
        self.pending: list[tuple[Document, list[Passage]]] = []
        self.entries: list[Entry] = []
        self.passages = self.bytes = self.files = self.embedded = 0
        self.read_bytes = 0  # the files of the batch being collected
        self.reading_bytes = 0.0  # of the file being read: the part read so far
        self.started = time.monotonic()

    def _report(self, embedded: float = 0.0) -> None:
        """Progress: the files written, the batch's files read (``embedded``: the share of
        its passages embedded) and the part read of the file being read."""
        if self.progress:
            read = self.read_bytes * (READ_SHARE + (1 - READ_SHARE) * embedded)
            done = self.done_bytes + int(read + self.reading_bytes)
            self.progress("index", min(done, max(self.total_bytes - 1, 0)), self.total_bytes)

    def reading(self, size: int, fraction: float) -> None:
        """The file being read (``size`` bytes) is ``fraction`` read."""
        self.reading_bytes = READ_SHARE * size * min(max(fraction, 0.0), 1.0)
        self._report()

    def add(
        self,
        entry: Entry,
        doc: Document | None = None,
        passages: Sequence[Passage] = (),
        size: int = 0,
    ) -> None:
        """One file's journal entry (``size``: its bytes), with its document and passages
        unless it was skipped; the batch goes out first when it would grow too big."""
        n = len(json.dumps(entry, ensure_ascii=False).encode("utf-8"))
        full = self.passages + len(passages) > self.limit or self.bytes + n > JOURNAL_BYTES
        if self.entries and full:
            self.flush()
        self.entries.append(entry)
        self.bytes += n
        self.files += not entry["key"].startswith("doc:")
        self.read_bytes += max(size, 0)
        self.reading_bytes = 0.0
        if doc is not None:
            self.pending.append((doc, list(passages)))
            self.passages += len(passages)
        self._report()

    def flush(self) -> None:
        if not self.entries:
            return
        texts = [p.search_text for _, ps in self.pending for p in ps]
        # the encoder embeds the longest texts first: the share done is that of characters
        chars = np.cumsum(sorted((len(t) for t in texts), reverse=True)) if texts else None
        embedded = 0

        def tick(n: int) -> None:  # within a batch: its files counted as its passages go
            nonlocal embedded
            embedded += n
            if chars is not None and embedded < len(texts):  # done once written
                self._report(float(chars[embedded - 1] / max(chars[-1], 1)))

        vectors = (
            self.encoder.encode(texts, batch_size=self.settings.batch_size, progress=tick)
            if texts
            else np.zeros((0, self.encoder.dim), dtype=np.float32)
        )
        batch, i = [], 0
        for doc, ps in self.pending:
            batch.append((doc, ps, vectors[i : i + len(ps)]))
            i += len(ps)
        self.staging.write(self.staging.next_batch, self.entries, batch)
        self.staging.next_batch += 1
        self.done += self.files
        self.done_bytes += self.read_bytes
        self.embedded += len(texts)
        self.pending, self.entries = [], []
        self.passages = self.bytes = self.files = self.read_bytes = 0
        if self.progress and self.done >= self.total:
            self.progress("index", self.total_bytes, self.total_bytes)
        else:
            self._report()
        rate = self.embedded / max(time.monotonic() - self.started, 1e-9)
        log.info(
            "read %s of %s files: %s passages embedded, %.0f passages/s",
            f"{self.done:,}", f"{self.total:,}", f"{self.embedded:,}", rate,
        )  # fmt: skip


def rebuild(
    location: Location,
    spec: IndexSpec,
    encoder: Encoder,
    settings: Settings,
    paths: Sequence[Path],
    files: Sequence[Path],
    *,
    replace: bool = False,
    progress: Progress | None = None,
    restart: bool = False,
    batch: int = BATCH_PASSAGES,
) -> Built:
    """Rebuild the index at ``location`` from ``files`` (those under ``paths``), resuming
    an interrupted rebuild of the same plan unless ``restart``; hold its write lock."""
    try:
        return _rebuild(
            location, spec, encoder, settings, paths, files, replace, progress, restart, batch
        )
    except KeyboardInterrupt:
        log.warning(
            "stopped: the batches written are kept; run the same command again to resume "
            "(--restart starts from zero)"
        )
        raise


def _rebuild(
    location: Location,
    spec: IndexSpec,
    encoder: Encoder,
    settings: Settings,
    paths: Sequence[Path],
    files: Sequence[Path],
    replace: bool,
    progress: Progress | None,
    restart: bool,
    batch: int,
) -> Built:
    staging = staging_for(location, spec)
    journal, notice = staging.start(Plan.of(paths, spec, location.describe()), restart)
    if notice:
        log.warning("%s; starting from zero", notice)
    stats = {str(f): file_stat(f) for f in files}
    resumed = reconcile(journal, stats)
    staging.drop(resumed.stale)
    if resumed.files:
        log.warning(
            "resuming: %s of %s files already indexed", f"{len(resumed.files):,}", f"{len(files):,}"
        )
    sizes = {src: max(st[1], 0) for src, st in stats.items()}
    done = (len(resumed.files), len(files))
    size = (sum(sizes.get(src, 0) for src in resumed.files), sum(sizes.values()))
    b = _Batcher(staging, encoder, settings, batch, progress, done, size)
    if progress:
        progress("index", b.done_bytes, b.total_bytes)
    seen: dict[str, str] = {}  # id → source of the files' documents, for duplicates
    order: list[str] = []  # their ids in the files' order: the report's added
    skipped: list[Skipped] = []
    s = settings
    for f in files:
        src = str(f)
        done = resumed.files.get(src)
        if done is not None and not (done["doc"] and done["doc"] in seen):
            if done.get("skip"):
                skipped.append(Skipped(src, *done["skip"]))
            else:
                seen[done["doc"]] = src
                order.append(done["doc"])
            continue
        with within_file(lambda part, n=sizes[src]: b.reading(n, part)):
            got = read_or_skip(f, seen)
        if isinstance(got, Skipped):
            skipped.append(got)
            b.add(file_entry(src, stats[src], skip=(got.reason, got.detail)), size=sizes[src])
            continue
        ps = passages(got, s)
        order.append(got.id)
        b.add(file_entry(src, stats[src], got, len(ps)), got, ps, sizes[src])
    others = other_documents(location, paths, set(stats), set(seen))
    kept = [] if replace else others
    ids = {d.id for d in kept} | set(seen)
    staging.drop(e["doc"] for e in resumed.kept.values() if e["doc"] not in ids)
    for d in kept:
        if f"doc:{d.id}" not in resumed.kept:
            ps = passages(d, s)
            b.add(kept_entry(d, len(ps)), d, ps)
    b.flush()
    if not order:
        staging.discard()
        check_loaded(Loaded([], skipped), "index", False)  # says why nothing could be read
    store = staging.finish(s.ivf_threshold, s.nprobe)
    report = Report(added=[store.documents[i] for i in order], skipped=skipped, kept=kept)
    return Built(store, report, kept, others if replace else [], len(resumed.files))


def other_documents(
    location: Location, paths: Sequence[Path], sources: set[str], exclude: set[str]
) -> list[Document]:
    """The documents of the live index that are not from ``paths`` (nor in ``exclude``),
    read one at a time, so only those are held."""
    try:
        if isinstance(location, FolderLocation):
            return _folder_others(location.path, paths, sources, exclude)
        from qa.index.milvus_stage import milvus_others

        return milvus_others(location, paths, sources, exclude)  # type: ignore[arg-type]
    except (OSError, ValueError, KeyError, TypeError):
        return []  # an unreadable index: a rebuild keeps what it can


def _folder_others(
    path: Path, paths: Sequence[Path], sources: set[str], exclude: set[str]
) -> list[Document]:
    from qa.index.manifest import current_generation

    gen = current_generation(path)
    if gen is None:
        return []
    out = []
    with open(path / gen / "documents.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["id"] not in exclude and not from_paths(r["source"], paths, sources):
                out.append(document_from_json(r))
    return out
