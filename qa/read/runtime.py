"""Running the reader's span model: start and end logits for a batch of windows.

Two backends: ``onnx``, the int8 ONNX Runtime model that ``qa.core.onnx`` builds once from
the weights and caches (the CPU default; needs neither torch nor transformers), and
``torch``, the weights as stored (fp32, or dynamic int8 Linear layers with ``quantize``).
torch and transformers are imported only inside the torch backend's functions.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from qa.core import onnx as onnx_models
from qa.core.errors import BadInput
from qa.read.bridge import MODEL_TOKENIZER, Bridge, span_logits

logger = logging.getLogger(__name__)

BACKENDS = ("onnx", "torch")


def pick_backend(model_dir: Path, backend: str | None, device: str, quantize: bool) -> str:
    """``backend``, else ``Settings.reader_backend`` (``$QA_READER_BACKEND``), else ONNX on
    the CPU when onnxruntime is installed and ``quantize`` is off; a bridged model
    (``qa.read.bridge``) always runs in torch. Raises ``BadInput`` for an unknown backend."""
    if not backend:
        from qa.core.config import Settings

        backend = Settings.from_env().reader_backend
    if not backend:
        backend = "torch" if quantize else onnx_models.default_backend(device)
    if (model_dir / MODEL_TOKENIZER).is_dir():
        backend = "torch"
    if backend not in BACKENDS:
        raise BadInput(
            f"reader backend (QA_READER_BACKEND) must be 'onnx' or 'torch', not {backend!r}"
        )
    return backend


def thread_count(threads: int | None) -> int:
    """``threads``, else the CPUs this process may use."""
    return max(1, threads or len(os.sched_getaffinity(0)))


class OnnxModel:
    """The int8 reader's ONNX Runtime sessions, and how a question's windows share the cores.

    Several windows run side by side, one core each, on a one-thread session; a lone
    window runs on a session with every thread. A pool of threads that meets at every
    operator stalls whenever the machine takes one core from it; windows side by side
    do not wait for each other. Each window is still its own run, so its scores are the
    same bits whichever session or thread reads it.
    """

    def __init__(self, whole: Any, single: Any | None, threads: int) -> None:
        self.whole = whole  # intra-op threads = ``threads``, spinning: for a lone window
        self.single = single  # one thread: for windows read side by side
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        if single is not None and threads > 1:
            self._pool = ThreadPoolExecutor(threads, thread_name_prefix="qa-reader")

    def run_all(self, feeds: list[dict[str, np.ndarray]]) -> list[list[np.ndarray]]:
        """The model's outputs for each feed, in order."""
        if self._pool is None or len(feeds) < 2:
            return [self.whole.run(None, f) for f in feeds]
        single = self.single
        return list(self._pool.map(lambda f: single.run(None, f), feeds))


def load_onnx(model_dir: Path, threads: int, cache_dir: Path | None = None) -> OnnxModel:
    """The int8 reader's sessions (``OnnxModel``), the model built into the cache on first use."""
    path = onnx_models.int8_path(model_dir, cache_dir)
    if not path.is_file():
        logger.info("preparing the int8 reader once: %s", path)
        onnx_models.build_int8(model_dir, path)
    whole = onnx_models.session(path, threads, spin=True)
    single = onnx_models.session(path, 1) if threads > 1 else None
    return OnnxModel(whole, single, threads)


def load_torch(model_dir: Path, threads: int, device: str, quantize: bool) -> Any:
    """The torch span model on ``device`` (``quantize``: dynamic int8 Linear layers, CPU).

    Sets torch's process-wide thread count to ``threads``.
    """
    import torch
    from transformers import AutoModelForQuestionAnswering

    onnx_models.offline_hub()
    torch.set_num_threads(threads)
    model = AutoModelForQuestionAnswering.from_pretrained(model_dir, dtype=torch.float32).eval()
    if quantize and device == "cpu":
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model.to(device)


def onnx_logits(model: OnnxModel, arrays: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Start and end logits (fp32, zero on padding) of padded windows, one run per window.

    Padding to the longest passage is wasted work, and int8 activations are scaled per
    run, so a window runs alone, unpadded: its scores never depend on its batch.
    """
    mask = np.asarray(arrays["attention_mask"])
    lengths = mask.sum(axis=1).tolist()
    start = np.zeros(mask.shape, dtype=np.float32)
    end = np.zeros(mask.shape, dtype=np.float32)
    feeds = [
        {
            k: np.ascontiguousarray(arrays[k][w : w + 1, :width], dtype=np.int64)
            for k in ("input_ids", "attention_mask", "token_type_ids")
        }
        for w, width in enumerate(lengths)
    ]
    for w, (width, (s, e)) in enumerate(zip(lengths, model.run_all(feeds), strict=True)):
        start[w, :width] = s[0]
        end[w, :width] = e[0]
    return start, end


def torch_logits(
    model: Any, arrays: dict[str, Any], device: str, bridge: Bridge | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end logits (numpy, fp32) of padded windows, in one batch."""
    import torch

    inputs = {
        k: torch.as_tensor(arrays[k]).to(device)
        for k in ("input_ids", "token_type_ids", "attention_mask")
        if k in arrays
    }
    with torch.inference_mode():
        start, end = span_logits(model, inputs, bridge)
    return start.float().cpu().numpy(), end.float().cpu().numpy()
