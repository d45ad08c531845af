"""qa: source-grounded extractive question answering.

Three lines from a program::

    from qa import Engine
    engine = Engine.from_files("docs/", index_dir="index/docs")  # or Engine.open(…)
    r = engine.ask("Who will visit Moscow?")  # r.answer.text, r.citations[0].start

Names load when first used, so ``import qa`` (and the ``qa`` command) stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.core.config import Settings
    from qa.core.errors import QAError
    from qa.core.types import Answer, Citation, Document, Response
    from qa.engine import Engine

_WHERE = {
    "Engine": "qa.engine",
    "Settings": "qa.core.config",
    "QAError": "qa.core.errors",
    "Answer": "qa.core.types",
    "Citation": "qa.core.types",
    "Document": "qa.core.types",
    "Response": "qa.core.types",
}
__all__ = ["Answer", "Citation", "Document", "Engine", "QAError", "Response", "Settings"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_WHERE[name]), name)
