"""The demo partnership's school-to-school support: every system leader offers days (with designation and
training dates), a handful of past deployments with days logged and impact answers, and a maths SLE on
Telegram for the demo day (DEMO_SLE: `:as 1005`), in a primary school in another town and trust than the
member's, so that Mrs Ashworth's request for maths support can be brokered to her.

Called after the demo directory and plan (cli.main.load_demo); it does nothing if support rows exist.
Drawn from its own seed, so the rest of the demo is unchanged.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core import clock
from directory.deployments import year_of
from storage.directory import Person
from storage.members import Member
from storage.support import SupportDay, SupportDeployment, SupportImpact, SupportLeader, SupportRequest

SEED = 20251006
DEMO_SLE = 1005
MEMBER = 1001  # Mrs Ashworth (directory/demo.py DEMO_USERS)
PAST = (
    ("english", "Reading for pleasure across KS2", 3.0, 3.0, True),
    ("send", "Provision maps and SEN support plans", 2.0, 2.5, True),
    ("early years", "Continuous provision in Reception", 4.0, 3.5, False),
    ("phonics", "Phonics catch-up groups", 2.0, 2.0, True),
)


async def load_demo_support(session: AsyncSession) -> bool:
    if await session.scalar(select(func.count()).select_from(SupportLeader)):
        return False
    rng = random.Random(SEED)
    today = clock.now().date()
    this_year = year_of(today)
    people = (
        await session.scalars(
            select(Person)
            .where(Person.designations != "")
            .options(selectinload(Person.school), selectinload(Person.specialisms))
            .order_by(Person.id)
        )
    ).all()
    for person in people:
        designated = dt.date(today.year - rng.randint(0, 6), rng.randint(1, 12), rng.randint(1, 28))
        if designated > today:
            designated = this_year.start
        session.add(
            SupportLeader(
                person_id=person.id,
                capacity_days=float(rng.choice((5, 8, 10, 10, 15))),
                designated_on=designated,
                trained_on=designated + dt.timedelta(days=rng.randint(20, 120)) if rng.random() < 0.8 else None,
                share_email=True,
                share_phone=rng.random() < 0.7,
            )
        )
    await session.flush()

    # The demo SLE: a maths SLE at a primary school in another town and trust from Mrs Ashworth's.
    member = await session.get(Member, MEMBER)
    own = (
        (
            await session.scalars(
                select(Person).where(Person.id == member.person_id).options(selectinload(Person.school))
            )
        ).first()
        if member is not None and member.person_id is not None
        else None
    )
    own_school = own.school if own is not None else None

    def fits(p: Person) -> bool:
        school = p.school
        return (
            "SLE" in p.designations
            and school is not None
            and school.phase == "primary"
            and (
                own_school is None
                or (school.locality != own_school.locality and not (school.trust and school.trust == own_school.trust))
            )
        )

    maths = [p for p in people if any(s.name == "mathematics" for s in p.specialisms) and fits(p)]
    sle = maths[0] if maths else None
    if sle is not None:
        offer = await session.get(SupportLeader, sle.id)
        if offer is not None:
            offer.capacity_days, offer.share_phone = 10.0, True
        linked = await session.get(Member, DEMO_SLE)
        if linked is None:
            session.add(
                Member(
                    telegram_id=DEMO_SLE,
                    role="member",
                    display_name=sle.full_name,
                    person_id=sle.id,
                    approved_at=clock.now(),
                )
            )
        elif linked.person_id is None:
            linked.person_id, linked.display_name = sle.id, sle.full_name

    # A few past deployments, finished, with days logged and impact answers (for /support and the report).
    heads = (await session.scalars(select(Person).where(Person.is_head.is_(True), Person.school_id.is_not(None)))).all()
    heads = [h for h in heads if own is None or h.id != own.id]
    for n, (spec, focus, agreed, delivered, recommend) in enumerate(PAST):
        leaders = [p for p in people if any(s.name == spec for s in p.specialisms) and p.id != (sle.id if sle else 0)]
        if not leaders or not heads:
            continue
        leader = rng.choice(leaders)
        head = rng.choice([h for h in heads if h.school_id != leader.school_id])
        asked = dt.datetime.combine(
            max(this_year.start, today - dt.timedelta(days=300)) if n % 2 else this_year.start - dt.timedelta(days=120),
            dt.time(9),
            tzinfo=dt.timezone.utc,
        ) + dt.timedelta(days=7 * n)
        if asked.date() > today:
            asked = dt.datetime.combine(today - dt.timedelta(days=30), dt.time(9), tzinfo=dt.timezone.utc)
        request = SupportRequest(
            requester_person_id=head.id,
            school_id=head.school_id,
            specialism=spec,
            phase="primary",
            context=focus,
            urgency="this_term",
            days_wanted=agreed,
            status="closed",
            created_at=asked,
            brokered_at=asked + dt.timedelta(days=3),
        )
        session.add(request)
        await session.flush()
        deployment = SupportDeployment(
            request_id=request.id,
            leader_person_id=leader.id,
            status="closed",
            reasons=[],
            queue=[],
            focus=focus,
            days_agreed=agreed,
            days_delivered=delivered,
            asked_at=asked + dt.timedelta(days=1),
            decided_at=asked + dt.timedelta(days=3),
            start_date=(asked + dt.timedelta(days=3)).date(),
            end_date=(asked + dt.timedelta(days=60)).date(),
            closed_at=asked + dt.timedelta(days=60),
        )
        session.add(deployment)
        await session.flush()
        session.add(
            SupportDay(
                deployment_id=deployment.id,
                person_id=leader.id,
                days=delivered,
                note=focus,
                on_date=(asked + dt.timedelta(days=30)).date(),
                logged_at=asked + dt.timedelta(days=30),
            )
        )
        for side, person in (("school", head), ("leader", leader)):
            session.add(
                SupportImpact(
                    deployment_id=deployment.id,
                    person_id=person.id,
                    side=side,
                    recommend=recommend,
                    what_changed=focus + ": " + ("embedded" if recommend else "a start; more to do"),
                    answered_at=asked + dt.timedelta(days=61),
                )
            )
    await session.flush()
    return True
