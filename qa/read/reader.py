"""The neural extractive reader: a fine-tuned MiniLM span head over retrieved passages.

All passages of a question go through the model in one batch (long passages as strided
windows, ``qa.read.windows``; the model run by ``qa.read.runtime``); what the answer is,
and whether there is one, ``qa.read.decide`` says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.core import onnx as onnx_models
from qa.core.config import DEFAULT_READER_DIR
from qa.core.types import Answer, Hit
from qa.read import decide, runtime
from qa.read.bridge import MODEL_TOKENIZER, load_bridge
from qa.read.confidence import Calibrator, features, load_calibrator
from qa.read.decide import Candidate, Proposal
from qa.read.meta import read_meta
from qa.read.spans import word_spans
from qa.read.windows import (
    Windows,
    encode_windows,
    fast_tokenizer,
    question_tokenizer,
    reading_text,
)

DEFAULT_MODEL_DIR = DEFAULT_READER_DIR

Items = Sequence[tuple[str, Sequence[Hit]]]  # (question, hits) pairs


class NeuralReader:
    """Extractive reader over ``Hit`` passages; ``read`` returns an ``Answer`` or ``None``.

    ``max_length``/``stride``/``null_threshold``/``retrieval_weight``/``length_penalty``/
    ``quantize`` default to the values in the model folder's ``qa_reader.json``.
    ``retrieval_weight`` and ``length_penalty`` weigh each span before the softmax
    (``qa.read.decide.weigh``); neither changes the null margin. ``threads`` sets the
    model's thread count at load (default: the CPUs this process may use).
    ``quantize`` applies dynamic int8 to the Linear layers (torch, CPU only). ``backend``
    is ``"onnx"`` (the int8 ONNX Runtime model, built once into ``cache_dir``; the CPU
    default when onnxruntime is installed) or ``"torch"`` (the weights as stored, fp32);
    ``Settings.reader_backend`` (``$QA_READER_BACKEND``) is the default.
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
        cache_dir: Path | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        meta = read_meta(self.model_dir)
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
        self.cache_dir = cache_dir
        self.backend = runtime.pick_backend(self.model_dir, backend, device, self.quantize)
        # answer.confidence comes from it (None: the folder has no confidence.json)
        self.calibrator: Calibrator | None = load_calibrator(self.model_dir)
        self._model: Any = None  # runtime.OnnxModel, or the torch model
        self._bridge: Any = None
        self._tok: Any = None  # transformers tokenizer, only for callers that ask for it
        self._fast: Any = None  # tokenizers.Tokenizer: what the reader itself encodes with
        self._questions_tok: Any = None  # and cuts long questions with (windows.py)

    def load(self) -> NeuralReader:
        """Load tokenizer and model (int8 ONNX, or torch fp32 / int8 Linear when ``quantize``)."""
        if self._model is not None:
            return self
        threads = runtime.thread_count(self.threads)
        if self._fast is None:
            fast = fast_tokenizer(self.model_dir / "tokenizer.json")
            encode_windows(fast, ["?"], ["."], self.max_length, self.stride)  # configure once
            self._fast = fast
            self._questions_tok = question_tokenizer(self.model_dir / "tokenizer.json")
        if self.backend == "onnx":
            self._model = runtime.load_onnx(self.model_dir, threads, self.cache_dir)
            return self
        self._model = runtime.load_torch(self.model_dir, threads, self.device, self.quantize)
        if (self.model_dir / MODEL_TOKENIZER).is_dir():
            self._bridge = load_bridge(self.model_dir, self.tokenizer)
        return self

    @property
    def tokenizer(self) -> Any:
        """The model's transformers tokenizer (loaded on first use; reading does not need it)."""
        if self._tok is None:
            from transformers import AutoTokenizer

            onnx_models.offline_hub()
            self._tok = AutoTokenizer.from_pretrained(self.model_dir)
        return self._tok

    @property
    def rules(self) -> decide.SpanRules:
        """How spans are decoded and weighed, from the reader's current settings."""
        return decide.SpanRules(
            self.top_n, self.max_answer_tokens, self.retrieval_weight, self.length_penalty
        )

    def forward(self, arrays: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits (numpy, fp32) of a batch of windows (``Windows.arrays``)."""
        if self.backend == "onnx":
            return runtime.onnx_logits(self._model, arrays)
        return runtime.torch_logits(self._model, arrays, self.device, self._bridge)

    def encode_windows(self, questions: Sequence[str], contexts: Sequence[str]) -> Windows:
        """(question, context) pairs as padded windows: long contexts in strided windows."""
        self.load()
        return encode_windows(
            self._fast, questions, contexts, self.max_length, self.stride, self._questions_tok
        )

    def candidates(
        self, question: str, hits: Sequence[Hit], min_ratio: float = 0.0
    ) -> list[Candidate]:
        """Every window's top spans, with ``prob`` from one softmax over the whole batch.

        Spans are widened to whole words (a real answer never starts inside a word).
        ``min_ratio`` drops spans whose probability is below that fraction of the best.
        """
        return self.candidates_many([(question, hits)], min_ratio)[0]

    def candidates_many(self, items: Items, min_ratio: float = 0.0) -> list[list[Candidate]]:
        """``candidates`` for several questions in one forward pass (softmax per question)."""
        pairs = [(qi, hi) for qi, (_, hits) in enumerate(items) for hi in range(len(hits))]
        if not pairs:
            return [[] for _ in items]
        self.load()
        enc = self.encode_windows(
            [items[qi][0].lstrip() for qi, _ in pairs],
            [reading_text(items[qi][1][hi].passage.text) for qi, hi in pairs],
        )
        starts, ends = self.forward(enc.arrays)
        spans = word_spans(enc)
        rules = self.rules
        found: list[list[decide.WindowSpans]] = [[] for _ in items]
        for w in range(starts.shape[0]):
            qi, hi = pairs[enc.sample[w]]
            window = decide.WindowLogits(
                hit_index=hi,
                retrieval_score=items[qi][1][hi].score,
                start_logits=starts[w],
                end_logits=ends[w],
                words=spans.words[w],
                word_starts=spans.starts[enc.sample[w]],
                word_ends=spans.ends[enc.sample[w]],
            )
            decoded = decide.decode_window(window, rules)
            if decoded is not None:
                found[qi].append(decoded)
        return [decide.score_candidates(parts, min_ratio) for parts in found]

    def propose(self, question: str, hits: Sequence[Hit]) -> Proposal | None:
        """The answer before the no-answer gate, with its null margin (``decide.choose``)."""
        cands = self.candidates(question, hits, decide.GROUP_FLOOR)
        return decide.choose(cands, hits, question, self.rules)

    def propose_many(self, items: Items, batch_size: int = 16) -> list[Proposal | None]:
        """``propose`` for many questions, batched (questions grouped by passage length)."""
        order = sorted(
            range(len(items)), key=lambda i: sum(len(h.passage.text) for h in items[i][1])
        )
        out: list[Proposal | None] = [None] * len(items)
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            cands_many = self.candidates_many([items[i] for i in idx], decide.GROUP_FLOOR)
            for i, cands in zip(idx, cands_many, strict=True):
                out[i] = decide.choose(cands, items[i][1], items[i][0], self.rules)
        return out

    def finish(
        self, proposal: Proposal | None, hits: Sequence[Hit], question: str
    ) -> Answer | None:
        """The proposal through the no-answer gate, with its confidence when answered."""
        answer = decide.gate_null_margin(proposal, self.null_threshold)
        if answer is None or proposal is None or self.calibrator is None:
            return answer
        evidence = self.evidence(proposal, hits, question)
        return replace(answer, confidence=self.calibrator.probability(evidence))

    @staticmethod
    def evidence(proposal: Proposal, hits: Sequence[Hit], question: str) -> dict[str, float]:
        """What the calibrator weighs (``qa.read.confidence.features``): the null margin
        as the model read it, before the table rules' ``rule_margin``."""
        margin = proposal.margin if proposal.read_margin is None else proposal.read_margin
        a, probs, agreeing = proposal.answer, proposal.group_probs, proposal.agreeing
        return features(a, margin, probs, agreeing, hits, question)

    def read(self, question: str, hits: Sequence[Hit]) -> Answer | None:
        """The answer span, or ``None`` when the sources do not answer the question."""
        return self.finish(self.propose(question, hits), hits, question)

    def read_many(self, items: Items, batch_size: int = 16) -> list[Answer | None]:
        """``read`` for many questions, batched (answers as from ``read``, up to rounding)."""
        return [
            self.finish(p, hits, q)
            for p, (q, hits) in zip(self.propose_many(items, batch_size), items, strict=True)
        ]
