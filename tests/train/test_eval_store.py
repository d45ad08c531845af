"""``qa eval --mode open --store URI``: the evaluation through an index in Milvus
(milvus-lite here) scores as the in-memory one on the same paragraphs, builds into an
empty collection once, and refuses a store that cannot answer the questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa import engine as engine_mod
from qa.core.errors import BadInput
from qa.index.milvus import MilvusLocation
from qa.train.evaluate import evaluate
from tests.conftest import FakeEncoder
from tests.train.test_evaluate import Scripted, write_file

WORDS = {"What is the capital of France?": "Paris", "Where does the Nile flow?": "north"}


@pytest.fixture
def squad_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(engine_mod, "SentenceEncoder", lambda **_: FakeEncoder())
    monkeypatch.delenv("QA_STORE", raising=False)
    f = tmp_path / "d.json"
    write_file(f)
    return f


def test_an_empty_store_gets_the_paragraphs_and_scores_as_in_memory(
    squad_file: Path, milvus_uri: str
):
    in_memory = evaluate(squad_file, Scripted(WORDS), mode="open", progress=False)
    built = evaluate(squad_file, Scripted(WORDS), mode="open", store=milvus_uri, progress=False)
    loc = MilvusLocation.parse(milvus_uri)
    stamp = loc.stamp()
    assert stamp is not None and len(loc.read_documents()) == 2  # one a paragraph
    again = evaluate(squad_file, Scripted(WORDS), mode="open", store=milvus_uri, progress=False)
    assert loc.stamp() == stamp  # evaluated as it was: nothing built again
    for res in (built, again):
        for key in ("em", "f1", "n", "recall@1", "recall@3", "mrr@10", "abstained"):
            assert res[key] == in_memory[key], key
    assert in_memory["recall@1"] > 0 and in_memory["em"] > 0


def test_a_store_without_the_questions_paragraphs_is_refused(
    squad_file: Path, milvus_uri: str, tmp_path: Path
):
    other = tmp_path / "other.json"
    data = json.loads(squad_file.read_text())
    data["data"][0]["paragraphs"] = data["data"][0]["paragraphs"][1:]  # the Nile only
    other.write_text(json.dumps(data))
    evaluate(other, Scripted(WORDS), mode="open", store=milvus_uri, progress=False)
    with pytest.raises(BadInput, match=r"3 of the 4 questions' paragraphs are not in the index"):
        evaluate(squad_file, Scripted(WORDS), mode="open", store=milvus_uri, progress=False)
    with pytest.raises(BadInput, match="holds an index already: --corpus says what to build"):
        evaluate(
            other, Scripted(WORDS), mode="open", store=milvus_uri, corpus=other, progress=False
        )
    with pytest.raises(BadInput, match="--mode open"):
        evaluate(squad_file, Scripted(WORDS), store=milvus_uri, progress=False)


def test_the_command_takes_store_in_open_mode_only(squad_file: Path, milvus_uri: str):
    from qa.train.cli import app

    out = CliRunner().invoke(app, ["eval", "--help"]).output
    assert "--store" in out
    res = CliRunner().invoke(app, ["eval", str(squad_file), "--store", milvus_uri])
    assert res.exit_code != 0 and "--store applies to --mode open" in res.output
