"""An index in Milvus: ``QA_STORE=milvus://host:19530/collection`` (a Milvus server or
cluster) or ``file:///path/milvus.db?collection=qa`` (milvus-lite, the same server embedded
in this process: the same protocol, for tests and one machine).

Three collections per index, named after it and its generation ``g<8 hex>`` (a rebuild
writes a new generation, then points the meta row at it: readers switch in one upsert):

    <name>_<gen>      a row a passage: everything a citation needs (id, doc id, source,
                      title, offsets, text, page, section), qa's stemmed terms with a BM25
                      function over them, and the dense vector (inner product)
    <name>_<gen>_documents  the documents' texts, blocks and metadata (JSON, in parts), so
                      citations and ``qa cite`` resolve after a restart
    <name>_meta       one row: the manifest (embedder, dimension, chunking, format) checked
                      on open, the live generation, and a stamp that changes with every
                      save; a rebuild under way keeps its plan and journal here too
                      (`qa.index.milvus_stage`)

An index saved before generations (no ``generation`` in its meta row) lives in ``<name>``
and ``<name>_documents``; it opens as before, and its next rebuild moves it to a generation.

The BM25 field holds qa's own terms (`qa.core.text.terms`) split on whitespace, with
bm25s's k1 and b: Milvus's BM25 then scores as qa's local bm25s does. The collections are
created with Strong consistency, so a save is searchable by the next question (replicas
reading a cluster may choose Bounded: a save shows within the staleness bound).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from qa.core.config import MILVUS_CONSISTENCY
from qa.core.errors import BadInput, IndexNotFound
from qa.core.types import Document, Passage
from qa.index.records import document_from_json, document_to_json

if TYPE_CHECKING:
    from qa.index.backend import StoreBackend
    from qa.index.milvus_store import MilvusStore
    from qa.index.store import IndexSpec

DEFAULT_COLLECTION = "qa"
DEFAULT_CONSISTENCY = "bounded"
PART_CHARS = 16_000  # a document's JSON in parts: 4 bytes a character fits VARCHAR's 65,535
TEXT_BYTES = 65_535
BATCH = 500  # rows an insert sends at once (gRPC messages stay well under their limit)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")
_clients: dict[tuple[str, str], Any] = {}  # one client (one milvus-lite server) a database
_clients_lock = threading.Lock()


def _fit(text: str, limit: int = TEXT_BYTES) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (a VARCHAR's bound), whole characters."""
    raw = text.encode("utf-8")
    return text if len(raw) <= limit else raw[:limit].decode("utf-8", "ignore")


class MilvusLocation:
    """An index kept in Milvus, named by a ``milvus://`` or ``file://`` URI."""

    def __init__(
        self,
        uri: str,
        collection: str,
        shown: str,
        token: str = "",
        consistency: str = DEFAULT_CONSISTENCY,
    ) -> None:
        if consistency.lower() not in MILVUS_CONSISTENCY:
            choices = ", ".join(MILVUS_CONSISTENCY)
            raise BadInput(f"QA_MILVUS_CONSISTENCY must be one of {choices}, not {consistency!r}")
        if not _NAME.match(collection):
            raise BadInput(
                f"the Milvus collection name {collection!r} (in QA_STORE) must be letters, "
                "digits and underscores, not starting with a digit"
            )
        self.uri = uri  # what MilvusClient connects to: http://host:port or a .db path
        self.name = collection
        self.shown = shown  # the URI as given, for messages
        self.token = token
        # the level of questions' searches (Milvus's spelling); writes and the stamp,
        # documents and passages a writer reads are Strong (README "The index in Milvus")
        self.consistency = consistency.lower().capitalize()

    @classmethod
    def parse(cls, text: str, consistency: str = DEFAULT_CONSISTENCY) -> MilvusLocation:
        """``milvus://[user:password@]host[:19530]/collection`` or
        ``file:///path/milvus.db[?collection=name]``; anything else is a one-line error.
        ``consistency``: the level questions search at (`QA_MILVUS_CONSISTENCY`)."""
        u = urlsplit(text.strip())
        if u.scheme == "milvus" and u.hostname:
            name = u.path.strip("/") or DEFAULT_COLLECTION
            token = f"{unquote(u.username or '')}:{unquote(u.password or '')}"
            token = "" if token == ":" else token
            uri = f"http://{u.hostname}:{u.port or 19530}"
            return cls(uri, name, text.strip(), token, consistency)
        if u.scheme == "file" and u.path:
            name = (parse_qs(u.query).get("collection") or [DEFAULT_COLLECTION])[0]
            return cls(str(Path(unquote(u.path))), name, text.strip(), "", consistency)
        raise BadInput(
            f"QA_STORE (--store) {text!r} is not a Milvus address: give "
            "milvus://host:19530/collection, or file:///path/milvus.db for milvus-lite"
        )

    @property
    def lite(self) -> bool:
        return not self.uri.startswith("http")

    @property
    def client(self) -> Any:
        with _clients_lock:
            key = (self.uri, self.token)
            if key not in _clients:
                _clients[key] = _connect(self)
            return _clients[key]

    @property
    def names(self) -> tuple[str, str, str]:
        """The passages', documents' and meta collections' names before generations."""
        return self.name, f"{self.name}_documents", f"{self.name}_meta"

    def collections(self, generation: str) -> tuple[str, str]:
        """The passages' and documents' collections of ``generation`` ("": the names an
        index saved before generations has)."""
        base = f"{self.name}_{generation}" if generation else self.name
        return base, f"{base}_documents"

    def live_generation(self) -> str | None:
        """The generation readers are pointed at (None: no index; "": one saved before
        generations)."""
        meta = self.read_meta()
        return None if meta is None else str(meta.get("generation") or "")

    def describe(self) -> str:
        return self.shown

    def rebuild_hint(self) -> str:
        store = f"--store {self.shown}"
        return f"'qa index DOCS/ {store}' (DOCS/: the folders of the documents it holds)"

    def check(self) -> None:
        if self.lite and Path(self.uri).is_dir():
            raise BadInput(f"{self.uri} is a folder: a milvus-lite database is a file (x.db)")

    def new(self, spec: IndexSpec) -> MilvusStore:
        from qa.index.milvus_store import MilvusStore

        return MilvusStore(spec, self, fresh=True)

    def open(self, spec: IndexSpec) -> MilvusStore:
        from qa.index.milvus_store import MilvusStore

        return MilvusStore.open(self, spec)

    def save(self, store: StoreBackend) -> None:
        from qa.index.backend import copy_into
        from qa.index.milvus_store import MilvusStore

        if not isinstance(store, MilvusStore):  # a folder's store, migrated: replaces all
            store = copy_into(store, self.new(store.spec))
        assert isinstance(store, MilvusStore)
        store.flush()

    def stamp(self) -> object | None:
        """The stamp of the last save (one primary-key query), None when there is none."""
        meta = self.read_meta()
        return None if meta is None else meta.get("stamp")

    def lock(self, timeout: float | None) -> Any:
        """The writers' lock, waiting at most ``timeout`` seconds (None: as long as it
        takes), then `Busy`. A server: a lease in Milvus (`qa.index.milvus_lock`), so
        writers on any machine take turns. milvus-lite serves one process a file (a second
        cannot open it): a file lock beside the database orders this process's writers,
        and a crash releases it at once, where a lease would block for its length."""
        if self.lite:
            return _file_lock(Path(self.uri + ".lock"), self.shown, timeout)
        from qa.index.milvus_lock import lease_lock

        return lease_lock(self.client, f"{self.name}_lock", self.shown, timeout)

    def read_meta(self) -> dict[str, Any] | None:
        c, meta = self.client, self.names[2]
        if not c.has_collection(meta):
            return None
        rows = c.query(meta, filter='key == "index"', output_fields=["value"])
        return json.loads(rows[0]["value"]) if rows else None

    def write_meta(self, manifest: dict[str, object], stamp: str, generation: str = "") -> None:
        """Point readers at ``generation`` (one upsert of one row: the flip of a rebuild)."""
        meta = {"manifest": manifest, "stamp": stamp, "generation": generation}
        value = json.dumps(meta, ensure_ascii=False)
        self.client.upsert(self.names[2], [{"key": "index", "value": value, "v": [0.0, 0.0]}])

    def read_documents(self) -> list[Document]:
        """The documents saved here ([] when there are none or they cannot be read)."""
        try:
            return list(self.load_documents().values())
        except Exception:
            return []

    def load_documents(self, generation: str | None = None) -> dict[str, Document]:
        """The documents of ``generation`` (default: the live one)."""
        if generation is None:
            generation = self.live_generation() or ""
        c, docs = self.client, self.collections(generation)[1]
        if not c.has_collection(docs):
            return {}
        parts: dict[str, list[tuple[int, str]]] = {}
        for row in _rows(c, docs, ["doc_id", "part", "data"]):
            parts.setdefault(row["doc_id"], []).append((row["part"], row["data"]))
        out = {}
        for doc_id in sorted(parts):
            d = document_from_json(json.loads("".join(t for _, t in sorted(parts[doc_id]))))
            out[d.id] = d
        return out

    def load_passages(self, documents: dict[str, Document], generation: str = "") -> list[Passage]:
        fields = ["id", "doc_id", "start", "end", "page", "section"]
        out = []
        for r in _rows(self.client, self.collections(generation)[0], fields):
            doc = documents[r["doc_id"]]
            page = r["page"] if r["page"] > 0 else None
            text = doc.text[r["start"] : r["end"]]
            out.append(Passage(r["id"], doc.id, r["start"], r["end"], text, r["section"], page))
        return out

    def manifest(self) -> dict[str, object] | None:
        meta = self.read_meta()
        if meta is None:
            return None
        from qa.index.milvus_store import MilvusStore

        try:
            return MilvusStore.load(self, None).manifest()
        except Exception:
            return None

    def not_found(self) -> IndexNotFound:
        return IndexNotFound(f"no index at {self.shown} — build one with {self.rebuild_hint()}")


def document_rows(doc: Document) -> list[dict[str, object]]:
    """A document as rows of the documents collection (its JSON in parts)."""
    blob = json.dumps(document_to_json(doc), ensure_ascii=False)
    parts = [blob[i : i + PART_CHARS] for i in range(0, len(blob), PART_CHARS)] or [""]
    return [
        {"id": f"{doc.id}/{i}", "doc_id": doc.id, "part": i, "data": part, "v": [0.0, 0.0]}
        for i, part in enumerate(parts)
    ]


def _rows(client: Any, collection: str, fields: list[str]) -> Iterator[dict[str, Any]]:
    """Every row of ``collection`` (an iterator: a query alone stops at 16,384 rows)."""
    it = client.query_iterator(collection, batch_size=2000, filter="", output_fields=fields)
    try:
        while batch := it.next():
            yield from batch
    finally:
        it.close()


def _connect(location: MilvusLocation) -> Any:
    """A client of the database; milvus-lite starts its server here (about a second)."""
    import logging
    import warnings

    try:
        with warnings.catch_warnings():  # milvus-lite imports pkg_resources, which warns
            warnings.simplefilter("ignore")
            from pymilvus import MilvusClient

            # its iterator warns on every listing that milvus-lite keeps no MVCC timestamp
            # (after the import: pymilvus sets its loggers' levels when first imported)
            logging.getLogger("pymilvus").setLevel(logging.ERROR)
            if location.lite:
                Path(location.uri).parent.mkdir(parents=True, exist_ok=True)
                return MilvusClient(location.uri)
            return MilvusClient(location.uri, token=location.token)
    except Exception as e:
        raise BadInput(
            f"cannot reach Milvus at {location.shown} ({str(e).strip()[:200]}); "
            "start it, or unset QA_STORE to use the index folder"
        ) from None


@contextmanager
def _file_lock(path: Path, shown: str, timeout: float | None) -> Iterator[None]:
    from filelock import FileLock, Timeout

    from qa.core.errors import Busy

    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=-1 if timeout is None else timeout)
    except Timeout:
        raise Busy(
            f"another process has been writing the index at {shown} for over {timeout:g} s; "
            "retry when it is done"
        ) from None
    try:
        yield
    finally:
        lock.release()
