"""The chat reply as Markdown: the answer, the sentence it comes from, the sources.

Any CommonMark renderer shows it as meant: document text is escaped so it renders
literally, every source links to the document view (``{base}/view/{doc_id}?start=…``),
and each link is also an OpenAI ``url_citation`` annotation whose indexes slice the
content (``content[start_index:end_index]`` is the link's Markdown).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from qa.core.text import sentences
from qa.core.types import Answer, Citation, confidence_in_words
from qa.core.types import Response as QAResponse
from qa.engine import NO_ANSWER

SOURCES = "Sources:"
CLOSEST = "Closest passages:"
QUOTE_MAX_CHARS = 600  # a longer "sentence" (a table, a list) is cut around the answer
QUOTE_CONTEXT = 200  # characters kept either side of the answer when cut
SNIPPET_CHARS = 100  # of each source's passage, to tell them apart

# ASCII characters that start Markdown inline syntax anywhere in a line.
_INLINE = re.compile(r"([\\`*_\[\]<~])")
_ENTITY = re.compile(r"&(?=#?\w+;)")  # "&amp;" would render as "&"
_LINE_START = re.compile(r"^(\d{1,9})([.)])|^([#>+\-=])")
_MARKER = re.compile(r"\s*\[\d+\]\s*$")  # the answer line's " [1]"
_SURE = re.compile(r"\s+— (?:high|medium|low) confidence \(\d\.\d\d\)$")  # and its confidence
_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def rough_tokens(text: str) -> int:
    """A rough token count (about four characters a token); not a real tokenizer."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def escape(text: str) -> str:
    """``text`` on one line, Markdown specials escaped: it renders as itself."""
    text = " ".join(text.split())
    return _ENTITY.sub(r"\\&", _INLINE.sub(r"\\\1", text))


def escape_line(text: str) -> str:
    """``escape``, and a line start that would open a block (``1.``, ``#``, ``-``) made plain."""
    return _LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", escape(text))


def unescape(text: str) -> str:
    """The inverse of ``escape`` (for one line of a reply this module wrote)."""
    return _UNESCAPE.sub(r"\1", text)


def answer_of(content: str) -> str | None:
    """The answer a reply's first line states (None: no answer, or not such a reply)."""
    line = next((s.strip() for s in content.splitlines() if s.strip()), "")
    line = _MARKER.sub("", _SURE.sub("", line))
    if not line or line == NO_ANSWER:
        return None
    return unescape(line).strip() or None


def view_url(base: str, c: Citation, answer: Answer | None = None) -> str:
    """The document view of passage ``c``, with the answer's span when it lies there."""
    url = f"{base}/view/{c.doc_id}?start={c.start}&end={c.end}"
    if answer is not None:
        url += f"&answer_start={answer.start}&answer_end={answer.end}"
    return url


def _link_target(url: str) -> str:
    """``url`` as a link destination; the pointy-bracket form holds spaces and parentheses."""
    if re.search(r"[\s()<>]", url):
        return "<" + url.replace("<", "%3C").replace(">", "%3E") + ">"
    return url


@dataclass
class Reply:
    """The content, its lines' kinds (where a cut may fall), and its annotations."""

    lines: list[tuple[str, str]] = field(default_factory=list)  # (text, kind)
    annotations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def content(self) -> str:
        return "\n".join(text for text, _ in self.lines)

    def add(self, kind: str, *parts: str | tuple[str, str, str]) -> None:
        """One line of ``parts``: text, or ``(label, url, title)`` for an annotated link."""
        at = len(self.content) + (1 if self.lines else 0)  # after the newline
        line = ""
        for part in parts:
            if isinstance(part, str):
                line += part
                continue
            label, url, title = part
            md = f"[{label}]({_link_target(url)})"
            start = at + len(line)
            self.annotations.append(
                {
                    "type": "url_citation",
                    "url_citation": {
                        "start_index": start,
                        "end_index": start + len(md),
                        "url": url,
                        "title": title,
                    },
                }
            )
            line += md
        self.lines.append((line, kind))

    def blank(self) -> None:
        self.lines.append(("", "blank"))


def _punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def _can_bold(left: str, mid: str, right: str) -> bool:
    """Whether ``**`` around ``mid`` opens and closes emphasis (CommonMark's flanking rules;
    ``left``/``right`` are the escaped text beside it)."""
    if not mid or mid[0].isspace() or mid[-1].isspace():
        return False
    before = left[-1] if left else " "
    after = right[0] if right else " "
    opens = not _punct(mid[0]) or before.isspace() or _punct(before)
    closes = not _punct(mid[-1]) or after.isspace() or _punct(after)
    return opens and closes


def bold_span(text: str, start: int, end: int) -> str:
    """``text`` escaped with ``text[start:end]`` in bold. Where CommonMark would not take the
    ``**`` as emphasis (punctuation against a letter), the bold widens to whole words."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    left, mid, right = text[:start], text[start:end], text[end:]
    pad_l = " " if left[-1:].isspace() else ""
    pad_r = " " if right[:1].isspace() else ""
    el, em, er = escape(left), escape(mid), escape(right)
    if em and not _can_bold(el + pad_l, em, pad_r + er):
        wide_start, wide_end = start, end
        while wide_start > 0 and not text[wide_start - 1].isspace():
            wide_start -= 1
        while wide_end < len(text) and not text[wide_end].isspace():
            wide_end += 1
        return bold_span(text, wide_start, wide_end)  # word edges: the flanking rules hold
    bold = f"**{em}**" if em else ""
    return f"{el}{pad_l}{bold}{pad_r}{er}".strip()


def quote(c: Citation, a: Answer) -> str:
    """The sentence(s) of passage ``c`` that hold the answer, the answer in bold."""
    s, e = a.start - c.start, a.end - c.start
    spans = [(x, y) for x, y in sentences(c.text) if x < e and y > s] or [(s, e)]
    lo, hi = min(x for x, _ in spans), max(y for _, y in spans)
    pre = post = ""
    if hi - lo > QUOTE_MAX_CHARS:  # cut at spaces around the answer
        a_lo = c.text.rfind(" ", lo, max(lo, s - QUOTE_CONTEXT))
        b_hi = c.text.find(" ", min(hi, e + QUOTE_CONTEXT), hi)
        if a_lo > lo:
            lo, pre = a_lo + 1, "… "
        if 0 <= b_hi < hi:
            hi, post = b_hi, " …"
    body = bold_span(c.text[lo:hi], s - lo, e - lo)
    if not pre and not body.startswith("**"):
        body = _LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", body)
    return f"> {pre}{body}{post}"


def _title(c: Citation) -> str:
    return " ".join((c.title or c.source).split()) or c.doc_id


def _snippet(text: str, chars: int = SNIPPET_CHARS) -> str:
    """The start of ``text`` on one line, cut at a space, escaped."""
    text = " ".join(text.split())
    if len(text) > chars:
        cut_at = text.rfind(" ", 0, chars)
        text = text[: cut_at if cut_at > 0 else chars] + " …"
    return escape(text)


def _source_item(c: Citation, url: str) -> tuple[str, tuple[str, str, str], str]:
    """``n. [title](url) (section, page p): “the passage's start …”``."""
    where = [escape(c.section)] if c.section else []
    where += [f"page {c.page}"] if c.page else []
    tail = f" ({', '.join(where)})" if where else ""
    return f"{c.n}. ", (escape(_title(c)), url, _title(c)), f"{tail}: “{_snippet(c.text)}”"


def render(resp: QAResponse, base: str) -> Reply:
    """The Markdown reply to ``resp``; links point at the document view under ``base``."""
    reply = Reply()
    a, n = resp.answer, resp.answer_citation
    cited = next((c for c in resp.citations if c.n == n), None)
    sure = "" if a is None or a.confidence is None else f" — {confidence_in_words(a.confidence)}"
    if a is None:
        reply.add("answer", NO_ANSWER)
    elif cited is None:
        reply.add("answer", escape_line(a.text) + sure)
    else:
        reply.add("answer", f"{escape_line(a.text)} [{n}]{sure}")  # n: the source item below
        reply.blank()
        reply.add("quote", quote(cited, a))
    if resp.citations:
        reply.blank()
        reply.add("heading", SOURCES if a is not None else CLOSEST)
        reply.blank()
        for c in resp.citations:
            url = view_url(base, c, a if c is cited else None)
            reply.add("item", *_source_item(c, url))
    return reply


def cut(reply: Reply, max_tokens: int | None) -> tuple[str, list[dict[str, Any]], bool]:
    """The content within ``max_tokens`` rough tokens, its annotations, and whether it was cut.

    The cut falls after the last whole line that fits (a list item, the quote), and a
    heading left with nothing under it goes too. When not even the answer line fits, the
    answer's text alone is given without its ``[n]`` link, and when that does not fit
    either (a tiny ``max_tokens``), its first ``4 * max_tokens`` characters.
    """
    content = reply.content
    if max_tokens is None or rough_tokens(content) <= max_tokens:
        return content, reply.annotations, False
    budget = 4 * max_tokens
    keep: list[tuple[str, str]] = []
    for line in reply.lines:
        if len("\n".join(t for t, _ in [*keep, line])) > budget:
            break
        keep.append(line)
    while keep and keep[-1][1] in ("blank", "heading"):
        keep.pop()
    if not keep:
        first = _MARKER.sub("", _SURE.sub("", reply.lines[0][0])) if reply.lines else ""
        text = first[:budget]
        if (len(text) - len(text.rstrip("\\"))) % 2:  # a lone backslash would escape nothing
            text = text[:-1]
        return text, [], True
    text = "\n".join(t for t, _ in keep)
    kept = [x for x in reply.annotations if x["url_citation"]["end_index"] <= len(text)]
    return text, kept, True
