"""Buddies in the chat: coordinator confirms, buddy answers, declines move on, introductions, check-ins,
ending a pairing, opting out and pausing, and the termly batch plan."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application

from core import clock
from core.services import BotContext
from directory import appointments as ap
from directory import synthetic
from handlers.buddy import send_checkins
from storage.buddies import BuddyMatch, CheckIn
from storage.directory import Person
from storage.members import Member
from tests.harness import ChatDriver, Users, frozen_clock

NOW = dt.datetime(2025, 7, 1, 9, 0, tzinfo=dt.timezone.utc)
START = dt.date(2025, 9, 1)


@pytest.fixture(autouse=True)
def fixed_clock() -> object:
    with frozen_clock(NOW):
        yield


def at(day: dt.date) -> None:
    clock.set_clock(lambda: dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.timezone.utc))


async def link(sessionmaker: async_sessionmaker[AsyncSession], telegram_id: int, person_id: int) -> None:
    async with sessionmaker.begin() as session:
        (await session.get(Member, telegram_id)).person_id = person_id


class World:
    """A directory with hundreds of heads and one new head (linked to users.lead)."""

    def __init__(
        self,
        directory: synthetic.Directory,
        appointment_id: int,
        head_id: int,
        ranked: list[int],
        names: dict[int, str],
    ):
        self.directory, self.appointment_id, self.head_id, self.ranked, self.names = (
            directory,
            appointment_id,
            head_id,
            ranked,
            names,
        )


@pytest.fixture
async def world(app: Application, sessionmaker: async_sessionmaker[AsyncSession], users: Users) -> World:
    directory = synthetic.make_directory(300, 240, seed=41, today=NOW.date())
    async with sessionmaker.begin() as session:
        school_ids, _p = await synthetic.insert_directory(session, directory)
        target = next(s for s in directory.schools if s.phase == "primary")
        reg = await ap.register_appointment(
            session,
            actor_id=users.coordinator,
            first_name="Nadia",
            last_name="Quill",
            start_date=START,
            school_id=school_ids[target.id],
            needs=["send", "phonics"],
            relation="office",
        )
        await session.flush()
        head = reg.person
        head.email, head.phone = "nadia.quill@example.org.uk", "01234 555111"
        top = await ap.propose(session, reg.appointment.id, k=4, today=NOW.date())
        names = {s.person_id: s.name for s in top}
        appointment_id, head_id = reg.appointment.id, head.id
    await link(sessionmaker, users.lead, head_id)
    await link(sessionmaker, users.member, top[0].person_id)
    return World(directory, appointment_id, head_id, [s.person_id for s in top], names)


async def test_confirm_decline_next_and_introductions(
    chat: ChatDriver, users: Users, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    first, second = world.ranked[0], world.ranked[1]
    # A member who is not a coordinator cannot confirm suggestions, nor can a stranger.
    for who in (users.member, users.stranger):
        sent = await chat.press(f"bc:{world.appointment_id}:{first}", user=who)
        assert sent[0].method == "answerCallbackQuery" and "can't" in sent[0].params.get("text", "")
    sent = await chat.press(f"bc:{world.appointment_id}:{first}", user=users.coordinator)
    assert any(f"I have asked {world.names[first]}" in s.text for s in sent)
    request = chat.to(users.member)[-1]
    assert "Would you be a buddy" in request.text and "Nadia Quill" in request.text and "Why you:" in request.text
    async with sessionmaker() as session:
        match = (await session.scalars(select(BuddyMatch))).one()
    assert request.buttons == [("Accept", f"bq:a:{match.id}"), ("Decline", f"bq:d:{match.id}")]

    # Someone else's press (the new head, a stranger) gets a polite answer and changes nothing.
    sent = await chat.press(f"bq:a:{match.id}", user=users.lead)
    assert "only the head who was asked" in sent[0].params.get("text", "")
    sent = await chat.press(f"bq:a:{match.id}", user=users.stranger)
    assert sent[0].method == "answerCallbackQuery"
    # A coordinator cannot answer for a buddy who is on Telegram.
    sent = await chat.press(f"bq:a:{match.id}", user=users.coordinator)
    assert "only the head who was asked" in sent[0].params.get("text", "")

    before = len(chat.to(users.coordinator))
    sent = await chat.press(f"bq:d:{match.id}", user=users.member)
    assert any("ask someone else" in s.text for s in sent)
    told = chat.to(users.coordinator)[before:]
    assert any("declined to be Nadia Quill" in s.text and world.names[second] in s.text for s in told)
    # The next suggestion is not on Telegram: the coordinators are asked to ask them, with the buttons.
    relay = next(s for s in told if "is not on Telegram" in s.text)
    async with sessionmaker() as session:
        matches = (await session.scalars(select(BuddyMatch).order_by(BuddyMatch.id))).all()
    assert [(m.buddy_person_id, m.status) for m in matches] == [(first, "declined"), (second, "requested")]
    assert relay.buttons == [("Accept", f"bq:a:{matches[1].id}"), ("Decline", f"bq:d:{matches[1].id}")]
    # Pressing the old request again: already answered.
    sent = await chat.press(f"bq:a:{match.id}", user=users.member)
    assert "already been answered" in sent[0].params.get("text", "")

    # The coordinator records the second buddy's acceptance on their behalf.
    before_head = len(chat.to(users.lead))
    before = len(chat.to(users.coordinator))
    await chat.press(f"bq:a:{matches[1].id}", user=users.coordinator)
    intro = chat.to(users.lead)[before_head:]
    assert len(intro) == 1 and "Meet your buddy" in intro[0].text and world.names[second] in intro[0].text
    assert "first week" in intro[0].text and "24 Oct 2025" in intro[0].text
    told = chat.to(users.coordinator)[before:]
    assert any("Please introduce them yourself" in s.text and "nadia.quill@example.org.uk" in s.text for s in told)
    assert any("accepted to be Nadia Quill" in s.text for s in told)
    async with sessionmaker() as session:
        accepted = await session.get(BuddyMatch, matches[1].id)
        assert accepted.status == "accepted"
        assert len((await session.scalars(select(CheckIn))).all()) == 3


async def test_accept_check_ins_and_ending(
    chat: ChatDriver, app: Application, users: Users, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    buddy = world.ranked[0]
    async with sessionmaker.begin() as session:
        match = await ap.request_buddy(session, world.appointment_id, buddy, users.coordinator, today=NOW.date())
        match_id = match.id
    sent = await chat.press(f"bq:a:{match_id}", user=users.member)
    assert any("Thank you for agreeing" in s.text for s in sent)
    to_buddy = chat.to(users.member)[-1]
    assert "Meet your new head" in to_buddy.text and "nadia.quill@example.org.uk" in to_buddy.text
    assert "01234 555111" in to_buddy.text and "phone them in their first week" in to_buddy.text
    assert "Meet your buddy" in chat.to(users.lead)[-1].text

    ctx = BotContext(app)
    at(START + dt.timedelta(days=13))
    assert await send_checkins(ctx) == 0
    at(START + dt.timedelta(days=14))
    assert await send_checkins(ctx) == 2  # the buddy and the new head
    assert await send_checkins(ctx) == 0  # sent once only
    question = chat.to(users.lead)[-1]
    assert "two weeks in" in question.text and world.names[buddy] in question.text
    checkin_id = int(question.buttons[0][1].split(":")[1])
    assert [label for label, _d in question.buttons] == ["Good", "Mixed", "Struggling"]

    # Only the two heads in the pairing can answer.
    sent = await chat.press(f"bk:{checkin_id}:g", user=users.coordinator)
    assert "not yours" in sent[0].params.get("text", "")
    before = len(chat.to(users.coordinator))
    sent = await chat.press(f"bk:{checkin_id}:s", user=users.lead)
    assert any("Struggling" in s.text and "comment" in s.text for s in sent)
    assert any("struggling" in s.text for s in chat.to(users.coordinator)[before:])
    sent = await chat.send("Budget <worries> and staffing", user=users.lead)
    assert "comment is kept" in sent[-1].text
    await chat.press(f"bk:{checkin_id}:g", user=users.member)
    sent = await chat.press(f"bkn:{checkin_id}", user=users.member)
    async with sessionmaker() as session:
        rows = (await session.scalars(select(CheckIn).where(CheckIn.kind == "two_weeks"))).all()
        assert sorted((r.responder_id, r.answer, r.comment) for r in rows) == [
            (users.member, "good", None),
            (users.lead, "struggling", "Budget <worries> and staffing"),
        ]

    # /buddy shows the pairing; either party can end it.
    sent = await chat.send("/buddy", user=users.member)
    assert "Buddy to Nadia Quill" in sent[-1].text and "active" in sent[-1].text
    assert sent[-1].buttons == [("End pairing with Nadia Quill", f"be:{match_id}")]
    sent = await chat.send("/buddy", user=users.lead)
    assert f"Your buddy: {world.names[buddy]}" in sent[-1].text
    sent = await chat.press(f"be:{match_id}", user=users.coordinator)
    assert "only the two heads" in sent[0].params.get("text", "")
    sent = await chat.press(f"be:{match_id}", user=users.lead)
    assert sent[-1].buttons == [("Yes, end it", f"bey:{match_id}")]
    sent = await chat.press(f"bey:{match_id}", user=users.lead)
    assert any("has ended" in s.text for s in sent)
    assert "has ended your buddy pairing" in chat.to(users.member)[-1].text
    async with sessionmaker() as session:
        ended = await session.get(BuddyMatch, match_id)
        assert ended.status == "ended" and ended.ended_by == users.lead
    at(START + dt.timedelta(days=60))
    assert await send_checkins(ctx) == 0  # no check-ins for an ended pairing


async def test_opt_out_pause_and_resume(
    chat: ChatDriver, users: Users, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    sent = await chat.send("/buddy pause", user=users.member)
    assert "paused as a buddy until 31 Aug 2025" in sent[-1].text
    async with sessionmaker() as session:
        cands = {c.person_id: c for c in await ap.candidates_for(session, NOW.date())}
        assert not cands[world.ranked[0]].available
        assert world.ranked[0] not in [
            s.person_id for s in await ap.propose(session, world.appointment_id, 5, today=NOW.date())
        ]
    sent = await chat.send("/buddy optout", user=users.member)
    assert "opted out" in sent[-1].text
    sent = await chat.send("/buddy resume", user=users.member)
    assert "buddy place" in sent[-1].text
    async with sessionmaker() as session:
        person = await session.get(Person, world.ranked[0])
        assert person.buddy_status == "available" and person.buddy_paused_until is None
    sent = await chat.send("/buddy", user=users.coordinator)  # not linked to a directory entry
    assert "not linked" in sent[-1].text
    sent = await chat.send("/buddy dance", user=users.member)
    assert "/buddy end" in sent[-1].text
    sent = await chat.send("/buddy", user=users.stranger)
    assert "access" in sent[-1].text.lower()


async def test_match_term_plan_and_send(
    chat: ChatDriver, users: Users, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker.begin() as session:
        for i, s in enumerate(world.directory.schools[100:112]):
            school = (
                await session.scalars(select(Person.school_id).where(Person.email.like(f"%@school{s.id}.%")))
            ).first()
            await ap.register_appointment(
                session,
                actor_id=None,
                first_name=f"Term{i}",
                last_name="Newhead",
                start_date=START,
                school_id=school,
                needs=["assessment"],
            )
    sent = await chat.send("/matchterm", user=users.member)
    assert "coordinators only" in sent[-1].text
    sent = await chat.send("/matchterm", user=users.coordinator)
    plan = sent[-1]
    assert "13 new heads, 13 paired" in plan.text and "best plan overall" in plan.text and "Nadia Quill →" in plan.text
    assert plan.buttons == [("Send requests", "bs:1")]
    sent = await chat.press("bs:7", user=users.coordinator)
    assert "out of date" in sent[0].params.get("text", "")
    sent = await chat.press("bs:1", user=users.member)
    assert sent[0].method == "answerCallbackQuery" and "can't" in sent[0].params.get("text", "")
    sent = await chat.press("bs:1", user=users.coordinator)
    assert any("Sent 13 requests" in s.text for s in sent)
    async with sessionmaker() as session:
        matches = (await session.scalars(select(BuddyMatch))).all()
        assert len(matches) == 13 and all(m.status == "requested" for m in matches)
        cands = await ap.candidates_for(session, NOW.date())
        assert all(c.open_matches <= c.capacity for c in cands)
    sent = await chat.press("bs:1", user=users.coordinator)  # pressed twice: nothing more is sent
    assert "out of date" in sent[0].params.get("text", "")
    sent = await chat.send("/matchterm", user=users.coordinator)
    assert "no open appointments" in sent[-1].text


async def test_forged_and_old_buttons(chat: ChatDriver, users: Users, world: World) -> None:
    sent = await chat.press("bq:a:999999", user=users.member)
    assert "no longer" in sent[0].params.get("text", "")
    sent = await chat.press("bq:x:1", user=users.member)
    assert "expired" in sent[0].params.get("text", "")
    sent = await chat.press("bk:999999:g", user=users.member)
    assert "not yours" in sent[0].params.get("text", "")
    sent = await chat.press("be:abc", user=users.member)
    assert sent[0].method == "answerCallbackQuery"
    sent = await chat.press(f"bc:{world.appointment_id}:999999", user=users.coordinator)
    assert "not a head" in sent[0].params.get("text", "")
    # Suggestions are for coordinators: members and strangers cannot see them.
    for who in (users.member, users.lead, users.stranger):
        for data in (f"bm:{world.appointment_id}", f"ba:{world.appointment_id}", "bs:1"):
            sent = await chat.press(data, user=who)
            assert len(sent) == 1 and sent[0].method == "answerCallbackQuery", (who, data)
    sent = await chat.send("/matchterm", user=users.stranger)
    assert "Nadia" not in sent[-1].text


async def test_coordinator_more_suggestions_and_let_the_bot_ask(
    chat: ChatDriver, users: Users, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    sent = await chat.press(f"bm:{world.appointment_id}", user=users.coordinator)
    more = sent[-1]
    assert "Suggested buddies" in more.text and "\n10. " in more.text
    confirms = [d for label, d in more.buttons if label.startswith("Confirm ")]
    assert len(confirms) == 10 and confirms[0] == f"bc:{world.appointment_id}:{world.ranked[0]}"
    sent = await chat.press(f"ba:{world.appointment_id}", user=users.coordinator)
    assert any(f"I have asked {world.names[world.ranked[0]]}" in s.text for s in sent)
    assert "Would you be a buddy" in chat.to(users.member)[-1].text
    sent = await chat.press(f"ba:{world.appointment_id}", user=users.coordinator)  # again: already asked
    assert "already" in sent[0].params.get("text", "")


async def test_requests_recorded_on_the_command_line_are_delivered(
    chat: ChatDriver, app: Application, users: Users, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from handlers.buddy import deliver_queued

    async with sessionmaker.begin() as session:
        match = await ap.request_buddy(
            session, world.appointment_id, world.ranked[0], None, today=NOW.date(), queued=True
        )
        assert match.requested_at is None
        match_id = match.id
    ctx = BotContext(app)
    assert await deliver_queued(ctx) == 1
    assert chat.to(users.member)[-1].buttons == [("Accept", f"bq:a:{match_id}"), ("Decline", f"bq:d:{match_id}")]
    assert await deliver_queued(ctx) == 0
    async with sessionmaker() as session:
        assert (await session.get(BuddyMatch, match_id)).requested_at is not None
