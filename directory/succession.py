"""Succession: an appointment takes effect on its start date.

Until then the new head keeps whatever post they hold (a deputy stays a deputy; someone new to the
directory has no post yet) and the school's card shows "Headteacher from 1 Sep 2027: Name". On the day —
the daily job in handlers/currency.py, or at once when the start date is today or past — the person
becomes the school's head and every other current head of that school becomes a *former head*:
`status = "former"`, no longer head, `left_on` the start date. Former heads stay in the database (history,
the audit log, past buddy pairings) but are left out of the search index and of buddy matching.

`Appointment.took_effect` is the day the change was made; None while it is ahead. Every change is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage import audit
from storage.buddies import Appointment
from storage.directory import Person, School

LIVE = ("open", "matched")  # appointments still to take effect (a closed one never will)
HEAD_TITLE = "Headteacher"


def is_ahead(appointment: Appointment, today: dt.date) -> bool:
    return appointment.took_effect is None and appointment.start_date > today


@dataclass
class Handover:
    appointment: Appointment
    head: Person
    school: School | None
    outgoing: list[Person] = field(default_factory=list)


async def current_heads(session: AsyncSession, school_id: int, except_id: int | None = None) -> list[Person]:
    query = select(Person).where(Person.school_id == school_id, Person.is_head.is_(True), Person.status == "current")
    if except_id is not None:
        query = query.where(Person.id != except_id)
    return list((await session.scalars(query.order_by(Person.id))).all())


async def retire(session: AsyncSession, person: Person, day: dt.date, actor_id: int | None, reason: str) -> None:
    """Make a head a former head (history kept; out of default search)."""
    before = {"is_head": person.is_head, "status": person.status, "job_title": person.job_title}
    person.is_head = False
    person.status = "former"
    person.left_on = day
    person.updated_by = actor_id
    await session.flush()
    audit.record(
        session,
        actor_id,
        "person.former_head",
        "person",
        person.id,
        before=before,
        left_on=day,
        school_id=person.school_id,
        reason=reason,
    )


async def take_effect(session: AsyncSession, appointment: Appointment, day: dt.date, actor_id: int | None) -> Handover:
    """The post changes hands: the appointed person becomes head, the school's other heads former heads."""
    person = await session.get(Person, appointment.person_id)
    assert person is not None  # the foreign key cascades: an appointment always has its person
    school = await session.get(School, appointment.school_id) if appointment.school_id is not None else None
    outgoing = await current_heads(session, school.id, except_id=person.id) if school is not None else []
    for old in outgoing:
        await retire(session, old, appointment.start_date, actor_id, reason=f"appointment {appointment.id}")
    before = {
        "is_head": person.is_head,
        "school_id": person.school_id,
        "job_title": person.job_title,
        "headship_start": person.headship_start,
        "status": person.status,
    }
    person.is_head = True
    person.status = "current"
    person.left_on = None
    if not (person.job_title and "head" in person.job_title.lower()) or before["school_id"] != (
        school.id if school else before["school_id"]
    ):
        person.job_title = HEAD_TITLE
    if school is not None:
        person.school_id = school.id
    if appointment.new_to_headship or person.headship_start is None:
        person.headship_start = appointment.start_date
    person.updated_by = actor_id
    appointment.took_effect = day
    await session.flush()
    after = {
        "is_head": True,
        "school_id": person.school_id,
        "job_title": person.job_title,
        "headship_start": person.headship_start,
        "status": "current",
    }
    audit.record(
        session,
        actor_id,
        "appointment.effective",
        "appointment",
        appointment.id,
        person_id=person.id,
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        outgoing=[p.id for p in outgoing],
    )
    return Handover(appointment, person, school, outgoing)


async def due(session: AsyncSession, today: dt.date) -> list[Appointment]:
    return list(
        (
            await session.scalars(
                select(Appointment)
                .where(Appointment.took_effect.is_(None), Appointment.start_date <= today, Appointment.status.in_(LIVE))
                .order_by(Appointment.start_date, Appointment.id)
            )
        ).all()
    )


async def apply_due(session: AsyncSession, today: dt.date, actor_id: int | None = None) -> list[Handover]:
    """Every appointment whose day has come (the daily job); each handover once."""
    return [await take_effect(session, a, today, actor_id) for a in await due(session, today)]


def _upcoming(today: dt.date) -> tuple[Any, ...]:
    """An appointment still to come: live, not yet in effect, starting after `today`."""
    return (Appointment.took_effect.is_(None), Appointment.start_date > today, Appointment.status.in_(LIVE))


async def upcoming_at_school(session: AsyncSession, school_id: int, today: dt.date) -> list[Appointment]:
    return list(
        (
            await session.scalars(
                select(Appointment)
                .where(Appointment.school_id == school_id, *_upcoming(today))
                .order_by(Appointment.start_date)
                .options(selectinload(Appointment.person))
            )
        ).all()
    )


async def upcoming_for_person(session: AsyncSession, person_id: int, today: dt.date) -> Appointment | None:
    return (
        await session.scalars(
            select(Appointment)
            .where(Appointment.person_id == person_id, *_upcoming(today))
            .order_by(Appointment.start_date)
            .options(selectinload(Appointment.school))
        )
    ).first()


async def former_heads(session: AsyncSession, school_id: int) -> list[Person]:
    return list(
        (
            await session.scalars(
                select(Person)
                .where(Person.school_id == school_id, Person.status == "former")
                .order_by(Person.left_on.desc())
            )
        ).all()
    )
