"""Office documents a UK office prints (issue 23): the Word report and the Word plan export are A4 (portrait
for the summary, landscape for the grid), numbered, signed by the partnership and headed with the plan's
title and term; the report's term is the latest one with ratings; a plan's title can be given on import and
changed later (command line, preview, /plans). On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
from docx.enum.section import WD_ORIENT
from sqlalchemy import select

from core.terms import AUTUMN, SPRING, SUMMER, Term
from core.word import A4_LONG, A4_SHORT, add_section, new_document, save
from plans.cli import run_export_plan, run_import_plan, run_list_plans, run_rename_plan
from plans.report import default_term, make_report
from plans.report_cli import run_report
from storage.plans import Plan
from tests.harness import ChatDriver, Users, frozen_clock
from tests.plan_seed import seed_plan
from tests.shared import EXAMPLE_PLANS
from tests.test_plan_upload_control import buttons, texts
from tests.test_report import NOW, SPR26, _post, seed_two_terms

LA = EXAMPLE_PLANS / "la-monitoring-2019-20.csv"
MM = 36000  # EMU in a millimetre


def _a4(section, landscape: bool) -> None:  # type: ignore[no-untyped-def]
    width, height = (A4_LONG, A4_SHORT) if landscape else (A4_SHORT, A4_LONG)
    assert (section.page_width, section.page_height) == (width, height)
    assert section.orientation == (WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT)
    assert abs(section.page_width - (297 if landscape else 210) * MM) < MM  # really A4, not Letter


def _footer_fields(section) -> str:  # type: ignore[no-untyped-def]
    return "".join(section.footer._element.xpath(".//w:instrText/text()"))


async def test_report_is_a4_numbered_signed_and_headed(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    with frozen_clock(NOW):
        await seed_two_terms(sessionmaker)
        files = await make_report(sessionmaker, 1, author="Riverside Partnership")
    assert files is not None
    document = docx.Document(io.BytesIO(files.docx[1]))
    first, last = document.sections[0], document.sections[-1]
    _a4(first, landscape=False)
    _a4(last, landscape=True)
    for section in (first, last):
        assert section.header.paragraphs[0].text == "Teaching School 2025-26 · Termly report: Spring 2026"
        assert "PAGE" in _footer_fields(section) and "NUMPAGES" in _footer_fields(section)
        assert section.footer.paragraphs[0].text.startswith("Page ")
    assert document.core_properties.author == "Riverside Partnership"
    assert document.core_properties.author != "python-docx"


async def test_plan_export_is_a4_landscape_and_signed(sessionmaker, db_url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with frozen_clock(NOW):
        await seed_two_terms(sessionmaker)
        target = tmp_path / "plan.docx"
        code = await run_export_plan(db_url, "1", None, target, out=io.StringIO(), err=io.StringIO(), author="")
    assert code == 0
    document = docx.Document(str(target))
    assert len(document.sections) == 1
    _a4(document.sections[0], landscape=True)
    header = document.sections[0].header.paragraphs[0].text
    assert header.startswith("Teaching School 2025-26 · ") and "Aut 25" in header
    assert "PAGE" in _footer_fields(document.sections[0])
    # No partnership in settings: the plan's own partnership signs it, never the library's name.
    assert document.core_properties.author == "Alliance"


def test_a_new_document_for_any_export() -> None:
    """The module another export (a support register) uses: portrait then landscape, both A4."""
    document = new_document("Support register", "portrait", "Support register · Autumn 2026", author="The office")
    document.add_paragraph("Summary")
    add_section(document, "landscape")
    document.add_paragraph("The grid")
    read = docx.Document(io.BytesIO(save(document)))
    _a4(read.sections[0], landscape=False)
    _a4(read.sections[1], landscape=True)
    assert read.sections[1].header.paragraphs[0].text == "Support register · Autumn 2026"
    assert read.core_properties.title == "Support register" and read.core_properties.author == "The office"
    assert new_document("x").core_properties.author == "Partnership office"


# ---------------------------------------------------------------------------------------------------------
# The report's term: the latest with ratings, said in the reply and changeable
# ---------------------------------------------------------------------------------------------------------


def test_default_term_is_the_latest_rated_up_to_today() -> None:
    span = [Term(2019, AUTUMN), Term(2019, SPRING), Term(2019, SUMMER)]
    today = Term(2019, SUMMER)
    assert default_term(span, today, rated={Term(2019, SPRING)}) == Term(2019, SPRING)
    assert default_term(span, today, rated=set()) == today  # nothing rated: this term, as before
    # A rating filed under a term still to come is not "up to today".
    assert default_term(span, Term(2019, AUTUMN), rated={Term(2019, SPRING)}) == Term(2019, AUTUMN)


async def _spring_only_plan(sessionmaker) -> int:  # type: ignore[no-untyped-def]
    """The issue's case: every rating in Spring, the report asked for in Summer."""
    seeded = await seed_plan(sessionmaker)
    for ref in ("1.1", "1.2"):
        await _post(sessionmaker, seeded.actions[ref], "G", "On track", SPR26, "Lucy Draycott", "2026-02-02")
    return 1


async def test_report_defaults_to_the_latest_rated_term_in_chat_and_on_the_command_line(
    chat: ChatDriver, users: Users, sessionmaker, db_url, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    summer = dt.datetime(2026, 6, 10, 9, 0, tzinfo=dt.timezone.utc)
    with frozen_clock(summer):
        await _spring_only_plan(sessionmaker)
        sent = await chat.send("/report", user=users.coordinator)
        photo = next(s for s in sent if s.method == "sendPhoto")
        assert "termly report, Spring 2026" in (photo.text or "")
        assert "Spring 2026 is the latest term with ratings." in (photo.text or "")
        assert "🟢 2" in (photo.text or "")
        assert any(label == "Sum 26" for label, _data in photo.buttons)  # changeable
        # A term asked for is not "chosen": no such line.
        sent = await chat.press(dict(photo.buttons)["Sum 26"], user=users.coordinator)
        photo = next(s for s in sent if s.method == "sendPhoto")
        assert "latest term with ratings" not in (photo.text or "") and "Summer 2026" in (photo.text or "")
        out = io.StringIO()
        assert await run_report(db_url, "1", None, tmp_path, out=out, err=io.StringIO()) == 0
    assert "Termly report on plan 1, Spring 2026" in out.getvalue()
    assert "Spring 2026 is the latest term with ratings" in out.getvalue()


# ---------------------------------------------------------------------------------------------------------
# A plan's title: given on import, changed later
# ---------------------------------------------------------------------------------------------------------


async def _title(sessionmaker, plan_id: int) -> str:  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:
        return str(await session.scalar(select(Plan.title).where(Plan.id == plan_id)))


async def test_title_on_import_and_rename_on_the_command_line(sessionmaker, db_url) -> None:  # type: ignore[no-untyped-def]
    out, err = io.StringIO(), io.StringIO()
    code = await run_import_plan(db_url, LA, out=out, err=err, title="  LA monitoring\n2019-20 ")
    assert code == 0, err.getvalue()
    assert await _title(sessionmaker, 1) == "LA monitoring 2019-20"
    out = io.StringIO()
    assert await run_rename_plan(db_url, 1, "School improvement monitoring 2019-20", out=out) == 0
    assert "Plan 1 is now called: School improvement monitoring 2019-20" in out.getvalue()
    listing = io.StringIO()
    await run_list_plans(db_url, out=listing)
    assert "School improvement monitoring 2019-20" in listing.getvalue()
    err = io.StringIO()
    assert await run_rename_plan(db_url, 1, "   ", err=err) == 2 and "1 to 300 characters" in err.getvalue()
    assert await run_rename_plan(db_url, 1, "x" * 301, err=io.StringIO()) == 2
    assert await run_rename_plan(db_url, 99, "A plan", err=io.StringIO()) == 1
    assert await _title(sessionmaker, 1) == "School improvement monitoring 2019-20"
    assert await run_import_plan(db_url, LA, out=io.StringIO(), err=io.StringIO(), title="\x00") == 2


async def test_title_in_the_preview_and_on_plans(chat: ChatDriver, users: Users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    sent = await chat.upload(LA.name, LA.read_bytes(), user=users.coordinator)
    asked = await chat.press(buttons(sent)["Title…"], user=users.coordinator)
    assert "Send the plan's title" in texts(asked)
    sent = await chat.send("Local authority <monitoring> 2019-20", user=users.coordinator)
    assert "Local authority &lt;monitoring&gt; 2019-20" in texts(sent)  # the new preview, escaped
    done = await chat.press(buttons(sent)["Import"], user=users.coordinator)
    assert "Imported plan 1: Local authority &lt;monitoring&gt; 2019-20" in texts(done)
    assert await _title(sessionmaker, 1) == "Local authority <monitoring> 2019-20"
    # /plans: Rename, a title that is too long is asked again, then the new one.
    listing = await chat.send("/plans", user=users.coordinator)
    await chat.press(buttons(listing)["Rename 1"], user=users.coordinator)
    again = await chat.send("y" * 400, user=users.coordinator)
    assert "1 to 300 characters" in texts(again)
    renamed = await chat.send("LA monitoring 2019-20", user=users.coordinator)
    assert "Plan 1 is now called: LA monitoring 2019-20" in texts(renamed)
    assert await _title(sessionmaker, 1) == "LA monitoring 2019-20"
    # A member cannot rename (the button is a coordinator's).
    refused = await chat.press("pl:1:n", user=users.member)
    assert "Send the new title" not in texts(refused)
