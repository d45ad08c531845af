"""Every benchmark in one run: quality, latency, ingestion, the Haystack peer and scale.

Writes ``BENCHMARKS.md`` (machine, date, commands, tables, goals met or missed) and
``bench/results.json``. Each section also keeps its figures in ``bench/parts/`` so a
section can be re-run alone (``--only``) and the report re-rendered from what is there.

    .venv/bin/python bench/run.py                  # everything (~25 min on 2 cores)
    .venv/bin/python bench/run.py --quick          # smoke run on small samples (~5 min)
    .venv/bin/python bench/run.py --only scale     # one section, then re-render
    .venv/bin/python bench/run.py --render         # re-render from bench/parts/

Every section records how much CPU *other* processes used while it ran (from
/proc/stat), so a figure taken on a busy machine says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from qa.core.config import Settings
from qa.core.types import Document
from qa.engine import Engine
from qa.index.chunk import passages
from qa.index.embed import SentenceEncoder
from qa.train import squad
from qa.train.evaluate import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import QUESTIONS as SEED_QUESTIONS  # bench/load.py
from load import free_port, wait_ready
from retrieval import paragraphs  # bench/retrieval.py

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
DEFINITIONS_NAME = "data/definitions/eval.json"
DEFINITIONS = ROOT / DEFINITIONS_NAME
PARTS = ROOT / "bench" / "parts"  # tracked: the report re-renders on any checkout
BIN = Path(sys.executable).parent
HAYSTACK_PY = ROOT / "bench" / ".venv-haystack" / "bin" / "python"
LATENCY_REPEATS = 3  # the reader-alone latency: runs of 200 reads, the median run reported
SECTIONS = (
    "scale",
    "ingest",
    "reader",
    "latency",
    "peer",
    "quality",
    "cold",
    "http",
    "load",
    "realdocs",
    "docheld",
    "doctables",
    "rstheld",
    "infoheld",
    "followups",
    "calibration",
    "stores",
)

GOALS = {
    "reader_p50_ms": 40.0,
    "reader_f1_drop": 0.5,
    "ask_p50_ms": 50.0,
    "ask_p95_ms": 100.0,
    "haystack_latency_ratio": 3.0,
    "cold_ask_s": 1.5,
    "ingest_ratio": 0.90,
    "scale_1m_ms": 5.0,
    "scale_recall": 0.95,
    "open_em_gap": 8.0,
}


# -- helpers ----------------------------------------------------------------------------
def pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(xs, q)), 2) if xs else float("nan")


def summary_ms(xs: list[float]) -> dict[str, float]:
    return {
        "p50": pct(xs, 50),
        "p95": pct(xs, 95),
        "mean": round(statistics.fmean(xs), 2) if xs else float("nan"),
        "n": len(xs),
    }


def _cpu() -> tuple[float, float, float, float]:
    """(busy seconds of all CPUs, seconds used by this process and its children, wall)."""
    with open("/proc/stat") as f:
        vals = [int(v) for v in f.readline().split()[1:9]]
    hz = os.sysconf("SC_CLK_TCK")
    busy = (sum(vals) - vals[3] - vals[4]) / hz
    t = os.times()
    return (
        busy,
        t.user + t.system + t.children_user + t.children_system,
        time.monotonic(),
        os.getloadavg()[0],
    )


@contextmanager
def machine_state(record: dict[str, Any]) -> Iterator[None]:
    """Fill ``record`` with the share of CPU other processes used during the block."""
    b0, m0, w0, la = _cpu()
    try:
        yield
    finally:
        b1, m1, w1, _ = _cpu()
        ncpu = os.cpu_count() or 1
        wall = max(1e-9, w1 - w0)
        others = max(0.0, (b1 - b0) - (m1 - m0)) / (wall * ncpu)
        record["machine_state"] = {
            "cpu": cpu_name(),
            "others_cpu_share": round(others, 3),
            "quiet": others < 0.10,
            "load_avg_at_start": round(la, 2),
            "wall_s": round(wall, 1),
        }


def data_file(args: argparse.Namespace) -> Path:
    return args.data / squad.V1_DEV


def qa_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "QA_READER_DIR": str(args.reader),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
    )
    return env


def shown(cmd: list[str]) -> str:
    """A command as a person would type it from the repository root."""
    return " ".join(shlex.quote(c.replace(str(ROOT) + "/", "")) for c in cmd)


def run_cmd(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float = 3600
) -> subprocess.CompletedProcess[str]:
    print("$ " + shown(cmd), flush=True)
    res = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if res.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {res.returncode}: {res.stderr[-2000:]}")
    return res


class Context:
    """What sections share: the open-setting engine over SQuAD v1.1 dev and the questions."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._encoder: SentenceEncoder | None = None
        self._engine: Engine | None = None
        self.build_record: dict[str, Any] | None = None

    @property
    def encoder(self) -> SentenceEncoder:
        if self._encoder is None:
            self._encoder = SentenceEncoder().load()
            self._encoder.encode(["warm up the encoder"] * 4)
        return self._encoder

    def engine(self) -> Engine:
        """Engine.in_memory over all paragraphs, timed stage by stage (chunk, embed, rest)."""
        if self._engine is None:
            from qa.read.reader import NeuralReader

            docs = self.documents()
            settings = Settings(index_dir=OUT / "unused-index", reader_dir=self.args.reader)
            encoder = self.encoder
            marks: dict[str, float] = {}

            def progress(stage: str, done: int, total: int) -> None:
                now = time.perf_counter()
                marks.setdefault("embed_start", now)
                marks["embed_end"] = now

            t0 = time.perf_counter()
            engine = Engine.in_memory(
                docs,
                settings,
                encoder=encoder,
                reader=NeuralReader(self.args.reader),
                progress=progress,
            )
            t1 = time.perf_counter()
            n = len(engine.store)
            self.build_record = {
                "documents": len(docs),
                "passages": n,
                "total_s": round(t1 - t0, 2),
                "chunk_s": round(marks["embed_start"] - t0, 2),
                "embed_s": round(marks["embed_end"] - marks["embed_start"], 2),
                "store_and_bm25_s": round(t1 - marks["embed_end"], 2),
                "passages_per_s": round(n / (t1 - t0), 1),
            }
            self._engine = engine
        return self._engine

    def documents(self) -> list[Document]:
        """Every paragraph (with --quick: the questions' own and 150 others)."""
        docs = paragraphs(data_file(self.args))
        if self.args.quick:
            gold = {Document.from_text(e.context, "", "").id for e in self.questions()}
            docs = [d for d in docs if d.id in gold] + [d for d in docs if d.id not in gold][:150]
        return docs

    def questions(self) -> list[squad.Example]:
        return select(data_file(self.args), limit=self.args.questions)

    def passage_texts(self) -> list[str]:
        store = self.engine().store
        return [p.text for d in store.documents for p in store.doc_passages(d)]


# -- sections ---------------------------------------------------------------------------
def section_ingest(ctx: Context) -> dict[str, Any]:
    """Engine.build (chunk + embed + store + BM25) vs raw SentenceTransformer.encode."""
    if ctx.build_record is not None:
        raise RuntimeError("ingest must run before anything else builds the engine")
    encoder = ctx.encoder  # loaded and warm before either clock starts
    # the yardstick is sentence-transformers itself, whatever backend qa embeds with
    model = SentenceEncoder(backend="torch").load()._model
    assert model is not None
    model.encode(["warm up the yardstick"] * 4)
    s = Settings()
    texts = [p.text for d in ctx.documents() for p in passages(d, s)]

    def raw() -> float:
        t0 = time.perf_counter()
        model.encode(
            texts,
            batch_size=Settings().batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return time.perf_counter() - t0

    # This VM's speed drifts within minutes: the yardstick runs before and after the build,
    # and the build is compared with their mean.
    raw_before = raw()
    ctx.engine()
    build = ctx.build_record
    assert build is not None
    raw_after = raw()
    assert len(texts) == len(ctx.passage_texts()), "the yardstick must embed the same passages"
    raw_s = (raw_before + raw_after) / 2
    raw_pps = len(texts) / raw_s
    return {
        "corpus": "SQuAD v1.1 dev, "
        + ("a quick subset of paragraphs" if ctx.args.quick else "all paragraphs (open setting)"),
        "build": build,
        "raw_encode": {
            "passages": len(texts),
            "seconds": round(raw_s, 2),
            "seconds_before_and_after": [round(raw_before, 2), round(raw_after, 2)],
            "passages_per_s": round(raw_pps, 1),
            "batch_size": Settings().batch_size,
        },
        "qa_embed_backend": encoder.backend,
        "ratio": round(build["passages_per_s"] / raw_pps, 3),
        "embed_only_ratio": round((len(texts) / build["embed_s"]) / raw_pps, 3),
    }


def section_latency(ctx: Context) -> dict[str, Any]:
    """Warm engine.ask per stage at K=3 and K=5 over the open SQuAD setting."""
    engine = ctx.engine()
    examples = ctx.questions()
    for ex in examples[:5]:  # warm-up, not counted
        engine.ask(ex.question, 5)
    out: dict[str, Any] = {
        "questions": len(examples),
        "question_ids": [e.id for e in examples],
        "setting": "open: every paragraph of SQuAD v1.1 dev pooled; "
        "questions from the evaluation articles (seed-0 sample)",
        "passages": len(engine.store),
        "k": {},
    }
    for k in (3, 5):
        stages: dict[str, list[float]] = {"encode": [], "retrieve": [], "read": [], "total": []}
        wall: list[float] = []
        ems: list[float] = []
        f1s: list[float] = []
        preds: dict[str, str | None] = {}
        for ex in examples:
            t0 = time.perf_counter()
            resp = engine.ask(ex.question, k)
            wall.append((time.perf_counter() - t0) * 1000)
            for s in stages:
                stages[s].append(float(resp.timings_ms[s]))
            pred = resp.answer.text if resp.answer else None
            preds[ex.id] = pred
            em, f1 = squad.score(pred, [a for a, _ in ex.answers])
            ems.append(em)
            f1s.append(f1)
        out["k"][str(k)] = {
            "ask_wall_ms": summary_ms(wall),
            "stages_ms": {s: summary_ms(v) for s, v in stages.items()},
            "em": round(100 * statistics.fmean(ems), 2),
            "f1": round(100 * statistics.fmean(f1s), 2),
            "abstained": sum(1 for p in preds.values() if p is None),
        }
        (ctx.args.work / f"predictions-qa-k{k}.json").write_text(json.dumps(preds, indent=1))
        print(
            f"K={k}: ask p50 {out['k'][str(k)]['ask_wall_ms']['p50']} ms, "
            f"F1 {out['k'][str(k)]['f1']}",
            flush=True,
        )
    return out


def section_reader(ctx: Context) -> dict[str, Any]:
    """The reader alone per backend: latency on 5 passages of ≤ 128 word-pieces, closed F1."""
    from qa.read.reader import NeuralReader
    from qa.train.evaluate import evaluate
    from qa.train.latency import reader_latency

    examples = select(data_file(ctx.args))
    out: dict[str, Any] = {
        "latency_setting": "one question, its gold paragraph and the 4 next ones, each cut "
        "to its first 128 word-pieces, read in one batch; 200 questions after 5 warm-up, "
        f"repeated {LATENCY_REPEATS} times: the median run's p50 and p95 (all runs' p50 in "
        "`p50_runs_ms`), since this figure moves between runs on a shared VM",
        "f1_setting": f"closed, always answering, seed-0 sample of {ctx.args.reader_limit}"
        if ctx.args.reader_limit
        else "closed, always answering, all 7,595 questions",
        "backends": {},
    }
    for backend in ("onnx", "torch"):
        r = NeuralReader(ctx.args.reader, backend=backend).load()
        r.null_threshold = None  # always answer: F1 of the spans themselves
        runs = sorted(
            (reader_latency(r, examples, n=200) for _ in range(LATENCY_REPEATS)),
            key=lambda x: x["p50_ms"],
        )
        lat = runs[len(runs) // 2]
        res = evaluate(
            data_file(ctx.args),
            r,
            limit=ctx.args.reader_limit or None,
            batch_size=16,
            latency_n=0,
            progress=False,
        )
        out["backends"][backend] = {
            "p50_ms": round(lat["p50_ms"], 1),
            "p95_ms": round(lat["p95_ms"], 1),
            "p50_runs_ms": [round(x["p50_ms"], 1) for x in runs],
            "em": round(res["em"], 2),
            "f1": round(res["f1"], 2),
            "n": res["n"],
        }
        print(f"reader {backend}: p50 {lat['p50_ms']:.1f} ms, F1 {res['f1']:.2f}", flush=True)
        if backend == "onnx":
            d = evaluate(DEFINITIONS, r, batch_size=16, latency_n=0, progress=False)
            out["definitions"] = {k: round(d[k], 2) for k in ("em", "f1")} | {"n": d["n"]}
    b = out["backends"]
    out["f1_drop"] = round(b["torch"]["f1"] - b["onnx"]["f1"], 2)
    return out


def section_peer(ctx: Context) -> dict[str, Any]:
    """Haystack 2.31 on the same passages, embedder, reader, K and questions."""
    if not HAYSTACK_PY.exists():
        return {"skipped": "no bench/.venv-haystack: run bench/setup_haystack.sh"}
    lat = load_part("latency")
    examples = ctx.questions()
    if lat is None or lat.get("question_ids") != [e.id for e in examples]:
        raise RuntimeError(
            "the peer compares against the latency section's questions: "
            "run --only latency peer (same --questions)"
        )
    peer_dir = ctx.args.work / "peer"
    peer_dir.mkdir(parents=True, exist_ok=True)
    store = ctx.engine().store
    with (peer_dir / "passages.jsonl").open("w", encoding="utf-8") as f:
        for d in store.documents:
            for p in store.doc_passages(d):
                f.write(
                    json.dumps({"id": p.id, "doc_id": p.doc_id, "text": p.text}, ensure_ascii=False)
                    + "\n"
                )
    with (peer_dir / "questions.jsonl").open("w", encoding="utf-8") as f:
        for e in examples:
            f.write(json.dumps({"id": e.id, "question": e.question}, ensure_ascii=False) + "\n")
    cmd = [
        str(HAYSTACK_PY),
        "bench/haystack_peer.py",
        "--passages",
        str(peer_dir / "passages.jsonl"),
        "--questions",
        str(peer_dir / "questions.jsonl"),
        "--reader",
        str(ctx.args.reader),
        "--k",
        "5",
        "--out",
        str(peer_dir / "predictions.jsonl"),
    ]
    env = dict(
        os.environ,
        HAYSTACK_TELEMETRY_ENABLED="False",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    run_cmd(cmd, env=env)
    summary = json.loads((peer_dir / "predictions.json").read_text())
    gold = {e.id: [a for a, _ in e.answers] for e in examples}
    rows: dict[str, Any] = {}
    by_pipe: dict[str, list[dict[str, Any]]] = {}
    with (peer_dir / "predictions.jsonl").open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            by_pipe.setdefault(r["pipeline"], []).append(r)
    for name, rs in by_pipe.items():
        scores = [squad.score(r["answer"], gold[r["id"]]) for r in rs]
        scores_null = [squad.score(r["answer_or_null"], gold[r["id"]]) for r in rs]
        rows[name] = {
            "latency_ms": summary_ms([r["ms"] for r in rs]),
            "em": round(100 * statistics.fmean(s[0] for s in scores), 2),
            "f1": round(100 * statistics.fmean(s[1] for s in scores), 2),
            "f1_if_no_answer_allowed": round(100 * statistics.fmean(s[1] for s in scores_null), 2),
        }
    ours = lat["k"]["5"]
    ours_p50 = ours["ask_wall_ms"]["p50"]
    res: dict[str, Any] = {
        "haystack": summary,
        "pipelines": rows,
        "ours": {
            "latency_ms": ours["ask_wall_ms"],
            "em": ours["em"],
            "f1": ours["f1"],
            "abstained": ours["abstained"],
        },
        "command": shown(cmd),
    }
    for name in rows:
        res[f"ratio_{name}"] = round(rows[name]["latency_ms"]["p50"] / ours_p50, 2)
    return res


def section_quality(ctx: Context) -> dict[str, Any]:
    """`qa eval` closed and open on the 32 evaluation articles of SQuAD v1.1 dev."""
    out: dict[str, Any] = {}
    runs = [("closed", "closed", ctx.args.closed_limit), ("open", "open", ctx.args.open_limit)]
    if ctx.args.open_limit and ctx.args.open_limit != ctx.args.closed_limit:
        # the open sample read closed-book: the like-for-like reference for the open gap
        runs.append(("closed_on_open_sample", "closed", ctx.args.open_limit))
    for key, mode, limit in runs:
        cmd = [
            str(BIN / "qa"),
            "eval",
            str(data_file(ctx.args)),
            "--mode",
            mode,
            "--reader",
            str(ctx.args.reader),
            "--json",
        ]
        if limit:
            cmd += ["--limit", str(limit)]
        res = run_cmd(cmd, env=qa_env(ctx.args))
        metrics = json.loads(res.stdout.strip().splitlines()[-1])
        metrics["command"] = shown(cmd)
        metrics["sample"] = f"seed-0 sample of {limit}" if limit else "all 7,595 questions"
        out[key] = metrics
        print(
            f"{key}: EM {metrics['em']:.1f} F1 {metrics['f1']:.1f} (n={metrics['n']})", flush=True
        )
    # Questions asking who someone is, answered over the same pool of paragraphs.
    cmd = [str(BIN / "qa"), "eval", str(DEFINITIONS), "--mode", "open", "--corpus"]
    cmd += [str(data_file(ctx.args)), "--reader", str(ctx.args.reader), "--json"]
    if ctx.args.quick:
        cmd += ["--limit", str(ctx.args.open_limit)]
    metrics = json.loads(run_cmd(cmd, env=qa_env(ctx.args)).stdout.strip().splitlines()[-1])
    metrics["command"] = shown(cmd)
    metrics["sample"] = f"`{DEFINITIONS_NAME}`, " + (
        f"seed-0 sample of {metrics['n']}" if ctx.args.quick else f"all {metrics['n']}"
    )
    out["definitions_open"] = metrics
    print(f"definitions open: EM {metrics['em']:.1f} F1 {metrics['f1']:.1f}", flush=True)
    return out


def seed_index(args: argparse.Namespace) -> Path:
    path = OUT / "index-seed"
    run_cmd(
        [str(BIN / "qa"), "index", "seeds/", "--index", str(path), "--if-stale"], env=qa_env(args)
    )
    return path


@contextmanager
def running_server(ctx: Context, index: Path, log_name: str) -> Iterator[tuple[str, list[str]]]:
    """`qa serve` on a free 127.0.0.1 port over ``index``; yields (url, command)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(BIN / "qa"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--index", str(index)]
    with (ctx.args.work / log_name).open("wb") as lf:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=qa_env(ctx.args), stdout=lf, stderr=subprocess.STDOUT
        )
    try:
        wait_ready(url, 180, proc)
        yield url, cmd
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _timed_asks(ctx: Context, index: Path, flag: str, env: dict[str, str]) -> dict[str, Any]:
    walls: list[float] = []
    inner: list[float] = []
    cmd: list[str] = []
    for i in range(ctx.args.cold_runs):
        q = SEED_QUESTIONS[i % len(SEED_QUESTIONS)]
        cmd = [str(BIN / "qa"), "ask", q, flag, "--index", str(index), "--json"]
        t0 = time.perf_counter()
        res = run_cmd(cmd, env=env)
        walls.append(time.perf_counter() - t0)
        inner.append(float(json.loads(res.stdout.strip().splitlines()[-1])["timings_ms"]["total"]))
    return {
        "runs_s": [round(w, 3) for w in walls],
        "median_s": round(statistics.median(walls), 3),
        "min_s": round(min(walls), 3),
        "first_s": round(walls[0], 3),
        "answer_ms_inside": summary_ms(inner),
        "command": shown(cmd),
    }


def section_cold(ctx: Context) -> dict[str, Any]:
    """Wall time of `qa ask` in a fresh process: alone, and handing off to a running server."""
    index = seed_index(ctx.args)
    local = _timed_asks(ctx, index, "--local", qa_env(ctx.args))
    with running_server(ctx, index, "cold-server.log") as (url, _):
        served = _timed_asks(ctx, index, "--server", qa_env(ctx.args) | {"QA_SERVER_URL": url})
    return {
        **local,
        "server": served,
        "index": "seeds/ (the seed article)",
        "note": "a fresh process each run; the OS file cache is warm after the first",
    }


def section_http(ctx: Context) -> dict[str, Any]:
    """POST /v1/ask round trips through `qa serve` on 127.0.0.1, one client, sequential."""
    index = seed_index(ctx.args)
    out: dict[str, Any] = {"clients": 1, "index": "seeds/ (the seed article)"}
    with running_server(ctx, index, "http-server.log") as (url, cmd):
        out["command"] = shown(cmd)
        rts: list[float] = []
        server: list[float] = []
        with httpx.Client(base_url=url, timeout=60) as http:
            for q in SEED_QUESTIONS[:3]:
                http.post("/v1/ask", json={"question": q, "k": 5}).raise_for_status()
            for i in range(ctx.args.http_requests):
                q = SEED_QUESTIONS[i % len(SEED_QUESTIONS)]
                t0 = time.perf_counter()
                r = http.post("/v1/ask", json={"question": q, "k": 5})
                rts.append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()
                server.append(float(r.json()["timings_ms"]["total"]))
        out |= {
            "k": 5,
            "round_trip_ms": summary_ms(rts),
            "engine_ms": summary_ms(server),
            "overhead_ms": summary_ms([a - b for a, b in zip(rts, server, strict=True)]),
        }
    return out


def _load_summary(d: dict[str, Any]) -> dict[str, Any]:
    a = d["askers"]
    out = {
        "clients": d["clients"],
        "seconds": d["seconds"],
        "requests": a["requests"],
        "statuses": a["statuses"],
        "answered_per_s": a["answered_per_s"],
        "answered_ms": a["latency_ms_by_status"].get("200", {}),
        "p50_503_ms": a.get("p50_503_ms"),
        "errors": a.get("errors", {}),
        "rss_mib": {k: d["server_rss_mib"][k] for k in ("start", "end", "peak")},
        "tracebacks": d["server"]["log"]["tracebacks"],
        "clean_stop": d["server"]["stop"]["clean"],
    }
    if d.get("writer"):
        w = d["writer"]
        out["writer"] = {"requests": w["requests"], "statuses": w["statuses"]}
    return out


def section_load(ctx: Context) -> dict[str, Any]:
    """bench/load.py: concurrent clients at /v1/ask on the seed index, honouring
    Retry-After; then the same while one more client adds documents."""
    index = seed_index(ctx.args)
    out: dict[str, Any] = {"index": "seeds/ (the seed article), a copy per run"}
    for mode, extra in (("plain", []), ("writer", ["--writer"])):
        dest = ctx.args.work / f"load-{mode}.json"
        cmd = [sys.executable, "bench/load.py", "--index", str(index), "--out", str(dest)]
        cmd += extra + (["--clients", "10", "--seconds", "10"] if ctx.args.quick else [])
        run_cmd(cmd, env=qa_env(ctx.args))
        out[mode] = _load_summary(json.loads(dest.read_text())) | {"command": shown(cmd)}
    return out


def _load_rows(load: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for mode in ("plain", "writer"):
        r = load.get(mode)
        if not r:
            continue
        st = r["statuses"]
        lat = r["answered_ms"]
        w = r.get("writer")
        rows.append(
            [
                f"{r['clients']} askers" + (" + 1 writer" if mode == "writer" else ""),
                r["requests"],
                st.get("200", 0),
                st.get("503", 0),
                sum(v for k, v in st.items() if k not in ("200", "503"))
                + sum(r["errors"].values()),
                r["answered_per_s"],
                f"{lat.get('p50')} / {lat.get('p95')} / {lat.get('p99')}",
                f"{r['rss_mib']['start']} → {r['rss_mib']['end']} ({r['rss_mib']['peak']})",
                f"{w['statuses']}" if w else "–",
            ]
        )
    return rows


def section_scale(ctx: Context) -> dict[str, Any]:
    """bench/scale.py: FAISS flat vs HNSW vs IVF at 100k and 1M vectors."""
    out = ctx.args.work / "scale.json"
    cmd = [sys.executable, "bench/scale.py", "--out", str(out)]
    if ctx.args.quick:
        cmd += ["--sizes", "20000", "--queries", "200", "--timed", "50", "--max-seconds", "3"]
    else:
        cmd += [
            "--sizes",
            *map(str, ctx.args.scale_sizes),
            "--cache",
            str(OUT / "scale-cache"),
            "--cache-min",
            str(ctx.args.scale_cache_min),
        ]
    res = run_cmd(cmd)
    print(res.stdout[-3000:], flush=True)
    data = json.loads(out.read_text())
    data["command"] = shown(cmd)
    return data


def section_realdocs(ctx: Context) -> dict[str, Any]:
    """bench/realdocs.py: real PDF/DOCX/HTML/Markdown/text files, questions with gold spans."""
    import realdocs  # bench/realdocs.py

    # the engine loads its reader as `qa ask` does (Settings' backend); the encoder is shared
    quick = 2 if ctx.args.quick else None
    return realdocs.run(ctx.args.reader, encoder=ctx.encoder, per_format=quick)


def section_docheld(ctx: Context, name: str = "docheld") -> dict[str, Any]:
    """bench/realdocs.py --set docheld: the second held-out documentation set."""
    import realdocs  # bench/realdocs.py

    quick = 2 if ctx.args.quick else None
    folder = realdocs.SETS[name]
    return realdocs.run(ctx.args.reader, encoder=ctx.encoder, per_format=quick, folder=folder)


def section_doctables(ctx: Context) -> dict[str, Any]:
    """bench/realdocs.py --set doctables: held-out questions on tables."""
    return section_docheld(ctx, "doctables")


def section_rstheld(ctx: Context) -> dict[str, Any]:
    """bench/realdocs.py --set rstheld: held-out reStructuredText documents."""
    return section_docheld(ctx, "rstheld")


def section_infoheld(ctx: Context) -> dict[str, Any]:
    """bench/realdocs.py --set infoheld: held-out GNU Info manuals."""
    return section_docheld(ctx, "infoheld")


def section_followups(ctx: Context) -> dict[str, Any]:
    """bench/followups.py: chat follow-up conversations, the reader's question before/after."""
    import followups  # bench/followups.py

    out = OUT / "followups.json"
    if followups.main(["--out", str(out)]):
        raise RuntimeError("the follow-up set failed its checks (scripts/followups.py)")
    return json.loads(out.read_text(encoding="utf-8"))


def section_stores(ctx: Context) -> dict[str, Any]:
    """bench/stores.py: the local folder store vs Milvus (milvus-lite), and Milvus at scale."""
    import stores  # bench/stores.py

    return stores.section(ctx, run_cmd, shown)


def section_calibration(ctx: Context) -> dict[str, Any]:
    """bench/calibration.py: confidence against being right, SQuAD evaluation and realdocs."""
    import calibration  # bench/calibration.py

    # every evaluation question: the 1,500 sample holds too few sure answers to tell 3% from 6%
    limit = ctx.args.open_limit if ctx.args.quick else None
    return calibration.run(
        ctx.args.reader, encoder=ctx.encoder, limit=limit, plots=not ctx.args.quick
    )


RUNNERS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "scale": section_scale,
    "ingest": section_ingest,
    "reader": section_reader,
    "latency": section_latency,
    "peer": section_peer,
    "quality": section_quality,
    "cold": section_cold,
    "http": section_http,
    "load": section_load,
    "realdocs": section_realdocs,
    "docheld": section_docheld,
    "doctables": section_doctables,
    "rstheld": section_rstheld,
    "infoheld": section_infoheld,
    "followups": section_followups,
    "calibration": section_calibration,
    "stores": section_stores,
}


# -- parts and report -------------------------------------------------------------------
def load_part(name: str) -> dict[str, Any] | None:
    p = PARTS / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def cpu_name() -> str:
    """The CPU's model name (speed figures hold for this CPU only)."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    return next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        platform.processor(),
    )


def machine() -> dict[str, Any]:
    import faiss
    import torch
    import transformers

    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpu = cpu_name()
    mem = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal")), 0)
    from threadpoolctl import threadpool_info

    pools = sorted({f"{p.get('internal_api')}×{p.get('num_threads')}" for p in threadpool_info()})
    return {
        "thread_pools": ", ".join(pools),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem / 2**20, 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "transformers": transformers.__version__,
        "faiss": faiss.__version__,
        "onnxruntime": __import__("onnxruntime").__version__,
        "numpy": np.__version__,
        "os": platform.platform(),
    }


def state_note(part: dict[str, Any] | None) -> str:
    if not part or "machine_state" not in part:
        return ""
    s = part["machine_state"]
    word = "quiet" if s["quiet"] else "**busy**"
    cpu = s.get("cpu", "a CPU not recorded")
    other = f" on **another CPU: {cpu}**" if cpu != cpu_name() else ""
    return (
        f"_Measured {part.get('measured_at', '?')}{other}, machine {word}: other processes "
        f"used {100 * s['others_cpu_share']:.0f}% of the CPUs during this section "
        f"({s['wall_s']:.0f} s){' — quick run' if part.get('quick') else ''}._"
    )


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**MISSED**")


def results_summary(parts: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The headline figures (bench/results.json), each with its goal and verdict."""
    r: dict[str, Any] = {}
    lat, peer, cold, ing, scale = (
        parts.get(s) for s in ("latency", "peer", "cold", "ingest", "scale")
    )
    if lat:
        k5 = lat["k"]["5"]
        r["ask_p50_ms"] = k5["ask_wall_ms"]["p50"]
        r["ask_p95_ms"] = k5["ask_wall_ms"]["p95"]
        r["ask_k3_p50_ms"] = lat["k"]["3"]["ask_wall_ms"]["p50"]
        r["open_f1_k5_sample"] = k5["f1"]
    if peer and "pipelines" in peer:
        r["haystack_latency_ratio"] = peer.get("ratio_hybrid")
        r["haystack_dense_latency_ratio"] = peer.get("ratio_dense")
        r["haystack_hybrid_f1"] = peer["pipelines"].get("hybrid", {}).get("f1")
        r["haystack_dense_f1"] = peer["pipelines"].get("dense", {}).get("f1")
    if cold:
        r["cold_ask_local_s"] = cold["median_s"]
        if cold.get("server"):
            r["cold_ask_server_s"] = cold["server"]["median_s"]
    if ing:
        r["ingest_passages_per_s"] = ing["build"]["passages_per_s"]
        r["raw_encode_passages_per_s"] = ing["raw_encode"]["passages_per_s"]
        r["ingest_ratio"] = ing["ratio"]
    if parts.get("http"):
        r["http_round_trip_p50_ms"] = parts["http"]["round_trip_ms"]["p50"]
    if parts.get("reader"):
        b = parts["reader"]["backends"]
        r["reader_p50_ms"] = b["onnx"]["p50_ms"]
        r["reader_torch_p50_ms"] = b["torch"]["p50_ms"]
        r["reader_f1_drop"] = parts["reader"]["f1_drop"]
    if parts.get("quality"):
        for mode in ("closed", "open", "closed_on_open_sample", "definitions_open"):
            q = parts["quality"].get(mode)
            if q:
                r[f"{mode}_em"] = round(q["em"], 2)
                r[f"{mode}_f1"] = round(q["f1"], 2)
                r[f"{mode}_n"] = q["n"]
    best = best_at_scale(scale, 1_000_000) if scale else None
    if best:
        r["scale_1m_best_index"] = best[0]
        r["scale_1m_p50_ms"] = best[1]["single_query"]["1"]["p50_ms"]
        r["scale_1m_recall@10"] = best[1]["recall@10"]
    r["goals"] = goals(r)
    return r


def best_at_scale(scale: dict[str, Any], n: int) -> tuple[str, dict[str, Any]] | None:
    size = scale.get("sizes", {}).get(str(n))
    if not size:
        return None
    ok = [(k, v) for k, v in size["indexes"].items() if v.get("meets_target")]
    return min(ok, key=lambda kv: kv[1]["single_query"]["1"]["p50_ms"]) if ok else None


def goals(r: dict[str, Any]) -> list[dict[str, Any]]:
    g: list[dict[str, Any]] = []

    def add(name: str, target: str, measured: str, ok: bool | None) -> None:
        g.append({"goal": name, "target": target, "measured": measured, "met": ok})

    if "reader_p50_ms" in r:
        add(
            "reader, 5 passages ≤ 128 word-pieces",
            f"p50 ≤ {GOALS['reader_p50_ms']:.0f} ms, F1 within {GOALS['reader_f1_drop']}",
            f"p50 {r['reader_p50_ms']} ms (torch fp32 {r['reader_torch_p50_ms']} ms), "
            f"F1 {-r['reader_f1_drop']:+.2f}",
            r["reader_p50_ms"] <= GOALS["reader_p50_ms"]
            and r["reader_f1_drop"] <= GOALS["reader_f1_drop"],
        )
    if "ask_p50_ms" in r:
        add(
            "warm ask, K=5",
            f"p50 ≤ {GOALS['ask_p50_ms']:.0f} ms, p95 ≤ {GOALS['ask_p95_ms']:.0f} ms",
            f"p50 {r['ask_p50_ms']} ms, p95 {r['ask_p95_ms']} ms",
            r["ask_p50_ms"] <= GOALS["ask_p50_ms"] and r["ask_p95_ms"] <= GOALS["ask_p95_ms"],
        )
    for kind in ("hybrid", "dense"):
        key = "haystack_latency_ratio" if kind == "hybrid" else "haystack_dense_latency_ratio"
        if r.get(key) is None:
            continue
        theirs = r.get(f"haystack_{kind}_f1") or 0
        add(
            f"vs Haystack ({kind}, same questions)",
            "≥ 3× faster at equal or better F1",
            f"{r[key]}× faster; F1 {r['open_f1_k5_sample']} vs {theirs} "
            f"({r['open_f1_k5_sample'] - theirs:+.2f})",
            r[key] >= GOALS["haystack_latency_ratio"] and r["open_f1_k5_sample"] >= theirs,
        )
    if "open_em" in r and "closed_on_open_sample_em" in r:
        gap = round(r["closed_on_open_sample_em"] - r["open_em"], 2)
        add(
            "open EM vs closed EM (same questions, both with the no-answer threshold)",
            f"gap ≤ {GOALS['open_em_gap']:.0f} points",
            f"open {r['open_em']} vs closed {r['closed_on_open_sample_em']} "
            f"(n={r['open_n']}): gap {gap}",
            gap <= GOALS["open_em_gap"],
        )
    if "cold_ask_local_s" in r:
        served = r.get("cold_ask_server_s")
        add(
            "cold `qa ask` (fresh process)",
            f"≤ {GOALS['cold_ask_s']} s",
            (f"{served} s handing off to a running `qa serve`; " if served is not None else "")
            + f"{r['cold_ask_local_s']} s with no server (`--local`) (medians)",
            served is not None and served <= GOALS["cold_ask_s"],
        )
    if "ingest_ratio" in r:
        add(
            "ingestion",
            "≥ 90% of raw encoder throughput",
            f"{100 * r['ingest_ratio']:.0f}% ({r['ingest_passages_per_s']} vs "
            f"{r['raw_encode_passages_per_s']} passages/s)",
            r["ingest_ratio"] >= GOALS["ingest_ratio"],
        )
    if "scale_1m_p50_ms" in r:
        add(
            "1M passages",
            "≤ 5 ms per query at recall@10 ≥ 0.95",
            f"{r['scale_1m_best_index']}: {r['scale_1m_p50_ms']} ms p50 (1 thread), "
            f"recall@10 {r['scale_1m_recall@10']}",
            r["scale_1m_p50_ms"] <= GOALS["scale_1m_ms"],
        )
    return g


def md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*out, ""]


def render(
    parts: dict[str, dict[str, Any] | None], summary: dict[str, Any], argv: list[str]
) -> str:
    m = machine()
    L: list[str] = [
        "# Benchmarks",
        "",
        f"Generated by `bench/run.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        "Every figure below was written by the scripts; re-run `make bench` to refresh them.",
        "",
        f"**Machine:** {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; Python "
        f"{m['python']}, torch {m['torch']} ({m['torch_threads']} threads), transformers "
        f"{m['transformers']}, onnxruntime {m.get('onnxruntime')}, faiss {m['faiss']}, numpy "
        f"{m['numpy']}; thread pools "
        f"{m['thread_pools']}; {m['os']}.",
        "",
        "**Commands:** `make bench` (= `bench/setup_haystack.sh && .venv/bin/python "
        "bench/run.py`); this report: `" + " ".join(["bench/run.py", *argv]) + "`. "
        "Sections alone: `bench/run.py --only SECTION`; the peer alone: "
        "`bench/.venv-haystack/bin/python bench/haystack_peer.py --help`; scale alone: "
        "`.venv/bin/python bench/scale.py --help`.",
        "",
        "Each section notes how much CPU other processes took while it ran; a **busy** "
        "figure is an upper bound, not the product's speed.",
        "",
        "## Goals",
        "",
    ]
    L += md_table(
        ["goal", "target", "measured", "verdict"],
        [[g["goal"], g["target"], g["measured"], verdict(g["met"])] for g in summary["goals"]],
    )

    q = parts.get("quality")
    L += ["## Quality: `qa eval` on the 32 evaluation articles of SQuAD v1.1 dev", ""]
    if q:
        rows = []
        for mode in ("closed", "closed_on_open_sample", "open", "definitions_open"):
            x = q.get(mode)
            if x:
                extra = (
                    f"reads the top {Settings().top_k} (qa's default K); passage recall R@1 "
                    f"{x['recall@1']:.1f}, R@3 {x['recall@3']:.1f}, R@5 {x['recall@5']:.1f}, "
                    f"R@10 {x['recall@10']:.1f}"
                    if mode.endswith("open")
                    else "gold paragraph"
                )
                name = mode.replace("_", " ")
                rows.append(
                    [
                        '"who is X?", open' if mode == "definitions_open" else name,
                        x["sample"],
                        f"{x['em']:.1f}",
                        f"{x['f1']:.1f}",
                        x["abstained"],
                        extra,
                        f"`{x['command']}`",
                    ]
                )
        L += md_table(["mode", "questions", "EM", "F1", "abstained", "input", "command"], rows)
        L += [state_note(q), ""]
    else:
        L += ["_not run_", ""]

    L += render_realdocs(parts.get("realdocs"))
    L += render_realdocs(parts.get("docheld"), "docheld")
    L += render_realdocs(parts.get("doctables"), "doctables")
    L += render_realdocs(parts.get("rstheld"), "rstheld")
    L += render_realdocs(parts.get("infoheld"), "infoheld")
    L += render_followups(parts.get("followups"))
    L += render_calibration(parts.get("calibration"))

    rd = parts.get("reader")
    L += ["## The reader alone: int8 ONNX Runtime vs torch fp32", ""]
    if rd:
        L += md_table(
            ["backend", "p50 ms", "p95 ms", "p50 of each run", "EM", "F1", "questions"],
            [
                [
                    name,
                    b["p50_ms"],
                    b["p95_ms"],
                    ", ".join(str(x) for x in b.get("p50_runs_ms", [])),
                    b["em"],
                    b["f1"],
                    b["n"],
                ]
                for name, b in rd["backends"].items()
            ],
        )
        L += [
            f"Latency: {rd['latency_setting']}. F1: {rd['f1_setting']}. F1 cost of int8: "
            f"{rd['f1_drop']} points.",
            "",
        ]
        if "definitions" in rd:
            d = rd["definitions"]
            L += [
                f'Questions asking who someone is ("Who is Ushakov?"; `{DEFINITIONS_NAME}`, '
                f"{d['n']} questions made by `scripts/make_definitions.py` from the evaluation "
                "articles; a hand check of 60 found 3 wrong gold answers), int8, closed, always "
                f"answering: EM {d['em']} / F1 {d['f1']}.",
                "",
            ]
        L += [
            state_note(rd),
            "",
        ]
    else:
        L += ["_not run_", ""]

    lat = parts.get("latency")
    L += ["## Latency: warm `engine.ask`, per stage", ""]
    if lat:
        L += [
            f"{lat['setting']}; {lat['passages']:,} passages; {lat['questions']} questions, "
            "each asked once after 5 warm-up questions. `wall` is the whole `engine.ask` "
            "call; the stages come from its `timings_ms`. ms.",
            "",
        ]
        rows = []
        for k, x in lat["k"].items():
            st = x["stages_ms"]
            rows.append(
                [
                    k,
                    f"{x['ask_wall_ms']['p50']} / {x['ask_wall_ms']['p95']}",
                    *(
                        f"{st[s]['p50']} / {st[s]['p95']}"
                        for s in ("encode", "retrieve", "read", "total")
                    ),
                    x["em"],
                    x["f1"],
                    x["abstained"],
                ]
            )
        L += md_table(
            ["K", "wall p50 / p95", "encode", "retrieve", "read", "total", "EM", "F1", "abstained"],
            rows,
        )
        L += [state_note(lat), ""]
    else:
        L += ["_not run_", ""]

    cold = parts.get("cold")
    L += ["## Cold `qa ask` (fresh process)", ""]
    if cold:
        rows = []
        for name, c in (
            ("hands off to a running `qa serve` (`--server`)", cold.get("server")),
            ("loads the index and models itself (`--local`)", cold),
        ):
            if c:
                rows.append(
                    [
                        name,
                        ", ".join(map(str, c["runs_s"])),
                        f"{c['median_s']} s",
                        f"{c['first_s']} s",
                        c["answer_ms_inside"]["p50"],
                    ]
                )
        L += md_table(
            ["path", "runs (s)", "median", "first", "answer time reported (ms p50)"], rows
        )
        L += [
            f"Index: {cold['index']}; {cold['note']}. Command: `{cold['command']}`. Without "
            "`--server`/`--local`, `qa ask` takes the server when one at `$QA_SERVER_URL` "
            "holds the same index, else loads locally.",
            "",
            state_note(cold),
            "",
        ]
    else:
        L += ["_not run_", ""]

    http = parts.get("http")
    L += ["## HTTP round trip through `qa serve` (127.0.0.1, one client)", ""]
    if http:
        L += md_table(
            [
                "K",
                "requests",
                "round trip p50 / p95 (ms)",
                "engine p50 / p95",
                "HTTP + JSON overhead p50",
            ],
            [
                [
                    http["k"],
                    http["round_trip_ms"]["n"],
                    f"{http['round_trip_ms']['p50']} / {http['round_trip_ms']['p95']}",
                    f"{http['engine_ms']['p50']} / {http['engine_ms']['p95']}",
                    f"{http['overhead_ms']['p50']} ms",
                ]
            ],
        )
        L += [f"Index: {http['index']}. Server: `{http['command']}`.", "", state_note(http), ""]
    else:
        L += ["_not run_", ""]

    load = parts.get("load")
    L += ["## Under load: concurrent clients at `/v1/ask` (`bench/load.py`)", ""]
    if load:
        L += md_table(
            [
                "clients",
                "requests",
                "200",
                "503",
                "other",
                "answered/s",
                "answered p50 / p95 / p99 (ms)",
                "server RSS MiB start → end (peak)",
                "writer's statuses",
            ],
            _load_rows(load),
        )
        L += [
            f"{load['plain']['seconds']:.0f} s each; clients wait as `Retry-After` says after a "
            "503 (the server's deliberate refusal when its queue is full or a slot does not "
            "come free in time). Index: "
            f"{load['index']}. Commands: `{load['plain']['command']}`, "
            f"`{load['writer']['command']}`.",
            "",
            state_note(load),
            "",
        ]
    else:
        L += ["_not run_", ""]

    ing = parts.get("ingest")
    L += ["## Ingestion: `Engine.build` vs raw `SentenceTransformer.encode`", ""]
    if ing:
        b, raw = ing["build"], ing["raw_encode"]
        rows = [
            [
                "Engine.in_memory (chunk + embed + FAISS + BM25; embedder backend "
                f"{ing.get('qa_embed_backend', 'torch')})",
                b["passages"],
                f"{b['total_s']} s",
                b["passages_per_s"],
            ],
            [
                f"raw SentenceTransformer.encode, same texts, batch {raw['batch_size']}"
                + (
                    " (mean of a run before and one after the build: "
                    + " / ".join(f"{x} s" for x in raw["seconds_before_and_after"])
                    + ")"
                    if "seconds_before_and_after" in raw
                    else ""
                ),
                raw["passages"],
                f"{raw['seconds']} s",
                raw["passages_per_s"],
            ],
        ]
        peer = parts.get("peer")
        if peer and "haystack" in peer:
            h = peer["haystack"]
            rows.append(
                [
                    "Haystack SentenceTransformersDocumentEmbedder, same passages",
                    h["passages"],
                    f"{h['embed_s']} s",
                    h["embed_passages_per_s"],
                ]
            )
        L += md_table(["what", "passages", "time", "passages/s"], rows)
        L += [
            f"{ing['corpus']}: {b['documents']:,} documents. Build stages: chunking "
            f"{b['chunk_s']} s, embedding {b['embed_s']} s, FAISS + BM25 "
            f"{b['store_and_bm25_s']} s. Ratio (build ÷ raw): **{ing['ratio']:.2f}**; "
            f"embedding stage alone ÷ raw: {ing['embed_only_ratio']:.2f}. Models loaded "
            "before the clocks start.",
            "",
            state_note(ing),
            "",
        ]
    else:
        L += ["_not run_", ""]

    peer = parts.get("peer")
    L += ["## The peer: Haystack 2.31 on the same models, passages, K and questions", ""]
    if peer and "pipelines" in peer:
        h = peer["haystack"]
        ours = peer["ours"]
        rows = [
            [
                "qa (dense + stemmed BM25, score interpolation)",
                f"{ours['latency_ms']['p50']} / {ours['latency_ms']['p95']}",
                "1.0",
                ours["em"],
                ours["f1"],
                f"abstained on {ours['abstained']}",
            ]
        ]
        names = {
            "dense": "Haystack dense (TextEmbedder → EmbeddingRetriever → ExtractiveReader)",
            "hybrid": "Haystack hybrid (+ BM25Retriever, DocumentJoiner RRF)",
        }
        for name, x in peer["pipelines"].items():
            rows.append(
                [
                    names.get(name, name),
                    f"{x['latency_ms']['p50']} / {x['latency_ms']['p95']}",
                    f"{peer.get('ratio_' + name)}",
                    x["em"],
                    x["f1"],
                    f"F1 {x['f1_if_no_answer_allowed']} if its no-answer may win",
                ]
            )
        L += md_table(["system", "p50 / p95 ms", "p50 ÷ qa's", "EM", "F1", "note"], rows)
        L += [
            f"{h['questions']} questions (the latency section's sample), {h['passages']:,} "
            f"passages exported from qa's chunker, K={h['k']}, reader "
            f"`{h['reader']['model']}` at max_seq_length {h['reader']['max_seq_length']}, "
            f"stride {h['reader']['stride']}, float32, torch threads {h['torch_threads']}; "
            f"hybrid retrievers propose {h['candidates']} each. Versions: "
            + ", ".join(f"{k} {v}" for k, v in h["versions"].items())
            + ". "
            + peer_caveats(h),
            "",
            f"Command: `{peer['command']}`",
            "",
            state_note(peer),
            "",
        ]
    else:
        L += [f"_{(peer or {}).get('skipped', 'not run')}_", ""]

    L += render_stores(parts.get("stores"))

    scale = parts.get("scale")
    L += ["## Scale: FAISS exact vs HNSW vs IVF (synthetic 384-d vectors)", ""]
    if scale:
        L += [
            f"{scale['data']}. Recall@10 against exact search over {k_queries(scale)} "
            f"queries; the knob is the smallest `nprobe`/`efSearch` reaching "
            f"recall@10 ≥ {scale['target_recall@10']}; latency: "
            f"{scale['single_query_timing']}. {scale['machine']}.",
            "",
        ]
        rows = []
        for n, size in scale["sizes"].items():
            for kind, x in size["indexes"].items():
                if "skipped" in x:
                    rows.append([f"{int(n):,}", kind, "—", "—", "—", "—", "—", "—", x["skipped"]])
                    continue
                sq = x["single_query"]
                built = f"{x['build_s']} s" + (" (cached build)" if x.get("from_cache") else "")
                if "others_cpu_share_during_build" in x:
                    built += f", others' CPU {100 * x['others_cpu_share_during_build']:.0f}%"
                else:
                    built += f", load avg {x['load_avg_at_build'][0]}"
                rows.append(
                    [
                        f"{int(n):,}",
                        kind,
                        built,
                        f"{x['bytes'] / 2**20:.0f} MiB ({x['bytes_per_vector']} B/vec)",
                        f"{x['knob']}={x['chosen']}"
                        if x["chosen"] is not None
                        else f"{x['knob']}={x['sweep'][-1]['value']} (the most tried)",
                        x["recall@10"],
                        " / ".join(f"{sq[t]['p50_ms']}" for t in sorted(sq)),
                        " / ".join(f"{sq[t]['p95_ms']}" for t in sorted(sq)),
                        "; ".join(
                            ([] if x["meets_target"] else ["**recall target not reached**"])
                            + (
                                [f"build timed on a busy machine ({x['built_at']})"]
                                if x.get("others_cpu_share_during_build", 1.0) > 0.1
                                else []
                            )
                        ),
                    ]
                )
        L += md_table(
            [
                "vectors",
                "index",
                "build (machine state)",
                "serialised size",
                "setting",
                "recall@10",
                "p50 ms (1 / 2 threads)",
                "p95 ms (1 / 2 threads)",
                "note",
            ],
            rows,
        )
        L += [
            "Derived from the figures: " + "; ".join(scale.get("recommendation", [])) + ".",
            "",
            f"Command: `{scale['command']}`",
            "",
            state_note(scale),
            "",
        ]
    else:
        L += ["_not run_", ""]
    return "\n".join(L) + "\n"


def render_realdocs(part: dict[str, Any] | None, name: str = "realdocs") -> list[str]:
    """A real-documents section (data/realdocs, docheld, doctables, rstheld or infoheld):
    bench/realdocs.py's table."""
    import realdocs  # bench/realdocs.py

    title = {
        "realdocs": "Real documents",
        "docheld": "More real documents, held out",
        "doctables": "Questions on tables, held out",
        "rstheld": "reStructuredText, held out",
        "infoheld": "GNU Info manuals, held out",
    }[name]
    kinds = {
        "rstheld": "READMEs, references, a changelog",
        "infoheld": "eight manuals from Debian packages",
    }.get(name, "PDF, DOCX, HTML, Markdown, text")
    L = [f"## {title}: {kinds} (`data/{name}`)", ""]
    if not part:
        return [*L, "_not run_", ""]
    return [*L, *realdocs.render(part), "", state_note(part), ""]


def render_stores(part: dict[str, Any] | None) -> list[str]:
    """The two stores side by side: its tables come from bench/stores.py."""
    import stores  # bench/stores.py

    L = ["## Stores: the local folder vs Milvus (milvus-lite, the embedded engine)", ""]
    if not part:
        return [*L, "_not run_", ""]
    return [*L, *stores.render(part, state_note)]


def render_calibration(part: dict[str, Any] | None) -> list[str]:
    """Answer confidence: its table and plots come from bench/calibration.py."""
    import calibration  # bench/calibration.py

    L = ["## Answer confidence: calibrated on tuning articles, measured on unseen sets", ""]
    if not part:
        return [*L, "_not run_", ""]
    return [*L, *calibration.render(part), "", state_note(part), ""]


def render_followups(part: dict[str, Any] | None) -> list[str]:
    """Chat follow-ups: the eval split read as the last turn alone, then by the kept rule."""
    L = ["## Chat follow-ups (`data/followups`)", ""]
    if not part:
        return [*L, "_not run_", ""]
    rows = []
    for name in ("before", "after"):
        res = part["eval"][name]
        for group, x in res["summary"].items():
            if x["n"]:
                rows.append([name, f"`{res['rule']}`", group, x["n"], x["em"], x["f1"]])
    tune = [
        [f"`{rule}`", x["summary"]["later turns"]["em"], x["summary"]["later turns"]["f1"]]
        for rule, x in part["tune"].items()
    ]
    single = part["single_turn"]
    return [
        *L,
        f"Eval split, k={part['k']}; before: {part['before']}; after: {part['after']}. "
        f"Index: {part['index']}.",
        "",
        *md_table(["", "rule", "turns", "n", "EM", "F1"], rows),
        "The rules tried on the tune split (later turns):",
        "",
        *md_table(["rule", "EM", "F1"], tune),
        f"Single turns: {single['identical_alone']}/{single['questions']} seed questions "
        f"answered identically through the chat path; "
        f"{single['identical_as_second_turn']}/{single['not_follow_ups']} non-follow-ups "
        "identically as a second turn.",
        "",
        f"`{part['command']}`, measured {part['measured_at']} ({part['wall_s']} s).",
        "",
    ]


def peer_caveats(h: dict[str, Any]) -> str:
    """What the installed ExtractiveReader does differently from qa's reader (from its source)."""
    notes = []
    if h.get("reader_passes_token_type_ids") is False:
        notes.append("feeds the model input_ids and attention_mask only (no token_type_ids)")
    if h.get("reader_limits_answer_length") is False:
        notes.append("has no maximum answer length (qa's reader caps spans at 30 tokens)")
    if not notes:
        return ""
    return (
        "The installed ExtractiveReader "
        + " and ".join(notes)
        + ": that is Haystack as shipped, measured as it comes."
    )


def k_queries(scale: dict[str, Any]) -> int:
    return next(iter(scale["sizes"].values()))["queries"]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small samples: a smoke run")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, help="run just these sections")
    ap.add_argument("--skip", nargs="+", choices=SECTIONS, default=[])
    ap.add_argument(
        "--render",
        action="store_true",
        help="only re-render from bench/parts (bench/out/parts-quick with --quick)",
    )
    ap.add_argument("--reader", type=Path, default=Settings().reader_dir)
    ap.add_argument("--data", type=Path, default=squad.DATA_DIR)
    ap.add_argument(
        "--questions", type=int, default=300, help="open-setting questions for latency and the peer"
    )
    ap.add_argument("--closed-limit", type=int, default=0, help="0: all 7,595")
    ap.add_argument(
        "--reader-limit", type=int, default=2000, help="reader section F1 sample (0: all)"
    )
    ap.add_argument("--open-limit", type=int, default=1500)
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--http-requests", type=int, default=100)
    ap.add_argument("--scale-sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument(
        "--scale-cache-min",
        type=int,
        default=1_000_000,
        help="reuse cached scale indexes of at least this size",
    )
    ap.add_argument("--md", type=Path, default=ROOT / "BENCHMARKS.md")
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "results.json")
    args = ap.parse_args(argv)
    if args.quick:
        args.questions = min(args.questions, 20)
        args.closed_limit = args.closed_limit or 50
        args.reader_limit = 50
        args.open_limit = min(args.open_limit, 30)
        args.cold_runs = min(args.cold_runs, 2)
        args.http_requests = min(args.http_requests, 10)
    args.reader = args.reader.resolve()
    global PARTS
    args.work = OUT / "quick" if args.quick else OUT  # large outputs (git-ignored)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.quick:  # a smoke run never overwrites the real report
        PARTS = OUT / "parts-quick"
        if args.md == ap.get_default("md"):
            args.md = OUT / "BENCHMARKS-quick.md"
        if args.results == ap.get_default("results"):
            args.results = OUT / "results-quick.json"

    if not args.render:
        todo = [s for s in SECTIONS if (not args.only or s in args.only) and s not in args.skip]
        needs_reader = set(todo) - {"scale", "ingest"}
        if needs_reader and not (args.reader / "model.safetensors").is_file():
            ap.error(f"no reader weights in {args.reader}; pass --reader DIR")
        PARTS.mkdir(parents=True, exist_ok=True)
        ctx = Context(args)
        for name in todo:
            print(f"\n== {name} ==", flush=True)
            part: dict[str, Any] = {}
            with machine_state(part):
                part |= RUNNERS[name](ctx)
            part["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
            part["quick"] = args.quick
            part["reader"] = str(args.reader)
            (PARTS / f"{name}.json").write_text(json.dumps(part, indent=2) + "\n")
            print(f"{name}: {part['machine_state']}", flush=True)

    parts = {s: load_part(s) for s in SECTIONS}
    summary = results_summary(parts)
    summary["measured_at"] = {s: p.get("measured_at") for s, p in parts.items() if p}
    summary["machine_quiet"] = {
        s: p["machine_state"]["quiet"] for s, p in parts.items() if p and "machine_state" in p
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({**summary, "sections": parts}, indent=2) + "\n")
    args.md.write_text(render(parts, summary, argv))
    print(f"\nwrote {args.md} and {args.results}")
    for g in summary["goals"]:
        print(f"  {verdict(g['met']):>10}  {g['goal']}: {g['measured']} (target {g['target']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
