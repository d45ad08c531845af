"""How documents and passages are written in an index folder (one JSON object a line)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from qa.core.errors import NotFound
from qa.core.types import Block, Citation, Document, Passage
from qa.index.manifest import current_generation

if TYPE_CHECKING:
    from qa.index.backend import StoreBackend as Store
    from qa.index.store import IndexSpec


FORMAT_VERSION = 2  # 2: documents keep blocks and metadata, passages section and page


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_manifest(
    spec: IndexSpec,
    kind: str,
    documents: dict[str, Document],
    doc_passages: dict[str, list[str]],
) -> dict[str, object]:
    """An index's manifest: format, embedder, chunking, search structure, and each document
    with its text's sha256 and metadata (whichever store holds it)."""
    return {
        "format": FORMAT_VERSION,
        **spec.to_json(),
        "vector_index": kind,
        "counts": {
            "documents": len(documents),
            "passages": sum(len(doc_passages[d]) for d in documents),
        },
        "documents": [
            {
                "id": d.id,
                "source": d.source,
                "title": d.title,
                "sha256": text_sha256(d.text),
                "chars": len(d.text),
                "passages": len(doc_passages[d.id]),
                "meta": dict(d.meta),
            }
            for d in documents.values()
        ],
    }


def passage_to_json(p: Passage) -> dict[str, object]:
    return {
        "id": p.id,
        "doc_id": p.doc_id,
        "start": p.start,
        "end": p.end,
        "section": p.section,
        "page": p.page,
    }


def document_to_json(d: Document) -> dict[str, object]:
    return {
        "id": d.id,
        "source": d.source,
        "title": d.title,
        "text": d.text,
        "meta": dict(d.meta),
        "blocks": [b.to_json() for b in d.blocks],
    }


def document_from_json(r: dict) -> Document:
    """A document as saved (format 1 saved no blocks or metadata: they come back empty)."""
    blocks = tuple(Block.from_json(b) for b in r.get("blocks") or ())
    return Document(r["id"], r["text"], r["source"], r["title"], blocks, r.get("meta") or {})


def read_documents(path: Path) -> list[Document]:
    """The documents of the live index at ``path``, whatever it was built with; [] when
    there is none or it cannot be read (a rebuild keeps what it can)."""
    gen = current_generation(path)
    if gen is None:
        return []
    docs: list[Document] = []
    try:
        with open(path / gen / "documents.jsonl", encoding="utf-8") as f:
            for line in f:
                docs.append(document_from_json(json.loads(line)))
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return docs


def document_rows(store: Store) -> list[dict[str, object]]:
    """A row a document of ``store`` (``qa docs``, ``GET /v1/documents``)."""
    return [
        {
            "id": d.id,
            "source": d.source,
            "title": d.title,
            "format": d.meta.get("format", ""),
            "pages": d.meta.get("pages"),
            "chars": len(d.text),
            "passages": len(store.doc_passages(d.id)),
            "meta": dict(d.meta),
        }
        for d in store.documents.values()
    ]


def cite_passage(store: Store, citation_id: str, context_chars: int = 300) -> dict[str, object]:
    """The passage behind a citation id, with its document, offsets and surrounding text."""
    cid = citation_id.strip()
    if cid not in store.passages:
        shown = repr(cid) if len(cid) <= 80 else f"{cid[:60]!r}… ({len(cid)} characters)"
        raise NotFound(
            f"no citation {shown} in this index; citation ids come from 'qa ask' "
            f"(and change only when their document changes)"
        )
    p = store.passages[cid]
    d = store.documents[p.doc_id]
    return {
        "id": p.id,
        "doc_id": d.id,
        "source": d.source,
        "title": d.title,
        "start": p.start,
        "end": p.end,
        "text": p.text,
        "page": p.page,
        "section": p.section,
        "context_before": d.text[max(0, p.start - context_chars) : p.start],
        "context_after": d.text[p.end : p.end + context_chars],
    }


def make_citation(store: Store, n: int, passage_id: str, score: float, read: bool) -> Citation:
    """Citation number ``n``: the passage ``passage_id`` of ``store`` and its document."""
    p = store.passages[passage_id]
    d = store.documents[p.doc_id]
    return Citation(
        n,
        p.id,
        d.id,
        d.source,
        d.title,
        p.start,
        p.end,
        p.text,
        round(score, 4),
        read,
        p.page,
        p.section,
    )
