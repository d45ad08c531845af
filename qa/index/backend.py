"""What the engine and the retriever need of an index, wherever it is kept.

Two parts: a `StoreBackend` holds documents, passages and vectors in a process (read,
changed, copied); a `Location` is where one is saved, opened, locked and watched for other
processes' saves. The default is a folder on disk (`FolderLocation`, `qa.index.store`);
``QA_STORE=milvus://host:19530/collection`` or ``file:///path/milvus.db`` puts it in Milvus
(`qa.index.milvus`). A store that also searches its own BM25 (`HybridSearch`) is asked
for both candidate lists; the local store leaves BM25 to the retriever (bm25s).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from qa.core.types import Document, Passage

if TYPE_CHECKING:
    from qa.core.config import Settings
    from qa.index.store import IndexSpec


class StoreBackend(Protocol):
    """Documents, passages and their vectors, as one process holds them."""

    spec: IndexSpec
    documents: Mapping[str, Document]
    passages: Mapping[str, Passage]
    version: int  # bumped on every change, so derived structures know to rebuild
    stamp: object | None  # the save this store is (`Location.stamp`); None once changed

    def __len__(self) -> int: ...

    def add(self, doc: Document, passages: list[Passage], vectors: np.ndarray) -> None: ...

    def remove(self, doc_id: str) -> Document: ...

    def copy(self) -> StoreBackend: ...

    def optimise(self, ivf_threshold: int, nprobe: int = 32) -> None: ...

    def set_nprobe(self, nprobe: int) -> None: ...

    def doc_passages(self, doc_id: str) -> list[Passage]: ...

    def search(
        self, query: np.ndarray, k: int, among: Collection[str] | None = None
    ) -> list[tuple[Passage, float]]: ...

    def vectors(self, passage_ids: Iterable[str]) -> np.ndarray: ...

    def manifest(self) -> dict[str, object]: ...


@runtime_checkable
class HybridSearch(Protocol):
    """A store that ranks by BM25 itself (a search engine): the retriever asks it for the
    candidates with both scores instead of keeping a BM25 index of its own."""

    def candidates(
        self, question: str, q: np.ndarray, n: int, among: Collection[str] | None = None
    ) -> tuple[list[Passage], np.ndarray, np.ndarray]: ...

    def lexical_top(self, text: str, n: int) -> list[Passage]: ...


class Location(Protocol):
    """Where an index is saved: opened, saved, locked for writers, watched for saves."""

    def describe(self) -> str: ...

    def check(self) -> None: ...

    def new(self, spec: IndexSpec) -> StoreBackend: ...

    def open(self, spec: IndexSpec) -> StoreBackend: ...

    def save(self, store: StoreBackend) -> None: ...

    def stamp(self) -> object | None: ...

    def lock(self, timeout: float | None) -> AbstractContextManager[None]: ...

    def read_documents(self) -> list[Document]: ...

    def manifest(self) -> dict[str, object] | None: ...


class FolderLocation:
    """An index folder (`qa.index.store`): generations swapped atomically, a file lock."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return f"{self.path}/"

    def check(self) -> None:
        from qa.index.store import check_index_folder

        check_index_folder(self.path)

    def new(self, spec: IndexSpec) -> StoreBackend:
        from qa.index.store import Store

        return Store(spec)

    def open(self, spec: IndexSpec) -> StoreBackend:
        from qa.index.store import Store

        return Store.open(self.path, spec)

    def save(self, store: StoreBackend) -> None:
        from qa.index.store import Store

        if not isinstance(store, Store):  # another kind of store: migrated into a folder
            store = copy_into(store, Store(store.spec))
        store.save(self.path)

    def stamp(self) -> object | None:
        from qa.index.manifest import current_stamp

        return current_stamp(self.path)

    def lock(self, timeout: float | None) -> Iterator[None]:
        from qa.index.store import write_lock

        return write_lock(self.path, timeout)  # type: ignore[return-value]

    def read_documents(self) -> list[Document]:
        from qa.index.records import read_documents

        return read_documents(self.path)

    def manifest(self) -> dict[str, object] | None:
        from qa.index.manifest import read_manifest

        return read_manifest(self.path)


def location_for(settings: Settings) -> Location:
    """The index ``settings`` name: ``store`` (a Milvus URI) if set, else ``index_dir``."""
    if not settings.store:
        return FolderLocation(settings.index_dir)
    from qa.index.milvus import MilvusLocation

    return MilvusLocation.parse(settings.store, settings.milvus_consistency)


def copy_into(source: StoreBackend, target: StoreBackend) -> StoreBackend:
    """``target`` with every document of ``source``, its passages and their vectors
    (``qa migrate``: nothing is embedded again)."""
    for doc_id, doc in source.documents.items():
        passages = source.doc_passages(doc_id)
        target.add(doc, passages, source.vectors([p.id for p in passages]))
    return target
