"""The chat reply renders as meant in any CommonMark UI: the answer, its sentence quoted with
the answer in bold, the sources as a list of links to the document view; the links are also
OpenAI ``url_citation`` annotations; ``max_tokens`` cuts at whole lines."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient
from markdown_it import MarkdownIt

from qa.core.config import Settings
from qa.core.types import Answer, Citation, Document, Response, confidence_in_words
from qa.engine import NO_ANSWER, Engine
from qa.serve import MODEL_ID, create_app
from qa.serve.reply import answer_of, bold_span, cut, escape, render, unescape

from ..conftest import SEED_DIR, live_server

EIFFEL = (
    "Paris is the capital of France. The Eiffel Tower was completed in 1889.\n\n"
    "The Louvre is the world's most visited museum."
)
# Markdown specials in document text must come out literally.
SPECIALS = (
    "# Release notes\n\n"
    "The rollout codename is Blue_Heron, and the *fast* path uses [cache](x) with "
    "<b>tags</b>, a_b_c, & &amp; plus `code`.\n\n"
    "1. Not a list item: the archive holds 42 files."
)
WITKOFF = "Witkoff will visit Moscow next week, said Yury Ushakov.\n\nKushner may travel too."


class _Tree(HTMLParser):
    """The rendered HTML as (tag, text) pairs for the elements the checks look at."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str | None], list[str]]] = []
        self.found: list[tuple[str, dict[str, str | None], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append((tag, dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        t, attrs, parts = self.stack.pop()
        text = "".join(parts)
        self.found.append((t, attrs, text))
        if self.stack:  # the parent's text holds its children's
            self.stack[-1][2].append(text)

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.stack[-1][2].append(data)

    def all(self, tag: str) -> list[tuple[dict[str, str | None], str]]:
        return [(a, text) for t, a, text in self.found if t == tag]


def rendered(content: str) -> _Tree:
    tree = _Tree()
    tree.feed(MarkdownIt("commonmark").render(content))
    return tree


def check_reply(out: dict[str, Any], base: str = "http://testserver") -> _Tree:
    """The checks every reply with an answer passes; returns the rendered tree."""
    content = out["choices"][0]["message"]["content"]
    answer, citations = out["answer"], out["citations"]
    tree = rendered(content)
    paragraphs = [text for _, text in tree.all("p")]
    sure = answer.get("confidence")
    said = "" if sure is None else f" — {confidence_in_words(sure)}"
    assert paragraphs[0] == f"{answer['text']} [{answer['citation']}]{said}"
    quotes = tree.all("blockquote")
    assert len(quotes) == 1
    assert [text for _, text in tree.all("strong")] == [" ".join(answer["text"].split())]
    links = [a for a, _ in tree.all("a")]
    assert len(tree.all("ol")) == 1 and len(tree.all("li")) == len(citations) == len(links)
    for c, a in zip(citations, links, strict=True):
        url = urlparse(str(a["href"]))
        assert f"{url.scheme}://{url.netloc}" == base and url.path == f"/view/{c['doc_id']}"
        query = {k: int(v[0]) for k, v in parse_qs(url.query).items()}
        want = {"start": c["start"], "end": c["end"]}
        if c["n"] == answer["citation"]:
            want |= {"answer_start": answer["start"], "answer_end": answer["end"]}
        assert query == want
    check_annotations(out)
    return tree


def check_annotations(out: dict[str, Any]) -> None:
    """Each annotation slices its Markdown link out of the content, one per source."""
    message = out["choices"][0]["message"]
    content, annotations = message["content"], message["annotations"]
    for x in annotations:
        assert x["type"] == "url_citation"
        u = x["url_citation"]
        piece = content[u["start_index"] : u["end_index"]]
        assert piece == f"[{escape(u['title'])}]({u['url']})"
    urls = [x["url_citation"]["url"] for x in annotations]
    assert len(urls) <= len(out["citations"])
    for url, c in zip(urls, out["citations"], strict=False):
        assert f"/view/{c['doc_id']}?start={c['start']}&end={c['end']}" in url


@pytest.fixture
def engine(tmp_path: Path, fake_encoder: Any) -> Engine:
    docs = [
        Document.from_text(EIFFEL, "paris.txt", "Paris"),
        Document.from_text(SPECIALS, "notes/release.md", "Release *notes* [v2]"),
        Document.from_text(WITKOFF, "news/witkoff.txt", "Witkoff to visit Moscow"),
    ]
    s = Settings(index_dir=tmp_path / "idx", reader_dir=None)
    return Engine.in_memory(docs, s, encoder=fake_encoder)


@pytest.fixture
def client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.delenv("QA_API_KEY", raising=False)
    with TestClient(create_app(engine, api_key="")) as c:
        yield c


def ask(client: TestClient, question: str, **extra: Any) -> dict[str, Any]:
    body = {"messages": [{"role": "user", "content": question}], **extra}
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_reply_renders_answer_quote_and_linked_sources(client: TestClient) -> None:
    out = ask(client, "When was the Eiffel Tower completed?")
    content = out["choices"][0]["message"]["content"]
    assert content.startswith("1889 [1]\n\n> The Eiffel Tower was completed in **1889**.\n\n")
    tree = check_reply(out)
    assert [t for _, t in tree.all("blockquote")] == ["\nThe Eiffel Tower was completed in 1889.\n"]
    assert out["choices"][0]["finish_reason"] == "stop"
    assert len(out["choices"][0]["message"]["annotations"]) == len(out["citations"])


def test_document_text_renders_literally(client: TestClient) -> None:
    out = ask(client, "What is the rollout codename?", k=1)
    answer = out["answer"]
    assert answer is not None
    tree = check_reply(out)
    doc_sentence = next(
        s for s in SPECIALS.split("\n\n") if answer["text"] in s and "codename" in s
    )
    (quoted,) = [t.strip() for _, t in tree.all("blockquote")]
    assert quoted == doc_sentence  # every special character shows as written
    item = tree.all("li")[0][1]
    assert item.startswith(
        "Release *notes* [v2]: “# Release notes The rollout codename is Blue_Heron"
    )
    assert "*fast* path uses [cache](x)" in item


def test_escaped_text_reads_back() -> None:
    text = "a *b* _c_ [d](e) <f> `g` &amp; \\h # 1. ~~i~~"
    assert unescape(escape(text)) == text
    assert rendered(escape(text)).all("p")[0][1] == text


def test_bold_widens_where_commonmark_would_not_take_it() -> None:
    text = "the“quoted” word and price$5 here"
    for start, end in [(3, 11), (25, 27)]:
        md = bold_span(text, start, end)
        (strong,) = [t for _, t in rendered(md).all("strong")]
        assert text[start:end] in strong and rendered(md).all("p")[0][1] == text


def test_no_answer_lists_the_closest_passages(client: TestClient) -> None:
    out = ask(client, "Which zebra plays the xylophone quietly?")
    content = out["choices"][0]["message"]["content"]
    assert out["answer"] is None and content.startswith(NO_ANSWER + "\n\nClosest passages:\n\n1. [")
    tree = rendered(content)
    assert [t for _, t in tree.all("p")][:2] == [NO_ANSWER, "Closest passages:"]
    assert len(tree.all("li")) == len(out["citations"]) == len(tree.all("a"))
    assert not tree.all("blockquote")
    check_annotations(out)


def test_page_and_section_show_in_the_sources() -> None:
    c = Citation(1, "p1", "d1", "m.pdf", "Manual", 10, 40, "Press the red button twice.", 0.9,
                 page=3, section="Setup > Power")  # fmt: skip
    resp = Response("How?", Answer("twice", 0.8, "d1", 31, 36, "p1"), [c])
    content = render(resp, "https://qa.example").content
    assert "1. [Manual](https://qa.example/view/d1?start=10&end=40&answer_start=31" in content
    assert "(Setup \\> Power, page 3): “Press the red button twice.”" not in content
    assert "(Setup > Power, page 3): “Press the red button twice.”" in content
    assert answer_of(content) == "twice"


def test_max_tokens_cuts_at_whole_lines(client: TestClient) -> None:
    full = ask(client, "When was the Eiffel Tower completed?")
    whole = full["choices"][0]["message"]["content"]
    lines = whole.split("\n")
    for budget in range(1, len(whole) // 4 + 2):
        out = ask(client, "When was the Eiffel Tower completed?", max_tokens=budget)
        choice = out["choices"][0]
        content = choice["message"]["content"]
        assert len(content) <= 4 * budget
        assert out["usage"]["completion_tokens"] <= budget
        assert choice["finish_reason"] == ("stop" if content == whole else "length")
        if len(lines[0]) <= 4 * budget:  # whole lines, never a heading left alone
            assert (
                whole.startswith(content)
                and content.split("\n") == lines[: content.count("\n") + 1]
            )
            assert not content.endswith(("\n", "Sources:"))
        else:  # tiny: the answer line cut (its text alone)
            assert content == "1889"[: 4 * budget]
        check_annotations(out)
        assert out["citations"] == full["citations"] and out["answer"] == full["answer"]
    both = ask(client, "When was the Eiffel Tower completed?", max_tokens=99,
               max_completion_tokens=20)  # fmt: skip
    assert len(both["choices"][0]["message"]["content"]) <= 80
    bad = client.post("/v1/chat/completions", json={"messages": [], "max_tokens": 0})
    assert bad.status_code == 422


def test_cut_keeps_annotations_inside() -> None:
    c = [Citation(n, f"p{n}", "d1", "a.txt", "A", 0, 9, "Some text.", 0.5) for n in range(1, 4)]
    reply = render(Response("q", Answer("Some", 1.0, "d1", 0, 4, "p1"), c), "http://h")
    content, annotations, was_cut = cut(reply, (len(reply.content) - 5) // 4)
    assert was_cut and len(annotations) == 2 and content.count("\n1. ") == 1
    assert content.endswith("“Some text.”") and content.count("http://h/view/") == 2


def _sse(text: str) -> list[dict[str, Any]]:
    events = [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    return [json.loads(e) for e in events[:-1]]


@pytest.mark.parametrize("max_tokens", [None, 30])
def test_streaming_sends_the_same(client: TestClient, max_tokens: int | None) -> None:
    plain = ask(client, "When was the Eiffel Tower completed?", max_tokens=max_tokens)
    body = {
        "messages": [{"role": "user", "content": "When was the Eiffel Tower completed?"}],
        "stream": True,
        "max_tokens": max_tokens,
    }
    chunks = _sse(client.post("/v1/chat/completions", json=body).text)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    content = "".join(d.get("content") or "" for d in deltas)
    message = plain["choices"][0]["message"]
    assert content == message["content"]
    with_content = [d for d in deltas if d.get("content")]
    assert with_content[-1]["annotations"] == message["annotations"]
    assert all("annotations" not in d for d in with_content[:-1])
    reasons = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert reasons[-1] == plain["choices"][0]["finish_reason"] and set(reasons[:-1]) == {None}
    last = chunks[-1]
    assert last["choices"] == [] and last["usage"] == plain["usage"]
    assert last["citations"] == plain["citations"] and last["answer"] == plain["answer"]


def test_the_openai_client_reads_annotations(engine: Engine) -> None:
    import openai
    from openai.types.chat.chat_completion_message import Annotation

    with live_server(create_app(engine, api_key="k")) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0, timeout=20)
        q = [{"role": "user", "content": "When was the Eiffel Tower completed?"}]
        done = client.chat.completions.create(model=MODEL_ID, messages=q)  # type: ignore[arg-type]
        message = done.choices[0].message
        content = message.content or ""
        assert message.annotations and all(isinstance(a, Annotation) for a in message.annotations)
        for a in message.annotations:
            u = a.url_citation
            assert u.url.startswith(f"{url}/view/") and content[u.start_index : u.end_index] == (
                f"[{escape(u.title)}]({u.url})"
            )
        extra = done.model_extra or {}
        assert extra["answer"]["text"] == "1889" and extra["citations"][0]["source"] == "paris.txt"

        stream = client.chat.completions.create(model=MODEL_ID, messages=q, stream=True)  # type: ignore[arg-type]
        chunks = list(stream)
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == content
        notes = [
            (c.choices[0].delta.model_extra or {}).get("annotations") for c in chunks if c.choices
        ]
        assert [n for n in notes if n] == [[a.model_dump() for a in message.annotations]]
        assert (chunks[-1].model_extra or {})["answer"] == extra["answer"]
        cut = client.chat.completions.create(model=MODEL_ID, messages=q, max_tokens=10)  # type: ignore[arg-type]
        assert cut.choices[0].finish_reason == "length"


@pytest.mark.slow
def test_real_models_reply_renders(tmp_path: Path) -> None:
    from qa.index import ingest

    engine = Engine.in_memory(ingest.load(SEED_DIR), Settings(index_dir=tmp_path / "idx"))
    with TestClient(create_app(engine, api_key="")) as c:
        out = ask(c, "Who is the Kremlin spokesperson?", k=3)
    assert out["answer"]["text"] == "Dmitry Peskov"
    tree = check_reply(out)
    (quoted,) = [t for _, t in tree.all("blockquote")]
    assert re.search(r"Kremlin spokesperson Dmitry Peskov, meanwhile, told reporters", quoted)


def test_public_url_is_the_base_of_reply_links(engine, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from qa.core.config import ServeSettings
    from qa.serve.app import create_app

    monkeypatch.delenv("QA_API_KEY", raising=False)
    settings = ServeSettings(public_url="https://qa.example.com/")
    with TestClient(create_app(engine, settings)) as c:
        body = {"messages": [{"role": "user", "content": "When was the Eiffel Tower completed?"}]}
        r = c.post("/v1/chat/completions", json=body)
    assert r.status_code == 200
    notes = r.json()["choices"][0]["message"]["annotations"]
    assert notes and all(
        n["url_citation"]["url"].startswith("https://qa.example.com/view/") for n in notes
    )
