"""Importing action plans: RAG and term parsing, table extraction, header matching, the two real example
plans (every action, owner, date and section), other formats, refusals, and saving to the database."""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from core.ingest import read_document
from core.ingest.text import clean_cell
from core.terms import parse_term_label
from plans.cli import run_import_plan, run_list_plans
from plans.fields import match_plan_headers
from plans.importer import (
    PlanImportError,
    parse_plan,
    parse_when,
    split_owners,
    split_whens,
)
from plans.rag import (
    parse_rag,
    parse_rag_set,
    rag_emoji,
    rag_label,
    split_rag_prefix,
)
from plans.store import PersonName, find_plan, match_person, save_plan
from storage.directory import Person
from storage.members import AuditEntry
from storage.plans import Action, ActionOwner, Plan, ProgressUpdate, Section
from tests.shared import EXAMPLE_PLANS

EXAMPLES = EXAMPLE_PLANS
MD = EXAMPLES / "teaching-school-action-plan-2014-15.md"
TSV = EXAMPLES / "emtsa-action-plan-2016-17.txt"
DATA = Path(__file__).resolve().parent / "data" / "plans"


# ---------------------------------------------------------------------------------------------------------
# RAG codes and term labels
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,code",
    [
        ("r", "R"),
        ("red", "R"),
        ("Red", "R"),
        ("RED", "R"),
        ("🔴", "R"),
        ("off track", "R"),
        ("amber", "A"),
        ("a", "A"),
        ("🟠", "A"),
        ("🟡", "A"),
        ("yellow", "A"),
        ("at risk", "A"),
        ("partly", "A"),
        ("g", "G"),
        ("green", "G"),
        ("🟢", "G"),
        ("🟢\ufe0f", "G"),
        ("on track", "G"),
        ("Green.", "G"),
        ("b", "B"),
        ("blue", "B"),
        ("🔵", "B"),
        ("purple", None),
        ("", None),
        ("great", None),
    ],
)
def test_parse_rag(text: str, code: str | None) -> None:
    assert parse_rag(text) == code


def test_complete_is_blue_only_when_the_plan_has_blue() -> None:
    for word in ("complete", "completed", "done", "Done"):
        assert parse_rag(word, "B,R,A,G") == "B"
        assert parse_rag(word, "R,A,G") == "G"
    assert parse_rag("blue", "R,A,G") is None  # not in this plan's set
    assert parse_rag_set("R,A,G") == ("R", "A", "G")
    assert parse_rag_set("b, r,a,g") == ("B", "R", "A", "G")
    with pytest.raises(ValueError):
        parse_rag_set("R,X")


def test_rag_labels_and_prefix() -> None:
    assert [rag_label(c) for c in "RAGB"] == ["Red", "Amber", "Green", "Blue"]
    assert rag_emoji("G") == "🟢" and rag_emoji(None) == "⚪"
    assert split_rag_prefix("amber Survey sent to all heads, 12 replies") == (
        "A",
        "Survey sent to all heads, 12 replies",
    )
    assert split_rag_prefix("on track - going well") == ("G", "going well")
    assert split_rag_prefix("Survey sent") == (None, "Survey sent")


@pytest.mark.parametrize(
    "label,expected",
    [
        ("Aut 16", (2016, "autumn")),
        ("Spr 17", (2016, "spring")),
        ("Sum 17", (2016, "summer")),
        ("Autumn 2016", (2016, "autumn")),
        ("Spring term 2017", (2016, "spring")),
        ("Summer 2017", (2016, "summer")),
        ("RAG rated progress Aut 16", (2016, "autumn")),
        ("Autumn 2016-17", (2016, "autumn")),
        ("Spring 2016/17", (2016, "spring")),
        ("Sum-17", (2016, "summer")),
        ("Autumn term", None),
        ("Progress comment", None),
        ("Summary 2017", None),
        ("Lead", None),
    ],
)
def test_parse_term_label(label: str, expected: tuple[int, str] | None) -> None:
    assert parse_term_label(label) == expected


def test_term_label_without_year_uses_the_plans_year() -> None:
    assert parse_term_label("Autumn term", default_year=2016) == (2016, "autumn")
    assert parse_term_label("Spr 2", default_year=2016) == (2016, "spring")  # a half-term, not 2002


# ---------------------------------------------------------------------------------------------------------
# Owners, dates, cells, headers
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,owners",
    [
        ("L Draycott K Shilton", ["L Draycott", "K Shilton"]),
        ("TSC rep, RSCd, EMTSSG chairs", ["TSC rep", "RSCd", "EMTSSG chairs"]),
        ("BSP and RSCd", ["BSP", "RSCd"]),
        ("BSP/TSF Project lead", ["BSP", "TSF Project lead"]),
        ("R Beards K Hibbs A Turner Pratt", ["R Beards", "K Hibbs", "A Turner Pratt"]),
        ("M Rock Leadership", ["M Rock", "Leadership"]),
        ("A Turner Lead Practitioners", ["A Turner", "Lead Practitioners"]),
        ("MR supported by RSCd", ["MR", "RSCd"]),
        ("Mrs J Patel and attendance leads", ["Mrs J Patel", "attendance leads"]),
        ("Lesley Draycott", ["Lesley Draycott"]),
        ("TBC", []),
    ],
)
def test_split_owners(text: str, owners: list[str]) -> None:
    assert split_owners(text) == owners


def test_split_whens_and_dates() -> None:
    assert split_whens("October 2014 October 2014 February 2015 On-going On-going") == [
        "October 2014",
        "October 2014",
        "February 2015",
        "On-going",
        "On-going",
    ]
    assert split_whens("January 2015 Spring term 2015 On-going") == ["January 2015", "Spring term 2015", "On-going"]
    assert split_whens("February 2015 May/June 2015 July 2015") == ["February 2015", "May/June 2015", "July 2015"]
    assert split_whens("TBC (Awaiting Ofsted to promote recruitment of Additional Inspectors)") == [
        "TBC (Awaiting Ofsted to promote recruitment of Additional Inspectors)"
    ]
    assert split_whens("When the new head starts") == ["When the new head starts"]  # kept whole
    assert parse_when("October 2014").isoformat() == "2014-10-01"
    assert parse_when("May/June 2015").isoformat() == "2015-06-01"
    assert parse_when("12/03/2015").isoformat() == "2015-03-12"
    assert parse_when("On-going") is None and parse_when("TBC") is None and parse_when("Spring term") is None


def test_clean_cell_strips_html_and_splits_bullets() -> None:
    cell = '<ul style="list-style-type: none"> • 100% reports returned on time • 100% commissions reported on '
    assert clean_cell(cell) == "100% reports returned on time\n100% commissions reported on"
    assert clean_cell("a<br>b &amp; c") == "a\nb & c"


@pytest.mark.parametrize(
    "headers,expected",
    [
        (
            ["Action points", "Milestones", "Date", "Lead", "Impact", "KPIs"],
            {"action": 0, "milestones": 1, "date": 2, "owner": 3, "impact": 4, "kpis": 5},
        ),
        (
            ["Priority Tasks", "Task owner", "£ source", "KPI", "Reporting"],
            {"action": 0, "owner": 1, "funding": 2, "kpis": 3, "reporting": 4},
        ),
        (
            ["Recommendation", "Proposed action", "By whom", "Budget cost", "Timescale"],
            {"section": 0, "action": 1, "owner": 2, "funding": 3, "date": 4},
        ),  # the recommendation is the aim
        # Never seen before: matched by the words they contain.
        (
            [
                "No.",
                "Objective",
                "Person responsible",
                "Target completion date",
                "Success measures",
                "Resources required",
            ],
            {"ref": 0, "action": 1, "owner": 2, "date": 3, "kpis": 4, "funding": 5},
        ),
        (
            ["What we will do", "Who will lead it", "By when", "Milestones"],
            {"action": 0, "owner": 1, "date": 2, "milestones": 3},
        ),
    ],
)
def test_headers_matched_by_meaning(headers: list[str], expected: dict[str, int]) -> None:
    assert match_plan_headers(headers).columns == expected


def test_term_columns_become_rag_and_comment_columns() -> None:
    cols = match_plan_headers(
        [
            "Key actions and impact",
            "Responsible",
            "Timeline",
            "RAG rated progress Aut 16",
            "RAG rated progress Spr 17",
            "Sum 17",
            "Progress comment Spr 17",
        ]
    )
    assert cols.columns == {"action": 0, "owner": 1, "date": 2}
    assert cols.rag_terms == {3: (2016, "autumn"), 4: (2016, "spring"), 5: (2016, "summer")}
    assert cols.comment_terms == {6: (2016, "spring")}


# ---------------------------------------------------------------------------------------------------------
# The two real example plans
# ---------------------------------------------------------------------------------------------------------


def _md_rows_by_section() -> list[tuple[str, list[list[str]]]]:
    """Read the Markdown plan by hand (independently of the importer): section title lines, and for each
    table the data rows (cells) that start an action or continue one."""
    sections: list[tuple[str, list[list[str]]]] = []
    for line in MD.read_text(encoding="utf-8").splitlines():
        if line.startswith("Teaching School 2014/15 - Action Plan"):
            sections.append((line.split("–", 1)[1].strip(), []))
        elif line.startswith("|") and not re.match(r"^\|[-|\s]+\|$", line):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0] in ("Action points", "National KPI") or (sections and sections[-1][0] == "stop"):
                if cells[0] == "National KPI":
                    sections.append(("stop", []))
                continue
            sections[-1][1].append(cells)
    return [s for s in sections if s[0] != "stop"]


def test_markdown_plan_every_action_owner_date_and_section() -> None:
    plan = parse_plan(MD.read_bytes(), MD.name)
    by_hand = _md_rows_by_section()
    assert plan.title == "Teaching School 2014/15 - Action Plan"
    assert plan.year == "2014-15"
    assert [s.title for s in plan.sections] == [title for title, _rows in by_hand]
    assert [s.title for s in plan.sections][:2] == ["1. Initial teacher training / School Direct", "2. CPD"]
    # Sections 1-4 have four actions; 5 has three (its second table row continues "Masters Programme");
    # 6 has no table; 7 has three.
    assert [len(s.actions) for s in plan.sections] == [4, 4, 4, 4, 3, 0, 3]
    for section, (_title, rows) in zip(plan.sections, by_hand):
        starts = [cells for cells in rows if cells[0]]
        assert [a.text for a in section.actions] == [cells[0] for cells in starts]
        for action, cells in zip(section.actions, starts):
            assert action.owners_text == cells[3]
            # every word of the Lead cell is in an owner's name (the cell is split, nothing dropped)
            assert " ".join(action.owners).split() == re.split(r"[\s/]+", cells[3]) or cells[3] == "TBC"
            whens = [m["when"] for m in action.milestones if m["when"]]
            if action.text != "Masters Programme":
                # every date written in the Date cell survives, in order
                assert " ".join(whens) == " ".join(cells[2].split())
            assert action.kpis == cells[5]
    assert [a.ref for a in plan.sections[0].actions] == ["1.1", "1.2", "1.3", "1.4"]
    assert [a.ref for a in plan.sections[6].actions] == ["7.1", "7.2", "7.3"]
    first = plan.sections[0].actions[0]
    assert first.owners == ["L Draycott", "K Shilton"]
    assert [m["when"] for m in first.milestones if m["when"]] == [
        "October 2014",
        "October 2014",
        "February 2015",
        "On-going",
        "On-going",
    ]
    assert [m["date"] for m in first.milestones if m["when"]] == ["2014-10-01", "2014-10-01", "2015-02-01", None, None]
    assert first.due_date.isoformat() == "2015-02-28"
    assert plan.sections[2].actions[0].owners == ["R Beards", "K Hibbs", "A Turner Pratt"]
    assert plan.sections[2].actions[3].owners == []  # "TBC"
    assert plan.sections[2].actions[3].owners_text == "TBC"
    masters = plan.sections[4].actions[0]
    assert masters.text == "Masters Programme"
    assert "Disseminate findings" in masters.milestones_text
    assert [m["when"] for m in masters.milestones if m["when"]] == ["January 2015", "Spring term 2015", "On-going"]
    assert masters.impact.endswith("Dissemination of findings at whole level to improve achievement.")
    assert "Double the rate of improvement" in (plan.success_criteria or "")


def _tsv_blocks_by_hand() -> list[tuple[str, list[list[str]]]]:
    blocks: list[tuple[str, list[list[str]]]] = []
    lines = TSV.read_text(encoding="utf-8").splitlines()
    in_table = False
    for i, line in enumerate(lines):
        cells = line.split("\t")
        if cells[0] == "Priority Tasks":
            title = lines[i - 3].split("\t")[0]
            blocks.append((title, []))
            in_table = True
        elif not line.strip():
            in_table = False
        elif in_table:
            blocks[-1][1].append(cells)
    return blocks


def test_tab_separated_plan_every_priority_task() -> None:
    plan = parse_plan(TSV.read_bytes(), TSV.name)
    by_hand = _tsv_blocks_by_hand()
    assert [len(rows) for _t, rows in by_hand] == [10, 9, 5, 3, 3]
    assert [s.title for s in plan.sections] == [t for t, _rows in by_hand]
    assert [len(s.actions) for s in plan.sections] == [10, 9, 5, 3, 3]
    assert plan.partnership == "East Midlands Teaching Schools Alliance"
    assert plan.year == "2016-17"
    for section, (_title, rows) in zip(plan.sections, by_hand):
        for action, cells in zip(section.actions, rows):
            assert action.text == cells[0]
            assert action.owners_text == cells[1]
            assert action.funding == cells[2]
            assert action.reporting == cells[4].strip()
            assert "<" not in action.kpis and "•" not in action.kpis and action.kpis
    assert [a.ref for a in plan.sections[0].actions][-1] == "1.10"
    s1 = plan.sections[0].actions
    assert s1[3].owners == ["TSC rep", "RSCd", "EMTSSG chairs"]
    assert plan.sections[4].actions[1].owners == ["BSP", "RSCd"]
    assert plan.sections[2].actions[0].owners == ["BSP", "TSF Project lead"]
    assert plan.sections[4].actions[0].kpis.split("\n") == [
        "100% reports returned on time",
        "100% commissions reported on",
        "100% financial compliance",
    ]
    # The section KPIs ("What does better look like") are kept without their heading, bullet by bullet.
    assert len(plan.sections[1].kpis.split("\n")) == 4
    assert not plan.sections[1].kpis.startswith("KPIs")
    # The glossary table before the plan is not an action table, and says so.
    assert any("Key Terms" in str(w) for w in plan.warnings)


# ---------------------------------------------------------------------------------------------------------
# Other formats, unseen headers, refusals
# ---------------------------------------------------------------------------------------------------------


def test_csv_with_unseen_headers_and_continuation_rows() -> None:
    plan = parse_plan((DATA / "recommendations.csv").read_bytes(), "recommendations.csv")
    assert plan.partnership == "Northfield Schools Partnership"
    assert plan.year == "2023-24"
    actions = plan.actions
    assert [a.text[:20] for a in actions] == [
        "Attendance lead in e",
        "Share the best atten",
        "Phonics training for",
        '=HYPERLINK("http://e',
    ]
    assert actions[0].owners == ["Mrs J Patel", "attendance leads"]
    assert actions[0].funding == "£2000"
    assert [m["when"] for m in actions[0].milestones] == ["September 2023", "termly"]
    # The recommendation is the aim the action serves: its section, and kept on the action.
    assert actions[0].aim == "Improve attendance of disadvantaged pupils"
    assert plan.sections[0].title == "Improve attendance of disadvantaged pupils"
    assert actions[0].extra == {"Recommendation": "Improve attendance of disadvantaged pupils"}
    assert actions[2].owners == ["English hub", "R Singh"]
    assert plan.mapping[0].header == "Recommendation" and plan.mapping[0].field == "section"


def _xlsx_plan() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Plan"
    sheet.append(["Riverside Learning Trust"])
    sheet.append(["School improvement action plan 2016-17"])
    sheet.append([])
    sheet.append(
        [
            "Ref",
            "Key actions and impact",
            "Responsible",
            "Timeline",
            "RAG rated progress Aut 16",
            "RAG rated progress Spr 17",
            "RAG rated progress Sum 17",
            "Progress comment",
        ]
    )
    sheet.append(["a)", "Moderate writing across schools", "L Draycott", "Dec 2016", "A", "G", "", "Two sessions held"])
    sheet.append(
        [
            "b)",
            "Phonics screening check support",
            "Karen Shilton / M Rock",
            "June 2017",
            "Red",
            "amber",
            "Green",
            "All schools above national",
        ]
    )
    sheet.append(["c)", "Governor training", "TBC", "Termly", "", "", "", ""])
    second = book.create_sheet("Strand 2")
    second.append(["Ref", "Key actions and impact", "Responsible", "Timeline", "Aut 16", "Spr 17", "Sum 17"])
    second.append(["d)", "Leadership coaching", "R Osborne", "On-going", "G", "🟢", "complete"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_with_rag_columns_per_term_gives_history() -> None:
    plan = parse_plan(_xlsx_plan(), "trust-plan.xlsx")
    assert plan.title == "School improvement action plan 2016-17"
    assert plan.partnership == "Riverside Learning Trust"
    assert plan.year == "2016-17"
    assert [s.title for s in plan.sections] == ["", "Strand 2"]
    assert [a.ref for a in plan.actions] == ["a)", "b)", "c)", "d)"]
    a, b, c, d = plan.actions
    assert [(u.term, u.rag, u.comment) for u in a.history] == [
        ("autumn", "A", ""),
        ("spring", "G", "Two sessions held"),
    ]
    assert [(u.term, u.rag) for u in b.history] == [("autumn", "R"), ("spring", "A"), ("summer", "G")]
    assert b.history[-1].comment == "All schools above national"
    assert b.owners == ["Karen Shilton", "M Rock"]
    assert c.history == [] and c.owners == []
    assert [u.rag for u in d.history] == ["G", "G", "G"]  # "complete" with no Blue in the plan → Green
    assert all(u.academic_year == 2016 for x in plan.actions for u in x.history)


def _docx_plan() -> bytes:
    document = docx.Document()
    document.add_heading("Westshire Primary Partnership action plan 2024-25", level=1)
    document.add_paragraph("Priority 1: Reading")
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, ["Proposed action", "By whom", "Timescale", "Success criteria"]):
        cell.text = text
    for values in (
        ["Reading fluency project", "J Patel", "Autumn term 2024", "80% at expected"],
        ["Library refurbishment", "A Khan and B Jones", "March 2025", "Library open daily"],
    ):
        cells = table.add_row().cells
        for cell, text in zip(cells, values):
            cell.text = text
    document.add_paragraph("Priority 2: Attendance")
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, ["Proposed action", "By whom", "Timescale", "Success criteria"]):
        cell.text = text
    cells = table.add_row().cells
    for cell, text in zip(cells, ["First-day calling", "Attendance officers", "September 2024", "95% attendance"]):
        cell.text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_every_table_with_the_paragraph_before_as_title() -> None:
    plan = parse_plan(_docx_plan(), "westshire.docx")
    assert plan.title == "Westshire Primary Partnership action plan 2024-25"
    assert plan.year == "2024-25"
    assert [s.title for s in plan.sections] == ["Priority 1: Reading", "Priority 2: Attendance"]
    assert [a.ref for a in plan.actions] == ["1.1", "1.2", "2.1"]
    assert plan.actions[1].owners == ["A Khan", "B Jones"]
    assert plan.actions[1].milestones == [{"text": "", "when": "March 2025", "date": "2025-03-01"}]
    assert plan.actions[2].kpis == "95% attendance"


@pytest.mark.parametrize(
    "name,reason",
    [
        ("no-table.txt", "no table"),
        ("glossary-only.md", "column I can read as the actions"),
    ],
)
def test_files_without_a_usable_table_are_refused_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(PlanImportError, match=reason):
        parse_plan((DATA / name).read_bytes(), name)


def test_refusals_for_empty_and_unreadable_files() -> None:
    with pytest.raises(PlanImportError, match="empty"):
        parse_plan(b"  \n", "plan.md")
    with pytest.raises(PlanImportError, match="Excel"):
        parse_plan(b"PK\x03\x04 not really a zip", "plan.xlsx")
    with pytest.raises(
        PlanImportError, match=r"Excel 97-2003 workbook \(\.xls\): it is damaged or incomplete; please save it again"
    ):
        parse_plan(b"\xd0\xcf\x11\xe0old excel", "plan.xls")


def test_duplicate_references_are_made_unique_by_section() -> None:
    text = (
        "Strand 1\n\n| Ref | Action | Lead |\n|---|---|---|\n| a) | One | X Y |\n| b) | Two | X Y |\n\n"
        "Strand 2\n\n| Ref | Action | Lead |\n|---|---|---|\n| a) | Three | X Y |\n"
    )
    plan = parse_plan(text.encode(), "strands.md")
    assert [a.ref for a in plan.actions] == ["1.a)", "1.b)", "2.a)"]
    assert len({a.ref for a in plan.actions}) == 3


def test_extract_reports_line_numbers() -> None:
    document = read_document(MD.read_bytes(), MD.name)
    first = document.tables[0]
    assert first.rows[1].line == 7  # the first action is on line 7 of the file (line 5 is the header)
    assert first.rows[1].cells[0].text.startswith("School Centred Initial Teacher Training")


# ---------------------------------------------------------------------------------------------------------
# Owner matching
# ---------------------------------------------------------------------------------------------------------


def test_match_person_by_initial_and_surname() -> None:
    people = [
        PersonName(1, "Lesley", "Draycott"),
        PersonName(2, "Karen", "Shilton"),
        PersonName(3, "Kevin", "Shilton"),
        PersonName(4, "Mark", "Rock"),
    ]
    assert match_person("L Draycott", people) == (1, [1])
    assert match_person("Lesley Draycott", people) == (1, [1])
    assert match_person("Mrs L. Draycot", people)[0] == 1  # a slip in the surname
    assert match_person("K Shilton", people) == (None, [2, 3])  # two people could be K Shilton
    assert match_person("Karen Shilton", people)[0] == 2
    assert match_person("M Rock", people)[0] == 4
    assert match_person("R Rock", people) == (None, [])
    assert match_person("BSP", people) == (None, [])
    assert match_person("Leadership", people) == (None, [])


# ---------------------------------------------------------------------------------------------------------
# Saving (SQLite and PostgreSQL)
# ---------------------------------------------------------------------------------------------------------


async def _add_people(sessionmaker) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with sessionmaker.begin() as session:
        people = {
            "lesley": Person(first_name="Lesley", last_name="Draycott"),
            "karen": Person(first_name="Karen", last_name="Shilton"),
            "mark": Person(first_name="Mark", last_name="Rock"),
        }
        session.add_all(people.values())
        await session.flush()
        return {k: p.id for k, p in people.items()}


async def test_save_markdown_plan_links_owners_and_audits(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    ids = await _add_people(sessionmaker)
    parsed = parse_plan(MD.read_bytes(), MD.name)
    async with sessionmaker.begin() as session:
        summary = await save_plan(session, parsed, actor_id=1003)
    assert summary.actions == 22 and summary.sections == 7
    async with sessionmaker() as session:
        plan = await session.get(Plan, summary.plan_id)
        assert plan is not None and plan.title == "Teaching School 2014/15 - Action Plan" and plan.year == "2014-15"
        assert plan.source_name == MD.name
        titles = (
            await session.scalars(select(Section.title).where(Section.plan_id == plan.id).order_by(Section.position))
        ).all()
        assert titles[5] == "6. Business Management and Governance"
        assert await session.scalar(select(func.count()).select_from(Action).where(Action.plan_id == plan.id)) == 22
        first = await session.scalar(select(Action).where(Action.plan_id == plan.id, Action.ref == "1.1"))
        assert first.milestones[-1] == {"text": "", "when": "On-going", "date": None}
        owners = (
            await session.execute(
                select(ActionOwner.name, ActionOwner.person_id)
                .where(ActionOwner.action_id == first.id)
                .order_by(ActionOwner.id)
            )
        ).all()
        assert owners == [("L Draycott", ids["lesley"]), ("K Shilton", ids["karen"])]
        unmatched = await session.scalar(select(ActionOwner).where(ActionOwner.name == "D Lowbridge"))
        assert unmatched is not None and unmatched.person_id is None  # kept as text
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "plan.import"))
        assert audit.actor_id == 1003 and audit.entity_id == str(plan.id) and audit.detail["actions"] == 22
    assert "D Lowbridge" in summary.unlinked_names
    assert summary.owners_linked == sum(
        1 for a in parsed.actions for o in a.owners if o in ("L Draycott", "K Shilton", "M Rock")
    )


async def test_imported_rag_columns_become_progress_history(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_plan(_xlsx_plan(), "trust-plan.xlsx")
    async with sessionmaker.begin() as session:
        summary = await save_plan(session, parsed, actor_id=None)
    assert summary.updates == 2 + 3 + 3
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(
                    Action.ref,
                    ProgressUpdate.term,
                    ProgressUpdate.rag,
                    ProgressUpdate.kind,
                    ProgressUpdate.comment,
                    ProgressUpdate.academic_year,
                )
                .join(Action, Action.id == ProgressUpdate.action_id)
                .order_by(ProgressUpdate.id)
            )
        ).all()
    assert [(r.ref, r.term, r.rag) for r in rows if r.ref == "b)"] == [
        ("b)", "autumn", "R"),
        ("b)", "spring", "A"),
        ("b)", "summer", "G"),
    ]
    assert {r.kind for r in rows} == {"import"} and {r.academic_year for r in rows} == {2016}
    assert [r.comment for r in rows if r.ref == "a)"] == ["", "Two sessions held"]


async def test_dry_run_and_refused_files_change_nothing(sessionmaker, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_plan(TSV.read_bytes(), TSV.name)
    async with sessionmaker.begin() as session:
        summary = await save_plan(session, parsed, actor_id=1003, dry_run=True)
    assert summary.dry_run and summary.plan_id is None and summary.actions == 30
    out, err = io.StringIO(), io.StringIO()
    assert await run_import_plan(db_url, DATA / "no-table.txt", out=out, err=err) == 1
    assert "no table" in err.getvalue()
    assert await run_import_plan(db_url, TSV, dry_run=True, out=out, err=err) == 0
    assert "Dry run" in out.getvalue()
    async with sessionmaker() as session:
        for model in (Plan, Action, ActionOwner, ProgressUpdate, AuditEntry):
            assert await session.scalar(select(func.count()).select_from(model)) == 0


async def test_cli_import_then_list_and_find(sessionmaker, db_url) -> None:  # type: ignore[no-untyped-def]
    out, err = io.StringIO(), io.StringIO()
    assert await run_import_plan(db_url, MD, out=out, err=err) == 0, err.getvalue()
    assert "Imported plan 1: Teaching School 2014/15 - Action Plan" in out.getvalue()
    assert "22 actions" in out.getvalue()
    assert await run_import_plan(db_url, TSV, out=out, err=err) == 0
    listing = io.StringIO()
    assert await run_list_plans(db_url, out=listing) == 0
    lines = listing.getvalue().splitlines()
    assert lines[0].split()[0] == "1" and "(22 actions)" in lines[0]
    assert lines[1].split()[0] == "2" and "(30 actions)" in lines[1] and "2016-17" in lines[1]
    async with sessionmaker() as session:
        assert (await find_plan(session, "1")).title.startswith("Teaching School")
        assert (await find_plan(session, "#2")).partnership == "East Midlands Teaching Schools Alliance"
        assert (await find_plan(session, "east midlands")).id == 2
        assert (await find_plan(session, "Teching Scool Action Plan")).id == 1  # misspelt
        assert await find_plan(session, "3") is None
        assert await find_plan(session, "zzzz qqqq") is None
