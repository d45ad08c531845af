"""End to end with the real all-MiniLM-L6-v2 embedder over the seed article (slow)."""

from pathlib import Path

import pytest

from qa.core.config import Settings
from qa.core.errors import BadInput
from qa.engine import Engine

from .conftest import SEED_DIR


@pytest.fixture(scope="session")
def seed_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    path: Path = tmp_path_factory.mktemp("seed") / "index"
    engine = Engine(Settings(index_dir=path, reader_dir=None))
    engine.index([SEED_DIR])
    return engine


@pytest.mark.slow
def test_real_embedder_finds_the_passage_and_answers(seed_engine: Engine):
    resp = seed_engine.ask("Who is the Kremlin's top foreign policy aide?", k=3)
    assert resp.answer is not None
    assert "Yury Ushakov" in resp.citations[resp.answer_citation - 1].text
    doc = seed_engine.store.documents[resp.answer.doc_id]
    assert doc.text[resp.answer.start : resp.answer.end] == resp.answer.text
    assert (SEED_DIR / Path(doc.source).name).read_text(encoding="utf-8") == doc.text


@pytest.mark.slow
def test_real_embedder_vectors_are_normalised_and_deterministic(seed_engine: Engine):
    import numpy as np

    a = seed_engine.encoder.encode(["Witkoff will visit Moscow."])
    b = seed_engine.encoder.encode(["Witkoff will visit Moscow."])
    assert a.shape == (1, 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, b)


@pytest.mark.slow
def test_onnx_and_torch_embedders_give_the_same_vectors() -> None:
    import numpy as np

    from qa.index.embed import SentenceEncoder

    texts = [
        "Who is the Kremlin's top foreign policy aide?",
        "",
        "Ünïcödé café 東京 — “quoted” text. " * 120,  # longer than the 256-token limit
        "A short passage about the 1815 Congress of Vienna.",
    ]
    onnx = SentenceEncoder(backend="onnx").encode(texts, batch_size=3)
    torch = SentenceEncoder(backend="torch").encode(texts, batch_size=3)
    assert onnx.shape == torch.shape == (4, 384)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    assert np.abs(onnx - torch).max() < 1e-4
    with pytest.raises(BadInput, match="'onnx' or 'torch'"):
        SentenceEncoder(backend="tensorflow")
