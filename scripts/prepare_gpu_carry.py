"""Pack what a `--big-teacher` GPU run needs into loads that each fit one device call.

    python scripts/prepare_gpu_carry.py --mpnet DIR [--reader qa/models/reader]
        [--data ../shared/data] [--wheels DIR] [--out .gpu]

The device machine is reached by calls that each carry at most 64 MiB (the working tree
included) and keeps its files between calls only while it is warm (30 s idle). The
teacher's weights (all-mpnet-base-v2, 438 MB fp32) therefore travel packed
(`scripts/pack_weights.py`: int8 per 64-weight group, the word-embedding rows of tokens
that occur in none of the data files zeroed), with the data files (xz), the teacher's
tokenizer and any wheels (e.g. a tokenizers release newer than the machine's 0.23.2,
which cuts long passages short), split over ``OUT/1``, ``OUT/2``, …: each of those calls
copies its load to /root/carry. A last call carries no load: the working tree with the
reader's own fp16 weights (about 45 MiB) is what it brings; it unpacks the teacher and
trains. Make the calls one right after the other.

During the load calls the reader's ``model.safetensors`` must be out of the working tree
(move it aside, and back before the last call). The script prints the commands; each
load is checked against the limit.
"""

from __future__ import annotations

import argparse
import json
import lzma
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LIMIT = 64 * 1024 * 1024
MARGIN = 512 * 1024  # files that may appear in the tree before the calls

STASH = "mkdir -p /root/carry && cp -r {load}/. /root/carry/ && du -sh /root/carry/*"
RUN = (
    "export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 QA_DATA_DIR=/root/data; C=/root/carry; "
    "if [ -d $C/wheels ]; then python3 -m pip install -q --no-index --no-deps --target "
    "/tmp/site $C/wheels/*.whl && export PYTHONPATH=/tmp/site; fi; "
    "python3 -c \"import lzma,pathlib as p;d=p.Path('/root/data');d.mkdir(exist_ok=True);"
    "[(d/f.name[:-3]).write_bytes(lzma.decompress(f.read_bytes())) "
    "for f in p.Path('/root/carry/data').glob('*.xz')]\" && "
    "python3 scripts/pack_weights.py unpack $C/mpnet /root/mpnet && "
    "python3 scripts/train_reader_gpu.py --run /root/run --publish $OUT/pub "
    "--big-teacher /root/mpnet {args} 2>&1 | tee $OUT/log.txt"
)


def tree_bytes() -> int:
    """Bytes of the working tree that travels (tracked and untracked-not-ignored files)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    return sum((ROOT / f).stat().st_size for f in out.split("\0") if f and (ROOT / f).is_file())


def used_rows(reader: Path, mpnet: Path, data: Path) -> list[int]:
    """The teacher's word-embedding rows of every token the data files use."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    from qa.read.bridge import Bridge

    fast = Tokenizer.from_file(str(reader / "tokenizer.json"))
    fast.no_truncation()
    fast.no_padding()
    texts = []
    for f in sorted(data.glob("*.json")):
        for art in json.loads(f.read_text())["data"]:
            for par in art["paragraphs"]:
                texts.append(par["context"])
                texts += [q["question"] for q in par["qas"]]
    used = {i for enc in fast.encode_batch(texts) for i in enc.ids}
    reader_tok = AutoTokenizer.from_pretrained(reader)
    model_tok = AutoTokenizer.from_pretrained(mpnet)
    bridge = Bridge(reader_tok, model_tok)
    return sorted({int(bridge.table[i]) for i in used} | set(model_tok.all_special_ids))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mpnet", type=Path, required=True, help="all-mpnet-base-v2 folder")
    ap.add_argument("--reader", type=Path, default=ROOT / "qa" / "models" / "reader")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--wheels", type=Path, help="folder of wheels to install there")
    ap.add_argument("--out", type=Path, default=ROOT / ".gpu")
    ap.add_argument(
        "--run-args",
        default="--budget 175 --deadline 545",
        help="train_reader_gpu.py's other arguments in the last call (e.g. "
        "'--grow --budget 140 --deadline 560')",
    )
    a = ap.parse_args()
    from scripts.pack_weights import BLOB, pack

    out = a.out
    work = out / "work"
    for d in [*out.glob("[0-9]*"), work]:
        shutil.rmtree(d, ignore_errors=True)
    rows = work / "rows.json"
    rows.parent.mkdir(parents=True)
    rows.write_text(json.dumps(used_rows(a.reader, a.mpnet, a.data)))
    pack(a.mpnet, work / "mpnet", 1e9, skip_pooler=True, keep_rows=rows)
    payload: list[tuple[str, bytes]] = []  # (path in the load, contents); blobs split
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json"):  # fmt: skip
        payload.append((f"mpnet/{name}", (a.mpnet / name).read_bytes()))
    for f in sorted(a.data.glob("*.json")):
        payload.append((f"data/{f.name}.xz", lzma.compress(f.read_bytes(), preset=9)))
    for f in sorted(a.wheels.glob("*.whl")) if a.wheels else []:
        payload.append((f"wheels/{f.name}", f.read_bytes()))
    blobs = [(k, (work / k / f"{BLOB}.part00").read_bytes()) for k in ("mpnet",)]
    shutil.rmtree(work)
    # What the tree will weigh without the reader's weights, plus a margin.
    weights = a.reader / "model.safetensors"
    tree = tree_bytes() - (weights.stat().st_size if weights.exists() else 0) + MARGIN
    room = LIMIT - tree
    if room <= 0:
        sys.exit(f"the working tree alone ({tree / 2**20:.1f} MiB) leaves no room in a call")
    loads: list[list[tuple[str, bytes]]] = [[]]

    def free() -> int:
        return room - sum(len(b) for _, b in loads[-1])

    for path, data in payload:  # small files whole
        if len(data) > free():
            loads.append([])
        loads[-1].append((path, data))
    for folder, blob in blobs:  # blobs cut into numbered parts across loads
        part = 0
        while blob:
            if free() <= 0:
                loads.append([])
            take = blob[: free()]
            loads[-1].append((f"{folder}/{BLOB}.part{part:02d}", take))
            blob, part = blob[len(take) :], part + 1
    rel = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    n = len(loads) + 1
    for i, load in enumerate(loads, 1):
        for path, data in load:
            (out / str(i) / path).parent.mkdir(parents=True, exist_ok=True)
            (out / str(i) / path).write_bytes(data)
        total = tree + sum(len(b) for _, b in load)
        if total > LIMIT:  # a small file larger than a whole call
            sys.exit(f"load {i} would carry {total / 2**20:.1f} MiB, over the 64 MiB of a call")
        cmd = STASH.format(load=f"{rel}/{i}")
        mib = total / 2**20
        print(f"call {i} of {n} (carry {rel}/{i}; {mib:.1f} MiB of 64 with the tree):")
        print(f"  {cmd}")
    last = tree - MARGIN + (weights.stat().st_size if weights.exists() else 0)
    print(f"call {n} of {n} (the reader's model.safetensors back in place first; no carry):")
    if weights.exists() and last + MARGIN > LIMIT:
        sys.exit(f"the working tree with the reader's weights is {last / 2**20:.1f} MiB: over")
    run = RUN.format(args=a.run_args)
    print(f"  {run}  [{len(run)} characters]")


if __name__ == "__main__":
    main()
