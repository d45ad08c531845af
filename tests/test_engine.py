import json
from pathlib import Path

import pytest

from qa.core.errors import BadInput, IndexMismatch, IndexNotFound, NotFound
from qa.core.types import response_to_dict
from qa.engine import Engine
from qa.retrieve import selective

from .conftest import FakeEncoder

QUESTIONS = [
    "When was the Eiffel Tower completed?",
    "How many bees can a colony hold?",
    "Who walked on the Moon?",
    "What is the capital of France?",
    "Which museum is the most visited?",
]


def _check_offsets(engine: Engine, resp) -> None:
    docs = engine.store.documents
    for c in resp.citations:
        assert docs[c.doc_id].text[c.start : c.end] == c.text
    if resp.answer is not None:
        a = resp.answer
        assert docs[a.doc_id].text[a.start : a.end] == a.text
        cited = [c for c in resp.citations if c.n == resp.answer_citation]
        assert len(cited) == 1 and cited[0].start <= a.start and a.end <= cited[0].end


def _answers(engine: Engine) -> list[dict]:
    out = []
    for q in QUESTIONS:
        d = response_to_dict(engine.ask(q, 3))
        d.pop("timings_ms")
        out.append(d)
    return out


def test_answers_and_citations_are_verbatim_slices(engine: Engine):
    for q in QUESTIONS:
        resp = engine.ask(q, 3)
        assert len(resp.citations) == 3
        assert [c.n for c in resp.citations] == [1, 2, 3]
        _check_offsets(engine, resp)
    resp = engine.ask("When was the Eiffel Tower completed?")
    assert resp.answer is not None and resp.answer.text == "1889"


def test_json_contract(engine: Engine):
    d = json.loads(json.dumps(response_to_dict(engine.ask("Who walked on the Moon?", 2))))
    assert set(d) >= {"question", "answer", "citations", "timings_ms"}
    assert set(d["answer"]) >= {"text", "score", "doc_id", "start", "end", "citation"}
    assert set(d["citations"][0]) >= {
        "n",
        "id",
        "doc_id",
        "source",
        "title",
        "start",
        "end",
        "text",
        "score",
        "read",
    }
    assert d["answer"]["citation"] in {c["n"] for c in d["citations"]}
    assert set(d["timings_ms"]) >= {"encode", "retrieve", "read", "total"}


def test_no_answer_is_explicit_and_still_cites(engine: Engine):
    resp = engine.ask("What is the boiling point of mercury in kelvin?")
    assert resp.answer is None
    assert resp.citations


def test_min_relevance_abstains_when_no_passage_is_close(engine: Engine):
    from dataclasses import replace

    q = "When was the Eiffel Tower completed?"
    hits = engine.retrieve(q, 3)
    best = max(h.dense for h in hits)
    assert engine.ask(q, 3).answer is not None
    engine.settings = replace(engine.settings, min_relevance=best - 1e-6)
    assert engine.ask(q, 3).answer is not None
    engine.settings = replace(engine.settings, min_relevance=best + 1e-6)
    resp = engine.ask(q, 3)
    assert resp.answer is None and len(resp.citations) == 3


def test_read_floor_reads_the_best_passage_and_those_above_it(engine: Engine):
    from dataclasses import replace

    q = "When was the Eiffel Tower completed?"
    hits = engine.retrieve(q, 3)
    scores = [h.score for h in hits]
    assert scores[0] > scores[1] > scores[2]  # the floors below split them
    read: list[list[str]] = []
    inner = engine.reader

    class Spy:
        def read(self, question, given):
            read.append([h.passage.id for h in given])
            return inner.read(question, given)

    engine._reader = Spy()
    ids = [h.passage.id for h in hits]
    for floor, expect in (
        (0.0, ids),
        (scores[1], ids[:2]),
        (scores[1] + 1e-9, ids[:1]),
    ):
        engine.settings = replace(engine.settings, read_floor=floor)
        resp = engine.ask(q, 3)
        assert read[-1] == expect
        assert [c.id for c in resp.citations] == ids  # every retrieved passage is cited
        assert [c.read for c in resp.citations] == [i in expect for i in ids]
        assert resp.answer is not None and resp.answer.text == "1889"
    # Questions of fewer than 3 content terms read every passage.
    engine.settings = replace(engine.settings, read_floor=1.0)
    for q in QUESTIONS:
        hits = engine.retrieve(q, 3)
        resp = engine.ask(q, 3)
        expect = [h.passage.id for h in hits]
        if selective(q):
            expect = expect[:1]
        assert read[-1] == expect and len(resp.citations) == 3
    assert any(selective(q) for q in QUESTIONS) and not all(selective(q) for q in QUESTIONS)
    # The best passage is read whatever the floor.
    q = "How often does the Moon orbit the Earth?"
    hits = engine.retrieve(q, 3)
    assert selective(q)
    engine.ask(q, 3)
    assert read[-1] == [hits[0].passage.id]
    # Asked who someone is, every retrieved passage is read.
    engine.ask("Who is the engineer whose company built the Eiffel Tower?", 3)
    assert len(read[-1]) == 3


def test_read_floor_reads_the_rest_when_the_passages_read_hold_no_answer(engine: Engine):
    from dataclasses import replace

    q = "When was the Eiffel Tower completed?"
    hits = engine.retrieve(q, 3)
    inner = engine.reader
    given: list[int] = []

    class FirstPassageUnhelpful:
        def read(self, question, passages):
            given.append(len(passages))
            return inner.read(question, passages) if len(passages) > 1 else None

    engine._reader = FirstPassageUnhelpful()
    engine.settings = replace(engine.settings, read_floor=1.0)
    resp = engine.ask(q, 3)
    assert given[-2:] == [1, 3]  # (a first read may warm the models up)
    assert resp.answer is not None and all(c.read for c in resp.citations)
    assert [c.id for c in resp.citations] == [h.passage.id for h in hits]


def test_add_and_remove_answer_exactly_like_a_rebuild(tmp_path: Path, corpus_dir: Path, settings):
    enc = FakeEncoder()
    extra = tmp_path / "extra.txt"
    extra.write_text("Mount Everest is 8,849 metres tall.\n\nIt is in the Himalayas.")
    incremental = Engine(settings, encoder=enc)
    incremental.index([corpus_dir / "paris.txt"])
    added = incremental.add([corpus_dir])  # paris.txt is already there: unchanged
    assert [d.source for d in added.unchanged] == [str(corpus_dir / "paris.txt")]
    assert sorted(d.source for d in added.added) == sorted(
        str(corpus_dir / n) for n in ("bees.md", "moon.html")
    )
    incremental.add([extra])
    extra_id = next(d["id"] for d in incremental.documents() if d["source"] == str(extra))
    incremental.remove(extra_id)

    rebuilt_settings = type(settings)(index_dir=tmp_path / "rebuilt", reader_dir=None)
    rebuilt = Engine(rebuilt_settings, encoder=enc)
    rebuilt.index([corpus_dir])
    assert _answers(incremental) == _answers(rebuilt)
    for resp in (incremental.ask(q) for q in QUESTIONS):
        _check_offsets(incremental, resp)
    # and the saved index reopens to the same answers
    assert _answers(Engine(settings, encoder=enc)) == _answers(rebuilt)


def test_citation_ids_survive_a_rebuild(engine: Engine, corpus_dir: Path):
    before = engine.ask("Who walked on the Moon?")
    engine.index([corpus_dir])
    for c in before.citations:
        got = engine.cite(c.id)
        assert (got["doc_id"], got["start"], got["end"], got["text"]) == (
            c.doc_id,
            c.start,
            c.end,
            c.text,
        )


def test_cite_gives_context_and_unknown_ids_are_clear(engine: Engine):
    c = engine.ask("How many bees can a colony hold?").citations[0]
    got = engine.cite(c.id)
    doc = engine.store.documents[c.doc_id].text
    assert got["context_before"] + got["text"] + got["context_after"] in doc
    assert doc[: got["start"]].endswith(got["context_before"])
    with pytest.raises(NotFound, match="no citation 'nope'"):
        engine.cite("nope")
    with pytest.raises(NotFound, match=r"'p{60}'… \(100000 characters\)") as e:
        engine.cite("p" * 100_000)
    assert len(str(e.value)) < 300


def test_bad_input_is_named(engine: Engine):
    with pytest.raises(BadInput, match="empty"):
        engine.ask("   ")
    with pytest.raises(BadInput, match="limit is 1000"):
        engine.ask("x" * 1001)
    with pytest.raises(BadInput, match="between 1 and 50"):
        engine.ask("Who?", k=0)
    with pytest.raises(NotFound, match="qa docs"):
        engine.remove("d000")


def test_missing_and_mismatched_index(settings, fake_encoder, corpus_dir):
    with pytest.raises(IndexNotFound, match="qa index DOCS/ --index"):
        Engine(settings, encoder=fake_encoder).ask("Who?")
    Engine(settings, encoder=fake_encoder).index([corpus_dir])

    class Other(FakeEncoder):
        name = "test/another-encoder"

    with pytest.raises(IndexMismatch, match="built with embedder test/fake-hashing-encoder"):
        Engine(settings, encoder=Other()).ask("Who?")


def test_staleness_follows_sources_and_settings(settings, fake_encoder, corpus_dir):
    e = Engine(settings, encoder=fake_encoder)
    assert e.is_stale([corpus_dir])
    e.index([corpus_dir])
    assert not e.is_stale([corpus_dir])
    (corpus_dir / "paris.txt").write_text("Changed.")
    assert e.is_stale([corpus_dir])
    e.index([corpus_dir])
    other = Engine(
        type(settings)(index_dir=settings.index_dir, max_passage_words=20), encoder=fake_encoder
    )
    assert other.is_stale([corpus_dir])


def test_retrieval_query_chooses_passages_and_question_is_read(engine: Engine):
    resp = engine.ask("When was it completed?", k=1, retrieval_query="Eiffel Tower completed")
    assert resp.question == "When was it completed?"
    assert "Eiffel Tower" in resp.citations[0].text
    assert resp.answer is not None and resp.answer.text == "1889"
    with pytest.raises(BadInput, match="empty"):
        engine.ask("Who?", retrieval_query="  ")


def test_adding_an_edited_file_replaces_its_older_version(engine: Engine, corpus_dir: Path):
    path = corpus_dir / "paris.txt"
    old_id = next(d["id"] for d in engine.documents() if d["source"] == str(path))
    path.write_text("Paris hosted the Olympic Games in 2024.", encoding="utf-8")
    report = engine.add([path])
    assert [d.source for d in report.replaced] == [str(path)] and not report.added
    sources = [d["source"] for d in engine.documents()]
    assert sources.count(str(path)) == 1 and old_id not in engine.store.documents
    resp = engine.ask("When did Paris host the Olympic Games?")
    assert resp.answer is not None and resp.answer.text == "2024"


def test_fingerprint_names_the_contents_not_the_search_structure(
    engine: Engine, settings, fake_encoder
):
    from qa.index.manifest import index_fingerprint, read_manifest

    path = settings.index_dir
    assert index_fingerprint(path) == engine.fingerprint
    # an index saved before the manifest recorded its vector index still matches
    gen = (path / "CURRENT").read_text().strip()
    manifest = read_manifest(path)
    assert manifest is not None and "vector_index" in manifest
    del manifest["vector_index"]
    (path / gen / "manifest.json").write_text(json.dumps(manifest))
    reopened = Engine(settings, encoder=fake_encoder)
    before = engine.fingerprint
    assert index_fingerprint(path) == reopened.fingerprint == before
    # other contents, another fingerprint
    reopened.remove(str(reopened.documents()[0]["id"]))
    assert reopened.fingerprint != before
    assert engine.fingerprint == reopened.fingerprint  # the other engine follows the save


def test_sources_without_text_are_refused_before_any_work(settings, fake_encoder, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for name in ("a.txt", "b.md"):
        (empty / name).write_text("  \n")
    with pytest.raises(BadInput, match=r"nothing to index: skipped 2 \(2 no text\)"):
        Engine(settings, encoder=fake_encoder).index([empty])
    # the rebuild streams: it held the writers' lock while it read, and left nothing else
    assert not settings.index_dir.exists() or {p.name for p in settings.index_dir.iterdir()} <= {
        ".lock"
    }
    with pytest.raises(BadInput, match=r"nothing to add: skipped 2 \(2 no text\)"):
        Engine(settings, encoder=fake_encoder).add([empty])


def _doc(n: int):
    from qa.core.types import Document

    return Document.from_text(
        f"Note {n}: the tower number {n} is red.", source=f"note{n}.txt", title=f"note {n}"
    )


def test_engines_sharing_an_index_follow_each_others_saves(engine: Engine, settings):
    other = Engine(settings, encoder=FakeEncoder())
    assert len(other.documents()) == len(engine.documents())  # both hold the index now
    engine.add_documents([_doc(1)])
    other.add_documents([_doc(2)])  # starts from engine's save, not from what it held
    names = {str(d["source"]) for d in engine.documents()}  # and engine sees other's
    assert {"note1.txt", "note2.txt"} <= names
    assert engine.ask("Which tower number is red?", 5).citations  # answers from the new one
    other.remove(engine.add_documents([_doc(3)])[0].id)
    assert "note3.txt" not in {str(d["source"]) for d in engine.documents()}


def test_writers_at_once_take_turns_and_lose_nothing(engine: Engine, settings):
    import threading

    # Separate engines (as separate processes would be): only the index's lock orders them.
    engines = [Engine(settings, encoder=FakeEncoder()) for _ in range(4)]
    for e in engines:
        e.documents()  # each holds the index as it was before any of the writes
    errors: list[BaseException] = []

    def add(e: Engine, n: int) -> None:
        try:
            e.add_documents([_doc(n)])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(e, n)) for n, e in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    names = {str(d["source"]) for d in Engine(settings, encoder=FakeEncoder()).documents()}
    assert {f"note{n}.txt" for n in range(4)} <= names


def test_the_lock_file_belongs_to_the_index_folder(settings, fake_encoder, corpus_dir):
    settings.index_dir.mkdir()
    (settings.index_dir / ".lock").touch()  # left by a first build that failed
    Engine(settings, encoder=fake_encoder).index([corpus_dir])
    Engine(settings, encoder=fake_encoder).index([corpus_dir])  # and saves keep it
    assert (settings.index_dir / ".lock").exists()


def test_a_rebuilt_index_is_followed_even_under_an_old_generation_name(
    engine: Engine, settings, tmp_path
):
    import shutil

    assert engine.documents()
    shutil.rmtree(settings.index_dir)  # deleted and built again: gen-1 once more
    other = tmp_path / "other"
    other.mkdir()
    (other / "moon.txt").write_text("The Moon is about 384,000 km from the Earth.")
    Engine(settings, encoder=FakeEncoder()).index([other])
    assert [d["source"] for d in engine.documents()] == [str(other / "moon.txt")]


def test_a_save_that_cannot_be_opened_keeps_questions_answered_and_stops_writes(
    engine: Engine, settings, corpus_dir
):
    from dataclasses import replace

    before = len(engine.documents())
    # another process rebuilds the index with other chunking: this engine cannot use it
    Engine(replace(settings, max_passage_words=20), encoder=FakeEncoder()).index([corpus_dir])
    resp = engine.ask("When was the Eiffel Tower completed?")
    assert resp.answer is not None and resp.answer.text == "1889"
    assert len(engine.documents()) == before
    assert engine.reload_error and "was chunked with" in engine.reload_error
    with pytest.raises(IndexMismatch, match="was chunked with"):  # never written over
        engine.add_documents([_doc(9)])


def test_questions_do_not_wait_for_this_engines_own_write(engine: Engine, settings):
    import threading

    Engine(settings, encoder=FakeEncoder()).add_documents([_doc(5)])  # another save
    answered = threading.Event()
    with engine._write_lock:  # as while this engine embeds a document
        t = threading.Thread(target=lambda: engine.ask("Which tower is red?") and answered.set())
        t.start()
        t.join(10)
        assert answered.is_set()  # answered from the snapshot it had
    assert "note5.txt" in {str(d["source"]) for d in engine.documents()}  # then caught up


def test_writes_to_a_missing_index_create_nothing(settings, fake_encoder):
    e = Engine(settings, encoder=fake_encoder)
    for write in (lambda: e.remove("d0"), lambda: e.add_documents([_doc(1)])):
        with pytest.raises(IndexNotFound):
            write()
    assert not settings.index_dir.exists()


def test_the_python_api_in_three_lines(tmp_path: Path, corpus_dir: Path, monkeypatch) -> None:
    import qa

    monkeypatch.setattr("qa.engine.SentenceEncoder", lambda **kw: FakeEncoder())
    index = str(tmp_path / "idx")  # string paths work wherever a path is taken
    engine = qa.Engine.from_files(str(corpus_dir), index_dir=index, reader_dir=None)
    r = engine.ask("When was the Eiffel Tower completed?")
    assert r.answer is not None and "1889" in r.answer.text
    c = next(c for c in r.citations if c.id == r.answer.passage_id)
    doc = engine.store.documents[c.doc_id]
    assert doc.text[r.answer.start : r.answer.end] == r.answer.text
    reopened = qa.Engine.open(index, reader_dir=None)
    assert reopened.ask("When was the Eiffel Tower completed?").answer == r.answer
    assert isinstance(reopened.settings, qa.Settings) and reopened.settings.index_dir == Path(index)
    with pytest.raises(AttributeError):
        _ = qa.NoSuchName  # type: ignore[attr-defined]


def test_an_index_packed_otherwise_asks_for_a_rebuild(settings, corpus_dir):
    from dataclasses import replace

    Engine(settings, encoder=FakeEncoder()).index([corpus_dir])
    packed = Engine(replace(settings, min_passage_words=60), encoder=FakeEncoder())
    with pytest.raises(IndexMismatch, match="min_passage_words"):
        packed.ask("When was the Eiffel Tower completed?")
