"""Answer confidence on unseen questions: is ``confidence`` the probability of being right?

    .venv/bin/python bench/calibration.py              # prints the table, writes the plots
    .venv/bin/python bench/run.py --only calibration   # the same as a section of BENCHMARKS.md

Three sets, none used to fit the calibrator (``scripts/fit_calibrator.py`` fits it on the
held-out tuning articles and data/doctune):

- SQuAD: all 7,595 evaluation questions (``--limit N``: the seed-0 sample of N that
  ``qa eval --mode open`` uses), asked with K=3 over every paragraph of SQuAD v1.1 dev
  (the quality section's open setting);
- real documents: ``data/realdocs`` (bench/realdocs.py), K=5;
- more real documents: ``data/docheld`` (bench/realdocs.py --set docheld), K=5, and
  questions on tables, ``data/doctables`` (--set doctables); an
  unanswerable question answered counts as a wrong answer.

An answer is right when its SQuAD F1 against the golds is at least 0.5. "Before" treats
the raw ``score`` (the reader's span probability) as the probability of being right,
"after" the calibrated ``confidence``. ECE: 10 equal-width bins; its floor is the ECE a
perfectly calibrated confidence shows by chance on the same answers (``ece_floor``). Sure
answers: those at 0.9 or above. A false abstention: a right answer the
``QA_MIN_CONFIDENCE`` gate drops.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PLOTS = ROOT / "docs" / "bench"
RELIABILITY_PNG = "calibration-reliability.png"
COVERAGE_PNG = "calibration-coverage.png"
THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)  # QA_MIN_CONFIDENCE values reported
GOALS = {"ece": 0.05, "wrong_among_sure_pct": 3.0, "false_abstention_pct": 10.0}
SQUAD_K = 3
DOC_SETS = ("realdocs", "docheld", "doctables")  # bench/realdocs.py's evaluation sets


def squad_rows(reader_dir: Path, encoder: Any, limit: int | None) -> list[Any]:
    """The SQuAD evaluation sample asked through the engine (K=3, all v1.1 dev paragraphs)."""
    from qa.core.config import Settings
    from qa.engine import Engine
    from qa.train import squad
    from qa.train.confidence import RecordingReader, collect
    from qa.train.evaluate import documents, select

    v1 = squad.DATA_DIR / squad.V1_DEV
    reader = RecordingReader(reader_dir)
    engine = Engine.in_memory(documents(v1), Settings(), encoder=encoder, reader=reader)
    examples = select(v1, limit=limit)
    qs = [(e.id, e.title, e.question, [a for a, _ in e.answers]) for e in examples]
    return collect(lambda q: engine.ask(q, SQUAD_K).answer, reader, qs)


def realdocs_rows(reader_dir: Path, encoder: Any, name: str = "realdocs") -> list[Any]:
    """A documents set's questions asked as bench/realdocs.py asks them (K=5)."""
    import realdocs  # bench/realdocs.py

    from qa.train.confidence import RecordingReader, collect

    folder = realdocs.SETS[name]
    reader = RecordingReader(reader_dir)
    engine, _, _ = realdocs.build(reader_dir, encoder, reader, docs=folder / "docs")
    questions = realdocs.load_questions(folder / "questions.jsonl")
    qs = [(q["id"], q["file"], q["question"], q["answers"]) for q in questions]
    return collect(lambda q: engine.ask(q, realdocs.K).answer, reader, qs)


def gated(rows: Sequence[Any], threshold: float) -> dict[str, Any]:
    """EM/F1 when answers below ``threshold`` confidence abstain (abstentions score 0)."""
    kept = [r.prediction is not None and (r.confidence or 0.0) >= threshold for r in rows]
    right = [r.right for r in rows]
    dropped_right = sum(1 for r, k in zip(rows, kept, strict=True) if r.right and not k)
    n_kept = sum(kept)
    return {
        "threshold": threshold,
        "em": round(
            100 * statistics.fmean(r.em if k else 0.0 for r, k in zip(rows, kept, strict=True)), 1
        ),
        "f1": round(
            100 * statistics.fmean(r.f1 if k else 0.0 for r, k in zip(rows, kept, strict=True)), 1
        ),
        "answered": n_kept,
        "abstained": len(rows) - n_kept,
        "precision": round(
            100 * sum(1 for r, k in zip(rows, kept, strict=True) if k and r.right) / max(1, n_kept),
            1,
        ),
        "false_abstentions": dropped_right,
        "false_abstention_pct": round(100 * dropped_right / max(1, sum(right)), 1),
    }


def domain(rows: Sequence[Any], default: float) -> dict[str, Any]:
    """One set's figures: calibration before/after, and EM/F1 at each threshold."""
    from qa.train.confidence import coverage_curve, reliability, summary

    answered = [r for r in rows if r.prediction is not None]
    out: dict[str, Any] = {
        "questions": len(rows),
        "before": summary(rows, lambda r: r.score),
        "after": summary(rows, lambda r: r.confidence),
        "thresholds": [gated(rows, t) for t in sorted({*THRESHOLDS, default})],
        "default": gated(rows, default),
    }
    for name, key in (("before", "score"), ("after", "confidence")):
        p = [float(getattr(r, key)) for r in answered]
        y = [r.right for r in answered]
        out[f"reliability_{name}"] = [_rounded(b) for b in reliability(p, y)]
        out[f"coverage_{name}"] = [_rounded(c) for c in thin(coverage_curve(p, y, len(rows)))]
    return out


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}


def thin(points: list[dict[str, Any]], most: int = 60) -> list[dict[str, Any]]:
    """At most ``most`` points of a curve, evenly spaced, the last one kept (for the part)."""
    step = max(1, -(-len(points) // most))
    kept = points[::step]
    return kept if not points or kept[-1] is points[-1] else [*kept, points[-1]]


def plot(part: dict[str, Any], out_dir: Path = PLOTS) -> list[Path]:
    """The reliability diagram and the coverage–accuracy curve, before and after."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    sets = [(name, part[name]) for name in set_names(part)]
    fig, axes = plt.subplots(1, len(sets), figsize=(5.5 * len(sets), 5), squeeze=False)
    for ax, (name, d) in zip(axes[0], sets, strict=True):
        ax.plot([0, 1], [0, 1], ":", color="grey", label="perfect")
        for which, style in (("before", "o--"), ("after", "s-")):
            rel = d[f"reliability_{which}"]
            label = (
                f"{'raw score' if which == 'before' else 'confidence'} (ECE {d[which]['ece']:.3f})"
            )
            ax.plot(
                [b["mean_probability"] for b in rel],
                [b["accuracy"] for b in rel],
                style,
                label=label,
            )
        ax.set(
            title=f"{name}: reliability",
            xlabel="predicted probability",
            ylabel="share right",
            xlim=(0, 1),
            ylim=(0, 1),
        )
        ax.legend(loc="upper left")
    rel_path = out_dir / RELIABILITY_PNG
    fig.tight_layout()
    fig.savefig(rel_path, dpi=110)
    plt.close(fig)
    fig, axes = plt.subplots(1, len(sets), figsize=(5.5 * len(sets), 5), squeeze=False)
    for ax, (name, d) in zip(axes[0], sets, strict=True):
        for which, style in (("before", "--"), ("after", "-")):
            cov = d[f"coverage_{which}"]
            label = "ranked by raw score" if which == "before" else "ranked by confidence"
            ax.plot([c["coverage"] for c in cov], [c["accuracy"] for c in cov], style, label=label)
        ax.set(
            title=f"{name}: coverage vs accuracy",
            xlabel="share of questions answered",
            ylabel="share of answers right",
            xlim=(0, 1),
            ylim=(0, 1),
        )
        ax.legend(loc="lower left")
    cov_path = out_dir / COVERAGE_PNG
    fig.tight_layout()
    fig.savefig(cov_path, dpi=110)
    plt.close(fig)
    return [rel_path, cov_path]


def run(
    reader_dir: Path | None = None,
    encoder: Any = None,
    limit: int | None = None,
    plots: bool = True,
) -> dict[str, Any]:
    """The whole benchmark as the part bench/run.py stores."""
    from qa.core.config import Settings
    from qa.read.confidence import load_calibrator

    settings = Settings.from_env()
    reader_dir = reader_dir or settings.reader_dir
    cal = load_calibrator(reader_dir)
    if cal is None:
        raise RuntimeError(f"no confidence.json in {reader_dir}: run scripts/fit_calibrator.py")
    default = settings.min_confidence
    part: dict[str, Any] = {
        "calibrator": {"features": list(cal.names), **dict(cal.fit or {})},
        "min_confidence": default,
        "squad": domain(squad_rows(reader_dir, encoder, limit), default),
        **{n: domain(realdocs_rows(reader_dir, encoder, n), default) for n in DOC_SETS},
        "sample": "SQuAD: "
        + (f"seed-0 sample of {limit}" if limit else "all")
        + f" evaluation questions, K={SQUAD_K}; "
        "realdocs, docheld and doctables: all questions, K=5",
        "command": ".venv/bin/python bench/calibration.py",
    }
    if plots:
        part["plots"] = [str(p.relative_to(ROOT)) for p in plot(part)]
    return part


def set_names(part: dict[str, Any]) -> list[str]:
    """The sets a part holds, in report order."""
    return [n for n in ("squad", *DOC_SETS) if n in part]


def render(part: dict[str, Any]) -> list[str]:
    """Markdown lines: before/after per set, the threshold table, the plots."""
    header = [
        "set",
        "questions",
        "answered",
        "accuracy",
        "ECE before",
        "ECE after",
        "ECE floor (p95)",
        "wrong among ≥0.9 before",
        "wrong among ≥0.9 after",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in set_names(part):
        d = part[name]
        b, a = d["before"], d["after"]
        cells = [
            name,
            d["questions"],
            b["answered"],
            f"{b['accuracy']}%",
            b["ece"],
            a["ece"],
            f"{a.get('ece_floor', '–')} ({a.get('ece_floor_p95', '–')})",
            f"{b['wrong_among_sure_pct']}% of {b['sure_answers']}",
            f"{a['wrong_among_sure_pct']}% of {a['sure_answers']}",
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += [
        "",
        "ECE floor: the ECE a perfectly calibrated confidence would show by chance on the same "
        "answers (each right with its own confidence; mean of 1,000 draws, 95th percentile in "
        "brackets). A measured ECE under the percentile cannot be told from perfect on that "
        "many answers.",
    ]
    lines += ["", "EM/F1 when answers below `QA_MIN_CONFIDENCE` abstain (abstentions score 0):", ""]
    header = [
        "set",
        "QA_MIN_CONFIDENCE",
        "EM",
        "F1",
        "abstained",
        "precision of answers",
        "false abstentions",
    ]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in set_names(part):
        for t in part[name]["thresholds"]:
            cells = [
                name,
                t["threshold"],
                t["em"],
                t["f1"],
                t["abstained"],
                f"{t['precision']}%",
                f"{t['false_abstentions']} ({t['false_abstention_pct']}%)",
            ]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += ["", *goal_lines(part)]
    cal = part["calibrator"]
    lines += [
        "",
        f"Calibrator: logistic regression on {', '.join(f'`{f}`' for f in cal['features'])}, "
        f"fitted on {cal.get('tuning', '?')} ({cal.get('answers', '?')} answers of "
        f"{cal.get('questions', '?')} questions; {cal.get('label', '')}). {part['sample']}. "
        f"Command: `{part['command']}`.",
    ]
    for p in part.get("plots", []):
        lines += ["", f"![{Path(p).stem}]({p})"]
    return lines


def goal_lines(part: dict[str, Any]) -> list[str]:
    """The issue's goals, met or missed, per set (false abstentions at the default
    threshold, and at 0.3 when the default is off)."""
    out = []
    for name in set_names(part):
        a = part[name]["after"]
        t = part[name]["default"]
        if not t["threshold"]:
            t = next((x for x in part[name]["thresholds"] if x["threshold"] == 0.3), t)
        checks = [
            ("ECE ≤ 0.05", f"{a['ece']:.3f}", a["ece"] <= GOALS["ece"]),
            ("wrong among ≥0.9 ≤ 3%", f"{a['wrong_among_sure_pct']}% of {a['sure_answers']}",
             a["wrong_among_sure_pct"] <= GOALS["wrong_among_sure_pct"]),
            (f"false abstentions ≤ 10% (at {t['threshold']})", f"{t['false_abstention_pct']}%",
             t["false_abstention_pct"] <= GOALS["false_abstention_pct"]),
        ]  # fmt: skip
        said = "; ".join(f"{g}: {m} ({'met' if ok else 'MISSED'})" for g, m, ok in checks)
        if a["ece"] > GOALS["ece"] and a["ece"] <= a.get("ece_floor_p95", 0.0):
            said += f" (the ECE is within chance of perfect on {a['answered']} answers)"
        out.append(f"- {name}, calibrated: {said}.")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reader", type=Path, help="reader weights folder (default: qa's)")
    ap.add_argument("--limit", type=int, help="a seed-0 sample of SQuAD's evaluation questions")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    part = run(args.reader, limit=args.limit)
    if args.json:
        args.json.write_text(json.dumps(part, indent=2) + "\n")
    print("\n".join(render(part)))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    sys.exit(main())
