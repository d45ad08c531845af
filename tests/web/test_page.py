"""The web page without a browser: it loads without the key (only GET of the page and its
files), its files are all there and local, and the document endpoint behind the
document view. Fake encoder over the small corpus."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa.engine import Engine
from qa.serve import create_app
from qa.serve.routes.web import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]
KEY = "page-key"
# XML namespace names are identifiers, never fetched (the favicon's SVG needs one).
NAMESPACES = {"http://www.w3.org/2000/svg"}
LICENCE = re.compile(r"licen[cs]e|copying", re.IGNORECASE)


@pytest.fixture
def client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("QA_API_KEY", KEY)
    with TestClient(create_app(engine)) as c:
        yield c


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY}"}


def _static_files() -> list[Path]:
    return sorted(p for p in STATIC_DIR.rglob("*") if p.is_file())


def test_the_pages_load_without_the_key(client: TestClient) -> None:
    for path, script in (("/", "/static/js/ask.js"), ("/view/whatever", "/static/js/view.js")):
        r = client.get(path)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/html")
        assert f'src="{script}"' in r.text
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert client.head(path).status_code == 200
    assert client.get("/v1/documents").status_code == 401  # the API still needs it


def test_only_get_of_the_page_and_its_files_is_open(client: TestClient) -> None:
    for method, path in [
        ("POST", "/"),
        ("DELETE", "/view/x"),
        ("POST", "/static/style.css"),
        ("GET", "/viewx"),
        ("GET", "/v1/documents/x"),
        ("GET", "/staticky"),
    ]:
        assert client.request(method, path).status_code == 401, (method, path)


def test_every_file_the_pages_name_is_served(client: TestClient) -> None:
    named: set[str] = set()
    for page in ("index.html", "view.html"):
        html = (STATIC_DIR / page).read_text(encoding="utf-8")
        named |= set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
    for js in (STATIC_DIR / "js").glob("*.js"):
        for module in re.findall(r'from "\./([^"]+)"', js.read_text(encoding="utf-8")):
            assert (STATIC_DIR / "js" / module).is_file(), f"{js.name} imports {module}"
            named.add(f"/static/js/{module}")
    assert {"/static/style.css", "/static/js/ask.js", "/static/js/view.js"} <= named
    for url in sorted(named):
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/js/api.js").headers["content-type"].split(";")[0] in (
        "text/javascript",
        "application/javascript",
    )
    assert client.get("/static/nothing.js").status_code == 404
    # outside the folder: the client resolves the first to /pyproject.toml (not open)
    assert client.get("/static/../pyproject.toml").status_code == 401
    assert client.get("/static/%2e%2e/routes/web.py").status_code == 404


def test_the_page_references_no_external_url() -> None:
    external = re.compile(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", re.IGNORECASE)
    found = []
    for path in _static_files():
        if LICENCE.search(path.name):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for url in external.findall(line):
                if url not in NAMESPACES:
                    found.append(f"{path.relative_to(STATIC_DIR)}:{n}: {url}")
    assert not found, "\n".join(found)


def test_a_document_with_its_text_and_passages(client: TestClient, engine: Engine) -> None:
    listed = client.get("/v1/documents", headers=_auth()).json()["data"]
    doc_id = next(d["id"] for d in listed if d["source"].endswith("paris.txt"))
    r = client.get(f"/v1/documents/{doc_id}", headers=_auth())
    assert r.status_code == 200, r.text
    doc = r.json()
    assert set(doc) == {"id", "source", "title", "format", "pages", "meta", "text", "passages"}
    assert doc["id"] == doc_id and doc["format"] == "text" and doc["pages"] is None
    assert doc["text"] == engine.store.documents[doc_id].text
    starts = [p["start"] for p in doc["passages"]]
    assert starts == sorted(starts) and len(starts) == len(engine.store.doc_passages(doc_id))
    for p in doc["passages"]:
        assert set(p) == {"id", "start", "end", "page", "section"}
        cited = client.get(f"/v1/citations/{p['id']}", headers=_auth()).json()
        assert doc["text"][p["start"] : p["end"]] == cited["text"]


def test_an_unknown_document_is_a_404_in_the_api_error_shape(client: TestClient) -> None:
    r = client.get("/v1/documents/d-nope", headers=_auth())
    assert r.status_code == 404
    assert r.json() == {
        "error": {
            "message": "no document 'd-nope' in the index; GET /v1/documents lists the ids",
            "type": "not_found_error",
            "code": 404,
        }
    }
    long = client.get("/v1/documents/" + "x" * 500, headers=_auth()).json()["error"]["message"]
    assert "(500 chars)" in long and len(long) < 200


def test_the_document_endpoint_is_in_the_schema_and_the_pages_are_not(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "404" in paths["/v1/documents/{doc_id}"]["get"]["responses"]
    assert paths["/v1/documents/{doc_id}"]["get"]["security"] == [{"bearer": []}]
    assert not any(p == "/" or p.startswith(("/view", "/static")) for p in paths)


def test_a_wheel_ships_the_static_files() -> None:
    """pyproject's package data covers every static file (``pip wheel .`` takes them)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["qa"]
    package = ROOT / "qa"
    shipped = {p for pattern in patterns for p in package.glob(pattern) if p.is_file()}
    missing = [str(p.relative_to(ROOT)) for p in _static_files() if p not in shipped]
    assert not missing, missing


def test_the_container_build_context_keeps_the_static_files() -> None:
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in _static_files():
        rel = path.relative_to(ROOT).as_posix()
        parts = rel.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        hit = [pat for pat in ignored for p in prefixes if fnmatch.fnmatch(p, pat)]
        assert not hit, f"{rel} is excluded by {hit}"
    assert "COPY qa/ qa/" in (ROOT / "Dockerfile").read_text(encoding="utf-8")
