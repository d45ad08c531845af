"""Split a document into sentences (syntok) and sentences into passages, with offsets.

A passage is a paragraph; a paragraph longer than ``max_words`` becomes windows of whole
sentences with ``overlap`` sentences shared between neighbours, and a single sentence
longer than that is cut into word windows. Passages never cross a paragraph break, and
``doc.text[p.start:p.end] == p.text`` for every passage by construction.
"""

from __future__ import annotations

import re

from qa.core.text import Span, sentences, trim
from qa.core.types import Document, Passage

_PARA_BREAK = re.compile(r"(?:\r\n|\r|\n)[ \t\f\v]*(?:\r\n|\r|\n)(?:[ \t\f\v]*(?:\r\n|\r|\n))*")
_WORD = re.compile(r"\S+")


def paragraphs(text: str) -> list[Span]:
    """Spans of the non-blank paragraphs of ``text`` (separated by blank lines)."""
    spans: list[Span] = []
    pos = 0
    for m in _PARA_BREAK.finditer(text):
        spans.append(trim(text, pos, m.start()))
        pos = m.end()
    spans.append(trim(text, pos, len(text)))
    return [(s, e) for s, e in spans if e > s]


def _word_windows(text: str, start: int, end: int, max_words: int) -> list[Span]:
    words = [(start + m.start(), start + m.end()) for m in _WORD.finditer(text[start:end])]
    return [
        (words[i][0], words[min(i + max_words, len(words)) - 1][1])
        for i in range(0, len(words), max_words)
    ]


def _count_words(text: str, start: int, end: int) -> int:
    return sum(1 for _ in _WORD.finditer(text, start, end))


def passage_spans(text: str, max_words: int = 150, overlap: int = 1) -> list[Span]:
    """Passage spans of ``text``: see the module docstring."""
    if max_words < 1:
        raise ValueError("max_words must be at least 1")
    if overlap < 0:
        raise ValueError("overlap must be 0 or more")
    out: list[Span] = []
    for ps, pe in paragraphs(text):
        if _count_words(text, ps, pe) <= max_words:
            out.append((ps, pe))
            continue
        units: list[tuple[Span, int]] = []  # sentences, over-long ones cut into word windows
        for ss, se in sentences(text, ps, pe):
            n = _count_words(text, ss, se)
            if n <= max_words:
                units.append(((ss, se), n))
            else:
                units.extend((w, max_words) for w in _word_windows(text, ss, se, max_words))
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


def chunk(doc: Document, max_words: int = 150, overlap: int = 1) -> list[Passage]:
    """The passages of ``doc``, in document order."""
    return [Passage.make(doc, s, e) for s, e in passage_spans(doc.text, max_words, overlap)]
