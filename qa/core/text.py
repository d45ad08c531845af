"""Text utilities shared by the stages: the SQuAD answer normalisation.

Answers that normalise alike are the same answer: the reader adds up their probabilities
(``qa.read.decide``) and the evaluation scores them equal (``qa.train.squad``).
"""

from __future__ import annotations

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
