"""A reader folder's settings file, ``qa_reader.json``: windows, thresholds, what was
tuned and measured. The one place that reads and writes it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

READER_JSON = "qa_reader.json"


def read_meta(model_dir: str | Path) -> dict[str, Any]:
    """The folder's settings ({} when it has none)."""
    path = Path(model_dir) / READER_JSON
    if not path.exists():
        return {}
    meta = json.loads(path.read_text(encoding="utf-8"))
    return meta if isinstance(meta, dict) else {}


def update_meta(model_dir: str | Path, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Read the settings, let ``change`` edit them in place, write them back; returns them."""
    meta = read_meta(model_dir)
    change(meta)
    (Path(model_dir) / READER_JSON).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta
