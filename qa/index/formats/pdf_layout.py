"""pdfminer's layout of a PDF as boxes of lines, with what ``pdf``'s heuristics need.

pdfminer.six groups characters into lines and lines into text boxes. Here each box keeps
its lines' text (fonts with their own encoding, TeX's accents and underscores drawn as rules
read right: ``pdf_fonts``), its place, its characters' sizes and fonts; a heading that
pdfminer set in one box with the paragraph under it comes apart (``is_heading``).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import re
import statistics
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from qa.core.progress import file_part_done
from qa.index.formats import Unreadable
from qa.index.formats.pdf_fonts import LIGATURES, accents, line_text, resources, underscore_rules

ENCRYPTED = "is encrypted; decrypt it first, e.g. qpdf --decrypt --password=PASSWORD in.pdf out.pdf"
DAMAGED = "is damaged or not a PDF ({why}); re-export or repair it, e.g. qpdf in.pdf fixed.pdf"

HEADING_MAX_WORDS = 15
HEADING_SIZE = 1.15  # a heading's size over the body's: clearly larger, not a rounding step
SPACE = re.compile(r"\s+")
LEADER = re.compile(r"(?:\s*\.){4,}\s*")  # table-of-contents dot leaders
# a figure's or table's caption ("Figure 2-1: ...", "Table 3. ..."): it labels, not heads
CAPTION = re.compile(r"^(?:Figure|Fig\.|Table|Listing)\s+[\dA-Z]+(?:[.\-–]\d+)*\s*[:.–—]\s")
BULLET = re.compile(r"^(?:[•◦▪▫●○■□‣⁃∙·*–-]|\(?(?:\d{1,2}|[a-z])[.)])\s+")
# glyphs without a Unicode mapping, and control characters from broken font encodings
JUNK = re.compile(r"\(cid:\d+\)|[\x00-\x08\x0e-\x1f\x7f]")
_MONO = re.compile(r"courier|mono|cmtt|sftt|txtt|typewriter|consol|menlo|code", re.I)
_BOLD = re.compile(r"bold|black|heavy|demi|-medi|cmbx|cmb\d", re.I)


@dataclass
class Box:
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
    mids: list[float] = field(default_factory=list)  # each line's vertical middle

    @property
    def words(self) -> int:
        return sum(len(line.split()) for line in self.lines)


_quiet_lock = threading.Lock()
_quiet_runs: list[int] = []  # the "pdfminer" logger's own level, once per run in progress


Page = tuple[float, float, list[Box]]  # a page's bottom, top and text boxes


@contextlib.contextmanager
def quiet() -> Iterator[None]:
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
    msg = SPACE.sub(" ", str(e)).strip()
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
        text = JUNK.sub("", accents(line_text(line, rules).translate(LIGATURES)))
        text = text.replace("\n", " ").rstrip()
        chars = [
            (c.size, *_font(c.fontname), c.get_text().isalpha(), c.width)
            for c in line
            if isinstance(c, LTChar) and not c.get_text().isspace()
        ]
        if text.strip() and chars:
            out.append(_Line(text, line.bbox, chars))
    return _rows(out)


def same_row(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether two vertical extents (bottom, top) share most of the lower one's height:
    pieces of one printed line, or boxes on one row."""
    return min(a[1], b[1]) - max(a[0], b[0]) >= 0.5 * min(a[1] - a[0], b[1] - b[0])


def _rows(lines: list[_Line]) -> list[_Line]:
    """Pieces of one printed line joined left to right, where the first piece stood.

    pdfminer cuts a line at a wide gap (a justified line, a table row) and orders a box's
    lines by their tops, so the piece with a taller glyph came first: "In this case, bzip2
    will" before "If no file names are specified ... output." on the same line.
    """
    rows: list[list[_Line]] = []
    for line in lines:
        # pdfminer orders lines by their tops: pieces of one line come close together
        height = line.bbox[1::2]
        row = next((r for r in rows[-3:] if any(same_row(height, o.bbox[1::2]) for o in r)), None)
        if row is None:
            rows.append([line])
        else:
            row.append(line)
    out = []
    for row in rows:
        if len(row) == 1:
            out.append(row[0])
            continue
        row.sort(key=lambda ln: ln.bbox[0])
        bbox = (
            row[0].bbox[0],
            min(ln.bbox[1] for ln in row),
            max(ln.bbox[2] for ln in row),
            max(ln.bbox[3] for ln in row),
        )
        chars = [c for ln in row for c in ln.chars]
        width = statistics.median(c[4] for c in chars) or 1.0
        text = row[0].text
        for left, right in itertools.pairwise(row):
            # as many spaces as fill the gap: a listing's columns stay where they were
            gap = round((right.bbox[0] - left.bbox[2]) / width)
            text = text.rstrip() + " " * max(1, gap) + right.text.strip()
        out.append(_Line(text, bbox, chars))
    return out


def _box(page: int, lines: list[_Line]) -> Box:
    """A `Box` of some lines of a pdfminer text box."""
    sizes: Counter[float] = Counter(round(c[0], 1) for line in lines for c in line.chars)
    chars = [c for line in lines for c in line.chars]
    letters = [c for c in chars if c[3]]
    x0, y0 = min(ln.bbox[0] for ln in lines), min(ln.bbox[1] for ln in lines)
    x1, y1 = max(ln.bbox[2] for ln in lines), max(ln.bbox[3] for ln in lines)
    return Box(
        page, [ln.text for ln in lines], [ln.bbox[0] - x0 for ln in lines], x0, y0, x1, y1,
        weighted_median(sizes), len(chars), sum(c[2] for c in letters) / max(len(letters), 1),
        sum(c[1] for c in chars) / len(chars), statistics.median(c[4] for c in chars),
        sum(ln.chars[0][1] for ln in lines),
        mids=[(ln.bbox[1] + ln.bbox[3]) / 2 for ln in lines],
    )  # fmt: skip


def _look(line: _Line) -> tuple[float, bool]:
    return max(c[0] for c in line.chars), all(c[2] for c in line.chars)


def _boxes(page: int, box: Any, rules: list[tuple[float, float, float]]) -> list[Box]:
    """The `Box`es of a pdfminer text box: a heading that pdfminer set in one box with
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
        if (larger or bolder) and short and is_heading(head, rest.size):
            return [head, rest]
    return [_box(page, lines)]


def weighted_median(counts: Counter[float]) -> float:
    total, seen = sum(counts.values()), 0
    for value in sorted(counts):
        seen += counts[value]
        if 2 * seen >= total:
            return value
    return 0.0


def layout(
    data: bytes, visit: Callable[[int, Any], None] | None = None
) -> tuple[dict[str, Any], list[Page], int]:
    """The document information (Title, Author, ...), every page's bottom, top and text
    boxes, and how many pages pdfminer could not read (they have no boxes). ``visit`` is
    given each page's number and pdfminer layout as it is read (for what else is on it)."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams
    from pdfminer.pdfinterp import PDFPageInterpreter

    with quiet():
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
            found = device.get_result()
            area = found.width * found.height
            under = underscore_rules(found)
            boxes = [b for t in _text_boxes(found, area) for b in _boxes(number, t, under)]
            out.append((found.y0, found.y1, boxes))
            if visit is not None:
                visit(number, found)
            file_part_done(number / len(pages))
        info = doc.info[0] if doc.info else {}
    if len(failed) == len(pages):
        raise Unreadable(DAMAGED.format(why=_why(failed[0])))
    return info, out, len(failed)


def is_heading(box: Box, body: float) -> bool:
    """Whether a box is a heading: short, and clearly larger than ``body`` or bold at it."""
    text = " ".join(box.lines).strip()
    if (
        len(box.lines) > 2
        or box.words > HEADING_MAX_WORDS
        or sum(ch.isalpha() for ch in text) < 2  # not "1" or an option like "-c"
        or LEADER.search(text)
        or CAPTION.match(text)
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
        and not BULLET.match(text)
    )
