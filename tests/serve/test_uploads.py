"""File uploads answer with the write's summary; filters and pages cross the HTTP edge."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from qa.engine import Engine
from qa.serve.app import create_app


@pytest.fixture
def client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.delenv("QA_API_KEY", raising=False)
    with TestClient(create_app(engine)) as c:
        yield c


def test_uploads_are_indexed_or_skipped_with_their_reasons(client: TestClient) -> None:
    files = [
        (
            "file",
            (
                "guide.md",
                b"---\ntitle: Guide\nteam: ops\n---\n# Start\n\n"
                b"Quokkas eat leaves at night in the wild.",
                "text/markdown",
            ),
        ),
        ("file", ("same.txt", b"Quokkas eat leaves at night in the wild.", "text/plain")),
        ("file", ("slides.odt", b"PK\x03\x04", "application/octet-stream")),
        ("file", ("blank.txt", b"   ", "text/plain")),
    ]
    r = client.post("/v1/documents", files=files)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["added"], body["replaced"], body["unchanged"]) == (2, 0, 0)
    assert body["skipped"] == {"unsupported type": 1, "no text": 1}
    assert {f["source"]: f["reason"] for f in body["skipped_files"]} == {
        "slides.odt": "unsupported type",
        "blank.txt": "no text",
    }
    again = client.post("/v1/documents", files=files[:2])
    assert again.status_code == 200 and again.json()["unchanged"] == 2
    strict = client.post("/v1/documents", files=files, data={"strict": "true"})
    assert strict.status_code == 400 and "--strict" in strict.json()["error"]["message"]
    docs = {d["source"]: d for d in client.get("/v1/documents").json()["data"]}
    assert docs["guide.md"]["format"] == "markdown"
    r = client.post(
        "/v1/ask", json={"question": "What do quokkas eat?", "filter": {"source": "guide.*"}}
    )
    assert r.status_code == 200 and {c["source"] for c in r.json()["citations"]} == {"guide.md"}


def test_bad_uploads_get_one_line_reasons(client: TestClient) -> None:
    r = client.post("/v1/documents", files=[("file", ("x.odt", b"PK", "application/zip"))])
    assert r.status_code == 400
    assert "unsupported file type '.odt'" in r.json()["error"]["message"]
    r = client.post("/v1/documents", data={"note": "no file"}, files=[("other", ("a.txt", b"x"))])
    assert r.status_code == 400 and "no 'file' part" in r.json()["error"]["message"]
    r = client.post("/v1/documents", data={"file": "just text"})
    assert r.status_code in (400, 422)


def test_filters_in_ask_and_chat_and_pages_in_citations(client: TestClient) -> None:
    q = "When was the Eiffel Tower completed?"
    r = client.post("/v1/ask", json={"question": q, "k": 3, "filter": {"source": "*.md"}})
    assert r.status_code == 200
    cits = r.json()["citations"]
    assert cits and all(c["source"].endswith("bees.md") for c in cits)
    assert all("page" in c and "section" in c for c in cits)
    chat = {"messages": [{"role": "user", "content": q}], "filter": {"format": "text"}}
    r = client.post("/v1/chat/completions", json=chat)
    assert r.status_code == 200
    assert all(c["source"].endswith("paris.txt") for c in r.json()["citations"])
    r = client.post("/v1/ask", json={"question": q, "filter": {"colour": "red"}})
    assert (
        r.status_code == 400 and "no document has a field 'colour'" in r.json()["error"]["message"]
    )
    r = client.post("/v1/ask", json={"question": q, "filter": {"source": 3}})
    assert r.status_code == 422
