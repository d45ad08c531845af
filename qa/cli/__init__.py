"""The command line: index, add, rm, docs, ask, cite, serve, and the reader tools."""

from qa.cli.commands import app, main

__all__ = ["app", "main"]
