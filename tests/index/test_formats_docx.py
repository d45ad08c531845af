"""The DOCX reader on documents made here with python-docx (and raw XML where needed)."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

import pytest
from docx.enum.style import WD_STYLE_TYPE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.index.formats import Extracted, NoText, Unreadable, Unsupported, extract
from qa.index.formats.docx import read_docx
from tests.index.docmaker import append_body, docx, xml

OLE = bytes.fromhex("d0cf11e0a1b11ae1")


def blocks_of(ex: Extracted) -> list[tuple[str, str, int]]:
    return [(b.kind, ex.text[b.start : b.end], b.level) for b in ex.blocks]


def check_invariants(ex: Extracted) -> None:
    end = 0
    for b in ex.blocks:
        piece = ex.text[b.start : b.end]
        assert piece and piece == piece.strip() and b.page is None
        assert b.start >= end
        end = b.end
    assert ex.text == "\n\n".join(ex.text[b.start : b.end] for b in ex.blocks)


def table(d: Any, rows: list[list[str]]) -> Any:
    t = d.add_table(rows=len(rows), cols=len(rows[0]))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            t.cell(i, j).text = value
    return t


def test_title_and_headings_get_levels_and_paragraphs_are_text() -> None:
    def build(d: Any) -> None:
        d.add_paragraph("User Guide", style="Title")
        d.add_heading("Install", 1)
        d.add_paragraph("Run the\tinstaller,\nthen restart.")
        d.add_paragraph("   ")
        d.add_heading("On Linux", 2)
        d.add_heading("Deep", 9)
        d.add_paragraph("Use the package.")

    ex = read_docx(docx(build))
    assert blocks_of(ex) == [
        ("heading", "User Guide", 1),
        ("heading", "Install", 1),
        ("text", "Run the installer, then restart.", 0),
        ("heading", "On Linux", 2),
        ("heading", "Deep", 6),
        ("text", "Use the package.", 0),
    ]
    assert ex.title == "User Guide"
    check_invariants(ex)


def test_outline_levels_make_headings_of_custom_and_localized_styles() -> None:
    def build(d: Any) -> None:
        style = d.styles.add_style("Kapitel", WD_STYLE_TYPE.PARAGRAPH)
        style.element.get_or_add_pPr().append(xml('<w:outlineLvl w:val="0"/>'))
        child = d.styles.add_style("Unterkapitel", WD_STYLE_TYPE.PARAGRAPH)
        child.base_style = d.styles["Heading 2"]
        d.add_paragraph("Einleitung", style="Kapitel")
        d.add_paragraph("Ziele", style="Unterkapitel")
        p = d.add_paragraph("Direkt")
        p._p.get_or_add_pPr().append(xml('<w:outlineLvl w:val="2"/>'))
        d.add_paragraph("Text.")

    assert blocks_of(read_docx(docx(build))) == [
        ("heading", "Einleitung", 1),
        ("heading", "Ziele", 2),
        ("heading", "Direkt", 3),
        ("text", "Text.", 0),
    ]


def test_consecutive_list_items_form_one_block_one_item_a_line() -> None:
    def build(d: Any) -> None:
        d.add_paragraph("Steps:")
        d.add_paragraph("first", style="List Bullet")
        d.add_paragraph("nested", style="List Bullet 2")
        d.add_paragraph("second", style="List Number")
        d.add_paragraph("Between.")
        append_body(
            d,
            '<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr>'
            "<w:r><w:t>numbered by numPr</w:t></w:r></w:p>",
        )

    assert blocks_of(read_docx(docx(build))) == [
        ("text", "Steps:", 0),
        ("list", "first\n  nested\nsecond", 0),
        ("text", "Between.", 0),
        ("list", "numbered by numPr", 0),
    ]


def test_paragraphs_in_a_code_style_are_one_code_block_with_lines_kept() -> None:
    def build(d: Any) -> None:
        d.styles.add_style("Source Code", WD_STYLE_TYPE.PARAGRAPH)
        d.add_paragraph("Run:")
        d.add_paragraph("def f(x):\n    return x", style="Source Code")
        d.add_paragraph("", style="Source Code")
        d.add_paragraph("print(f(1))", style="Source Code")
        d.add_paragraph("Done.")

    assert blocks_of(read_docx(docx(build))) == [
        ("text", "Run:", 0),
        ("code", "def f(x):\n    return x\nprint(f(1))", 0),
        ("text", "Done.", 0),
    ]


def test_a_table_row_is_one_line_whose_cells_carry_their_header() -> None:
    def build(d: Any) -> None:
        table(
            d, [["Name", "Age", "City"], ["Ann", "31", "Oslo"], ["Bob", "", "Rome"], ["", "", ""]]
        )

    ex = read_docx(docx(build))
    assert blocks_of(ex) == [("table", "Name: Ann; Age: 31; City: Oslo\nName: Bob; City: Rome", 0)]


def test_tables_without_a_header_join_cells() -> None:
    def build(d: Any) -> None:
        table(d, [["only", "row"]])
        table(d, [["", ""], ["a", "b"], ["c", ""]])

    assert blocks_of(read_docx(docx(build))) == [
        ("table", "only; row", 0),
        ("table", "a; b\nc", 0),
    ]


def test_a_table_whose_look_has_no_header_row_joins_cells() -> None:
    """pandoc writes a Markdown table with an empty header row as rows of data with header
    styling off (``w:firstRow="0"``); the first row is data, not column names. A row marked
    ``w:tblHeader`` is a header whatever the look says."""
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    def build(d: Any) -> None:
        plain = table(d, [["uuid.NIL", "The nil UUID"], ["uuid.MAX", "The max UUID"]])
        plain._tbl.tblPr.find(qn("w:tblLook")).set(qn("w:firstRow"), "0")
        old_style = table(d, [["-a", "all"], ["-l", "long"]])  # Word 2007: a bitmask only
        look = old_style._tbl.tblPr.find(qn("w:tblLook"))
        for name in ("w:firstRow", "w:lastRow", "w:firstColumn", "w:lastColumn"):
            look.attrib.pop(qn(name), None)
        look.set(qn("w:val"), "0480")  # first-row bit (0x20) off
        marked = table(d, [["Flag", "Meaning"], ["-v", "verbose"]])
        marked._tbl.tblPr.find(qn("w:tblLook")).set(qn("w:firstRow"), "0")
        marked.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
        # unmarked, but plainly names over cells unlike them (a man page's table via pandoc)
        named = table(d, [["Operator", "Associativity"], ["* / %", "left"], ["= +=", "right"]])
        named._tbl.tblPr.find(qn("w:tblLook")).set(qn("w:firstRow"), "0")

    assert blocks_of(read_docx(docx(build))) == [
        ("table", "uuid.NIL; The nil UUID\nuuid.MAX; The max UUID", 0),
        ("table", "-a; all\n-l; long", 0),
        ("table", "Flag: -v; Meaning: verbose", 0),
        ("table", "Operator: * / %; Associativity: left\nOperator: = +=; Associativity: right", 0),
    ]


def test_merged_cells_count_once_in_a_row_and_nested_tables_flatten() -> None:
    def build(d: Any) -> None:
        t = table(
            d, [["Item", "Detail", "Note"], ["a", "wide", ""], ["b", "tall", "x"], ["", "", "y"]]
        )
        t.cell(1, 1).merge(t.cell(1, 2))  # "wide" spans two columns
        t.cell(2, 0).merge(t.cell(3, 0))  # "b" spans two rows
        inner = t.cell(2, 1).add_table(rows=1, cols=2)
        inner.cell(0, 0).text, inner.cell(0, 1).text = "in1", "in2"

    ex = read_docx(docx(build))
    assert blocks_of(ex) == [
        (
            "table",
            "Item: a; Detail: wide\nItem: b; Detail: tall in1 in2; Note: x\nItem: b; Note: y",
            0,
        )
    ]


def test_content_controls_insertions_and_links_are_read_deletions_are_not() -> None:
    def build(d: Any) -> None:
        append_body(
            d,
            "<w:sdt><w:sdtContent><w:p><w:r><w:t>In a control.</w:t></w:r></w:p>"
            "</w:sdtContent></w:sdt>",
        )
        append_body(
            d,
            '<w:p><w:r><w:t xml:space="preserve">Kept </w:t></w:r>'
            '<w:ins w:id="1" w:author="a"><w:r><w:t>added</w:t></w:r></w:ins>'
            '<w:del w:id="2" w:author="a"><w:r><w:delText>gone</w:delText></w:r></w:del>'
            '<w:hyperlink><w:r><w:t xml:space="preserve"> linked</w:t></w:r></w:hyperlink></w:p>',
        )

    assert read_docx(docx(build)).text == "In a control.\n\nKept added linked"


def test_title_comes_from_core_properties_else_the_first_heading() -> None:
    def build(d: Any) -> None:
        d.add_paragraph("Intro text.")
        d.add_heading("First Heading", 2)

    assert read_docx(docx(build, title="  Set Title ")).title == "Set Title"
    assert read_docx(docx(build, title="")).title == "First Heading"
    assert read_docx(docx(lambda d: d.add_paragraph("Plain."), title="")).title == ""


def test_meta_has_author_and_modified_and_is_json() -> None:
    when = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    ex = read_docx(docx(lambda d: d.add_paragraph("x"), author="Ann Lee", modified=when))
    assert ex.meta == {"author": "Ann Lee", "modified": "2024-05-06T07:08:09+00:00"}
    json.dumps(ex.meta)


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def spreadsheet() -> bytes:
    """A package whose main part is a workbook: an .xlsx file named .docx."""
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
    types = "http://schemas.openxmlformats.org/package/2006/content-types"
    rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    return zipped(
        {
            "[Content_Types].xml": f'<Types xmlns="{types}"><Override PartName="/xl/workbook.xml"'
            f' ContentType="{main}"/></Types>'.encode(),
            "_rels/.rels": f'<Relationships xmlns="{rels}"><Relationship Id="rId1" Type="{rel}"'
            ' Target="xl/workbook.xml"/></Relationships>'.encode(),
            "xl/workbook.xml": b"<workbook/>",
        }
    )


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"hello", "not a zip package"),
        (b"", "not a zip package"),
        (zipped({"a.txt": b"x"}), "[Content_Types].xml is missing"),
        (spreadsheet(), "a spreadsheet, not a Word document"),
        (docx(lambda d: None)[:300], ""),
        (OLE + b"\0" * 64, "an OLE container"),
    ],
)
def test_damaged_or_foreign_bytes_are_unreadable_with_the_fix(data: bytes, why: str) -> None:
    with pytest.raises(Unreadable) as info:
        read_docx(data)
    msg = str(info.value)
    assert msg.startswith(f"is damaged or not a DOCX file ({why}") and "\n" not in msg
    assert msg.endswith("); open and save it again in a word processor")


def test_password_protected_docx_says_it_is_encrypted() -> None:
    data = (
        OLE
        + b"\0" * 64
        + "EncryptionInfo".encode("utf-16-le")
        + "EncryptedPackage".encode("utf-16-le")
    )
    with pytest.raises(Unreadable, match=r"^is encrypted with a password; remove the password"):
        read_docx(data)


def test_an_old_doc_file_is_unsupported() -> None:
    with pytest.raises(Unsupported, match=r"old Word \.doc file.*save it as \.docx"):
        read_docx(OLE + b"\0" * 64 + "WordDocument".encode("utf-16-le"))


def test_an_empty_docx_has_no_text() -> None:
    data = docx(lambda d: d.add_paragraph(""))
    assert read_docx(data).text == ""
    with pytest.raises(NoText):
        extract(data, "empty.docx")


def test_extract_reads_a_docx_end_to_end() -> None:
    ex = extract(docx(lambda d: d.add_heading("Hello", 1), author="Me"), "notes.docx")
    assert ex.meta["format"] == "docx" and ex.meta["author"] == "Me"
    assert (ex.text, ex.title, blocks_of(ex)) == ("Hello", "Hello", [("heading", "Hello", 1)])


WORDS = st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=6), min_size=1, max_size=6)
ITEM = st.one_of(
    st.tuples(st.just("heading"), WORDS.map(" ".join), st.integers(1, 6)),
    st.tuples(st.just("text"), WORDS.map(" ".join), st.just(0)),
    st.tuples(st.just("list"), WORDS.map(" ".join), st.just(0)),
    st.tuples(st.just("table"), st.lists(WORDS.map(" ".join), min_size=1, max_size=3), st.just(0)),
)


def expected(items: list[tuple[str, Any, int]]) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    for kind, value, level in items:
        if kind == "table":
            value = "; ".join(value)
        if kind == "list" and out and out[-1][0] == "list":
            out[-1] = ("list", f"{out[-1][1]}\n{value}", 0)
        else:
            out.append((kind, value, level))
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ITEM, max_size=8))
def test_blocks_are_exact_stripped_ordered_slices(items: list[tuple[str, Any, int]]) -> None:
    def build(d: Any) -> None:
        for kind, value, level in items:
            if kind == "heading":
                d.add_heading(value, level)
            elif kind == "list":
                d.add_paragraph(value, style="List Bullet")
            elif kind == "table":
                table(d, [value])  # one row: cells joined
            else:
                d.add_paragraph(value)

    ex = read_docx(docx(build))
    check_invariants(ex)
    assert blocks_of(ex) == expected(items)
