"""Rule-made questions on table rows of software documentation (data/tabletrain).

    .venv/bin/python scripts/make_tabletrain.py                # download, read, generate
    .venv/bin/python scripts/make_tabletrain.py --sample 40    # ... and print 40 at random
    .venv/bin/python scripts/make_tabletrain.py --check        # compare with train.json

qa reads a table a row a line, each cell after its column's name (``Name: smallint;
Storage Size: 2 bytes; Range: -32768 to +32767``: HTML, DOCX and PDF tables alike), and
its reader must learn to take one cell of the row a question names. Each HTML page of
``PACKAGES`` that holds a ``<table>`` is read with qa's own reader and cut by its chunker
(the passages an index holds, default settings), and every passage line of two or more
``Name: value`` cells whose names another line of the passage repeats is a table row.
For a row whose first cell (its key) is unique in the passage, each short cell whose text
occurs once in the passage gives "What is the <name> of <key>?" (the wording drawn from
``ASK``), and now and then the reverse, "Which <key name> has the <name> <value>?".
Questions are capped per passage, per file and per package (seed 0), checked to be
verbatim spans, and written as SQuAD JSON for ``qa train-reader --gold``.

None of these packages is used by data/realdocs, data/docheld, data/doctables,
data/doctune or data/doctrain (tests/test_tabletrain_data.py checks the packages).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "tabletrain"
TRAIN = HERE / "train.json"
TUNE = HERE / "tune.json"
# Held out of training: whether a reader trained on the other packages' tables reads
# these is judged on them (tuning, never evaluation).
TUNE_PACKAGES = ("python-django-doc",)
SUMS = HERE / "SHA256SUMS"
SEED = 0
PER_PASSAGE = 4  # questions kept per passage at most
PER_FILE = 24
PER_PACKAGE = 300  # so that no manual dominates

sys.path.insert(0, str(ROOT))  # run as a file: the repository, for the scripts package
from scripts import make_doctrain as dt  # noqa: E402
from scripts import realdocs as rd  # noqa: E402

# (package, version, folder of its HTML pages inside the package, licence)
PACKAGES = (
    (
        "python-django-doc",
        "3:3.2.25-0+deb12u7",
        "usr/share/doc/python-django-doc/html",
        "BSD-3-Clause",
    ),
    ("python-sqlalchemy-doc", "1.4.46+ds1-1", "usr/share/doc/python-sqlalchemy-doc/html", "Expat"),
    ("erlang-doc", "1:25.2.3+dfsg-1+deb12u4", "usr/share/doc/erlang-doc", "Apache-2.0"),
    ("octave-doc", "7.3.0-2", "usr/share/doc/octave/octave.html", "GPL-3+"),
    ("sphinx-doc", "5.3.0-4", "usr/share/doc/sphinx-doc/html", "BSD-2-Clause"),
    ("python-pandas-doc", "1.5.3+dfsg-2", "usr/share/doc/python-pandas-doc/html", "BSD-3-Clause"),
)
ASK = (
    "What is the {col} of {key}?",
    "What {col} does {key} have?",
    "For {key}, what is the {col}?",
    "What is {key}'s {col}?",
    "Which {col} is listed for {key}?",
)
ASK_KEY = ("Which {kcol} has the {col} {val}?", "What {kcol} has {val} as its {col}?")
KEY_SHARE = 0.3  # of the cells that could, how many also give a reverse question
CELL = "; "
_NAME = re.compile(r"[A-Za-z][\w .()/#'-]{0,40}")
_LETTER = re.compile(r"[A-Za-z]")

Cell = tuple[str, str, int]  # column name, text, where the text starts in its line
Item = tuple[str, int, int, str]  # question, answer start, answer end, rule


def row_cells(line: str) -> list[Cell] | None:
    """The ``Name: value`` cells of a row line, or None when the line is not one."""
    cells, pos = [], 0
    for part in line.split(CELL):
        i = part.find(": ")
        name = part[:i]
        if i <= 0 or not _NAME.fullmatch(name) or len(name.split()) > 5 or "- " in name:
            return None
        cells.append((name, part[i + 2 :], pos + i + 2))
        pos += len(part) + len(CELL)
    return cells if len(cells) >= 2 else None


def table_rows(text: str) -> list[tuple[int, list[Cell]]]:
    """(line offset, cells) of each row line whose column names another line repeats."""
    rows, off = [], 0
    for line in text.split("\n"):
        cells = row_cells(line)
        if cells:
            rows.append((off, cells))
        off += len(line) + 1
    shapes = collections.Counter(tuple(n for n, _, _ in c) for _, c in rows)
    return [(o, c) for o, c in rows if shapes[tuple(n for n, _, _ in c)] >= 2]


def column(name: str) -> str:
    """A column's name as a question says it: capitalised words in lower case, acronyms
    and names with inner capitals (``JSON``, ``dtype``, ``PostgreSQL``) as they are."""
    return " ".join(w.lower() if w[:1].isupper() and w[1:].islower() else w for w in name.split())


def questions(text: str, rng: random.Random) -> list[Item]:
    """The checked questions one passage's table rows give."""
    rows = table_rows(text)
    keys = collections.Counter(c[0][1] for _, c in rows)
    out: list[Item] = []
    for off, cells in rows:
        kname, key, kpos = cells[0]
        if keys[key] != 1 or not 1 <= len(key.split()) <= 8 or not _LETTER.search(key):
            continue
        for name, val, vpos in cells[1:]:
            if name == kname or not 1 <= len(val.split()) <= 12 or text.count(val) != 1:
                continue
            if val.lower() in key.lower() or key.lower() in val.lower():
                continue
            start = off + vpos
            q = rng.choice(ASK).format(col=column(name), key=key)
            out.append((q, start, start + len(val), "cell"))
            if (
                len(val.split()) <= 6
                and not val.endswith(".")
                and text.count(key) == 1
                and rng.random() < KEY_SHARE
            ):
                q = rng.choice(ASK_KEY).format(kcol=column(kname), col=column(name), val=val)
                out.append((q, off + kpos, off + kpos + len(key), "cell-key"))
    for q, s, e, _ in out:
        assert text[s:e] and text[s:e].strip() == text[s:e], (q, text[s:e])
    return out


def pages(cache: Path) -> Iterator[tuple[str, Path, Path]]:
    """(package, page, package folder) for every HTML page holding a table, in order."""
    for package, version, folder, _ in PACKAGES:
        where = rd.fetch("deb", package, version, cache)
        for page in sorted((where / folder).rglob("*.html")):
            if "index" in page.name.lower():
                continue  # indexes of names: tables of links, nothing to ask
            if page.is_file() and b"<table" in page.read_bytes():
                yield package, page, where


def generate(cache: Path) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Every question each page gives (capped per passage) and each page's sha256."""
    from qa.core.config import Settings
    from qa.index.chunk import passages
    from qa.index.ingest import load_file

    rng = random.Random(SEED)
    items, sums = [], {}
    for package, page, where in pages(cache):
        name = f"{package}/{page.relative_to(where).as_posix()}"
        sums[name] = hashlib.sha256(page.read_bytes()).hexdigest()
        for p in passages(load_file(page), Settings()):
            found = questions(p.text, rng)
            rng.shuffle(found)
            for q, start, end, rule in found[:PER_PASSAGE]:
                items.append(
                    {
                        "question": q,
                        "context": p.text,
                        "start": start,
                        "text": p.text[start:end],
                        "rule": rule,
                        "file": name,
                        "package": package,
                    }
                )
    return items, sums


def select(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Capped per file and per package (seed 0); a question text asked twice is dropped."""
    texts = collections.Counter(it["question"].lower() for it in items)
    by_file: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for it in items:
        if texts[it["question"].lower()] == 1:
            by_file[it["file"]].append(it)
    rng = random.Random(SEED)
    kept, per_pkg = [], collections.Counter()
    for name in sorted(by_file):
        pool = by_file[name]
        rng.shuffle(pool)
        for it in pool[:PER_FILE]:
            if per_pkg[it["package"]] < PER_PACKAGE:
                kept.append(it)
                per_pkg[it["package"]] += 1
    return kept


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/qa-tabletrain"))
    ap.add_argument("--sample", type=int, default=0, help="print this many at random")
    ap.add_argument("--check", action="store_true", help="compare with train.json, write none")
    args = ap.parse_args(argv)
    items, sums = generate(args.cache)
    kept = select(items)
    # SQuAD v1 JSON as data/doctrain's: one article per page, one paragraph per passage
    made = dt.to_squad(
        [it for it in kept if it["package"] not in TUNE_PACKAGES], "tabletrain", "tabletrain-1"
    )
    tune = dt.to_squad(
        [it for it in kept if it["package"] in TUNE_PACKAGES], "tabletune", "tabletrain-1"
    )
    counts = collections.Counter(it["package"] for it in kept)
    rules = collections.Counter(it["rule"] for it in kept)
    print(f"{len(items)} questions found, {len(kept)} kept on {len(sums)} pages")
    print("by package:", dict(sorted(counts.items())), "by rule:", dict(rules))
    for it in random.Random(1).sample(kept, min(args.sample, len(kept))):
        print(f"[{it['file']}] {it['question']} -> {it['text']!r}")
    if args.check:
        same = json.loads(TRAIN.read_text()) == made and json.loads(TUNE.read_text()) == tune
        print("train.json and tune.json", "match" if same else "DIFFER")
        return 0 if same else 1
    HERE.mkdir(parents=True, exist_ok=True)
    for path, squad in ((TRAIN, made), (TUNE, tune)):
        path.write_text(json.dumps(squad, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    SUMS.write_text("".join(f"{d}  {n}\n" for n, d in sorted(sums.items())))
    print("wrote", TRAIN, TUNE, "and", SUMS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
