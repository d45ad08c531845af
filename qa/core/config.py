"""One typed settings object, with defaults overridable from the environment (``QA_*``)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from qa.core.errors import BadInput

PACKAGE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_READER_DIR = PACKAGE_DIR / "models" / "reader"


def _default_index_dir() -> Path:
    return Path("index") / "default"


# Allowed range of each numeric setting (inclusive).
BOUNDS: dict[str, tuple[float, float]] = {
    "top_k": (1, 50),
    "alpha": (0.0, 1.0),
    "candidates": (1, 10_000),
    "max_passage_words": (1, 100_000),
    "overlap_sentences": (0, 100),
    "batch_size": (1, 4096),
    "ivf_threshold": (1, 10**12),
    "nprobe": (1, 1 << 20),
    "max_question_chars": (1, 1_000_000),
    "min_relevance": (0.0, 1.0),
    "read_floor": (0.0, 1.0),
}


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
    # Passages embedded per batch. Small batches keep each layer's activations in cache:
    # on 2 cores, 8 embedded SQuAD paragraphs 25% faster than 32 (ONNX; torch alike).
    batch_size: int = 8
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
    # The reader reads the best passage and every other retrieved passage whose fused
    # retrieval score reaches this fraction of the best one's; the rest are cited, not
    # read (0: read all), unless the passages read hold no answer. Questions for which
    # the scores say little read all (qa.retrieve.retriever.selective).
    # scripts/study_read_floor.py: the largest floor that cost nothing on the held-out
    # articles and the training articles' "who is" questions at K = 3, 5 and 10; on 1,500
    # evaluation questions, K=3 reads 2.12 passages instead of 3 for the same F1 (66.59),
    # K=5 2.83 instead of 5 for 66.51 vs 66.53.
    read_floor: float = 0.75

    def __post_init__(self) -> None:
        for name, (lo, hi) in BOUNDS.items():
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and lo <= v <= hi):
                raise BadInput(
                    f"setting {name} (QA_{name.upper()}) must be between {lo:g} and {hi:g}, "
                    f"not {v!r}"
                )

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then ``QA_<FIELD>`` environment variables, then explicit overrides."""
        values: dict[str, object] = {}
        defaults = cls()
        for f in fields(cls):
            raw = os.environ.get(f"QA_{f.name.upper()}")
            if raw is None:
                continue
            var = f"QA_{f.name.upper()}"
            if f.name == "index_dir":
                if not raw.strip():
                    raise BadInput(f"{var} is empty; unset it or name an index folder")
                values[f.name] = Path(raw)
            elif f.name == "reader_dir":  # empty: no neural reader (the sentence reader)
                values[f.name] = Path(raw) if raw else None
            else:
                kind = float if isinstance(getattr(defaults, f.name), float) else int
                try:
                    values[f.name] = kind(raw)
                except ValueError:
                    what = "a number" if kind is float else "a whole number"
                    raise BadInput(
                        f"{var}={raw!r} is not {what}; unset it or give {what}"
                    ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(defaults, **values)  # type: ignore[arg-type]
