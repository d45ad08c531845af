"""Files and folders (or text in memory) into `Document`s, saying what was left out and why.

Each format's reader lives in `qa.index.formats`; this module walks folders, reads bytes,
keeps each file's metadata (source, title, format, modification time, ...) and turns a
file that cannot be read into a `Skipped` entry instead of an error, so one bad file
never stops a folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.core.errors import BadInput
from qa.core.progress import Progress
from qa.core.types import Document
from qa.index.formats import FORMATS, Extracted, Skip, extract, format_of, gunzipped_name
from qa.index.formats.html import html_to_text

__all__ = [
    "Loaded",
    "Skip",
    "Skipped",
    "from_bytes",
    "from_paths",
    "from_string",
    "html_to_text",
    "iter_files",
    "kind_of",
    "load",
    "load_file",
    "read_or_skip",
    "require_some_text",
    "scan",
]

SUFFIXES = set(FORMATS)
_KINDS = ("text", "markdown", "html", "pdf", "docx", "man", "rst", "info")


@dataclass(frozen=True)
class Skipped:
    """A file left out: its path, the reason (`qa.index.formats.SKIP_REASONS`) and why."""

    source: str
    reason: str
    detail: str


@dataclass
class Loaded:
    """What a set of paths gave: the documents, and the files left out."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def kind_of(source: str) -> str:
    """The format a source's name implies (``text`` when it implies none)."""
    return format_of(source) or "text"


def _document(out: Extracted, source: str, title: str, meta: dict[str, object]) -> Document:
    return Document.from_text(
        out.text,
        source=source,
        title=title or out.title or source,
        blocks=out.blocks,
        meta={**out.meta, **meta},
    )


def from_bytes(data: bytes, source: str, kind: str | None = None, title: str = "") -> Document:
    """A `Document` from a file's bytes (an upload); ``kind`` defaults to the source's
    extension. Raises a `qa.index.formats.Skip` naming the problem."""
    if kind is not None and kind not in _KINDS:
        raise BadInput(f"unknown document kind {kind!r}: use one of {', '.join(_KINDS)}")
    return _document(extract(data, source, kind or format_of(source)), source, title, {})


def from_string(text: str, source: str, kind: str = "text", title: str = "") -> Document:
    """A `Document` from text already in memory; ``kind`` is ``text``, ``markdown`` or ``html``."""
    if kind not in ("text", "markdown", "html"):
        raise BadInput(f"unknown document kind {kind!r}: use 'text', 'markdown' or 'html'")
    out = extract(text.encode("utf-8"), source, kind) if text.strip() else Extracted("")
    return _document(out, source, title, {"format": kind} if not text.strip() else {})


def load_file(path: str | Path) -> Document:
    """One file → one `Document` (source = the path as given, title from the content or
    else the file's name). Raises a `qa.index.formats.Skip` naming the file and the problem."""
    try:
        return _load_file(Path(path))
    except Skip as e:
        raise type(e)(f"{path} {e}") from None


def _load_file(path: Path) -> Document:
    if format_of(path.name) is None:
        extract(b"", path.name)  # raises Unsupported with the list of what qa reads
    try:
        data = path.read_bytes()
        mtime = os.stat(path).st_mtime
    except OSError as e:
        from qa.index.formats import Unreadable

        raise Unreadable(f"cannot be read: {e.strerror}") from None
    out = extract(data, path.name)
    meta = {"mtime": round(mtime, 3), "bytes": len(data)}
    name = gunzipped_name(path.name) or path.name  # "guide.md.gz" is titled "guide"
    return _document(out, str(path), out.title or Path(name).stem, meta)


def iter_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files under ``paths`` (folders recursively, hidden entries left out), sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise BadInput(
                f"{p} does not exist: give a file or folder "
                f"({', '.join(sorted(SUFFIXES))} and man pages are read)"
            )
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if f.is_file() and not any(part.startswith(".") for part in rel):
                    out.append(f)
        else:
            out.append(p)
    return out


def scan(paths: str | Path | Iterable[str | Path], progress: Progress | None = None) -> Loaded:
    """Every document under ``paths``, and every file left out with its reason; a file
    whose text another file already gave is left out as a duplicate of it. Reports
    ``("read", files done, total)`` (a folder of PDFs takes a while)."""
    if isinstance(paths, str | Path):
        paths = [paths]
    result = Loaded()
    seen: dict[str, str] = {}
    files = iter_files(paths)
    for i, f in enumerate(files):
        if progress:
            progress("read", i, len(files))
        got = read_or_skip(f, seen)
        if isinstance(got, Skipped):
            result.skipped.append(got)
        else:
            result.documents.append(got)
    if progress:
        progress("read", len(files), len(files))
    return result


def read_or_skip(path: Path, seen: dict[str, str]) -> Document | Skipped:
    """The document of the file at ``path``, or why it is left out: unreadable, or the
    same text as a document in ``seen`` (id → source; the new one is added to it)."""
    try:
        doc = _load_file(path)
    except Skip as e:
        return Skipped(str(path), e.reason, str(e))
    first = seen.get(doc.id)
    if first is not None:
        return Skipped(str(path), "duplicate", f"has the same text as {first}")
    seen[doc.id] = doc.source
    return doc


def load(paths: str | Path | Iterable[str | Path]) -> list[Document]:
    """Every document under ``paths`` (files left out are not reported: see `scan`)."""
    return scan(paths).documents


def from_paths(source: str, paths: Sequence[Path], sources: set[str]) -> bool:
    """Whether a document's source is one of ``sources`` or lies under one of ``paths``
    (a file deleted from an indexed folder is from there too)."""
    if source in sources:
        return True
    where = Path(source).resolve()
    return any(where.is_relative_to(p.resolve()) for p in paths)


def require_some_text(docs: Sequence[Document], verb: str) -> None:
    """Refuse a set of files that hold no text at all (``verb``: what was to be done)."""
    if not any(d.text.strip() for d in docs):
        raise BadInput(
            f"the {len(docs)} file(s) found hold no text: nothing to {verb}; "
            f"add text to them or {verb} another folder"
        )
