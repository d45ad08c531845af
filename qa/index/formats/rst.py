"""reStructuredText (README.rst, Sphinx sources): parsed by docutils, written as HTML and
read as HTML, so sections are headings, tables are tables and markup is gone (``auto``, not
````auto````).

docutils runs with what a page nobody vetted must not reach switched off: no file or URL
inserted (``include``, ``raw``, ``csv-table :file:``), no raw HTML, no configuration file
read, no message written into the text. Sphinx's directives and roles, which plain docutils
does not know, are read for what they hold: ``.. option:: -v`` over its description is a
term and its text, ``.. code-block::`` a literal block, ``.. versionadded:: 2.0`` a line
"New in version 2.0", ``:func:`~pkg.f``` the name "f"; a table of contents, an index entry
or a file to include holds no text of the page and is left out. A file docutils fails on is
read as plain text, with the reason in its metadata (``rst_error``), which `extract` logs
with the file's name.
"""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Sequence
from functools import cache
from html import unescape
from typing import Any, ClassVar

from qa.index.formats import Extracted

TIMEOUT_S = 20.0  # as long as a man page may take; a longer page is read as plain text

# Settings for pages nobody vetted: nothing from the file system, the network or the
# environment; the text as written (no smart quotes).
SETTINGS: dict[str, Any] = {
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "_disable_config": True,
    "report_level": 3,  # errors stay in the page, where `_keep_source` keeps their text
    "halt_level": 5,
    "traceback": True,
    "smart_quotes": False,
    "embed_stylesheet": False,
    "stylesheet_path": "",
    "syntax_highlight": "none",
    "toc_backlinks": "none",
    "footnote_backlinks": False,
    "section_self_link": False,
    "pep_references": False,
    "rfc_references": False,
    "output_encoding": "unicode",
}
# Sphinx's directives that hold nothing of the page's own text
_LEFT_OUT = frozenset(
    [
        "toctree",
        "index",
        "highlight",
        "literalinclude",
        "autosummary",
        "currentmodule",
        "module",
        "tabularcolumns",
        "only-html",
    ]
)
_CODE = frozenset(
    ["code-block", "sourcecode", "doctest", "testcode", "testoutput", "ipython", "prompt"]
)
_VERSION = {
    "versionadded": "New in version {}",
    "versionchanged": "Changed in version {}",
    "deprecated": "Deprecated since version {}",
    "versionremoved": "Removed in version {}",
}
# roles that link an issue or pull request by its number (sphinx-issues, extlinks)
_NUMBERED = frozenset(["issue", "pr", "pull", "bug", "gh", "ghissue", "ghpull"])
# what a page would pull in from other files: qa reads none, and says so
_INCLUDE = re.compile(r"^[ \t]*\.\.[ \t]+(include|literalinclude)::[ \t]*(\S.*?)[ \t]*$", re.M)
_DIRECTIVE = re.compile(r"^[ \t]*\.\.[ \t]+([A-Za-z][\w.:+-]*)::", re.M)
_ROLE = re.compile(r"(?<![\w`]):([A-Za-z][\w.+-]*(?::[A-Za-z][\w.+-]*)*):`")
# a cross-reference's text: "Title <target>" shows Title; "~a.b.c" shows c; "!x" shows x
_TITLED = re.compile(r"^(.*?)\s*<[^<>]*>$", re.S)
_lock = threading.Lock()  # docutils' registries are module-level
_NO_TITLE = "<title>&lt;string&gt;</title>"  # docutils' title for a page without one
# docutils' report of what it could not parse, with that source as a literal block
_PROBLEM = re.compile(r'<aside class="system-message"[^>]*>.*?</aside>', re.S)
_LITERAL = re.compile(r'<pre class="literal-block">.*?</pre>', re.S)
LINE_LIMIT = 10_000  # docutils' line_length_limit
# an admonition's title ("Note", "Warning") opens its first paragraph: "Note: Settings ..."
_ADMONITION = re.compile(r'<p class="admonition-title">(.*?)</p>\s*<p>', re.S)
# a page without a heading over it may name itself in a field (":title: AWS CLI S3 ...")
_TITLE_FIELD = re.compile(r'<dd class="title">\s*<p>(.*?)</p>', re.S)


def _ref_text(text: str) -> str:
    """What a Sphinx cross-reference role shows of its text."""
    m = _TITLED.match(text)
    if m and m.group(1):
        return m.group(1)
    text = text.lstrip("!")
    if text.startswith("~"):
        text = text[1:].rsplit(".", 1)[-1]
    return text


def _role(name: str, rawtext: str, text: str, *args: Any, **kw: Any) -> tuple[list, list]:
    """An unknown role (Sphinx's ``:func:``, ``:ref:``, ``:option:``): its text, as code
    when it names code."""
    from docutils import nodes
    from docutils.utils import unescape

    shown = _ref_text(unescape(text))
    kind = name.split(":")[-1]
    if kind in _NUMBERED and shown.isdigit():  # :issue:`299` reads "#299", not a bare 299
        return [nodes.Text(f"#{shown}")], []
    if kind in ("ref", "doc", "term", "abbr", "dfn", "guilabel", "menuselection"):
        return [nodes.Text(shown)], []
    return [nodes.literal(rawtext, shown)], []


class _AnyOptions(dict):
    """An option spec that takes every option a directive is given, as written."""

    def __bool__(self) -> bool:  # docutils parses options only when a spec is given
        return True

    def __missing__(self, key: str) -> Any:
        from docutils.parsers.rst import directives

        return directives.unchanged


@cache
def _directive_class() -> type:
    from docutils import nodes
    from docutils.parsers.rst import Directive

    class _Unknown(Directive):
        """A directive plain docutils does not know (Sphinx's): read for what it holds."""

        has_content = True
        optional_arguments = 1
        final_argument_whitespace = True
        option_spec: ClassVar[dict] = _AnyOptions()

        def run(self) -> Sequence[Any]:
            name = self.name.split(":")[-1]  # py:function is function
            arg = self.arguments[0].strip() if self.arguments else ""
            content = "\n".join(self.content)
            if name in _LEFT_OUT or name.startswith("auto"):
                return []  # autodoc's text comes from code qa does not have
            if name in _CODE:
                return [nodes.literal_block(content, content)] if content.strip() else []
            body = nodes.container()
            if self.content:
                self.state.nested_parse(self.content, self.content_offset, body)
            if name in _VERSION:
                version, _, said = arg.partition("\n")
                line = _VERSION[name].format(version.strip())
                lead = nodes.paragraph("", line + (": " if said.strip() else ""))
                lead += self.state.inline_text(" ".join(said.split()), self.lineno)[0]
                return [lead, *body.children]
            said = [f"{k}: {v}" for k, v in self.options.items() if v and str(v).strip()]
            if said:  # .. confval:: name / :default: 5
                body += nodes.paragraph(text="; ".join(said))
            if arg and len(body):  # .. option:: --foo / .. confval:: name, and its text
                item = nodes.definition_list_item(
                    "", nodes.term(arg, arg), nodes.definition("", *body.children)
                )
                return [nodes.definition_list("", item)]
            if arg:
                return [nodes.paragraph(text=arg)]
            return list(body.children)

    return _Unknown


def _register(source: str) -> None:
    """Register the directives and roles ``source`` uses that docutils does not know."""
    from docutils.parsers.rst import directives, roles
    from docutils.parsers.rst.languages import en

    known_d = {*directives._directive_registry, *directives._directives, *en.directives}
    known_r = {*roles._role_registry, *roles._roles, *en.roles}
    unknown = _directive_class()
    with _lock:
        for name in set(_DIRECTIVE.findall(source)) - known_d:
            directives.register_directive(name, unknown)
        for name in set(_ROLE.findall(source)) - known_r:
            roles.register_local_role(name, _role)


class Overtime(Exception):
    """docutils ran past its time limit on one page."""


def _inliner(deadline: float) -> Any:
    """docutils' inline parser, checking the time at each markup it meets: crafted markup
    (``**a *b ``c `d`_`` repeated) makes it quadratic in a paragraph's length."""
    from docutils.parsers.rst.states import Inliner

    def checked(fn: Any) -> Any:
        def run(inliner: Any, match: Any, lineno: int) -> Any:
            if time.monotonic() > deadline:
                raise Overtime
            return fn(inliner, match, lineno)

        return run

    # instance attributes, not a subclass: docutils builds its patterns from the class's
    inliner = Inliner()
    inliner.dispatch = {k: checked(v) for k, v in Inliner.dispatch.items()}
    parse = inliner.parse

    def timed_parse(*args: Any) -> Any:
        if time.monotonic() > deadline:
            raise Overtime
        return parse(*args)

    inliner.parse = timed_parse
    return inliner


def to_html(source: str, timeout: float | None = None) -> str:
    """``source`` (reStructuredText) as a whole HTML page, as the settings above allow;
    `Overtime` past ``timeout`` seconds (default `TIMEOUT_S`)."""
    from docutils.core import publish_string
    from docutils.parsers.rst import Parser

    _register(source)
    settings = {**SETTINGS, "warning_stream": io.StringIO()}
    limit = TIMEOUT_S if timeout is None else timeout
    parser = Parser(inliner=_inliner(time.monotonic() + limit))
    page = publish_string(source, parser=parser, writer="html5", settings_overrides=settings)
    return str(page).replace(_NO_TITLE, "<title></title>", 1)


def read_rst(data: bytes) -> Extracted:
    """A reStructuredText file: rendered by docutils and read as HTML; as plain text when
    docutils fails on it (the reason in ``meta["rst_error"]``)."""
    from qa.index.formats.html import extract_html, join_terms
    from qa.index.formats.text import decode, read_text

    source, encoding = decode(data)
    longest = max(map(len, source.splitlines()), default=0)
    why = None
    if longest > LINE_LIMIT:  # docutils drops the whole page over such a line
        why = f"a line of {longest:,} characters (docutils reads lines up to {LINE_LIMIT:,})"
    else:
        try:
            page = to_html(source)
        except Overtime:
            why = f"docutils did not finish in {TIMEOUT_S:g} s"
        except Exception as e:  # docutils' own failure on one file must not stop a folder
            why = "docutils failed (" + f"{type(e).__name__}: {e}".splitlines()[0][:200] + ")"
    if why is not None:
        out = read_text(data)
        return Extracted(out.text, out.blocks, out.title, {**out.meta, "rst_error": why})
    page, problems = _keep_source(page)
    text, blocks, title = extract_html(_ADMONITION.sub(r"<p>\1: ", join_terms(page)))
    if not title and (field := _TITLE_FIELD.search(page)):
        title = " ".join(unescape(re.sub(r"<[^>]+>", "", field.group(1))).split())
    if not title:  # a README whose badges come first: its one top heading names it
        levels = [b.level for b in blocks if b.kind == "heading"]
        top = [b for b in blocks if b.kind == "heading" and b.level == min(levels)]
        title = text[top[0].start : top[0].end] if len(top) == 1 else ""
    meta: dict[str, object] = {"encoding": encoding}
    if problems:
        meta["rst_problems"] = problems
    if included := [f"{kind} {target}" for kind, target in _INCLUDE.findall(source)]:
        meta["rst_not_included"] = included
    return Extracted(text, blocks, title, meta)


def _keep_source(page: str) -> tuple[str, int]:
    """``page`` with each of docutils' error messages replaced by the source it could not
    parse (a malformed table, an unknown directive), as written; and how many there were."""
    return _PROBLEM.subn(lambda m: "".join(_LITERAL.findall(m.group(0))), page)
