"""What pdfminer.six reads wrong in PDFs made by TeX: fonts that carry their own encoding,
and accents set as glyphs of their own.

A font program embedded as CFF (``FontFile3``, as Ghostscript and dvipdfm write TeX's fonts)
with no /Encoding in the PDF is read with its own built-in encoding (fontTools), which
pdfminer does not read: without it TeX's ligatures and dashes are lost ("ﬂow" as "ow").
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
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
    """pdfminer's resource manager, reading embedded CFF fonts' built-in encodings."""
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

    return Resources(caching=True)
