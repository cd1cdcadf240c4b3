"""Control characters in what users type: NUL and the other C0 characters are stripped on the way into the
database (storage.sanitize), so every text entry point works on PostgreSQL (which refuses NUL in text and
`\\u0000` in jsonb) as on SQLite, and the bot answers as it would without them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory import synthetic
from storage.buddies import Appointment
from storage.directory import Person
from storage.members import AccessRequest, AuditEntry, BotState, Member
from storage.models import Base
from storage.plans import ProgressUpdate
from storage.sanitize import clean_text, clean_value
from tests.dbtools import snapshot
from tests.harness import ChatDriver, Users, frozen_clock
from tests.plan_seed import seed_plan

# Every C0 character but tab and line feed, which are kept; CR is a line break.
C0 = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r")
# The ones Python does not count as white space (str.split would split a word at \x1c-\x1f, \x0b, \x0c):
INWORD = "".join(c for c in C0 if not c.isspace())
NOW = dt.datetime(2025, 11, 10, 9, 0, tzinfo=dt.timezone.utc)
ERROR_REPLY = "something went wrong"


def texts(sent: list[Any]) -> str:
    return "\n".join(s.text for s in sent)


def test_clean_text_keeps_tab_and_newline_and_strips_the_rest() -> None:
    assert clean_text("a\x00b\tc\nd\x1be\x7f") == "ab\tc\nde\x7f"  # DEL is not C0: PostgreSQL takes it
    assert clean_text("one\r\ntwo\rthree") == "one\ntwo\nthree"
    assert clean_text(C0) == ""
    assert clean_text("bad \ud800 surrogate") == "bad \ufffd surrogate"
    plain = "Zoë O’Brien — 学校 👩‍🏫"
    assert clean_text(plain) is plain
    assert clean_value({"k\x00": ["a\x00", {"b": ("c\x01", 1, None, 2.5, True)}]}) == {
        "k": ["a", {"b": ("c", 1, None, 2.5, True)}]
    }


async def _no_control_characters_anywhere(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """No value in any table (JSON nested values included) holds a C0 character other than tab or LF."""
    tables = await snapshot(sessionmaker.kw["bind"])
    found = []

    def walk(where: str, value: Any) -> None:
        if isinstance(value, str):
            if clean_text(value) != value:
                found.append((where, value))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(f"{where}.{k}", k)
                walk(f"{where}.{k}", v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(where, v)

    for name, rows in tables.items():
        for row in rows:
            walk(name, row)
    assert not found, found


@pytest.fixture
def at_now() -> Any:
    with frozen_clock(NOW):
        yield


async def test_update_comment_one_line_and_guided(
    chat: ChatDriver, users: Users, sessionmaker: Any, at_now: Any
) -> None:
    seeded = await seed_plan(sessionmaker)
    sent = await chat.send(f"/update 1.3 amber Sur{INWORD}vey sent\r\nto all heads", user=users.lead)
    assert "Save this update?" in texts(sent)
    save = next(d for s in sent for label, d in s.buttons if label == "Save")
    sent = await chat.press(save, user=users.lead)
    assert "Saved: 1.3" in texts(sent) and ERROR_REPLY not in texts(sent).lower()

    # The guided flow keeps the typed comment in the user's draft (JSON in bot_state) until Save.
    await chat.send("/update", user=users.lead)
    await chat.press(f"upa:{seeded.actions['1.1']}", user=users.lead)
    await chat.press("upr:G", user=users.lead)
    sent = await chat.send("\x00Done\x00 and\x1b dusted\x00", user=users.lead)
    assert "Save this update?" in texts(sent) and ERROR_REPLY not in texts(sent).lower()
    save = next(d for s in sent for label, d in s.buttons if label == "Save")
    sent = await chat.press(save, user=users.lead)
    assert "Saved: 1.1" in texts(sent)

    async with sessionmaker() as session:
        comments = [r.comment for r in await session.scalars(select(ProgressUpdate).order_by(ProgressUpdate.id))]
    assert comments == ["Survey sent\nto all heads", "Done and dusted"]
    await _no_control_characters_anywhere(sessionmaker)


async def test_edit_value(chat: ChatDriver, users: Users, sessionmaker: Any) -> None:
    async with sessionmaker.begin() as session:
        person = Person(first_name="Ada", last_name="Okafor", job_title="Headteacher", email="ada@oakfield.example")
        session.add(person)
        await session.flush()
        (await session.get(Member, users.member)).person_id = person.id
        person_id = person.id
    sent = await chat.send(f"/edit job Head{INWORD}teacher\x00 and SENDCo", user=users.member)
    assert "Saved" in texts(sent) and ERROR_REPLY not in texts(sent).lower()
    async with sessionmaker() as session:
        assert (await session.get(Person, person_id)).job_title == "Headteacher and SENDCo"
        entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "person.update"))).one()
        # The audit keeps the event and the field, not the typed text (issue 22: nothing for an erasure to chase).
        assert entry.detail["field"] == "job" and "SENDCo" not in str(entry.detail) and "\x00" not in str(entry.detail)
    await _no_control_characters_anywhere(sessionmaker)


async def test_access_request_name(chat: ChatDriver, users: Users, sessionmaker: Any) -> None:
    await chat.press("ar:req", user=users.stranger)
    sent = await chat.send(f"Jane{INWORD} Smith\x00, Oak\x1bfield Primary", user=users.stranger)
    assert "coordinator will look" in texts([s for s in sent if s.chat_id == users.stranger])
    async with sessionmaker() as session:
        request = (await session.scalars(select(AccessRequest))).one()
    assert (request.name, request.school) == ("Jane Smith", "Oakfield Primary")
    told = [s for s in sent if s.chat_id == users.coordinator]
    assert told and "Jane" in told[0].text
    await _no_control_characters_anywhere(sessionmaker)


async def test_newhead_answers(chat: ChatDriver, users: Users, sessionmaker: Any, app: Any) -> None:
    # A coordinator's registration is saved at once (a member's for someone else waits for a coordinator).
    with frozen_clock(dt.datetime(2025, 6, 18, 10, 0, tzinfo=dt.timezone.utc)):
        directory = synthetic.make_directory(60, 40, seed=5, today=dt.date(2025, 6, 18))
        async with sessionmaker.begin() as session:
            await synthetic.insert_directory(session, directory)
        await app.bot_data["services"].refresh_directory()
        await chat.send("/newhead", user=users.coordinator)
        await chat.press("nhw:school", user=users.coordinator)
        sent = await chat.send(f"Ms Pri{INWORD}ya Oka\x00for", user=users.coordinator)
        assert "Which school" in sent[-1].text
        sent = await chat.send("Zzyzx\x00 Riverside\x1f Free School", user=users.coordinator)
        assert "could not find" in sent[-1].text
        await chat.press("nhs:new", user=users.coordinator)
        sent = await chat.send("1 Sept\x00 2025", user=users.coordinator)  # not a date: asked again, politely
        assert "could not read that as a date" in sent[-1].text
        await chat.send("1 Sept 2025", user=users.coordinator)
        await chat.press("nhf:done", user=users.coordinator)
        sent = await chat.send("pupil\x00 premium, basket\x07 weaving", user=users.coordinator)
        assert "Added: pupil premium" in sent[-1].text
        await chat.press("nhk:done", user=users.coordinator)
        sent = await chat.send("07700\x00900123, priya.okafor@oak.example\x07", user=users.coordinator)
        assert "Ms Priya Okafor" in sent[-1].text and "07700 900123 · priya.okafor@oak.example" in sent[-1].text
        sent = await chat.press("nhc:save", user=users.coordinator)
        assert any("Saved" in s.text for s in sent) and ERROR_REPLY not in texts(sent).lower()
    async with sessionmaker() as session:
        appointment = (await session.scalars(select(Appointment))).one()
        person = await session.get(Person, appointment.person_id)
        school = (
            appointment.school_id
            and (
                await session.execute(text("SELECT name FROM school WHERE id = :i"), {"i": appointment.school_id})
            ).scalar_one()
        )
    assert (person.first_name, person.last_name) == ("Priya", "Okafor")
    assert school == "Zzyzx Riverside Free School"
    assert "pupil premium" in appointment.needs
    await _no_control_characters_anywhere(sessionmaker)


async def test_search_text(chat: ChatDriver, users: Users, sessionmaker: Any) -> None:
    from tests.dbtools import populate

    await populate(sessionmaker)
    await chat.app.bot_data["services"].refresh_directory()
    for typed in ("Sa\x00m New", "\x00", C0, f"New{C0}"):
        sent = await chat.send(typed, user=users.member)
        assert sent and ERROR_REPLY not in texts(sent).lower(), typed
    sent = await chat.send("/find N\x00ew", user=users.member)
    assert sent and ERROR_REPLY not in texts(sent).lower()
    await _no_control_characters_anywhere(sessionmaker)


async def test_persistence_and_core_statements_are_cleaned(sessionmaker: Any) -> None:
    """The bot's persistence (a Core upsert of JSON) and a Core insert: cleaned below the ORM too."""
    from storage.persistence import SQLPersistence

    persistence = SQLPersistence(sessionmaker)
    await persistence.update_user_data(5, {"draft\x00": {"comment": f"half{INWORD}way", "list": ["a\x00b"]}})
    async with sessionmaker.begin() as session:
        await session.execute(
            Base.metadata.tables["access_request"]
            .insert()
            .values(
                telegram_id=77,
                name="Core\x00 insert",
                telegram_name="x\x1b",
                school="",
                status="pending",
                created_at=NOW,
            )
        )
    async with sessionmaker() as session:
        row = await session.get(BotState, ("user", "5"))
        assert row.data == {"draft": {"comment": "halfway", "list": ["ab"]}}
        request = (await session.scalars(select(AccessRequest))).one()
        assert (request.name, request.telegram_name) == ("Core insert", "x")
    await _no_control_characters_anywhere(sessionmaker)
