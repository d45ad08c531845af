"""Rule-made reading-comprehension questions on software documentation (data/doctrain).

    .venv/bin/python scripts/make_doctrain.py                 # download, convert, generate
    .venv/bin/python scripts/make_doctrain.py --docs DIR      # keep the converted files there
    .venv/bin/python scripts/make_doctrain.py --sample 40     # print 40 random questions

Each file of `FILES` is taken from a Debian 12 package at a pinned version (`apt-get
download`, `dpkg-deb -x`: the helpers of scripts/realdocs.py), converted (man page rendered
to text by ``man``, or to HTML/DOCX by pandoc; gunzip; copy), read with qa's own readers
(`qa.index.ingest.load_file`) and cut into passages by qa's chunker (`qa.index.chunk`), so
that each training context is a passage as the reader sees it at ask time. Rules
(`questions`) turn option lists, "Key:: value" table rows, defaults, versions,
files and environment variables into (question, verbatim answer span) pairs; every answer
is checked to be ``context[start:end]``. Questions are deduplicated (a question text that
would get two different answers is dropped), capped per file and per package (seed 0),
and written as SQuAD JSON (`train.json`, for ``qa train-reader --gold``) with the sha256 of
every converted file (`SHA256SUMS`). None of these packages is used by data/doctune or
data/realdocs (tests/test_doctrain_data.py checks packages, bytes and question texts).
"""

from __future__ import annotations

import argparse
import collections
import gzip
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "data" / "doctrain"
TRAIN = HERE / "train.json"
SUMS = HERE / "SHA256SUMS"
PER_FILE = 45  # questions kept per file at most
PER_PACKAGE = 420  # ... and per package, so that no manual dominates
SEED = 0


sys.path.insert(0, str(ROOT))  # run as a file: the repository, for the scripts package
from scripts import realdocs as rd  # noqa: E402


@dataclass(frozen=True)
class Source:
    """``member`` of Debian ``package`` at ``version``, written as ``name`` after
    ``convert`` (man-text, man-html, man-docx, gunzip, copy); ``tool`` names it in questions."""

    name: str
    package: str
    version: str
    member: str
    convert: str
    licence: str
    tool: str


def words(text: str) -> list[str]:
    return text.split()


PKG = {
    "coreutils": ("9.1-1", "GPL-3+"),
    "rsync": ("3.5.0+ds1-0+deb12u1", "GPL-3+"),
    "tar": ("1.34+dfsg-1.2+deb12u1", "GPL-3+"),
    "grep": ("3.8-5", "GPL-3+"),
    "sed": ("4.9-1+deb12u1", "GPL-3+"),
    "findutils": ("4.9.0-4", "GPL-3+"),
    "gzip": ("1.12-1", "GPL-3+"),
    "xz-utils": ("5.4.1-1+deb12u2", "public domain (debian/copyright: PD)"),
    "zstd": ("1.5.4+dfsg2-5+deb12u1", "BSD-3-Clause or GPL-2"),
    "wget": ("1.21.3-1+deb12u1", "GPL-3+; its manual GFDL"),
    "openssh-client": ("1:9.2p1-2+deb12u10", "OpenSSH (BSD-style)"),
    "openssh-server": ("1:9.2p1-2+deb12u10", "OpenSSH (BSD-style)"),
    "ripgrep": ("13.0.0-4+b2", "Unlicense or MIT"),
    "fd-find": ("8.6.0-3", "MIT or Apache-2.0"),
    "jq": ("1.6-2.1+deb12u3", "CC-BY-3.0 (manual)"),
    "tmux": ("3.3a-3", "ISC"),
    "nano": ("7.2-1+deb12u1", "GFDL-NIV+ or GPL-3+ (doc/*.1, *.5)"),
    "less": ("590-2.1~deb12u2", "GPL-3+ or Less"),
    "sudo": ("1.9.13p3-1+deb12u4", "ISC"),
    "apache2-doc": ("2.4.71-1~deb12u1", "Apache-2.0"),
    "nodejs-doc": ("18.20.4+dfsg-1~deb12u3", "MIT (Expat)"),
}
COREUTILS = words(
    "ls cp mv rm mkdir ln chmod chown touch date df du sort uniq cut tr head tail wc "
    "split tee stat install dd cat nl od shuf seq numfmt timeout env realpath mktemp "
    "truncate base64 sha256sum comm join paste fold fmt pr tac csplit readlink "
    "printf nice stdbuf shred expand basename id who uname"
)
# (package, man path, tool, conversion)
# a few pages as pandoc HTML/DOCX too, so that the passages of those readers are trained on
AS_DOCX, AS_HTML = {"ls", "cp", "sort", "date", "du"}, {"df", "head", "tail", "cut", "split"}


def _man_format(cmd: str) -> str:
    return "man-docx" if cmd in AS_DOCX else "man-html" if cmd in AS_HTML else "man-text"


MANS = [("coreutils", f"man1/{c}.1.gz", c, _man_format(c)) for c in COREUTILS] + [
    ("rsync", "man1/rsync.1.gz", "rsync", "man-text"),
    ("rsync", "man5/rsyncd.conf.5.gz", "rsyncd.conf", "man-html"),
    ("tar", "man1/tar.1.gz", "tar", "man-docx"),
    ("grep", "man1/grep.1.gz", "grep", "man-docx"),
    ("sed", "man1/sed.1.gz", "sed", "man-html"),
    ("findutils", "man1/find.1.gz", "find", "man-text"),
    ("findutils", "man1/xargs.1.gz", "xargs", "man-docx"),
    ("gzip", "man1/gzip.1.gz", "gzip", "man-text"),
    ("xz-utils", "man1/xz.1.gz", "xz", "man-text"),
    ("zstd", "man1/zstd.1.gz", "zstd", "man-text"),
    ("wget", "man1/wget.1.gz", "wget", "man-docx"),
    ("openssh-client", "man1/ssh.1.gz", "ssh", "man-text"),
    ("openssh-client", "man5/ssh_config.5.gz", "ssh_config", "man-text"),
    ("openssh-client", "man1/scp.1.gz", "scp", "man-text"),
    ("openssh-client", "man1/ssh-keygen.1.gz", "ssh-keygen", "man-text"),
    ("openssh-client", "man1/ssh-agent.1.gz", "ssh-agent", "man-text"),
    ("openssh-server", "man5/sshd_config.5.gz", "sshd_config", "man-text"),
    ("openssh-server", "man8/sshd.8.gz", "sshd", "man-text"),
    ("ripgrep", "man1/rg.1.gz", "rg", "man-text"),
    ("fd-find", "man1/fdfind.1.gz", "fd", "man-html"),
    ("jq", "man1/jq.1.gz", "jq", "man-text"),
    ("tmux", "man1/tmux.1.gz", "tmux", "man-text"),
    ("nano", "man1/nano.1.gz", "nano", "man-docx"),
    ("nano", "man5/nanorc.5.gz", "nanorc", "man-text"),
    ("less", "man1/less.1.gz", "less", "man-text"),
    ("sudo", "man5/sudoers.5.gz", "sudoers", "man-text"),
    ("sudo", "man8/sudo.8.gz", "sudo", "man-text"),
]
APACHE = words(
    "core mod_deflate mod_ssl mod_proxy mod_rewrite mod_headers mod_cache mod_dir "
    "mod_alias mod_log_config mod_mime mod_expires mod_autoindex mod_auth_basic "
    "mod_status mpm_common event mod_http2 mod_remoteip mod_reqtimeout mod_setenvif "
    "mod_userdir mod_proxy_http mod_cache_disk mod_authz_core mod_negotiation "
    "mod_include mod_cgi mod_session mod_ratelimit mod_md"
)
NODE = words(
    "cli fs http https child_process zlib net stream buffer dns os path process util "
    "readline worker_threads cluster crypto tls url events"
)
SUFFIX = {"man-text": ".txt", "man-html": ".html", "man-docx": ".docx"}


def sources() -> list[Source]:
    out = []
    for pkg, member, tool, how in MANS:
        name = f"{tool}.{member.split('.')[-2]}{SUFFIX[how]}"
        out.append(
            Source(name, pkg, PKG[pkg][0], f"usr/share/man/{member}", how, PKG[pkg][1], tool)
        )
    apache, ap_dir = PKG["apache2-doc"], "usr/share/doc/apache2-doc/manual/en/mod/"
    for m in APACHE:
        out.append(
            Source(
                f"apache-{m}.html",
                "apache2-doc",
                apache[0],
                f"{ap_dir}{m}.html",
                "copy",
                apache[1],
                "Apache httpd",
            )
        )
    node, node_dir = PKG["nodejs-doc"], "usr/share/doc/nodejs/api/"
    for m in NODE:
        out.append(
            Source(
                f"node-{m}.md",
                "nodejs-doc",
                node[0],
                f"{node_dir}{m}.md.gz",
                "gunzip",
                node[1],
                "Node.js",
            )
        )
    return out


FILES: tuple[Source, ...] = tuple(sources())


def render_man(src: Path, dest: Path, how: str) -> None:
    """A man page as a reader would save it: ``man`` to text (80 columns, no hyphenation or
    justification, overstrike removed), or pandoc's man reader to HTML or DOCX."""
    if how == "man-text":
        env = {**os.environ, "MANWIDTH": "80", "LC_ALL": "C.UTF-8"}
        shown = subprocess.run(
            ["man", "--nh", "--nj", "-E", "UTF-8", "-l", str(src)],
            env=env,
            capture_output=True,
            check=True,
        ).stdout
        text = subprocess.run(["col", "-bx"], input=shown, capture_output=True, check=True)
        dest.write_bytes(text.stdout)
        return
    with tempfile.TemporaryDirectory() as tmp:
        roff = Path(tmp) / "page.man"
        roff.write_bytes(gzip.decompress(src.read_bytes()))
        if how == "man-docx":
            rd.to_docx(roff, dest, "man")
        else:
            rd.run(["pandoc", "-s", "-f", "man", "-t", "html", "-o", str(dest), str(roff)])


def build_docs(out: Path, cache: Path) -> dict[str, str]:
    """Fetch, convert, and return each file's sha256."""
    out.mkdir(parents=True, exist_ok=True)
    sums = {}
    for s in FILES:
        where = rd.fetch("deb", s.package, s.version, cache)
        dest = out / s.name
        if s.convert.startswith("man-"):
            render_man(where / s.member, dest, s.convert)
        else:
            rd.convert(where / s.member, dest, s.convert)
        sums[s.name] = hashlib.sha256(dest.read_bytes()).hexdigest()
    return sums


def generate(docs: Path) -> dict[str, list[dict[str, Any]]]:
    """Every checked (question, answer) each file's passages give, per file."""
    from qa.index.chunk import chunk
    from qa.index.ingest import load_file

    found: dict[str, list[dict[str, Any]]] = {}
    for s in FILES:
        doc = load_file(docs / s.name)
        items = []
        for p in chunk(doc):
            for q, start, end, rule in questions(p.text, s.tool, s.convert, s.name):
                assert 0 <= start < end <= len(p.text)
                items.append(
                    {
                        "question": q,
                        "context": p.text,
                        "start": start,
                        "text": p.text[start:end],
                        "rule": rule,
                        "file": s.name,
                        "package": s.package,
                        "format": doc.meta.get("format"),
                    }
                )
        found[s.name] = items
    return found


def select(found: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Deduplicated, ambiguity-free, capped per file and per package (seed 0)."""
    answers: dict[str, set[str]] = collections.defaultdict(set)
    for items in found.values():
        for it in items:
            answers[norm(it["question"])].add(norm(it["text"]))
    rng = random.Random(SEED)
    kept, per_pkg = [], collections.Counter()
    seen: set[str] = set()
    for name in sorted(found):
        pool = [it for it in found[name] if len(answers[norm(it["question"])]) == 1]
        rng.shuffle(pool)
        n = 0
        for it in pool:
            key = norm(it["question"])
            if key in seen or n >= PER_FILE or per_pkg[it["package"]] >= PER_PACKAGE:
                continue
            seen.add(key)
            kept.append(it)
            n += 1
            per_pkg[it["package"]] += 1
    return kept


def to_squad(
    items: list[dict[str, Any]], prefix: str = "doctrain", version: str = "doctrain-1"
) -> dict[str, Any]:
    """SQuAD v1 JSON: one article per file, one paragraph per passage (ids ``prefix-N``)."""
    articles: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for n, it in enumerate(items):
        paras = articles.setdefault(it["file"], {})
        paras.setdefault(it["context"], []).append(
            {
                "id": f"{prefix}-{n}",
                "question": it["question"],
                "rule": it["rule"],
                "answers": [{"text": it["text"], "answer_start": it["start"]}],
            }
        )
    data = [
        {"title": f, "paragraphs": [{"context": c, "qas": qs} for c, qs in paras.items()]}
        for f, paras in sorted(articles.items())
    ]
    return {"version": version, "data": data}


# -- rules ------------------------------------------------------------------------------
Item = tuple[str, int, int, str]  # question, answer start, answer end, rule
IMPERATIVE = set(
    words(
        "print list use show display set enable disable sort ignore write read output "
        "append prepend follow force keep make remove suppress add create specify report "
        "run skip treat allow limit include exclude exit stop start compress decompress "
        "check override preserve change copy send save load select search match indicate "
        "produce generate return give count delete replace reverse separate split assume "
        "interpret accept request pass fail dump emit attempt try prompt ask recurse "
        "descend scan omit quote escape end begin disallow require verify display explain "
        "warn log print cause open close update restrict permit deny define limit test "
        "compare change bind connect listen forward expand join merge number pad truncate "
        "wait retry lock exclude strip convert encode decode identify prefer terminate "
        "kill"
    )
)
SECTIONS = {
    "NAME",
    "SYNOPSIS",
    "DESCRIPTION",
    "OPTIONS",
    "EXAMPLES",
    "FILES",
    "ENVIRONMENT",
    "AUTHOR",
    "AUTHORS",
    "BUGS",
    "HISTORY",
    "STANDARDS",
    "COPYRIGHT",
    "NOTES",
}
ENV_WORDS = {
    "HOME",
    "PATH",
    "TERM",
    "SHELL",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "TMPDIR",
    "LANG",
    "TZ",
    "COLUMNS",
    "LINES",
    "TAPE",
    "DISPLAY",
    "USER",
    "LESS",
    "GREP_COLORS",
}
KEY_LINE = re.compile(
    r"^[ ]*(?P<key>\S[^\n]*?)(?:[ ]{2,}|\n[ ]{4,}|\n\n)(?P<desc>[A-Za-z(][^\n]*)", re.M
)
OPT_NAME = re.compile(r"(?<![\w-])(--?[A-Za-z0-9?@][\w-]*)")
SENT_END = re.compile(r"\.(?=\s|$)|;|\n\n")
DEFAULT = re.compile(
    r"(?:[Tt]he default(?: value)? is|[Dd]efaults? to|Default:)\s+[\"'‘`]?"
    r"(?P<v>[\w~/.:+-]*\w(?: (?:seconds|minutes|hours|days|bytes|lines|characters))?)"
)
DEFAULT_AFTER = re.compile(r"(?<![\w-])(?P<v>[\w~/.+-]*\w)[\"'’`]? \(the default\)")
DEFAULT_PAREN = re.compile(r"\(default:? (?P<v>[\w~/.:+-]*\w)\)")
COMMAND = re.compile(
    r"(?:^|[.!:]\s+)To (?P<goal>[a-z][^,.:;\n`]{8,80}?),?\s+(?:run|use|type|execute|invoke)"
    r"\s*:?\s*`(?P<cmd>[^`\n]{3,80})`"
)
REQUIRES = re.compile(
    r"\b(?:requires?|needs?)\s+(?P<what>[A-Z][\w.+-]*)\s+(?:version\s+)?"
    r"(?P<v>v?\d+(?:\.\d+)+)"
)
CONF_PATH = re.compile(
    r"(?P<what>(?:(?:system-wide|per-user|user|global|default) )?(?:configuration|config|"
    r"startup|history|log|cache|known hosts|host key) (?:file|directory))[ ,]+"
    r"(?:is |at |in |\()?(?P<p>~?/[\w.+/-]*[\w/])"
)
TABLE_ROW = re.compile(r"^(?P<k>[A-Z][\w ]{1,30}):: +(?P<v>\S[^\n]*)$", re.M)
NODE_HEAD = re.compile(r"\A`(?P<name>[^`\n]+)`\n\n<!-- YAML\nadded: (?P<v>v[\d.]+)\n")
NODE_DEFAULT = re.compile(
    r"^[ ]*\* `(?P<n>\w+)` \{[^}\n]*\}[^\n]*?\*\*Default:\*\*\s+`(?P<v>[^`\n]+)`", re.M
)


def norm(s: str) -> str:
    return " ".join(s.lower().split())


def pick(options: list[str], key: str) -> str:
    """One of ``options`` chosen by the key's hash (stable across runs)."""
    return options[int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(options)]


def third_person(word: str) -> str:
    if word.endswith(("s", "sh", "ch", "x", "z")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def verb_phrase(clause: str) -> str | None:
    """The clause as a third-person verb phrase ("print sizes" → "prints sizes"), or None."""
    words = clause.rstrip(" .;:").split()
    if len(words) < 2 or len(words) > 16:
        return None
    w = words[0].lower()
    rest = " ".join(words[1:])
    if w in ("do", "don't") and (w == "don't" or words[1] == "not"):
        return "does not " + " ".join(words[2 if w == "do" else 1 :])
    if w in IMPERATIVE:
        return f"{third_person(w)} {rest}"
    if w in {third_person(v) for v in IMPERATIVE} or w in ("specifies", "controls"):
        return f"{w} {rest}"
    return None


def first_sentence(text: str, start: int) -> tuple[int, int] | None:
    """(start, end) of the sentence starting at ``start``, if it ends inside ``text``."""
    m = SENT_END.search(text, start)
    if not m:
        return None
    end = m.start()
    words = text[start:end].split()
    return (start, end) if 2 <= len(words) <= 25 else None


def entry_questions(text: str, tool: str) -> list[Item]:
    """Option, file and environment-variable entries: a key line, then its description."""
    out: list[Item] = []
    for m in KEY_LINE.finditer(text):
        key, ks, ds = m.group("key").strip(), m.start("key"), m.start("desc")
        sent = first_sentence(text, ds)
        if sent is None or len(key) > 60:
            continue
        desc = text[sent[0] : sent[1]]
        what = " ".join(desc.split())
        vp = verb_phrase(what)
        if key.startswith("-") and all(p.strip().startswith("-") for p in key.split(",")):
            names = [(o.start(1), o.group(1)) for o in OPT_NAME.finditer(key)]
            longs = [n for n in names if n[1].startswith("--")] or names
            if not longs:
                continue
            at, name = longs[0]
            a = ks + at
            q = pick(
                [
                    f"What does the {name} option of {tool} do?",
                    f"What does {tool} {name} do?",
                    f"What is {name} for in {tool}?",
                ],
                name + tool,
            )
            out.append((q, *sent, "option-what"))
            if vp:
                out.append((f"Which {tool} option {vp}?", a, a + len(name), "option-which"))
            out += default_questions(text, ds, f"{name} in {tool}", "default-option")
        elif re.fullmatch(r"~?/[\w.+/-]*[\w/]", key):
            out.append((f"What is {key} used for by {tool}?", *sent, "file-what"))
            head = re.match(r"(?:This is|This file is|It is) (the [^.;]{5,80})$", what)
            if head:
                q = f"Which file is {head.group(1)} for {tool}?"
                out.append((q, ks, ks + len(key), "file-which"))
        elif (re.fullmatch(r"[A-Z][A-Z0-9]*_[A-Z0-9_]+", key) or key in ENV_WORDS) and (
            key not in SECTIONS
        ):
            out.append(
                (f"What is the {key} environment variable used for in {tool}?", *sent, "env-what")
            )
            if vp:
                out.append((f"Which environment variable {vp}?", ks, ks + len(key), "env-which"))
        elif tool.endswith("_config") and re.fullmatch(r"[A-Z][a-z]+(?:[A-Z0-9][a-z0-9]*)*", key):
            out.append((f"What does the {key} keyword do in {tool}?", *sent, "keyword-what"))
            if vp:
                out.append((f"Which {tool} keyword {vp}?", ks, ks + len(key), "keyword-which"))
            out += default_questions(text, ds, f"{key} in {tool}", "default-keyword")
    return out


def default_questions(text: str, start: int, subject: str, rule: str) -> list[Item]:
    """ "The default is X" / "defaults to X" / "X (the default)" in the entry from ``start``."""
    nxt = re.search(r"\n[ ]{0,8}-{1,2}\w|\n\n\n", text[start:])
    entry_end = start + nxt.start() if nxt else len(text)
    for rx in (DEFAULT, DEFAULT_AFTER, DEFAULT_PAREN):
        m = rx.search(text, start, entry_end)
        if m and m.group("v").lower() not in ("the", "a", "an", "to", "is", "be", "not"):
            q = f"What is the default value of {subject}?"
            return [(q, m.start("v"), m.end("v"), rule)]
    return []


def table_questions(text: str, tool: str) -> list[Item]:
    """ "Key:: value" rows of a table (qa's HTML reader), under a "NAME Directive" title."""
    title = re.match(r"\A(?P<d>[<\w>]+) Directive\n", text)
    if not title:
        return []
    d = title.group("d")
    out: list[Item] = []
    for m in TABLE_ROW.finditer(text):
        k, v, vs = m.group("k"), m.group("v").strip(), m.start("v")
        ve = vs + len(v)
        if k == "Description":
            out.append((f"What is the {d} directive for?", vs, ve, "table-description"))
        elif k == "Syntax":
            out.append((f"What is the syntax of the {d} directive?", vs, ve, "table-syntax"))
        elif k == "Default":
            if v.startswith(d + " ") and len(v) > len(d) + 1:
                vs += len(d) + 1
            out.append((f"What is the default of the {d} directive?", vs, ve, "table-default"))
        elif k == "Context":
            out.append(
                (f"In which contexts can the {d} directive be used?", vs, ve, "table-context")
            )
        elif k == "Module":
            out.append((f"Which module provides the {d} directive?", vs, ve, "table-module"))
        elif k == "Override":
            out.append(
                (
                    f"Which AllowOverride setting lets .htaccess files use {d}?",
                    vs,
                    ve,
                    "table-override",
                )
            )
        elif k == "Compatibility" and "later" in v:
            ver = re.search(r"\d+\.\d+(?:\.\d+)?", v)
            if ver:
                out.append(
                    (
                        f"Since which version of {tool} is {d} available?",
                        vs + ver.start(),
                        vs + ver.end(),
                        "table-version",
                    )
                )
    return out


def node_questions(text: str, tool: str, module: str) -> list[Item]:
    """Node.js API pages: "added: vX" under a heading, and "**Default:** `x`" bullets."""
    out: list[Item] = []
    head = NODE_HEAD.match(text)
    name = None
    if head:
        name = re.sub(r"\(.*\)$", "()", head.group("name").split("=")[0])
        what = f"the {name} option" if name.startswith("-") else name
        out.append(
            (
                f"In which {tool} version was {what} added?",
                head.start("v"),
                head.end("v"),
                "version-added",
            )
        )
        body = re.search(r"-->\n\n(?=[A-Z])", text)
        sent = first_sentence(text, body.end()) if body else None
        if sent and name.startswith("-"):
            out.append((f"What does the node {name} option do?", *sent, "option-what"))
            vp = verb_phrase(" ".join(text[sent[0] : sent[1]].split()))
            if vp:
                out.append(
                    (
                        f"Which node option {vp}?",
                        head.start("name"),
                        head.start("name") + len(name),
                        "option-which",
                    )
                )
    for m in NODE_DEFAULT.finditer(text):
        of = f" of {name}" if name and name.endswith("()") else f" in the {module} module"
        q = f"What is the default value of the {m.group('n')} option{of}?"
        out.append((q, m.start("v"), m.end("v"), "default-node"))
    return out


def sentence_questions(text: str, tool: str) -> list[Item]:
    """Commands after "To X, run `cmd`", version requirements, configuration paths."""
    out: list[Item] = []
    for m in COMMAND.finditer(text):
        out.append((f"How do you {m.group('goal')}?", m.start("cmd"), m.end("cmd"), "command"))
    for m in REQUIRES.finditer(text):
        q = f"Which version of {m.group('what')} does {tool} require?"
        out.append((q, m.start("v"), m.end("v"), "version-required"))
    for m in CONF_PATH.finditer(text):
        q = f"Where is the {m.group('what')} of {tool}?"
        out.append((q, m.start("p"), m.end("p"), "path"))
    return out


def questions(text: str, tool: str, convert: str, name: str = "") -> list[Item]:
    """Every (question, start, end, rule) the rules find in one passage."""
    if convert == "gunzip":
        items = node_questions(text, tool, name.removeprefix("node-").removesuffix(".md"))
    elif convert == "copy":
        items = table_questions(text, tool)
    else:
        items = entry_questions(text, tool)
    items += sentence_questions(text, tool)
    good = []
    for q, s, e, rule in items:
        ans = text[s:e]
        if ans != ans.strip() or not ans or len(ans.split()) > 25 or len(q) > 200:
            continue
        if norm(ans) in norm(q):
            continue  # the question must not hold its own answer
        good.append((" ".join(q.split()), s, e, rule))
    return good


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=Path, help="folder for the converted files (default: temp)")
    ap.add_argument("--cache", type=Path, help="folder for the unpacked packages")
    ap.add_argument("--out", type=Path, default=TRAIN)
    ap.add_argument("--sums", type=Path, default=SUMS)
    ap.add_argument("--sample", type=int, default=0, help="print N random questions (seed 1)")
    args = ap.parse_args(argv)
    docs = args.docs or Path(tempfile.mkdtemp(prefix="doctrain-docs-"))
    cache = args.cache or Path(tempfile.mkdtemp(prefix="doctrain-pkgs-"))
    sums = build_docs(docs, cache)
    args.sums.write_text("".join(f"{sums[s.name]}  {s.name}\n" for s in FILES))
    items = select(generate(docs))
    args.out.write_text(json.dumps(to_squad(items), ensure_ascii=False, indent=0) + "\n")
    by = collections.Counter
    print(f"{len(items)} questions from {len(FILES)} files -> {args.out}")
    print("rules:", dict(by(it["rule"] for it in items).most_common()))
    print("formats:", dict(by(it["format"] for it in items).most_common()))
    print("packages:", dict(by(it["package"] for it in items).most_common()))
    for it in random.Random(1).sample(items, min(args.sample, len(items))):
        print(f"\n[{it['rule']}] {it['file']}\nQ: {it['question']}\nA: {it['text']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
