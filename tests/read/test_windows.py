"""Windows: what the reader's tokenisation gives, against the transformers tokenizer."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer

from qa.read.windows import check_windows, encode_windows, reading_text


def test_windows_match_the_transformers_tokenizer(tokenizer) -> None:
    fast = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    long = " ".join(f"Word{i} café naïve—“quoted” 1,234.5" for i in range(60))
    questions = ["  What is it?", "Who?", "Wie heißt das?"]
    contexts = [long, "Short context.", "Ünïcödé text 東京 and more " * 20]
    got = encode_windows(fast, questions, contexts, max_length=64, stride=16)
    ref = tokenizer(
        questions,
        contexts,
        truncation="only_second",
        max_length=64,
        stride=16,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="longest",
        return_tensors="np",
    )
    assert len(got.sample) > len(questions)  # long contexts overflow into windows
    assert got.sample == ref["overflow_to_sample_mapping"].tolist()
    for k in ("input_ids", "token_type_ids", "attention_mask"):
        assert (got.arrays[k] == ref[k]).all(), k
    for w in range(len(got.sample)):
        assert got.sequence_ids[w] == ref.sequence_ids(w)
        assert got.word_ids[w] == ref.word_ids(w)
        assert [tuple(o) for o in ref["offset_mapping"][w]] == got.offsets[w]


@pytest.mark.parametrize("words", [150, 400, 1000])
def test_windows_cover_the_whole_passage(tokenizer, words) -> None:
    # tokenizers 0.23.2 cut the overflow windows of some passages short, so the end of a
    # long passage was never read (nor trained on); pyproject requires a release without it.
    import random

    rng = random.Random(words)
    vocab = ["the", "council", "said,", "réunion", "1,855", "(2019)", "well-known", "—", "x\n\n"]
    text = " ".join(rng.choice(vocab) + str(rng.randrange(50)) for _ in range(words))
    fast = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    enc = encode_windows(fast, ["what is it?"], [text], 256, 96)
    covered = 0
    for w in range(len(enc.sample)):
        ctx = [k for k, s in enumerate(enc.sequence_ids[w]) if s == 1]
        first, last = enc.offsets[w][ctx[0]][0], enc.offsets[w][ctx[-1]][1]
        assert first <= covered, f"window {w} starts at {first}, past {covered}"
        covered = max(covered, last)
    assert covered == len(text.rstrip())


def test_check_windows_passes_with_the_installed_tokenizers(tokenizer) -> None:
    check_windows(Tokenizer.from_str(tokenizer.backend_tokenizer.to_str()))


def test_a_long_question_is_cut_to_leave_room_for_the_passage(tokenizer) -> None:
    fast = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    question = "who signed it " * 150 + "and where?"
    enc = encode_windows(fast, [question], ["The treaty was signed in Vienna."], 48, 16)
    assert enc.arrays["input_ids"].shape[1] <= 48
    question_pieces = int((enc.arrays["token_type_ids"][0] == 0).sum()) - 2  # less CLS, SEP
    assert question_pieces == 48 - 16 - 4
    assert enc.sample == [0] and 1 in enc.sequence_ids[0]  # the passage is read


def test_with_a_question_tokenizer_encoding_changes_no_settings(tokenizer, tmp_path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from qa.read.windows import fast_tokenizer, question_tokenizer

    path = tmp_path / "tokenizer.json"
    Tokenizer.from_str(tokenizer.backend_tokenizer.to_str()).save(str(path))
    tok, cutter = fast_tokenizer(path), question_tokenizer(path)
    encode_windows(tok, ["?"], ["."], 64, 16)  # configured once, as the reader does at load
    before = (tok.truncation, tok.padding, cutter.truncation, cutter.padding)
    questions = ["who signed it " * 50 + "and where?", "Where?"]
    contexts = ["The treaty was signed in Vienna in 1815. " * 12, "In Vienna."]
    got = encode_windows(tok, questions, contexts, 64, 16, cutter)
    assert (tok.truncation, tok.padding, cutter.truncation, cutter.padding) == before
    want = encode_windows(fast_tokenizer(path), questions, contexts, 64, 16)  # cut with tok
    assert got.sample == want.sample and got.offsets == want.offsets
    for k in ("input_ids", "token_type_ids", "attention_mask"):
        assert (got.arrays[k] == want.arrays[k]).all(), k
    # several threads may share the pair: every one gets the same windows
    with ThreadPoolExecutor(4) as pool:
        runs = list(
            pool.map(lambda _: encode_windows(tok, questions, contexts, 64, 16, cutter), range(40))
        )
    assert all((r.arrays["input_ids"] == got.arrays["input_ids"]).all() for r in runs)


def test_the_reader_reads_comments_without_their_markers_at_the_same_offsets() -> None:
    conf = "#####\n# Which port should it listen on?\nport 1194\n; proto tcp\n## Usage\n// note"
    read = reading_text(conf)
    assert len(read) == len(conf)
    assert read.split("\n") == [
        "     ",
        "  Which port should it listen on?",
        "port 1194",
        "  proto tcp",
        "   Usage",
        "   note",
    ]
    # a mark inside a line, or one not followed by a space, is text
    for kept in ("x = 1 # one", "#include <stdio.h>", ";proto udp", "C# and F#", "-- SQL"):
        assert reading_text(kept) == kept
