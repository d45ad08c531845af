"""Query rewriting: "Who is X?" by a last name alone is retrieved with the full name
the passages give ("Who is Ushakov?" -> "Who is Yury Ushakov?")."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from qa.core.text import stop_words
from qa.core.types import Passage

# "Who is Ushakov?", "who was Tesla.", "Who's O'Brien" (also inside a longer query, as
# a chat follow-up's): asking who one named person is, by a single word.
_WHO_IS = re.compile(
    r"(?<![\w'’])who(?:\s+is|\s+was|'s|’s)\s+(?P<name>[^\W\d_][\w'’-]*)(?=\s*(?:[?.!]+|$))",
    re.IGNORECASE,
)


_WORD = r"[^\W\d_][\w'’-]*"
_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z][\w'’-]*")
_NEXT_WORD = re.compile(r"[^\S\n]+([^\W\d_])")  # the next word on the same line
NAME_PASSAGES = 200  # passages searched for a last name's full forms (the best BM25 hits)

# Words that come before names without being first names.
# fmt: off
_TITLES = frozenset((
    "president", "vice", "prime", "minister", "secretary", "senator", "sen", "governor", "gov",
    "mayor", "premier", "chancellor", "ambassador", "king", "queen", "prince", "princess",
    "emperor", "empress", "duke", "duchess", "count", "lord", "lady", "sir", "dame", "pope",
    "saint", "st", "cardinal", "bishop", "archbishop", "father", "brother", "sister",
    "reverend", "rev", "rabbi", "imam", "dr", "doctor", "mr", "mrs", "ms", "miss", "professor",
    "prof", "general", "gen", "colonel", "col", "captain", "capt", "major", "lieutenant", "lt",
    "sergeant", "admiral", "commander", "chief", "coach", "judge", "justice", "chairman",
    "chairwoman", "director", "deputy", "representative", "rep", "spokesman", "spokeswoman",
    "aide", "envoy", "agent", "officer",
))
# fmt: on


def full_name(name: str, texts: Sequence[str]) -> str | None:
    """The full form of the last name ``name`` most often written in ``texts``, if any.

    A full form is a capitalised first word, an optional initial ("John F. Kennedy"), then
    the name, capitalised, with only spaces or one line break between. First words that
    are stop words, titles ("President Putin") or written in lower case somewhere in
    ``texts`` ("the 20th century" vs "Century Fox") are not names, and a form followed on
    its line by another capitalised word is part of a longer name ("the Chicago Booth
    School of Business"). Ties go alphabetically.
    """
    stop = stop_words()
    if name.lower() in stop or name.lower() in _TITLES:
        return None
    form = re.compile(
        rf"(?<![\w'’.-])(?P<first>{_WORD})(?P<initial>\s+[^\W\d_]\.)?\s+"
        rf"(?P<last>(?i:{re.escape(name)}))(?![\w'’-])"
    )
    counts: dict[str, int] = {}
    lower: set[str] = set()
    for text in texts:
        lower.update(_LOWER_WORD.findall(text))
        for m in form.finditer(text):
            first, last = m.group("first"), m.group("last")
            if not (first[0].isupper() and last[0].isupper()) or "\n\n" in m.group():
                continue
            initial = (m.group("initial") or "").split()
            if initial and not initial[0][0].isupper():
                continue
            if first.lower() in stop or first.lower() in _TITLES:
                continue
            after = _NEXT_WORD.match(text, m.end())
            if after and after.group(1)[0].isupper():
                continue  # part of a longer name: "Chicago Booth School", "Century Fox Film"
            full = " ".join([first, *initial, last])
            counts[full] = counts.get(full, 0) + 1
    names = [(-n, full) for full, n in counts.items() if full.split()[0].lower() not in lower]
    return min(names)[1] if names else None


def expand_who_is(question: str, lexical_top: Callable[[str, int], list[Passage]]) -> str:
    """``question`` with every "Who is X?" by a last name alone given the full name.

    Passages that introduce a person usually give the full name ("The Kremlin's top
    foreign policy aide, Yury Ushakov, said"); later ones repeat the last name alone,
    and a question by the last name alone would find those first. The full name is
    the one written most often in the passages that BM25 ranks best for the last
    name (`full_name`); ``lexical_top(text, n)`` gives those passages.
    """

    def expand(m: re.Match[str]) -> str:
        top = lexical_top(m.group("name"), NAME_PASSAGES)
        if not top:
            return m.group()
        full = full_name(m.group("name"), [p.text for p in top])
        if full is None:
            return m.group()
        lo, hi = (x - m.start() for x in m.span("name"))
        return m.group()[:lo] + full + m.group()[hi:]

    return _WHO_IS.sub(expand, question)
