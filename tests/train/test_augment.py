"""Shortened passages for distillation: answers kept and re-pointed, the rest thinned."""

from __future__ import annotations

import random

from qa.train.augment import augment, sentence_spans, shortened
from qa.train.squad import Example

CTX = (
    "The tower was built in 1889. It stands in Paris. Gustave Eiffel's company designed it. "
    "It was the tallest structure until 1930! Millions visit it each year."
)


def example(answers: tuple[tuple[str, int], ...]) -> Example:
    return Example("q1", "Tower", CTX, "Who designed the tower?", answers)


def test_sentences_cover_the_text() -> None:
    spans = sentence_spans(CTX)
    assert len(spans) == 5
    assert CTX[spans[2][0] : spans[2][1]] == "Gustave Eiffel's company designed it."
    assert sentence_spans("one sentence only") == [(0, 17)]


def test_shortened_keeps_every_answer_sentence_and_moves_the_offsets() -> None:
    ans = (("Gustave Eiffel's company", CTX.index("Gustave")), ("1930", CTX.index("1930")))
    rng = random.Random(0)
    seen = set()
    for _ in range(50):
        new = shortened(example(ans), rng, drop=0.5)
        if new is None:
            continue
        assert len(new.context) < len(CTX)
        for text, start in new.answers:
            assert new.context[start : start + len(text)] == text
        assert "designed it." in new.context and "until 1930!" in new.context
        seen.add(new.context)
    assert len(seen) > 1  # different sentences are left out on different draws


def test_nothing_to_leave_out_gives_none() -> None:
    one = Example("q", "t", "A single sentence with 1889 in it.", "When?", (("1889", 23),))
    assert shortened(one, random.Random(0)) is None
    # every sentence holds an answer
    ans = tuple((CTX[a:b], a) for a, b in sentence_spans(CTX))
    assert shortened(example(ans), random.Random(0), drop=1.0) is None


def test_unanswerable_questions_are_shortened_too_and_augment_is_repeatable() -> None:
    exs = [example(()), example((("1889", CTX.index("1889")),))]
    a, b = augment(exs, 3, seed=7), augment(exs, 3, seed=7)
    assert a == b and a
    assert all(x.id.startswith("q1~s") for x in a)
    assert any(not x.answers for x in a)
    assert all(x.context != CTX for x in a)
