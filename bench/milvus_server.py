"""Milvus HNSW at scale on a real Milvus standalone server (not milvus-lite).

milvus-lite (what qa uses) rejects HNSW, so this measures it on the full server: the
``milvus`` PyPI package ("embedded Milvus", 2.3.5 measured here) ships the Milvus
standalone binary. Install it in its OWN venv, never qa's, and run the server from it:

    python3.11 -m venv /work/scratch/milvus-server/venv
    /work/scratch/milvus-server/venv/bin/pip install milvus==2.3.5
    nohup /work/scratch/milvus-server/venv/bin/python bench/milvus_server.py serve \\
        --base-dir /work/scratch/milvus-server/data --port 19530 > serve.log 2>&1 &

then run the benchmark with qa's venv (numpy, faiss, pymilvus; it imports bench/scale.py):

    nice -n 10 .venv/bin/python bench/milvus_server.py bench --n 1000000 \\
        --work /work/scratch/milvus-server/work [--port 19530]

Data: bench/scale.py's 384-d Gaussian mixture and queries (same seed), so the figures
line up with FAISS's and milvus-lite's. One collection, an IP HNSW index (M,
efConstruction stated in the JSON); inserted in batches (vectors/s), flushed, indexed
(build time), loaded; then ``ef`` is swept with one query per ``search()`` call: recall@10
against exact search (faiss.knn) and latency p50/p95. The machine's load average is
recorded with every timing. Resumable: the insert is skipped when the collection already
holds n rows, the build when the index is finished; ``--work`` keeps the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DIM = 384
K = 10


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# -- server (runs in the milvus package's venv: stdlib + milvus only) --------------------
def serve(args: argparse.Namespace) -> int:
    """Start the embedded standalone server and keep it up until SIGTERM/SIGINT."""
    from milvus import __version__, default_server  # the separate venv's package

    default_server.set_base_dir(str(args.base_dir))
    default_server.listen_port = args.port
    default_server.start()
    print(f"milvus {__version__} standalone on 127.0.0.1:{args.port}", flush=True)
    stop = {"now": False}

    def _quit(*_: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _quit)
    signal.signal(signal.SIGINT, _quit)
    while not stop["now"] and default_server.server_proc.poll() is None:
        time.sleep(1)
    default_server.stop()
    print("stopped", flush=True)
    return 0


# -- benchmark (runs in qa's venv) -----------------------------------------------------
def dataset(n: int, nq: int, work: Path) -> tuple[Any, Any, Any]:
    """bench/scale.py's vectors and queries, and exact top-10 by inner product (cached)."""
    import faiss
    import numpy as np

    sys.path.insert(0, str(ROOT / "bench"))
    from scale import mixture, queries  # bench/scale.py

    data = mixture(n, max(100, n // 500))
    qs = queries(data, nq)
    path = work / f"truth-{n}-{nq}.npy"
    if path.exists():
        truth = np.load(path)
    else:
        _, truth = faiss.knn(qs, data, K, metric=faiss.METRIC_INNER_PRODUCT)
        np.save(path, truth)
    return data, qs, truth


def progress(work: Path, update: dict[str, Any] | None = None) -> dict[str, Any]:
    path = work / "progress.json"
    rec = json.loads(path.read_text()) if path.exists() else {}
    if update:
        rec |= update
        path.write_text(json.dumps(rec, indent=2))
    return rec


def ensure_rows(coll: Any, data: Any, args: argparse.Namespace, log: Any) -> dict[str, Any]:
    """Insert ``data`` in batches unless the collection already holds every row; flush."""
    done = progress(args.work)
    if coll.num_entities >= len(data) and "insert" in done:
        log(f"insert skipped: {coll.num_entities} rows already there")
        return done["insert"]
    la0 = load_avg()
    t0 = time.perf_counter()
    for i in range(0, len(data), args.batch):
        chunk = data[i : i + args.batch]
        coll.insert([list(range(i, i + len(chunk))), chunk])
        if (i // args.batch) % 10 == 0:
            log(f"  inserted {i + len(chunk):,} ({time.perf_counter() - t0:.0f} s)")
    insert_s = time.perf_counter() - t0
    coll.flush()
    total_s = time.perf_counter() - t0
    rec = {
        "batch": args.batch,
        "insert_s": round(insert_s, 1),
        "insert_plus_flush_s": round(total_s, 1),
        "vectors_per_s": round(len(data) / insert_s),
        "vectors_per_s_with_flush": round(len(data) / total_s),
        "load_avg_before_after": [la0, load_avg()],
    }
    log(f"inserted {len(data):,} in {insert_s:.1f} s (+flush {total_s - insert_s:.1f} s)")
    progress(args.work, {"insert": rec})
    return rec


def ensure_index(coll: Any, args: argparse.Namespace, log: Any) -> dict[str, Any]:
    """Build the HNSW index (timed from create_index to every row indexed)."""
    from pymilvus import utility

    done = progress(args.work)
    if "index" in done and coll.has_index():
        log("index build skipped: already built")
        return done["index"]
    params = {"M": args.m, "efConstruction": args.ef_construction}
    la0 = load_avg()
    t0 = time.perf_counter()
    resumed = coll.has_index()
    if not resumed:
        progress(args.work, {"index_started": time.strftime("%H:%M:%S")})
        coll.create_index("vec", {"index_type": "HNSW", "metric_type": "IP", "params": params})
    else:  # resumed while a build was running: the time counts from this run only
        log("index exists (build under way or finished): waiting for it")
    while True:
        p = utility.index_building_progress(coll.name)
        if p.get("total_rows") and p.get("indexed_rows", 0) >= p["total_rows"]:
            break
        log(
            f"  indexed {p.get('indexed_rows', 0):,}/{p.get('total_rows', 0):,} "
            f"({time.perf_counter() - t0:.0f} s, load {load_avg()[0]})"
        )
        time.sleep(args.poll)
    build_s = time.perf_counter() - t0
    rec = {
        "index_type": "HNSW",
        "metric_type": "IP",
        "params": params,
        "build_s": round(build_s, 1),
        "resumed_mid_build": resumed,
        "load_avg_before_after": [la0, load_avg()],
    }
    log(f"index built in {build_s:.1f} s")
    progress(args.work, {"index": rec})
    return rec


def sweep(coll: Any, qs: Any, truth: Any, args: argparse.Namespace, log: Any) -> list[dict]:
    """Per ef: one query per search() call; recall@10 and latency over all queries."""
    import numpy as np

    rows = []
    for ef in args.ef:
        param = {"metric_type": "IP", "params": {"ef": ef}}
        for q in qs[:5]:  # warm-up
            coll.search([q.tolist()], "vec", param, limit=K)
        la0 = load_avg()
        times, hits = [], 0
        for q, t in zip(qs, truth, strict=True):
            vec = [q.tolist()]
            t0 = time.perf_counter()
            res = coll.search(vec, "vec", param, limit=K)
            times.append((time.perf_counter() - t0) * 1000)
            hits += len(set(res[0].ids) & set(t.tolist()))
        a = np.array(times)
        row = {
            "ef": ef,
            "recall@10": round(hits / truth.size, 4),
            "p50_ms": round(float(np.percentile(a, 50)), 2),
            "p95_ms": round(float(np.percentile(a, 95)), 2),
            "mean_ms": round(float(a.mean()), 2),
            "queries": len(times),
            "load_avg_before_after": [la0, load_avg()],
        }
        log(
            f"  ef={ef}: recall@10 {row['recall@10']} p50 {row['p50_ms']} ms "
            f"p95 {row['p95_ms']} ms (load {row['load_avg_before_after'][1][0]})"
        )
        rows.append(row)
    return rows


def bench(args: argparse.Namespace) -> int:
    import numpy as np
    import pymilvus
    from pymilvus import Collection, CollectionSchema, DataType, FieldSchema, connections, utility

    def log(msg: str) -> None:
        print(time.strftime("%H:%M:%S"), msg, flush=True)

    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    data, qs, truth = dataset(args.n, args.queries, args.work)
    log(f"data {data.shape}, {len(qs)} queries, truth ready in {time.perf_counter() - t0:.0f} s")
    connections.connect(host="127.0.0.1", port=str(args.port))
    server = utility.get_server_version()
    name = f"scale_{args.n}_hnsw_m{args.m}_efc{args.ef_construction}"
    if not utility.has_collection(name):
        fields = [
            FieldSchema("id", DataType.INT64, is_primary=True, auto_id=False),
            FieldSchema("vec", DataType.FLOAT_VECTOR, dim=DIM),
        ]
        Collection(name, CollectionSchema(fields))
    coll = Collection(name)
    ins = ensure_rows(coll, data, args, log)
    del data
    idx = ensure_index(coll, args, log)
    la0 = load_avg()
    t = time.perf_counter()
    coll.load()
    load_s = time.perf_counter() - t
    segs = utility.get_query_segment_info(name)
    log(f"loaded in {load_s:.1f} s: {len(segs)} segments")
    rows = sweep(coll, qs, truth, args, log)
    ok = [r for r in rows if r["recall@10"] >= args.target]
    out = {
        "what": "Milvus standalone server (embedded `milvus` package), HNSW, IP metric",
        "server_version": server,
        "client": f"pymilvus {pymilvus.__version__}",
        "machine": f"{os.cpu_count()} cores shared with other jobs, numpy {np.__version__}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "data": "bench/scale.py mixture(n, n//500 clusters), queries(data, nq), seed 0",
        "n": args.n,
        "dim": DIM,
        "k": K,
        "queries": len(qs),
        "segments": [{"id": s.segmentID, "rows": s.num_rows, "index": s.index_name} for s in segs],
        "insert": ins,
        "index": idx,
        "load_s": round(load_s, 1),
        "load_load_avg_before_after": [la0, load_avg()],
        "search": "one query per Collection.search() call over gRPC on 127.0.0.1, "
        "collection's default consistency level, 5 warm-up searches per ef",
        "sweep": rows,
        "target_recall@10": args.target,
        "answer": (
            {"ef": ok[0]["ef"], "recall@10": ok[0]["recall@10"], "p50_ms": ok[0]["p50_ms"]}
            if ok
            else None
        ),
    }
    if args.out.exists():  # a rerun keeps the earlier runs' sweeps (e.g. before compaction)
        prev = json.loads(args.out.read_text())
        keep = ("date", "segments", "load_s", "sweep", "answer")
        out["earlier_runs"] = [*prev.pop("earlier_runs", []), {k: prev.get(k) for k in keep}]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    log(f"wrote {args.out}; answer {out['answer']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run the server (in the milvus package's venv)")
    s.add_argument("--base-dir", type=Path, required=True)
    s.add_argument("--port", type=int, default=19530)
    b = sub.add_parser("bench", help="measure (in qa's venv)")
    b.add_argument("--n", type=int, default=1_000_000)
    b.add_argument("--queries", type=int, default=1000)
    b.add_argument("--port", type=int, default=19530)
    b.add_argument("--batch", type=int, default=10_000)
    b.add_argument("--m", type=int, default=16)
    b.add_argument("--ef-construction", type=int, default=200)
    b.add_argument("--ef", type=int, nargs="+", default=[16, 32, 64, 128, 256])
    b.add_argument("--target", type=float, default=0.95)
    b.add_argument("--poll", type=float, default=15.0)
    b.add_argument("--work", type=Path, required=True, help="timings and truth cache")
    b.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "milvus-server-1m.json")
    args = ap.parse_args(argv)
    return serve(args) if args.cmd == "serve" else bench(args)


if __name__ == "__main__":
    raise SystemExit(main())
