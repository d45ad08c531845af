"""Tables drawn with rules in a PDF: pdfplumber finds their cells from the lines drawn
between them, so a cell that wraps onto several lines stays one cell and a row stays one
row. pdfminer boxed such a table's cells in whatever groups lay close (``Attribute``,
``alignment``, ``Synonyms`` as three paragraphs, then a box of eight names), so neither
its rows nor the column a value stood in could be read.

pdfplumber reads the page pdfminer has already laid out (no second pass over the file),
and only pages that draw lines or rectangles, not more than any table needs
(``MAX_RULES``, ``MAX_CROSSINGS``: a drawing or a dense grid is not searched). A table
found replaces the text boxes inside it with one block of kind ``table``, a row a line,
cells joined by "; " after their column's name when the first row names the columns
(``pdf_tables``); a table going on from the page before without its names repeated takes
that table's names. A grid whose cells are mostly empty or single letters (a chart, a
drawing's frame) is no table.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

from qa.index.formats.pdf_fonts import LIGATURES, accents
from qa.index.formats.pdf_layout import JUNK, Box, Page
from qa.index.formats.pdf_tables import is_header, rows_text

logger = logging.getLogger(__name__)

MIN_RULES = 3  # lines or rectangles a page draws before it is searched for tables
MAX_RULES = 3000  # more than any page of tables draws: a drawing, not searched
# where rules across meet rules down: a 100 x 50 grid; pdfplumber's cell search grows with
# their number faster than linearly (a 150 x 150 grid took 11 s a page)
MAX_CROSSINGS = 5000
MIN_FILLED = 0.5  # the share of a table's cells that hold text
MAX_CELLS = 2000  # more cells than any table has: a drawing's grid, not read
MAX_MISSED = 0.02  # the share of a table's characters outside its cells it may leave out
MAX_CELL_LINES = 4  # two cells of a row over this many lines: its rows were not ruled apart

Rows = list[list[str | None]]
Bounds = tuple[float, float, float, float]  # x0, y0, x1, y1 in pdfminer's coordinates


def _objects(item: Any) -> tuple[list[Any], list[Any]]:
    """The lines and rectangles a pdfminer layout draws, and its text lines (in figures
    and text boxes too)."""
    from pdfminer.layout import LTContainer, LTLine, LTRect, LTTextLine

    rules: list[Any] = []
    lines: list[Any] = []
    for child in item:
        if isinstance(child, (LTLine, LTRect)):
            rules.append(child)
        elif isinstance(child, LTTextLine):
            lines.append(child)
        elif isinstance(child, LTContainer):
            more = _objects(child)
            rules += more[0]
            lines += more[1]
    return rules, lines


def _crossings(rules: list[Any]) -> int:
    """Where rules across meet rules down (a rectangle's sides count), within the snap
    pdfplumber allows."""
    import numpy as np

    across: list[tuple[float, float, float]] = []  # (y, x0, x1)
    down: list[tuple[float, float, float]] = []  # (x, y0, y1)
    for r in rules:
        box = r.height > 1 and r.width > 1  # a rectangle: two sides each way
        if r.height <= 1 or box:
            across += [(r.y0, r.x0, r.x1), (r.y1, r.x0, r.x1)] if box else [(r.y0, r.x0, r.x1)]
        if r.width <= 1 or box:
            down += [(r.x0, r.y0, r.y1), (r.x1, r.y0, r.y1)] if box else [(r.x0, r.y0, r.y1)]
    if not across or not down:
        return 0
    if len(across) * len(down) > 100 * MAX_CROSSINGS:
        return len(across) * len(down)  # not counted: the count alone would take 100 MB
    h, v = np.array(across)[:, None, :], np.array(down)[None, :, :]
    tol = 3.0
    meet = (
        (v[..., 0] >= h[..., 1] - tol)
        & (v[..., 0] <= h[..., 2] + tol)
        & (h[..., 0] >= v[..., 1] - tol)
        & (h[..., 0] <= v[..., 2] + tol)
    )
    return int(meet.sum())


def _page_of(page: Any, items: list[Any]) -> Any:
    """A pdfminer page holding only ``items``."""
    from pdfminer.layout import LTPage

    out = LTPage(page.pageid, page.bbox, page.rotate)
    for item in items:
        out.add(item)
    return out


def _fill(grid: list[list[Bounds | None]], lines: list[Any], bounds: Bounds) -> Rows:
    """The text of each cell of a table (``None`` where a cell spans into the next): the
    characters of ``lines`` (top first) whose middle lies in it, with pdfminer's spaces
    and line breaks between them; a line that runs on past the table's edge keeps its
    cell ("'noToggleToOff required ra" lost its end). No rows when text within the
    table's ``bounds`` lies in no cell."""
    from pdfminer.layout import LTChar

    # each row's height and its cells: a character is looked for in the rows at its height
    bands = [
        (min(b[1] for _, b in cells), max(b[3] for _, b in cells), r, cells)
        for r, row in enumerate(grid)
        if (cells := [(k, b) for k, b in enumerate(row) if b])
    ]
    if sum(len(cells) for *_, cells in bands) > MAX_CELLS:
        return []
    x0, y0, x1, y1 = bounds
    texts: dict[tuple[int, int], list[str]] = {}
    missed = placed = 0
    for line in lines:
        if line.x1 < x0 or line.x0 > x1 or line.y1 < y0 or line.y0 > y1:
            continue
        cell = None
        for item in line:
            if isinstance(item, LTChar):
                found = _cell_of(bands, item)
                inside = _holds(bounds, item)
                # a line running on past the table's edge stays in the cell it began in
                cell = found if found is not None or inside else cell
                missed += cell is None and inside
                placed += cell is not None
            if cell is not None:
                texts.setdefault(cell, []).append(item.get_text())
    if missed > MAX_MISSED * (missed + placed):
        return []  # text inside the frame outside every cell: the cells were not all found
    return [
        [None if b is None else "".join(texts.get((r, k), [])).strip() for k, b in enumerate(row)]
        for r, row in enumerate(grid)
    ]


def _cell_of(
    bands: list[tuple[float, float, int, list[tuple[int, Bounds]]]], char: Any
) -> tuple[int, int] | None:
    """The (row, column) of the cell holding a character's middle, if one does."""
    y = (char.y0 + char.y1) / 2
    for lo, hi, r, cells in bands:
        if lo - 1 <= y <= hi + 1:
            for k, b in cells:
                if _holds(b, char):
                    return r, k
    return None


def _holds(bounds: Bounds, char: Any) -> bool:
    """Whether a character's middle lies within ``bounds``."""
    x0, y0, x1, y1 = bounds
    x, y = (char.x0 + char.x1) / 2, (char.y0 + char.y1) / 2
    return x0 - 1 <= x <= x1 + 1 and y0 - 1 <= y <= y1 + 1


class RuledTables:
    """Collects the ruled tables of each page as ``pdf_layout.layout`` reads it (pass the
    object as its ``visit``), then ``place`` puts them among the page's boxes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.found: dict[int, list[tuple[Bounds, Rows]]] = {}
        self._pdf: Any = None

    def __enter__(self) -> RuledTables:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pdf is not None:
            self._pdf.close()

    def __call__(self, number: int, laid_out: Any) -> None:
        rules, lines = _objects(laid_out)
        if not MIN_RULES <= len(rules) <= MAX_RULES or _crossings(rules) > MAX_CROSSINGS:
            return
        try:
            if self._pdf is None:
                import pdfplumber

                self._pdf = pdfplumber.open(io.BytesIO(self.data))
            page = self._pdf.pages[number - 1]
            # pdfplumber finds the cells from the rules pdfminer read (no second pass over
            # the file); their text comes from pdfminer's lines, its word spacing kept
            page._layout = _page_of(laid_out, rules)
            top = page.height + page.mediabox[1]  # pdfplumber measures down from the top

            def flip(b: tuple[float, float, float, float]) -> Bounds:
                return (b[0], top - b[3], b[2], top - b[1])

            grids = [
                (flip(t.bbox), [[c and flip(c) for c in row.cells] for row in t.rows])
                for t in page.find_tables()
            ]
        except Exception as e:  # a page pdfplumber cannot read keeps pdfminer's boxes
            logger.debug("page %d: no ruled tables read (%s)", number, e)
            return
        lines.sort(key=lambda line: (-line.y1, line.x0))
        self.found[number] = [(bounds, _fill(grid, lines, bounds)) for bounds, grid in grids]

    def place(self, pages: list[Page], join: Callable[[list[str]], str]) -> None:
        """Replace, in place, each table's text boxes by one table box. ``join``: how a
        cell's lines become its text (the document's hyphenation rules)."""
        names: tuple[int, dict[int, str]] = (0, {})  # the last table's column names, its page
        for number, tables in sorted(self.found.items()):
            boxes = pages[number - 1][2]
            for n, (bounds, rows) in enumerate(tables):
                cells = _cells(rows, join)
                if not _is_table(rows, cells):
                    continue
                titles = []
                while len(cells) > 2 and len(cells[0]) == 1:  # a title across the table
                    titles.append(cells.pop(0).popitem()[1])
                columns = {k for row in cells for k in row}
                above = None
                named = is_header(cells, len(columns))
                if named:
                    names = (number, cells[0])
                elif n == 0 and names[0] == number - 1 and set(names[1]) == columns:
                    above = names[1]  # going on from the page before, its names not repeated
                text = "\n".join([*titles, rows_text(cells, len(columns), above)])
                _place(boxes, number, bounds, text, join, named or above is not None)


def _clean(text: str) -> str:
    """A cell's text as pdfminer's lines are read: ligatures, accents, no junk."""
    return JUNK.sub("", accents(text.translate(LIGATURES)))


def _cells(rows: Rows, join: Callable[[list[str]], str]) -> list[dict[int, str]]:
    """The table's rows as {column: text}, empty cells left out, empty rows dropped."""
    out = []
    for row in rows:
        cells = {k: join(_clean(c).split("\n")) for k, c in enumerate(row) if c}
        cells = {k: c for k, c in cells.items() if c}
        if cells:
            out.append(cells)
    return out


def _is_table(rows: Rows, cells: list[dict[int, str]]) -> bool:
    """Two rows and two columns or more, most cells holding text, and more than a letter
    each (a drawing's letters set one by one are no table); rows ruled apart: no row with
    two cells of many lines each (a column's every line in one cell: rules between the
    columns only)."""
    slots = sum(1 for row in rows for c in row if c is not None)  # spanned cells are None
    columns = {k for row in cells for k in row}
    texts = [c for row in cells for c in row.values()]
    return (
        len(cells) >= 2
        and len(columns) >= 2
        and len(texts) >= MIN_FILLED * max(1, slots)
        and sum(map(len, texts)) >= 2 * len(texts)
        and not any(sum(c.count("\n") + 1 > MAX_CELL_LINES for c in row if c) >= 2 for row in rows)
    )


def _within(b: Box, bounds: Bounds) -> list[bool]:
    """Which of a box's lines lie within a table's bounds."""
    x0, y0, x1, y1 = bounds
    if b.x1 <= x0 + 1 or b.x0 >= x1 - 1:
        return [False] * len(b.mids)
    return [y0 - 1 <= m <= y1 + 1 for m in b.mids]


def _place(
    boxes: list[Box],
    number: int,
    bounds: Bounds,
    text: str,
    join: Callable[[list[str]], str],
    named: bool,
) -> None:
    """Put a table's block where the first of the boxes inside it stood, and take the
    table's lines out of the boxes (a paragraph pdfminer boxed with the table's last row
    keeps its own lines); with no box inside (its text was a figure's), the block goes
    where it lies among the others. A frame around code alone is left as it is, unless
    its columns are ``named`` (a table of names set in a monospaced font)."""
    within = {id(b): _within(b, bounds) for b in boxes}
    inside = [b for b in boxes if any(within[id(b)])]
    whole = [b for b in inside if all(within[id(b)])]
    if not named and whole and all(b.kind == "code" for b in whole):
        return  # a listing in a frame: its lines read as code already
    x0, y0, x1, y1 = bounds
    size = sorted(b.size for b in inside)[len(inside) // 2] if inside else 0.0
    lines = text.split("\n")
    table = Box(number, lines, [0.0] * len(lines), x0, y0, x1, y1, size, len(text),
                0.0, 0.0, 0.0, 0, kind="table", text=text, mids=[y1])  # fmt: skip
    if inside:
        at = boxes.index(inside[0])
    else:
        at = next((i for i, b in enumerate(boxes) if b.y1 < y1), len(boxes))
    gone = set()
    for b in inside:
        keep = [not w for w in within[id(b)]]
        if not any(keep):
            gone.add(id(b))
        elif b.kind == "text" and not all(keep):
            b.lines = [line for line, k in zip(b.lines, keep, strict=True) if k]
            b.indents = [i for i, k in zip(b.indents, keep, strict=True) if k]
            b.mids = [m for m, k in zip(b.mids, keep, strict=True) if k]
            b.text = join(b.lines)
    boxes[at:at] = [table]
    boxes[:] = [b for b in boxes if id(b) not in gone]
