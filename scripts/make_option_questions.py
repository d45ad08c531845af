"""Reader-training questions made by rule from man pages: SQuAD JSON for
``qa train-reader --gold``.

    .venv/bin/python scripts/make_option_questions.py --out runs/optq.json [--pages 900]

A man page read by qa (``qa.index.formats``) keeps each option with its description in one
block, the option's names on the first line ("-k, --keep" / "Keep (don't delete) input
files."). Three rules make a question of such a block, each checked by the text it reads:

- *which option*: a description opening with an imperative verb of ``VERBS`` ("Keep
  input files.") asks "Which gzip option keeps input files?"; the answer is the block's
  first option name ("-k");
- *what it does*: "What does the gzip -k option do?"; the answer is the description's first
  sentence, without its full stop, when it opens with such a verb (or its third person);
- *default*: a sentence "The default is X." (or "X by default", "(default: X)") in the
  description asks "What is the default for gzip's -b option?"; the answer is X.

Each question's context is the passage of qa's own chunking (default settings) that holds
its answer, so the reader trains on passages as it reads them. Pages are sampled from
/usr/share/man sections 1, 5 and 8 with a fixed seed, at most ``--per-family`` a family
(gcloud's thousands of pages count as one family), leaving out every program that any of
the project's question sets (``data/*/docs``) has a document about, by name, and those
GNU Info manuals document (``INFO_PROGRAMS``): the sets measure what the reader learns
elsewhere.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MAN = Path("/usr/share/man")
SECTIONS = ("man1", "man5", "man8")

# imperative verbs an option's description opens with, and their third person
_IMPERATIVES = (
    "abort add allow append apply ask assume avoid build change check clear compare "
    "compress copy count create decompress delete disable display dump echo emit enable "
    "exclude exit expand follow force generate hide ignore include install keep kill "
    "limit list load lock log make mark merge move omit open output overwrite override "
    "pass preserve prefix print produce prompt read recurse remove rename replace report "
    "reset restore resume retry return run save search select send set show skip sort "
    "specify split start stop strip suppress sync test trace treat truncate turn unpack "
    "update use verify wait warn write"
)
VERBS = {
    w: w + "es" if re.search(r"(?:s|sh|ch|x|z)$", w) else w + "s" for w in _IMPERATIVES.split()
}
VERBS.update({"do": "does", "try": "tries", "copy": "copies", "specify": "specifies"})
VERBS.update({"apply": "applies", "verify": "verifies", "display": "displays"})

THIRD = frozenset(VERBS.values())
# "Display help and exit": the second verb agrees too
_AND_VERB = re.compile(rf"(\b(?:and|or|then) )({'|'.join(sorted(VERBS))})\b")
_OPTION = re.compile(r"^(-{1,2}[A-Za-z0-9?][\w.?-]*)")
_SENTENCE = re.compile(r"^(.{12,220}?[a-z0-9)\]])\.(?:\s|$)", re.S)
_DEFAULTS = (
    re.compile(r"\b[Tt]he default(?: value)? is ([^.;:()]{1,40}?)\.(?:\s|$)"),
    re.compile(r"\((?:the )?default(?::| is| =)? ([^()]{1,30})\)"),
    re.compile(r"\b[Dd]efaults? to ([^.;:()]{1,40}?)\.(?:\s|$)"),
)
_STOP_DEFAULT = re.compile(r"\b(?:if|unless|when|which|that|depend|the same|not)\b", re.I)


# Programs documented by GNU Info manuals (this machine's, and those the Info question sets
# may draw from): an Info manual's questions ask what their man pages say too.
_INFO_PROGRAMS = (
    "autosprintf bc dc bzip2 bunzip2 bzcat bzip2recover ed red find xargs locate updatedb "
    "gettext ngettext msgfmt msgmerge msginit msgunfmt xgettext envsubst gpg gpg-agent gpgsm "
    "gpgconf gpgv gpg-connect-agent dirmngr gpgrt grep egrep fgrep gzip gunzip zcat gzexe "
    "libffi asn1Coding asn1Decoding asn1Parser nettle-hash nettle-lfib-stream nettle-pbkdf2 "
    "sexp-conv pkcs1-conv readline sed time wget diff diff3 cmp sdiff patch coreutils "
    "gawk awk m4 cpio screen units shar unshar uuencode uudecode wdiff indent gperf bison yacc "
    "makeinfo texi2any texi2dvi info install-info texindex pod2texi parted mtools mcopy mdir "
    "mformat aspell runtest libtool libtoolize autoconf autoreconf autoheader autoscan "
    "autoupdate automake aclocal groff troff nroff gdbmtool gdbm_dump gdbm_load idn idn2 "
    "gsasl mailutils mail guile flex lex tar make gdb emacs nano zsh bash"
)
INFO_PROGRAMS = _INFO_PROGRAMS.split()


def exclusions(extra: Sequence[str] = ()) -> set[str]:
    """Programs the project's question sets have documents about (their files' stems),
    those of GNU Info manuals, and ``extra``."""
    names: set[str] = {n.lower() for n in (*INFO_PROGRAMS, *extra)}
    for docs in (ROOT / "data").glob("*/docs"):
        for f in docs.iterdir():
            stem = f.name.split(".")[0].lower()
            names.add(stem)
            names.add(stem.split("-")[0])
    return names


def family(name: str) -> str:
    """gcloud_beta_compute_x.1.gz and git-log.1.gz: their families gcloud and git."""
    return re.split(r"[_.-]", name, maxsplit=1)[0].lower()


def sample_pages(seed: int, pages: int, per_family: int, leave_out: set[str]) -> list[Path]:
    found = sorted(p for s in SECTIONS for p in (MAN / s).glob("*.gz") if not p.is_symlink())
    random.Random(seed).shuffle(found)
    taken: list[Path] = []
    count: Counter[str] = Counter()
    for p in found:
        fam = family(p.name)
        if fam in leave_out or p.name.split(".")[0].lower() in leave_out:
            continue
        if count[fam] >= per_family:
            continue
        count[fam] += 1
        taken.append(p)
        if len(taken) >= pages:
            break
    return taken


def questions_for(prog: str, term: str, desc: str) -> list[tuple[str, str]]:
    """(question, answer) pairs from one option block; the answer is a span of ``desc`` or
    of ``term``."""
    m = _OPTION.match(term)
    if not m or len(term) > 60:
        return []
    opt = m.group(1).rstrip(",.")
    out: list[tuple[str, str]] = []
    s = _SENTENCE.match(desc)
    if s and "\n" not in s.group(1):
        first = s.group(1)
        words = first.split()
        verb = words[0].lower()
        acts = verb in VERBS or verb in THIRD
        if verb in VERBS and words[0][0].isupper() and 3 <= len(words) <= 24:
            rest = " ".join(words[1:]).split(";")[0]
            rest = _AND_VERB.sub(lambda m: m.group(1) + VERBS[m.group(2)], rest)
            out.append((f"Which {prog} option {VERBS[verb]} {rest}?", opt))
        if acts and 3 <= len(words) <= 24:
            out.append((f"What does the {prog} {opt} option do?", first))
    for pat in _DEFAULTS:
        d = pat.search(desc)
        if d and not _STOP_DEFAULT.search(d.group(1)) and len(d.group(1).split()) <= 5:
            value = d.group(1).strip().strip("\"'“”")
            if value and value in desc:
                out.append((f"What is the default for {prog}'s {opt} option?", value))
            break
    return out


def kind(question: str) -> str:
    """Which rule made ``question``."""
    if question.startswith("What does"):
        return "what it does"
    return "default" if question.startswith("What is the default") else "which option"


def build(pages: list[Path], log: Any = sys.stderr) -> dict[str, Any]:
    from qa.core.config import Settings
    from qa.index import ingest
    from qa.index.chunk import passages
    from qa.index.formats import Skip

    settings = Settings()
    data: list[dict[str, Any]] = []
    n = 0
    for i, path in enumerate(pages, 1):
        try:
            doc = ingest.load_file(path)
        except Skip:
            continue
        prog = re.sub(r"\(\w+\)$", "", doc.title).strip() or path.name.split(".")[0]
        prog = prog.replace("_", " ")
        if len(prog.split()) > 4:
            continue
        paras: list[dict[str, Any]] = []
        for p in passages(doc, settings):
            qas = []
            for block in p.text.split("\n\n"):
                if "\n" not in block:
                    continue
                term, desc = block.split("\n", 1)
                for q, a in questions_for(prog, term, desc):
                    where = block.find(a, len(term) + 1) if a != term[: len(a)] else 0
                    at = p.text.find(block) + where
                    if where < 0 or p.text[at : at + len(a)] != a:
                        continue
                    n += 1
                    qas.append(
                        {
                            "id": f"opt{n:05d}",
                            "question": q,
                            "answers": [{"text": a, "answer_start": at}],
                        }
                    )
            if qas:
                paras.append({"context": p.text, "qas": qas})
        if paras:
            data.append({"title": path.name, "paragraphs": paras})
        if i % 100 == 0:
            print(f"{i} of {len(pages)} pages, {n} questions", file=log, flush=True)
    return {"version": "qa-option-questions", "data": data}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--pages", type=int, default=900)
    ap.add_argument("--per-family", type=int, default=8)
    ap.add_argument("--seed", type=int, default=83)
    ap.add_argument("--leave-out", nargs="*", default=[], help="more programs to leave out")
    ap.add_argument(
        "--rules",
        default="which option,what it does,default",
        help="the rules to keep, comma-separated",
    )
    ap.add_argument("--per-page", type=int, default=12, help="at most this many questions a page")
    args = ap.parse_args(argv)
    leave_out = exclusions(args.leave_out)
    pages = sample_pages(args.seed, args.pages, args.per_family, leave_out)
    out = build(pages)
    rng = random.Random(args.seed)
    rules = {r.strip() for r in args.rules.split(",")}
    for art in out["data"]:
        for p in art["paragraphs"]:
            p["qas"] = [q for q in p["qas"] if kind(q["question"]) in rules]
    every = [q for a in out["data"] for p in a["paragraphs"] for q in p["qas"]]
    which = sum(1 for q in every if kind(q["question"]) == "which option")
    does = [q for q in every if kind(q["question"]) == "what it does"]
    # as many long answers (a whole sentence) as short ones (an option's name)
    drop = {id(q) for q in rng.sample(does, max(len(does) - which, 0))}
    kinds: Counter[str] = Counter()
    for art in out["data"]:  # a long page would otherwise teach its own layout most
        qas = [q for p in art["paragraphs"] for q in p["qas"] if id(q) not in drop]
        keep = {id(q) for q in rng.sample(qas, min(len(qas), args.per_page))}
        for p in art["paragraphs"]:
            p["qas"] = [q for q in p["qas"] if id(q) in keep]
            kinds.update(kind(q["question"]) for q in p["qas"])
        art["paragraphs"] = [p for p in art["paragraphs"] if p["qas"]]
    out["data"] = [a for a in out["data"] if a["paragraphs"]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=0))
    total = sum(kinds.values())
    print(f"{len(pages)} pages sampled, {len(out['data'])} with questions, {total} questions:")
    for k, v in kinds.most_common():
        print(f"  {k}: {v}")
    print(f"left out by name: {len(leave_out)} programs of the question sets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
