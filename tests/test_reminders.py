"""Reminders with a controlled clock: one per plan per term, none in holidays, none when switched off;
/chase, /digest, /meetings, /holidays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select

from core import clock
from core.services import MemberInfo
from handlers.reminders_chat import parse_day, run_reminders
from plans import progress
from storage.members import Member, Role
from storage.plans import Holiday, Plan, PlanMeeting, ReminderSent
from tests.plan_seed import LEAD, seed_plan

UTC = dt.timezone.utc
MEETING = dt.date(2025, 11, 20)  # a Thursday in Autumn 2025


@pytest.fixture
def set_today() -> Iterator[Callable[[dt.date], None]]:
    def setter(day: dt.date) -> None:
        moment = dt.datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC)
        clock.set_clock(lambda: moment)

    yield setter
    clock.set_clock(None)


def to(chat, user: int) -> list:
    return [s for s in chat.sent if s.chat_id == user and s.method == "sendMessage"]


async def test_one_reminder_before_the_meeting_per_term(chat, app, users, sessionmaker, set_today):
    seeded = await seed_plan(sessionmaker, meetings=(MEETING,))
    set_today(dt.date(2025, 11, 10))  # ten days before: too early
    assert await run_reminders(app) == []
    set_today(dt.date(2025, 11, 13))  # seven days before
    sent = await run_reminders(app)
    assert [(r.telegram_id, r.refs) for r in sent] == [(LEAD, ["1.1", "1.3"])]
    [message] = to(chat, LEAD)
    assert "meets on 20 Nov 2025" in message.text and "Autumn 2025" in message.text
    assert ("Update 1.1", f"upq:{seeded.actions['1.1']}") in message.buttons
    # The next days, and a second run the same day: nothing more.
    assert await run_reminders(app) == []
    set_today(dt.date(2025, 11, 14))
    assert await run_reminders(app) == []
    assert len(to(chat, LEAD)) == 1
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ReminderSent)) == 1
        meeting = await session.scalar(select(PlanMeeting))
        assert meeting is not None and meeting.reminded_at is not None
    # The next term brings a new meeting: one more reminder.
    async with sessionmaker.begin() as session:
        session.add(PlanMeeting(plan_id=seeded.plan_id, date=dt.date(2026, 2, 5)))
    set_today(dt.date(2026, 2, 2))
    sent = await run_reminders(app)
    assert [r.term.term for r in sent] == ["spring"]
    assert len(to(chat, LEAD)) == 2


async def test_no_reminder_after_an_update(chat, app, users, sessionmaker, set_today):
    seeded = await seed_plan(sessionmaker, meetings=(MEETING,))
    set_today(dt.date(2025, 11, 12))
    lucy = MemberInfo(LEAD, Role.LEAD, seeded.lead_person_id, "Lucy Draycott")
    async with sessionmaker.begin() as session:
        await progress.post_update(session, seeded.actions["1.1"], "G", "done", lucy)
        await progress.post_update(session, seeded.actions["1.3"], None, "waiting", lucy)
    assert await run_reminders(app) == []
    assert to(chat, LEAD) == []


async def test_none_in_school_holidays(chat, app, users, sessionmaker, set_today):
    await seed_plan(sessionmaker, meetings=(dt.date(2025, 10, 31),))
    async with sessionmaker.begin() as session:
        session.add(Holiday(start=dt.date(2025, 10, 27), end=dt.date(2025, 10, 31), label="Half term"))
    set_today(dt.date(2025, 10, 27))
    assert await run_reminders(app) == []
    set_today(dt.date(2025, 10, 30))
    assert await run_reminders(app) == []
    assert to(chat, LEAD) == []
    # The same meeting seen from a school day before the holiday does get its one reminder.
    set_today(dt.date(2025, 10, 24))
    assert len(await run_reminders(app)) == 1


async def test_none_when_switched_off(chat, app, users, sessionmaker, set_today):
    await seed_plan(sessionmaker, meetings=(MEETING,))
    sent = await chat.send("/reminders off", user=users.lead)
    assert "Reminders are off" in sent[-1].text
    async with sessionmaker() as session:
        member = await session.get(Member, LEAD)
        assert member is not None and member.reminders is False
    set_today(dt.date(2025, 11, 15))
    assert await run_reminders(app) == []
    assert [s for s in to(chat, LEAD) if "Progress reminder" in s.text] == []
    sent = await chat.send("/reminders", user=users.lead)
    assert "are off" in sent[-1].text
    await chat.send("/reminders on", user=users.lead)
    assert len(await run_reminders(app)) == 1


async def test_plan_without_meetings_sends_nothing(chat, app, users, sessionmaker, set_today):
    await seed_plan(sessionmaker)
    set_today(dt.date(2025, 11, 15))
    assert await run_reminders(app) == []


async def test_chase_shows_who_and_sends(chat, app, users, sessionmaker, set_today):
    await seed_plan(sessionmaker, meetings=(MEETING,))
    set_today(dt.date(2025, 11, 3))
    sent = await chat.send("/chase", user=users.coordinator)
    text = sent[-1].text
    assert "Lucy Draycott</b>: 1.1, 1.3 — <i>on the bot</i>" in text
    assert "Karen Shilton</b>: 1.2, 1.3 — <i>not on the bot</i>" in text
    assert "M Rock</b>: c) — <i>not matched to the directory</i>" in text
    sent = await chat.press(sent[-1].buttons[0][1], user=users.coordinator)
    assert "Sent 1 reminder" in "\n".join(s.text for s in sent)
    assert len([s for s in to(chat, LEAD) if "Progress reminder" in s.text]) == 1
    # The automatic run in the week before the meeting does not send a second one this term.
    set_today(dt.date(2025, 11, 14))
    assert await run_reminders(app) == []


async def test_chase_is_for_coordinators(chat, users, sessionmaker):
    await seed_plan(sessionmaker)
    sent = await chat.send("/chase", user=users.lead)
    assert "coordinators only" in sent[-1].text
    sent = await chat.press("chr:1", user=users.member)
    assert any(s.method == "answerCallbackQuery" for s in sent)
    assert [s for s in to(chat, LEAD) if "Progress reminder" in s.text] == []


async def test_digest_here_and_post(chat, users, sessionmaker, set_today):
    seeded = await seed_plan(sessionmaker)
    set_today(dt.date(2025, 11, 12))
    async with sessionmaker.begin() as session:
        await progress.post_update(
            session,
            seeded.actions["1.3"],
            "A",
            "Survey <sent>",
            MemberInfo(LEAD, Role.LEAD, seeded.lead_person_id, "Lucy Draycott"),
        )
    group = -100777
    sent = await chat.send("/digest", user=users.coordinator)
    assert "No group receives" in sent[-1].text and "Survey &lt;sent&gt;" in sent[-1].text
    sent = await chat.send("/digest here", user=users.coordinator, chat=group)
    assert "This group will receive" in sent[-1].text
    async with sessionmaker() as session:
        plan = await session.get(Plan, seeded.plan_id)
        assert plan is not None and plan.digest_chat_id == group
    await chat.send("/digest", user=users.coordinator)
    posted = [s for s in chat.to(group) if "progress this term (Autumn 2025)" in s.text]
    assert len(posted) == 1 and "🟠 Amber <b>1.3</b>" in posted[0].text and "Lucy Draycott" in posted[0].text


async def test_meetings_and_holidays_commands(chat, users, sessionmaker, set_today):
    await seed_plan(sessionmaker)
    set_today(dt.date(2025, 11, 1))
    sent = await chat.send("/meetings add 20/11/2025", user=users.coordinator)
    assert "20 Nov 2025" in sent[-1].text
    sent = await chat.send("/meetings", user=users.coordinator)
    assert "20 Nov 2025" in sent[-1].text
    sent = await chat.send("/meetings add 31/02/2026", user=users.coordinator)
    assert "31/02/2026 is not a date" in sent[-1].text
    sent = await chat.send("/holidays add 22/12/2025 02/01/2026 Christmas", user=users.coordinator)
    assert "Holiday added" in sent[-1].text
    sent = await chat.send("/holidays add 02/01/2026 22/12/2025", user=users.coordinator)
    assert "The end (22 Dec 2025) is before the start (2 Jan 2026)" in sent[-1].text
    async with sessionmaker() as session:
        assert [(h.start, h.end, h.label) for h in (await session.scalars(select(Holiday))).all()] == [
            (dt.date(2025, 12, 22), dt.date(2026, 1, 2), "Christmas")
        ]
        assert (await session.scalars(select(PlanMeeting.date))).all() == [dt.date(2025, 11, 20)]
    sent = await chat.send("/holidays add 01/01/2026 02/01/2026", user=users.member)
    assert "coordinators only" in sent[-1].text


def test_parse_day() -> None:
    assert parse_day("27/10/2025") == dt.date(2025, 10, 27)
    assert parse_day("27.10.25") == dt.date(2025, 10, 27)
    assert parse_day("2025-10-27") == dt.date(2025, 10, 27)
    assert parse_day("10/27/2025") is None  # US order is not a date here
    assert parse_day("soon") is None


async def test_claim_is_once_even_when_two_runs_race(sessionmaker, set_today):
    from plans import reminders as rem

    seeded = await seed_plan(sessionmaker, meetings=(MEETING,))
    set_today(dt.date(2025, 11, 14))
    async with sessionmaker() as session:
        due_a = await rem.due_reminders(session, dt.date(2025, 11, 14))
    async with sessionmaker() as session:
        due_b = await rem.due_reminders(session, dt.date(2025, 11, 14))  # the second run read before the first wrote
    assert len(due_a) == len(due_b) == 1
    async with sessionmaker.begin() as session:
        assert await rem.claim(session, due_a[0]) is True
    async with sessionmaker.begin() as session:
        assert await rem.claim(session, due_b[0]) is False
    async with sessionmaker() as session:
        rows = (await session.scalars(select(ReminderSent))).all()
    assert [(r.plan_id, r.telegram_id, r.term) for r in rows] == [(seeded.plan_id, LEAD, "autumn")]
