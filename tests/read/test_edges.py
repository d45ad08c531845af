"""Span edges: one line or cell, the code-like core, unpaired marks off the ends."""

from __future__ import annotations

import pytest

from qa.read.edges import (
    code_core,
    command_line,
    complete_date,
    only_marks,
    strip_marks,
    whole_token,
    within_block,
    within_row,
)


def span_of(rule, text: str, span: str) -> str:
    i = text.index(span)
    s, e = rule(text, i, i + len(span))
    return text[s:e]


@pytest.mark.parametrize(
    ("text", "span", "inside"),
    [
        ("Path\tDescription\n./obashdb\tdebugger", "./obashdb\tdebugger", False),  # cells
        ("Path\tDescription\n./obashdb\tdebugger", "Description\n./obashdb", False),
        ("the end.\n\nNext paragraph", "end.\n\nNext", False),
        ("Options:\n- --debug", "Options:\n- --debug", False),  # into a list item
        ("## Install\n1. Run it", "Install\n1. Run", False),
        ("best done to curl's Open Collective\nfund, a US", "Open Collective\nfund", True),
        ("Donate via Open Collective today", "Open Collective", True),
    ],
)
def test_within_block(text, span, inside) -> None:
    i = text.index(span)
    assert within_block(text, i, i + len(span)) is inside


@pytest.mark.parametrize(
    ("text", "span", "inside"),
    [
        # rows of "Name: value; " cells and columns aligned by spaces have no tabs
        ("Name: ptr; Kind: array of pointers\nName: obj; Kind: object",
         "array of pointers\nName: obj", False),
        ("Name: ptr; Kind: array of pointers", "array of pointers", True),
        ("tabulate     553.4         46.5\nplain        12.0          3.1", "553.4         46.5",
         False),
        ("tabulate     553.4         46.5\nplain        12.0          3.1", "553.4", True),
        ("best done to curl's Open Collective\nfund, a US", "Open Collective\nfund", True),
        ("the price; and the value", "price; and", True),  # prose, not a row
    ],
)  # fmt: skip
def test_within_row(text, span, inside) -> None:
    i = text.index(span)
    assert within_row(text, i, i + len(span)) is inside


@pytest.mark.parametrize(
    ("text", "span", "want"),
    [
        ("Use the --debug option here.", "the --debug option", "--debug"),
        ("Load it with the zsh/pcre module.", "zsh/pcre module", "zsh/pcre"),
        ("Try the --head (-I) option.", "the --head (-I) option", "--head (-I)"),
        ("Call curl’s --resolve to pin it.", "curl’s --resolve", "--resolve"),
        ("The auto_envvar_prefix parameter is set.", "auto_envvar_prefix parameter",
         "auto_envvar_prefix"),
        ("It reads ~/.netrc, ~/_netrc in turn.", "~/.netrc, ~/_netrc", "~/.netrc, ~/_netrc"),
        ("Ask the help desk.", "the help desk", "the help desk"),  # nothing code-like
    ],
)  # fmt: skip
def test_code_core_keeps_the_run_of_code_like_words(text, span, want) -> None:
    assert span_of(code_core, text, span) == want


@pytest.mark.parametrize(
    ("text", "span", "want"),
    [
        ("a sources.list` type", "list`", "list"),
        ("run `make install` now", "`make install`", "`make install`"),  # paired: kept
        ("run `make install now", "`make install", "make install"),
        ("the plan costs $40, then", "$40,", "$40"),
        ("they arrived in the U.S. in 1950", "U.S.", "U.S."),  # an abbreviation's stop
        ("the answer is Normandy. Then", "Normandy.", "Normandy"),
        ("the students’ union", "students’", "students’"),  # an apostrophe stays
        ("(Ramey) wrote it", "(Ramey)", "(Ramey)"),
        ("see Ramey) there", "Ramey)", "Ramey"),
    ],
)
def test_strip_marks_takes_unpaired_marks_off_the_ends(text, span, want) -> None:
    assert span_of(strip_marks, text, span) == want


@pytest.mark.parametrize(
    ("text", "span", "want"),
    [
        ("released September 20, 2022 at last", "September 20", "September 20, 2022"),
        ("on Sep 27 2014 it shipped", "Sep 27", "Sep 27 2014"),
        ("on September 20, then", "September 20", "September 20"),  # no year follows
        ("page 20, 2022 copies", "page 20", "page 20"),  # not a date
    ],
)
def test_complete_date_takes_in_the_year_after_a_month_and_day(text, span, want) -> None:
    assert span_of(complete_date, text, span) == want


@pytest.mark.parametrize(
    ("text", "span", "want"),
    [
        ("a separate package, requests-toolbelt, does", "toolbelt", "requests-toolbelt"),
        ("see ./loadables/sleep.c.", "c", "./loadables/sleep.c"),  # not the full stop
        ("set FLASK_SKIP_DOTENV=1", "SKIP_DOTENV", "FLASK_SKIP_DOTENV=1"),
        ("use --subject-prefix=<text> here", "<text>", "--subject-prefix=<text>"),
        ("raises ~requests.exceptions.ConnectionError.", "ConnectionError",
         "~requests.exceptions.ConnectionError"),
        ("written B’10101’ in binary", "10101", "10101"),  # quotes are not part of it
        ("a (220 m) tower", "220 m", "220 m"),
        ("runs apt-get indextargets", "indextargets", "indextargets"),  # a space: two words
        ("the word Normandy.", "Normandy", "Normandy"),  # a full stop does not join
        # a span that ends or starts on the joiner itself goes on to the word's end
        ("./configure option --disable-gui", "./", "./configure"),
        ("set MTOOLS_FAT_COMPATIBILITY in", "MTOOLS_FAT_", "MTOOLS_FAT_COMPATIBILITY"),
        ("the -nt operator", "-nt", "-nt"),
        ("**~25%** of codewords", "~25%", "~25%"),  # bold marks are no word
    ],
)  # fmt: skip
def test_whole_token_takes_in_the_word_a_joiner_splits(text, span, want) -> None:
    assert span_of(whole_token, text, span) == want


@pytest.mark.parametrize(
    ("text", "span", "want"),
    [
        ("create a new archive:\ngplib -c math.a mult.o add.o sub.o\n44", "-c",
         "gplib -c math.a mult.o add.o sub.o"),
        ("$ python -c 'import secrets; print(secrets.token_hex())'\n", "-c",
         "python -c 'import secrets; print(secrets.token_hex())'"),  # the prompt is left out
        ("# Generate your own with:\n#   openssl dhparam -out dh2048.pem 2048\n", "dhparam",
         "openssl dhparam -out dh2048.pem 2048"),  # a commented-out command
        ("dmypy status checks whether a daemon is running.", "status", "status"),  # prose
        ("run make -f LaTeX.mk to build the document", "make", "make"),  # stop words: prose
        ("see gplib -c math.a.", "-c", "-c"),  # a full stop ends a sentence, not a command
        ("Undo\tu\tundo -x the last change", "-x", "-x"),  # a table row's cell
        ("rsnapshot configtest", "configtest", "configtest"),  # no code-like word
        ("Gplib -c math.a", "-c", "-c"),  # a capital: a sentence, not a program's name
    ],
)  # fmt: skip
def test_command_line_takes_in_the_command_a_span_is_part_of(text, span, want) -> None:
    assert span_of(command_line, text, span) == want


@pytest.mark.parametrize(
    ("span", "marks"), [("`", True), ("' '", True), ("“”", True), ("_", False), ("!", False)]
)
def test_only_marks(span, marks) -> None:
    assert only_marks(span) is marks  # a key named "_" or "!" is an answer
