"""Decoding, plain text and Markdown: qa.index.formats.text."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.index.formats import Extracted, Unreadable
from qa.index.formats.markdown import read_markdown
from qa.index.formats.text import decode, read_text


def check_blocks(out: Extracted) -> None:
    """Every reader's promise: blocks stripped, non-empty, in order, apart; levels 1-6."""
    end = 0
    for b in out.blocks:
        piece = out.text[b.start : b.end]
        assert piece and piece == piece.strip(), (b, piece)
        assert b.start >= end, (b, end)
        end = b.end
        assert (1 <= b.level <= 6) if b.kind == "heading" else b.level == 0, b
        assert b.kind in ("heading", "text", "list", "table", "code")


def kinds(out: Extracted) -> list[tuple[str, int, str]]:
    return [(b.kind, b.level, out.text[b.start : b.end]) for b in out.blocks]


# -- decode ---------------------------------------------------------------------------------
def test_cp1252_with_euro_curly_quotes_and_accents() -> None:
    text = "Le café coûte 3 € — “très cher”, dit l’élève."
    assert decode(text.encode("cp1252")) == (text, "cp1252")


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("caf\u00e9", "cp1252"),  # a latin-1 file: cp1252 reads it the same
        ("Price: 5 €", "cp1252"),  # charset-normalizer alone says UTF-16-BE
        ("Grüße aus München, die Straße ist schön.", "cp1252"),  # ... alone says cp1250
        ("Zażółć gęślą jaźń. Pchnąć w tę łódź jeża lub ośm skrzyń fig.", "cp1250"),
        ("Příliš žluťoučký kůň úpěl ďábelské ódy.", "cp1250"),
        ("Árvíztűrő tükörfúrógép. Egy hűtlen vejét fülöncsípő, dühös mexikói.", "cp1250"),
        ("Pijamalı hasta yağız şoföre çabucak güvendi.", "cp1254"),
        ("Le prix est 10 € pour un café à Paris.", "iso8859-15"),
        ("Съешь же ещё этих мягких французских булок, да выпей чаю.", "cp1251"),
    ],
)
def test_legacy_encodings_are_guessed(text: str, encoding: str) -> None:
    assert decode(text.encode(encoding)) == (text, encoding)


def test_names_from_several_languages_in_english_text() -> None:
    text = "Thanks to François Pinard, Ibáñez and Martin von Löwis for the module.\n" * 3
    assert decode(text.encode("cp1252")) == (text, "cp1252")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
def test_byte_order_marks(encoding: str) -> None:
    text = "Hello “world” € ça"
    assert decode(text.encode(encoding)) == (text, encoding)


def test_utf16_without_a_byte_order_mark() -> None:
    text = "Plain UTF-16 text without a mark, ça va?"
    assert decode(text.encode("utf-16-le")) == (text, "utf-16-le")
    assert decode(text.encode("utf-16-be")) == (text, "utf-16-be")


def test_utf8_wins_over_a_wrong_declaration() -> None:
    assert decode("café".encode(), "windows-1252") == ("café", "utf-8")


def test_a_declared_encoding_is_used_and_latin1_means_cp1252() -> None:
    data = "caf\u00e9 \u20ac".encode("cp1252")
    assert decode(data, "ISO-8859-1") == ("café €", "cp1252")
    assert decode("Ελληνικά".encode("iso8859_7"), "iso-8859-7") == ("Ελληνικά", "iso8859-7")


@pytest.mark.parametrize("declared", ["no-such-charset", "rot13", "zlib", "utf-16", "utf-7"])
def test_unusable_declarations_are_ignored(declared: str) -> None:
    assert decode("déjà vu".encode("cp1252"), declared) == ("déjà vu", "cp1252")


@pytest.mark.parametrize(
    ("data", "fix"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "binary data.*`file`"),
        (bytes(range(256)) * 8, "binary data.*`file`"),
        (b"text with a \x00 NUL byte in it", "binary data.*`file`"),
        # noise without NULs: it might be text in an encoding qa does not know
        (bytes((i * 7919 + 13) % 255 + 1 for i in range(4000)), "iconv -f ENCODING"),
    ],
)
def test_binary_data_is_unreadable_with_a_fix(data: bytes, fix: str) -> None:
    with pytest.raises(Unreadable, match=fix):
        decode(data)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_decode_reads_or_refuses_any_bytes(data: bytes) -> None:
    try:
        text, encoding = decode(data)
    except Unreadable:
        return
    assert isinstance(text, str) and encoding


# -- plain text -----------------------------------------------------------------------------
def test_plain_text_headings_lists_and_paragraphs() -> None:
    raw = (
        "Getting started\r\n\r\n"
        "This is a paragraph. It has sentences.\r\n\r\n"
        "- first item\r\n- second item\r\n  continued\r\n\r\n"
        "Notes:\r\n\r\n"
        "Overview\r\n========\r\n\r\n"
        "2.3 Installing on Linux\r\n\r\n"
        "1. one\r\n2. two\r\n\r\n"
        "Details\r\n-------\r\n\r\n"
        "A closing line\r\n"
    )
    out = read_text(raw.encode())
    assert out.text == raw and out.title == "" and out.meta == {"encoding": "utf-8"}
    check_blocks(out)
    assert kinds(out) == [
        ("heading", 1, "Getting started"),
        ("text", 0, "This is a paragraph. It has sentences."),
        ("list", 0, "- first item\r\n- second item\r\n  continued"),
        ("text", 0, "Notes:"),  # ends with a colon: not a heading
        ("heading", 1, "Overview"),
        ("heading", 2, "2.3 Installing on Linux"),
        ("list", 0, "1. one\r\n2. two"),
        ("heading", 2, "Details"),
        ("text", 0, "A closing line"),  # nothing follows it: not a heading
    ]


def test_a_crlf_line_break_does_not_split_a_paragraph() -> None:
    out = read_text(b"one line\r\nnext line\r\n\r\nsecond paragraph")
    assert kinds(out) == [("text", 0, "one line\r\nnext line"), ("text", 0, "second paragraph")]


def test_a_configuration_files_banner_sections_are_headings() -> None:
    conf = (
        "#####################\n# CONFIG FILE VERSION #\n#####################\n\n"
        "config_version\t1.2\n\n"
        "# =============\n# Listeners\n# =============\n# Listen on a port.\n#port 1883\n\n"
        "# A plain comment\n#port 8883\n"
    )
    out = read_text(conf.encode())
    check_blocks(out)
    assert kinds(out) == [
        ("heading", 1, "CONFIG FILE VERSION"),
        ("text", 0, "config_version\t1.2"),
        ("heading", 1, "Listeners"),
        ("text", 0, "# Listen on a port.\n#port 1883"),
        ("text", 0, "# A plain comment\n#port 8883"),
    ]


def test_a_long_line_is_not_a_heading() -> None:
    out = read_text(b"This line has far more than ten words in it and so it is text\n\nMore.")
    assert out.blocks[0].kind == "text"


MAN_PAGE = (
    "GZIP(1)\t\t\t    General Commands Manual\t\t       GZIP(1)\n\n"
    "NAME\n       gzip, gunzip, zcat - compress or expand files\n\n"
    "DESCRIPTION\n       The gzip command reduces the size of the named files.\n\n"
    "       If the compressed file name is too long, gzip truncates it.\n\n"
    "       By default, gzip keeps the original file name and timestamp.\n\n"
    "ADVANCED USAGE\n       Multiple compressed files can be concatenated:\n\n"
    "\t     gzip -c file1  > foo.gz\n\n"
    "       Then\n\n"
    "\t     gunzip -c foo\n\n"
    "   Subsection\n       More text here.\n\n"
    "ENVIRONMENT\n       The obsolescent environment variable GZIP can hold options.\n"
)


def test_a_man_page_as_text_has_its_sections_as_headings() -> None:
    # headings flush left over indented text with no blank line between; a word set level
    # with the body ("Then") is text, and the running header names no section
    heads = [t for kind, _, t in kinds(read_text(MAN_PAGE.encode())) if kind == "heading"]
    assert heads == ["NAME", "DESCRIPTION", "ADVANCED USAGE", "Subsection", "ENVIRONMENT"]


def test_a_hanging_indent_after_a_bullet_or_bracket_is_no_heading() -> None:
    text = "1. Install\n   run make\n\n[ FIXME\n  fonts are wrong\n]\n"
    assert not [k for k, _, _ in kinds(read_text(text.encode())) if k == "heading"]


def test_a_line_that_leads_into_what_follows_is_no_heading() -> None:
    # "... available via" over indented commands, "Be aware that" over a sentence
    text = (
        "After installation documentation is available via\n    man xorriso\n\n"
        "Be aware that\n\nthe cache is shared.\n\nTesting\n\nRun make check.\n"
    )
    heads = [t for kind, _, t in kinds(read_text(text.encode())) if kind == "heading"]
    assert heads == ["Testing"]


def test_plain_text_records_the_encoding() -> None:
    assert read_text("Café “quoted” €".encode("cp1252")).meta["encoding"] == "cp1252"


# -- Markdown -------------------------------------------------------------------------------
DOC = """---
title: "My  Document"
date: 2024-01-02
tags: [a, b]
format: not-this
nested: {x: 1, when: 2024-01-01T10:00:00}
---
# Heading *one* #

Para one
continues.

Setext heading
--------------

- item 1
  - nested
- item 2

1. first
2. second

| a | b |
|---|---|
| 1 | 2 |

```python
print("hi")
```

    indented code

> quoted para

<div>html block</div>

<!-- a comment -->

Last.
"""


def test_markdown_front_matter_becomes_meta_and_title_not_text() -> None:
    out = read_markdown(DOC.encode())
    assert out.title == "My Document"
    assert out.text.startswith("# Heading *one* #") and "tags:" not in out.text
    assert out.meta["date"] == "2024-01-02" and out.meta["tags"] == ["a", "b"]
    assert out.meta["nested"] == {"x": 1, "when": "2024-01-01T10:00:00"}
    assert "format" not in out.meta  # the reader's own keys are not overwritten
    assert out.meta["encoding"] == "utf-8"
    json.dumps(out.meta)


@pytest.mark.parametrize(
    ("md", "title"),
    [
        ("# ![btop++](Img/logo.png)\n\nA monitor.\n", "btop++"),  # a logo for a title
        ("# ![](logo.png)\n\nA monitor.\n\n# Usage\n\nRun it.\n", "Usage"),  # no alt text
    ],
)
def test_a_heading_of_images_alone_titles_by_their_alt_text(md: str, title: str) -> None:
    assert read_markdown(md.encode()).title == title


def test_a_readmes_badges_are_not_in_its_title_or_heading() -> None:
    badge = "[![CI](https://example.org/ci.svg)](https://example.org/actions)"
    md = f"# uuid {badge} ![npm](https://example.org/npm.svg)\n\nText.\n\n# ![logo](l.png)\n"
    out = read_markdown(md.encode())
    check_blocks(out)
    assert out.title == "uuid"
    assert kinds(out)[0] == ("heading", 1, "uuid")
    assert kinds(out)[-1] == ("heading", 1, "![logo](l.png)")  # nothing but an image: kept


def test_markdown_blocks() -> None:
    out = read_markdown(DOC.encode())
    check_blocks(out)
    assert kinds(out) == [
        ("heading", 1, "Heading *one*"),
        ("text", 0, "Para one\ncontinues."),
        ("heading", 2, "Setext heading"),
        ("list", 0, "- item 1\n  - nested\n- item 2"),
        ("list", 0, "1. first\n2. second"),
        ("table", 0, "| a | b |\n|---|---|\n| 1 | 2 |"),
        ("code", 0, 'print("hi")'),
        ("code", 0, "indented code"),
        ("text", 0, "quoted para"),
        ("text", 0, "<div>html block</div>"),
        ("text", 0, "Last."),
    ]


def test_markdown_title_is_the_first_heading_without_hashes() -> None:
    out = read_markdown(b"Intro\n\n## Bees and honey ##\n\nText.")
    assert out.title == "Bees and honey"
    assert out.meta == {"encoding": "utf-8"}


def test_toml_front_matter() -> None:
    out = read_markdown(b'+++\ntitle = "Toml doc"\nwhen = 1979-05-27\n+++\r\nBody text.\r\n')
    assert out.title == "Toml doc" and out.meta["when"] == "1979-05-27"
    assert out.text == "Body text.\r\n"
    assert kinds(out) == [("text", 0, "Body text.")]


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        ("---\ntitle: [unclosed\n---\n", "YAML"),
        ("---\njust a sentence\n---\n", "not a mapping"),
        ("+++\ntitle = \n+++\n", "TOML"),
        ("---\na: &a [*a]\n---\n", "too large or too deeply nested"),
    ],
)
def test_malformed_front_matter_is_kept_as_text_with_a_reason(head: str, reason: str) -> None:
    out = read_markdown(f"{head}# Real title\n\nBody.".encode())
    assert out.text.startswith(head)
    assert reason in str(out.meta["front_matter_error"])
    assert "\n" not in str(out.meta["front_matter_error"])
    assert out.title == "Real title"
    check_blocks(out)
    assert out.blocks[0].kind == "code" and out.text[: out.blocks[0].end] == head.strip()


def test_a_thematic_break_at_the_top_is_not_front_matter() -> None:
    out = read_markdown(b"---\n\nJust text after a rule.")
    assert out.text == "---\n\nJust text after a rule." and "front_matter_error" not in out.meta


def test_markdown_offsets_index_the_body_with_crlf_and_a_bom() -> None:
    data = "\ufeff---\r\ntitle: x\r\n---\r\n# Head\r\n\r\nSome text\r\nmore\r\n".encode()
    out = read_markdown(data)
    assert out.meta["encoding"] == "utf-8-sig" and out.title == "x"
    assert kinds(out) == [("heading", 1, "Head"), ("text", 0, "Some text\r\nmore")]


# -- the invariants on any input ------------------------------------------------------------
_PIECES = st.sampled_from(
    ["# ", "## ", "###### ", "- ", "* ", "1. ", "> ", "```", "~~~", "    ", "| a | b |",
     "|---|---|", "---", "+++", "===", "title: x", "<div>", "</div>", "<!-- -->", "\n", "\r\n",
     "\n\n", " ", "\t", "word", "Word.", "é", "€", "\\", "*", "_", "[x](y)", "`", "\x0b"]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_readers_keep_their_promises_on_any_text(source: str) -> None:
    for reader in (read_text, read_markdown):
        out = reader(source.encode())
        check_blocks(out)
        json.dumps(out.meta)
