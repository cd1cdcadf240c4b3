"""The coordinator's desk through process_update, on both databases: access requests with a life (shown on
/start, copies edited when one coordinator decides, closed by /grant), /desk's parts and their actions, the
daily digest, /stats, people by name (/grant, /erase), /audit as sentences, one-time buttons, and every reply a
coordinator or admin sees checked for leftover jargon."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application

from core.offline import Sent
from directory import appointments as ap
from handlers.desk import send_digests
from storage.buddies import CheckIn
from storage.desk import AccessRequestCopy, DeskState
from storage.directory import Person
from storage.members import AccessRequest, Member
from storage.plans import ReminderSent
from tests.desk_world import waiting_and_paired
from tests.harness import ChatDriver, Users, frozen_clock
from tests.plan_seed import seed_plan

NOW = dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.timezone.utc)  # a Monday in Autumn 2025
START = dt.date(2026, 1, 5)

# "1 things", "1 rows": a count of one before a plural (not "1 access", "1 status", "1 analysis").
PLURAL_SLIP = re.compile(r"\b1 (?!(?:was|has|this|as)\b)[a-z]*[^sui\W]s\b|\b1 [a-z]*ies\b")
ACTION_CODE = re.compile(r"\b(?:access|member|person|plan|progress|buddy|appointment|directory|school)\.[a-z_]+\b")
RAW_SCORE = re.compile(r"score|— \d+(?:\.\d+)?$|\(\d+\.\d+\)|→ [^\n]*\(\d+\)", re.I | re.M)


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    with frozen_clock(NOW):
        yield


def jargon(sent: list[Sent], ids: set[int]) -> list[str]:
    """What a coordinator should not have to read: raw scores, internal ids, action codes, '1 things'."""
    problems = []
    for s in sent:
        pieces = [s.text or str(s.params.get("text") or ""), *(label for label, _data in s.buttons)]
        for piece in pieces:
            for pattern, what in ((PLURAL_SLIP, "plural"), (ACTION_CODE, "action code"), (RAW_SCORE, "score")):
                found = pattern.search(piece)
                if found:
                    problems.append(f"{what} {found.group(0)!r} in {piece[:300]!r}")
            for telegram_id in ids:
                if str(telegram_id) in piece:
                    problems.append(f"id {telegram_id}: {piece[:300]!r}")
            # "former member #41" is an erased person's pseudonym (storage/mentions.py), not an internal id
            if re.search(r"\(id \d+|(?<!former member )#\d+|\bperson \d+|PERSON_ID|TELEGRAM_ID", piece):
                problems.append(f"id: {piece[:300]!r}")
    return problems


def office_replies(chat: ChatDriver, users: Users) -> list[Sent]:
    """Everything sent to the coordinator's and admin's chats, and every toast (button answers)."""
    return [s for s in chat.sent if s.chat_id in (users.coordinator, users.admin) or s.method == "answerCallbackQuery"]


def texts(sent: list[Sent]) -> str:
    return "\n".join(s.text or str(s.params.get("text") or "") for s in sent)


async def ask_access(chat: ChatDriver, users: Users, name: str = "Sam Newton, Kimpton Primary") -> None:
    await chat.press("ar:req", user=users.stranger)
    await chat.send(name, user=users.stranger, first_name="Sam")


# --- access requests with a life ------------------------------------------------------------------


async def test_pending_request_on_start_and_every_copy_shows_who_decided(
    chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    sent = await chat.send("/start", user=users.stranger, first_name="Sam")
    assert [label for label, _d in sent[0].buttons] == ["Agree and request access"]
    await ask_access(chat, users)
    sent = await chat.send("/start", user=users.stranger, first_name="Sam")
    assert "with the coordinators since 3 Nov 2025, 09:00" in sent[0].text  # Europe/London, Babel
    assert "Agree and request access" not in [label for label, _d in sent[0].buttons]
    async with sessionmaker() as session:
        copies = (await session.scalars(select(AccessRequestCopy))).all()
    assert {c.chat_id for c in copies} == {users.coordinator, users.admin}

    approve = next(d for _l, d in chat.to(users.admin)[-1].buttons if d.startswith("aa:"))
    sent = await chat.press(approve, user=users.admin)
    edited = [s for s in sent if s.method == "editMessageText" and s.chat_id == users.coordinator]
    assert len(edited) == 1 and "approved by Admin on 3 Nov 2025, 09:00" in edited[0].text
    assert edited[0].params.get("reply_markup") in (None, "")  # its buttons are gone
    # The coordinator's old copy now answers that it was decided; nothing changes.
    again = await chat.press(approve, user=users.coordinator)
    assert "already been decided" in again[0].params["text"]
    sent = await chat.send("/start", user=users.stranger)
    assert sent[0].text.startswith("Welcome, Sam Newton.")
    sent = await chat.send("/start", user=users.stranger)
    assert sent[0].text.startswith("Welcome back, Sam Newton.")
    assert not jargon(office_replies(chat, users), {users.stranger})


async def test_grant_by_name_confirms_and_closes_the_request(
    app: Application, chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker.begin() as session:
        session.add(Person(title="Mrs", first_name="Lesley", last_name="Draycott", job_title="Director"))
    await app.bot_data["services"].refresh_directory()
    await ask_access(chat, users, "Lesley Draycott, Hub School")
    sent = await chat.send("/grant Nobodyatall lead", user=users.admin)
    assert "No active account is linked to anyone called “Nobodyatall”" in sent[0].text
    # A typed name never reaches a pending request, even one that typed the same name (issue 20, scenario 3).
    sent = await chat.send("/grant Draycott lead", user=users.admin)
    assert "No active account is linked to anyone called “Draycott”" in sent[0].text and not sent[0].buttons
    sent = await chat.send(f"/grant {users.stranger} lead", user=users.admin)
    assert "Make this account action lead?" in sent[0].text and f"Telegram id {users.stranger}" in sent[0].text
    confirm = next(d for label, d in sent[0].buttons if label == "Confirm")
    async with sessionmaker() as session:
        assert await session.get(Member, users.stranger) is None  # nothing before the confirm
    sent = await chat.press(confirm, user=users.admin)
    assert "Done:" in texts(sent) and "action lead" in texts(sent)
    assert any(
        s.method == "editMessageText" and s.chat_id == users.coordinator and "approved by Admin" in s.text for s in sent
    )
    again = await chat.press(confirm, user=users.admin)
    assert "already done" in again[0].params["text"]
    async with sessionmaker() as session:
        member = await session.get(Member, users.stranger)
        assert member is not None and member.role == "lead" and member.person_id is None  # granting links nothing
        request = (await session.scalars(select(AccessRequest))).one()
        assert request.status == "approved" and request.decided_by == users.admin
    sent = await chat.send("/grant Draycott lead", user=users.coordinator)
    assert "admins only" in sent[0].text
    # The admin typed the Telegram id, so the account it names is shown with it; nothing else is jargon.
    assert not jargon(office_replies(chat, users), set())


# --- the desk ---------------------------------------------------------------------------------------


@pytest.fixture
async def office(app: Application, sessionmaker: async_sessionmaker[AsyncSession], users: Users) -> dict[str, int]:
    """A directory, a new head without a buddy, an accepted pairing with an answered check-in, a plan."""
    async with sessionmaker.begin() as session:
        heads = await waiting_and_paired(session, users.coordinator, NOW.date(), START, (160, 120))
        waiting, buddy, match = heads.waiting, heads.buddy, heads.match
        (await session.get(Member, users.member)).person_id = buddy.person_id  # type: ignore[union-attr]
        await ap.accept(session, match.id, users.member)
        checkin = (await session.scalars(select(CheckIn).where(CheckIn.match_id == match.id))).first()
        assert checkin is not None
        await ap.answer_checkin(session, checkin.id, users.member, "struggling", "We have not managed to meet.")
        ids = {"waiting": waiting.appointment.id, "match": match.id, "buddy": buddy.person_id}
    await seed_plan(sessionmaker)
    await app.bot_data["services"].refresh_directory()
    return ids


async def test_desk_shows_every_part_and_acts_from_it(
    app: Application,
    chat: ChatDriver,
    users: Users,
    office: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await ask_access(chat, users)
    sent = await chat.send("/desk", user=users.coordinator)
    desk = sent[0].text
    for line in (
        "1 access request waiting",
        "1 new head without a buddy",
        "Pairings: 1 active",
        "1 check-in answer since you last looked (1 struggling)",
        "Teaching School 2025-26: 3 people have not updated this term",
        "daily digest of your desk is off",
    ):
        assert line in desk, line
    labels = [label for label, _d in sent[0].buttons]
    assert labels[0] == "Access request (1)" and "New head (1)" in labels and "Registrations (0)" in labels

    sent = await chat.press("dk:ar", user=users.coordinator)
    part = sent[-1]
    assert "Sam Newton, Kimpton Primary — asked 3 Nov 2025, 09:00 (on Telegram: Sam)" in part.text
    approve = next(d for label, d in part.buttons if label == "Approve 1")
    sent = await chat.press(approve, user=users.coordinator)
    assert "Approved: Sam Newton." in texts(sent) and "Nobody is waiting for access." in sent[-1].text
    assert any("approved by Coordinator" in s.text for s in sent if s.chat_id == users.admin)
    assert "Good news" in chat.to(users.stranger)[-1].text

    sent = await chat.press("dk:nh", user=users.coordinator)
    assert "Nadia Quill" in sent[-1].text and "Omar Reyes" not in sent[-1].text
    confirm = next(d for label, d in sent[-1].buttons if label.startswith("Confirm "))
    assert confirm.startswith(f"bc:{office['waiting']}:")  # the buddy feature's own button
    assert any(d == f"ba:{office['waiting']}" for _l, d in sent[-1].buttons)

    sent = await chat.press("dk:ck", user=users.coordinator)
    assert "about Nadia" not in sent[-1].text
    assert "Struggling" in sent[-1].text and "We have not managed to meet." in sent[-1].text
    sent = await chat.press("dk:ck", user=users.coordinator)  # read: gone from the list
    assert "No new answers." in sent[-1].text

    sent = await chat.press("dk:pl", user=users.coordinator)
    assert "Not updated yet: Lucy Draycott, Karen Shilton, M Rock" in sent[-1].text
    chase = next(d for label, d in sent[-1].buttons if label.startswith("Chase: "))
    sent = await chat.press(chase, user=users.coordinator)  # the reminders feature's own /chase
    assert "Who hasn't updated for Autumn 2025" in sent[-1].text

    sent = await chat.press("dk:pr", user=users.coordinator)
    assert "Omar Reyes with" in sent[-1].text and "active" in sent[-1].text
    sent = await chat.press("dk:im", user=users.coordinator)
    assert "Nothing has been imported yet." in sent[-1].text

    sent = await chat.press("dk:dg", user=users.coordinator)
    assert "Daily digest on" in texts(sent) and "daily digest of your desk is on" in sent[-1].text
    await ask_access(chat, users.__class__(stranger=9002))  # someone else asks overnight
    before = len(chat.to(users.coordinator))
    assert await send_digests(_job_context(app)) == 1
    digest = chat.to(users.coordinator)[before:]
    assert any("Good morning" in s.text and "1 access request waiting" in s.text for s in digest)
    async with sessionmaker() as session:
        state = await session.get(DeskState, users.coordinator)
        assert state is not None and state.digest and state.checkins_seen_at is not None

    for who in (users.member, users.lead):
        sent = await chat.send("/desk", user=who)
        assert "coordinators only" in sent[0].text
        refused = await chat.press("dk:ar", user=who)
        assert refused[0].method == "answerCallbackQuery" and "Sam Newton" not in texts(refused)
    assert not jargon(office_replies(chat, users), {users.stranger, 9002})


def _job_context(app: Application) -> object:
    from core.services import BotContext

    return BotContext(app)


async def test_stats_for_admins(chat: ChatDriver, users: Users, office: dict[str, int]) -> None:
    sent = await chat.send("/stats", user=users.admin)
    text = sent[0].text
    for line in (
        "• admin: 1",
        "• coordinator: 1",
        "• action lead: 1",
        "• member: 1",
        "• 1 appointment without a buddy",
        "• Active pairings: 1",
        "• 0 progress updates",
    ):
        assert line in text, line
    sent = await chat.send("/stats", user=users.coordinator)
    assert "admins only" in sent[0].text
    assert not jargon(office_replies(chat, users), set())


# --- one-time buttons, names not ids, wording ------------------------------------------------------


async def test_send_reminders_twice_sends_them_once(
    chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_plan(sessionmaker)
    sent = await chat.send("/chase", user=users.coordinator)
    assert ("Send reminders", f"chr:{seeded.plan_id}") in sent[-1].buttons
    first = await chat.press(f"chr:{seeded.plan_id}", user=users.coordinator)
    assert "Sent 1 reminder." in texts(first)
    before = len(chat.to(users.lead))
    second = await chat.press(f"chr:{seeded.plan_id}", user=users.coordinator)
    # the same message's button again: the chase of this plan is claimed for today (storage/sends.py)
    assert second[0].params["text"].startswith("Reminders already sent by Coordinator at ")
    assert "nothing was sent again" in second[0].params["text"] and len(chat.to(users.lead)) == before
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ReminderSent)) == 1
    assert not jargon(office_replies(chat, users), set())


async def test_meetings_errors_say_what_was_wrong(
    chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await seed_plan(sessionmaker)
    cases = {
        "/meetings add": "Which date?",
        "/meetings add 31/02/2027": "31/02/2027 is not a date",
        "/meetings add soon": "I could not read “soon” as a date",
        "/meetings add 12/03/2026 7": "There is no plan 7",
        "/holidays add 02/01/2026 22/12/2025": "The end (22 Dec 2025) is before the start (2 Jan 2026)",
    }
    for command, expected in cases.items():
        sent = await chat.send(command, user=users.coordinator)
        assert expected in sent[-1].text, command
    await seed_plan(sessionmaker, title="Second plan")
    sent = await chat.send("/meetings add 12/03/2026", user=users.coordinator)
    assert "Which plan? Add its number" in sent[-1].text
    sent = await chat.send("/meetings add 01/10/2025 1", user=users.coordinator)
    assert "1 Oct 2025 has passed — add the meeting of Teaching School 2025-26 anyway?" in sent[-1].text
    add = sent[-1].buttons[0][1]
    sent = await chat.press(add, user=users.coordinator)
    assert "Meeting added" in texts(sent)
    again = await chat.press(add, user=users.coordinator)
    assert "already done" in again[0].params["text"]
    sent = await chat.send("/meetings add 12/03/2026 2", user=users.coordinator)
    assert "Meeting added: Second plan, 12 Mar 2026" in sent[-1].text
    assert not jargon(office_replies(chat, users), set())


async def test_erase_by_name_and_audit_as_sentences(
    app: Application, chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_plan(sessionmaker)
    async with sessionmaker.begin() as session:
        session.add(Person(first_name="Karen", last_name="Draycott", job_title="Deputy head"))
    await app.bot_data["services"].refresh_directory()
    await chat.send("/update 1.1 green Done", user=users.lead)
    await chat.press(next(d for label, d in chat.to(users.lead)[-1].buttons if label == "Save"), user=users.lead)

    sent = await chat.send("/audit", user=users.admin)
    assert (
        "3 Nov 2025, 09:00 — Lucy Draycott posted an update on action 1.1 of Teaching School 2025-26." in sent[0].text
    )
    sent = await chat.send("/audit plan", user=users.admin)
    assert "Changes to do with Teaching School 2025-26" in sent[0].text and "action 1.1" in sent[0].text
    sent = await chat.send("/audit plan 4", user=users.admin)
    assert "There is no plan 4" in sent[0].text
    sent = await chat.send("/audit Shilton", user=users.admin)
    assert "Karen Shilton" in sent[0].text and "No changes recorded." in sent[0].text

    sent = await chat.send("/erase Draycott", user=users.admin)
    assert "Whose personal data should be erased?" in sent[0].text
    assert {label for label, _d in sent[0].buttons} == {
        "Lucy Draycott, Director of Teaching School",
        "Karen Draycott, Deputy head",
    }
    pick = next(d for label, d in sent[0].buttons if label.startswith("Karen"))
    sent = await chat.press(pick, user=users.admin)
    assert "Erase <b>Karen Draycott</b>?" in sent[-1].text and "0 member accounts" in sent[-1].text
    sent = await chat.press(next(d for label, d in sent[-1].buttons if label == "Erase"), user=users.admin)
    assert "Erased: 0 member accounts removed, 0 progress updates kept" in texts(sent)
    async with sessionmaker() as session:
        assert await session.get(Person, seeded.lead_person_id) is not None
        assert (
            await session.scalar(
                select(func.count())
                .select_from(Person)
                .where(Person.first_name == "Karen", Person.last_name == "Draycott")
            )
            == 0
        )
    sent = await chat.send("/audit", user=users.admin)
    assert re.search(r"Admin erased the personal data of former member #\d+\.", sent[0].text)
    for n in range(12):  # enough changes for a second page
        await chat.send(f"/reminders {'off' if n % 2 else 'on'}", user=users.member)
    sent = await chat.send("/audit", user=users.admin)
    assert "Page 1 of 2" in sent[0].text and ("Next ›", "au:1") in sent[0].buttons
    sent = await chat.press("au:1", user=users.admin)
    assert "Page 2 of 2" in sent[-1].text and ("‹ Previous", "au:0") in sent[-1].buttons
    assert not jargon(office_replies(chat, users), set())


async def test_matchterm_and_suggestions_read_without_scores(
    chat: ChatDriver, users: Users, office: dict[str, int]
) -> None:
    sent = await chat.send("/matchterm", user=users.coordinator)
    plan = sent[-1].text
    assert "This is the best plan overall: every new head gets a buddy" in plan
    assert "score" not in plan.lower()
    sent = await chat.press(f"bm:{office['waiting']}", user=users.coordinator)
    assert "Suggested buddies" in sent[-1].text
    assert not jargon(office_replies(chat, users), set())


async def test_every_office_command_reads_plainly(chat: ChatDriver, users: Users, office: dict[str, int]) -> None:
    """A coordinator's and an admin's day of commands and buttons: nothing shows a raw score, an internal id,
    an action code or '1 things'."""
    await ask_access(chat, users)
    await chat.send("/meetings add 20/11/2025", user=users.coordinator)
    await chat.send("/holidays add 22/12/2025 02/01/2026 Christmas", user=users.coordinator)
    for command in (
        "/help",
        "/start",
        "/desk",
        "/chase",
        "/digest",
        "/meetings",
        "/holidays",
        "/plan",
        "/matchterm",
        "/meetings add 1/1/2020",
        "/meetings add 30/02/2026",
        "/holidays add x y",
        "/buddy",
    ):
        await chat.send(command, user=users.coordinator)
    for data in ("dk:ar", "dk:nh", "dk:pr", "dk:ck", "dk:pl", "dk:im", "dk:dg", "dk:h", f"bm:{office['waiting']}"):
        await chat.press(data, user=users.coordinator)
    listing = await chat.send("/meetings", user=users.coordinator)
    remove = next(d for label, d in listing[-1].buttons if label.startswith("Remove"))
    await chat.press(remove, user=users.coordinator)  # the first tap asks (two taps to discard)
    sent = await chat.press(f"{remove}:ok", user=users.coordinator)
    assert "Removed the meeting on 20 Nov 2025." in texts(sent)
    listing = await chat.send("/holidays", user=users.coordinator)
    await chat.press(next(d for label, d in listing[-1].buttons if label.startswith("Remove")), user=users.coordinator)
    for command in ("/help", "/stats", "/audit", "/audit plan", "/grant Quill lead", "/erase Quill", "/erase"):
        await chat.send(command, user=users.admin)
    await chat.press(f"ba:{office['waiting']}", user=users.coordinator)
    seen = texts(office_replies(chat, users))
    for shown in (
        "What I can do for you",
        "Your desk",
        "Who hasn't updated",
        "Delivery-group meetings",
        "School holidays",
        "Buddy plan for every open appointment",
        "The partnership in figures",
        "Latest changes",
        "Suggested buddies",
        "1 Jan 2020 has passed",
        "30/02/2026 is not a date",
    ):
        assert shown in seen, shown
    problems = jargon(office_replies(chat, users), {users.stranger, users.member, users.lead})
    assert not problems, "\n".join(problems)
