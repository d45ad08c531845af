"""ONNX Runtime models built once from shipped weights and cached: int8 reader, embedder.

The package ships the reader's fp16 safetensors (the weights training continues from).
For answering on a CPU, ``build_int8`` exports them to ONNX and applies dynamic int8
quantisation: int8 weights per output channel for every MatMul of the encoder; the
embedding tables and the span head stay fp32 (quantising them cost F1 for no speed).
The file is written once per weights file, atomically, into ``$QA_CACHE_DIR`` (default
``~/.cache/qa``), keyed by the weights' digest; later loads reuse it. A
``model.int8.onnx`` beside the weights is used as it is.

The embedder (all-MiniLM-L6-v2) is exported the same way by ``build_embedder``, in fp32
with its mean pooling and L2 normalisation inside the graph, so its vectors equal the
sentence-transformers ones (to float rounding) and an index built by either matches.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

ONNX_NAME = "model.int8.onnx"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def available() -> bool:
    """Whether onnxruntime imports: all that answering needs.

    Building a model on a cache miss also needs torch and ``onnx`` (the ``train`` tools);
    a serving install without them runs from a cache built elsewhere, and a miss there is
    a one-line error (``_build``).
    """
    try:
        import onnxruntime  # noqa: F401 -- a broken install falls back to torch
    except ImportError:
        return False
    return True


def default_backend(device: str = "cpu") -> str:
    """``onnx`` on the CPU when ONNX Runtime is installed, else ``torch``."""
    return "onnx" if device == "cpu" and available() else "torch"


def offline_hub() -> None:
    """Keep the Hugging Face libraries off the network: every model here is local."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def cache_dir(given: Path | None = None) -> Path:
    """Where built models are kept: ``given``, else ``Settings.cache_dir`` ($QA_CACHE_DIR)."""
    if given is not None:
        return given
    from qa.core.config import Settings

    return Settings.from_env().cache_dir


def embedder_path(model_dir: str | Path, cache: Path | None = None) -> Path:
    """Where the ONNX embedder of these weights lives (the cache)."""
    return cache_dir(cache) / "embedder" / weights_digest(model_dir, cache) / "model.onnx"


def build_embedder(model_dir: str | Path, dest: str | Path) -> Path:
    """Export a BERT sentence encoder with mean pooling and normalisation to ONNX (fp32)."""
    return _build(lambda tmp: _export_embedder(Path(model_dir), tmp), dest)


def _export_embedder(model_dir: Path, tmp: Path) -> Path:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(
        model_dir, dtype=torch.float32, attn_implementation="eager"
    ).eval()

    def pool(out: Any, attention_mask: Any) -> Any:
        tokens = out.last_hidden_state
        m = attention_mask.unsqueeze(-1).to(tokens.dtype)
        mean = (tokens * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    out = tmp / "model.onnx"
    _export(_traced(model, pool), out, ["embedding"], {"embedding": {0: "batch"}})
    return out


def _traced(inner: Any, head: Any) -> Any:
    """A module calling ``inner`` with the three BERT inputs, then ``head(out, mask)``."""
    import torch

    class Traced(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return head(out, attention_mask)

    return Traced()


def _export(module: Any, path: Path, outputs: list[str], out_axes: dict[str, Any]) -> None:
    import torch

    ids = torch.tensor([[101, 2054, 102, 2023, 102]] * 2)
    example = (ids, torch.ones_like(ids), torch.tensor([[0, 0, 0, 1, 1]] * 2))
    dynamic = {n: {0: "batch", 1: "tokens"} for n in INPUTS} | out_axes
    torch.onnx.export(
        module,
        example,
        str(path),
        input_names=list(INPUTS),
        output_names=outputs,
        dynamic_axes=dynamic,
        opset_version=17,
        dynamo=False,
    )


def weights_digest(model_dir: str | Path, cache: Path | None = None) -> str:
    """First 16 hex digits of the sha256 of ``model.safetensors``.

    Hashing the weights on every start is slow, so digests are remembered in the cache
    folder against the file's path, size, inode and modification time.
    """
    path = (Path(model_dir) / "model.safetensors").resolve()
    st = path.stat()
    stamp = [st.st_size, st.st_ino, st.st_mtime_ns]
    memo_file = cache_dir(cache) / "digests.json"
    try:
        memo = json.loads(memo_file.read_text())
    except (OSError, ValueError):
        memo = {}
    entry = memo.get(str(path))
    if isinstance(entry, dict) and entry.get("stamp") == stamp:
        return str(entry["digest"])
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()[:16]
    memo[str(path)] = {"stamp": stamp, "digest": digest}
    try:
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=memo_file.parent, suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(memo, f)
        os.replace(tmp, memo_file)
    except OSError:
        pass  # a read-only cache only costs the hashing next time
    return digest


def int8_path(model_dir: str | Path, cache: Path | None = None) -> Path:
    """Where the int8 model of these weights lives: beside them if shipped, else the cache."""
    beside = Path(model_dir) / ONNX_NAME
    if beside.is_file():
        return beside
    return cache_dir(cache) / "reader" / weights_digest(model_dir, cache) / ONNX_NAME


def build_int8(model_dir: str | Path, dest: str | Path) -> Path:
    """Export the reader in ``model_dir`` to ONNX and quantise it to int8 at ``dest``."""
    return _build(lambda tmp: _export_and_quantize(Path(model_dir), tmp), dest)


class _Exporters(logging.Filter):
    """Drops the exporter's and quantiser's notes below ERROR (the quantiser logs through
    the root logger itself); other loggers' records pass untouched."""

    def filter(self, record: logging.LogRecord) -> bool:
        noisy = record.name == "root" or record.name.startswith(("torch", "onnx"))
        return not noisy or record.levelno >= logging.ERROR


def _build(make: Any, dest: str | Path) -> Path:
    """Run ``make(tmp_folder) -> file`` quietly and move the file to ``dest`` atomically."""
    import warnings

    offline_hub()
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        from qa.core.errors import BadInput

        raise BadInput(
            f"cannot write the model cache at {dest.parent} ({e.strerror}); set QA_CACHE_DIR "
            "to a writable folder"
        ) from None
    quiet = _Exporters()
    root = logging.getLogger()
    with warnings.catch_warnings(), tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        # The tracer's notes on constant shapes and the quantiser's advice are not for users.
        warnings.simplefilter("ignore")
        root.addFilter(quiet)
        try:
            made = make(Path(tmp))
        except ImportError as e:
            from qa.core.errors import BadInput

            raise BadInput(
                f"{dest.name} is not in the model cache {dest.parent} and building it needs "
                f"{e.name or 'torch'}, which is not installed: install torch, transformers and "
                "onnx, or set QA_CACHE_DIR to a cache built where they are"
            ) from None
        finally:
            root.removeFilter(quiet)
        os.replace(made, dest)
    return dest


def _export_and_quantize(model_dir: Path, tmp: Path) -> Path:
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForQuestionAnswering

    model = AutoModelForQuestionAnswering.from_pretrained(
        model_dir, dtype=torch.float32, attn_implementation="eager"
    ).eval()

    def logits(out: Any, attention_mask: Any) -> Any:
        return out.start_logits, out.end_logits

    fp32 = tmp / "model.fp32.onnx"
    axes = {n: {0: "batch", 1: "tokens"} for n in ("start", "end")}
    _export(_traced(model, logits), fp32, ["start", "end"], axes)
    head = [n.name for n in onnx.load(str(fp32)).graph.node if "qa_outputs" in n.name]
    q8 = tmp / ONNX_NAME
    quantize_dynamic(
        str(fp32),
        str(q8),
        op_types_to_quantize=["MatMul"],
        weight_type=QuantType.QInt8,
        per_channel=True,
        nodes_to_exclude=head,
    )
    return q8


def session(path: str | Path, threads: int, spin: bool = False) -> Any:
    """An ONNX Runtime CPU session with ``threads`` intra-op threads.

    ``spin``: idle pool threads busy-wait for the next operator instead of sleeping. That
    makes one model's run faster, but a spinning pool takes the cores from whatever runs
    next, so only the model that runs last in a question (the reader) spins; the
    embedder's pool sleeps while the reader works.
    """
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = max(1, threads)
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
