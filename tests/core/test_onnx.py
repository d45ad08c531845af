import hashlib
import os
from pathlib import Path

import pytest

from qa.core import onnx as onnx_models


def test_weights_digest_is_remembered_until_the_file_changes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    model = tmp_path / "model"
    model.mkdir()
    w = model / "model.safetensors"
    w.write_bytes(b"first weights")
    first = onnx_models.weights_digest(model)
    assert first == hashlib.sha256(b"first weights").hexdigest()[:16]
    assert (tmp_path / "cache" / "digests.json").is_file()

    calls = []
    real = hashlib.sha256
    monkeypatch.setattr(hashlib, "sha256", lambda *a: calls.append(1) or real(*a))
    assert onnx_models.weights_digest(model) == first
    assert not calls  # remembered, not hashed again

    w.write_bytes(b"other weights")
    st = w.stat()
    os.utime(w, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert onnx_models.weights_digest(model) == real(b"other weights").hexdigest()[:16]
    assert calls


def test_weights_digest_survives_a_broken_memo(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "digests.json").write_text("{not json")
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"w")
    assert onnx_models.weights_digest(model) == hashlib.sha256(b"w").hexdigest()[:16]


def test_checking_for_onnx_runtime_does_not_import_the_exporter() -> None:
    # Importing onnx costs most of a second of every cold `qa ask`; it is only needed to build.
    import subprocess
    import sys

    code = (
        "import sys; from qa.core import onnx as onnx_models; ok = onnx_models.available(); "
        "print(ok, 'onnx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


def test_a_cache_miss_without_the_exporter_is_a_one_line_error(tmp_path: Path) -> None:
    from qa.core.errors import BadInput

    def make(tmp: Path) -> Path:
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    with pytest.raises(BadInput, match="building it needs torch, which is not installed"):
        onnx_models._build(make, tmp_path / "model.int8.onnx")
