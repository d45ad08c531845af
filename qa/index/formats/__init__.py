"""File formats into text with structure: one module a format, one contract for all.

Every reader turns a file's bytes into an `Extracted`: the document text, its `Block`s
(headings, paragraphs, lists, tables, code; each ``text[b.start:b.end]``, in order, never
overlapping, stripped of surrounding whitespace) and what it knows besides (title, meta).
A file that cannot be read raises a `Skip` subclass whose message is one line naming the
problem and the fix; the caller records it and goes on with the next file.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from qa.core.errors import BadInput
from qa.core.types import Block

log = logging.getLogger(__name__)

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


class BlockText:
    """A document's text built block by block: ``emit`` appends a block after a blank line
    and records where it lies (`Block`)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.blocks: list[Block] = []

    def emit(self, text: str, kind: str, level: int = 0) -> None:
        text = text.strip()
        if not text:
            return
        if self.parts:
            self.parts.append("\n\n")
            self.pos += 2
        self.parts.append(text)
        self.blocks.append(Block(self.pos, self.pos + len(text), kind, level))
        self.pos += len(text)


FORMATS: dict[str, str] = {
    ".txt": "text",
    ".text": "text",
    # configuration samples and other plain text people keep documentation in
    ".conf": "text",
    ".cfg": "text",
    ".cnf": "text",
    ".ini": "text",
    ".rst": "rst",
    ".rest": "rst",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".man": "man",
    ".info": "info",
}
# A man page's section: ls.1, printf.3, openssl.1ssl, File::Spec.3pm, cron.8 ...
_MAN_SECTION = re.compile(r"\.[1-9][a-z]{0,12}$")
MAN_SECTIONS = ".1 to .9"
# The parts of a split Info manual: find.info-1, find.info-2 ...
_INFO_PART = re.compile(r"\.info-\d{1,4}$")


# A gzip-compressed file (Debian ships its README, NEWS and FAQ so) reads as the file it
# holds; unpacked, it may be at most this large (a small file can unpack to gigabytes).
GZIP = ".gz"
_GZIP_MAGIC = b"\x1f\x8b"
MAX_GUNZIPPED = 128 << 20


def gunzipped_name(name: str) -> str | None:
    """The name of the file ``name`` holds when it is gzip-compressed, else None."""
    return name[: -len(GZIP)] if name.lower().endswith(GZIP) and len(name) > len(GZIP) else None


def format_of(name: str) -> str | None:
    """The format a file name implies, or None when qa does not read it. A compressed
    ``README.gz`` or ``NEWS.gz`` (no type of its own) is text."""
    inner = gunzipped_name(name)
    suffix = Path(inner if inner is not None else name).suffix.lower()
    if inner is not None and not suffix:
        return "text"
    if _INFO_PART.fullmatch(suffix):
        return "info"
    return FORMATS.get(suffix) or ("man" if _MAN_SECTION.fullmatch(suffix) else None)


def gunzip(data: bytes, limit: int = MAX_GUNZIPPED) -> bytes:
    """``data`` unpacked; `Unreadable` when it is not gzip, is damaged, or unpacks to more
    than ``limit`` bytes."""
    if not data.startswith(_GZIP_MAGIC):
        raise Unreadable("is not gzip-compressed")
    try:
        out = gzip.GzipFile(fileobj=io.BytesIO(data)).read(limit + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise Unreadable(f"is a damaged gzip file ({e}); unpack it with gunzip to see") from None
    if len(out) > limit:
        raise Unreadable(
            f"unpacks to more than {limit >> 20} MiB; unpack it and split it into smaller files"
        )
    return out


def extract(data: bytes, name: str, fmt: str | None = None) -> Extracted:
    """``data`` (a file's bytes) as an `Extracted`; ``fmt`` defaults to ``format_of(name)``;
    a ``.gz`` file is read as the file it holds.

    Raises a `Skip` (with its reason) for a file qa cannot or should not read.
    """
    fmt = fmt or format_of(name)
    packed = gunzipped_name(name) is not None
    if fmt is None:
        suffixes = Path(name).suffixes[-2:] if packed else [Path(name).suffix]
        suffix = "".join(suffixes).lower() or "(none)"
        raise Unsupported(
            f"has an unsupported file type {suffix!r}; qa reads {', '.join(sorted(FORMATS))},"
            f" man pages ({MAN_SECTIONS}), Info manuals' parts (.info-1 ...)"
            f" and any of them compressed ({GZIP})"
        )
    if data.startswith(_GZIP_MAGIC) and (packed or fmt not in ("pdf", "docx")):
        # compressed under a name without .gz (an upload of a stated kind): read the same
        data, packed = gunzip(data), False
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
    elif fmt == "man":
        from qa.index.formats.man import read_man as reader
    elif fmt == "rst":
        from qa.index.formats.rst import read_rst as reader
    elif fmt == "info":
        from qa.index.formats.info import read_info as reader
    else:
        raise BadInput(
            f"unknown format {fmt!r}: use one of {', '.join(sorted(set(FORMATS.values())))}"
        )
    try:
        out = reader(data)
    except Unreadable:
        if packed:  # text posted under a .gz name is read as it is; other bytes are neither
            raise Unreadable(
                "is named .gz but is neither gzip-compressed nor text; "
                "see what it holds with `file` and name it so"
            ) from None
        raise
    if not out.text.strip():
        raise NoText("holds no text; add text to it or leave it out")
    if why := out.meta.get("rst_error"):  # read, but not as what it is: say which file
        log.warning("%s: reStructuredText read as plain text: %s", name, why)
    if left := out.meta.get("rst_not_included"):  # qa reads no file a page names
        log.warning("%s: other files it includes are not read: %s", name, "; ".join(left))
    return Extracted(out.text, out.blocks, out.title, {"format": fmt, **out.meta})
