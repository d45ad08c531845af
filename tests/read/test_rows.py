"""Table rows: which row a question names, and the decoding rule built on it
(``row_weight``) through ``decide.choose``."""

from __future__ import annotations

from dataclasses import replace

from qa.read import decide
from qa.read.reader import NeuralReader
from qa.read.rows import column_match, column_name, in_cell_name, row_binding, value_only, words
from tests.read.test_policy import ON, answer, cand, hits_over

SLANTS = (
    'Code: "R"; English Translation: Roman; Description: Upright design\n'
    'Code: "RO"; English Translation: Reverse Oblique; Description: Obliqued upright design\n'
    'Code: "I"; English Translation: Italic; Description: Italic design'
)
OPTIONS = (
    "| Option | Type | Default | Description |\n"
    "| --- | --- | --- | --- |\n"
    "| `maxLength` | `number` | `65536` | Limit the max length of the input |\n"
    "| `windows` | `boolean` | `false` | Also accept backslashes as separators |"
)


def _binding(question: str, text: str, span: str, nth: int = 0) -> float:
    at = -1
    for _ in range(nth + 1):
        at = text.index(span, at + 1)
    return row_binding(question, text, at, at + len(span))


def test_the_row_holding_the_questions_rare_words_outside_the_span_is_bound() -> None:
    q = "Which XLFD slant code means Reverse Oblique?"
    assert _binding(q, SLANTS, '"RO"') == 1.0
    assert _binding(q, SLANTS, '"R"') == 0.0  # another row
    assert _binding(q, SLANTS, "Reverse Oblique") == 0.0  # the words are the span's own
    assert _binding(q, SLANTS, "English Translation", 1) == 0.0  # a cell's name


def test_markdown_header_words_name_columns_not_rows() -> None:
    q = "What is the default of picomatch's maxLength option?"
    assert _binding(q, OPTIONS, "65536") == 1.0
    assert _binding(q, OPTIONS, "Default") == 0.0  # the header row
    assert _binding(q, OPTIONS, "false") == 0.0


def test_prose_is_no_row() -> None:
    text = "The default of maxLength is 65536. Windows paths are accepted."
    assert _binding("What is the default of maxLength?", text, "65536") == 0.0


def test_a_cells_name() -> None:
    line = SLANTS.splitlines()[0]
    assert in_cell_name(line, line.index("English"), line.index("English") + 7)
    assert not in_cell_name(line, line.index("Roman"), line.index("Roman") + 5)


def test_the_rule_chooses_the_named_row() -> None:
    hits = hits_over(SLANTS)
    q = "Which XLFD slant code means Reverse Oblique?"
    cands = [cand(hits, "English Translation", 0.5), cand(hits, '"RO"', 0.2)]
    assert (
        answer(cands, hits, q, replace(ON, row_weight=0.0, column_weight=0.0))
        == "English Translation"
    )
    assert answer(cands, hits, q, ON) == '"RO"'


def test_a_preferred_cell_keeps_the_null_margin_of_the_span_it_replaced() -> None:
    # the cell the model scored low beside its null score turned answers into abstentions
    q = "Which XLFD slant code means Reverse Oblique?"
    hits = hits_over(SLANTS, "English Translation is a column.")
    model = replace(cand(hits, "English Translation", 0.5), margin=4.0)
    cell = replace(cand(hits, '"RO"', 0.2), margin=0.5)
    rules = replace(ON, rule_margin=0.0)
    proposal = decide.choose([model, cell], hits, q, rules)
    assert proposal is not None and proposal.answer.text == '"RO"' and proposal.margin == 4.0
    off = decide.choose([model, cell], hits, q, replace(rules, row_margin=False))
    assert off is not None and off.margin == 0.5
    elsewhere = replace(cand(hits, "English Translation", 0.5, hit=1), margin=4.0)
    proposal = decide.choose([elsewhere, cell], hits, q, rules)  # another passage's margin
    assert proposal is not None and proposal.answer.text == '"RO"' and proposal.margin == 0.5


CHAINS = (
    "Type: filter; Families: all; Hooks: all; Description: Standard chain type\n"
    "Type: nat; Families: ip, ip6, inet; Hooks: prerouting, input, output, postrouting; "
    "Description: Chains of this type perform Network Address Translation\n"
    "Type: route; Families: ip, ip6; Hooks: output; Description: Packets that traverse "
    "a chain of this type are re-routed"
)


def _at(text: str, span: str, nth: int = 0) -> tuple[int, int]:
    at = -1
    for _ in range(nth + 1):
        at = text.index(span, at + 1)
    return at, at + len(span)


def test_a_whole_cells_column_is_its_name_or_the_header_above_it() -> None:
    assert column_name(CHAINS, *_at(CHAINS, "ip, ip6", 1)) == "Families"
    assert column_name(CHAINS, *_at(CHAINS, "ip6", 1)) is None  # part of a cell
    assert column_name(CHAINS, *_at(CHAINS, "Families")) is None  # a cell's name
    assert column_name(OPTIONS, *_at(OPTIONS, "boolean")).strip() == "Type"  # `boolean`
    assert column_name(OPTIONS, *_at(OPTIONS, "Type")) is None  # the header itself
    prose = "The default of maxLength is 65536."
    assert column_name(prose, *_at(prose, "65536")) is None


def test_the_question_names_a_column_by_its_words() -> None:
    q = "Which address families support the route chain type?"
    assert column_match(q, CHAINS, *_at(CHAINS, "ip, ip6", 1)) == 1.0  # "families"
    assert column_match(q, CHAINS, *_at(CHAINS, "output", 1)) == 0.0  # "Hooks"
    q = "What types does picomatch's windows option take?"
    assert column_match(q, OPTIONS, *_at(OPTIONS, "boolean")) == 1.0  # "types" is "Type"


def test_the_rule_chooses_the_named_column_of_the_named_row() -> None:
    hits = hits_over(CHAINS)
    q = "Which address families support the route chain type?"
    out, ips = _at(CHAINS, "output", 1), _at(CHAINS, "ip, ip6", 1)  # in the route row
    cands = [replace(cand(hits, "output", 0.5), start=out[0], end=out[1]),
             replace(cand(hits, "ip, ip6", 0.2), start=ips[0], end=ips[1])]  # fmt: skip
    assert answer(cands, hits, q, replace(ON, column_weight=0.0)) == "output"
    assert answer(cands, hits, q, ON) == "ip, ip6"


def test_a_cell_named_by_row_and_column_needs_less_of_the_models_margin() -> None:
    hits = hits_over(CHAINS)
    q = "Which address families support the route chain type?"
    s, e = _at(CHAINS, "ip, ip6", 1)
    cell = replace(cand(hits, "ip, ip6", 0.2), start=s, end=e, margin=-3.0)
    proposal = decide.choose([cell], hits, q, replace(ON, rule_margin=0.0))
    assert proposal is not None and proposal.margin == -3.0
    # the row binds, and its named column adds 0.5 × column_weight to the margin
    row_only = decide.choose([cell], hits, q, replace(ON, column_weight=0.0))
    proposal = decide.choose([cell], hits, q, ON)
    assert row_only is not None and row_only.margin > -3.0
    assert proposal is not None and proposal.margin == row_only.margin + 0.5 * 8.0
    # the gate reads the raised margin; the confidence, the margin the model read
    assert proposal.read_margin == -3.0
    assert NeuralReader.evidence(proposal, hits, q)["null_margin"] == -3.0


def test_a_word_that_sets_a_row_apart_stays_rare_when_prose_repeats_it() -> None:
    text = CHAINS + "\n\nNote: the route type only supports the output hook."
    q = "Which address families support the route chain type?"
    # "route" is the route row's alone among the rows ("address": the nat row's)
    assert row_binding(q, text, *_at(text, "ip, ip6", 1)) == 0.5


BCRYPT = (
    "Node Version: 0.4; Bcrypt Version: <= 0.4\n"
    "Node Version: 4; Bcrypt Version: <= 2.1.0\n"
    "Node Version: 8; Bcrypt Version: >= 1.0.3 < 4.0.0\n"
    "Node Version: 12 onwards; Bcrypt Version: >= 3.0.6"
)


def test_a_version_is_one_word() -> None:
    assert words("Node 0.4, v5.0.0; fr-ch") == {"node", "0.4", "v5.0.0", "fr", "ch"}
    q = "Which bcrypt versions can be used with Node 4?"
    assert row_binding(q, BCRYPT, *_at(BCRYPT, "<= 2.1.0")) == 1.0
    assert row_binding(q, BCRYPT, *_at(BCRYPT, "<= 0.4")) == 0.0  # "0.4" is not "4"
    assert row_binding(q, BCRYPT, *_at(BCRYPT, ">= 1.0.3 < 4.0.0")) == 0.0


def test_a_span_that_takes_in_a_cells_name_keeps_its_value() -> None:
    s, e = _at(BCRYPT, "Bcrypt Version: >= 1.0.3 < 4.0.0")
    assert BCRYPT[slice(*value_only(BCRYPT, s, e))] == ">= 1.0.3 < 4.0.0"
    s, e = _at(BCRYPT, "Version: 8; Bcrypt")  # across cells: left as it is
    assert value_only(BCRYPT, s, e) == (s, e)
    s, e = _at(BCRYPT, "Bcrypt Version", 1)  # the name alone
    assert value_only(BCRYPT, s, e) == (s, e)


AWS = (
    "Variable: region; Environment Variable: AWS_DEFAULT_REGION; Description: Default AWS Region\n"
    "Variable: output; Environment Variable: AWS_DEFAULT_OUTPUT; Description: Default output"
    " style\n"
    "Variable: cli_timestamp_format; Environment Variable: N/A; Description: Output format"
)


def test_a_span_from_a_cells_value_into_the_next_cell_or_row_keeps_the_value() -> None:
    s, e = _at(AWS, "AWS_DEFAULT_OUTPUT; Description: Default")
    assert AWS[slice(*value_only(AWS, s, e))] == "AWS_DEFAULT_OUTPUT"
    s, e = _at(AWS, "AWS_DEFAULT_OUTPUT; Description: Default output style\nVariable: cli")
    assert AWS[slice(*value_only(AWS, s, e))] == "AWS_DEFAULT_OUTPUT"
    md = "| a | b |\n| c | d |"
    assert value_only(md, 2, 13) == (2, 13)  # across a Markdown table's rows: not cut here


def test_the_column_the_question_names_most_fully_is_the_one_named() -> None:
    q = "Which environment variable sets the default output style?"
    assert column_match(q, AWS, *_at(AWS, "AWS_DEFAULT_OUTPUT")) == 1.0
    assert column_match(q, AWS, *_at(AWS, "output")) == 0.0  # "Variable": the other names more
    assert column_match("Which variable sets the output style?", AWS, *_at(AWS, "output")) == 1.0


def test_the_cell_is_answered_without_its_name() -> None:
    hits = hits_over(BCRYPT)
    q = "Which bcrypt versions go with Node 8?"
    cands = [cand(hits, "Bcrypt Version: >= 1.0.3 < 4.0.0", 0.5)]
    assert answer(cands, hits, q, ON) == ">= 1.0.3 < 4.0.0"
    off = replace(ON, row_weight=0.0, column_weight=0.0)
    assert answer(cands, hits, q, off) == "Bcrypt Version: >= 1.0.3 < 4.0.0"


GZIP_OPTIONS = (
    "-f --force\nForce compression or decompression even if the file has multiple links.\n\n"
    "-k --keep\nKeep (don't delete) input files during compression or decompression.\n\n"
    "-N --name\nWhen compressing, always save the original file name and timestamp; this is "
    "the default. When decompressing, keep the original file name if present."
)
EXIT_VALUES = (
    "EXIT VALUES\n\n0\nsuccess\n\n1\ncan't update password file\n\n"
    "4\nUID already in use (and no -o)\n\n9\nusername or group name already in use"
)


def test_a_term_line_is_bound_by_its_description() -> None:
    q = "Which gzip option keeps the input files instead of deleting them?"
    at = GZIP_OPTIONS.index("-k")
    assert row_binding(q, GZIP_OPTIONS, at, at + 2) == 1.0  # input, delet: in -k's text
    at = GZIP_OPTIONS.index("-N")
    assert row_binding(q, GZIP_OPTIONS, at, at + 2) == 0.0
    at = GZIP_OPTIONS.index("input")
    assert row_binding(q, GZIP_OPTIONS, at, at + 5) == 0.0  # a description is no term
    # a question asking what an option does asks for no term
    assert row_binding("What does gzip -k do?", GZIP_OPTIONS, at, at + 2) == 0.0
    s = EXIT_VALUES.index("4\n")
    assert row_binding("What exit value means the UID is already in use?", EXIT_VALUES, s, s + 1)


def test_an_options_argument_is_not_the_option() -> None:
    text = "-P port\nSpecifies the port to connect to on the remote host.\n\n-q\nQuiet mode."
    q = "Which scp option specifies the port to connect to on the remote host?"
    assert row_binding(q, text, 0, 2) > 0 and row_binding(q, text, 3, 7) == 0.0


def test_the_rule_chooses_the_option_whose_description_the_question_tells() -> None:
    q = "Which gzip option keeps the input files instead of deleting them?"
    hits = hits_over(GZIP_OPTIONS)
    cands = [cand(hits, "-N", 0.6), cand(hits, "-k", 0.05)]
    assert answer(cands, hits, q, replace(ON, row_weight=0.0, column_weight=0.0)) == "-N"
    assert answer(cands, hits, q, ON) == "-k"


def test_a_title_over_its_text_is_no_term() -> None:
    prose = "Installation\nRun make install as root. Then restart.\n\nnofail\nDo not report errors."
    assert row_binding("Which command installs it as root?", prose, 0, 12) == 0.0
    s = prose.index("nofail")
    assert row_binding("Which option does not report errors?", prose, s, s + 6) == 1.0


GREP_EXIT = (
    "Normally the exit status is 0 if a line is selected, 1 if no lines were selected, "
    "and 2 if an error occurred."
)
GZIP_EXIT = (
    "Exit status is normally 0; if an error occurs, exit status is 1. "
    "If a warning occurs, exit status is 2."
)


def _value(text: str, value: str, after: str = "") -> tuple[int, int]:
    i = text.index(value + after)
    return i, i + len(value)


def test_a_value_is_bound_by_the_condition_it_is_said_under() -> None:
    q = "What exit status does grep return if no lines were selected?"
    zero, one, two = (row_binding(q, GREP_EXIT, *_value(GREP_EXIT, v, " if")) for v in "012")
    assert one == 1.0 and zero < one and two == 0.0  # "no" tells the two apart
    q = "What exit status does gzip return when a warning occurs?"
    assert row_binding(q, GZIP_EXIT, *_value(GZIP_EXIT, "2", ".")) == 1.0  # "If ..., ... is 2"
    assert row_binding(q, GZIP_EXIT, *_value(GZIP_EXIT, "1", ".")) < 0.5
    # a question under no condition binds no value; a "when" question asks for a time
    assert (
        row_binding("What is grep's exit status?", GREP_EXIT, *_value(GREP_EXIT, "1", " if")) == 0
    )
    when = "When does grep exit with 1?"
    assert row_binding(when, GREP_EXIT, *_value(GREP_EXIT, "1", " if")) == 0


def test_the_rule_chooses_the_value_whose_condition_the_question_restates() -> None:
    q = "What exit status does gzip return when a warning occurs?"
    hits = hits_over(GZIP_EXIT)
    one = replace(cand(hits, "1", 0.6), start=GZIP_EXIT.index("1."), end=GZIP_EXIT.index("1.") + 1)
    two = replace(cand(hits, "2", 0.1), start=GZIP_EXIT.index("2."), end=GZIP_EXIT.index("2.") + 1)
    assert answer([one, two], hits, q, replace(ON, row_weight=0.0, column_weight=0.0)) == "1"
    assert answer([one, two], hits, q, ON) == "2"


def test_in_a_command_line_over_its_output_the_option_is_the_term() -> None:
    text = "$ pytest --cache-show\ncachedir: .pytest_cache shows what the cache holds\n\nmore"
    q = "Which option shows what the pytest cache holds?"
    s = text.index("--cache-show")
    assert row_binding(q, text, s, s + len("--cache-show")) > 0
    assert row_binding(q, text, 0, s + len("--cache-show")) == 0.0
