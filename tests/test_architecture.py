"""The layout holds: data moves one way between the packages, the answering path needs no
training code, torch or transformers, and no function or module grows past a screenful."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "qa"
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 500
HEAVY = ("torch", "transformers", "sentence_transformers")

# What each part of the package may import from qa (besides itself).
ALLOWED = {
    "core": set(),
    "index": {"core"},
    "retrieve": {"core", "index"},
    "read": {"core"},
    "engine": {"core", "index", "retrieve", "read"},
    "serve": {"core", "engine"},
    "cli": {"core", "engine", "serve"},
    "train": {"core", "index", "retrieve", "read", "engine"},
}
# Crossings that are deliberate, each for a stated reason.
EXCEPTIONS = {
    # The CLI compares the saved index's fingerprint with a running server's before it
    # hands a question over; reading a manifest must not load the engine.
    ("cli", "qa.index.manifest"),
    # `qa train-reader`, `qa eval` and the tuning commands are the training package's;
    # the CLI registers them (imported when the command line is built, not to answer).
    ("cli", "qa.train.cli"),
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """Every module imported, and whether at module level (not inside a function)."""
    out: list[tuple[str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # for type checkers only
            if isinstance(child, ast.Import):
                out.extend((a.name, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                out.append((child.module, top))
                out.extend((f"{child.module}.{a.name}", top) for a in child.names)
            visit(child, inner)

    visit(tree, True)
    return out


def test_packages_import_only_the_layers_below_them() -> None:
    wrong = []
    for path in _modules():
        part = _part(path)
        if part not in ALLOWED:
            continue
        for name, _ in _imports(ast.parse(path.read_text())):
            if not name.startswith("qa."):
                continue
            target = name.split(".")[1]
            if target == part or target in ALLOWED[part] or not (PACKAGE / target).exists():
                continue  # its own package, a layer below, or a name from a module
            if target == "engine" and "engine" in ALLOWED[part]:
                continue
            if any(part == p and name.startswith(m) for p, m in EXCEPTIONS):
                continue
            wrong.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_the_answering_path_imports_no_training_code_or_torch_at_module_level() -> None:
    wrong = []
    for path in _modules():
        if _part(path) == "train":
            continue
        for name, top in _imports(ast.parse(path.read_text())):
            if top and (name.split(".")[0] in HEAVY or name.startswith("qa.train")):
                wrong.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_no_function_or_module_is_too_long() -> None:
    long = []
    for path in _modules():
        text = path.read_text()
        rel = path.relative_to(PACKAGE.parent)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long.append(f"{rel}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{rel}:{node.lineno} {node.name}: {n} lines")
    assert not long, "\n".join(long)


_ANSWER = """
import sys
from qa.engine import Engine
from qa.core.config import Settings
engine = Engine(Settings(index_dir={index!r}))
r = engine.ask("Who will visit Moscow?")
assert r.answer is not None
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r} or m.startswith("qa.train"))
print("HEAVY", heavy)
"""


@pytest.mark.slow
def test_answering_with_the_shipped_models_loads_no_torch_or_training_code(
    tmp_path: Path, tmp_cache: Path
) -> None:
    """With the ONNX models built (the first run builds them, with torch), a fresh process
    answers with neither torch, transformers nor qa.train imported."""
    seeds = PACKAGE.parent / "seeds"
    index = tmp_path / "idx"
    build = f"from qa.engine import Engine\nEngine.from_files({str(seeds)!r}, {str(index)!r})"
    env = {"QA_CACHE_DIR": str(tmp_cache), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-c", build], check=True, env=env, capture_output=True)
    script = _ANSWER.format(index=str(index), heavy=HEAVY)
    subprocess.run([sys.executable, "-c", script], check=True, env=env, capture_output=True)
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, env=env, capture_output=True, text=True
    )
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr
