"""PDF files."""

from __future__ import annotations

from qa.index.formats import Extracted, Unsupported


def read_pdf(data: bytes) -> Extracted:
    raise Unsupported("PDF is not read yet")
