"""DOCX files."""

from __future__ import annotations

from qa.index.formats import Extracted, Unsupported


def read_docx(data: bytes) -> Extracted:
    raise Unsupported("DOCX is not read yet")
