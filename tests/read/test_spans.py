"""Spans: whole words across windows, and quote or bracket pairs completed."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer

from qa.read.spans import complete_pairs, word_spans
from qa.read.windows import encode_windows


@pytest.mark.parametrize(
    ("text", "span", "want"),
    [
        ("It stretches 720 feet (220 m) along.", "720 feet (220 m", "720 feet (220 m)"),
        (
            "He used “via secure communication” and WhatsApp.",
            "via secure communication” and WhatsApp",
            "“via secure communication” and WhatsApp",
        ),
        ('the "golden anniversary" year', 'golden anniversary"', '"golden anniversary"'),
        ("the Kremlin’s aide", "Kremlin’s aide", "Kremlin’s aide"),  # an apostrophe, no pair
        ("a (b c", "b c", "b c"),  # nothing to close it with: unchanged
        ("(59 °F)", "(59 °F)", "(59 °F)"),
        ("(“Foo”) bar", "Foo”)", "(“Foo”)"),  # pair after pair
        ("the ‘Kremlin’s men’ said", "Kremlin’s men", "Kremlin’s men"),  # an apostrophe
        ("the ‘Kremlin’s men’ said", "‘Kremlin’s men", "‘Kremlin’s men’"),
    ],
)
def test_answer_takes_in_the_mark_that_completes_a_pair(text, span, want) -> None:
    i = text.index(span)
    s, e = complete_pairs(text, i, i + len(span))
    assert text[s:e] == want
    assert s <= i and e >= i + len(span)  # only ever widened


def test_word_spans_give_each_word_whole_even_where_a_window_cuts_it(tokenizer) -> None:
    fast = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    text = "w0 w1 w2 w3 Zanzibar is far away from here now, they said."  # za ##nz ##ibar
    contexts = [text, "Short one."]
    enc = encode_windows(fast, ["Where?", "What?"], contexts, max_length=16, stride=4)
    spans = word_spans(enc)
    assert len(spans.starts) == len(spans.ends) == 2  # one entry per input pair
    assert spans.words.shape == enc.arrays["input_ids"].shape
    for w, pair in enumerate(enc.sample):
        for t, word in enumerate(spans.words[w]):
            if enc.sequence_ids[w][t] != 1:
                assert word == -1  # question, special tokens and padding
                continue
            start, end = spans.starts[pair][word], spans.ends[pair][word]
            piece_start, piece_end = enc.offsets[w][t]
            assert start <= piece_start and piece_end <= end  # the word holds its pieces
            word_text = contexts[pair][start:end]
            assert word_text and not any(ch.isspace() for ch in word_text)
    z = text.index("Zanzibar")
    zanzibar = [
        (spans.starts[0][wd], spans.ends[0][wd])
        for w, pair in enumerate(enc.sample)
        if pair == 0
        for t, wd in enumerate(spans.words[w])
        if wd >= 0 and enc.offsets[w][t][0] == z
    ]
    assert zanzibar and set(zanzibar) == {(z, z + len("Zanzibar"))}
