"""The reader-training split of data/doctune, as SQuAD JSON for ``qa train-reader --gold``.

    .venv/bin/python scripts/doctune_reader_train.py  # writes data/doctune/reader-train.json
    .venv/bin/python scripts/doctune_reader_train.py --check   # compare with the file

data/doctune has two parts, by file. The questions on the 29 files of ``READER_FILES``
(the set as it first was) train the shipped reader's domain adaptation; the questions on
the other files are never trained on, and are what decoding rules and the answer
calibrator are judged and fitted on (``scripts/fit_calibrator.py`` leaves out every
question the reader trained on, by id). Each answerable question becomes one training
question whose context is the passage of qa's own chunking (``qa.index.chunk.passages``,
default settings) that holds its first gold answer (on the gold page for a PDF), so the
reader trains on passages as it reads them when answering.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "doctune"
OUT = HERE / "reader-train.json"

READER_FILES = frozenset(
    {
        "latexdiff-manual.pdf",
        "pstoedit-manual.pdf",
        "gputils-manual.pdf",
        "dblatex-release-notes.pdf",
        "click-options.docx",
        "requests-quickstart.docx",
        "flask-config.docx",
        "curl-http-scripting.docx",
        "aptitude-keybindings.html",
        "aptitude-themes.html",
        "zsh-files.html",
        "zsh-conditional-expressions.html",
        "dblatex-specs.html",
        "git-gitignore.html",
        "requests-authentication.html",
        "flask-cli.html",
        "curl-versions.md",
        "curl-http-cookies.md",
        "curl-bug-bounty.md",
        "curl-sslcerts.md",
        "curl-governance.md",
        "apt-acquire-additional-files.md",
        "vitepress-api-examples.md",
        "vitepress-markdown-examples.md",
        "bash-examples-index.txt",
        "git-bisect-lk2009.txt",
        "git-submitting-patches.txt",
        "git-reviewing-guidelines.txt",
        "units-readme.txt",
    }
)


def questions() -> list[dict[str, Any]]:
    lines = (HERE / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def reader_questions() -> list[dict[str, Any]]:
    """The questions on ``READER_FILES`` (answerable or not)."""
    return [q for q in questions() if Path(q["file"]).name in READER_FILES]


def build() -> tuple[dict[str, Any], list[str]]:
    """(the SQuAD JSON, ids of answerable questions whose gold no passage holds)."""
    from qa.core.config import Settings
    from qa.index.chunk import passages
    from qa.index.ingest import load_file

    settings = Settings()
    cut: dict[str, list[Any]] = {}
    articles: dict[str, dict[str, Any]] = {}
    missing = []
    for q in reader_questions():
        if not q["answers"]:
            continue
        name = q["file"]
        if name not in cut:
            loaded = load_file(HERE / name)
            doc = loaded[0] if isinstance(loaded, list) else loaded
            cut[name] = passages(doc, settings)
        found = next(
            (
                (p, gold, p.text.find(gold))
                for gold in q["answers"]
                for p in cut[name]
                if gold in p.text and (q.get("page") is None or p.page in (None, q["page"]))
            ),
            None,
        )
        if found is None:
            missing.append(q["id"])
            continue
        p, gold, at = found
        art = articles.setdefault(name, {"title": f"doctune:{name}", "paragraphs": {}})
        para = art["paragraphs"].setdefault(p.id, {"context": p.text, "qas": []})
        answer = {"text": gold, "answer_start": at}
        para["qas"].append({"id": q["id"], "question": q["question"], "answers": [answer]})
    data = [
        {"title": a["title"], "paragraphs": list(a["paragraphs"].values())}
        for a in articles.values()
    ]
    return {"version": "doctune reader-train", "data": data}, missing


def trained_ids(gold_files: list[str]) -> set[str]:
    """Question ids in the SQuAD files a reader trained on (paths as its record gives them,
    relative to the repository)."""
    ids: set[str] = set()
    for name in gold_files:
        path = Path(name) if Path(name).is_absolute() else ROOT / name
        if not path.is_file():
            continue
        for art in json.loads(path.read_text(encoding="utf-8"))["data"]:
            for para in art["paragraphs"]:
                ids.update(qa["id"] for qa in para["qas"])
    return ids


def untrained_questions(reader_dir: Path) -> list[dict[str, Any]]:
    """data/doctune's questions on the files whose questions ``reader_dir``'s reader did not
    train on (its record's ``--gold`` files): a trained-on file's unanswerable questions are
    left out with it."""
    from qa.read.meta import read_meta

    trained = trained_ids(read_meta(reader_dir).get("training", {}).get("gold_files", []))
    qs = questions()
    seen = {q["file"] for q in qs if q["id"] in trained}
    return [q for q in qs if q["file"] not in seen]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the stored file")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    data, missing = build()
    text = json.dumps(data, ensure_ascii=False, indent=0) + "\n"
    n = sum(len(p["qas"]) for a in data["data"] for p in a["paragraphs"])
    print(f"{n} questions on {len(data['data'])} files; gold in no passage: {missing or 'none'}")
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out}: {'the same' if same else 'DIFFERS: run without --check'}")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
