"""Readers: turn a question and retrieved passages into an extractive `Answer` (or none).

The neural reader (`qa.read.reader.NeuralReader`) is the default when its weights are present;
`SentenceReader` is the fallback: it returns the passage sentence that best covers the
question's terms, narrowed to a date or a number when the question asks for one and the
sentence holds exactly one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from qa.core.config import DEFAULT_READER_DIR
from qa.core.errors import BadInput
from qa.core.text import sentences
from qa.core.text import terms as stemmed_terms
from qa.core.types import Answer, Hit
from qa.read.decide import span_answer

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{4}}s?|(?:last|next|on)\s+{_DAY}"
    rf"|{_DAY}|(?:last|next)\s+(?:week|month|year))\b"
)
_NUMBER = re.compile(
    r"(?:[$€£]\s?)?\b\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|million|billion|thousand|hundred))?"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|thousand|dozen)s?\b",
    re.IGNORECASE,
)


class Reader(Protocol):
    """``read(question, hits)`` → the best verbatim answer; None when the sources do not answer."""

    def read(self, question: str, hits: Sequence[Hit]) -> Answer | None: ...


class SentenceReader:
    """The best-supporting sentence among the hits, scored by idf-weighted term coverage."""

    def __init__(
        self, terms: Callable[[str], list[str]] | None = None, min_coverage: float = 0.34
    ) -> None:
        self._terms = terms
        self.min_coverage = min_coverage

    def terms(self, text: str) -> list[str]:
        if self._terms is None:
            self._terms = stemmed_terms
        return self._terms(text)

    def read(self, question: str, hits: Sequence[Hit]) -> Answer | None:
        q_terms = set(self.terms(question))
        if not q_terms or not hits:
            return None
        cands = []
        for rank, hit in enumerate(hits):
            p = hit.passage
            for s, e in sentences(p.text):
                cands.append((rank, hit, s, e, set(self.terms(p.text[s:e]))))
        n = len(cands)
        df = {t: sum(1 for c in cands if t in c[4]) for t in q_terms}
        idf = {t: math.log(1 + (n + 1) / (df[t] + 0.5)) for t in q_terms}
        total = sum(idf.values())
        best, best_key = None, None
        for rank, hit, s, e, terms in cands:
            coverage = sum(idf[t] for t in q_terms & terms) / total
            key = (coverage - 0.02 * rank, -rank, -s)
            if best_key is None or key > best_key:
                best, best_key = (hit, s, e, coverage), key
        assert best is not None
        hit, s, e, coverage = best
        if coverage < self.min_coverage:
            return None
        s, e = _narrow(question, hit.passage.text, s, e)
        return span_answer(hit.passage, s, e, round(float(coverage), 4))


def _narrow(question: str, text: str, s: int, e: int) -> tuple[int, int]:
    """The one date or number in ``text[s:e]`` the question asks for, else the whole sentence."""
    q = question.lower()
    pattern = None
    if q.startswith("when") or re.search(r"\bwhat (?:year|day|date|month)\b", q):
        pattern = _DATE
    elif re.search(r"\bhow (?:many|much|long|old)\b", q):
        pattern = _NUMBER
    if pattern is None:
        return s, e
    found = [m for m in pattern.finditer(text, s, e) if m.group().strip()]
    if len(found) != 1:
        return s, e
    m = found[0]
    a, b = m.start(), m.end()
    while a < b and text[a].isspace():
        a += 1
    return a, b


def load_reader(
    reader_dir: Path | None,
    terms: Callable[[str], list[str]] | None = None,
    *,
    backend: str | None = None,
    cache_dir: Path | None = None,
) -> Reader:
    """The neural reader when ``reader_dir`` holds weights, else the sentence reader.

    Only the shipped reader's folder may lack weights (a lean install): any other
    ``reader_dir`` without them is a mistake, and an error says so. ``backend`` and
    ``cache_dir`` go to the neural reader (``Settings.reader_backend``, ``cache_dir``).
    """
    if reader_dir is not None and (reader_dir / "model.safetensors").is_file():
        from qa.read.reader import NeuralReader

        return NeuralReader(reader_dir, backend=backend, cache_dir=cache_dir)
    if reader_dir is not None and reader_dir.resolve() != DEFAULT_READER_DIR.resolve():
        raise BadInput(
            f"the reader folder {reader_dir} (QA_READER_DIR) holds no reader weights "
            "(model.safetensors); point it at a reader folder, or set QA_READER_DIR= "
            "(empty) to answer with the sentence reader"
        )
    return SentenceReader(terms=terms)
