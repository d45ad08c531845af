"""DOCX files: python-docx opens the package; the body is read in order from its XML.

Blocks, separated by one blank line:

- a paragraph styled Title is a level-1 heading, one styled "Heading N" (or given outline
  level N-1, directly or through its style, as localized heading styles are) a level-N
  heading, at most 6; the title is not a level of its own, so "Heading 1" is level 1 too;
- consecutive list paragraphs (a style named "List ..." or numbering, ``w:numPr``) form
  one list block, one item a line, nested items indented two spaces a level;
- a table is one block: its first row is the header and every other row one line whose
  cells carry their header (``Header1: cell1; Header2: cell2``, empty cells left out);
  without a header (one row, an empty first row, or a table whose look says its first row
  is not one, ``w:tblLook w:firstRow="0"`` with no ``w:tblHeader`` row, unless that row
  reads as column names by the PDF tables' rule) a row's cells are joined by "; ".
  A merged cell counts once in its row; a nested table's text is flattened into its cell;
- consecutive paragraphs in a code style ("Source Code", "HTML Preformatted", "Plain
  Text", ...) form one code block, their line breaks and indentation kept;
- every other non-empty paragraph is a text block.

Content controls (``w:sdt``) and tracked insertions are read, deletions are not. Headers,
footers, footnotes, comments and text boxes are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from typing import Any

from qa.core.types import Block
from qa.index.formats import Extracted, Unreadable, Unsupported
from qa.index.formats.pdf_tables import is_header

DAMAGED = "is damaged or not a DOCX file ({why}); open and save it again in a word processor"
ENCRYPTED = "is encrypted with a password; remove the password in a word processor and save it"
OLD_DOC = "is an old Word .doc file, not DOCX; save it as .docx in a word processor"
_OLE = bytes.fromhex("d0cf11e0a1b11ae1")  # the OLE2 container that encrypted OOXML uses
_SPACE = re.compile(r"\s+")
_HEADING = re.compile(r"heading\s*(\d)$", re.I)
_CODE = re.compile(r"code|verbatim|preformatted|macro text|plain text", re.I)
_RUN_MARKS = {"tab": "\t", "br": "\n", "cr": "\n", "noBreakHyphen": "-"}
# The text of a run: text, tabs and breaks, in order; deleted text and text boxes left out.
_RUN_TEXT = "./*[self::w:t or self::w:tab or self::w:br or self::w:cr or self::w:noBreakHyphen]"
# Elements whose content is read as if it stood in their place.
_WRAPPERS = frozenset(
    [
        "hyperlink",
        "ins",
        "moveTo",
        "smartTag",
        "sdt",
        "sdtContent",
        "customXml",
        "fldSimple",
        "dir",
        "bdo",
    ]
)


def _tag(el: Any) -> str:
    """An element's local name ("p" for ``{ns}p``)."""
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _para_text(p: Any, lines: bool = False) -> str:
    """A paragraph's visible text, whitespace collapsed; with ``lines``, its line breaks
    and indentation kept (for code), blank lines left out."""
    parts: list[str] = []

    def walk(el: Any) -> None:
        for child in el:
            name = _tag(child)
            if name == "r":
                for item in child.xpath(_RUN_TEXT):
                    kind = _tag(item)
                    parts.append(item.text or "" if kind == "t" else _RUN_MARKS[kind])
            elif name in _WRAPPERS:
                walk(child)

    walk(p)
    if lines:
        return "\n".join(ln.rstrip() for ln in "".join(parts).splitlines() if ln.strip())
    return _SPACE.sub(" ", "".join(parts)).strip()


def _open(data: bytes) -> Any:
    """The python-docx document; `Unreadable` for damaged or encrypted files."""
    import docx

    if data.startswith(_OLE):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise Unreadable(ENCRYPTED)
        if "WordDocument".encode("utf-16-le") in data:
            raise Unsupported(OLD_DOC)
        raise Unreadable(DAMAGED.format(why="an OLE container, not a zip package"))
    if not data.startswith(b"PK"):
        raise Unreadable(DAMAGED.format(why="not a zip package"))
    try:
        return docx.Document(BytesIO(data))
    except Exception as e:  # zip, XML and package errors all mean "damaged"
        raise Unreadable(DAMAGED.format(why=_why(e))) from None


def _why(e: Exception) -> str:
    """A short one-line reason from python-docx's (or zipfile's, or lxml's) exception."""
    msg = _SPACE.sub(" ", str(e)).strip().strip("\"'")
    if m := re.match(r"There is no item named (\S+)", msg):
        return f"{m.group(1).strip(chr(39))} is missing"
    if "content type is" in msg:  # a spreadsheet or presentation renamed .docx, say
        kind = re.search(r"(spreadsheet|presentation)ml", msg)
        return f"a {kind.group(1)}, not a Word document" if kind else "not a Word document"
    return msg.replace("'", "") if 0 < len(msg) <= 80 else type(e).__name__


class _Styles:
    """Heading levels and list-ness of paragraph styles, following ``basedOn`` chains."""

    def __init__(self, doc: Any) -> None:
        self._styles: dict[str, Any] = {}
        for el in doc.styles.element.xpath("./w:style[@w:type='paragraph']"):
            self._styles[el.get(_qn("w:styleId"))] = el
        self._cache: dict[str, tuple[int, str, int]] = {}

    def _chain(self, style_id: str) -> Iterator[Any]:
        seen: set[str] = set()
        while style_id and style_id in self._styles and style_id not in seen:
            seen.add(style_id)
            el = self._styles[style_id]
            yield el
            based = el.xpath("./w:basedOn/@w:val")
            style_id = based[0] if based else ""

    def of(self, style_id: str) -> tuple[int, str, int]:
        """(heading level, 0 for none; "list", "code" or "text" for what else the style
        makes of a paragraph; the list depth it sets)."""
        if style_id not in self._cache:
            level, kind, depth = 0, "text", ""
            for el in self._chain(style_id):
                name = "".join(el.xpath("./w:name/@w:val")).strip()
                if kind == "text" and (name.lower().startswith("list") or _has_num(el)):
                    kind = "list"
                kind = "code" if kind == "text" and _CODE.search(name) else kind
                level = level or _level(name, el)
                depth = depth or "".join(el.xpath("./w:pPr/w:numPr/w:ilvl/@w:val"))
                if not depth and (m := re.match(r"list\b.*?(\d)$", name, re.I)):
                    depth = str(int(m.group(1)) - 1)  # "List Bullet 2" is one level in
            self._cache[style_id] = (level, kind, int(depth) if depth.isdigit() else 0)
        return self._cache[style_id]


def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(tag)


def _has_num(el: Any) -> bool:
    """Whether a paragraph or style has numbering (``numId`` 0 turns it off)."""
    ids = el.xpath("./w:pPr/w:numPr/w:numId/@w:val")
    return bool(ids) and ids[0] != "0"


def _level(name: str, el: Any) -> int:
    """The heading level a style name or outline level gives (0: not a heading)."""
    if name.lower() == "title":
        return 1
    if m := _HEADING.match(name):
        return min(6, max(1, int(m.group(1))))
    outline = el.xpath("./w:pPr/w:outlineLvl/@w:val")
    if outline and outline[0].isdigit() and int(outline[0]) < 9:  # 9 is body text
        return min(6, int(outline[0]) + 1)
    return 0


def _body(el: Any) -> Iterator[Any]:
    """The body's paragraphs and tables in order, those inside content controls too."""
    for child in el:
        name = _tag(child)
        if name in ("p", "tbl"):
            yield child
        elif name in _WRAPPERS:
            yield from _body(child)


def _cell_text(tc: Any) -> str:
    """A cell's text, nested tables flattened into it."""
    paras = tc.xpath(".//w:p[not(ancestor::w:txbxContent)]")
    return " ".join(t for p in paras if (t := _para_text(p)))


def _number(values: list[str], default: int) -> int:
    """The first of some attribute values as a number (``default`` when none is one)."""
    return int(values[0]) if values and values[0].isdigit() else default


def _grid(tbl: Any) -> list[list[tuple[int, str]]]:
    """A table's rows as (first grid column, text) per cell; a vertically merged cell
    repeats the text it started with."""
    rows: list[list[tuple[int, str]]] = []
    above: dict[int, str] = {}
    for tr in tbl.xpath("./w:tr | ./w:sdt/w:sdtContent/w:tr"):
        col = _number(tr.xpath("./w:trPr/w:gridBefore/@w:val"), 0)
        row = []
        for tc in tr.xpath("./w:tc | ./w:sdt/w:sdtContent/w:tc"):
            span = _number(tc.xpath("./w:tcPr/w:gridSpan/@w:val"), 1)
            merge = tc.xpath("./w:tcPr/w:vMerge")
            cont = bool(merge) and merge[0].get(_qn("w:val"), "continue") == "continue"
            text = above.get(col, "") if cont else _cell_text(tc)
            above[col] = text
            row.append((col, text))
            col += max(1, span)
        rows.append(row)
    return rows


def _first_row_is_header(tbl: Any) -> bool:
    """Unless the table says otherwise, its first row names the columns. A writer marks a
    header row with ``w:tblHeader``; a table without one whose look turns header styling off
    (``w:firstRow="0"``, or bit 0x20 of the older ``w:val``) has rows of data only, as
    pandoc writes a Markdown table with an empty header row."""
    if tbl.xpath("./w:tr[1]/w:trPr/w:tblHeader"):
        return True
    look = tbl.xpath("./w:tblPr/w:tblLook")
    if not look:
        return True
    first = look[0].get(_qn("w:firstRow"))
    if first is not None:
        return first not in ("0", "false", "off")
    val = look[0].get(_qn("w:val"))
    try:
        return val is None or bool(int(val, 16) & 0x20)
    except ValueError:
        return True


def _table_text(tbl: Any) -> str:
    """A table as lines: each row's cells with their header (see the module)."""
    rows = _grid(tbl)
    header = dict(rows[0]) if rows else {}
    keyed = len(rows) > 1 and any(header.values())
    if keyed and not _first_row_is_header(tbl):
        # styled as data; still column names when it reads as names over unlike cells
        keyed = is_header([{c: t for c, t in row if t} for row in rows], len(header))
    lines = []
    for row in rows[1:] if keyed else rows:
        cells = []
        for col, text in row:
            if not text:
                continue
            name = header.get(col, "") if keyed else ""
            cells.append(f"{name}: {text}" if name and name != text else text)
        if cells:
            lines.append("; ".join(cells))
    if keyed and not lines:  # a header row alone still says something
        lines.append("; ".join(t for _, t in rows[0] if t))
    return "\n".join(lines)


def _piece(el: Any, styles: _Styles) -> tuple[str, str, int]:
    """A body element as (text, kind, level); a list item's text is indented by depth."""
    if _tag(el) == "tbl":
        return _table_text(el), "table", 0
    level, kind, depth = styles.of("".join(el.xpath("./w:pPr/w:pStyle/@w:val")))
    level = _level("", el) or level
    if level:
        return _para_text(el), "heading", level
    if kind == "code":
        return _para_text(el, lines=True), "code", 0
    if kind == "list" or _has_num(el):
        own = "".join(el.xpath("./w:pPr/w:numPr/w:ilvl/@w:val"))
        depth = int(own) if own.isdigit() else depth
        text = _para_text(el)
        return ("  " * min(depth, 8) + text if text else ""), "list", 0
    return _para_text(el), "text", 0


def _blocks(doc: Any) -> Iterator[tuple[str, str, int]]:
    """The body as (text, kind, level) blocks; consecutive list items, and consecutive
    code paragraphs, gathered into one block each."""
    styles = _Styles(doc)
    run: list[str] = []  # the list items or code paragraphs being gathered
    run_kind = ""
    for el in _body(doc.element.body):
        text, kind, level = _piece(el, styles)
        if not text:
            continue
        if run and kind != run_kind:
            yield _dedent(run), run_kind, 0
            run = []
        if kind in ("list", "code"):
            run, run_kind = [*run, text], kind
        else:
            yield text, kind, level
    if run:
        yield _dedent(run), run_kind, 0


def _dedent(items: list[str]) -> str:
    """Lines with their common indentation removed."""
    lines = "\n".join(items).splitlines()
    indent = min(len(ln) - len(ln.lstrip()) for ln in lines)
    return "\n".join(ln[indent:] for ln in lines).strip()


def _meta(doc: Any) -> dict[str, object]:
    """Author and last-modified time from the core properties, where set."""
    meta: dict[str, object] = {}
    try:
        props = doc.core_properties
        author, modified = (props.author or "").strip(), props.modified
    except Exception:  # odd core properties are not worth failing the file for
        return meta
    if author:
        meta["author"] = author
    if modified is not None:
        meta["modified"] = modified.isoformat()
    return meta


def read_docx(data: bytes) -> Extracted:
    """A DOCX file's body text and blocks (headings, paragraphs, lists, tables)."""
    doc = _open(data)
    parts: list[str] = []
    blocks: list[Block] = []
    pos = 0
    for text, kind, level in _blocks(doc):
        if parts:
            parts.append("\n\n")
            pos += 2
        blocks.append(Block(pos, pos + len(text), kind, level))
        parts.append(text)
        pos += len(text)
    text = "".join(parts)
    try:
        title = _SPACE.sub(" ", doc.core_properties.title or "").strip()
    except Exception:  # as in `_meta`
        title = ""
    if not title:
        first = next((b for b in blocks if b.kind == "heading"), None)
        title = text[first.start : first.end] if first else ""
    return Extracted(text, tuple(blocks), title, _meta(doc))
