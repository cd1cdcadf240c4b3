"""Who is who (issue 20): a typed name never links, grants or resolves to an account; the office decides, once.

Every scenario is played as Telegram sends it (tests/harness.py) on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application

from core.offline import Sent
from storage.buddies import Appointment
from storage.directory import EntryChange, Person, School
from storage.members import AccessRequest, AuditEntry, Member
from tests.harness import ChatDriver, Users, frozen_clock

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    with frozen_clock(NOW):
        yield


@pytest.fixture
async def people(app: Application, sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Helen heads Mandeville (her account is the member's, 1001), Lesley directs the hub (her account is the
    lead's, 1002), Kimpton has its head; Sam Newton has an entry nobody is linked to."""
    async with sessionmaker.begin() as session:
        mandeville = School(name="Mandeville Primary School", phase="primary", urn="100001")
        kimpton = School(name="Kimpton Primary", phase="primary", urn="100002")
        session.add_all([mandeville, kimpton])
        await session.flush()
        helen = Person(
            title="Mrs",
            first_name="Helen",
            last_name="Ashworth",
            job_title="Headteacher",
            is_head=True,
            school_id=mandeville.id,
            phone="01632 960001",
            email="helen@mandeville.example",
        )
        lesley = Person(title="Mrs", first_name="Lesley", last_name="Draycott", job_title="Director")
        kim_head = Person(
            title="Mr",
            first_name="Kenneth",
            last_name="Blythe",
            job_title="Headteacher",
            is_head=True,
            school_id=kimpton.id,
        )
        sam = Person(title="Mr", first_name="Sam", last_name="Newton", job_title="Deputy", school_id=kimpton.id)
        session.add_all([helen, lesley, kim_head, sam])
        await session.flush()
        await session.execute(update(Member).where(Member.telegram_id == 1001).values(person_id=helen.id))
        await session.execute(update(Member).where(Member.telegram_id == 1002).values(person_id=lesley.id))
        ids = {
            "helen": helen.id,
            "lesley": lesley.id,
            "kim_head": kim_head.id,
            "sam": sam.id,
            "mandeville": mandeville.id,
            "kimpton": kimpton.id,
        }
    await app.bot_data["services"].refresh_directory()  # type: ignore[attr-defined]
    return ids


def buttons_of(sent: list[Sent]) -> list[tuple[str, str]]:
    for s in reversed(sent):
        if s.buttons:
            return s.buttons
    return []


def data_for(buttons: list[tuple[str, str]], label: str) -> str:
    for text, data in buttons:
        if text == label or text.startswith(label):
            return data
    raise AssertionError(f"no {label!r} in {buttons}")


async def request_access(chat: ChatDriver, user: int, text: str) -> None:
    await chat.send("/start", user=user)
    await chat.press("ar:req", user=user)
    await chat.send(text, user=user)


def request_copy(chat: ChatDriver, coordinator: int) -> Sent:
    return next(s for s in reversed(chat.to(coordinator)) if s.method == "sendMessage" and "Access request" in s.text)


async def approve_without_link(chat: ChatDriver, users: Users, user: int, text: str) -> None:
    await request_access(chat, user, text)
    await chat.press(data_for(request_copy(chat, users.admin).buttons, "Approve without link"), user=users.admin)


async def member(sessionmaker: async_sessionmaker[AsyncSession], telegram_id: int) -> Member | None:
    async with sessionmaker() as session:
        return await session.get(Member, telegram_id)


async def register_self(chat: ChatDriver, user: int, name: str, school: str, school_id: int, start: str) -> list[Sent]:
    await chat.send("/newhead", user=user)
    await chat.press("nhw:self", user=user)
    await chat.send(name, user=user)
    await chat.send(school, user=user)
    await chat.press(f"nhs:{school_id}", user=user)
    await chat.send(start, user=user)
    await chat.press("nhf:done", user=user)
    await chat.press("nhk:done", user=user)
    await chat.press("nhp:skip", user=user)  # how to be reached: optional
    return await chat.press("nhc:save", user=user)


# --- 1. a stranger approved without a link cannot take over a head's entry -------------------------------


async def test_registering_as_someone_links_nothing_and_changes_nothing(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await approve_without_link(chat, users, users.stranger, "Pat Stranger, Nowhere")
    sent = await register_self(
        chat, users.stranger, "Mrs Helen Ashworth", "Mandeville", people["mandeville"], "7 December 2026"
    )
    assert any("waits for a coordinator" in s.text for s in sent)
    async with sessionmaker() as session:
        stranger = await session.get(Member, users.stranger)
        assert stranger is not None and stranger.person_id is None
        helen = await session.get(Person, people["helen"])
        assert helen.is_head and helen.status == "current" and helen.phone == "01632 960001"
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 0
        assert await session.scalar(select(func.count()).select_from(EntryChange)) == 1
        links = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "member.link")
        )
        assert links == 0
    # Editing "their" entry edits nothing of Helen's.
    await chat.send("/edit phone 07700 900999", user=users.stranger)
    async with sessionmaker() as session:
        assert (await session.get(Person, people["helen"])).phone == "01632 960001"
    # The registration waits on /desk, with its own count, and confirming it still links no account.
    sent = await chat.send("/desk", user=users.coordinator)
    assert "1 new-head registration to confirm" in sent[0].text
    sent = await chat.press("dk:rg", user=users.coordinator)
    assert "Mrs Helen Ashworth" in sent[-1].text and "Pat Stranger" in sent[-1].text
    sent = await chat.press(data_for(sent[-1].buttons, "Confirm 1"), user=users.coordinator)
    assert (await member(sessionmaker, users.stranger)).person_id is None
    # The coordinator is offered the link decision, which shows the conflict with Helen's own account.
    sent = await chat.press(data_for(buttons_of(sent), "Link the registrant"), user=users.coordinator)
    assert "Already linked to another account since" in sent[-1].text and "Replace" in sent[-1].text
    assert (await member(sessionmaker, users.stranger)).person_id is None
    assert (await member(sessionmaker, users.member)).person_id == people["helen"]


# --- 2. a member cannot retire a school's head; odd dates are questioned ---------------------------------


async def test_a_members_registration_retires_nobody_until_confirmed(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("/newhead", user=users.lead)
    await chat.press("nhw:school", user=users.lead)
    await chat.send("Mr Fake Head", user=users.lead)
    await chat.send("Kimpton", user=users.lead)
    await chat.press(f"nhs:{people['kimpton']}", user=users.lead)
    sent = await chat.send("7/12/2024", user=users.lead)  # two years back: questioned, not taken
    assert "more than a term ago" in sent[-1].text
    assert data_for(sent[-1].buttons, "Yes, keep") == "nhd:y"
    sent = await chat.send("7/12/2026", user=users.lead)
    assert "Which of these apply" in sent[-1].text
    await chat.press("nhf:done", user=users.lead)
    await chat.press("nhk:done", user=users.lead)
    await chat.press("nhp:skip", user=users.lead)  # how to be reached: optional
    await chat.press("nhc:save", user=users.lead)
    async with sessionmaker() as session:
        head = await session.get(Person, people["kim_head"])
        assert head.is_head and head.status == "current"
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 0
    sent = await chat.send("/newhead", user=users.lead)
    await chat.press("nhw:office", user=users.lead)
    await chat.send("Ms Far Future", user=users.lead)
    await chat.send("Kimpton", user=users.lead)
    await chat.press(f"nhs:{people['kimpton']}", user=users.lead)
    sent = await chat.send("1/9/2028", user=users.lead)
    assert "more than eighteen months ahead" in sent[-1].text
    sent = await chat.press("nhd:y", user=users.lead)
    assert "Which of these apply" in sent[-1].text


# --- 3. /grant by name reaches only active accounts linked to that person --------------------------------


async def test_grant_by_name_never_reaches_a_pending_request(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await request_access(chat, users.stranger, "Helen Ashworth, Mandeville Primary")
    sent = await chat.send("/grant Ashworth coordinator", user=users.admin)
    assert "Make this account coordinator?" in sent[0].text
    assert "Mrs Helen Ashworth" in sent[0].text and str(users.member) in sent[0].text
    assert str(users.stranger) not in sent[0].text
    await chat.press(data_for(sent[0].buttons, "Confirm"), user=users.admin)
    assert (await member(sessionmaker, users.member)).role == "coordinator"
    assert await member(sessionmaker, users.stranger) is None
    async with sessionmaker() as session:
        request = (await session.scalars(select(AccessRequest))).one()
        assert request.status == "pending"


# --- 4. one person, one active account ---------------------------------------------------------------------


async def test_approve_and_link_shows_the_conflict_and_replaces_only_when_asked(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await request_access(chat, users.stranger, "Lesley Draycott, Hub")
    copy = request_copy(chat, users.coordinator)
    assert "Already linked to another account since" in copy.text
    sent = await chat.press(data_for(copy.buttons, "Approve and link"), user=users.coordinator)
    assert "already linked to another account" in sent[-1].text and "Replace" in sent[-1].text
    assert await member(sessionmaker, users.stranger) is None  # nothing decided yet
    assert (await member(sessionmaker, users.lead)).person_id == people["lesley"]
    await chat.press(data_for(sent[-1].buttons, "Replace the link"), user=users.coordinator)
    new, old = await member(sessionmaker, users.stranger), await member(sessionmaker, users.lead)
    assert new.person_id == people["lesley"] and new.active and old.person_id is None and old.active
    assert sum("Good news" in s.text for s in chat.to(users.stranger)) == 1


async def test_the_database_holds_one_active_account_per_person(
    people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    with pytest.raises(IntegrityError):
        async with sessionmaker.begin() as session:
            session.add(Member(telegram_id=5555, role="member", person_id=people["helen"], active=True))
    async with sessionmaker.begin() as session:  # an inactive (revoked) account may keep a history row
        session.add(Member(telegram_id=5556, role="member", person_id=people["helen"], active=False))


# --- 5. revoking ends the role; a later approval starts as member --------------------------------------------


async def test_a_revoked_coordinator_comes_back_as_a_member_and_the_approver_sees_why(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    sent = await chat.send(f"/revoke {users.coordinator}", user=users.admin)
    assert "End the access of this account?" in sent[0].text and "coordinator" in sent[0].text
    assert (await member(sessionmaker, users.coordinator)).active  # nothing before Confirm
    await chat.press(data_for(sent[0].buttons, "Confirm"), user=users.admin)
    revoked = await member(sessionmaker, users.coordinator)
    assert not revoked.active and revoked.role == "member"
    await request_access(chat, users.coordinator, "Jo Bloggs, Somewhere")
    copy = request_copy(chat, users.admin)
    assert "This account was coordinator until 7 Dec 2026, revoked by Admin." in copy.text
    await chat.press(data_for(copy.buttons, "Approve without link"), user=users.admin)
    back = await member(sessionmaker, users.coordinator)
    assert back.active and back.role == "member"


async def test_revoke_by_name_confirms_the_account_and_the_last_admin_stays(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    sent = await chat.send("/revoke Draycott", user=users.admin)
    assert "Mrs Lesley Draycott" in sent[0].text and "action lead" in sent[0].text
    await chat.press(data_for(sent[0].buttons, "Confirm"), user=users.admin)
    lead = await member(sessionmaker, users.lead)
    assert not lead.active and lead.person_id is None  # revoking ends the link too
    sent = await chat.send(f"/revoke {users.admin}", user=users.admin)
    sent = await chat.press(data_for(sent[0].buttons, "Confirm"), user=users.admin)
    assert "last admin" in sent[-1].text
    assert (await member(sessionmaker, users.admin)).active


# --- 6. what is decided is what was seen --------------------------------------------------------------------


async def test_a_corrected_request_renotifies_and_old_buttons_refuse(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await request_access(chat, users.stranger, "Sam Newton, Kimpton")
    old = request_copy(chat, users.coordinator)
    old_approve = data_for(old.buttons, "Approve without link")
    sent = await chat.send("/start", user=users.stranger)
    assert data_for(sent[0].buttons, "Correct my request") == "ar:req"
    await chat.press("ar:req", user=users.stranger)
    sent = await chat.send("Ms Priya Shah, Partnership Office", user=users.stranger)
    edited = [s for s in sent if s.method == "editMessageText" and s.chat_id == users.coordinator]
    assert edited and "this request has changed" in edited[0].text
    new = request_copy(chat, users.coordinator)
    assert "Ms Priya Shah" in new.text and new.result["message_id"] != old.result["message_id"]  # type: ignore[index]

    # The old button (what the coordinator saw: Sam Newton) decides nothing.
    async def press_old() -> list[Sent]:
        message = dict(old.result)  # type: ignore[arg-type]
        return await chat._process(chat.factory.press(old_approve, users.coordinator, message, None))

    refused = await press_old()
    assert "This request has changed: see the new one." in refused[0].params["text"]
    assert await member(sessionmaker, users.stranger) is None
    await chat.press(data_for(new.buttons, "Approve without link"), user=users.coordinator)
    assert (await member(sessionmaker, users.stranger)).display_name == "Ms Priya Shah"


# --- 7. two presses at once make one decision ----------------------------------------------------------------


async def test_two_presses_at_once_make_one_decision(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    for attempt in range(20):
        applicant = 7000 + attempt
        await request_access(chat, applicant, f"Applicant {attempt}, Somewhere")
        approve = data_for(request_copy(chat, users.coordinator).buttons, "Approve without link")
        reject = data_for(request_copy(chat, users.admin).buttons, "Reject")
        if attempt % 4 >= 2:  # the same decision from /desk: the same one conditional write
            reject = "dkx:" + reject.split(":", 1)[1]
        reject += ":ok"  # Reject takes two taps: the race is between Approve and the second tap, "Yes, reject"
        first, second = (users.coordinator, users.admin) if attempt % 2 else (users.admin, users.coordinator)
        presses = {users.coordinator: approve, users.admin: reject}
        await asyncio.gather(chat.press(presses[first], user=first), chat.press(presses[second], user=second))
        async with sessionmaker() as session:
            request = (await session.scalars(select(AccessRequest).where(AccessRequest.telegram_id == applicant))).one()
            decisions = await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.action.in_(("access.approve", "access.reject")),
                    AuditEntry.entity_id == str(request.id),
                )
            )
            account = await session.get(Member, applicant)
        assert decisions == 1, attempt
        assert request.status in ("approved", "rejected")
        assert (account is not None and account.active) == (request.status == "approved"), attempt
        told = [s for s in chat.to(applicant) if "Good news" in s.text or "not approved" in s.text]
        assert len(told) == 1, (attempt, [s.text for s in told])
        loser = [s for s in chat.sent if s.method == "answerCallbackQuery" and "already been decided" in str(s.params)]
        assert loser, attempt


async def test_two_confirms_of_a_registration_at_once_make_one_appointment(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    for attempt in range(20):
        await chat.send("/newhead", user=users.member)
        await chat.press("nhw:school", user=users.member)
        await chat.send(f"Ms Newhead Number{chr(65 + attempt)}", user=users.member)
        await chat.send("Kimpton", user=users.member)
        await chat.press(f"nhs:{people['kimpton']}", user=users.member)
        await chat.send("1/1/2027", user=users.member)
        await chat.press("nhf:done", user=users.member)
        await chat.press("nhk:done", user=users.member)
        await chat.press("nhp:skip", user=users.member)  # how to be reached: optional
        await chat.press("nhc:save", user=users.member)
        confirm = data_for(buttons_of(chat.to(users.coordinator)), "Confirm")
        assert confirm == data_for(buttons_of(chat.to(users.admin)), "Confirm")
        await asyncio.gather(chat.press(confirm, user=users.coordinator), chat.press(confirm, user=users.admin))
        change_id = int(confirm.rsplit(":", 1)[1])
        async with sessionmaker() as session:
            confirms = await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "change.confirm", AuditEntry.entity_id == str(change_id))
            )
            appointments = await session.scalar(select(func.count()).select_from(Appointment))
        assert confirms == 1 and appointments == attempt + 1, attempt
        told = [s for s in chat.to(users.member) if "has confirmed the appointment" in s.text]
        assert len(told) == attempt + 1, attempt


# --- 9. the desk and the commands behind every message -----------------------------------------------------


async def test_link_and_unlink_from_the_desk_and_by_command(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await approve_without_link(chat, users, users.stranger, "Sam Newton, Kimpton")
    sent = await chat.send("/desk", user=users.coordinator)
    assert "accounts without a directory link" in sent[0].text
    sent = await chat.press("dk:ac", user=users.coordinator)
    assert "Sam Newton" in sent[-1].text
    sent = await chat.press(data_for(sent[-1].buttons, "Link 1 to Mr Sam Newton"), user=users.coordinator)
    assert "Link this account to Mr Sam Newton, Kimpton Primary?" in sent[-1].text
    assert (await member(sessionmaker, users.stranger)).person_id is None  # nothing before Confirm
    await chat.press(data_for(sent[-1].buttons, "Confirm"), user=users.coordinator)
    assert (await member(sessionmaker, users.stranger)).person_id == people["sam"]
    sent = await chat.press("dk:ac", user=users.coordinator)
    await chat.press(data_for(sent[-1].buttons, f"Unlink {users.stranger}"), user=users.coordinator)
    assert (await member(sessionmaker, users.stranger)).person_id is None
    # /link by command, with the conflict shown: Helen is linked to the member's account.
    sent = await chat.send(f"/link {users.stranger} Ashworth", user=users.coordinator)
    assert "Already linked to another account since" in sent[-1].text
    await chat.press(data_for(sent[-1].buttons, "Cancel"), user=users.coordinator)
    assert (await member(sessionmaker, users.member)).person_id == people["helen"]
    sent = await chat.send("/unlink Ashworth", user=users.coordinator)
    assert "Mrs Helen Ashworth" in sent[-1].text
    await chat.press(data_for(sent[-1].buttons, "Confirm"), user=users.coordinator)
    assert (await member(sessionmaker, users.member)).person_id is None
    # A member cannot link anything.
    sent = await chat.send(f"/link {users.member} Ashworth", user=users.member)
    assert (await member(sessionmaker, users.member)).person_id is None


# --- the migration makes existing data fit the model ---------------------------------------------------------


async def test_migration_keeps_one_active_link_per_person_and_ends_revoked_links(db_url: str, tmp_path) -> None:
    from sqlalchemy import text

    from storage.db import make_engine, upgrade_database
    from tests.dbtools import empty_database

    async with empty_database(db_url, tmp_path) as url:
        engine = make_engine(url)
        try:
            await upgrade_database(engine, "0005_decisions")
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO person (id, first_name, last_name, is_head, designations, mentor_capacity, "
                        "buddy_status, status, created_at, updated_at) VALUES (1, 'Lesley', 'Draycott', false, '', 0, "
                        "'available', 'current', :at, :at)"
                    ),
                    {"at": NOW},
                )
                for telegram_id, active, role, approved in (
                    (11, True, "lead", NOW - dt.timedelta(days=30)),
                    (12, True, "member", NOW),
                    (13, False, "coordinator", NOW - dt.timedelta(days=60)),
                ):
                    await conn.execute(
                        text(
                            "INSERT INTO member (telegram_id, role, display_name, person_id, reminders, active, "
                            "approved_at, created_at, updated_at) VALUES (:id, :role, 'x', 1, true, :active, "
                            ":approved, :at, :at)"
                        ),
                        {"id": telegram_id, "role": role, "active": active, "approved": approved, "at": NOW},
                    )
            await upgrade_database(engine)
            async with engine.connect() as conn:
                rows = {
                    r[0]: (r[1], r[2])
                    for r in await conn.execute(text("SELECT telegram_id, person_id, role FROM member"))
                }
                unlinks = (
                    await conn.execute(text("SELECT entity_id FROM audit_log WHERE action = 'member.unlink'"))
                ).all()
        finally:
            await engine.dispose()
    assert rows == {11: (1, "lead"), 12: (None, "member"), 13: (None, "member")}
    assert [u[0] for u in unlinks] == ["12"]


async def test_two_links_of_one_person_at_once_make_one_link(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    for attempt in range(20):
        first, second = 60_000 + 2 * attempt, 60_001 + 2 * attempt
        async with sessionmaker.begin() as session:
            person = Person(first_name="Twice", last_name=f"Linked{attempt}")
            session.add(person)
            session.add_all(
                [Member(telegram_id=first, role="member", display_name="A"), Member(telegram_id=second, role="member")]
            )
            await session.flush()
            person_id = person.id
        await asyncio.gather(
            chat.press(f"lk:{first}:{person_id}:y", user=users.coordinator),
            chat.press(f"lk:{second}:{person_id}:y", user=users.admin),
        )
        async with sessionmaker() as session:
            linked = (await session.scalars(select(Member.telegram_id).where(Member.person_id == person_id))).all()
            audits = await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "member.link", AuditEntry.detail["person_id"].as_integer() == person_id)
            )
        assert len(linked) == 1 and audits == 1, (attempt, linked, audits)


# --- @username: what Telegram shows now, never what someone typed ---------------------------------------


async def test_a_renamed_account_shows_its_new_username_on_the_account_card(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker.begin() as session:
        (await session.get(Member, users.member)).username = "helen_old"  # type: ignore[union-attr]
    await chat.send("/help", user=users.member, username="helen_new")
    assert (await member(sessionmaker, users.member)).username == "helen_new"  # type: ignore[union-attr]
    sent = await chat.send("/grant Ashworth coordinator", user=users.admin)
    assert "@helen_new" in sent[0].text and "helen_old" not in sent[0].text
    # A message without a username (the user removed theirs) clears it; one from an admin changes only theirs.
    await chat.send("/help", user=users.member)
    assert (await member(sessionmaker, users.member)).username is None  # type: ignore[union-attr]
    async with sessionmaker() as session:
        usernames = dict((await session.execute(select(Member.telegram_id, Member.username))).tuples().all())
    assert usernames[users.lead] is None and usernames[users.coordinator] is None


async def test_a_username_in_the_text_changes_no_account(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        before = dict((await session.execute(select(Member.telegram_id, Member.username))).tuples().all())
    await chat.send("I am @helen_new, please update me", user=users.member)
    await chat.send("@helen_new", user=users.stranger, username="helen_new")
    async with sessionmaker() as session:
        after = dict((await session.execute(select(Member.telegram_id, Member.username))).tuples().all())
    assert after == before  # the member sent no username; the stranger has no account to refresh
