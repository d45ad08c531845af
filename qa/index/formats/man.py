"""Man pages: roff (man(7) and mdoc(7), as Debian ships them under /usr/share/man), rendered
by mandoc to HTML and read as HTML, so sections are headings and options their own items.

mandoc is built for pages nobody vetted: it follows no ``.so`` to an absolute path or up out
of the folder, runs no programs, reads no environment. It runs here on the page's bytes
through a pipe, in an empty working folder, with an empty environment and a time limit
(roff can loop). A page that is only ``.so OTHER`` (how Debian makes an alias page) is left
out as a link to the page it names; a file named like a man page that holds no roff (a
rotated log, ``app.log.1``) is read as plain text.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from html import unescape

from qa.index.formats import Extracted, Skip, Unreadable, Unsupported

MANDOC = "mandoc"
TIMEOUT_S = 20.0
_INSTALL = (
    "install mandoc (Debian: apt-get install mandoc) or render it with man -l FILE > FILE.txt"
)
_PAGE = re.compile(rb"^[.'][ \t]*(?:TH|SH|Dd|Dt|Sh|so)\b", re.M)
_LINK = re.compile(rb"^\.so[ \t]+(\S+)[ \t]*$")
_HEAD = re.compile(r'<table class="(?:head|foot)">.*?</table>', re.S)
_TITLE = re.compile(r'<td class="head-ltitle">(.*?)</td>', re.S)
# mandoc links every section and option to itself; such links read as boilerplate
_PERMALINK = re.compile(r'<a class="permalink" href="[^"]*">(.*?)</a>', re.S)
# mdoc's synopsis lays a command and its arguments out as a one-row table: a line of text
_SYNOPSIS = re.compile(r'<table class="Nm">(.*?)</table>', re.S)
_CELL_TAG = re.compile(r"</?(?:tr|td)\b[^>]*>")
# DocBook-made pages (systemd's, shadow's) set the name as a paragraph of its own with the
# description indented under it: the same pair.
_TERM_PARA = re.compile(
    r'<p class="Pp">((?:(?!</?p\b).){1,300}?)</p>\s*<div class="Bd-indent">', re.S
)
_TERM_WORDS = 12


class LinkPage(Skip):
    """An alias page (``.so`` to another page): left out, the page it names is read."""

    reason = "duplicate"


def is_roff(data: bytes) -> bool:
    """Whether ``data`` reads as a man page's roff source (a title or section request)."""
    return _PAGE.search(data[:65536]) is not None


def link_target(data: bytes) -> str | None:
    """The page a link page (``.so man1/gzip.1`` and comments alone) names, else None."""
    lines = [ln.strip() for ln in data.splitlines() if ln.strip()]
    requests = [ln for ln in lines if not re.match(rb"^[.'][ \t]*\\\"", ln)]
    if len(requests) == 1 and (m := _LINK.match(requests[0])):
        return m.group(1).decode("utf-8", "replace")
    return None


def render(data: bytes, timeout: float | None = None) -> str:
    """``data`` (roff) as mandoc's HTML fragment; `Unreadable` when mandoc is missing,
    fails or runs past ``timeout`` seconds (default `TIMEOUT_S`)."""
    timeout = TIMEOUT_S if timeout is None else timeout
    exe = shutil.which(MANDOC)
    if exe is None:
        raise Unreadable(f"is a man page, and reading one needs mandoc: {_INSTALL}")
    with tempfile.TemporaryDirectory(prefix="qa-man-") as empty:
        try:
            done = subprocess.run(
                [exe, "-K", "utf-8", "-T", "html", "-O", "fragment"],
                input=data,
                capture_output=True,
                cwd=empty,
                env={"PATH": os.defpath},
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise Unreadable(
                f"is a man page mandoc did not finish in {timeout:g} s (a roff loop?); "
                "render it with man -l FILE > FILE.txt and index that"
            ) from None
    if done.returncode >= 4 or not done.stdout.strip():  # 4+: mandoc could not parse it
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = said[0].removeprefix("mandoc: ") if said else f"exit status {done.returncode}"
        raise Unreadable(f"is a man page mandoc cannot read ({why}); check it with man -l FILE")
    return done.stdout.decode("utf-8", "replace")


def read_man(data: bytes) -> Extracted:
    """A man page's roff, rendered and read; plain text under a man page's name as text."""
    from qa.index.formats.html import extract_html, join_terms
    from qa.index.formats.text import decode, read_text

    if not is_roff(data):
        try:
            return read_text(data)
        except Unreadable:
            raise Unsupported(
                "is named like a man page but holds neither roff nor text; "
                "see what it holds with `file` and name it so"
            ) from None
    target = link_target(data)
    if target is not None:
        raise LinkPage(f"is a link to the man page {target} (.so); that page is read in its place")
    source, encoding = decode(data)
    page = render(source.encode("utf-8"))
    title = _TITLE.search(page)
    page = _PERMALINK.sub(r"\1", _HEAD.sub("", page))
    page = _SYNOPSIS.sub(lambda m: f"<p>{_CELL_TAG.sub(' ', m.group(1))}</p>", page)
    page = join_terms(page)
    page = _TERM_PARA.sub(_term_paragraph, page)
    text, blocks, first_heading = extract_html(page)
    name = _plain(title.group(1)) if title else first_heading
    return Extracted(text, blocks, name.lower() if name.isupper() else name, {"encoding": encoding})


def _term_paragraph(m: re.Match[str]) -> str:
    """A short paragraph that names what the indented block under it describes, moved into
    that block on a line of its own; a sentence leading into the block stays as it is."""
    term = _plain(m.group(1))
    if len(term.split()) > _TERM_WORDS or term.endswith((".", ":", ";", ",")):
        return m.group(0)
    return f'<div class="Bd-indent">{m.group(1)}<br/>'


def _plain(fragment: str) -> str:
    """An HTML fragment's text (the running header's title: ``GZIP(1)``)."""
    return unescape(re.sub(r"<[^>]+>", "", fragment)).strip()
