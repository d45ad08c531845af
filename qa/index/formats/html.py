"""HTML pages: lxml, one linear walk that drops boilerplate and builds the blocks.

The text is the page's blocks separated by one blank line: a heading (h1-h6, with its
level), a paragraph or other run of text (whitespace collapsed; one ``<br>`` breaks the
line, two end the paragraph), a list (each ``ul``/``ol`` is one block, one item a line,
nested lists flattened into it), a table (one row a line, each cell with its column
header: ``Header1: cell1; Header2: cell2``) and preformatted code (its lines kept). What
is boilerplate is decided in `qa.index.formats.boilerplate`.
"""

from __future__ import annotations

import re
from typing import Any

from qa.core.errors import BadInput
from qa.core.types import Block
from qa.index.formats import BlockText, Extracted
from qa.index.formats.boilerplate import grid_width
from qa.index.formats.text import decode


def _names(names: str) -> frozenset[str]:
    return frozenset(names.split())


# Elements that end the run of text before them and start a new one.
_BLOCK_TAGS = _names(
    "address article aside blockquote body caption center dd details div dl dt fieldset"
    " figcaption figure h1 h2 h3 h4 h5 h6 header hgroup hr html li main ol p pre section"
    " summary table tbody td tfoot th thead tr ul"
)
_HEADINGS = _names("h1 h2 h3 h4 h5 h6")
_LISTS = frozenset(["ul", "ol"])
_ITEM_BREAKS = _names("li ul ol dl dt dd tr")  # a new line inside a list block
_SNIFF = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:+-]+)"""
    rb"""|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:+-]+)""",
    re.I,
)
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*>")


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in its first 4 KB (``<meta charset>``, ``http-equiv``
    content type or XML declaration), or None."""
    m = _SNIFF.search(data[:4096])
    return (m.group(1) or m.group(2)).decode("ascii") if m else None


_BR = "\ue000"  # a <br> in running text until whitespace is collapsed: then a line break


def _collapse(pieces: list[str]) -> str:
    lines = (" ".join(line.split()) for line in "".join(pieces).split(_BR))
    return "\n".join(line for line in lines if line)


class _Table:
    """Rows of cells collected while walking a table; `lines` gives one line a row."""

    def __init__(self) -> None:
        self.grid: Any = None  # a grid of <div>s (javadoc's summary tables), or None
        self.width = 0  # the grid's columns (0: not known yet)
        self.rows: list[list[tuple[list[str], bool, int]]] = []
        self.head: list[bool] = []  # whether each row is in <thead>
        self.in_head = False
        self.caption: list[str] = []
        self.sink: list[str] = []  # where the text goes now (a cell, the caption or nowhere)

    def cell(self, th: bool, span: int) -> None:
        if not self.rows:
            self.rows.append([])
            self.head.append(self.in_head)
        self.sink = []
        self.rows[-1].append((self.sink, th, span))

    def grid_cell(self, el: Any) -> None:
        """A cell of a grid: a new row after the header cells, or when a row is full."""
        th = "table-header" in el.get("class", "")
        row = self.rows[-1] if self.rows else []
        header_done = bool(row) and row[-1][1] and not th
        if header_done:
            self.width = len(row)  # the header row says how many columns there are
        if not self.rows or header_done or (self.width > 0 and len(row) >= self.width):
            self.rows.append([])
            self.head.append(False)
        self.cell(th, 1)

    def start(self, tag: str, el: Any) -> None:
        if self.grid is not None and tag == "div" and el.getparent() is self.grid:
            self.grid_cell(el)
        elif tag == "tr":
            self.rows.append([])
            self.head.append(self.in_head)
        elif tag in ("td", "th"):
            try:
                span = min(max(int(el.get("colspan", "1")), 1), 100)
            except ValueError:
                span = 1
            self.cell(tag == "th", span)
        elif tag == "thead":
            self.in_head = True
        elif tag == "caption":
            self.sink = self.caption
        elif tag in _BLOCK_TAGS or tag == "br":
            self.sink.append(" ")

    def end(self, tag: str, el: Any) -> None:
        if tag in ("td", "th", "caption") or (tag == "div" and el.getparent() is self.grid):
            self.sink = []
        elif tag == "thead":
            self.in_head = False
        elif tag in _BLOCK_TAGS:
            self.sink.append(" ")

    def lines(self) -> list[str]:
        rows = [[(_collapse(c), th, span) for c, th, span in row] for row in self.rows]
        keep = [i for i, row in enumerate(rows) if any(t for t, _, _ in row)]
        heads = [rows[i] for i in keep if self.head[i]]
        data = [rows[i] for i in keep if not self.head[i]]
        if not heads and len(data) > 1 and all(th for _, th, _ in data[0]):
            heads, data = [data[0]], data[1:]  # a first row of <th> cells is the header
        lines = [_collapse(self.caption)]
        lines += ["; ".join(t for t, _, _ in row if t) for row in heads[:-1]]
        names = [t for t, _, span in heads[-1] for _ in range(span)] if heads else []
        lines += [_row_line(row, names) for row in _rejoin_fields(data)]
        if heads and not data:
            lines.append("; ".join(n for n in names if n))
        return [line for line in lines if line]


Cell = tuple[str, bool, int]  # text, whether a <th>, columns spanned


def _row_line(row: list[Cell], names: list[str]) -> str:
    """A row as ``Header: cell; Header: cell`` (cells without a header: as they are); a
    name's own colon ("Author:", a field list's) is not doubled."""
    parts, col = [], 0
    for text, _, span in row:
        name = names[col].removesuffix(":") if col < len(names) else ""
        col += span
        if text:
            parts.append(f"{name}: {text}" if name and name != text else text)
    if not names and row[0][1] and row[0][0] and len(parts) > 1:
        return f"{parts[0].removesuffix(':')}: {'; '.join(parts[1:])}"  # headed by its <th>
    return "; ".join(parts)


def _rejoin_fields(rows: list[list[Cell]]) -> list[list[Cell]]:
    """Rows with a field's name that fills its row alone (a long name, "en-uk-x-altquot:")
    joined with the next row, whose first cell is left empty under it."""
    out: list[list[Cell]] = []
    for row in rows:
        last = out[-1] if out else []
        if len(last) == 1 and last[0][1] and len(row) > 1 and not row[0][0]:
            out[-1] = [(last[0][0], True, 1), *row[1:]]
        else:
            out.append(row)
    return out


class _Walk(BlockText):
    """The state of the walk: the text and blocks so far, and the block being built."""

    def __init__(self, layout: set[Any], in_content: bool) -> None:
        super().__init__()
        self.layout = layout
        self.content = int(in_content)  # depth inside main/article
        self.ctx: str | None = None  # None (running text), heading, list, table or code
        self.ctx_el: Any = None
        self.level = 0
        self.buf: list[str] = []
        self.sink = self.buf  # where text goes now
        self.items: list[list[str]] = []
        self.table = _Table()
        self.brs = 0  # <br>s in a row: two end a paragraph

    def flush(self) -> None:
        if self.buf:
            self.emit(_collapse(self.buf), "text")
            self.buf.clear()
        self.brs = 0

    def add(self, text: str | None) -> None:
        if text:
            (self.table.sink if self.ctx == "table" else self.sink).append(text)
            if self.brs and not text.isspace():
                self.brs = 0

    def boundary(self) -> None:
        """Where a dropped block was: the text on either side does not run together."""
        if self.ctx is None:
            self.flush()
        else:
            (self.table.sink if self.ctx == "table" else self.sink).append(" ")

    def open(self, ctx: str, el: Any, level: int = 0) -> None:
        self.flush()
        self.ctx, self.ctx_el, self.level = ctx, el, level
        if ctx == "list":
            self.items = [[]]
            self.sink = self.items[-1]
        elif ctx == "table":
            self.table = _Table()

    def close(self) -> None:
        ctx, self.ctx, self.ctx_el = self.ctx, None, None
        if ctx == "heading":
            self.emit(_collapse(self.buf), "heading", self.level)
        elif ctx == "list":
            self.emit("\n".join(t for t in map(_collapse, self.items) if t), "list")
        elif ctx == "table":
            self.emit("\n".join(self.table.lines()), "table")
            self.table = _Table()
        elif ctx == "code":
            lines = "".join(self.buf).splitlines()
            self.emit("\n".join(line.rstrip() for line in lines), "code")
        self.buf.clear()
        self.sink = self.buf
        self.brs = 0

    def start(self, el: Any, tag: str) -> None:
        if tag in ("main", "article") or el.get("role") == "main":
            self.content += 1
        ctx = self.ctx
        if ctx is None:
            if tag == "br":
                self.brs += 1
                if self.brs >= 2:
                    self.flush()
                else:  # one <br> breaks the line: commands, addresses, verse
                    self.buf.append(_BR)
            elif tag in _HEADINGS:
                self.open("heading", el, int(tag[1]))
            elif tag in _LISTS and el not in self.layout:
                self.open("list", el)
            elif tag == "table" and el not in self.layout:
                self.open("table", el)
            elif tag == "div" and (width := grid_width(el)):
                self.open("table", el)
                self.table.grid, self.table.width = el, max(width, 0)
            elif tag == "pre":
                self.open("code", el)
            elif tag in _BLOCK_TAGS:
                self.flush()
        elif ctx == "table":
            self.table.start(tag, el)
        elif ctx == "list" and tag in _ITEM_BREAKS:
            self.items.append([])
            self.sink = self.items[-1]
        elif tag == "br" or tag in _BLOCK_TAGS:
            self.sink.append("\n" if ctx == "code" else " ")
        self.add(el.text)

    def end(self, el: Any, tag: str) -> None:
        if el is self.ctx_el:
            self.close()
        elif self.ctx is None:
            if tag in _BLOCK_TAGS:
                self.flush()
        elif self.ctx == "table":
            self.table.end(tag, el)
        elif self.ctx == "list" and tag in _ITEM_BREAKS:
            self.items.append([])
            self.sink = self.items[-1]
        elif tag in _BLOCK_TAGS and self.ctx != "code":
            self.sink.append(" ")
        if tag in ("main", "article") or el.get("role") == "main":
            self.content -= 1


def _walk(scope: Any, in_content: bool) -> _Walk:
    """One pass over ``scope``: boilerplate skipped, text and blocks built."""
    from lxml import etree

    from qa.index.formats.boilerplate import contents_lists, is_boilerplate, layout

    w = _Walk(layout(scope), in_content)
    contents = contents_lists(scope)
    walker = etree.iterwalk(scope, events=("start", "end"))
    skipped = None  # the element whose subtree is being skipped (its end event comes next)
    for event, el in walker:
        tag = el.tag if isinstance(el.tag, str) else ""  # comments and PIs: tail only
        if event == "start":
            if el is not scope and (
                not tag or el in contents or is_boilerplate(el, tag, w.content > 0)
            ):
                walker.skip_subtree()
                skipped = el
            else:
                w.start(el, tag)
            continue
        if el is skipped:
            skipped = None
            if tag in _BLOCK_TAGS or tag in ("nav", "footer", "form", "menu", "dialog"):
                w.boundary()
        else:
            w.end(el, tag)
        if el is not scope:
            w.add(el.tail)
    if w.ctx is not None:
        w.close()
    w.flush()
    return w


def _parse(html: str) -> Any:
    from lxml import etree

    parser = etree.HTMLParser(huge_tree=True, remove_comments=True, remove_pis=True)
    root = etree.fromstring(_XML_DECLARATION.sub("", html, count=1), parser)
    if any(e.level_name == "FATAL" for e in parser.error_log):
        why = next(e.message for e in parser.error_log if e.level_name == "FATAL")
        raise BadInput(f"the HTML cannot be parsed ({why}); send it as text or fix the page")
    return root


# A term (an option, a field's name, a word defined) and its description are one block, the
# term on a line of its own opening the description's first paragraph: a passage never ends
# between a name and what it does.
_TERM = re.compile(r"<dt\b[^>]*>(.*?)</dt>\s*<dd\b[^>]*>\s*(<p\b[^>]*>)?", re.S)


def join_terms(page: str) -> str:
    """``page`` with each definition list's term moved into its description."""
    return _TERM.sub(lambda m: f"<dd>{m.group(2) or ''}{m.group(1)}<br/>", page)


def extract_html(html: str) -> tuple[str, tuple[Block, ...], str]:
    """The text, blocks and title of an HTML page (see the module docstring).

    One pass over lxml's tree, so the time grows linearly with the page.
    """
    from qa.index.formats.boilerplate import content_root

    root = _parse(html) if html.strip() else None
    if root is None:
        return "", (), ""
    scope = content_root(root)
    w = _walk(scope, scope is not root)
    text = "".join(w.parts)
    found = next((t for t in root.iter("title") if t.getparent().tag in ("head", "html")), None)
    title = " ".join("".join(found.itertext()).split()) if found is not None else ""
    if not title:
        first = next((b for b in w.blocks if b.kind == "heading" and b.level == 1), None)
        title = text[first.start : first.end] if first else ""
    return text, tuple(w.blocks), title


def html_to_text(html: str) -> tuple[str, str]:
    """Plain text and title of an HTML page; blocks are separated by one blank line."""
    text, _, title = extract_html(html)
    return text, title


def read_html(data: bytes) -> Extracted:
    """An HTML file: decoded as its charset declares (after a BOM and UTF-8), then read."""
    html, encoding = decode(data, declared_charset(data))
    text, blocks, title = extract_html(html)
    return Extracted(text, blocks, title, {"encoding": encoding})
