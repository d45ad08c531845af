"""Plain text and Markdown: the decoded file is the document text."""

from __future__ import annotations

import re

from qa.core.types import Block
from qa.index.formats import Extracted, Unreadable


def decode(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """The text of ``data`` and the encoding it was read with."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as e:
        raise Unreadable(f"is not UTF-8 text (byte {e.start}); convert it to UTF-8") from None


def paragraph_blocks(text: str) -> tuple[Block, ...]:
    """Blocks of ``text`` split at blank lines, all of kind ``text``."""
    from qa.index.chunk import paragraphs

    return tuple(Block(s, e) for s, e in paragraphs(text))


def _markdown_title(text: str) -> str:
    m = re.search(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", text, flags=re.MULTILINE)
    return m.group(1).strip() if m else ""


def read_text(data: bytes) -> Extracted:
    text, encoding = decode(data)
    return Extracted(text, paragraph_blocks(text), "", {"encoding": encoding})


def read_markdown(data: bytes) -> Extracted:
    text, encoding = decode(data)
    return Extracted(text, paragraph_blocks(text), _markdown_title(text), {"encoding": encoding})
