"""File formats into text with structure: one module a format, one contract for all.

Every reader turns a file's bytes into an `Extracted`: the document text, its `Block`s
(headings, paragraphs, lists, tables, code; each ``text[b.start:b.end]``, in order, never
overlapping, stripped of surrounding whitespace) and what it knows besides (title, meta).
A file that cannot be read raises a `Skip` subclass whose message is one line naming the
problem and the fix; the caller records it and goes on with the next file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qa.core.errors import BadInput
from qa.core.types import Block

# Why a file was left out; the keys of an ingest summary's ``skipped``.
SKIP_REASONS = ("unsupported type", "no text", "unreadable", "duplicate")


class Skip(BadInput):
    """A file left out, for ``reason`` (one of `SKIP_REASONS`)."""

    reason = "unreadable"


class Unsupported(Skip):
    reason = "unsupported type"


class NoText(Skip):
    reason = "no text"


class Unreadable(Skip):
    reason = "unreadable"


@dataclass(frozen=True)
class Extracted:
    """A file's text, structure and metadata (``meta``: ``encoding``, ``pages``,
    front-matter fields, ...; ``format`` is added by `extract`)."""

    text: str
    blocks: tuple[Block, ...] = ()
    title: str = ""
    meta: dict[str, object] = field(default_factory=dict)


FORMATS: dict[str, str] = {
    ".txt": "text",
    ".text": "text",
    # configuration samples and other plain text people keep documentation in
    ".conf": "text",
    ".cfg": "text",
    ".cnf": "text",
    ".ini": "text",
    ".rst": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}


def format_of(name: str) -> str | None:
    """The format a file name implies, or None when qa does not read it."""
    return FORMATS.get(Path(name).suffix.lower())


def extract(data: bytes, name: str, fmt: str | None = None) -> Extracted:
    """``data`` (a file's bytes) as an `Extracted`; ``fmt`` defaults to ``format_of(name)``.

    Raises a `Skip` (with its reason) for a file qa cannot or should not read.
    """
    fmt = fmt or format_of(name)
    if fmt is None:
        suffix = Path(name).suffix.lower() or "(none)"
        raise Unsupported(
            f"has an unsupported file type {suffix!r}; qa reads {', '.join(sorted(FORMATS))}"
        )
    if fmt == "pdf":
        from qa.index.formats.pdf import read_pdf as reader
    elif fmt == "docx":
        from qa.index.formats.docx import read_docx as reader
    elif fmt == "html":
        from qa.index.formats.html import read_html as reader
    elif fmt == "markdown":
        from qa.index.formats.markdown import read_markdown as reader
    elif fmt == "text":
        from qa.index.formats.text import read_text as reader
    else:
        raise BadInput(
            f"unknown format {fmt!r}: use one of {', '.join(sorted(set(FORMATS.values())))}"
        )
    out = reader(data)
    if not out.text.strip():
        raise NoText("holds no text; add text to it or leave it out")
    return Extracted(out.text, out.blocks, out.title, {"format": fmt, **out.meta})
