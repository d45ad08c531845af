"""Tables drawn with rules: cells found from the lines between them, read row by row."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

import qa.index.formats.pdf_ruled as ruled
from qa.index.formats.pdf import read_pdf
from tests.index.docmaker import Page, Para, pdf

DOCS = Path(__file__).parents[2] / "data"
XS = (72.0, 160.0, 260.0, 520.0)  # the table's column rules


def grid(rows: list[float], xs: tuple[float, ...] = XS) -> list[tuple[float, float, float, float]]:
    """Every row and column rule of a table whose row lines lie at ``rows`` (top first)."""
    across = [(xs[0], y, xs[-1], y) for y in rows]
    down = [(x, rows[-1], x, rows[0]) for x in xs]
    return across + down


HEADER = [(76, 676, "Option"), (164, 676, "Default"), (264, 676, "Meaning")]
ROWS = [
    (76, 656, "-c"), (164, 656, "off"), (264, 656, "Write to standard output and"),
    (264, 642, "keep the input files."),
    (76, 616, "-k"), (164, 616, "on"), (264, 616, "Keep the input files."),
]  # fmt: skip
LINES = [690, 670, 630, 610]  # the table's row rules, top first
WANT = (
    "Option; Default; Meaning\n"
    "Option: -c; Default: off; Meaning: Write to standard output and keep the input files.\n"
    "Option: -k; Default: on; Meaning: Keep the input files."
)


def tables(data: bytes) -> list[str]:
    ex = read_pdf(data)
    return [ex.text[b.start : b.end] for b in ex.blocks if b.kind == "table"]


def test_a_ruled_table_reads_a_row_a_line_its_wrapped_cell_whole() -> None:
    # pdfminer boxed the wrapped cell's lines with the cells beside them; its second line
    # came out as a row of its own
    page = Page(
        [Para(["A paragraph before the table, long enough to be running text here."])],
        texts=HEADER + ROWS,
        rules=grid(LINES),
    )
    ex = read_pdf(pdf([page]))
    assert tables(pdf([page])) == [WANT]
    assert ex.text.startswith("A paragraph before the table")
    assert "keep the input files." not in ex.text.replace(WANT, "")  # not read twice


def test_a_cells_line_running_past_the_tables_edge_keeps_its_end() -> None:
    # the characters past the border lay in no cell: "'noToggleToOff required ra"
    long = "Write to standard output and keep every input file as it was"
    rows = [(76, 656, "-c"), (164, 656, "off"), (264, 656, long)]
    rows += [(76, 636, "-k"), (164, 636, "on"), (264, 636, "Keep the input files.")]
    page = Page(texts=HEADER + rows, rules=grid([690, 670, 650, 630], (72.0, 160.0, 260.0, 400.0)))
    [table] = tables(pdf([page]))
    assert f"Meaning: {long}" in table


def test_a_framed_listing_stays_code_a_named_table_of_code_is_a_table() -> None:
    code = [(76, 676, "push", "Courier"), (164, 676, "acc", "Courier")]
    code += [(76, 656, "pop", "Courier"), (164, 656, "psw", "Courier")]
    code += [(76, 636, "reti", "Courier"), (164, 636, "", "Courier")]
    frame = grid([690, 670, 650, 630], (72.0, 160.0, 260.0))
    assert tables(pdf([Page(texts=code, rules=frame)])) == []
    names = [(76, 676, "Attribute", "Courier"), (164, 676, "Synonyms", "Courier")]
    cells = [(76, 656, "fontName", "Courier"), (164, 656, "face, font", "Courier")]
    cells += [(76, 636, "fontSize", "Courier"), (164, 636, "size", "Courier")]
    assert tables(pdf([Page(texts=names + cells, rules=frame)])) == [
        "Attribute; Synonyms\nAttribute: fontName; Synonyms: face, font\n"
        "Attribute: fontSize; Synonyms: size"
    ]


def test_a_table_going_on_over_the_page_keeps_its_column_names() -> None:
    first = Page(texts=HEADER + ROWS, rules=grid(LINES))
    more = [(76, 676, "-v"), (164, 676, "off"), (264, 676, "Say what is done.")]
    more += [(76, 656, "-q"), (164, 656, "on"), (264, 656, "Say nothing.")]
    second = Page(texts=more, rules=grid([690, 670, 650]))
    assert tables(pdf([first, second])) == [
        WANT,
        "Option; Default; Meaning\n"
        "Option: -v; Default: off; Meaning: Say what is done.\n"
        "Option: -q; Default: on; Meaning: Say nothing.",
    ]


def test_a_frame_a_mostly_empty_grid_and_a_drawing_are_no_tables() -> None:
    words = "Text in a box drawn around it, as a note or a warning is set."
    frame = Page(texts=[(80, 700, words)], rules=grid([720, 680], (72.0, 520.0)))
    empty = Page(texts=[(76, 706, "Only one cell")], rules=grid([720, 700, 680, 660]))
    drawing = Page(
        texts=[(80, 300, words)],
        rules=[(x, 100, x + 1, 101) for x in range(ruled.MAX_RULES + 1)],
    )
    for page in (frame, empty, drawing):
        assert tables(pdf([page])) == []


def test_a_dense_grid_is_not_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    # pdfplumber's cell search grows with the square of the crossings: 11 s for this page
    import pdfplumber

    opened: list[object] = []
    monkeypatch.setattr(pdfplumber, "open", lambda *a, **k: opened.append(a))
    across = [(10, 10 + 5 * i, 760, 10 + 5 * i) for i in range(150)]
    down = [(10 + 5 * i, 10, 10 + 5 * i, 760) for i in range(150)]
    text = "A page drawn over with a fine grid, and this paragraph."
    assert "fine grid" in read_pdf(pdf([Page([Para([text])], rules=across + down)])).text
    assert opened == []
    read_pdf(pdf([Page([Para([text])], rules=grid(LINES))]))  # a table's page is searched
    assert len(opened) == 1


def test_text_inside_the_frame_but_outside_every_cell_keeps_the_table_unread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pdfplumber found the first column's cells only: the other columns' text was lost
    cells = [[(72.0, 640.0, 160.0, 700.0), None, None], [(72.0, 620.0, 160.0, 640.0), None, None]]
    page = Page(texts=[(76, 680, "name"), (164, 680, "value lost"), (76, 626, "other")])
    found = {}

    class Spy(ruled.RuledTables):
        def __call__(self, number: int, laid_out: object) -> None:
            _, lines = ruled._objects(laid_out)
            lines.sort(key=lambda line: (-line.y1, line.x0))
            found["rows"] = ruled._fill(cells, lines, (72.0, 620.0, 520.0, 700.0))

    monkeypatch.setattr("qa.index.formats.pdf.RuledTables", Spy)
    ex = read_pdf(pdf([page]))
    assert found["rows"] == []
    assert "value lost" in ex.text


def test_a_page_pdfplumber_cannot_read_is_read_from_pdfminers_boxes(monkeypatch) -> None:
    import pdfplumber

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("no")

    monkeypatch.setattr(pdfplumber, "open", broken)
    page = Page(texts=HEADER + ROWS, rules=grid(LINES))
    ex = read_pdf(pdf([page]))
    assert ex.text == WANT  # each cell boxed apart: read as a table without the rules


def test_a_real_ruled_tables_wrapped_cells_stay_in_their_rows() -> None:
    found = tables((DOCS / "doctune" / "docs" / "sdcc-manual.pdf").read_bytes())
    row = (
        "Type: Interruptible interrupt handler; Syntax: void f(void) __interrupt; "
        "Behaviour: Interrupt handler can be interrupted by further interrupts"
    )
    assert any(row in t for t in found)


@pytest.mark.parametrize(
    "name", ["graphviz-dotguide.pdf", "graphviz-neatoguide.pdf", "graphviz-cgraph-tutorial.pdf"]
)
def test_no_word_of_a_real_document_is_lost_to_its_ruled_tables(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (DOCS / "realdocs" / "docs" / name).read_bytes()
    with_tables = Counter(re.findall(r"\w+", read_pdf(data).text))
    monkeypatch.setattr(ruled, "MIN_RULES", ruled.MAX_RULES + 1)  # no page searched
    without = Counter(re.findall(r"\w+", read_pdf(data).text))
    assert without - with_tables == Counter()
