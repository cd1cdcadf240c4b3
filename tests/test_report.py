"""/report: the termly report as XLSX and Word plus the RAG picture."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from docx import Document
from openpyxl import load_workbook
from PIL import Image

from core.services import MemberInfo
from plans import progress
from plans.export import ActionView, PlanView
from plans.report import build_report, report_view, slug
from plans.terms import AUTUMN, SPRING, SUMMER, Term
from storage.members import Role
from tests.harness import frozen_clock
from tests.plan_seed import LEAD, seed_plan

NOW = dt.datetime(2025, 11, 10, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def at_now() -> Iterator[None]:
    with frozen_clock(NOW):
        yield


async def seed_with_progress(sessionmaker):
    seeded = await seed_plan(sessionmaker)
    lucy = MemberInfo(LEAD, Role.LEAD, seeded.lead_person_id, "Lucy Draycott")
    async with sessionmaker.begin() as session:
        await progress.post_update(session, seeded.actions["1.1"], "G", "Business case submitted", lucy)
        await progress.post_update(session, seeded.actions["1.3"], "A", "Survey sent to all heads", lucy)
    return seeded


async def test_report_sends_two_documents_and_a_photo(chat, users, sessionmaker, at_now):
    await seed_with_progress(sessionmaker)
    sent = await chat.send("/report", user=users.coordinator)
    documents = [s for s in sent if s.method == "sendDocument"]
    photos = [s for s in sent if s.method == "sendPhoto"]
    assert len(documents) == 2 and len(photos) == 1
    (xlsx_name, xlsx), (docx_name, docx) = documents[0].document, documents[1].document
    assert xlsx_name == "teaching-school-2025-26-aut-25.xlsx" and docx_name.endswith(".docx")
    assert "termly report, Autumn 2025" in documents[0].text
    assert "🟢 1" in photos[0].text and "🟠 1" in photos[0].text and "⚪ 2" in photos[0].text

    sheet = load_workbook(io.BytesIO(xlsx)).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "Survey sent to all heads" in cells and "1.3" in cells and "Aut 25" in cells
    word = Document(io.BytesIO(docx))
    word_text = "\n".join(cell.text for table in word.tables for row in table.rows for cell in row.cells)
    assert "Recruit School Direct 2026 allocation" in word_text
    name, png = photos[0].photo
    assert name.endswith(".png")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width > 400


async def test_report_is_for_coordinators(chat, users, sessionmaker, at_now):
    await seed_with_progress(sessionmaker)
    for user in (users.member, users.lead, users.stranger):
        sent = await chat.send("/report", user=user)
        assert not [s for s in sent if s.method in ("sendDocument", "sendPhoto")]


async def test_build_report_counts(sessionmaker, at_now):
    seeded = await seed_with_progress(sessionmaker)
    async with sessionmaker() as session:
        files = await build_report(session, seeded.plan_id)
        assert await build_report(session, 999) is None
    assert files is not None
    assert files.counts == {"R": 0, "A": 1, "G": 1, "": 2}
    assert files.xlsx[1][:2] == b"PK" and files.docx[1][:2] == b"PK" and files.png[1][:4] == b"\x89PNG"


def test_report_view_drops_empty_terms_between() -> None:
    old = Term(2014, AUTUMN)
    action = ActionView(id=1, ref="1.1", text="x", rag={old: "G", Term(2014, SPRING): "A"})
    view = PlanView(id=1, title="T", terms=[Term(2014, AUTUMN), Term(2014, SPRING), Term(2014, SUMMER)],
                    actions=[action])
    now = Term(2025, AUTUMN)
    assert report_view(view, now).terms == [Term(2014, AUTUMN), Term(2014, SPRING), now]
    assert slug("Teaching School 2014/15 – Action Plan!") == "teaching-school-2014-15-action-plan"
