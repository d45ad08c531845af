"""Follow-up questions in a chat: what to retrieve with, and what the reader reads.

A last turn that leans on earlier ones ("When?", "Where was he born?") is retrieved with
the recent turns joined, and read as it stands in the conversation (``reader_question``).
A question that is not a follow-up reaches the reader unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from qa.core.text import stop_words

_PRONOUNS = re.compile(
    r"\b(he|she|him|his|her|hers|they|them|their|theirs|it|its|this|that|these|those|there)\b",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(r"^\s*(and|also|but|so|what about|how about)\b", re.IGNORECASE)
FOLLOW_UP_WORDS = 5  # a last question this short probably leans on earlier turns
FOLLOW_UP_TURNS = 3  # user turns concatenated for retrieval


def is_follow_up(question: str) -> bool:
    """Whether ``question`` probably leans on earlier turns (short, a pronoun, "and …")."""
    words = re.findall(r"\w+", question)
    return (
        len(words) <= FOLLOW_UP_WORDS
        or bool(_PRONOUNS.search(question))
        or bool(_CONTINUATION.match(question))
    )


def retrieval_query(user_turns: list[str], limit: int) -> str:
    """What to retrieve with: the last turn, or the recent turns when it is a follow-up."""
    last = user_turns[-1].strip()
    if len(user_turns) < 2 or not is_follow_up(last):
        return last
    query = " ".join(t.strip() for t in user_turns[-FOLLOW_UP_TURNS:] if t.strip())
    return query[-limit:].strip()  # keep the most recent words when over the limit


_WORD = re.compile(r"\w(?:[\w'’.\-]*\w)?")
_PERSONAL = re.compile(r"\b(he|she|him|her|his|they|them|their)\b", re.IGNORECASE)
_SINGULAR = re.compile(r"\b(he|she|him|her|his)\b", re.IGNORECASE)
_WHO = re.compile(r"^\W*(?:\w+\W+){0,2}?(who|whom)\b", re.IGNORECASE)
# Words that say what kind of answer a question wants ("what year", "how many"): carried
# into the next question they steer the reader back to the previous answer.
FRAME_WORDS = frozenset(
    {"year", "years", "date", "day", "month", "time", "much", "many", "long", "old", "far"}
    | {"often", "kind", "type", "sort", "name", "called", "number", "amount"}
)


def _key(word: str) -> str:
    """A word as compared: lower case, no possessive."""
    w = word.lower()
    return w[:-2] if w.endswith(("'s", "’s")) else w


def content_words(question: str) -> list[str]:
    """The words of ``question`` that carry its content (no stop words), once each."""
    stop = stop_words()
    out: list[str] = []
    for w in _WORD.findall(question):
        if _key(w) not in stop and _key(w) not in {_key(x) for x in out}:
            out.append(w)
    return out


def carry(last: str, previous: str, leave_out: frozenset[str] = frozenset()) -> str:
    """``last`` with the previous question's content words it lacks added at its end
    (but ``leave_out``): "When?" after "Who founded Acme Ledger?" reads "When founded
    Acme Ledger?"."""
    have = {_key(w) for w in _WORD.findall(last)} | leave_out
    extra = [w for w in content_words(previous) if _key(w) not in have]
    if not extra:
        return last
    return f"{last.rstrip().rstrip('?').rstrip()} {' '.join(extra)}?"


def _named(last: str, m: re.Match[str], answer: str) -> str:
    name = f"{answer}'s" if m[1].lower() in ("his", "their") else answer
    return last[: m.start()] + name + last[m.end() :]


def with_answer(last: str, previous: str, answer: str | None) -> str:
    """``last`` with its first personal pronoun read as the previous answer ("Where was he
    born?" after "Yury Ushakov": "Where was Yury Ushakov born?"), else ``carry``."""
    m = _PERSONAL.search(last)
    return _named(last, m, answer) if answer and m else carry(last, previous)


def is_elliptical(question: str) -> bool:
    """Whether ``question`` cannot stand alone: at most one content word ("When?", "Who
    wrote it?"), or it goes on from the last one ("And to the west?")."""
    return len(content_words(question)) <= 1 or bool(_CONTINUATION.match(question))


def resolve(last: str, previous: str, answer: str | None) -> str:
    """``last`` as it stands after ``previous``: "he"/"she" is the previous answer when
    that one answered "who"; an elliptical question gets the previous one's content
    words (not its answer-type words: ``FRAME_WORDS``); anything else stays as it is."""
    m = _SINGULAR.search(last)
    if answer and m and _WHO.match(previous):
        return _named(last, m, answer)
    if is_elliptical(last):
        return carry(last, previous, FRAME_WORDS)
    return last


RULES: dict[str, Callable[[str, str, str | None], str]] = {
    "last": lambda last, previous, answer: last,
    "carry": lambda last, previous, answer: carry(last, previous),
    "prefix": lambda last, previous, answer: f"{previous} {last}",
    "answer": with_answer,
    "resolve": resolve,
}
RULE = "resolve"  # how the chat reads a follow-up: the best rule on the tune split


def reader_question(
    user_turns: list[str], answers: list[str | None], limit: int, rule: str | None = None
) -> str:
    """The question the reader reads: the last turn as it stands in the conversation.

    ``answers[i]`` is the reply's answer to ``user_turns[i]`` (None: none, or unknown).
    Each follow-up is read after the question before it as that one was read (so a third
    turn inherits what the second carried over); the first turn, and a turn that is not a
    follow-up (`is_follow_up`), are read as they are. ``rule`` (default ``RULE``) is how a
    follow-up is read: ``last`` as it is, ``carry`` with the previous question's content
    words added, ``prefix`` after the previous question, ``answer`` with a pronoun read
    as the previous answer, ``resolve`` as `resolve` says.
    """
    how = RULES[RULE if rule is None else rule]
    read = user_turns[0].strip()
    for i in range(1, len(user_turns)):
        last = user_turns[i].strip()
        read = how(last, read, answers[i - 1]) if is_follow_up(last) else last
    last = user_turns[-1].strip()
    return read if len(read) <= limit else last  # never longer than a question may be
