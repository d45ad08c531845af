from pathlib import Path

import pytest

from qa.core.errors import BadInput
from qa.index.ingest import from_string, html_to_text, load, load_file


def test_txt_text_is_the_file_unchanged_crlf_included(tmp_path: Path):
    raw = "Line one.\r\n\r\nCafé “quoted”.\r\n"
    f = tmp_path / "a.txt"
    f.write_bytes(raw.encode())
    doc = load_file(f)
    assert doc.text == raw
    assert doc.source == str(f)
    assert doc.title == "a"


def test_markdown_title_from_first_heading(tmp_path: Path):
    f = tmp_path / "notes.md"
    f.write_text("Intro\n\n## Bees and honey ##\n\nText.", encoding="utf-8")
    assert load_file(f).title == "Bees and honey"


def test_html_drops_scripts_and_separates_blocks():
    text, title = html_to_text(
        "<html><head><title> T </title><script>bad()</script></head>"
        "<body><p>First <b>bold</b> para.</p><div>Second</div><style>x{}</style></body></html>"
    )
    assert title == "T"
    assert "bad()" not in text and "x{}" not in text
    assert "First bold para.\n\nSecond" in text


def test_ids_derive_from_content_and_duplicates_are_kept_once(tmp_path: Path):
    (tmp_path / "a.txt").write_text("same text", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("same text", encoding="utf-8")
    (tmp_path / "sub" / "c.md").write_text("other text", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("hidden", encoding="utf-8")
    (tmp_path / "skip.pdf").write_bytes(b"%PDF")
    docs = load(tmp_path)
    assert sorted(d.text for d in docs) == ["other text", "same text"]
    assert from_string("same text", "x").id == next(d.id for d in docs if d.text == "same text")


def test_latin1_file_is_read_as_cp1252(tmp_path: Path):
    f = tmp_path / "latin.txt"
    f.write_bytes("caf\xe9".encode("latin-1"))
    doc = load_file(f)
    assert doc.text == "caf\u00e9"
    assert doc.meta["encoding"] == "cp1252"


def test_binary_file_gets_an_actionable_error(tmp_path: Path):
    f = tmp_path / "blob.txt"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    with pytest.raises(BadInput, match=r"holds binary data.*leave it out.*`file`"):
        load_file(f)


def test_missing_path_and_unsupported_type(tmp_path: Path):
    with pytest.raises(BadInput, match="does not exist"):
        load(tmp_path / "nope")
    f = tmp_path / "x.odt"
    f.write_bytes(b"PK")
    with pytest.raises(BadInput, match="unsupported file type"):
        load_file(f)


def test_a_configuration_sample_is_read_as_plain_text(tmp_path: Path):
    conf = "# Port to use for the default listener.\n#listener 1883\n\n# General configuration\n"
    for name in ("mosquitto.conf", "setup.cfg", "my.cnf", "php.ini"):  # .rst: docutils
        f = tmp_path / name
        f.write_text(conf)
        doc = load_file(f)
        assert doc.text == conf and doc.meta["format"] == "text"
