"""The two stores side by side: the local folder (FAISS + bm25s) and Milvus (milvus-lite).

    .venv/bin/python bench/run.py --only stores   # both parts, into BENCHMARKS.md
    .venv/bin/python bench/stores.py squad [--questions 300]     # SQuAD v1.1 dev alone
    nice -n 10 .venv/bin/python bench/stores.py scale --n 1000000 --index FLAT
    .venv/bin/python bench/stores.py plot          # redraw docs/bench/stores.png

``squad``: all 2,067 paragraphs embedded once; the same passages and vectors written into a
folder store and into Milvus, then hybrid recall@1/5/10 of the gold paragraph, retrieval
and warm ``ask`` latency, the throughput of writing the precomputed vectors, and of a whole
``Engine.index`` (what ``qa index`` runs, embedding included) into each store.

``scale``: bench/scale.py's Gaussian-mixture vectors (384-d) inserted into milvus-lite in
batches (resumable: the database is the checkpoint), then recall@10 against exact search and
single-query latency over a sweep of the index's search knob. milvus-lite 2.5.1 accepts
FLAT, IVF_FLAT and AUTOINDEX only (it refuses HNSW); the run records which it refuses, what
describe_index says, and what the sweep shows was really searched.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SCALE_DIR = OUT / "stores-scale"
PLOT = ROOT / "docs" / "bench" / "stores.png"
K = 10
TARGET = 0.95
INSERT_BATCH = 500  # rows a milvus-lite insert: its cost per row grows with the batch past this
SWEEP = {"IVF_FLAT": [1, 2, 4, 8, 16, 32, 64, 128], "FLAT": [0], "AUTOINDEX": [16, 64, 128, 256]}


# -- pure helpers ------------------------------------------------------------------------
def recall_at_k(found: list[list[int]], truth: np.ndarray, k: int = K) -> float:
    """Mean share of each query's true top-``k`` ids among its returned ids."""
    if not len(truth):
        return float("nan")
    hits = sum(len(set(f[:k]) & set(t[:k].tolist())) for f, t in zip(found, truth, strict=True))
    return hits / (len(truth) * k)


def gold_recall(ranked: list[list[str]], gold: list[str], ks: tuple[int, ...]) -> dict[str, float]:
    """Percent of questions whose gold document is among the first k hits, for each k."""
    n = max(1, len(gold))
    return {
        f"recall@{k}": round(
            100 * sum(g in r[:k] for r, g in zip(ranked, gold, strict=True)) / n, 2
        )
        for k in ks
    }


def percentiles(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms, dtype=float)
    if not a.size:
        return {"p50": float("nan"), "p95": float("nan"), "n": 0}
    return {
        "p50": round(float(np.percentile(a, 50)), 2),
        "p95": round(float(np.percentile(a, 95)), 2),
        "n": int(a.size),
    }


def smallest_meeting(sweep: list[dict[str, Any]], target: float = TARGET) -> dict[str, Any] | None:
    """The first sweep row (knob ascending) whose recall@10 reaches ``target``."""
    return next((row for row in sweep if row["recall@10"] >= target), None)


def client(path: Path) -> Any:
    """A milvus-lite client (its embedded server starts here), warnings quietened."""
    logging.getLogger("pymilvus").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pymilvus import MilvusClient

        path.parent.mkdir(parents=True, exist_ok=True)
        return MilvusClient(str(path))


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {p: version(p) for p in ("milvus-lite", "pymilvus")}


# -- squad: the same passages and questions in both stores -------------------------------
def squad_engines(work: Path, built: Any, reader_dir: Path | None) -> dict[str, Any]:
    """``built``'s passages and vectors written into a folder and into milvus-lite (timed,
    nothing embedded again), then an engine opened on each (timed), sharing the models."""
    from dataclasses import replace

    from qa.engine import Engine
    from qa.index.backend import FolderLocation, copy_into
    from qa.index.milvus import MilvusLocation
    from qa.index.store import Store

    src = built.store
    base = replace(built.settings, reader_dir=reader_dir)
    uri = f"file://{work / 'squad.db'}?collection=squad"
    locations = {"folder": FolderLocation(work / "folder"), "milvus": MilvusLocation.parse(uri)}
    locations["milvus"].client  # noqa: B018 -- milvus-lite's server starts outside the clock
    settings = {
        "folder": replace(base, index_dir=work / "folder"),
        "milvus": replace(base, store=uri),
    }
    out: dict[str, Any] = {"passages": len(src), "documents": len(src.documents), "store": {}}
    engines = {}
    for name, loc in locations.items():
        t0 = time.perf_counter()
        store = copy_into(src, Store(src.spec) if name == "folder" else loc.new(src.spec))
        t1 = time.perf_counter()
        loc.save(store)
        t2 = time.perf_counter()
        eng = Engine(settings[name], encoder=built.encoder, reader=built.reader)
        assert len(eng.store) == len(src), f"{name} reopened with {len(eng.store)} passages"
        t3 = time.perf_counter()
        engines[name] = eng
        out["store"][name] = {
            "write_s": round(t2 - t0, 2),
            "add_s": round(t1 - t0, 2),
            "save_s": round(t2 - t1, 2),
            "write_passages_per_s": round(len(src) / (t2 - t0), 1),
            "open_s": round(t3 - t2, 2),
        }
    out["uri"] = uri.replace(str(ROOT) + "/", "")
    return out | {"engines": engines}


def squad_retrieval(engines: dict[str, Any], questions: list[Any]) -> dict[str, Any]:
    """Recall of the gold paragraph and retrieval latency, question by question, the stores
    taking turns (the machine's drift falls on both); one query vector per text, shared."""
    from qa.core.types import Document

    gold = [Document.from_text(e.context, "", "").id for e in questions]
    enc = next(iter(engines.values())).encoder
    vec: dict[str, np.ndarray] = {}
    ranked: dict[str, list[list[str]]] = {n: [] for n in engines}
    ids: dict[str, list[list[str]]] = {n: [] for n in engines}
    ms: dict[str, list[float]] = {n: [] for n in engines}
    for e in questions:
        for name, eng in engines.items():
            r = eng._snapshot().retriever
            t = time.perf_counter()
            rq = r.query_for(e.question)
            if rq not in vec:  # encoded outside the clock, once for both stores
                t_enc = time.perf_counter()
                vec[rq] = enc.encode([rq])[0]
                t += time.perf_counter() - t_enc
            hits = r.retrieve(rq, 10, query_vector=vec[rq])
            ms[name].append((time.perf_counter() - t) * 1000)
            ranked[name].append([h.passage.doc_id for h in hits])
            ids[name].append([h.passage.id for h in hits])
    a, b = list(engines)
    same = sum(x == y for x, y in zip(ids[a], ids[b], strict=True))
    return {
        "recall": {n: gold_recall(ranked[n], gold, (1, 5, 10)) for n in engines},
        "retrieve_ms": {n: percentiles(ms[n]) for n in engines},
        "same_top10": same,
    }


def squad_asks(engines: dict[str, Any], questions: list[Any], k: int = 5) -> dict[str, Any]:
    """Warm ``engine.ask`` wall time per store (taking turns), and whether answers agree."""
    for e in questions[:5]:  # warm-up, not counted
        for eng in engines.values():
            eng.ask(e.question, k)
    wall: dict[str, list[float]] = {n: [] for n in engines}
    stage: dict[str, list[float]] = {n: [] for n in engines}
    answers: dict[str, list[str | None]] = {n: [] for n in engines}
    for e in questions:
        for name, eng in engines.items():
            t = time.perf_counter()
            resp = eng.ask(e.question, k)
            wall[name].append((time.perf_counter() - t) * 1000)
            stage[name].append(float(resp.timings_ms["retrieve"]))
            answers[name].append(resp.answer.text if resp.answer else None)
    a, b = list(engines)
    return {
        "k": k,
        "ask_ms": {n: percentiles(wall[n]) for n in engines},
        "retrieve_stage_ms": {n: percentiles(stage[n]) for n in engines},
        "same_answer": sum(x == y for x, y in zip(answers[a], answers[b], strict=True)),
    }


def squad_index(work: Path, docs: list[Any], built: Any) -> dict[str, Any]:
    """``Engine.index`` (what ``qa index`` runs: read, chunk, embed, write) of the
    paragraphs as text files into a fresh folder and a fresh milvus-lite collection."""
    from dataclasses import replace

    from qa.engine import Engine

    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for i, d in enumerate(docs):
        (corpus / f"{i:04d}.txt").write_text(d.text, encoding="utf-8")
    uri = f"file://{work / 'index.db'}?collection=indexed"
    targets = {
        "folder": replace(built.settings, index_dir=work / "index-folder"),
        "milvus": replace(built.settings, store=uri),
    }
    out = {}
    for name, s in targets.items():
        eng = Engine(s, encoder=built.encoder, reader=built.reader)
        eng.location.check()
        if name == "milvus":
            eng.location.client  # noqa: B018 -- the server starts outside the clock
        t = time.perf_counter()
        res = eng.index([corpus])
        sec = time.perf_counter() - t
        n = len(res.store)
        out[name] = {"passages": n, "seconds": round(sec, 2), "passages_per_s": round(n / sec, 1)}
    return out


def squad_run(
    questions: list[Any], reader_dir: Path | None, built: Any, work: Path
) -> dict[str, Any]:
    """Every SQuAD figure of both stores; ``built`` is an in-memory engine over all the
    paragraphs (embedded once), with the reader and encoder both stores share."""
    import shutil

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    made = squad_engines(work, built, reader_dir)
    engines = made.pop("engines")
    out = made | {"questions": len(questions), "question_ids": [e.id for e in questions]}
    out["retrieval"] = squad_retrieval(engines, questions)
    out["ask"] = squad_asks(engines, questions)
    out["index"] = squad_index(work, list(built.store.documents.values()), built)
    out["versions"] = versions()
    return out


# -- scale: synthetic vectors in milvus-lite ---------------------------------------------
def index_params(kind: str, n: int) -> dict[str, Any]:
    from scale import nlist_for  # bench/scale.py

    return {"nlist": nlist_for(n)} if kind == "IVF_FLAT" else {}


def ensure_collection(c: Any, name: str, kind: str, n: int) -> None:
    if c.has_collection(name):
        return
    from pymilvus import DataType

    s = c.create_schema(auto_id=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("v", DataType.FLOAT_VECTOR, dim=384)
    ip = c.prepare_index_params()
    ip.add_index("v", index_type=kind, metric_type="IP", params=index_params(kind, n))
    c.create_collection(name, schema=s, index_params=ip, consistency_level="Strong")


def probe_index_types(c: Any) -> dict[str, str]:
    """Which vector index types the server accepts: "accepted", or its refusal."""
    out = {}
    for kind in ("FLAT", "IVF_FLAT", "AUTOINDEX", "HNSW", "IVF_PQ", "DISKANN"):
        try:
            ensure_collection(c, "probe", kind, 1000)
            out[kind] = "accepted"
        except Exception as e:  # the server's own words
            out[kind] = str(getattr(e, "message", e)).split(",")[0].strip()[:120]
        if c.has_collection("probe"):
            c.drop_collection("probe")
    return out


def count(c: Any, name: str) -> int:
    return int(c.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"])


def insert_all(
    c: Any, name: str, data: np.ndarray, progress: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    """Insert the rows not yet in ``name`` (ids are row numbers, batches go in order and
    each commits whole, so the row count is where to resume); times kept in ``progress``."""
    state = json.loads(progress.read_text()) if progress.exists() else {"seconds": 0.0, "runs": []}
    start = count(c, name)
    run = {"from": start, "at": time.strftime("%H:%M:%S"), "load_avg": os.getloadavg()[0]}
    t0 = last = time.perf_counter()
    for i in range(start, len(data), INSERT_BATCH):
        chunk = data[i : i + INSERT_BATCH]
        c.insert(name, [{"id": i + j, "v": v} for j, v in enumerate(chunk)])
        done = i + len(chunk)
        if done % 50_000 < INSERT_BATCH or done == len(data):
            now = time.perf_counter()
            state["seconds"] += now - last
            last = now
            run |= {"to": done, "seconds": round(now - t0, 1)}
            state["runs"] = [r for r in state["runs"] if r["from"] != start] + [run]
            progress.write_text(json.dumps(state, indent=1))
            log(f"  {done:,} rows, {done - start:,} this run in {now - t0:.0f} s")
    state["rows"] = count(c, name)
    progress.write_text(json.dumps(state, indent=1))
    return state


def timed_searches(
    c: Any, name: str, qs: np.ndarray, params: dict[str, Any]
) -> tuple[list[list[int]], list[float]]:
    sp = {"metric_type": "IP", "params": params}
    for q in qs[:3]:  # warm-up
        c.search(name, data=[q.tolist()], anns_field="v", limit=K, search_params=sp)
    found, ms = [], []
    for q in qs:
        t = time.perf_counter()
        hits = c.search(name, data=[q.tolist()], anns_field="v", limit=K, search_params=sp)
        ms.append((time.perf_counter() - t) * 1000)
        found.append([h["id"] for h in hits[0]])
    return found, ms


def scale_run(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    """One size, one index kind: insert (resuming), describe, sweep, time."""
    import faiss
    from scale import mixture, queries  # bench/scale.py

    n, kind = args.n, args.index
    clusters = max(100, n // 500)  # as bench/scale.py's run_size
    t = time.perf_counter()
    data = mixture(n, clusters)
    qs = queries(data, args.queries)
    exact = faiss.IndexFlatIP(data.shape[1])
    exact.add(data)
    _, truth = exact.search(qs, K)
    del exact
    log(f"n={n:,}: data and exact top-{K} in {time.perf_counter() - t:.0f} s")
    db = args.dir / f"scale-{n}-{kind.lower()}.db"
    t = time.perf_counter()
    c = client(db)
    name = f"v{n}_{kind.lower()}"
    ensure_collection(c, name, kind, n)
    rows = count(c, name)  # the first request: the server has read its rows back
    open_s = time.perf_counter() - t
    log(f"opened {db.name} ({rows:,} rows) in {open_s:.1f} s")
    types = probe_index_types(c)
    state = insert_all(c, name, data, db.with_suffix(".progress.json"), log)
    desc = c.describe_index(name, "v")
    out: dict[str, Any] = {
        "n": n,
        "index": kind,
        "index_params": index_params(kind, n),
        "describe_index": desc,
        "rows": state["rows"],
        "insert_s": round(state["seconds"], 1),
        "insert_per_s": round(state["rows"] / max(state["seconds"], 1e-9), 1),
        "insert_runs": state["runs"],
        "insert_batch": INSERT_BATCH,
        "open_s_this_run": round(open_s, 1),
        "rows_at_open": rows,
        "queries": len(qs),
        "index_types": types,
        "sweep": [],
    }
    for v in SWEEP[kind]:
        params = {} if kind == "FLAT" else {"nprobe": v} if kind == "IVF_FLAT" else {"ef": v}
        found, ms = timed_searches(c, name, qs, params)
        row = {"params": params, "recall@10": round(recall_at_k(found, truth), 4)}
        out["sweep"].append(row | {"single_query_ms": percentiles(ms)})
        log(f"  {params}: recall@10 {row['recall@10']}, {percentiles(ms)}")
        if row["recall@10"] >= 0.999:
            break  # exact: larger knobs only cost time
    out["chosen"] = smallest_meeting(out["sweep"])
    return out


def scale_main(args: argparse.Namespace) -> int:
    from run import machine_state  # bench/run.py

    def log(msg: str) -> None:
        print(time.strftime("%H:%M:%S ") + msg, flush=True)

    args.dir.mkdir(parents=True, exist_ok=True)
    rec: dict[str, Any] = {}
    with machine_state(rec):
        rec |= scale_run(args, log)
    rec["versions"] = versions()
    rec["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    dest = args.out or args.dir / f"scale-{args.n}-{args.index.lower()}.json"
    dest.write_text(json.dumps(rec, indent=2) + "\n")
    log(f"wrote {dest}")
    return 0


# -- bench/run.py's section ---------------------------------------------------------------
def section(ctx: Any, run_cmd: Callable[..., Any], shown: Callable[[list[str]], str]) -> dict:
    """bench/run.py --only stores: SQuAD in process (the Context's engine, embedded once);
    the synthetic runs as commands, whose results are reused when already on disk (the
    1M insert takes long: its database resumes, its JSON is the cache)."""
    from run import machine_state  # bench/run.py

    quick = ctx.args.quick
    squad: dict[str, Any] = {}
    with machine_state(squad):
        squad |= squad_run(ctx.questions(), ctx.args.reader, ctx.engine(), OUT / "stores")
    squad["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    n = 20_000 if quick else 1_000_000
    scale: dict[str, Any] = {"milvus": [], "faiss": {}, "commands": []}
    for kind in ("FLAT", "IVF_FLAT"):
        dest = SCALE_DIR / f"scale-{n}-{kind.lower()}.json"
        cmd = [sys.executable, "bench/stores.py", "scale", "--n", str(n), "--index", kind]
        if not dest.exists():
            run_cmd(cmd, timeout=4 * 3600)
        scale["milvus"].append(json.loads(dest.read_text()))
        scale["commands"].append("nice -n 10 " + shown(cmd))
    dest = SCALE_DIR / f"faiss-{n}.json"
    cmd = [sys.executable, "bench/scale.py", "--sizes", str(n), "--kinds", "flat", "hnsw"]
    cmd += ["--queries", "300", "--out", str(dest), "--cache", str(OUT / "scale-cache")]
    if not dest.exists():
        run_cmd(cmd, timeout=4 * 3600)
    faiss = json.loads(dest.read_text())
    scale["faiss"] = faiss["sizes"][str(n)]["indexes"]
    scale["faiss_machine"] = faiss["machine"]
    scale["commands"].append(shown(cmd))
    part = {"squad": squad, "scale": scale, "command": shown([sys.executable, "bench/stores.py"])}
    part["commit"] = run_cmd(["git", "rev-parse", "HEAD"]).stdout.strip()  # the code measured
    if not quick:
        plot(part, PLOT)
    return part


def plot(part: dict[str, Any], path: Path) -> None:
    """Two panels: SQuAD latency per store; one-query latency at scale, log axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sq, sc = part["squad"], part["scale"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    names = list(sq["store"])
    xs = np.arange(2)
    for i, n in enumerate(names):
        r, k = sq["retrieval"]["retrieve_ms"][n], sq["ask"]["ask_ms"][n]
        vals, errs = [r["p50"], k["p50"]], [r["p95"] - r["p50"], k["p95"] - k["p50"]]
        a.bar(xs + (i - 0.5) * 0.38, vals, 0.38, yerr=[[0, 0], errs], capsize=4, label=NAMES[n])
        for x, v in zip(xs + (i - 0.5) * 0.38, vals, strict=True):
            a.text(x, v, f"{v:g}", ha="center", va="top", fontsize=8)
    a.set_xticks(xs, ["retrieve (hybrid, top 10)", f"ask K={sq['ask']['k']} (warm)"])
    a.set_yscale("log")
    a.set_ylabel("ms, log: p50 bar, p95 whisker")
    a.set_title(f"SQuAD v1.1 dev, {sq['passages']:,} passages, {sq['questions']} questions")
    a.legend(fontsize=8)
    bars = []
    for m in sc.get("milvus", []):
        c = m.get("chosen") or m["sweep"][0]
        bars.append((f"milvus-lite\n{m['index']} ({m['n'] // 1000:,}k)", c, "C1"))
    for kind, x in (sc.get("faiss") or {}).items():
        t = x["single_query"]["1"]
        row = {"recall@10": x["recall@10"], "single_query_ms": {"p50": t["p50_ms"]}}
        bars.append((f"FAISS {kind}\nin process ({x['params']['n'] // 1000:,}k)", row, "C0"))
    b.bar(
        range(len(bars)),
        [r["single_query_ms"]["p50"] for _, r, _ in bars],
        color=[c for *_, c in bars],
    )
    for i, (_, r, _) in enumerate(bars):
        b.text(
            i,
            r["single_query_ms"]["p50"],
            f"R@10 {r['recall@10']}",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    b.set_xticks(range(len(bars)), [lbl for lbl, *_ in bars], fontsize=8)
    b.set_yscale("log")
    b.set_ylim(bottom=0.5 * min(r["single_query_ms"]["p50"] for _, r, _ in bars))
    b.set_ylabel("one query, p50 ms (log)")
    b.set_title("synthetic 384-d vectors, top 10")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- report ------------------------------------------------------------------------------
NAMES = {"folder": "local folder (FAISS flat + bm25s)", "milvus": "Milvus (milvus-lite 2.5.1)"}


def render_squad(sq: dict[str, Any]) -> list[str]:
    """The SQuAD table: one row a store."""
    r, a, ix = sq["retrieval"], sq["ask"], sq["index"]
    rows = []
    for n in sq["store"]:
        rec, st = r["recall"][n], sq["store"][n]
        lat, ask = r["retrieve_ms"][n], a["ask_ms"][n]
        rows.append(
            [
                NAMES.get(n, n),
                f"{rec['recall@1']:.1f} / {rec['recall@5']:.1f} / {rec['recall@10']:.1f}",
                f"{lat['p50']} / {lat['p95']}",
                f"{ask['p50']} / {ask['p95']}",
                f"{st['write_passages_per_s']:,.0f} ({st['write_s']} s)",
                f"{ix[n]['passages_per_s']} ({ix[n]['seconds']} s)",
                f"{st['open_s']} s",
            ]
        )
    head = [
        "store",
        "R@1 / R@5 / R@10 (%)",
        "retrieve p50 / p95 ms",
        f"ask K={a['k']} p50 / p95 ms",
    ]
    head += ["write precomputed vectors, passages/s", "Engine.index incl. embedding, passages/s"]
    return [
        *_table([*head, "open"], rows),
        f"{sq['documents']:,} paragraphs of SQuAD v1.1 dev, {sq['passages']:,} passages embedded "
        f"once and written into both stores; {sq['questions']} questions (the latency "
        "section's seed-0 sample). Recall: the gold paragraph among the hybrid top k (the "
        "retrieval path `qa ask` uses, query vector given). `retrieve`: query expansion, "
        "candidates from the store, fusion — the part that differs; `ask`: warm "
        "`engine.ask`, embedding and reading included. The stores take turns question by "
        f"question. The same top-10 passages in {r['same_top10']}/{sq['questions']} "
        f"questions; the same answer in {a['same_answer']}/{sq['questions']}. `write`: "
        "`copy_into` + save (folder: FAISS add + atomic generation; Milvus: insert + flush); "
        f"`Engine.index`: {ix['folder']['passages']:,} passages from text files (read, chunk, "
        f"embed, write), models loaded first. Milvus URI: `{sq['uri']}`.",
        "",
    ]


def render_scale(sc: dict[str, Any]) -> list[str]:
    """The synthetic-vectors table: milvus-lite's runs, FAISS's in-process figures beside."""
    rows = []
    for m in sc.get("milvus", []):
        c = m.get("chosen") or m["sweep"][0]
        d, knobs = m["describe_index"], [r["params"] for r in m["sweep"]]
        tried = ", ".join(str(v) for k in knobs for v in k.values())
        rows.append(
            [
                f"milvus-lite {_asked(m)}",
                f"{m['rows']:,}",
                f"{m['insert_per_s']:,.0f}/s ({m['insert_s']:.0f} s, batches of "
                f"{m['insert_batch']})",
                f"none of its own: describe_index says {d.get('index_type')}, "
                f"indexed_rows {d.get('indexed_rows')}",
                ", ".join(f"{k}={v}" for k, v in c["params"].items()) or "-",
                c["recall@10"],
                f"{c['single_query_ms']['p50']} / {c['single_query_ms']['p95']}",
                "" if m.get("chosen") else f"recall@10 ≥ {TARGET} not reached ({tried} tried)",
            ]
        )
    for kind, x in (sc.get("faiss") or {}).items():
        t, prm = x["single_query"]["1"], x.get("params", {})
        built = f"{x['build_s']} s on {x['build_threads']} threads" + (
            " (cached)" if x.get("from_cache") else ""
        )
        rows.append(
            [
                f"FAISS {kind} in process (bench/scale.py)"
                + (f" M={prm['M']}, efConstruction={prm['efConstruction']}" if "M" in prm else ""),
                f"{prm['n']:,}",
                "-",
                built + f", others' CPU {100 * x.get('others_cpu_share_during_build', 0):.0f}%",
                f"{x['knob']}={x['chosen']}" if x["knob"] != "-" else "-",
                x["recall@10"],
                f"{t['p50_ms']} / {t['p95_ms']}",
                "1 search thread" + ("" if x.get("meets_target") else "; target not reached"),
            ]
        )
    head = ["engine and index", "vectors", "insert", "index build", "setting", "recall@10"]
    return _table([*head, "1 query p50 / p95 ms", "note"], rows)


def render(part: dict[str, Any], state_note: Callable[[Any], str]) -> list[str]:
    """The stores section of BENCHMARKS.md (``state_note`` is bench/run.py's)."""
    sq, sc = part["squad"], part["scale"]
    L = [
        "**The first two tables' Milvus figures come from milvus-lite 2.5.1, the Milvus engine "
        "embedded beside the process (one growing segment, gRPC over a local socket), not "
        "from a Milvus server or cluster**: they show that the same `qa` runs on Milvus with "
        "the same answers, and what the embedded engine costs. The last table is a Milvus "
        "standalone server (2.3.5) on this machine, vectors only: HNSW at 1M. "
        f"The code measured: commit `{part.get('commit', '?')[:7]}`.",
        "",
        "### SQuAD v1.1 dev: the same passages, vectors and questions in both stores",
        "",
        *render_squad(sq),
        state_note(sq),
        "",
        "### Synthetic 384-d vectors (bench/scale.py's mixture): Milvus vs FAISS in process",
        "",
        *render_scale(sc),
        *render_lite(sc),
        *([f"![stores](docs/bench/{PLOT.name})", ""] if PLOT.exists() else []),
        *render_server(),
        "Commands: `.venv/bin/python bench/run.py --only stores` (SQuAD in process, alone "
        "`bench/stores.py squad`; the synthetic runs' results are reused from "
        "`bench/out/stores-scale/` when there, else run as "
        + ", ".join(f"`{_venv(c)}`" for c in sc["commands"])
        + ").",
        "",
    ]
    for m in sc.get("milvus", []):
        L += [f"milvus-lite {m['index']} at {m['n']:,}: " + state_note(m), ""]
    return L


SERVER = ROOT / "bench" / "out" / "milvus-server-1m.json"  # bench/milvus_server.py's record


def render_server(path: Path = SERVER) -> list[str]:
    """Milvus HNSW at 1M on a standalone server (bench/milvus_server.py), when measured."""
    if not path.exists():
        return []
    x = json.loads(path.read_text())
    ix, ins, ans = x["index"], x["insert"], x["answer"]
    prm = ", ".join(f"{k}={v}" for k, v in ix["params"].items())
    rows = [[r["ef"], r["recall@10"], f"{r['p50_ms']} / {r['p95_ms']}"] for r in x["sweep"]]
    return [
        f"### Milvus server at {x['n']:,} vectors: {ix['index_type']} ({prm})",
        "",
        *_table(["ef", "recall@10", "1 query p50 / p95 ms"], rows),
        f"{x['what']}, server {x['server_version']}, client {x['client']}, measured "
        f"{x['date']}; data: {x['data']}, {x['queries']} queries, top {x['k']}, {x['search']}. "
        f"Insert {ins['vectors_per_s']:,} vectors/s (batches of {ins['batch']:,}); index "
        f"build {ix['build_s']:.0f} s (load average {ix['load_avg_before_after'][0][0]} → "
        f"{ix['load_avg_before_after'][1][0]}: the machine was shared then). The smallest ef "
        f"with recall@10 ≥ {x['target_recall@10']}: ef={ans['ef']}, recall@10 "
        f"{ans['recall@10']}, p50 {ans['p50_ms']} ms. Searches timed with load average "
        f"{x['load_load_avg_before_after'][0][0]}–{x['load_load_avg_before_after'][1][0]}. "
        "This server version predates Milvus's BM25 functions, so it measures the vector "
        "index only, not `qa`'s store; command: `bench/milvus_server.py` (its docstring).",
        "",
    ]


def render_lite(sc: dict[str, Any]) -> list[str]:
    """What milvus-lite builds and refuses, and what it searched, from the runs' records."""
    L = []
    for m in [m for m in sc.get("milvus", []) if m.get("index_types")][:1]:
        ok = [t for t, v in m["index_types"].items() if v == "accepted"]
        no = [f"{t} (`{v}`)" for t, v in m["index_types"].items() if v != "accepted"]
        L += [
            f"milvus-lite accepts {', '.join(ok)} for a float vector field; it refuses "
            + "; ".join(no)
            + ".",
            "",
        ]
        if "HNSW" not in ok:
            L += [
                "So the goal of Milvus HNSW at 1M vectors (recall@10 ≥ 0.95 at p50 ≤ 10 ms) "
                "cannot be measured on milvus-lite: it needs a Milvus server (`deploy/`). "
                "FAISS's HNSW in process, on the same vectors, is in the table above.",
                "",
            ]
    for m in sc.get("milvus", []):
        sweep = "; ".join(
            f"{', '.join(f'{k}={v}' for k, v in r['params'].items()) or 'no knob'}: recall@10 "
            f"{r['recall@10']}, p50 {r['single_query_ms']['p50']} ms"
            for r in m["sweep"]
        )
        L += [
            f"Asked for {_asked(m)} over {m['rows']:,} vectors"
            + (
                f" (the server read them back from its file in {m['open_s_this_run']} s on opening)"
                if m.get("rows_at_open")
                else ""
            )
            + f": {sweep} — {exactness(m)}",
            "",
        ]
    return L


def exactness(m: dict[str, Any]) -> str:
    """What the sweep says about the index milvus-lite really searched."""
    recalls = {r["recall@10"] for r in m["sweep"]}
    if min(recalls) >= 0.999:
        return (
            "exact at every setting: no approximate index is searched"
            + (", whatever the knob says" if m["sweep"][0]["params"] else "")
            + "."
        )
    if len(recalls) == 1 and len(m["sweep"]) > 1:
        return (
            "approximate, and the same at every setting: the knob is ignored. What is "
            "searched is the interim index Milvus's segcore builds on a growing segment "
            "(by its source: IVF_FLAT_CC, 100 lists per 32,768-row chunk, nprobe 4, "
            "defaults milvus-lite leaves as they are), not the index asked for."
        )
    return "approximate: recall follows the knob, an index is searched."


def _asked(m: dict[str, Any]) -> str:
    """The index a run asked for, with its parameters."""
    return " ".join([m["index"], *(f"{k}={v}" for k, v in m["index_params"].items())])


def _venv(command: str) -> str:
    """A command with the interpreter as a person types it from the repository root."""
    return re.sub(r"\S*/\.venv/bin/python", ".venv/bin/python", command)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return [*out, *("| " + " | ".join(str(c) for c in r) + " |" for r in rows), ""]


def squad_main(args: argparse.Namespace) -> int:
    """The SQuAD comparison alone (bench/run.py --only stores runs it with the scale part)."""
    from retrieval import paragraphs  # bench/retrieval.py
    from run import machine_state  # bench/run.py

    from qa.core.config import Settings
    from qa.engine import Engine
    from qa.index.embed import SentenceEncoder
    from qa.read.reader import NeuralReader
    from qa.train.evaluate import select

    data = args.data / "squad-v1.1-dev.json"
    settings = Settings(index_dir=OUT / "unused-index", reader_dir=args.reader)
    encoder = SentenceEncoder().load()
    built = Engine.in_memory(
        paragraphs(data), settings, encoder=encoder, reader=NeuralReader(args.reader)
    )
    rec: dict[str, Any] = {}
    with machine_state(rec):
        rec |= squad_run(select(data, limit=args.questions), args.reader, built, args.work)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rec, indent=2) + "\n")
    print("\n".join(render_squad(rec)))
    return 0


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sc = sub.add_parser("scale", help="synthetic vectors in milvus-lite")
    sc.add_argument("--n", type=int, default=1_000_000)
    sc.add_argument("--index", default="IVF_FLAT", choices=sorted(SWEEP))
    sc.add_argument("--queries", type=int, default=300, help="single-query searches per setting")
    sc.add_argument("--dir", type=Path, default=SCALE_DIR, help="databases, progress, results")
    sc.add_argument("--out", type=Path, default=None)
    sq = sub.add_parser("squad", help="SQuAD v1.1 dev paragraphs and questions, both stores")
    sq.add_argument("--questions", type=int, default=300, help="seed-0 sample, as bench/run.py")
    sq.add_argument("--data", type=Path, default=None, help="folder of squad-v1.1-dev.json")
    sq.add_argument("--reader", type=Path, default=None, help="reader folder (default qa's)")
    sq.add_argument("--work", type=Path, default=OUT / "stores", help="stores written here")
    sq.add_argument("--out", type=Path, default=OUT / "stores" / "squad.json")
    pl = sub.add_parser("plot", help=f"redraw {PLOT.relative_to(ROOT)} from bench/parts")
    pl.add_argument("--part", type=Path, default=ROOT / "bench" / "parts" / "stores.json")
    args = ap.parse_args(argv)
    if args.cmd == "scale":
        return scale_main(args)
    if args.cmd == "plot":
        plot(json.loads(args.part.read_text()), PLOT)
        return 0
    from qa.core.config import Settings
    from qa.train import squad

    args.reader = args.reader or Settings().reader_dir
    args.data = args.data or squad.DATA_DIR
    return squad_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
