"""Man pages (roff, as Debian ships them): rendered by mandoc and read with their sections
and options; link pages, plain text under a page's name, hostile roff and a missing mandoc
each handled with a reason."""

from __future__ import annotations

import gzip
import shutil

import pytest

from qa.index import ingest
from qa.index.formats import Unreadable, Unsupported, extract, format_of
from qa.index.formats import man as man_format

needs_mandoc = pytest.mark.skipif(
    shutil.which("mandoc") is None, reason="mandoc is not installed (apt-get install mandoc)"
)

PAGE = rb""".\" a comment
.TH DEMO 1 "2026" "demo 2.0" "User Commands"
.SH NAME
demo \- squeeze files
.SH SYNOPSIS
.B demo
[\fIOPTION\fR]... [\fIFILE\fR]...
.SH OPTIONS
.TP
\fB\-k\fR, \fB\-\-keep\fR
keep (do not delete) input files during compression
.TP
\fB\-9\fR, \fB\-\-best\fR
compress better
.SH EXIT STATUS
Normally the exit status is 0; if an error occurs, the exit status is 1.
"""

MDOC = b""".Dd March 1, 2026
.Dt SQUEEZE 1
.Os
.Sh NAME
.Nm squeeze
.Nd shrink files
.Sh SYNOPSIS
.Nm
.Op Fl bv
.Ar
.Sh OPTIONS
.Bl -tag -width Ds
.It Fl b , -brief
Do not prepend filenames to output lines.
.El
"""


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("ls.1", "man"),
        ("ls.1.gz", "man"),
        ("crontab.5", "man"),
        ("openssl.1ssl", "man"),
        ("File::Spec.3pm.gz", "man"),
        ("page.man", "man"),
        ("history.3readline.gz", "man"),
        ("notes.10", None),
        ("data.0", None),
    ],
)
def test_format_of_a_man_page_is_its_section_number(name, fmt) -> None:
    assert format_of(name) == fmt


@needs_mandoc
def test_a_man_page_reads_with_its_sections_and_options() -> None:
    out = extract(gzip.compress(PAGE), "demo.1.gz")
    assert out.title == "demo(1)" and out.meta["format"] == "man"
    headings = [out.text[b.start : b.end] for b in out.blocks if b.kind == "heading"]
    assert headings == ["NAME", "SYNOPSIS", "OPTIONS", "EXIT STATUS"]
    assert "-k, --keep\nkeep (do not delete) input files during compression" in out.text
    assert "demo - squeeze files" in out.text
    assert "DEMO(1)" not in out.text  # the running header and footer are no text
    assert "a comment" not in out.text


@needs_mandoc
def test_an_mdoc_page_reads_too() -> None:
    out = extract(MDOC, "squeeze.1")
    assert out.title == "squeeze(1)"
    assert "squeeze [-bv] file ..." in out.text  # the synopsis is a line, not a table
    assert "-b, --brief\nDo not prepend filenames" in out.text  # the option keeps its name


@needs_mandoc
def test_a_link_page_is_left_out_naming_the_page_it_links_to() -> None:
    with pytest.raises(man_format.LinkPage, match=r"link to the man page man1/gzip\.1") as e:
        extract(b'.\\" alias\n.so man1/gzip.1\n', "zcat.1")
    assert e.value.reason == "duplicate"


def test_a_file_named_like_a_man_page_without_roff_is_text_or_unsupported() -> None:
    assert extract(b"Dec  7 10:00 host cron[1]: started\n", "syslog.1").text.startswith("Dec")
    with pytest.raises(Unsupported, match="named like a man page but holds neither"):
        extract(bytes(range(256)) * 8, "libz.so.1")


@needs_mandoc
def test_hostile_roff_reads_no_file_no_environment_and_stops(tmp_path, monkeypatch) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2-5b7c\n")
    monkeypatch.setenv("QA_TEST_SECRET", "swordfish-9d1e")
    page = (
        b".TH EVIL 1\n.SH NAME\nevil \\- x \\V[QA_TEST_SECRET]\n"
        + b".so "
        + str(secret).encode()
        + b"\n.so ../../../../../../"
        + str(secret).encode().lstrip(b"/")
        + b"\n.SH MORE\ntext\n"
    )
    out = extract(page, "evil.1")
    assert "hunter2" not in out.text and "swordfish" not in out.text
    assert "text" in out.text
    monkeypatch.setattr(man_format, "TIMEOUT_S", 1.0)
    with pytest.raises(Unreadable, match=r"did not finish in 1 s .*man -l FILE"):
        extract(b".TH LOOP 1\n.SH NAME\nloop\n.while 1 .ds a b\n", "loop.1")


def test_without_mandoc_a_man_page_is_skipped_with_the_fix(monkeypatch) -> None:
    monkeypatch.setattr(man_format, "MANDOC", "no-such-mandoc-here")
    with pytest.raises(Unreadable, match=r"needs mandoc: install mandoc \(Debian"):
        extract(PAGE, "demo.1")


@needs_mandoc
def test_a_folder_of_man_pages_is_indexed(tmp_path) -> None:
    (tmp_path / "demo.1.gz").write_bytes(gzip.compress(PAGE))
    (tmp_path / "squeeze.1").write_bytes(MDOC)
    (tmp_path / "undemo.1.gz").write_bytes(gzip.compress(b".so man1/demo.1\n"))
    scan = ingest.scan(tmp_path)
    assert sorted(d.title for d in scan.documents) == ["demo(1)", "squeeze(1)"]
    assert [(s.reason, s.source.endswith("undemo.1.gz")) for s in scan.skipped] == [
        ("duplicate", True)
    ]


@needs_mandoc
def test_a_name_set_as_its_own_paragraph_stays_with_its_description() -> None:
    page = (
        b".TH J 5\n.SH OPTIONS\nAll options are set in the [Journal] section:\n"
        b".PP\n\\fIStorage=\\fR\n.RS 4\nControls where to store journal data.\n.RE\n"
        b".PP\n\\fB\\-m\\fR, \\fB\\-\\-create\\-home\\fR\n.RS 4\nCreate the home directory.\n.RE\n"
    )
    out = extract(page, "j.5")
    assert "Storage=\nControls where to store journal data." in out.text
    assert "-m, --create-home\nCreate the home directory." in out.text
    assert "All options are set in the [Journal] section:\n\nStorage=" in out.text
