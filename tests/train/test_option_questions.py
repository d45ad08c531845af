"""scripts/make_option_questions.py: the rules that make reader-training questions of a man
page's option blocks, and the programs they leave out."""

from __future__ import annotations

from scripts import make_option_questions as mk


def test_an_imperative_description_asks_for_its_option() -> None:
    got = dict(mk.questions_for("gzip", "-k, --keep", "Keep (don't delete) input files."))
    assert got["Which gzip option keeps (don't delete) input files?"] == "-k"
    assert got["What does the gzip -k option do?"] == "Keep (don't delete) input files"


def test_verbs_agree_after_and() -> None:
    got = dict(mk.questions_for("setsid", "-h, --help", "Display help text and exit."))
    assert "Which setsid option displays help text and exits?" in got
    assert mk.VERBS["search"] == "searches" and mk.VERBS["do"] == "does"


def test_a_default_is_asked_for() -> None:
    got = dict(
        mk.questions_for("ssh-keyscan", "-T timeout", "Set the timeout. The default is 5 seconds.")
    )
    assert got["What is the default for ssh-keyscan's -T option?"] == "5 seconds"
    got = dict(
        mk.questions_for("pg", "-p N", "Use port N for the cluster (default is next free port).")
    )
    assert got["What is the default for pg's -p option?"] == "next free port"
    # a condition is not a value
    got = dict(mk.questions_for("x", "-a", "Set it. The default is 3 if unset."))
    assert not any(q.startswith("What is the default") for q in got)


def test_no_question_of_what_is_not_an_option_or_an_action() -> None:
    assert mk.questions_for("x", "NAME", "Print it.") == []
    got = dict(mk.questions_for("x", "-w FILE", "The whole script source file to read."))
    assert got == {}


def test_programs_of_the_question_sets_and_info_manuals_are_left_out() -> None:
    names = mk.exclusions(["frobnicate"])
    assert {"grep", "gzip", "cpio", "frobnicate"} <= names
    assert mk.family("gcloud_beta_compute.1.gz") == "gcloud" and mk.family("git-log.1.gz") == "git"
