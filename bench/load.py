"""A load test of POST /v1/ask on a loopback server, optionally while documents are added.

Starts ``qa serve`` on 127.0.0.1 against a *copy* of the seed index (``--index``, default
``index/default``, copied into a temporary folder, so the real index is never changed),
warms it up with a few sequential questions, then runs ``--clients`` concurrent clients
(default 50) for ``--seconds`` seconds (default 60), each asking the seed questions with
POST /v1/ask back to back. A client that gets 503 with ``Retry-After`` sleeps that long
plus a small seeded random jitter before its next request; connection errors, timeouts
(``--timeout`` per request, default 30 s) and 5xx answers back off instead of retrying in
a tight loop. With ``--writer`` one more client adds small distinct documents with
POST /v1/documents in a loop, honouring ``Retry-After`` too.

It reports the requests, the counts by status code and by error type, answered (200)
requests per second, p50/p95/p99 latency of answered requests, p50 of 503 responses, the
server's RSS (``VmRSS`` of ``/proc/<pid>/status``) after warm-up, every ``--sample-every``
seconds and at the end, the machine's load average at start and end, the writer's
requests, statuses and p50, the CPU seconds the machine, the server, this script and
other processes used (a run disturbed by other work shows there), and how the server
stopped (SIGTERM, then SIGKILL after 30 s; uvicorn re-raises the SIGTERM, so -15 after a
logged graceful shutdown counts as clean).
A summary goes to stdout, everything as JSON to ``--out`` (default ``bench/out/load.json``,
``bench/out/load-writer.json`` with ``--writer``) and the server's log next to it.

    .venv/bin/python bench/load.py                           # 50 clients x 60 s
    .venv/bin/python bench/load.py --writer                  # the same while adding documents
    .venv/bin/python bench/load.py --clients 8 --seconds 10 --server-args "--max-in-flight 8"
    # the code of another checkout (its qa package first on the path):
    PYTHONPATH=/path/to/checkout .venv/bin/python bench/load.py \\
        --qa-command ".venv/bin/python -m qa.cli" --out /tmp/base.json
    # a server that is already running (loopback only; --pid to report its RSS):
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --pid 1234 --clients 8

With ``--url`` the script does not copy anything: ``--writer`` then adds to that server's
index and removes the documents it added (DELETE /v1/documents/{id}) at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import hashlib
import ipaddress
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
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

# Words for the writer's documents: each document is distinct through its number anyway.
_PLACES = ["Lisbon", "Oslo", "Tallinn", "Valencia", "Krakow", "Ghent", "Turku", "Porto"]
_BODIES = ["harbour board", "water council", "library trust", "rail committee", "park office"]
_TOPICS = ["ferry timetables", "flood barriers", "reading rooms", "night trains", "tree planting"]
_PEOPLE = ["Mara Lindqvist", "Tomas Ferreira", "Ilse Vermeulen", "Piotr Nowak", "Aino Laine"]

ERROR_LINE = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b|Exception\b|Error:")
WARNING_LINE = re.compile(r"\bWARNING\b|\bWarning\b")


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
    """A TCP port on 127.0.0.1 that is free right now."""
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


def ms_summary(seconds: list[float]) -> dict[str, float | int]:
    """n, p50/p95/p99/max in milliseconds of a list of durations in seconds."""
    xs = sorted(seconds)
    return {
        "n": len(xs),
        "p50": round(percentile(xs, 50) * 1000, 1),
        "p95": round(percentile(xs, 95) * 1000, 1),
        "p99": round(percentile(xs, 99) * 1000, 1),
        "max": round((xs[-1] if xs else 0.0) * 1000, 1),
    }


# -- the server process ------------------------------------------------------------------------


def proc_status_kib(pid: int, key: str) -> int | None:
    """A ``kB`` field (``VmRSS``, ``VmHWM``) of ``/proc/<pid>/status``; None if unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def rss_mib(pid: int | None, key: str = "VmRSS") -> float | None:
    """The process's resident set size (or another ``kB`` field) in MiB."""
    if pid is None:
        return None
    kib = proc_status_kib(pid, key)
    return None if kib is None else round(kib / 1024, 1)


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process so far (``/proc/<pid>/stat``)."""
    if pid is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)
    except (OSError, ValueError, IndexError):
        return None


def machine_busy_cpu_s() -> float | None:
    """CPU seconds all cores have spent busy since boot (``/proc/stat``: user, nice, system,
    irq, softirq; not idle, iowait or steal)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
        user, nice, system, _idle, _iowait, irq, softirq = fields
    except (OSError, ValueError, IndexError):
        return None
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def cpu_split(t0: dict[str, float | None], t1: dict[str, float | None]) -> dict[str, float | None]:
    """CPU seconds between two ``cpu_now()`` readings: machine, server, this script, the rest.

    "other" is what neither the server nor this script used: other work on the machine.
    """
    d: dict[str, float | None] = {}
    for k in ("machine", "server", "client"):
        a, b = t0[k], t1[k]
        d[k] = None if a is None or b is None else round(b - a, 1)
    machine, server, client = d["machine"], d["server"], d["client"]
    if machine is None or server is None or client is None:
        d["other"] = None
    else:
        d["other"] = round(machine - server - client, 1)
    return d


def cpu_now(pid: int | None) -> dict[str, float | None]:
    """Busy CPU seconds so far: the machine's, the server's and this script's."""
    return {
        "machine": machine_busy_cpu_s(),
        "server": cpu_seconds(pid),
        "client": time.process_time(),
    }


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def index_fingerprint(index_dir: Path) -> str:
    """A hash of every file's name, size and mtime under ``index_dir`` (to prove it unchanged)."""
    h = hashlib.sha256()
    for p in sorted(index_dir.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(index_dir)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def resolve_command(command: str) -> list[str]:
    """``shlex.split(command)``, its program made absolute when it is a path under ROOT."""
    cmd = shlex.split(command)
    if not cmd:
        raise ValueError("an empty --qa-command")
    program = Path(cmd[0])
    if not program.is_absolute() and "/" in cmd[0] and (ROOT / program).exists():
        cmd[0] = str(ROOT / program)
    return cmd


def stop_server(proc: subprocess.Popen[bytes], wait_s: float = 30.0) -> dict[str, Any]:
    """SIGTERM, wait up to ``wait_s``, then SIGKILL; how it went."""
    if proc.poll() is not None:
        return {
            "signal": None,
            "returncode": proc.returncode,
            "clean": False,
            "killed": False,
            "note": "the server had already exited",
        }
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    killed = False
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        killed = True
    return {
        "signal": "SIGTERM",
        "exit_s": round(time.monotonic() - t0, 2),
        "returncode": proc.returncode,
        "killed": killed,
    }


def scan_log(path: Path, limit: int = 20) -> dict[str, Any]:
    """What the server log holds besides access lines: tracebacks, errors, warnings, the rest."""
    if not path.is_file():
        return {"path": str(path), "missing": True}
    lines = path.read_text("utf-8", "replace").splitlines()
    access = [ln for ln in lines if "HTTP/1." in ln]
    rest = [ln for ln in lines if "HTTP/1." not in ln]
    errors = [ln for ln in rest if ERROR_LINE.search(ln)]
    warnings = [ln for ln in rest if WARNING_LINE.search(ln) and not ERROR_LINE.search(ln)]
    return {
        "path": str(path),
        "lines": len(lines),
        "access_lines": len(access),
        "tracebacks": sum(1 for ln in rest if ln.startswith("Traceback")),
        "error_lines": len(errors),
        "warning_lines": len(warnings),
        "debug_lines": sum(1 for ln in rest if ln.startswith("DEBUG")),
        "shutdown_logged": any("Finished server process" in ln for ln in rest),
        "errors_first": errors[:limit],
        "warnings_first": list(dict.fromkeys(warnings))[:limit],
        "other_lines": {ln[:200]: n for ln, n in Counter(rest).most_common(limit)},
    }


def shutdown_verdict(stop: dict[str, Any], log: dict[str, Any]) -> dict[str, Any]:
    """``stop`` with ``clean``: not killed, and exit 0, or uvicorn's re-raised SIGTERM after a
    logged graceful shutdown (uvicorn ≥ 0.29 re-raises the signal it caught, so -15)."""
    rc = stop.get("returncode")
    graceful = bool(log.get("shutdown_logged"))
    signalled = stop.get("signal") is not None  # None: it had exited before the end
    ok_rc = rc == 0 or (rc == -signal.SIGTERM and graceful)
    clean = signalled and not stop.get("killed") and ok_rc
    return stop | {"graceful_shutdown_logged": graceful, "clean": clean}


# -- the load ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one kind of client (askers or the writer) saw."""

    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # exception type -> count
    error_kinds: Counter[str] = field(default_factory=Counter)  # timeout / connection / other
    latencies: dict[str, list[float]] = field(default_factory=dict)  # status -> seconds
    reasons: Counter[str] = field(default_factory=Counter)  # "503 overloaded" -> count
    origin: float = field(default_factory=time.monotonic)  # when the load started
    slow: list[tuple[float, float, str]] = field(default_factory=list)  # (s, started at, code)
    retry_after_waits: int = 0
    retry_after_slept_s: float = 0.0
    backoffs: int = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    def record(self, r: httpx.Response, seconds: float, started: float) -> None:
        code = str(r.status_code)
        self.statuses[code] += 1
        self.latencies.setdefault(code, []).append(seconds)
        if r.status_code < 300:
            self.slow.append((seconds, started - self.origin, code))
        if r.status_code >= 400:
            self.reasons[f"{code} {error_type(r)}"] += 1

    def record_error(self, e: BaseException) -> str:
        name = "TotalTimeout" if isinstance(e, TimeoutError) else type(e).__name__
        if isinstance(e, TimeoutError | httpx.TimeoutException):
            kind = "timeout"
        elif isinstance(e, httpx.TransportError):
            kind = "connection"
        else:
            kind = "other"
        self.errors[name] += 1
        self.error_kinds[kind] += 1
        return kind

    def report(self, elapsed: float) -> dict[str, Any]:
        answered = self.statuses.get("200", 0)
        return {
            "requests": self.requests,
            "statuses": dict(sorted(self.statuses.items())),
            "reasons": dict(sorted(self.reasons.items())),
            "errors": dict(sorted(self.errors.items())),
            "error_kinds": dict(sorted(self.error_kinds.items())),
            "answered": answered,
            "answered_per_s": round(answered / elapsed, 2) if elapsed > 0 else 0.0,
            "requests_per_s": round(self.requests / elapsed, 2) if elapsed > 0 else 0.0,
            "latency_ms": ms_summary(self.latencies.get("200", [])),
            "latency_ms_by_status": {
                code: ms_summary(xs) for code, xs in sorted(self.latencies.items())
            },
            "p50_503_ms": ms_summary(self.latencies.get("503", []))["p50"],
            "retry_after_waits": self.retry_after_waits,
            "retry_after_slept_s": round(self.retry_after_slept_s, 1),
            "error_backoffs": self.backoffs,
            "latency_ms_2xx": ms_summary([x for x, _, _ in self.slow]),
            "slowest_2xx": [
                {"ms": round(x * 1000, 1), "started_at_s": round(at, 2), "status": code}
                for x, at, code in sorted(self.slow, reverse=True)[:5]
            ],
        }


def error_type(r: httpx.Response) -> str:
    """The ``error.type`` of an error answer (``overloaded``, ``index_busy``, …), or "?"."""
    try:
        return str(r.json()["error"]["type"])
    except (ValueError, KeyError, TypeError):
        return "?"


def retry_after_s(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass
class LoadOptions:
    url: str
    headers: dict[str, str]
    clients: int
    seconds: float
    timeout: float
    jitter: float
    backoff: float
    seed: int
    writer: bool
    sample_every: float
    pid: int | None


async def _pause(delay: float, stop_at: float) -> None:
    """Sleep ``delay`` seconds, but not past ``stop_at``."""
    await asyncio.sleep(max(0.0, min(delay, stop_at - time.monotonic())))


async def _request(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    tally: Tally,
    rng: random.Random,
    opts: LoadOptions,
    stop_at: float,
    state: dict[str, float],
) -> httpx.Response | None:
    """One request, recorded in ``tally``, followed by any wait the answer asks for.

    ``state["backoff"]`` is the client's current error back-off (doubled up to 8x, reset on
    any HTTP answer that is not a 5xx).
    """
    started, t0 = time.monotonic(), time.perf_counter()
    try:
        async with asyncio.timeout(opts.timeout):
            r = await http.request(method, path, json=body)
    except (TimeoutError, httpx.HTTPError) as e:
        tally.record_error(e)
        tally.backoffs += 1
        await _pause(state["backoff"] + rng.uniform(0, opts.jitter), stop_at)
        state["backoff"] = min(state["backoff"] * 2, opts.backoff * 8)
        return None
    tally.record(r, time.perf_counter() - t0, started)
    wait = retry_after_s(r.headers.get("retry-after")) if r.status_code == 503 else None
    if wait is not None:
        tally.retry_after_waits += 1
        delay = wait + rng.uniform(0, opts.jitter)
        tally.retry_after_slept_s += delay
        await _pause(delay, stop_at)
    elif r.status_code >= 500:
        tally.backoffs += 1
        await _pause(state["backoff"] + rng.uniform(0, opts.jitter), stop_at)
        state["backoff"] = min(state["backoff"] * 2, opts.backoff * 8)
        return r
    state["backoff"] = opts.backoff
    return r


def writer_text(n: int, rng: random.Random) -> str:
    """A small document of a few sentences, distinct for every ``n``."""
    place, other = rng.sample(_PLACES, 2)
    body, topic, person = rng.choice(_BODIES), rng.choice(_TOPICS), rng.choice(_PEOPLE)
    count = rng.randint(2, 90)
    return (
        f"Load test note number {n}. The {body} of {place} met on day {n} to discuss "
        f"{topic}.\n\n{person} said that {count} proposals were reviewed at meeting {n}, "
        f"and that a decision is expected within {n % 7 + 2} weeks. The next meeting of the "
        f"{body} is planned in {other} in week {n + 1}."
    )


async def run_load(opts: LoadOptions) -> dict[str, Any]:
    """Run the askers (and the writer) until ``opts.seconds`` have passed; what they saw."""
    added_ids: list[str] = []
    timeout = httpx.Timeout(opts.timeout)
    t_start = time.monotonic()
    askers, writes = Tally(origin=t_start), Tally(origin=t_start)
    stop_at = t_start + opts.seconds
    done = asyncio.Event()

    async def asker(i: int) -> None:
        rng = random.Random(opts.seed * 1_000_003 + i)
        state = {"backoff": opts.backoff}
        async with httpx.AsyncClient(base_url=opts.url, headers=opts.headers, timeout=timeout) as h:
            n = i
            while time.monotonic() < stop_at:
                q = QUESTIONS[n % len(QUESTIONS)]
                n += opts.clients
                await _request(
                    h, "POST", "/v1/ask", {"question": q}, askers, rng, opts, stop_at, state
                )

    async def writer() -> None:
        rng = random.Random(opts.seed * 1_000_003 - 1)
        state = {"backoff": opts.backoff}
        async with httpx.AsyncClient(base_url=opts.url, headers=opts.headers, timeout=timeout) as h:
            n = 0
            while time.monotonic() < stop_at:
                body = {"text": writer_text(n, rng), "source": f"load/doc-{n}.txt"}
                r = await _request(
                    h, "POST", "/v1/documents", body, writes, rng, opts, stop_at, state
                )
                if r is not None and r.status_code < 500:
                    n += 1  # one refused (503) or failed is tried again, unchanged
                    if r.status_code == 201:
                        added_ids.append(str(r.json().get("id")))

    samples: list[dict[str, Any]] = []

    async def sampler() -> None:
        last_t, last_req, last_ok = 0.0, 0, 0
        last_cpu = cpu_now(opts.pid)
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), opts.sample_every)
            t = time.monotonic() - t_start
            if done.is_set() and t - last_t < opts.sample_every / 2:
                break  # the end sample is reported separately
            req, ok, cpu = askers.requests, askers.statuses.get("200", 0), cpu_now(opts.pid)
            samples.append(
                {
                    "t_s": round(t, 1),
                    "rss_mib": rss_mib(opts.pid),
                    "requests": req - last_req,
                    "answered": ok - last_ok,
                    "answered_per_s": round((ok - last_ok) / (t - last_t), 2),
                    "writes_so_far": writes.requests,
                    "loadavg_1m": loadavg()[0],
                    "cpu_s": cpu_split(last_cpu, cpu),
                }
            )
            last_t, last_req, last_ok, last_cpu = t, req, ok, cpu

    sampling = asyncio.create_task(sampler())
    tasks = [asyncio.create_task(asker(i)) for i in range(opts.clients)]
    writing = asyncio.create_task(writer()) if opts.writer else None
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - t_start  # until the last asker's last answer
    if writing is not None:
        await writing
    done.set()
    await sampling
    return {
        "elapsed_s": round(elapsed, 2),
        "askers": askers.report(elapsed),
        "writer": writes.report(elapsed) | {"documents_added": len(added_ids)}
        if opts.writer
        else None,
        "samples": samples,
        "_added_ids": added_ids,
    }


def warm_up(url: str, headers: dict[str, str], n: int, timeout: float) -> dict[str, Any]:
    """``n`` sequential questions before the clock starts (not counted in the load)."""
    statuses: Counter[str] = Counter()
    times: list[float] = []
    with httpx.Client(base_url=url, headers=headers, timeout=timeout) as http:
        for i in range(n):
            t0 = time.perf_counter()
            try:
                r = http.post("/v1/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]})
                statuses[str(r.status_code)] += 1
            except httpx.HTTPError as e:
                statuses[type(e).__name__] += 1
            times.append(time.perf_counter() - t0)
    return {"questions": n, "statuses": dict(statuses), "latency_ms": ms_summary(times)}


def count_documents(url: str, headers: dict[str, str]) -> int | None:
    """How many documents the server's index holds (GET /v1/documents)."""
    try:
        r = httpx.get(f"{url}/v1/documents", headers=headers, timeout=30)
        return len(r.json()["data"]) if r.status_code == 200 else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


def remove_documents(url: str, headers: dict[str, str], ids: list[str]) -> dict[str, int]:
    """DELETE each added document (with --url), honouring Retry-After; counts."""
    out: Counter[str] = Counter()
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        for doc_id in ids:
            for _ in range(10):
                try:
                    r = http.delete(f"/v1/documents/{doc_id}")
                except httpx.HTTPError:
                    time.sleep(1)
                    continue
                if r.status_code == 503:
                    time.sleep(retry_after_s(r.headers.get("retry-after")) or 1)
                    continue
                out["deleted" if r.status_code < 300 else f"status {r.status_code}"] += 1
                break
            else:
                out["failed"] += 1
    return dict(out)


# -- the report --------------------------------------------------------------------------------


def _counts(d: dict[str, int]) -> str:
    return ", ".join(f"{k} ×{v}" for k, v in d.items()) or "none"


def summary(result: dict[str, Any]) -> str:
    """The human-readable report."""
    a = result["askers"]
    lat = a["latency_ms"]
    rss = result["server_rss_mib"]
    lines = [
        f"{result['clients']} clients × {result['seconds']} s against {result['url']} "
        f"({result['elapsed_s']} s until the last answer)"
        + ("  + writer" if result["writer"] else ""),
        f"  requests {a['requests']} ({a['requests_per_s']}/s): statuses {_counts(a['statuses'])}"
        + (f" ({_counts(a['reasons'])})" if a["reasons"] else "")
        + (f"; errors {_counts(a['errors'])}" if a["errors"] else ""),
        f"  answered {a['answered']} = {a['answered_per_s']}/s; latency of answered p50 "
        f"{lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms, max {lat['max']} ms",
        "  slowest answered: "
        + ", ".join(f"{x['ms']} ms at {x['started_at_s']} s" for x in a["slowest_2xx"][:3]),
        f"  503 p50 {a['p50_503_ms']} ms; Retry-After waits {a['retry_after_waits']} "
        f"({a['retry_after_slept_s']} s slept); error back-offs {a['error_backoffs']}",
    ]
    if rss["start"] is not None:
        every = ", ".join(str(s["rss_mib"]) for s in result["samples"])
        lines.append(
            f"  server RSS start {rss['start']} MiB → end {rss['end']} MiB "
            f"(peak {rss['peak']} MiB); every {result['sample_every_s']:g} s: [{every}]"
        )
    cpu = result.get("cpu_s") or {}
    if cpu.get("machine") is not None:
        lines.append(
            f"  CPU during the load: {cpu['machine']} s busy on {result['machine']['cpus']} "
            f"cores: server {cpu['server']} s, this script {cpu['client']} s, "
            f"other processes {cpu['other']} s"
        )
    la = result["loadavg"]
    lines.append(f"  load average (1/5/15 min): start {la['start']} → end {la['end']}")
    w = result["writer"]
    if w:
        lines.append(
            f"  writer: {w['requests']} requests: statuses {_counts(w['statuses'])}"
            + (f" ({_counts(w['reasons'])})" if w["reasons"] else "")
            + (f"; errors {_counts(w['errors'])}" if w["errors"] else "")
            + f"; {w['documents_added']} documents added; p50 "
            f"{w['latency_ms_2xx']['p50']} ms (2xx), "
            f"{w['p50_503_ms']} ms (503); Retry-After waits {w['retry_after_waits']}"
        )
        docs = result.get("documents", {})
        lines.append(f"  documents in the served index: {docs.get('before')} → {docs.get('after')}")
    srv = result.get("server")
    if srv:
        stop = srv["stop"]
        log = srv["log"]
        lines.append(
            f"  server: {stop.get('signal')} → exit {stop['returncode']} after "
            f"{stop.get('exit_s')} s ({'clean' if stop['clean'] else 'NOT clean'}"
            f"{', killed' if stop['killed'] else ''}); log {log.get('path')}: "
            f"{log.get('tracebacks', 0)} tracebacks, {log.get('error_lines', 0)} error lines, "
            f"{log.get('warning_lines', 0)} warning lines, {log.get('debug_lines', 0)} debug lines"
        )
        for ln in [*log.get("errors_first", [])[:5], *log.get("warnings_first", [])[:3]]:
            lines.append(f"    | {ln[:160]}")
    if result.get("source_index_unchanged") is not None:
        lines.append(f"  source index unchanged: {result['source_index_unchanged']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start (or reach) the server, run the load, report."""
    ap = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--url", help="an already running server (loopback only); nothing started")
    ap.add_argument("--pid", type=int, help="with --url: the server's pid, to report its RSS")
    ap.add_argument("--clients", type=int, default=50, help="concurrent askers")
    ap.add_argument("--seconds", type=float, default=60.0, help="how long the askers ask")
    ap.add_argument("--writer", action="store_true", help="one more client adds documents")
    ap.add_argument(
        "--index",
        type=Path,
        default=ROOT / "index" / "default",
        help="the index to copy and serve (never changed itself)",
    )
    ap.add_argument(
        "--qa-command",
        default=".venv/bin/qa",
        help="what starts the server (shlex; 'serve --host … --port … --index …' is appended; "
        "a relative program path is taken from the repository root)",
    )
    ap.add_argument("--server-args", default="", help="more qa serve options (shlex string)")
    ap.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    ap.add_argument("--jitter", type=float, default=0.25, help="up to this many s added to waits")
    ap.add_argument("--backoff", type=float, default=0.5, help="first wait after an error, s")
    ap.add_argument("--seed", type=int, default=0, help="for the jitter and the documents")
    ap.add_argument("--warmup", type=int, default=5, help="sequential questions first")
    ap.add_argument("--sample-every", type=float, default=10.0, help="RSS sample interval, s")
    ap.add_argument("--api-key", default=os.environ.get("QA_API_KEY", ""))
    ap.add_argument("--start-timeout", type=float, default=180.0)
    ap.add_argument("--stop-timeout", type=float, default=30.0, help="SIGTERM, then SIGKILL")
    ap.add_argument(
        "--workdir", type=Path, help="for the index copy and the log; None: a new temporary folder"
    )
    ap.add_argument("--keep-workdir", action="store_true", help="do not remove the index copy")
    ap.add_argument(
        "--out",
        type=Path,
        help="the JSON report; None: bench/out/load.json (load-writer.json with --writer)",
    )
    args = ap.parse_args(argv)
    if not 1 <= args.clients <= 256:
        ap.error("--clients must be between 1 and 256")
    if not 0 < args.seconds <= 3600:
        ap.error("--seconds must be in (0, 3600]")
    if args.timeout <= 0 or args.jitter < 0 or args.backoff <= 0 or args.sample_every <= 0:
        ap.error("--timeout, --backoff and --sample-every must be positive, --jitter >= 0")
    out: Path = args.out or ROOT / "bench" / "out" / (
        "load-writer.json" if args.writer else "load.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}

    proc: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None
    made_workdir = False
    log_path: Path | None = None
    source_index = args.index.resolve()
    fingerprint_before: str | None = None
    cmd: list[str] = []
    if args.url:
        url = args.url.rstrip("/")
        if not is_loopback(url):
            ap.error(f"{url} is not a loopback address; this script only loads 127.0.0.1")
        pid: int | None = args.pid
    else:
        if args.pid:
            ap.error("--pid goes with --url (a started server's pid is known)")
        if not (source_index / "CURRENT").is_file():
            ap.error(f"{source_index} is not an index; build it first: .venv/bin/qa index seeds/")
        try:
            cmd = resolve_command(args.qa_command)
            extra = shlex.split(args.server_args)
        except ValueError as e:
            ap.error(f"--qa-command/--server-args: {e}")
        if args.workdir:
            workdir = args.workdir.resolve()
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(tempfile.mkdtemp(prefix="qa-load-"))
            made_workdir = True
        fingerprint_before = index_fingerprint(source_index)
        index_copy = workdir / "index"
        if index_copy.exists():
            shutil.rmtree(index_copy)
        shutil.copytree(source_index, index_copy, symlinks=True)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        cmd += ["serve", "--host", "127.0.0.1", "--port", str(port), "--index", str(index_copy)]
        cmd += extra
        log_path = workdir / "server.log"
        print(f"starting: {shlex.join(cmd)}\n  (cwd {workdir}, log {log_path})", file=sys.stderr)
        with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall it
            # cwd is the work folder, so `python -m qa.cli` imports qa from PYTHONPATH or
            # the installed package, never from whatever folder this script was run in.
            proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
        pid = proc.pid

    result: dict[str, Any] = {
        "url": url,
        "clients": args.clients,
        "seconds": args.seconds,
        "writer": args.writer,
        "timeout_s": args.timeout,
        "jitter_s": args.jitter,
        "seed": args.seed,
        "sample_every_s": args.sample_every,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "server_command": cmd or None,
        "server_pid": pid,
        "pythonpath": os.environ.get("PYTHONPATH"),
        "source_index": str(source_index) if proc is not None else None,
    }
    stop: dict[str, Any] | None = None
    try:
        wait_ready(url, args.start_timeout, proc)
        result["warmup"] = warm_up(url, headers, args.warmup, max(args.timeout, 120))
        result["documents"] = {"before": count_documents(url, headers)} if args.writer else {}
        rss_start, cpu_start = rss_mib(pid), cpu_now(pid)
        la_start = loadavg()
        print(
            f"load: {args.clients} clients × {args.seconds:g} s"
            f"{' + writer' if args.writer else ''}; load average {la_start}, "
            f"server RSS {rss_start} MiB",
            file=sys.stderr,
        )
        opts = LoadOptions(
            url=url,
            headers=headers,
            clients=args.clients,
            seconds=args.seconds,
            timeout=args.timeout,
            jitter=args.jitter,
            backoff=args.backoff,
            seed=args.seed,
            writer=args.writer,
            sample_every=args.sample_every,
            pid=pid,
        )
        load = asyncio.run(run_load(opts))
        added_ids = load.pop("_added_ids")
        rss_end, cpu_end = rss_mib(pid), cpu_now(pid)
        result["loadavg"] = {"start": la_start, "end": loadavg()}
        result |= load
        result["server_rss_mib"] = {
            "start": rss_start,
            "end": rss_end,
            "peak": rss_mib(pid, "VmHWM"),
            "samples": [s["rss_mib"] for s in load["samples"]],
        }
        result["cpu_s"] = cpu_split(cpu_start, cpu_end)
        if args.writer:
            result["documents"]["after"] = count_documents(url, headers)
            if proc is None and added_ids:  # someone else's index: take back what was added
                result["documents"]["cleanup"] = remove_documents(url, headers, added_ids)
    except (RuntimeError, OSError) as e:
        if log_path is not None and log_path.is_file():
            print(log_path.read_text("utf-8", "replace")[-3000:], file=sys.stderr)
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        if proc is not None:
            stop = stop_server(proc, args.stop_timeout)
        if log_path is not None and log_path.is_file():
            kept_log = out.with_name(out.stem + "-server.log")
            shutil.copyfile(log_path, kept_log)
            log_path = kept_log
        if made_workdir and workdir is not None and not args.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    if proc is not None and stop is not None and log_path is not None:
        log_report = scan_log(log_path)
        result["server"] = {"stop": shutdown_verdict(stop, log_report), "log": log_report}
        result["source_index_unchanged"] = index_fingerprint(source_index) == fingerprint_before
    print(summary(result))
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
