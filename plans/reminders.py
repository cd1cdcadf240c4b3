"""Who gets a progress reminder, and when (database logic; no Telegram).

Rule: on a day that is not in a school holiday, for each active plan with a delivery-group meeting in
the next `REMIND_DAYS_BEFORE` days (today included), every owner who is a member, has reminders switched
on and has actions with no update this term gets ONE reminder for that plan and term. A `ReminderSent`
row (unique per plan, member, year and term) is what makes it one: it is written before the message is
sent, so two runs at once cannot both send.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.terms import Term, in_holiday, term_for
from plans import progress
from storage import audit
from storage.members import Member
from storage.plans import Holiday, Plan, PlanMeeting, ReminderSent

REMIND_DAYS_BEFORE = 7


@dataclass
class Reminder:
    plan_id: int
    plan_title: str
    telegram_id: int
    locale: str | None
    name: str
    term: Term
    meeting: dt.date | None
    refs: list[str] = field(default_factory=list)
    action_ids: list[int] = field(default_factory=list)


async def holidays(session: AsyncSession) -> Sequence[Holiday]:
    return (await session.scalars(select(Holiday).order_by(Holiday.start))).all()


async def next_meeting(
    session: AsyncSession, plan_id: int, today: dt.date, within_days: int = REMIND_DAYS_BEFORE
) -> PlanMeeting | None:
    """The plan's next meeting from today up to `within_days` ahead, if any."""
    return await session.scalar(
        select(PlanMeeting)
        .where(
            PlanMeeting.plan_id == plan_id,
            PlanMeeting.date >= today,
            PlanMeeting.date <= today + dt.timedelta(days=within_days),
        )
        .order_by(PlanMeeting.date)
        .limit(1)
    )


async def already_reminded(session: AsyncSession, plan_id: int, term: Term) -> set[int]:
    return set(
        (
            await session.scalars(
                select(ReminderSent.telegram_id).where(
                    ReminderSent.plan_id == plan_id,
                    ReminderSent.academic_year == term.academic_year,
                    ReminderSent.term == term.term,
                )
            )
        ).all()
    )


async def reminders_for_plan(
    session: AsyncSession, plan: Plan, term: Term, meeting: dt.date | None, *, include_sent: bool = False
) -> list[Reminder]:
    """One Reminder per member who owns actions without an update this term and wants reminders."""
    gaps = await progress.who_hasnt_updated(session, plan.id, term)
    ids = {tid for gap in gaps for tid in gap.telegram_ids}
    if not ids:
        return []
    members = {
        m.telegram_id: m
        for m in (
            await session.scalars(select(Member).where(Member.telegram_id.in_(ids), Member.active.is_(True)))
        ).all()
    }
    sent = set() if include_sent else await already_reminded(session, plan.id, term)
    out: dict[int, Reminder] = {}
    for gap in gaps:
        for tid in gap.telegram_ids:
            member = members.get(tid)
            if member is None or not member.reminders or tid in sent:
                continue
            reminder = out.get(tid)
            if reminder is None:
                reminder = out[tid] = Reminder(
                    plan.id, plan.title, tid, member.locale, member.display_name or gap.name, term, meeting
                )
            for ref, aid in zip(gap.refs, gap.action_ids):
                if aid not in reminder.action_ids:
                    reminder.refs.append(ref)
                    reminder.action_ids.append(aid)
    return list(out.values())


async def due_reminders(session: AsyncSession, today: dt.date) -> list[Reminder]:
    """Everything the daily job should send today (nothing in a school holiday)."""
    if in_holiday(today, await holidays(session)):
        return []
    term = term_for(today)
    out: list[Reminder] = []
    for plan in await progress.active_plans(session):
        meeting = await next_meeting(session, plan.id, today)
        if meeting is None:
            continue
        out.extend(await reminders_for_plan(session, plan, term, meeting.date))
    return out


async def claim(session: AsyncSession, reminder: Reminder, actor_id: int | None = None, manual: bool = False) -> bool:
    """Record that this reminder goes out; False when one was already recorded (another run got there)."""
    try:
        async with session.begin_nested():
            session.add(
                ReminderSent(
                    plan_id=reminder.plan_id,
                    telegram_id=reminder.telegram_id,
                    academic_year=reminder.term.academic_year,
                    term=reminder.term.term,
                )
            )
    except IntegrityError:
        if not manual:
            return False
    audit.record(
        session,
        actor_id,
        "reminder.send",
        "plan",
        reminder.plan_id,
        to=reminder.telegram_id,
        refs=reminder.refs,
        term=reminder.term.code,
        manual=manual,
    )
    return True


async def set_reminders(session: AsyncSession, telegram_id: int, on: bool) -> bool:
    """Switch a member's reminders on or off; False when there is no such member."""
    member = await session.get(Member, telegram_id)
    if member is None:
        return False
    member.reminders = on
    member.updated_by = telegram_id
    audit.record(session, telegram_id, "member.reminders", "member", telegram_id, on=on)
    return True
