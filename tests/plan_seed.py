"""A small live plan for chat tests of progress, plan views, reminders and reports (not a fixture file:
tests call `seed_plan(sessionmaker)` and get the ids back)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.directory import Person
from storage.members import Member
from storage.plans import Action, ActionOwner, Plan, PlanMeeting, Section

LEAD = 1002  # harness users.lead
MEMBER = 1001


@dataclass
class Seeded:
    plan_id: int
    actions: dict[str, int]  # ref -> id
    lead_person_id: int
    other_person_id: int


async def seed_plan(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    title: str = "Teaching School 2025-26",
    rag_set: str = "R,A,G",
    meetings: tuple[dt.date, ...] = (),
    link_lead: bool = True,
) -> Seeded:
    """Plan with actions 1.1, 1.2, 1.3 (section 1) and c) (section 2). The lead (1002) is linked to
    'Lucy Draycott', who owns 1.1 and 1.3; 'Karen Shilton' (a directory person with no member) owns 1.2
    and 1.3; c) has an owner kept as text only."""
    async with sessionmaker.begin() as session:
        lucy = Person(first_name="Lucy", last_name="Draycott", job_title="Director of Teaching School")
        karen = Person(first_name="Karen", last_name="Shilton")
        session.add_all([lucy, karen])
        await session.flush()
        if link_lead:
            lead = await session.get(Member, LEAD)
            if lead is None:  # store tests run without the chat harness's members
                lead = Member(telegram_id=LEAD, role="lead")
                session.add(lead)
            lead.person_id = lucy.id
            lead.display_name = "Lucy Draycott"
        plan = Plan(title=title, partnership="Alliance", year="2025-26", rag_set=rag_set)
        session.add(plan)
        await session.flush()
        s1 = Section(plan_id=plan.id, position=0, title="1. Initial teacher training")
        s2 = Section(plan_id=plan.id, position=1, title="2. CPD")
        session.add_all([s1, s2])
        await session.flush()
        specs = [
            (
                "1.1",
                "School Centred Initial Teacher Training Application (SCITT)",
                s1,
                [lucy],
                [{"text": "Complete business case", "date": "2025-10-15", "when": "October 2025"}],
            ),
            ("1.2", "School Experience Programme", s1, [karen], []),
            (
                "1.3",
                "Recruit School Direct 2026 allocation",
                s1,
                [lucy, karen],
                [{"text": "Target numbers reached", "date": "2026-09-01", "when": "September 2026"}],
            ),
            ("c)", "Programme of CPD <according> to Alliance needs & more", s2, [], []),
        ]
        ids = {}
        for pos, (ref, text, section, owners, milestones) in enumerate(specs):
            action = Action(
                plan_id=plan.id,
                section_id=section.id,
                position=pos,
                ref=ref,
                text=text,
                milestones=milestones,
                owners_text=" ".join(f"{p.first_name[0]} {p.last_name}" for p in owners) or "M Rock",
            )
            session.add(action)
            await session.flush()
            for person in owners:
                session.add(
                    ActionOwner(
                        action_id=action.id, person_id=person.id, name=f"{person.first_name} {person.last_name}"
                    )
                )
            if not owners:
                session.add(ActionOwner(action_id=action.id, person_id=None, name="M Rock"))
            ids[ref] = action.id
        for day in meetings:
            session.add(PlanMeeting(plan_id=plan.id, date=day))
        return Seeded(plan.id, ids, lucy.id, karen.id)
