"""Reading an index's manifest without loading it: cheap, standard library only.

The CLI uses this to check whether a running server holds the same index before it
hands a question over, so nothing heavy is imported on that path.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

# What identifies indexed contents; how the vectors are searched (``vector_index``) and
# derived counts are left out, so an index saved by an older version still matches.
CONTENT_KEYS = ("format", "embedder", "chunking", "documents")


def manifest_fingerprint(manifest: dict[str, object]) -> str:
    """A short hash of a manifest: equal fingerprints mean the same indexed contents."""
    content = {k: manifest.get(k) for k in CONTENT_KEYS}
    blob = json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def index_fingerprint(path: Path) -> str | None:
    """The fingerprint of the saved index at ``path`` (None if there is none)."""
    manifest = read_manifest(path)
    return None if manifest is None else manifest_fingerprint(manifest)


def read_manifest(path: Path) -> dict[str, object] | None:
    """The live manifest at ``path``, or None when there is no readable index."""
    gen = current_generation(path)
    if gen is None:
        return None
    try:
        manifest = json.loads((path / gen / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def current_generation(path: Path) -> str | None:
    """The live generation folder name at ``path``, or None."""
    try:
        gen = (path / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, ValueError):  # missing, a file in the way, or not text
        return None
    return gen if gen.startswith("gen-") and (path / gen).is_dir() else None


def current_stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells one save of the index at ``path`` from any other: ``CURRENT``'s inode,
    change time and size (a save replaces the file, so each save gives a new one, even
    when a rebuilt index reuses a generation's name). None when there is no ``CURRENT``."""
    try:
        st = os.stat(path / "CURRENT")
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
