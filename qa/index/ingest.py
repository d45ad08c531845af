"""Read .txt, .md and .html files (or folders of them) into `Document`s.

For .txt and .md the document text is the file's decoded text, unchanged (CRLF kept), so
offsets index the file itself. HTML is parsed with lxml into plain text
with one blank line between blocks; offsets then index that extracted text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from qa.core.errors import BadInput
from qa.core.types import Document

MARKDOWN_SUFFIXES = {".md", ".markdown"}
TEXT_SUFFIXES = {".txt"} | MARKDOWN_SUFFIXES
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES

_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "aside",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "table",
        "tr",
        "td",
        "th",
        "dd",
        "dt",
        "dl",
        "figure",
        "figcaption",
        "br",
        "hr",
        "title",
    ]
)
_DROP_TAGS = frozenset(["script", "style", "noscript", "template", "head", "svg", "iframe", "form"])
_SPACE = re.compile(r"[ \t\f\v\u00a0]+")


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadInput(
            f"{where} is not UTF-8 text (byte {e.start}); convert it, e.g. "
            f"'iconv -f latin1 -t utf-8', and try again"
        ) from None


def _joined_text(el: Any) -> str:
    return " ".join(s.strip() for s in el.itertext() if s.strip())


def html_to_text(html: str) -> tuple[str, str]:
    """Plain text and title of an HTML page; blocks are separated by one blank line.

    One pass over lxml's tree, so the time grows linearly with the page.
    """
    from lxml import etree

    if not html.strip():
        return "", ""
    parser = etree.HTMLParser(huge_tree=True)
    root = etree.fromstring(html, parser)
    if any(e.level_name == "FATAL" for e in parser.error_log):
        why = next(e.message for e in parser.error_log if e.level_name == "FATAL")
        raise BadInput(f"the HTML cannot be parsed ({why}); send it as text or fix the page")
    if root is None:
        return "", ""
    found = root.find(".//title")
    title = _joined_text(found) if found is not None else ""
    if not title and (found := root.find(".//h1")) is not None:
        title = _joined_text(found)
    out: list[str] = []
    dropped = 0  # depth inside tags whose text is dropped (scripts, styles, …)
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else None  # comments have no text here
        if event == "start":
            dropped += tag in _DROP_TAGS
            if not dropped:
                out.append("\n\n" if tag in _BLOCK_TAGS else "")
                out.append(el.text or "" if tag is not None else "")
            continue
        if not dropped:
            out.append("\n\n" if tag in _BLOCK_TAGS else "")
        dropped -= tag in _DROP_TAGS
        if not dropped and el is not root:
            out.append(el.tail or "")
    lines = [_SPACE.sub(" ", line).strip() for line in "".join(out).splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, title


def _markdown_title(text: str) -> str:
    m = re.search(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", text, flags=re.MULTILINE)
    return m.group(1).strip() if m else ""


def kind_of(source: str) -> str:
    """The kind a source's name implies: ``html``, ``markdown`` or (otherwise) ``text``."""
    suffix = Path(source).suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    return "markdown" if suffix in MARKDOWN_SUFFIXES else "text"


def from_string(text: str, source: str, kind: str = "text", title: str = "") -> Document:
    """A `Document` from text already in memory; ``kind`` is ``text``, ``markdown`` or ``html``."""
    if kind == "html":
        body, html_title = html_to_text(text)
        return Document.from_text(body, source=source, title=title or html_title or source)
    if kind == "markdown":
        return Document.from_text(
            text, source=source, title=title or _markdown_title(text) or source
        )
    if kind == "text":
        return Document.from_text(text, source=source, title=title or source)
    raise BadInput(f"unknown document kind {kind!r}: use 'text', 'markdown' or 'html'")


def load_file(path: str | Path) -> Document:
    """One file → one `Document` (source = the path as given, title from the content)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BadInput(
            f"{path}: unsupported file type {suffix or '(none)'!r}; "
            f"qa reads {', '.join(sorted(SUFFIXES))}"
        )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadInput(f"cannot read {path}: {e.strerror}") from None
    text = _decode(data, str(path))
    kind = kind_of(path.name)
    doc = from_string(text, source=str(path), kind=kind, title="")
    if doc.title == str(path):
        doc = Document(id=doc.id, text=doc.text, source=doc.source, title=path.stem)
    return doc


def iter_files(paths: Iterable[str | Path]) -> list[Path]:
    """The readable files under ``paths`` (folders recursively, hidden entries skipped), sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise BadInput(f"{p} does not exist: give a file or folder of .txt, .md or .html")
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if (
                    f.is_file()
                    and f.suffix.lower() in SUFFIXES
                    and not any(part.startswith(".") for part in rel)
                ):
                    out.append(f)
        else:
            out.append(p)
    return out


def load(paths: str | Path | Iterable[str | Path]) -> list[Document]:
    """Every document under ``paths``; identical contents are kept once."""
    if isinstance(paths, str | Path):
        paths = [paths]
    docs: dict[str, Document] = {}
    for f in iter_files(paths):
        doc = load_file(f)
        docs.setdefault(doc.id, doc)
    return list(docs.values())


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
