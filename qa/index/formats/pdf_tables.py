"""Tables in a PDF page: pdfminer sets each column of a table in a text box of its own, so
a table came out column by column ("-1 -2 -3 … 1200k 2000k 2800k …") and no row could be
read. Boxes of short lines side by side whose lines share their heights are a table's
columns; they become one block, a row a line, its cells joined by "; " as in DOCX and
HTML tables. Where a typesetter sets every cell apart (FOP, DocBook's), pdfminer boxes
each cell alone: boxes of a few short lines stacked under one left edge are a column of
cells, a wrapped cell whole. A column of code (symbols, examples) counts beside one of
words. The columns' names, boxed apart just over them or set as a first row of
names (no number, no code, unlike the cells under them), go before every cell
(``Flag: -4; Compress usage: 3600k``), so a cell keeps what it is. A page with more boxes
that could be columns than any document has (``MAX_CANDIDATES``) is not searched.
"""

from __future__ import annotations

import bisect
import itertools
import re
import statistics
from collections import Counter
from collections.abc import Callable

from qa.index.formats.pdf_layout import Box

CELL_WORDS = 6  # a cell's line holds at most this many words; longer lines are prose
MIN_ROWS = 3  # columns share at least this many rows
MAX_CANDIDATES = 400  # boxes that could be columns, on one page
_DIGIT = re.compile(r"\d")
_CODE = re.compile(r"^[-–.]|[_/\\$<>=\[\]{}|@*#]")  # an option, a path, an expression
_NOT_A_NAME = re.compile(rf"{_DIGIT.pattern}|{_CODE.pattern}")
_LEADING_NUMBER = re.compile(r"^\s*(\d+)\b")
_ALIGN = 0.4  # lines whose middles lie within this share of the text size are one row
CELL_LINES = 3  # a cell boxed alone wraps over at most this many lines
_LEFT = 2.0  # points: the cells of one column start this close to one left edge
_ROW_GAP = 3.0  # text sizes: a column's cells stand at most this far apart


def _cells(b: Box) -> bool:
    """Whether a box may be a table's column: three lines or more, all short and most of
    them shorter still (a narrow column of prose runs five words a line and more), not a
    listing's line numbers."""
    words = sorted(len(line.split()) for line in b.lines)
    return (
        len(b.lines) >= MIN_ROWS
        and words[-1] <= CELL_WORDS
        and words[len(words) // 2] <= 4
        and not _numbered_lines(b.lines)
    )


def _a_cell(b: Box) -> bool:
    """Whether a box may be one cell set apart: a few lines, none of them prose's length,
    not a column of short lines itself."""
    return (
        b.kind in ("text", "code", "heading")
        and len(b.lines) <= CELL_LINES
        and all(len(line.split()) <= 2 * CELL_WORDS for line in b.lines)
        and not (len(b.lines) >= MIN_ROWS and _cells(b))
    )


def _between(boxes: list[Box], upper: Box, lower: Box) -> bool:
    """Whether a box stands between two cells of a column (a paragraph across the page)."""
    return any(
        lower.y1 <= (b.y0 + b.y1) / 2 <= upper.y0 and b.x0 < upper.x1 and upper.x0 < b.x1
        for b in boxes
    )


def _cell_columns(
    boxes: list[Box], columns: list[Box], join: Callable[[list[str]], str]
) -> dict[int, Stack]:
    """Columns of cells boxed one by one: three boxes or more of a cell each under one left
    edge, each close under the one above with nothing between; a heading (a bold name
    over the column) only on top. A stack's first and last boxes count only while they
    have a cell beside them on their row (not a section's heading, not a short paragraph
    under the table); a listing's line numbers are none. Each becomes a column box whose
    lines are its cells (a wrapped cell's lines joined), keyed by its id, with the boxes
    it stands for."""
    cells = sorted((b for b in boxes if _a_cell(b)), key=lambda b: b.x0)
    if len(cells) > 2 * MAX_CANDIDATES:
        return {}  # as for columns: a hostile page would take minutes
    edges: list[list[Box]] = []  # cells under one left edge
    for b in cells:
        if edges and b.x0 - edges[-1][-1].x0 <= _LEFT:
            edges[-1].append(b)
        else:
            edges.append([b])
    stacks: list[list[Box]] = []
    for edge in edges:
        last = None
        for b in sorted(edge, key=lambda b: -b.y1):
            if (
                last is None
                or b.kind == "heading"
                or last.y0 - b.y1 > _ROW_GAP * max(b.size, last.size)
                or _between(boxes, last, b)
            ):
                stacks.append([b])
            else:
                stacks[-1].append(b)
            last = b
    stacks = [s for s in stacks if len(s) >= MIN_ROWS]
    # every piece a row may pair with: a stacked cell, a column box's line
    pieces = sorted(
        [(b.mids[0], b.x0, b.x1, k) for k, s in enumerate(stacks) for b in s]
        + [
            (m, c.x0 + i, c.x1, -1 - k)
            for k, c in enumerate(columns)
            for i, m in zip(c.indents, c.mids, strict=True)
        ]
    )
    at = [p[0] for p in pieces]

    def beside(b: Box, k: int) -> bool:
        tol = _ALIGN * b.size
        lo, hi = bisect.bisect_left(at, b.mids[0] - tol), bisect.bisect_right(at, b.mids[0] + tol)
        return any(o != k and (x1 <= b.x0 + 1 or b.x1 <= x0 + 1) for _, x0, x1, o in pieces[lo:hi])

    out = {}
    for k, stack in enumerate(stacks):
        ends = [i for i, b in enumerate(stack) if beside(b, k)]
        kept = stack[ends[0] : ends[-1] + 1] if ends else []
        if len(kept) >= MIN_ROWS and not _numbered_lines([b.lines[0] for b in kept]):
            column, kept = _stack(kept, join)
            out[id(column)] = (column, kept)
    return out


Stack = tuple[Box, list[Box]]  # a column of cells boxed apart, and those boxes


def _stack(stack: list[Box], join: Callable[[list[str]], str]) -> Stack:
    """A column box of cells boxed apart, a line a cell."""
    chars, x0 = sum(b.chars for b in stack) or 1, min(b.x0 for b in stack)
    column = Box(
        stack[0].page, [join(b.lines) for b in stack], [b.x0 - x0 for b in stack],
        x0, min(b.y0 for b in stack),
        max(b.x1 for b in stack), max(b.y1 for b in stack),
        max(b.size for b in stack), chars,
        sum(b.bold * b.chars for b in stack) / chars,
        sum(b.mono * b.chars for b in stack) / chars,
        stack[0].char_width, sum(b.mono_starts for b in stack),
        mids=[b.mids[0] for b in stack],
    )  # fmt: skip
    return column, stack


def _explained(boxes: list[Box], columns: list[Box]) -> list[Box]:
    """Boxes of longer lines (explanations, up to twice a cell's words) that are a
    column beside a column of cells: every line of each on a row of the other, so that
    a narrow column of prose beside a short list (rows shared only while both run) is
    not one."""
    taken = {id(c) for c in columns}
    loose = [
        b
        for b in boxes
        if id(b) not in taken
        and b.kind != "table"
        and len(b.lines) >= MIN_ROWS
        and all(len(line.split()) <= 2 * CELL_WORDS for line in b.lines)
        and not _numbered_lines(b.lines)
    ]
    if len(loose) > MAX_CANDIDATES:
        return []  # as for columns: a hostile page would take minutes
    return [
        b
        for b in loose
        if any(
            c.y0 < b.y1
            and b.y0 < c.y1
            and (_left_of(c, b) or _left_of(b, c))
            and _shared_rows(b, c) >= 0.9 * max(len(b.lines), len(c.lines))
            for c in columns
        )
    ]


def _numbered_lines(lines: list[str]) -> bool:
    """Whether most lines start with the numbers 1, 2, 3 ... in turn: a listing's."""
    found = [m.group(1) for line in lines if (m := _LEADING_NUMBER.match(line))]
    steps = sum(int(b) == int(a) + 1 for a, b in itertools.pairwise(found))
    return steps >= 0.8 * (len(lines) - 1)


def _shared_rows(a: Box, b: Box) -> int:
    tol = _ALIGN * min(a.size, b.size)
    return sum(any(abs(m - n) <= tol for n in b.mids) for m in a.mids)


def _side_by_side(a: Box, b: Box) -> bool:
    """Two columns of one table: apart left to right, most of their lines on shared rows."""
    rows = _shared_rows(a, b)
    return (
        (_left_of(a, b) or _left_of(b, a))
        and rows >= MIN_ROWS
        and rows >= 0.6 * min(len(a.lines), len(b.lines))
    )


def _left_of(a: Box, b: Box) -> bool:
    """Whether a column ends before the lines of b on rows they share begin (b may hold a
    wider line of its own, the names of all columns set as one)."""
    tol = _ALIGN * min(a.size, b.size)
    shared = [
        b.x0 + i
        for i, m in zip(b.indents, b.mids, strict=True)
        if any(abs(m - n) <= tol for n in a.mids)
    ]
    return a.x1 <= min(shared, default=b.x0) + 1


def _groups(cand: list[Box]) -> list[list[Box]]:
    """The sets of two columns or more that line up with each other, one of them words
    (not two listings side by side)."""
    parent = list(range(len(cand)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # columns of one table overlap in height: compare each box only with those below its
    # top and above its bottom (boxes taken top first)
    order = sorted(range(len(cand)), key=lambda i: -cand[i].y1)
    for n, i in enumerate(order):
        for j in itertools.islice(order, n + 1, None):
            if cand[j].y1 < cand[i].y0:
                break
            if _side_by_side(cand[i], cand[j]):
                parent[root(i)] = root(j)
    groups: dict[int, list[Box]] = {}
    for i, b in enumerate(cand):
        groups.setdefault(root(i), []).append(b)
    return [g for g in groups.values() if len(g) >= 2 and any(b.mono < 0.9 for b in g)]


def table_text(columns: list[Box], above: dict[int, str] | None = None) -> str:
    """The table a row a line (top first), its cells left to right joined by "; ", each
    after its column's header (``Flag: -4; Memory: 3600k``): ``above``, the names boxed
    apart over the columns, else the first row when it is one."""
    cells = _table_rows(columns)
    one = {} if above else _names_in_one(cells, len(columns))
    return rows_text(cells[1:] if one else cells, len(columns), above or one)


def _table_rows(columns: list[Box]) -> list[dict[int, str]]:
    """The columns' lines as rows (``{column: text}``, top first): lines whose middles
    lie within ``_ALIGN`` text sizes of each other share a row."""
    tol = _ALIGN * max(c.size for c in columns)
    rows: list[tuple[float, dict[int, str]]] = []  # (middle, cells by column)
    for k, col in enumerate(columns):
        for mid, line in zip(col.mids, col.lines, strict=True):
            row = next((r for r in rows if abs(r[0] - mid) <= tol), None)
            if row is None:
                rows.append((mid, {}))
                row = rows[-1]
            row[1][k] = " ".join(line.split())
    rows.sort(key=lambda r: -r[0])
    return [r[1] for r in rows]


def _names_in_one(cells: list[dict[int, str]], columns: int) -> dict[int, str]:
    """The columns' names when pdfminer set them as one line over one column ("Symbol
    Example Explanation"): a first row of one cell, a name (a word) for each column."""
    if len(cells[0]) != 1 or len(cells) < MIN_ROWS:
        return {}
    return _one_line_names(next(iter(cells[0].values())), columns)


def _one_line_names(line: str, columns: int) -> dict[int, str]:
    """A line of column names set as one: a word a column, no number or code."""
    words = line.split()
    if len(words) != columns or _NOT_A_NAME.search(line):
        return {}
    return dict(enumerate(words))


def rows_text(
    cells: list[dict[int, str]], columns: int, above: dict[int, str] | None = None
) -> str:
    """A table's rows (``{column: text}``, top first) a line each, cells joined by "; ",
    each after its column's name: ``above``, else the first row when it names them."""
    names = above or (cells[0] if is_header(cells, columns) else {})
    lines = [] if not names else ["; ".join(names[k] for k in sorted(names))]
    for row in cells[1:] if names and not above else cells:
        parts = [f"{names[k]}: {row[k]}" if k in names else row[k] for k in sorted(row)]
        lines.append("; ".join(parts))
    return "\n".join(lines)


def _shape(cell: str) -> tuple[bool, bool, int, str]:
    """What a cell looks like: a number in it, code, how many words, its letters' case."""
    words = cell.split()
    case = "upper" if cell.isupper() else "title" if cell[:1].isupper() else "lower"
    return bool(_DIGIT.search(cell)), bool(_CODE.search(cell)), min(len(words), 3), case


def is_header(cells: list[dict[int, str]], columns: int) -> bool:
    """Whether the first row names the columns: a cell in each, none a number or code, and
    in more than half the columns unlike the cells under it ("Option" over "-c", "width"
    over "8 bits"; not "acadian" over "american")."""
    head = cells[0]
    if (
        len(cells) < 3
        or len(head) != columns
        or any(_NOT_A_NAME.search(c) or len(c.split()) > 3 or c[-1] in "-,;" for c in head.values())
    ):
        return False  # a name is a word or three, whole (not a cell wrapped onto the next line)
    unlike = 0
    for k, name in head.items():
        below = Counter(_shape(row[k]) for row in cells[1:] if k in row)
        unlike += bool(below) and below.most_common(1)[0][0] != _shape(name)
    return 2 * unlike > columns


def _names_above(columns: list[Box], boxes: list[Box]) -> tuple[dict[int, str], list[Box]]:
    """The columns' names when pdfminer boxed them apart: short boxes of words (no number,
    no code) just over the first row, each given to the column under its middle, every
    column named by one or two boxes and by its own name, read top to bottom; or one line
    just over them, alone on its height and reaching over more than one column, of as
    many words as columns. None when a box there spans columns (a title)."""
    top = max(m for c in columns for m in c.mids)
    pitch = min(
        (a - b for c in columns for a, b in itertools.pairwise(c.mids) if a > b),
        default=max(c.size for c in columns),
    )
    # each column's room: from halfway to the column on its left to halfway to its right
    mids = [(c.x0 + c.x1) / 2 for c in columns]
    bounds = [(a + b) / 2 for a, b in itertools.pairwise(mids)]
    edges = [2 * mids[0] - bounds[0], *bounds, 2 * mids[-1] - bounds[-1]]
    widths = [b - a for a, b in itertools.pairwise(edges)]
    near = [
        b
        for b in boxes
        if not any(b is c for c in columns)
        and len(b.lines) <= 2
        and b.kind != "heading"
        and top + 0.9 * pitch <= min(b.mids) <= top + 4 * pitch
        and not _NOT_A_NAME.search(" ".join(b.lines))
    ]
    found: dict[int, list[Box]] = {}
    for n, b in enumerate(sorted(near, key=lambda b: min(b.mids))):  # the nearest first
        k = bisect.bisect(bounds, (b.x0 + b.x1) / 2)  # the column under its middle
        wide = b.x1 - b.x0 > 1.5 * widths[k]
        one = _one_line_names(b.lines[0], len(columns)) if len(b.lines) == 1 else {}
        if (
            n == 0
            and one
            and all(w[:1].isupper() for w in one.values())  # names, not a title's phrase
            and (wide or b.x1 > edges[k + 1] or b.x0 < edges[k])
            and not any(o is not b and abs(o.mids[0] - b.mids[0]) <= _ALIGN * b.size for o in near)
            and not is_header(_table_rows(columns), len(columns))  # then it is a title
        ):
            return one, [b]  # a name a column, set as one line
        if wide:
            return {}, []  # a title or note across the columns: no header row
        found.setdefault(k, []).append(b)
    if len(found) != len(columns) or any(len(v) > 2 for v in found.values()):
        return {}, []
    names = {
        k: " ".join(" ".join(" ".join(b.lines) for b in sorted(v, key=lambda b: -b.y1)).split())
        for k, v in found.items()
    }
    if len(set(names.values())) < len(names):
        return {}, []  # one name over several columns: not a header read right
    return names, [b for v in found.values() for b in v]


def join_tables(boxes: list[Box], join: Callable[[list[str]], str] = " ".join) -> None:
    """Replace, in place, each table's column boxes on a page (and the names boxed apart
    over them) by one box of kind ``table`` where the first of them stood; ``join`` makes
    one text of a wrapped cell's lines."""
    columns = [b for b in boxes if b.kind != "table" and _cells(b)]
    if len(columns) > MAX_CANDIDATES:
        return  # no page of a document has so many; a hostile one would take minutes
    columns += _explained(boxes, columns)
    stacked = _cell_columns(boxes, columns, join)
    for group in _groups([*columns, *(c for c, _ in stacked.values())]):
        table = sorted(group, key=lambda b: statistics.median(b.x0 + i for i in b.indents))
        names, used = _names_above(table, boxes)
        parts = [p for c in table for p in (stacked[id(c)][1] if id(c) in stacked else [c])]
        members = {id(b) for b in [*parts, *used]}
        first = next(b for b in boxes if id(b) in members)
        first.kind, first.level, first.text = "table", 0, table_text(table, names)
        first.x0, first.x1 = min(c.x0 for c in table), max(c.x1 for c in table)
        boxes[:] = [b for b in boxes if b is first or id(b) not in members]
