"""Reader evaluation on SQuAD files (closed book: the gold paragraph; open: retrieval).

Scores are the official SQuAD EM/F1 (0–100). On ``squad-v1.1-dev.json`` only the 32
evaluation articles are used unless ``eval_split=False`` (see ``qa.train.squad``).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.core.errors import BadInput
from qa.core.types import Document, Hit, Passage
from qa.train import squad
from qa.train.latency import percentile


def gold_hit(ex: squad.Example) -> Hit:
    """The closed-book input: one hit whose passage is the whole gold paragraph."""
    doc = Document.from_text(ex.context, source=f"{ex.title}#{ex.paragraph_index}", title=ex.title)
    return Hit(passage=Passage.make(doc, 0, len(doc.text)), score=1.0)


def select(
    file: str | Path, *, limit: int | None = None, eval_split: bool = True
) -> list[squad.Example]:
    """The questions to evaluate: the eval articles of v1.1 dev, else the whole file.

    ``limit`` takes a fixed random sample (seed 0), kept in file order.
    """
    path = Path(file)
    if eval_split and path.name == squad.V1_DEV:
        data_dir = path.parent if (path.parent / squad.V2_HALF).exists() else squad.DATA_DIR
        examples = squad.load(path, titles=squad.eval_titles(data_dir))
    else:
        examples = squad.load(path)
    if limit is not None and limit < len(examples):
        keep = sorted(random.Random(0).sample(range(len(examples)), limit))
        examples = [examples[i] for i in keep]
    return examples


def documents(file: str | Path) -> list[Document]:
    """Every paragraph of ``file`` as one document (``source`` is ``title#index``)."""
    data = json.loads(Path(file).read_text(encoding="utf-8"))["data"]
    return [
        Document.from_text(
            p["context"], source=f"{a.get('title', '')}#{i}", title=a.get("title", "")
        )
        for a in data
        for i, p in enumerate(a["paragraphs"])
    ]


def evaluate(
    file: str | Path,
    reader: Any,
    mode: str = "closed",
    limit: int | None = None,
    engine: Any = None,
    *,
    eval_split: bool = True,
    k: int | None = None,
    progress: bool = True,
    batch_size: int = 1,
    latency_n: int = 200,
    corpus: str | Path | None = None,
    store: str | None = None,
) -> dict[str, Any]:
    """EM/F1 of ``reader`` on ``file``; returns a flat dict of metrics.

    Keys: ``em``, ``f1`` (0–100), ``n``, ``mode``, ``latency_p50_ms``/``p95`` (the reader in
    closed mode, ``engine.ask`` in open mode); ``noans_precision``/``noans_recall`` when
    the file has unanswerable questions; in open mode ``recall@1/3/5/10`` and ``mrr@10``
    (a hit counts when its document is the gold paragraph) and ``k``. Open mode builds
    ``Engine.in_memory`` over every paragraph of ``corpus`` (default: the file itself)
    unless ``engine`` is given, or over the index at ``store`` (`qa.train.eval_store`);
    ``k`` is the number of passages the engine reads (default: its setting). Closed
    mode with ``batch_size`` > 1 and a reader offering ``read_many`` reads questions in
    batches; latency then comes from ``latency_n`` separate single-question reads.
    """
    if mode not in ("closed", "open"):
        raise ValueError("mode must be 'closed' or 'open'")
    if corpus is not None and (mode != "open" or engine is not None):
        raise BadInput("a corpus is what open mode's own engine retrieves from (--mode open)")
    if store and (mode != "open" or engine is not None):
        raise BadInput("--store is where open mode's engine retrieves from (--mode open)")
    if limit is not None and limit < 1:
        raise BadInput(f"--limit must be at least 1, not {limit}")
    examples = select(file, limit=limit, eval_split=eval_split)
    if not examples:
        raise BadInput(f"{file} has no questions to evaluate (after the evaluation split)")
    if mode == "open" and engine is None:
        engine = open_engine(file, examples, reader, corpus, store)
    if hasattr(reader, "load"):
        reader.load()
    if mode == "open":
        answers, lat, ranks = read_open(engine, examples, k, progress=progress)
    elif batch_size > 1 and hasattr(reader, "read_many"):
        answers, lat = read_closed_batched(
            reader, examples, batch_size, latency_n, progress=progress
        )
    else:
        answers, lat = read_closed(reader, examples, progress=progress)
    out = score_answers(examples, answers, lat, mode=mode, file=file)
    if mode == "open":
        out.update(retrieval_scores(ranks, len(examples), engine, k))
    return out


def open_engine(
    file: str | Path,
    examples: Sequence[squad.Example],
    reader: Any,
    corpus: str | Path | None,
    store: str | None = None,
) -> Any:
    """An in-memory engine over every paragraph of ``corpus`` (default: ``file``), which
    must hold every question's paragraph; with ``store``, the engine over that index."""
    from qa.engine import Engine

    docs = documents(corpus or file)
    if corpus is not None:
        have = {d.id for d in docs}
        missing = sum(
            Document.from_text(ex.context, source="", title="").id not in have for ex in examples
        )
        if missing:
            raise BadInput(
                f"{missing} of the {len(examples)} questions' paragraphs are not in "
                f"{corpus}: retrieval could never find them; name a corpus that holds "
                f"{Path(file).name}'s paragraphs"
            )
    if store:
        from qa.train.eval_store import store_engine

        return store_engine(store, docs, examples, reader, corpus_named=corpus is not None)
    return Engine.in_memory(docs, reader=reader)


def read_closed(
    reader: Any, examples: Sequence[squad.Example], *, progress: bool = True
) -> tuple[list[Any], list[float]]:
    """Closed book, one question at a time over its gold paragraph: the answers and each
    read's milliseconds."""
    from tqdm import tqdm

    answers: list[Any] = []
    lat: list[float] = []
    bar = tqdm(examples, desc="eval closed", file=sys.stderr, mininterval=5, disable=not progress)
    for ex in bar:
        t0 = time.perf_counter()
        answers.append(reader.read(ex.question, [gold_hit(ex)]))
        lat.append((time.perf_counter() - t0) * 1000)
    return answers, lat


def read_closed_batched(
    reader: Any,
    examples: Sequence[squad.Example],
    batch_size: int,
    latency_n: int,
    *,
    progress: bool = True,
) -> tuple[list[Any], list[float]]:
    """Closed book, ``batch_size`` questions per forward pass (``reader.read_many``); the
    latencies come from the first ``latency_n`` questions read again one at a time."""
    from tqdm import tqdm

    answers: list[Any] = []
    for lo in tqdm(
        range(0, len(examples), batch_size * 8),
        desc="eval closed (batched)",
        disable=not progress,
        file=sys.stderr,
        mininterval=5,
    ):
        part = examples[lo : lo + batch_size * 8]
        answers += reader.read_many(
            [(ex.question, [gold_hit(ex)]) for ex in part], batch_size=batch_size
        )
    lat: list[float] = []
    for ex in examples[:latency_n]:
        t0 = time.perf_counter()
        reader.read(ex.question, [gold_hit(ex)])
        lat.append((time.perf_counter() - t0) * 1000)
    return answers, lat


def read_open(
    engine: Any, examples: Sequence[squad.Example], k: int | None, *, progress: bool = True
) -> tuple[list[Any], list[float], list[int | None]]:
    """Open book, ``engine.ask`` with ``k`` passages: the answers, each ask's milliseconds,
    and the rank of the gold paragraph in the top 10 retrieved (None: not there)."""
    from tqdm import tqdm

    answers: list[Any] = []
    lat: list[float] = []
    ranks: list[int | None] = []
    bar = tqdm(examples, desc="eval open", file=sys.stderr, mininterval=5, disable=not progress)
    for ex in bar:
        gold_doc = Document.from_text(ex.context, source="", title="").id
        retrieved = engine.retrieve(ex.question, 10)
        ranks.append(
            next((r for r, h in enumerate(retrieved, 1) if h.passage.doc_id == gold_doc), None)
        )
        t0 = time.perf_counter()
        answers.append(engine.ask(ex.question, k).answer)
        lat.append((time.perf_counter() - t0) * 1000)
    return answers, lat, ranks


def score_answers(
    examples: Sequence[squad.Example],
    answers: Sequence[Any],
    lat: Sequence[float],
    *,
    mode: str,
    file: str | Path,
) -> dict[str, Any]:
    """EM/F1, latency and abstentions of ``answers`` (None: abstained), and no-answer
    precision/recall when some questions are unanswerable."""
    ems: list[float] = []
    f1s: list[float] = []
    abstained: list[bool] = []
    for ex, ans in zip(examples, answers, strict=True):
        pred = ans.text if ans is not None else None
        em, f1 = squad.score(pred, [a for a, _ in ex.answers])
        ems.append(em)
        f1s.append(f1)
        abstained.append(pred is None)
    n = len(examples)
    out: dict[str, Any] = {
        "em": 100.0 * sum(ems) / max(1, n),
        "f1": 100.0 * sum(f1s) / max(1, n),
        "n": n,
        "mode": mode,
        "file": Path(file).name,
        "latency_p50_ms": percentile(lat, 50),
        "latency_p95_ms": percentile(lat, 95),
        "latency_mean_ms": statistics.fmean(lat) if lat else 0.0,
        "abstained": sum(abstained),
    }
    impossible = [ex.is_impossible for ex in examples]
    if any(impossible):
        tp = sum(1 for a, i in zip(abstained, impossible, strict=True) if a and i)
        out["n_impossible"] = sum(impossible)
        out["noans_precision"] = 100.0 * tp / max(1, sum(abstained))
        out["noans_recall"] = 100.0 * tp / sum(impossible)
        has = [i for i, imp in enumerate(impossible) if not imp]
        out["has_ans_f1"] = 100.0 * sum(f1s[i] for i in has) / max(1, len(has))
    return out


def retrieval_scores(
    ranks: Sequence[int | None], n: int, engine: Any, k: int | None
) -> dict[str, Any]:
    """Open mode's retrieval figures: passages read, recall at 1/3/5/10 and MRR@10."""
    out: dict[str, Any] = {
        "k": k or engine.settings.top_k,  # passages retrieved per question
        "read_floor": engine.settings.read_floor,
    }
    for cut in (1, 3, 5, 10):
        out[f"recall@{cut}"] = 100.0 * sum(1 for r in ranks if r and r <= cut) / max(1, n)
    out["mrr@10"] = sum(1.0 / r for r in ranks if r) / max(1, n)
    return out


def calibrate_reader(
    reader: Any,
    examples: Sequence[squad.Example],
    *,
    answerable_weight: float = 1.0,
    write: bool = True,
    progress: bool = True,
) -> dict[str, float]:
    """Calibrate ``reader.null_threshold`` on held-out questions (closed book).

    Picks the span-vs-null margin threshold that maximises F1 over ``examples`` (which
    must include unanswerable ones; each answerable one counts ``answerable_weight``
    times), sets it on the reader and, with ``write``, stores it with its precision and
    recall in the model folder's ``qa_reader.json``.
    """
    from tqdm import tqdm

    from qa.read.meta import update_meta
    from qa.train.calibrate import fit_null_threshold

    margins: list[float] = []
    f1_if: list[float] = []
    impossible: list[bool] = []
    if hasattr(reader, "propose_many"):
        found_all = reader.propose_many([(ex.question, [gold_hit(ex)]) for ex in examples])
    else:
        found_all = [
            reader.propose(ex.question, [gold_hit(ex)])
            for ex in tqdm(
                examples, desc="calibrate", disable=not progress, file=sys.stderr, mininterval=5
            )
        ]
    for ex, found in zip(examples, found_all, strict=True):
        if found is None:
            margins.append(float("-inf"))
            f1_if.append(0.0)
        else:
            ans, margin = found[0], found[1]
            margins.append(margin)
            f1_if.append(
                squad.score(ans.text, [a for a, _ in ex.answers])[1] if ex.answers else 0.0
            )
        impossible.append(ex.is_impossible)
    res = fit_null_threshold(margins, f1_if, impossible, answerable_weight)
    res["f1_answer_all"] = (
        100.0
        * sum(f for f, imp in zip(f1_if, impossible, strict=True) if not imp)
        / max(1, len(margins))
    )
    reader.null_threshold = res["null_threshold"]
    calibration = {
        "articles": sorted({ex.title for ex in examples}),
        "questions": len(examples),
        "unanswerable": sum(impossible),
        "answerable_weight": answerable_weight,
        **{k: round(v, 3) for k, v in res.items() if k != "null_threshold"},
    }
    if write:
        update_meta(
            reader.model_dir,
            lambda m: m.update(null_threshold=res["null_threshold"], calibration=calibration),
        )
    return res


LENGTH_PENALTIES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0)


def tune_length_penalty(
    reader: Any,
    examples: Sequence[squad.Example],
    *,
    penalties: Sequence[float] = LENGTH_PENALTIES,
    write: bool = True,
    batch_size: int = 16,
) -> dict[str, Any]:
    """Choose ``reader.length_penalty`` on held-out questions read closed-book.

    Each answerable question of ``examples`` is read once over its gold paragraph, always
    answering; every penalty re-scores the same spans. The F1-best penalty (the smallest
    on a tie) is set on the reader and, with ``write``, stored in ``qa_reader.json``.
    """
    from qa.read.decide import choose, rescore

    examples = [ex for ex in examples if ex.answers]
    if not examples:
        raise ValueError("length tuning needs answerable questions")
    reader.load()
    read = []
    for lo in range(0, len(examples), batch_size):
        part = examples[lo : lo + batch_size]
        items = [(ex.question, [gold_hit(ex)]) for ex in part]
        for ex, (_, hits), cands in zip(part, items, reader.candidates_many(items), strict=True):
            read.append((ex, hits, cands))

    def answer(lp: float, hits: Sequence[Hit], cands: Any) -> str | None:
        found = choose(rescore(cands, hits, 0.0, lp), hits)
        return found.answer.text if found else None

    table, best = _grid(read, penalties, answer)
    res = {
        "length_penalty": best,
        "articles": sorted({ex.title for ex in examples}),
        "questions": len(examples),
        "by_penalty": table,
    }
    _keep(reader, "length_penalty", res, "length_tuning", write)
    return res


def _grid(
    read: Sequence[tuple[squad.Example, Sequence[Hit], Any]],
    values: Sequence[float],
    answer: Any,
) -> tuple[dict[str, dict[str, float]], float]:
    """EM/F1 over ``read`` for each value (``answer(value, hits, candidates)`` gives the
    answer text); returns the table and the F1-best value, the smallest on a tie."""
    table: dict[str, dict[str, float]] = {}
    for v in values:
        ems = f1s = 0.0
        for ex, hits, cands in read:
            em, f1 = squad.score(answer(v, hits, cands), [a for a, _ in ex.answers])
            ems, f1s = ems + em, f1s + f1
        n = len(read)
        table[f"{v:g}"] = {"em": round(100 * ems / n, 2), "f1": round(100 * f1s / n, 2)}
    return table, float(max(values, key=lambda v: (table[f"{v:g}"]["f1"], -v)))


def _keep(reader: Any, name: str, res: dict[str, Any], record: str, write: bool) -> None:
    """Set ``reader.<name>`` to ``res[name]``; with ``write``, store it and the rest of
    ``res`` (under ``record``) in the model folder's ``qa_reader.json``."""
    from qa.read.meta import update_meta

    setattr(reader, name, res[name])
    if write:
        rest = {k: v for k, v in res.items() if k != name}
        update_meta(reader.model_dir, lambda m: m.update({name: res[name], record: rest}))


RETRIEVAL_WEIGHTS = (0.0, 1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0)


def tune_retrieval_weight(
    reader: Any,
    file: str | Path | None = None,
    *,
    k: int = 3,
    weights: Sequence[float] = RETRIEVAL_WEIGHTS,
    engine: Any = None,
    write: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Choose ``reader.retrieval_weight`` on held-out questions read in the open setting.

    Questions: the answerable questions of the held-out articles (``squad.HELDOUT_TITLES``,
    never trained or evaluated on) in v1.1 dev; passages: every paragraph of that file, so
    the evaluation articles stand as distractors. Each question's top ``k`` passages are
    read once; every weight re-scores the same spans. The F1-best weight (the smallest on
    a tie) is set on the reader and, with ``write``, stored in ``qa_reader.json``. The
    reader's ``length_penalty`` applies throughout (tune it first).
    """
    from tqdm import tqdm

    from qa.read.decide import choose, gate_null_margin, rescore

    path = Path(file) if file is not None else squad.DATA_DIR / squad.V1_DEV
    examples = [ex for ex in squad.load(path, titles=sorted(squad.HELDOUT_TITLES)) if ex.answers]
    if not examples:
        raise ValueError(f"{path} has no answerable questions of the held-out articles")
    if engine is None:
        from qa.engine import Engine

        engine = Engine.in_memory(documents(path), reader=reader)
    reader.load()
    read = []
    for ex in tqdm(examples, desc="read", disable=not progress, file=sys.stderr, mininterval=5):
        hits = engine.retrieve(ex.question, k)
        read.append((ex, hits, reader.candidates(ex.question, hits)))

    def answer(w: float, hits: Sequence[Hit], cands: Any) -> str | None:
        found = choose(rescore(cands, hits, w, reader.length_penalty), hits)
        ans = gate_null_margin(found, reader.null_threshold)
        return ans.text if ans else None

    table, best = _grid(read, weights, answer)
    res = {
        "retrieval_weight": best,
        "articles": sorted({ex.title for ex in examples}),
        "questions": len(examples),
        "k": k,
        "by_weight": table,
    }
    _keep(reader, "retrieval_weight", res, "retrieval_tuning", write)
    return res
