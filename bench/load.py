"""A bounded load test of POST /v1/ask on a loopback server.

Starts ``qa serve`` on 127.0.0.1 (or uses ``--url``, which must be a loopback address),
runs ``--clients`` concurrent clients for ``--seconds`` seconds asking questions about the
seed article, then prints throughput, p50/p95/p99 latency and the error count, and writes
them as JSON to ``--out``.

    .venv/bin/python bench/load.py --clients 4 --seconds 20
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --clients 8 --seconds 10
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = [
    "Who will visit Moscow next week?",
    "Who is the Kremlin's top foreign policy aide?",
    "Who interviewed Ushakov?",
    "Who published excerpts of the phone call recording?",
    "How does Ushakov contact Witkoff?",
    "Where were the weekend talks held?",
    "How many points did the revised draft have?",
    "Who said the Geneva talks produced a framework?",
    "Where did Putin meet Trump in August?",
    "Which newspaper interviewed Ushakov?",
    "Where did the U.S. delegation hold additional talks?",
    "Who might accompany Witkoff to Moscow?",
]


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine only (127.0.0.0/8, ::1 or localhost)."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll /readyz until it answers 200; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} was not ready within {timeout:.0f} s")


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation; 0.0 when empty."""
    if not sorted_values:
        return 0.0
    pos = (len(sorted_values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def run_load(url: str, clients: int, seconds: float, headers: dict[str, str]) -> dict[str, object]:
    """``clients`` threads POST /v1/ask back to back until ``seconds`` have passed."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    stop_at = 0.0

    def client(i: int) -> None:
        mine: list[float] = []
        codes: Counter[str] = Counter()
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            start_gate.wait()
            n = i
            while time.monotonic() < stop_at:
                q = QUESTIONS[n % len(QUESTIONS)]
                n += clients
                t0 = time.perf_counter()
                try:
                    r = http.post("/v1/ask", json={"question": q})
                    code = str(r.status_code)
                except httpx.HTTPError as e:
                    code = type(e).__name__
                dt = time.perf_counter() - t0
                codes[code] += 1
                if code == "200":
                    mine.append(dt)
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at = time.monotonic() + seconds
    t_start = time.perf_counter()
    start_gate.wait()
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.perf_counter() - t_start
    latencies.sort()
    ok = statuses.get("200", 0)
    total = sum(statuses.values())
    return {
        "url": url,
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": total,
        "ok": ok,
        "errors": total - ok,
        "statuses": dict(statuses),
        "throughput_rps": round(ok / elapsed, 2) if elapsed > 0 else 0.0,
        "latency_ms": {
            "p50": round(percentile(latencies, 50) * 1000, 1),
            "p95": round(percentile(latencies, 95) * 1000, 1),
            "p99": round(percentile(latencies, 99) * 1000, 1),
            "max": round((latencies[-1] if latencies else 0.0) * 1000, 1),
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start (or reach) the server, run the load, report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="an already running server (loopback only)")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--index", help="index folder for the started server (default: qa's)")
    ap.add_argument("--api-key", default=os.environ.get("QA_API_KEY", ""))
    ap.add_argument("--start-timeout", type=float, default=180.0)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "load.json")
    args = ap.parse_args(argv)
    if not 1 <= args.clients <= 256:
        ap.error("--clients must be between 1 and 256")
    if not 0 < args.seconds <= 600:
        ap.error("--seconds must be in (0, 600]")

    proc: subprocess.Popen[bytes] | None = None
    log_path = args.out.parent / "load-server.log"
    if args.url:
        url = args.url.rstrip("/")
        if not is_loopback(url):
            ap.error(f"{url} is not a loopback address; this script only loads 127.0.0.1")
    else:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "-m", "qa.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        if args.index:
            cmd += ["--index", args.index]
        print(f"starting: {' '.join(cmd)}  (log: {log_path})", file=sys.stderr)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall it
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    try:
        wait_ready(url, args.start_timeout, proc)
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            http.post("/v1/ask", json={"question": QUESTIONS[0]})  # warm-up, not counted
        result = run_load(url, args.clients, args.seconds, headers)
    except RuntimeError as e:
        if proc is not None and log_path.is_file():
            print(log_path.read_text("utf-8", "replace")[-2000:], file=sys.stderr)
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    lat = result["latency_ms"]
    assert isinstance(lat, dict)
    print(
        f"{result['clients']} clients × {result['seconds']} s: {result['requests']} requests, "
        f"{result['throughput_rps']} req/s, p50 {lat['p50']} ms, p95 {lat['p95']} ms, "
        f"p99 {lat['p99']} ms, errors {result['errors']} {result['statuses']}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
