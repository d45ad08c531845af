"""Which retrieved passages the reader reads: the read floor, and when it may apply."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.core.types import Hit
from qa.retrieve.lexical import terms

# A question asking who someone (or something) is: "Who is Yury Ushakov?", "who's the
# envoy?". Its answer is a description, often in a passage that ranks below others that
# only mention the name.
_ASKS_WHO = re.compile(r"(?<![\w'’])who(?:\s+is|\s+was|'s|’s)\s", re.IGNORECASE)
SELECTIVE_MIN_TERMS = 3


def selective(question: str) -> bool:
    """Whether retrieval scores may choose which retrieved passages are read.

    Not for questions of fewer than ``SELECTIVE_MIN_TERMS`` content terms ("Who walked on
    the Moon?", "Ushakov"), whose passages score alike, nor for those asking who someone
    is: on the "who is" questions made from the training articles, reading only the
    passages within the read floor of the best cost 4 to 7 F1 (scripts/study_read_floor.py).
    """
    return len(set(terms(question))) >= SELECTIVE_MIN_TERMS and not _ASKS_WHO.search(question)


def within_floor(hits: Sequence[Hit], floor: float) -> list[Hit]:
    """The best hit and every other whose score reaches ``floor`` times the best one's.

    ``hits`` come best first, so this is always a leading part of them.
    """
    low = floor * hits[0].score if hits else 0.0
    return [h for i, h in enumerate(hits) if i == 0 or h.score >= low]
