"""The one-line progress update parser."""

from __future__ import annotations

import pytest

from plans.oneline import (
    OneLineError,
    ParsedUpdate,
    match_ref,
    normalise_ref,
    parse_update_line,
    suggest_refs,
)

REFS = ["1.1", "1.2", "1.3", "2.1", "2.10", "a)", "b)", "c)"]


def test_the_issue_example() -> None:
    got = parse_update_line("1.3 amber Survey sent to all heads, 12 replies so far", REFS, "R,A,G")
    assert got == ParsedUpdate("1.3", "A", "Survey sent to all heads, 12 replies so far")


@pytest.mark.parametrize(
    ("line", "rag", "comment"),
    [
        ("1.3 g", "G", ""),
        ("1.3 green On track", "G", "On track"),
        ("1.3 🟢 launched", "G", "launched"),
        ("1.3 🟢launched", "G", "launched"),
        ("1.3 R behind: no venue", "R", "behind: no venue"),
        ("1.3 RED - behind", "R", "behind"),
        ("1.3 on track - all good", "G", "all good"),
        ("1.3 🔴", "R", ""),
        ("1.3: amber waiting", "A", "waiting"),
        ("action 1.3 amber waiting", "A", "waiting"),
    ],
)
def test_ratings(line: str, rag: str, comment: str) -> None:
    assert parse_update_line(line, REFS, "R,A,G") == ParsedUpdate("1.3", rag, comment)


@pytest.mark.parametrize(
    "line",
    [
        "1.3 no change still waiting",
        "1.3 nc still waiting",
        "1.3 - still waiting",
        "1.3 NC: still waiting",
        "1.3 No-change, still waiting",
    ],
)
def test_no_change_keeps_the_comment_without_a_rating(line: str) -> None:
    assert parse_update_line(line, REFS, "R,A,G") == ParsedUpdate("1.3", None, "still waiting", True)


def test_nc_is_a_word_not_a_prefix() -> None:
    # "nctl" is not "nc": no rating was given, the chat asks for one.
    got = parse_update_line("1.3 nctl bid submitted", REFS, "R,A,G")
    assert got == ParsedUpdate("1.3", None, "nctl bid submitted", rating_given=False)


def test_missing_rating_is_reported() -> None:
    assert parse_update_line("1.3", REFS) == ParsedUpdate("1.3", None, "", rating_given=False)
    assert parse_update_line("2.10 Survey sent", REFS) == ParsedUpdate("2.10", None, "Survey sent", False)


@pytest.mark.parametrize(
    ("token", "ref"),
    [
        ("c)", "c)"),
        ("C", "c)"),
        ("(c)", "c)"),
        ("c.", "c)"),
        ("1,3", "1.3"),
        ("1.3.", "1.3"),
        ("2.10", "2.10"),
        ("#1.3", "1.3"),
    ],
)
def test_reference_forms(token: str, ref: str) -> None:
    assert match_ref(token, REFS) == ref
    got = parse_update_line(f"{token} amber x", REFS)
    assert isinstance(got, ParsedUpdate) and got.ref == ref


def test_2_1_is_not_2_10() -> None:
    assert match_ref("2.1", REFS) == "2.1"
    assert normalise_ref("2.10") != normalise_ref("2.1")


def test_misspelt_reference_gets_suggestions() -> None:
    got = parse_update_line("13 amber x", REFS)
    assert isinstance(got, OneLineError) and got.kind == "unknown_ref"
    assert got.ref == "13" and got.suggestions[0] == "1.3"
    got = parse_update_line("1.4 amber x", REFS)
    assert isinstance(got, OneLineError) and got.kind == "unknown_ref"
    assert set(got.suggestions) & {"1.1", "1.2", "1.3"}
    assert "1.4" not in got.suggestions
    assert suggest_refs("zzz", REFS) == ()


def test_rating_outside_the_plans_set_is_refused() -> None:
    got = parse_update_line("1.3 blue finished", REFS, "R,A,G")
    assert got == OneLineError("bad_rating", ref="1.3", rating="blue")
    assert parse_update_line("1.3 blue finished", REFS, "B,R,A,G") == ParsedUpdate("1.3", "B", "finished")


def test_complete_means_blue_only_where_the_plan_has_blue() -> None:
    assert parse_update_line("1.3 done all sent", REFS, "R,A,G") == ParsedUpdate("1.3", "G", "all sent")
    assert parse_update_line("1.3 done all sent", REFS, "B,R,A,G") == ParsedUpdate("1.3", "B", "all sent")


def test_empty() -> None:
    assert parse_update_line("", REFS) == OneLineError("empty")
    assert parse_update_line("   ", REFS) == OneLineError("empty")


def test_user_text_is_kept_verbatim() -> None:
    got = parse_update_line("1.3 amber <b>5 & 6</b> replies", REFS)
    assert isinstance(got, ParsedUpdate) and got.comment == "<b>5 & 6</b> replies"
