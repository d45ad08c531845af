import pytest

from qa.core.errors import BadInput
from qa.core.filters import describe, matching, parse_where
from qa.core.types import Document


def _docs() -> dict[str, Document]:
    docs = [
        Document.from_text("a", "contracts/acme.pdf", "Acme", meta={"format": "pdf"}),
        Document.from_text("b", "contracts/old/b.docx", "B", meta={"format": "docx"}),
        Document.from_text("c", "notes/c.md", "C", meta={"format": "markdown", "tags": ["x", "y"]}),
    ]
    return {d.id: d for d in docs}


def test_globs_over_source_format_and_list_fields():
    docs = _docs()
    by_source = {d.source: i for i, d in docs.items()}
    assert matching(docs, {"source": "contracts/*"}) == {
        by_source["contracts/acme.pdf"],
        by_source["contracts/old/b.docx"],  # * crosses folders, as in a shell's fnmatch
    }
    assert matching(docs, {"source": "contracts/*", "format": "pdf"}) == {
        by_source["contracts/acme.pdf"]
    }
    assert matching(docs, {"format": ["pdf", "markdown"]}) == {
        by_source["contracts/acme.pdf"],
        by_source["notes/c.md"],
    }
    assert matching(docs, {"tags": "y"}) == {by_source["notes/c.md"]}
    assert matching(docs, {"doc": [by_source["notes/c.md"], "dnothere"]}) == {
        by_source["notes/c.md"]
    }
    assert matching(docs, {"title": "acme"}) == set()  # case-sensitive


def test_a_field_no_document_has_is_refused_with_the_fields_there_are():
    with pytest.raises(BadInput, match=r"no document has a field 'sorce'.*source"):
        matching(_docs(), {"sorce": "x"})
    with pytest.raises(BadInput, match="pattern or a list of patterns"):
        matching(_docs(), {"source": 3})  # type: ignore[dict-item]


def test_where_options_parse_and_describe():
    f = parse_where(["source=contracts/*", "format = pdf", "format=docx"], ["d1"])
    assert f == {"source": ["contracts/*"], "format": ["pdf", "docx"], "doc": ["d1"]}
    assert describe(f) == "source=contracts/*, format=pdf, format=docx, doc=d1"
    with pytest.raises(BadInput, match="field=pattern"):
        parse_where(["contracts"])
