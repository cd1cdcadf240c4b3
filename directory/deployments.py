"""School-to-school support in the database: requests, brokering, deployments, days and the impact check.

Query helpers take a session (they never open one). Every decision (confirm, accept, decline, withdraw,
close, the office declining) is ONE conditional write (storage.decisions.decide: UPDATE … WHERE status=…
RETURNING), so two presses at once make one decision; the loser gets a `SupportError` in plain words.
Who may act is decided by the caller from the account's role and its linked person (handlers/support.py),
never from a typed name; the functions here check the person again where a row names its parties (the
system leader answers their own request, the requester withdraws their own).

Capacity: a system leader offers days a year (support_leader.capacity_days). A deployment counts
max(days agreed, days delivered) against the academic year it was agreed in (September to August).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core import clock
from core.i18n import _
from directory.search import DirectoryIndex
from directory.support_match import Need, Offer, Suggestion, candidates, rank
from storage import audit
from storage.decisions import decide
from storage.directory import Person, School
from storage.support import (
    COUNTED,
    REQUEST_OPEN,
    SupportDay,
    SupportDeployment,
    SupportImpact,
    SupportLeader,
    SupportRequest,
)

URGENCIES = ("soon", "this_term", "next_term")
MAX_DAYS = 200.0  # a year's capacity, or one request, beyond this is a typing slip
MAX_TEXT = 1000
EPSILON = 1e-6


class SupportError(Exception):
    """A change that cannot be made; the message is in plain words, already translated."""


# --------------------------------------------------------------------------------------------- years


@dataclass(frozen=True)
class Year:
    start: dt.date  # 1 September
    end: dt.date  # 31 August

    @property
    def label(self) -> str:
        return f"{self.start.year}-{str(self.start.year + 1)[2:]}"

    def holds(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def year_of(day: dt.date) -> Year:
    first = day.year if day.month >= 9 else day.year - 1
    return Year(dt.date(first, 9, 1), dt.date(first + 1, 8, 31))


YEAR_RE = re.compile(r"^\s*(\d{4})\s*(?:[-/]\s*(\d{2}|\d{4}))?\s*$")


def parse_year(text: str) -> Year | None:
    """ "2025-26", "2025/2026" or "2025" (the year starting that September); None if it is not one."""
    m = YEAR_RE.match(text or "")
    if not m:
        return None
    first = int(m.group(1))
    if m.group(2):
        second = int(m.group(2))
        if (second % 100) != (first + 1) % 100:
            return None
    if not 1990 <= first <= 2100:
        return None
    return year_of(dt.date(first, 9, 1))


def local_today() -> dt.date:
    from directory.appointments import local_today as today

    return today()


def _day(moment: dt.datetime | None) -> dt.date | None:
    return moment.date() if moment is not None else None


# --------------------------------------------------------------------------------------------- capacity


async def leader_row(session: AsyncSession, person_id: int) -> SupportLeader:
    row = await session.get(SupportLeader, person_id)
    if row is None:
        row = SupportLeader(person_id=person_id, share_email=True, share_phone=True)
        session.add(row)
    return row


async def set_capacity(session: AsyncSession, person_id: int, days: float, actor_id: int | None) -> SupportLeader:
    if not 0 <= days <= MAX_DAYS:
        raise SupportError(_("Please give a number of days from 0 to {n}.").format(n=int(MAX_DAYS)))
    row = await leader_row(session, person_id)
    old = row.capacity_days
    row.capacity_days = float(days)
    row.updated_by = actor_id
    await session.flush()
    audit.record(session, actor_id, "support.capacity", "person", person_id, old=old, new=days)
    return row


async def days_used(
    session: AsyncSession, person_ids: Iterable[int], year: Year, skip_deployment: int | None = None
) -> dict[int, float]:
    """Days counted against each system leader in the year: max(agreed, delivered) of each deployment
    accepted in it."""
    ids = list(person_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(
            SupportDeployment.leader_person_id, SupportDeployment.days_agreed, SupportDeployment.days_delivered
        ).where(
            SupportDeployment.leader_person_id.in_(ids),
            SupportDeployment.status.in_(COUNTED),
            SupportDeployment.decided_at >= dt.datetime.combine(year.start, dt.time(0), tzinfo=dt.timezone.utc),
            SupportDeployment.decided_at
            < dt.datetime.combine(year.end + dt.timedelta(days=1), dt.time(0), tzinfo=dt.timezone.utc),
            *([SupportDeployment.id != skip_deployment] if skip_deployment is not None else []),
        )
    )
    out: dict[int, float] = {}
    for pid, agreed, delivered in rows:
        out[pid] = out.get(pid, 0.0) + max(agreed or 0.0, delivered or 0.0)
    return out


async def offers(session: AsyncSession, person_ids: Sequence[int], today: dt.date) -> dict[int, Offer]:
    """Capacity, days used this year and recent deployments for the given people (those with a row)."""
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return {}
    year = year_of(today)
    capacity: dict[int, float | None] = {}
    for chunk in _chunks(ids):
        for pid, days in await session.execute(
            select(SupportLeader.person_id, SupportLeader.capacity_days).where(SupportLeader.person_id.in_(chunk))
        ):
            capacity[pid] = days
    known = [pid for pid in ids if pid in capacity]
    used: dict[int, float] = {}
    recent: dict[int, tuple[int, dt.date | None]] = {}
    since = dt.datetime.combine(today - dt.timedelta(days=365), dt.time(0), tzinfo=dt.timezone.utc)
    for chunk in _chunks(known):
        used.update(await days_used(session, chunk, year))
        for pid, n, last in await session.execute(
            select(
                SupportDeployment.leader_person_id,
                func.count(SupportDeployment.id),
                func.max(SupportDeployment.decided_at),
            )
            .where(
                SupportDeployment.leader_person_id.in_(chunk),
                SupportDeployment.status.in_(COUNTED),
                SupportDeployment.decided_at >= since,
            )
            .group_by(SupportDeployment.leader_person_id)
        ):
            recent[pid] = (int(n), _day(last))
    return {pid: Offer(capacity[pid], used.get(pid, 0.0), *recent.get(pid, (0, None))) for pid in known}


def _chunks(ids: Sequence[int], size: int = 500) -> list[Sequence[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


async def trusts_of(session: AsyncSession, school_ids: Iterable[int | None]) -> dict[int, str | None]:
    ids = sorted({i for i in school_ids if i is not None})
    out: dict[int, str | None] = {}
    for chunk in _chunks(ids):
        for sid, trust in await session.execute(select(School.id, School.trust).where(School.id.in_(chunk))):
            out[sid] = trust
    return out


# --------------------------------------------------------------------------------------------- requests


async def create_request(
    session: AsyncSession,
    *,
    requester_person_id: int,
    school_id: int | None,
    specialism: str,
    phase: str | None,
    context: str,
    urgency: str,
    days_wanted: float,
    actor_id: int | None,
    preferred_person_id: int | None = None,
) -> SupportRequest:
    if urgency not in URGENCIES:
        raise SupportError(_("Please choose how soon from the buttons."))
    if not 0 < days_wanted <= MAX_DAYS:
        raise SupportError(_("Please give a number of days from 0.5 to {n}.").format(n=int(MAX_DAYS)))
    row = SupportRequest(
        requester_person_id=requester_person_id,
        school_id=school_id,
        preferred_person_id=preferred_person_id,
        specialism=specialism[:80],
        phase=phase,
        context=(context or "").strip()[:MAX_TEXT],
        urgency=urgency,
        days_wanted=float(days_wanted),
        status="waiting",
        created_by=actor_id,
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    audit.record(session, actor_id, "support.request", "support_request", row.id, specialism=specialism)
    return row


async def get_request(session: AsyncSession, request_id: int) -> SupportRequest | None:
    return (
        await session.scalars(
            select(SupportRequest)
            .where(SupportRequest.id == request_id)
            .options(
                selectinload(SupportRequest.requester).selectinload(Person.school),
                selectinload(SupportRequest.school),
                selectinload(SupportRequest.deployments)
                .selectinload(SupportDeployment.leader)
                .selectinload(Person.school),
            )
        )
    ).first()


async def get_deployment(session: AsyncSession, deployment_id: int) -> SupportDeployment | None:
    return (
        await session.scalars(
            select(SupportDeployment)
            .where(SupportDeployment.id == deployment_id)
            .options(
                selectinload(SupportDeployment.leader).selectinload(Person.school),
                selectinload(SupportDeployment.request).selectinload(SupportRequest.school),
                selectinload(SupportDeployment.request)
                .selectinload(SupportRequest.requester)
                .selectinload(Person.school),
            )
        )
    ).first()


async def suggestions(
    session: AsyncSession,
    index: DirectoryIndex,
    need: Need,
    today: dt.date,
    rule: str = "trust",
    limit: int = 3,
    exclude: frozenset[int] = frozenset(),
) -> list[Suggestion]:
    """The office's suggestions for a need: /sle's nearest for it (directory.support_match.candidates), then
    each one's days left, recent deployments and trust read here, and the pure ranking."""
    found = candidates(index, need)
    offered = await offers(session, [c.person.id for c in found], today)
    trusts = await trusts_of(session, [need.school_id] + [c.person.school_id for c in found])
    return rank(found, need, offered, trusts, rule, limit, exclude)


def need_of(request: SupportRequest) -> Need:
    return Need(request.specialism, request.phase, request.school_id, request.days_wanted, request.preferred_person_id)


async def asked_before(session: AsyncSession, request_id: int) -> frozenset[int]:
    return frozenset(
        await session.scalars(
            select(SupportDeployment.leader_person_id).where(SupportDeployment.request_id == request_id)
        )
    )


async def waiting_requests(session: AsyncSession) -> list[SupportRequest]:
    """Requests the office has to act on: waiting (nobody asked yet, or everyone asked declined)."""
    return list(
        await session.scalars(
            select(SupportRequest)
            .where(SupportRequest.status == "waiting")
            .order_by(SupportRequest.created_at, SupportRequest.id)
            .options(selectinload(SupportRequest.requester), selectinload(SupportRequest.school))
        )
    )


async def open_requests_count(session: AsyncSession) -> tuple[int, int]:
    """(waiting for the office, asked and waiting for a system leader)."""
    rows = dict(
        (status, n)
        for status, n in await session.execute(
            select(SupportRequest.status, func.count(SupportRequest.id))
            .where(SupportRequest.status.in_(REQUEST_OPEN))
            .group_by(SupportRequest.status)
        )
    )
    return int(rows.get("waiting", 0)), int(rows.get("asked", 0))


async def requests_of(session: AsyncSession, person_id: int) -> list[SupportRequest]:
    return list(
        await session.scalars(
            select(SupportRequest)
            .where(SupportRequest.requester_person_id == person_id)
            .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc())
            .limit(20)
            .options(
                selectinload(SupportRequest.deployments).selectinload(SupportDeployment.leader),
                selectinload(SupportRequest.school),
            )
        )
    )


async def deployments_of(session: AsyncSession, leader_person_id: int) -> list[SupportDeployment]:
    return list(
        await session.scalars(
            select(SupportDeployment)
            .where(
                SupportDeployment.leader_person_id == leader_person_id,
                SupportDeployment.status.in_(("asked", "accepted", "closed")),
            )
            .order_by(SupportDeployment.asked_at.desc(), SupportDeployment.id.desc())
            .limit(20)
            .options(
                selectinload(SupportDeployment.request).selectinload(SupportRequest.school),
                selectinload(SupportDeployment.request).selectinload(SupportRequest.requester),
            )
        )
    )


# --------------------------------------------------------------------------------------------- decisions


async def ask(
    session: AsyncSession,
    request_id: int,
    leader_person_id: int,
    actor_id: int | None,
    reasons: Sequence[str] = (),
    queue: Sequence[int] = (),
) -> SupportDeployment:
    """The office confirms a system leader (or lets the bot ask `queue` in turn after them): the request
    goes from waiting to asked in one conditional write, then the system leader is asked."""
    won = await decide(
        session,
        SupportRequest,
        request_id,
        SupportRequest.status == "waiting",
        status="asked",
        decided_by=actor_id,
        decided_at=clock.now(),
    )
    if not won:
        raise SupportError(_("That request is no longer waiting: someone has already acted on it."))
    return await _new_deployment(session, request_id, leader_person_id, actor_id, reasons, queue)


async def _new_deployment(
    session: AsyncSession,
    request_id: int,
    leader_person_id: int,
    actor_id: int | None,
    reasons: Sequence[str],
    queue: Sequence[int],
) -> SupportDeployment:
    row = SupportDeployment(
        request_id=request_id,
        leader_person_id=leader_person_id,
        status="asked",
        reasons=list(reasons)[:10],
        queue=[int(q) for q in queue][:20],
        focus="",
        days_agreed=0.0,
        days_delivered=0.0,
        asked_by=actor_id,
        asked_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    audit.record(session, actor_id, "support.ask", "support_deployment", row.id, request_id=request_id)
    return row


async def capacity_left(
    session: AsyncSession, person_id: int, today: dt.date, skip_deployment: int | None = None
) -> float | None:
    """Days the system leader has left this year (None: they offer no days at all)."""
    row = await session.get(SupportLeader, person_id)
    if row is None or row.capacity_days is None:
        return None
    used = (await days_used(session, [person_id], year_of(today), skip_deployment)).get(person_id, 0.0)
    return max(0.0, row.capacity_days - used)


async def accept(
    session: AsyncSession, deployment_id: int, leader_person_id: int, actor_id: int | None, today: dt.date
) -> SupportDeployment:
    """The system leader accepts: refused (nothing changes) when the days asked for exceed their days left."""
    deployment = await get_deployment(session, deployment_id)
    if deployment is None or deployment.leader_person_id != leader_person_id:
        raise SupportError(_("Sorry, only the system leader who was asked can answer this."))
    if deployment.status != "asked":
        raise SupportError(_("This request has already been answered."))
    wanted = deployment.request.days_wanted
    left = await capacity_left(session, leader_person_id, today)
    if left is None or left + EPSILON < wanted:
        raise SupportError(
            _(
                "You have {left} days left this year and the school asked for {n}. Nothing was changed: raise "
                "your days with /edit capacity, or decline."
            ).format(left=f"{left or 0:g}", n=f"{wanted:g}")
        )
    now = clock.now()
    won = await decide(
        session,
        SupportDeployment,
        deployment_id,
        SupportDeployment.status == "asked",
        status="accepted",
        decided_at=now,
        days_agreed=wanted,
        start_date=today,
        focus=deployment.request.context[:MAX_TEXT],  # the school's need, until the parties refine it
    )
    if not won:
        raise SupportError(_("This request has already been answered."))
    await session.execute(
        update(SupportRequest)
        .where(SupportRequest.id == deployment.request_id, SupportRequest.status == "asked")
        .values(status="agreed", brokered_at=now)
        .execution_options(synchronize_session=False)
    )
    audit.record(session, actor_id, "support.accept", "support_deployment", deployment_id, days=wanted)
    await session.refresh(deployment)
    return deployment


async def decline(
    session: AsyncSession, deployment_id: int, leader_person_id: int, actor_id: int | None
) -> tuple[SupportDeployment, SupportDeployment | None]:
    """The system leader declines. If the office let the bot ask in turn, the next one is asked (returned);
    otherwise the request goes back to the office's desk."""
    deployment = await get_deployment(session, deployment_id)
    if deployment is None or deployment.leader_person_id != leader_person_id:
        raise SupportError(_("Sorry, only the system leader who was asked can answer this."))
    won = await decide(
        session,
        SupportDeployment,
        deployment_id,
        SupportDeployment.status == "asked",
        status="declined",
        decided_at=clock.now(),
    )
    if not won:
        raise SupportError(_("This request has already been answered."))
    audit.record(session, actor_id, "support.decline", "support_deployment", deployment_id)
    queue = [int(q) for q in (deployment.queue or [])]
    following = None
    if queue:
        following = await _new_deployment(session, deployment.request_id, queue[0], actor_id, (), queue[1:])
    else:
        await session.execute(
            update(SupportRequest)
            .where(SupportRequest.id == deployment.request_id, SupportRequest.status == "asked")
            .values(status="waiting")
            .execution_options(synchronize_session=False)
        )
    await session.refresh(deployment)
    return deployment, following


async def withdraw(session: AsyncSession, request_id: int, requester_person_id: int, actor_id: int | None) -> bool:
    """The requester withdraws an open request (and any question still out to a system leader)."""
    won = await decide(
        session,
        SupportRequest,
        request_id,
        SupportRequest.requester_person_id == requester_person_id,
        SupportRequest.status.in_(REQUEST_OPEN),
        status="withdrawn",
        decided_at=clock.now(),
        decided_by=actor_id,
    )
    if won:
        await _withdraw_asked(session, request_id)
        audit.record(session, actor_id, "support.withdraw", "support_request", request_id)
    return won


async def office_decline(session: AsyncSession, request_id: int, actor_id: int | None) -> bool:
    """The office cannot meet a request: declined (counted in the report), open questions withdrawn."""
    won = await decide(
        session,
        SupportRequest,
        request_id,
        SupportRequest.status.in_(REQUEST_OPEN),
        status="declined",
        decided_at=clock.now(),
        decided_by=actor_id,
    )
    if won:
        await _withdraw_asked(session, request_id)
        audit.record(session, actor_id, "support.office_decline", "support_request", request_id)
    return won


async def _withdraw_asked(session: AsyncSession, request_id: int) -> None:
    await session.execute(
        update(SupportDeployment)
        .where(SupportDeployment.request_id == request_id, SupportDeployment.status == "asked")
        .values(status="withdrawn", decided_at=clock.now())
        .execution_options(synchronize_session=False)
    )


async def close(session: AsyncSession, deployment_id: int, actor_id: int | None, today: dt.date) -> bool:
    """The support is over (the system leader or the office says so): closed once."""
    won = await decide(
        session,
        SupportDeployment,
        deployment_id,
        SupportDeployment.status == "accepted",
        status="closed",
        closed_at=clock.now(),
        closed_by=actor_id,
        end_date=today,
    )
    if won:
        of_it = select(SupportDeployment.request_id).where(SupportDeployment.id == deployment_id).scalar_subquery()
        await session.execute(
            update(SupportRequest)
            .where(SupportRequest.id == of_it, SupportRequest.status == "agreed")
            .values(status="closed")
            .execution_options(synchronize_session=False)
        )
        audit.record(session, actor_id, "support.close", "support_deployment", deployment_id)
    return won


# --------------------------------------------------------------------------------------------- days


async def log_days(
    session: AsyncSession,
    deployment_id: int,
    leader_person_id: int,
    days: float,
    note: str,
    actor_id: int | None,
    today: dt.date,
) -> SupportDeployment:
    """The system leader logs days delivered. Beyond the days agreed, only while their capacity lasts: the
    total may reach max(days agreed, capacity less the year's other deployments), checked in the write."""
    if not 0 < days <= 31:
        raise SupportError(_("Please give the days as a number from 0.5 to 31, e.g. 1.5."))
    deployment = await get_deployment(session, deployment_id)
    if deployment is None or deployment.leader_person_id != leader_person_id:
        raise SupportError(_("There is no deployment {n} of yours.").format(n=deployment_id))
    if deployment.status != "accepted":
        raise SupportError(_("Deployment {n} is not under way, so no days can be logged.").format(n=deployment_id))
    row = await session.get(SupportLeader, leader_person_id)
    capacity = row.capacity_days if row is not None and row.capacity_days is not None else 0.0
    accepted_on = _day(deployment.decided_at) or today
    others = (await days_used(session, [leader_person_id], year_of(accepted_on), deployment_id)).get(
        leader_person_id, 0.0
    )
    allowed = max(deployment.days_agreed, capacity - others)
    won = await decide(
        session,
        SupportDeployment,
        deployment_id,
        SupportDeployment.status == "accepted",
        SupportDeployment.days_delivered + days <= allowed + EPSILON,
        days_delivered=SupportDeployment.days_delivered + days,
    )
    if not won:
        await session.refresh(deployment)
        room = max(0.0, allowed - deployment.days_delivered)
        raise SupportError(
            _(
                "That would take deployment {n} to {total} days, beyond your capacity: {agreed} days were agreed "
                "and you have {room} days left this year. Nothing was logged. Ask the partnership office if "
                "the school needs more."
            ).format(
                n=deployment_id,
                total=f"{deployment.days_delivered + days:g}",
                agreed=f"{deployment.days_agreed:g}",
                room=f"{room:g}",
            )
        )
    session.add(
        SupportDay(
            deployment_id=deployment_id,
            person_id=leader_person_id,
            days=days,
            note=(note or "").strip()[:MAX_TEXT],
            on_date=today,
            logged_by=actor_id,
            logged_at=clock.now(),
        )
    )
    audit.record(session, actor_id, "support.days", "support_deployment", deployment_id, days=days)
    await session.flush()
    await session.refresh(deployment)
    return deployment


# --------------------------------------------------------------------------------------------- impact


async def record_impact(
    session: AsyncSession, deployment_id: int, side: str, person_id: int, recommend: bool, actor_id: int | None
) -> SupportImpact:
    """One answer per side; a second press is told it is already kept (the unique row decides)."""
    row = SupportImpact(
        deployment_id=deployment_id,
        person_id=person_id,
        side=side,
        recommend=recommend,
        answered_by=actor_id,
        answered_at=clock.now(),
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as exc:
        raise SupportError(_("Your answer is already kept. Thank you.")) from exc
    audit.record(session, actor_id, "support.impact", "support_deployment", deployment_id, side=side)
    return row


async def impact_comment(session: AsyncSession, impact_id: int, person_id: int, text: str) -> bool:
    return await decide(
        session,
        SupportImpact,
        impact_id,
        SupportImpact.person_id == person_id,
        SupportImpact.what_changed.is_(None),
        what_changed=(text or "").strip()[:MAX_TEXT],
    )


def side_of(deployment: SupportDeployment, person_id: int | None) -> str | None:
    """Which party a person is: the requesting school ("school") or the system leader ("leader")."""
    if person_id is None:
        return None
    if deployment.leader_person_id == person_id:
        return "leader"
    if deployment.request.requester_person_id == person_id:
        return "school"
    return None


async def visible_deployments(
    session: AsyncSession, person_id: int | None, office: bool, ids: Sequence[int]
) -> list[int]:
    """Of `ids`, the deployments this person may see: the parties' own, or all for the office."""
    if not ids:
        return []
    query = select(SupportDeployment.id).where(SupportDeployment.id.in_(list(ids)))
    if not office:
        if person_id is None:
            return []
        query = query.join(SupportRequest, SupportRequest.id == SupportDeployment.request_id).where(
            or_(SupportDeployment.leader_person_id == person_id, SupportRequest.requester_person_id == person_id)
        )
    return list(await session.scalars(query))
