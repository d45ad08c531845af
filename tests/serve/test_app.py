"""The HTTP API: every endpoint and error path, a live server driven by the openai client,
and schemathesis against the app's own OpenAPI schema. Fake encoder + sentence reader."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qa.core.config import Settings
from qa.core.types import Document, response_to_dict
from qa.engine import NO_ANSWER, Engine
from qa.serve import MODEL_ID, ServeSettings, create_app
from qa.serve.routes.chat import is_follow_up, retrieval_query

from ..conftest import live_server as serve_in_thread

WITKOFF = (
    "Steve Witkoff is the special envoy of President Donald Trump. "
    "Witkoff will visit Moscow next week, said Yury Ushakov.\n\n"
    "Jared Kushner is expected to travel with him."
)
PARIS = (
    "Paris is the capital of France. The Eiffel Tower was completed in 1889.\n\n"
    "The Louvre is the world's most visited museum."
)
BEES = "Honey bees live in colonies with a single queen. Worker bees are female."

KEY = "s3cret-key"


def _docs() -> list[Document]:
    return [
        Document.from_text(WITKOFF, "news/witkoff.txt", "Witkoff to visit Moscow"),
        Document.from_text(PARIS, "paris.txt", "Paris"),
        Document.from_text(BEES, "bees.txt", "Honey bees"),
    ]


@pytest.fixture
def make_engine(tmp_path: Path, fake_encoder: Any) -> Callable[..., Engine]:
    def make(**settings: Any) -> Engine:
        s = Settings(index_dir=tmp_path / "idx", reader_dir=None, **settings)
        return Engine.in_memory(_docs(), s, encoder=fake_encoder)

    return make


@pytest.fixture
def engine(make_engine: Callable[..., Engine]) -> Engine:
    return make_engine()


@pytest.fixture
def client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.delenv("QA_API_KEY", raising=False)
    monkeypatch.delenv("QA_CORS_ORIGINS", raising=False)
    with TestClient(create_app(engine)) as c:
        yield c


def _assert_error(r: Any, status: int, *needles: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "code"}
    assert err["code"] == status
    for n in needles:
        assert n.lower() in err["message"].lower(), err["message"]
    return err


def _user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


# -- health, readiness, docs -------------------------------------------------------------------
def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready" and body["documents"] == 3 and body["passages"] >= 3
    assert body["warning"] is None


def test_readyz_warns_of_a_save_it_cannot_open(
    tmp_path: Path, fake_encoder: Any, corpus_dir: Path
) -> None:
    s = Settings(index_dir=tmp_path / "idx", reader_dir=None)
    engine = Engine(s, encoder=fake_encoder)
    engine.index([corpus_dir])
    with TestClient(create_app(engine, api_key="")) as c:
        other = Settings(index_dir=s.index_dir, reader_dir=None, max_passage_words=20)
        Engine(other, encoder=fake_encoder).index([corpus_dir])
        body = c.get("/readyz").json()
        assert body["documents"] == 3 and "was chunked with" in body["warning"]
        assert c.post("/v1/ask", json={"question": "Where is the Eiffel Tower?"}).status_code == 200


def test_readyz_is_503_before_start_up(engine: Engine) -> None:
    c = TestClient(create_app(engine, api_key=""))  # not entered: the lifespan has not run
    _assert_error(c.get("/readyz"), 503, "loading")
    assert c.get("/healthz").status_code == 200


def test_missing_index_is_503_with_its_message(tmp_path: Path, fake_encoder: Any) -> None:
    engine = Engine(Settings(index_dir=tmp_path / "none", reader_dir=None), encoder=fake_encoder)
    with TestClient(create_app(engine, api_key="")) as c:
        assert c.get("/healthz").status_code == 200
        err = _assert_error(c.get("/readyz"), 503)
        assert "index" in err["message"].lower()
        _assert_error(c.post("/v1/ask", json={"question": "who?"}), 503)


def test_docs_and_openapi(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "swagger" in page.lower() and "cdn" not in page  # works offline
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert asset in page
        assert client.get(f"/docs-static/{asset}").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/v1/ask", "/v1/chat/completions", "/v1/models", "/v1/documents", "/metrics"):
        assert p in paths


# -- ask ---------------------------------------------------------------------------------------
def test_ask_returns_the_cli_contract(client: TestClient, engine: Engine) -> None:
    r = client.post("/v1/ask", json={"question": "When was the Eiffel Tower completed?"})
    assert r.status_code == 200
    got = r.json()
    want = response_to_dict(engine.ask("When was the Eiffel Tower completed?"))
    assert set(got) == set(want)
    got.pop("timings_ms")
    want.pop("timings_ms")
    assert got == want
    assert got["answer"]["text"] == "1889"
    c = got["citations"][got["answer"]["citation"] - 1]
    assert PARIS[c["start"] : c["end"]] == c["text"]


def test_ask_k_must_be_a_number(client: TestClient) -> None:
    for k in (True, "3", 2.5):
        _assert_error(client.post("/v1/ask", json={"question": "Who?", "k": k}), 422, "k")
    # 2.0 is an integer to JSON Schema, so the published schema allows it: it is read as 2
    r = client.post("/v1/ask", json={"question": "Who?", "k": 2.0})
    assert r.status_code == 200 and len(r.json()["citations"]) == 2


def test_ask_k(client: TestClient) -> None:
    r = client.post("/v1/ask", json={"question": "Who is Witkoff?", "k": 1})
    assert len(r.json()["citations"]) == 1
    _assert_error(client.post("/v1/ask", json={"question": "Who?", "k": 0}), 422, "k")
    _assert_error(client.post("/v1/ask", json={"question": "Who?", "k": 51}), 422, "k")


def test_bad_json_and_bad_bodies(client: TestClient) -> None:
    hdr = {"Content-Type": "application/json"}
    _assert_error(client.post("/v1/ask", content=b"{bad", headers=hdr), 400, "not valid JSON")
    _assert_error(client.post("/v1/ask", content=b"[1, 2]", headers=hdr), 400, "JSON object")
    _assert_error(client.post("/v1/ask", json={}), 422, "question", "required")
    _assert_error(client.post("/v1/ask", json={"question": 5}), 422, "question")
    latin1 = '{"question": "caf\xe9?"}'.encode("latin-1")  # not UTF-8
    _assert_error(client.post("/v1/ask", content=latin1, headers=hdr), 400, "UTF-8 encoded JSON")


def test_empty_and_too_long_questions(make_engine: Callable[..., Engine]) -> None:
    with TestClient(create_app(make_engine(max_question_chars=40), api_key="")) as c:
        err = _assert_error(c.post("/v1/ask", json={"question": "   "}), 400, "empty")
        assert err["type"] == "invalid_request_error"
        _assert_error(c.post("/v1/ask", json={"question": "x" * 41}), 400, "limit is 40")
        chat = {"messages": [_user("y" * 41)]}
        _assert_error(c.post("/v1/chat/completions", json=chat), 400, "limit is 40")
        # a lone surrogate (a broken \\u escape) is a clear 400, not a 500
        broken = b'{"question": "who \\ud800 visited"}'
        hdr = {"Content-Type": "application/json"}
        _assert_error(c.post("/v1/ask", content=broken, headers=hdr), 400, "not valid text")
        chat_raw = b'{"messages": [{"role": "user", "content": "who \\ud800 visited"}]}'
        _assert_error(
            c.post("/v1/chat/completions", content=chat_raw, headers=hdr), 400, "not valid text"
        )


def test_unexpected_errors_keep_the_error_shape(engine: Engine) -> None:
    def boom(question: str, k: int | None = None) -> Any:
        raise RuntimeError("secret internals")

    engine.ask = boom  # type: ignore[method-assign]
    with TestClient(create_app(engine, api_key=""), raise_server_exceptions=False) as c:
        err = _assert_error(c.post("/v1/ask", json={"question": "Who is Witkoff?"}), 500)
        assert "secret" not in err["message"]


# -- citations ---------------------------------------------------------------------------------
def test_citation_lookup(client: TestClient) -> None:
    ask = client.post("/v1/ask", json={"question": "When will Witkoff visit Moscow?"}).json()
    cit = ask["citations"][0]
    r = client.get(f"/v1/citations/{cit['id']}")
    assert r.status_code == 200
    body = r.json()
    assert body["text"] == cit["text"]
    assert (body["doc_id"], body["start"], body["end"]) == (cit["doc_id"], cit["start"], cit["end"])
    assert {"context_before", "context_after"} <= set(body)


def test_unknown_citation_is_404(client: TestClient) -> None:
    _assert_error(client.get("/v1/citations/pdeadbeef"), 404, "no citation", "pdeadbeef")
    r = client.get("/v1/citations/" + "x" * 5000)
    _assert_error(r, 404, "no citation", "(5000 characters)")
    assert len(r.text) < 600


# -- documents ---------------------------------------------------------------------------------
def test_list_documents(client: TestClient) -> None:
    body = client.get("/v1/documents").json()
    assert body["object"] == "list"
    assert {d["source"] for d in body["data"]} == {"news/witkoff.txt", "paris.txt", "bees.txt"}
    assert all(d["passages"] >= 1 and d["chars"] > 0 for d in body["data"])


def test_add_document_then_ask_then_remove(client: TestClient) -> None:
    text = "# Lighthouses\n\nThe Pharos of Alexandria was built in the third century BC."
    r = client.post("/v1/documents", json={"text": text, "kind": "markdown", "source": "kb/ph"})
    assert r.status_code == 201
    added = r.json()
    assert added["new"] is True and added["title"] == "Lighthouses"
    assert added["source"] == "kb/ph"
    again = client.post("/v1/documents", json={"text": text, "kind": "markdown"})
    assert again.status_code == 200 and again.json() == {**added, "new": False}

    ask = client.post("/v1/ask", json={"question": "When was the Pharos of Alexandria built?"})
    assert ask.json()["citations"][0]["doc_id"] == added["id"]
    assert added["id"] in {d["id"] for d in client.get("/v1/documents").json()["data"]}

    r = client.delete(f"/v1/documents/{added['id']}")
    assert r.status_code == 200
    assert r.json() == {
        "id": added["id"],
        "removed": True,
        "source": "kb/ph",
        "title": "Lighthouses",
    }
    assert added["id"] not in {d["id"] for d in client.get("/v1/documents").json()["data"]}
    _assert_error(client.delete(f"/v1/documents/{added['id']}"), 404, added["id"])


def test_add_html_and_bad_documents(client: TestClient) -> None:
    html = "<html><head><title>Moon</title></head><body><p>The Moon orbits Earth.</p></body>"
    r = client.post("/v1/documents", json={"text": html, "kind": "html"})
    assert r.status_code == 201 and r.json()["title"] == "Moon"
    assert r.json()["chars"] == len("The Moon orbits Earth.")
    _assert_error(client.post("/v1/documents", json={"text": "x", "kind": "pdf"}), 422, "kind")
    # without a kind, the source's extension says how to read the text
    page = "<html><body><script>x()</script><p>The Quorb tower is 90 m tall.</p></body></html>"
    r = client.post("/v1/documents", json={"text": page, "source": "q.HTML"})
    assert r.status_code == 201 and r.json()["chars"] == len("The Quorb tower is 90 m tall.")
    r = client.post("/v1/documents", json={"text": page, "source": "q.txt"})
    assert r.status_code == 201 and r.json()["chars"] == len(page)
    _assert_error(client.post("/v1/documents", json={"text": "  \n"}), 400, "no text")
    _assert_error(client.post("/v1/documents", json={"kind": "text"}), 422, "text")
    broken = b'{"text": "Quokkas \\ud800 live here."}'
    hdr = {"Content-Type": "application/json"}
    r = client.post("/v1/documents", content=broken, headers=hdr)
    _assert_error(r, 400, "document's text contains characters that are not valid text")


def test_source_is_a_label_never_a_path(client: TestClient, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    r = client.post(
        "/v1/documents", json={"text": "Quokkas live on Rottnest Island.", "source": str(secret)}
    )
    assert r.status_code == 201
    ask = client.post("/v1/ask", json={"question": "Where do quokkas live?"}).json()
    top = ask["citations"][0]
    assert top["source"] == str(secret)
    assert "TOP-SECRET" not in json.dumps(ask)
    assert r.json()["chars"] == len("Quokkas live on Rottnest Island.")


def test_unknown_document_is_404(client: TestClient) -> None:
    _assert_error(client.delete("/v1/documents/dnope"), 404, "dnope")
    assert client.delete("/v1/documents/").status_code == 404  # not a redirect


# -- auth, CORS, limits ------------------------------------------------------------------------
def test_api_key(engine: Engine) -> None:
    with TestClient(create_app(engine, api_key=KEY)) as c:
        q = {"question": "Who is Witkoff?"}
        err = _assert_error(c.post("/v1/ask", json=q), 401, "API key", "Bearer")
        assert err["type"] == "authentication_error"
        assert c.post("/v1/ask", json=q).headers["www-authenticate"] == "Bearer"
        bad = {"Authorization": "Bearer wrong"}
        _assert_error(c.post("/v1/ask", json=q, headers=bad), 401, "API key")
        _assert_error(c.get("/v1/models", headers={"Authorization": KEY}), 401)
        ok = {"Authorization": f"Bearer {KEY}"}
        assert c.post("/v1/ask", json=q, headers=ok).status_code == 200
        assert c.get("/metrics", headers=ok).status_code == 200
        _assert_error(c.get("/metrics"), 401)
        assert c.get("/healthz").status_code == 200  # stays open
        assert c.get("/docs-static/swagger-ui.css").status_code == 200  # so do the docs
        schema = c.get("/openapi.json").json()
        assert schema["paths"]["/v1/ask"]["post"]["security"] == [{"bearer": []}]


def test_api_key_from_environment(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_API_KEY", KEY)
    with TestClient(create_app(engine)) as c:
        _assert_error(c.get("/v1/documents"), 401)
        assert c.get("/v1/documents", headers={"Authorization": f"Bearer {KEY}"}).is_success


def test_cors_off_by_default_and_on_when_configured(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QA_CORS_ORIGINS", raising=False)
    origin = {"Origin": "https://app.example"}
    with TestClient(create_app(engine, api_key="")) as c:
        assert "access-control-allow-origin" not in c.get("/v1/models", headers=origin).headers
    monkeypatch.setenv("QA_CORS_ORIGINS", "https://app.example, https://other.example")
    with TestClient(create_app(engine, api_key=KEY)) as c:
        pre = c.options(
            "/v1/ask",
            headers={
                **origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "https://app.example"
        denied = c.get("/v1/models", headers=origin)  # no key: 401, still readable cross-origin
        assert denied.status_code == 401
        assert denied.headers["access-control-allow-origin"] == "https://app.example"
        evil = c.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in evil.headers


def test_overload_when_no_slots(engine: Engine) -> None:
    no_slots = ServeSettings(max_in_flight=0, queue=0)
    with TestClient(create_app(engine, no_slots, api_key="")) as c:
        r = c.post("/v1/ask", json={"question": "Who is Witkoff?"})
        err = _assert_error(r, 503, "busy")
        assert err["type"] == "overloaded"
        assert r.headers["retry-after"] == "1"
        chat = c.post("/v1/chat/completions", json={"messages": [_user("Who is Witkoff?")]})
        _assert_error(chat, 503, "busy")
        assert 'qa_rejected_requests_total{reason="overloaded"} 2.0' in c.get("/metrics").text
        assert c.get("/healthz").status_code == 200


def test_a_question_waits_in_the_queue_then_gets_a_503(engine: Engine) -> None:
    queue = ServeSettings(max_in_flight=0, queue=4, queue_wait_s=0.3)
    with TestClient(create_app(engine, queue, api_key="")) as c:
        t0 = time.monotonic()
        r = c.post("/v1/ask", json={"question": "Who is Witkoff?"})
        assert time.monotonic() - t0 >= 0.3
        _assert_error(r, 503, "no question slot came free within 0.3 s")
        assert r.headers["retry-after"] == "1"
        assert 'qa_rejected_requests_total{reason="queue_timeout"} 1.0' in c.get("/metrics").text


def test_overload_when_slots_are_busy(engine: Engine) -> None:
    """One slot, a queue of one: the second question waits and is answered, the third is
    refused at once."""
    release = threading.Event()
    real_ask = engine.ask

    def slow_ask(question: str, k: int | None = None) -> Any:
        assert release.wait(10)
        return real_ask(question, k)

    engine.ask = slow_ask  # type: ignore[method-assign]
    app = create_app(engine, ServeSettings(max_in_flight=1, queue=1, queue_wait_s=10), api_key="")
    limiter = app.state.qa.questions
    with TestClient(app) as c:
        results: list[int] = []

        def ask() -> None:
            results.append(c.post("/v1/ask", json={"question": "Who is Witkoff?"}).status_code)

        threads = [threading.Thread(target=ask) for _ in range(2)]
        try:
            for t in threads:
                t.start()
            deadline = time.monotonic() + 10
            while limiter.running < 1 or limiter.waiting < 1:
                assert time.monotonic() < deadline, "the first two requests never arrived"
                time.sleep(0.01)
            metrics = c.get("/metrics").text
            assert 'qa_in_flight{kind="question"} 1.0' in metrics
            assert 'qa_queue_waiting{kind="question"} 1.0' in metrics
            r = c.post("/v1/ask", json={"question": "Where is the Louvre?"})
            _assert_error(r, 503, "busy")
            assert r.headers["retry-after"] == "1"
        finally:
            release.set()
            for t in threads:
                t.join(10)
        assert results == [200, 200]
        assert c.post("/v1/ask", json={"question": "Where is the Louvre?"}).status_code == 200


def test_body_too_large(engine: Engine) -> None:
    with TestClient(create_app(engine, api_key="", max_body_bytes=200)) as c:
        big = {"question": "Who? " + "x" * 300}
        _assert_error(c.post("/v1/ask", json=big), 413, "200 bytes")

        def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"question": "'
            for _ in range(10):
                yield b"y" * 50
            yield b'"}'

        hdr = {"Content-Type": "application/json"}
        _assert_error(c.post("/v1/ask", content=chunked(), headers=hdr), 413, "limit")
        small = c.post("/v1/ask", json={"question": "Who is Witkoff?"})
        assert small.status_code == 200


def test_unknown_route_and_method(client: TestClient) -> None:
    _assert_error(client.get("/v2/nothing"), 404, "no route")
    _assert_error(client.put("/v1/ask", json={}), 405)


# -- chat --------------------------------------------------------------------------------------
def test_chat_completion(client: TestClient) -> None:
    body = {
        "model": "gpt-4o",
        "temperature": 0.2,
        "max_tokens": 50,
        "top_p": 1,
        "user": "someone",
        "messages": [
            {"role": "system", "content": "You are helpful."},
            _user("When was the Eiffel Tower completed?"),
        ],
    }
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 200
    out = r.json()
    assert out["object"] == "chat.completion" and out["model"] == MODEL_ID
    choice = out["choices"][0]
    assert choice["finish_reason"] == "length" and choice["message"]["role"] == "assistant"
    content = choice["message"]["content"]
    assert content.startswith("1889 [1]\n\n> ") and len(content) <= 4 * 50  # max_tokens
    ask = client.post("/v1/ask", json={"question": "When was the Eiffel Tower completed?"})
    assert out["citations"] == ask.json()["citations"]
    assert out["answer"] == ask.json()["answer"]
    full = client.post("/v1/chat/completions", json={**body, "max_tokens": None}).json()
    assert full["choices"][0]["finish_reason"] == "stop"
    assert (
        "\n\nSources:\n\n1. [Paris](http://testserver/view/"
        in full["choices"][0]["message"]["content"]
    )
    u = out["usage"]
    assert u["prompt_tokens"] > 0 and u["completion_tokens"] > 0
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]


def test_chat_content_parts_and_k(client: TestClient) -> None:
    msg = {"role": "user", "content": [{"type": "text", "text": "Where is the Louvre museum?"}]}
    out = client.post("/v1/chat/completions", json={"messages": [msg], "k": 2}).json()
    assert len(out["citations"]) == 2


def test_chat_no_answer_says_so_and_lists_passages(client: TestClient) -> None:
    msgs = [_user("Which zebra plays the xylophone quietly?")]
    out = client.post("/v1/chat/completions", json={"messages": msgs}).json()
    content = out["choices"][0]["message"]["content"]
    assert content.startswith(NO_ANSWER)
    assert "Closest passages:\n\n1. [" in content
    assert out["citations"] and out["answer"] is None


def test_chat_errors(client: TestClient) -> None:
    url = "/v1/chat/completions"
    _assert_error(client.post(url, json={"messages": []}), 422, "messages")
    sys_only = {"messages": [{"role": "system", "content": "hi"}]}
    _assert_error(client.post(url, json=sys_only), 400, "no user message")
    _assert_error(client.post(url, json={"messages": [_user("  ")]}), 400, "no user message")
    wizard = {"messages": [{"role": "wizard", "content": "Who visits Moscow?"}]}
    _assert_error(client.post(url, json=wizard), 422, "role")
    ok = {"messages": [_user("Who visits Moscow?")]}
    for field, value in (("n", 2), ("stream", "yes"), ("k", "3"), ("k", True)):
        _assert_error(client.post(url, json={**ok, field: value}), 422, field)
    assert client.post(url, json={**ok, "n": 1, "model": "gpt-4o"}).status_code == 200
    hdr = {"Content-Type": "application/json"}
    _assert_error(client.post(url, content=b'{"messages": [', headers=hdr), 400, "JSON")


def test_follow_up_retrieves_with_earlier_turns(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str | None]] = []
    real = engine.ask

    def spy(question: str, k: int | None = None, retrieval_query: str | None = None) -> Any:
        calls.append((question, retrieval_query))
        return real(question, k, retrieval_query=retrieval_query)

    monkeypatch.setattr(engine, "ask", spy)
    msgs = [
        _user("When will Witkoff visit Moscow?"),
        {"role": "assistant", "content": "Witkoff will visit Moscow next week. [1]"},
        _user("and who is he?"),
    ]
    out = client.post("/v1/chat/completions", json={"messages": msgs}).json()
    # read as it stands in the conversation (qa.serve.followup), retrieved with both turns
    read = "and who is he Witkoff visit Moscow?"
    assert calls == [(read, "When will Witkoff visit Moscow? and who is he?")]
    assert out["citations"][0]["source"] == "news/witkoff.txt"

    # the same follow-up alone has no history to lean on: it is retrieved with as is
    calls.clear()
    alone = client.post("/v1/chat/completions", json={"messages": [_user("and who is he?")]})
    assert alone.status_code == 200
    assert calls == [("and who is he?", "and who is he?")]


def test_follow_up_heuristics() -> None:
    assert is_follow_up("and who is he?")
    assert is_follow_up("What did they sign there last year?")
    assert is_follow_up("When?")
    assert not is_follow_up("When was the Eiffel Tower completed in Paris?")
    turns = ["Tell me about Witkoff.", "Where is the Louvre museum located today?"]
    assert retrieval_query(turns, 1000) == turns[-1]
    assert retrieval_query(["a b c", "d e f", "g h i", "and him?"], 1000) == "d e f g h i and him?"
    assert retrieval_query(["x" * 50, "and him?"], 20) == ("x" * 50 + " and him?")[-20:]


def _sse(text: str) -> list[Any]:
    events = [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    return [json.loads(e) for e in events[:-1]]


def test_chat_streaming(client: TestClient) -> None:
    msgs = [_user("When was the Eiffel Tower completed?")]
    plain = client.post("/v1/chat/completions", json={"messages": msgs}).json()
    r = client.post("/v1/chat/completions", json={"messages": msgs, "stream": True})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    chunks = _sse(r.text)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert content == plain["choices"][0]["message"]["content"]
    assert len([c for c in chunks if c["choices"]]) > 3  # really in pieces
    stops = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"] == "stop"]
    assert len(stops) == 1 and stops[0]["choices"][0]["delta"] == {}
    last = chunks[-1]
    assert last["choices"] == []
    assert last["citations"] == plain["citations"] and last["citations"]
    assert last["usage"] == plain["usage"]


# -- models, metrics ---------------------------------------------------------------------------
def test_models(client: TestClient) -> None:
    body = client.get("/v1/models").json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == [MODEL_ID]
    assert client.get(f"/v1/models/{MODEL_ID}").json()["id"] == MODEL_ID
    _assert_error(client.get("/v1/models/gpt-4"), 404, "gpt-4")


def test_metrics_are_per_app(engine: Engine) -> None:
    a, b = create_app(engine, api_key=""), create_app(engine, api_key="")
    with TestClient(a) as ca, TestClient(b) as cb:
        ca.post("/v1/ask", json={"question": "Who is Witkoff?"})
        ca.post("/v1/ask", json={"question": "Who is Witkoff?"})
        ca.post("/v1/ask", json={"question": ""})
        ca.get("/v1/citations/pnope")
        text = ca.get("/metrics").text
        assert 'qa_http_requests_total{method="POST",route="/v1/ask",status="200"} 2.0' in text
        assert 'qa_http_requests_total{method="POST",route="/v1/ask",status="400"} 1.0' in text
        assert (
            'qa_http_requests_total{method="GET",route="/v1/citations/{citation_id}",'
            'status="404"} 1.0'
        ) in text
        assert 'qa_http_request_duration_seconds_count{method="POST",route="/v1/ask"} 3.0' in text
        assert 'qa_in_flight{kind="question"} 0.0' in text
        assert ca.get("/metrics").headers["content-type"].startswith("text/plain")
        other = cb.get("/metrics").text
        assert 'route="/v1/ask"' not in other


def test_writes_while_questions_are_answered(client: TestClient) -> None:
    errors: list[str] = []

    def asker() -> None:
        for _ in range(10):
            r = client.post("/v1/ask", json={"question": "When will Witkoff visit Moscow?"})
            if r.status_code != 200:
                errors.append(r.text)

    threads = [threading.Thread(target=asker) for _ in range(2)]
    for t in threads:
        t.start()
    ids = []
    for i in range(5):
        r = client.post("/v1/documents", json={"text": f"Fact number {i} about owls."})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    for t in threads:
        t.join(30)
    assert not errors
    listed = {d["id"] for d in client.get("/v1/documents").json()["data"]}
    assert set(ids) <= listed


# -- a live server and the official openai client ----------------------------------------------
@pytest.fixture
def live_server(engine: Engine) -> Iterator[str]:
    with serve_in_thread(create_app(engine, api_key=KEY)) as url:
        yield url


def test_openai_client_against_live_server(live_server: str) -> None:
    import openai

    client = openai.OpenAI(base_url=f"{live_server}/v1", api_key=KEY, max_retries=0, timeout=20)
    assert [m.id for m in client.models.list().data] == [MODEL_ID]

    q = [{"role": "user", "content": "When was the Eiffel Tower completed?"}]
    done = client.chat.completions.create(model=MODEL_ID, messages=q, temperature=0)  # type: ignore[arg-type]
    content = done.choices[0].message.content or ""
    assert content.startswith("1889 [1]") and "Sources:" in content
    citations = (done.model_extra or {})["citations"]
    assert citations[0]["source"] == "paris.txt"
    assert done.usage is not None and done.usage.total_tokens > 0

    stream = client.chat.completions.create(model=MODEL_ID, messages=q, stream=True)  # type: ignore[arg-type]
    chunks = list(stream)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert (chunks[-1].model_extra or {})["citations"] == citations

    bad = openai.OpenAI(base_url=f"{live_server}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


# -- schemathesis against the app's own schema -------------------------------------------------
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation.modes import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    response_schema_conformance,
    status_code_conformance,
)


@pytest.fixture
def api_schema(make_engine: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("QA_API_KEY", raising=False)
    app = create_app(make_engine(), api_key="")
    with TestClient(app):  # run the lifespan once so /readyz is ready
        pass
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_schema_no_server_errors(api_schema: Any) -> None:
    """Every operation, fuzzed from the schema: no 5xx, documented statuses and bodies.

    (Driven through hypothesis directly: schemathesis' pytest fixture loader does not
    run under this pytest version.)
    """
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10

    runs = [(op, GenerationMode.POSITIVE) for op in operations]
    # invalid bodies too (plain-string path parameters have no invalid values)
    runs += [(op, GenerationMode.NEGATIVE) for op in operations if len(op.body)]
    assert len(runs) == len(operations) + 3  # ask, chat, add document
    for op, mode in runs:

        @given(case=op.as_strategy(generation_mode=mode))
        @settings(
            max_examples=10,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(
                checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
            )

        check()


# -- one real-model test -----------------------------------------------------------------------
@pytest.mark.slow
def test_real_models_over_the_seed_article(tmp_path: Path) -> None:
    from qa.index import ingest

    seeds = Path(__file__).resolve().parents[2] / "seeds"
    engine = Engine.in_memory(
        ingest.load(seeds), Settings(index_dir=tmp_path / "idx", reader_dir=None)
    )
    with TestClient(create_app(engine, api_key="")) as c:
        r = c.post("/v1/chat/completions", json={"messages": [_user("Who will visit Moscow?")]})
        assert r.status_code == 200
        out = r.json()
        assert "Witkoff" in out["choices"][0]["message"]["content"]
        assert out["citations"][0]["source"].endswith(".txt")


def test_a_write_waits_briefly_for_another_process_then_says_busy(
    tmp_path: Path, fake_encoder: Any, corpus_dir: Path
) -> None:
    from filelock import FileLock

    engine = Engine(Settings(index_dir=tmp_path / "idx", reader_dir=None), encoder=fake_encoder)
    engine.index([corpus_dir])
    with TestClient(create_app(engine, api_key="", write_wait_s=0.3)) as c:
        doc = {"text": "The Snark hunt happens in winter.", "source": "snark.txt"}
        with FileLock(str(tmp_path / "idx" / ".lock")):  # another process is writing
            r = c.post("/v1/documents", json=doc)
            assert _assert_error(r, 503, "writing the index")["type"] == "index_busy"
            assert r.headers["retry-after"] == "5"
            assert c.post("/v1/ask", json={"question": "Where is Paris?"}).status_code == 200
        assert c.post("/v1/documents", json=doc).status_code == 201  # once it is done
