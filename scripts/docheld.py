"""The second held-out EVALUATION folder (data/docheld): re-create it, and check it.

    .venv/bin/python scripts/docheld.py sources           # download the packages, rebuild docs/
    .venv/bin/python scripts/docheld.py sources --verify  # ... and compare with SHA256SUMS
    .venv/bin/python scripts/docheld.py check             # every file loads, every gold is there

data/docheld is for evaluation only, like data/realdocs (never tune, select models or pick
thresholds on it); it is larger (about 200 questions) so that a calibration error measured
on unseen documentation means something. It shares no package, no file (by sha256) and no
question text with data/realdocs, data/doctune and data/doctrain
(tests/test_docheld_data.py checks it).

Everything but the list of files is imported, not copied: the `Source` record, download
and conversions of scripts/realdocs.py (copy, gunzip, pandoc to DOCX), the gunzip-then-
pandoc conversion and the ``sources``/``check`` commands of scripts/doctune.py (which take
the list, the SHA256SUMS path and the folder as arguments), and the man-page rendering of
scripts/make_doctrain.py (``man-text``: ``man | col -bx`` at 80 columns; ``man-html`` and
``man-docx``: pandoc's man reader). Questions may have ``"answers": []`` (not answerable
from this corpus), as in doctune.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "docheld"
DOCS = HERE / "docs"
QUESTIONS = HERE / "questions.jsonl"
SUMS = HERE / "SHA256SUMS"

sys.path.insert(0, str(ROOT))  # run as a file: the repository, for the scripts package
from scripts import doctune  # noqa: E402
from scripts import make_doctrain as dt  # noqa: E402
from scripts import realdocs as rd  # noqa: E402

Source = rd.Source
FORMATS = rd.FORMATS

# -- provenance -------------------------------------------------------------------------
XMLSTARLET = ("deb", "xmlstarlet", "1.6.1-3")
ACNG = ("deb", "apt-cacher-ng", "3.7.4-1+b2")
GLPK = ("deb", "glpk-doc", "5.0-1")
BIBER = ("deb", "biber", "2.18-1")
LINUXDOC = ("deb", "linuxdoc-tools", "0.9.82-1")
JINJA = ("deb", "python-jinja2-doc", "3.1.2-1+deb12u3")
ATTRS = ("deb", "python-attr-doc", "22.2.0-1")
CRON = ("deb", "cron", "3.0pl1-162")
FETCHMAIL = ("deb", "fetchmail", "6.4.37-1")
CHKTEX = ("deb", "chktex", "1.7.8-1")
NCDU = ("deb", "ncdu", "1.18-0.2")
HTOP = ("deb", "htop", "3.2.2-2")
CHRONY = ("deb", "chrony", "4.3-2+deb12u3")
LIGHTTPD = ("deb", "lighttpd-doc", "1.4.69-1")
LATEXMK = ("deb", "latexmk", "1:4.79-1")
DVIPNG = ("deb", "dvipng", "1.15-1.1+b1")
CPPCHECK = ("deb", "cppcheck", "2.10-2")
DOTENV = ("npm", "dotenv", "17.2.3")
SEMVER = ("npm", "semver", "7.7.3")
HTTPSERVER = ("npm", "http-server", "14.1.1")
CORS = ("npm", "cors", "2.8.5")

D = "usr/share/doc/"
M = "usr/share/man/"
JINJAS = D + "python-jinja2-doc/html/"
ATTRSH = D + "python-attr-doc/html/"
GLPKD = D + "glpk-doc/"
GPL2, GPL3, BSD3, MIT = "GPL-2+", "GPL-3+", "BSD-3-Clause", "MIT (Expat)"
FM = "GPL-2+ (with OpenSSL exception)"

FILES: tuple[Any, ...] = (
    # PDF
    Source(
        "xmlstarlet-user-guide.pdf",
        *XMLSTARLET,
        D + "xmlstarlet/xmlstarlet-ug.pdf.gz",
        "gunzip",
        MIT,
    ),
    Source(
        "apt-cacher-ng-manual.pdf", *ACNG, D + "apt-cacher-ng/apt-cacher-ng.pdf", "copy", "BSD-4"
    ),
    Source("glpk-cnfsat.pdf", *GLPK, GLPKD + "cnfsat.pdf", "copy", GPL3),
    Source("glpk-graphs.pdf", *GLPK, GLPKD + "graphs.pdf", "copy", "GFDL-NIV-1.3+"),
    Source(
        "biber-manual.pdf",
        *BIBER,
        "usr/share/texmf/doc/bibtex/biber/biber.pdf",
        "copy",
        "Artistic-2.0 or GPL-1+",
    ),
    Source(
        "linuxdoc-tools-guide.pdf",
        *LINUXDOC,
        D + "linuxdoc-tools/guide.pdf",
        "copy",
        "linuxdoc-tools licence (free use, modification, redistribution)",
    ),
    # DOCX (pandoc conversions)
    Source("jinja2-faq.docx", *JINJA, JINJAS + "_sources/faq.rst.txt", "docx-from-rst", BSD3),
    Source(
        "jinja2-sandbox.docx", *JINJA, JINJAS + "_sources/sandbox.rst.txt", "docx-from-rst", BSD3
    ),
    Source(
        "attrs-hashing.docx",
        *ATTRS,
        ATTRSH + "_sources/hashing.md.txt",
        "docx-from-markdown",
        MIT,
    ),
    Source("chronyd.8.docx", *CHRONY, M + "man8/chronyd.8.gz", "man-docx", "GPL-2"),
    Source("crontab.5.docx", *CRON, M + "man5/crontab.5.gz", "man-docx", "Paul Vixie's licence"),
    # HTML
    Source(
        "fetchmail-features.html", *FETCHMAIL, D + "fetchmail/fetchmail-features.html", "copy", FM
    ),
    Source(
        "fetchmail-design-notes.html",
        *FETCHMAIL,
        D + "fetchmail/design-notes.html",
        "copy",
        FM,
    ),
    Source("jinja2-intro.html", *JINJA, JINJAS + "intro.html", "copy", BSD3),
    Source("attrs-glossary.html", *ATTRS, ATTRSH + "glossary.html", "copy", MIT),
    Source("chktex-features.html", *CHKTEX, D + "chktex/ChkTeX/node2.html", "copy", GPL2),
    Source("ncdu.1.html", *NCDU, M + "man1/ncdu.1.gz", "man-html", MIT),
    Source("htop.1.html", *HTOP, M + "man1/htop.1.gz", "man-html", GPL2),
    # Markdown
    Source("dotenv-readme.md", *DOTENV, "package/README.md", "copy", "BSD-2-Clause"),
    Source("semver-readme.md", *SEMVER, "package/README.md", "copy", "ISC"),
    Source("http-server-readme.md", *HTTPSERVER, "package/README.md", "copy", "MIT"),
    Source("cors-readme.md", *CORS, "package/README.md", "copy", "MIT"),
    Source("biber-readme.md", *BIBER, D + "biber/README.md", "copy", "Artistic-2.0 or GPL-1+"),
    Source("attrs-readme.md", *ATTRS, D + "python-attr-doc/README.md.gz", "gunzip", MIT),
    Source("htop-readme.md", *HTOP, D + "htop/README.gz", "gunzip", GPL2),
    # plain text
    Source("chrony-faq.txt", *CHRONY, D + "chrony/FAQ.gz", "gunzip", "GPL-2"),
    Source("cron-features.txt", *CRON, D + "cron/FEATURES", "copy", "Paul Vixie's licence"),
    Source(
        "lighttpd-performance.txt",
        *LIGHTTPD,
        D + "lighttpd/performance.txt.gz",
        "gunzip",
        BSD3,
    ),
    Source("latexmk-readme.txt", *LATEXMK, D + "latexmk/README", "copy", GPL2),
    Source("dvipng.1.txt", *DVIPNG, M + "man1/dvipng.1.gz", "man-text", "LGPL-3+"),
    Source("cppcheck-readme.txt", *CPPCHECK, D + "cppcheck/readme.txt", "copy", GPL3),
)


def convert(src: Path, dest: Path, how: str) -> None:
    """doctune's conversions (realdocs' plus gunzip-then-pandoc), and make_doctrain's man
    page renderings (``man-text``, ``man-html``, ``man-docx``)."""
    if how.startswith("man-"):
        dt.render_man(src, dest, how)
    else:
        doctune.convert(src, dest, how)


def cmd_sources(args: argparse.Namespace) -> int:
    return doctune.cmd_sources(args, FILES, SUMS, convert)


def cmd_check(args: argparse.Namespace) -> int:
    return doctune.cmd_check(args, DOCS)


def main(argv: list[str] | None = None) -> int:
    return rd.cli(__doc__.splitlines()[0], DOCS, QUESTIONS, cmd_sources, cmd_check, argv)


if __name__ == "__main__":
    sys.exit(main())
