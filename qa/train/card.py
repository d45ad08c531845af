"""The model card: ``README.md`` of a reader folder, rendered from its ``qa_reader.json``.

Each section is a function of the settings file (and the model's depth) that returns its
lines; a section with nothing to say returns none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qa.read.meta import read_meta


def write_model_card(model_dir: str | Path) -> Path:
    """Render ``README.md`` from the folder's ``qa_reader.json`` (training, calibration, scores)."""
    d = Path(model_dir)
    meta = read_meta(d)
    cfg = json.loads((d / "config.json").read_text()) if (d / "config.json").exists() else {}
    t = meta.get("training", {})
    lines = [
        *_header(meta, cfg.get("num_hidden_layers", 6)),
        *_data(t),
        *_training(meta, t),
        *_distillation(t),
        *_gold(t),
        *_previous_stages(t),
        *_length_prior(meta),
        *_threshold(meta),
        *_retrieval(meta),
        *_measured(meta),
        *_license(meta),
    ]
    out = d / "README.md"
    out.write_text("\n".join(lines))
    return out


def _header(meta: dict[str, Any], depth: int) -> list[str]:
    t = meta.get("training", {})
    q8 = " then quantised to int8 (dynamic, Linear layers)" if meta.get("quantize") else ""
    shape = "" if depth == 6 else f"; this reader has {depth} layers of them: `--layers {depth}`"
    return [
        f"# qa extractive reader (MiniLM-L{depth}, SQuAD-style span head)",
        "",
        "A BERT-style extractive question-answering model: `BertForQuestionAnswering` "
        "initialised from the all-MiniLM-L6-v2 sentence encoder (6 layers, hidden 384"
        f"{shape}; the span head is new) and fine-tuned by `qa train-reader` (the last stage on "
        f"{t.get('device', 'cpu').upper()}). Weights are stored in fp16 safetensors. "
        "`qa.read.reader.NeuralReader` "
        "answers on a CPU with an int8 ONNX Runtime model built from them once and cached "
        "(`qa/core/onnx.py`: int8 weights per output channel in every encoder MatMul, "
        f"embeddings and span head fp32), or with the weights in torch fp32{q8}.",
        "",
    ]


def _data(t: dict[str, Any]) -> list[str]:
    lines = [
        "## Data",
        "",
        "Training part of the split in `data/README.md`: SQuADShifts new-wiki, Reddit and "
        "Amazon reviews (CC BY 4.0, Miller et al. 2020) and the CS224N half of SQuAD 2.0 dev "
        "(CC BY-SA 4.0, Rajpurkar et al.), minus the held-out articles "
        f"{', '.join(t.get('exclude_titles', []))} (kept for calibrating the no-answer "
        "threshold and the retrieval weight). Evaluation: the 32 articles of SQuAD v1.1 "
        "dev not in the v2.0 half; never trained on.",
        "",
    ]
    if t.get("fractions"):
        lines += [
            "Share of questions kept per file (fixed random sample, seed "
            f"{t.get('seed')}): "
            + ", ".join(f"{k} {v}" for k, v in t["fractions"].items())
            + "; the other files in full.",
            "",
        ]
    return lines


def _training(meta: dict[str, Any], t: dict[str, Any]) -> list[str]:
    lines = ["## Training", ""]
    if meta.get("recipe"):
        lines += [meta["recipe"], ""]
    lines += [
        "```",
        str(t.get("command")),
        "```",
        "",
        f"- Files: {', '.join(t.get('train_files', []))}.",
        f"- {t.get('examples')} questions → {t.get('features')} windows (max length "
        f"{t.get('max_length')}, stride {t.get('stride')}); unanswerable questions and windows "
        "without the answer are labelled with the CLS token.",
        f"- {t.get('steps')} steps of batch {t.get('batch_size')} ({t.get('epochs_done')} "
        f"epochs), AdamW lr {t.get('lr')} (warmup {t.get('warmup')}, then linear decay to 0 "
        "over the run"
        + (f"; time budget {t['time_budget_s']} s" if t.get("time_budget_s") else "")
        + "), weight decay "
        f"{t.get('weight_decay')}, seed {t.get('seed')}, device {t.get('device')}, bf16 "
        f"autocast {t.get('bf16')}; {t.get('train_seconds')} s of training.",
        f"- Loss (mean start/end cross-entropy): {t.get('loss_first', t.get('loss_first_50'))} "
        f"at the start → {t.get('loss_last', t.get('loss_last_50'))} at the end.",
        "",
    ]
    return lines


def _distillation(t: dict[str, Any]) -> list[str]:
    dist = t.get("distillation")
    if not dist:
        return []
    n = len(dist["teachers"])
    cmds = [str(x.get("training", {}).get("command")) for x in dist["teachers"]]
    itself = cmds == [str((t.get("previous_stage") or {}).get("command"))]
    lines = [
        (
            "Distilled from the reader this stage started from"
            if itself
            else f"Distilled from {n} teacher reader{'s' if n != 1 else ''}"
        )
        + f" (the loss is {1 - dist['alpha']:g} × the gold-span cross-entropy + "
        f"{dist['alpha']:g} × T² × the KL divergence from the teachers' mean start/end "
        f"logits, T = {dist['temperature']:g}; the loss figures above are that mix)."
        + (" Its command is below." if itself else " The teachers were trained by:"),
        "",
    ]
    if not itself:
        lines += ["```", *cmds, "```", ""]
    return lines


def _gold(t: dict[str, Any]) -> list[str]:
    if not t.get("gold_files"):
        return []
    return [
        "Trained on their gold spans only, never distilled (`--gold`; a file named twice "
        f"counts twice): {', '.join(t['gold_files'])}.",
        "",
    ]


def _previous_stages(t: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    prev = t.get("previous_stage")
    while prev:
        lines += [
            "The weights this stage started from were trained by:",
            "",
            "```",
            str(prev.get("command")),
            "```",
            "",
            f"- {prev.get('examples')} questions → {prev.get('features')} windows; "
            f"{prev.get('steps')} steps of batch {prev.get('batch_size')} "
            f"({prev.get('epochs_done')} epochs), lr {prev.get('lr')}, "
            f"{prev.get('train_seconds')} s on {prev.get('device')}; loss "
            f"{prev.get('loss_first')} → {prev.get('loss_last')}.",
            "",
        ]
        pd = prev.get("distillation")
        if pd:
            lines += [
                f"It was distilled (α {pd['alpha']:g}) from teachers trained by:",
                "",
                "```",
                *[str(x.get("training", {}).get("command")) for x in pd["teachers"]],
                "```",
                "",
            ]
        prev = prev.get("previous_stage")
    return lines


def _length_prior(meta: dict[str, Any]) -> list[str]:
    lt = meta.get("length_tuning")
    if not (lt and meta.get("length_penalty") is not None):
        return []
    row = lt["by_penalty"]
    best, zero = row.get(f"{meta['length_penalty']:g}", {}), row.get("0", {})
    return [
        "## Length prior",
        "",
        f"`length_penalty` = {meta['length_penalty']:g}: each span's logit loses this "
        "multiple of the log of its length (word-pieces from its start piece to its end "
        "piece) before the softmax, so a long span has to read clearly better than a "
        "short one inside it (the null margin is unchanged). Chosen for F1 on "
        f"{lt['questions']} answerable questions of the held-out articles "
        f"({', '.join(lt['articles'])}), each read over its gold paragraph: EM "
        f"{best.get('em')} / F1 {best.get('f1')}"
        + (f" (no prior: EM {zero['em']} / F1 {zero['f1']})" if zero else "")
        + ". Set by `qa tune-length --reader DIR`, before the no-answer threshold and "
        "the retrieval weight below.",
        "",
    ]


def _threshold(meta: dict[str, Any]) -> list[str]:
    tuned = meta.get("null_threshold_tuning")
    if tuned:
        best = next(r for r in tuned["table"] if r["threshold"] == meta.get("null_threshold"))
        return [
            "## No-answer threshold",
            "",
            f"`null_threshold` = {meta.get('null_threshold'):g}: the reader abstains when the "
            "best span's logit (start + end) beats its window's CLS logit by less than this. "
            "Chosen for the best mean of two F1s, each question asked as `qa ask` does: "
            f"SQuAD's {tuned['squad']} ({best['squad_f1']}) and data/doctune's "
            f"{tuned['doctune']} ({best['doctune_f1']}; it abstains on "
            f"{best['doctune_answerable_abstained']} answerable ones there). Set by "
            f"`{tuned['command']}`; the table of every threshold is in qa_reader.json.",
            "",
        ]
    cal = meta.get("calibration")
    if not cal:
        return []
    w = cal.get("answerable_weight", 1.0)
    weighting = (
        f", each answerable question counted {w:g}× (questions asked of one's own "
        "documents are far less often unanswerable than the held-out set)"
        if w != 1.0
        else ""
    )
    return [
        "## No-answer threshold",
        "",
        f"`null_threshold` = {meta.get('null_threshold'):.3f}: the reader abstains when the "
        "best span's logit (start + end) beats its window's CLS logit by less than this. "
        f"Chosen to maximise F1 on {cal.get('questions')} held-out questions "
        f"({cal.get('unanswerable')} unanswerable; articles {', '.join(cal['articles'])})"
        f"{weighting}: F1 {cal.get('f1')}, no-answer precision "
        f"{cal.get('noans_precision')}, recall {cal.get('noans_recall')}; it abstains on "
        f"{round(cal.get('answerable_abstain_pct', float('nan')), 1)}% of the answerable "
        "held-out questions "
        f"(answering everything: F1 {cal.get('f1_answer_all')}). Set by "
        f"`qa calibrate-reader --reader DIR --answerable-weight {w:g}`.",
        "",
    ]


def _retrieval(meta: dict[str, Any]) -> list[str]:
    rt = meta.get("retrieval_tuning")
    if not (rt and meta.get("retrieval_weight") is not None):
        return []
    row = rt["by_weight"]
    best, zero = row.get(f"{meta['retrieval_weight']:g}", {}), row.get("0", {})
    return [
        "## Retrieval weight",
        "",
        f"`retrieval_weight` = {meta['retrieval_weight']:g}: each span's logit gets this "
        "multiple of its passage's retrieval score (fused, 0–1) before the softmax over "
        f"all passages. Chosen for F1 on {rt['questions']} answerable questions of the "
        f"held-out articles ({', '.join(rt['articles'])}), each reading its top "
        f"{rt['k']} of all v1.1 dev paragraphs: EM {best.get('em')} / F1 {best.get('f1')} "
        f"(weight 0: EM {zero.get('em')} / F1 {zero.get('f1')}). Set by "
        f"`qa tune-retrieval --reader DIR --k {rt['k']}`.",
        "",
    ]


def _measured(meta: dict[str, Any]) -> list[str]:
    ev = meta.get("evaluation")
    if not ev:
        return []
    lines = ["## Measured", ""]
    for name, res in ev.items():
        if isinstance(res, dict):
            shown = ", ".join(
                f"{k} {round(v, 2) if isinstance(v, float) else v}" for k, v in res.items()
            )
            lines.append(f"- {name}: {shown}")
        else:
            lines.append(f"- {name}: {res}")
    lines.append("")
    return lines


def _license(meta: dict[str, Any]) -> list[str]:
    return [
        "## License",
        "",
        "The base model all-MiniLM-L6-v2 is Apache-2.0; the training data is CC BY 4.0 "
        "(SQuADShifts) and CC BY-SA 4.0 (SQuAD)."
        + (
            " The teachers it was distilled from were trained from all-mpnet-base-v2 (Apache-2.0)."
            if "all-mpnet-base-v2" in json.dumps(meta)
            else ""
        ),
        "",
    ]
