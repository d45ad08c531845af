"""What pdfminer.six reads wrong in PDFs, mostly those made by TeX: fonts that carry their
own encoding, accents set as glyphs of their own, underscores drawn as rules, and the order
of text boxes that lie equally far apart.

A font program embedded as CFF (``FontFile3``, as Ghostscript and dvipdfm write TeX's fonts)
with no /Encoding in the PDF is read with its own built-in encoding (fontTools), which
pdfminer does not read: without it TeX's ligatures and dashes are lost ("ﬂow" as "ow").
"""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
import unicodedata
import weakref
from io import BytesIO
from typing import Any

# ligature glyphs as letters, soft hyphens out: "ﬁnd" is found as "find"
LIGATURES = {0xFB00 + i: v for i, v in enumerate(["ff", "fi", "fl", "ffi", "ffl", "st", "st"])}
LIGATURES[0xAD] = ""

# TeX sets an accent as its own glyph before the letter ("E´en"): one letter again ("Eén");
# only inside a word, where a caret or a tilde of code ("/ˆregex$/") is not
_SPACING_ACCENTS = dict(
    zip("´¨ˆ˜¯˘˙˚˝ˇ", "\u0301\u0308\u0302\u0303\u0304\u0306\u0307\u030a\u030b\u030c", strict=True)
)
_ACCENTED = re.compile(f"(?<=[A-Za-z])([{''.join(_SPACING_ACCENTS)}])([A-Za-z])")


def accents(text: str) -> str:
    """Spacing accents before a letter composed with it ("E´en" → "Eén")."""
    if not _ACCENTED.search(text):
        return text
    return unicodedata.normalize(
        "NFC", _ACCENTED.sub(lambda m: m[2] + _SPACING_ACCENTS[m[1]], text)
    )


def builtin_encoding(spec: Any) -> dict[int, str]:
    """Code → character of a simple font's embedded CFF program's own encoding ({}: the
    font has none, uses the standard encoding, or its program cannot be read)."""
    from fontTools.cffLib import CFFFontSet
    from pdfminer.encodingdb import name2unicode
    from pdfminer.pdftypes import resolve1, stream_value

    descriptor = resolve1(spec.get("FontDescriptor")) or {}
    program = descriptor.get("FontFile3") if isinstance(descriptor, dict) else None
    if program is None:
        return {}
    try:
        cff = CFFFontSet()
        cff.decompile(BytesIO(stream_value(program).get_data()), None)
        encoding = cff[cff.fontNames[0]].Encoding
    except Exception:  # a broken font program leaves pdfminer's reading as it was
        return {}
    if isinstance(encoding, str):  # "StandardEncoding"/"ExpertEncoding": pdfminer's own
        return {}
    out = {}
    for code, name in enumerate(encoding):
        if name and name != ".notdef":
            with contextlib.suppress(Exception):  # a glyph name with no Unicode
                out[code] = name2unicode(name)
    return out


def resources() -> Any:
    """pdfminer's resource manager, reading embedded CFF fonts' built-in encodings (and its
    layout analysis made to order boxes the same way on every run)."""
    from pdfminer.pdffont import PDFType1Font
    from pdfminer.pdfinterp import PDFResourceManager

    class Resources(PDFResourceManager):
        def get_font(self, objid: object, spec: Any) -> Any:
            font = super().get_font(objid, spec)
            if (
                isinstance(font, PDFType1Font)  # a ToUnicode map, if any, is still read first
                and "Encoding" not in spec
                and not getattr(font, "_qa_encoding", False)
            ):
                font.cid2unicode = {**font.cid2unicode, **builtin_encoding(spec)}
                font._qa_encoding = True
            return font

    stable_layout()
    return Resources(caching=True)


# TeX draws "\_" in a roman or slanted font as a short rule, not a glyph: pdfminer reads
# "glp read cnfsat" for glp_read_cnfsat. A rule this short and thin, at the foot of a gap
# between two characters of a line, is that underscore.
_RULE_WIDTH = (1.0, 8.0)  # points: a character's width, not a table's or a footnote's rule
_RULE_HEIGHT = 1.0


def underscore_rules(layout: Any) -> list[tuple[float, float, float]]:
    """(x0, x1, y) of every short thin horizontal rule drawn on a page (in figures too)."""
    from pdfminer.layout import LTContainer, LTLine, LTRect, LTTextContainer

    out = []
    for item in layout:
        if isinstance(item, (LTLine, LTRect)):
            if item.height <= _RULE_HEIGHT and _RULE_WIDTH[0] <= item.width <= _RULE_WIDTH[1]:
                out.append((item.x0, item.x1, (item.y0 + item.y1) / 2))
        elif isinstance(item, LTContainer) and not isinstance(item, LTTextContainer):
            out.extend(underscore_rules(item))
    return out


def line_text(line: Any, rules: list[tuple[float, float, float]]) -> str:
    """A pdfminer text line's text, with an underscore wherever one of ``rules`` fills
    the gap between two of its characters at their foot (the space read there dropped)."""
    from pdfminer.layout import LTChar

    near = [r for r in rules if line.x0 - 1 <= r[0] and r[1] <= line.x1 + 1
            and line.y0 - 2 <= r[2] <= line.y1]  # fmt: skip
    if not near:
        return line.get_text()
    pieces: list[str] = []
    before: Any = None  # the last character, and where its text ends in ``pieces``
    end = 0
    for item in line:
        if isinstance(item, LTChar) and before is not None and not item.get_text().isspace():
            gap = item.x0 - before.x1
            foot = before.y0 + 0.35 * before.height
            if 0.5 < gap < before.size and any(
                before.x1 - 0.5 <= x0 and x1 <= item.x0 + 0.5 and x1 - x0 >= gap / 2
                and before.y0 - 2 <= y <= foot for x0, x1, y in near
            ):  # fmt: skip
                del pieces[end:]
                pieces.append("_")
        pieces.append(item.get_text())
        if isinstance(item, LTChar) and not item.get_text().isspace():
            before, end = item, len(pieces)
    return "".join(pieces)


class _StableIds:
    """pdfminer orders text boxes that lie equally far apart by ``id()``, a memory address,
    so a table of contents or a grid of labels read in another order on each run. Numbers
    handed out in the order pdfminer asks for them are as unique and the same every run."""

    def __init__(self) -> None:
        self._ids: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._next = itertools.count()
        self._lock = threading.Lock()

    def __call__(self, obj: Any) -> int:
        with self._lock:
            number = self._ids.get(obj)
            if number is None:
                number = self._ids[obj] = next(self._next)
            return number


def stable_layout() -> None:
    """Make pdfminer's text box grouping break ties the same way on every run."""
    import pdfminer.layout

    if not isinstance(getattr(pdfminer.layout, "id", None), _StableIds):
        pdfminer.layout.id = _StableIds()  # type: ignore[attr-defined]
