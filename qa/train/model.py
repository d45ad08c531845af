"""The student: the tokenizer that cuts its windows, its weights (fewer or more layers
than the model it starts from) and its optimizer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.read.bridge import Bridge, load_bridge


def windows_tokenizer(init: str, windows_from: str | None, max_length: int) -> tuple[Any, Any]:
    """The tokenizer that cuts the training windows, and the bridge the model reads them
    through (None for a model of the reader's own family)."""
    from transformers import AutoTokenizer

    if windows_from and not (Path(windows_from) / "tokenizer.json").is_file():
        raise ValueError(
            f"--windows-from {windows_from}: not a reader folder (no tokenizer.json); "
            "point it at a reader such as qa/models/reader"
        )
    tok = AutoTokenizer.from_pretrained(windows_from or init)
    bridge = load_bridge(init, tok)  # a bridged reader, trained further
    if bridge is None and windows_from:
        model_tok = AutoTokenizer.from_pretrained(init)
        if model_tok.get_vocab() != tok.get_vocab():
            bridge = Bridge(tok, model_tok)
    elif bridge is None and "token_type_ids" not in tok.model_input_names:
        raise ValueError(
            f"--init {init} is not a BERT-style model (its inputs have no token types), which "
            "the reader's runtime needs; to train it as a teacher on the reader's windows, "
            "add --windows-from qa/models/reader"
        )
    if bridge is not None:
        bridge.check_length(max_length)
    return tok, bridge


def load_student(init: str, layers: int | None, have: int, *, eager: bool, device: str) -> Any:
    """``init``'s weights with a new span head, cut to its first ``layers`` encoder layers
    (the dropped ones are not loaded) or grown to them (``grow_layers``).

    ``eager``: the eager attention implementation, which returns attention maps, without
    attention dropout so the maps compared are distributions.
    """
    import torch
    from transformers import AutoModelForQuestionAnswering

    extra_kw: dict[str, Any] = {}
    if eager:
        extra_kw = {"attn_implementation": "eager", "attention_probs_dropout_prob": 0.0}
    if layers is not None and layers <= have:
        extra_kw["num_hidden_layers"] = layers
    model = AutoModelForQuestionAnswering.from_pretrained(init, dtype=torch.float32, **extra_kw)
    if layers is not None and layers > have:
        grow_layers(model, layers)
    return model.to(device)


def grow_layers(model: Any, n: int) -> list[int]:
    """Deepen ``model`` to ``n`` encoder layers by repeating its own, in order.

    Layer j of the result is a copy of layer ``j * have // n`` (6 -> 12: 0, 0, 1, 1, ...,
    5, 5), so every layer starts from trained weights; training then tells the copies
    apart. Returns the source index of each new layer.
    """
    import copy

    import torch

    layers = model.base_model.encoder.layer
    have = len(layers)
    if n < have:
        raise ValueError(f"grow_layers makes a model deeper, not shallower ({have} -> {n})")
    sources = [j * have // n for j in range(n)]
    model.base_model.encoder.layer = torch.nn.ModuleList(copy.deepcopy(layers[i]) for i in sources)
    model.config.num_hidden_layers = n
    for j, layer in enumerate(model.base_model.encoder.layer):  # keep per-layer indices true
        attn = getattr(getattr(layer, "attention", None), "self", None)
        if attn is not None and hasattr(attn, "layer_idx"):
            attn.layer_idx = j
    return sources


def make_optimizer(model: Any, guide: Any, lr: float, weight_decay: float) -> tuple[Any, list[Any]]:
    """AdamW (no weight decay on biases and LayerNorms, nor on the layer guide's maps),
    and the parameters it trains, for gradient clipping."""
    import torch

    decay = [
        p for n, p in model.named_parameters() if not n.endswith("bias") and "LayerNorm" not in n
    ]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=lr,
    )
    trained = list(model.parameters())
    if guide is not None:
        opt.add_param_group({"params": list(guide.proj.parameters()), "weight_decay": 0.0})
        trained += list(guide.proj.parameters())
    return opt, trained
