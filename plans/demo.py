"""The demo's live action plan: the real teaching-school plan (examples/action-plans, 2014/15 as written),
with two delivery-group meetings ahead and a few progress updates this term, so a trainer can show
/plan, /action, /mine, /update, /chase and /report straight away.

`await load_demo_plan(session)` does nothing when a plan exists. Call it after the demo directory is
loaded (directory.demo.load_demo), so the plan's owners ("L Draycott", "K Shilton", ...) match people;
demo user 1002 ("lead") is made the owner wherever the plan names "L Draycott".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.data import data_file
from core.terms import LONDON, current_term, to_local_date
from plans import progress
from plans.importer import parse_plan
from plans.store import save_plan
from storage import audit
from storage.directory import Person
from storage.members import Member, Role
from storage.plans import Action, ActionOwner, Plan, PlanMeeting

DEMO_LEAD = 1002
LEAD_NAME = "L Draycott"
PLAN_FILE = "teaching-school-action-plan-2014-15.md"
MEETINGS_AHEAD = (dt.timedelta(days=6), dt.timedelta(days=48))
# (action position in the plan, rating, comment, author as the plan names them, days ago)
DEMO_UPDATES = [
    (
        1,
        "G",
        "School experience days running in six of the eight secondary schools; 41 visitors so far.",
        "K Shilton",
        9,
    ),
    (
        2,
        "A",
        "Recruitment fair stand booked; applications at 60% of target, chasing the two late schools.",
        "K Shilton",
        4,
    ),
    (4, "R", "SKE bid not yet submitted: waiting for the subject audit from three schools.", "M Rock", 6),
    (6, "G", "Audit returned by all alliance schools; spring programme drafted.", "M Rock", 2),
]


@dataclass(frozen=True)
class _Author:
    telegram_id: int | None
    role: Role
    person_id: int | None
    display_name: str


def examples_dir() -> Path:
    """The demo plan's folder: data/plans shipped with the code (or $PARTNERBOT_DATA_DIR/plans)."""
    return data_file("plans", PLAN_FILE).parent


async def _lead_person(session: AsyncSession) -> int | None:
    """Member 1002's directory person: linked already, or Lesley Draycott, or a new person."""
    member = await session.get(Member, DEMO_LEAD)
    if member is not None and member.person_id is not None:
        return member.person_id
    person = await session.scalar(
        select(Person).where(func.lower(Person.last_name) == "draycott").order_by(Person.id).limit(1)
    )
    if person is None:
        person = Person(title="Mrs", first_name="Lesley", last_name="Draycott", job_title="Teaching school director")
        session.add(person)
        await session.flush()
    if member is not None:
        member.person_id = person.id
    return person.id


async def load_demo_plan(session: AsyncSession, folder: Path | None = None) -> int | None:
    """Import the demo plan if there is no plan yet; returns its id (None when a plan existed)."""
    if await session.scalar(select(func.count()).select_from(Plan)):
        return None
    path = (folder or examples_dir()) / PLAN_FILE
    parsed = parse_plan(path.read_bytes(), path.name)
    summary = await save_plan(session, parsed, None)
    plan_id = summary.plan_id
    assert plan_id is not None

    # Demo user 1002 owns every action the plan gives to "L Draycott".
    lead_person = await _lead_person(session)
    owners = (
        await session.scalars(
            select(ActionOwner)
            .join(Action, ActionOwner.action_id == Action.id)
            .where(Action.plan_id == plan_id, ActionOwner.name == LEAD_NAME)
        )
    ).all()
    for owner in owners:
        owner.person_id = lead_person

    today = to_local_date(clock.now(), LONDON)
    for ahead in MEETINGS_AHEAD:
        session.add(PlanMeeting(plan_id=plan_id, date=today + ahead))

    actions = (
        await session.scalars(select(Action).where(Action.plan_id == plan_id).order_by(Action.position, Action.id))
    ).all()
    term = current_term()
    start = dt.datetime.combine(term.start, dt.time(9, 0), tzinfo=LONDON)
    for position, rag, comment, author, days_ago in DEMO_UPDATES:
        if position >= len(actions):
            continue
        when = max(clock.now() - dt.timedelta(days=days_ago), start)
        await progress.post_update(
            session, actions[position].id, rag, comment, _Author(None, Role.LEAD, None, author), when
        )
    audit.record(session, None, "demo.plan", "plan", plan_id, actions=len(actions), owners_linked_to=DEMO_LEAD)
    return plan_id
