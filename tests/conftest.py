"""Shared fixtures: a deterministic fake encoder, tiny corpora, engines over temp folders."""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from qa.core.config import Settings
from qa.engine import Engine

SEED_DIR = Path(__file__).resolve().parents[1] / "seeds"


@pytest.fixture(scope="session", autouse=True)
def tmp_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Built artefacts (the int8 reader) go to a per-session folder, not the user's cache."""
    import os

    path = tmp_path_factory.mktemp("qa-cache")
    old = os.environ.get("QA_CACHE_DIR")
    os.environ["QA_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("QA_CACHE_DIR", None)
    else:
        os.environ["QA_CACHE_DIR"] = old


class FakeEncoder:
    """Hashed bag of lower-cased words: deterministic, instant, similar texts score higher."""

    name = "test/fake-hashing-encoder"
    dim = 64

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                h = int.from_bytes(hashlib.md5(w.encode()).digest()[:4], "little")
                out[i, h % self.dim] += 1.0
            out[i] /= max(float(np.linalg.norm(out[i])), 1e-9)
        if progress:
            progress(len(texts))
        return out


CORPUS = {
    "paris.txt": (
        "Paris is the capital of France. It has a population of about 2.1 million people.\n\n"
        "The Eiffel Tower was completed in 1889. Gustave Eiffel's company built it.\r\n\r\n"
        "The Louvre is the world's most visited museum."
    ),
    "bees.md": (
        "# Honey bees\n\n"
        "Honey bees live in colonies with a single queen. Worker bees are female.\n\n"
        "A colony can hold around 60,000 bees in summer. Drones are the male bees."
    ),
    "moon.html": (
        "<html><head><title>The Moon</title><style>p{}</style></head><body>"
        "<h1>The Moon</h1><p>The Moon orbits the Earth every 27 days.</p>"
        "<p>Neil Armstrong walked on the Moon in July 1969.</p><script>var x=1;</script>"
        "</body></html>"
    ),
}


@contextlib.contextmanager
def live_server(app: object, **config: object) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free 127.0.0.1 port in a thread; yields its base URL.
    ``config``: more uvicorn.Config arguments (e.g. ``http``, a protocol class)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", **config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the server thread died"
        assert time.monotonic() < deadline, "the server did not start in 20 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    d = tmp_path / "corpus"
    d.mkdir()
    for name, text in CORPUS.items():
        (d / name).write_bytes(text.encode("utf-8"))
    return d


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", reader_dir=None)


@pytest.fixture
def engine(settings: Settings, fake_encoder: FakeEncoder, corpus_dir: Path) -> Engine:
    e = Engine(settings, encoder=fake_encoder)
    e.index([corpus_dir])
    return e


_collections = iter(range(1_000_000))


@pytest.fixture(scope="session")
def milvus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One milvus-lite database for the session (each file starts a server: about a
    second); tests take collections of their own in it (`milvus_uri`)."""
    path = tmp_path_factory.mktemp("milvus") / "qa.db"
    try:
        from qa.index.milvus import MilvusLocation

        MilvusLocation.parse(f"file://{path}").client.list_collections()
    except Exception as e:
        pytest.skip(f"milvus-lite cannot start here ({str(e)[:120]}): Milvus tests skipped")
    return path


@pytest.fixture
def milvus_uri(milvus_db: Path) -> str:
    """A ``QA_STORE`` URI naming a new collection in the session's milvus-lite database."""
    return f"file://{milvus_db}?collection=t{next(_collections)}"
