"""Where an answer span may lie and where it ends: rules applied to the reader's spans.

- ``within_block``: an answer stays inside one line or one table cell. Documentation is
  laid out in lines, list items and cells; a span across a line break or a tab joins
  words that do not belong together ("Open Collective\\nfund"); ``within_row``, the same
  for rows without tabs ("553.4         46.5", two aligned columns).
- ``code_core``: to a question asking for a command, option or other code-like name, an
  answer like "the --debug option" or "zsh/pcre module" is the name alone: the words
  around the code-like tokens that merely say what it is are left out.
- ``strip_marks``: backticks, quotes and trailing punctuation left unpaired at a span's
  ends are markup, not answer ("list`" → "list"); a span of quotes alone is none.
- ``whole_token``: a span that starts or ends inside a word joined by ``-_./~:=@$+#``
  ("toolbelt" in "requests-toolbelt", "c" in "./loadables/sleep.c") takes in the whole
  word: the reader's word-pieces split there, a name or path does not.
- ``command_line``: to a question asking for a command, a span inside a line that is a
  command ("gplib -c math.a mult.o", "$ python -c '...'") is the whole line: the reader
  tends to pick the one option ("-c") of the command asked for.
"""

from __future__ import annotations

import re

from qa.core.text import stop_words
from qa.read.answer_type import looks_like_code
from qa.read.rows import is_row

_CELL = re.compile(r"[\t\f\v]")
_ROW_GAP = re.compile(r" {3}")  # between columns aligned by spaces
_NEW_BLOCK = re.compile(r"\n[ \t]*(?:\n|[-*+#|>]|\d+[.)]\s)")
_MONTH_DAY = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?$",
    re.I,
)
_YEAR_AFTER = re.compile(r"^,?\s?\d{4}\b")
_WORD = re.compile(r"\S+")
_OPENERS = "`'\"“‘([{"
_CLOSERS = '`"”)]}'  # not ' or ’: at a word's end they are mostly apostrophes
_TRAILING = ",;:!?"
_QUOTES = "`'\"“”‘’"
_JOINERS = "-_./~:=@$+#"
_NOT_IN_TOKEN = "`'\"“”‘’()[]{},;"  # marks that end a token's run before whitespace does
_PROMPT = re.compile(r"[ \t]*(?:[$%>#][ \t]*)?")  # a shell prompt or a comment's mark
_PROGRAM = re.compile(r"^[a-z][a-z0-9_.+-]*$")
_COMMAND_WORDS = 12  # a longer line is prose or a script, not one command


def within_block(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` lies inside one paragraph, list item, heading or table
    cell: no tab, no blank line, no line break before a list, heading or table line (a
    line break inside wrapped prose is allowed)."""
    span = text[start:end]
    if _CELL.search(span) or _NEW_BLOCK.search(span):
        return False
    if "\n" not in span:
        return True
    # a line break between table rows: the lines it joins are laid out in cells
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", end)
    return not _CELL.search(text[lo : len(text) if hi < 0 else hi])


def within_row(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` keeps to one cell of the rows it lies in that have no
    tabs: no line break between such rows, no gap between columns aligned by spaces.
    (Applied after a span is cut to its cell's value, ``qa.read.rows.value_only``, which
    makes a cell of "fast-glob: baseNameMatch\\nnode-glob: nodir".)"""
    span = text[start:end]
    if "\n" not in span and not _ROW_GAP.search(span):
        return True
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", end)
    return not any(map(is_row, text[lo : len(text) if hi < 0 else hi].splitlines()))


def code_core(text: str, start: int, end: int) -> tuple[int, int]:
    """The run of code-like words in ``text[start:end]`` (first to last), when the span
    holds one and other words besides; else the span unchanged."""
    words = [(m.start() + start, m.end() + start) for m in _WORD.finditer(text[start:end])]
    code = [i for i, (s, e) in enumerate(words) if looks_like_code(text[s:e])]
    if not code or len(code) == len(words):
        return start, end
    return words[code[0]][0], words[code[-1]][1]


def whole_token(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` widened to the whitespace-delimited token it starts or ends
    inside, when a joiner (``-_./~:=@$+#``) is what splits it there (on either side of the
    cut); quotes, brackets and a sentence's closing punctuation are never taken in."""
    s = start
    while s > 0 and not text[s - 1].isspace() and text[s - 1] not in _NOT_IN_TOKEN:
        s -= 1
    e = end
    while e < len(text) and not text[e].isspace() and text[e] not in _NOT_IN_TOKEN:
        e += 1
    while e > end and text[e - 1] in ".:!?":  # "sleep.c." ends a sentence
        e -= 1
    # joined where the word goes on past a joiner: at the span's edge or just outside it
    # ("MTOOLS_FAT_" in "MTOOLS_FAT_COMPATIBILITY", "./" in "./configure")
    joined_before = s < start and (
        text[start - 1] in _JOINERS or (text[start] in _JOINERS and text[start - 1].isalnum())
    )
    joined_after = e > end and (
        text[end] in _JOINERS or (text[end - 1] in _JOINERS and text[end].isalnum())
    )
    return (s if joined_before else start), (e if joined_after else end)


def only_marks(span: str) -> bool:
    """Whether a span is nothing but quotes and backticks: markup ``strip_marks`` cannot
    empty, never an answer."""
    return not span.strip(_QUOTES + " \t\n")


def strip_marks(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` without trailing punctuation or a quote, backtick or bracket at
    either end that has no partner inside the span (never emptied)."""
    changed = True
    while changed and end - start > 1:
        changed = False
        span = text[start:end]
        last, first = span[-1], span[0]
        if (
            last in _TRAILING
            or _full_stop(span)
            or (last in _CLOSERS and not _paired(span, len(span) - 1))
        ):
            end, changed = end - 1, True
        elif first in _OPENERS and not _paired(span, 0):
            start, changed = start + 1, True
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
    return start, end


def _full_stop(span: str) -> bool:
    """A sentence's full stop at the span's end, not an abbreviation's ("U.S.", "Inc.")."""
    word = span.split()[-1]
    return word.endswith(".") and "." not in word[:-1] and len(word) > 4


def _paired(span: str, at: int) -> bool:
    """Whether the mark at ``span[at]`` has its partner elsewhere in ``span``."""
    mark = span[at]
    pairs = {"(": ")", "[": "]", "{": "}", "“": "”", "‘": "’"}
    partner = pairs.get(mark) or {v: k for k, v in pairs.items()}.get(mark) or mark
    rest = span[:at] + span[at + 1 :]
    if partner == mark:
        return mark in rest
    return partner in (span[at + 1 :] if mark in pairs else span[:at])


def complete_date(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` with the year that follows a month and day ("September 20"
    in "September 20, 2022") taken in."""
    if _MONTH_DAY.search(text[start:end]):
        m = _YEAR_AFTER.match(text[end : end + 7])
        if m:
            end += m.end()
    return start, end


def command_line(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole line ``text[start:end]`` lies in, less its prompt or comment mark, when
    that line reads as one shell command: a program's name first, then words of which
    one at least is code-like, no stop word ("the", "to") and no closing full stop;
    else the span unchanged."""
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", end)
    hi = len(text) if hi < 0 else hi
    if "\n" in text[start:end] or _CELL.search(text[lo:hi]):
        return start, end
    s = _PROMPT.match(text, lo, hi).end()  # type: ignore[union-attr]
    e = hi
    while e > s and text[e - 1].isspace():
        e -= 1
    words = text[s:e].split()
    if not 2 <= len(words) <= _COMMAND_WORDS or not _PROGRAM.match(words[0]):
        return start, end
    stops = stop_words()
    if text[e - 1] == "." or any(w.lower() in stops for w in words):
        return start, end
    if not any(looks_like_code(w) for w in words[1:]) or end <= s:
        return start, end
    return s, e
