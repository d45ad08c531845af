"""Vector search at scale: FAISS exact vs HNSW vs IVF-Flat vs IVF-PQ on synthetic data.

The vectors are 384-d and L2-normalised like all-MiniLM-L6-v2's, drawn from a Gaussian
mixture with uneven cluster sizes (so approximate search is not trivially easy); queries
are data points plus noise. For each index: build time, the bytes of the serialised
index, recall@10 against exact search over a sweep of ``nprobe`` / ``efSearch``, and the
per-single-query latency (p50/p95) of the fastest setting with recall@10 ≥ the target,
timed with ``faiss.omp_set_num_threads(1)`` and ``(2)``.

    .venv/bin/python bench/scale.py --sizes 100000 1000000 [--cache bench/out/scale-cache]

``--cache`` keeps built indexes on disk with their build time and the machine's load
when they were built, so a later run can re-time searches on a quiet machine without
rebuilding; the JSON says which build each figure comes from.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DIM = 384
K = 10
SEED = 0
DATA_VERSION = 2  # bump when mixture() changes, so cached indexes are rebuilt
TRAIN_PER_LIST = 40  # k-means sample per IVF list (FAISS warns below 39)
_COARSE: dict[int, tuple[np.ndarray, float]] = {}  # n -> (IVF centroids, seconds to train)


# -- data -------------------------------------------------------------------------------
def mixture(
    n: int,
    clusters: int,
    topics: int = 50,
    seed: int = SEED,
    topic_spread: float = 1.5,
    spread: float = 0.08,
    power: float = 0.5,
    chunk: int = 100_000,
) -> np.ndarray:
    """``n`` unit vectors from a two-level Gaussian mixture: topics, clusters, points.

    Cluster centres scatter around ``topics`` topic directions (so clusters of one topic
    are related, not orthogonal islands); cluster sizes are Dirichlet(0.7); the points'
    noise is anisotropic (a random rotation of a 1/i^``power`` spectrum), like sentence
    embeddings whose variance sits in a few directions. A query's 10th neighbour lands at
    cosine ≈ 0.5, random pairs at ≈ 0.
    """
    rng = np.random.default_rng(seed)
    tops = rng.standard_normal((topics, DIM)).astype(np.float32)
    tops /= np.linalg.norm(tops, axis=1, keepdims=True)
    centres = tops[rng.integers(0, topics, clusters)]
    centres += topic_spread * rng.standard_normal((clusters, DIM)).astype(np.float32) / DIM**0.5
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    weights = rng.dirichlet(np.full(clusters, 0.7))
    labels = rng.choice(clusters, size=n, p=weights)
    scale = np.arange(1, DIM + 1, dtype=np.float32) ** -power
    scale *= np.sqrt(DIM) / np.linalg.norm(scale)
    rot = np.linalg.qr(rng.standard_normal((DIM, DIM)))[0].astype(np.float32)
    out = np.empty((n, DIM), dtype=np.float32)
    for i in range(0, n, chunk):
        lab = labels[i : i + chunk]
        noise = (rng.standard_normal((len(lab), DIM)).astype(np.float32) * scale) @ rot
        x = centres[lab] + spread * noise
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[i : i + chunk] = x
    return out


def queries(data: np.ndarray, nq: int, seed: int = SEED + 1, noise: float = 0.03) -> np.ndarray:
    """``nq`` queries: random data points moved by Gaussian noise, re-normalised."""
    rng = np.random.default_rng(seed)
    q = data[rng.choice(len(data), size=nq, replace=False)].copy()
    q += noise * rng.standard_normal(q.shape).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the true top-k found in the returned top-k."""
    hits = sum(len(set(f[f >= 0]) & set(t)) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


# -- indexes ----------------------------------------------------------------------------
def nlist_for(n: int) -> int:
    """IVF lists: about 4·√n, a power of two (1024 at 100k, 4096 at 1M)."""
    return int(2 ** round(np.log2(4 * np.sqrt(n))))


def make_index(
    kind: str, n: int, hnsw_m: int, ef_construction: int, coarse: np.ndarray | None = None
) -> faiss.Index:
    """An empty index; IVF-PQ kinds reuse ``coarse`` (IVF-Flat's centroids) when given."""
    ip = faiss.METRIC_INNER_PRODUCT
    if kind == "flat":
        return faiss.IndexFlatIP(DIM)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(DIM, hnsw_m, ip)
        index.hnsw.efConstruction = ef_construction
        return index
    nlist = nlist_for(n)
    quantizer = faiss.IndexFlatIP(DIM)
    if coarse is not None and kind != "ivf":
        quantizer.add(coarse)  # a full quantizer: train() then fits only the PQ codebooks
    if kind == "ivf":
        return faiss.IndexIVFFlat(quantizer, DIM, nlist, ip)
    if kind == "ivfpq":  # 48 sub-quantizers × 8 bits: 48 bytes a vector
        return faiss.IndexIVFPQ(quantizer, DIM, nlist, 48, 8, ip)
    if kind == "ivfpq+refine":  # IVF-PQ candidates re-ranked with the exact vectors
        return faiss.IndexRefineFlat(make_index("ivfpq", n, hnsw_m, ef_construction, coarse))
    raise ValueError(kind)


def sweep_values(kind: str, n: int) -> list[int]:
    """The search-time knob to sweep: ``efSearch`` for HNSW, ``nprobe`` for IVF."""
    if kind == "hnsw":
        return [16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]
    if kind == "flat":
        return [0]
    top = nlist_for(n) // 4
    return [
        v for v in (1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512) if v <= top
    ]


def set_knob(index: faiss.Index, kind: str, value: int) -> None:
    if kind == "hnsw":
        index.hnsw.efSearch = value
    elif kind in ("ivf", "ivfpq"):
        faiss.extract_index_ivf(index).nprobe = value
    elif kind == "ivfpq+refine":
        faiss.extract_index_ivf(index).nprobe = value
        index.k_factor = 8


def knob_name(kind: str) -> str:
    return {"hnsw": "efSearch", "flat": "-"}.get(kind, "nprobe")


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def cpu_clock() -> tuple[float, float, float]:
    """(busy CPU seconds of the machine, CPU seconds of this process, wall seconds)."""
    with open("/proc/stat") as f:
        vals = [int(v) for v in f.readline().split()[1:9]]
    busy = (sum(vals) - vals[3] - vals[4]) / os.sysconf("SC_CLK_TCK")
    t = os.times()
    return busy, t.user + t.system, time.monotonic()


def others_share(start: tuple[float, float, float]) -> float:
    """Share of all CPUs that other processes used since ``start`` (0: a quiet machine)."""
    b0, m0, w0 = start
    b1, m1, w1 = cpu_clock()
    wall = max(1e-9, w1 - w0)
    return round(max(0.0, (b1 - b0) - (m1 - m0)) / (wall * (os.cpu_count() or 1)), 3)


def build(
    kind: str, data: np.ndarray, args: argparse.Namespace, cache: Path | None
) -> tuple[faiss.Index, dict[str, Any]]:
    """Build (or load from ``cache``) one index; returns it with its build record."""
    n = len(data)
    path = cache / f"{kind}-{n}-seed{SEED}.faiss" if cache else None
    meta_path = path.with_suffix(".json") if path else None
    if path is not None and meta_path is not None and path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("params") == build_params(kind, n, args):
            index = faiss.read_index(str(path))
            meta["from_cache"] = True
            return index, meta
    faiss.omp_set_num_threads(args.build_threads)
    load_before = load_avg()
    shared = _COARSE.get(n) if kind.startswith("ivfpq") else None
    clock = cpu_clock()
    t0 = time.perf_counter()
    index = make_index(kind, n, args.hnsw_m, args.ef_construction, shared[0] if shared else None)
    if not index.is_trained:
        rng = np.random.default_rng(SEED + 2)
        sample = data[rng.choice(n, size=min(n, TRAIN_PER_LIST * nlist_for(n)), replace=False)]
        index.train(sample)
    t_train = time.perf_counter() - t0
    for i in range(0, n, 100_000):
        index.add(data[i : i + 100_000])
    build_s = time.perf_counter() - t0
    coarse_s = shared[1] if shared else 0.0
    meta = {
        # standalone cost: a shared coarse k-means counts as if this index had trained it
        "build_s": round(build_s + coarse_s, 2),
        "own_build_s": round(build_s, 2),
        "coarse_shared_from_ivf_s": round(coarse_s, 2) if shared else None,
        "train_s": round(t_train + coarse_s, 2),
        "build_threads": args.build_threads,
        "load_avg_at_build": [load_before, load_avg()],
        "others_cpu_share_during_build": others_share(clock),
        "built_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "params": build_params(kind, n, args),
        "from_cache": False,
    }
    if path is not None and meta_path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        faiss.write_index(index, str(path))
        meta_path.write_text(json.dumps(meta, indent=2))
    return index, meta


def remember_coarse(index: faiss.Index, n: int, train_s: float) -> None:
    """Keep IVF-Flat's trained centroids so the IVF-PQ builds at ``n`` can share them."""
    ivf = faiss.extract_index_ivf(index)
    _COARSE[n] = (ivf.quantizer.reconstruct_n(0, ivf.nlist), train_s)


def build_params(kind: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    p: dict[str, Any] = {"kind": kind, "n": n, "dim": DIM, "data": DATA_VERSION}
    if kind == "hnsw":
        p |= {"M": args.hnsw_m, "efConstruction": args.ef_construction}
    if kind.startswith("ivf"):
        p |= {"nlist": nlist_for(n), "train_per_list": TRAIN_PER_LIST}
    if kind.startswith("ivfpq"):
        p |= {"pq_m": 48, "pq_bits": 8, "coarse": "shared with ivf"}
    if kind == "ivfpq+refine":
        p |= {"k_factor": 8}
    return p


def index_bytes(index: faiss.Index) -> int:
    return int(faiss.serialize_index(index).nbytes)


def time_single(
    index: faiss.Index, qs: np.ndarray, max_queries: int, max_seconds: float
) -> dict[str, float]:
    """p50/p95/mean ms of one-query searches (after 5 warm-up searches)."""
    for q in qs[:5]:
        index.search(q[None, :], K)
    times: list[float] = []
    stop = time.perf_counter() + max_seconds
    for q in qs[:max_queries]:
        t0 = time.perf_counter()
        index.search(q[None, :], K)
        times.append((time.perf_counter() - t0) * 1000)
        if len(times) >= 20 and time.perf_counter() > stop:
            break
    a = np.array(times)
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 3),
        "p95_ms": round(float(np.percentile(a, 95)), 3),
        "mean_ms": round(float(a.mean()), 3),
        "n": len(times),
    }


def run_size(n: int, args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    """Every index kind at ``n`` vectors."""
    clusters = max(100, n // 500)
    t0 = time.perf_counter()
    data = mixture(n, clusters)
    qs = queries(data, args.queries)
    log(f"n={n}: {clusters} clusters generated in {time.perf_counter() - t0:.1f} s")
    faiss.omp_set_num_threads(args.build_threads)
    exact = faiss.IndexFlatIP(DIM)
    exact.add(data)
    _, truth = exact.search(qs, K)
    del exact
    out: dict[str, Any] = {"n": n, "clusters": clusters, "queries": len(qs), "indexes": {}}
    cache = args.cache if args.cache and n >= args.cache_min else None
    for kind in args.kinds:
        if kind == "hnsw" and n > args.hnsw_max:
            out["indexes"][kind] = {
                "skipped": f"HNSW is built only up to {args.hnsw_max:,} "
                "vectors in this run (--hnsw-max)"
            }
            continue
        index, meta = build(kind, data, args, cache)
        if kind == "ivf":
            remember_coarse(index, n, meta["train_s"])
        rec: dict[str, Any] = {
            **meta,
            "bytes": index_bytes(index),
            "bytes_per_vector": round(index_bytes(index) / n, 1),
            "knob": knob_name(kind),
            "sweep": [],
        }
        log(
            f"  {kind}: built in {meta['build_s']} s"
            f"{' (cached)' if meta['from_cache'] else ''}, {rec['bytes'] / 2**20:.0f} MiB"
        )
        faiss.omp_set_num_threads(args.build_threads)
        chosen = None
        for v in sweep_values(kind, n):
            set_knob(index, kind, v)
            t = time.perf_counter()
            _, found = index.search(qs, K)
            batch_ms = (time.perf_counter() - t) * 1000 / len(qs)
            r = recall_at_k(found, truth)
            rec["sweep"].append(
                {"value": v, "recall@10": round(r, 4), "batch_ms_per_query": round(batch_ms, 3)}
            )
            if r >= args.target and chosen is None:
                chosen = v
                if kind != "flat":
                    break  # recall grows with the knob: the first one that reaches it is fastest
        rec["target_recall"] = args.target
        rec["chosen"] = chosen
        rec["meets_target"] = chosen is not None
        if chosen is None:  # time the best it reached, and say so
            chosen = rec["sweep"][-1]["value"]
        set_knob(index, kind, chosen)
        rec["recall@10"] = next(s["recall@10"] for s in rec["sweep"] if s["value"] == chosen)
        rec["single_query"] = {}
        for threads in args.threads:
            faiss.omp_set_num_threads(threads)
            la = load_avg()
            clock = cpu_clock()
            timed = time_single(index, qs, args.timed, args.max_seconds)
            rec["single_query"][str(threads)] = {
                **timed,
                "load_avg": la,
                "others_cpu_share": others_share(clock),
            }
        sq = rec["single_query"]
        log(
            f"  {kind}: {rec['knob']}={chosen} recall@10 {rec['recall@10']:.3f} "
            + ", ".join(f"{t} thr p50 {sq[t]['p50_ms']} ms" for t in sq)
        )
        out["indexes"][kind] = rec
        del index
        gc.collect()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--kinds", nargs="+", default=["flat", "hnsw", "ivf", "ivfpq", "ivfpq+refine"])
    ap.add_argument("--queries", type=int, default=1000, help="queries for recall@10")
    ap.add_argument("--timed", type=int, default=300, help="single-query searches timed")
    ap.add_argument(
        "--max-seconds",
        type=float,
        default=15.0,
        help="stop timing one setting after this long (≥ 20 searches)",
    )
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--build-threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--hnsw-m", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=80)
    ap.add_argument(
        "--hnsw-max", type=int, default=1_000_000, help="skip HNSW above this many vectors"
    )
    ap.add_argument("--target", type=float, default=0.95, help="recall@10 to reach")
    ap.add_argument("--cache", type=Path, default=None, help="keep built indexes here")
    ap.add_argument(
        "--cache-min",
        type=int,
        default=0,
        help="cache only sizes of at least this many vectors (smaller: rebuilt)",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "scale.json")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, flush=True)

    result: dict[str, Any] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, "
        f"faiss {faiss.__version__}, numpy {np.__version__}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "dim": DIM,
        "k": K,
        "target_recall@10": args.target,
        "data": "two-level Gaussian mixture: 50 topics, n/500 clusters around them "
        "(Dirichlet(0.7) sizes), points with anisotropic noise (σ=0.08, 1/√i spectrum), "
        "L2-normalised; queries = data points + N(0, 0.03²), normalised",
        "single_query_timing": "faiss.omp_set_num_threads(T) for T in "
        f"{args.threads}; one query per search() call",
        "sizes": {},
    }
    for n in args.sizes:
        result["sizes"][str(n)] = run_size(n, args, log)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    result["recommendation"] = recommend(result)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {args.out}")
    return 0


def recommend(result: dict[str, Any], budget_ms: float = 5.0) -> list[str]:
    """Plain-language lines derived from the measured figures (nothing hard-coded).

    Per size: the fastest index at the recall target, and the fastest one that supports
    ``remove_ids`` (FAISS HNSW does not). Across sizes: where exact search, whose cost
    grows linearly with n, would pass ``budget_ms`` per query on one thread.
    """
    lines: list[str] = []
    flat_ms_per_vec: list[float] = []
    for n, size in result["sizes"].items():
        idx = size["indexes"]
        fast = {
            k: v["single_query"]["1"]["p50_ms"]
            for k, v in idx.items()
            if "single_query" in v and "1" in v["single_query"] and v.get("meets_target")
        }
        if "flat" in fast:
            flat_ms_per_vec.append(fast["flat"] / int(n))
        if not fast:
            continue
        best = min(fast, key=lambda k: fast[k])
        removable = {k: t for k, t in fast.items() if k != "hnsw"}
        best_rm = min(removable, key=lambda k: removable[k]) if removable else None
        line = (
            f"n={int(n):,}: fastest at recall@10 ≥ {result['target_recall@10']}: {best} "
            f"({fast[best]} ms p50, 1 thread)"
        )
        if best_rm and best_rm != best:
            knob = idx[best_rm]
            line += (
                f"; fastest that supports remove_ids: {best_rm} ({fast[best_rm]} ms, "
                f"{knob['knob']}={knob['chosen']})"
            )
        lines.append(line)
    if flat_ms_per_vec:
        per = max(flat_ms_per_vec)  # the larger size's rate: memory-bound, the honest one
        lines.append(
            f"exact search costs ≈ {per * 1e5:.2f} ms per 100k vectors (1 thread), so it "
            f"passes {budget_ms:g} ms per query at ≈ {budget_ms / per:,.0f} vectors"
        )
        lines.append(store_advice(result, budget_ms / per))
    return lines


def store_advice(result: dict[str, Any], threshold: float) -> str:
    """Which FAISS index qa's store should use, by size, from the measured figures."""
    parts = [
        f"for qa's store: exact IndexFlatIP up to ≈ {threshold:,.0f} passages (no recall "
        "loss, no training, remove_ids works)"
    ]
    ivf = {n: s["indexes"].get("ivf", {}) for n, s in result["sizes"].items()}
    knobs = [
        f"nprobe {x['chosen']} of {x['params']['nlist']} lists at {int(n):,} "
        f"({x['single_query']['1']['p50_ms']} ms)"
        for n, x in ivf.items()
        if x.get("meets_target")
    ]
    if knobs:
        parts.append("above it IVF-Flat, which supports remove_ids: " + ", ".join(knobs))
    for n, size in result["sizes"].items():
        h, i = size["indexes"].get("hnsw", {}), size["indexes"].get("ivf", {})
        if h.get("meets_target") and i.get("meets_target"):
            hm, im = h["single_query"]["1"]["p50_ms"], i["single_query"]["1"]["p50_ms"]
            parts.append(
                f"HNSW at {int(n):,} answers in {hm} ms vs IVF's {im} ms but FAISS HNSW "
                "cannot remove_ids (deletes would need tombstones and rebuilds), and its "
                f"build took {h['build_s']} s vs {i['build_s']} s"
            )
        pq = size["indexes"].get("ivfpq", {})
        if pq and not pq.get("skipped"):
            parts.append(
                f"IVF-PQ at {int(n):,} is {pq['bytes_per_vector']} B/vector but tops out at "
                f"recall@10 {max(x['recall@10'] for x in pq['sweep'])}"
                + ("" if pq.get("meets_target") else " (below the target)")
            )
    return "; ".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
