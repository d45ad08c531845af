"""The decoding rules through ``decide.choose``: each changes the answer it is for, and
switched off (``SpanRules``) the answer is what it was without it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qa.core.types import Document, Hit, Passage
from qa.read import decide
from qa.read.decide import Candidate, SpanRules

ON = SpanRules()
OFF = replace(ON, one_block=False, code_core=False, strip_marks=False, complete_dates=False,
              kind_weight=0.0, whole_token=False, row_weight=0.0, column_weight=0.0,
              rule_margin=0.0, command_line=False)  # fmt: skip


def hits_over(*texts: str) -> list[Hit]:
    out = []
    for i, t in enumerate(texts):
        doc = Document.from_text(t, source=str(i), title="t")
        out.append(Hit(Passage.make(doc, 0, len(t)), score=1.0))
    return out


def cand(hits: list[Hit], span: str, prob: float, hit: int = 0) -> Candidate:
    text = hits[hit].passage.text
    i = text.index(span)
    return Candidate(hit, i, i + len(span), logit=1.0, margin=5.0, prob=prob)


def answer(cands: list[Candidate], hits: list[Hit], question: str, rules: SpanRules) -> str:
    proposal = decide.choose(cands, hits, question, rules)
    assert proposal is not None
    return proposal.answer.text


def test_defaults_are_the_kept_rules() -> None:
    assert ON.one_block and ON.code_core and ON.strip_marks and ON.complete_dates
    assert ON.kind_weight == 2.0 and ON.whole_token and ON.row_weight == 8.0 and ON.row_margin
    assert ON.column_weight == 8.0 and ON.rule_margin == 0.5 and ON.command_line
    assert decide.choose([], hits_over("x"), "q?", ON) is None


def test_one_block_drops_a_span_across_table_cells() -> None:
    hits = hits_over("Path\tDescription\tX-Ref\n./obashdb\tDeprecated bash debugger")
    cands = [cand(hits, "Path\tDescription\tX-Ref\n./obashdb", 0.5), cand(hits, "./obashdb", 0.3)]
    q = "Which bash example is a bash debugger?"
    assert answer(cands, hits, q, ON) == "./obashdb"
    assert answer(cands, hits, q, replace(ON, one_block=False, row_weight=0.0)).startswith("Path")
    # no span left inside one block: the spans are kept as they are
    assert answer(cands[:1], hits, q, ON).startswith("Path")


def test_code_core_keeps_the_option_alone_for_a_question_asking_for_an_option() -> None:
    hits = hits_over("Use the --debug option to turn on the debugger.")
    cands = [cand(hits, "the --debug option", 0.6), cand(hits, "debugger", 0.3)]
    q = "Which option enables debug mode?"
    assert answer(cands, hits, q, ON) == "--debug"
    assert answer(cands, hits, q, replace(ON, code_core=False)) == "the --debug option"
    # a question that does not ask for a code-like name keeps the span
    assert answer(cands, hits, "What does one use?", ON) == "the --debug option"


def test_code_core_lets_spans_around_one_option_add_up() -> None:
    hits = hits_over("Run curl's --resolve option to pin a host, or use --connect-to.")
    cands = [
        cand(hits, "--connect-to", 0.4),
        cand(hits, "curl's --resolve", 0.25),
        cand(hits, "--resolve option", 0.25),
    ]
    q = "Which curl option points a host name at an address?"
    assert answer(cands, hits, q, ON) == "--resolve"  # 0.5 together
    assert answer(cands, hits, q, replace(ON, code_core=False)) == "--connect-to"


def test_strip_marks_joins_spans_that_differ_by_an_unpaired_quote() -> None:
    hits = hits_over("He pipes this output into “tee”, or into a pager.")
    cands = [cand(hits, "a pager", 0.4), cand(hits, "“tee", 0.3), cand(hits, "tee”", 0.3)]
    q = "What does he pipe the output into?"
    assert answer(cands, hits, q, ON) == "tee"
    assert answer(cands, hits, q, replace(ON, strip_marks=False)) == "a pager"


def test_one_block_drops_a_span_across_rows_once_cut_to_a_value() -> None:
    hits = hits_over("node-glob: matchBase; fast-glob: baseNameMatch\n"
                     "node-glob: nodir; fast-glob: onlyFiles\n"
                     "Name: ptr; Kind: array of pointers\nName: obj; Kind: object")  # fmt: skip
    q = "Which fast-glob option replaces node-glob's matchBase?"
    # a span across two rows that is one cell's value once its name is cut: kept
    cands = [cand(hits, "fast-glob: baseNameMatch\nnode-glob: nodir", 0.6)]
    assert answer(cands, hits, q, ON) == "baseNameMatch"
    # a span across two rows' values: dropped for the cell
    q = "What kind is ptr?"
    cands = [cand(hits, "array of pointers\nName: obj", 0.6), cand(hits, "pointers", 0.2)]
    assert answer(cands, hits, q, replace(ON, row_weight=0.0, column_weight=0.0)) == "pointers"
    off = replace(ON, one_block=False, row_weight=0.0, column_weight=0.0)
    assert answer(cands, hits, q, off) == "array of pointers\nName: obj"


def test_strip_marks_drops_a_span_of_marks_alone() -> None:
    hits = hits_over("The ignore option takes `array|string` values.")
    cands = [cand(hits, "`", 0.6), cand(hits, "array|string", 0.3)]
    q = "What type does the ignore option take?"
    assert answer(cands, hits, q, ON) == "array|string"
    assert answer(cands, hits, q, replace(ON, strip_marks=False)) == "`"


def test_complete_dates_takes_in_the_year() -> None:
    hits = hits_over("Version 3.78 was released on September 20, 2022.")
    cands = [cand(hits, "September 20", 0.9)]
    q = "What is the release date of version 3.78?"
    assert answer(cands, hits, q, ON) == "September 20, 2022"
    assert answer(cands, hits, q, replace(ON, complete_dates=False)) == "September 20"


@pytest.mark.parametrize(
    ("question", "want"),
    [
        ("Which gputils tool is a disassembler?", "gpdasm"),  # not the section number
        ("How many revisions were left?", "1.1"),  # a number is asked for: kept
    ],
)
def test_kind_weight_prefers_spans_of_the_kind_asked_for(question, want) -> None:
    hits = hits_over("1.1 Tools: gpdasm is the disassembler.")
    cands = [cand(hits, "1.1", 0.6), cand(hits, "gpdasm", 0.3)]
    assert answer(cands, hits, question, ON) == want
    assert answer(cands, hits, question, replace(ON, kind_weight=0.0)) == "1.1"


def test_whole_token_takes_in_a_name_cut_at_a_joiner() -> None:
    hits = hits_over("Stream uploads with the requests-toolbelt package; see FLASK_SKIP_DOTENV.")
    q = "Which package streams uploads?"
    cands = [cand(hits, "toolbelt", 0.6), cand(hits, "uploads", 0.3)]
    assert answer(cands, hits, q, ON) == "requests-toolbelt"
    assert answer(cands, hits, q, replace(ON, whole_token=False)) == "toolbelt"
    # an identifier is taken in whatever is asked; a plain hyphenated word only for code
    cands = [cand(hits, "SKIP_DOTENV", 0.9)]
    assert answer(cands, hits, "What turns dotenv off?", ON) == "FLASK_SKIP_DOTENV"
    cands = [cand(hits, "toolbelt", 0.9)]
    assert answer(cands, hits, "What streams uploads?", ON) == "toolbelt"


def test_command_line_answers_a_command_with_the_whole_line() -> None:
    hits = hits_over("The most common operation is to create a new archive:\n"
                     "gplib -c math.a mult.o add.o sub.o\nThen list it with -t.")  # fmt: skip
    cands = [cand(hits, "-c", 0.7), cand(hits, "-t", 0.2)]
    q = "Which command creates the gplib archive math.a?"
    assert answer(cands, hits, q, ON) == "gplib -c math.a mult.o add.o sub.o"
    assert answer(cands, hits, q, replace(ON, command_line=False)) == "-c"
    # an option asked for stays the option
    assert answer(cands, hits, "Which gplib option creates an archive?", ON) == "-c"


def test_rules_off_is_the_old_choice() -> None:
    hits = hits_over("Use the --debug option.\n\nThen “tee” it.")
    cands = [cand(hits, "the --debug option.\n\nThen", 0.5), cand(hits, "--debug", 0.2)]
    q = "Which option enables debug mode?"
    assert answer(cands, hits, q, OFF) == decide.choose(cands, hits).answer.text  # type: ignore[union-attr]
