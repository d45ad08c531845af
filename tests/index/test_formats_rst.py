"""reStructuredText: read through docutils with its sections, tables and definition lists,
markup gone, Sphinx's directives and roles read for their text, and nothing reached outside
the page (no include, no raw HTML, no configuration file)."""

from __future__ import annotations

import gzip

import pytest

from qa.index import ingest
from qa.index.formats import extract, format_of
from qa.index.formats import rst as rst_format

PAGE = b"""\
=======
Frobnik
=======

:Author: Ann Example

Frobnik frobs files; the default mode is ``fast``. See :func:`~frob.core.frob_all`,
:ref:`the setup guide <setup>` and :unknownrole:`odd`.

.. toctree::

   install

Options
-------

-v, --verbose   Print every file frobbed.

.. option:: --dry-run

   Show what would be frobbed, frob nothing.

.. versionadded:: 2.1
   The ``--dry-run`` option.

.. code-block:: python

   frob.frob_all("/tmp")

.. autoclass:: frob.Frobber
   :members:

Settings
--------

+------------------+---------+
| Setting          | Default |
+==================+=========+
| ``frob.depth``   | ``3``   |
+------------------+---------+

=====  ======
Level  Colour
=====  ======
error  red
=====  ======

.. confval:: frob.retries
   :default: 5

   How often to retry.
"""


def _blocks(ex) -> list[tuple[str, str]]:
    return [(b.kind, ex.text[b.start : b.end]) for b in ex.blocks]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("README.rst", "rst"), ("guide.rest", "rst"), ("README.rst.gz", "rst"), ("x.txt", "text")],
)
def test_rst_files_are_rst(name: str, fmt: str) -> None:
    assert format_of(name) == fmt


def test_sections_markup_and_title() -> None:
    ex = extract(PAGE, "README.rst")
    assert ex.title == "Frobnik"
    assert ex.meta["format"] == "rst"
    headings = [t for k, t in _blocks(ex) if k == "heading"]
    assert headings == ["Frobnik", "Options", "Settings"]
    assert "the default mode is fast." in ex.text  # ``fast``, markup gone
    assert "``" not in ex.text and ":func:" not in ex.text


def test_a_title_field_names_a_page_without_a_title() -> None:
    ex = extract(b":title: S3 &amp; More\n\nBody.\n\nPart\n====\n\nText.\n", "s3.rst")
    assert ex.title == "S3 &amp; More"
    # no title, no field: a README whose badge comes first is named by its one top heading
    readme = b".. image:: badge.svg\n\nColorama\n========\n\nText.\n\nUsage\n-----\n\nMore.\n"
    assert extract(readme, "README.rst").title == "Colorama"
    # a changelog's entries are its top headings: none of them names it
    changes = b"Version 2.2.0\n-------------\n\nA.\n\nVersion 2.1.2\n-------------\n\nB.\n"
    assert extract(changes, "CHANGES.rst").title == ""


def test_an_admonition_opens_its_text() -> None:
    ex = extract(b"Title\n=====\n\n.. note::\n\n   Frobbing is idempotent.\n", "n.rst")
    assert ("text", "Note: Frobbing is idempotent.") in _blocks(ex)


def test_definitions_stay_with_their_terms() -> None:
    blocks = [t for _, t in _blocks(extract(PAGE, "README.rst"))]
    assert "Author:\nAnn Example" in blocks  # a field list
    assert "-v, --verbose\nPrint every file frobbed." in blocks  # an option list
    assert "--dry-run\nShow what would be frobbed, frob nothing." in blocks  # Sphinx's option
    assert any(b.startswith("frob.retries\nHow often to retry.") for b in blocks)
    assert "default: 5" in extract(PAGE, "README.rst").text


def test_tables_are_tables() -> None:
    tables = [t for k, t in _blocks(extract(PAGE, "README.rst")) if k == "table"]
    assert "Setting: frob.depth; Default: 3" in tables[0]
    assert "Level: error; Colour: red" in tables[1]


def test_sphinx_directives_and_roles_read_for_their_text() -> None:
    ex = extract(PAGE, "README.rst")
    assert "See frob_all, the setup guide and odd." in " ".join(ex.text.split())
    assert "New in version 2.1: The --dry-run option." in ex.text
    assert ("code", 'frob.frob_all("/tmp")') in _blocks(ex)
    assert "install" not in ex.text  # a table of contents names other files
    assert "Frobber" not in ex.text  # autodoc's text is in code, not in the page


def test_nothing_outside_the_page_is_read(tmp_path, monkeypatch) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOKEN-7f3a\n")
    # a docutils.conf where the reader runs must not switch insertion back on
    (tmp_path / "docutils.conf").write_text(
        "[general]\nfile_insertion_enabled: yes\nraw_enabled: yes\n"
    )
    monkeypatch.chdir(tmp_path)
    page = (
        f"Title\n=====\n\n.. include:: {secret}\n\n.. raw:: html\n   :file: {secret}\n\n"
        ".. raw:: html\n\n   <p>RAW-9c1e</p>\n\n"
        f".. csv-table:: t\n   :file: {secret}\n\n.. csv-table:: u\n   :url: file://{secret}\n\n"
        "Body text.\n"
    ).encode()
    ex = extract(page, "evil.rst")
    assert "Body text." in ex.text
    assert "TOKEN-7f3a" not in ex.text and "RAW-9c1e" not in ex.text
    assert ex.meta["rst_not_included"] == [f"include {secret}"]


def test_what_a_page_would_include_is_named_in_the_log(caplog) -> None:
    page = b"Title\n=====\n\n.. include:: ../CHANGES.rst\n\n.. literalinclude:: ../LICENSE\n"
    extract(page, "index.rst")
    said = "index.rst: other files it includes are not read: include ../CHANGES.rst; "
    assert said + "literalinclude ../LICENSE" in caplog.text


def test_an_issue_role_reads_as_its_number() -> None:
    ex = extract(b"Fixed a crash. :issue:`299` :pr:`12` :issue:`see this <1>`\n", "n.rst")
    assert "Fixed a crash. #299 #12 see this" in ex.text


def test_a_page_docutils_fails_on_is_read_as_text(monkeypatch, caplog) -> None:
    def broken(source: str) -> str:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(rst_format, "to_html", broken)
    ex = extract(b"Title\n=====\n\nSome text.\n", "README.rst")
    assert "Some text." in ex.text
    assert ex.meta["rst_error"] == "docutils failed (RuntimeError: parser bug)"
    assert "README.rst: reStructuredText read as plain text: docutils failed" in caplog.text


def test_crafted_markup_runs_out_of_time_and_is_read_as_text(monkeypatch) -> None:
    # quadratic in docutils' inline parser: seconds for 100 KB, hours for a few MB
    monkeypatch.setattr(rst_format, "TIMEOUT_S", 0.5)
    soup = "\n".join("**a *b ``c `d`_ :x:`y` " * 10 for _ in range(400)) + "\n"
    ex = extract(soup.encode(), "soup.rst")
    assert ex.meta["rst_error"] == "docutils did not finish in 0.5 s"
    assert "``c `d`_" in ex.text  # every character kept, as plain text


def test_a_line_too_long_for_docutils_is_read_as_text() -> None:
    ex = extract(b"Title\n=====\n\n" + b"word " * 3000 + b"\n\nAfter.\n", "long.rst")
    assert ex.meta["rst_error"].startswith("a line of 15,000 characters")
    assert "After." in ex.text


def test_what_docutils_cannot_parse_is_kept_as_written() -> None:
    page = b"Title\n=====\n\n+---+---+\n| a | b\n+---+---+\n\nAfter.\n"
    ex = extract(page, "bad.rst")
    assert "| a | b" in ex.text and "After." in ex.text
    assert "System Message" not in ex.text and "Malformed" not in ex.text
    assert ex.meta["rst_problems"] == 1


def test_a_folder_of_rst_indexes(tmp_path) -> None:
    (tmp_path / "README.rst").write_bytes(PAGE)
    (tmp_path / "NEWS.rst.gz").write_bytes(gzip.compress(b"News\n====\n\n* ``1.0``: first.\n"))
    scan = ingest.scan(tmp_path)
    assert sorted(d.title for d in scan.documents) == ["Frobnik", "News"]
    assert not scan.skipped
    news = next(d for d in scan.documents if d.title == "News")
    assert "1.0: first." in news.text
