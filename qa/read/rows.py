"""Table rows in a passage: which row a question names.

A question about a table names its row by a cell ("What is the default of maxLength?",
"Which code means Reverse Oblique?") and asks for another cell of the same row. The reader,
which learned from prose, often takes the asked-for column from a neighbouring row
("2.620" for "Mazda RX4 Wag", whose weight is on the next line) or a cell's column name.
``prefer_named_rows`` lets the spans in a row that holds the question's words outside the
span gain: the words counted are those rare in the passage (a column name repeated in every
``Name: value`` row names no row), and a span inside a cell's name gains nothing. Within
the named row, a span that is a whole cell gains more when the question names its column
("What PostgreSQL type does a Python Decimal become?": the cell under "PostgreSQL" of the
row holding "Decimal"): the cell's own name in a ``Name: value`` row, the header above it
in a Markdown table.

A term over its description is such a row of two cells: a man page's option ("-k --keep"
over "Keep (don't delete) input files"), a configuration keyword, an exit status over what
it means. To a question asking for an option, a name or an exit status, a span in the
term's line gains as its description holds the question's rare terms (stemmed; the words
that only say what kind of name is asked, "option", "variable", left out); in an option's
line only a span that starts at an option gains, not its argument or the command.

A value said with its condition ("0 if a line is selected, 1 if no lines were selected";
"If a warning occurs, exit status is 2") is bound by that condition: to a question that
asks under one ("... if no lines were selected?"), the value whose condition it restates
gains (negations count).
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from qa.core.text import terms
from qa.core.types import Hit
from qa.read.answer_type import CODE, asked_kind, looks_like_code, reweigh

if TYPE_CHECKING:
    from qa.read.decide import Candidate

# a table row as qa lays rows out: "Name: value; Name: value" cells from the line's start
# (a name may hold a bracketed part, "Size (bytes)", but prose with a bracket left open,
# "The Normans (Norman: Nourmands; French: Normands)", is no row), "| a | b |" (Markdown),
# tab-separated cells, or columns aligned by runs of spaces (plain text)
TABLE_ROW = re.compile(
    r"^(?=[^:\n]{1,60}: )(?:[^;:()\n]|\([^;:()\n]*\))+: [^\n]*; [^;\n]{1,60}: "
    r"|^\s*\|.*\||\t|\S {3,}\S.* {3,}\S"
)
_CELL_NAME = re.compile(r"(?:^|; )([^;:\n]{1,60}): ")
_PIPE_ROW = re.compile(r"^\s*\|", re.M)
_DELIMITER_ROW = re.compile(r"^\s*\|?\s*:?-{3,}", re.M)  # under a Markdown table's header
# a version or decimal is one word: "Node 4" names no row of "0.4" or "4.0.0"
_WORD = re.compile(r"[^\W_]*\d(?:\.\d+)+|[^\W_]+")
_MARKS = " \t`*_\"'"  # around a cell's value: "`boolean`" is the cell "boolean"
# words that name no row: question words and the commonest function words
_STOP = frozenset(
    _WORD.findall(
        "a an the of in on at to for from by with as and or not no is are was were be been "
        "being do does did done has have had what which who whom whose when where why how "
        "that this these those there it its can could should would will shall may might "
        "must than then into onto about per via if so any each every some one"
    )
)


def words(text: str) -> set[str]:
    """The lower-cased words of ``text`` (letters and digits; "fr-ch" is "fr" and "ch",
    "1.0.3" one word)."""
    return set(_WORD.findall(text.lower()))


def is_row(line: str) -> bool:
    """Whether a line is a table row (see ``TABLE_ROW``)."""
    # the pattern backtracks over a long line of prose: look for a cell's mark first
    marks = "; " in line or "|" in line or "\t" in line or "   " in line
    return marks and bool(TABLE_ROW.search(line))


@lru_cache(maxsize=256)
def _rare_words(text: str) -> frozenset[str]:
    """The words of a passage that few of its lines hold: at most a third of them (one, in
    a table of up to five lines), so a column name repeated in every row, or a word of every
    line, is not one; nor is a word of a Markdown header (column names name no row). Where
    the passage holds two rows or more, only rows count: a word that sets one row apart
    stays rare when the prose around the table repeats it ("route type only supporting
    output hook" under the row of the route type)."""
    lines, names, in_rows = [], set(), []
    for lo, (hi, row, header) in zip(*_lines(text), strict=True):
        if header:
            names |= words(text[lo:hi])
        elif text[lo:hi].strip():
            lines.append(words(text[lo:hi]))
            if row:
                in_rows.append(lines[-1])
    return _in_few(in_rows if len(in_rows) >= 2 else lines) - names


def _in_few(lines: Sequence[set[str]]) -> frozenset[str]:
    """The words that at most a third of ``lines`` hold (one, up to five lines)."""
    counts: dict[str, int] = {}
    for ws in lines:
        for w in ws:
            counts[w] = counts.get(w, 0) + 1
    most = max(1, len(lines) // 3)
    return frozenset(w for w, n in counts.items() if n <= most)


def in_cell_name(line: str, start: int, end: int) -> bool:
    """Whether ``line[start:end]`` lies inside a cell's name ("English Translation" in
    "Code: 60; English Translation: SemiBold")."""
    return any(m.start(1) <= start and end <= m.end(1) for m in _CELL_NAME.finditer(line))


def is_header(text: str, lo: int, hi: int) -> bool:
    """Whether the line ``text[lo:hi]`` is a Markdown table's header (column names)."""
    return bool(_PIPE_ROW.match(text, lo)) and bool(_DELIMITER_ROW.match(text, hi + 1))


@lru_cache(maxsize=256)
def _lines(text: str) -> tuple[tuple[int, ...], tuple[tuple[int, bool, bool], ...]]:
    """A passage's line starts, and each line's end, whether it is a table row and whether
    a header row: worked out once a passage, not once a span."""
    starts, lines = [], []
    at = 0
    for line in text.split("\n"):
        hi = at + len(line)
        starts.append(at)
        lines.append((hi, is_row(line), is_header(text, at, hi)))
        at = hi + 1
    return tuple(starts), tuple(lines)


def has_rows(text: str) -> bool:
    """Whether a passage holds a table row."""
    return any(row for _, row, _ in _lines(text)[1])


# A term and its description are a row of two cells: "-k, --keep\nKeep (don't delete)
# input files" (a man page's option, a configuration keyword, an exit status): a short line
# that opens a block, with no sentence end, and the block's lines under it.
_TERM_WORDS = 8
_SENTENCE_END = tuple(".:;,?!")


@lru_cache(maxsize=256)
def _terms(text: str) -> tuple[tuple[int, int, int], ...]:
    """Each term line of a passage: its start and end, and where its description ends."""
    out = []
    for m in re.finditer(r"(?:^|\n\n)([^\n]+)\n(?=[^\n]*\S)", text):
        lo, hi = m.start(1), m.end(1)
        line = text[lo:hi].strip()
        if not line or len(line.split()) > _TERM_WORDS or line.endswith(_SENTENCE_END):
            continue
        if is_row(line) or not _names_something(line):
            continue
        end = text.find("\n\n", hi)
        end = len(text) if end < 0 else end
        if len(text[hi + 1 : end].split()) >= 3:
            out.append((lo, hi, end))
    return tuple(out)


# the words that say what kind of name is asked for, not which one
_FRAME = (
    "option flag switch command program keyword directive setting variable parameter "
    "argument value status code exit return default file"
)
_ASKS_STATUS = re.compile(r"\b(?:exit|return)\s+(?:status|value|code)s?\b", re.I)


@lru_cache(maxsize=64)
def asks_term(question: str) -> bool:
    """Whether a question asks for a name a description goes with: an option, keyword,
    variable, file (a code-like answer), or an exit status."""
    return asked_kind(question) == CODE or bool(_ASKS_STATUS.search(question))


# A value said with its condition: "the exit status is 0 if a line is selected, 1 if no
# lines were selected", "If a warning occurs, exit status is 2." To a question asking under
# a condition ("... if no lines were selected?"), the value whose own condition it restates
# gains. Negations count: they are what tells "a line is selected" from "no lines were".
_QUESTION_IF = re.compile(r"\s\b(?:if|when|whenever)\s+(.+)", re.I)
_IF_AFTER = re.compile(r"\s*\b(?:if|when|whenever)\s+([^,;.]+)", re.I)
_IF_BEFORE = re.compile(r"\b(?:if|when|whenever)\s+([^,;.]+),[^,;.]*$", re.I)
_NEGATIONS = frozenset(("no", "not", "never", "none", "nothing", "nonzero", "without"))


def _condition_terms(clause: str) -> set[str]:
    """A condition's stemmed terms, and its negations (stop words elsewhere)."""
    said = set(re.findall(r"[a-z']+", clause.lower()))
    return set(terms(clause)) | (said & _NEGATIONS) | ({"not"} if "n't" in clause else set())


def _condition(text: str, start: int, end: int) -> str | None:
    """The condition ``text[start:end]`` is said under in its sentence: the "if ..." clause
    right after it, or the one that leads into it."""
    lo = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start), text.rfind("; ", 0, start))
    ends = [i for i in (text.find(". ", end), text.find("\n", end), text.find("; ", end)) if i >= 0]
    hi = min(ends) if ends else len(text)
    after = _IF_AFTER.match(text, end, hi)
    if after:
        return after.group(1)
    before = _IF_BEFORE.search(text[lo + 1 : start])
    return before.group(1) if before else None


def asks_condition(question: str) -> bool:
    """Whether a question asks under a condition ("... if no lines were selected?")."""
    return bool(_QUESTION_IF.search(question.strip()))


def condition_binding(question: str, text: str, start: int, end: int) -> float:
    """How much the condition ``text[start:end]`` is said under restates the one the
    question asks under (0 when either has none)."""
    asked = _QUESTION_IF.search(question.strip().rstrip("?"))
    if not asked:
        return 0.0
    said = _condition(text, start, end)
    if said is None:
        return 0.0
    want = _condition_terms(asked.group(1))
    if not want:
        return 0.0
    got = _condition_terms(said)
    return len(want & got) / len(want | got)


def _names_something(line: str) -> bool:
    """Whether a line reads as a name, not a title: a code-like word ("-k", "Storage=",
    "/etc/skel"), a number (an exit status), or one lower-case word ("nofail")."""
    ws = line.split()
    return any(map(looks_like_code, ws)) or line.isdigit() or (len(ws) == 1 and line.islower())


def term_binding(question: str, text: str, start: int, end: int) -> float:
    """How much the description under the term line holding ``text[start:end]`` is what
    the question asks about: the share of the question's terms rare in the passage (in at
    most a third of its lines) that the description holds (0 outside a term line)."""
    if not asks_term(question):
        return 0.0
    found = next(((lo, hi, e) for lo, hi, e in _terms(text) if lo <= start and end <= hi), None)
    if found is None:
        return 0.0
    line, span = text[found[0] : found[1]], text[start:end].split()
    if any(w.startswith("-") for w in line.split()) and not (span and span[0].startswith("-")):
        return 0.0  # in an option's line the option answers, not its argument or the command
    asked = (set(terms(question)) & _rare_terms(text)) - _frame_terms()
    if not asked:
        return 0.0
    return len(asked & set(terms(text[found[1] : found[2]]))) / len(asked)


@lru_cache(maxsize=256)
def _rare_terms(text: str) -> frozenset[str]:
    """The stemmed terms of a passage that at most a third of its lines hold."""
    return _in_few([set(terms(ln)) for ln in text.split("\n") if ln.strip()])


@lru_cache(maxsize=1)
def _frame_terms() -> frozenset[str]:
    return frozenset(terms(_FRAME))


def _row_line(text: str, start: int, end: int) -> tuple[int, str] | None:
    """The start and text of the table row (not a header) that holds ``text[start:end]``
    whole (None: prose, a header, or across lines)."""
    starts, lines = _lines(text)
    i = bisect.bisect_right(starts, start) - 1
    lo, (hi, row, header) = starts[i], lines[i]
    return (lo, text[lo:hi]) if end <= hi and row and not header else None


def row_binding(question: str, text: str, start: int, end: int) -> float:
    """How much the row holding ``text[start:end]`` is the one the question names: the
    share of the question's words rare in the passage that the row holds outside the span
    (0 outside a table row, for a span in a cell's name or in a header row)."""
    found = _row_line(text, start, end)
    if found is None:
        return term_binding(question, text, start, end) or condition_binding(
            question, text, start, end
        )
    if in_cell_name(found[1], start - found[0], end - found[0]):
        return 0.0
    asked = (words(question) - _STOP) & _rare_words(text)
    if not asked:
        return 0.0
    lo, line = found
    outside = words(line[: start - lo]) | words(line[end - lo :])
    return len(asked & outside) / len(asked)


def _stem(word: str) -> str:
    """``word`` without a plural's s ("types" names the column "Type")."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _content(text: str) -> set[str]:
    return {_stem(w) for w in words(text) - _STOP}


def _whole(value: str, span: str) -> bool:
    """Whether ``span`` is the whole of the cell ``value`` (its marks and spaces aside)."""
    return value.strip(_MARKS) == span.strip(_MARKS)


def _named_cells(line: str) -> list[tuple[re.Match[str], int]]:
    """A ``Name: value;`` row's cells: each name's match and where its value ends (none
    when the line does not start with a cell's name)."""
    names = list(_CELL_NAME.finditer(line))
    if not names or names[0].start() != 0:
        return []
    ends = [m.start() for m in names[1:]] + [len(line)]
    return list(zip(names, ends, strict=True))


def _pipe_cells(line: str) -> list[str]:
    """A Markdown row's cells, as written."""
    return line.strip().strip("|").split("|")


def value_only(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` without the cell's name it starts with ("Bcrypt Version: >= 1.0.3"
    is the cell ">= 1.0.3"), where it ends inside that cell's value; a span from inside one
    cell's value into the next cell ends with that value ("AWS_DEFAULT_OUTPUT; Description:
    Default output st" is "AWS_DEFAULT_OUTPUT"), and so does one into the next row."""
    found = _row_line(text, start, min(end, _line_end(text, start)))
    if found is None:
        return start, end
    lo, line = found
    s, e = start - lo, end - lo
    if e > len(line) and not _named_cells(line):
        return start, end  # across rows of another kind of table: not this rule's to cut
    for m, v_end in _named_cells(line):
        if s <= m.start(1) < m.end() < e <= v_end:
            return lo + m.end(), end
        if m.end() <= s < v_end < e and line[s:v_end].strip():
            return start, lo + len(line[:v_end].rstrip())
    return start, end


def _line_end(text: str, at: int) -> int:
    """Where the line holding ``text[at]`` ends."""
    end = text.find("\n", at)
    return len(text) if end < 0 else end


def column_name(text: str, start: int, end: int) -> str | None:
    """The name of the column whose whole cell is ``text[start:end]``: the cell's own name
    in a ``Name: value;`` row, the header's cell above it in a Markdown table (None
    elsewhere, or for part of a cell)."""
    found = _row_line(text, start, end)
    if found is None:
        return None
    lo, line = found
    s, e = start - lo, end - lo
    cells = _named_cells(line)
    if cells:
        for m, v_end in cells:
            if m.end() <= s and e <= v_end:
                return m.group(1) if _whole(line[m.end() : v_end], line[s:e]) else None
        return None
    if not _PIPE_ROW.match(line) or "|" in line[s:e]:
        return None
    col = line[:s].count("|") - 1
    if not _whole(_pipe_cells(line)[col], line[s:e]):
        return None
    starts, lines = _lines(text)
    for j in range(bisect.bisect_right(starts, start) - 2, -1, -1):  # up the table's rows
        h_lo, (h_hi, _, h_header) = starts[j], lines[j]
        if h_header:
            names = _pipe_cells(text[h_lo:h_hi])
            return names[col] if col < len(names) else None
        if not _PIPE_ROW.match(text, h_lo):
            return None
    return None


def column_match(question: str, text: str, start: int, end: int) -> float:
    """The share of the words of the name of the column whose whole cell is
    ``text[start:end]`` that the question holds ("types" names "Type"; 0 elsewhere)."""
    name = column_name(text, start, end)
    if not name:
        return 0.0
    named, asked = _content(name), _content(question)
    if not named:
        return 0.0
    said = named & asked
    if said and any(said < (_content(other) & asked) for other in _row_names(text, start)):
        return 0.0  # "environment variable" names the column "Environment Variable", not "Variable"
    return len(said) / len(named)


def _row_names(text: str, at: int) -> list[str]:
    """The cells' names of the ``Name: value;`` row holding ``text[at]``."""
    found = _row_line(text, at, at)
    return [m.group(1) for m, _ in _named_cells(found[1])] if found else []


def gain(
    question: str, text: str, start: int, end: int, weight: float, column_weight: float
) -> float:
    """The log of the factor ``prefer_named_rows`` weighs ``text[start:end]`` by:
    ``weight`` × its row's binding, and in a bound row ``column_weight`` × its column's
    match."""
    binding = row_binding(question, text, start, end)
    if not binding:
        return 0.0
    return weight * binding + column_weight * column_match(question, text, start, end)


def prefer_named_rows(
    cands: Sequence[Candidate],
    hits: Sequence[Hit],
    question: str,
    weight: float,
    column_weight: float = 0.0,
) -> list[Candidate]:
    """``cands`` with each probability times ``exp(gain)``, renormalised (the candidates'
    total probability kept): spans in the row the question names gain, and a whole cell of
    that row in the column it names more."""
    if not (weight or column_weight) or not cands or not question:
        return list(cands)
    texts = {hits[i].passage.text for i in {c.hit_index for c in cands}}
    term = asks_term(question)
    if not asks_condition(question) and not any(has_rows(t) or (term and _terms(t)) for t in texts):
        return list(cands)  # no row, no term asked for, no condition: nothing to weigh
    texts = [hits[c.hit_index].passage.text for c in cands]
    factors = [
        math.exp(gain(question, t, c.start, c.end, weight, column_weight))
        for t, c in zip(texts, cands, strict=True)
    ]
    if all(f == 1.0 for f in factors):
        return list(cands)  # no span in a named row: the probabilities stay to the bit
    return reweigh(cands, factors)
