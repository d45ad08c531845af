"""One typed settings object, with defaults overridable from the environment (``QA_*``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_READER_DIR = PACKAGE_DIR / "models" / "reader"


def _default_index_dir() -> Path:
    return Path("index") / "default"


@dataclass(frozen=True)
class Settings:
    """Everything that shapes an index or an answer.

    ``max_passage_words`` and ``overlap_sentences`` are recorded in the index manifest:
    changing them requires a rebuild (the store says so when it opens).
    """

    index_dir: Path = field(default_factory=_default_index_dir)
    reader_dir: Path | None = DEFAULT_READER_DIR
    top_k: int = 3
    alpha: float = 0.5  # weight of the dense score in the dense + BM25 interpolation
    candidates: int = 50  # passages each retriever proposes before fusion
    max_passage_words: int = 150
    overlap_sentences: int = 1
    batch_size: int = 32
    # From bench/scale.py: exact search passes 5 ms per query near 55k vectors (1 thread);
    # IVF-Flat keeps remove_ids and reached recall@10 0.96 at 1M with nprobe 48 of 4096 lists.
    ivf_threshold: int = 50_000  # passages from which the vector index is IVF, not exact
    nprobe: int = 48
    max_question_chars: int = 1000
    # Abstain when no retrieved passage's dense cosine reaches this (0: off). On the
    # held-out articles, 0.28 abstained on 68.5% of questions whose article was not
    # indexed (61.9% from the reader's null margin alone) and on 4.0% of answerable ones
    # (2.3% without), reading the top 3 passages with the stage-2 reader.
    min_relevance: float = 0.0

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then ``QA_<FIELD>`` environment variables, then explicit overrides."""
        values: dict[str, object] = {}
        defaults = cls()
        for f in fields(cls):
            raw = os.environ.get(f"QA_{f.name.upper()}")
            if raw is None:
                continue
            if f.name in ("index_dir", "reader_dir"):
                values[f.name] = Path(raw) if raw else None
            elif isinstance(getattr(defaults, f.name), float):
                values[f.name] = float(raw)
            else:
                values[f.name] = int(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(defaults, **values)  # type: ignore[arg-type]
