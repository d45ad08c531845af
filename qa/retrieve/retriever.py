"""Dense + BM25 retrieval, fused by score interpolation.

Each retriever proposes ``candidates`` passages; every candidate gets both scores (the dense
cosine is recomputed from its stored vector, BM25 scores come for all passages at once),
each score list is min-max normalised over the candidates, and the fused score is
``alpha * dense + (1 - alpha) * bm25``. Ties break on passage id, so the ranking does not
depend on the order passages were added in.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from qa.core.types import Hit, Passage
from qa.index.backend import HybridSearch, StoreBackend
from qa.index.embed import Encoder
from qa.retrieve.fusion import fuse
from qa.retrieve.lexical import Lexical
from qa.retrieve.query import expand_who_is


class Retriever:
    """Hybrid retrieval over a store; the BM25 index follows the store's changes (a store
    that searches BM25 itself, `HybridSearch`, is asked for both candidate lists instead)."""

    def __init__(
        self, store: StoreBackend, encoder: Encoder, alpha: float = 0.5, candidates: int = 50
    ) -> None:
        self.store = store
        self.encoder = encoder
        self.alpha = alpha
        self.candidates = candidates
        self._lexical: Lexical | None = None
        self._lexical_version = -1

    @property
    def lexical(self) -> Lexical:
        if self._lexical is None or self._lexical_version != self.store.version:
            self._lexical = Lexical(list(self.store.passages.values()))
            self._lexical_version = self.store.version
        return self._lexical

    def warm(self) -> None:
        """Build what questions need before the first one: the BM25 index, unless the
        store searches BM25 itself (Milvus), where it would cost time and memory unused."""
        if not isinstance(self.store, HybridSearch):
            self.lexical  # noqa: B018

    def query_for(self, question: str) -> str:
        """What ``question`` is retrieved with: a lone last name in "Who is X?" in full
        (`qa.retrieve.query.expand_who_is`)."""
        if not len(self.store):
            return question
        if isinstance(self.store, HybridSearch):
            return expand_who_is(question, self.store.lexical_top)
        return expand_who_is(question, self.lexical.top)

    def retrieve(
        self,
        question: str,
        k: int,
        query_vector: np.ndarray | None = None,
        among: Collection[str] | None = None,
    ) -> list[Hit]:
        """The ``k`` best passages for ``question``, best first (only passages whose ids
        are in ``among``, when given).

        Without ``query_vector``, ``question`` is retrieved as ``query_for`` gives it. With
        one, the caller has done that: the vector encodes ``question`` as given.
        """
        if k <= 0 or not len(self.store):
            return []
        if query_vector is None:
            question = self.query_for(question)
        q = self.encoder.encode([question])[0] if query_vector is None else query_vector
        passages, dense, lex = self.candidates_for(question, q, max(k, self.candidates), among)
        return fuse(passages, dense, lex, k, self.alpha)

    def candidates_for(
        self, question: str, q: np.ndarray, n: int, among: Collection[str] | None = None
    ) -> tuple[list[Passage], np.ndarray, np.ndarray]:
        """The union of both retrievers' top ``n``, sorted by id, with dense and BM25 scores."""
        if isinstance(self.store, HybridSearch):
            return self.store.candidates(question, q, n, among)
        lexical = self.lexical
        pool: dict[str, Passage] = {p.id: p for p, _ in self.store.search(q, n, among)}
        bm25 = lexical.scores(question)
        if among is not None and bm25.size:
            keep = np.zeros(bm25.size, dtype=bool)
            keep[[lexical.row[p] for p in among if p in lexical.row]] = True
            bm25 = np.where(keep, bm25, 0.0).astype(np.float32)
        if bm25.size and float(bm25.max()) > 0:
            top = np.argsort(-bm25, kind="stable")[:n]
            for i in top:
                if bm25[i] > 0:
                    p = lexical.passages[int(i)]
                    pool.setdefault(p.id, p)
        ids = sorted(pool)
        dense = self.store.vectors(ids) @ q.astype(np.float32)
        lex = np.array([bm25[lexical.row[i]] for i in ids], dtype=np.float32)
        return [pool[i] for i in ids], dense, lex
