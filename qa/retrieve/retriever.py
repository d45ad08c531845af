"""Dense + BM25 retrieval, fused by score interpolation.

Each retriever proposes ``candidates`` passages; every candidate gets both scores (the dense
cosine is recomputed from its stored vector, BM25 scores come for all passages at once),
each score list is min-max normalised over the candidates, and the fused score is
``alpha * dense + (1 - alpha) * bm25``. Ties break on passage id, so the ranking does not
depend on the order passages were added in.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np

from qa.core.types import Hit, Passage
from qa.index.embed import Encoder
from qa.index.store import Store

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def terms(text: str) -> list[str]:
    """The lower-cased, stop-word-free, Snowball-stemmed terms of ``text``."""
    stemmer, stop = _analysis()
    return stemmer.stemWords([w for w in _TOKEN.findall(text.lower()) if w not in stop])


@functools.cache
def _analysis():
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


# "Who is Ushakov?", "who was Tesla.", "Who's O'Brien" (also inside a longer query, as
# a chat follow-up's): asking who one named person is, by a single word.
_WHO_IS = re.compile(
    r"(?<![\w'’])who(?:\s+is|\s+was|'s|’s)\s+(?P<name>[^\W\d_][\w'’-]*)(?=\s*(?:[?.!]+|$))",
    re.IGNORECASE,
)
# A question asking who someone (or something) is: "Who is Yury Ushakov?", "who's the
# envoy?". Its answer is a description, often in a passage that ranks below others that
# only mention the name.
_ASKS_WHO = re.compile(r"(?<![\w'’])who(?:\s+is|\s+was|'s|’s)\s", re.IGNORECASE)
SELECTIVE_MIN_TERMS = 3


def selective(question: str) -> bool:
    """Whether retrieval scores may choose which retrieved passages are read.

    Not for questions of fewer than ``SELECTIVE_MIN_TERMS`` content terms ("Who walked on
    the Moon?", "Ushakov"), whose passages score alike, nor for those asking who someone
    is: on the "who is" questions made from the training articles, reading only the
    passages within the read floor of the best cost 4 to 7 F1 (scripts/study_read_floor.py).
    """
    return len(set(terms(question))) >= SELECTIVE_MIN_TERMS and not _ASKS_WHO.search(question)


def within_floor(hits: Sequence[Hit], floor: float) -> list[Hit]:
    """The best hit and every other whose score reaches ``floor`` times the best one's.

    ``hits`` come best first, so this is always a leading part of them.
    """
    low = floor * hits[0].score if hits else 0.0
    return [h for i, h in enumerate(hits) if i == 0 or h.score >= low]


_WORD = r"[^\W\d_][\w'’-]*"
_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z][\w'’-]*")
_NEXT_WORD = re.compile(r"[^\S\n]+([^\W\d_])")  # the next word on the same line
NAME_PASSAGES = 200  # passages searched for a last name's full forms (the best BM25 hits)

# Words that come before names without being first names.
# fmt: off
_TITLES = frozenset((
    "president", "vice", "prime", "minister", "secretary", "senator", "sen", "governor", "gov",
    "mayor", "premier", "chancellor", "ambassador", "king", "queen", "prince", "princess",
    "emperor", "empress", "duke", "duchess", "count", "lord", "lady", "sir", "dame", "pope",
    "saint", "st", "cardinal", "bishop", "archbishop", "father", "brother", "sister",
    "reverend", "rev", "rabbi", "imam", "dr", "doctor", "mr", "mrs", "ms", "miss", "professor",
    "prof", "general", "gen", "colonel", "col", "captain", "capt", "major", "lieutenant", "lt",
    "sergeant", "admiral", "commander", "chief", "coach", "judge", "justice", "chairman",
    "chairwoman", "director", "deputy", "representative", "rep", "spokesman", "spokeswoman",
    "aide", "envoy", "agent", "officer",
))
# fmt: on


def full_name(name: str, texts: Sequence[str]) -> str | None:
    """The full form of the last name ``name`` most often written in ``texts``, if any.

    A full form is a capitalised first word, an optional initial ("John F. Kennedy"), then
    the name, capitalised, with only spaces or one line break between. First words that
    are stop words, titles ("President Putin") or written in lower case somewhere in
    ``texts`` ("the 20th century" vs "Century Fox") are not names, and a form followed on
    its line by another capitalised word is part of a longer name ("the Chicago Booth
    School of Business"). Ties go alphabetically.
    """
    _, stop = _analysis()
    if name.lower() in stop or name.lower() in _TITLES:
        return None
    form = re.compile(
        rf"(?<![\w'’.-])(?P<first>{_WORD})(?P<initial>\s+[^\W\d_]\.)?\s+"
        rf"(?P<last>(?i:{re.escape(name)}))(?![\w'’-])"
    )
    counts: dict[str, int] = {}
    lower: set[str] = set()
    for text in texts:
        lower.update(_LOWER_WORD.findall(text))
        for m in form.finditer(text):
            first, last = m.group("first"), m.group("last")
            if not (first[0].isupper() and last[0].isupper()) or "\n\n" in m.group():
                continue
            initial = (m.group("initial") or "").split()
            if initial and not initial[0][0].isupper():
                continue
            if first.lower() in stop or first.lower() in _TITLES:
                continue
            after = _NEXT_WORD.match(text, m.end())
            if after and after.group(1)[0].isupper():
                continue  # part of a longer name: "Chicago Booth School", "Century Fox Film"
            full = " ".join([first, *initial, last])
            counts[full] = counts.get(full, 0) + 1
    names = [(-n, full) for full, n in counts.items() if full.split()[0].lower() not in lower]
    return min(names)[1] if names else None


def _minmax(x: np.ndarray) -> np.ndarray:
    if x.size == 0:
        return x
    lo, hi = float(x.min()), float(x.max())
    if hi - lo < 1e-9:
        return np.ones_like(x) if hi > 0 else np.zeros_like(x)
    return (x - lo) / (hi - lo)


class Retriever:
    """Hybrid retrieval over a `Store`; the BM25 index follows the store's changes."""

    def __init__(
        self, store: Store, encoder: Encoder, alpha: float = 0.5, candidates: int = 50
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

    def query_for(self, question: str) -> str:
        """What ``question`` is retrieved with: a lone last name in "Who is X?" in full.

        Passages that introduce a person usually give the full name ("The Kremlin's top
        foreign policy aide, Yury Ushakov, said"); later ones repeat the last name alone,
        and a question by the last name alone would find those first. The full name is
        the one written most often in the passages that BM25 ranks best for the last
        name (`full_name`); every "Who is X?" in ``question`` is rewritten.
        """

        def expand(m: re.Match[str]) -> str:
            lexical = self.lexical
            scores = lexical.scores(m.group("name"))
            n = min(NAME_PASSAGES, int((scores > 0).sum()))
            if n == 0:
                return m.group()
            top = np.argpartition(-scores, n - 1)[:n]
            full = full_name(m.group("name"), [lexical.passages[int(i)].text for i in top])
            if full is None:
                return m.group()
            lo, hi = (x - m.start() for x in m.span("name"))
            return m.group()[:lo] + full + m.group()[hi:]

        return _WHO_IS.sub(expand, question) if len(self.store) else question

    def retrieve(self, question: str, k: int, query_vector: np.ndarray | None = None) -> list[Hit]:
        """The ``k`` best passages for ``question``, best first.

        Without ``query_vector``, ``question`` is retrieved as ``query_for`` gives it. With
        one, the caller has done that: the vector encodes ``question`` as given.
        """
        if k <= 0 or not len(self.store):
            return []
        if query_vector is None:
            question = self.query_for(question)
        q = self.encoder.encode([question])[0] if query_vector is None else query_vector
        passages, dense, lex = self.candidates_for(question, q, max(k, self.candidates))
        return fuse(passages, dense, lex, k, self.alpha)

    def candidates_for(
        self, question: str, q: np.ndarray, n: int
    ) -> tuple[list[Passage], np.ndarray, np.ndarray]:
        """The union of both retrievers' top ``n``, sorted by id, with dense and BM25 scores."""
        lexical = self.lexical
        pool: dict[str, Passage] = {p.id: p for p, _ in self.store.search(q, n)}
        bm25 = lexical.scores(question)
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


def fuse(
    passages: Sequence[Passage], dense: np.ndarray, lex: np.ndarray, k: int, alpha: float
) -> list[Hit]:
    """The top ``k`` of ``alpha * minmax(dense) + (1 - alpha) * minmax(lex)``; ties by id."""
    fused = alpha * _minmax(dense) + (1 - alpha) * _minmax(lex)
    order = sorted(range(len(passages)), key=lambda i: (-float(fused[i]), passages[i].id))[:k]
    return [
        Hit(passages[i], float(fused[i]), dense=float(dense[i]), lexical=float(lex[i]))
        for i in order
    ]
