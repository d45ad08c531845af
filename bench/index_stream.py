"""``qa index`` on a synthetic folder: passages/s and peak memory, for a checkout of qa.

    python bench/index_stream.py make DIR [--files N] [--copies K]  # SQuAD paragraphs
    python bench/index_stream.py run DIR --code CHECKOUT [--store URI] [--kill-after S]
                                         [--hash-encoder]

``make`` writes the paragraphs of the SQuAD v1.1 dev set and the three SQuADShifts sets
(../shared/data) as text files; ``run`` runs ``python -m qa.cli index DIR`` from the
checkout given (so two versions of qa are compared on the same files) into a new index,
and prints the wall time, passages, passages/s and the child's peak RSS (getrusage).
``--kill-after`` sends SIGINT after that many seconds, ``--kill-after-batches`` once that
many batches are written (an interrupted rebuild, to resume).
``--hash-encoder`` indexes through the engine with a hashing encoder (384 dimensions, no
model) instead: what reading, chunking and the store cost without the embedder's time.
``--copies K`` writes every paragraph K times, each copy with its number in front (a
larger corpus of distinct texts).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = [
    "squad-v1.1-dev.json",
    "squadshifts-new-wiki.json",
    "squadshifts-amazon-reviews.json",
    "squadshifts-reddit.json",
]


def make(folder: Path, files: int | None, copies: int = 1) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    seen, n = set(), 0
    for copy in range(copies):
        for name in SETS:
            for article in json.loads((DATA / name).read_text())["data"]:
                for p in article["paragraphs"]:
                    text = p["context"].strip()
                    text = f"Copy {copy + 1}. {text}" if copies > 1 else text
                    if text in seen:
                        continue
                    seen.add(text)
                    (folder / f"{n:06d}.txt").write_text(text + "\n")
                    n += 1
                    if files is not None and n >= files:
                        print(f"{n} files in {folder}")
                        return
    print(f"{n} files in {folder}")


HASHED = """
import sys, zlib
from pathlib import Path
import numpy as np
from qa.core.config import Settings
from qa.engine import Engine

class Hashing:
    name, dim = "bench/hashing", 384
    def encode(self, texts, batch_size=32, progress=None):
        out = np.stack([np.random.default_rng(zlib.crc32(t.encode())).standard_normal(384)
                        for t in texts]).astype(np.float32) if texts else np.zeros((0, 384))
        if progress:
            progress(len(texts))
        return out / np.linalg.norm(out, axis=1, keepdims=True).clip(1e-9)

e = Engine(Settings.from_env(index_dir=sys.argv[2], store=sys.argv[3]), encoder=Hashing())
built = e.index([Path(sys.argv[1])])
print(f"indexed {len(built.store.documents)} documents, {len(built.store)} passages",
      file=sys.stderr)
"""


def run(
    folder: Path,
    code: Path,
    index: Path,
    store: str,
    kill_after: float | None,
    hashed: bool,
    kill_batches: int | None = None,
) -> None:
    cmd = [sys.executable, "-m", "qa.cli", "index", str(folder), "--index", str(index)]
    if store:
        cmd += ["--store", store]
    if hashed:
        cmd = [sys.executable, "-c", HASHED, str(folder), str(index), store]
    env = {**os.environ, "PYTHONPATH": str(code)}
    t0 = time.monotonic()
    # a job started in the background ignores SIGINT, and so would its children: restore it
    restore = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, preexec_fn=restore)
    if kill_batches:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if line.startswith("qa: indexed ") and (kill_batches := kill_batches - 1) == 0:
                proc.send_signal(signal.SIGINT)
        proc.wait()
        err = "".join(seen)
    else:
        try:
            _, err = proc.communicate(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate()
    wall = time.monotonic() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = [x for x in err.splitlines() if x.strip()]
    print("\n".join(lines[-8:]))
    m = re.search(r"indexed (\d+) documents, (\d+) passages", err)
    passages = int(m[2]) if m else 0
    print(
        json.dumps(
            {
                "code": str(code),
                "store": store or "folder",
                "encoder": "hashing" if hashed else "default",
                "exit": proc.returncode,
                "wall_s": round(wall, 1),
                "passages": passages,
                "passages_per_s": round(passages / wall, 1) if passages else None,
                "peak_rss_mb": round(rss),
                "load_avg": os.getloadavg(),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("folder", type=Path)
    m.add_argument("--files", type=int)
    m.add_argument("--copies", type=int, default=1)
    r = sub.add_parser("run")
    r.add_argument("folder", type=Path)
    r.add_argument("--code", type=Path, required=True)
    r.add_argument("--index", type=Path)
    r.add_argument("--store", default="")
    r.add_argument("--kill-after", type=float)
    r.add_argument("--kill-after-batches", type=int)
    r.add_argument("--hash-encoder", action="store_true")
    a = ap.parse_args()
    if a.cmd == "make":
        make(a.folder, a.files, a.copies)
    else:
        index = a.index or Path(tempfile.mkdtemp(prefix="qa-bench-")) / "index"
        run(a.folder, a.code, index, a.store, a.kill_after, a.hash_encoder, a.kill_after_batches)


if __name__ == "__main__":
    main()
