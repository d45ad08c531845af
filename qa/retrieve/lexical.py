"""BM25 over passages, and the term analysis questions and passages share: lower case,
English stop words removed, Snowball stems (bm25s, PyStemmer)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.core.text import terms
from qa.core.types import Passage


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
                [p.search_text for p in self.passages], return_as="tuple", show_progress=False
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

    def top(self, text: str, n: int) -> list[Passage]:
        """The (at most) ``n`` passages with the highest positive BM25 score for ``text``,
        in no particular order."""
        scores = self.scores(text)
        n = min(n, int((scores > 0).sum()))
        if n == 0:
            return []
        return [self.passages[int(i)] for i in np.argpartition(-scores, n - 1)[:n]]
