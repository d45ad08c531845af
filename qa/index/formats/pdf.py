"""PDF files: pdfminer.six's layout analysis (characters into lines, lines into text
boxes); each page's boxes become blocks, in pdfminer's reading order, separated by one
blank line, also between pages:

- pieces of one printed line that pdfminer cut at a wide gap (a justified line, a table
  row) are joined left to right (``pdf_layout``);
- a box's lines are joined with one space, whitespace collapsed, end-of-line hyphenation
  undone ("exam-" + "ple"), unless the document spells the word with its hyphen elsewhere
  or a capital follows ("non-Unix");
- a short box (≤ 15 words, ≤ 2 lines) set clearly larger than the body text (the
  character-weighted median size), or bold at body size, is a heading (also when pdfminer
  put it in one box with its paragraph); its level is the rank of its size among the
  headings' sizes (largest = 1, at most 6); a caption ("Figure 2-1: …") is no heading,
  nor, in a long document, a size at which one text alone is set (a figure's word);
- a box set in a monospaced font (or whose every line starts so) is code, lines kept;
- boxes that start with a bullet or an item number form one list block, one item a line;
  a column of bullets pdfminer boxed apart from their items splits the items' box there;
- running headers and footers (boxes at the top or bottom edge whose text, digits aside,
  or whose position repeats across pages) and bare page numbers are dropped;
- a table of contents (under a "Contents" heading, with dot leaders or page numbers) is
  dropped, the first chapter's heading kept;
- fonts with their own encoding, TeX's accents and underscores drawn as rules are read
  right, and boxes that lie equally far apart keep one order (``pdf_fonts``).

pdfminer does not find tables; it boxes cells and columns apart. A table drawn with rules
is read cell by cell from the rules, wrapped cells whole (pdfplumber, ``pdf_ruled``);
boxes of short lines side by side whose lines share their heights are read as one table,
a row a line, and so are cells boxed one by one under shared left edges (``pdf_tables``);
a table pdfminer boxed otherwise comes out as text boxes in its reading order. A small
figure's labels are left out. Text in images needs OCR (`NoText`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from qa.core.types import Block
from qa.index.formats import Extracted, NoText
from qa.index.formats.pdf_layout import (
    BULLET,
    LEADER,
    SPACE,
    Box,
    Page,
    is_heading,
    layout,
    same_row,
    weighted_median,
)
from qa.index.formats.pdf_ruled import RuledTables
from qa.index.formats.pdf_tables import join_tables

NO_TEXT = "has no text layer (scanned pages?); run OCR on it first, e.g. ocrmypdf in.pdf out.pdf"
BULLET_GAP = 4.0  # how far (in text sizes) a column of bullets may stand left of its items
MANY_HEADINGS = 40  # headings in a long document, where a size set once is no level
EDGE = 0.15  # the top and bottom share of a page where running headers and footers sit
_WORD = re.compile(r"\w+(?:-\w+)*")
_CONTENTS = re.compile(r"^(?:table of )?contents$", re.I)
# a sentence's end ("drawings.", "DIN 15."), not a leader's dot or a section number
_SENTENCE = re.compile(r"(?:[A-Za-z]\w|\w[A-Za-z])[.!?:](?:\s|$)|\s\d+[.!?]$")
_NUMBERED = re.compile(r"^\d+(?:\.\d+)*\.?\s")  # a section's number
_NUMBERS = re.compile(r"^[\d\s.]+$")  # a column of page numbers
_ITEM = re.compile(rf"\n(?={BULLET.pattern[1:]})")  # a line break before a list item
_LONE_BULLET = re.compile(r"^[•◦▪▫●○■□‣⁃∙·*–-]$")
# a bullet glyph alone: not "-" or "*", which a column of a table's empty cells also holds
_BULLET_GLYPH = re.compile(r"^[•◦▪▫●○■□‣⁃∙·]$")
_ROMAN = r"m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
_PAGE_NUMBER = re.compile(
    rf"^[\s\-–—\[(]*(?:page\s*)?(?:\d+|{_ROMAN})(?:\s*(?:/|of)\s*\d+)?[\s\-–—\])]*$", re.I
)
# metadata titles that name a tool, a file or nothing
_NOT_TITLE = re.compile(
    r"^(?:untitled|microsoft \w+ - |(?:document|slide ?)\d*$|title$)"
    r"|\.(?:docx?|odt|rtf|tex|dvi|pdf|ps|indd|pptx?|xlsx?|html?)$",
    re.I,
)


def _edges(bottom: float, top: float, boxes: list[Box]) -> list[tuple[Box, str, float]]:
    """The boxes at the page's top or bottom edge: (box, side, gap to the body).

    A box is at the edge when, besides boxes on its own row, every box lies inward of it.
    """
    band = (top - bottom) * EDGE
    found = []
    for b in boxes:
        if len(b.lines) > 2 or b.words > 20 or bottom + band < b.y0 < b.y1 < top - band:
            continue
        slack = (b.y1 - b.y0) / 2
        rest = [o for o in boxes if o.y0 < b.y0 - slack or o.y1 > b.y1 + slack]  # off its row
        if b.y0 >= top - band and all(o.y1 <= b.y0 + 1 for o in rest):
            found.append((b, "top"))
        elif b.y1 <= bottom + band and all(o.y0 >= b.y1 - 1 for o in rest):
            found.append((b, "bottom"))
    edge = {id(b) for b, _ in found}
    body = [o for o in boxes if id(o) not in edge]
    out = []
    for b, side in found:
        gaps = [b.y0 - o.y1 if side == "top" else o.y0 - b.y1 for o in body]
        out.append((b, side, min(gaps, default=math.inf)))
    return out


def _drop_furniture(pages: list[Page], body: float) -> None:
    """Remove running headers, footers and bare page numbers from ``pages``, in place."""

    def key(b: Box) -> tuple[str, int]:  # what repeats: the text, digits aside, and size
        text = re.sub(r"\d+", "#", " ".join(b.lines).lower())
        return SPACE.sub(" ", text).strip(), round(b.size)

    edges = [_edges(bottom, top, boxes) for bottom, top, boxes in pages]
    texts: Counter[tuple[str, int]] = Counter()
    places: Counter[tuple[str, int, int]] = Counter()
    for page in edges:
        texts.update({key(b) for b, _, _ in page})
        places.update({(side, round(b.y0), round(b.y1)) for b, side, _ in page})
    # on a few pages a repeat is needed on most of them; on many, three pages show a pattern
    need = max(2, min(3, math.ceil(len(pages) / 2)))
    for (_, _, boxes), page in zip(pages, edges, strict=True):
        drop = set()
        for b, side, gap in page:
            text, height = " ".join(b.lines), b.y1 - b.y0
            placed = places[(side, round(b.y0), round(b.y1))] >= max(3, need)
            # a running header stands apart from a body; a lone "}" is code, not a header
            apart = math.inf > gap >= height and len(re.findall(r"\w", text)) >= 2
            if (
                _PAGE_NUMBER.match(text)
                or (apart and texts[key(b)] >= need)
                or (apart and placed and gap >= 1.5 * height and b.size <= body * 1.05)
            ):
                drop.add(id(b))
        boxes[:] = [b for b in boxes if id(b) not in drop]


def _join_lines(lines: list[str], vocab: frozenset[str]) -> str:
    """Lines as one paragraph: one space between, end-of-line hyphenation undone unless
    the document spells the word with its hyphen elsewhere ("well-known") or the next line
    goes on with a capital ("non-Unix") or after a compound ("check-in-"); a line that
    ends inside a path, a name or a number range ("Xext/", "MPFR_USE_NO_", "754-") runs
    on into the next without a space."""
    out = ""
    for raw in lines:
        line = SPACE.sub(" ", raw).strip()
        if not line:
            continue
        last = out.rsplit(" ", 1)[-1]
        if len(last) > 1 and last.endswith("-") and last[-2].isalpha():
            stem = re.search(r"[\w-]*$", last[:-1]).group().lower()  # type: ignore[union-attr]
            nxt = re.match(r"\w*", line).group().lower()  # type: ignore[union-attr]
            keep = not line[:1].islower() or "-" in stem or f"{stem}-{nxt}" in vocab
            out = (out if keep and f"{stem}{nxt}" not in vocab else out[:-1]) + line
        elif _runs_on(last, line):
            out += line  # a path, name or range cut at its joiner: "Xext/" "xace.h"
        else:
            out = f"{out} {line}" if out else line
    return LEADER.sub(" … ", out).strip()


def _runs_on(last: str, line: str) -> bool:
    """Whether a line's last word goes on into the next line's first with no space: a
    name cut after "_", a path after "/" (not before a capital: "http://example.org/"
    then "No ..."), a number range after "-" ("754-" "2019")."""
    first = line[:1]
    if len(last) < 2 or not last[-2].isalnum() or not first.isalnum():
        return False
    end = last[-1]
    return (
        end == "_"
        or (end == "/" and (first.islower() or first.isdigit()))
        or (end == "-" and last[-2].isdigit() and first.isdigit())
    )


def _code_text(box: Box) -> str:
    """A code box's lines with their indentation, blank lines dropped."""
    width = box.char_width or 1.0
    lines = [" " * round(i / width) + line for line, i in zip(box.lines, box.indents, strict=True)]
    lines = [line.rstrip() for line in lines if line.strip()]
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    return "\n".join(line[indent:] for line in lines).strip()


def _classify(boxes: list[Box], body: float, vocab: frozenset[str]) -> None:
    """Set each box's kind, level and text."""
    for b in boxes:
        if is_heading(b, body):
            b.kind, b.text = "heading", _join_lines(b.lines, vocab)
        elif b.mono >= 0.9 or (
            len(b.lines) >= 2 and b.mono >= 0.3 and b.mono_starts == len(b.lines)
        ):
            # code: all monospaced, or every line starts so (comments may be set in roman)
            b.kind, b.text = "code", _code_text(b)
        elif BULLET.match(b.lines[0].strip()):  # one item a line, a new one at each bullet
            items = re.split(_ITEM, "\n".join(line.strip() for line in b.lines))
            b.text = "\n".join(_join_lines(item.split("\n"), vocab) for item in items)
        else:
            b.text = _join_lines(b.lines, vocab)
    _levels([b for b in boxes if b.kind == "heading"])


def _levels(headings: list[Box]) -> None:
    """Each heading's level: the rank of its size among the headings' sizes (largest = 1,
    at most 6). In a long document (``MANY_HEADINGS``) a size at which one text alone is
    set, past the first heading (the title), is no heading's: a word painted large in a
    figure ("SPUMONI", shown twice) or a font sample, which pushed every chapter a level
    down and headed every passage after it."""
    size = {id(b): round(b.size * 2) / 2 for b in headings}
    if len(headings) >= MANY_HEADINGS:
        texts: dict[float, set[str]] = {}
        for b in headings[1:]:
            texts.setdefault(size[id(b)], set()).add(b.text)
        for b in headings[1:]:
            if len(texts[size[id(b)]]) == 1:
                b.kind = "text"
        headings = [b for b in headings if b.kind == "heading"]
    sizes = sorted({size[id(b)] for b in headings}, reverse=True)
    for b in headings:
        b.level = min(6, sizes.index(size[id(b)]) + 1)


def _prose(b: Box, body: float = 0.0) -> bool:
    """Whether a box reads as running text, not a contents entry: code, or a sentence of
    six words or more without dot leaders, at least ``body`` size."""
    if b.kind == "code":
        return True
    return (
        b.kind == "text"
        and b.size >= body * 0.95
        and "…" not in b.text
        and not (len(b.lines) == 1 and _NUMBERED.match(b.text))  # "8.9 How to ...?"
        and len(b.text.split()) >= 6
        and bool(_SENTENCE.search(b.text))
    )


def _entries(boxes: list[Box]) -> int:
    """How many contents entries ``boxes`` hold: dot leaders, and boxes of page numbers."""
    return sum(b.text.count("…") + bool(_NUMBERS.match(b.text)) for b in boxes)


def _drop_contents(pages: list[Page], body: float) -> None:
    """Remove tables of contents from ``pages``, in place: from a "Contents" heading to the
    first box that reads as the body (``_prose``), when at least three entries (dot leaders
    or page numbers) lie there, and on the next pages as long as the entries run on. The
    entries are no answers, and as headings they would label the passages after them."""
    running = False  # the contents go on from the page before
    for _, _, boxes in pages:
        if running and boxes and _entries(boxes) >= 3 and not _prose(boxes[0], body):
            start: int | None = 0
        else:
            start = next(
                (i for i, b in enumerate(boxes) if b.kind == "heading" and _CONTENTS.match(b.text)),
                None,
            )
        running = False
        if start is None:
            continue
        end = next((i for i in range(start + 1, len(boxes)) if _prose(boxes[i], body)), None)
        region = boxes[start:end]
        if _entries(region) < 3:
            continue
        drop = {id(b) for b in region if not _prose(b)}  # a footnote stays
        if end is None:
            running = True  # the entries fill the page: they may go on
        else:  # keep the first chapter's heading, just above its first paragraph
            first = boxes[end]
            head = [
                b
                for b in region
                if b.kind == "heading" and first.y1 - 1 <= b.y0 <= first.y1 + 3 * (b.y1 - b.y0)
            ]
            beside = [b for b in region for h in head if same_row((b.y0, b.y1), (h.y0, h.y1))]
            drop -= {id(b) for b in beside if len(b.lines) == 1}
        boxes[:] = [b for b in boxes if id(b) not in drop]


def _bullet_columns(boxes: list[Box], vocab: frozenset[str]) -> None:
    """Lists whose bullets pdfminer boxed apart from their items, in place: a column of
    lone bullets beside a box of lines made that box's items one paragraph ("verbose:
    set to … shapeChecking: set this …") under a line of "• • • •". Each line at a
    bullet's height starts an item; the lines under it, up to the next, go on with it."""
    bullets = [
        b
        for b in boxes
        if b.kind == "text" and all(_BULLET_GLYPH.match(x.strip()) for x in b.lines)
    ]
    if not bullets:
        return
    used: set[int] = set()
    apart = {id(x) for x in bullets}
    for b in boxes:
        if b.kind != "text" or id(b) in apart:
            continue
        tol = 0.5 * b.size
        beside = [
            (m, x) for x in bullets for m in x.mids
            if x.x1 <= b.x0 + 1 and b.x0 - x.x1 <= BULLET_GAP * b.size
            and min(b.mids) - tol <= m <= max(b.mids) + tol
        ]  # fmt: skip
        starts = [any(abs(m - mid) <= tol for m, _ in beside) for mid in b.mids]
        if not beside or not starts[0]:
            continue
        items: list[list[str]] = []
        for line, start in zip(b.lines, starts, strict=True):
            if start:
                items.append([])
            items[-1].append(line)
        bullet = beside[0][1].lines[0].strip()
        b.text = "\n".join(f"{bullet} {_join_lines(item, vocab)}" for item in items)
        used |= {id(x) for _, x in beside}
    boxes[:] = [b for b in boxes if id(b) not in used]


def _page_items(boxes: list[Box]) -> list[tuple[str, str, int]]:
    """A page's (text, kind, level) pieces, list items gathered into one list each."""
    out: list[tuple[str, str, int]] = []
    items: list[str] = []  # the list being gathered
    item_x = 0.0  # its items' left edge: a box indented further continues the last item
    bullet = ""  # a bullet that pdfminer set in a box of its own, waiting for its item
    for b in boxes:
        if b.kind == "text" and _LONE_BULLET.match(b.text):
            bullet = b.text
            continue
        if bullet and b.kind == "text":
            b.text = f"{bullet} {b.text}"
        bullet = ""
        if b.kind == "text" and BULLET.match(b.text):
            items.extend(b.text.split("\n"))
            item_x = b.x0
            continue
        if items and b.kind == "text" and b.x0 > item_x + 2:
            items[-1] = f"{items[-1]} {b.text}"
            continue
        if items:
            out.append(("\n".join(items), "list", 0))
            items = []
        if b.kind == "code" or re.search(r"\w", b.text):  # not stray "=" or "." of formulas
            out.append((b.text, b.kind, b.level))
    if items:
        out.append(("\n".join(items), "list", 0))
    return out


def _assemble(pages: list[list[tuple[str, str, int]]]) -> tuple[str, tuple[Block, ...]]:
    """The document text (blocks separated by one blank line) and its blocks."""
    parts: list[str] = []
    blocks: list[Block] = []
    pos = -2  # each block after the blank line before it, the first at 0
    for page, items in enumerate(pages, 1):
        for text, kind, level in items:
            blocks.append(Block(pos + 2, pos + 2 + len(text), kind, level, page))
            parts.append(text)
            pos += 2 + len(text)
    return "\n\n".join(parts), tuple(blocks)


def _info(info: dict[str, Any], key: str) -> str:
    """A document information field as clean text ("" when absent or not text)."""
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    try:
        value = resolve1(info.get(key))
    except Exception:  # a broken reference costs the field, not the document
        return ""
    if isinstance(value, bytes):
        value = decode_text(value)
    return SPACE.sub(" ", value).strip() if isinstance(value, str) else ""


_SECTION_NAMES = frozenset(
    ["NAME", "SYNOPSIS", "CONTENTS", "TABLE OF CONTENTS", "ABSTRACT", "INTRODUCTION", "PREFACE"]
)


def _title(info: dict[str, Any], blocks: tuple[Block, ...], text: str) -> tuple[str, str]:
    """The title and where it came from: the metadata, else the first page's top heading."""
    title = _info(info, "Title")
    if 2 <= len(title) <= 200 and re.search(r"[^\W\d_]", title) and not _NOT_TITLE.search(title):
        return title, "metadata"
    headings = [b for b in blocks if b.kind == "heading"]
    if not headings:
        return "", ""
    first = [b for b in headings if b.page == headings[0].page]
    top = min(first, key=lambda b: b.level)
    found = text[top.start : top.end]
    # A man page's or paper's first section names what follows, not the document.
    return ("", "") if found.strip().upper() in _SECTION_NAMES else (found, "heading")


def read_pdf(data: bytes) -> Extracted:
    """A PDF's text and blocks (one a paragraph, heading, list or code box; see the module)."""
    with RuledTables(data) as ruled:
        info, pages, failed = layout(data, ruled)
    sizes: Counter[float] = Counter()
    for _, _, page in pages:
        for b in page:
            sizes[b.size] += b.chars
    if not sizes:
        raise NoText(NO_TEXT)
    body = weighted_median(sizes)
    _drop_furniture(pages, body)
    boxes = [b for _, _, page in pages for b in page]
    vocab = frozenset(w for b in boxes for line in b.lines for w in _WORD.findall(line.lower()))
    _classify(boxes, body, vocab)
    _drop_contents(pages, body)
    ruled.place(pages, lambda lines: _join_lines(lines, vocab))
    for _, _, page in pages:
        _bullet_columns(page, vocab)
        join_tables(page, lambda lines: _join_lines(lines, vocab))
    text, blocks = _assemble([_page_items(page) for _, _, page in pages])
    if not text:
        raise NoText(NO_TEXT)
    title, source = _title(info, blocks, text)
    meta: dict[str, object] = {"pages": len(pages), "title_source": source}
    meta |= {"author": _info(info, "Author"), "unreadable_pages": failed}
    return Extracted(text, blocks, title, {k: v for k, v in meta.items() if v})
