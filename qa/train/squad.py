"""SQuAD-format data: loading, the project's train/eval split, official EM/F1.

The split follows ``data/README.md``: train on the three SQuADShifts files and
``squad-v2.0-dev-half.json`` (minus ``HELDOUT_TITLES``, kept for calibrating the
no-answer threshold); evaluate on the 32 articles of ``squad-v1.1-dev.json`` whose
titles are not in the v2.0 half.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.core.config import Settings, setting
from qa.core.errors import BadInput
from qa.core.text import normalize_answer


def _data_dir() -> Path:
    given = setting(Settings, "data_dir")
    if given is not None:
        return Path(given)
    root = Path(__file__).resolve().parents[2]  # the repository
    local = root / "data"
    return local if (local / "squad-v1.1-dev.json").exists() else root.parent / "shared" / "data"


DATA_DIR = _data_dir()  # $QA_DATA_DIR, else the repo's data/, else ../shared/data beside it
TRAIN_FILES = (
    "squadshifts-new-wiki.json",
    "squadshifts-reddit.json",
    "squadshifts-amazon-reviews.json",
    "squad-v2.0-dev-half.json",
)
V2_HALF = "squad-v2.0-dev-half.json"
V1_DEV = "squad-v1.1-dev.json"
# Four articles of the v2.0 half held out of training to calibrate the no-answer threshold.
HELDOUT_TITLES = frozenset({"Normans", "1973_oil_crisis", "Harvard_University", "Islamism"})


@dataclass(frozen=True)
class Example:
    """One question about one paragraph; ``answers`` is empty when it is unanswerable."""

    id: str
    title: str
    context: str
    question: str
    answers: tuple[tuple[str, int], ...]  # (text, answer_start) pairs
    paragraph_index: int = 0

    @property
    def is_impossible(self) -> bool:
        return not self.answers


def load(
    path: str | Path,
    *,
    titles: Iterable[str] | None = None,
    exclude_titles: Iterable[str] | None = None,
) -> list[Example]:
    """Read a SQuAD v1.1/v2.0 JSON file; optionally keep or drop articles by title.

    A file that is missing, not JSON or not SQuAD-shaped raises ``BadInput`` naming it.
    """
    keep = set(titles) if titles is not None else None
    drop = set(exclude_titles or ())
    out: list[Example] = []
    where = "the file"
    try:
        for ai, article in enumerate(read_articles(path)):
            where = f"article {ai}"
            title = article.get("title", "")
            if (keep is not None and title not in keep) or title in drop:
                continue
            for pi, para in enumerate(article["paragraphs"]):
                where = f"article {ai}, paragraph {pi}"
                ctx = para["context"]
                for qa in para["qas"]:
                    if qa.get("is_impossible", False):
                        answers: tuple[tuple[str, int], ...] = ()
                    else:
                        answers = tuple((a["text"], int(a["answer_start"])) for a in qa["answers"])
                    out.append(Example(qa["id"], title, ctx, qa["question"], answers, pi))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise BadInput(
            f"{path} is not in SQuAD format: {where} is malformed "
            f"({type(e).__name__}: {e}); SQuAD is data[].paragraphs[].context and .qas[] "
            "with id, question and answers[].text/answer_start"
        ) from None
    return out


def read_articles(path: str | Path) -> list[dict]:
    """The ``data`` list of a SQuAD-format JSON file (``BadInput`` when it is not one)."""
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{p}: no such file; give a SQuAD-format JSON file") from None
    except IsADirectoryError:
        raise BadInput(f"{p} is a folder; give a SQuAD-format JSON file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"{p} cannot be read as UTF-8 text ({e})") from None
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise BadInput(f"{p} is not JSON ({e}); give a SQuAD-format JSON file") from None
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list):
        raise BadInput(
            f"{p} is not in SQuAD format: expected an object with a 'data' list of articles"
        )
    return data


def titles(path: str | Path) -> list[str]:
    """Article titles of a SQuAD file, in file order."""
    return [a.get("title", "") for a in read_articles(path) if isinstance(a, dict)]


def train_examples(data_dir: str | Path = DATA_DIR) -> list[Example]:
    """The training part of the split (33,704 questions minus the held-out articles)."""
    d = Path(data_dir)
    out: list[Example] = []
    for name in TRAIN_FILES:
        out += load(d / name, exclude_titles=HELDOUT_TITLES if name == V2_HALF else None)
    return out


def heldout_examples(data_dir: str | Path = DATA_DIR) -> list[Example]:
    """The held-out v2.0 articles (answerable and unanswerable) for threshold calibration."""
    return load(Path(data_dir) / V2_HALF, titles=HELDOUT_TITLES)


def eval_titles(data_dir: str | Path = DATA_DIR) -> list[str]:
    """The 32 evaluation articles: v1.1 dev titles not in the v2.0 half."""
    d = Path(data_dir)
    v2 = set(titles(d / V2_HALF))
    return [t for t in titles(d / V1_DEV) if t not in v2]


def eval_examples(data_dir: str | Path = DATA_DIR) -> list[Example]:
    """The evaluation questions (7,595 from the 32 articles)."""
    d = Path(data_dir)
    return load(d / V1_DEV, titles=eval_titles(d))


# --- official SQuAD v1.1 / v2.0 metric -------------------------------------------------


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when the normalised strings are equal."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """Token-level F1 of normalised strings; two empty strings score 1."""
    p = normalize_answer(prediction).split()
    g = normalize_answer(gold).split()
    if not p or not g:
        return float(p == g)
    common = collections.Counter(p) & collections.Counter(g)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(p)
    recall = same / len(g)
    return 2 * precision * recall / (precision + recall)


def score(prediction: str | None, golds: Sequence[str]) -> tuple[float, float]:
    """(EM, F1) in [0, 1], the max over gold answers.

    An unanswerable question has no golds: abstaining (``None`` or "") scores 1/1 and any
    answer 0/0, as in the official v2.0 script.
    """
    pred = prediction or ""
    if not golds:
        return (float(not pred), float(not pred))
    return (max(exact_match(pred, g) for g in golds), max(f1_score(pred, g) for g in golds))
