"""The decoding rules applied to a question's candidate spans before they are grouped
(``qa.read.decide.choose``), each switched by ``qa.read.decide.SpanRules``:

1. ``one_block``: spans across a paragraph, list item, heading or table cell are dropped
   (``qa.read.edges.within_block``; for rows without tabs ``within_row``, once each span
   is cut to its cell's value), unless no other span is left;
2. ``code_core``: to a question asking for a command, option or other code-like name
   (``qa.read.answer_type``), a span keeps only its run of code-like words;
3. ``strip_marks``: unpaired quotes, backticks and trailing punctuation come off the ends,
   and a span of quotes alone is dropped;
4. ``kind_weight``: spans of the kind of answer asked for gain (``prefer_kind``);
5. ``row_weight``: spans in the table row the question names (its rare words outside the
   span), in a term line whose description it names, or said under the condition it asks
   under, gain
   (``qa.read.rows.prefer_named_rows``), and ``column_weight`` more for a whole
   cell of that row in the column the question names; a cell so preferred over the span
   the model chose in the same passage keeps that span's null margin (``row_margin``, in
   ``qa.read.decide.choose``), so the no-answer gate judges the passage, not the cell, and
   the chosen span's margin rises by ``rule_margin`` × its gain (a cell named by row and
   column needs less of the model's own reading to be answered). With either weight on, a
   span that takes in a cell's name before its value is cut to the value first
   (``qa.read.rows.value_only``: "Bcrypt Version: >= 1.0.3" → ">= 1.0.3").

Spans that become alike then fall in one answer group and add their probabilities.
After the choice, ``finish_span`` takes in the year after a month and day
(``complete_dates``) and, where the span was cut inside a code-like word (or inside any
joined word when a command or option is asked for), the whole word (``whole_token``,
``qa.read.edges.whole_token``). Widening the chosen span only, not every span before
grouping, keeps spans of neighbouring names ("--cache-show", "--cache-clear") from adding
up into one group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from qa.core.types import Hit
from qa.read import answer_type, edges, rows

if TYPE_CHECKING:
    from qa.read.decide import Candidate, SpanRules

Span = tuple[int, int]


def reshape(
    cands: Sequence[Candidate], hits: Sequence[Hit], question: str, rules: SpanRules
) -> list[Candidate]:
    """``cands`` after the rules ``rules`` switches on (see the module docstring)."""
    return reshape_rows(cands, hits, question, rules)[0]


def reshape_rows(
    cands: Sequence[Candidate], hits: Sequence[Hit], question: str, rules: SpanRules
) -> tuple[list[Candidate], list[Candidate] | None]:
    """``reshape``'s spans, and the same before the row rule re-weighed them (None when it
    changed nothing)."""
    out = list(cands)
    if rules.one_block:
        inside = [
            c for c in out if edges.within_block(hits[c.hit_index].passage.text, c.start, c.end)
        ]
        out = inside or out
    kind = answer_type.asked_kind(question) if question else None
    if rules.code_core and kind == answer_type.CODE:
        out = [_moved(c, hits, edges.code_core) for c in out]
    if rules.strip_marks:
        out = [_moved(c, hits, edges.strip_marks) for c in out]
        out = [c for c in out if not edges.only_marks(_passage(hits, c)[c.start : c.end])] or out
    if rules.row_weight or rules.column_weight:
        out = [_moved(c, hits, rows.value_only) for c in out]
    if rules.one_block:
        out = [c for c in out if edges.within_row(_passage(hits, c), c.start, c.end)] or out
    if rules.kind_weight and kind is not None:
        out = answer_type.prefer_kind(out, hits, question, rules.kind_weight)
    if not (rules.row_weight or rules.column_weight):
        return out, None
    rowed = rows.prefer_named_rows(out, hits, question, rules.row_weight, rules.column_weight)
    return rowed, None if all(a is b for a, b in zip(rowed, out, strict=True)) else out


def _whole(text: str, start: int, end: int, kind: str | None) -> Span:
    """``edges.whole_token`` where the widened word is code-like or code is asked for."""
    s, e = edges.whole_token(text, start, end)
    if (s, e) != (start, end) and (
        kind == answer_type.CODE or answer_type.looks_like_code(text[s:e])
    ):
        return s, e
    return start, end


def _passage(hits: Sequence[Hit], c: Candidate) -> str:
    return hits[c.hit_index].passage.text


def _moved(c: Candidate, hits: Sequence[Hit], rule: Callable[[str, int, int], Span]) -> Candidate:
    """``c`` with its span as ``rule`` narrows it in its passage."""
    span = rule(hits[c.hit_index].passage.text, c.start, c.end)
    return c if span == (c.start, c.end) else replace(c, start=span[0], end=span[1])


def finish_span(text: str, start: int, end: int, rules: SpanRules, question: str = "") -> Span:
    """The chosen span's last touch: the year after a month and day taken in, and the
    whole of a word it was cut inside."""
    if rules.complete_dates:
        start, end = edges.complete_date(text, start, end)
    if rules.whole_token:
        kind = answer_type.asked_kind(question) if question else None
        start, end = _whole(text, start, end, kind)
    if rules.command_line and question and answer_type.asks_command(question):
        start, end = edges.command_line(text, start, end)
    return start, end
