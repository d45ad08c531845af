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
    for p in chunk(doc, max_words, overlap):
        assert doc.text[p.start : p.end] == p.text
        assert p.text and p.text == p.text.strip()
        assert any(a <= p.start and p.end <= b for a, b in paras), "crossed a paragraph break"
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
