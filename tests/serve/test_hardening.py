"""Hostile input and heavy load: each defect found by trying to break the service, with the
test that shows it fixed. Fake encoder + sentence reader; live servers on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from qa.core.config import Settings
from qa.core.errors import IndexMismatch
from qa.core.progress import Reporter
from qa.core.types import Document
from qa.engine import Engine
from qa.index import ingest
from qa.index.store import Store
from qa.serve import ServeSettings, create_app
from qa.serve.logs import JSONFormatter, OncePer
from qa.serve.server import GuardedH11Protocol

from ..conftest import FakeEncoder, live_server


@pytest.fixture
def app_engine(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    for var in ("QA_API_KEY", "QA_CORS_ORIGINS", "QA_METRICS_PUBLIC"):
        monkeypatch.delenv(var, raising=False)
    return engine


# -- 1. a large HTML page: linear time, off the event loop ---------------------------------
def test_html_to_text_takes_linear_time() -> None:
    def seconds(kb: int) -> float:
        page = "<html><body>" + "<p>a</p>" * (kb * 128) + "</body></html>"
        t = time.perf_counter()
        text, _ = ingest.html_to_text(page)
        assert text.count("a") == kb * 128
        return time.perf_counter() - t

    seconds(64)  # warm-up
    small, large = seconds(256), seconds(2048)
    # 8x the page: about 8x the time when linear, 64x when quadratic (256 KB took minutes)
    assert large < 5.0 and large < 30 * max(small, 0.01), (small, large)


def test_html_nested_beyond_the_parser_limit_is_a_clear_error() -> None:
    page = "<div>" * 5000 + "deep" + "</div>" * 5000
    with pytest.raises(ingest.BadInput, match="HTML cannot be parsed"):
        ingest.html_to_text(page)


def test_healthz_answers_while_a_large_document_is_added(app_engine: Engine) -> None:
    page = "<html><body>" + "<p>word and more words here.</p>" * 25_000 + "</body></html>"
    app = create_app(app_engine, ServeSettings(max_body_bytes=10_000_000))
    with live_server(app) as url:
        result: dict[str, Any] = {}

        def add() -> None:
            body = {"text": page, "source": "big.html"}
            result["r"] = httpx.post(f"{url}/v1/documents", json=body, timeout=120)

        t = threading.Thread(target=add)
        t.start()
        deadline = time.monotonic() + 120
        while app.state.qa.writes.running == 0:  # the add has reached its slot
            assert time.monotonic() < deadline and t.is_alive()
            time.sleep(0.005)
        worst = 0.0
        while t.is_alive():
            t0 = time.perf_counter()
            assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
            worst = max(worst, time.perf_counter() - t0)
            time.sleep(0.05)
        t.join()
        assert result["r"].status_code == 201, result["r"].text
        assert worst < 1.0


# -- 2. metrics labels come from fixed sets -----------------------------------------------
def test_invented_methods_do_not_grow_the_metrics(app_engine: Engine) -> None:
    def invent(c: TestClient, first: int) -> int:
        for i in range(first, first + 100):
            c.request(f"BREW{i}", "/v1/ask")
            c.get(f"/no/such/path/{i}")
        return len(c.get("/metrics").text)

    with TestClient(create_app(app_engine)) as c:
        c.get("/metrics")  # the scrape's own series exist from here on
        once = invent(c, 0)
        twice = invent(c, 100)
        text = c.get("/metrics").text
        assert "BREW" not in text and "/no/such" not in text
        assert 'method="other"' in text and 'route="unmatched"' in text
        assert twice - once < 200  # counts grow by a digit or two, never by new series


# -- 3. stalled connections are closed ----------------------------------------------------
@pytest.fixture
def guarded_url(app_engine: Engine) -> Iterator[str]:
    app = create_app(app_engine, ServeSettings(body_timeout_s=0.5))
    protocol = type("Quick", (GuardedH11Protocol,), {"header_timeout_s": 0.5})
    with live_server(app, http=protocol) as url:
        yield url


def _connect(url: str) -> socket.socket:
    u = urlparse(url)
    s = socket.create_connection((u.hostname, u.port), timeout=5)
    return s


def _read_until_closed(s: socket.socket, limit_s: float) -> tuple[bytes, float]:
    t0 = time.monotonic()
    data = b""
    s.settimeout(limit_s)
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data, time.monotonic() - t0
        data += chunk


def test_a_body_that_stops_arriving_gets_408_and_the_connection_closes(guarded_url: str) -> None:
    socks = []
    for _ in range(20):
        s = _connect(guarded_url)
        s.sendall(
            b"POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"q'
        )
        socks.append(s)
    for s in socks:
        data, took = _read_until_closed(s, 5)
        assert data.startswith(b"HTTP/1.1 408"), data[:80]
        assert b"did not arrive within 0.5 s" in data
        assert took < 4
        s.close()
    assert httpx.get(f"{guarded_url}/healthz", timeout=2).status_code == 200


def test_headers_that_stop_arriving_close_the_connection(guarded_url: str) -> None:
    s = _connect(guarded_url)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # no blank line: never complete
    data, took = _read_until_closed(s, 5)
    assert data == b"" and took < 4
    s.close()
    s = _connect(guarded_url)  # a connection that sends nothing at all
    data, took = _read_until_closed(s, 5)
    assert data == b"" and took < 4
    s.close()


def test_a_keep_alive_connection_still_serves_requests_after_the_header_deadline(
    guarded_url: str,
) -> None:
    with httpx.Client(base_url=guarded_url) as c:
        for _ in range(3):
            assert c.get("/healthz").status_code == 200
            time.sleep(0.3)  # under uvicorn's keep-alive, longer than a header deadline


def test_an_error_repeated_per_connection_is_logged_once_per_interval() -> None:
    records = []
    flt = OncePer("socket.accept() out of system resource", interval_s=60)
    for i in range(500):
        rec = logging.LogRecord(
            "asyncio",
            logging.ERROR,
            __file__,
            1,
            "socket.accept() out of system resource",
            (),
            (OSError, OSError(24, "Too many open files"), None),
        )
        if flt.filter(rec):
            records.append(rec)
        if i == 0:
            other = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "other", (), None)
            assert flt.filter(other)
    assert len(records) == 1 and records[0].exc_info is None
    flt._last -= 61  # the next interval: one line, with the count held back
    rec = logging.LogRecord(
        "asyncio", logging.ERROR, __file__, 1, "socket.accept() out of system resource", (), None
    )
    assert flt.filter(rec) and "499 more like it" in rec.getMessage()


# -- 4. writes do not crowd out questions -------------------------------------------------
def test_writes_waiting_do_not_take_the_question_slots(app_engine: Engine) -> None:
    release = threading.Event()
    real_add = app_engine.add_documents

    def slow_add(docs: Any, progress: Any = None, **kw: Any) -> Any:
        assert release.wait(20)
        return real_add(docs, progress, **kw)

    app_engine.add_documents = slow_add  # type: ignore[method-assign]
    settings = ServeSettings(max_in_flight=1, queue=0, write_queue=8, write_wait_s=20)
    app = create_app(app_engine, settings)
    with TestClient(app) as c:
        codes: list[int] = []

        def add(i: int) -> None:
            body = {"text": f"Document number {i} is about otters.", "source": f"w{i}.txt"}
            codes.append(c.post("/v1/documents", json=body).status_code)

        writers = [threading.Thread(target=add, args=(i,)) for i in range(4)]
        for t in writers:
            t.start()
        deadline = time.monotonic() + 10
        while app.state.qa.writes.running + app.state.qa.writes.waiting < 4:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        for _ in range(5):  # one question slot, no queue: still always free for questions
            assert (
                c.post("/v1/ask", json={"question": "Who walked on the Moon?"}).status_code == 200
            )
        release.set()
        for t in writers:
            t.join(20)
        assert sorted(codes) == [201] * 4


# -- 5. an index that does not fit is refused on open -------------------------------------
def _live_generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def test_vectors_of_another_dimension_are_refused_on_open(
    engine: Engine, settings: Settings
) -> None:
    import faiss

    gen = _live_generation(settings.index_dir)
    n = engine.store.index.ntotal
    other = faiss.IndexIDMap2(faiss.IndexFlatIP(32))
    keys = faiss.vector_to_array(engine.store.index.id_map).astype(np.int64)
    other.add_with_ids(np.ones((n, 32), dtype=np.float32), keys)
    faiss.write_index(other, str(gen / "vectors.faiss"))
    with pytest.raises(IndexMismatch, match=r"vectors of dimension 32 but .* say 64"):
        Store.open(settings.index_dir, engine.spec)
    fresh = Engine(settings, encoder=FakeEncoder())
    with TestClient(create_app(fresh, api_key="")) as c:  # not ready, and says why
        r = c.get("/readyz")
        assert r.status_code == 503 and "dimension 32" in r.json()["error"]["message"]


def test_passage_offsets_beyond_the_document_are_refused_on_open(
    engine: Engine, settings: Settings
) -> None:
    gen = _live_generation(settings.index_dir)
    rows = [json.loads(x) for x in (gen / "passages.jsonl").read_text().splitlines()]
    rows[0]["end"] += 10_000
    (gen / "passages.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(IndexMismatch, match="outside its document"):
        Store.open(settings.index_dir, engine.spec)


# -- 6. a rebuild never drops documents silently -------------------------------------------
def test_index_if_stale_keeps_a_document_added_through_the_api(
    engine: Engine, settings: Settings, corpus_dir: Path
) -> None:
    note = Document.from_text("The vault code is 4471.", "api-note", "Vault")
    engine.add_documents([note])
    fresh = Engine(settings, encoder=FakeEncoder())
    assert not fresh.is_stale([corpus_dir])  # the API's document is not the files' business
    (corpus_dir / "paris.txt").write_text("Paris is in France. It is on the Seine.")
    assert fresh.is_stale([corpus_dir])
    built = fresh.index([corpus_dir])
    assert [d.source for d in built.kept] == ["api-note"] and not built.dropped
    assert note.id in fresh.store.documents
    replaced = fresh.index([corpus_dir], replace=True)
    assert [d.source for d in replaced.dropped] == ["api-note"]
    assert note.id not in fresh.store.documents


def test_a_file_deleted_from_the_folder_is_not_kept(engine: Engine, corpus_dir: Path) -> None:
    (corpus_dir / "bees.md").unlink()
    built = engine.index([corpus_dir])
    assert not built.kept
    assert all("bees" not in d.source for d in built.store.documents.values())


def test_qa_index_says_what_it_kept(
    engine: Engine, settings: Settings, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import qa.cli.commands as cli

    engine.add_documents([Document.from_text("Otters hold hands.", "api-otters", "Otters")])
    monkeypatch.setattr(
        cli, "_engine", lambda index, store=None: Engine(settings, encoder=FakeEncoder())
    )
    r = CliRunner().invoke(cli.app, ["index", str(corpus_dir)])
    assert r.exit_code == 0, r.output
    assert "kept 1 document(s) that are not from these paths" in " ".join(r.output.split())
    assert "--replace drops them" in r.output
    r = CliRunner().invoke(cli.app, ["index", str(corpus_dir), "--replace"])
    assert "dropped 1 document(s)" in " ".join(r.output.split())


# -- 7. leftovers of interrupted saves ------------------------------------------------------
def test_leftovers_of_interrupted_saves_are_cleaned_when_a_write_starts(
    engine: Engine, settings: Settings
) -> None:
    live = _live_generation(settings.index_dir)
    for name in (".gen-7.tmp-123", "gen-9"):
        shutil.copytree(live, settings.index_dir / name)
    (settings.index_dir / ".CURRENT.tmp-55").write_text("gen-9\n")
    engine.remove(next(iter(engine.store.documents)))
    names = sorted(p.name for p in settings.index_dir.iterdir())
    assert names == [".lock", "CURRENT", _live_generation(settings.index_dir).name]


# -- 8. the small ones ---------------------------------------------------------------------
def test_head_healthz_and_405_names_every_method(app_engine: Engine) -> None:
    with TestClient(create_app(app_engine)) as c:
        assert c.head("/healthz").status_code == 200
        r = c.options("/v1/documents")
        assert r.status_code == 405
        assert r.headers["allow"] == "GET, POST"
        assert "use GET, POST" in r.json()["error"]["message"]


def test_the_schema_says_what_the_server_takes(app_engine: Engine) -> None:
    with TestClient(create_app(app_engine)) as c:
        schema = c.get("/openapi.json").json()
        question = schema["components"]["schemas"]["AskRequest"]["properties"]["question"]
        assert question["minLength"] == 1 and question["pattern"] == r"\S"
        assert c.post("/v1/ask", json={"question": "Who?", "k": 3.0}).status_code == 200
        stream = schema["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
        assert "text/event-stream" in stream
        assert "ChatCompletionChunk" in schema["components"]["schemas"]


# -- 9. progress in every mode ---------------------------------------------------------------
def test_progress_lines_say_the_size_first_then_every_few_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr("qa.core.progress.time.monotonic", lambda: clock[0])
    lines: list[str] = []
    report = Reporter(lines.append, interval_s=5)
    report("chunk", 0, 50_000_000)
    report("chunk", 50_000_000, 50_000_000)
    report("embed", 0, 1000)
    for done in range(100, 1000, 100):
        clock[0] += 1
        report("embed", done, 1000)
    clock[0] += 1
    report("embed", 1000, 1000)
    assert lines[0] == "chunking 50.0 MB of text…"
    assert lines[1] == "chunked 50.0 MB of text in 0 s"
    assert lines[2] == "embedding 1,000 passages…"
    assert lines[3] == "embedding: 50% of 1,000 passages, about 5 s left"
    assert lines[-1] == "embedded 1,000 passages in 10 s"
    assert len(lines) == 5  # start and end of each stage, and one line 5 s in
    lines.clear()
    report("index", 400_000, 1_000_000)  # a resumed rebuild: 40% was done before
    clock[0] += 6
    report("index", 700_000, 1_000_000)
    assert lines == [
        "indexing 1.0 MB of files…",
        "indexing: 70% of 1.0 MB of files, about 6 s left",  # 300 KB in 6 s, not 700 KB
    ]


def test_an_ended_stage_is_said_once_until_more_comes_in() -> None:
    lines: list[str] = []
    report = Reporter(lines.append, interval_s=5)
    for _ in range(3):  # an empty file: its reading reports done three times
        report("index", 0, 0)
    assert lines == ["indexing 0 bytes of files…", "read 0 bytes of files in 0 s"]
    report("index", 0, 10)  # more files: their end is said too
    report("index", 10, 10)
    assert lines[-1] == "read 10 bytes of files in 0 s" and len(lines) == 3


def test_qa_index_shows_progress_when_stderr_is_not_a_terminal(
    corpus_dir: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import qa.cli.commands as cli

    monkeypatch.setattr(
        cli, "_engine", lambda index, store=None: Engine(settings, encoder=FakeEncoder())
    )
    r = CliRunner().invoke(cli.app, ["index", str(corpus_dir)])
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    n = sum(f.stat().st_size for f in corpus_dir.iterdir())
    assert f"indexing {n} bytes of files…" in out and f"read {n} bytes of files in 0 s" in out


# -- logs ------------------------------------------------------------------------------------
def test_one_json_log_line_per_request_with_its_id_and_timings(
    app_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(create_app(app_engine)) as c, caplog.at_level("INFO", "qa.serve.request"):
        r = c.post(
            "/v1/ask",
            json={"question": "Who walked on the Moon?"},
            headers={"X-Request-ID": "abc-123"},
        )
        assert r.headers["x-request-id"] == "abc-123"
        generated = c.get("/healthz").headers["x-request-id"]
    recs = [x for x in caplog.records if x.name == "qa.serve.request"]
    assert [x.request_id for x in recs] == ["abc-123", generated]
    line = json.loads(JSONFormatter().format(recs[0]))
    assert line["status"] == 200 and line["path"] == "/v1/ask" and line["level"] == "info"
    assert set(line["timings_ms"]) >= {"encode", "retrieve", "read"}
    assert line["time"].endswith("+00:00")


def test_probes_and_metrics_public_only_when_asked(
    app_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_app(app_engine, api_key="k")) as c:
        assert c.get("/metrics").status_code == 401 and c.get("/readyz").status_code == 401
    monkeypatch.setenv("QA_METRICS_PUBLIC", "1")
    with TestClient(create_app(app_engine, api_key="k")) as c:
        assert c.get("/readyz").status_code == 200
        text = c.get("/metrics").text
        for name in (
            "qa_questions_total",
            "qa_stage_duration_seconds",
            "qa_index_passages",
            "qa_documents_added_total",
            "qa_rejected_requests_total",
            "process_resident_memory_bytes",
        ):
            assert name in text
        assert c.post("/v1/ask", json={"question": "Who?"}).status_code == 401


# -- graceful shutdown ------------------------------------------------------------------------
_SERVER = """
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from qa.core.config import Settings
from qa.engine import Engine
from qa.serve import ServeSettings, create_app, logs, run
from tests.conftest import FakeEncoder

logs.configure("info", "json")

class Slow(FakeEncoder):  # texts marked SLOW take a while, so a signal finds them running
    def encode(self, texts, batch_size=32, progress=None):
        if any("SLOW" in t for t in texts):
            time.sleep(1.5)
        return super().encode(texts, batch_size, progress)

engine = Engine(Settings(index_dir=Path({index!r}), reader_dir=None), encoder=Slow())
run(create_app(engine, ServeSettings()), "127.0.0.1", {port})
"""


def test_sigterm_finishes_the_question_and_the_write_in_flight(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = str(Path(__file__).resolve().parents[2])
    script = _SERVER.format(root=root, index=str(settings.index_dir), port=port)
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 -- closed below
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        results: dict[str, httpx.Response] = {}
        calls = {
            "ask": ("/v1/ask", {"question": "SLOW: who walked on the Moon?"}),
            "add": ("/v1/documents", {"text": "SLOW otters hold hands.", "source": "o.txt"}),
        }

        def call(name: str) -> None:
            path, body = calls[name]
            results[name] = httpx.post(url + path, json=body, timeout=30)

        threads = [threading.Thread(target=call, args=(n,)) for n in calls]
        for t in threads:
            t.start()
        time.sleep(0.5)  # both are running now
        proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(30)
        # uvicorn stops gracefully, then lets the signal end the process (as -15 / 143)
        assert proc.wait(30) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    assert results["ask"].status_code == 200, results["ask"].text
    assert results["add"].status_code == 201, results["add"].text
    reopened = Engine(settings, encoder=FakeEncoder())
    assert results["add"].json()["id"] in reopened.store.documents
    assert "index writes finished" in (tmp_path / "server.log").read_text()
