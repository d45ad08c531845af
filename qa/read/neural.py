"""The neural reader's former home: its names now live in ``qa.read.reader`` (the reader)
and ``qa.read.windows`` (tokenising into windows). This module only re-exports them for
callers outside ``qa/read`` not yet moved; import from those modules instead."""

from qa.read.reader import DEFAULT_MODEL_DIR, NeuralReader
from qa.read.windows import (
    MAX_QUESTION_TOKENS,
    Windows,
    check_windows,
    encode_windows,
    fast_tokenizer,
)

__all__ = [
    "DEFAULT_MODEL_DIR",
    "MAX_QUESTION_TOKENS",
    "NeuralReader",
    "Windows",
    "check_windows",
    "encode_windows",
    "fast_tokenizer",
]
