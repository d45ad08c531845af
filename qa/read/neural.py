"""The neural extractive reader: a fine-tuned MiniLM span head over retrieved passages.

All passages of a question go through the model in one padded batch (long passages as
strided windows). Candidate spans of every window share one softmax, so their
probabilities are comparable across passages; identical normalised answers add up.
An answer is returned only when its span beats its window's null (CLS) score by the
calibrated ``null_threshold`` (stored in ``qa_reader.json`` of the model folder).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.core.types import Answer, Hit
from qa.read.bridge import MODEL_TOKENIZER, load_bridge, span_logits
from qa.train.squad import normalize_answer

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "models" / "reader"
READER_JSON = "qa_reader.json"
# Questions longer than this (in word-pieces) are cut: the passage needs the window.
MAX_QUESTION_TOKENS = 64
# Spans below this fraction of the best one cannot change which answer group wins or its
# summed probability noticeably, so answering skips them.
PICK_FLOOR = 1e-4


@dataclass(frozen=True)
class Candidate:
    """A scored span inside one hit's passage (offsets are passage-relative)."""

    hit_index: int
    start: int
    end: int
    logit: float  # start logit + end logit
    margin: float  # logit minus the null (CLS) logit of the same window
    prob: float = 0.0  # softmax over all candidates of the batch
    tokens: int = 1  # word-pieces from the start piece to the end piece


@dataclass
class Windows:
    """Tokenised (question, context) windows, padded to the longest; per-window metadata."""

    arrays: dict[str, Any]  # input_ids, token_type_ids, attention_mask: int64 [windows, tokens]
    offsets: list[list[tuple[int, int]]]  # character span of each token in its own text
    sequence_ids: list[list[int | None]]  # 0 question, 1 context, None special/padding
    word_ids: list[list[int | None]]
    sample: list[int]  # the input pair each window came from


def fast_tokenizer(path: str | Path) -> Any:
    """A ``tokenizers.Tokenizer`` from a ``tokenizer.json`` (no transformers import)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


def _cut_questions(tok: Any, questions: Sequence[str], limit: int) -> list[str]:
    """``questions``, each cut after its first ``limit`` word-pieces (whole pieces)."""
    limit = max(1, limit)
    long = [i for i, q in enumerate(questions) if len(q) > limit]  # a piece spans ≥ 1 char
    out = list(questions)
    if not long:
        return out
    tok.no_truncation()  # encode_windows sets it again for the pairs
    encoded = tok.encode_batch([out[i] for i in long], add_special_tokens=False)
    for i, enc in zip(long, encoded, strict=True):
        if len(enc.offsets) > limit:
            out[i] = out[i][: enc.offsets[limit - 1][1]]
    return out


def encode_windows(
    tok: Any, questions: Sequence[str], contexts: Sequence[str], max_length: int, stride: int
) -> Windows:
    """What a transformers fast tokenizer gives with ``truncation="only_second"``, overflow,
    ``stride`` and ``padding="longest"``, straight from the ``tokenizers`` library.

    A question is cut to its first ``MAX_QUESTION_TOKENS`` word-pieces (fewer when the
    window could not otherwise hold more than ``stride`` context pieces), so that any
    question leaves room for its passage.
    """
    import numpy as np

    questions = _cut_questions(tok, questions, min(MAX_QUESTION_TOKENS, max_length - stride - 4))
    want = {"max_length": max_length, "stride": stride, "strategy": "only_second"}
    if not tok.truncation or any(tok.truncation.get(k) != v for k, v in want.items()):
        tok.enable_truncation(max_length, stride=stride, strategy="only_second")
    if tok.padding is not None:
        tok.no_padding()
    flat, sample = [], []
    for i, enc in enumerate(tok.encode_batch(list(zip(questions, contexts, strict=True)))):
        for e in (enc, *enc.overflowing):
            flat.append(e)
            sample.append(i)
    width = max((len(e.ids) for e in flat), default=0)
    n = len(flat)
    ids = np.zeros((n, width), dtype=np.int64)
    types = np.zeros((n, width), dtype=np.int64)
    mask = np.zeros((n, width), dtype=np.int64)
    pad = [None] * width
    offsets, seqs, words = [], [], []
    for w, e in enumerate(flat):
        m = len(e.ids)
        ids[w, :m] = e.ids
        types[w, :m] = e.type_ids
        mask[w, :m] = 1
        offsets.append(list(e.offsets) + [(0, 0)] * (width - m))
        seqs.append(list(e.sequence_ids) + pad[m:])
        words.append(list(e.word_ids) + pad[m:])
    if tok.token_to_id("[PAD]") not in (None, 0):
        ids[mask == 0] = tok.token_to_id("[PAD]")
    return Windows(
        {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
        offsets,
        seqs,
        words,
        sample,
    )


def check_windows(tok: Any) -> None:
    """Raise ``RuntimeError`` when the installed ``tokenizers`` cuts a long passage short.

    tokenizers 0.23.2 ends the overflow windows of a long passage early, so the rest of it
    is never read (or trained on); 0.23.3 reads it all.
    """
    import tokenizers

    text = " ".join(f"{w}{i}" for i in range(400) for w in ("the", "(2019)", "réunion"))
    enc = encode_windows(tok, ["what is it?"], [text], 256, 96)
    reach = max(
        off[1] for offs, seq in zip(enc.offsets, enc.sequence_ids, strict=True)
        for off, s in zip(offs, seq, strict=True) if s == 1
    )  # fmt: skip
    if reach < len(text):
        raise RuntimeError(
            f"tokenizers {tokenizers.__version__} cuts long passages short (its windows "
            f"reach character {reach} of {len(text)}); install tokenizers 0.23.3 or later"
        )


class NeuralReader:
    """Extractive reader over ``Hit`` passages; ``read`` returns an ``Answer`` or ``None``.

    ``max_length``/``stride``/``null_threshold``/``retrieval_weight``/``length_penalty``/
    ``quantize`` default to the values in the model folder's ``qa_reader.json``.
    ``retrieval_weight`` adds that multiple of each hit's retrieval score to its spans'
    logits before the softmax, so a span from a passage the retriever ranks low needs a
    clearer reading to win; ``length_penalty`` subtracts that multiple of the log of a
    span's length (the word-pieces from its start piece to its end piece), so a longer
    span needs a clearer reading than a short one inside it. Neither changes the null
    margin. ``threads`` sets ``torch.set_num_threads`` at load (default: the CPUs this
    process may use).
    ``quantize`` applies dynamic int8 to the Linear layers (CPU only). ``backend`` is
    ``"onnx"`` (the int8 ONNX Runtime model of ``qa.core.onnx``, built once and cached;
    the CPU default when onnxruntime is installed) or ``"torch"`` (the weights as stored,
    fp32); ``$QA_READER_BACKEND`` overrides the default.
    """

    def __init__(
        self,
        model_dir: str | Path = DEFAULT_MODEL_DIR,
        max_length: int | None = None,
        stride: int | None = None,
        max_answer_tokens: int = 30,
        top_n: int = 20,
        null_threshold: float | None = None,
        retrieval_weight: float | None = None,
        length_penalty: float | None = None,
        quantize: bool | None = None,
        threads: int | None = None,
        device: str = "cpu",
        backend: str | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        meta: dict[str, Any] = {}
        p = self.model_dir / READER_JSON
        if p.exists():
            meta = json.loads(p.read_text())
        self.meta = meta
        self.max_length = int(max_length or meta.get("max_length") or 256)
        self.stride = int(stride or meta.get("stride") or 96)
        self.max_answer_tokens = max_answer_tokens
        self.top_n = top_n
        nt = null_threshold if null_threshold is not None else meta.get("null_threshold")
        self.null_threshold: float | None = None if nt is None else float(nt)
        rw = retrieval_weight if retrieval_weight is not None else meta.get("retrieval_weight")
        self.retrieval_weight = float(rw or 0.0)
        lp = length_penalty if length_penalty is not None else meta.get("length_penalty")
        self.length_penalty = float(lp or 0.0)
        self.quantize = bool(meta.get("quantize", False)) if quantize is None else quantize
        self.threads = threads
        self.device = device
        self.backend = backend or os.environ.get("QA_READER_BACKEND") or self._default_backend()
        if (self.model_dir / MODEL_TOKENIZER).is_dir():
            self.backend = "torch"  # a bridged model (qa.read.bridge) runs in torch only
        if self.backend not in ("onnx", "torch"):
            from qa.core.errors import BadInput

            raise BadInput(
                f"reader backend (QA_READER_BACKEND) must be 'onnx' or 'torch', "
                f"not {self.backend!r}"
            )
        self._model: Any = None
        self._bridge: Any = None
        self._tok: Any = None  # transformers tokenizer, only for callers that ask for it
        self._fast: Any = None  # tokenizers.Tokenizer: what the reader itself encodes with

    def _default_backend(self) -> str:
        from qa.core import onnx as onnx_models

        if self.device == "cpu" and not self.quantize and onnx_models.available():
            return "onnx"
        return "torch"

    def load(self) -> NeuralReader:
        """Load tokenizer and model (int8 ONNX, or torch fp32 / int8 Linear when ``quantize``)."""
        if self._model is not None:
            return self
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        n = max(1, self.threads or len(os.sched_getaffinity(0)))
        if self._fast is None:
            fast = fast_tokenizer(self.model_dir / "tokenizer.json")
            encode_windows(fast, ["?"], ["."], self.max_length, self.stride)  # configure once
            self._fast = fast
        if self.backend == "onnx":
            self._model = self._load_int8(n)
            return self
        import torch
        from transformers import AutoModelForQuestionAnswering

        torch.set_num_threads(n)
        model = AutoModelForQuestionAnswering.from_pretrained(
            self.model_dir, dtype=torch.float32
        ).eval()
        if self.quantize and self.device == "cpu":
            model = torch.ao.quantization.quantize_dynamic(
                model, {torch.nn.Linear}, dtype=torch.qint8
            )
        self._model = model.to(self.device)
        if (self.model_dir / MODEL_TOKENIZER).is_dir():
            self._bridge = load_bridge(self.model_dir, self.tokenizer)
        return self

    def _load_int8(self, threads: int) -> Any:
        import sys

        from qa.core import onnx as onnx_models

        path = onnx_models.int8_path(self.model_dir)
        if not path.is_file():
            print(f"preparing the int8 reader once: {path}", file=sys.stderr, flush=True)
            onnx_models.build_int8(self.model_dir, path)
        return onnx_models.session(path, threads, spin=True)

    def _forward(self, enc: Any) -> tuple[Any, Any]:
        """Start and end logits (numpy, fp32) of a tokenised batch."""
        import numpy as np

        if self.backend == "onnx":
            # One window per run, unpadded: padding to the longest passage is wasted work,
            # and int8 activations are scaled per run, so a window's scores must not
            # depend on which other windows share its batch.
            mask = np.asarray(enc["attention_mask"])
            lengths = mask.sum(axis=1)
            start = np.zeros(mask.shape, dtype=np.float32)
            end = np.zeros(mask.shape, dtype=np.float32)
            for w, width in enumerate(lengths.tolist()):
                feed = {
                    k: np.ascontiguousarray(enc[k][w : w + 1, :width], dtype=np.int64)
                    for k in ("input_ids", "attention_mask", "token_type_ids")
                }
                s, e = self._model.run(None, feed)
                start[w, :width] = s[0]
                end[w, :width] = e[0]
            return start, end
        import torch

        inputs = {
            k: torch.as_tensor(enc[k]).to(self.device)
            for k in ("input_ids", "token_type_ids", "attention_mask")
            if k in enc
        }
        with torch.inference_mode():
            start, end = span_logits(self._model, inputs, self._bridge)
        return start.float().cpu().numpy(), end.float().cpu().numpy()

    @property
    def tokenizer(self) -> Any:
        """The model's transformers tokenizer (loaded on first use; reading does not need it)."""
        if self._tok is None:
            from transformers import AutoTokenizer

            self._tok = AutoTokenizer.from_pretrained(self.model_dir)
        return self._tok

    def encode_windows(self, questions: Sequence[str], contexts: Sequence[str]) -> Windows:
        """(question, context) pairs as padded windows: long contexts in strided windows."""
        self.load()
        return encode_windows(self._fast, questions, contexts, self.max_length, self.stride)

    def candidates(
        self, question: str, hits: Sequence[Hit], min_ratio: float = 0.0
    ) -> list[Candidate]:
        """Every window's top spans, with ``prob`` from one softmax over the whole batch.

        Spans are widened to whole words (a real answer never starts inside a word).
        ``min_ratio`` drops spans whose probability is below that fraction of the best.
        Each span's logit gets ``retrieval_weight`` × its hit's score, less
        ``length_penalty`` × the log of its length, before the softmax.
        """
        return self.candidates_many([(question, hits)], min_ratio)[0]

    def candidates_many(
        self, items: Sequence[tuple[str, Sequence[Hit]]], min_ratio: float = 0.0
    ) -> list[list[Candidate]]:
        """``candidates`` for several questions in one forward pass (softmax per question)."""
        import numpy as np

        pairs = [(qi, hi) for qi, (_, hits) in enumerate(items) for hi in range(len(hits))]
        result: list[list[Candidate]] = [[] for _ in items]
        if not pairs:
            return result
        self.load()
        enc = self.encode_windows(
            [items[qi][0].lstrip() for qi, _ in pairs],
            [items[qi][1][hi].passage.text for qi, hi in pairs],
        )
        starts, ends = self._forward(enc.arrays)
        # Per question and window: hit index, then start char, end char, logit, null margin,
        # weighted logit (retrieval evidence and length prior) and length of every valid span.
        found: list[list[tuple[Any, ...]]] = [[] for _ in items]
        word_start, word_end, words = _word_spans(enc)
        for w in range(starts.shape[0]):
            qi, hi = pairs[enc.sample[w]]
            ctx = words[w] >= 0
            n_ctx = int(ctx.sum())
            if not n_ctx:
                continue
            s_log = np.where(ctx, starts[w], -np.inf)
            e_log = np.where(ctx, ends[w], -np.inf)
            null = float(starts[w][0] + ends[w][0])
            k = min(self.top_n, n_ctx)  # every context token's logit is finite
            top_s = np.argsort(-s_log, kind="stable")[:k]
            top_e = np.argsort(-e_log, kind="stable")[:k]
            sample = enc.sample[w]
            c0 = word_start[sample][words[w][top_s]]
            c1 = word_end[sample][words[w][top_e]]
            length = top_e[None, :] - top_s[:, None] + 1
            ok = (length >= 1) & (length <= self.max_answer_tokens) & (c1[None, :] > c0[:, None])
            si, ei = np.nonzero(ok)  # row-major: by start rank, then end rank
            logit = (s_log[top_s[si]] + e_log[top_e[ei]]).astype(np.float64)
            tokens = length[si, ei]
            prior = self.retrieval_weight * float(items[qi][1][hi].score)
            weighted = logit + prior - self.length_penalty * np.log(tokens)
            found[qi].append((hi, c0[si], c1[ei], logit, logit - null, weighted, tokens))
        for qi, parts in enumerate(found):
            if not parts:
                continue
            hit = np.concatenate([np.full(len(p[1]), p[0]) for p in parts])
            c0, c1, logit, margin, weighted, tokens = (
                np.concatenate([p[j] for p in parts]) for j in range(1, 7)
            )
            if not len(logit):
                continue
            ex = np.exp(weighted - weighted.max())
            prob = ex / ex.sum()
            keep = np.nonzero(prob >= prob.max() * min_ratio)[0]
            result[qi] = [
                Candidate(
                    int(hit[j]),
                    int(c0[j]),
                    int(c1[j]),
                    float(logit[j]),
                    float(margin[j]),
                    float(prob[j]),
                    int(tokens[j]),
                )
                for j in keep
            ]
        return result

    def best(self, question: str, hits: Sequence[Hit]) -> tuple[Answer, float] | None:
        """The best answer before the no-answer test, with its null margin.

        Candidates with the same normalised text add their probabilities; the group's
        highest-probability span is the one returned, scored with the group's sum.
        """
        return _pick(self.candidates(question, hits, PICK_FLOOR), hits)

    def best_many(
        self, items: Sequence[tuple[str, Sequence[Hit]]], batch_size: int = 16
    ) -> list[tuple[Answer, float] | None]:
        """``best`` for many questions, batched (questions grouped by passage length)."""
        order = sorted(
            range(len(items)), key=lambda i: sum(len(h.passage.text) for h in items[i][1])
        )
        out: list[tuple[Answer, float] | None] = [None] * len(items)
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            cands_many = self.candidates_many([items[i] for i in idx], PICK_FLOOR)
            for i, cands in zip(idx, cands_many, strict=True):
                out[i] = _pick(cands, items[i][1])
        return out

    def read_many(
        self, items: Sequence[tuple[str, Sequence[Hit]]], batch_size: int = 16
    ) -> list[Answer | None]:
        """``read`` for many questions, batched (answers as from ``read``, up to rounding)."""
        return [self._gate(found) for found in self.best_many(items, batch_size)]

    def _gate(self, found: tuple[Answer, float] | None) -> Answer | None:
        if found is None:
            return None
        answer, margin = found
        if self.null_threshold is not None and margin < self.null_threshold:
            return None
        return answer

    def read(self, question: str, hits: list[Hit]) -> Answer | None:
        """The answer span, or ``None`` when the sources do not answer the question."""
        return self._gate(self.best(question, hits))


def reweigh(
    cands: Sequence[Candidate], hits: Sequence[Hit], weight: float, length_penalty: float = 0.0
) -> list[Candidate]:
    """``cands`` with ``prob`` recomputed as if read with ``retrieval_weight`` = ``weight``
    and ``length_penalty`` = ``length_penalty``.

    ``cands`` must be every candidate of one question (as ``candidates`` returns them).
    """
    if not cands:
        return []
    w = [
        c.logit + weight * float(hits[c.hit_index].score) - length_penalty * math.log(c.tokens)
        for c in cands
    ]
    top = max(w)
    ex = [math.exp(x - top) for x in w]
    z = sum(ex)
    return [
        Candidate(c.hit_index, c.start, c.end, c.logit, c.margin, e / z, c.tokens)
        for c, e in zip(cands, ex, strict=True)
    ]


def _word_spans(enc: Windows) -> tuple[list[Any], list[Any], Any]:
    """Each context word's first and last character, over all windows of its passage.

    Returns per input pair the start and end character of every word (by word id), and
    the word id of every window token (-1 outside the context). A window that ends
    inside a word still yields the whole word: the span never stops mid-word.
    """
    import numpy as np

    words = np.array(
        [
            [-1 if seq != 1 or word is None else word for seq, word in zip(seqs, ws, strict=True)]
            for seqs, ws in zip(enc.sequence_ids, enc.word_ids, strict=True)
        ],
        dtype=np.int64,
    ).reshape(len(enc.word_ids), -1)
    offsets = np.asarray(enc.offsets, dtype=np.int64).reshape(len(enc.word_ids), -1, 2)
    pairs = max(enc.sample, default=-1) + 1
    size = [0] * pairs
    for w, pair in enumerate(enc.sample):
        size[pair] = max(size[pair], int(words[w].max()) + 1)
    starts = [np.full(m, np.iinfo(np.int64).max, dtype=np.int64) for m in size]
    ends = [np.zeros(m, dtype=np.int64) for m in size]
    for w, pair in enumerate(enc.sample):
        ctx = words[w] >= 0
        np.minimum.at(starts[pair], words[w][ctx], offsets[w][ctx, 0])
        np.maximum.at(ends[pair], words[w][ctx], offsets[w][ctx, 1])
    return starts, ends, words


def _pick(cands: list[Candidate], hits: Sequence[Hit]) -> tuple[Answer, float] | None:
    """Group candidates by normalised text, sum their probabilities, keep the best group."""
    if not cands:
        return None
    groups: dict[str, list[Candidate]] = {}
    floor = max(c.prob for c in cands) * PICK_FLOOR
    for c in (c for c in cands if c.prob >= floor):
        key = normalize_answer(hits[c.hit_index].passage.text[c.start : c.end])
        groups.setdefault(key, []).append(c)
    _, members = max(groups.items(), key=lambda kv: sum(c.prob for c in kv[1]))
    total = min(1.0, sum(c.prob for c in members))
    rep = max(members, key=lambda c: c.prob)
    p = hits[rep.hit_index].passage
    start, end = balance(p.text, rep.start, rep.end)
    answer = Answer(
        text=p.text[start:end],
        score=float(total),
        doc_id=p.doc_id,
        start=p.start + start,
        end=p.start + end,
        passage_id=p.id,
    )
    return answer, rep.margin


_PAIRS = (("(", ")"), ("[", "]"), ("“", "”"), ("‘", "’"), ('"', '"'))


def balance(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` widened by the quote or bracket marks that complete its pairs.

    A span like ``720 feet (220 m`` or ``via secure communication” and …`` takes in the
    closing or opening mark right next to it, pair after pair until none is left open
    that can be closed there; a mark with no partner next to the span stays as it is (the
    span is never narrowed). ``’`` between two letters is an apostrophe, not a quote.
    """

    def count(span: str, mark: str, at: int) -> int:
        if mark != "’":
            return span.count(mark)
        return sum(
            1
            for i, ch in enumerate(span)
            if ch == mark
            and not (
                0 < at + i < len(text) - 1
                and text[at + i - 1].isalpha()
                and text[at + i + 1].isalpha()
            )
        )

    changed = True
    while changed:
        changed = False
        for op, cl in _PAIRS:
            span = text[start:end]
            if op == cl:
                if span.count(op) % 2 == 0:
                    continue
                if start > 0 and text[start - 1] == op and not span.startswith(op):
                    start, changed = start - 1, True
                elif end < len(text) and text[end] == cl and not span.endswith(cl):
                    end, changed = end + 1, True
                continue
            opens, closes = span.count(op), count(span, cl, start)
            if closes > opens and start > 0 and text[start - 1] == op:
                start, changed = start - 1, True
            elif opens > closes and end < len(text) and text[end] == cl:
                end, changed = end + 1, True
    return start, end


def calibrate(
    margins: Sequence[float],
    scores_if_answered: Sequence[float],
    impossible: Sequence[bool],
    answerable_weight: float = 1.0,
) -> dict[str, float]:
    """The null-margin threshold that maximises mean F1 (the SQuAD 2.0 ``best_f1`` rule).

    ``scores_if_answered[i]`` is question i's F1 (0..1) when the reader answers it; an
    abstention scores 1 on an unanswerable question and 0 otherwise. Each answerable
    question counts ``answerable_weight`` times (to calibrate for a mix with fewer
    unanswerable questions than the held-out set). Returns the threshold with the
    weighted F1, no-answer precision/recall and the abstention rates (0–100) at it.
    """
    n = len(margins)
    w = answerable_weight
    order = sorted(range(n), key=lambda i: margins[i])
    # Threshold just above order[j]'s margin: questions order[:j+1] abstain.
    # Start: threshold below every margin -> answer everything.
    cur = sum(0.0 if impossible[i] else w * scores_if_answered[i] for i in range(n))
    best_val, best_thr = cur, (margins[order[0]] - 1.0) if n else 0.0
    for j, i in enumerate(order):
        cur += 1.0 if impossible[i] else -w * scores_if_answered[i]
        nxt = margins[order[j + 1]] if j + 1 < n else margins[i] + 1.0
        if cur > best_val and nxt > margins[i]:
            best_val, best_thr = cur, (margins[i] + nxt) / 2
    abstain = [m < best_thr for m in margins]
    tp = sum(1 for a, imp in zip(abstain, impossible, strict=True) if a and imp)
    n_abs = sum(abstain)
    n_imp = sum(impossible)
    n_ans = n - n_imp
    return {
        "null_threshold": float(best_thr),
        "f1": 100.0 * best_val / max(1e-9, n_imp + w * n_ans),
        "noans_precision": 100.0 * tp / n_abs if n_abs else 0.0,
        "noans_recall": 100.0 * tp / n_imp if n_imp else 0.0,
        "answerable_abstain_pct": 100.0 * (n_abs - tp) / n_ans if n_ans else 0.0,
        "n": float(n),
    }
