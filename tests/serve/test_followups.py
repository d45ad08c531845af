"""Follow-ups in a chat are read as they stand in the conversation ("When?" after "Who
founded Acme Ledger?"), questions that are not follow-ups reach the reader unchanged, and
the follow-up question set (data/followups) holds together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qa.core.config import Settings
from qa.core.types import Document
from qa.engine import Engine
from qa.serve import create_app
from qa.serve.followup import (
    RULE,
    RULES,
    carry,
    is_elliptical,
    reader_question,
    resolve,
)
from qa.serve.routes.chat import conversation
from qa.serve.schemas import ChatMessage

ROOT = Path(__file__).resolve().parents[2]
ACME = (
    "Acme Ledger was founded by Jo Smith in 2019 in Leeds.\n\n"
    "Jo Smith was born in Hull and studied accounting in York."
)
LIMIT = 1000


def read(*turns: str, answers: list[str | None] | None = None, rule: str | None = None) -> str:
    return reader_question(list(turns), answers or [None] * len(turns), LIMIT, rule)


def test_the_kept_rule_is_resolve() -> None:
    assert RULE == "resolve" and set(RULES) == {"last", "carry", "prefix", "answer", "resolve"}


def test_an_elliptical_follow_up_gets_the_previous_question_s_words() -> None:
    assert read("Who founded Acme Ledger?", "When?") == "When founded Acme Ledger?"
    assert is_elliptical("When?") and is_elliptical("And to the west?")
    assert not is_elliptical("When did the embargo end?")
    # answer-type words of the previous question stay behind ("what year" → not "year")
    assert resolve("By whom?", "In what year was Roger II made king?", "1130") == (
        "By whom Roger II made king?"
    )
    assert carry("By whom?", "In what year was Roger II made king?") == (
        "By whom year Roger II made king?"
    )


def test_he_or_she_is_the_answer_to_a_who_question() -> None:
    turns = ("Who is the Kremlin's top foreign policy aide?", "Where was he born?")
    assert read(*turns, answers=["Yury Ushakov", None]) == "Where was Yury Ushakov born?"
    # no answer to use: "born" alone is elliptical, so the previous words come along
    assert (
        read(*turns, answers=[None, None]) == "Where was he born Kremlin's top foreign policy aide?"
    )
    his = read("Who founded Acme Ledger?", "What did his company make?", answers=["Jo", None])
    assert his == "What did Jo's company make?"
    # not after a "which"/"what" question: "he" is not its answer
    after_which = read("Which president released them?", "Why did he?", answers=["Sadat", None])
    assert after_which == "Why did he president released?"


def test_a_third_turn_builds_on_the_second_as_read() -> None:
    turns = ("Who founded Acme Ledger?", "When?", "Where?")
    assert read(*turns) == "Where founded Acme Ledger?"
    assert read(*turns, rule="last") == "Where?"
    assert read(*turns, rule="prefix") == "Who founded Acme Ledger? When? Where?"


def test_questions_that_are_not_follow_ups_are_read_as_they_are() -> None:
    first = "Who founded Acme Ledger?"
    assert read(first) == first
    standalone = "Where was the weekend meeting of the delegations held?"
    assert read(first, standalone) == standalone
    # a short question that stands alone is a follow-up by length, and still unchanged
    assert read(first, "Who interviewed Ushakov?") == "Who interviewed Ushakov?"
    assert reader_question([first, "When?"], [None, None], 10) == "When?"  # over the limit
    for rule in RULES:
        assert read(first, standalone, rule=rule) == standalone


def test_answers_are_read_back_from_the_assistant_replies() -> None:
    messages = [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Who wrote *Notes* [draft]?"),
        ChatMessage(role="assistant", content="Jo \\*Smith\\* \\[Jr\\] [1]\n\n> quote"),
        ChatMessage(role="user", content="When?"),
        ChatMessage(role="assistant", content="The sources do not answer this question."),
        ChatMessage(role="user", content=[{"type": "text", "text": "Where?"}]),  # type: ignore[list-item]
    ]
    turns, answers = conversation(messages)
    assert turns == ["Who wrote *Notes* [draft]?", "When?", "Where?"]
    assert answers == ["Jo *Smith* [Jr]", None, None]


@pytest.fixture
def client(tmp_path: Path, fake_encoder: Any) -> Iterator[TestClient]:
    docs = [
        Document.from_text(ACME, "acme.txt", "Acme Ledger"),
        Document.from_text("Honey bees live in colonies with a single queen.", "b.txt", "Bees"),
    ]
    s = Settings(index_dir=tmp_path / "idx", reader_dir=None)
    engine = Engine.in_memory(docs, s, encoder=fake_encoder)
    with TestClient(create_app(engine, api_key="")) as c:
        yield c


def _chat(client: TestClient, messages: list[dict[str, Any]]) -> dict[str, Any]:
    r = client.post("/v1/chat/completions", json={"messages": messages, "k": 2})
    assert r.status_code == 200, r.text
    return r.json()


def test_when_after_who_founded_is_answered(client: TestClient) -> None:
    first = [{"role": "user", "content": "Who founded Acme Ledger?"}]
    reply = _chat(client, first)["choices"][0]["message"]["content"]
    follow = [*first, {"role": "assistant", "content": reply}, {"role": "user", "content": "When?"}]
    out = _chat(client, follow)
    assert out["answer"]["text"] == "2019"
    assert out["choices"][0]["message"]["content"].startswith("2019 [1]")
    alone = _chat(client, [{"role": "user", "content": "When?"}])
    assert alone["answer"] is None or alone["answer"]["text"] != "2019"


def test_the_follow_up_set_holds_together() -> None:
    from scripts import followups as data

    if not (data.squad.DATA_DIR / data.squad.V1_DEV).exists():
        pytest.skip("the SQuAD file is not here")
    for split in data.SPLITS:
        assert data.problems(split) == []
        convs = data.load(split)
        assert all(2 <= len(c["turns"]) <= 3 for c in convs)
    assert len(data.load("tune")) + len(data.load("eval")) >= 24
    tune = {c["title"] for c in data.load("tune") if c["source"] == "squad"}
    evaluation = {c["title"] for c in data.load("eval") if c["source"] == "squad"}
    assert tune <= set(data.squad.HELDOUT_TITLES) and not tune & evaluation


@pytest.mark.slow
def test_real_models_read_a_follow_up_with_the_previous_answer(tmp_path: Path) -> None:
    from qa.index import ingest

    engine = Engine.in_memory(ingest.load(ROOT / "seeds"), Settings(index_dir=tmp_path / "i"))
    with TestClient(create_app(engine, api_key="")) as c:
        first = [{"role": "user", "content": "Who is the Kremlin spokesperson?"}]
        reply = c.post("/v1/chat/completions", json={"messages": first, "k": 3}).json()
        assert reply["answer"]["text"] == "Dmitry Peskov"
        content = reply["choices"][0]["message"]["content"]
        follow = [
            *first,
            {"role": "assistant", "content": content},
            {"role": "user", "content": "What did he tell reporters?"},
        ]
        out = c.post("/v1/chat/completions", json={"messages": follow, "k": 3}).json()
    assert out["answer"]["text"] == "too early to say"
