"""data/doctune/reader-train.json: the questions of data/doctune's reader-training files,
each on the passage that holds its answer; the calibrator leaves those files out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qa.read.meta import read_meta
from scripts import doctune_reader_train as split

ROOT = Path(__file__).resolve().parents[1]


def _examples() -> list[tuple[str, dict[str, Any], str]]:
    data = json.loads(split.OUT.read_text(encoding="utf-8"))
    return [
        (art["title"], qa, para["context"])
        for art in data["data"]
        for para in art["paragraphs"]
        for qa in para["qas"]
    ]


def test_every_training_question_is_a_reader_file_question_with_its_span() -> None:
    asked = {q["id"]: q for q in split.questions()}
    examples = _examples()
    assert len(examples) >= 150
    for title, qa, context in examples:
        q = asked[qa["id"]]
        assert Path(q["file"]).name in split.READER_FILES, qa["id"]
        assert title == f"doctune:{q['file']}" and qa["question"] == q["question"]
        (answer,) = qa["answers"]
        assert answer["text"] in q["answers"], qa["id"]
        at = answer["answer_start"]
        assert context[at : at + len(answer["text"])] == answer["text"], qa["id"]


def test_the_split_leaves_files_to_tune_on() -> None:
    files = {Path(q["file"]).name for q in split.questions()}
    assert files > split.READER_FILES
    kept = [q for q in split.questions() if Path(q["file"]).name not in split.READER_FILES]
    assert len(kept) >= 100 and any(not q["answers"] for q in kept)


def test_trained_ids_reads_the_gold_files_a_reader_names(tmp_path: Path) -> None:
    squad = {"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [{"id": "x-1"}]}]}]}
    path = tmp_path / "g.json"
    path.write_text(json.dumps(squad))
    assert split.trained_ids([str(path), str(tmp_path / "gone.json")]) == {"x-1"}


def test_the_shipped_reader_trained_on_the_split() -> None:
    """What scripts/fit_calibrator.py leaves out is what the shipped reader learned."""
    gold = read_meta(ROOT / "qa" / "models" / "reader")["training"]["gold_files"]
    assert "data/doctune/reader-train.json" in gold
    assert split.trained_ids(gold) >= {qa["id"] for _, qa, _ in _examples()}


@pytest.mark.slow
def test_the_file_is_what_the_script_makes() -> None:
    assert split.main(["--check"]) == 0


def test_untrained_questions_leave_out_every_trained_on_file() -> None:
    kept = split.untrained_questions(ROOT / "qa" / "models" / "reader")
    assert kept and not {Path(q["file"]).name for q in kept} & split.READER_FILES
    everything = split.untrained_questions(ROOT / "no-reader-here")  # no training record
    assert len(everything) == len(split.questions())
