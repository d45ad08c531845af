"""Character spans in a passage: whole words across windows, and quote or bracket pairs
completed at a span's ends."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.read.windows import Windows

_PAIRS = (("(", ")"), ("[", "]"), ("“", "”"), ("‘", "’"), ('"', '"'))


@dataclass(frozen=True)
class WordSpans:
    """Where each context word of each input pair starts and ends, and which word each
    window token belongs to.

    ``starts[pair][word]`` and ``ends[pair][word]`` are character offsets into the pair's
    context; ``words[window, token]`` is the token's word id, -1 outside the context.
    """

    starts: list[np.ndarray]
    ends: list[np.ndarray]
    words: np.ndarray


def word_spans(enc: Windows) -> WordSpans:
    """Each context word's first and last character, over all windows of its passage.

    A window that ends inside a word still yields the whole word: the span never stops
    mid-word.
    """
    words = np.array(
        [
            [-1 if seq != 1 or word is None else word for seq, word in zip(seqs, ws, strict=True)]
            for seqs, ws in zip(enc.sequence_ids, enc.word_ids, strict=True)
        ],
        dtype=np.int64,
    ).reshape(len(enc.word_ids), -1)
    offsets = np.asarray(enc.offsets, dtype=np.int64).reshape(len(enc.word_ids), -1, 2)
    pairs = max(enc.sample, default=-1) + 1
    size = [0] * pairs
    for w, pair in enumerate(enc.sample):
        size[pair] = max(size[pair], int(words[w].max()) + 1)
    starts = [np.full(m, np.iinfo(np.int64).max, dtype=np.int64) for m in size]
    ends = [np.zeros(m, dtype=np.int64) for m in size]
    for w, pair in enumerate(enc.sample):
        ctx = words[w] >= 0
        np.minimum.at(starts[pair], words[w][ctx], offsets[w][ctx, 0])
        np.maximum.at(ends[pair], words[w][ctx], offsets[w][ctx, 1])
    return WordSpans(starts, ends, words)


def complete_pairs(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` widened by the quote or bracket marks that complete its pairs.

    A span like ``720 feet (220 m`` or ``via secure communication” and …`` takes in the
    closing or opening mark right next to it, pair after pair until none is left open
    that can be closed there; a mark with no partner next to the span stays as it is (the
    span is never narrowed). ``’`` between two letters is an apostrophe, not a quote.
    """

    def count(span: str, mark: str, at: int) -> int:
        if mark != "’":
            return span.count(mark)
        return sum(
            1
            for i, ch in enumerate(span)
            if ch == mark
            and not (
                0 < at + i < len(text) - 1
                and text[at + i - 1].isalpha()
                and text[at + i + 1].isalpha()
            )
        )

    changed = True
    while changed:
        changed = False
        for op, cl in _PAIRS:
            span = text[start:end]
            if op == cl:
                if span.count(op) % 2 == 0:
                    continue
                if start > 0 and text[start - 1] == op and not span.startswith(op):
                    start, changed = start - 1, True
                elif end < len(text) and text[end] == cl and not span.endswith(cl):
                    end, changed = end + 1, True
                continue
            opens, closes = span.count(op), count(span, cl, start)
            if closes > opens and start > 0 and text[start - 1] == op:
                start, changed = start - 1, True
            elif opens > closes and end < len(text) and text[end] == cl:
                end, changed = end + 1, True
    return start, end
