"""Settings: every QA_* value that is not usable is refused with a message naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

import qa.cli.commands as cli
from qa.core.config import Settings
from qa.core.errors import BadInput
from qa.read.base import SentenceReader, load_reader


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [
        ("QA_TOP_K", "three", "QA_TOP_K='three' is not a whole number"),
        ("QA_TOP_K", "", "QA_TOP_K='' is not a whole number"),
        ("QA_TOP_K", "0", "QA_TOP_K) must be between 1 and 50"),
        ("QA_ALPHA", "nan", "QA_ALPHA) must be between 0 and 1"),
        ("QA_ALPHA", "1e308", "QA_ALPHA) must be between 0 and 1"),
        ("QA_BATCH_SIZE", "-5", "QA_BATCH_SIZE) must be between 1"),
        ("QA_MAX_PASSAGE_WORDS", "0", "QA_MAX_PASSAGE_WORDS) must be between 1"),
        ("QA_OVERLAP_SENTENCES", "-1", "QA_OVERLAP_SENTENCES) must be between 0"),
        ("QA_NPROBE", "0", "QA_NPROBE) must be between 1"),
        ("QA_MIN_RELEVANCE", "inf", "QA_MIN_RELEVANCE) must be between 0 and 1"),
        ("QA_READ_FLOOR", "1.5", "QA_READ_FLOOR) must be between 0 and 1"),
        ("QA_MAX_QUESTION_CHARS", "0", "QA_MAX_QUESTION_CHARS) must be between 1"),
        ("QA_INDEX_DIR", " ", "QA_INDEX_DIR is empty"),
    ],
)
def test_unusable_environment_values_are_named(monkeypatch, var, value, needle) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(BadInput) as e:
        Settings.from_env()
    assert needle in str(e.value)


def test_cli_reports_a_bad_setting_in_one_line(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setenv("QA_BATCH_SIZE", "-5")
    monkeypatch.setattr("sys.argv", ["qa", "index", str(tmp_path), "--index", str(tmp_path / "i")])
    with pytest.raises(SystemExit) as e:
        cli.main()
    out = capsys.readouterr()
    assert e.value.code == 1 and "QA_BATCH_SIZE" in out.err and "Traceback" not in out.err
    assert not (tmp_path / "i").exists()


def test_a_reader_folder_without_weights_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="holds no reader weights"):
        load_reader(tmp_path / "typo")
    assert isinstance(load_reader(None), SentenceReader)  # QA_READER_DIR= (empty)


def test_backend_and_cache_settings_are_named(monkeypatch, tmp_path: Path) -> None:
    from qa.core import onnx as onnx_models
    from qa.index.embed import SentenceEncoder

    for var in ("QA_EMBED_BACKEND", "QA_READER_BACKEND"):
        monkeypatch.setenv(var, "bogus")
        with pytest.raises(BadInput, match=rf"{var}\) must be 'onnx' or 'torch'"):
            Settings.from_env()
        monkeypatch.setenv(var, "")  # empty: the default
    assert Settings.from_env().embed_backend is None
    with pytest.raises(BadInput, match=r"QA_EMBED_BACKEND\) must be 'onnx' or 'torch'"):
        SentenceEncoder(backend="bogus")
    assert SentenceEncoder().backend in ("onnx", "torch")
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "c"))
    assert Settings.from_env().cache_dir == tmp_path / "c"
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(BadInput, match="set QA_CACHE_DIR to a writable folder"):
        onnx_models._build(lambda tmp: tmp / "m.onnx", afile / "embedder" / "m.onnx")
    assert afile.read_text() == "x"


def test_serve_limits_are_checked_before_loading(monkeypatch, capsys) -> None:
    for flag in (["--port", "99999"], ["--max-in-flight", "0"]):
        monkeypatch.setattr("sys.argv", ["qa", "serve", *flag])
        with pytest.raises(SystemExit) as e:
            cli.main()
        assert e.value.code == 2 and flag[0] in capsys.readouterr().err


@pytest.mark.parametrize("command", ["eval", "tune-length", "calibrate-reader", "tune-retrieval"])
def test_reader_commands_refuse_a_folder_that_is_no_reader(command, tmp_path, capsys) -> None:
    import sys

    argv = ["qa", command, "--reader", str(tmp_path)]
    if command == "eval":
        argv.insert(2, str(tmp_path / "x.json"))
    sys_argv = sys.argv
    try:
        sys.argv = argv
        with pytest.raises(SystemExit) as e:
            cli.main()
    finally:
        sys.argv = sys_argv
    err = " ".join(capsys.readouterr().err.replace("│", " ").split())  # unwrap rich's box
    assert e.value.code == 2 and "is not a reader folder" in err, err


def test_a_server_url_that_is_no_qa_server_is_skipped_or_named(monkeypatch, tmp_path) -> None:
    from qa.cli.client import Server as _Server
    from qa.core.errors import QAError

    monkeypatch.setenv("QA_SERVER_URL", "http://127.0.0.1:9\nx")
    assert _Server.find(tmp_path, required=False) is None
    with pytest.raises(QAError, match="no qa server answers"):
        _Server.find(tmp_path, required=True)
    monkeypatch.setattr(_Server, "_call", lambda self, path, timeout=0: [1, 2])
    monkeypatch.setenv("QA_SERVER_URL", "http://127.0.0.1:9")
    assert _Server.find(tmp_path, required=False) is None
    with pytest.raises(QAError, match="not a qa server's"):
        _Server.find(tmp_path, required=True)


def test_tune_retrieval_refuses_k_before_any_work(capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.argv", ["qa", "tune-retrieval", "--reader", "x", "--k", "0"])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 2 and "--k" in capsys.readouterr().err


def test_eval_k_is_checked_and_only_for_open_mode(capsys, monkeypatch, tmp_path) -> None:
    for extra in (["--mode", "open", "--k", "0"], ["--k", "2"]):
        monkeypatch.setattr("sys.argv", ["qa", "eval", str(tmp_path / "x.json"), *extra])
        with pytest.raises(SystemExit) as e:
            cli.main()
        assert e.value.code == 2 and "--k" in capsys.readouterr().err


def test_a_settings_file_under_the_environment(monkeypatch, tmp_path: Path) -> None:
    from qa.core.config import ServeSettings

    conf = tmp_path / "qa.toml"
    conf.write_text('top_k = 5\nindex_dir = "idx"\n[serve]\nqueue = 3\napi_key = "k"\n')
    monkeypatch.chdir(tmp_path)  # ./qa.toml is read when QA_CONFIG names none
    monkeypatch.delenv("QA_CONFIG", raising=False)
    monkeypatch.delenv("QA_API_KEY", raising=False)
    monkeypatch.setenv("QA_TOP_K", "7")  # the environment wins over the file
    s = Settings.from_env()
    assert (s.top_k, s.index_dir) == (7, Path("idx"))
    assert (ServeSettings.from_env().queue, ServeSettings.from_env().api_key) == (3, "k")
    conf.write_text("top_k = 0\n")
    monkeypatch.delenv("QA_TOP_K")
    with pytest.raises(BadInput, match=r"QA_TOP_K\) must be between 1 and 50"):
        Settings.from_env()
    conf.write_text("topk = 3\n")
    with pytest.raises(BadInput, match=r"unknown setting.*topk"):
        Settings.from_env()
    monkeypatch.setenv("QA_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(BadInput, match="QA_CONFIG names"):
        Settings.from_env()
