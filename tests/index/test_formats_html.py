"""HTML: qa.index.formats.html and its boilerplate rules."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.core.errors import BadInput
from qa.index.formats import Extracted
from qa.index.formats.html import (
    declared_charset,
    extract_html,
    html_to_text,
    join_terms,
    read_html,
)
from tests.index.test_formats_text import check_blocks, kinds


def page(body: str, head: str = "<title>T</title>") -> Extracted:
    out = read_html(f"<html><head>{head}</head><body>{body}</body></html>".encode())
    check_blocks(out)
    # blocks are separated by exactly one blank line: the text is the blocks joined
    assert out.text == "\n\n".join(out.text[b.start : b.end] for b in out.blocks)
    return out


SITE = """
<header><a href="/">ExampleSite</a><nav><ul><li>Home</li><li>Docs</li></ul></nav></header>
<div id="cookie-banner">We use cookies to improve your experience. <button>Accept</button></div>
<div class="breadcrumbs"><a>Home</a> » <a>Guide</a></div>
<main>
  <h1>Installing the tool<a class="headerlink" href="#install">¶</a></h1>
  <p>Run   the <b>installer</b>
     and wait.</p>
  <h2>Requirements</h2>
  <ul><li>Python 3.11</li><li>Two extras:<ul><li>lxml</li><li>PyYAML</li></ul></li></ul>
  <table>
    <thead><tr><th>Option</th><th>Default</th><th>Meaning</th></tr></thead>
    <tbody><tr><td>--quiet</td><td>off</td><td>print less</td></tr>
           <tr><td>--jobs</td><td></td><td>parallel jobs</td></tr></tbody>
  </table>
  <pre>pip install tool
  tool --help</pre>
  <aside class="note">Note: a reboot is not needed.</aside>
</main>
<aside class="related-posts">Read also: ten other posts</aside>
<footer>Copyright 2024 Example Inc.</footer>
"""


def test_boilerplate_is_dropped_and_main_is_taken() -> None:
    out = page(SITE)
    for gone in (
        "ExampleSite",
        "Home",
        "cookies",
        "Accept",
        "Guide",
        "¶",
        "Read also",
        "Copyright",
    ):
        assert gone not in out.text, gone
    assert kinds(out) == [
        ("heading", 1, "Installing the tool"),
        ("text", 0, "Run the installer and wait."),
        ("heading", 2, "Requirements"),
        ("list", 0, "Python 3.11\nTwo extras:\nlxml\nPyYAML"),
        (
            "table",
            0,
            "Option: --quiet; Default: off; Meaning: print less\n"
            "Option: --jobs; Meaning: parallel jobs",
        ),
        ("code", 0, "pip install tool\n  tool --help"),
        ("text", 0, "Note: a reboot is not needed."),
    ]
    assert out.title == "T" and out.meta == {"encoding": "utf-8"}


def test_without_main_the_boilerplate_rules_still_apply() -> None:
    out = page(
        '<div role="navigation">Prev | Next</div><div class="sphinxsidebar">Search box</div>'
        "<div hidden>secret</div><p aria-hidden='true'>icon</p><p style='display: none'>x</p>"
        "<div class='navheader'>Up</div><p>Kept text.</p>"
        "<div id='gdpr-consent'>Consent</div><div class='skip-link'>Skip to content</div>"
    )
    assert out.text == "Kept text."


def test_an_id_made_from_its_own_heading_is_content_not_boilerplate() -> None:
    out = page(
        '<h1 id="table-of-contents">Table of Contents<a class="headerlink" href="#t">¶</a></h1>'
        "<p>The extension builds a table of contents.</p>"
        '<section id="footer-options"><h2>Footer options</h2><p>Set the page footer.</p></section>'
        '<div id="toc"><h2>Contents</h2><p>1. Summary</p></div>'  # not its heading: dropped
        '<div class="sidebar" id="sidebar"><h2>Sidebar</h2><p>Links</p></div>'  # class says so
    )
    assert kinds(out) == [
        ("heading", 1, "Table of Contents"),
        ("text", 0, "The extension builds a table of contents."),
        ("heading", 2, "Footer options"),
        ("text", 0, "Set the page footer."),
    ]


def test_a_header_inside_an_article_is_content() -> None:
    body = (
        "<header>Site banner</header><article><header><h1>Post title</h1><p>By Ann</p></header>"
        "<p>" + "Body text of the post. " * 10 + "</p></article>"
    )
    out = page(body)
    assert "Site banner" not in out.text
    assert kinds(out)[:2] == [("heading", 1, "Post title"), ("text", 0, "By Ann")]


def test_a_tiny_main_is_not_taken_alone() -> None:
    body = "<main><p>Hi</p></main><div>" + "Real content sits outside main. " * 10 + "</div>"
    assert "Real content" in page(body).text


def test_tables_carry_their_headers() -> None:
    out = page(
        "<table><caption>Limits</caption><tr><th>Name</th><th colspan='2'>Range</th></tr>"
        "<tr><td>a</td><td>1</td><td>2</td></tr></table>"
        "<table><tr><th>Key</th><td>Value</td></tr><tr><th>Other</th><td>V2</td></tr></table>"
        "<table><tr><td>x</td><td>y</td></tr><tr><td>z</td><td></td></tr></table>"
    )
    assert kinds(out) == [
        ("table", 0, "Limits\nName: a; Range: 1; Range: 2"),
        ("table", 0, "Key: Value\nOther: V2"),
        ("table", 0, "x; y\nz"),
    ]


def test_a_field_lists_names_keep_one_colon_and_a_long_name_its_value() -> None:
    # Docutils writes field lists as tables whose <th> holds "Author:"; a long name fills
    # its own row and its value goes in the next row, under an empty cell
    out = page(
        '<table class="field-list"><tbody>'
        '<tr class="field"><th class="field-name">Author:</th><td>Ann Lee</td></tr>'
        '<tr class="field"><th class="field-name" colspan="2">en-uk-x-altquot:</th></tr>'
        '<tr class="field"><td>&nbsp;</td><td>British quotes</td></tr>'
        '<tr class="field"><th class="field-name">eo:</th><td>Esperanto quotes</td></tr>'
        "</tbody></table>"
    )
    assert kinds(out) == [
        ("table", 0, "Author: Ann Lee\nen-uk-x-altquot: British quotes\neo: Esperanto quotes")
    ]


def test_layout_tables_and_lists_are_read_as_text() -> None:
    out = page(
        "<table><tr><td><h2>Section</h2><p>In a layout table.</p></td></tr></table>"
        "<ul><li><h3>Item heading</h3><p>First paragraph.</p><p>Second paragraph.</p></li></ul>"
    )
    assert kinds(out) == [
        ("heading", 2, "Section"),
        ("text", 0, "In a layout table."),
        ("heading", 3, "Item heading"),
        ("text", 0, "First paragraph."),
        ("text", 0, "Second paragraph."),
    ]


def test_javadoc_summary_grids_are_tables() -> None:
    out = page(
        '<div class="summary-table two-column-summary">'
        '<div class="table-header col-first">Method</div>'
        '<div class="table-header col-last">Description</div>'
        '<div class="col-first even-row-color"><code>size()</code></div>'
        '<div class="col-last even-row-color"><div class="block">The size.</div></div>'
        '<div class="col-first odd-row-color"><code>clear()</code></div>'
        '<div class="col-last odd-row-color">Empties it.</div></div>'
    )
    assert kinds(out) == [
        (
            "table",
            0,
            "Method: size(); Description: The size.\nMethod: clear(); Description: Empties it.",
        )
    ]


def test_line_breaks_and_inline_elements() -> None:
    out = page("<div>one<br>two<br><br>three</div><p>a<span>b</span> <i>c</i></p><hr>")
    assert kinds(out) == [("text", 0, "one\ntwo"), ("text", 0, "three"), ("text", 0, "ab c")]


def test_a_table_of_contents_of_in_page_links_is_not_read() -> None:
    toc = "".join(f'<li><a href="#s{i}">{i}. Part {i}</a></li>' for i in range(1, 5))
    faq = "".join(f'<a href="#q{i}">{i}.1. Question {i}?</a><br>' for i in range(1, 4))
    body = (
        f"<h1>Manual</h1><ul>{toc}</ul><p>{faq}</p>"
        '<p>See <a href="#s1">part 1</a>, <a href="#s2">part 2</a> and <a href="#s3">3</a>'
        " for the details.</p>"
        '<ul><li><a href="https://example.org/a">A</a></li><li><a href="b.html">B</a></li>'
        '<li><a href="#c">C</a></li></ul><h2 id="s1">Part 1</h2><p>The text.</p>'
    )
    text = page(body).text
    assert "Part 4" not in text and "Question 1?" not in text
    assert "See part 1, part 2 and 3 for the details." in text  # links inside prose stay
    assert "A\nB\nC" in text  # links to other pages: a list that is content
    assert "Part 1\n\nThe text." in text


def test_commands_set_apart_by_br_keep_their_lines() -> None:
    # nano's FAQ: one <br> a command; read as one line they ran together
    out = page("<p>cd nano-x.y/<br>\n./configure<br>\nmake<br>\nmake install</p>")
    assert kinds(out) == [("text", 0, "cd nano-x.y/\n./configure\nmake\nmake install")]


def test_headings_keep_their_levels_and_the_title_falls_back_to_h1() -> None:
    out = page("".join(f"<h{n}>Level {n}</h{n}>" for n in range(1, 7)), head="")
    assert [(b.kind, b.level) for b in out.blocks] == [("heading", n) for n in range(1, 7)]
    assert out.title == "Level 1"


def test_a_latin1_declared_page_is_read_as_browsers_do() -> None:
    html = (
        '<html><head><meta charset="ISO-8859-1"><title>Caf\xe9</title></head>'
        "<body><p>Caf\xe9 \x80 5</p></body></html>"
    )
    out = read_html(html.encode("latin-1"))
    assert out.title == "Café" and out.text == "Café € 5"  # 0x80 is € in windows-1252
    assert out.meta["encoding"] == "cp1252"


def test_http_equiv_xml_declaration_and_a_bom() -> None:
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1250">'
    assert declared_charset(meta.encode()) == "windows-1250"
    out = read_html(f"<html><head>{meta}</head><body><p>Zażółć</p></body></html>".encode("cp1250"))
    assert out.text == "Zażółć" and out.meta["encoding"] == "cp1250"
    xhtml = '<?xml version="1.0" encoding="iso-8859-2"?><html><body><p>Łódź</p></body></html>'
    assert read_html(xhtml.encode("iso8859_2")).text == "Łódź"
    assert read_html("<p>Grüße</p>".encode("utf-16")).meta["encoding"] == "utf-16"


def test_html_to_text_keeps_its_contract() -> None:
    text, title = html_to_text("<title> A  title </title><p>x</p><script>bad()</script>")
    assert (text, title) == ("x", "A title")
    assert html_to_text("") == ("", "") and html_to_text("<!-- only -->") == ("", "")
    with pytest.raises(BadInput, match="HTML cannot be parsed"):
        html_to_text("<div>" * 5000 + "deep" + "</div>" * 5000)


# -- the invariants on any input ------------------------------------------------------------
_TAGS = ["p", "div", "ul", "ol", "li", "table", "tr", "td", "th", "thead", "pre", "h1", "h3",
         "nav", "main", "article", "header", "aside", "span", "b", "br", "caption",
         "section"]  # fmt: skip
_PIECE = st.one_of(
    st.sampled_from(_TAGS).map(lambda t: f"<{t}>"),
    st.sampled_from(_TAGS).map(lambda t: f"</{t}>"),
    st.sampled_from(['<div class="menu">', '<p hidden>', '<td colspan="3">', '<div role="main">',
                     '<div class="summary-table">', "&amp;", "&nbsp;", "<!--", "-->"]),
    st.text(alphabet="ab é€\n\t ", max_size=8),
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECE, max_size=60).map("".join))
def test_html_keeps_its_promises_on_any_markup(html: str) -> None:
    text, blocks, _ = extract_html(html)
    out = Extracted(text, blocks)
    check_blocks(out)
    assert text == "\n\n".join(text[b.start : b.end] for b in blocks)
    assert "\n\n" not in "".join(text[b.start : b.end] for b in blocks if b.kind != "code")


def test_a_term_opens_its_description_whether_or_not_a_paragraph_holds_it() -> None:
    bare = "<dl><dt>-k</dt><dd>keep input files</dd></dl>"
    assert join_terms(bare) == "<dl><dd>-k<br/>keep input files</dd></dl>"
    para = '<dl><dt>--connect-to</dt>\n<dd>\n<p class="Pp">For a request</p></dd></dl>'
    assert join_terms(para) == '<dl><dd><p class="Pp">--connect-to<br/>For a request</p></dd></dl>'
    text, blocks, _ = extract_html(join_terms(para))
    assert [text[b.start : b.end] for b in blocks] == ["--connect-to\nFor a request"]
