from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.core.text import sentences
from qa.core.types import Document
from qa.index.chunk import chunk, paragraphs, passage_spans

PIECES = [*"ab cd.E!?\n\r\t", "\r\n", "“", "”", "’", "é", "日本", "\u00a0", "Dr.", "U.S."]
TEXT = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=200).map("".join),
    st.text(max_size=300),  # any unicode at all
)


@settings(max_examples=300, deadline=None)
@given(text=TEXT, max_words=st.integers(1, 40), overlap=st.integers(0, 3))
def test_passages_are_exact_slices_within_one_paragraph(text: str, max_words: int, overlap: int):
    doc = Document.from_text(text, source="t", title="t")
    paras = paragraphs(text)
    for p in chunk(doc, max_words, overlap, min_words=1):  # no short piece to merge
        assert doc.text[p.start : p.end] == p.text
        assert p.text and p.text == p.text.strip()
        assert any(a <= p.start and p.end <= b for a, b in paras), "crossed a paragraph break"
        assert len(p.text.split()) <= max_words or len(sentences(text, p.start, p.end)) == 1


@settings(max_examples=300, deadline=None)
@given(text=TEXT, max_words=st.integers(1, 40), overlap=st.integers(0, 3))
def test_short_paragraphs_merge_but_passages_stay_exact_and_bounded(
    text: str, max_words: int, overlap: int
):
    doc = Document.from_text(text, source="t", title="t")
    for p in chunk(doc, max_words, overlap):
        assert doc.text[p.start : p.end] == p.text
        assert p.text and p.text == p.text.strip()
        assert len(p.text.split()) <= max_words or len(sentences(text, p.start, p.end)) == 1


@settings(max_examples=200, deadline=None)
@given(text=TEXT)
def test_every_word_is_in_some_passage(text: str):
    spans = passage_spans(text, max_words=5, overlap=1)
    for i, ch in enumerate(text):
        if not ch.isspace():
            assert any(s <= i < e for s, e in spans)


def test_paragraphs_split_on_blank_lines_including_crlf():
    text = "One.\r\n\r\nTwo a.\nTwo b.\n \n\nThree."
    assert [text[s:e] for s, e in paragraphs(text)] == ["One.", "Two a.\nTwo b.", "Three."]


def test_sentences_keep_abbreviations_together():
    text = "Dr. Smith met U.S. officials on Jan. 5. They talked. “Fine,” he said."
    got = [text[s:e] for s, e in sentences(text)]
    assert got == ["Dr. Smith met U.S. officials on Jan. 5.", "They talked.", "“Fine,” he said."]


def test_long_paragraph_becomes_overlapping_sentence_windows():
    text = " ".join(f"Sentence number {i} is here." for i in range(10))  # 5 words each
    spans = passage_spans(text, max_words=12, overlap=1)
    got = [text[s:e] for s, e in spans]
    assert got[0] == "Sentence number 0 is here. Sentence number 1 is here."
    assert got[1].startswith("Sentence number 1 is here.")  # one sentence shared
    assert got[-1].endswith("Sentence number 9 is here.")


def test_empty_and_blank_documents_have_no_passages():
    assert passage_spans("") == []
    assert passage_spans(" \n\n\t\r\n") == []


def test_one_megabyte_line_is_cut_into_bounded_passages():
    text = "word " * 200_000  # 1 MB, no sentence ends
    spans = passage_spans(text, max_words=150)
    assert len(spans) == 200_000 // 150 + 1
    assert all(len(text[s:e].split()) <= 150 for s, e in spans)
    assert spans[-1][1] == len(text.rstrip())


def test_passage_ids_are_stable_and_depend_on_content():
    a = chunk(Document.from_text("Alpha one.\n\nBeta two.", "a.txt", "a"))
    b = chunk(Document.from_text("Alpha one.\n\nBeta two.", "elsewhere.txt", "other"))
    c = chunk(Document.from_text("Alpha one!\n\nBeta two.", "a.txt", "a"))
    assert [p.id for p in a] == [p.id for p in b]
    assert a[0].id != c[0].id


# -- structure ----------------------------------------------------------------------------
def _doc(parts: list[tuple[str, str, int, int | None]]) -> Document:
    """A document from (kind, text, level, page) blocks separated by blank lines."""
    from qa.core.types import Block

    text, blocks = "", []
    for kind, body, level, page in parts:
        if text:
            text += "\n\n"
        blocks.append(Block(len(text), len(text) + len(body), kind, level, page))
        text += body
    return Document.from_text(text, "s", "t", blocks=tuple(blocks))


LONG = "This paragraph has well over eight words so it stands alone as a passage."


def test_a_heading_opens_the_passage_under_it_and_names_its_section():
    doc = _doc(
        [
            ("heading", "Guide", 1, None),
            ("heading", "Install", 2, None),
            ("text", LONG, 0, None),
            ("heading", "Usage", 2, None),
            ("text", LONG.replace("This", "That"), 0, None),
        ]
    )
    got = chunk(doc)
    assert [p.text.split("\n\n")[0] for p in got] == ["Guide", "Usage"]
    assert [p.section for p in got] == ["Guide > Install", "Guide > Usage"]
    assert all(doc.text[p.start : p.end] == p.text for p in got)


def test_short_pieces_join_a_neighbour_and_lists_stay_with_their_lead_in():
    doc = _doc(
        [
            ("text", LONG, 0, None),
            ("text", "Note: see below.", 0, None),  # short: joins the paragraph before
            ("text", "To install it, run these commands in a terminal window:", 0, None),
            ("list", "apt-get update\napt-get install qa", 0, None),
        ]
    )
    got = [p.text for p in chunk(doc)]
    assert got == [
        LONG + "\n\nNote: see below.",
        "To install it, run these commands in a terminal window:\n\n"
        "apt-get update\napt-get install qa",
    ]


def test_a_long_table_splits_by_rows_and_pages_come_from_the_blocks():
    rows = "\n".join(f"Option: --opt{i}; Meaning: sets value number {i} here" for i in range(40))
    doc = _doc([("heading", "Options", 1, 3), ("table", rows, 0, 3), ("text", LONG, 0, 4)])
    got = chunk(doc, max_words=60)
    assert got[0].text.startswith("Options\n\nOption: --opt0;")
    assert all(len(p.text.split()) <= 60 for p in got)
    assert all(p.text.split("\n")[-1].startswith(("Option:", "This")) for p in got)
    assert [p.page for p in got][-1] == 4 and got[0].page == 3
    assert {p.section for p in got} == {"Options"}


def test_markdown_heading_marks_are_not_in_the_section():
    doc = _doc([("heading", "## Build it ##", 2, None), ("text", LONG, 0, None)])
    assert chunk(doc)[0].section == "Build it"


def test_markdown_escapes_are_not_in_the_section_but_a_texts_backslashes_are():
    head = "#### Option: filter\\-code\\-page \\<x\\>"
    doc = _doc([("heading", head, 4, None), ("text", LONG, 0, None)])
    markdown = replace(doc, meta={"format": "markdown"})
    assert chunk(markdown)[0].section == "Option: filter-code-page <x>"
    assert chunk(replace(doc, meta={"format": "text"}))[0].section == head[5:]


BLOCK_KIND = st.sampled_from(["heading", "text", "text", "list", "table", "code"])
BODY = st.lists(
    st.sampled_from(["word", "Two words.", "x\ny", "é", "a b c d e f g h i."]),
    min_size=1,
    max_size=30,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.tuples(BLOCK_KIND, BODY, st.integers(1, 6), st.none()), max_size=12),
    max_words=st.integers(1, 40),
    overlap=st.integers(0, 2),
)
def test_structured_passages_are_exact_bounded_and_cover_every_word(parts, max_words, overlap):
    doc = _doc([(k, b.strip() or "w", lv, pg) for k, b, lv, pg in parts])
    got = chunk(doc, max_words, overlap)
    for p in got:
        assert doc.text[p.start : p.end] == p.text and p.text == p.text.strip() and p.text
    starts = [p.start for p in got]
    assert starts == sorted(starts)
    for i, ch in enumerate(doc.text):
        if not ch.isspace():
            assert any(p.start <= i < p.end for p in got)


def test_one_crlf_is_a_line_break_not_a_paragraph_break():
    text = "line one\r\nline two\r\n\r\nnext"
    assert [text[s:e] for s, e in paragraphs(text)] == ["line one\r\nline two", "next"]


def test_min_passage_words_packs_a_sections_paragraphs_into_one_passage():
    from qa.core.config import Settings
    from qa.index.chunk import passages

    paras = [f"Paragraph {i} says a handful of words about option {i}." for i in range(6)]
    doc = Document.from_text("\n\n".join(paras), source="t", title="t")
    one_each = passages(doc, Settings(reader_dir=None, min_passage_words=8))
    packed = passages(doc, Settings(reader_dir=None, min_passage_words=30))
    bounded = passages(doc, Settings(reader_dir=None, min_passage_words=30, max_passage_words=25))
    assert len(one_each) == 6  # 10 words a paragraph: each stands alone
    # shorter than 30 words, each joins its neighbour, as long as the passage fits
    assert [len(p.text.split()) for p in packed] == [60]
    assert [len(p.text.split()) for p in bounded] == [20, 20, 20]
    assert all(doc.text[p.start : p.end] == p.text for p in [*packed, *bounded])
    assert packed[0].text.startswith("Paragraph 0") and packed[0].text.endswith("option 5.")


def test_packed_passages_keep_to_their_page():
    from qa.core.types import Block

    paras = [f"Paragraph {i} says a handful of words about option {i}." for i in range(4)]
    text = "\n\n".join(paras)
    starts = [text.index(p) for p in paras]
    blocks = tuple(
        Block(s, s + len(p), page=1 if i < 2 else 2)
        for i, (s, p) in enumerate(zip(starts, paras, strict=True))
    )
    doc = Document(id="d", source="d.pdf", title="d", text=text, blocks=blocks)
    got = chunk(doc, 150, 1, min_words=40)
    assert [(p.page, p.text.count("Paragraph")) for p in got] == [(1, 2), (2, 2)]
