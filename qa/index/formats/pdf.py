"""PDF files: pdfminer.six's layout analysis (characters into lines, lines into text
boxes); each page's boxes become blocks, in pdfminer's reading order, separated by one
blank line, also between pages:

- a box's lines are joined with one space, whitespace collapsed, end-of-line hyphenation
  undone ("exam-" + "ple"), unless the document spells the word with its hyphen elsewhere
  or a capital follows ("non-Unix");
- a short box (≤ 15 words, ≤ 2 lines) set clearly larger than the body text (the
  character-weighted median size), or bold at body size, is a heading (also when pdfminer
  put it in one box with its paragraph); its level is the rank of its size among the
  headings' sizes (largest = 1, at most 6);
- a box set in a monospaced font (or whose every line starts so) is code, lines kept;
- boxes that start with a bullet or an item number form one list block, one item a line;
- running headers and footers (boxes at the top or bottom edge whose text, digits aside,
  or whose position repeats across pages) and bare page numbers are dropped;
- fonts with their own encoding, TeX's accents and underscores drawn as rules are read
  right, and boxes that lie equally far apart keep one order (``pdf_fonts``).

pdfminer does not find tables: a table comes out as text boxes (cells or rows), in its
reading order. A small figure's labels are left out. Text in images needs OCR (`NoText`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import re
import statistics
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from qa.core.types import Block
from qa.index.formats import Extracted, NoText, Unreadable
from qa.index.formats.pdf_fonts import LIGATURES, accents, line_text, resources, underscore_rules

ENCRYPTED = "is encrypted; decrypt it first, e.g. qpdf --decrypt --password=PASSWORD in.pdf out.pdf"
NO_TEXT = "has no text layer (scanned pages?); run OCR on it first, e.g. ocrmypdf in.pdf out.pdf"
DAMAGED = "is damaged or not a PDF ({why}); re-export or repair it, e.g. qpdf in.pdf fixed.pdf"

HEADING_MAX_WORDS = 15
HEADING_SIZE = 1.15  # a heading's size over the body's: clearly larger, not a rounding step
EDGE = 0.15  # the top and bottom share of a page where running headers and footers sit
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+(?:-\w+)*")
# glyphs without a Unicode mapping, and control characters from broken font encodings
_JUNK = re.compile(r"\(cid:\d+\)|[\x00-\x08\x0e-\x1f\x7f]")
_LEADER = re.compile(r"(?:\s*\.){4,}\s*")  # table-of-contents dot leaders
_BULLET = re.compile(r"^(?:[•◦▪▫●○■□‣⁃∙·*–-]|\(?(?:\d{1,2}|[a-z])[.)])\s+")
_ITEM = re.compile(rf"\n(?={_BULLET.pattern[1:]})")  # a line break before a list item
_LONE_BULLET = re.compile(r"^[•◦▪▫●○■□‣⁃∙·*–-]$")
_ROMAN = r"m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
_PAGE_NUMBER = re.compile(
    rf"^[\s\-–—\[(]*(?:page\s*)?(?:\d+|{_ROMAN})(?:\s*(?:/|of)\s*\d+)?[\s\-–—\])]*$", re.I
)
_MONO = re.compile(r"courier|mono|cmtt|sftt|txtt|typewriter|consol|menlo|code", re.I)
_BOLD = re.compile(r"bold|black|heavy|demi|-medi|cmbx|cmb\d", re.I)
# metadata titles that name a tool, a file or nothing
_NOT_TITLE = re.compile(
    r"^(?:untitled|microsoft \w+ - |(?:document|slide ?)\d*$|title$)"
    r"|\.(?:docx?|odt|rtf|tex|dvi|pdf|ps|indd|pptx?|xlsx?|html?)$",
    re.I,
)


@dataclass
class _Box:
    """A pdfminer text box with what the heuristics need."""

    page: int
    lines: list[str]
    indents: list[float]  # each line's left edge minus the box's, in points
    x0: float
    y0: float
    x1: float
    y1: float
    size: float  # the character-weighted median size
    chars: int
    bold: float  # the share of its letters set in a bold font
    mono: float  # the share of its characters set in a monospaced font
    char_width: float
    mono_starts: int  # lines that start in a monospaced font
    kind: str = "text"
    level: int = 0
    text: str = field(default="", repr=False)

    @property
    def words(self) -> int:
        return sum(len(line.split()) for line in self.lines)


_quiet_lock = threading.Lock()
_quiet_runs: list[int] = []  # the "pdfminer" logger's own level, once per run in progress


_Page = tuple[float, float, list[_Box]]  # a page's bottom, top and text boxes


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """pdfminer's loggers silenced while it runs; the first run in saves the level and
    the last one out restores it, so runs in several threads leave it as it was."""
    logger = logging.getLogger("pdfminer")
    with _quiet_lock:
        _quiet_runs.append(_quiet_runs[0] if _quiet_runs else logger.level)
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        with _quiet_lock:
            level = _quiet_runs.pop()
            if not _quiet_runs:
                logger.setLevel(level)


def _why(e: BaseException) -> str:
    """A short one-line reason from an exception."""
    msg = _SPACE.sub(" ", str(e)).strip()
    if msg.startswith("No /Root object"):
        return "no document catalog; truncated?"
    msg = msg if msg and len(msg) <= 60 else type(e).__name__
    return msg.rstrip(".")


def _open(data: bytes) -> tuple[Any, list[Any]]:
    """The pdfminer document and its pages; `Unreadable` for encrypted or broken files."""
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    if b"%PDF-" not in data[:1024]:
        raise Unreadable(DAMAGED.format(why="no %PDF header"))
    try:
        doc = PDFDocument(PDFParser(BytesIO(data)))  # the empty user password is tried
        pages = list(PDFPage.create_pages(doc))
    except PDFEncryptionError:
        raise Unreadable(ENCRYPTED) from None
    except Exception as e:  # a broken file fails in many ways, all of them "damaged"
        raise Unreadable(DAMAGED.format(why=_why(e))) from None
    if not pages:
        raise Unreadable(DAMAGED.format(why="no pages"))
    return doc, pages


def _text_boxes(item: Any, page_area: float, whole: bool = True) -> Iterator[Any]:
    """The text boxes in a layout item and the figures (Form XObjects) in it: all of a
    figure that fills half the page or more (a page drawn as one figure), only prose from
    a smaller one (a diagram's labels are no paragraphs)."""
    from pdfminer.layout import LTFigure, LTTextBox

    for child in item:
        if isinstance(child, LTTextBox) and (whole or len(child.get_text().split()) >= 8):
            yield child
        elif isinstance(child, LTFigure):
            big = child.width * child.height >= page_area / 2
            yield from _text_boxes(child, page_area, whole and big)


@functools.lru_cache(maxsize=512)
def _font(name: str) -> tuple[bool, bool]:
    """Whether a font (by name) is monospaced, and whether it is bold."""
    return bool(_MONO.search(name)), bool(_BOLD.search(name))


@dataclass
class _Line:
    text: str
    bbox: tuple[float, float, float, float]
    chars: list[tuple[float, bool, bool, bool, float]]  # size, mono, bold, letter, width


def _lines(box: Any, rules: list[tuple[float, float, float]]) -> list[_Line]:
    """A pdfminer text box's non-blank lines with their visible characters (``rules``: the
    page's underscores drawn as rules)."""
    from pdfminer.layout import LTChar

    out = []
    for line in box:
        text = _JUNK.sub("", accents(line_text(line, rules).translate(LIGATURES)))
        text = text.replace("\n", " ").rstrip()
        chars = [
            (c.size, *_font(c.fontname), c.get_text().isalpha(), c.width)
            for c in line
            if isinstance(c, LTChar) and not c.get_text().isspace()
        ]
        if text.strip() and chars:
            out.append(_Line(text, line.bbox, chars))
    return out


def _box(page: int, lines: list[_Line]) -> _Box:
    """A `_Box` of some lines of a pdfminer text box."""
    sizes: Counter[float] = Counter(round(c[0], 1) for line in lines for c in line.chars)
    chars = [c for line in lines for c in line.chars]
    letters = [c for c in chars if c[3]]
    x0, y0 = min(ln.bbox[0] for ln in lines), min(ln.bbox[1] for ln in lines)
    x1, y1 = max(ln.bbox[2] for ln in lines), max(ln.bbox[3] for ln in lines)
    return _Box(
        page, [ln.text for ln in lines], [ln.bbox[0] - x0 for ln in lines], x0, y0, x1, y1,
        _weighted_median(sizes), len(chars), sum(c[2] for c in letters) / max(len(letters), 1),
        sum(c[1] for c in chars) / len(chars), statistics.median(c[4] for c in chars),
        sum(ln.chars[0][1] for ln in lines),
    )  # fmt: skip


def _look(line: _Line) -> tuple[float, bool]:
    return max(c[0] for c in line.chars), all(c[2] for c in line.chars)


def _boxes(page: int, box: Any, rules: list[tuple[float, float, float]]) -> list[_Box]:
    """The `_Box`es of a pdfminer text box: a heading that pdfminer set in one box with
    the paragraph under it (a line or two, larger or bold, shorter) comes apart."""
    lines = _lines(box, rules)
    if not lines:
        return []
    (size0, bold0), (size1, bold1) = _look(lines[0]), _look(lines[-1])
    if len(lines) < 2 or (size0 < size1 * 1.05 and bold0 == bold1):  # the cheap common case
        return [_box(page, lines)]
    for k in (1,) if len(lines) == 2 else (2, 1):
        head, rest = _box(page, lines[:k]), _box(page, lines[k:])
        larger = head.size >= rest.size * HEADING_SIZE
        bolder = head.bold >= 0.9 and rest.bold <= 0.5 and head.size >= rest.size * 0.95
        short = head.x1 <= rest.x1 - 0.1 * (rest.x1 - rest.x0)
        if (larger or bolder) and short and _is_heading(head, rest.size):
            return [head, rest]
    return [_box(page, lines)]


def _weighted_median(counts: Counter[float]) -> float:
    total, seen = sum(counts.values()), 0
    for value in sorted(counts):
        seen += counts[value]
        if 2 * seen >= total:
            return value
    return 0.0


def _layout(data: bytes) -> tuple[dict[str, Any], list[_Page], int]:
    """The document information (Title, Author, ...), every page's bottom, top and text
    boxes, and how many pages pdfminer could not read (they have no boxes)."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams
    from pdfminer.pdfinterp import PDFPageInterpreter

    with _quiet():
        doc, pages = _open(data)
        manager = resources()
        # pdfminer's own margins: wider ones keep a widely spaced justified line whole but
        # merge the columns of a two-column page (tried: char_margin 3 joins a 24 pt gap)
        device = PDFPageAggregator(manager, laparams=LAParams(all_texts=True))
        interpreter = PDFPageInterpreter(manager, device)
        out, failed = [], []
        for number, page in enumerate(pages, 1):
            try:
                interpreter.process_page(page)
            except Exception as e:  # one broken page costs that page, not the document
                failed.append(e)
                out.append((0.0, 0.0, []))
                continue
            layout = device.get_result()
            area = layout.width * layout.height
            rules = underscore_rules(layout)
            boxes = [b for t in _text_boxes(layout, area) for b in _boxes(number, t, rules)]
            out.append((layout.y0, layout.y1, boxes))
        info = doc.info[0] if doc.info else {}
    if len(failed) == len(pages):
        raise Unreadable(DAMAGED.format(why=_why(failed[0])))
    return info, out, len(failed)


def _edges(bottom: float, top: float, boxes: list[_Box]) -> list[tuple[_Box, str, float]]:
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


def _drop_furniture(pages: list[_Page], body: float) -> None:
    """Remove running headers, footers and bare page numbers from ``pages``, in place."""

    def key(b: _Box) -> tuple[str, int]:  # what repeats: the text, digits aside, and size
        text = re.sub(r"\d+", "#", " ".join(b.lines).lower())
        return _SPACE.sub(" ", text).strip(), round(b.size)

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
    goes on with a capital ("non-Unix") or after a compound ("check-in-")."""
    out = ""
    for raw in lines:
        line = _SPACE.sub(" ", raw).strip()
        if not line:
            continue
        last = out.rsplit(" ", 1)[-1]
        if len(last) > 1 and last.endswith("-") and last[-2].isalpha():
            stem = re.search(r"[\w-]*$", last[:-1]).group().lower()  # type: ignore[union-attr]
            nxt = re.match(r"\w*", line).group().lower()  # type: ignore[union-attr]
            keep = not line[:1].islower() or "-" in stem or f"{stem}-{nxt}" in vocab
            out = (out if keep and f"{stem}{nxt}" not in vocab else out[:-1]) + line
        else:
            out = f"{out} {line}" if out else line
    return _LEADER.sub(" … ", out).strip()


def _code_text(box: _Box) -> str:
    """A code box's lines with their indentation, blank lines dropped."""
    width = box.char_width or 1.0
    lines = [" " * round(i / width) + line for line, i in zip(box.lines, box.indents, strict=True)]
    lines = [line.rstrip() for line in lines if line.strip()]
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    return "\n".join(line[indent:] for line in lines).strip()


def _is_heading(box: _Box, body: float) -> bool:
    text = " ".join(box.lines).strip()
    if (
        len(box.lines) > 2
        or box.words > HEADING_MAX_WORDS
        or sum(ch.isalpha() for ch in text) < 2  # not "1" or an option like "-c"
        or _LEADER.search(text)
    ):
        return False
    if box.size >= body * HEADING_SIZE:
        return True
    # bold at body size stands alone as a heading; a bold lead-in ("Note:") or item does not
    return (
        box.bold >= 0.9
        and box.mono < 0.5
        and box.size >= body * 0.95
        and not text.endswith((".", ",", ";", ":"))
        and not _BULLET.match(text)
    )


def _classify(boxes: list[_Box], body: float, vocab: frozenset[str]) -> None:
    """Set each box's kind, level and text."""
    for b in boxes:
        if _is_heading(b, body):
            b.kind, b.text = "heading", _join_lines(b.lines, vocab)
        elif b.mono >= 0.9 or (
            len(b.lines) >= 2 and b.mono >= 0.3 and b.mono_starts == len(b.lines)
        ):
            # code: all monospaced, or every line starts so (comments may be set in roman)
            b.kind, b.text = "code", _code_text(b)
        elif _BULLET.match(b.lines[0].strip()):  # one item a line, a new one at each bullet
            items = re.split(_ITEM, "\n".join(line.strip() for line in b.lines))
            b.text = "\n".join(_join_lines(item.split("\n"), vocab) for item in items)
        else:
            b.text = _join_lines(b.lines, vocab)
    sizes = sorted({round(b.size * 2) / 2 for b in boxes if b.kind == "heading"}, reverse=True)
    for b in boxes:
        if b.kind == "heading":
            b.level = min(6, sizes.index(round(b.size * 2) / 2) + 1)


def _page_items(boxes: list[_Box]) -> list[tuple[str, str, int]]:
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
        if b.kind == "text" and _BULLET.match(b.text):
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
    return _SPACE.sub(" ", value).strip() if isinstance(value, str) else ""


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
    info, pages, failed = _layout(data)
    sizes: Counter[float] = Counter()
    for _, _, page in pages:
        for b in page:
            sizes[b.size] += b.chars
    if not sizes:
        raise NoText(NO_TEXT)
    body = _weighted_median(sizes)
    _drop_furniture(pages, body)
    boxes = [b for _, _, page in pages for b in page]
    vocab = frozenset(w for b in boxes for line in b.lines for w in _WORD.findall(line.lower()))
    _classify(boxes, body, vocab)
    text, blocks = _assemble([_page_items(page) for _, _, page in pages])
    if not text:
        raise NoText(NO_TEXT)
    title, source = _title(info, blocks, text)
    meta: dict[str, object] = {"pages": len(pages), "title_source": source}
    meta |= {"author": _info(info, "Author"), "unreadable_pages": failed}
    return Extracted(text, blocks, title, {k: v for k, v in meta.items() if v})
