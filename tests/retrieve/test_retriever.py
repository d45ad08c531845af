import numpy as np

from qa.core.types import Document
from qa.index.chunk import chunk
from qa.index.store import IndexSpec, Store
from qa.retrieve import Retriever, selective, terms

from ..conftest import FakeEncoder


def _retriever(texts: list[str], alpha: float = 0.5) -> Retriever:
    enc = FakeEncoder()
    store = Store(IndexSpec(enc.name, enc.dim, {}))
    for i, t in enumerate(texts):
        doc = Document.from_text(t, f"{i}.txt", str(i))
        ps = chunk(doc)
        store.add(doc, ps, enc.encode([p.text for p in ps]))
    return Retriever(store, enc, alpha=alpha)


def test_bm25_stems_and_drops_stop_words():
    assert terms("The dogs were running in the park") == ["dog", "run", "park"]


def test_command_line_options_are_terms_as_written():
    assert terms("What does gzip -l do?") == ["gzip", "-l"]
    assert terms("-N --no-name keeps names") == ["name", "keep", "name", "-N", "--no-name"]
    assert "-n" not in terms("gzip -N") and "-N" not in terms("gzip -n")
    assert terms("state-of-the-art e-mail - a dash") == ["state", "art", "mail", "dash"]


def test_versions_are_terms_as_written():
    assert terms("When was pluggy 1.5.0 released?") == ["pluggi", "releas", "1.5.0"]
    assert terms("since v0.4.6, on Python 3.8+") == ["sinc", "v0", "python", "0.4.6", "3.8"]
    assert "1.5.0" not in terms("pluggy 1.0.0 dropped 5.0")


def test_a_version_named_in_the_question_finds_its_release():
    r = _retriever(
        [
            "pluggy 1.0.0 (2021-08-25)\nDropped support for Python 2.",
            "pluggy 1.3.0 (2023-08-26)\nTyping for hooks.",
            "pluggy 1.5.0 (2024-04-19)\nA new feature.",
        ],
        alpha=0.0,  # the lexical side alone: before versions were terms, all three tied
    )
    first, second = r.retrieve("When was pluggy 1.5.0 released?", 2)
    assert first.passage.text.startswith("pluggy 1.5.0") and first.lexical > second.lexical


def test_an_option_named_in_the_question_finds_its_passage():
    r = _retriever(
        [
            "-l --list\nFor each compressed file, list the compressed size.",
            "-k --keep\nKeep input files during compression.",
            "gzip reduces the size of the named files.",
        ],
        alpha=0.0,  # the lexical side alone: before options were terms, it had nothing
    )
    hit = r.retrieve("What does -l do?", 1)[0]
    assert hit.passage.text.startswith("-l --list") and hit.lexical > 0


def test_bm25_works_on_a_one_document_corpus():
    r = _retriever(["Only one document mentions zebras."])
    hits = r.retrieve("zebras", 5)
    assert len(hits) == 1 and hits[0].lexical > 0


def test_fusion_ranks_the_relevant_passage_first():
    r = _retriever(
        [
            "Bees make honey in hives.",
            "The Eiffel Tower is in Paris.",
            "Volcanoes erupt lava and ash.",
        ]
    )
    hits = r.retrieve("Where is the Eiffel Tower?", 3)
    assert hits[0].passage.text == "The Eiffel Tower is in Paris."
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_stop_word_only_question_still_returns_dense_hits():
    r = _retriever(["Alpha beta.", "Gamma delta."])
    hits = r.retrieve("the of and", 2)
    assert len(hits) == 2 and all(h.lexical == 0 for h in hits)


def test_ranking_does_not_depend_on_insertion_order():
    texts = ["Red apples grow.", "Green apples are sour.", "Bananas are yellow.", "Apples."]
    a = _retriever(texts).retrieve("apples", 4)
    b = _retriever(texts[::-1]).retrieve("apples", 4)
    assert [h.passage.id for h in a] == [h.passage.id for h in b]
    assert np.allclose([h.score for h in a], [h.score for h in b])


def test_who_is_a_last_name_retrieves_the_passage_that_introduces_the_person():
    intro = "The Kremlin's top foreign policy aide, Yury Ushakov, spoke to reporters."
    later = [
        "Ushakov said the talks were useful. Ushakov will travel again.",
        "Ushakov declined to comment, Ushakov's office said.",
    ]
    r = _retriever([*later, intro], alpha=0.0)  # BM25 alone: the repeats outscore the intro
    assert r.retrieve("Ushakov", 1)[0].passage.text != intro
    for q in ("Who is Ushakov?", "who is ushakov", "Who's Ushakov?", "Who was X.", "who is X?!"):
        q = q.replace("X", "Ushakov")
        assert r.query_for(q) != q
        assert r.retrieve(q, 1)[0].passage.text == intro, q
    # Every "who is" of a chat's joined turns is rewritten.
    assert r.query_for("Who is Peskov? Who is Ushakov?") == "Who is Peskov? Who is Yury Ushakov?"
    assert r.query_for("Who is Ushakov talking to?") == "Who is Ushakov talking to?"


def test_full_names_skip_titles_stop_words_and_common_words():
    from qa.retrieve import full_name

    trump = ["President Trump spoke. President Trump left. President Trump won.", "Donald Trump"]
    assert full_name("Trump", trump) == "Donald Trump"  # "President" is a title
    assert full_name("trump", trump) == "Donald Trump"
    but = ["But Ushakov said so. But Ushakov left. Then Ushakov won.", "Yury Ushakov"]
    assert full_name("Ushakov", but) == "Yury Ushakov"  # stop words are not first names
    fox = ["Century Fox made films in the 20th century.", "Century Fox again. Michael Fox acts."]
    assert full_name("Fox", fox) == "Michael Fox"  # "century" is a common word here
    assert full_name("Kennedy", ["John F. Kennedy was elected."]) == "John F. Kennedy"
    assert full_name("Fabiański", ["Łukasz Fabiański plays."]) == "Łukasz Fabiański"
    assert full_name("O'Brien", ["Host Conan O'Brien spoke."]) == "Conan O'Brien"
    assert full_name("Ushakov", ["aide Yury\nUshakov said"]) == "Yury Ushakov"  # a hard wrap
    # a form followed by another capitalised word on its line is part of a longer name
    booth = ["the Chicago Booth School. Chicago Booth Prize.", "investor David G. Booth gave"]
    assert full_name("Booth", booth) == "David G. Booth"
    assert full_name("Ushakov", ["aide Yury Ushakov\nThe Kremlin said"]) == "Yury Ushakov"
    assert full_name("Ushakov", ["a Yury\n\nUshakov"]) is None  # not across paragraphs
    assert full_name("Smith", trump) is None
    assert full_name("he", ["Then He said"]) is None
    assert full_name("president", ["Russian President Putin"]) is None


def test_ask_encodes_the_question_with_the_full_name(fake_encoder):
    from qa.engine import Engine
    from qa.read.base import SentenceReader

    intro = "The Kremlin's top foreign policy aide, Yury Ushakov, spoke to reporters."
    peskov = "Kremlin spokesperson Dmitry Peskov said little."
    docs = [Document.from_text(t, f"{i}.txt", str(i)) for i, t in enumerate([intro, peskov])]
    seen: list[str] = []
    encode = fake_encoder.encode

    def spy(texts, *a, **kw):
        seen.extend(texts)
        return encode(texts, *a, **kw)

    engine = Engine.in_memory(docs, encoder=fake_encoder, reader=SentenceReader())
    engine.ask("warm up")
    fake_encoder.encode = spy
    engine.ask("Who is Ushakov?")
    engine.ask("Who is Ushakov?", retrieval_query="Who is Peskov? Who is Ushakov?")
    assert seen == ["Who is Yury Ushakov?", "Who is Dmitry Peskov? Who is Yury Ushakov?"]


def test_retrieval_chooses_what_is_read_only_for_questions_with_enough_terms():
    assert selective("When was the Eiffel Tower completed?")  # eiffel, tower, complet
    assert not selective("Who walked on the Moon?")  # walk, moon
    assert not selective("Ushakov")
    for q in (
        "Who is Yury Ushakov, the Kremlin aide?",
        "who was the Kremlin's top foreign policy aide?",
        "Who's the special envoy of the United States?",
        "  WHO IS the longest serving prime minister of Canada?",
        "So who is Yury Ushakov, the Kremlin aide?",
    ):
        assert len(set(terms(q))) >= 3 and not selective(q), q
    assert selective("Which envoy is who the Kremlin trusts most?")  # not asking who is
