"""What on an HTML page is not its content: navigation, banners, footers, sidebars, ...

The rules were measured on documentation pages from Sphinx, rustdoc, mdBook, MkDocs
(Material), Doxygen and javadoc (see the HTML reader's tests): an element is boilerplate
by its tag (``nav``, ``footer``; ``header`` and ``aside`` outside ``main``/``article``),
its ARIA role, being hidden, or a word in its ``id``/``class`` (``sidebar``, ``cookie``,
``breadcrumb``, ``menu``, ...); a list of links to the page's own anchors and nothing else
is its table of contents. A page with a ``<main>``, a ``role=main`` or a single
``<article>`` holding most of its text is read from there only.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any


def _names(names: str) -> frozenset[str]:
    return frozenset(names.split())


# Never text: code, media, form controls; nav and footer are never the content either.
DROP_TAGS = _names(
    "script style noscript template head title svg iframe form button select textarea input object"
    " embed canvas video audio picture map dialog menu nav footer"
)
# Boilerplate around the content, but part of it inside main/article (a post's header,
# a note or footnote in an aside).
OUTSIDE_CONTENT_TAGS = frozenset(["header", "aside"])
DROP_ROLES = _names(
    "navigation banner contentinfo search complementary dialog alertdialog menu menubar toolbar"
)
# Words in an id or class that mark boilerplate, whole or as a part split at - _ or camelCase.
DROP_WORDS = _names(
    "cookie cookies consent gdpr banner breadcrumb breadcrumbs navbar menu menubar sidebar"
    " sidebars skip skiplink skipnav footer toc tableofcontents sphinxsidebar"
    " sphinxsidebarwrapper related headerlink popup newsletter share social tagline"
    " nosearch noindex titlearea outofband testarrow hideme notabletraits"
)
# Permalink marks (¶, §, #) next to headings: dropped when they hold a symbol or two only.
ANCHOR_WORDS = _names("anchor anchorjs permalink hashlink headeranchor")
_PARTS = re.compile(r"[-_]+|(?<=[a-z0-9])(?=[A-Z])")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_TEXT_TAGS_TO_SKIP = ("script", "style", "noscript", "template")


@lru_cache(maxsize=8192)
def words(value: str) -> frozenset[str]:
    """The words of an id or class value: each token whole, without - and _, and in parts."""
    out: set[str] = set()
    for token in value.split():
        out.add(token.lower())
        out.add(token.replace("-", "").replace("_", "").lower())
        out.update(p.lower() for p in _PARTS.split(token) if p)
    return frozenset(out)


_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_NOT_WORD = re.compile(r"[\W_]+")


def _named_by_its_heading(el: Any, tag: str, id_: str) -> bool:
    """Whether ``el``'s id is the slug of its heading's text (of ``el`` itself when it is a
    heading, else of the first heading inside it), as documentation generators make them;
    the class must not mark it as boilerplate on its own."""
    if not id_ or words(el.attrib.get("class", "")) & DROP_WORDS:
        return False
    heading = el if tag in _HEADING_TAGS else next(el.iter(*_HEADING_TAGS), None)
    if heading is None:
        return False
    text = _NOT_WORD.sub("", "".join(heading.itertext()).lower())
    return bool(text) and text == _NOT_WORD.sub("", id_.lower())


_CONTENTS_TAGS = _names("ul ol dl p blockquote div")  # what a table of contents is set in


def contents_lists(root: Any) -> set[Any]:
    """The lists (or paragraphs) under ``root`` made of links to places on the same page and
    nothing else, three or more: tables of contents, whose entries are the page's own
    headings (read as a passage one matches every question on the page and holds no
    answer). One pass, so deep nesting costs no more than the page."""
    from lxml import etree

    out: set[Any] = set()
    stack: list[list[Any]] = []  # per open element: [in-page links, text outside links?]
    for event, el in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            in_page = el.tag == "a" and el.get("href", "").startswith("#")
            stack.append([1 if in_page else 0, False, in_page])
            if not in_page and el.text and el.text.strip():
                stack[-1][1] = True
            continue
        count, plain, in_page = stack.pop()
        plain = plain and not in_page  # all of an in-page link's text is linked
        if not plain and count >= 3 and el.tag in _CONTENTS_TAGS:
            out.add(el)
        if stack:
            parent = stack[-1]
            parent[0] += count
            parent[1] = parent[1] or plain or bool(el.tail and el.tail.strip())
    return out


def is_boilerplate(el: Any, tag: str, in_content: bool) -> bool:
    """Whether ``el`` (tag ``tag``; ``in_content``: inside main/article) is not content."""
    if tag in DROP_TAGS or (tag in OUTSIDE_CONTENT_TAGS and not in_content):
        return True
    attrib = el.attrib
    if not attrib:
        return False  # most elements: nothing more to look at
    role = attrib.get("role")
    if role and role.strip().lower() in DROP_ROLES:
        return True
    if "hidden" in attrib or attrib.get("aria-hidden", "").strip().lower() == "true":
        return True
    style = attrib.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    names = words(f"{attrib.get('id', '')} {attrib.get('class', '')}")
    if names & DROP_WORDS or any(w.startswith("nav") and len(w) > 3 for w in names):
        # "navheader", "navpath", "navrow1"; not "nav" alone (wy-nav-content); but an id
        # made from the heading's own words ("table-of-contents") names content
        return not _named_by_its_heading(el, tag, attrib.get("id", ""))
    if tag == "a" and names & ANCHOR_WORDS:
        return len("".join("".join(el.itertext()).split())) <= 2
    return False


def text_size(el: Any) -> int:
    """Characters of text (whitespace and scripts left out) under ``el``."""
    size = len("".join("".join(el.itertext()).split()))
    for skip in el.iter(*_TEXT_TAGS_TO_SKIP):
        size -= len("".join((skip.text or "").split()))
    return size


def content_root(root: Any, min_share: float = 0.2, enough: int = 1000) -> Any:
    """The page's main content: the first ``<main>``, else the first ``role=main``, else
    the only ``<article>``, when it holds ``min_share`` of the page's text or ``enough``
    characters; else ``root``."""
    mains: list[Any] = []
    roles: list[Any] = []
    articles: list[Any] = []
    for el in root.iter("main", "article", "div", "section"):
        if el.get("hidden") is not None or el.get("aria-hidden") == "true":
            continue
        if el.tag == "main":
            mains.append(el)
        elif el.get("role", "").strip().lower() == "main":
            roles.append(el)
        elif el.tag == "article":
            articles.append(el)
    found = mains[:1] or roles[:1] or (articles if len(articles) == 1 else [])
    if not found:
        return root
    size = text_size(found[0])
    if size and (size >= enough or size >= min_share * text_size(root)):
        return found[0]
    return root


_GRID = re.compile(r"\bsummary-table\b")
_GRID_WIDTH = {"two-column-summary": 2, "three-column-summary": 3, "four-column-summary": 4}


def grid_width(el: Any) -> int:
    """For javadoc's ``div.summary-table`` grids (a table of divs): their columns, -1 when
    not known; for any other element 0."""
    cls = el.get("class")
    if not cls or not _GRID.search(cls):
        return 0
    return next((n for name, n in _GRID_WIDTH.items() if name in cls), -1)


# What makes a table layout (read as text) and a list running text (not one list block).
_TABLE_BREAKERS = ("table", "pre", "h1", "h2", "h3", "h4", "h5", "h6")
_LIST_BREAKERS = (*_TABLE_BREAKERS, "section", "article", "blockquote", "dl", "p", "div")


def _holders(root: Any, inner: tuple[str, ...], outer: tuple[str, ...]) -> set[Any]:
    """The ``outer`` elements holding an ``inner`` one (a ``p`` counts only after another
    ``p``: an item of several paragraphs; a ``div`` only as a grid table). Linear: each
    ancestor is seen once."""
    found: set[Any] = set()
    seen: set[Any] = set()
    for el in root.iter(*inner):
        if el.tag == "p" and ((prev := el.getprevious()) is None or prev.tag != "p"):
            continue
        if el.tag == "div" and not grid_width(el):
            continue
        parent = el.getparent()
        while parent is not None and parent not in seen:
            seen.add(parent)
            if parent.tag in outer:
                found.add(parent)
            parent = parent.getparent()
    return found


def layout(root: Any) -> set[Any]:
    """Tables used for layout (holding a heading, code or another table, or marked
    ``role=presentation``) and lists used for running text (holding headings, tables,
    code, sections or items of several paragraphs): both are read as text, not rows."""
    found = _holders(root, _TABLE_BREAKERS, ("table",))
    found |= _holders(root, _LIST_BREAKERS, ("ul", "ol"))
    found.update(
        t for t in root.iter("table") if t.get("role", "").lower() in ("presentation", "none")
    )
    return found
