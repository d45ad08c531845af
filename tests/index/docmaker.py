"""Small PDF and DOCX files made on the fly, so no binary fixtures are committed.

`pdf` writes raw PDF objects: pages of paragraphs in the standard fonts (Helvetica,
Helvetica-Bold, Courier), text set anywhere and lines drawn (ruled tables), optional
running headers and page numbers, image-only pages,
and the standard security handler (RC4, 40-bit) for encrypted files. `docx` builds a
python-docx document; the helpers add what python-docx has no call for (numbering,
content controls, tracked changes) as raw XML.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

FONTS = {"Helvetica": "F1", "Helvetica-Bold": "F2", "Courier": "F3"}
# The padding string of the standard security handler (PDF 1.7, 7.6.3.3).
_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


@dataclass
class Para:
    """A paragraph: its lines, set from the left margin, one line under the other."""

    lines: Sequence[str]
    size: float = 10.0
    font: str = "Helvetica"
    indent: float = 0.0
    column: int = 0  # 1: the right-hand column of a two-column page (from x = 320)


@dataclass
class Page:
    paras: Sequence[Para] = ()
    image: bool = False  # draw an image (and nothing else unless paras)
    texts: Sequence[tuple[Any, ...]] = ()  # (x, y, text[, font]) set anywhere, 10 pt
    rules: Sequence[tuple[float, float, float, float]] = ()  # lines drawn (x0, y0, x1, y1)


@dataclass
class _Writer:
    objects: list[bytes] = field(default_factory=list)

    def add(self, body: bytes) -> int:
        self.objects.append(body)
        return len(self.objects)

    def reserve(self) -> int:
        return self.add(b"")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def _pad(password: str) -> bytes:
    return (password.encode("latin-1") + _PAD)[:32]


def _security(user: str, owner: str, file_id: bytes) -> tuple[bytes, bytes, bytes, int]:
    """(O, U, file key, P) of the revision 2 standard security handler."""
    perms = -4  # every permission granted
    o = _rc4(hashlib.md5(_pad(owner or user)).digest()[:5], _pad(user))
    key = hashlib.md5(_pad(user) + o + struct.pack("<i", perms) + file_id).digest()[:5]
    return o, _rc4(key, _PAD), key, perms


def _object_key(key: bytes, number: int) -> bytes:
    return hashlib.md5(key + struct.pack("<i", number)[:3] + b"\0\0").digest()[:10]


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _line(font: str, size: float, x: float, y: float, text: str) -> bytes:
    return b"BT /%s %g Tf %g %g Td (%s) Tj ET\n" % (
        FONTS[font].encode(),
        size,
        x,
        y,
        _escape(text),
    )


def _content(page: Page, number: int, header: str, numbers: str) -> bytes:
    """A page's content stream: paragraphs from the top, a gap between paragraphs."""
    out = [b"q 200 0 0 150 150 400 cm /Im1 Do Q\n"] if page.image else []
    if header:
        out.append(_line("Helvetica", 9, 72, 760, header))
    tops = [720.0, 720.0]  # where each column goes on
    for para in page.paras:
        x, y = 72 + 248 * para.column + para.indent, tops[para.column]
        for text in para.lines:
            out.append(_line(para.font, para.size, x, y, text))
            y -= para.size * 1.25
        tops[para.column] = y - para.size * 1.2
    for x, y, text, *font in page.texts:
        out.append(_line(font[0] if font else "Helvetica", 10, x, y, text))
    for x0, y0, x1, y1 in page.rules:
        out.append(b"%g %g m %g %g l S\n" % (x0, y0, x1, y1))
    if numbers:
        out.append(_line("Helvetica", 9, 300, 40, numbers.format(n=number)))
    return b"".join(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), extra, data)


def pdf(
    pages: Sequence[Page],
    *,
    info: dict[str, str] | None = None,
    header: str = "",
    numbers: str = "",
    user_password: str | None = None,
    owner_password: str = "owner",
) -> bytes:
    """A PDF of ``pages``; ``header`` on every page, ``numbers`` a format such as
    ``"Page {n}"``; ``user_password`` (even "") encrypts it."""
    w = _Writer()
    file_id = hashlib.md5(repr((pages, info, header)).encode()).digest()
    security = None if user_password is None else _security(user_password, owner_password, file_id)

    def crypt(number: int, data: bytes) -> bytes:
        return data if security is None else _rc4(_object_key(security[2], number), data)

    catalog, tree = w.reserve(), w.reserve()
    fonts = b" ".join(
        b"/%s %d 0 R" % (ref.encode(), w.add(_font(name))) for name, ref in FONTS.items()
    )
    image = w.reserve()
    w.objects[image - 1] = _stream(
        crypt(image, b"\x00\xff\xff\x00"),
        b"/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 ",
    )
    kids = []
    for number, page in enumerate(pages, 1):
        content = w.reserve()
        w.objects[content - 1] = _stream(crypt(content, _content(page, number, header, numbers)))
        kids.append(
            w.add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << %s >> /XObject << /Im1 %d 0 R >> >> >>"
                % (tree, content, fonts, image)
            )
        )
    w.objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    w.objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    info_ref = w.reserve()
    fields = [(k, crypt(info_ref, v.encode("latin-1"))) for k, v in (info or {}).items()]
    w.objects[info_ref - 1] = b"<< %s >>" % b" ".join(
        b"/%s <%s>" % (k.encode(), v.hex().encode()) for k, v in fields
    )
    trailer = b"/Root %d 0 R /Info %d 0 R /ID [<%s> <%s>]" % (
        catalog,
        info_ref,
        file_id.hex().encode(),
        file_id.hex().encode(),
    )
    if security is not None:
        o, u, _, perms = security
        enc = w.add(
            b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
            % (o.hex().encode(), u.hex().encode(), perms)
        )
        trailer += b" /Encrypt %d 0 R" % enc
    return _serialize(w.objects, trailer)


def _font(name: str) -> bytes:
    return b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % (
        name.encode()
    )


def _serialize(objects: list[bytes], trailer: bytes) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    )
    return out.getvalue()


def simple_pdf(*paragraphs: str, **kwargs: Any) -> bytes:
    """A one-page PDF with one line a paragraph, in 10 pt Helvetica."""
    return pdf([Page([Para([p]) for p in paragraphs])], **kwargs)


# DOCX ---------------------------------------------------------------------------------


def docx(build: Callable[[Any], None], **core: Any) -> bytes:
    """A DOCX file: ``build`` fills a new python-docx document; ``core`` sets core
    properties (title, author, modified, ...)."""
    import docx as python_docx

    document = python_docx.Document()
    for key, value in core.items():
        setattr(document.core_properties, key, value)
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xml(fragment: str) -> Any:
    """A WordprocessingML element from ``fragment`` (the ``w`` prefix is declared)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    return parse_xml(re.sub(r"^<([\w:]+)", rf"<\1 {nsdecls('w')}", fragment, count=1))


def append_body(document: Any, fragment: str) -> None:
    """Put raw XML at the end of the body, before its section properties."""
    document.element.body.sectPr.addprevious(xml(fragment))
