"""The real-documents test folder (data/realdocs): re-create it, and check its questions.

    .venv/bin/python scripts/realdocs.py sources           # download the packages, rebuild docs/
    .venv/bin/python scripts/realdocs.py sources --verify  # ... and compare with SHA256SUMS
    .venv/bin/python scripts/realdocs.py check             # every file loads, every gold is there

``sources`` fetches each package named in `FILES` at its pinned version (Debian packages
with ``apt-get download``, npm packages with ``npm pack``), unpacks it (``dpkg-deb -x``,
``tar``), and writes each file into ``docs/`` as it was shipped or converted as its entry
says (gunzip, pandoc to DOCX, iconv to cp1252, .mdx renamed to .md). data/realdocs/SOURCES.md
says the same for a reader. It needs apt's package lists (``apt-get update``), npm, pandoc
and iconv. pandoc never fetches remote images (`to_docx`) and runs with SOURCE_DATE_EPOCH
set, so its DOCX output is byte-stable for a given pandoc version (2.17.1.1 made the
committed files); ``--verify`` reports a DOCX that differs as a note (another pandoc), any
other difference as a failure.

``check`` loads every file with qa's own readers (`qa.index.ingest`), prints the ingest
summary and per-format figures (files, characters, passages, short passages), and checks
each question of questions.jsonl: its file exists and was indexed, each gold answer occurs
verbatim in the extracted text (whitespace-normalised only where the question records
``"match": "whitespace"``), and for PDFs occurs on the stated page. Exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "realdocs"
DOCS = HERE / "docs"
QUESTIONS = HERE / "questions.jsonl"
SUMS = HERE / "SHA256SUMS"
FORMATS = ("pdf", "docx", "html", "markdown", "text")
PANDOC_EPOCH = "1672531200"  # 2023-01-01 UTC, stamped into the converted DOCX files
SHORT_WORDS = 5  # a passage of fewer words than this counts as short


# -- provenance -------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """One file of docs/: ``member`` of ``package`` (``kind`` deb or npm) at ``version``,
    written as ``name`` after ``convert`` (copy, gunzip, docx-from-rst, docx-from-markdown,
    cp1252)."""

    name: str
    kind: str
    package: str
    version: str
    member: str
    convert: str = "copy"
    licence: str = ""


GV = ("deb", "graphviz-doc", "2.42.2-7+deb12u1")
ASY = ("deb", "asymptote-doc", "2.85+ds-1")
SQL = ("deb", "sqlite3-doc", "3.40.1-2+deb12u2")
PG = ("deb", "postgresql-doc-15", "15.20-0+deb12u1")
PY = ("deb", "python3.11-doc", "3.11.2-6+deb12u9")
DOCU = ("npm", "create-docusaurus", "3.10.2")
MDL = ("npm", "markdownlint", "0.40.0")
GVP = "usr/share/doc/graphviz/pdf/"
ASYP = "usr/share/doc/asymptote/"
SQLP = "usr/share/doc/sqlite3/"
PGP = "usr/share/doc/postgresql-doc-15/html/"
PYH = "usr/share/doc/python3.11/html/"
PYS = PYH + "_sources/"
DOCUP = "package/templates/shared/"
EPL, PD = "EPL-1.0", "public domain"
PGL, PSF, MIT = "PostgreSQL", "PSF-2.0 (Python License)", "MIT"

FILES: tuple[Source, ...] = (
    Source("graphviz-dotguide.pdf", *GV, GVP + "dotguide.pdf.gz", "gunzip", EPL),
    Source("graphviz-neatoguide.pdf", *GV, GVP + "neatoguide.pdf.gz", "gunzip", EPL),
    Source("graphviz-cgraph-tutorial.pdf", *GV, GVP + "Agraph.pdf.gz", "gunzip", EPL),
    Source("graphviz-gvpr-manpage.pdf", *GV, GVP + "gvpr.1.pdf.gz", "gunzip", EPL),
    Source("asymptote-latex-package.pdf", *ASY, ASYP + "asy-latex.pdf", "copy", "GPL-2+"),
    Source("asymptote-cad-package.pdf", *ASY, ASYP + "CAD.pdf", "copy", "GPL-3+"),
    Source("python-string.docx", *PY, PYS + "library/string.rst.txt", "docx-from-rst", PSF),
    Source("python-struct.docx", *PY, PYS + "library/struct.rst.txt", "docx-from-rst", PSF),
    Source("markdownlint-readme.docx", *MDL, "package/README.md", "docx-from-markdown", MIT),
    Source("sqlite-date-and-time-functions.html", *SQL, SQLP + "lang_datefunc.html", "copy", PD),
    Source("sqlite-autoincrement.html", *SQL, SQLP + "autoinc.html", "copy", PD),
    Source("sqlite-limits.html", *SQL, SQLP + "limits.html", "copy", PD),
    Source("postgresql-numeric-types.html", *PG, PGP + "datatype-numeric.html", "copy", PGL),
    Source(
        "postgresql-connection-settings.html",
        *PG,
        PGP + "runtime-config-connection.html",
        "copy",
        PGL,
    ),
    Source("postgresql-create-index.html", *PG, PGP + "sql-createindex.html", "copy", PGL),
    Source("python-zipapp.html", *PY, PYH + "library/zipapp.html", "copy", PSF),
    Source("docusaurus-intro.md", *DOCU, DOCUP + "docs/intro.mdx", "copy", MIT),
    Source(
        "docusaurus-create-a-document.md",
        *DOCU,
        DOCUP + "docs/tutorial-basics/create-a-document.mdx",
        "copy",
        MIT,
    ),
    Source(
        "docusaurus-create-a-blog-post.md",
        *DOCU,
        DOCUP + "docs/tutorial-basics/create-a-blog-post.mdx",
        "copy",
        MIT,
    ),
    Source(
        "docusaurus-deploy-your-site.md",
        *DOCU,
        DOCUP + "docs/tutorial-basics/deploy-your-site.mdx",
        "copy",
        MIT,
    ),
    Source(
        "docusaurus-markdown-features.md",
        *DOCU,
        DOCUP + "docs/tutorial-basics/markdown-features.mdx",
        "copy",
        MIT,
    ),
    Source(
        "docusaurus-manage-docs-versions.md",
        *DOCU,
        DOCUP + "docs/tutorial-extras/manage-docs-versions.mdx",
        "copy",
        MIT,
    ),
    Source(
        "docusaurus-translate-your-site.md",
        *DOCU,
        DOCUP + "docs/tutorial-extras/translate-your-site.mdx",
        "copy",
        MIT,
    ),
    Source(
        "docusaurus-blog-welcome.md",
        *DOCU,
        DOCUP + "blog/2021-08-26-welcome/index.mdx",
        "copy",
        MIT,
    ),
    Source("python-gettext-cp1252.txt", *PY, PYS + "library/gettext.rst.txt", "cp1252", PSF),
    Source(
        "python-isolating-extensions-cp1252.txt",
        *PY,
        PYS + "howto/isolating-extensions.rst.txt",
        "cp1252",
        PSF,
    ),
    Source("graphviz-fontfaq.txt", *GV, "usr/share/doc/graphviz/fontfaq.txt.gz", "gunzip", EPL),
)


def run(cmd: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    extra = "".join(f"{k}={v} " for k, v in (env or {}).items() if os.environ.get(k) != v)
    print(f"$ {extra}" + " ".join(cmd), flush=True)
    subprocess.run(list(cmd), cwd=cwd, env=env, check=True)


def fetch(kind: str, package: str, version: str, cache: Path) -> Path:
    """The folder ``package`` at ``version`` is unpacked in (downloaded on first use)."""
    where = cache / f"{package}_{version}"
    if where.is_dir():
        return where
    dl = cache / "downloads"
    dl.mkdir(parents=True, exist_ok=True)
    if kind == "deb":
        run(["apt-get", "download", f"{package}={version}"], cwd=dl)
        (deb,) = dl.glob(f"{package}_*.deb")
        run(["dpkg-deb", "-x", str(deb), str(where)])
    elif kind == "npm":
        run(["npm", "pack", f"{package}@{version}", "--pack-destination", str(dl)], cwd=dl)
        (tgz,) = dl.glob(f"{package}-{version}.tgz")
        where.mkdir(parents=True)
        run(["tar", "xzf", str(tgz), "-C", str(where)])
    else:
        raise ValueError(f"unknown package kind {kind!r}")
    return where


def convert(src: Path, dest: Path, how: str) -> None:
    if how == "copy":
        shutil.copyfile(src, dest)
    elif how == "gunzip":
        dest.write_bytes(gzip.decompress(src.read_bytes()))
    elif how.startswith("docx-from-"):
        to_docx(src, dest, how.removeprefix("docx-from-"))
    elif how == "cp1252":
        with dest.open("wb") as out:
            print(f"$ iconv -f UTF-8 -t CP1252 {src} > {dest}", flush=True)
            subprocess.run(
                ["iconv", "-f", "UTF-8", "-t", "CP1252", str(src)], stdout=out, check=True
            )
    else:
        raise ValueError(f"unknown conversion {how!r}")


def to_docx(src: Path, dest: Path, fmt: str) -> None:
    """pandoc ``fmt`` → DOCX in two steps: to pandoc's JSON with every image replaced by
    its description, then JSON → DOCX. So pandoc never fetches a remote image (the
    markdownlint README's badges) and the DOCX is the same with or without a network;
    SOURCE_DATE_EPOCH pins the timestamps it writes, so the DOCX is byte-stable."""
    with tempfile.TemporaryDirectory() as tmp:
        lua, ast = Path(tmp) / "no-images.lua", Path(tmp) / "doc.json"
        lua.write_text("function Image(el)\n  return el.caption\nend\n")
        run(
            [
                "pandoc",
                "-s",
                "-f",
                fmt,
                "-t",
                "json",
                "--lua-filter",
                str(lua),
                "-o",
                str(ast),
                str(src),
            ]
        )
        env = {**os.environ, "SOURCE_DATE_EPOCH": PANDOC_EPOCH}
        run(["pandoc", "-f", "json", "-t", "docx", "-o", str(dest), str(ast)], env=env)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cmd_sources(args: argparse.Namespace) -> int:
    cache = args.cache or Path(tempfile.mkdtemp(prefix="realdocs-"))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for s in FILES:
        where = fetch(s.kind, s.package, s.version, cache)
        convert(where / s.member, out / s.name, s.convert)
    wanted = {s.name for s in FILES}
    extra = sorted(p.name for p in out.iterdir() if p.name not in wanted)
    lines = [f"{sha256(out / s.name)}  docs/{s.name}" for s in FILES]
    if args.write_sums:
        SUMS.write_text("\n".join(lines) + "\n")
        print(f"wrote {SUMS}")
    bad = 0
    if args.verify:
        known = dict(
            reversed(line.split("  ", 1)) for line in SUMS.read_text().splitlines() if line
        )
        for s in FILES:
            got, want = sha256(out / s.name), known.get(f"docs/{s.name}")
            if got == want:
                continue
            if s.convert.startswith("docx-from-"):
                print(f"  note {s.name}: differs (another pandoc version than 2.17.1.1?)")
            else:
                print(f"  FAIL {s.name}: sha256 {got} != {want}")
                bad += 1
    if extra:
        print(f"  note: files in {out} not from FILES: {', '.join(extra)}")
    print(f"{len(FILES)} files in {out}; packages unpacked in {cache}")
    return 1 if bad else 0


# -- checking ---------------------------------------------------------------------------
def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            row["_line"] = n
            rows.append(row)
    return rows


def _ws_index(text: str) -> tuple[str, list[int]]:
    """``text`` with each whitespace run as one space, and each character's offset in it."""
    out: list[str] = []
    where: list[int] = []
    for m in re.finditer(r"\s+|\S+", text):
        if m.group().isspace():
            out.append(" ")
            where.append(m.start())
        else:
            out.append(m.group())
            where.extend(range(m.start(), m.end()))
    return "".join(out), where


def occurrences(text: str, needle: str, whitespace: bool = False) -> list[int]:
    """Start offsets of ``needle`` in ``text`` (whitespace runs matched alike if asked)."""
    if not whitespace:
        return [m.start() for m in re.finditer(re.escape(needle), text)]
    flat, where = _ws_index(text)
    target = " ".join(needle.split())
    return [where[m.start()] for m in re.finditer(re.escape(target), flat)]


def page_at(doc: Any, offset: int) -> int | None:
    """The page of the block holding ``offset`` (or the last block before it)."""
    blocks = [b for b in doc.blocks if getattr(b, "page", None) is not None]
    if not blocks:
        return None
    i = bisect.bisect_right([b.start for b in blocks], offset) - 1
    return blocks[max(i, 0)].page


def check_question(q: dict[str, Any], doc: Any) -> list[str]:
    """What is wrong with one question given its loaded document (empty: nothing)."""
    problems = []
    ws = q.get("match") == "whitespace"
    for gold in q["answers"]:
        found = occurrences(doc.text, gold, ws)
        if not found:
            loose = occurrences(doc.text, gold, True)
            hint = ' (found whitespace-normalised: record "match": "whitespace")' if loose else ""
            problems.append(f"answer {gold!r} not in the extracted text{hint}")
            continue
        if q["format"] == "pdf":
            pages = sorted({page_at(doc, o) for o in found}, key=lambda p: p or 0)
            if q["page"] not in pages:
                problems.append(f"answer {gold!r} is on page(s) {pages}, not page {q['page']}")
    return problems


def passage_figures(docs: Sequence[Any]) -> tuple[int, int]:
    """(passages, passages under SHORT_WORDS words) of ``docs`` with default settings."""
    from qa.core.config import Settings
    from qa.index.chunk import passages

    n = short = 0
    for d in docs:
        for p in passages(d, Settings()):
            n += 1
            short += len(p.text.split()) < SHORT_WORDS
    return n, short


def format_table(docs: Sequence[Any]) -> list[str]:
    by_fmt: dict[str, list[Any]] = collections.defaultdict(list)
    for d in docs:
        by_fmt[str(d.meta.get("format", "?"))].append(d)
    lines = [f"{'format':<9} {'files':>5} {'chars':>9} {'passages':>8} {'<5 words':>9}"]
    tot = [0, 0, 0, 0]
    for fmt in sorted(by_fmt, key=lambda f: FORMATS.index(f) if f in FORMATS else 99):
        ds = by_fmt[fmt]
        n, short = passage_figures(ds)
        chars = sum(len(d.text) for d in ds)
        share = f"{short} ({100 * short / max(n, 1):.0f}%)"
        lines.append(f"{fmt:<9} {len(ds):>5} {chars:>9,} {n:>8} {share:>9}")
        tot = [tot[0] + len(ds), tot[1] + chars, tot[2] + n, tot[3] + short]
    share = f"{tot[3]} ({100 * tot[3] / max(tot[2], 1):.0f}%)"
    lines.append(f"{'all':<9} {tot[0]:>5} {tot[1]:>9,} {tot[2]:>8} {share:>9}")
    return lines


def load_docs(folder: Path = DOCS) -> tuple[Any, list[str]]:
    """``ingest.scan(folder)``; where scan raises (a reader bug, not a `Skip`), each file
    is loaded alone so the report names the files that raise: (Loaded, crash lines)."""
    from qa.index import ingest
    from qa.index.formats import Skip

    try:
        return ingest.scan(folder), []
    except Exception as e:  # a reader that raises something other than Skip
        first = f"ingest.scan raised {type(e).__name__}: {e}"
    loaded, crashes, seen = ingest.Loaded(), [first], set()
    for f in ingest.iter_files([folder]):
        try:
            doc = ingest.load_file(f)
        except Skip as e:
            loaded.skipped.append(ingest.Skipped(str(f), e.reason, str(e)))
            continue
        except Exception as e:
            crashes.append(f"{f.name}: load_file raised {type(e).__name__}: {e}")
            continue
        if doc.id in seen:
            loaded.skipped.append(ingest.Skipped(str(f), "duplicate", "same text as another"))
            continue
        seen.add(doc.id)
        loaded.documents.append(doc)
    return loaded, crashes


def check_folder(folder: Path) -> tuple[dict[str, Any], list[str]]:
    """Load every file of ``folder``, print the ingest line and the per-format table;
    the documents by file name, and a failure for each file not indexed."""
    loaded, failures = load_docs(folder)
    reasons = collections.Counter(s.reason for s in loaded.skipped)
    print(
        f"ingest {folder.relative_to(ROOT)}: {len(loaded.documents)} indexed, "
        f"{len(loaded.skipped)} skipped" + "".join(f"; {r}: {n}" for r, n in reasons.items())
    )
    for s in loaded.skipped:
        failures.append(f"{Path(s.source).name}: not indexed ({s.reason}: {s.detail})")
    print("\n".join(format_table(loaded.documents)))
    return {Path(d.source).name: d for d in loaded.documents}, failures


def check_questions(questions: Sequence[dict[str, Any]], by_name: dict[str, Any]) -> list[str]:
    """A failure for each question whose file was not indexed, was read as another format,
    or does not hold its gold answers (`check_question`)."""
    failures = []
    for q in questions:
        doc = by_name.get(Path(q["file"]).name)
        if doc is None:
            failures.append(f"{q['id']}: {q['file']} was not indexed")
            continue
        if doc.meta.get("format") != q["format"]:
            failures.append(f"{q['id']}: format {q['format']} but read as {doc.meta.get('format')}")
        failures += [f"{q['id']}: {p}" for p in check_question(q, doc)]
    return failures


def report(failures: Sequence[str]) -> int:
    for f in failures:
        print(f"FAIL {f}")
    print(f"{'FAILED' if failures else 'OK'}: {len(failures)} failure(s)")
    return 1 if failures else 0


def cmd_check(args: argparse.Namespace) -> int:
    by_name, failures = check_folder(DOCS)
    questions = load_questions(args.questions)
    counts = collections.Counter(q["format"] for q in questions)
    print(f"questions: {len(questions)} (" + ", ".join(f"{f} {counts[f]}" for f in FORMATS) + ")")
    failures += check_questions(questions, by_name)
    loose = [q["id"] for q in questions if q.get("match") == "whitespace"]
    if loose:
        print(f"whitespace-normalised matches recorded for: {', '.join(loose)}")
    return report(failures)


def cli(
    description: str,
    docs: Path,
    questions: Path,
    sources: Callable[[argparse.Namespace], int],
    check: Callable[[argparse.Namespace], int],
    argv: list[str] | None = None,
) -> int:
    """The ``sources`` / ``check`` command line shared by the question sets' scripts."""
    ap = argparse.ArgumentParser(description=description)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sources", help="download the packages and re-create docs/")
    s.add_argument("--out", type=Path, default=docs, help="where to write the files")
    s.add_argument("--cache", type=Path, help="where packages are downloaded and unpacked")
    s.add_argument("--verify", action="store_true", help="compare with SHA256SUMS")
    s.add_argument("--write-sums", action="store_true", help="rewrite SHA256SUMS")
    c = sub.add_parser("check", help="load every file and check every gold answer")
    c.add_argument("--questions", type=Path, default=questions)
    args = ap.parse_args(argv)
    return sources(args) if args.cmd == "sources" else check(args)


def main(argv: list[str] | None = None) -> int:
    return cli(__doc__.splitlines()[0], DOCS, QUESTIONS, cmd_sources, cmd_check, argv)


if __name__ == "__main__":
    sys.exit(main())
