"""Frozen dataclasses shared by every stage.

All offsets are character offsets into ``Document.text`` (half-open ``[start, end)``),
so ``doc.text[x.start:x.end] == x.text`` holds for passages, answers and citations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field


def content_id(*parts: str, prefix: str = "", length: int = 16) -> str:
    """A stable id derived from ``parts`` (sha256, hex, truncated)."""
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"{prefix}{h[:length]}"


BLOCK_KINDS = ("heading", "text", "list", "table", "code")


@dataclass(frozen=True)
class Block:
    """A structural piece of a document's text: ``text[start:end]`` is a heading (``level``
    1-6), a paragraph, a list, a table or code; ``page`` is 1-based where pages exist."""

    start: int
    end: int
    kind: str = "text"
    level: int = 0
    page: int | None = None

    def to_json(self) -> list[object]:
        return [self.start, self.end, self.kind, self.level, self.page]

    @classmethod
    def from_json(cls, row: list[object]) -> Block:
        start, end, kind, level, page = row
        return cls(int(start), int(end), str(kind), int(level), None if page is None else int(page))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Document:
    """One source document; ``id`` derives from its text, so equal texts share an id.

    ``blocks`` is its structure (empty: paragraphs split at blank lines), ``meta`` what is
    known about it besides the text (``format``, ``encoding``, ``pages``, ``mtime``,
    front-matter fields, ...).
    """

    id: str
    text: str
    source: str
    title: str
    blocks: tuple[Block, ...] = field(default=(), compare=False)
    meta: Mapping[str, object] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_text(
        cls,
        text: str,
        source: str,
        title: str,
        blocks: tuple[Block, ...] = (),
        meta: Mapping[str, object] | None = None,
    ) -> Document:
        return cls(
            id=content_id(text, prefix="d", length=15),
            text=text,
            source=source,
            title=title,
            blocks=tuple(blocks),
            meta=dict(meta or {}),
        )


@dataclass(frozen=True)
class Passage:
    """A slice ``[start, end)`` of a document; ``id`` derives from the document and offsets."""

    id: str
    doc_id: str
    start: int
    end: int
    text: str
    section: str = ""  # the heading path above it ("Install > Linux"), "" when none
    page: int | None = None  # the 1-based page it starts on, where the document has pages

    @property
    def search_text(self) -> str:
        """What retrieval matches (embeds, BM25): the heading path, then the text."""
        return f"{self.section}\n{self.text}" if self.section else self.text

    @classmethod
    def make(
        cls, doc: Document, start: int, end: int, section: str = "", page: int | None = None
    ) -> Passage:
        return cls(
            id=content_id(doc.id, str(start), str(end), prefix="p", length=15),
            doc_id=doc.id,
            start=start,
            end=end,
            text=doc.text[start:end],
            section=section,
            page=page,
        )


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its fused score and the scores it was fused from."""

    passage: Passage
    score: float
    dense: float = 0.0
    lexical: float = 0.0


@dataclass(frozen=True)
class Answer:
    """A verbatim span of a document, found inside ``passage_id``.

    ``score`` is the reader's span probability (how the span compares with the other
    spans read); ``confidence`` the calibrated probability that the answer is right
    (``qa.read.confidence``; None when the reader has no calibrator).
    """

    text: str
    score: float
    doc_id: str
    start: int
    end: int
    passage_id: str
    confidence: float | None = None


CONFIDENCE_WORDS = ((0.8, "high"), (0.5, "medium"), (0.0, "low"))  # how a confidence is said


def confidence_in_words(confidence: float) -> str:
    """A confidence as the CLI and chat replies say it: "high confidence (0.93)"."""
    word = next(w for floor, w in CONFIDENCE_WORDS if confidence >= floor)
    return f"{word} confidence ({confidence:.2f})"


@dataclass(frozen=True)
class Citation:
    """A numbered passage an answer rests on, with everything needed to check it."""

    n: int
    id: str
    doc_id: str
    source: str
    title: str
    start: int
    end: int
    text: str
    score: float
    read: bool = True  # whether the reader read it (passages far below the best are not)
    page: int | None = None
    section: str = ""


@dataclass(frozen=True)
class Response:
    """What every face renders: the answer (None: the sources do not answer) and citations."""

    question: str
    answer: Answer | None
    citations: list[Citation]
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def answer_citation(self) -> int | None:
        if self.answer is None:
            return None
        for c in self.citations:
            if c.id == self.answer.passage_id:
                return c.n
        return None


def response_to_dict(resp: Response) -> dict[str, object]:
    """The JSON contract shared by ``qa ask --json`` and the HTTP API."""
    answer = None
    if resp.answer is not None:
        a = resp.answer
        answer = {
            "text": a.text,
            "score": a.score,
            "confidence": a.confidence,
            "doc_id": a.doc_id,
            "start": a.start,
            "end": a.end,
            "citation": resp.answer_citation,
            "passage_id": a.passage_id,
        }
    return {
        "question": resp.question,
        "answer": answer,
        "citations": [citation_to_dict(c) for c in resp.citations],
        "timings_ms": resp.timings_ms,
    }


def response_from_dict(d: dict) -> Response:
    """The inverse of `response_to_dict` (for answers that come back over HTTP)."""
    citations = [
        Citation(**{k: c[k] for k in Citation.__dataclass_fields__ if k in c})
        for c in d["citations"]
    ]
    answer = None
    if d.get("answer"):
        a = d["answer"]
        pid = a.get("passage_id") or next(c.id for c in citations if c.n == a["citation"])
        answer = Answer(
            a["text"], a["score"], a["doc_id"], a["start"], a["end"], pid, a.get("confidence")
        )
    return Response(d["question"], answer, citations, d.get("timings_ms", {}))


def citation_to_dict(c: Citation) -> dict[str, object]:
    return {
        "n": c.n,
        "id": c.id,
        "doc_id": c.doc_id,
        "source": c.source,
        "title": c.title,
        "start": c.start,
        "end": c.end,
        "text": c.text,
        "score": c.score,
        "read": c.read,
        "page": c.page,
        "section": c.section,
    }
