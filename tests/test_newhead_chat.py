"""`/newhead` in the chat: the guided registration, the coordinators told at once, strangers kept out."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory import synthetic
from handlers.newhead import specialism_names, split_name
from storage.buddies import Appointment
from storage.directory import Person, School
from storage.members import AuditEntry, Member
from tests.harness import ChatDriver, Users, frozen_clock

NOW = dt.datetime(2025, 6, 18, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def fixed_clock() -> object:
    with frozen_clock(NOW):
        yield


@pytest.fixture
async def directory(app: object, sessionmaker: async_sessionmaker[AsyncSession]) -> synthetic.Directory:
    directory = synthetic.make_directory(260, 200, seed=31, today=NOW.date())
    async with sessionmaker.begin() as session:
        await synthetic.insert_directory(session, directory)
    await app.bot_data["services"].refresh_directory()  # type: ignore[attr-defined]
    return directory


def last_buttons(sent: list) -> list[tuple[str, str]]:
    for s in reversed(sent):
        if s.buttons:
            return s.buttons
    return []


def press_label(buttons: list[tuple[str, str]], fragment: str) -> str:
    for label, data in buttons:
        if fragment.lower() in label.lower():
            return data
    raise AssertionError(f"no button with {fragment!r} in {buttons}")


async def school_row(sessionmaker: async_sessionmaker[AsyncSession], name: str) -> School:
    async with sessionmaker() as session:
        return (await session.scalars(select(School).where(School.name == name))).one()


def test_split_name() -> None:
    assert split_name("Mrs Jane Smith") == ("Mrs", "Jane", "Smith")
    assert split_name("dr. Amir  van der Berg") == ("Dr", "Amir", "van der Berg")
    assert split_name("Jo Anne Lee") == (None, "Jo Anne", "Lee")
    assert split_name("Smith") == (None, "", "Smith")


async def test_stranger_cannot_register(
    chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    sent = await chat.send("/newhead", user=users.stranger)
    assert len(sent) == 1 and "access" in sent[0].text.lower()
    assert not sent[0].buttons
    # Nor can a stranger press the conversation's buttons.
    sent = await chat.press("nhw:self", user=users.stranger)
    assert sent and sent[0].method == "answerCallbackQuery"
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 0


async def test_register_on_behalf_of_a_school(
    chat: ChatDriver, users: Users, directory: synthetic.Directory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    target = next(s for s in directory.schools if s.phase == "primary" and "," not in s.name)
    sent = await chat.send("/newhead", user=users.member)
    assert [d for _l, d in sent[-1].buttons] == ["nhw:self", "nhw:school", "nhw:trust", "nhw:office"]
    sent = await chat.press("nhw:school", user=users.member)
    assert "full name" in sent[-1].text
    sent = await chat.send("Priya", user=users.member)
    assert "first and last name" in sent[-1].text
    sent = await chat.send("Ms Priya Okafor", user=users.member)
    assert "Which school" in sent[-1].text
    # Fuzzy: a slip in the longest word still finds the school (through the directory's search index).
    longest = max(target.name.split(), key=len)
    typed = target.name.replace(longest, longest[:2] + longest[3:], 1)
    sent = await chat.send(typed, user=users.member)
    buttons = last_buttons(sent)
    school = await school_row(sessionmaker, target.name)
    assert (target.name[:60], f"nhs:{school.id}") in buttons
    assert buttons[-1][1] == "nhs:new"
    sent = await chat.press(f"nhs:{school.id}", user=users.member)
    assert "When do they start" in sent[-1].text
    sent = await chat.send("soon", user=users.member)
    assert "could not read" in sent[-1].text
    sent = await chat.send("1 Sept 2025", user=users.member)
    assert "1 Sept 2025" in sent[-1].text
    flags = last_buttons(sent)
    assert flags[0][0].startswith("✅")  # new to headship ticked by default
    sent = await chat.press("nhf:1", user=users.member)  # new to the area
    assert last_buttons(sent)[1][0].startswith("✅")
    sent = await chat.press("nhf:done", user=users.member)
    needs = last_buttons(sent)
    send_button = press_label(needs, "SEND")
    sent = await chat.press(send_button, user=users.member)
    assert any(label.startswith("✅") and "SEND" in label for label, _d in last_buttons(sent))
    sent = await chat.send("pupil premium, basket weaving", user=users.member)
    assert "Added: pupil premium" in sent[-1].text and "basket weaving" in sent[-1].text
    sent = await chat.press("nhk:done", user=users.member)
    # How the new head would like to be reached: optional, read from what is typed.
    assert "How would Ms Priya Okafor like their buddy to reach them?" in sent[-1].text
    sent = await chat.send("no idea yet", user=users.member)
    assert "could not read a phone number or an email address" in sent[-1].text
    sent = await chat.send("email Priya.Okafor@oak.example or ring 07700 900456", user=users.member)
    summary = sent[-1].text
    assert "Reach them on: 07700 900456 · priya.okafor@oak.example" in summary
    for part in (
        "Ms Priya Okafor",
        "1 Sept 2025",
        "New to headship; New to the area",
        "SEND and pupil premium",
        "For the school",
    ):
        assert part in summary.replace("&amp;", "&"), (part, summary)
    sent = await chat.press("nhc:save", user=users.member)
    # For someone else: it waits for a coordinator (directory/integrity.py), and nothing changes until then.
    assert any("waits for a coordinator" in s.text for s in sent)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 0
    confirm = next(d for _l, d in chat.to(users.coordinator)[-1].buttons if d.startswith("ecd:y:"))
    await chat.press(confirm, user=users.coordinator)

    async with sessionmaker() as session:
        appointment = (await session.scalars(select(Appointment))).one()
        assert appointment.start_date == dt.date(2025, 9, 1)
        assert appointment.new_to_headship and appointment.new_to_area and not appointment.new_to_trust
        assert appointment.needs == ["send", "pupil premium"]
        assert appointment.reporter_relation == "school" and appointment.reported_by == users.member
        assert appointment.school_id == school.id
        person = await session.get(Person, appointment.person_id)
        # Head from 1 September, not before (directory/succession.py).
        assert (person.title, person.first_name, person.last_name, person.is_head) == ("Ms", "Priya", "Okafor", False)
        assert (person.phone, person.email) == ("07700 900456", "priya.okafor@oak.example")  # on their entry
        assert appointment.took_effect is None
        assert (
            await session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "appointment.create")
            )
            == 1
        )
    # The coordinators (coordinator and admin) are told at once, with suggestions and buttons.
    for coordinator in (users.coordinator, users.admin):
        told = chat.to(coordinator)
        assert told, coordinator
        message = told[-1]
        assert "New headteacher appointment" in message.text and "Ms Priya Okafor" in message.text
        assert "Suggested buddies" in message.text
        labels = [label for label, _d in message.buttons]
        assert sum(label.startswith("Confirm ") for label in labels) == 3
        assert "Let the bot ask" in labels and "Show more" in labels
        assert all(len(d.encode()) <= 64 for _l, d in message.buttons)
    assert not chat.to(users.stranger) or all("Ms Priya" not in s.text for s in chat.to(users.stranger))
    assert all("Ms Priya" not in s.text for s in chat.to(users.lead))


async def test_register_myself_at_a_new_school(
    chat: ChatDriver, users: Users, directory: synthetic.Directory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker.begin() as session:
        deputy = (await session.scalars(select(Person).where(Person.is_head.is_(False)).order_by(Person.id))).first()
        member = await session.get(Member, users.member)
        member.person_id = deputy.id
        deputy_id, deputy_name = deputy.id, deputy.full_name
    await chat.send("/newhead", user=users.member)
    sent = await chat.press("nhw:self", user=users.member)
    assert press_label(last_buttons(sent), "Use my entry") == "nhm:0"
    sent = await chat.press("nhm:0", user=users.member)
    assert "Which school" in sent[-1].text
    sent = await chat.send("Zzyzx Riverside <Free> School", user=users.member)
    assert "could not find" in sent[-1].text
    sent = await chat.press("nhs:new", user=users.member)
    sent = await chat.send("September", user=users.member)
    await chat.press("nhf:done", user=users.member)
    await chat.press("nhk:done", user=users.member)
    sent = await chat.press("nhp:skip", user=users.member)
    assert "Reach them on: not given" in sent[-1].text
    assert "(a new school)" in sent[-1].text and "&lt;Free&gt;" in sent[-1].text
    sent = await chat.press("nhc:save", user=users.member)
    # Members notify; the office decides: even a member's own move waits for a coordinator.
    assert any("waits for a coordinator" in s.text for s in sent)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 0
        assert await session.scalar(select(func.count()).select_from(School).where(School.name.like("Zzyzx%"))) == 0
    confirm = next(d for _l, d in chat.to(users.coordinator)[-1].buttons if d.startswith("ecd:y:"))
    await chat.press(confirm, user=users.coordinator)
    async with sessionmaker() as session:
        appointment = (await session.scalars(select(Appointment))).one()
        assert appointment.person_id == deputy_id
        school = await session.get(School, appointment.school_id)
        assert school.name == "Zzyzx Riverside <Free> School"
        person = await session.get(Person, deputy_id)
        # Starting in September: until then they keep their post.
        assert not person.is_head and appointment.took_effect is None and person.full_name == deputy_name
        assert appointment.reporter_relation == "self"


async def test_cancel_saves_nothing(
    chat: ChatDriver, users: Users, directory: synthetic.Directory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("/newhead", user=users.lead)
    await chat.press("nhw:trust", user=users.lead)
    await chat.send("Sam Zebedee-Quayle", user=users.lead)
    sent = await chat.send("/cancel", user=users.lead)
    assert "Nothing was saved" in sent[-1].text
    # An old Save button after cancelling is answered politely and changes nothing.
    sent = await chat.press("nhc:save", user=users.lead)
    assert sent[0].method == "answerCallbackQuery"
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 0
        assert (
            await session.scalar(select(func.count()).select_from(Person).where(Person.last_name == "Zebedee-Quayle"))
            == 0
        )


def test_specialism_buttons_fit() -> None:
    names = specialism_names()
    assert "send" in names and "pupil premium" in names
    assert all(len(f"nhk:{i}") <= 64 for i in range(len(names)))
