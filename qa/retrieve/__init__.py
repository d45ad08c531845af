"""Retrieval: dense + BM25 fused, query rewriting, and which passages are read."""

from qa.core.text import terms
from qa.retrieve.fusion import fuse
from qa.retrieve.query import full_name
from qa.retrieve.retriever import Retriever
from qa.retrieve.select import selective, within_floor

__all__ = ["Retriever", "full_name", "fuse", "selective", "terms", "within_floor"]
