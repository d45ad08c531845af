"""The TUNING folder of questions on TABLES (data/tabletune): re-create it, and check it.

    .venv/bin/python scripts/tabletune.py sources           # download the packages, rebuild docs/
    .venv/bin/python scripts/tabletune.py sources --verify  # ... and compare with SHA256SUMS
    .venv/bin/python scripts/tabletune.py check             # every file loads, every gold is there

data/tabletune has the shape of data/doctables (questions whose answers are mostly table
cells, some prose, some unanswerable) but is for TUNING: table renderings, decoding rules,
calibrators and thresholds are tried and chosen on it, so that data/doctables stays an
evaluation set nothing was chosen on. It is never used for final figures. It shares no
package, no file (by sha256) and no question text with data/realdocs, data/doctune,
data/docheld, data/doctrain, data/doctables or data/tabletrain
(tests/test_tabletune_data.py checks it).

Everything but the list of files is imported, not copied: the `Source` record, download
and conversions of scripts/realdocs.py, the ``sources``/``check`` commands of
scripts/doctune.py, the conversion dispatch of scripts/docheld.py (man pages rendered by
scripts/make_doctrain.py) and the ``kind`` check of scripts/doctables.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "tabletune"
DOCS = HERE / "docs"
QUESTIONS = HERE / "questions.jsonl"
SUMS = HERE / "SHA256SUMS"

sys.path.insert(0, str(ROOT))  # run as a file: the repository, for the scripts package
from scripts import docheld, doctables, doctune  # noqa: E402
from scripts import realdocs as rd  # noqa: E402

Source = rd.Source
FORMATS = rd.FORMATS
KINDS = doctables.KINDS

# -- provenance -------------------------------------------------------------------------
GNUPLOT = ("deb", "gnuplot-doc", "5.4.4+dfsg1-2")
POLICY = ("deb", "debian-policy", "4.6.2.0")
XORG = ("deb", "xorg-docs", "1:1.7.1-1.2")
XTABLE = ("deb", "r-cran-xtable", "1:1.8-4-2")
PSYCOPG = ("deb", "python-psycopg2-doc", "2.9.5-1")
DOCUTILS = ("deb", "docutils-doc", "0.19+dfsg-6")
PROCPS = ("deb", "procps", "2:4.0.2-3")
NFTABLES = ("deb", "nftables", "1.0.6-2+deb12u2")
NCURSES = ("deb", "ncurses-bin", "6.4-4")
MANDB = ("deb", "man-db", "2.11.2-2")
BCRYPT = ("npm", "bcrypt", "6.0.0")
FASTGLOB = ("npm", "fast-glob", "3.3.3")
PICOMATCH = ("npm", "picomatch", "4.0.7")
CRONPARSER = ("npm", "cron-parser", "5.10.7")
QRCODE = ("npm", "qrcode", "1.5.4")

D = "usr/share/doc/"
M = "usr/share/man/"
DU = D + "docutils-doc/docs/user/"
MIT = "MIT"

FILES: tuple[Any, ...] = (
    # PDF
    Source("gnuplot-manual.pdf", *GNUPLOT, D + "gnuplot/gnuplot.pdf", "copy", "gnuplot licence"),
    Source(
        "fhs-3.0.pdf",
        *POLICY,
        D + "debian-policy/fhs/fhs-3.0.pdf.gz",
        "gunzip",
        "FHS licence (verbatim and modified copies)",
    ),
    Source("xlfd.pdf", *XORG, D + "xorg-docs/xlfd/xlfd.pdf.gz", "gunzip", "X11 (MIT)"),
    Source(
        "xtable-gallery.pdf",
        *XTABLE,
        "usr/lib/R/site-library/xtable/doc/xtableGallery.pdf",
        "copy",
        "GPL-2",
    ),
    # DOCX (pandoc conversions)
    Source("bcrypt-readme.docx", *BCRYPT, "package/README.md", "docx-from-markdown", MIT),
    Source("fast-glob-readme.docx", *FASTGLOB, "package/README.md", "docx-from-markdown", MIT),
    Source("nft.8.docx", *NFTABLES, M + "man8/nft.8.gz", "man-docx", "CC-BY-SA-4.0"),
    # HTML
    Source(
        "psycopg2-usage.html",
        *PSYCOPG,
        D + "python-psycopg2-doc/html/usage.html",
        "copy",
        "LGPL-3+",
    ),
    Source(
        "docutils-smartquotes.html",
        *DOCUTILS,
        DU + "smartquotes.html",
        "copy",
        "BSD-2-Clause and BSD-3-Clause",
    ),
    Source("xlfd.html", *XORG, D + "xorg-docs/xlfd/xlfd.html", "copy", "X11 (MIT)"),
    Source("ps.1.html", *PROCPS, M + "man1/ps.1.gz", "man-html", "LGPL-2.1+"),
    # Markdown
    Source("picomatch-readme.md", *PICOMATCH, "package/README.md", "copy", MIT),
    Source("cron-parser-readme.md", *CRONPARSER, "package/README.md", "copy", MIT),
    Source("qrcode-readme.md", *QRCODE, "package/README.md", "copy", MIT),
    # plain text
    Source("terminfo.5.txt", *NCURSES, M + "man5/terminfo.5.gz", "man-text", "MIT/X11"),
    Source("man.1.txt", *MANDB, M + "man1/man.1.gz", "man-text", "GPL-2+"),
    Source(
        "docutils-cheatsheet.txt",
        *DOCUTILS,
        DU + "rst/cheatsheet.txt",
        "copy",
        "public domain",
    ),
)


def cmd_sources(args: argparse.Namespace) -> int:
    return doctune.cmd_sources(args, FILES, SUMS, docheld.convert)


def cmd_check(args: argparse.Namespace) -> int:
    """doctables' check: every file loads, every gold is on its page, every kind agrees."""
    return doctables.check_with_kinds(args, DOCS)


def main(argv: list[str] | None = None) -> int:
    return rd.cli(__doc__.splitlines()[0], DOCS, QUESTIONS, cmd_sources, cmd_check, argv)


if __name__ == "__main__":
    sys.exit(main())
