"""BM25 over passages, and the term analysis questions and passages share: lower case,
English stop words removed, Snowball stems (bm25s, PyStemmer)."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np

from qa.core.types import Passage

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def terms(text: str) -> list[str]:
    """The lower-cased, stop-word-free, Snowball-stemmed terms of ``text``."""
    stemmer, stop = _analysis()
    return stemmer.stemWords([w for w in _TOKEN.findall(text.lower()) if w not in stop])


def stop_words() -> frozenset[str]:
    """The English stop words left out of ``terms``."""
    return _analysis()[1]


@functools.cache
def _analysis():  # type: ignore[no-untyped-def]
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return Stemmer.Stemmer("english"), frozenset(STOPWORDS_EN_PLUS)


class Lexical:
    """BM25 over passages: English stop words removed, Snowball-stemmed (bm25s)."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        import bm25s
        from bm25s.tokenization import Tokenizer

        self.passages = list(passages)
        self.row = {p.id: i for i, p in enumerate(self.passages)}
        self._bm25 = bm25s.BM25()
        if self.passages:
            # The same analysis as `terms`, so questions and passages meet on equal terms.
            tokenizer = Tokenizer(splitter=terms, lower=False, stopwords=None)
            tokens = tokenizer.tokenize(
                [p.text for p in self.passages], return_as="tuple", show_progress=False
            )
            self._bm25.index(tokens, show_progress=False)

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage (in ``self.passages`` order) for ``question``."""
        if not self.passages:
            return np.zeros(0, dtype=np.float32)
        q = terms(question)
        if not q:
            return np.zeros(len(self.passages), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(q), dtype=np.float32)
