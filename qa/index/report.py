"""What a write did to the index, file by file: the summary every face shows.

``qa index``, ``qa add``, ``qa sync`` and ``POST /v1/documents`` all end with one: what was
indexed (added, replaced by a new version, unchanged), removed, and every file left out
with its reason, so nothing is skipped silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qa.core.errors import BadInput
from qa.core.types import Document
from qa.index.formats import SKIP_REASONS
from qa.index.ingest import Loaded, Skip, Skipped, from_bytes, require_some_text
from qa.index.manifest import read_manifest

if TYPE_CHECKING:
    from qa.index.store import IndexSpec


@dataclass(frozen=True)
class Report:
    """A write's outcome; ``kept`` are documents from elsewhere a rebuild kept."""

    added: list[Document] = field(default_factory=list)
    replaced: list[Document] = field(default_factory=list)
    unchanged: list[Document] = field(default_factory=list)
    removed: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    kept: list[Document] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)

    def counts(self) -> dict[str, object]:
        by_reason = Counter(s.reason for s in self.skipped)
        return {
            "added": len(self.added),
            "replaced": len(self.replaced),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "skipped": {r: by_reason[r] for r in SKIP_REASONS if by_reason[r]},
        }

    def to_dict(self) -> dict[str, object]:
        """The JSON form (``POST /v1/documents``, ``--json``)."""

        def docs(ds: Iterable[Document]) -> list[dict[str, str]]:
            return [{"id": d.id, "source": d.source, "title": d.title} for d in ds]

        return {
            **self.counts(),
            "documents": {
                "added": docs(self.added),
                "replaced": docs(self.replaced),
                "unchanged": docs(self.unchanged),
                "removed": docs(self.removed),
            },
            "skipped_files": [
                {"source": s.source, "reason": s.reason, "detail": s.detail} for s in self.skipped
            ],
        }

    def summary(self) -> str:
        """One line: ``added 3, replaced 1, unchanged 20, removed 0; skipped 2 (...)``."""
        c = self.counts()
        head = ", ".join(f"{k} {c[k]}" for k in ("added", "replaced", "unchanged", "removed"))
        skipped: Mapping[str, int] = c["skipped"]  # type: ignore[assignment]
        if not skipped:
            return f"{head}; skipped none"
        why = ", ".join(f"{n} {reason}" for reason, n in skipped.items())
        return f"{head}; skipped {sum(skipped.values())} ({why})"

    def skip_lines(self, limit: int = 20) -> list[str]:
        """One line a skipped file (the first ``limit``, then how many more)."""
        lines = [f"skipped {s.source}: it {s.detail}" for s in self.skipped[:limit]]
        if len(self.skipped) > limit:
            lines.append(f"… and {len(self.skipped) - limit} more skipped files")
        return lines


def refuse_skips(skipped: Sequence[Skipped], strict: bool) -> None:
    """With ``strict``, a skipped file fails the whole write (before anything changes)."""
    if strict and skipped:
        first = skipped[0]
        more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
        raise BadInput(
            f"--strict: {len(skipped)} file(s) would be skipped, so nothing was written; "
            f"first: {first.source} {first.detail}{more}; fix or remove them, or drop --strict"
        )


def plan(
    indexed: Mapping[str, Document], docs: Sequence[Document], prune: bool
) -> tuple[list[Document], list[str], Report]:
    """What bringing ``docs`` into an index holding ``indexed`` takes: the documents to
    embed, the ids to remove (an edited file's old version; with ``prune``, everything
    not in ``docs``) and the report of it (without skipped files)."""
    by_source: dict[str, list[Document]] = {}
    for d in indexed.values():
        by_source.setdefault(d.source, []).append(d)
    wanted = {d.id for d in docs}
    added, replaced, unchanged, remove = [], [], [], []
    for d in docs:
        if d.id in indexed and not (prune and indexed[d.id].source != d.source):
            unchanged.append(d)
            continue
        if d.id in indexed:  # the same text under another name: the file moved
            replaced.append(d)
            remove.append(d.id)
            continue
        olds = [o for o in by_source.get(d.source, []) if o.id not in wanted]
        (replaced if olds else added).append(d)
        remove.extend(o.id for o in olds)
    removed = []
    if prune:
        gone = [d for d in indexed.values() if d.id not in wanted and d.id not in remove]
        removed = gone
        remove.extend(d.id for d in gone)
    return added + replaced, remove, Report(added, replaced, unchanged, removed)


def check_loaded(loaded: Loaded, verb: str, strict: bool) -> Loaded:
    """Refuse a set of files with no document (saying why each file was skipped) and,
    with ``strict``, one with any file skipped; ``verb``: what was to be done."""
    refuse_skips(loaded.skipped, strict)
    if not loaded.documents:
        if loaded.skipped:
            first = loaded.skipped[0]
            why = Report(skipped=loaded.skipped).summary().split("; ", 1)[1]
            raise BadInput(
                f"none of the {len(loaded.skipped)} file(s) found could be read, nothing to "
                f"{verb}: {why}; first: {first.source} {first.detail}"
            )
        raise BadInput(f"no files found there: nothing to {verb}")
    require_some_text(loaded.documents, verb)
    return loaded


def read_uploads(files: Sequence[tuple[str, bytes]]) -> Loaded:
    """Uploaded files, each ``(name, bytes)``, as documents and skipped files."""
    loaded = Loaded()
    seen: dict[str, str] = {}
    for name, data in files:
        try:
            doc = from_bytes(data, name)
        except Skip as e:
            loaded.skipped.append(Skipped(name, e.reason, str(e)))
            continue
        if doc.id in seen:
            loaded.skipped.append(
                Skipped(name, "duplicate", f"has the same text as {seen[doc.id]}")
            )
            continue
        seen[doc.id] = name
        loaded.documents.append(doc)
    return loaded


def index_is_stale(index_dir: Path, spec: IndexSpec, paths: Sequence[Path]) -> bool:
    """Whether the index saved at ``index_dir`` differs from what ``paths`` and ``spec``
    would build (documents from elsewhere, which a rebuild keeps, do not count)."""
    return manifest_is_stale(read_manifest(index_dir), spec, paths)


def manifest_is_stale(
    manifest: dict[str, object] | None, spec: IndexSpec, paths: Sequence[Path]
) -> bool:
    """Whether the index ``manifest`` describes (None: no index) differs from what
    ``paths`` and ``spec`` would build (`index_is_stale`)."""
    from qa.index.ingest import from_paths, load
    from qa.index.store import FORMAT_VERSION, text_sha256

    if manifest is None:
        return True
    if manifest.get("format") != FORMAT_VERSION or any(
        manifest.get(k) != v for k, v in spec.to_json().items()
    ):
        return True
    want = {(d.source, text_sha256(d.text)) for d in load(paths)}
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
