"""Restrict retrieval to some documents: by id, or by glob patterns over their metadata.

A filter maps a field to a pattern or a list of them: ``{"source": "contracts/*"}``,
``{"doc": ["d1…", "d2…"], "format": "pdf"}``. Fields are ``doc`` (ids, exact), ``source``,
``title``, ``format`` and any metadata field (front matter, ``encoding``, …); patterns
are shell globs (``*``, ``?``, ``[…]``), case-sensitive. A document matches when every
field matches one of its patterns (a list-valued field: any of its items).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence

from qa.core.errors import BadInput
from qa.core.types import Document

Filter = Mapping[str, "str | Sequence[str]"]
_ID_FIELDS = ("doc", "doc_id", "id")


def parse_where(items: Sequence[str], doc_ids: Sequence[str] = ()) -> dict[str, list[str]]:
    """``--where field=glob`` options (and ``--doc ID``s) as a filter."""
    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, pattern = item.partition("=")
        if not sep or not name.strip():
            raise BadInput(
                f"--where {item!r} is not field=pattern; e.g. --where 'source=contracts/*'"
            )
        out.setdefault(name.strip(), []).append(pattern.strip())
    if doc_ids:
        out.setdefault("doc", []).extend(d.strip() for d in doc_ids)
    return out


def _values(doc: Document, name: str) -> list[str] | None:
    if name in ("source", "title"):
        return [getattr(doc, name)]
    if name not in doc.meta:
        return None
    value = doc.meta[name]
    items = value if isinstance(value, list | tuple) else [value]
    return [str(v) for v in items]


def _patterns(value: object, name: str) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    if not items or not all(isinstance(v, str) for v in items):
        raise BadInput(f"filter {name!r} must be a pattern or a list of patterns (strings)")
    return list(items)  # type: ignore[arg-type]


def matching(documents: Mapping[str, Document], where: Filter) -> set[str]:
    """The ids of the documents that match ``where``; a field no document has is an error
    (a misspelling would otherwise quietly match nothing)."""
    ids = set(documents)
    for name, value in where.items():
        patterns = _patterns(value, name)
        if name in _ID_FIELDS:
            ids &= {p for p in patterns}
            continue
        known = name in ("source", "title") or any(name in d.meta for d in documents.values())
        if not known:
            fields = sorted(
                {"doc", "source", "title"} | {k for d in documents.values() for k in d.meta}
            )
            raise BadInput(
                f"no document has a field {name!r} to filter on; fields: {', '.join(fields)}"
            )
        ids = {
            i
            for i in ids
            if (vals := _values(documents[i], name)) is not None
            and any(fnmatch.fnmatchcase(v, p) for v in vals for p in patterns)
        }
    return ids


def describe(where: Filter) -> str:
    """``source=contracts/*, format=pdf`` (for messages)."""
    parts = []
    for name, value in where.items():
        items = value if isinstance(value, list | tuple) else [value]
        parts.extend(f"{name}={v}" for v in items)
    return ", ".join(parts)
