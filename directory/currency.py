"""Kept current termly: each member with an entry is asked once a term to confirm it.

At the start of each term — its first day that is not in a school holiday the plan already knows
(storage.plans.Holiday, the same holidays reminders skip) — every active member linked to a current
entry gets their card with [All correct] [Edit] (handlers/currency.py). `Person.check_asked` holds the
term they were last asked in (so each is asked once), `Person.checked_on` the day they last said
"all correct" (cards show "checked Autumn 2026"). Two weeks after the term's first day, the entries asked
and not confirmed are listed for the coordinators, once a term (an audit entry marks that it was done).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.terms import HolidayLike, Term, in_holiday, term_for
from plans.reminders import holidays
from storage import audit
from storage.directory import Person
from storage.members import AuditEntry, Member

OVERDUE_AFTER = dt.timedelta(days=14)


def first_school_day(term: Term, known_holidays: Sequence[HolidayLike]) -> dt.date:
    day = term.start
    for _step in range(120):  # a holiday list cannot push the start past the term
        if not in_holiday(day, known_holidays) and day.weekday() < 5:
            return day
        day += dt.timedelta(days=1)
    return term.start


async def term_start(session: AsyncSession, today: dt.date) -> tuple[Term, dt.date]:
    term = term_for(today)
    return term, first_school_day(term, await holidays(session))


async def to_ask(session: AsyncSession, today: dt.date) -> list[tuple[int, Person]]:
    """(telegram id, person) for everyone to ask today; marks them asked for this term."""
    term, first = await term_start(session, today)
    if today < first:
        return []
    rows = (
        await session.execute(
            select(Member.telegram_id, Person)
            .join(Person, Member.person_id == Person.id)
            .where(Member.active.is_(True), Person.status == "current")
            .order_by(Member.telegram_id)
        )
    ).all()
    out = []
    for telegram_id, person in rows:
        if person.check_asked == term.code:
            continue
        person.check_asked = term.code
        out.append((telegram_id, person))
    await session.flush()
    return out


def confirmed_this_term(person: Person, today: dt.date) -> bool:
    return person.checked_on is not None and term_for(person.checked_on) == term_for(today)


async def confirm(session: AsyncSession, person_id: int, actor_id: int | None, today: dt.date) -> Person | None:
    person = await session.get(Person, person_id)
    if person is None:
        return None
    person.checked_on = today
    await session.flush()
    audit.record(session, actor_id, "person.checked", "person", person.id, on=today)
    return person


async def overdue(session: AsyncSession, today: dt.date) -> list[Person] | None:
    """The entries asked this term and not confirmed, once two weeks have passed; None when it is not time
    or they were already listed this term (so the caller sends nothing)."""
    term, first = await term_start(session, today)
    if today < first + OVERDUE_AFTER:
        return None
    done = await session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "directory.check_overdue", AuditEntry.entity_id == term.code)
    )
    if done is not None:
        return None
    people = [
        p
        for p in (
            await session.scalars(
                select(Person).where(Person.check_asked == term.code).order_by(Person.last_name, Person.first_name)
            )
        ).all()
        if not confirmed_this_term(p, today)
    ]
    audit.record(session, None, "directory.check_overdue", "term", term.code, people=[p.id for p in people])
    await session.flush()
    return people


@dataclass(frozen=True)
class Stale:
    """An entry asked this term and not confirmed: the desk's "stale entries" queue."""

    person_id: int
    name: str
    telegram_id: int | None  # the active account linked to it (who is asked again); None: nobody to ask
    reminded_on: dt.date | None


def _unconfirmed(term: Term) -> ColumnElement[bool]:
    return and_(Person.check_asked == term.code, or_(Person.checked_on.is_(None), Person.checked_on < term.start))


async def stale(session: AsyncSession, today: dt.date, limit: int = 50) -> list[Stale]:
    """The entries asked this term and not confirmed yet, oldest reminder first (never reminded first)."""
    term = term_for(today)
    rows = (
        await session.execute(
            select(Person, Member.telegram_id)
            .outerjoin(Member, and_(Member.person_id == Person.id, Member.active.is_(True)))
            .where(_unconfirmed(term), Person.status == "current")
            .order_by(Person.check_reminded_on.is_not(None), Person.check_reminded_on, Person.last_name, Person.id)
            .limit(limit)
        )
    ).all()
    return [Stale(p.id, p.full_name, telegram_id, p.check_reminded_on) for p, telegram_id in rows]


class RemindError(Exception):
    pass


async def remind(session: AsyncSession, person_id: int, actor_id: int | None, today: dt.date) -> int:
    """Ask the member again to confirm their entry: at most once a day per entry, whoever presses (the desk in
    the chat or in the Mini App), as one conditional write on `check_reminded_on`. Returns the account to send
    the card to. Raises RemindError (nothing written) when it is confirmed, not asked this term, has nobody to
    ask, or was asked again today already."""
    from storage.decisions import decide

    term = term_for(today)
    account = await session.scalar(
        select(Member.telegram_id).where(Member.person_id == person_id, Member.active.is_(True))
    )
    if account is None:
        raise RemindError("no-account")
    done = await decide(
        session,
        Person,
        person_id,
        _unconfirmed(term),
        or_(Person.check_reminded_on.is_(None), Person.check_reminded_on < today),
        check_reminded_on=today,
    )
    if not done:
        person = await session.get(Person, person_id)
        if person is not None and person.check_reminded_on == today:
            raise RemindError("today")
        raise RemindError("not-waiting")
    audit.record(session, actor_id, "person.check_reminded", "person", person_id, on=today)
    return int(account)
