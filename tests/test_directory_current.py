"""A directory that stays current (issue 12), through process_update on both databases: contact cards and
shared contacts, appointments that take effect on their day, head changes from a register import, changes
to someone else's entry waiting for a coordinator, the termly check, inline cards, and a command-line
import seen by the running bot."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.services import BotContext
from handlers import currency as currency_chat
from storage.buddies import Appointment
from storage.directory import EntryChange, Person, School
from storage.members import AuditEntry, Member
from tests.harness import ChatDriver, Users, frozen_clock

NOW = dt.datetime(2026, 6, 18, 9, 0, tzinfo=dt.timezone.utc)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fixed_clock() -> object:
    with frozen_clock(NOW):
        yield


async def seed(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Two schools; heads with and without their own phone; a deputy; the member linked to the deputy."""
    async with sessionmaker.begin() as session:
        oak = School(
            urn="100001",
            name="Oakfield Primary School",
            phase="primary",
            locality="Redcar",
            local_authority="Redcar and Cleveland",
            postcode="TS10 1AB",
            phone="01642554129",
            email="office@oakfield.example",
            easting=460000.0,
            northing=525000.0,
        )
        elm = School(
            urn="100002",
            name="Elm Tree Primary School",
            phase="primary",
            locality="Marske",
            local_authority="Redcar and Cleveland",
            postcode="TS11 6AA",
            phone="01642 111222",
            easting=463000.0,
            northing=522000.0,
        )
        session.add_all([oak, elm])
        await session.flush()
        head = Person(
            title="Mrs",
            first_name="Elizabeth",
            last_name="Jones",
            job_title="Headteacher",
            is_head=True,
            school_id=oak.id,
            headship_start=dt.date(2015, 9, 1),
        )
        other = Person(
            title="Mr",
            first_name="Robert",
            last_name="Kaur",
            job_title="Headteacher",
            is_head=True,
            school_id=elm.id,
            phone="07700 900123",
            email="r.kaur@elm.example",
        )
        deputy = Person(
            title="Ms",
            first_name="Ann",
            last_name="Patel",
            job_title="Deputy headteacher",
            school_id=oak.id,
            phone="07700900456",
        )
        session.add_all([head, other, deputy])
        await session.flush()
        member = await session.get(Member, 1001)
        member.person_id = deputy.id
        return {"oak": oak.id, "elm": elm.id, "head": head.id, "other": other.id, "deputy": deputy.id}


async def ready(chat: ChatDriver, sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    ids = await seed(sessionmaker)
    await chat.app.bot_data["services"].refresh_directory()
    return ids


# --- cards -----------------------------------------------------------------------------------------


async def test_card_shows_how_to_reach_and_shares_a_contact(chat: ChatDriver, users: Users, sessionmaker) -> None:
    ids = await ready(chat, sessionmaker)
    sent = await chat.send("/find Elizabeth Jones", user=users.member)
    card = sent[-1].text
    # No own phone or email: the school's, formatted for the UK and labelled as the school's.
    assert "☎️ 01642 554129 (school)" in card and "✉️ office@oakfield.example (school)" in card
    assert ("📇 Share contact", f"ct:{ids['head']}") in sent[-1].buttons
    sent = await chat.press(f"ct:{ids['head']}", user=users.member)
    contact = next(s for s in sent if s.method == "sendContact")
    assert contact.params["phone_number"] == "+441642554129"
    assert contact.params["first_name"] == "Elizabeth" and contact.params["last_name"] == "Jones"
    vcard = contact.params["vcard"]
    assert "ORG:Oakfield Primary School" in vcard and "TITLE:Headteacher" in vcard
    assert "EMAIL;TYPE=INTERNET,WORK:office@oakfield.example" in vcard
    # Their own number and address where held, unlabelled.
    sent = await chat.send("/find Robert Kaur", user=users.member)
    assert "☎️ 07700 900123" in sent[-1].text and "(school)" not in sent[-1].text
    # The school card: its head first, then the other leaders.
    sent = await chat.press(f"sc:{ids['oak']}", user=users.member)
    text = sent[-1].text
    assert text.index("Headteacher: Mrs Elizabeth Jones") < text.index("Deputy headteacher: Ms Ann Patel")
    assert "01642 554129" in text
    # Members only, private chats only.
    sent = await chat.press(f"ct:{ids['head']}", user=users.stranger)
    assert not any(s.method == "sendContact" for s in sent)
    sent = await chat.press(f"ct:{ids['head']}", user=users.member, chat=-100123)
    assert not any(s.method == "sendContact" for s in sent)


# --- succession ------------------------------------------------------------------------------------


async def register_via_chat(
    chat: ChatDriver, user: int, who: str, name: str, school: str, school_id: int, start: str
) -> list:
    await chat.send("/newhead", user=user)
    await chat.press(f"nhw:{who}", user=user)
    await chat.send(name, user=user)
    await chat.send(school, user=user)
    await chat.press(f"nhs:{school_id}", user=user)
    await chat.send(start, user=user)
    await chat.press("nhf:done", user=user)
    await chat.press("nhk:done", user=user)
    await chat.press("nhp:skip", user=user)  # how to be reached: optional
    return await chat.press("nhc:save", user=user)


async def test_future_appointment_before_and_on_its_day(chat: ChatDriver, users: Users, sessionmaker) -> None:
    ids = await ready(chat, sessionmaker)
    await register_via_chat(chat, users.coordinator, "office", "Mr Samuel Green", "Oakfield", ids["oak"], "1/9/2026")
    sent = await chat.press(f"sc:{ids['oak']}", user=users.member)
    text = sent[-1].text
    assert "Headteacher: Mrs Elizabeth Jones" in text and "Headteacher from 1 Sept 2026: Mr Samuel Green" in text
    async with sessionmaker() as session:
        green = (await session.scalars(select(Person).where(Person.last_name == "Green"))).one()
        assert not green.is_head and green.school_id is None
    with frozen_clock(dt.datetime(2026, 9, 1, 7, 30, tzinfo=dt.timezone.utc)):
        before = len(chat.to(users.coordinator))
        await currency_chat.daily_job(BotContext(chat.app))
        told = chat.to(users.coordinator)[before:]
        assert any(
            "Mr Samuel Green is now head of Oakfield Primary School" in s.text
            and "Former head: Mrs Elizabeth Jones" in s.text
            for s in told
        )
        sent = await chat.press(f"sc:{ids['oak']}", user=users.member)
        assert "Headteacher: Mr Samuel Green" in sent[-1].text and "Elizabeth Jones" not in sent[-1].text
        # The former head is kept, out of default search.
        sent = await chat.send("/find Elizabeth Jones", user=users.member)
        assert "found no one" in sent[-1].text
    async with sessionmaker() as session:
        old = await session.get(Person, ids["head"])
        assert old.status == "former" and not old.is_head and old.left_on == dt.date(2026, 9, 1)
        assert (
            await session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "appointment.effective")
            )
            == 1
        )


# --- integrity -------------------------------------------------------------------------------------


async def test_a_members_registration_for_someone_else_waits_for_a_coordinator(
    chat: ChatDriver, users: Users, sessionmaker
) -> None:
    ids = await ready(chat, sessionmaker)
    sent = await register_via_chat(chat, users.member, "school", "Mr Samuel Green", "Elm Tree", ids["elm"], "1/7/2026")
    assert any("waits for a coordinator" in s.text for s in sent)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 0
        change = (await session.scalars(select(EntryChange))).one()
        assert change.status == "pending" and change.proposed_by == users.member
        assert (await session.get(Person, ids["other"])).is_head
    asked = chat.to(users.coordinator)[-1]
    assert ("Confirm", f"ecd:y:{change.id}") in asked.buttons
    # A member cannot press the coordinator's button.
    await chat.press(f"ecd:y:{change.id}", user=users.member)
    async with sessionmaker() as session:
        assert (await session.get(EntryChange, change.id)).status == "pending"
    with frozen_clock(dt.datetime(2026, 7, 2, 9, 0, tzinfo=dt.timezone.utc)):
        await chat.press(f"ecd:y:{change.id}", user=users.coordinator)
    async with sessionmaker() as session:
        appointment = (await session.scalars(select(Appointment))).one()
        assert appointment.took_effect == dt.date(2026, 7, 2)
        assert (await session.get(Person, ids["other"])).status == "former"
        actions = set((await session.scalars(select(AuditEntry.action))).all())
        assert {"change.propose", "change.confirm", "appointment.create"} <= actions
    assert any("confirmed" in s.text for s in chat.to(users.member))


# --- register import -------------------------------------------------------------------------------

HEADER = "Sur name,First Name,E-mail,School,Postcode,URN,Job Title\n"


async def test_register_reimport_reports_two_head_changes(chat: ChatDriver, users: Users, sessionmaker) -> None:
    first = (
        HEADER + "Stone,Alice,a.stone@example.org,Ash School,TS1 1AA,300001,Headteacher\n"
        "Brook,Ben,b.brook@example.org,Beech School,TS2 2BB,300002,Headteacher\n"
        "Wood,Cara,c.wood@example.org,Cedar School,TS3 3CC,300003,Headteacher\n"
    ).encode()
    await chat.upload("register.csv", first, user=users.coordinator, caption="directory")
    await chat.press(chat.sent[-1].buttons[0][1], user=users.coordinator)
    second = (
        HEADER + "Field,Dan,d.field@example.org,Ash School,TS1 1AA,300001,Headteacher\n"
        "Lake,Eve,e.lake@example.org,Beech School,TS2 2BB,300002,Executive headteacher\n"
        "Wood,Cara,c.wood@example.org,Cedar School,TS3 3CC,300003,Headteacher\n"
    ).encode()
    sent = await chat.upload("register.csv", second, user=users.coordinator, caption="directory")
    assert "2 head changes" in sent[-1].text and "Ash School: Alice Stone → Dan Field" in sent[-1].text
    sent = await chat.press(sent[-1].buttons[0][1], user=users.coordinator)
    assert any("2 head changes" in s.text for s in sent)
    told = [s for s in chat.to(users.coordinator) if "(from the register)" in s.text]
    assert len(told) == 2 and "New head at Ash School (from the register): Dan Field" in told[0].text
    async with sessionmaker() as session:
        stone = (await session.scalars(select(Person).where(Person.last_name == "Stone"))).one()
        assert stone.status == "former" and not stone.is_head
        field = (await session.scalars(select(Person).where(Person.last_name == "Field"))).one()
        assert field.is_head
    # The button opens /newhead filled in: only the start date is asked.
    label, data = told[0].buttons[0]
    assert data == f"nhr:{field.id}"
    sent = await chat.press(data, user=users.coordinator)
    assert "Dan Field at Ash School" in sent[-1].text and "When do they start" in sent[-1].text


# --- termly check ----------------------------------------------------------------------------------


async def test_termly_check_with_a_controlled_clock(chat: ChatDriver, users: Users, sessionmaker) -> None:
    ids = await ready(chat, sessionmaker)
    async with sessionmaker.begin() as session:
        (await session.get(Member, users.lead)).person_id = ids["other"]
        from storage.plans import Holiday

        session.add(Holiday(start=dt.date(2026, 8, 31), end=dt.date(2026, 9, 2), label="summer"))
    ctx = BotContext(chat.app)
    with frozen_clock(dt.datetime(2026, 9, 2, 7, 30, tzinfo=dt.timezone.utc)):  # still the holiday
        assert await currency_chat.send_termly_checks(ctx) == 0
    with frozen_clock(dt.datetime(2026, 9, 3, 7, 30, tzinfo=dt.timezone.utc)):  # the first school day
        assert await currency_chat.send_termly_checks(ctx) == 2
        assert await currency_chat.send_termly_checks(ctx) == 0  # once a term
        asked = chat.to(users.member)[-1]
        assert "start of Autumn 2026" in asked.text and "Ms Ann Patel" in asked.text
        assert ("✅ All correct", f"dck:ok:{ids['deputy']}") in asked.buttons
        # Someone else's button does nothing.
        await chat.press(f"dck:ok:{ids['deputy']}", user=users.lead)
        sent = await chat.press(f"dck:ok:{ids['deputy']}", user=users.member)
        assert "checked Autumn 2026" in sent[-1].text
        sent = await chat.send("/find Ann Patel", user=users.member)
        assert "checked Autumn 2026" in sent[-1].text
    with frozen_clock(dt.datetime(2026, 9, 16, 7, 30, tzinfo=dt.timezone.utc)):  # 13 days on: not yet
        assert await currency_chat.report_overdue(ctx) is None
    with frozen_clock(dt.datetime(2026, 9, 17, 7, 30, tzinfo=dt.timezone.utc)):
        assert await currency_chat.report_overdue(ctx) == 1
        listed = chat.to(users.coordinator)[-1].text
        assert "Mr Robert Kaur" in listed and "Ann Patel" not in listed
        assert await currency_chat.report_overdue(ctx) is None  # once a term


# --- inline ----------------------------------------------------------------------------------------


async def test_inline_cards_for_members_only(chat: ChatDriver, users: Users, sessionmaker) -> None:
    await ready(chat, sessionmaker)
    sent = await chat.inline("Liz Jones", user=users.member)
    answer = next(s for s in sent if s.method == "answerInlineQuery")
    assert answer.params["is_personal"] is True and answer.params["cache_time"] == 0
    results = answer.params["results"]
    results = results if isinstance(results, list) else __import__("json").loads(results)
    assert results and results[0]["title"] == "Mrs Elizabeth Jones"
    assert "01642 554129 (school)" in results[0]["input_message_content"]["message_text"]
    sent = await chat.inline("Liz Jones", user=users.stranger)
    answer = next(s for s in sent if s.method == "answerInlineQuery")
    results = answer.params["results"]
    assert (results if isinstance(results, list) else __import__("json").loads(results)) == []


# --- across processes ------------------------------------------------------------------------------


async def test_a_command_line_import_is_seen_by_the_running_bot(
    chat: ChatDriver, users: Users, db_url: str, tmp_path: Path
) -> None:
    services = chat.app.bot_data["services"]
    path = tmp_path / "people.csv"
    path.write_text(HEADER + "Quillfeather,Maud,m.q@example.org,Ash School,TS1 1AA,300001,Headteacher\n")
    env = {**os.environ, "DATABASE_URL": db_url}
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "import", "directory", str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    sent = await chat.send("/find Quillfeather", user=users.member)
    assert "found no one" in sent[-1].text  # the running index is older than the import
    await currency_chat.watch_job(BotContext(chat.app))
    sent = await chat.send("/find Quillfeather", user=users.member)
    assert "Maud Quillfeather" in sent[-1].text
    assert await services.refresh_if_changed() is False  # nothing new since
    # A re-import on the command line with a new head: the running bot tells the coordinators, once.
    path.write_text(HEADER + "Oldroyd,Nia,n.o@example.org,Ash School,TS1 1AA,300001,Headteacher\n")
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "import", "directory", str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "1 head change" in done.stdout, done.stdout + done.stderr
    await currency_chat.watch_job(BotContext(chat.app))
    told = [s for s in chat.to(users.coordinator) if "(from the register)" in s.text]
    assert len(told) == 1 and "New head at Ash School (from the register): Nia Oldroyd" in told[0].text
    await currency_chat.watch_job(BotContext(chat.app))
    assert await currency_chat.announce_head_changes(BotContext(chat.app)) == 0


# --- search as people type -------------------------------------------------------------------------


async def test_queries_as_people_type_them_on_the_demo(chat: ChatDriver, users: Users, sessionmaker) -> None:
    """The README's examples, and the new kinds of query, on the demo partnership."""
    from directory.demo import load_demo

    async with sessionmaker.begin() as session:
        await load_demo(session)
    await chat.app.bot_data["services"].refresh_directory()
    expected = {
        "/find smith": ["Mr John Smith", "Mr Peter Smith"],
        "hefernan": ["Did you mean", "Mrs Siobhan Heffernan"],
        "Mrs Williams": ["Mrs Carys Williams", "Headteacher"],
        "st thomas cofe": ["St Thomas' Church of England Primary School", "URN 900001"],
        "Bouette Sarah": ["Ms Sarah Bouette"],
        "head of st thomas": ["Mrs Carys Williams"],
        "who is the head at st thomas cofe?": ["Mrs Carys Williams"],
    }
    for text, parts in expected.items():
        sent = await chat.send(text, user=users.member)
        shown = sent[-1].text.replace("&#x27;", "'") + " ".join(label for label, _d in sent[-1].buttons)
        for part in parts:
            assert part in shown, (text, part, shown)
    # Same-name schools are told apart by town and URN on their buttons.
    sent = await chat.send("st marys catholic primary", user=users.member)
    labels = [label for label, _d in sent[-1].buttons]
    assert any("Riverton" in label and "URN 900002" in label for label in labels), labels
    assert any("Stoneford" in label and "URN 900003" in label for label in labels), labels
    # A town or a postcode district.
    sent = await chat.send("primary schools in Ashcombe", user=users.member)
    assert sent[-1].buttons and "match" in sent[-1].text
    sent = await chat.send("RV3", user=users.member)
    school_ids = [int(d.split(":")[1]) for _l, d in sent[-1].buttons if d.startswith("sc:")]
    async with sessionmaker() as session:
        postcodes = (await session.scalars(select(School.postcode).where(School.id.in_(school_ids)))).all()
    assert len(postcodes) == 8 and all(p.startswith("RV3 ") for p in postcodes), postcodes
    # A role with a place.
    sent = await chat.send("SENDCo St Mary's Stoneford", user=users.member)
    assert "Mr Peter Smith" in sent[-1].text
    # /sle SPEC near PLACE, nearest first.
    sent = await chat.send("/sle maths near Ashcombe", user=users.member)
    assert "nearest Ashcombe first" in sent[-1].text


async def test_nearest_system_leaders_to_a_shared_location(chat: ChatDriver, users: Users, sessionmaker) -> None:
    ids = await ready(chat, sessionmaker)
    async with sessionmaker.begin() as session:
        from storage.directory import Specialism, person_specialism

        maths = Specialism(name="mathematics", aliases="maths")
        session.add(maths)
        await session.flush()
        near = await session.get(Person, ids["other"])  # Elm Tree, Marske
        far = await session.get(Person, ids["head"])  # Oakfield, Redcar
        near.designations, far.designations = "SLE", "SLE"
        await session.execute(
            person_specialism.insert(),
            [{"person_id": near.id, "specialism_id": maths.id}, {"person_id": far.id, "specialism_id": maths.id}],
        )
    await chat.app.bot_data["services"].refresh_directory()
    await chat.send("/sle maths", user=users.member)
    # Marske-by-the-Sea (54.5905 N, 1.0206 W) is about 1 km from Elm Tree's grid point and 3 km from Oakfield.
    sent = await chat.location(54.5905, -1.0206, user=users.member)
    text = sent[-1].text
    assert "nearest your location first" in text
    assert text.index("Robert Kaur") < text.index("Elizabeth Jones")
    sent = await chat.location(48.8566, 2.3522, user=users.member)  # Paris: off the grid
    assert "outside Great Britain" in sent[-1].text
