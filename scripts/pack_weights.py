"""Pack model weights small enough to travel, and unpack them back to a model folder.

    python scripts/pack_weights.py pack SRC_DIR DEST_DIR [--part-mb 60] [--skip-pooler]
        [--keep-rows ROWS.json]
    python scripts/pack_weights.py unpack DEST_DIR... OUT_DIR

``pack`` stores every large 2-D float tensor as int8 with one fp16 scale per group of
64 weights in a row (symmetric, absolute maximum) and every other float tensor as fp16,
xz-compresses the result and splits it into parts of at most ``--part-mb`` MB, next to
the folder's small files (config, tokenizer). ``unpack`` joins the parts (from one or
more folders), restores fp32 weights and writes ``model.safetensors`` with the small
files into OUT_DIR. Rounding to int8 moves each weight by about half a step (the
group's maximum / 254; the scales are fp16): a starting point for
fine-tuning, not a replacement for the original weights.
"""

from __future__ import annotations

import argparse
import json
import lzma
import shutil
import sys
from pathlib import Path

BLOB = "weights.st.xz"


GROUP = 64


def pack(
    src: Path,
    dest: Path,
    part_mb: float,
    skip_pooler: bool = False,
    keep_rows: Path | None = None,
) -> None:
    import torch
    from safetensors.torch import load_file, save

    tensors = load_file(str(src / "model.safetensors"))
    out: dict[str, torch.Tensor] = {}
    for name, t in tensors.items():
        if name.startswith("pooler.") and skip_pooler:
            continue
        if keep_rows is not None and name.endswith("word_embeddings.weight"):
            keep = torch.zeros(t.shape[0], dtype=torch.bool)
            keep[torch.tensor(json.loads(keep_rows.read_text()))] = True
            t = t.masked_fill(~keep[:, None], 0.0)
            print(f"{name}: kept {int(keep.sum())} of {t.shape[0]} rows", file=sys.stderr)
        if not t.is_floating_point():
            out[name + ".raw"] = t
        elif t.ndim == 2 and t.numel() >= 100_000 and t.shape[1] % GROUP == 0:
            g = t.float().reshape(t.shape[0], -1, GROUP)
            scale = g.abs().amax(dim=2, keepdim=True).clamp_min(1e-12) / 127.0
            out[name + ".q8"] = torch.round(g / scale).clamp(-127, 127).to(torch.int8)
            out[name + ".scale"] = scale.half()
        else:
            out[name + ".f16"] = t.half()
    blob = lzma.compress(save(out), preset=6)
    dest.mkdir(parents=True, exist_ok=True)
    step = int(part_mb * 1e6)
    for i in range(0, len(blob), step):
        (dest / f"{BLOB}.part{i // step:02d}").write_bytes(blob[i : i + step])
    for f in src.iterdir():
        if f.is_dir():  # e.g. a bridged reader's model_tokenizer/
            shutil.copytree(f, dest / f.name, dirs_exist_ok=True)
        elif f.name != "model.safetensors" and f.stat().st_size < 5e6:
            shutil.copy2(f, dest / f.name)
        elif f.name != "model.safetensors":
            print(f"left out {f.name} ({f.stat().st_size / 1e6:.0f} MB)", file=sys.stderr)
    print(f"{len(tensors)} tensors -> {len(blob) / 1e6:.1f} MB in {dest}", file=sys.stderr)


def unpack(srcs: list[Path], out_dir: Path) -> None:
    import torch
    from safetensors.torch import load, save_file

    parts = sorted(
        (p for s in srcs for p in s.glob(f"{BLOB}.part*")),
        key=lambda p: int(p.name.rsplit("part", 1)[1]),
    )
    raw = lzma.decompress(b"".join(p.read_bytes() for p in parts))
    packed = load(raw)
    weights: dict[str, torch.Tensor] = {}
    for name, t in packed.items():
        if name.endswith(".q8"):
            base = name[:-3]
            w = t.float() * packed[base + ".scale"].float()
            weights[base] = w.reshape(w.shape[0], -1)
        elif name.endswith(".f16"):
            weights[name[:-4]] = t.float()
        elif name.endswith(".raw"):
            weights[name[:-4]] = t
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    for s in srcs:
        for f in s.iterdir():
            if f.is_dir():
                shutil.copytree(f, out_dir / f.name, dirs_exist_ok=True)
            elif not f.name.startswith(BLOB):
                shutil.copy2(f, out_dir / f.name)
    print(f"{len(weights)} tensors from {len(parts)} parts -> {out_dir}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("src", type=Path)
    p.add_argument("dest", type=Path)
    p.add_argument("--part-mb", type=float, default=60.0)
    p.add_argument("--skip-pooler", action="store_true", help="Leave out pooler.* weights.")
    p.add_argument(
        "--keep-rows",
        type=Path,
        help="JSON list of word-embedding rows to keep (the tokens the data uses); the "
        "other rows are zeroed, which compresses to almost nothing.",
    )
    u = sub.add_parser("unpack")
    u.add_argument("paths", type=Path, nargs="+", help="part folders..., then OUT_DIR")
    a = ap.parse_args()
    if a.cmd == "pack":
        pack(a.src, a.dest, a.part_mb, a.skip_pooler, a.keep_rows)
    else:
        unpack(a.paths[:-1], a.paths[-1])


if __name__ == "__main__":
    main()
