from qa.core.types import Document
from qa.index.ingest import Skipped
from qa.index.report import Report, plan


def _d(text: str, source: str) -> Document:
    return Document.from_text(text, source, source)


def test_plan_adds_replaces_keeps_and_prunes():
    a, b, c = _d("A", "a.txt"), _d("B", "b.txt"), _d("C", "c.txt")
    b2 = _d("B edited", "b.txt")
    indexed = {d.id: d for d in (a, b, c)}
    new, remove, report = plan(indexed, [a, b2, _d("D", "d.txt")], prune=False)
    assert [d.source for d in new] == ["d.txt", "b.txt"]
    assert remove == [b.id]
    assert (report.unchanged, report.replaced, report.removed) == ([a], [b2], [])
    new, remove, report = plan(indexed, [a, b2], prune=True)
    assert set(remove) == {b.id, c.id} and report.removed == [c]


def test_summary_counts_skips_by_reason_and_lists_each_file():
    r = Report(
        added=[_d("A", "a.txt")],
        skipped=[
            Skipped("x.odt", "unsupported type", "has an unsupported file type '.odt'"),
            Skipped("s.pdf", "no text", "has no text layer (scanned pages?)"),
            Skipped("t.odt", "unsupported type", "has an unsupported file type '.odt'"),
        ],
    )
    assert r.summary() == (
        "added 1, replaced 0, unchanged 0, removed 0; skipped 3 (2 unsupported type, 1 no text)"
    )
    assert r.skip_lines(limit=2) == [
        "skipped x.odt: it has an unsupported file type '.odt'",
        "skipped s.pdf: it has no text layer (scanned pages?)",
        "… and 1 more skipped files",
    ]
    d = r.to_dict()
    assert d["skipped"] == {"unsupported type": 2, "no text": 1}
    assert d["skipped_files"][1] == {
        "source": "s.pdf",
        "reason": "no text",
        "detail": "has no text layer (scanned pages?)",
    }
    assert Report().summary() == "added 0, replaced 0, unchanged 0, removed 0; skipped none"
