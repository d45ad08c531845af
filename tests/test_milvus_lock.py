"""Writers of an index in Milvus take turns and lose nothing: the lease in Milvus
(`qa.index.milvus_lock`) for a server, the file lock for milvus-lite.

The server case runs against milvus-lite's own server binary listening on a TCP port
(`milvus_server`), which several processes reach as they would a Milvus server: the same
``milvus://`` code path, from separate processes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from qa.core.config import Settings
from qa.core.errors import Busy
from qa.engine import Engine
from qa.index.milvus import MilvusLocation
from qa.index.milvus_lock import LeaseLock, lease_lock

from .conftest import FakeEncoder

ROOT = Path(__file__).resolve().parents[1]
BUSY = r"another process has been writing the index at .+ for over {:g} s; retry when it is done"


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory):
    """milvus-lite's server on a free TCP port: ``http://127.0.0.1:PORT``."""
    pytest.importorskip("milvus_lite")
    from milvus_lite.server import Server
    from pymilvus import MilvusClient

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = Server(str(tmp_path_factory.mktemp("milvus-server") / "srv.db"), f"127.0.0.1:{port}")
    if not (server.init() and server.start()):
        pytest.skip("milvus-lite's server cannot start here")
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            MilvusClient(uri, timeout=5).list_collections()
            break
        except Exception:
            if time.monotonic() > deadline:
                server.stop()
                pytest.skip("milvus-lite's server did not answer on its port")
            time.sleep(0.5)
    yield uri
    server.stop()


_names = iter(range(1_000_000))


@pytest.fixture
def lock_collection(milvus_server: str) -> tuple[object, str]:
    from pymilvus import MilvusClient

    return MilvusClient(milvus_server), f"locks{next(_names)}"


def test_the_lease_lets_one_holder_at_a_time(lock_collection):
    client, name = lock_collection
    inside, most, done = [0], [0], [0]
    guard = threading.Lock()

    def writer() -> None:
        for _ in range(3):
            with lease_lock(client, name, "test", timeout=60):
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.02)  # a write: long enough for the others to try meanwhile
                n = done[0]
                time.sleep(0.01)
                done[0] = n + 1  # a read-modify-write: lost if two held the lock at once
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=writer) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1 and done[0] == 15
    assert LeaseLock(client, name, "test").rivals() == []  # every claim was deleted


def test_a_held_lock_times_out_with_the_folders_message(lock_collection):
    client, name = lock_collection
    with lease_lock(client, name, "milvus://h/c", timeout=5):
        start = time.monotonic()
        busy = pytest.raises(Busy, match=BUSY.format(0.3))
        with busy, lease_lock(client, name, "milvus://h/c", timeout=0.3):
            pass
        assert time.monotonic() - start < 3
    with lease_lock(client, name, "milvus://h/c", timeout=0):  # released: free at once
        pass


def test_a_crashed_writers_lease_expires_and_is_taken_over(lock_collection):
    client, name = lock_collection
    crashed = LeaseLock(client, name, "test", lease_s=1.5)
    crashed.acquire()
    crashed._stop.set()  # it dies holding the lock: no renewal, no release
    start = time.monotonic()
    with pytest.raises(Busy), lease_lock(client, name, "test", timeout=0.2):
        pass
    with lease_lock(client, name, "test", timeout=10):
        waited = time.monotonic() - start
    assert 0.5 < waited < 6  # until the claim expired, not longer


def test_a_long_write_keeps_its_lease_renewed(lock_collection):
    client, name = lock_collection
    # a 3 s lease renewed every 0.75 s: room for a loaded machine's slow upserts
    with lease_lock(client, name, "test", timeout=5, lease_s=3.0) as held:
        time.sleep(7)  # over twice the lease: renewed meanwhile
        with pytest.raises(Busy), lease_lock(client, name, "test", timeout=0.3):
            pass
    assert not held.lost


_WRITER = textwrap.dedent(
    """
    import sys, time
    from qa.core.config import Settings
    from qa.core.types import Document
    from qa.engine import Engine
    from tests.conftest import FakeEncoder

    store, index_dir, n, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    engine = Engine(Settings(store=store, index_dir=index_dir, reader_dir=None),
                    encoder=FakeEncoder())
    engine.documents()  # each holds the index as it was before any of the writes
    time.sleep(max(0.0, start - time.time()))  # all write at once
    note = Document.from_text(f"Note {n}: the tower number {n} is red.", f"note{n}.txt", "")
    shared = Document.from_text(f"Version {n} of the shared file.", "shared.txt", "")
    engine.add_documents([note, shared], replace_sources=True)  # shared.txt: an edit
    """
)


def test_writers_in_processes_on_a_server_take_turns_and_lose_nothing(
    milvus_server: str, settings: Settings, corpus_dir: Path
):
    store = milvus_server.replace("http://", "milvus://") + f"/w{next(_names)}"
    engine = Engine(replace(settings, store=store), encoder=FakeEncoder())
    engine.index([corpus_dir])
    engine.add_text("Version zero of the shared file.", "shared.txt")
    before = {str(d["source"]) for d in engine.documents()}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = str(time.time() + 8)  # after every process has imported qa and opened the index
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, store, str(settings.index_dir), str(n), start],
            env=env,
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    for w in writers:
        _, err = w.communicate(timeout=180)
        assert w.returncode == 0, err[-2000:]
    fresh = Engine(replace(settings, store=store), encoder=FakeEncoder())
    names = [str(d["source"]) for d in fresh.documents()]
    # every writer's own document is there, and each edit replaced the one before it:
    # one version of shared.txt (without the lock, each removes version 0 and adds its own)
    assert sorted(names) == sorted(before | {f"note{n}.txt" for n in range(4)})
    shared = [d for d in fresh.store.documents.values() if d.source == "shared.txt"]
    assert len(shared) == 1 and shared[0].text.startswith("Version ")


def test_writers_of_one_milvus_lite_file_take_turns(
    settings: Settings, milvus_uri: str, corpus_dir
):
    from qa.core.types import Document

    s = replace(settings, store=milvus_uri)
    first = Engine(s, encoder=FakeEncoder())
    first.index([corpus_dir])
    first.add_text("Version zero of the shared file.", "shared.txt")
    engines = [Engine(s, encoder=FakeEncoder()) for _ in range(4)]
    for e in engines:
        e.documents()  # each holds the index as it was before any of the writes
    errors: list[BaseException] = []

    def add(e: Engine, n: int) -> None:
        note = Document.from_text(f"Note {n}: the tower number {n} is red.", f"note{n}.txt", "")
        shared = Document.from_text(f"Version {n} of the shared file.", "shared.txt", "")
        try:
            e.add_documents([note, shared], replace_sources=True)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(e, n)) for n, e in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    docs = Engine(s, encoder=FakeEncoder()).store.documents.values()
    assert {f"note{n}.txt" for n in range(4)} <= {d.source for d in docs}
    assert sum(d.source == "shared.txt" for d in docs) == 1


def test_a_held_milvus_lite_lock_times_out_with_the_folders_message(milvus_uri: str):
    loc = MilvusLocation.parse(milvus_uri)
    with loc.lock(1):
        done: list[BaseException] = []

        def other() -> None:  # another thread's engine: the file lock orders them too
            try:
                with MilvusLocation.parse(milvus_uri).lock(0.2):
                    pass
            except BaseException as e:
                done.append(e)

        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert len(done) == 1 and isinstance(done[0], Busy)
    assert f"the index at {milvus_uri} for over 0.2 s" in str(done[0])
