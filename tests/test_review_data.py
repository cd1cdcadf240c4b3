"""Regression tests for defects found in review of directory/ and plans/ (imports, exports, SQL)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from sqlalchemy import func, select

from directory import appointments as ap
from directory.importer import DirectoryImportError, parse_directory_file
from plans.export import ActionView, PlanView, export_csv, export_docx, export_xlsx, safe_cell
from plans.importer import MAX_REF, PlanImportError, parse_plan
from plans.store import save_plan
from storage.buddies import Appointment
from storage.directory import Person


def _damaged_xlsx(rows: list[list[object]]) -> bytes:
    """A workbook whose first sheet's XML is cut off half way."""
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    good = io.BytesIO()
    book.save(good)
    src = zipfile.ZipFile(io.BytesIO(good.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dest:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            dest.writestr(info, data)
    return out.getvalue()


# --- directory import --------------------------------------------------------------------------------


def test_directory_numbers_that_overflow_are_refused_not_crashing() -> None:
    data = (
        b"Name,School,Capacity,Pupils,Easting,Age range\n"
        b"Jo Bloggs,Acme Primary,inf,1e999,nan,99999999999999999999-11\n"
        b"Al Smith,Bcme Primary,2,99999999999999,inf,4-11\n"
    )
    parsed = parse_directory_file(data, "people.csv")
    assert [p.line for p in parsed.rejected] == [2]
    assert "capacity" in parsed.rejected[0].reason
    (school,) = [s for s in parsed.schools if s.name == "Bcme Primary"]
    assert school.pupils is None and school.easting is None  # too big for INTEGER, not finite
    assert (school.low_age, school.high_age) == (4, 11)


def test_directory_damaged_xlsx_is_a_clear_error() -> None:
    data = _damaged_xlsx([["Name", "School", "Email"], ["Jo Bloggs", "Acme", "jo@example.org"]] * 20)
    with pytest.raises(DirectoryImportError):
        parse_directory_file(data, "people.xlsx")


# --- plan import -------------------------------------------------------------------------------------


def test_plan_duplicate_long_references_are_made_unique() -> None:
    ref = "abcdefghijklmnopqrstuvwxyz"
    text = f"| Ref | Action |\n|---|---|\n| {ref} | one |\n| {ref} | two |\n| {ref} | three |\n"
    parsed = parse_plan(text.encode(), "plan.md")  # used to loop for ever
    refs = [a.ref for a in parsed.actions]
    assert len(refs) == 3 and len({r.lower() for r in refs}) == 3
    assert all(len(r) <= MAX_REF for r in refs)


def test_plan_utf16_text_is_read_as_text() -> None:
    data = "Action\tOwner\ncafé visit\tJo Bloggs\n".encode("utf-16")  # Excel's "Unicode text"
    parsed = parse_plan(data, "plan.txt")
    assert [a.text for a in parsed.actions] == ["café visit"]
    assert parsed.actions[0].owners == ["Jo Bloggs"]


def test_plan_damaged_xlsx_is_a_clear_error() -> None:
    data = _damaged_xlsx([["Action", "Owner"], ["Do it", "Jo Bloggs"]] * 20)
    with pytest.raises(PlanImportError):
        parse_plan(data, "plan.xlsx")


# --- plan export -------------------------------------------------------------------------------------


def _view(**action: object) -> PlanView:
    values: dict[str, object] = dict(id=1, ref="1.1", text="Do it")
    values.update(action)
    return PlanView(id=1, title="Plan", actions=[ActionView(**values)])  # type: ignore[arg-type]


def test_export_docx_drops_control_characters() -> None:
    view = _view(text="a\x01b", latest_comment="pasted\x0bcomment", section="S\x02")
    view.title = "T\x0bitle"
    data = export_docx(view)
    assert data[:2] == b"PK"


@pytest.mark.parametrize("export, name", [(export_csv, "plan.csv"), (export_xlsx, "plan.xlsx")])
def test_export_keeps_a_leading_apostrophe_on_round_trip(export, name) -> None:  # type: ignore[no-untyped-def]
    assert safe_cell("'=SUM(A1)") == "''=SUM(A1)" and safe_cell("'quoted") == "'quoted"
    parsed = parse_plan(export(_view(text="'=not a formula", owners_text="=HYPERLINK(x)")), name)
    assert [a.text for a in parsed.actions] == ["'=not a formula"]
    assert parsed.actions[0].owners_text == "=HYPERLINK(x)"


# --- database: same results on SQLite and PostgreSQL ---------------------------------------------------


async def test_register_finds_a_non_ascii_name_again(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    start = dt.date(2025, 9, 1)
    async with sessionmaker.begin() as session:
        first = await ap.register_appointment(
            session, actor_id=1, first_name="Élodie", last_name="Öztürk", start_date=start
        )
    async with sessionmaker.begin() as session:
        second = await ap.register_appointment(
            session, actor_id=1, first_name="élodie", last_name="ÖZTÜRK", start_date=start
        )
        assert not second.created and second.person.id == first.person.id
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 1
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 1


async def test_save_plan_sees_a_non_ascii_title_again(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    text = "École Élan Action Plan\n\n| Action | Owner |\n|---|---|\n| Do it | Jo Bloggs |\n"
    async with sessionmaker.begin() as session:
        first = await save_plan(session, parse_plan(text.encode(), "plan.md"), actor_id=None)
    async with sessionmaker.begin() as session:
        again = await save_plan(session, parse_plan(text.encode(), "plan.md"), actor_id=None, dry_run=True)
    assert again.same_title_plan_id == first.plan_id
