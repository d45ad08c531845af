"""Markdown files: front matter, then blocks from markdown-it-py.

Front matter (YAML between ``---`` lines, TOML between ``+++`` lines) becomes
``meta`` and the title; blocks come from markdown-it-py's line maps. A heading block is
its text without the ``#``s or underline; a whole list (nested items included) is one
block; a table is its source lines, so only the top row carries the column headers;
fenced code is its lines without the fences.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from qa.core.types import Block
from qa.index.formats import Extracted
from qa.index.formats.text import decode, tidy_blocks

# Front matter starts on the first line: "---" then a blank line is a thematic break.
_YAML_FM = re.compile(
    r"\A---[ \t]*\r?\n(?![ \t]*\r?\n)(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\r|\Z)", re.S | re.M
)
_TOML_FM = re.compile(
    r"\A\+\+\+[ \t]*\r?\n(?![ \t]*\r?\n)(.*?)^\+\+\+[ \t]*(?:\r?\n|\r|\Z)", re.S | re.M
)
# Keys the readers and the caller set themselves: front matter does not overwrite them.
RESERVED_META = frozenset({"format", "encoding", "pages", "mtime", "bytes", "front_matter_error"})
_QUOTE_PREFIX = re.compile(r"(?:[ \t]*>)+[ \t]?")
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _jsonable(value: Any, budget: list[int], depth: int = 0) -> Any:
    """``value`` as JSON-able data (dates as ISO strings); raises ValueError past the budget
    (YAML aliases can make a small file expand without end)."""
    budget[0] -= 1
    if budget[0] < 0 or depth > 20:
        raise ValueError("front matter is too large or too deeply nested")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [v for v in (_jsonable(x, budget, depth + 1) for x in value) if v is not None]
    if isinstance(value, dict):
        out = {str(k): _jsonable(v, budget, depth + 1) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None}
    return None  # bytes, sets, ...: nothing JSON holds as is


def _parse_front_matter(kind: str, source: str) -> dict[str, Any]:
    """The fields of a YAML or TOML front matter; raises ValueError with a one-line reason."""
    if kind == "toml":
        import tomllib

        try:
            fields: Any = tomllib.loads(source)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"TOML: {e}") from None
    else:
        import yaml

        try:
            fields = yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" (line {mark.line + 2}, column {mark.column + 1})" if mark else ""
            raise ValueError(f"YAML: {getattr(e, 'problem', None) or e}{where}") from None
    if fields is None:
        return {}
    if not isinstance(fields, dict):
        raise ValueError(f"{kind.upper()}: front matter is not a mapping of fields")
    return _jsonable(fields, [10_000])  # type: ignore[no-any-return]


def split_front_matter(text: str) -> tuple[int, dict[str, Any], str]:
    """Where the front matter of a Markdown text ends (0: it has none), its fields and,
    for front matter that cannot be read, a one-line reason."""
    for kind, pattern in (("yaml", _YAML_FM), ("toml", _TOML_FM)):
        m = pattern.match(text)
        if m is None:
            continue
        try:
            return m.end(), _parse_front_matter(kind, m.group(1)), ""
        except (ValueError, RecursionError) as e:
            return m.end(), {}, " ".join(str(e).split())[:200]
    return 0, {}, ""


def _offsets(body: str) -> list[int]:
    """Where each line starts, as markdown-it counts lines (``\\r\\n`` is one break)."""
    return [0, *(m.end() for m in _NEWLINE.finditer(body)), len(body)]


# images, linked or not, at a heading's end: a README's badges ("uuid [![CI](…)](…)")
_ALT = re.compile(r"!\[([^\]]*)\]")
_BADGES = re.compile(r"(?:\s*\[?!\[[^\]]*\]\([^)\s]*\)(?:\]\([^)\s]*\))?)+\s*$")


def _without_badges(heading: str) -> str:
    """A heading's text without the images at its end (all of it when it is only those)."""
    return _BADGES.sub("", heading) or heading


def _title_of(heading: str) -> str:
    """A heading as a title: without its badges; a heading of images alone (a README's
    logo, ``![btop++](Img/logo.png)``) by their alt texts, none without (the next one)."""
    text = _BADGES.sub("", heading) or " ".join(_ALT.findall(heading))
    return " ".join(text.split())


def _heading_span(body: str, starts: list[int], tok: Any, inline: Any) -> tuple[int, int]:
    a, b = tok.map
    if tok.markup.startswith("#"):  # ATX: the text between the #s
        s, e = starts[a], starts[min(a + 1, len(starts) - 1)]
        hashes = body.find(tok.markup, s, e)
        at = body.find(inline.content, hashes + len(tok.markup), e) if inline.content else -1
        return (at, at + len(_without_badges(inline.content))) if at >= 0 else (s, s)
    s = starts[a]  # setext: the lines above the underline
    if m := _QUOTE_PREFIX.match(body, s):
        s = m.end()
    return s, starts[min(b - 1, len(starts) - 1)]


def _code_span(body: str, starts: list[int], tok: Any) -> tuple[int, int]:
    a, b = tok.map
    last = len(starts) - 1
    if tok.type == "code_block":
        return starts[a], starts[min(b, last)]
    closing = body[starts[min(b - 1, last)] : starts[min(b, last)]].strip().lstrip("> \t")
    fence_closed = b - a > 1 and closing and set(closing) == {tok.markup[0]}
    return starts[min(a + 1, last)], starts[min(b - 1 if fence_closed else b, last)]


def markdown_blocks(body: str) -> tuple[tuple[Block, ...], str]:
    """The blocks of a Markdown body and its first heading's text."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    starts = _offsets(body)
    last = len(starts) - 1
    blocks: list[Block] = []
    heading = ""
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if tok.map is None:
            continue
        a, b = tok.map
        span = (starts[min(a, last)], starts[min(b, last)])
        if tok.type in ("bullet_list_open", "ordered_list_open", "table_open"):
            while i < len(tokens) and not (
                tokens[i].level == tok.level and tokens[i].nesting == -1
            ):
                i += 1  # the whole list or table is one block
            blocks.append(Block(*span, "table" if tok.type == "table_open" else "list"))
        elif tok.type == "heading_open":
            inline = tokens[i]
            heading = heading or _title_of(inline.content)
            blocks.append(
                Block(*_heading_span(body, starts, tok, inline), "heading", int(tok.tag[1]))
            )
        elif tok.type in ("fence", "code_block"):
            blocks.append(Block(*_code_span(body, starts, tok), "code"))
        elif tok.type == "paragraph_open" or (
            tok.type == "html_block" and not re.fullmatch(r"\s*<!--.*-->\s*", tok.content, re.S)
        ):
            if m := _QUOTE_PREFIX.match(body, span[0]):
                span = (m.end(), span[1])  # a paragraph in a blockquote, without its ">"
            blocks.append(Block(*span))
    return tidy_blocks(body, blocks), heading


def read_markdown(data: bytes) -> Extracted:
    """A Markdown file: its body (the text after any front matter), blocks, title, meta.

    Front matter that cannot be read stays in the text, as one ``code`` block.
    """
    text, encoding = decode(data)
    end, fields, error = split_front_matter(text)
    body = text if error else text[end:]
    blocks, heading = markdown_blocks(text[end:])
    if error:
        shifted = (Block(b.start + end, b.end + end, b.kind, b.level) for b in blocks)
        blocks = tidy_blocks(text, [Block(0, end, "code"), *shifted])
    meta: dict[str, object] = {k: v for k, v in fields.items() if k not in RESERVED_META}
    meta["encoding"] = encoding
    if error:
        meta["front_matter_error"] = error
    title = fields.get("title")
    title = " ".join(str(title).split()) if isinstance(title, str | int | float) else ""
    return Extracted(body, blocks, title or heading, meta)
