"""Tokenising (question, passage) pairs into the windows the reader reads.

Straight from the ``tokenizers`` library (no transformers import), the same windows a
transformers fast tokenizer gives with ``truncation="only_second"``, overflow, ``stride``
and ``padding="longest"``: a long passage is read in overlapping windows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Questions longer than this (in word-pieces) are cut: the passage needs the window.
MAX_QUESTION_TOKENS = 64
# a comment's marker at a line's start ("# ", "; ", "// ", "## " of a Markdown heading)
_COMMENT_MARK = re.compile(r"(?m)^([ \t]*)([#;]+|//)(?=[ \t]|$)")
_RULE_LINE = re.compile(r"(?m)^[ \t]*[#=*-]{5,}[ \t]*$")  # a banner or a ruled line


def reading_text(text: str) -> str:
    """``text`` as the reader reads it: comment markers at line starts and lines of
    ``#####`` or ``-----`` blanked, every other character where it was (offsets hold).
    A commented configuration file then reads as prose with its directives between."""
    text = _RULE_LINE.sub(lambda m: " " * len(m.group(0)), text)
    return _COMMENT_MARK.sub(lambda m: m.group(1) + " " * len(m.group(2)), text)


@dataclass
class Windows:
    """Tokenised (question, context) windows, padded to the longest; per-window metadata."""

    arrays: dict[str, Any]  # input_ids, token_type_ids, attention_mask: int64 [windows, tokens]
    offsets: list[list[tuple[int, int]]]  # character span of each token in its own text
    sequence_ids: list[list[int | None]]  # 0 question, 1 context, None special/padding
    word_ids: list[list[int | None]]
    sample: list[int]  # the input pair each window came from


def fast_tokenizer(path: str | Path) -> Any:
    """A ``tokenizers.Tokenizer`` from a ``tokenizer.json`` (no transformers import)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


def question_tokenizer(path: str | Path) -> Any:
    """A tokenizer that ``encode_windows`` cuts questions with: no truncation, no padding.

    With one, ``encode_windows`` changes neither tokenizer's settings once they are set, so
    several threads may encode with the same pair at once.
    """
    tok = fast_tokenizer(path)
    tok.no_truncation()
    tok.no_padding()
    return tok


def _cut_questions(
    tok: Any, questions: Sequence[str], limit: int, question_tok: Any = None
) -> list[str]:
    """``questions``, each cut after its first ``limit`` word-pieces (whole pieces)."""
    limit = max(1, limit)
    long = [i for i, q in enumerate(questions) if len(q) > limit]  # a piece spans ≥ 1 char
    out = list(questions)
    if not long:
        return out
    if question_tok is None:
        tok.no_truncation()  # encode_windows sets it again for the pairs
        question_tok = tok
    encoded = question_tok.encode_batch([out[i] for i in long], add_special_tokens=False)
    for i, enc in zip(long, encoded, strict=True):
        if len(enc.offsets) > limit:
            out[i] = out[i][: enc.offsets[limit - 1][1]]
    return out


def encode_windows(
    tok: Any,
    questions: Sequence[str],
    contexts: Sequence[str],
    max_length: int,
    stride: int,
    question_tok: Any = None,
) -> Windows:
    """(question, context) pairs as padded windows of at most ``max_length`` word-pieces,
    long contexts in windows overlapping by ``stride``.

    A question is cut to its first ``MAX_QUESTION_TOKENS`` word-pieces (fewer when the
    window could not otherwise hold more than ``stride`` context pieces), so that any
    question leaves room for its passage, with ``question_tok`` (``question_tokenizer``)
    where given, else with ``tok`` itself. Configures ``tok``'s truncation and padding.
    """
    limit = min(MAX_QUESTION_TOKENS, max_length - stride - 4)
    questions = _cut_questions(tok, questions, limit, question_tok)
    want = {"max_length": max_length, "stride": stride, "strategy": "only_second"}
    if not tok.truncation or any(tok.truncation.get(k) != v for k, v in want.items()):
        tok.enable_truncation(max_length, stride=stride, strategy="only_second")
    if tok.padding is not None:
        tok.no_padding()
    flat, sample = [], []
    for i, enc in enumerate(tok.encode_batch(list(zip(questions, contexts, strict=True)))):
        for e in (enc, *enc.overflowing):
            flat.append(e)
            sample.append(i)
    width = max((len(e.ids) for e in flat), default=0)
    n = len(flat)
    ids = np.zeros((n, width), dtype=np.int64)
    types = np.zeros((n, width), dtype=np.int64)
    mask = np.zeros((n, width), dtype=np.int64)
    pad = [None] * width
    offsets, seqs, words = [], [], []
    for w, e in enumerate(flat):
        m = len(e.ids)
        ids[w, :m] = e.ids
        types[w, :m] = e.type_ids
        mask[w, :m] = 1
        offsets.append(list(e.offsets) + [(0, 0)] * (width - m))
        seqs.append(list(e.sequence_ids) + pad[m:])
        words.append(list(e.word_ids) + pad[m:])
    if tok.token_to_id("[PAD]") not in (None, 0):
        ids[mask == 0] = tok.token_to_id("[PAD]")
    return Windows(
        {"input_ids": ids, "token_type_ids": types, "attention_mask": mask},
        offsets,
        seqs,
        words,
        sample,
    )


def check_windows(tok: Any) -> None:
    """Raise ``RuntimeError`` when the installed ``tokenizers`` cuts a long passage short.

    tokenizers 0.23.2 ends the overflow windows of a long passage early, so the rest of it
    is never read (or trained on); 0.23.3 reads it all.
    """
    import tokenizers

    text = " ".join(f"{w}{i}" for i in range(400) for w in ("the", "(2019)", "réunion"))
    enc = encode_windows(tok, ["what is it?"], [text], 256, 96)
    reach = max(
        off[1] for offs, seq in zip(enc.offsets, enc.sequence_ids, strict=True)
        for off, s in zip(offs, seq, strict=True) if s == 1
    )  # fmt: skip
    if reach < len(text):
        raise RuntimeError(
            f"tokenizers {tokenizers.__version__} cuts long passages short (its windows "
            f"reach character {reach} of {len(text)}); install tokenizers 0.23.3 or later"
        )
