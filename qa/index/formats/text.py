"""Plain text, and the decoding every text format shares (Markdown: ``markdown``).

`decode` reads bytes in this order: a byte-order mark (UTF-8/16/32), strict UTF-8, the
encoding the file declares (HTML's ``<meta charset>``), then a guess: the Western and
Central European Windows code pages scored by how well their letters fit one language's
alphabet (charset-normalizer alone takes short cp1252 text for cp1250, EBCDIC or UTF-16),
else charset-normalizer's best match. The decoded text is the document text, so offsets
stay simple: a ``.txt`` file's text is the file's (CRLF kept), a Markdown file's text is
the file's minus its front matter.

Plain text: paragraphs split at blank lines; a short line without sentence punctuation
followed by more text (or a line underlined with ``===``/``---``) is a heading, and so is
one flush left (or left of the body) with its text indented under it, no blank line between,
as in a man page (there a line indented as deep as that text is text, and the running
header ``GZIP(1) ... GZIP(1)`` names no section); a paragraph whose lines all start with a
bullet or number is a list.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter

from qa.core.types import Block
from qa.index.formats import Extracted, Unreadable

_BINARY = (
    "is not text in any encoding qa recognises (binary?); "
    "convert it to UTF-8, e.g. iconv -f ENCODING -t UTF-8"
)
# NUL bytes outside UTF-16/32: a program, an image, an archive; no encoding makes it text
_NUL = (
    "holds binary data (NUL bytes), not text; leave it out, or index a text export of it "
    "(see what it is with `file`)"
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its mark starts with UTF-16-LE's
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# What browsers read a declared charset as (WHATWG Encoding): latin-1 and ASCII are cp1252.
_AS_BROWSERS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
}
# Single-byte candidates tried before charset-normalizer, ties going to the first.
_LATIN = ("cp1252", "iso8859-15", "cp1250", "cp1254", "cp1257")
# Lower-case non-ASCII letters of the languages those code pages serve.
_ALPHABETS = tuple(
    frozenset(a + a.upper())
    for a in (
        "àâæçéèêëîïôœùûüÿ",  # French
        "äöüßéàèëï",  # German, Dutch
        "áéíñóúüàèçïòªº",  # Spanish, Catalan
        "áâãàçéêíóôõúªº",  # Portuguese
        "àèéìíîòóù",  # Italian
        "æøåäöéüáó",  # Nordic
        "áðéíóúýþæö",  # Icelandic
        "äöõüšž",  # Estonian, Finnish
        "áčďéěíňóřšťúůýž",  # Czech
        "áäčďéíĺľňóôŕšťúýž",  # Slovak
        "ąćęłńóśźż",  # Polish
        "áéíóöőúüű",  # Hungarian
        "čćđšž",  # Croatian, Slovene, Bosnian
        "ăâîșşțţ",  # Romanian
        "çğıöşüİ",  # Turkish
        "ąčęėįšųūž",  # Lithuanian
        "āčēģīķļņšūž",  # Latvian
        "çë",  # Albanian
    )
)
_EUROPEAN = frozenset().union(*_ALPHABETS)
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_NEUTRAL = frozenset("€“”‘’„‚–—…«»‹›°©®™±×÷·•¡§¶†‡‰′″¢£µ½\u00a0\u00ad")
# Symbols a wrong code page makes of letters (ą ł ż ž ...): they betray it inside a word.
_IN_WORD_ONLY = "¹²³¼¾¿¥"
_IN_WORD_SYMBOL = re.compile(r"(?<=[^\W\d_])[¹²³¼¾¿¥](?=[^\W\d_])")
_ODD = re.compile(r"[^\t\n\r\f\v\x20-\x7e]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def _fit(text: str) -> tuple[float, bool]:
    """How well ``text`` reads as one Latin-script language (the share of its non-ASCII
    letters that one alphabet holds, control characters and odd symbols against it), and
    whether it is plausible at all: its letters European ones (mixed languages allowed, as
    in names), and mostly ASCII (Cyrillic or Greek misread as Latin is mostly not)."""
    sample = text[:1_000_000]
    odd = Counter(_ODD.findall(sample))
    letters = {c: n for c, n in odd.items() if c.isalpha() and c not in _NEUTRAL}
    bad = sum(n for c, n in odd.items() if not c.isalpha() and c not in _NEUTRAL)
    bad += len(_IN_WORD_SYMBOL.findall(sample)) - sum(odd[c] for c in _IN_WORD_ONLY)
    n_letters = sum(letters.values())
    total = n_letters + bad
    if not total:
        return 1.0, True
    best = max(sum(n for c, n in letters.items() if c in a) for a in _ALPHABETS)
    european = sum(n for c, n in letters.items() if c in _EUROPEAN)
    ascii_letters = len(_ASCII_LETTER.findall(sample))
    mostly_ascii = n_letters <= 3 or n_letters <= 0.4 * (n_letters + ascii_letters)
    return best / total, european >= 0.9 * total and mostly_ascii


def _try(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _declared(name: str | None) -> str | None:
    """The codec a declared charset names (as browsers read it), or None if unusable."""
    if not name:
        return None
    try:
        info = codecs.lookup(name.strip().strip("\"'"))
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name.startswith(
        ("utf-16", "utf-32", "utf-7")
    ):
        return None  # rot13/zlib are not charsets; browsers ignore a UTF-16 label in a page
    return _AS_BROWSERS.get(info.name, info.name)


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 text without a byte-order mark: NULs in every other byte of ASCII-ish text."""
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd, half = data[0::2].count(0), data[1::2].count(0), len(data) // 2
    if odd > 0.3 * half and even < 0.03 * half:
        encoding = "utf-16-le"
    elif even > 0.3 * half and odd < 0.03 * half:
        encoding = "utf-16-be"
    else:
        return None
    text = _try(data, encoding)
    if text is None or _CONTROL.search(text) or not _fit(text)[1]:
        return None
    return text, encoding


def _guess(data: bytes) -> tuple[str, str]:
    """The likeliest decoding of bytes that are neither UTF-8 nor as declared: the Latin
    code page whose letters fit one language best when that reads as plausible text,
    else charset-normalizer's best match."""
    best: tuple[float, bool, str, str] = (-1.0, False, "", "")
    for encoding in _LATIN:
        text = _try(data, encoding)
        if text is not None and (score := _fit(text))[0] > best[0]:
            best = (*score, text, encoding)
            if score[0] == 1.0:
                break  # ties go to the first, cp1252
    if best[1]:
        return best[2], best[3]
    from charset_normalizer import from_bytes

    match = from_bytes(data).best()
    if match is None:  # messy text (tables, markup) can pass a laxer look if a language shows
        match = from_bytes(data, threshold=0.5).best()
        match = match if match is not None and match.coherence >= 0.2 else None
    if match is not None and not match.encoding.startswith(("utf_16", "utf_32")):
        text = str(match)
        if len(_CONTROL.findall(text[:100_000])) <= 0.01 * len(text[:100_000]):
            return text, codecs.lookup(match.encoding).name
    raise Unreadable(_BINARY)


def decode(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """The text of ``data`` and the encoding it was read with (see the module docstring).

    Raises `Unreadable` for binary data (NUL bytes outside UTF-16/32) or bytes no
    encoding reads as plausible text.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _try(data, encoding)
            if text is not None:
                return text, encoding
    if b"\x00" in data:
        found = _utf16_without_bom(data)
        if found is None:
            raise Unreadable(_NUL)
        return found
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    encoding = _declared(declared)
    if encoding and (text := _try(data, encoding)) is not None:
        return text, encoding
    return _guess(data)


def tidy_blocks(text: str, blocks: list[Block]) -> tuple[Block, ...]:
    """``blocks`` narrowed past whitespace, the empty ones and any overlapping its
    predecessor left out: the invariants every reader promises."""
    out: list[Block] = []
    end = 0
    for b in blocks:
        s, e = b.start, b.end
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s and s >= end:
            out.append(Block(s, e, b.kind, b.level if b.kind == "heading" else 0, b.page))
            end = e
    return tuple(out)


_BREAK = r"(?:\r\n|\r(?!\n)|\n)"  # a CRLF is one line break, never two
_PARA_BREAK = re.compile(rf"{_BREAK}[ \t\f\v]*{_BREAK}(?:[ \t\f\v]*{_BREAK})*")


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the paragraphs of ``text`` (split at blank lines), whitespace trimmed."""
    blocks, pos = [], 0
    for m in _PARA_BREAK.finditer(text):
        blocks.append(Block(pos, m.start()))
        pos = m.end()
    blocks.append(Block(pos, len(text)))
    return [(b.start, b.end) for b in tidy_blocks(text, blocks)]


def paragraph_blocks(text: str) -> tuple[Block, ...]:
    """Blocks of ``text`` split at blank lines, all of kind ``text``."""
    return tuple(Block(s, e) for s, e in paragraph_spans(text))


# -- plain text ---------------------------------------------------------------------------
_BULLET = re.compile(r"[ \t]*(?:[-*+•‣◦▪–]|\(?(?:\d{1,3}|[A-Za-z])[.)])[ \t]+\S")
_SYMBOL_BULLET = re.compile(r"[ \t]*[-*+•‣◦▪–][ \t]")
_UNDERLINE = re.compile(r"[ \t]*(={3,}|-{3,})[ \t]*")
_NUMBERED = re.compile(r"(\d{1,3}(?:\.\d{1,3})*)\.?[ \t]")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
# a man page's running header, "GZIP(1)   General Commands Manual   GZIP(1)": no section
_BANNER = re.compile(r"[ \t]*(?:#{5,}|#[ \t]*(?:={5,}|-{5,}|\*{5,}))[ \t]*")
_BOXED = re.compile(r"[ \t]*#+[ \t]*(\w.*?)[ \t]*#*[ \t]*")  # "# TITLE #" -> "TITLE"
_MAN_HEADER = re.compile(r"(\S+\(\d\w*\))\s.*\s\1")


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the lines of ``text[start:end]``, line breaks left out."""
    out = []
    for m in _LINE.finditer(text, start, end):
        if m.end() > m.start():
            out.append((m.start(), m.start() + len(m.group().rstrip("\r\n"))))
    return out


def _heading_level(line: str) -> int:
    """1, or the depth of a section number such as ``2.3 Install``."""
    m = _NUMBERED.match(line)
    return min(m.group(1).count(".") + 1, 6) if m else 1


# a line that ends on one of these leads into what follows it ("... is available via")
_LEADS_ON = frozenset(
    {"a", "an", "the", "of", "to", "via", "and", "or", "with", "by", "from", "is", "are"}
    | {"than", "that", "into"}
)


def _is_heading(line: str) -> bool:
    line = line.strip()
    return (
        len(line.split()) <= 10
        and line[-1] not in ".!?:;,"
        and line.split()[-1].lower() not in _LEADS_ON
        and any(c.isalnum() for c in line)
        and not _SYMBOL_BULLET.match(line + " ")
        and (bool(_NUMBERED.match(line)) or _title_like(line))
    )


def _title_like(line: str) -> bool:
    """Starts with a capital, as headings do (a byline such as "date 2025-12-07 Getty
    Images" does not)."""
    first = next((c for c in line if c.isalpha()), "")
    return first.isupper()


def _is_list(text: str, lines: list[tuple[int, int]]) -> bool:
    first = text[lines[0][0] : lines[0][1]]
    if not _BULLET.match(first) or (len(lines) == 1 and not _SYMBOL_BULLET.match(first)):
        return False  # one numbered line ("1. Introduction") is more likely a heading
    return all(_BULLET.match(text[s:e]) or text[s] in " \t" for s, e in lines[1:])


def _indent(text: str, pos: int) -> int:
    """The columns of whitespace before the text of the line holding ``pos`` (a tab to the
    next multiple of 8): paragraphs are trimmed, their first line's indent is in ``text``."""
    start = max(text.rfind("\n", 0, pos), text.rfind("\r", 0, pos)) + 1
    end = min((i for i in (text.find("\n", pos), text.find("\r", pos)) if i >= 0), default=-1)
    wide = text[start : len(text) if end < 0 else end].expandtabs(8)
    return len(wide) - len(wide.lstrip())


def _body_indent(text: str, paragraphs: list[list[tuple[int, int]]]) -> int:
    """How deep the text under flush-left headings is indented (0: no such headings)."""
    counts = Counter(
        _indent(text, s) for lines in paragraphs if _hangs(text, lines) for s, _ in lines[1:]
    )
    return counts.most_common(1)[0][0] if counts else 0


def _hangs(text: str, lines: list[tuple[int, int]], below: int = 1) -> bool:
    """A heading with its text indented under it, no blank line between (a man page's
    "NAME", "OPTIONS"): the first line short, not a list item, indented less than ``below``
    columns (flush left by default), the rest at least 2 columns deeper."""
    first = text[lines[0][0] : lines[0][1]]
    lead = _indent(text, lines[0][0])
    return (
        len(lines) > 1
        and lead < below
        and len(first.split()) <= 6
        and first[:1].isalnum()
        and not _BULLET.match(first)
        and _is_heading(first)
        and all(_indent(text, s) >= lead + 2 for s, _ in lines[1:])
    )


def _boxed_title(text: str, lines: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The span of a comment's words boxed between two banner lines, as configuration
    files mark their sections ("#####" / "# SNAPSHOT ROOT DIRECTORY #" / "#####", or
    "# =====" lines); None when the paragraph does not start so."""
    if len(lines) < 3 or not all(_BANNER.fullmatch(text[s:e]) for s, e in (lines[0], lines[2])):
        return None
    s, e = lines[1]
    m = _BOXED.fullmatch(text, s, e)
    if not m or len(m.group(1).split()) > 8:
        return None
    return m.start(1), m.end(1)


def read_text(data: bytes) -> Extracted:
    """A plain-text file: the decoded text, its paragraphs, headings and lists."""
    text, encoding = decode(data)
    spans = paragraph_spans(text)
    paragraphs = [_lines(text, s, e) for s, e in spans]
    # laid out as a man page (headings flush left over indented text): a line indented as
    # deep as that text is body text ("Then" before an example), not a heading
    body = _body_indent(text, paragraphs)
    blocks: list[Block] = []
    for i, ((s, e), lines) in enumerate(zip(spans, paragraphs, strict=True)):
        first = text[lines[0][0] : lines[0][1]]
        nested = 0 < body <= _indent(text, s)
        if (boxed := _boxed_title(text, lines)) is not None:  # a configuration file's
            blocks.append(Block(*boxed, "heading", 1))  # section between banner lines
            if len(lines) > 3:
                blocks.append(Block(lines[3][0], e))
        elif len(lines) == 2 and (m := _UNDERLINE.fullmatch(text[lines[1][0] : lines[1][1]])):
            blocks.append(Block(*lines[0], "heading", 1 if m.group(1)[0] == "=" else 2))
        elif len(lines) == 1 and i + 1 < len(spans) and not nested and _is_heading(first):
            kind = "text" if _MAN_HEADER.fullmatch(first.strip()) else "heading"
            blocks.append(Block(s, e, kind, _heading_level(first) if kind == "heading" else 0))
        elif _hangs(text, lines, max(body, 1)):  # a subsection sits left of the body
            blocks.append(Block(*lines[0], "heading", 1 if _indent(text, s) == 0 else 2))
            blocks.append(Block(lines[1][0], e))
        elif _is_list(text, lines):
            blocks.append(Block(s, e, "list"))
        else:
            blocks.append(Block(s, e))
    return Extracted(text, tidy_blocks(text, blocks), "", {"encoding": encoding})
