"""Split a document into passages that keep its structure, with exact offsets.

A document's blocks (`qa.core.types.Block`: headings, paragraphs, lists, tables, code;
paragraphs at blank lines when it has none) become passages this way:

- a heading belongs to the section under it: it opens that section's first passage, and
  every passage carries its heading path (``section``, e.g. "Install > Linux");
- a paragraph is a passage of its own, as long as it has ``min_words`` words; a shorter
  piece joins its neighbour (the next piece while the passage so far is short, else the
  one before it in the same section), and a list or table joins the paragraph that leads
  into it, as long as the two fit in ``max_words`` and stay on one page (a heading at the
  foot of a page still goes on with what follows it);
- a passage longer than ``max_words`` becomes windows of whole blocks; a block longer than
  that becomes windows of whole sentences (lines, for lists, tables and code) with
  ``overlap`` of them shared between neighbours, and a single sentence longer than that
  is cut into word windows.

``doc.text[p.start:p.end] == p.text`` for every passage by construction.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from qa.core.config import Settings
from qa.core.text import Span, sentences, trim
from qa.core.types import Block, Document, Passage

# A line break is CRLF, CR or LF; ``\r(?!\n)`` keeps one CRLF from reading as two breaks.
_BR = r"(?:\r\n|\r(?!\n)|\n)"
_PARA_BREAK = re.compile(rf"{_BR}[ \t\f\v]*{_BR}(?:[ \t\f\v]*{_BR})*")
_WORD = re.compile(r"\S+")
_LINE = re.compile(r"[^\r\n]+")
_HEADING_MARKS = re.compile(r"^\s*#{1,6}\s*|\s*#+\s*$")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~<>])")  # Markdown's: the mark alone
MIN_WORDS = 8  # pieces shorter than this join a neighbour (headings, table cells, "Note:")


def paragraphs(text: str) -> list[Span]:
    """Spans of the non-blank paragraphs of ``text`` (separated by blank lines)."""
    spans: list[Span] = []
    pos = 0
    for m in _PARA_BREAK.finditer(text):
        spans.append(trim(text, pos, m.start()))
        pos = m.end()
    spans.append(trim(text, pos, len(text)))
    return [(s, e) for s, e in spans if e > s]


def _count_words(text: str, start: int, end: int) -> int:
    return sum(1 for _ in _WORD.finditer(text, start, end))


def _word_windows(text: str, start: int, end: int, max_words: int) -> list[Span]:
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]
    return [
        (words[i][0], words[min(i + max_words, len(words)) - 1][1])
        for i in range(0, len(words), max_words)
    ]


def heading_text(text: str, block: Block, markdown: bool = False) -> str:
    """A heading block's words: its first line without Markdown's ``#`` marks, and in a
    Markdown document without its backslash escapes ("filter\\-code\\-page"); a plain
    text's backslashes are its own ("HKEY_LOCAL_MACHINE\\...\\<NIC GUID>")."""
    first = text[block.start : block.end].splitlines()[0] if block.end > block.start else ""
    words = _HEADING_MARKS.sub("", first).strip()
    return _ESCAPED.sub(r"\1", words) if markdown else words


@dataclass
class _Piece:
    """A content block with the headings just above it; ``lead`` is where it starts
    once those headings are included."""

    lead: int
    start: int
    end: int
    words: int
    kind: str
    section: str
    page: int | None


def _pieces(
    text: str, blocks: tuple[Block, ...] | list[Block], markdown: bool = False
) -> list[_Piece]:
    out: list[_Piece] = []
    path: list[tuple[int, str]] = []  # (level, heading) from the top
    pending: int | None = None  # start of the headings not yet followed by content
    for b in blocks:
        if b.kind == "heading":
            level = min(max(b.level, 1), 6)
            head = heading_text(text, b, markdown)
            path = [(lv, h) for lv, h in path if lv < level] + [(level, head)]
            pending = b.start if pending is None else pending
            continue
        section = " > ".join(h for _, h in path if h)
        lead = b.start if pending is None else pending
        words = _count_words(text, lead, b.end)
        out.append(_Piece(lead, b.start, b.end, words, b.kind, section, b.page))
        pending = None
    if pending is not None:  # headings with nothing under them close the last piece
        last = blocks[-1]
        if out:
            out[-1].end = last.end
            out[-1].words = _count_words(text, out[-1].lead, last.end)
        else:
            out.append(_Piece(pending, pending, last.end, 0, "heading", "", last.page))
            out[-1].words = _count_words(text, pending, last.end)
    return out


def _joins(group: list[_Piece], piece: _Piece, max_words: int, min_words: int) -> bool:
    """Whether ``piece`` joins the passage being built (``group``) instead of opening one."""
    words = sum(p.words for p in group)
    if words + piece.words > max_words:
        return False
    last = group[-1]
    if piece.page != last.page and words >= MIN_WORDS:
        return False  # a passage keeps to its page, so its citation's page is the answer's
    if words < min_words:
        return True  # the passage so far is too short to stand alone
    same = last.section == piece.section and piece.lead == piece.start
    if piece.words < min_words and same:
        return True  # a short piece joins the one before it in its section
    return same and piece.kind in ("list", "table") and last.kind == "text"


def _groups(pieces: list[_Piece], max_words: int, min_words: int) -> list[list[_Piece]]:
    groups: list[list[_Piece]] = []
    for piece in pieces:
        if groups and _joins(groups[-1], piece, max_words, min_words):
            groups[-1].append(piece)
        else:
            groups.append([piece])
    if len(groups) > 1 and sum(p.words for p in groups[-1]) < min_words:
        tail = groups.pop()  # a short last piece joins the one before, on its page
        fits = sum(p.words for p in groups[-1] + tail) <= max_words
        if fits and (tail[0].page == groups[-1][-1].page or sum(p.words for p in tail) < MIN_WORDS):
            groups[-1].extend(tail)
        else:
            groups.append(tail)
    return groups


def _units(text: str, piece: _Piece, max_words: int) -> list[tuple[Span, int]]:
    """``piece`` as sentences (lines for lists, tables and code), over-long ones cut into
    word windows; its headings stay with its first unit."""
    if piece.kind in ("list", "table", "code"):
        lines = [
            trim(text, m.start(), m.end()) for m in _LINE.finditer(text, piece.start, piece.end)
        ]
        spans = [(s, e) for s, e in lines if e > s] or [(piece.start, piece.end)]
    else:
        spans = sentences(text, piece.start, piece.end) or [(piece.start, piece.end)]
    units: list[tuple[Span, int]] = []
    for s, e in spans:
        n = _count_words(text, s, e)
        if n <= max_words:
            units.append(((s, e), n))
        else:
            units.extend((w, max_words) for w in _word_windows(text, s, e, max_words))
    if piece.lead < piece.start and units:
        (s, e), n = units[0]
        units[0] = ((piece.lead, e), n + _count_words(text, piece.lead, s))
    return units


def _windows(units: list[tuple[Span, int]], max_words: int, overlap: int) -> list[Span]:
    out: list[Span] = []
    i = 0
    while i < len(units):
        j, words = i, 0
        while j < len(units) and (j == i or words + units[j][1] <= max_words):
            words += units[j][1]
            j += 1
        out.append((units[i][0][0], units[j - 1][0][1]))
        if j >= len(units):
            break
        i = max(i + 1, j - overlap)
    return out


def _spans(
    text: str, group: list[_Piece], max_words: int, overlap: int
) -> list[tuple[Span, _Piece]]:
    """The passage spans of one group, each with the piece it starts in."""
    if sum(p.words for p in group) <= max_words:
        return [((group[0].lead, group[-1].end), group[0])]
    out: list[tuple[Span, _Piece]] = []
    run: list[_Piece] = []  # whole pieces packed while they fit
    for piece in [*group, None]:
        if piece is not None and sum(p.words for p in run) + piece.words <= max_words:
            run.append(piece)
            continue
        if run:
            out.append(((run[0].lead, run[-1].end), run[0]))
            run = []
        if piece is None:
            break
        if piece.words <= max_words:
            run = [piece]
            continue
        out.extend((w, piece) for w in _windows(_units(text, piece, max_words), max_words, overlap))
    return out


def _page_at(blocks: tuple[Block, ...], starts: list[int], offset: int) -> int | None:
    i = bisect.bisect_right(starts, offset) - 1
    return blocks[i].page if i >= 0 else (blocks[0].page if blocks else None)


def passage_spans(
    text: str,
    max_words: int = 150,
    overlap: int = 1,
    blocks: tuple[Block, ...] | None = None,
    min_words: int = MIN_WORDS,
) -> list[Span]:
    """Passage spans of ``text``: see the module docstring."""
    return [span for span, _, _ in _passages(text, max_words, overlap, blocks, min_words)]


def _passages(
    text: str,
    max_words: int,
    overlap: int,
    blocks: tuple[Block, ...] | None,
    min_words: int,
    markdown: bool = False,
) -> list[tuple[Span, str, int | None]]:
    if max_words < 1:
        raise ValueError("max_words must be at least 1")
    if overlap < 0:
        raise ValueError("overlap must be 0 or more")
    blocks = blocks or tuple(Block(s, e) for s, e in paragraphs(text))
    out: list[tuple[Span, str, int | None]] = []
    for group in _groups(_pieces(text, blocks, markdown), max_words, min_words):
        for span, piece in _spans(text, group, max_words, overlap):
            out.append((span, piece.section, piece.page))
    return out


def page_of(doc: Document, offset: int) -> int | None:
    """The page ``offset`` of ``doc`` lies on (None for documents without pages)."""
    if not doc.blocks or doc.blocks[0].page is None:
        return None
    return _page_at(doc.blocks, [b.start for b in doc.blocks], offset)


def chunk(
    doc: Document, max_words: int = 150, overlap: int = 1, min_words: int = MIN_WORDS
) -> list[Passage]:
    """The passages of ``doc``, in document order."""
    markdown = doc.meta.get("format") == "markdown"
    spans = _passages(doc.text, max_words, overlap, doc.blocks or None, min_words, markdown)
    return [Passage.make(doc, s, e, section, page) for (s, e), section, page in spans]


def passages(doc: Document, settings: Settings) -> list[Passage]:
    """The passages of ``doc`` as ``settings`` chunk it (what an index holds)."""
    s = settings
    return chunk(doc, s.max_passage_words, s.overlap_sentences, s.min_passage_words)
