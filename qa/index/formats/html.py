"""HTML pages: lxml in one linear pass; blocks are separated by one blank line."""

from __future__ import annotations

import re
from typing import Any

from qa.core.errors import BadInput
from qa.index.formats import Extracted
from qa.index.formats.text import decode, paragraph_blocks

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



def read_html(data: bytes) -> Extracted:
    html, encoding = decode(data)
    text, title = html_to_text(html)
    return Extracted(text, paragraph_blocks(text), title, {"encoding": encoding})
