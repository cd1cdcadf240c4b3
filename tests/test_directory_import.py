"""Directory import: parsing real register files and awkward spreadsheets, applying to the database,
the command line, and the demo partnership."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.headers import match_headers
from directory.demo import DEMO_USERS, load_demo
from directory.fields import DIRECTORY_FIELDS
from directory.import_cli import import_directory
from directory.importer import (
    DirectoryImportError,
    apply_directory,
    normalise_phase,
    parse_directory_file,
    split_full_name,
    summary_lines,
)
from storage.directory import PHASES, Person, School
from storage.members import AuditEntry, Member
from tests.dbtools import snapshot
from tests.shared import GIAS, GIAS_EXTRACT

EXTRACT = GIAS_EXTRACT
SCHOOLS_LIST = GIAS / "schools-england-2017.tsv"
DATA = Path(__file__).parent / "data"
MISSPELT = DATA / "directory-misspelt.csv"


# --- headers ---------------------------------------------------------------------------------------


def test_headers_match_synonyms_misspellings_and_order() -> None:
    headers = [
        "Family name",
        "Forename",
        "E-mail",
        "Establishment",
        "Unique reference number",
        "TelephoneNum",
        "Tel",
        "Position",
        "Designation",
        "Area of expertise",
        "Phase",
        "Local authority",
        "Locality",
        "Post code",
        "MAT",
        "Headship start",
        "Capacity",
        "Shoe size",
    ]
    hm = match_headers(headers, DIRECTORY_FIELDS)
    assert hm.matched == {
        "last_name": "Family name",
        "first_name": "Forename",
        "email": "E-mail",
        "school": "Establishment",
        "urn": "Unique reference number",
        "school_phone": "TelephoneNum",
        "phone": "Tel",
        "job_title": "Position",
        "designations": "Designation",
        "specialisms": "Area of expertise",
        "phase": "Phase",
        "local_authority": "Local authority",
        "locality": "Locality",
        "postcode": "Post code",
        "trust": "MAT",
        "headship_start": "Headship start",
        "mentor_capacity": "Capacity",
    }
    assert hm.unmatched == ["Shoe size"]

    messy = match_headers(
        ["SURNAME ", "frist name", "e mail adress", "schol", "Specialism(s)", "Job Titel"], DIRECTORY_FIELDS
    )
    assert set(messy.matched) == {"last_name", "first_name", "email", "school", "specialisms", "job_title"}
    assert messy.unmatched == []


def test_header_matching_is_generic() -> None:
    plan_fields = {"action": ("Action points", "Key actions"), "owner": ("Lead", "Task owner", "By whom")}
    hm = match_headers(["Task Owner", "Key Action", "Budget"], plan_fields)
    assert hm.matched == {"owner": "Task Owner", "action": "Key Action"}
    assert hm.unmatched == ["Budget"]


def test_register_columns_are_not_confused() -> None:
    """The extract has 'LA (code)' beside 'LA (name)', 'SchoolCapacity' beside nothing about mentors."""
    header = EXTRACT.read_text(encoding="utf-8-sig").splitlines()[0].replace('"', "").split(",")
    hm = match_headers(header, DIRECTORY_FIELDS)
    assert hm.header_for("local_authority") == "LA (name)"
    assert hm.header_for("phase") == "PhaseOfEducation (name)"
    assert hm.header_for("trust") == "Trusts (name)"
    assert hm.header_for("last_name") == "HeadLastName"
    assert "mentor_capacity" not in hm and "email" not in hm
    assert "SchoolCapacity" in hm.unmatched and "LA (code)" in hm.unmatched


# --- names and phases ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mrs Catherine Croft", ("Mrs", "Catherine", "Croft")),
        ("Mr  Hooper", ("Mr", "", "Hooper")),
        ("Mr Coert Van Straaten", ("Mr", "Coert", "Van Straaten")),
        ("Mrs Mary Ann Cooper", ("Mrs", "Mary Ann", "Cooper")),
        ("Della Allen", (None, "Della", "Allen")),
        ("Croft, Catherine", (None, "Catherine", "Croft")),
        ("Dr. Jane Smith-Jones", ("Dr", "Jane", "Smith-Jones")),
    ],
)
def test_split_full_name(text: str, expected: tuple[str | None, str, str]) -> None:
    assert split_full_name(text) == expected


@pytest.mark.parametrize(
    ("args", "phase"),
    [
        (("Primary", None, "X", 3, 11), "primary"),
        (("Middle deemed secondary", None, "X", 9, 13), "middle"),
        (("Not applicable", "Community special school", "X", 2, 19), "special"),
        (("Not applicable", "Pupil referral unit", "X", 5, 16), "pru"),
        (("16 plus", "Further education", "X", 16, 99), "16-plus"),
        (("All through", None, "X", 3, 18), "all-through"),
        ((None, "Local authority maintained", "Weston Way Nursery School", 3, 5), "nursery"),
        ((None, "Academy", "Some High School", 11, 18), "secondary"),
        ((None, None, "Jenyns First School and Nursery", 3, 9), "primary"),
        ((None, None, "Greenfield Infant School", None, None), "primary"),
        ((None, None, "University", None, None), None),
    ],
)
def test_normalise_phase(args: tuple, phase: str | None) -> None:
    assert normalise_phase(*args) == phase
    assert phase is None or phase in PHASES


# --- parsing real and awkward files ---------------------------------------------------------------


def test_parse_register_extract() -> None:
    parsed = parse_directory_file(EXTRACT)
    assert parsed.kind == "gias"
    assert parsed.rows == 4 and len(parsed.schools) == 4 and not parsed.rejected and not parsed.skipped
    by_urn = {s.urn: s for s in parsed.schools}
    assert by_urn["100492"].name == "St Thomas' CofE Primary School"
    assert by_urn["100492"].phase == "primary"
    assert by_urn["100459"].phase == "secondary"
    assert by_urn["100171"].phase == "all-through"
    assert by_urn["100492"].local_authority == "Kensington and Chelsea"
    assert by_urn["100492"].postcode == "W10 5EF"
    assert by_urn["100492"].phone == "02089692810"
    assert by_urn["100492"].easting == 524351 and by_urn["100492"].pupils == 237
    names = [(p.title, p.first_name, p.last_name, p.school_key) for p in parsed.people]
    assert ("Ms", "Sarah", "Bouette", "urn:100492") in names
    # The co-heads squeezed into the name fields are two heads.
    co = [p for p in parsed.people if p.school_key == "urn:100171"]
    assert [(p.first_name, p.last_name) for p in co] == [("Claire", "Harrison"), ("Victoria", "Wainwright")]
    assert all(p.is_head and p.title is None and p.job_title == "Co-headteacher" for p in co)
    assert len(parsed.people) == 5
    assert "LA (code)" in parsed.unmatched_headers


def test_parse_schools_list() -> None:
    parsed = parse_directory_file(SCHOOLS_LIST)
    assert parsed.kind == "schools-list"
    assert parsed.rows == 881
    assert len(parsed.skipped) == 285 and len(parsed.schools) == 596 and len(parsed.people) == 595
    assert not parsed.rejected
    assert all("closed" in p.reason for p in parsed.skipped)
    croft = [p for p in parsed.people if p.last_name == "Croft" and p.first_name == "Catherine"]
    assert len(croft) == 1 and croft[0].title == "Mrs" and croft[0].is_head
    by_name = {s.name: s for s in parsed.schools}
    assert by_name["Weston Way Nursery School"].phase == "nursery"
    assert by_name["The Bishop's Stortford High School"].phase == "secondary"
    phases = Counter(s.phase for s in parsed.schools)
    assert phases["primary"] > 300 and phases["secondary"] > 50 and phases["middle"] > 0 and phases["special"] > 0
    assert set(phases) <= set(PHASES) | {None}
    assert set(parsed.unmatched_headers) == {"address", "school-capacity", "start-date"}


def test_parse_reordered_misspelt_csv_with_rejections() -> None:
    parsed = parse_directory_file(MISSPELT)
    assert parsed.unmatched_headers == ["Favourite colour"]
    assert [(p.first_name, p.last_name) for p in parsed.people] == [
        ("Lesley", "Draycott"),
        ("Kate", "Shilton"),
        ("Karen", "Hibbs"),
    ]
    draycott = parsed.people[0]
    assert draycott.email == "l.draycott@example.org"  # lower-cased
    assert draycott.designations == ("SLE",)
    assert draycott.specialisms == ("mathematics", "itt and mentoring")
    assert draycott.headship_start == dt.date(2015, 9, 1) and draycott.mentor_capacity == 2
    assert parsed.people[2].is_head and not parsed.people[1].is_head
    # "RV2 3CD" and "rv23cd" are the same school; a row that only names a school still adds it.
    assert sorted(s.name for s in parsed.schools) == ["Millbrook Primary", "Riverside Academy", "Stoneford School"]
    reasons = {p.line: p.reason for p in parsed.rejected}
    assert set(reasons) == {4, 5, 6, 7, 9}
    assert "not an email address" in reasons[4]
    assert "31/02/2020" in reasons[5]
    assert "URN 123" in reasons[6]
    assert "Wizard" in reasons[7]
    assert "line 2" in reasons[9]


def _xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Riverside Partnership directory, autumn term"])
    ws.append([])
    ws.append(
        [
            "URN",
            "Setting",
            "Title",
            "Forename",
            "Surname",
            "Job title",
            "Email address",
            "Phone",
            "Date appointed",
            "Town",
        ]
    )
    ws.append(
        [
            100492,
            "St Thomas' CofE Primary School",
            "Ms",
            "Sarah",
            "Bouette",
            "Headteacher",
            "s.bouette@example.org",
            1632960001,
            dt.datetime(2016, 9, 1),
            "London",
        ]
    )
    ws.append(
        [
            None,
            "Riverside Academy",
            "Mr",
            "Tom",
            "Okafor",
            "Deputy head",
            "t.okafor@example.org",
            "01632 960002",
            None,
            "Riverton",
        ]
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_parse_xlsx_with_title_rows() -> None:
    parsed = parse_directory_file(_xlsx_bytes(), "directory.xlsx")
    assert parsed.kind == "xlsx" and parsed.rows == 2 and not parsed.rejected
    bouette, okafor = parsed.people
    assert (bouette.first_name, bouette.last_name, bouette.is_head) == ("Sarah", "Bouette", True)
    assert bouette.headship_start == dt.date(2016, 9, 1)
    assert bouette.phone == "01632960001"  # the spreadsheet had dropped the leading zero
    assert bouette.school_key == "urn:100492"
    assert okafor.is_head is False and okafor.phone == "01632 960002"
    assert {s.locality for s in parsed.schools} == {"London", "Riverton"}


def test_parse_cp1252_and_semicolons() -> None:
    text = "Nom;School;Role;Email\r\nMs Siân Öztürk;Café Lane Primary;Headteacher;sian@example.org\r\n"
    parsed = parse_directory_file(text.replace("Nom", "Name").encode("cp1252"), "export.csv")
    assert parsed.kind == "csv" and parsed.rows == 1
    person = parsed.people[0]
    assert (person.title, person.first_name, person.last_name) == ("Ms", "Siân", "Öztürk")
    assert parsed.schools[0].name == "Café Lane Primary"

    bom = "\ufeffSurname\tFirst name\tSchool\nO'Brien\tZoë\tSt Mary's\n".encode()
    parsed = parse_directory_file(bom, "people.txt")
    assert parsed.kind == "tsv" and parsed.people[0].first_name == "Zoë"
    assert parsed.header_map.header_for("last_name") == "Surname"  # no BOM left on the first header


@pytest.mark.parametrize(
    ("data", "filename", "words"),
    [
        (b"", "empty.csv", "empty"),
        (b"   \r\n\r\n", "blank.csv", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" + bytes(range(256)), "photo.csv", "binary"),
        (b"Surname,First name,School\r\n", "header-only.csv", "no rows"),
        (
            b"Dear colleagues,\nplease find attached the minutes of the last meeting.\nBest wishes\n",
            "notes.csv",
            "header row",
        ),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "directory.pdf", "PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old.xls", ".xls"),
        (b"PK\x03\x04" + bytes(100), "broken.xlsx", "zip"),
    ],
)
def test_malformed_files_are_refused_with_a_reason(data: bytes, filename: str, words: str) -> None:
    with pytest.raises(DirectoryImportError) as info:
        parse_directory_file(data, filename)
    assert words in str(info.value)


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(DirectoryImportError, match="not an Excel workbook"):
        parse_directory_file(buffer.getvalue(), "notes.xlsx")


# --- applying to the database ---------------------------------------------------------------------


async def test_apply_register_files_then_reimport_is_idempotent(sessionmaker) -> None:
    extract = parse_directory_file(EXTRACT)
    schools_list = parse_directory_file(SCHOOLS_LIST)
    async with sessionmaker.begin() as session:
        summary = await apply_directory(session, extract, actor_id=1003, dry_run=False)
    assert (summary.schools_added, summary.people_added) == (4, 5)
    async with sessionmaker.begin() as session:
        summary = await apply_directory(session, schools_list, actor_id=None, dry_run=False)
    assert (summary.schools_added, summary.people_added) == (596, 595)
    assert len(summary.skipped) == 285

    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(School)) == 600
        assert await session.scalar(select(func.count()).select_from(Person)) == 600
        co = (
            (await session.execute(select(Person).join(School).where(School.urn == "100171").order_by(Person.id)))
            .scalars()
            .all()
        )
        assert [p.full_name for p in co] == ["Claire Harrison", "Victoria Wainwright"]
        croft = (await session.execute(select(Person).where(Person.last_name == "Croft"))).scalar_one()
        assert croft.full_name == "Mrs Catherine Croft" and croft.is_head and croft.updated_by is None
        school = (await session.execute(select(School).where(School.urn == "100492"))).scalar_one()
        assert (school.phase, school.locality, school.updated_by) == ("primary", "London", 1003)
        audits = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.action == "directory.import").order_by(AuditEntry.id)
                )
            )
            .scalars()
            .all()
        )
        assert [a.detail["people_added"] for a in audits] == [5, 595]
        assert audits[0].actor_id == 1003 and audits[0].detail["schools_added"] == 4

    for parsed in (extract, schools_list):
        async with sessionmaker.begin() as session:
            again = await apply_directory(session, parsed, actor_id=None, dry_run=False)
        assert again.changes == 0
        assert again.schools_unchanged == len(parsed.schools) and again.people_unchanged == len(parsed.people)


async def test_dry_run_changes_nothing(sessionmaker) -> None:
    parsed = parse_directory_file(MISSPELT)
    engine = sessionmaker.kw["bind"]
    before = await snapshot(engine)
    async with sessionmaker.begin() as session:
        summary = await apply_directory(session, parsed, actor_id=1003, dry_run=True)
    assert summary.dry_run and (summary.schools_added, summary.people_added) == (3, 3)
    assert summary.specialisms_added == 4  # mathematics, ITT and mentoring, SEND, phonics: counted, not written
    assert await snapshot(engine) == before
    assert "nothing has been changed" in summary_lines(summary)[0]


async def test_updates_match_by_email_and_by_name_and_school(sessionmaker) -> None:
    async with sessionmaker.begin() as session:
        await apply_directory(session, parse_directory_file(MISSPELT), actor_id=None)
    update = (
        "Surname,First name,Email,School,Postcode,Role,Specialisms,Mentor places\n"
        # same email, new role and specialisms
        "Draycott,Lesley,l.draycott@example.org,Riverside Academy,RV1 2AB,Deputy head,Phonics,\n"
        # no email: matched by name at the same school; capacity changes
        "Shilton,Kate,,Riverside Academy,RV1 2AB,,,1\n"
        # unchanged
        "Hibbs,Karen,k.hibbs@example.org,Millbrook Primary,RV2 3CD,Headteacher,phonics,0\n"
        # a new person at a new school
        "Rock,Martin,m.rock@example.org,Ashcombe Academy,RV3 1AA,Assistant head,,\n"
    )
    parsed = parse_directory_file(update.encode(), "update.csv")
    async with sessionmaker.begin() as session:
        summary = await apply_directory(session, parsed, actor_id=1004)
    assert (summary.people_changed, summary.people_unchanged, summary.people_added) == (2, 1, 1)
    assert (summary.schools_added, summary.schools_unchanged) == (1, 2)
    async with sessionmaker() as session:
        people = {
            p.last_name: p
            for p in (await session.execute(select(Person).options(selectinload(Person.specialisms)))).scalars()
        }
    assert len(people) == 4
    assert people["Draycott"].job_title == "Deputy head"
    assert [s.name for s in people["Draycott"].specialisms] == ["phonics"]
    assert people["Draycott"].headship_start == dt.date(2015, 9, 1)  # a missing cell erases nothing
    assert people["Shilton"].mentor_capacity == 1 and people["Shilton"].email == "k.shilton@example.org"
    assert people["Draycott"].updated_by == 1004 and people["Hibbs"].updated_by is None


async def test_rows_may_name_a_school_by_urn_alone(sessionmaker) -> None:
    async with sessionmaker.begin() as session:
        await apply_directory(session, parse_directory_file(EXTRACT), actor_id=None)
    data = b"URN,Surname,First name,Role\n100492,Smith,Jo,SENDCo\n999999,Nobody,Ann,Teacher\n"
    async with sessionmaker.begin() as session:
        summary = await apply_directory(session, parse_directory_file(data, "staff.csv"), actor_id=None)
    assert (summary.people_added, summary.schools_unchanged, summary.schools_added) == (1, 1, 0)
    assert [(p.line, "999999" in p.reason) for p in summary.rejected] == [(3, True)]
    async with sessionmaker.begin() as session:
        jo = (await session.execute(select(Person).where(Person.last_name == "Smith"))).scalar_one()
        school = await session.get(School, jo.school_id)
        assert school.urn == "100492" and school.name == "St Thomas' CofE Primary School"
        assert jo.is_head is False and jo.job_title == "SENDCo"
        # Ids the import took are not handed out again (PostgreSQL's sequence moved on).
        session.add(Person(first_name="Next", last_name="Person", school_id=school.id))
        await session.flush()


async def test_academy_conversion_is_a_new_school(sessionmaker) -> None:
    first = b"URN,School,Postcode\n100001,Hill Top Primary,RV1 1AA\n"
    converted = b"URN,School,Postcode\n140001,Hill Top Primary,RV1 1AA\n"
    for data in (first, converted):
        async with sessionmaker.begin() as session:
            summary = await apply_directory(session, parse_directory_file(data, "a.csv"), actor_id=None)
        assert summary.schools_added == 1


# --- command line -----------------------------------------------------------------------------------


async def test_cli_imports_and_refuses(db_url: str, sessionmaker, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert await import_directory(db_url, EXTRACT, dry_run=True, out=out, err=err) == 0
    assert "Dry run" in out.getvalue() and "Schools: 4 added" in out.getvalue()
    engine = sessionmaker.kw["bind"]
    before = await snapshot(engine)
    assert await import_directory(db_url, EXTRACT, out=out, err=err) == 0
    assert "People: 5 added" in out.getvalue()

    before = await snapshot(engine)
    for name, data in (
        ("binary.csv", b"\x00\x01\x02" * 100),
        ("empty.csv", b""),
        ("header.csv", b"School,Surname\n"),
        ("words.csv", b"hello there\nhow are you\n"),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        err = io.StringIO()
        assert await import_directory(db_url, path, out=io.StringIO(), err=err) == 2
        assert f"{name} was not imported" in err.getvalue()
    assert await snapshot(engine) == before


def test_cli_parser_registration() -> None:
    import argparse

    from directory.import_cli import add_commands, cmd_import_directory

    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["import", "directory", "file.csv", "--dry-run"])
    assert args.func is cmd_import_directory and args.dry_run and args.file == Path("file.csv")


# --- demo -------------------------------------------------------------------------------------------


async def test_demo_loads_every_role_and_is_idempotent(sessionmaker) -> None:
    async with sessionmaker.begin() as session:
        await load_demo(session)
    async with sessionmaker() as session:
        schools = (await session.execute(select(School))).scalars().all()
        people = (await session.execute(select(Person).options(selectinload(Person.specialisms)))).scalars().all()
        members = {m.telegram_id: m for m in (await session.execute(select(Member))).scalars()}
    assert 55 <= len(schools) <= 65
    assert len({s.locality for s in schools}) == 4
    assert {s.phase for s in schools} >= {"primary", "secondary", "special", "nursery"}
    heads = [p for p in people if p.is_head]
    assert {p.school_id for p in heads} == {s.id for s in schools}
    assert sum("SLE" in p.designation_list for p in people) == 15
    assert sum("NLE" in p.designation_list for p in people) == 2
    assert sum("NLG" in p.designation_list for p in people) == 1
    assert all(p.specialisms for p in people if "SLE" in p.designation_list)
    assert any(p.mentor_capacity > 0 for p in heads)
    today = dt.date.today()
    assert sum(1 for p in heads if p.headship_start and (today - p.headship_start).days < 365) >= 3
    assert {"SENDCo", "Deputy headteacher", "School business manager"} <= {p.job_title for p in people}
    by_name = {p.full_name: p for p in people}
    assert "Mrs Lesley Draycott" in by_name and "Mr Martin Rock" in by_name and "Mrs Kate Shilton" in by_name
    for telegram_id, (role, _description) in DEMO_USERS.items():
        if role == "stranger":
            assert telegram_id not in members
        else:
            assert members[telegram_id].role == role
    assert members[1001].person_id == by_name["Mrs Helen Ashworth"].id and by_name["Mrs Helen Ashworth"].is_head
    assert members[1002].person_id == by_name["Mrs Lesley Draycott"].id
    # Invented people: no real head of the register's list is in the demo.
    real = {(p.first_name, p.last_name) for p in parse_directory_file(SCHOOLS_LIST).people}
    assert not real & {(p.first_name, p.last_name) for p in people}

    engine = sessionmaker.kw["bind"]
    before = await snapshot(engine)
    async with sessionmaker.begin() as session:
        await load_demo(session)
    assert await snapshot(engine) == before


async def test_demo_is_the_same_every_time(sessionmaker, tmp_path: Path) -> None:
    from storage.db import make_engine, make_sessionmaker, upgrade_database

    async def names(maker) -> list[tuple[str, str | None, str | None]]:
        async with maker.begin() as session:
            await load_demo(session)
        async with maker() as session:
            rows = await session.execute(
                select(Person.first_name, Person.last_name, School.name).outerjoin(School).order_by(Person.id)
            )
            return [tuple(r) for r in rows]

    other = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    await upgrade_database(other)
    try:
        assert await names(sessionmaker) == await names(make_sessionmaker(other))
    finally:
        await other.dispose()


def test_a_trimmed_summary_says_what_the_whole_one_says() -> None:
    """What crosses back from the import's child holds 50 of each list; the counts, and so every line the
    coordinator reads, are those of the whole import."""
    from directory.records import HeadChange, ImportSummary, RowProblem
    from directory.saving import summary_lines

    whole = ImportSummary(
        filename="register.csv",
        kind="gias",
        dry_run=False,
        rows=5_000,
        skipped=[RowProblem(i, "closed") for i in range(3)],
        rejected=[RowProblem(i, f"bad row {i}") for i in range(120)],
        head_changes=[HeadChange(i, f"School {i}", [f"Old {i}"], [f"New {i}"]) for i in range(75)],
    )
    trimmed = whole.trimmed(50)
    assert len(trimmed.rejected) == 50 and len(trimmed.head_changes) == 50 and len(trimmed.skipped) == 3
    assert trimmed.total("rejected") == 120 and trimmed.total("head_changes") == 75
    assert summary_lines(trimmed) == summary_lines(whole)
    assert "120 rows rejected:" in summary_lines(trimmed) and "75 head changes:" in summary_lines(trimmed)
    assert len(whole.rejected) == 120  # the whole summary is not changed
