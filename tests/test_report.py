"""The termly report: /report in chat and `partnerbot report` on the command line make the same three files
(Word, Excel, the RAG picture) for the plan's span of terms; the tests open the files and read them back."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import event, select

from core.terms import (
    AUTUMN,
    SPRING,
    SUMMER,
    Term,
    parse_term,
    plan_academic_years,
    plan_span,
    term_from_ordinal,
    term_label,
    term_ordinal,
)
from plans.cli import run_export_plan
from plans.export import PNG_MAX_WIDTH, ActionView, PlanView, render_rag_png
from plans.importer import parse_plan
from plans.rag import RAG_COLOURS
from plans.report import (
    TermNotInSpan,
    default_term,
    make_report,
    render_report,
    slug,
    summarise,
)
from plans.report_cli import run_report
from plans.report_worker import run_off_loop, worker_pid
from plans.store import build_plan_view, save_plan
from storage.plans import Action, ProgressUpdate
from tests.harness import frozen_clock
from tests.plan_seed import seed_plan
from tests.test_plan_import import TSV

NOW = dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.timezone.utc)  # Spring 2026
AUT25, SPR26, SUM26 = Term(2025, AUTUMN), Term(2025, SPRING), Term(2025, SUMMER)
EVIL = '=HYPERLINK("http://evil.example","click") host school withdrew'


@pytest.fixture
def at_now() -> Iterator[None]:
    with frozen_clock(NOW):
        yield


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=dt.timezone.utc)


async def _post(
    sessionmaker,
    action_id: int,
    rag: str | None,
    comment: str,
    term: Term,
    author: str,
    day: str,  # type: ignore[no-untyped-def]
    kind: str = "update",
    replaces_id: int | None = None,
) -> int:
    async with sessionmaker.begin() as session:
        row = ProgressUpdate(
            action_id=action_id,
            rag=rag,
            comment=comment,
            academic_year=term.academic_year,
            term=term.term,
            kind=kind,
            replaces_id=replaces_id,
            author_label=author,
            created_at=_at(day),
        )
        session.add(row)
        await session.flush()
        return row.id


async def seed_two_terms(sessionmaker):  # type: ignore[no-untyped-def]
    """The seeded 2025-26 plan rated in Autumn 2025 and Spring 2026: 1.1 up (A→G), 1.2 down (G→R, a comment
    that looks like a formula), 1.3 up (R→A, its first Spring rating corrected), c) not updated this term."""
    seeded = await seed_plan(sessionmaker)
    a = seeded.actions
    await _post(sessionmaker, a["1.1"], "A", "Business case drafted", AUT25, "Lucy Draycott", "2025-10-20")
    await _post(sessionmaker, a["1.2"], "G", "Programme running", AUT25, "Karen Shilton", "2025-10-21")
    await _post(sessionmaker, a["1.3"], "R", "Survey not sent", AUT25, "Lucy Draycott", "2025-10-22")
    await _post(sessionmaker, a["c)"], "A", "CPD offer drafted", AUT25, "import", "2025-12-31", kind="import")
    await _post(sessionmaker, a["1.1"], "G", "Business case submitted", SPR26, "Lucy Draycott", "2026-02-02")
    await _post(sessionmaker, a["1.2"], "R", EVIL, SPR26, "Karen Shilton", "2026-02-03")
    wrong = await _post(sessionmaker, a["1.3"], "R", "typo", SPR26, "Lucy Draycott", "2026-02-04")
    await _post(
        sessionmaker,
        a["1.3"],
        "A",
        "Survey sent to all heads",
        SPR26,
        "Lucy Draycott",
        "2026-02-05",
        kind="correction",
        replaces_id=wrong,
    )
    return seeded


# ---------------------------------------------------------------------------------------------------------
# The span of terms (one function for chat, command line and files)
# ---------------------------------------------------------------------------------------------------------


def test_plan_span_is_the_plans_years_plus_terms_with_updates() -> None:
    aut26 = Term(2026, AUTUMN)
    assert plan_span("2016-17", {aut26}) == [Term(2016, AUTUMN), Term(2016, SPRING), Term(2016, SUMMER), aut26]
    assert plan_span("2016/17 - 2017/18", set()) == [Term(y, t) for y in (2016, 2017) for t in (AUTUMN, SPRING, SUMMER)]
    assert plan_span(None, {Term(2019, SUMMER)}) == [Term(2019, t) for t in (AUTUMN, SPRING, SUMMER)]
    assert plan_span("", set(), fallback=Term(2020, SPRING)) == [Term(2020, t) for t in (AUTUMN, SPRING, SUMMER)]
    assert plan_academic_years("2016-2019") == [2016, 2017, 2018]
    assert plan_academic_years("2016") == [2016] and plan_academic_years("n/a") == []
    assert plan_academic_years("2016-2099") == [2016]  # not a plan's years: the first is kept


@pytest.mark.parametrize(
    "text,term",
    [
        ("Spring 2026", Term(2025, SPRING)),
        ("Spr 26", Term(2025, SPRING)),
        ("2025-spring", Term(2025, SPRING)),
        ("aut 16", Term(2016, AUTUMN)),
        ("Summer term 2017", Term(2016, SUMMER)),
        ("nonsense", None),
        ("", None),
        ("2025-winter", None),
    ],
)
def test_parse_term(text: str, term: Term | None) -> None:
    assert parse_term(text) == term


def test_term_ordinals_and_default_term() -> None:
    for term in (AUT25, SPR26, SUM26, Term(1999, SUMMER)):
        assert term_from_ordinal(term_ordinal(term)) == term
    span = [AUT25, SPR26, SUM26]
    assert default_term(span, SPR26) == SPR26
    assert default_term(span, Term(2030, AUTUMN)) == SUM26  # an old plan: its last term
    assert default_term(span, Term(2020, AUTUMN)) == AUT25


async def test_chat_and_command_line_agree_on_an_old_plans_span(sessionmaker, tmp_path: Path, db_url) -> None:  # type: ignore[no-untyped-def]
    """The issue's case: a 2016-17 plan with one update this term had 31 term columns on the command line."""
    with frozen_clock(dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.timezone.utc)):
        async with sessionmaker.begin() as session:
            summary = await save_plan(session, parse_plan(TSV.read_bytes(), TSV.name), actor_id=1003)
        plan_id = summary.plan_id
        async with sessionmaker() as session:
            first = await session.scalar(select(Action.id).where(Action.plan_id == plan_id).order_by(Action.position))
        aut26 = Term(2026, AUTUMN)
        await _post(sessionmaker, first, "A", "Picked up again", aut26, "Lucy Draycott", "2026-11-02")
        span = [Term(2016, AUTUMN), Term(2016, SPRING), Term(2016, SUMMER), aut26]
        async with sessionmaker() as session:
            view = await build_plan_view(session, plan_id)
        assert view is not None and view.terms == span
        target = tmp_path / "plan.xlsx"
        assert await run_export_plan(db_url, str(plan_id), None, target, out=io.StringIO(), err=io.StringIO()) == 0
        sheet = load_workbook(target).worksheets[0]
        header = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "Ref")
        assert [h for h in header if h and h[:4] in ("Aut ", "Spr ", "Sum ")] == [
            "Aut 16",
            "Spr 17",
            "Sum 17",
            "Aut 26",
        ]
        # The export's header row is the styled one, and the panes freeze just below it (the old bug).
        header_row = next(c.row for c in sheet["A"] if c.value == "Ref")
        assert sheet.cell(row=header_row, column=1).font.bold and sheet.freeze_panes == f"D{header_row + 1}"
        files = await make_report(sessionmaker, plan_id)
    assert files is not None and files.term == aut26 and files.span == span
    book = load_workbook(io.BytesIO(files.xlsx[1]))
    assert [c.value for c in book["Actions"][1]][10:14] == ["Aut 16", "Spr 17", "Sum 17", "Aut 26"]
    assert Image.open(io.BytesIO(files.png[1])).width <= PNG_MAX_WIDTH


# ---------------------------------------------------------------------------------------------------------
# What the report says (pure)
# ---------------------------------------------------------------------------------------------------------


async def test_summary_counts_moves_stale_and_exceptions(sessionmaker, at_now) -> None:  # type: ignore[no-untyped-def]
    await seed_two_terms(sessionmaker)
    async with sessionmaker() as session:
        view = await build_plan_view(session, 1)
    assert view is not None and view.terms == [AUT25, SPR26, SUM26]
    summary = summarise(view, SPR26)
    assert summary.previous == AUT25
    assert summary.counts == {"R": 1, "A": 1, "G": 1, "": 1}
    assert summary.previous_counts == {"R": 1, "A": 2, "G": 1, "": 0}
    assert [(m.action.ref, m.before, m.after) for m in summary.up] == [("1.1", "A", "G"), ("1.3", "R", "A")]
    assert [(m.action.ref, m.before, m.after) for m in summary.down] == [("1.2", "G", "R")]
    assert [(s.action.ref, s.last, s.last_term) for s in summary.stale] == [("c)", "A", AUT25)]
    assert [(e.action.ref, e.rating, e.before) for e in summary.exceptions] == [("1.2", "R", "G"), ("1.3", "A", "R")]
    comment = summary.exceptions[1].comment
    assert comment is not None and comment.comment == "Survey sent to all heads" and comment.author == "Lucy Draycott"
    # Last term's report knows nothing of this term.
    autumn = summarise(view, AUT25)
    assert autumn.previous is None and autumn.up == autumn.down == [] and autumn.stale == []
    assert [e.comment.comment for e in autumn.exceptions if e.comment] == [
        "Survey not sent",
        "Business case drafted",
        "CPD offer drafted",
    ]


# ---------------------------------------------------------------------------------------------------------
# The files, opened and read back
# ---------------------------------------------------------------------------------------------------------


def _paragraphs(document) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in document.paragraphs]


async def test_word_report(sessionmaker, at_now) -> None:  # type: ignore[no-untyped-def]
    await seed_two_terms(sessionmaker)
    files = await make_report(sessionmaker, 1)
    assert files is not None and files.term == SPR26
    assert files.docx[0] == "teaching-school-2025-26-spr-26.docx"
    document = docx.Document(io.BytesIO(files.docx[1]))
    paragraphs = _paragraphs(document)
    styles = {p.text: p.style.name for p in document.paragraphs}
    # Title: partnership, plan, term, date (Babel's long UK date).
    assert styles["Teaching School 2025-26"] == "Title" and styles["Alliance"] == "Subtitle"
    assert "Termly report: Spring 2026 · produced 10 February 2026" in paragraphs
    assert document.core_properties.title == "Teaching School 2025-26"
    # Summary: counts this term and last.
    counts = document.tables[0]
    assert [c.text for c in counts.rows[0].cells] == ["Rating", "Spring 2026", "Autumn 2025"]
    rows = {r.cells[0].text.strip(): [c.text for c in r.cells[1:]] for r in counts.rows[1:]}
    assert rows == {
        "R  Red": ["1", "1"],
        "A  Amber": ["1", "2"],
        "G  Green": ["1", "1"],
        "No rating": ["1", "0"],
        "All actions": ["4", "4"],
    }
    assert "R" in counts.rows[1].cells[0].paragraphs[0].runs[0].text  # the letter, not only the colour
    assert f'w:fill="{RAG_COLOURS["R"]}"' in counts.rows[1].cells[0].paragraphs[0].runs[0]._r.xml
    up = paragraphs.index("2 actions moved up")
    assert paragraphs[up + 1].startswith("1.1 School Centred") and paragraphs[up + 1].endswith(" A  →  G ")
    assert paragraphs[up + 2].startswith("1.3 Recruit") and "1 action moved down" in paragraphs
    stale = paragraphs.index("1 action not updated in Spring 2026")
    assert paragraphs[stale + 1].startswith("c) Programme of CPD <according> to Alliance needs & more — M Rock")
    assert "last rated Aut 25:" in paragraphs[stale + 1]
    # The RAG picture, embedded: the very PNG sent in chat.
    assert len(document.inline_shapes) == 1
    blip = document.inline_shapes[0]._inline.graphic.graphicData.pic.blipFill.blip
    assert document.part.related_parts[blip.embed].blob == files.png[1]
    # Exceptions: every red and amber action, reds first, with owner, latest comment, author, date, change.
    start = paragraphs.index("Exceptions: red and amber actions")
    block = paragraphs[start : paragraphs.index("The full plan")]
    heads = [p for p in block if p.startswith((" R ", " A "))]
    assert heads == [" R  1.2 School Experience Programme", " A  1.3 Recruit School Direct 2026 allocation"]
    red = block[block.index(heads[0]) : block.index(heads[1])]
    assert red[1:] == [
        "Owner: Karen Shilton",
        "Rating: Red (off track), down from Green in Autumn 2025",
        f"Latest comment: {EVIL}",
        "By: Karen Shilton, 3 Feb 2026 (Spr 26)",
    ]
    amber = block[block.index(heads[1]) :]
    assert "Rating: Amber (at risk), up from Red in Autumn 2025" in amber
    assert "Latest comment: Survey sent to all heads" in amber  # the correction, not the typo
    # The full table: landscape, header repeated on every page, the span's terms and no others.
    last = document.sections[-1]
    assert last.orientation == WD_ORIENT.LANDSCAPE and last.page_width > last.page_height
    assert document.sections[0].page_width < document.sections[0].page_height  # the summary reads in portrait
    table = document.tables[-1]
    header = [c.text for c in table.rows[0].cells]
    assert header == [
        "Ref",
        "Action",
        "Owners",
        "Milestones",
        "Timeline",
        "Aut 25",
        "Spr 26",
        "Sum 26",
        "Latest comment",
    ]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    row = next(r for r in table.rows if r.cells[0].text == "1.2")
    assert [c.text for c in row.cells[5:8]] == ["G", "R", ""]
    assert f'w:fill="{RAG_COLOURS["R"]}"' in row.cells[6]._tc.tcPr.xml
    assert row.cells[-1].text == f"{EVIL}\nKaren Shilton, 3 Feb 2026"
    widths = [int(w) for w in (c.get(qn("w:w")) for c in table._tbl.tblGrid.findall(qn("w:gridCol")))]
    assert widths[1] > widths[0] and widths[1] > widths[5] and len(set(widths)) > 3  # fitted, not all alike
    assert any(r.cells[0].text == "2. CPD" and r.cells[-1].text == "2. CPD" for r in table.rows)


async def test_excel_report(sessionmaker, at_now) -> None:  # type: ignore[no-untyped-def]
    await seed_two_terms(sessionmaker)
    files = await make_report(sessionmaker, 1)
    assert files is not None
    book = load_workbook(io.BytesIO(files.xlsx[1]))
    assert book.sheetnames == ["Summary", "Actions", "History", "Key"]
    summary = book["Summary"]
    values = [[c.value for c in row] for row in summary.iter_rows()]
    assert values[0][0] == "Teaching School 2025-26" and [
        v for v in (r[0] for r in values) if v and str(v).startswith("Termly")
    ] == ["Termly report: Spring 2026"]
    assert values[[r[0] for r in values].index("R – Red")][:3] == ["R – Red", 1, 1]
    assert values[[r[0] for r in values].index("No rating")][:3] == ["No rating", 1, 0]
    assert "2 actions moved up" in [r[0] for r in values] and "1 action not updated in Spring 2026" in [
        r[0] for r in values
    ]
    reds = [r for r in values if r[3] == "R"]
    assert reds and reds[0][0] == "1.2" and reds[0][5] == "'" + EVIL  # formula-safe

    actions = book["Actions"]
    header = [c.value for c in actions[1]]
    assert header[:3] == ["Ref", "Section", "Action"]
    assert [h for h in header if h and h[:4] in ("Aut ", "Spr ", "Sum ")] == ["Aut 25", "Spr 26", "Sum 26"]
    first = actions["A1"]
    assert first.font.bold and first.fill.fgColor.rgb.endswith("D9D9D9")  # the header is on row 1, styled
    assert actions.freeze_panes == "D2"
    last_col = header.index("Comment date") + 1
    assert actions.auto_filter.ref == f"A1:{actions.cell(row=1, column=last_col).column_letter}5"
    rows = {r[0].value: r for r in actions.iter_rows(min_row=2, max_row=5)}
    spr = header.index("Spr 26")
    assert rows["1.2"][spr].value == "R" and rows["1.2"][spr].fill.fgColor.rgb.endswith(RAG_COLOURS["R"])
    assert rows["c)"][spr].value is None and rows["c)"][spr].fill.fill_type is None
    comment = header.index("Latest comment")
    assert [c.value for c in rows["1.2"][comment : comment + 3]] == ["'" + EVIL, "Karen Shilton", "3 Feb 2026"]
    key = [c.value for c in actions[actions.cell(row=1, column=last_col + 2).column_letter]]
    assert key[:4] == ["Key", "R = Red", "A = Amber", "G = Green"]

    history = book["History"]
    assert [c.value for c in history[1]] == ["Ref", "Action", "Term", "Rating", "Comment", "Author", "Date", "Note"]
    assert history.freeze_panes == "A2" and history.auto_filter.ref.startswith("A1:")
    lines = [[c.value for c in row] for row in history.iter_rows(min_row=2)]
    assert len(lines) == 8  # every update, the corrected one too
    assert [lines[3][0], lines[3][2], lines[3][3], lines[3][4], lines[3][5]] == [
        "c)",
        "Autumn 2025",
        "A",
        "CPD offer drafted",
        "from the imported plan",
    ]
    typo = next(line for line in lines if line[4] == "typo")
    assert typo[7] == "replaced later" and typo[2] == "Spring 2026" and typo[6] == "4 Feb 2026"
    assert next(line for line in lines if line[4] == "Survey sent to all heads")[7] == "correction"
    assert [r[0].value for r in book["Key"].iter_rows(min_row=2)] == ["R", "A", "G"]


async def test_picture_is_phone_sized(sessionmaker, at_now) -> None:  # type: ignore[no-untyped-def]
    await seed_two_terms(sessionmaker)
    files = await make_report(sessionmaker, 1)
    assert files is not None
    image = Image.open(io.BytesIO(files.png[1])).convert("RGB")
    assert image.width <= PNG_MAX_WIDTH and image.height + image.width < 10_000
    colours = {colour for _n, colour in image.getcolors(maxcolors=1 << 20)}
    for code in "RAG":
        assert tuple(int(RAG_COLOURS[code][i : i + 2], 16) for i in (0, 2, 4)) in colours
    # A plan with long texts, many terms and many actions stays within a phone's width and Telegram's limits.
    terms = [Term(2010 + i // 3, (AUTUMN, SPRING, SUMMER)[i % 3]) for i in range(40)]
    actions = [
        ActionView(id=i, ref=f"{i // 10}.{i % 10}", text="word " * 200 + str(i), rag={terms[i % 40]: "RAG"[i % 3]})
        for i in range(150)
    ]
    big = PlanView(id=9, title="A very long plan title " * 20, terms=terms, actions=actions)
    image = Image.open(io.BytesIO(render_rag_png(big, term=terms[-1])))
    assert image.width <= PNG_MAX_WIDTH and image.height + image.width < 10_000 and image.height / image.width < 20
    # The same plan's Word table stays on the page: its latest terms, said so, and every term in Excel.
    files = render_report(big, terms[-1])
    document = docx.Document(io.BytesIO(files.docx[1]))
    table = document.tables[-1]
    grid = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    section = document.sections[-1]
    usable = (section.page_width - section.left_margin - section.right_margin) / 635  # EMU to twips
    assert all(w > 0 for w in grid) and sum(grid) <= usable + 5
    shown = [c.text for c in table.rows[0].cells if c.text[:4] in ("Aut ", "Spr ", "Sum ")]
    # (A4 landscape holds 24 term columns beside the text; US Letter held 22.)
    assert 5 < len(shown) < 40 and shown[-1] == "Aut 23" and shown[0] == term_label(terms[-len(shown)], short=True)
    assert f"This table shows the latest {len(shown)} of the plan's 40 terms; the Excel file has them all." in [
        p.text for p in document.paragraphs
    ]
    header = [c.value for c in load_workbook(io.BytesIO(files.xlsx[1]))["Actions"][1]]
    assert len([h for h in header if h and h[:4] in ("Aut ", "Spr ", "Sum ")]) == 40


async def test_report_on_a_term_outside_the_span_is_refused(sessionmaker, at_now) -> None:  # type: ignore[no-untyped-def]
    await seed_two_terms(sessionmaker)
    with pytest.raises(TermNotInSpan) as caught:
        await make_report(sessionmaker, 1, Term(2014, AUTUMN))
    assert caught.value.span == [AUT25, SPR26, SUM26]
    assert await make_report(sessionmaker, 999) is None
    async with sessionmaker() as session:
        view = await build_plan_view(session, 1)
    assert view is not None
    with pytest.raises(TermNotInSpan):
        render_report(view, Term(2014, AUTUMN))


async def test_files_are_built_in_another_process() -> None:
    assert await run_off_loop(worker_pid) != os.getpid()


async def test_built_with_no_connection_held_while_the_loop_runs_on(sessionmaker, at_now) -> None:  # type: ignore[no-untyped-def]
    """The data is read, the session closed, then the files are built while other coroutines run: once
    loading has begun, some moment before the report is done has no connection checked out."""
    await seed_two_terms(sessionmaker)
    engine = sessionmaker.kw["bind"].sync_engine
    # One log, in the order things happened: connections out and in (from the pool's own events, so a
    # load too quick for any tick to see is still seen), and each time this coroutine got the loop.
    log: list[str] = []

    def checkout(*_args: object) -> None:
        log.append("out")

    def checkin(*_args: object) -> None:
        log.append("in")

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        task = asyncio.create_task(make_report(sessionmaker, 1))
        while not task.done():
            log.append("tick")
            await asyncio.sleep(0.005)  # a yield to the loop, not a measurement
        files = task.result()
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)
    assert files is not None and "out" in log and log.count("out") == log.count("in")  # loading was seen
    last_in = max(i for i, what in enumerate(log) if what == "in")
    # After the last connection went back, the loop kept running this coroutine while the files were built:
    # had they been built inside the session, the connection would be out until the very end.
    samples = log[last_in:]
    assert samples.count("tick") >= 3


# ---------------------------------------------------------------------------------------------------------
# Chat and command line
# ---------------------------------------------------------------------------------------------------------


async def test_chat_report_sends_the_three_files_and_a_term_picker(chat, users, sessionmaker, at_now) -> None:  # type: ignore[no-untyped-def]
    seeded = await seed_two_terms(sessionmaker)
    sent = await chat.send("/report", user=users.coordinator)
    documents = [s for s in sent if s.method == "sendDocument"]
    photos = [s for s in sent if s.method == "sendPhoto"]
    assert len(documents) == 2 and len(photos) == 1
    (docx_name, docx_bytes), (xlsx_name, xlsx_bytes) = documents[0].document, documents[1].document
    assert docx_name == "teaching-school-2025-26-spr-26.docx" and xlsx_name == "teaching-school-2025-26-spr-26.xlsx"
    assert documents[0].text == "Teaching School 2025-26: termly report, Spring 2026 (Word)"
    assert "🔴 1 · 🟠 1 · 🟢 1 · ⚪ 1" in photos[0].text
    assert photos[0].photo[0] == "teaching-school-2025-26-spr-26.png"
    assert docx.Document(io.BytesIO(docx_bytes)).paragraphs  # a real Word file
    assert load_workbook(io.BytesIO(xlsx_bytes)).sheetnames[0] == "Summary"
    plan = seeded.plan_id
    assert photos[0].buttons == [
        ("Aut 25", f"rt:{plan}:{term_ordinal(AUT25)}"),
        ("• Spr 26", f"rt:{plan}:{term_ordinal(SPR26)}"),
        ("Sum 26", f"rt:{plan}:{term_ordinal(SUM26)}"),
    ]
    # Last term's report, from its button.
    sent = await chat.press(f"rt:{plan}:{term_ordinal(AUT25)}", user=users.coordinator)
    names = [s.document[0] for s in sent if s.method == "sendDocument"] + [
        s.photo[0] for s in sent if s.method == "sendPhoto"
    ]
    assert names == [
        "teaching-school-2025-26-aut-25.docx",
        "teaching-school-2025-26-aut-25.xlsx",
        "teaching-school-2025-26-aut-25.png",
    ]
    # A term by name; a term the plan does not span; words that are no term; a stale button.
    sent = await chat.send("/report Summer 2026", user=users.coordinator)
    assert [s.photo[0] for s in sent if s.method == "sendPhoto"] == ["teaching-school-2025-26-sum-26.png"]
    sent = await chat.send("/report Autumn 2014", user=users.coordinator)
    assert not [s for s in sent if s.method in ("sendDocument", "sendPhoto")]
    assert "Autumn 2014 is not one of this plan's terms" in sent[-1].text and len(sent[-1].buttons) == 3
    sent = await chat.send("/report next Tuesday", user=users.coordinator)
    assert "could not read next Tuesday as a term" in sent[-1].text
    # A forged term in the button is refused by the declared callback args, before the report is built.
    sent = await chat.press(f"rt:{plan}:nonsense", user=users.coordinator)
    assert "That button has expired" in sent[-1].text
    assert not [s for s in sent if s.method in ("sendDocument", "sendPhoto")]
    sent = await chat.press(f"rt:999:{term_ordinal(SPR26)}", user=users.coordinator)
    assert "no longer available" in sent[-1].text


async def test_report_is_for_coordinators(chat, users, sessionmaker, at_now) -> None:  # type: ignore[no-untyped-def]
    seeded = await seed_two_terms(sessionmaker)
    for user in (users.member, users.lead, users.stranger):
        sent = await chat.send("/report", user=user)
        sent += await chat.press(f"rt:{seeded.plan_id}:{term_ordinal(SPR26)}", user=user)
        assert not [s for s in sent if s.method in ("sendDocument", "sendPhoto")]


async def test_command_line_writes_the_same_three_files(
    chat,
    users,
    sessionmaker,
    db_url,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    at_now,
) -> None:
    await seed_two_terms(sessionmaker)
    out, err = io.StringIO(), io.StringIO()
    assert await run_report(db_url, "Teaching School", "Spring 2026", tmp_path / "report", out=out, err=err) == 0
    written = sorted(p.name for p in (tmp_path / "report").iterdir())
    assert written == [
        "teaching-school-2025-26-spr-26.docx",
        "teaching-school-2025-26-spr-26.png",
        "teaching-school-2025-26-spr-26.xlsx",
    ]
    assert "Spring 2026 (terms: Aut 25, Spr 26, Sum 26)" in out.getvalue()
    sent = await chat.send("/report", user=users.coordinator)
    by_name = {s.document[0]: s.document[1] for s in sent if s.method == "sendDocument"}
    by_name |= {s.photo[0]: s.photo[1] for s in sent if s.method == "sendPhoto"}
    assert sorted(by_name) == written
    assert by_name["teaching-school-2025-26-spr-26.png"] == (tmp_path / "report" / written[1]).read_bytes()

    def cells(data: bytes) -> list[list[object]]:
        book = load_workbook(io.BytesIO(data))
        return [[c.value for c in row] for sheet in book for row in sheet.iter_rows()]

    assert cells(by_name[written[2]]) == cells((tmp_path / "report" / written[2]).read_bytes())
    chat_doc = docx.Document(io.BytesIO(by_name[written[0]]))
    cli_doc = docx.Document(tmp_path / "report" / written[0])
    assert _paragraphs(chat_doc) == _paragraphs(cli_doc)
    # Refusals: one clear line each, nothing written.
    err = io.StringIO()
    assert await run_report(db_url, "1", "Autumn 2014", tmp_path / "none", out=io.StringIO(), err=err) == 1
    assert "Autumn 2014 is not one of this plan's terms: Autumn 2025, Spring 2026, Summer 2026" in err.getvalue()
    assert await run_report(db_url, "1", "soon", tmp_path / "none", out=io.StringIO(), err=io.StringIO()) == 2
    assert await run_report(db_url, "no such plan", None, tmp_path / "none", out=io.StringIO(), err=io.StringIO()) == 1
    assert not (tmp_path / "none").exists()


async def test_chat_asks_which_plan_and_keeps_the_term(chat, users, sessionmaker, at_now) -> None:  # type: ignore[no-untyped-def]
    first = await seed_two_terms(sessionmaker)
    second = await seed_plan(sessionmaker, title="Second plan 2025-26")
    sent = await chat.send("/report Autumn 2025", user=users.coordinator)
    assert "Report on which plan, for Autumn 2025?" in sent[-1].text
    ordinal = term_ordinal(AUT25)
    assert sent[-1].buttons == [
        ("Teaching School 2025-26", f"rt:{first.plan_id}:{ordinal}"),
        ("Second plan 2025-26", f"rt:{second.plan_id}:{ordinal}"),
    ]
    sent = await chat.press(f"rt:{second.plan_id}:{ordinal}", user=users.coordinator)
    assert [s.photo[0] for s in sent if s.method == "sendPhoto"] == ["second-plan-2025-26-aut-25.png"]
    sent = await chat.send("/report", user=users.coordinator)
    assert [b[1] for b in sent[-1].buttons] == [f"rp:{first.plan_id}", f"rp:{second.plan_id}"]
    sent = await chat.press(f"rp:{first.plan_id}", user=users.coordinator)
    assert [s.document[0] for s in sent if s.method == "sendDocument"] == [
        "teaching-school-2025-26-spr-26.docx",
        "teaching-school-2025-26-spr-26.xlsx",
    ]


def test_slug() -> None:
    assert slug("Teaching School 2014/15 – Action Plan!") == "teaching-school-2014-15-action-plan"
    assert slug("«»") == "plan"
