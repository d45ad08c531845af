"""Compressed documents (Debian ships README.gz, NEWS.gz, FAQ.gz): read as the file
inside, with a clear error for what is damaged or unpacks too large."""

from __future__ import annotations

import gzip

import pytest

from qa.index import ingest
from qa.index.formats import Unreadable, Unsupported, extract, format_of, gunzip


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("README.gz", "text"),  # no type of its own: Debian's compressed documentation
        ("NEWS.GZ", "text"),
        ("guide.md.gz", "markdown"),
        ("manual.html.gz", "html"),
        ("changes.txt.gz", "text"),
        ("ls.1.gz", "man"),  # a man page: roff, rendered (test_formats_man)
        ("src.tar.gz", None),
        (".gz", None),
    ],
)
def test_format_of_a_compressed_file_is_the_format_inside(name, fmt) -> None:
    assert format_of(name) == fmt


def test_a_compressed_file_reads_as_the_file_inside() -> None:
    md = b"# Install\n\nRun `make install` as root.\n"
    out = extract(gzip.compress(md), "guide.md.gz")
    assert out.text == extract(md, "guide.md").text
    assert out.meta["format"] == "markdown"
    assert out.blocks[0].kind == "heading"


def test_bad_gzip_files_say_what_is_wrong() -> None:
    assert extract(b"plain text", "README.gz").text == "plain text"  # not packed: read as is
    with pytest.raises(Unreadable, match=r"\.gz but is neither gzip-compressed nor text; see"):
        extract(bytes(range(256)) * 4, "README.gz")
    with pytest.raises(Unreadable, match="not gzip-compressed"):
        gunzip(b"plain text")
    with pytest.raises(Unreadable, match="damaged gzip"):
        extract(gzip.compress(b"some text here")[:-6], "README.gz")
    with pytest.raises(Unreadable, match="more than 1 MiB"):
        gunzip(gzip.compress(b"a" * ((1 << 20) + 1)), limit=1 << 20)
    assert gunzip(gzip.compress(b"a" * (1 << 20)), limit=1 << 20) == b"a" * (1 << 20)
    with pytest.raises(Unsupported, match=r"'\.tar\.gz'.*man pages.*compressed \(\.gz\)"):
        extract(gzip.compress(b"x"), "src.tar.gz")


def test_a_folder_with_compressed_docs_is_indexed(tmp_path) -> None:
    (tmp_path / "README.gz").write_bytes(gzip.compress(b"Dnsmasq answers DNS queries.\n"))
    (tmp_path / "guide.md.gz").write_bytes(gzip.compress(b"# Guide\n\nUse port 53.\n"))
    (tmp_path / "notes.txt.gz").write_bytes(gzip.compress(b"Port 53 is the default.\n"))
    (tmp_path / "src.tar.gz").write_bytes(gzip.compress(b"not a document"))
    scan = ingest.scan(tmp_path)
    titles = sorted(d.title for d in scan.documents)
    assert titles == ["Guide", "README", "notes"]  # a file's name, less .gz and its type
    assert [s.reason for s in scan.skipped] == ["unsupported type"]
    assert "Dnsmasq answers DNS queries." in next(
        d.text for d in scan.documents if d.title == "README"
    )
