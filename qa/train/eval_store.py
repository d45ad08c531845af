"""``qa eval --mode open --store URI``: the open-book evaluation through an index kept in
a store (Milvus: ``milvus://host:19530/collection``, or milvus-lite's ``file://x.db``)
instead of the in-memory one, so the two backends are scored on the same questions.

An empty store gets the evaluation corpus built into it first: every paragraph of the
file (or of ``--corpus``) one document, exactly the documents the in-memory engine holds,
so the figures compare. A store that holds an index already is evaluated as it is (no
embedding: a second run starts at once), provided it holds every question's paragraph;
what else it holds competes in retrieval, as it would in use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qa.core.config import Settings
from qa.core.errors import BadInput
from qa.core.types import Document
from qa.train import squad


def store_engine(
    store: str,
    docs: Sequence[Document],
    examples: Sequence[squad.Example],
    reader: Any,
    corpus_named: bool = False,
    encoder: Any = None,
) -> Any:
    """An engine over the index at ``store``, built from ``docs`` if there is none there
    (``corpus_named``: ``docs`` came from ``--corpus``, which only says what to build)."""
    from qa.engine import Engine
    from qa.index.build import embed_into

    engine = Engine(Settings.from_env(store=store), encoder=encoder, reader=reader)
    loc = engine.location
    loc.check()
    if loc.stamp() is None:
        with loc.lock(None):
            if loc.stamp() is None:  # not built meanwhile by another evaluation
                built = loc.new(engine.spec)
                embed_into(built, docs, engine.encoder, engine.settings)
                loc.save(built)
    elif corpus_named:
        raise BadInput(
            f"{loc.describe()} holds an index already: --corpus says what to build into an "
            "empty store; drop --corpus to evaluate that index, or name another collection"
        )
    have = set(engine.store.documents)  # opened, and its manifest checked
    missing = sum(_paragraph_id(ex) not in have for ex in examples)
    if missing:
        raise BadInput(
            f"{missing} of the {len(examples)} questions' paragraphs are not in the index at "
            f"{loc.describe()}: retrieval could never find them; name an empty collection "
            "to build this file's paragraphs into it"
        )
    return engine


def _paragraph_id(ex: squad.Example) -> str:
    return Document.from_text(ex.context, source="", title="").id
