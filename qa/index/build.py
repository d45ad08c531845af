"""Documents into a store: chunked, embedded in batches, added; progress all the way."""

from __future__ import annotations

from collections.abc import Sequence

from qa.core.config import Settings
from qa.core.progress import Progress
from qa.core.types import Document, Passage
from qa.index.backend import StoreBackend
from qa.index.chunk import passages
from qa.index.embed import Encoder


def embed_into(
    store: StoreBackend,
    documents: Sequence[Document],
    encoder: Encoder,
    settings: Settings,
    progress: Progress | None = None,
) -> None:
    """Chunk ``documents``, embed their passages and add them to ``store``; reports
    ``("chunk", characters done, total)`` then ``("embed", passages done, total)``."""
    s = settings
    chars = sum(len(d.text) for d in documents)
    chunked: list[tuple[Document, list[Passage]]] = []
    seen = 0
    for d in documents:  # the size up front, then progress: chunking is long too
        if progress:
            progress("chunk", seen, chars)
        chunked.append((d, passages(d, s)))
        seen += len(d.text)
    if progress:
        progress("chunk", chars, chars)
    total = sum(len(ps) for _, ps in chunked)
    texts = [p.search_text for _, ps in chunked for p in ps]
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("embed", done, total)

    if progress:
        progress("embed", 0, total)
    vectors = encoder.encode(texts, batch_size=s.batch_size, progress=tick)
    i = 0
    for doc, ps in chunked:
        store.add(doc, ps, vectors[i : i + len(ps)])
        i += len(ps)
    store.optimise(s.ivf_threshold, s.nprobe)
