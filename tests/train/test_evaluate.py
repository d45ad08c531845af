"""Evaluation bookkeeping with scripted readers and a scripted engine (no model weights)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.core.config import Settings
from qa.core.errors import BadInput
from qa.core.types import Answer, Document, Hit, Passage, Response
from qa.train.evaluate import calibrate_reader, documents, evaluate, gold_hit, select


def write_file(path: Path) -> None:
    ctx1 = "Paris is the capital of France."
    ctx2 = "The Nile flows north into the Mediterranean."
    data = {
        "data": [
            {
                "title": "T",
                "paragraphs": [
                    {
                        "context": ctx1,
                        "qas": [
                            {
                                "id": "1",
                                "question": "What is the capital of France?",
                                "answers": [{"text": "Paris", "answer_start": 0}],
                            },
                            {
                                "id": "2",
                                "question": "What is France?",
                                "answers": [{"text": "a country", "answer_start": 0}],
                            },
                            {
                                "id": "3",
                                "question": "Who rules France?",
                                "answers": [],
                                "is_impossible": True,
                            },
                        ],
                    },
                    {
                        "context": ctx2,
                        "qas": [
                            {
                                "id": "4",
                                "question": "Where does the Nile flow?",
                                "answers": [{"text": "north", "answer_start": ctx2.index("north")}],
                            },
                        ],
                    },
                ],
            }
        ]
    }
    path.write_text(json.dumps(data))


class Scripted:
    """Answers with a fixed word of the passage per question (None = abstain)."""

    def __init__(self, words: dict[str, str | None]) -> None:
        self.words = words
        self.calls: list[list[Hit]] = []

    def read(self, question: str, hits: list[Hit]) -> Answer | None:
        self.calls.append(hits)
        w = self.words.get(question)
        if w is None:
            return None
        p = hits[0].passage
        i = p.text.index(w)
        return Answer(w, 0.9, p.doc_id, p.start + i, p.start + i + len(w), p.id)


def test_closed_mode_scores(tmp_path: Path) -> None:
    f = tmp_path / "d.json"
    write_file(f)
    r = Scripted(
        {
            "What is the capital of France?": "Paris",
            "What is France?": "capital of France",  # F1 with "a country": 0
            "Who rules France?": None,
            "Where does the Nile flow?": "flows north",
        }
    )  # F1 2/3
    res = evaluate(f, r, progress=False)
    assert res["n"] == 4 and res["mode"] == "closed"
    assert res["em"] == pytest.approx(100 * 2 / 4)
    assert res["f1"] == pytest.approx(100 * (1 + 0 + 1 + 2 / 3) / 4)
    assert res["noans_precision"] == 100.0 and res["noans_recall"] == 100.0
    assert res["n_impossible"] == 1
    # closed mode: exactly one hit, the whole gold paragraph
    assert all(len(h) == 1 and h[0].passage.start == 0 for h in r.calls)
    assert r.calls[0][0].passage.text == "Paris is the capital of France."
    assert select(f, limit=2) == select(f, limit=2) and len(select(f, limit=2)) == 2


def test_open_mode_recall_and_mrr(tmp_path: Path) -> None:
    f = tmp_path / "d.json"
    write_file(f)
    docs = documents(f)
    assert [d.source for d in docs] == ["T#0", "T#1"]

    class Engine:
        settings = Settings(top_k=2)

        def retrieve(self, q: str, k: int) -> list[Hit]:
            order = docs if "France" in q else docs[::-1]
            if "rules" in q:  # gold second
                order = docs[::-1]
            return [Hit(Passage.make(d, 0, len(d.text)), 1.0) for d in order][:k]

        def ask(self, q: str, k: int | None = None) -> Response:
            hits = self.retrieve(q, k or 2)
            return Response(q, reader.read(q, hits[:1]), [])

    reader = Scripted(
        {"What is the capital of France?": "Paris", "Where does the Nile flow?": "north"}
    )
    res = evaluate(f, reader, mode="open", engine=Engine(), progress=False)
    assert res["recall@1"] == pytest.approx(75.0)
    assert res["recall@3"] == pytest.approx(100.0)
    assert res["mrr@10"] == pytest.approx((1 + 1 + 0.5 + 1) / 4)
    assert res["em"] == pytest.approx(100 * 3 / 4)  # two right + the abstention
    assert res["k"] == 2  # the engine's setting
    assert evaluate(f, reader, mode="open", engine=Engine(), k=1, progress=False)["k"] == 1


def test_open_mode_retrieves_over_another_files_paragraphs_with_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa import engine as engine_mod

    f = tmp_path / "d.json"
    write_file(f)
    pool = tmp_path / "pool.json"
    data = json.loads(f.read_text())
    data["data"].append({"title": "U", "paragraphs": [{"context": "Bees make honey.", "qas": []}]})
    pool.write_text(json.dumps(data))
    built: list[list[str]] = []
    reader = Scripted({})

    class Engine:
        settings = Settings(top_k=1)

        def retrieve(self, q: str, k: int) -> list[Hit]:
            return []

        def ask(self, q: str, k: int | None = None) -> Response:
            return Response(q, None, [])

    def in_memory(docs: list, reader: object = None) -> Engine:
        built.append([d.source for d in docs])
        return Engine()

    monkeypatch.setattr(engine_mod.Engine, "in_memory", staticmethod(in_memory))
    evaluate(f, reader, mode="open", progress=False)
    evaluate(f, reader, mode="open", corpus=pool, progress=False)
    assert built == [["T#0", "T#1"], ["T#0", "T#1", "U#0"]]
    with pytest.raises(BadInput, match="open mode"):
        evaluate(f, reader, mode="closed", corpus=pool, progress=False)
    other = tmp_path / "other.json"  # a corpus without the questions' paragraphs
    other.write_text(json.dumps({"data": data["data"][-1:]}))
    with pytest.raises(BadInput, match="4 of the 4 questions' paragraphs are not in"):
        evaluate(f, reader, mode="open", corpus=other, progress=False)


def test_calibrate_reader_writes_threshold(tmp_path: Path) -> None:
    f = tmp_path / "d.json"
    write_file(f)
    examples = select(f)
    margins = {"1": 3.0, "2": 1.0, "3": -2.0, "4": 0.5}

    class R:
        model_dir = tmp_path
        null_threshold = None

        def propose(self, q: str, hits: list[Hit]):
            ex = next(e for e in examples if e.question == q)
            p = hits[0].passage
            word = ex.answers[0][0] if ex.answers else "France"
            i = max(0, p.text.find(word))
            a = Answer(p.text[i : i + len(word)], 0.5, p.doc_id, i, i + len(word), p.id)
            return a, margins[ex.id]

    r = R()
    res = calibrate_reader(r, examples, progress=False)
    assert -2.0 < res["null_threshold"] < 0.5
    assert r.null_threshold == res["null_threshold"]
    stored = json.loads((tmp_path / "qa_reader.json").read_text())
    assert stored["null_threshold"] == r.null_threshold


def test_gold_hit_covers_the_paragraph() -> None:
    from qa.train.squad import Example

    ex = Example("x", "Title", "Some context.", "q?", (("context", 5),), 3)
    h = gold_hit(ex)
    doc = Document.from_text("Some context.", source="Title#3", title="Title")
    assert h.passage.doc_id == doc.id and h.passage.text == ex.context


def test_batched_closed_mode_matches_single(tmp_path: Path) -> None:
    f = tmp_path / "d.json"
    write_file(f)
    words = {"What is the capital of France?": "Paris", "Where does the Nile flow?": "Nile"}

    class Batched(Scripted):
        def __init__(self) -> None:
            super().__init__(words)
            self.batches: list[int] = []

        def read_many(self, items, batch_size=16):
            self.batches.append(len(items))
            return [self.read(q, h) for q, h in items]

    single = evaluate(f, Scripted(words), progress=False)
    r = Batched()
    batched = evaluate(f, r, batch_size=2, latency_n=1, progress=False)
    assert r.batches == [4]
    for key in ("em", "f1", "n", "noans_precision", "noans_recall"):
        assert batched[key] == single[key]
