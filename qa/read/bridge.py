"""Run a model of another family on the reader's windows, position for position.

A larger encoder whose tokenizer splits text into the same word-pieces as the reader's
(MPNet and BERT-uncased share theirs; only the ids, the special tokens and the pair
template differ) can read the reader's windows as they are: ids are mapped piece by
piece, the pair template's extra separator is inserted, and the start/end logits come
back at the reader's positions. That lets such a model be trained on the reader's
windows and teach the reader (``qa train-reader --teacher``).

A reader folder holding such a model keeps the windows' tokenizer at its top level (as
every reader folder does) and the model's own in ``model_tokenizer/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODEL_TOKENIZER = "model_tokenizer"
# Text whose word-pieces must come out the same from both tokenizers (accents, digits,
# punctuation, case, a long word).
PROBE = (
    "Who founded Zürich's ETH in 1855? The Swiss Federal Council, after debate "
    '("Polytechnikum") — 3.5% of GDP; naïve café-goers\' well-known déjà vu!'
)


class Bridge:
    """Maps a batch of the reader's windows to the model's inputs and its logits back.

    Raises ``ValueError`` when the two tokenizers do not split text alike or the model's
    vocabulary lacks the reader's word-pieces.
    """

    def __init__(self, windows_tok: Any, model_tok: Any) -> None:
        import torch

        if windows_tok.tokenize(PROBE) != model_tok.tokenize(PROBE):
            raise ValueError(
                "the model's tokenizer splits text into other word-pieces than the "
                "reader's, so it cannot read the reader's windows"
            )
        wv, mv = windows_tok.get_vocab(), model_tok.get_vocab()
        special = {
            windows_tok.cls_token_id: model_tok.cls_token_id,
            windows_tok.sep_token_id: model_tok.sep_token_id,
            windows_tok.pad_token_id: model_tok.pad_token_id,
            windows_tok.unk_token_id: model_tok.unk_token_id,
        }
        table = [model_tok.unk_token_id] * (max(wv.values()) + 1)
        missing = []
        for piece, i in wv.items():
            if i in special:
                table[i] = special[i]
            elif piece in mv:
                table[i] = mv[piece]
            elif not (piece.startswith("[") and piece.endswith("]")):
                missing.append(piece)
        if missing:
            raise ValueError(
                f"{len(missing)} of the reader's word-pieces are not in the model's "
                f"vocabulary (e.g. {missing[:3]})"
            )
        self.table = torch.tensor(table, dtype=torch.long)
        pair = model_tok("a", "b")["input_ids"]
        a, b = (pair.index(mv[x]) for x in ("a", "b"))
        self.extra = sum(1 for t in pair[a + 1 : b] if t == model_tok.sep_token_id) - 1
        if self.extra < 0:
            raise ValueError("the model's pair template has no separator between the texts")
        self.sep_in = windows_tok.sep_token_id
        self.sep_out = model_tok.sep_token_id
        self.pad_out = model_tok.pad_token_id
        self.types = "token_type_ids" in model_tok.model_input_names
        self.limit = int(getattr(model_tok, "model_max_length", 0) or 0)  # tokens it reads
        self.model_tok = model_tok  # saved with a bridged reader, in MODEL_TOKENIZER/

    def inputs(self, batch: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """The model's inputs for a batch of windows, and the index that maps back."""
        import torch

        ids = batch["input_ids"].long()
        mask = batch["attention_mask"]
        n, width = ids.shape
        mapped = self.table.to(ids.device)[ids]
        is_sep = ids == self.sep_in
        if not bool(is_sep.any(dim=1).all()):
            raise ValueError("a window has no separator: not a (question, passage) window")
        first_sep = is_sep.int().argmax(dim=1)
        col = torch.arange(width, device=ids.device).expand(n, width)
        pos = col + (col > first_sep[:, None]).long() * self.extra
        shape = (n, width + self.extra)
        out_ids = torch.full(shape, self.pad_out, dtype=ids.dtype, device=ids.device)
        out_mask = torch.zeros(shape, dtype=mask.dtype, device=ids.device)
        out_ids.scatter_(1, pos, mapped)
        out_mask.scatter_(1, pos, mask)
        rows = torch.arange(n, device=ids.device)
        for k in range(1, self.extra + 1):
            out_ids[rows, first_sep + k] = self.sep_out
            out_mask[rows, first_sep + k] = 1
        out = {"input_ids": out_ids, "attention_mask": out_mask}
        if self.types:  # the inserted separators count with the question
            types = torch.zeros_like(out_ids)
            if "token_type_ids" in batch:
                types.scatter_(1, pos, batch["token_type_ids"].to(types.dtype))
            out["token_type_ids"] = types
        return out, pos

    def check_length(self, max_length: int) -> None:
        """Raise ``ValueError`` when windows of ``max_length`` plus the inserted separators
        are longer than the model reads."""
        limit = self.limit
        if 0 < limit < max_length + self.extra:
            raise ValueError(
                f"max length {max_length} is too long for this model: it reads at most {limit} "
                f"tokens and its windows get {self.extra} more separator(s); use at most "
                f"{limit - self.extra}"
            )

    @staticmethod
    def back(logits: Any, pos: Any) -> Any:
        """The model's per-position logits at the reader's positions."""
        return logits.gather(1, pos)


def load_bridge(model_dir: str | Path, windows_tok: Any) -> Bridge | None:
    """The bridge for a reader folder whose model keeps its own tokenizer, else None."""
    mt = Path(model_dir) / MODEL_TOKENIZER
    if not mt.is_dir():
        return None
    from transformers import AutoTokenizer

    return Bridge(windows_tok, AutoTokenizer.from_pretrained(mt))


def span_logits(model: Any, batch: dict[str, Any], bridge: Bridge | None = None) -> tuple[Any, Any]:
    """Start and end logits at the windows' positions, through the bridge if there is one."""
    if bridge is None:
        inputs = {
            k: batch[k] for k in ("input_ids", "token_type_ids", "attention_mask") if k in batch
        }
        out = model(**inputs)
        return out.start_logits, out.end_logits
    inputs, pos = bridge.inputs(batch)
    out = model(**inputs)
    return Bridge.back(out.start_logits, pos), Bridge.back(out.end_logits, pos)
