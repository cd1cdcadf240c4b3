"""What is waiting on the partnership office, as plain data: what /desk, its daily digest and /stats show.
No Telegram here: the handlers (handlers/desk.py) format it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.terms import Term
from directory import appointments as ap
from plans import progress
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.desk import DeskState
from storage.directory import Person
from storage.members import AccessRequest, AuditEntry, Member
from storage.plans import ProgressUpdate

IMPORT_ACTIONS = ("directory.import", "plan.import")
ENDING_WITHIN = dt.timedelta(days=14)
PAIRING_DAYS = 100  # a pairing's planned length: the new head's first 100 days


@dataclass(frozen=True)
class Pairing:
    match_id: int
    head: str
    buddy: str
    status: str  # asked | active | paused | ending
    start: dt.date
    ends: dt.date


@dataclass(frozen=True)
class Answer:
    checkin_id: int
    who: str  # the person who answered
    about: str  # the other person in the pairing
    kind: str
    answer: str  # good | mixed | struggling
    comment: str
    answered_at: dt.datetime


@dataclass(frozen=True)
class PlanGaps:
    plan_id: int
    title: str
    actions: int
    not_updated: list[str]  # owners' names


@dataclass(frozen=True)
class Import:
    what: str  # directory | plan
    name: str  # the file or the plan's title
    at: dt.datetime
    by: str


@dataclass
class Desk:
    requests: list[AccessRequest] = field(default_factory=list)
    unmatched: list[Appointment] = field(default_factory=list)
    pairings: list[Pairing] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    plans: list[PlanGaps] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    digest: bool = False


async def desk_state(session: AsyncSession, telegram_id: int) -> DeskState:
    state = await session.get(DeskState, telegram_id)
    if state is None:
        state = DeskState(telegram_id=telegram_id, digest=False)
        session.add(state)
        await session.flush()
    return state


async def unmatched_appointments(session: AsyncSession) -> list[Appointment]:
    ids = [a.id for a in await ap.open_appointments(session)]
    if not ids:
        return []
    return list(
        await session.scalars(
            select(Appointment)
            .where(Appointment.id.in_(ids))
            .options(selectinload(Appointment.person), selectinload(Appointment.school))
            .order_by(Appointment.start_date, Appointment.id)
        )
    )


async def pairings(session: AsyncSession, today: dt.date) -> list[Pairing]:
    """Pairings asked or accepted: asked (waiting for the buddy), active, paused (the buddy has paused or
    opted out) or ending (within two weeks of the first 100 days, or past them)."""
    rows = await session.scalars(
        select(BuddyMatch)
        .where(BuddyMatch.status.in_(("requested", "accepted")))
        .options(selectinload(BuddyMatch.appointment).selectinload(Appointment.person), selectinload(BuddyMatch.buddy))
        .order_by(BuddyMatch.id)
    )
    out = []
    for match in rows:
        start = match.appointment.start_date
        ends = start + dt.timedelta(days=PAIRING_DAYS)
        if match.status == "requested":
            status = "asked"
        elif match.buddy.buddy_status in ("paused", "opted_out"):
            status = "paused"
        elif ends - ENDING_WITHIN <= today:
            status = "ending"
        else:
            status = "active"
        out.append(Pairing(match.id, match.appointment.person.full_name, match.buddy.full_name, status, start, ends))
    return out


async def answers_since(session: AsyncSession, since: dt.datetime | None) -> list[Answer]:
    """Check-in answers given after `since` (all of them when None), struggling first, then newest."""
    query = (
        select(CheckIn)
        .where(CheckIn.answered_at.is_not(None))
        .options(
            selectinload(CheckIn.match).selectinload(BuddyMatch.appointment).selectinload(Appointment.person),
            selectinload(CheckIn.match).selectinload(BuddyMatch.buddy),
        )
    )
    if since is not None:
        query = query.where(CheckIn.answered_at > since)
    rows = list(await session.scalars(query))
    people = await _by_account(session, Member.person_id, {r.responder_id for r in rows})
    out = []
    for row in rows:
        head, buddy = row.match.appointment.person, row.match.buddy
        by_head = row.responder_id is not None and people.get(row.responder_id) == head.id
        who, about = (head, buddy) if by_head else (buddy, head)
        out.append(
            Answer(
                row.id,
                who.full_name,
                about.full_name,
                row.kind,
                row.answer or "",
                row.comment or "",
                row.answered_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
            )
        )
    out.sort(key=lambda a: (a.answer != "struggling", -a.answered_at.timestamp()))
    return out


async def _by_account(session: AsyncSession, column: Any, telegram_ids: set[int | None]) -> dict[int, Any]:
    """One column of the accounts named (the ids that are not None), by Telegram id, in one query."""
    wanted = {tid for tid in telegram_ids if tid is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(Member.telegram_id, column).where(Member.telegram_id.in_(wanted)))
    return dict(rows.tuples().all())


async def plan_gaps(session: AsyncSession, term: Term) -> list[PlanGaps]:
    out = []
    for plan in await progress.active_plans(session):
        actions = await progress.plan_actions(session, plan.id)
        gaps = await progress.who_hasnt_updated(session, plan.id, term)
        out.append(PlanGaps(plan.id, plan.title, len(actions), [g.name for g in gaps]))
    return out


async def recent_imports(session: AsyncSession, limit: int = 5) -> list[Import]:
    entries = list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.in_(IMPORT_ACTIONS))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )
    names = await _by_account(session, Member.display_name, {e.actor_id for e in entries})
    out = []
    for e in entries:
        what = "plan" if e.action == "plan.import" else "directory"
        name = str(e.detail.get("title") or e.entity_id) if what == "plan" else e.entity_id
        by = names.get(e.actor_id, "") if e.actor_id is not None else ""
        out.append(Import(what, name, e.at, by or e.actor_label))
    return out


async def the_desk(session: AsyncSession, telegram_id: int, today: dt.date, term: Term) -> Desk:
    state = await desk_state(session, telegram_id)
    return Desk(
        requests=list(
            await session.scalars(
                select(AccessRequest)
                .where(AccessRequest.status == "pending")
                .order_by(AccessRequest.created_at, AccessRequest.id)
            )
        ),
        unmatched=await unmatched_appointments(session),
        pairings=await pairings(session, today),
        answers=await answers_since(session, state.checkins_seen_at),
        plans=await plan_gaps(session, term),
        imports=await recent_imports(session),
        digest=state.digest,
    )


# --- /stats ----------------------------------------------------------------------------------------


@dataclass
class Stats:
    members_by_role: dict[str, int]
    updates_this_term: int
    updaters_this_term: int
    open_appointments: int
    pairings_by_status: dict[str, int]
    imports: list[Import]
    people: int


async def stats(session: AsyncSession, term: Term, today: dt.date) -> Stats:
    roles: dict[str, int] = {
        role: count
        for role, count in (
            await session.execute(
                select(Member.role, func.count()).where(Member.active.is_(True)).group_by(Member.role)
            )
        ).all()
    }
    this_term = (
        (ProgressUpdate.academic_year == term.academic_year)
        & (ProgressUpdate.term == term.term)
        & (ProgressUpdate.kind != "import")
    )
    updates = await session.scalar(select(func.count()).select_from(ProgressUpdate).where(this_term)) or 0
    updaters = (
        await session.scalar(
            select(func.count(func.distinct(ProgressUpdate.author_id))).where(
                this_term, ProgressUpdate.author_id.is_not(None)
            )
        )
        or 0
    )
    by_status: dict[str, int] = {}
    for pairing in await pairings(session, today):
        by_status[pairing.status] = by_status.get(pairing.status, 0) + 1
    people = await session.scalar(select(func.count()).select_from(Person)) or 0
    return Stats(
        {str(k): int(v) for k, v in roles.items()},
        int(updates),
        int(updaters),
        len(await ap.open_appointments(session)),
        by_status,
        await recent_imports(session, 3),
        int(people),
    )


async def mark_checkins_seen(session: AsyncSession, telegram_id: int, upto: dt.datetime) -> bool:
    """A coordinator has read the check-in answers up to `upto` (the chat's part: now; the Mini App: the newest
    answer its page showed, so an answer given since stays new). One conditional write that only moves the mark
    forward; False when it was already there (another device marked them)."""
    from sqlalchemy import or_, update

    await desk_state(session, telegram_id)
    done = await session.execute(
        update(DeskState)
        .where(
            DeskState.telegram_id == telegram_id,
            or_(DeskState.checkins_seen_at.is_(None), DeskState.checkins_seen_at < upto),
        )
        .values(checkins_seen_at=upto)
        .returning(DeskState.telegram_id)
        .execution_options(synchronize_session="fetch")
    )
    return done.first() is not None
