import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import qa.cli.commands as cli
from qa.core.config import Settings
from qa.engine import Engine

from ..conftest import FakeEncoder, live_server

runner = CliRunner()


@pytest.fixture
def index_dir(tmp_path: Path, monkeypatch) -> Path:
    """Route the CLI's engine to a temp index and the fake encoder; no server to find."""
    path = tmp_path / "idx"
    monkeypatch.setenv("QA_SERVER_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("QA_API_KEY", raising=False)

    def engine(index, store=None):
        settings = Settings(index_dir=index or path, store=store or "", reader_dir=None)
        return Engine(settings, encoder=FakeEncoder())

    monkeypatch.setattr(cli, "_engine", engine)
    return path


def _run(*args: str, input: str | None = None):
    result = runner.invoke(cli.app, list(args), input=input, catch_exceptions=True)
    return result


def test_ask_without_index_says_how_to_build_one(index_dir: Path, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["qa", "ask", "Who?"])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 1
    out = capsys.readouterr()
    assert "no index at" in out.err and "qa index DOCS/ --index" in out.err
    assert "Traceback" not in out.err + out.out


def test_index_ask_json_cite_docs_rm(index_dir: Path, corpus_dir: Path):
    r = _run("index", str(corpus_dir))
    assert r.exit_code == 0, r.output
    assert "indexed 3 documents" in r.output

    r = _run("ask", "When was the Eiffel Tower completed?", "--json", "-k", "2")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["answer"]["text"] == "1889"
    assert len(d["citations"]) == 2
    cited = d["citations"][d["answer"]["citation"] - 1]
    assert cited["start"] <= d["answer"]["start"] < d["answer"]["end"] <= cited["end"]

    r = _run("cite", cited["id"], "--json")
    c = json.loads(r.stdout)
    assert (c["id"], c["start"], c["end"], c["text"]) == (
        cited["id"],
        cited["start"],
        cited["end"],
        cited["text"],
    )
    assert {"context_before", "context_after", "doc_id", "source", "title"} <= set(c)

    r = _run("cite", cited["id"])
    assert r.exit_code == 0 and "1889" in r.stdout
    # piped, where no bold tells it from its context, the passage is marked off
    text = c["text"].replace("\r\n", "\n")
    marked = f"----- the passage, chars {c['start']}–{c['end']} -----\n{text}\n-----"
    assert marked in r.stdout and "----- end of the passage -----" in r.stdout

    r = _run("docs", "--json")
    docs = json.loads(r.stdout)
    assert len(docs) == 3
    r = _run("rm", f" {docs[0]['id']} ")  # pasted with spaces, like a cite id
    assert r.exit_code == 0 and "removed" in r.stdout
    assert len(json.loads(_run("docs", "--json").stdout)) == 2


def test_an_unknown_citation_names_the_index_searched(index_dir, corpus_dir, monkeypatch, capsys):
    assert _run("index", str(corpus_dir)).exit_code == 0
    monkeypatch.setattr("sys.argv", ["qa", "cite", "pBOGUS123"])
    with pytest.raises(SystemExit) as e:
        cli.main()
    err = capsys.readouterr().err
    assert e.value.code == 1 and "no citation 'pBOGUS123'" in err
    assert f"searched {index_dir}/" in err  # the default index, when none was given


def test_ask_human_output_highlights_answer_and_lists_citations(index_dir, corpus_dir):
    _run("index", str(corpus_dir))
    r = _run("ask", "Who walked on the Moon?")
    assert r.exit_code == 0
    assert "Q: Who walked on the Moon?" in r.stdout
    assert "A: Neil Armstrong walked on the Moon in July 1969." in r.stdout
    assert "[1]" in r.stdout and "[2]" in r.stdout and "ms (encode" in r.stdout


def test_terminal_control_characters_are_shown_not_obeyed(index_dir, corpus_dir):
    _run("index", str(corpus_dir))
    r = _run("ask", "Who \x1b[31mwalked\x07 on the Moon?\rX")
    assert r.exit_code == 0
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout and "\r" not in r.stdout
    assert "Q: Who \ufffd[31mwalked\ufffd on the Moon?\ufffdX" in r.stdout


def test_ask_k_out_of_range_is_refused_before_reading(index_dir, corpus_dir):
    _run("index", str(corpus_dir))
    r = _run("ask", "-", "-k", "0", "--json", input="Who walked on the Moon?\n")
    assert r.exit_code == 2 and r.stdout == ""


def test_ask_stdin_one_json_per_line(index_dir, corpus_dir):
    _run("index", str(corpus_dir))
    r = _run("ask", "-", "--json", input="Who walked on the Moon?\n\n   \nWhat is in Paris?\n")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["question"] for x in lines] == ["Who walked on the Moon?", "What is in Paris?"]
    assert all("citations" in x for x in lines)


def test_ask_stdin_reports_bad_lines_and_goes_on(index_dir, corpus_dir):
    _run("index", str(corpus_dir))
    r = _run("ask", "-", "--json", input="x" * 2000 + "\nWho walked on the Moon?\n")
    first, second = (json.loads(x) for x in r.stdout.splitlines())
    assert "limit is 1000" in first["error"]
    assert second["answer"] is not None
    assert r.exit_code == 1  # a script can tell that a question got no answer


def test_ask_json_errors_are_json_on_stdout(index_dir, corpus_dir):
    _run("index", str(corpus_dir))
    r = _run("ask", "   ", "--json")
    assert r.exit_code == 1
    assert "the question is empty" in json.loads(r.stdout)["error"]
    # a byte that is not UTF-8 is shown as U+FFFD, so the line stays valid JSON everywhere
    r = _run("ask", "-", "--json", input=b"Who \xff walked?\nWho walked on the Moon?\n")
    first, second = r.stdout.splitlines()
    assert "\\udc" not in first and json.loads(first)["question"] == "Who \ufffd walked?"
    assert json.loads(second)["answer"] is not None
    assert r.exit_code == 1


def test_piped_output_is_not_wrapped(capsys):
    from qa.cli.render import make_console

    make_console().print("id " + "p43256691888fc52 " * 12)  # stdout is captured: not a terminal
    assert capsys.readouterr().out.count("\n") == 1


def test_index_if_stale_skips_when_up_to_date(index_dir, corpus_dir):
    assert "indexed" in _run("index", str(corpus_dir), "--if-stale").output
    out = _run("index", str(corpus_dir), "--if-stale").output
    assert "is up to date" in " ".join(out.split())


def test_ask_goes_to_a_running_server_holding_the_same_index(
    index_dir, corpus_dir, tmp_path, monkeypatch
):
    from qa.serve import create_app

    _run("index", str(corpus_dir))
    local = json.loads(_run("ask", "Who walked on the Moon?", "--json", "--local").stdout)
    engine = Engine(Settings(index_dir=index_dir, reader_dir=None), encoder=FakeEncoder())
    with live_server(create_app(engine)) as url:
        monkeypatch.setenv("QA_SERVER_URL", url)
        # the CLI's own engine must not be used: make building one fail loudly
        monkeypatch.setattr(cli, "_engine", lambda index: pytest.fail("loaded models locally"))
        at = ("--index", str(index_dir))
        remote = json.loads(_run("ask", "Who walked on the Moon?", "--json", *at).stdout)
        r = _run("ask", "Who walked on the Moon?", *at)
        assert "A: Neil Armstrong walked on the Moon in July 1969." in r.stdout
        r = _run("ask", " ", "--server", *at)
        assert r.exit_code == 1 and "empty" in str(r.exception)
        other = tmp_path / "other"
        r = _run("ask", "Who?", "--server", "--index", str(other))
        assert "serves another index" in str(r.exception)
    for d in (local, remote):
        d.pop("timings_ms")
    assert remote == local
    r = _run("ask", "Who?", "--server", "--index", str(index_dir))  # the server is gone
    assert "no qa server answers" in str(r.exception)


def test_ask_says_when_the_server_needs_a_key(index_dir, corpus_dir, monkeypatch):
    from qa.serve import create_app

    _run("index", str(corpus_dir))
    engine = Engine(Settings(index_dir=index_dir, reader_dir=None), encoder=FakeEncoder())
    with live_server(create_app(engine, api_key="sekret")) as url:
        monkeypatch.setenv("QA_SERVER_URL", url)
        at = ("--server", "--index", str(index_dir))
        r = _run("ask", "Who walked on the Moon?", *at)
        assert r.exit_code == 1 and "needs an API key: set QA_API_KEY" in str(r.exception)
        monkeypatch.setenv("QA_API_KEY", "sekret")
        r = _run("ask", "Who walked on the Moon?", "--json", *at)
        assert r.exit_code == 0 and json.loads(r.stdout)["answer"] is not None


def test_index_without_paths_takes_seeds_here_or_says_what_to_name(
    index_dir, corpus_dir, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    r = _run("index")
    assert "no seeds/ folder here" in str(r.exception) and "qa index docs/" in str(r.exception)
    corpus_dir.rename(tmp_path / "seeds")
    r = _run("index")
    assert r.exit_code == 0 and "indexed 3 documents" in r.output


def test_ask_json_is_the_http_contract(index_dir, corpus_dir):
    """`qa ask --json` prints exactly what AskResponse (the /v1/ask schema) describes."""
    from qa.serve.schemas import AskResponse

    _run("index", str(corpus_dir))
    out = json.loads(_run("ask", "Who walked on the Moon?", "--json", "--local").stdout)
    assert AskResponse.model_validate(out).model_dump() == out


def test_add_sync_and_strict_end_with_a_summary(index_dir: Path, corpus_dir: Path):
    assert _run("index", str(corpus_dir)).exit_code == 0
    (corpus_dir / "slides.odt").write_bytes(b"PK")
    (corpus_dir / "paris.txt").unlink()
    r = _run("add", str(corpus_dir))
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "nothing changed" in out and "skipped 1 (1 unsupported type)" in out
    assert "slides.odt: it has an unsupported file type '.odt'" in out
    r = _run("sync", str(corpus_dir), "--strict")
    assert r.exit_code == 1 and "--strict: 1 file(s) would be skipped" in str(r.exception)
    r = _run("sync", str(corpus_dir))
    assert r.exit_code == 0, r.output
    assert "removed" in r.output and "paris.txt" in r.output
    assert "added 0, replaced 0, unchanged 2, removed 1" in " ".join(r.output.split())


def test_ask_where_and_doc_restrict_the_citations(index_dir: Path, corpus_dir: Path):
    assert _run("index", str(corpus_dir)).exit_code == 0
    q = "When was the Eiffel Tower completed?"
    r = _run("ask", q, "--json", "--where", "source=*.md")
    assert r.exit_code == 0, r.output
    assert all(c["source"].endswith("bees.md") for c in json.loads(r.stdout)["citations"])
    docs = json.loads(_run("docs", "--json").stdout)
    moon = next(d["id"] for d in docs if d["source"].endswith("moon.html"))
    r = _run("ask", q, "--json", "--doc", moon)
    assert {c["doc_id"] for c in json.loads(r.stdout)["citations"]} == {moon}
    r = _run("ask", q, "--where", "nonsense")
    assert r.exit_code == 1 and "field=pattern" in str(r.exception)


def test_store_option_keeps_the_index_in_milvus(index_dir: Path, corpus_dir: Path, milvus_uri):
    at = ("--store", milvus_uri)
    r = _run("index", str(corpus_dir), *at)
    assert r.exit_code == 0 and f"into {milvus_uri};" in r.output.replace("\n", ""), r.output
    assert not index_dir.exists()  # nothing in the folder
    d = json.loads(_run("ask", "When was the Eiffel Tower completed?", "--json", *at).stdout)
    assert d["answer"]["text"] == "1889"
    c = json.loads(_run("cite", d["citations"][0]["id"], "--json", *at).stdout)
    assert c["text"] == d["citations"][0]["text"]
    docs = json.loads(_run("docs", "--json", *at).stdout)
    assert len(docs) == 3
    assert _run("rm", docs[0]["id"], *at).exit_code == 0
    assert len(json.loads(_run("docs", "--json", *at).stdout)) == 2


def test_migrate_copies_the_folder_into_milvus_and_back(
    index_dir: Path, corpus_dir: Path, milvus_uri: str, tmp_path: Path
):
    _run("index", str(corpus_dir))
    r = _run("migrate", "--to", milvus_uri)
    assert r.exit_code == 0 and "copied 3 documents" in r.output, r.output
    q = ("ask", "When was the Eiffel Tower completed?", "--json", "--local")
    local = json.loads(_run(*q).stdout)
    local.pop("timings_ms")
    milvus = json.loads(_run(*q, "--store", milvus_uri).stdout)
    milvus.pop("timings_ms")
    assert milvus == local
    back = tmp_path / "back"
    assert _run("migrate", "--store", milvus_uri, "--to", str(back)).exit_code == 0
    docs = [json.loads(_run("docs", "--json", *at).stdout) for at in (("--index", str(back)), ())]
    assert sorted(docs[0], key=lambda d: d["id"]) == sorted(docs[1], key=lambda d: d["id"])
