"""``qa index`` streams in batches and resumes after an interruption, into the folder and
into Milvus (milvus-lite): a resumed rebuild equals a fresh one and embeds only what was
left; Milvus readers keep the old generation until the flip."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa.core.config import Settings
from qa.engine import Engine

from ..conftest import FakeEncoder

BATCH = 3  # passages a batch: small, so a dozen files make several batches
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "omicron",
]


class Encoder(FakeEncoder):
    """The fake encoder, counting the texts it embeds; it fails on call ``fail_on``."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.calls: list[int] = []
        self.fail_on = fail_on

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        if self.fail_on is not None and len(self.calls) + 1 == self.fail_on:
            raise KeyboardInterrupt  # as Ctrl-C would, between two batches
        self.calls.append(len(texts))
        return super().encode(texts, batch_size, progress)


def _corpus(root: Path, n: int = 12) -> Path:
    d = root / "corpus"
    d.mkdir()
    for i in range(n):
        w = WORDS[i % len(WORDS)]
        # one passage a file, two for every third (a paragraph break; few words each)
        paras = [f"The {w} report {i} says {w} grew by {i} percent in the year {1990 + i}."]
        if i % 3 == 0:
            paras.append(f"Its {w} appendix {i} lists {i + 2} tables of {w} measurements.")
        (d / f"f{i:02d}.txt").write_text("\n\n".join(paras))
    return d


@pytest.fixture(params=["folder", "milvus"])
def settings_for(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Settings]:
    """Settings of a new index (folder or Milvus) a name: the same name, the same index."""

    def make(name: str) -> Settings:
        # one passage a paragraph (min_passage_words 8), so the batches fall where counted
        s = Settings(
            index_dir=tmp_path / name, reader_dir=None, max_passage_words=30, min_passage_words=8
        )
        if request.param == "milvus":
            uri = request.getfixturevalue("milvus_uri")
            s = replace(s, store=f"{uri}_{name}")
        return s

    return make


def _engine(settings: Settings, encoder: FakeEncoder) -> Engine:
    e = Engine(settings, encoder=encoder)
    e.index_batch = BATCH
    return e


def _same_index(a: Engine, b: Engine) -> None:
    sa, sb = a.store, b.store
    assert sa.documents == sb.documents
    assert sa.passages == sb.passages
    ids = sorted(sa.passages)
    assert np.allclose(sa.vectors(ids), sb.vectors(ids), atol=1e-6)
    for d in sa.documents:
        assert [p.id for p in sa.doc_passages(d)] == [p.id for p in sb.doc_passages(d)]


def test_an_interrupted_rebuild_resumes_and_equals_a_fresh_one(settings_for, tmp_path, caplog):
    d = _corpus(tmp_path)
    s = settings_for("index")
    first = _engine(s, Encoder(fail_on=3))
    with pytest.raises(KeyboardInterrupt), caplog.at_level(logging.INFO, "qa.index.stream"):
        first.index([d])
    assert "run the same command again to resume" in caplog.text
    done = sum(first._encoder.calls)  # type: ignore[union-attr]
    assert done == 2 * BATCH
    again = Encoder()
    with caplog.at_level(logging.INFO, "qa.index.stream"):
        built = _engine(s, again).index([d])
    fresh = _engine(settings_for("fresh"), Encoder())
    fresh.index([d])
    total = len(fresh.store.passages)
    assert sum(again.calls) == total - done  # only what was left is embedded
    assert built.resumed == 4  # 2 batches of 3 passages: f00 (2) and f01, f02 and f03 (2)
    assert "resuming: 4 of 12 files already indexed" in caplog.text
    assert f"read 12 of 12 files: {total - done} passages embedded" in caplog.text
    assert sorted(p.name for p in map(Path, (x.source for x in built.report.added))) == sorted(
        p.name for p in d.iterdir()
    )
    _same_index(_engine(s, Encoder()), fresh)  # reopened from where it was saved


def test_a_changed_file_is_read_again_and_a_vanished_one_dropped(settings_for, tmp_path):
    d = _corpus(tmp_path)
    s = settings_for("index")
    with pytest.raises(KeyboardInterrupt):
        _engine(s, Encoder(fail_on=3)).index([d])
    (d / "f01.txt").write_text("The revised report replaces the earlier figures entirely.")
    (d / "f02.txt").unlink()
    again = Encoder()
    built = _engine(s, again).index([d])
    fresh = _engine(settings_for("fresh"), Encoder())
    fresh.index([d])
    assert built.resumed == 2  # f00 (2 passages) and f03; f01 changed, f02 is gone
    assert sum(again.calls) == len(fresh.store.passages) - 4
    _same_index(_engine(s, Encoder()), fresh)


@pytest.mark.parametrize("change", ["chunking", "restart"])
def test_a_changed_plan_or_restart_starts_from_zero(settings_for, tmp_path, caplog, change):
    d = _corpus(tmp_path)
    s = settings_for("index")
    with pytest.raises(KeyboardInterrupt):
        _engine(s, Encoder(fail_on=3)).index([d])
    again = Encoder()
    with caplog.at_level(logging.INFO, "qa.index.stream"):
        if change == "chunking":
            s = replace(s, max_passage_words=60)
            built = _engine(s, again).index([d])
        else:
            built = _engine(s, again).index([d], restart=True)
    assert built.resumed == 0 and "resuming" not in caplog.text
    assert sum(again.calls) == len(built.store.passages)  # everything embedded again
    notice = "discarding an unfinished rebuild of another embedder, chunking or format"
    assert (notice in caplog.text) == (change == "chunking")


def test_batches_bound_what_is_read_and_embedded_at_once(settings_for, tmp_path, monkeypatch):
    import qa.index.stream as stream

    d = _corpus(tmp_path, n=20)
    reads: list[int] = []
    read = stream.read_or_skip
    monkeypatch.setattr(stream, "read_or_skip", lambda f, seen: reads.append(1) or read(f, seen))
    read_at_call: list[int] = []

    class Watching(Encoder):
        def encode(self, texts, batch_size=32, progress=None):  # type: ignore[override]
            read_at_call.append(len(reads))
            return super().encode(texts, batch_size, progress)

    enc = Watching()
    built = _engine(settings_for("index"), enc).index([d])
    assert max(enc.calls) <= BATCH and sum(enc.calls) == len(built.store.passages)
    # files are read as batches fill, not all before the first is embedded: when batch k
    # is embedded, at most the files of k batches and the one that did not fit are read
    passages_by_file = [2 if i % 3 == 0 else 1 for i in range(20)]
    for k, n in enumerate(read_at_call, 1):
        assert sum(passages_by_file[: n - 1]) <= k * BATCH or n == 20
    assert read_at_call[0] < 20 and len(read_at_call) >= len(built.store.passages) / BATCH


def test_progress_goes_by_bytes_and_moves_while_a_long_file_is_read(tmp_path, monkeypatch):
    """A rebuild's progress counts bytes of files, half for reading a file (a reader's
    `file_part_done` moves it within the file) and half for embedding it: it never goes
    back, ends at the total, and one large file weighs as much as its size."""
    import qa.index.stream as stream
    from qa.core.progress import file_part_done

    d = _corpus(tmp_path, n=4)
    big = d / "f00.txt"
    big.write_text(big.read_text() + "\n\n" + "A long appendix of measurements. " * 300)
    real = stream.read_or_skip

    def slow_read(path: Path, seen: dict[str, str]):  # a reader going through its pages
        for part in (0.25, 0.5, 0.75):
            file_part_done(part)
        return real(path, seen)

    monkeypatch.setattr(stream, "read_or_skip", slow_read)
    seen: list[tuple[int, int]] = []
    s = Settings(index_dir=tmp_path / "i", reader_dir=None, max_passage_words=30)
    _engine(s, Encoder()).index([d], progress=lambda stage, done, total: seen.append((done, total)))
    total = sum(f.stat().st_size for f in d.iterdir())
    assert {t for _, t in seen} == {total}
    done = [x for x, _ in seen]
    assert done == sorted(done) and done[-1] == total and done[0] == 0
    size = big.stat().st_size
    # while the big file (read first) is read: a quarter of its reading half, then more
    assert int(0.5 * size * 0.25) in done and int(0.5 * size * 0.75) in done
    assert size > 0.8 * total and any(0.5 * size <= x < 0.6 * size for x in done)


def test_a_reader_answers_from_the_old_generation_until_the_flip(tmp_path, milvus_uri):
    from qa.index.milvus import MilvusLocation

    old, new = tmp_path / "old", _corpus(tmp_path)
    old.mkdir()
    (old / "o.txt").write_text("The old index holds only this sentence about otters.")
    s = Settings(
        index_dir=tmp_path / "unused", reader_dir=None, store=milvus_uri, min_passage_words=8
    )
    _engine(s, Encoder()).index([old])
    loc = MilvusLocation.parse(milvus_uri)
    before = loc.live_generation()
    reader = Engine(s, encoder=Encoder())
    assert len(reader.store.documents) == 1
    seen: list[tuple[int, int, bool]] = []

    def progress(stage: str, done: int, total: int) -> None:
        # during the rebuild: readers (one opened before, one now) see the old generation
        late = Engine(s, encoder=Encoder())
        seen.append((len(reader.store.documents), len(late.store.documents), done < total))

    _engine(s, Encoder()).index([new], progress=progress, replace=True)
    assert seen and all(r == 1 and late == 1 for r, late, _ in seen)
    assert any(running for _, _, running in seen)
    assert len(reader.store.documents) == 12  # after the flip: the next question reloads
    after = loc.live_generation()
    assert after != before
    names = set(loc.client.list_collections())
    assert set(loc.collections(after)) <= names
    assert not set(loc.collections(before or "")) & names  # the old generation is dropped
    assert not [n for n in names if n.startswith(loc.name + "_g") and after not in n]


def test_a_half_written_milvus_batch_is_cleared_on_resume(tmp_path, milvus_uri, monkeypatch):
    from qa.index.milvus import MilvusLocation
    from qa.index.milvus_stage import MilvusStaging

    d = _corpus(tmp_path)
    s = Settings(
        index_dir=tmp_path / "unused", reader_dir=None, store=milvus_uri, min_passage_words=8
    )
    put = MilvusStaging._put

    def crash_before_done(self, key, value):  # rows in, journal not: replaced, not doubled
        if key == "stage/00000002" and value.get("state") == "done":
            raise KeyboardInterrupt
        put(self, key, value)

    monkeypatch.setattr(MilvusStaging, "_put", crash_before_done)
    with pytest.raises(KeyboardInterrupt):
        _engine(s, Encoder()).index([d])
    monkeypatch.setattr(MilvusStaging, "_put", put)
    again = Encoder()
    built = _engine(s, again).index([d])
    assert built.resumed == 2 and sum(again.calls) == len(built.store.passages) - BATCH
    loc = MilvusLocation.parse(milvus_uri)
    rows = loc.client.query(
        loc.collections(loc.live_generation() or "")[0], filter="", output_fields=["count(*)"]
    )
    assert rows[0]["count(*)"] == len(built.store.passages)  # no row twice
    fresh = _engine(replace(s, store=milvus_uri + "_fresh"), Encoder())
    fresh.index([d])
    _same_index(Engine(s, encoder=Encoder()), fresh)


def test_an_index_saved_before_generations_opens_and_moves_on_rebuild(tmp_path, milvus_uri):
    import json

    from qa.index.milvus import MilvusLocation
    from qa.index.milvus_store import MilvusStore

    d = _corpus(tmp_path)
    s = Settings(
        index_dir=tmp_path / "unused", reader_dir=None, store=milvus_uri, min_passage_words=8
    )
    e = _engine(s, Encoder())
    loc = MilvusLocation.parse(milvus_uri)
    legacy = MilvusStore(e.spec, loc, fresh=True, generation="")  # <name>, <name>_documents
    fresh = _engine(replace(s, store=milvus_uri + "_src"), Encoder())
    fresh.index([d])
    for doc_id, document in fresh.store.documents.items():
        ps = fresh.store.doc_passages(doc_id)
        legacy.add(document, ps, fresh.store.vectors([p.id for p in ps]))
    legacy.flush()
    meta = loc.read_meta()
    assert meta is not None
    meta.pop("generation")  # as a qa before generations wrote it
    row = {"key": "index", "value": json.dumps(meta), "v": [0.0, 0.0]}
    loc.client.upsert(loc.names[2], [row])
    _same_index(Engine(s, encoder=Encoder()), fresh)
    e.index([d])
    assert loc.live_generation()
    assert not loc.client.has_collection(loc.name)  # the old layout's collections are gone
    _same_index(Engine(s, encoder=Encoder()), fresh)


def test_a_torn_journal_line_and_an_unjournaled_batch_are_redone(tmp_path):
    d = _corpus(tmp_path)
    s = Settings(
        index_dir=tmp_path / "index", reader_dir=None, max_passage_words=30, min_passage_words=8
    )
    with pytest.raises(KeyboardInterrupt):
        _engine(s, Encoder(fail_on=4)).index([d])
    staging = s.index_dir / ".staging"
    journal = (staging / "journal.jsonl").read_bytes().splitlines(keepends=True)
    assert len(journal) == 3
    (staging / "journal.jsonl").write_bytes(b"".join(journal[:2]) + journal[2][:25])  # torn
    with pytest.raises(KeyboardInterrupt):  # the third batch is redone, then interrupted
        _engine(s, Encoder(fail_on=2)).index([d])
    again = Encoder()
    built = _engine(s, again).index([d])
    assert built.resumed == 6  # f00 to f05: the torn line was cut, the redone one kept
    fresh = _engine(replace(s, index_dir=tmp_path / "fresh"), Encoder())
    fresh.index([d])
    assert sum(again.calls) == len(fresh.store.passages) - 3 * BATCH + 1
    _same_index(_engine(s, Encoder()), fresh)
    assert not staging.exists()


def test_documents_from_elsewhere_are_kept_through_a_resumed_rebuild(settings_for, tmp_path):
    d = _corpus(tmp_path)
    s = settings_for("index")
    e = _engine(s, Encoder())
    e.index([d])
    note, _ = e.add_text("Sent through the API: the kiln fires pots at 1200 degrees.", "api")
    with pytest.raises(KeyboardInterrupt):
        _engine(s, Encoder(fail_on=3)).index([d])
    built = _engine(s, Encoder()).index([d])
    assert [x.source for x in built.kept] == ["api"] and not built.dropped
    assert note.id in _engine(s, Encoder()).store.documents
    gone = _engine(s, Encoder()).index([d], replace=True)
    assert [x.source for x in gone.dropped] == ["api"] and not gone.kept
    assert note.id not in _engine(s, Encoder()).store.documents


def test_qa_index_resumes_and_restart_starts_over(tmp_path, monkeypatch, caplog):
    from typer.testing import CliRunner

    import qa.cli.commands as cli

    d = _corpus(tmp_path)
    s = Settings(
        index_dir=tmp_path / "index", reader_dir=None, max_passage_words=30, min_passage_words=8
    )
    with pytest.raises(KeyboardInterrupt):
        _engine(s, Encoder(fail_on=3)).index([d])
    monkeypatch.setattr(cli, "_engine", lambda index, store=None: _engine(s, Encoder()))
    with caplog.at_level(logging.INFO, "qa.index.stream"):
        r = CliRunner().invoke(cli.app, ["index", str(d), "--restart"])
    assert r.exit_code == 0, r.output
    assert "indexed 12 documents" in r.output and "resuming" not in caplog.text
    with pytest.raises(KeyboardInterrupt):
        _engine(s, Encoder(fail_on=3)).index([d])
    with caplog.at_level(logging.INFO, "qa.index.stream"):
        r = CliRunner().invoke(cli.app, ["index", str(d)])
    assert r.exit_code == 0 and "resuming: 4 of 12 files already indexed" in caplog.text
