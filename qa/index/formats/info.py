"""GNU Info manuals (``grep.info.gz``, the parts ``find.info-1.gz`` of a split manual), as
makeinfo writes them and Debian ships them under /usr/share/info.

An Info file is plain text in nodes (each opened by ``\\x1f`` and a ``File: … Node: …``
line) laid out by fixed rules, which are read back here: a line underlined with ``*``,
``=``, ``-`` or ``.`` is a heading (chapter to subsubsection); a filled paragraph is one
paragraph, its lines joined; an option or a function (``‘-i’`` / ``‘--ignore-case’``, or
``-- Function: …``) over its indented description is one block, the term on its own line
first; bulleted and numbered items are a list; other indented lines are an example, kept
line by line. Menus, the index, node lines, tag tables and the preamble repeated from the
first node are navigation, not text, and are left out; ``*Note Node::`` reads "see Node";
the quotes makeinfo puts around code (``‘ls’``, or ``'ls'`` in a manual made without curly
quotes) are dropped outside examples, where quotes are the shell's. The main file of a
split manual holds only the table of its parts and is left out in their favour; a file
named ``.info`` that holds no Info nodes is read as plain text.
"""

from __future__ import annotations

import re
from itertools import pairwise

from qa.core.types import Block
from qa.index.formats import BlockText, Extracted, Skip

_NODE = "\x1f"
# makeinfo's hidden markers (``\0\b[index\0\b]`` opens an index, images too): no text
_MARKERS = re.compile(rb"\x00\x08\[[^\x00]{0,1000}\x00\x08\]")
_NODE_LINE = re.compile(r"\A\s*File:[^\n]*?\bNode:[ \t]*([^,\n]*)")
_PREAMBLE_NAME = re.compile(r"\AThis is (\S+?)\.info\b")
_UNDERLINES = {"*": 1, "=": 2, "-": 3, ".": 4}
_FILL = 72  # makeinfo's fill column: a line of a filled paragraph leaves no room for a word
_BULLET = re.compile(r"^( *)(•|\*|-|\d{1,3}\.)( +)\S")
_MARK = re.compile(r"^(?:•|\*|-) +")
_MENU_ENTRY = re.compile(r"^\* [^\n]*?:")
_DEF = re.compile(r"^ -- ")
_TERM_LINES = 8  # an option's names above its description: more is not a term
_NOTE = re.compile(r"\*([Nn])ote[ \n]+(\([^)\n]{1,80}\))?([^:]{1,200}?)::")
_NOTE_LABEL = re.compile(
    r"\*([Nn])ote[ \n]+([^:*]{1,200}?):[ \n]*(\([^)\n]{1,80}\))?[^.,:\n]{0,200}?(?=[.,])"
)
# ‘code’ (makeinfo's quotes; one before a letter is an apostrophe, don’t; ‘x’s keeps one)
_QUOTED = re.compile(r"‘((?:[^‘’\n]|’(?=\w)(?!s\b)|\n(?!\n)){0,300}?)’(s\b)?(?!\w)")
# makeinfo's *strong* and _emphasis_ in running text (not C's "char *p" or snake_case)
_EMPHASIS = re.compile(
    r"(?<![\w*])\*([^*\s](?:[^*\n]{0,78}[^*\s])?)\*(?![\w*])"
    r"|(?<![\w_])_([^_\s](?:[^_\n]{0,78}[^_\s])?)_(?![\w_])"
)
# 'code' in manuals made without curly quotes (makeinfo in the C locale)
_ASCII_QUOTED = re.compile(r"(?<![\w'])'([^'\s](?:[^'\n]{0,78}[^'\s])?)'(?![\w'])")


class SplitManual(Skip):
    """The main file of a split manual: a table of its parts, which hold its text."""

    reason = "duplicate"


def is_info(text: str) -> bool:
    """Whether ``text`` is an Info file: nodes, or the table of a split manual."""
    return bool(re.search(r"\x1f\r?\n(?:File:|Indirect:|Tag Table:)", text[: 1 << 20]))


class _Out(BlockText):
    """The manual's text so far; a list's items after a blank line join its block."""

    def extend(self, text: str) -> None:
        """More lines of the last block."""
        last = self.blocks[-1]
        self.parts.append("\n" + text.strip())
        self.pos += 1 + len(text.strip())
        self.blocks[-1] = Block(last.start, self.pos, last.kind, last.level)

    def heading_after(self, first: int) -> str:
        """The text of the first heading among the blocks from index ``first``."""
        b = next((b for b in self.blocks[first:] if b.kind == "heading"), None)
        return "".join(self.parts)[b.start : b.end] if b else ""


def read_info(data: bytes) -> Extracted:
    """An Info file's text and structure (see the module docstring)."""
    from qa.index.formats.text import decode, read_text

    source, encoding = decode(_MARKERS.sub(b"", data))
    source = source.replace("\r\n", "\n")
    if not is_info(source):
        return read_text(data)
    chunks = source.split(_NODE)
    preamble, nodes = chunks[0], chunks[1:]
    if any(c.lstrip("\n").startswith("Indirect:") for c in nodes):
        parts = re.findall(r"^(\S+?): \d+$", next(c for c in nodes if "Indirect:" in c), re.M)
        raise SplitManual(
            "is the table of a manual split into parts"
            + (f" ({', '.join(parts[:4])}{', …' if len(parts) > 4 else ''})" if parts else "")
            + "; it is left out: its text is in those parts, so index them (a folder"
            " holding them all reads them)"
        )
    name = m.group(1) if (m := _PREAMBLE_NAME.match(preamble.lstrip())) else ""
    quoted = _QUOTED if "‘" in source else _ASCII_QUOTED
    out, title = _Out(), ""
    for node in nodes:
        head = _NODE_LINE.match(node)
        if head is None:  # tag table, local variables: not text
            continue
        body = node[head.end() :].split("\n", 1)[1] if "\n" in node[head.end() :] else ""
        first = len(out.blocks)
        _read_node(body, out, quoted)
        if head.group(1).strip() == "Top" and not title:
            title = out.heading_after(first)
    text = "".join(out.parts)
    title = title or name or out.heading_after(0)
    meta: dict[str, object] = {"encoding": encoding}
    if name:
        meta["manual"] = name
    return Extracted(text, tuple(out.blocks), title, meta)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _paragraphs(body: str) -> list[list[str]]:
    """The node's lines in runs without a blank line; menus (their entries, the entries'
    wrapped descriptions, the short headings between them) and footnote rules left out."""
    lines = [line.rstrip().expandtabs() for line in body.split("\n")]
    runs: list[list[str]] = []
    run: list[str] = []
    in_menu = entry = False
    for i, line in enumerate(lines):
        if not line:
            if run:
                runs.append(run)
                run = []
            entry = False
            continue
        if line.startswith("* Menu:"):
            in_menu, entry = True, True
            continue
        if in_menu:
            if _MENU_ENTRY.match(line) or (entry and _indent(line) > 3):
                entry = True
                continue
            nxt = next((x for x in lines[i + 1 :] if x.strip()), "")
            if not run and len(line) < 60 and _MENU_ENTRY.match(nxt):
                continue  # a heading among the entries ("The Detailed Node Listing")
            in_menu = entry = False
        if line.strip().startswith("-----") and "Footnotes" in line:
            continue
        run.append(line)
    if run:
        runs.append(run)
    return runs


def _filled(lines: list[str]) -> bool:
    """Whether ``lines`` were filled as prose: each full up to where the next word would
    not fit (an example's lines end where its author broke them)."""
    if len(lines) < 2:
        return False
    return all(len(line) + 1 + len(nxt.split()[0]) > _FILL - 2 for line, nxt in pairwise(lines))


def _join(lines: list[str], quoted: re.Pattern[str]) -> str:
    """A filled paragraph's lines as one line (makeinfo's two spaces after a sentence: one),
    its emphasis unmarked (``*Returns:*``, ``_not_``)."""
    text = " ".join(" ".join(line.split()) for line in lines)
    return _EMPHASIS.sub(r"\1\2", _inline(text, quoted))


def _inline(text: str, quoted: re.Pattern[str] | None) -> str:
    """Cross references as "see Node", makeinfo's quotes around code dropped (``quoted``;
    None in an example, whose quotes are the shell's)."""

    def see(m: re.Match[str]) -> str:
        return ("See " if m.group(1) == "N" else "see ") + " ".join(m.group(3).split())

    def see_label(m: re.Match[str]) -> str:
        return ("See " if m.group(1) == "N" else "see ") + " ".join(m.group(2).split())

    text = _NOTE_LABEL.sub(see_label, _NOTE.sub(see, text))
    if quoted is None:
        return text
    return quoted.sub(
        lambda m: m.group(1) + ("’s" if m.lastindex == 2 and m.group(2) else ""), text
    )


def _read_node(body: str, out: _Out, quoted: re.Pattern[str]) -> None:
    descs: list[int] = []  # the indents of the term lists' descriptions being read, nested
    listed = False  # the last block is a list: items after a blank line join it
    for run in (piece for whole in _paragraphs(body) for piece in _list_apart(whole)):
        was_list, listed = listed, False
        # a heading: a line flush left, underlined to its width
        if (
            len(run) == 2
            and not run[0].startswith(" ")
            and len(set(run[1])) == 1
            and run[1][0] in _UNDERLINES
            and abs(len(run[1]) - len(run[0])) <= 2
        ):
            out.emit(_inline(run[0], quoted), "heading", _UNDERLINES[run[1][0]])
            descs.clear()
            continue
        lead = _indent(run[0])
        rest = min((_indent(x) for x in run[1:]), default=lead)
        while descs and lead < descs[-1]:
            descs.pop()  # out of a term list, back in the one around it
        base = descs[-1] if descs else 0
        if _DEF.match(run[0]):  # -- Function: f (args), wrapped; others of its group; text
            k = 0
            while k < len(run):  # definitions may follow each other without a blank line
                terms = []
                while k < len(run) and _DEF.match(run[k]):
                    j = k + 1
                    while j < len(run) and _indent(run[j]) >= 10 and not _DEF.match(run[j]):
                        j += 1
                    terms.append(" ".join(x.strip() for x in run[k:j]).removeprefix("-- "))
                    k = j
                j = k
                while j < len(run) and not _DEF.match(run[j]):
                    j += 1
                _emit_item(out, "\n".join(terms), run[k:j], quoted)
                k = j
            descs.append(5)
            continue
        items = _term_items(run) if lead == base else []
        if items:
            descs.append(lead + 5)
            for terms, desc in items:
                _emit_item(out, "\n".join(x.strip() for x in terms), desc, quoted)
            continue
        if _BULLET.match(run[0]) and lead <= base + 3:
            bullets: list[list[str]] = []
            for line in run:
                if not bullets or (_BULLET.match(line) and _indent(line) <= lead):
                    bullets.append([])
                bullets[-1].append(line)
            text = "\n".join(_MARK.sub("", _join(i, quoted)) for i in bullets)
            if was_list:
                out.extend(text)
            else:
                out.emit(text, "list")
            listed = True
            continue
        one = len(run) == 1 and lead <= base + 3
        if _filled(run) or one or (lead <= base + 3 and rest <= base):
            out.emit(_join(run, quoted), "text")
        else:  # an example: its lines as they are, less their common indent
            cut = min(_indent(x) for x in run)
            out.emit(_inline("\n".join(x[cut:] for x in run), None), "code")


def _list_apart(run: list[str]) -> list[list[str]]:
    """``run`` cut where a list starts under the sentence leading into it (makeinfo puts
    no blank line between them): a bullet, or a numbered item indented past the text above
    it (a dash or a star there is more likely an example's, a context diff's)."""
    if _BULLET.match(run[0]):
        return [run]
    above = 1 << 30  # the least indent of the lines between the first and this one
    for i in range(1, len(run)):
        m = _BULLET.match(run[i])
        if m and (
            m.group(2) == "•"
            or (m.group(2)[0].isdigit() and _indent(run[i]) > (above if i > 1 else 0))
        ):
            return [run[:i], run[i:]]
        above = min(above, _indent(run[i]))
    return [run]


def _term_items(run: list[str]) -> list[tuple[list[str], list[str]]]:
    """``run`` as the items of a term list (makeinfo's ``@table``): each a term and its other
    names on lines of their own, over a description indented 5 under them; several items
    may follow without a blank line between. Empty when ``run`` is not one."""
    lead = _indent(run[0])
    items: list[tuple[list[str], list[str]]] = []
    i = 0
    while i < len(run):
        k = i
        while k < len(run) and _indent(run[k]) == lead and k - i < _TERM_LINES:
            k += 1
        j = k
        while j < len(run) and _indent(run[j]) >= lead + 5:
            j += 1
        if k == i or j == k or _indent(run[k]) != lead + 5:
            return []
        if any(len(x) >= _FILL - 10 for x in run[i:k]):
            return []
        items.append((run[i:k], run[k:j]))
        i = j
    return items


def _emit_item(out: _Out, term: str, desc: list[str], quoted: re.Pattern[str]) -> None:
    """A term and the first paragraph of its description, as one block."""
    term = _inline(term, quoted)
    if not desc:
        out.emit(term, "text")
        return
    if _filled(desc) or len(desc) == 1:
        body = _join(desc, quoted)
    else:  # not prose: the description's lines as they are
        cut = min(_indent(x) for x in desc)
        body = _inline("\n".join(x[cut:] for x in desc), quoted)
    out.emit(f"{term}\n{body}", "text")
