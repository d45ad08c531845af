"""Train the reader on one GPU: teachers in parallel, then students distilled from them.

    python scripts/train_reader_gpu.py --run DIR [--publish DIR] [--budget 140] [--deadline 700]

Every run is a ``qa train-reader`` command (its card records it) continuing from
``--init`` (default: the shipped reader). Phase 1 trains the teachers side by side on the
one GPU; phase 2 trains students with ``--teacher`` set to every teacher that finished;
phase 3 (``--rounds 2``) trains students again from the best reader so far, distilled
from every reader trained before it.
Each finished reader is scored closed-book, always answering, on the held-out articles'
answerable questions (never trained on: this picks the best reader) and on the 7,595
evaluation questions (reported, not used to choose). ``DIR/results.json`` holds every
run's settings and scores; the pick's weights (split in parts under 16 MiB), config and
``qa_reader.json`` go to ``--publish`` after each phase. ``--smoke`` runs the same steps
for a few training steps on a sliver of the data (a CPU check of the script).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.train import squad  # noqa: E402

# Each run stops at its epochs or at the time budget, whichever comes first.
TEACHERS = [
    {"name": "t0", "seed": 10, "lr": 1e-4, "epochs": 3},
    {"name": "t1", "seed": 11, "lr": 1e-4, "epochs": 3, "max_length": 384, "stride": 128},
    {"name": "t2", "seed": 12, "lr": 5e-5, "epochs": 2},
    {"name": "t3", "seed": 13, "lr": 2e-4, "epochs": 5, "max_length": 384, "stride": 128},
]
STUDENTS = [
    {"name": "s0", "seed": 20, "lr": 1e-4, "epochs": 3, "alpha": 0.7},
    {"name": "s1", "seed": 21, "lr": 5e-5, "epochs": 3, "alpha": 0.9},
]
# Round 2: start from the pick so far, distil from every reader trained before.
ROUND2 = [
    {"name": "g0", "seed": 30, "lr": 5e-5, "epochs": 2, "alpha": 0.7},
    {"name": "g1", "seed": 31, "lr": 3e-5, "epochs": 2, "alpha": 0.9},
]
# With --big-teacher DIR (a larger encoder of another family, e.g. all-mpnet-base-v2):
# the teachers are trained from DIR on the reader's windows (qa.read.bridge), then students
# start from --init and are distilled from them; round 2 starts students from the pick
# and distils them from the big teachers alone.
BIG_TEACHERS = [
    {"name": "b0", "seed": 40, "lr": 5e-5, "epochs": 3},
    {"name": "b1", "seed": 41, "lr": 3e-5, "epochs": 3},
]
BIG_STUDENTS = [
    {"name": "m0", "seed": 50, "lr": 5e-5, "epochs": 3, "alpha": 0.9},
    {"name": "m1", "seed": 51, "lr": 1e-4, "epochs": 3, "alpha": 0.7},
]
BIG_ROUND2 = [
    {"name": "g0", "seed": 60, "lr": 5e-5, "epochs": 6, "alpha": 0.9, "budget": 125},
    {"name": "g1", "seed": 61, "lr": 3e-5, "epochs": 6, "alpha": 1.0, "budget": 125},
]
# With --deep (and --big-teacher): one big teacher, then three students from --init side
# by side, all distilled from it alone: plainly, on shortened copies of the passages too
# (--augment), and on its inner layers too (--distill-layers).
DEEP_STUDENTS = [
    {"name": "k0", "seed": 70, "lr": 3e-5, "epochs": 6, "alpha": 1.0, "budget": 190},
    {"name": "k1", "seed": 71, "lr": 3e-5, "epochs": 6, "alpha": 1.0, "budget": 190, "augment": 1},
    {"name": "k2", "seed": 72, "lr": 3e-5, "epochs": 6, "alpha": 1.0, "budget": 190, "layers": 0.2},
]
# With --grow (and --big-teacher): one big teacher, then three students from --init side
# by side, distilled from it alone at one learning rate, as they are (6 layers) and
# deepened to 8 and 12 layers by repeating their layers (qa train-reader --layers): what
# depth buys in F1 (its cost in reading time is measured on the CPU). Each keeps the
# definitional questions (data/definitions/train.json twice, gold spans only).
GROW_STUDENTS = [
    {"name": "w6", "seed": 80, "lr": 1e-4, "epochs": 6, "alpha": 1.0, "budget": 220, "gold": 2},
    {"name": "w8", "seed": 81, "lr": 1e-4, "epochs": 6, "alpha": 1.0, "budget": 220, "gold": 2,
     "grow": 8},
    {"name": "w12", "seed": 82, "lr": 1e-4, "epochs": 6, "alpha": 1.0, "budget": 220, "gold": 2,
     "grow": 12},
]  # fmt: skip
DEFINITIONS = ROOT / "data" / "definitions" / "train.json"
PART = 15 * 1024 * 1024
RECIPE = (
    "Trained on one GPU by `scripts/train_reader_gpu.py`: four teacher readers side by "
    "side from the previous reader, then two students distilled from them, then (round 2) "
    "two students from the best reader so far distilled from all six; each run {budget} s "
    "of training or its epochs, whichever came first. The pick ({pick}) is the reader with "
    "the best closed F1 on the held-out articles' answerable questions. Paths in the "
    "commands below are that machine's."
)
BIG_RECIPE = (
    "Trained on one GPU by `scripts/train_reader_gpu.py --big-teacher`: two teacher "
    "readers trained side by side from a larger encoder ({teacher}) on the reader's own "
    "windows (`qa/bridge.py`), then two students from the previous reader distilled from "
    "both, then (round 2) two students from the best of those distilled from the two "
    "teachers again; each run {budget} s of training (round 2: 125 s) or its epochs, "
    "whichever came first. The pick ({pick}) is the student with the best closed F1 on the "
    "held-out articles' answerable questions. Paths in the commands below are that "
    "machine's."
)
DEEP_RECIPE = (
    "Trained on one GPU by `scripts/train_reader_gpu.py --big-teacher --deep`: one teacher "
    "reader trained from a larger encoder ({teacher}) on the reader's own windows "
    "(`qa/bridge.py`), then three students from the previous reader distilled from it side "
    "by side (plain; with shortened copies of the passages; with its inner layers), each "
    "190 s of training or its epochs, whichever came first. The pick ({pick}) is the "
    "student with the best closed F1 on the held-out articles' answerable questions. Paths "
    "in the commands below are that machine's."
)
GROW_RECIPE = (
    "Trained on one GPU by `scripts/train_reader_gpu.py --big-teacher --grow`: one teacher "
    "reader trained from a larger encoder ({teacher}) on the reader's own windows "
    "(`qa/bridge.py`), then three students from the previous reader distilled from it side "
    "by side at 6, 8 and 12 layers (`--layers`: deeper ones repeat its layers), each 220 s "
    "of training or its epochs, whichever came first. The pick ({pick}) is the student "
    "with the best closed F1 on the held-out articles' answerable questions. Paths in the "
    "commands below are that machine's."
)
T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def train_command(cfg: dict[str, Any], args: argparse.Namespace, teachers: list[Path]) -> list[str]:
    files = [str(squad.DATA_DIR / n) for n in squad.TRAIN_FILES]
    cmd = [
        sys.executable, "-m", "qa.train.cli", "train-reader", *files,
        "--out", str(args.run / cfg["name"]),
        "--init", str(cfg.get("init", args.init)),
        "--epochs", str(cfg["epochs"]),
        "--time-budget", str(cfg.get("budget", args.budget)),
        "--lr", str(cfg["lr"]),
        "--seed", str(cfg["seed"]),
        "--batch-size", "32",
        "--max-length", str(cfg.get("max_length", 256)),
        "--stride", str(cfg.get("stride", 96)),
        "--checkpoint-every", "1000000",
        "--threads", "2",
        "--answer", args.answer,
    ]  # fmt: skip
    if cfg.get("windows_from"):
        cmd += ["--windows-from", str(cfg["windows_from"])]
    for t in sorted(squad.HELDOUT_TITLES):
        cmd += ["--exclude-title", t]
    for t in teachers:
        cmd += ["--teacher", str(t)]
    if teachers:
        cmd += ["--distill-alpha", str(cfg["alpha"])]
    if cfg.get("augment"):
        cmd += ["--augment", str(cfg["augment"])]
    if cfg.get("layers"):
        cmd += ["--distill-layers", str(cfg["layers"])]
    if cfg.get("grow"):
        cmd += ["--layers", str(cfg["grow"])]
    for _ in range(cfg.get("gold", 0)):
        cmd += ["--gold", str(DEFINITIONS)]
    if args.smoke:
        cmd += ["--max-steps", "3"]
        cmd += [f"--fraction={n}=0.01" for n in squad.TRAIN_FILES]
    return cmd


def run_logged(cmd: list[str], logfile: Path) -> int:
    env = dict(os.environ, OMP_NUM_THREADS="2", TOKENIZERS_PARALLELISM="true")
    with logfile.open("w") as fh:
        return subprocess.run(
            cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        ).returncode


def train(cfg: dict[str, Any], args: argparse.Namespace, teachers: list[Path]) -> Path | None:
    logfile = args.run / f"{cfg['name']}.log"
    log(f"train {cfg['name']} {cfg}")
    rc = run_logged(train_command(cfg, args, teachers), logfile)
    final = args.run / cfg["name"] / "final"
    ok = rc == 0 and (final / "model.safetensors").exists()
    lines = logfile.read_text().strip().splitlines()
    keep = [x for x in lines if x.startswith(("examples", "step ", "trained"))][-3:]
    log(f"trained {cfg['name']}: rc {rc} {'ok' if ok else 'FAILED'} | " + " | ".join(keep))
    if not ok:
        log("\n".join(lines[-15:]))
    return final if ok else None


def training_info(model_dir: Path | None) -> dict[str, Any]:
    if model_dir is None:
        return {}
    t = json.loads((model_dir / "qa_reader.json").read_text()).get("training", {})
    keys = ("steps", "epochs_done", "train_seconds", "loss_first", "loss_last", "features")
    return {k: t.get(k) for k in keys}


def score(model_dir: Path, device: str, limit: int | None) -> dict[str, Any]:
    """Closed-book EM/F1, always answering: held-out answerable questions and the eval set.

    Spans are scored as the model reads them (no length prior): every reader, the shipped
    one included, is compared on its weights alone.
    """
    from qa.read.reader import NeuralReader
    from qa.train.evaluate import evaluate, gold_hit

    r = NeuralReader(model_dir, backend="torch", device=device, length_penalty=0.0)
    r.null_threshold = None
    r.load()
    held = [ex for ex in squad.heldout_examples() if ex.answers]
    if limit:
        held = held[:limit]
    answers = r.read_many([(ex.question, [gold_hit(ex)]) for ex in held], batch_size=64)
    pairs = [
        squad.score(a.text if a else None, [t for t, _ in ex.answers])
        for a, ex in zip(answers, held, strict=True)
    ]
    out: dict[str, Any] = {
        "heldout_em": 100 * sum(e for e, _ in pairs) / len(pairs),
        "heldout_f1": 100 * sum(f for _, f in pairs) / len(pairs),
        "heldout_n": len(pairs),
    }
    ev = evaluate(
        squad.DATA_DIR / squad.V1_DEV, r, mode="closed", limit=limit, batch_size=64,
        progress=False, latency_n=0,
    )  # fmt: skip
    out.update({"eval_em": ev["em"], "eval_f1": ev["f1"], "eval_n": ev["n"]})
    return out


def score_in_child(name: str, model_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    logfile = args.run / f"score-{name}.log"
    cmd = [sys.executable, str(Path(__file__).resolve()), "score", str(model_dir)]
    cmd += ["--device", args.device] + (["--smoke"] if args.smoke else [])
    rc = run_logged(cmd, logfile)
    lines = logfile.read_text().strip().splitlines()
    try:
        res = json.loads(lines[-1]) if rc == 0 else {"error": lines[-5:]}
    except (json.JSONDecodeError, IndexError):
        res = {"error": lines[-5:]}
    log(f"scored {name}: {res}")
    return res


def publish(model_dir: Path, dest: Path, results: dict[str, Any]) -> None:
    """The pick's weights in parts under 16 MiB, its config and qa_reader.json."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("model.safetensors.part*"):
        old.unlink()
    data = (model_dir / "model.safetensors").read_bytes()
    for i in range(0, len(data), PART):
        (dest / f"model.safetensors.part{i // PART}").write_bytes(data[i : i + PART])
    shutil.copy(model_dir / "config.json", dest / "config.json")
    meta = json.loads((model_dir / "qa_reader.json").read_text())
    recipe = RECIPE
    if results.get("big_teacher"):
        recipe = BIG_RECIPE
        if results.get("deep"):
            recipe = DEEP_RECIPE
        elif results.get("grow"):
            recipe = GROW_RECIPE
    meta["recipe"] = recipe.format(
        budget=results.get("budget_s"), pick=results.get("pick"), teacher=results.get("big_teacher")
    )
    (dest / "qa_reader.json").write_text(json.dumps(meta, indent=2) + "\n")
    (dest / "results.json").write_text(json.dumps(results, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--publish", type=Path)
    ap.add_argument("--init", type=Path, default=ROOT / "qa" / "models" / "reader")
    ap.add_argument("--budget", type=float, default=140.0, help="Training seconds per run.")
    ap.add_argument("--deadline", type=float, default=700.0, help="Seconds for the whole job.")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--rounds", type=int, default=2, help="1: teachers and students only.")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument(
        "--big-teacher",
        type=Path,
        help="Train the teachers from this larger encoder (read through qa.read.bridge).",
    )
    ap.add_argument(
        "--deep",
        action="store_true",
        help="With --big-teacher: one teacher, then the three DEEP_STUDENTS; one round.",
    )
    ap.add_argument(
        "--answer",
        choices=("first", "consensus"),
        default="first",
        help="Gold answer each question trains on (qa train-reader --answer).",
    )
    ap.add_argument(
        "--grow",
        action="store_true",
        help="With --big-teacher: one teacher, then the three GROW_STUDENTS; one round.",
    )
    args = ap.parse_args()
    for flag in ("deep", "grow"):
        if getattr(args, flag) and not args.big_teacher:
            ap.error(f"--{flag} needs --big-teacher DIR (the encoder its teacher is trained from)")
    if args.deep and args.grow:
        ap.error("--deep and --grow are two different sets of students: choose one")
    from tokenizers import Tokenizer

    from qa.read.windows import check_windows

    # Fails fast where tokenizers cuts long passages short (0.23.2): carry a newer wheel.
    check_windows(Tokenizer.from_file(str(args.init / "tokenizer.json")))
    args.run.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"budget_s": args.budget, "runs": {}}
    teacher_cfgs, student_cfgs = TEACHERS, STUDENTS
    if args.big_teacher:
        results["big_teacher"] = args.big_teacher.name
        teacher_cfgs = [
            {**c, "init": str(args.big_teacher), "windows_from": str(args.init)}
            for c in BIG_TEACHERS
        ]
        student_cfgs = BIG_STUDENTS
        if args.deep:
            results["deep"] = True
            results["student_budget_s"] = DEEP_STUDENTS[0]["budget"]
            teacher_cfgs, student_cfgs = teacher_cfgs[:1], DEEP_STUDENTS
            args.rounds = 1
        elif args.grow:
            results["grow"] = True
            results["student_budget_s"] = GROW_STUDENTS[0]["budget"]
            teacher_cfgs, student_cfgs = teacher_cfgs[:1], GROW_STUDENTS
            args.rounds = 1

    def save() -> None:
        (args.run / "results.json").write_text(json.dumps(results, indent=2))

    def pick_and_publish() -> None:
        scored = {
            n: r
            for n, r in results["runs"].items()
            if "heldout_f1" in r.get("score", {}) and not r["config"].get("windows_from")
        }  # a bridged teacher is not a reader qa can ship
        if not scored:
            return
        best = max(scored, key=lambda n: scored[n]["score"]["heldout_f1"])
        results["pick"] = best
        save()
        if args.publish and scored[best].get("dir"):
            publish(Path(scored[best]["dir"]), args.publish, results)
            log(f"published {best}")

    pool = ThreadPoolExecutor(max_workers=8)
    scores: dict[str, Future[dict[str, Any]]] = {}

    def finish(
        cfgs: list[dict[str, Any]], futs: dict[str, Future[Path | None]], teachers: list[Path]
    ) -> list[Path]:
        """Wait for these trainings, record them, start scoring each reader that finished."""
        done: list[Path] = []
        for c in cfgs:
            d = futs[c["name"]].result()
            results["runs"][c["name"]] = {
                "config": c,
                "dir": str(d) if d else None,
                "teachers": [str(t) for t in teachers],
                "training": training_info(d),
            }
            if d:
                done.append(d)
                scores[c["name"]] = pool.submit(score_in_child, c["name"], d, args)
        save()
        return done

    def settle(cfgs: list[dict[str, Any]]) -> None:
        for c in cfgs:
            if c["name"] in scores:
                results["runs"][c["name"]]["score"] = scores[c["name"]].result()
        pick_and_publish()

    base: Future[dict[str, Any]] = pool.submit(score_in_child, "init", args.init, args)
    teachers = finish(
        teacher_cfgs, {c["name"]: pool.submit(train, c, args, []) for c in teacher_cfgs}, []
    )
    left = args.deadline - (time.monotonic() - T0)
    sfuts: dict[str, Future[Path | None]] = {}
    student_budget = max(c.get("budget", args.budget) for c in student_cfgs)
    if teachers and left > student_budget + 120:
        sfuts = {c["name"]: pool.submit(train, c, args, teachers) for c in student_cfgs}
    else:
        log(f"no time for students ({left:.0f} s left) or no teachers")
    results["init"] = {"dir": str(args.init), "score": base.result()}
    settle(teacher_cfgs)
    if sfuts:
        finish(student_cfgs, sfuts, teachers)
        settle(student_cfgs)
    left = args.deadline - (time.monotonic() - T0)
    done = [Path(r["dir"]) for r in results["runs"].values() if r.get("dir")]
    if args.rounds >= 2 and results.get("pick") and left > args.budget + 90:
        init = results["runs"][results["pick"]]["dir"]
        if args.big_teacher:
            round2 = [{**c, "init": init} for c in BIG_ROUND2]
            done = teachers
        else:
            round2 = [{**c, "init": init} for c in ROUND2]
        finish(round2, {c["name"]: pool.submit(train, c, args, done) for c in round2}, done)
        settle(round2)
    elif args.rounds >= 2:
        log(f"no time for round 2 ({left:.0f} s left)")
    results["wall_s"] = round(time.monotonic() - T0, 1)
    save()
    if args.publish:
        (args.publish / "results.json").write_text(json.dumps(results, indent=2))
    log(f"done: pick {results.get('pick')}")


def score_main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd")
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    print(json.dumps(score(a.model_dir, a.device, 40 if a.smoke else None)), flush=True)


if __name__ == "__main__":
    score_main() if sys.argv[1:2] == ["score"] else main()
