"""Text utilities shared by the stages: sentences, the terms retrieval and the sentence
reader match on, and the SQuAD answer normalisation.

Answers that normalise alike are the same answer: the reader adds up their probabilities
(``qa.read.decide``) and the evaluation scores them equal (``qa.train.squad``).
"""

from __future__ import annotations

import functools
import itertools
import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = frozenset(string.punctuation)


def normalize_answer(s: str) -> str:
    """Lower case, drop punctuation and articles (a/an/the), collapse whitespace."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


Span = tuple[int, int]


def trim(text: str, start: int, end: int) -> Span:
    """``(start, end)`` narrowed past whitespace at either end."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans inside ``text[start:end]``; together they cover it, whitespace trimmed."""
    import syntok.segmenter as segmenter

    end = len(text) if end is None else end
    chunk = text[start:end]
    starts: list[int] = []
    for para in segmenter.analyze(chunk):
        for sent in para:
            if sent:
                starts.append(start + sent[0].offset)
    starts = sorted(set(s for s in starts if start <= s < end))
    if not starts or starts[0] != start:
        starts.insert(0, start)
    bounds = [*starts, end]
    spans = [trim(text, a, b) for a, b in itertools.pairwise(bounds)]
    return [(s, e) for s, e in spans if e > s]


_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# A command-line option ("-l", "--keep", "-N") is a term as written as well: questions on
# manuals name options, and only the case tells -n from -N.
_OPTION = re.compile(r"(?<![\w-])--?[A-Za-z0-9][\w-]*")
# So is a version or dotted number ("1.5.0", "v0.4.6" as "0.4.6", "3.8"): the tokens above
# keep none of its one-digit parts, so "When was pluggy 1.5.0 released?" had no term but
# "pluggy" to tell its release from 1.0.0's.
_VERSION = re.compile(r"(?<![\w.])v?(\d+(?:\.\d+)+)")


def terms(text: str) -> list[str]:
    """The lower-cased, stop-word-free, Snowball-stemmed terms of ``text``, and its
    command-line options and versions as written."""
    stemmer, stop = _analysis()
    words = stemmer.stemWords([w for w in _TOKEN.findall(text.lower()) if w not in stop])
    return words + _OPTION.findall(text) + _VERSION.findall(text)


def stop_words() -> frozenset[str]:
    """The English stop words left out of ``terms``."""
    return _analysis()[1]


@functools.cache
def _analysis():  # type: ignore[no-untyped-def]
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return Stemmer.Stemmer("english"), frozenset(STOPWORDS_EN_PLUS)
