"""GNU Info manuals: nodes read back into headings, paragraphs, terms over their
descriptions, lists and examples; navigation (menus, the index, node lines, tag tables)
left out; a split manual's table left out for its parts."""

from __future__ import annotations

import gzip

import pytest

from qa.index.formats import Unsupported, extract, format_of
from qa.index.formats.info import SplitManual, read_info

PREAMBLE = """This is frob.info, produced by makeinfo version 6.8 from frob.texi.

This manual is for Frob, version 2.4.

INFO-DIR-SECTION Utilities
START-INFO-DIR-ENTRY
* frob: (frob).                 Frob files.
END-INFO-DIR-ENTRY

"""
NODES = [
    """File: frob.info,  Node: Top,  Next: Invoking,  Up: (dir)

Frob
****

This manual is for Frob, version 2.4.

* Menu:

* Invoking::                    How to run ‘frob’, with a description
                                  that wraps onto a second line.

 -- The Detailed Node Listing --

* Options::                     Every option.

""",
    """File: frob.info,  Node: Invoking,  Next: Options,  Prev: Top,  Up: Top

1 Invoking ‘frob’
*****************

The general synopsis of the ‘frob’ command line is

     frob [OPTION...] [FILE...]

   ‘frob’ reads each FILE in turn and frobs it in place, keeping a
backup copy of every file it changes unless ‘--no-backup’ is given.
*Note Options::.
""",
    """File: frob.info,  Node: Options,  Prev: Invoking,  Up: Invoking

1.1 Options
===========

‘-d DEPTH’
‘--depth=DEPTH’
     Frob at most DEPTH levels deep.  The default depth is 3; a depth
     of 0 frobs nothing at all (*note Invoking::).

     ‘-d’ is specified by POSIX.

‘-q’
     Print nothing.

   Exit status:
   • 0 if every file was frobbed,
   • 1 if a file could not be read,
     or was not a regular file.

 -- Function: int frob_file (const char *NAME, int DEPTH,
          int FLAGS)
     Frob the file NAME; return 0 on success.

""",
    """File: frob.info,  Node: Index,  Up: Top

Index
*****

\x00\x08[index\x00\x08]
* Menu:

* --depth:                               Options.               (line 6)
* -q:                                    Options.               (line 14)

""",
    """
Tag Table:
Node: Top94
Node: Invoking500

End Tag Table


Local Variables:
coding: utf-8
End:
""",
]
MANUAL = (PREAMBLE + "".join("\x1f\n" + n for n in NODES)).encode("utf-8")


def _read(data: bytes = MANUAL, name: str = "frob.info.gz") -> tuple[str, list[tuple[str, str]]]:
    x = extract(gzip.compress(data) if name.endswith(".gz") else data, name)
    return x.text, [(b.kind, x.text[b.start : b.end]) for b in x.blocks]


def test_info_names_are_info() -> None:
    assert format_of("grep.info.gz") == "info"
    assert format_of("frob.info") == "info"
    assert format_of("find.info-1.gz") == "info"
    assert format_of("find.info-12") == "info"
    with pytest.raises(Unsupported, match=r"\.info-1"):
        extract(b"x", "frob.infox")


def test_headings_paragraphs_and_examples() -> None:
    _, blocks = _read()
    assert ("heading", "Frob") in blocks
    assert ("heading", "1 Invoking frob") in blocks
    assert ("heading", "1.1 Options") in blocks
    assert ("code", "frob [OPTION...] [FILE...]") in blocks
    # a filled paragraph is one line; makeinfo's quotes around code are gone
    assert (
        "text",
        "frob reads each FILE in turn and frobs it in place, keeping a backup copy of every"
        " file it changes unless --no-backup is given. See Options.",
    ) in blocks
    x = extract(gzip.compress(MANUAL), "frob.info.gz")
    levels = {x.text[b.start : b.end]: b.level for b in x.blocks if b.kind == "heading"}
    assert levels == {"Frob": 1, "1 Invoking frob": 1, "1.1 Options": 2, "Index": 1}
    assert x.title == "Frob" and x.meta["manual"] == "frob"


def test_a_term_opens_its_description() -> None:
    _, blocks = _read()
    assert (
        "text",
        "-d DEPTH\n--depth=DEPTH\nFrob at most DEPTH levels deep. The default depth is 3;"
        " a depth of 0 frobs nothing at all (see Invoking).",
    ) in blocks
    assert ("text", "-d is specified by POSIX.") in blocks
    assert ("text", "-q\nPrint nothing.") in blocks
    assert (
        "text",
        "Function: int frob_file (const char *NAME, int DEPTH, int FLAGS)\n"
        "Frob the file NAME; return 0 on success.",
    ) in blocks


def test_lists() -> None:
    _, blocks = _read()
    assert ("text", "Exit status:") in blocks
    assert (
        "list",
        "0 if every file was frobbed,\n1 if a file could not be read, or was not a regular file.",
    ) in blocks


def test_navigation_is_not_text() -> None:
    text, _ = _read()
    for gone in ("File:", "Menu", "Detailed Node Listing", "(line 6)", "Tag Table", "coding:"):
        assert gone not in text
    assert "*Note" not in text and "‘" not in text and "\x00" not in text
    # the preamble, which the first node repeats, is read once
    assert text.count("This manual is for Frob, version 2.4.") == 1


def test_a_split_manuals_table_is_left_out_for_its_parts() -> None:
    table = (
        PREAMBLE + "\x1f\nIndirect:\nfrob.info-1: 94\nfrob.info-2: 30000\n\x1f\nTag Table:\n"
        "(Indirect)\nNode: Top94\n\x1f\nEnd Tag Table\n"
    ).encode()
    with pytest.raises(SplitManual, match=r"frob\.info-1, frob\.info-2") as e:
        extract(gzip.compress(table), "frob.info.gz")
    assert e.value.reason == "duplicate"
    part = (PREAMBLE + "\x1f\n" + NODES[2]).encode()
    _, blocks = _read(part, "frob.info-2.gz")
    assert ("heading", "1.1 Options") in blocks


def test_manuals_without_curly_quotes() -> None:
    node = (
        "File: f.info,  Node: Top,  Up: (dir)\n\nf\n*\n\n"
        "Call 'ffi_call' with the users' values; don't quote.\n"
    )
    x = read_info((PREAMBLE + "\x1f\n" + node).encode())
    assert "Call ffi_call with the users' values; don't quote." in x.text


def test_a_file_named_info_holding_no_nodes_is_text() -> None:
    x = extract(b"name = Frob\ncore = 7.x\n", "frob.info")
    assert "core = 7.x" in x.text


def test_compressed_bytes_of_a_stated_format_are_unpacked_whatever_their_name() -> None:
    x = extract(gzip.compress(MANUAL), "upload.bin", "info")
    assert x.title == "Frob" and "--depth=DEPTH" in x.text


def _node(body: str) -> list[tuple[str, str]]:
    x = read_info((PREAMBLE + "\x1f\nFile: f.info,  Node: Top,  Up: (dir)\n\n" + body).encode())
    return [(b.kind, x.text[b.start : b.end]) for b in x.blocks]


def test_term_lists_nested_and_run_together() -> None:
    blocks = _node(
        "‘--backup[=METHOD]’\n"
        "     Make a backup of each file.  The valid METHODs are:\n\n"
        "     ‘none’\n     ‘off’\n          Never make backups.\n\n"
        "     ‘numbered’\n     ‘t’\n          Always make numbered backups.\n\n"
        "‘--preserve’\n     Preserve these:\n\n"
        "     ‘mode’\n          Preserve the file mode bits.\n"
        "     ‘ownership’\n          Preserve the owner and group.\n\n"
        "   Back in the running text.\n"
    )
    for item in (
        "none\noff\nNever make backups.",
        "numbered\nt\nAlways make numbered backups.",  # after another item, not an example
        "mode\nPreserve the file mode bits.",
        "ownership\nPreserve the owner and group.",  # no blank line between the items
    ):
        assert ("text", item) in blocks
    assert ("text", "Back in the running text.") in blocks


def test_grouped_and_consecutive_definitions() -> None:
    blocks = _node(
        " -- Test: -atime n\n -- Test: -ctime n\n     True if the file was accessed N days ago.\n\n"
        " -- Constant: KEY_SIZE\n     The key size, 16.\n -- Constant: DIGEST_SIZE\n"
        "     The digest size, 4.\n"
    )
    assert blocks == [
        ("text", "Test: -atime n\nTest: -ctime n\nTrue if the file was accessed N days ago."),
        ("text", "Constant: KEY_SIZE\nThe key size, 16."),
        ("text", "Constant: DIGEST_SIZE\nThe digest size, 4."),
    ]


def test_emphasis_is_unmarked_in_text_not_in_code() -> None:
    blocks = _node(
        "*Returns:* ASN1_SUCCESS when it is _not_ empty; N*24 hours.\n\n"
        "     char *p = *q; int snake_case_name_;\n"
    )
    assert ("text", "Returns: ASN1_SUCCESS when it is not empty; N*24 hours.") in blocks
    assert ("code", "char *p = *q; int snake_case_name_;") in blocks
