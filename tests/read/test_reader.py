"""The neural reader end to end, with the real tokenizer and a scripted model.

The scripted model puts its start/end logits on chosen word-pieces, so every test knows
which span must come back; only the ``slow`` test loads the shipped weights.
"""

from __future__ import annotations

import pytest

from qa.core.types import Document, Hit
from qa.read.decide import rescore
from qa.read.reader import DEFAULT_MODEL_DIR, NeuralReader
from tests.read.scripted import ScriptedModel, hit_at, make_reader, whole_hits


def test_answer_is_a_verbatim_slice_at_document_offsets(tokenizer) -> None:
    text = "Intro sentence here.\n\nThe treaty was signed in Vienna in 1815 by the powers."
    doc = Document.from_text(text, source="t", title="T")
    p0 = text.index("The treaty")
    hit = hit_at(doc, p0, len(text))
    model = ScriptedModel(tokenizer, {("vienna", "1815"): 8.0})
    a = make_reader(tokenizer, model, null_threshold=0.0).read("Where and when?", [hit])
    assert a is not None
    assert a.text == "Vienna in 1815"
    assert text[a.start : a.end] == a.text  # document offsets
    assert hit.passage.text[a.start - p0 : a.end - p0] == a.text
    assert (a.doc_id, a.passage_id) == (doc.id, hit.passage.id)
    assert 0.0 <= a.score <= 1.0
    # the model saw question/context segments
    assert int(model.seen[0]["token_type_ids"].sum()) > 0


def test_comment_markers_are_not_read_but_the_answer_is_verbatim(tokenizer) -> None:
    text = "# Which number should the server listen on?\n# Set it here.\nport 1990\n"
    doc = Document.from_text(text, source="server.conf", title="server.conf")
    hit = hit_at(doc, 0, len(text))
    model = ScriptedModel(tokenizer, {("port", "1990"): 8.0})
    a = make_reader(tokenizer, model, null_threshold=0.0).read("Which port?", [hit])
    assert a is not None and a.text == text[a.start : a.end]
    ids = model.seen[0]["input_ids"][model.seen[0]["token_type_ids"] == 1].tolist()
    assert tokenizer.convert_tokens_to_ids("#") not in ids


def test_case_and_accents_survive_the_uncased_tokenizer(tokenizer) -> None:
    text = "Ils ont visité Montréal, puis PARIS."
    doc = Document.from_text(text, source="t", title="T")
    model = ScriptedModel(tokenizer, {("paris", "paris"): 5.0})
    a = make_reader(tokenizer, model).read("where?", [hit_at(doc, 0, len(text))])
    assert a is not None and a.text == "PARIS" and text[a.start : a.end] == "PARIS"


def test_no_answer_when_null_beats_the_threshold(tokenizer) -> None:
    text = "The treaty was signed in Vienna."
    doc = Document.from_text(text, source="t", title="T")
    hit = hit_at(doc, 0, len(text))
    model = ScriptedModel(tokenizer, {("vienna", "vienna"): 2.0}, null=3.0)
    # span logit 4, null 6: margin -2
    assert make_reader(tokenizer, model, null_threshold=0.0).read("q?", [hit]) is None
    assert make_reader(tokenizer, model, null_threshold=-2.5).read("q?", [hit]) is not None
    found = make_reader(tokenizer, model).propose("q?", [hit])
    assert found is not None and found.margin == pytest.approx(-2.0)
    assert make_reader(tokenizer, model).read("q?", []) is None


def test_multi_passage_picks_the_passage_that_holds_the_answer(tokenizer) -> None:
    a_text = "Nothing relevant is written in this first paragraph at all."
    b_text = "A short line.\n\nThe capital moved to Kyoto in the eighth century."
    da = Document.from_text(a_text, source="a", title="A")
    db = Document.from_text(b_text, source="b", title="B")
    b0 = b_text.index("The capital")
    hits = [hit_at(da, 0, len(a_text)), hit_at(db, b0, len(b_text))]
    model = ScriptedModel(tokenizer, {("kyoto", "kyoto"): 6.0})
    ans = make_reader(tokenizer, model).read("Where?", hits)
    assert ans is not None and ans.text == "Kyoto"
    assert ans.doc_id == db.id and ans.passage_id == hits[1].passage.id
    assert b_text[ans.start : ans.end] == "Kyoto"
    assert model.seen and len(model.seen) == 1  # one batch for all passages
    assert model.seen[0]["input_ids"].shape[0] == 2


def test_agreement_between_passages_adds_probability(tokenizer) -> None:
    texts = ["It was London, said one.", "Others said London too.", "A few said Paris."]
    hits = whole_hits(texts)
    # Paris alone is the single best span, but London appears twice.
    model = ScriptedModel(tokenizer, {("london", "london"): 4.0, ("paris", "paris"): 4.3})
    r = make_reader(tokenizer, model)
    ans = r.read("Which city?", hits)
    assert ans is not None and ans.text == "London"
    cands = r.candidates("Which city?", hits)
    assert sum(c.prob for c in cands) == pytest.approx(1.0)
    assert 0.5 < ans.score <= 1.0


def test_min_ratio_keeps_the_strongest_candidates_unchanged(tokenizer) -> None:
    texts = ["It was London, said one.", "Others said London too.", "A few said Paris."]
    hits = whole_hits(texts)
    model = ScriptedModel(tokenizer, {("london", "london"): 4.0, ("paris", "paris"): 4.3})
    r = make_reader(tokenizer, model)
    every = r.candidates("Which city?", hits)
    kept = r.candidates("Which city?", hits, min_ratio=0.01)
    best = max(c.prob for c in every)
    assert kept == [c for c in every if c.prob >= 0.01 * best]
    assert 0 < len(kept) < len(every)


def test_retrieval_weight_favours_the_better_retrieved_passage(tokenizer) -> None:
    texts = ["The winner was Paris, they said.", "The winner was London, they said."]
    # London reads slightly better, but Paris's passage is retrieved far more confidently.
    hits = whole_hits(texts, [1.0, 0.2])
    model = ScriptedModel(tokenizer, {("london", "london"): 4.2, ("paris", "paris"): 4.0})
    plain = make_reader(tokenizer, model, retrieval_weight=0.0)
    weighted = make_reader(tokenizer, model, retrieval_weight=2.0)
    assert plain.read("Who won?", hits).text == "London"
    assert weighted.read("Who won?", hits).text == "Paris"
    # The weight changes probabilities only: spans, logits and null margins stay as read.
    a, b = plain.candidates("Who won?", hits), weighted.candidates("Who won?", hits)
    assert [(c.start, c.end, c.logit, c.margin) for c in a] == [
        (c.start, c.end, c.logit, c.margin) for c in b
    ]
    # re-scoring spans read without a weight gives what reading with it gives
    again = rescore(a, hits, 2.0)
    assert [c.prob for c in again] == pytest.approx([c.prob for c in b])
    # one passage (closed book): the weight shifts every span alike and changes nothing
    assert weighted.read("Who won?", hits[1:]).text == plain.read("Who won?", hits[1:]).text


def test_length_penalty_prefers_the_short_span_inside_an_equally_read_long_one(
    tokenizer,
) -> None:
    hits = whole_hits(["They met at the Vienna Congress in 1815."])
    # starts at "the" and "vienna", ends at "vienna" and "congress": four spans, equal logits
    model = ScriptedModel(tokenizer, {("vienna", "vienna"): 5.0, ("the", "congress"): 5.0})
    plain = make_reader(tokenizer, model, length_penalty=0.0)
    short = make_reader(tokenizer, model, length_penalty=0.5)
    a, b = plain.candidates("Where?", hits), short.candidates("Where?", hits)
    text = hits[0].passage.text
    prob = {text[c.start : c.end]: c.prob for c in a}
    assert prob["Vienna"] == pytest.approx(prob["the Vienna Congress"])
    assert short.read("Where?", hits).text == "Vienna"
    by_text = {text[c.start : c.end]: c for c in b}
    assert by_text["Vienna"].tokens == 1 and by_text["the Vienna Congress"].tokens == 3
    assert (
        by_text["Vienna"].prob
        > by_text["Vienna Congress"].prob
        > by_text["the Vienna Congress"].prob
    )
    # the prior changes probabilities only, and re-scoring gives what reading with it gives
    assert [(c.start, c.end, c.logit, c.margin) for c in a] == [
        (c.start, c.end, c.logit, c.margin) for c in b
    ]
    assert [c.prob for c in rescore(a, hits, 0.0, 0.5)] == pytest.approx([c.prob for c in b])


def test_tune_length_penalty_picks_and_stores_a_penalty(tokenizer, tmp_path) -> None:
    import json

    from qa.train.evaluate import tune_length_penalty
    from qa.train.squad import Example

    text = "They met at the Vienna Congress in 1815."
    answers = (("Vienna", text.index("Vienna")),)
    ex = Example(id="q1", title="Normans", context=text, question="Where?", answers=answers)
    # read plainly, "the Vienna Congress" wins (10.4 against 10.0)
    model = ScriptedModel(tokenizer, {("vienna", "vienna"): 5.0, ("the", "congress"): 5.2})
    r = make_reader(tokenizer, model)
    r.model_dir = tmp_path
    res = tune_length_penalty(r, [ex], penalties=(0.0, 0.5, 1.0))
    assert res["by_penalty"]["0"]["em"] == 0.0 and res["by_penalty"]["0.5"]["em"] == 100.0
    assert res["length_penalty"] == 0.5 == r.length_penalty  # smallest of the best
    meta = json.loads((tmp_path / "qa_reader.json").read_text())
    assert meta["length_penalty"] == 0.5 and meta["length_tuning"]["questions"] == 1


def test_a_word_cut_by_a_window_end_is_answered_whole(tokenizer) -> None:
    # "Zanzibar" is za ##nz ##ibar; slide it across window ends so that some window
    # holds only "za" (or "za ##nz") at its end: the answer is still the whole word
    r = make_reader(tokenizer, ScriptedModel(tokenizer, {("za", "za"): 7.0}), max_length=24)
    r.stride = 4
    cut = 0
    for n in range(12):
        text = " ".join(f"w{i}" for i in range(n)) + " Zanzibar is far away from here now."
        enc = r.encode_windows(["Where?"], [text])
        za_end = text.index("Zanzibar") + 2
        for offs, seqs in zip(enc.offsets, enc.sequence_ids, strict=True):
            last = max(t for t, seq in enumerate(seqs) if seq == 1)  # the window's last piece
            cut += offs[last][1] == za_end
        doc = Document.from_text(text, source="t", title="T")
        ans = r.read("Where?", [hit_at(doc, 0, len(text))])
        assert ans is not None and ans.text == "Zanzibar", (n, ans)
    assert cut  # some layout did cut the word at a window end


def test_read_many_matches_read(tokenizer) -> None:
    texts = ["It was London, said one.", "Others said Paris.", "Nobody knows."]
    hits = whole_hits(texts)
    model = ScriptedModel(tokenizer, {("london", "london"): 4.0, ("paris", "paris"): 3.0}, null=2.5)
    r = make_reader(tokenizer, model, null_threshold=0.0)
    items = [("Which city?", hits), ("Which one?", hits[1:]), ("None?", hits[2:]), ("Empty?", [])]
    single = [r.read(q, h) for q, h in items]
    assert [a.text if a else None for a in single] == ["London", "Paris", None, None]
    model.seen.clear()
    assert r.read_many(items, batch_size=3) == single
    assert len(model.seen) == 2  # two batches of questions


def test_long_passage_is_read_in_strided_windows(tokenizer) -> None:
    filler = " ".join(f"word{i}" for i in range(200))
    text = f"{filler} The answer is Zanzibar island. {filler}"
    doc = Document.from_text(text, source="t", title="T")
    # "Zanzibar" is za ##nz ##ibar: a start inside the word is widened to the word
    model = ScriptedModel(tokenizer, {("##ibar", "island"): 7.0})
    r = make_reader(tokenizer, model, max_length=96, stride=32)
    ans = r.read("Where?", [hit_at(doc, 0, len(text))])
    assert model.seen[0]["input_ids"].shape[0] > 3  # several windows
    assert model.seen[0]["input_ids"].shape[1] <= 96
    assert ans is not None
    assert text[ans.start : ans.end] == ans.text
    assert ans.text == "Zanzibar island"


def test_a_very_long_question_is_cut_and_still_read(tokenizer) -> None:
    from qa.read.windows import MAX_QUESTION_TOKENS

    text = "The treaty was signed in Vienna in 1815 by the powers."
    question = "who signed it " * 150 + "and where?"  # 451 word-pieces
    model = ScriptedModel(tokenizer, {("vienna", "vienna"): 8.0})
    for max_length, stride in ((256, 96), (48, 16)):
        r = make_reader(tokenizer, model, max_length=max_length, stride=stride)
        model.seen.clear()
        ans = r.read(question, whole_hits([text]))
        assert ans is not None and ans.text == "Vienna"
        seen = model.seen[0]
        question_pieces = int((seen["token_type_ids"][0] == 0).sum()) - 2  # less CLS, SEP
        assert question_pieces == min(MAX_QUESTION_TOKENS, max_length - stride - 4)
        assert seen["input_ids"].shape[1] <= max_length


def test_answer_length_is_bounded(tokenizer) -> None:
    text = "alpha " + "beta " * 40 + "omega"
    doc = Document.from_text(text, source="t", title="T")
    model = ScriptedModel(tokenizer, {("alpha", "omega"): 9.0})
    r = make_reader(tokenizer, model, max_answer_tokens=10)
    ans = r.read("q", [hit_at(doc, 0, len(text))])
    # alpha..omega spans 42 tokens: too long, so no span (every other token is -10)
    assert ans is None or len(tokenizer.tokenize(ans.text)) <= 10


@pytest.mark.slow
@pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "model.safetensors").exists(), reason="no shipped reader"
)
@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_shipped_reader_answers_and_abstains(backend: str) -> None:
    text = (
        "The Amazon river flows through Brazil. It is about 6,400 km long. "
        "The river was named by Francisco de Orellana in 1542."
    )
    doc = Document.from_text(text, source="t", title="Amazon")
    hit = hit_at(doc, 0, len(text))
    r = NeuralReader(backend=backend)
    a = r.read("Who named the Amazon river?", [hit])
    assert a is not None and "Orellana" in a.text
    assert text[a.start : a.end] == a.text
    b = r.read("When was the river named?", [hit])
    assert b is not None and b.text == "1542"
    found = r.propose("In what year was the Amazon named?", [hit])
    assert found is not None and found.answer.text == "1542"
    # off-topic questions fall below the calibrated no-answer threshold
    assert r.read("What is the capital of Japan?", [hit]) is None
    assert r.read("Who won the 1998 World Cup?", [hit]) is None


def test_tune_retrieval_weight_picks_and_stores_a_weight(tokenizer, tmp_path) -> None:
    import json

    from qa.train.evaluate import tune_retrieval_weight

    good = "The winner was Paris, they said."
    bad = "The winner was London, they said."
    data = {
        "data": [
            {
                "title": "Normans",
                "paragraphs": [
                    {
                        "context": good,
                        "qas": [
                            {
                                "id": "q1",
                                "question": "Who won?",
                                "answers": [{"text": "Paris", "answer_start": 15}],
                            }
                        ],
                    }
                ],
            }
        ]
    }
    f = tmp_path / "dev.json"
    f.write_text(json.dumps(data))
    hits = whole_hits([good, bad], [1.0, 0.3])

    class Retriever:
        def retrieve(self, question: str, k: int) -> list[Hit]:
            return hits[:k]

    model = ScriptedModel(tokenizer, {("london", "london"): 4.2, ("paris", "paris"): 4.0})
    r = make_reader(tokenizer, model)
    r.model_dir = tmp_path
    res = tune_retrieval_weight(r, f, k=2, weights=(0.0, 1.0, 4.0), engine=Retriever())
    assert res["by_weight"]["0"]["em"] == 0.0 and res["by_weight"]["1"]["em"] == 100.0
    assert res["retrieval_weight"] == 1.0 == r.retrieval_weight  # smallest of the best
    meta = json.loads((tmp_path / "qa_reader.json").read_text())
    assert meta["retrieval_weight"] == 1.0 and meta["retrieval_tuning"]["questions"] == 1


def test_propose_many_matches_propose_and_read_gates_it(tokenizer) -> None:
    texts = ["It was London, said one.", "Others said Paris.", "Nobody knows."]
    hits = whole_hits(texts)
    model = ScriptedModel(tokenizer, {("london", "london"): 4.0, ("paris", "paris"): 3.0}, null=2.5)
    r = make_reader(tokenizer, model, null_threshold=0.0)
    items = [("Which city?", hits), ("Which one?", hits[1:]), ("None?", hits[2:]), ("Empty?", [])]
    alone = [r.propose(q, h) for q, h in items]
    assert r.propose_many(items, batch_size=2) == alone
    assert [p.answer.text if p else None for p in alone[:2]] == ["London", "Paris"]
    assert alone[3] is None
    for (q, h), p in zip(items, alone, strict=True):
        want = None if p is None or p.margin < 0.0 else p.answer
        assert r.read(q, h) == want
