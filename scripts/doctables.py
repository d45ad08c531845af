"""The held-out EVALUATION folder of questions on TABLES (data/doctables): re-create it,
and check it.

    .venv/bin/python scripts/doctables.py sources           # download the packages, rebuild docs/
    .venv/bin/python scripts/doctables.py sources --verify  # ... and compare with SHA256SUMS
    .venv/bin/python scripts/doctables.py check             # every file loads, every gold is there

data/doctables measures answers that are table cells ("What is the default of X?" where a
table row gives X's default), qa's weakest kind of question. It is for evaluation only,
like data/realdocs and data/docheld: never tune, select models or pick thresholds on it.
It shares no package, no file (by sha256) and no question text with data/realdocs,
data/doctune, data/docheld and data/doctrain (tests/test_doctables_data.py checks it).

Like scripts/docheld.py, everything but the list of files is imported, not copied: the
`Source` record, download and conversions of scripts/realdocs.py (copy, gunzip, pandoc to
DOCX), the ``sources``/``check`` commands of scripts/doctune.py, and the man-page
rendering of scripts/make_doctrain.py (``man-text``: ``man | col -bx`` at 80 columns;
``man-html`` and ``man-docx``: pandoc's man reader). Each question also has a ``kind``:
``table-cell`` (the answer is a table cell), ``prose`` (running text) or ``none``
(``"answers": []``, not answerable from this corpus).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "doctables"
DOCS = HERE / "docs"
QUESTIONS = HERE / "questions.jsonl"
SUMS = HERE / "SHA256SUMS"
KINDS = ("table-cell", "prose", "none")

sys.path.insert(0, str(ROOT))  # run as a file: the repository, for the scripts package
from scripts import docheld, doctune  # noqa: E402
from scripts import realdocs as rd  # noqa: E402

Source = rd.Source
FORMATS = rd.FORMATS

# -- provenance -------------------------------------------------------------------------
AVRDUDE = ("deb", "avrdude-doc", "7.1+dfsg-3")
GUTENPRINT = ("deb", "gutenprint-doc", "5.3.4.20220624T01008808d602-1")
DOXYGEN = ("deb", "doxygen-doc", "1.9.4-4")
DEBREF = ("deb", "debian-reference-en", "2.100")
MUTT = ("deb", "mutt", "2.2.12-0.1~deb12u2")
MANPAGES = ("deb", "manpages", "6.03-2")
MANDEV = ("deb", "manpages-dev", "6.03-2")
STATUSCODES = ("npm", "http-status-codes", "2.3.0")
HTTPERRORS = ("npm", "http-errors", "2.0.1")
NODECRON = ("npm", "node-cron", "4.6.0")
VALIDATOR = ("npm", "validator", "13.15.35")
UUID = ("npm", "uuid", "14.0.3")
BYTES = ("npm", "bytes", "3.1.2")

D = "usr/share/doc/"
M7 = "usr/share/man/man7/"
MANL = "Linux-man-pages-copyleft"
GPL2, MIT = "GPL-2+", "MIT"

FILES: tuple[Any, ...] = (
    # PDF
    Source("avrdude-manual.pdf", *AVRDUDE, D + "avrdude/avrdude.pdf.gz", "gunzip", GPL2),
    Source(
        "gutenprint-users-manual.pdf",
        *GUTENPRINT,
        D + "gutenprint-doc/gutenprint-users-manual.pdf",
        "copy",
        GPL2,
    ),
    Source("doxygen-manual.pdf", *DOXYGEN, D + "doxygen/doxygen_manual.pdf", "copy", "GPL-2"),
    Source(
        "debian-reference.pdf",
        *DEBREF,
        "usr/share/debian-reference/debian-reference.en.pdf",
        "copy",
        GPL2,
    ),
    # DOCX (pandoc conversions)
    Source("uuid-readme.docx", *UUID, "package/README.md", "docx-from-markdown", MIT),
    Source("bytes-readme.docx", *BYTES, "package/Readme.md", "docx-from-markdown", MIT),
    Source("operator.7.docx", *MANPAGES, M7 + "operator.7.gz", "man-docx", "BSD-3-clause"),
    # HTML
    Source(
        "mutt-getting-started.html",
        *MUTT,
        D + "mutt/html/gettingstarted.html",
        "copy",
        GPL2,
    ),
    Source(
        "debian-reference-network.html",
        *DEBREF,
        "usr/share/debian-reference/ch05.en.html",
        "copy",
        GPL2,
    ),
    Source("syscalls.2.html", *MANDEV, "usr/share/man/man2/syscalls.2.gz", "man-html", MANL),
    Source("signal.7.html", *MANPAGES, M7 + "signal.7.gz", "man-html", MANL),
    # Markdown
    Source("http-status-codes-readme.md", *STATUSCODES, "package/README.md", "copy", MIT),
    Source("http-errors-readme.md", *HTTPERRORS, "package/README.md", "copy", MIT),
    Source("node-cron-readme.md", *NODECRON, "package/README.md", "copy", "ISC"),
    Source("validator-readme.md", *VALIDATOR, "package/README.md", "copy", MIT),
    # plain text
    Source("units.7.txt", *MANPAGES, M7 + "units.7.gz", "man-text", MANL),
    Source("suffixes.7.txt", *MANPAGES, M7 + "suffixes.7.gz", "man-text", MANL),
)


def cmd_sources(args: argparse.Namespace) -> int:
    return doctune.cmd_sources(args, FILES, SUMS, docheld.convert)


def cmd_check(args: argparse.Namespace) -> int:
    return check_with_kinds(args, DOCS)


def check_with_kinds(args: argparse.Namespace, docs: Path) -> int:
    """doctune's check of ``docs`` (every file loads, every gold is in its text, on its
    page), then that each question's ``kind`` is known and agrees with its answers."""
    status = doctune.cmd_check(args, docs)
    bad = [
        f"{q['id']}: kind {q.get('kind')!r}"
        for q in doctune.load_questions(args.questions)
        if q.get("kind") not in KINDS or (q.get("kind") == "none") != (not q["answers"])
    ]
    for line in bad:
        print(f"  FAIL {line}")
    return 1 if bad else status


def main(argv: list[str] | None = None) -> int:
    return rd.cli(__doc__.splitlines()[0], DOCS, QUESTIONS, cmd_sources, cmd_check, argv)


if __name__ == "__main__":
    sys.exit(main())
