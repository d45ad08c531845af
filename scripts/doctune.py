"""The documentation-domain TUNING folder (data/doctune): re-create it, and check it.

    .venv/bin/python scripts/doctune.py sources           # download the packages, rebuild docs/
    .venv/bin/python scripts/doctune.py sources --verify  # ... and compare with SHA256SUMS
    .venv/bin/python scripts/doctune.py check             # every file loads, every gold is there

data/doctune is for tuning (calibrators, decoding rules, a reader's domain adaptation);
data/realdocs is for evaluation only and must stay unseen by tuning. The two share no
package, no file (by sha256) and no question text (tests/test_doctune_data.py checks it).

This script reuses scripts/realdocs.py (imported, not copied): its `Source` record,
package download (`fetch`), conversions (`convert`, `to_docx`: pandoc with no remote
images and SOURCE_DATE_EPOCH set) and its question checks (`check_question`,
`load_docs`, `format_table`). What differs: the list of files (`FILES` below), one more
conversion (``docx-from-markdown-gz``: gunzip, then pandoc Markdown → DOCX), and that a
question may have ``"answers": []`` (not answerable from this corpus: kept for tuning
abstention), which ``check`` counts but has nothing to look up for.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "doctune"
DOCS = HERE / "docs"
QUESTIONS = HERE / "questions.jsonl"
SUMS = HERE / "SHA256SUMS"


sys.path.insert(0, str(ROOT))  # run as a file: the repository, for the scripts package
from scripts import realdocs as rd  # noqa: E402

Source = rd.Source
FORMATS = rd.FORMATS

# -- provenance -------------------------------------------------------------------------
LATEXDIFF = ("deb", "latexdiff", "1.3.2-1")
PSTOEDIT = ("deb", "pstoedit", "3.78-2")
GPUTILS = ("deb", "gputils-doc", "1.4.0-0.2")
DBLATEX = ("deb", "dblatex-doc", "0.3.12py3-2")
CLICK = ("deb", "python-click-doc", "8.1.3-2")
REQUESTS = ("deb", "python-requests-doc", "2.28.1+dfsg-1")
FLASK = ("deb", "python-flask-doc", "2.2.2-3")
CURL = ("deb", "libcurl4-doc", "7.88.1-10+deb12u15")
APTITUDE = ("deb", "aptitude-doc-en", "0.8.13-5")
ZSH = ("deb", "zsh-doc", "5.9-4")
GIT = ("deb", "git-doc", "1:2.39.5-0+deb12u3")
APT = ("deb", "apt-doc", "2.6.2")
BASH = ("deb", "bash-doc", "5.2.15-2")
UNITS = ("deb", "units", "2.22-2")
VITEPRESS = ("npm", "vitepress", "1.6.4")
BIBTOOL = ("deb", "bibtool", "2.68+ds-1")
GROFF = ("deb", "groff", "1.22.4-10")
COVERAGE = ("deb", "python-coverage-doc", "6.5.0+dfsg1-2")
PYTEST = ("deb", "python-pytest-doc", "7.2.1-2")
MYPY = ("deb", "mypy-doc", "1.0.1-1")
RSNAPSHOT = ("deb", "rsnapshot", "1.4.5-1")
LYNX = ("deb", "lynx-common", "2.9.0dev.12-1")
POSTFIX = ("deb", "postfix-doc", "3.7.11-0+deb12u1")
FZF = ("deb", "fzf", "0.38.0-1+b1")
SCREEN = ("deb", "screen", "4.9.0-4")
DEBUG = ("npm", "debug", "4.4.3")
NODEMON = ("npm", "nodemon", "3.1.14")
LATEXMK = ("deb", "latex-mk", "2.1-3")
RUBBER = ("deb", "rubber", "1.6.0-2")
DPIC = ("deb", "dpic", "2023.02.01-1")
BABEL = ("deb", "python-babel-doc", "2.10.3-1")
WERKZEUG = ("deb", "python-werkzeug-doc", "2.2.2-3+deb12u1")
BODYPARSER = ("npm", "body-parser", "2.4.0")
PRIVOXY = ("deb", "privoxy", "3.0.34-1")
DOT2TEX = ("deb", "dot2tex", "2.11.3-3")
DNSMASQ = ("deb", "dnsmasq-base", "2.90-4~deb12u2")
MORGAN = ("npm", "morgan", "1.12.1")
COMPRESSION = ("npm", "compression", "1.8.2")
SESSION = ("npm", "express-session", "1.19.0")
NAUTY = ("deb", "nauty-doc", "2.8.6+ds-2")
LATEXMAKE = ("deb", "latex-make", "2.4.3-1")
SDCC = ("deb", "sdcc-doc", "4.2.0+dfsg-1")
AUCTEX = ("deb", "auctex", "12.2-1")
CRYPTOGRAPHY = ("deb", "python-cryptography-doc", "38.0.4-3+deb12u1")
TORNADO = ("deb", "python-tornado-doc", "6.2.0-3+deb12u4")
MULTER = ("npm", "multer", "2.5.0")
W3M = ("deb", "w3m", "0.5.3+git20230121-2")
MARKDOWN = ("deb", "python-markdown-doc", "3.4.1-2+deb12u1")
OPENVPN = ("deb", "openvpn", "2.6.14-0+deb12u2")
HELMET = ("npm", "helmet", "8.3.0")
COMMANDER = ("npm", "commander", "14.0.3")
SERVESTATIC = ("npm", "serve-static", "2.2.1")
VSFTPD = ("deb", "vsftpd", "3.0.3-13+b2")

CLICKS = "usr/share/doc/python-click-doc/html/_sources/"
REQH = "usr/share/doc/python-requests-doc/html/"
FLASKH = "usr/share/doc/python-flask-doc/html/"
CURLD = "usr/share/doc/libcurl4/"
APTI = "usr/share/doc/aptitude/html/en/"
ZSHH = "usr/share/doc/zsh-common/html/"
GITD = "usr/share/doc/git-doc/"
DBLX = "usr/share/doc/dblatex/"
BIBD = "usr/share/doc/bibtool/"
RSND = "usr/share/doc/rsnapshot/"
DNSD = "usr/share/doc/dnsmasq-base/"
OVPN = "usr/share/doc/openvpn/"
OVPNL = "GPL-2 with OpenSSL exception"
GPL2, GPL3, BSD3 = "GPL-2+", "GPL-3+", "BSD-3-Clause"
CURLL, MIT = "curl (MIT/X derivative)", "MIT"
CCBYSA, EXPAT = "CC-BY-SA-3.0", "MIT (Expat)"

FILES: tuple[Any, ...] = (
    # PDF
    Source(
        "latexdiff-manual.pdf",
        *LATEXDIFF,
        "usr/share/doc/latexdiff/latexdiff-man.pdf.gz",
        "gunzip",
        GPL3,
    ),
    Source("pstoedit-manual.pdf", *PSTOEDIT, "usr/share/doc/pstoedit/pstoedit.pdf", "copy", GPL2),
    Source(
        "gputils-manual.pdf", *GPUTILS, "usr/share/doc/gputils-doc/gputils.pdf.gz", "gunzip", GPL2
    ),
    Source("dblatex-release-notes.pdf", *DBLATEX, DBLX + "release-notes.pdf.gz", "gunzip", GPL2),
    Source("bibtool-changes.pdf", *BIBTOOL, BIBD + "Changes.pdf", "copy", CCBYSA),
    Source("bibtool-reference-card.pdf", *BIBTOOL, BIBD + "ref_card.pdf", "copy", CCBYSA),
    Source(
        "groff-mom-pdf.pdf",
        *GROFF,
        "usr/share/doc/groff-base/examples/mom/mom-pdf.pdf.gz",
        "gunzip",
        GPL3,
    ),
    Source(
        "latex-mk-manual.pdf",
        *LATEXMK,
        "usr/share/doc/latex-mk/latex-mk.pdf.gz",
        "gunzip",
        "BSD-4-clause",
    ),
    Source("rubber-manual.pdf", *RUBBER, "usr/share/doc/rubber/rubber.pdf.gz", "gunzip", GPL2),
    Source("dpic-manual.pdf", *DPIC, "usr/share/doc/dpic/dpic-doc.pdf.gz", "gunzip", "CC-BY-3.0"),
    Source(
        "latex-make-manual.pdf",
        *LATEXMAKE,
        "usr/share/texmf/doc/latex/latex-make/latex-make.pdf",
        "copy",
        GPL2,
    ),
    Source("sdcc-manual.pdf", *SDCC, "usr/share/doc/sdcc-doc/sdccman.pdf.gz", "gunzip", GPL2),
    Source(
        "auctex-reference-card.pdf",
        *AUCTEX,
        "usr/share/doc/auctex/tex-ref.pdf",
        "copy",
        "permissive (preserve-notice)",
    ),
    # DOCX (pandoc conversions)
    Source("click-options.docx", *CLICK, CLICKS + "options.rst.txt", "docx-from-rst", BSD3),
    Source(
        "requests-quickstart.docx",
        *REQUESTS,
        REQH + "_sources/user/quickstart.rst.txt",
        "docx-from-rst",
        "Apache-2.0",
    ),
    Source("flask-config.docx", *FLASK, FLASKH + "_sources/config.rst.txt", "docx-from-rst", BSD3),
    Source(
        "curl-http-scripting.docx",
        *CURL,
        CURLD + "TheArtOfHttpScripting.md.gz",
        "docx-from-markdown-gz",
        CURLL,
    ),
    Source(
        "coverage-config.docx",
        *COVERAGE,
        "usr/share/doc/python-coverage-doc/html/_sources/config.rst.txt",
        "docx-from-rst",
        "Apache-2.0",
    ),
    Source(
        "pytest-cache.docx",
        *PYTEST,
        "usr/share/doc/python-pytest-doc/html/_sources/how-to/cache.rst.txt",
        "docx-from-rst",
        EXPAT,
    ),
    Source(
        "mypy-daemon.docx",
        *MYPY,
        "usr/share/doc/mypy/html/_sources/mypy_daemon.rst.txt",
        "docx-from-rst",
        EXPAT,
    ),
    Source(
        "babel-dates.docx",
        *BABEL,
        "usr/share/doc/python-babel-doc/html/_sources/dates.rst.txt",
        "docx-from-rst",
        BSD3,
    ),
    Source(
        "werkzeug-serving.docx",
        *WERKZEUG,
        "usr/share/doc/python-werkzeug-doc/html/_sources/serving.rst.txt",
        "docx-from-rst",
        BSD3,
    ),
    Source("body-parser-readme.docx", *BODYPARSER, "package/README.md", "docx-from-markdown", MIT),
    Source(
        "cryptography-fernet.docx",
        *CRYPTOGRAPHY,
        "usr/share/doc/python-cryptography-doc/html/_sources/fernet.rst.txt",
        "docx-from-rst",
        "Apache-2.0",
    ),
    Source(
        "tornado-running.docx",
        *TORNADO,
        "usr/share/doc/python-tornado-doc/html/_sources/guide/running.rst.txt",
        "docx-from-rst",
        "Apache-2.0",
    ),
    Source("multer-readme.docx", *MULTER, "package/README.md", "docx-from-markdown", MIT),
    # HTML
    Source("aptitude-keybindings.html", *APTITUDE, APTI + "ch02s05s02.html", "copy", GPL2),
    Source("aptitude-themes.html", *APTITUDE, APTI + "ch02s05s04.html", "copy", GPL2),
    Source("zsh-files.html", *ZSH, ZSHH + "Files.html", "copy", "Zsh (MIT-like)"),
    Source(
        "zsh-conditional-expressions.html",
        *ZSH,
        ZSHH + "Conditional-Expressions.html",
        "copy",
        "Zsh (MIT-like)",
    ),
    Source("dblatex-specs.html", *DBLATEX, DBLX + "xhtml/manual/sec-specs.html", "copy", GPL2),
    Source("git-gitignore.html", *GIT, GITD + "gitignore.html", "copy", "GPL-2"),
    Source(
        "requests-authentication.html",
        *REQUESTS,
        REQH + "user/authentication.html",
        "copy",
        "Apache-2.0",
    ),
    Source("flask-cli.html", *FLASK, FLASKH + "cli.html", "copy", BSD3),
    Source("rsnapshot-howto.html", *RSNAPSHOT, RSND + "html/rsnapshot-HOWTO.en.html", "copy", GPL2),
    Source(
        "lynx-options-help.html",
        *LYNX,
        "usr/share/doc/lynx-common/lynx_help/keystrokes/option_help.html.gz",
        "gunzip",
        "GPL-2",
    ),
    Source(
        "postfix-postqueue.html",
        *POSTFIX,
        "usr/share/doc/postfix/html/postqueue.1.html",
        "copy",
        "IPL-1.0 or EPL-2.0",
    ),
    Source(
        "privoxy-faq-configuration.html",
        *PRIVOXY,
        "usr/share/doc/privoxy/faq/configuration.html",
        "copy",
        GPL2,
    ),
    Source(
        "dot2tex-usage-guide.html",
        *DOT2TEX,
        "usr/share/doc/dot2tex/html/usage_guide.html",
        "copy",
        MIT,
    ),
    Source("dnsmasq-setup.html", *DNSMASQ, DNSD + "setup.html", "copy", "GPL-2 or GPL-3"),
    Source("w3m-manual.html", *W3M, "usr/share/doc/w3m/MANUAL.html", "copy", "w3m (MIT-like)"),
    Source(
        "python-markdown-toc.html",
        *MARKDOWN,
        "usr/share/doc/python-markdown-doc/docs/extensions/toc.html",
        "copy",
        BSD3,
    ),
    Source("openvpn-examples.html", *OPENVPN, OVPN + "openvpn-examples.5.html", "copy", OVPNL),
    # Markdown
    Source("curl-versions.md", *CURL, CURLD + "VERSIONS.md", "copy", CURLL),
    Source("curl-http-cookies.md", *CURL, CURLD + "HTTP-COOKIES.md.gz", "gunzip", CURLL),
    Source("curl-bug-bounty.md", *CURL, CURLD + "BUG-BOUNTY.md", "copy", CURLL),
    Source("curl-sslcerts.md", *CURL, CURLD + "SSLCERTS.md.gz", "gunzip", CURLL),
    Source("curl-governance.md", *CURL, CURLD + "GOVERNANCE.md.gz", "gunzip", CURLL),
    Source(
        "apt-acquire-additional-files.md",
        *APT,
        "usr/share/doc/apt/acquire-additional-files.md.gz",
        "gunzip",
        "GPL-2+",
    ),
    Source(
        "vitepress-api-examples.md", *VITEPRESS, "package/template/api-examples.md", "copy", MIT
    ),
    Source(
        "vitepress-markdown-examples.md",
        *VITEPRESS,
        "package/template/markdown-examples.md",
        "copy",
        MIT,
    ),
    Source("fzf-changelog.md", *FZF, "usr/share/doc/fzf/changelog.gz", "gunzip", EXPAT),
    Source("debug-readme.md", *DEBUG, "package/README.md", "copy", MIT),
    Source("nodemon-readme.md", *NODEMON, "package/README.md", "copy", MIT),
    Source("morgan-readme.md", *MORGAN, "package/README.md", "copy", MIT),
    Source("compression-readme.md", *COMPRESSION, "package/README.md", "copy", MIT),
    Source("express-session-readme.md", *SESSION, "package/README.md", "copy", MIT),
    Source("helmet-readme.md", *HELMET, "package/README.md", "copy", MIT),
    Source("commander-readme.md", *COMMANDER, "package/Readme.md", "copy", MIT),
    Source("serve-static-readme.md", *SERVESTATIC, "package/README.md", "copy", MIT),
    # plain text
    Source(
        "bash-examples-index.txt",
        *BASH,
        "usr/share/doc/bash/examples/INDEX.txt",
        "copy",
        "GPL-3+",
    ),
    Source("git-bisect-lk2009.txt", *GIT, GITD + "git-bisect-lk2009.txt", "copy", "GPL-2"),
    Source("git-submitting-patches.txt", *GIT, GITD + "SubmittingPatches.txt", "copy", "GPL-2"),
    Source("git-reviewing-guidelines.txt", *GIT, GITD + "ReviewingGuidelines.txt", "copy", "GPL-2"),
    Source("units-readme.txt", *UNITS, "usr/share/doc/units/README.gz", "gunzip", "GPL-3+"),
    Source("screen-faq.txt", *SCREEN, "usr/share/doc/screen/FAQ.gz", "gunzip", GPL3),
    Source(
        "rsnapshot-conf-default.txt",
        *RSNAPSHOT,
        RSND + "examples/rsnapshot.conf.default",
        "copy",
        GPL2,
    ),
    Source("dnsmasq-faq.txt", *DNSMASQ, DNSD + "FAQ.gz", "gunzip", "GPL-2 or GPL-3"),
    Source(
        "dnsmasq-conf-example.txt",
        *DNSMASQ,
        DNSD + "examples/dnsmasq.conf.example",
        "copy",
        "GPL-2 or GPL-3",
    ),
    Source(
        "nauty-formats.txt",
        *NAUTY,
        "usr/share/doc/nauty/formats.txt.gz",
        "gunzip",
        "Apache-2.0",
    ),
    Source(
        "openvpn-server-conf.txt",
        *OPENVPN,
        OVPN + "examples/sample-config-files/server.conf",
        "copy",
        OVPNL,
    ),
    Source("auctex-faq.txt", *AUCTEX, "usr/share/doc/auctex/FAQ.gz", "gunzip", GPL3),
    Source("vsftpd-conf.txt", *VSFTPD, "etc/vsftpd.conf", "copy", "GPL-2 with SSL exception"),
)


def convert(src: Path, dest: Path, how: str) -> None:
    """realdocs' conversions, plus ``docx-from-markdown-gz`` (gunzip, then pandoc)."""
    if how != "docx-from-markdown-gz":
        rd.convert(src, dest, how)
        return
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / src.name.removesuffix(".gz")
        plain.write_bytes(gzip.decompress(src.read_bytes()))
        rd.to_docx(plain, dest, "markdown")


def cmd_sources(
    args: argparse.Namespace,
    files: tuple[Any, ...] = FILES,
    sums: Path = SUMS,
    conv: Callable[[Path, Path, str], None] = convert,
) -> int:
    """Re-create ``args.out`` from ``files`` (and compare with / rewrite ``sums``): the
    defaults are doctune's; scripts/docheld.py passes its own."""
    cache = args.cache or Path(tempfile.mkdtemp(prefix=f"{sums.parent.name}-"))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for s in files:
        where = rd.fetch(s.kind, s.package, s.version, cache)
        conv(where / s.member, out / s.name, s.convert)
    lines = [f"{rd.sha256(out / s.name)}  docs/{s.name}" for s in files]
    if args.write_sums:
        sums.write_text("\n".join(lines) + "\n")
        print(f"wrote {sums}")
    bad = 0
    if args.verify:
        known = dict(
            reversed(line.split("  ", 1)) for line in sums.read_text().splitlines() if line
        )
        for s in files:
            got, want = rd.sha256(out / s.name), known.get(f"docs/{s.name}")
            if got == want:
                continue
            if "docx" in s.convert:  # made by pandoc
                print(f"  note {s.name}: differs (another pandoc version than 2.17.1.1?)")
            else:
                print(f"  FAIL {s.name}: sha256 {got} != {want}")
                bad += 1
    extra = sorted(p.name for p in out.iterdir() if p.name not in {s.name for s in files})
    if extra:
        print(f"  note: files in {out} not from FILES: {', '.join(extra)}")
    print(f"{len(files)} files in {out}; packages unpacked in {cache}")
    return 1 if bad else 0


# -- checking ---------------------------------------------------------------------------
def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    return rd.load_questions(path)


def cmd_check(args: argparse.Namespace, docs: Path = DOCS) -> int:
    """Load every file of ``docs`` and check ``args.questions`` against it (doctune's by
    default; scripts/docheld.py passes its folder)."""
    by_name, failures = rd.check_folder(docs)
    questions = load_questions(args.questions)
    counts = collections.Counter(q["format"] for q in questions)
    none = collections.Counter(q["format"] for q in questions if not q["answers"])
    print(
        f"questions: {len(questions)} ("
        + ", ".join(f"{f} {counts[f]}" for f in FORMATS)
        + f"); unanswerable: {sum(none.values())} ("
        + ", ".join(f"{f} {none[f]}" for f in FORMATS)
        + ")"
    )
    ids = collections.Counter(q["id"] for q in questions)
    failures += [f"{i}: id repeats" for i, n in ids.items() if n > 1]
    failures += rd.check_questions(questions, by_name)
    unused = sorted(set(by_name) - {Path(q["file"]).name for q in questions})
    if unused:
        print(f"note: files with no question: {', '.join(unused)}")
    return rd.report(failures)


def main(argv: list[str] | None = None) -> int:
    return rd.cli(__doc__.splitlines()[0], DOCS, QUESTIONS, cmd_sources, cmd_check, argv)


if __name__ == "__main__":
    sys.exit(main())
