"""Writes end with a summary, --strict refuses skips, sync mirrors a folder, filters
restrict retrieval, and pages reach citations."""

from pathlib import Path

import pytest

from qa.core.errors import BadInput
from qa.core.types import Block, Document
from qa.engine import Engine

from .conftest import FakeEncoder


def _folder(root: Path) -> Path:
    d = root / "docs"
    (d / "contracts").mkdir(parents=True)
    (d / "contracts" / "acme.txt").write_text("The Acme contract runs for 36 months from signing.")
    (d / "notes.md").write_text("# Notes\n\nThe office opens at 9 am on weekdays in winter.")
    (d / "copy.txt").write_text("The Acme contract runs for 36 months from signing.")
    (d / "empty.txt").write_text("  \n")
    (d / "slides.odt").write_bytes(b"PK\x03\x04")
    return d


def test_a_folder_is_indexed_with_every_skip_and_its_reason(settings, fake_encoder, tmp_path):
    d = _folder(tmp_path)
    built = Engine(settings, encoder=fake_encoder).index([d])
    assert sorted(Path(x.source).name for x in built.report.added) == ["acme.txt", "notes.md"]
    reasons = {Path(s.source).name: s.reason for s in built.report.skipped}
    assert reasons == {
        "copy.txt": "duplicate",
        "empty.txt": "no text",
        "slides.odt": "unsupported type",
    }
    assert "same text as" in next(s.detail for s in built.report.skipped if s.reason == "duplicate")


def test_strict_refuses_any_skip_and_writes_nothing(settings, fake_encoder, tmp_path):
    d = _folder(tmp_path)
    engine = Engine(settings, encoder=fake_encoder)
    with pytest.raises(BadInput, match=r"--strict: 3 file\(s\) would be skipped"):
        engine.index([d], strict=True)
    assert not settings.index_dir.exists() or not any(settings.index_dir.iterdir())
    engine.index([d / "contracts"])
    with pytest.raises(BadInput, match="--strict"):
        engine.add([d], strict=True)
    assert len(engine.documents()) == 1


def test_sync_adds_replaces_and_removes_to_match_the_folder(settings, fake_encoder, tmp_path):
    d = _folder(tmp_path)
    engine = Engine(settings, encoder=fake_encoder)
    engine.index([d])
    api_doc = engine.add_text("Sent through the API, not from the folder at all.", "api")[0]
    (d / "notes.md").write_text("# Notes\n\nThe office now opens at 8 am on weekdays.")
    (d / "contracts" / "acme.txt").unlink()
    (d / "new.txt").write_text("A new file with enough words to be a passage of its own.")
    report = Engine(settings, encoder=fake_encoder).add([d], prune=True)
    assert [Path(x.source).name for x in report.added] == ["new.txt"]
    # copy.txt held acme.txt's text: that document now names the file still there
    assert sorted(Path(x.source).name for x in report.replaced) == ["copy.txt", "notes.md"]
    assert [x.source for x in report.removed] == ["api"]
    assert api_doc.id not in {x["id"] for x in engine.documents()}
    names = sorted(Path(str(x["source"])).name for x in engine.documents())
    assert names == ["copy.txt", "new.txt", "notes.md"]
    again = engine.add([d], prune=True)
    assert not again.changed and len(again.unchanged) == 3


def test_filters_restrict_retrieval_and_a_filter_matching_nothing_says_so(engine: Engine):
    q = "When was the Eiffel Tower completed?"
    assert any(c.source.endswith("paris.txt") for c in engine.ask(q, 3).citations)
    resp = engine.ask(q, 3, where={"source": "*.md"})
    assert resp.citations and all(c.source.endswith("bees.md") for c in resp.citations)
    paris = next(d["id"] for d in engine.documents() if str(d["source"]).endswith("paris.txt"))
    resp = engine.ask(q, 3, where={"doc": [paris]})
    assert {c.doc_id for c in resp.citations} == {paris}
    assert resp.answer is not None and resp.answer.text == "1889"
    with pytest.raises(BadInput, match=r"no indexed document matches the filter source=\*\.pdf"):
        engine.ask(q, 3, where={"source": "*.pdf"})
    fmt = {d["format"] for d in engine.documents()}
    assert fmt == {"text", "markdown", "html"}
    resp = engine.ask(q, 3, where={"format": "html"})
    assert all(c.source.endswith("moon.html") for c in resp.citations)


def test_citations_carry_page_and_section(settings):
    pieces = [
        ("Setup", "heading", 1, 1),
        ("Install it with apt-get install qa on any Debian machine you have.", "text", 0, 1),
        ("Limits", "heading", 1, 2),
        ("The server answers 40 questions a second on two cores here.", "text", 0, 2),
    ]
    text, blocks = "", []
    for body, kind, level, page in pieces:
        text += "\n\n" if text else ""
        blocks.append(Block(len(text), len(text) + len(body), kind, level, page))
        text += body
    blocks = tuple(blocks)
    doc = Document.from_text(text, "m.pdf", "Manual", blocks=blocks, meta={"pages": 2})
    engine = Engine.in_memory([doc], settings, encoder=FakeEncoder())
    resp = engine.ask("How many questions a second does the server answer?", 2)
    by_page = {c.page: c for c in resp.citations}
    assert set(by_page) == {1, 2}
    assert by_page[2].section == "Limits" and by_page[2].text.startswith("Limits\n\nThe server")
    cited = engine.cite(by_page[2].id)
    assert (cited["page"], cited["section"]) == (2, "Limits")


def test_a_folder_of_every_format_is_read_and_bad_files_do_not_stop_it(
    settings, fake_encoder, tmp_path
):
    from .index.docmaker import Page, Para, docx, pdf, simple_pdf

    d = tmp_path / "mixed"
    d.mkdir()
    manual = [
        Page([Para(["Install"], size=16), Para(["Run the installer and wait for it to end."])]),
        Page([Para(["Limits"], size=16), Para(["The server takes 40 questions a second."])]),
    ]
    (d / "manual.pdf").write_bytes(pdf(manual))
    (d / "locked.pdf").write_bytes(simple_pdf("Secret words here.", user_password="pw"))
    (d / "scan.pdf").write_bytes(pdf([Page(image=True)]))
    (d / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really")
    (d / "memo.docx").write_bytes(
        docx(lambda doc: (doc.add_heading("Memo", 1), doc.add_paragraph("Lunch is at noon today.")))
    )
    (d / "broken.docx").write_bytes(b"PK\x03\x04 damaged")
    (d / "prices.txt").write_bytes("A ticket costs 5 € at the door, “cash only”.".encode("cp1252"))
    engine = Engine(settings, encoder=fake_encoder)
    report = engine.index([d]).report
    assert sorted(Path(x.source).name for x in report.added) == [
        "manual.pdf",
        "memo.docx",
        "prices.txt",
    ]
    skipped = {Path(s.source).name: (s.reason, s.detail) for s in report.skipped}
    assert skipped["locked.pdf"][0] == "unreadable" and "encrypted" in skipped["locked.pdf"][1]
    assert skipped["scan.pdf"][0] == "no text" and "no text layer" in skipped["scan.pdf"][1]
    assert skipped["broken.pdf"][0] == "unreadable" and skipped["broken.docx"][0] == "unreadable"
    assert all("\n" not in detail for _, detail in skipped.values())  # one line each
    docs = {Path(str(r["source"])).name: r for r in engine.documents()}
    assert docs["manual.pdf"]["pages"] == 2 and docs["manual.pdf"]["format"] == "pdf"
    assert docs["prices.txt"]["meta"]["encoding"] == "cp1252"  # type: ignore[index]
    text = engine.store.documents[str(docs["prices.txt"]["id"])].text
    assert "5 €" in text and "“cash only”" in text
    limits = next(p for p in engine.store.passages.values() if "40 questions" in p.text)
    assert (limits.page, limits.section) == (2, "Limits")
    cited = engine.ask("How many questions a second does the server take?", 5).citations
    assert any(c.id == limits.id and c.page == 2 for c in cited)
    for p in engine.store.passages.values():  # offsets exact whatever the format
        assert engine.store.documents[p.doc_id].text[p.start : p.end] == p.text
