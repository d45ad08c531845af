"""Every ``QA_*`` setting, in two frozen objects grouped by what they shape.

``Settings`` shapes an index and an answer; ``ServeSettings`` how the server protects
itself. Each field is read from ``QA_<FIELD>``, over an optional TOML file (``QA_CONFIG``,
or ``qa.toml`` in the working folder: top-level keys for ``Settings``, a ``[serve]`` table
for ``ServeSettings``), over the defaults; explicit overrides win. The environment is read
here and nowhere else in the package. Plain dataclasses, not pydantic-settings: every CLI
command builds settings, and importing pydantic-settings took longer than the whole CLI.
"""

from __future__ import annotations

import math
import os
import tomllib
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from qa.core.errors import BadInput

PACKAGE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_READER_DIR = PACKAGE_DIR / "models" / "reader"
MAX_K = 50  # passages one question may retrieve and cite
BACKENDS = ("onnx", "torch")
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("auto", "json", "text")
# Milvus's consistency levels, for the searches of questions (README "The index in Milvus")
MILVUS_CONSISTENCY = ("strong", "bounded", "session", "eventually")

# Allowed range of each numeric setting (inclusive).
BOUNDS: dict[str, tuple[float, float]] = {
    "top_k": (1, MAX_K),
    "alpha": (0.0, 1.0),
    "candidates": (1, 10_000),
    "max_passage_words": (1, 100_000),
    "overlap_sentences": (0, 100),
    "min_passage_words": (1, 100_000),
    "batch_size": (1, 4096),
    "ivf_threshold": (1, 10**12),
    "nprobe": (1, 1 << 20),
    "max_question_chars": (1, 1_000_000),
    "min_relevance": (0.0, 1.0),
    "min_confidence": (0.0, 1.0),
    "read_floor": (0.0, 1.0),
    "max_in_flight": (0, 10_000),
    "queue": (0, 100_000),
    "queue_wait_s": (0.0, 3600.0),
    "max_writes": (1, 64),
    "write_queue": (0, 100_000),
    "write_wait_s": (0.0, 86_400.0),
    "max_body_bytes": (1, 1 << 34),
    "body_timeout_s": (0.1, 3600.0),
    "header_timeout_s": (0.1, 3600.0),
}
CHOICES: dict[str, tuple[str, ...]] = {
    "embed_backend": BACKENDS,
    "reader_backend": BACKENDS,
    "log_level": LOG_LEVELS,
    "log_format": LOG_FORMATS,
    "milvus_consistency": MILVUS_CONSISTENCY,
}


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "qa"


@dataclass(frozen=True)
class Settings:
    """Everything that shapes an index or an answer.

    ``max_passage_words``, ``overlap_sentences`` and ``min_passage_words`` are recorded in
    the index manifest:
    changing them requires a rebuild (the store says so when it opens).
    """

    # -- the index: where it is and how documents become passages and vectors
    index_dir: Path = field(default_factory=lambda: Path("index") / "default")
    # Where the index lives instead of index_dir: milvus://host:19530/collection, or
    # file:///path/milvus.db[?collection=name] (milvus-lite); "" keeps the folder.
    store: str = ""
    # The consistency level of questions' searches in Milvus: strong, bounded (default:
    # at most a few seconds behind), session or eventually; writes are always Strong.
    milvus_consistency: str = "bounded"
    max_passage_words: int = 150
    overlap_sentences: int = 1
    # a paragraph shorter than this joins its neighbours in one passage (up to the maximum)
    min_passage_words: int = 40
    batch_size: int = 8  # passages embedded per batch (BENCHMARKS.md: batch size)
    ivf_threshold: int = 50_000  # passages from which vector search is IVF, not exact
    nprobe: int = 48  # IVF lists searched per question
    # -- retrieval
    top_k: int = 3
    alpha: float = 0.5  # weight of the dense score in the dense + BM25 interpolation
    candidates: int = 50  # passages each retriever proposes before fusion
    # -- reading and answering
    reader_dir: Path | None = DEFAULT_READER_DIR  # None: the sentence reader
    max_question_chars: int = 1000
    # Abstain when no retrieved passage's dense cosine reaches this (0: off).
    min_relevance: float = 0.0
    # Abstain when the answer's confidence (the calibrated probability that it is right)
    # is below this (0: off); README "Configuration" says how the default was chosen.
    min_confidence: float = 0.0
    # Read the best passage and those whose fused score reaches this fraction of its
    # score (0: all); README "Configuration" says how it was chosen.
    read_floor: float = 0.75
    # -- models at run time
    cache_dir: Path = field(default_factory=_default_cache_dir)  # the ONNX models built once
    embed_backend: str | None = None  # onnx or torch; None: ONNX on the CPU when installed
    reader_backend: str | None = None
    # -- training and evaluation (qa train-reader, qa eval): the SQuAD-format files
    data_dir: Path | None = None  # None: the repository's data/, else ../shared/data

    def __post_init__(self) -> None:
        for name in ("index_dir", "reader_dir", "cache_dir", "data_dir"):  # a string path works too
            if isinstance(getattr(self, name), str):
                object.__setattr__(self, name, Path(getattr(self, name)))
        object.__setattr__(self, "milvus_consistency", self.milvus_consistency.lower())
        _check(self)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then the TOML file, then ``QA_<FIELD>`` variables, then ``overrides``."""
        return _load(cls, None, overrides)


@dataclass(frozen=True)
class ServeSettings:
    """How ``qa serve`` protects itself, and where the CLI finds a server."""

    # -- access
    api_key: str | None = None  # bearer key for everything but the open paths
    cors_origins: tuple[str, ...] = ()  # comma-separated in QA_CORS_ORIGINS
    metrics_public: bool = False  # /readyz and /metrics without the key
    server_url: str = "http://127.0.0.1:8000"  # where `qa ask` looks for a server
    # The server's address as users reach it (behind a proxy), for the links in chat
    # replies; empty: the address each request came to.
    public_url: str = ""
    # -- load: questions and writes have separate limits
    # Questions answered at once: more than the cores, so one question's Python overlaps
    # another's model runs; a short queue absorbs bursts (bench/load.py chose these).
    max_in_flight: int = 4
    queue: int = 8  # questions waiting for a slot; more get 503 at once
    queue_wait_s: float = 1.0  # longest wait for a slot, then 503
    max_writes: int = 1  # document writes at once (they take turns on the index anyway)
    write_queue: int = 8  # writes waiting for their turn
    write_wait_s: float = 10.0  # for the turn, and for another process writing the index
    # -- slow or large requests
    max_body_bytes: int = 32_000_000  # uploads of PDF manuals run to megabytes
    body_timeout_s: float = 30.0  # the whole body must have arrived by then
    header_timeout_s: float = 10.0  # a request's headers must have arrived by then
    # -- logs
    log_level: str = "info"
    log_format: str = "auto"  # auto: readable on a terminal, JSON otherwise

    def __post_init__(self) -> None:
        _check(self)

    @classmethod
    def from_env(cls, **overrides: object) -> ServeSettings:
        """Defaults, then the TOML file's ``[serve]``, then ``QA_<FIELD>``, then ``overrides``."""
        return _load(cls, "serve", overrides)


T = TypeVar("T", Settings, ServeSettings)


def _check(obj: Settings | ServeSettings) -> None:
    for f in fields(obj):
        v = getattr(obj, f.name)
        var = f"QA_{f.name.upper()}"
        if f.name in BOUNDS:
            lo, hi = BOUNDS[f.name]
            if not (isinstance(v, int | float) and math.isfinite(v) and lo <= v <= hi):
                raise BadInput(
                    f"setting {f.name} ({var}) must be between {lo:g} and {hi:g}, not {v!r}"
                )
        if f.name in CHOICES and v is not None and v not in CHOICES[f.name]:
            allowed = " or ".join(repr(c) for c in CHOICES[f.name])
            raise BadInput(f"setting {f.name} ({var}) must be {allowed}, not {v!r}")


def config_file() -> Path | None:
    """The TOML file settings are read from: ``$QA_CONFIG``, else ``./qa.toml`` if present."""
    named = os.environ.get("QA_CONFIG", "").strip()
    if named:
        if not Path(named).is_file():
            raise BadInput(f"QA_CONFIG names {named}, which is not a file; unset it or fix it")
        return Path(named)
    here = Path("qa.toml")
    return here if here.is_file() else None


def _from_file(cls: type[T], table: str | None) -> dict[str, Any]:
    path = config_file()
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise BadInput(f"cannot read the settings file {path}: {e}") from None
    section = data.get(table, {}) if table else {k: v for k, v in data.items() if k != "serve"}
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(section) - known)
    if unknown:
        where = f"[{table}] of {path}" if table else str(path)
        raise BadInput(f"unknown setting(s) {', '.join(unknown)} in {where}; see README")
    return {k: _parse(cls, k, v, f"{k} in {path}") for k, v in section.items()}


def _parse(cls: type[T], name: str, raw: Any, where: str) -> Any:
    """``raw`` (a variable's text, or a TOML value) as the type of field ``name``."""
    kind = typing.get_type_hints(cls)[name]
    text = raw.strip() if isinstance(raw, str) else raw
    if kind in (Path, Path | None):
        if text in ("", None):
            if kind is Path:
                raise BadInput(f"{where} is empty; unset it or name a folder")
            return None  # e.g. QA_READER_DIR= : no neural reader
        return Path(text)
    if kind is bool:
        if isinstance(text, bool):
            return text
        if str(text).lower() in ("1", "true", "yes", "on"):
            return True
        if str(text).lower() in ("", "0", "false", "no", "off"):
            return False
        raise BadInput(f"{where}={raw!r} is not a yes/no value; use 1 or 0")
    if kind in (int, float):
        what = "a number" if kind is float else "a whole number"
        try:
            if isinstance(text, bool):
                raise ValueError
            return kind(text)
        except (TypeError, ValueError):
            raise BadInput(f"{where}={raw!r} is not {what}; unset it or give {what}") from None
    if kind == tuple[str, ...]:
        items = text if isinstance(text, list) else str(text).split(",")
        return tuple(str(i).strip() for i in items if str(i).strip())
    return (str(text) or None) if kind == str | None else str(text)


def setting(cls: type[T], name: str) -> Any:
    """One field as ``from_env`` would give it, without checking the others (for a value
    needed at import time, where an unrelated bad setting must not stop the import)."""
    var = f"QA_{name.upper()}"
    if var in os.environ:
        return _parse(cls, name, os.environ[var], var)
    return _from_file(cls, "serve" if cls is ServeSettings else None).get(
        name, getattr(cls(), name)
    )


def _load(cls: type[T], table: str | None, overrides: dict[str, object]) -> T:
    values = _from_file(cls, table)
    for f in fields(cls):
        var = f"QA_{f.name.upper()}"
        raw = os.environ.get(var)
        if raw is not None:
            values[f.name] = _parse(cls, f.name, raw, var)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(cls(), **values)
