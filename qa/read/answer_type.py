"""What kind of answer a question asks for, and whether a span is of that kind.

``asked_kind`` reads the question's wording ("how many", "when", "which version", "who
wrote", "which option"); ``agreement`` says whether a span's text is of that kind (+1),
plainly not (-1) or cannot tell (0). ``prefer_kind`` re-weighs a question's candidate
spans by it before they are grouped (``qa.read.decide.choose``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from qa.core.types import Hit

if TYPE_CHECKING:
    from qa.read.decide import Candidate

NUMBER, DATE, VERSION, PERSON, CODE = "number", "date", "version", "person", "code"

_CODE_NOUNS = (
    r"command|option|flag|switch|parameter|variable|function|method|class|decorator|module|"
    r"package|extension|attribute|operator|subcommand|directive|trailer|macro|tool|script|"
    r"setting|argument|keyword|header|field|property|exception|scope|api|key|file|prefix|"
    r"character|backend|syntax|verb"
)
_ASKS = (
    (VERSION, re.compile(r"\b(?:which|what)\s+(?:\w+\s+)?versions?\b|\bversion\s+number\b", re.I)),
    (
        DATE,
        re.compile(
            r"^\s*when\b|\b(?:what|which|on\s+which)\s+(?:\w+\s+)?(?:year|date|day|month)\b",
            re.I,
        ),
    ),
    (
        NUMBER,
        re.compile(
            r"\bhow\s+(?:many|much|long|old|far|often|large|big|high)\b"
            r"|\b(?:what|which|by\s+which)\s+(?:\w+\s+)?(?:number|percentage|factor|port|amount)\b",
            re.I,
        ),
    ),
    (PERSON, re.compile(r"^\s*who\s+(?!is\b|was\b|are\b|were\b)\w+", re.I)),
    (CODE, re.compile(rf"\b(?:which|what)\s+(?:[\w.-]+\s+){{0,2}}?(?:{_CODE_NOUNS})s?\b", re.I)),
)

# "which command ..." (not "which command-line option"); "how do I ..." asks for one too
_ASKS_COMMAND = re.compile(
    r"\b(?:which|what)\s+(?:[\w.-]+\s+){0,2}?commands?\b(?![\s-]+line)", re.I
)
_ASKS_HOW = re.compile(r"^\s*how\s+(?:do|can|should|would)\s+(?:i|you|we|one)\b", re.I)


_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_YEAR = re.compile(r"\b(?:1[0-9]|20)\d\d(?:s|\b)")
_MONTH = re.compile(rf"\b(?:{_MONTHS})\b", re.I)
_ISO_DATE = re.compile(r"\b\d{4}-\d\d-\d\d\b")
_CENTURY = re.compile(r"\b(?:century|decade|\d+(?:st|nd|rd|th))\b", re.I)
_DIGIT = re.compile(r"\d")
_NUMBER_WORD = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|"
    r"dozens?|several|half)\b",
    re.I,
)
_VERSION = re.compile(r"\d+(?:\.\d+)+|\bv\d+")
_BARE_NUMBER = re.compile(r"^[\d.,:()\s-]+$")  # "1.1", "3.6", "(5)": section numbers
_CODE_CHARS = re.compile(r"[_/\\$~<>=`{}\[\]|@*]|^-{1,2}\w|\w\(\)|[a-z]\.[a-z]|[a-z][A-Z]")
_ALL_CAPS = re.compile(r"^[A-Z][A-Z0-9_]{7,}$")  # UNITSFILE; not NATO or UNESCO
_NAME_WORD = re.compile(r"^(?:[A-Z][\w'’.-]*|van|von|de|der|da|di|du|la|le)$")


def asked_kind(question: str) -> str | None:
    """The kind of answer ``question`` asks for (None: none that can be told)."""
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


def asks_command(question: str) -> bool:
    """Whether ``question`` asks for a command to run ("Which command prints ...?")."""
    return bool(_ASKS_COMMAND.search(question) or _ASKS_HOW.search(question))


def looks_like_code(word: str) -> bool:
    """A command-line option, path, identifier, variable or other code-like token."""
    bare = word.strip("`'\"“”‘’,;:.()[]")
    return bool(_CODE_CHARS.search(word) or _CODE_CHARS.search(bare) or _ALL_CAPS.match(bare))


def agreement(kind: str | None, text: str) -> int:
    """+1 when ``text`` is of the ``kind`` asked for, -1 when it plainly is not, else 0."""
    if kind is None:
        return 0
    t = text.strip()
    has_digit = bool(_DIGIT.search(t))
    if kind == NUMBER:
        return 1 if has_digit or _NUMBER_WORD.search(t) else -1
    if kind == DATE:
        if _YEAR.search(t) or _MONTH.search(t) or _ISO_DATE.search(t) or _CENTURY.search(t):
            return 1
        return 0 if has_digit else -1
    if kind == VERSION:
        return 1 if _VERSION.search(t) else (0 if has_digit else -1)
    if kind == PERSON:
        words = t.split()
        if has_digit or not words or len(words) > 5:
            return -1
        return 1 if all(_NAME_WORD.match(w) for w in words) else 0
    # CODE: a bare number ("1.1", a section number) is never the command asked for
    if _BARE_NUMBER.match(t):
        return -1
    return 1 if any(looks_like_code(w) for w in t.split()) else 0


def prefer_kind(
    cands: Sequence[Candidate], hits: Sequence[Hit], question: str, weight: float
) -> list[Candidate]:
    """``cands`` with each probability times ``exp(weight × agreement)``, renormalised:
    spans of the kind the question asks for gain over those plainly not of it."""
    kind = asked_kind(question)
    if kind is None or not weight or not cands:
        return list(cands)
    factors = [
        math.exp(weight * agreement(kind, hits[c.hit_index].passage.text[c.start : c.end]))
        for c in cands
    ]
    return reweigh(cands, factors)


def reweigh(cands: Sequence[Candidate], factors: Sequence[float]) -> list[Candidate]:
    """``cands`` with each probability times its factor, renormalised so that their total
    probability is kept: only each one's share among them moves."""
    z = sum(c.prob * f for c, f in zip(cands, factors, strict=True)) / sum(c.prob for c in cands)
    return [replace(c, prob=c.prob * f / z) for c, f in zip(cands, factors, strict=True)]
