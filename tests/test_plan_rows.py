"""Every row of a plan file is listed with what the reader made of it and why (`ParsedPlan.rows`), and a
coordinator can say what a row is (`PlanOverrides.rows`, `--row` on the command line): issue 24's import
review, "nothing in a file is dropped without being listed; what an importer guessed can be corrected"."""

from __future__ import annotations

import collections
import io

import pytest
from sqlalchemy import select

from core.ingest import read_document
from plans.cli import run_import_plan
from plans.importer import parse_plan
from plans.parsed import ROW_KINDS, ParsedPlan, PlanImportError, PlanOverrides
from storage.plans import Action, Plan, Section
from tests.plan_corpus.formats import write_as
from tests.plan_corpus.generator import CORPUS, Spec, write
from tests.plan_corpus.rated import RATED_CORPUS, write_rated
from tests.shared import EXAMPLE_PLANS

DATA = EXAMPLE_PLANS.parent / "plans"

# A plan with one of each: a title, the header, a heading, actions, a continuation, a totals row, a sign-off,
# a ruled line, a key row, text after the table; line 6 is a section heading the reader takes for an action.
PLAN = b"""Kimpton Partnership action plan 2025-26
Ref,Action,Lead,Autumn RAG
1. Reading,,,
1.1,Run the reading survey,Jo Bloggs,G
,and share it with schools,,
2,Leadership and governance,,
2.1,Write the bid,Ann Lee,A
---,---,---,---
Key: G = on track; A = some concerns; R = off track,,,
Total,2,,
Signed:,,,
"""


def _listed_once(data: bytes, name: str) -> ParsedPlan | None:
    """The plan read from `data`, after checking that every non-blank row of every table is listed once."""
    document = read_document(data, name)
    try:
        plan = parse_plan(data, name)
    except PlanImportError:
        return None
    rows = collections.Counter(
        (t, r.line) for t, table in enumerate(document.tables) for r in table.rows if not r.blank
    )
    listed = collections.Counter((r.table, r.line) for r in plan.rows)
    assert listed == rows, (name, sorted(set(rows) ^ set(listed))[:8])
    assert all(r.reason and r.where for r in plan.rows), name
    blank = sum(1 for table in document.tables for r in table.rows if r.blank)
    assert plan.counts.blank <= blank
    return plan


def _files() -> list[tuple[bytes, str]]:
    files = [(p.read_bytes(), p.name) for p in sorted(EXAMPLE_PLANS.iterdir())]
    files += [(p.read_bytes(), p.name) for p in sorted(DATA.iterdir())]
    files += [write(spec) for spec in CORPUS] + [write_rated(spec) for spec in RATED_CORPUS]
    files += [write_as(spec, fmt) for spec in CORPUS[:4] for fmt in ("ods", "html", "xls")]
    return files


def test_every_row_of_every_plan_is_listed_once_with_its_reason() -> None:
    kinds: collections.Counter[str] = collections.Counter()
    reasons: set[str] = set()
    read = 0
    for data, name in _files():
        plan = _listed_once(data, name)
        if plan is None:
            continue
        read += 1
        kinds.update(r.kind for r in plan.rows)
        reasons.update(r.reason for r in plan.rows)
        # the rows agree with the plan: every action's first line is an action row, every other line of it a
        # continuation of it, and the counts are the rows'
        by_line = {(r.table, r.line): r for r in plan.rows}
        actions = [r for r in plan.rows if r.kind == "action"]
        assert len(actions) == len(plan.actions) == plan.counts.actions, name
        assert sum(1 for r in plan.rows if r.kind == "continuation") == plan.counts.continuations, name
        refs = {a.ref for a in plan.actions}
        assert {r.ref for r in actions} == refs, name
        for r in plan.rows:
            if r.kind == "continuation":
                assert r.ref in refs and r.of_line is not None and r.of_line < r.line, (name, r)
                assert by_line[(r.table, r.of_line)].kind == "action"
    assert read >= 60
    assert set(kinds) == {"header", "title", "section", "note", "action", "continuation", "key", "skip"}, kinds
    for reason in (
        "the header row: its headings name the plan's columns",
        "part of the header: its headings continue the row above",
        "the header row again: a new part of the plan starts",
        "one value above the header row: a title or a note",
        "one value across the row",
        "it reads as a heading",
        "one value on a shaded band",
        "it has its own reference",
        "it has its own action text",
        "its reference is typed at the start of its text",
        "no reference of its own in a plan with references: continues the action above",
        "the plan's rating key",
        "a totals row",
        "a sign-off line",
        "a table of success criteria: kept with the plan",
    ):
        assert reason in reasons, reason


@pytest.mark.parametrize(
    "spec",
    [
        Spec(f"layout-{n}", fmt, refs=refs, sections=sections, continuation=cont, blank_between=blank, seed=n)
        for n, (fmt, refs, sections, cont, blank) in enumerate(
            [
                ("csv", "numeric", "rows", True, True),
                ("tsv", "letter", "column", True, False),
                ("md", "none", "rows", False, True),
                ("xlsx", "alnum", "tables", True, True),
                ("docx", "numeric", "tables", True, False),
                ("xlsx", "none", "column", False, False),
                ("docx", "letter", "rows", True, True),
            ]
        )
    ],
    ids=lambda spec: spec.name,
)
def test_generated_layouts_list_every_non_blank_row(spec: Spec) -> None:
    plan = _listed_once(*write(spec))
    assert plan is not None
    assert plan.counts.actions == sum(len(actions) for _title, actions in spec.plan)


def test_one_plan_shows_each_kind_and_reason_in_order() -> None:
    plan = _listed_once(PLAN, "kimpton.csv")
    assert plan is not None
    got = [(r.line, r.kind, r.reason, r.ref) for r in plan.rows]
    assert got == [
        (1, "title", "one value above the header row: a title or a note", ""),
        (2, "header", "the header row: its headings name the plan's columns", ""),
        (3, "section", "it reads as a heading", ""),
        (4, "action", "it has its own reference", "1.1"),
        (5, "continuation", "no reference of its own in a plan with references: continues the action above", "1.1"),
        (6, "action", "it has its own reference", "2"),
        (7, "action", "it has its own reference", "2.1"),
        (8, "skip", "a ruled line", ""),
        (9, "key", "the plan's rating key", ""),
        (10, "skip", "a totals row", ""),
        (11, "skip", "a sign-off line", ""),
    ]
    assert plan.rows[4].of_line == 4 and plan.rows[5].text == "2 | Leadership and governance"
    assert [r.editable for r in plan.rows] == [False, False] + [True] * 9
    assert [r.choice for r in plan.rows[2:]] == ["section", "action", "continuation", "action", "action"] + ["skip"] * 4
    after = _listed_once(b"Ref,Action,Lead\n1.1,Plan,Jo\n\n,see the appendix for costs,\n", "after.csv")
    assert after is not None and (after.rows[-1].kind, after.rows[-1].reason) == ("skip", "text after the table")
    lone = _listed_once(b"Ref,Action,Lead\n,,Jo Bloggs\n1.1,Plan,Jo\n", "lone.csv")
    assert lone is not None and lone.rows[1].reason == "a row with no action and nothing above it to continue"


def _shape(plan: ParsedPlan) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(s.title, [(a.ref, a.text) for a in s.actions]) for s in plan.sections]


def _read(*rows: str) -> ParsedPlan:
    return parse_plan(PLAN, "kimpton.csv", PlanOverrides.from_options(rows=list(rows)))


def test_forcing_each_kind_changes_the_reading() -> None:
    as_read = _shape(parse_plan(PLAN, "kimpton.csv"))
    assert as_read == [
        (
            "1. Reading",
            [
                ("1.1", "Run the reading survey and share it with schools"),
                ("2", "Leadership and governance"),
                ("2.1", "Write the bid"),
            ],
        )
    ]
    # the heading misread as an action: a section, with the action below it
    fixed = _read("6=section")
    assert _shape(fixed) == [
        ("1. Reading", [("1.1", "Run the reading survey and share it with schools")]),
        ("2 Leadership and governance", [("2.1", "Write the bid")]),
    ]
    row = next(r for r in fixed.rows if r.line == 6)
    assert (row.kind, row.reason, row.forced) == ("section", "as you said", True)
    assert fixed.counts.actions == 2
    # the continuation as an action of its own (numbered by the importer)
    split = _read("5=action")
    assert [a.text for a in split.actions][:2] == ["Run the reading survey", "and share it with schools"]
    assert not split.actions[1].own_ref and split.actions[1].ref
    assert split.counts.continuations == 0
    # an action joined to the one above: its cells go to that action, and the row says which
    joined = _read("7=continuation")
    assert [(a.ref, a.text) for a in joined.actions][-1] == ("2", "Leadership and governance Write the bid")
    assert joined.actions[-1].lines == [6, 7] and joined.actions[-1].owners == ["Ann Lee"]
    row = next(r for r in joined.rows if r.line == 7)
    assert (row.kind, row.ref, row.of_line) == ("continuation", "2", 6)
    # left out: listed as not read, with the reason; the totals row read as an action
    skipped = _read("4=skip", "2:10=skip", "1:10=action")
    assert [a.ref for a in skipped.actions][1:] == ["2", "2.1", "Total"]
    row = next(r for r in skipped.rows if r.line == 4)
    assert (row.kind, row.reason) == ("skip", "left out by you")
    assert any(n.line == 4 and n.reason == "left out by you" for n in skipped.not_read)
    # table 2 has no line 10 (the file has one table): said, not used
    assert any("table 2 line 10" in str(w) and "was not used" in str(w) for w in skipped.warnings)
    # a key row read as a section heading
    assert "Key: G = on track; A = some concerns; R = off track" in [s.title for s in _read("9=section").sections]


def test_impossible_corrections_keep_the_reading_and_say_why() -> None:
    as_read = parse_plan(PLAN, "kimpton.csv")
    # nothing above line 3 to continue (it is the first row under the header)
    plan = _read("3=continuation")
    assert _shape(plan) == _shape(as_read)
    assert [str(w) for w in plan.warnings if "continue" in str(w)] == [
        "line 3: there is no action above this row for it to continue: read as before"
    ]
    # the header row and a line that is not in the file are no rows of the actions
    plan = _read("2=action", "99=section")
    assert _shape(plan) == _shape(as_read)
    said = [str(w) for w in plan.warnings if "was not used" in str(w)]
    assert said == [
        "line 2: no row of a table's actions is there: your 'action' was not used",
        "line 99: no row of a table's actions is there: your 'section' was not used",
    ]


def test_row_overrides_round_trip_and_bad_options_are_refused() -> None:
    given = PlanOverrides.from_options(rows=["6=section", "2:12=heading", "7 = Not Read", "1:5=continue"])
    assert given.rows == {(None, 6): "section", (1, 12): "section", (None, 7): "skip", (0, 5): "continuation"}
    assert given and PlanOverrides.from_dict(given.to_dict()) == given
    import json

    assert PlanOverrides.from_dict(json.loads(json.dumps(given.to_dict()))) == given  # as the chat keeps it
    for bad in ("6", "x=section", "6=paragraph", "0:6=action", "a:6=action", "=action", "6:=action"):
        with pytest.raises(ValueError):
            PlanOverrides.from_options(rows=[bad])
    # what from_dict is handed by an old or damaged pending upload: kinds it does not know are dropped
    assert PlanOverrides.from_dict({"rows": [[None, 6, "paragraph"], [0, "6", "action"]]}).rows == {}
    assert set(ROW_KINDS) == {"action", "section", "continuation", "skip"}


async def test_command_line_row_through_the_real_entry_point(db_url, sessionmaker, monkeypatch, capsys, tmp_path):  # type: ignore[no-untyped-def]
    from tests.test_review_core import _in_thread

    path = tmp_path / "kimpton.csv"
    path.write_bytes(PLAN)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert await _in_thread(["import", "plan", str(path), "--row", "6=section", "--row", "1:10=skip"]) == 0
    out = capsys.readouterr().out
    assert "Imported plan 1" in out
    async with sessionmaker() as session:
        plan = (await session.scalars(select(Plan))).one()
        sections = {s.id: s.title for s in (await session.scalars(select(Section).where(Section.plan_id == plan.id)))}
        actions = {a.ref: sections.get(a.section_id) for a in await session.scalars(select(Action))}
    assert actions == {"1.1": "1. Reading", "2.1": "2 Leadership and governance"}
    assert await _in_thread(["import", "plan", str(path), "--row", "6=paragraph"]) == 2
    assert "line=kind" in capsys.readouterr().err


async def test_run_import_plan_row_on_a_real_plan(db_url) -> None:  # type: ignore[no-untyped-def]
    """A real plan from a local authority: its second action made a continuation of the first, a dry run."""
    path = EXAMPLE_PLANS / "la-monitoring-2019-20.csv"
    outputs = []
    for rows in ([], ["3=continuation"]):
        out, err = io.StringIO(), io.StringIO()
        assert await run_import_plan(db_url, path, dry_run=True, out=out, err=err, rows=rows) == 0, err.getvalue()
        outputs.append(out.getvalue())
    assert "7 actions, 0 continuation rows" in outputs[0]
    assert "6 actions, 1 continuation row," in outputs[1]
    assert "Raise attainment of disadvantaged pupils — 2" in outputs[1]


async def test_chat_row_correction_then_import(chat, users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    from tests.test_plan_upload_control import buttons, check_messages, texts

    sent = await chat.upload("kimpton.csv", PLAN, user=users.coordinator, caption="plan")
    assert "Leadership and governance — " not in texts(sent)
    asked = await chat.press(buttons(sent)["Row…"], user=users.coordinator)
    check_messages(asked)
    prompt = texts(asked)
    assert "<code>12=section</code>" in prompt and "2:12" not in prompt  # one table: no table numbers
    # the rows read as something other than an action come first; here every row fits
    for shown in (
        "3 · Section heading — 1. Reading",
        "5 · Continues the action above — and share it",
        "6 · Action — 2 | Leadership and governance",
        "10 · Not read — Total | 2",
    ):
        assert shown in prompt, shown
    # what is not a row of the actions, or not a kind, is asked again; nothing changes
    for bad, said in (("2=section", "Line 2 is not a row"), ("6=paragraph", "line=kind"), ("six", "line=kind")):
        again = await chat.send(bad, user=users.coordinator)
        assert said in texts(again) and "Send it again" in texts(again), bad
        check_messages(again)
    assert not chat.app.user_data[users.coordinator]["plan_upload"]["overrides"]
    fixed = await chat.send("6=section", user=users.coordinator)
    check_messages(fixed)
    assert "2 Leadership and governance — 1" in texts(fixed)
    assert chat.app.user_data[users.coordinator]["plan_upload"]["overrides"]["rows"] == [[0, 6, "section"]]
    # the next message is no longer a row: the step ended with the new preview
    assert "awaiting" not in chat.app.user_data[users.coordinator]
    done = await chat.press(buttons(fixed)["Import"], user=users.coordinator)
    assert "Imported plan 1" in texts(done)
    async with sessionmaker() as session:
        sections = {s.id: s.title for s in await session.scalars(select(Section))}
        actions = {a.ref: sections.get(a.section_id) for a in await session.scalars(select(Action))}
    assert actions == {"1.1": "1. Reading", "2.1": "2 Leadership and governance"}
