"""Questions search Milvus at the level QA_MILVUS_CONSISTENCY names (Bounded unless set),
Strong for a while after a save or load, so neither the writer nor a replica that has
just reloaded misses the save's rows."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from qa.core.config import Settings
from qa.core.errors import BadInput
from qa.engine import Engine
from qa.index import milvus, milvus_store
from qa.index.backend import location_for
from qa.index.milvus import MilvusLocation

from .conftest import FakeEncoder


def test_the_setting_is_parsed_and_checked(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("QA_MILVUS_CONSISTENCY", raising=False)
    assert Settings.from_env().milvus_consistency == "bounded"
    monkeypatch.setenv("QA_MILVUS_CONSISTENCY", " Session ")
    s = Settings.from_env(store="milvus://db.example:19530/docs")
    assert s.milvus_consistency == "session"
    loc = location_for(s)
    assert isinstance(loc, MilvusLocation) and loc.consistency == "Session"
    monkeypatch.setenv("QA_MILVUS_CONSISTENCY", "sometimes")
    with pytest.raises(BadInput) as e:
        Settings.from_env()
    assert str(e.value) == (
        "setting milvus_consistency (QA_MILVUS_CONSISTENCY) must be 'strong' or 'bounded' "
        "or 'session' or 'eventually', not 'sometimes'"
    )
    with pytest.raises(BadInput, match="QA_MILVUS_CONSISTENCY must be one of strong, "):
        MilvusLocation.parse("milvus://h/c", "often")


class _Spy:
    """A client that records the consistency level of each search and get."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.levels: list[str | None] = []

    def search(self, *args: Any, **kwargs: Any) -> Any:
        self.levels.append(kwargs.get("consistency_level"))
        return self.real.search(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def spy(milvus_uri: str, monkeypatch: pytest.MonkeyPatch) -> _Spy:
    loc = MilvusLocation.parse(milvus_uri)
    key = (loc.uri, loc.token)
    s = _Spy(loc.client)
    monkeypatch.setitem(milvus._clients, key, s)
    return s


@pytest.mark.parametrize("level", ["bounded", "session", "eventually", "strong"])
def test_questions_search_at_the_set_level_once_a_save_has_settled(
    level: str, spy: _Spy, settings: Settings, milvus_uri: str, corpus_dir, monkeypatch
):
    s = replace(settings, store=milvus_uri, milvus_consistency=level)
    Engine(s, encoder=FakeEncoder()).index([corpus_dir])
    reader = Engine(s, encoder=FakeEncoder())  # a replica: loads the saved index
    strong = reader.ask("When was the Eiffel Tower completed?", 3)
    assert spy.levels and set(spy.levels) == {"Strong"}  # just loaded: Strong
    spy.levels.clear()
    monkeypatch.setattr(milvus_store, "FRESH_S", 0.0)
    reader.store._fresh_until = 0.0  # the save is older than the staleness bound now
    settled = reader.ask("When was the Eiffel Tower completed?", 3)
    assert spy.levels and set(spy.levels) == {level.capitalize()}
    assert settled.answer == strong.answer and settled.citations == strong.citations


def test_a_writers_own_save_is_searched_strong(
    spy: _Spy, settings: Settings, milvus_uri: str, corpus_dir
):
    e = Engine(replace(settings, store=milvus_uri), encoder=FakeEncoder())
    e.index([corpus_dir])
    e.ask("When was the Eiffel Tower completed?")
    e.store._fresh_until = 0.0  # long after the rebuild: Bounded
    spy.levels.clear()
    e.ask("When was the Eiffel Tower completed?")
    assert set(spy.levels) == {"Bounded"}
    doc, _ = e.add_text("Bees live in colonies of up to sixty thousand.", "b.txt")
    spy.levels.clear()
    resp = e.ask("How many bees live in a colony?", 3)
    assert set(spy.levels) == {"Strong"}  # a new save: Strong again
    assert doc.id in {c.doc_id for c in resp.citations}
