"""Progress updates: posting, correcting, withdrawing, and reading where each action stands.

Every function takes an `AsyncSession` (the caller owns the transaction). Updates are only ever
appended: a correction or withdrawal is a new row whose `replaces_id` points at the row it replaces,
so many people posting at once never lose anything (no read-modify-write anywhere).

"Effective" updates are those not replaced and not withdrawals; `effective_updates()` is the pure rule
every view (chat, exports, reports) uses.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core import clock
from core.terms import LONDON, Term, term_for, to_local_date
from plans.rag import parse_rag_set
from storage import audit
from storage.members import Member, Role
from storage.plans import Action, ActionOwner, Plan, PlanCoordinator, ProgressUpdate

CORRECTION_WINDOW = dt.timedelta(hours=48)
DUE_SOON_DAYS = 14


class MemberLike(Protocol):
    """A member, or an author without a Telegram account (the demo, imports): read-only here."""

    @property
    def telegram_id(self) -> int | None: ...
    @property
    def role(self) -> Role: ...
    @property
    def person_id(self) -> int | None: ...
    @property
    def display_name(self) -> str: ...


class ProgressError(Exception):
    """A refused change. kind: not_found | not_author | window_closed | replaced | bad_rating | not_allowed |
    archived (the plan is archived or the action has left it: an old button changes nothing).

    After `replaced` from a race (see post_update) the transaction is spent: callers catch it outside
    their session block."""

    def __init__(self, kind: str, message: str = ""):
        super().__init__(message or kind)
        self.kind = kind


# --------------------------------------------------------------------------------------------------
# Pure rules
# --------------------------------------------------------------------------------------------------


class UpdateLike(Protocol):
    """What the rule below reads of a progress row: an ORM row, or the plain columns plans.store reads."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str | None: ...
    @property
    def replaces_id(self) -> int | None: ...


U = TypeVar("U", bound=UpdateLike)


def effective_updates(rows: Iterable[U]) -> list[U]:
    """The rows that count, in the order their originals were posted: a row replaced by a later
    correction or withdrawal drops out, withdrawals themselves never count, and a correction takes the
    place (order) of the update it corrects."""
    rows = sorted(rows, key=lambda r: r.id)
    replaced = {r.replaces_id for r in rows if r.replaces_id is not None}
    if not replaced and all(r.kind != "withdrawal" for r in rows):
        return rows  # nothing corrected or withdrawn (most actions): every row counts, in order
    by_id = {r.id: r for r in rows}

    def root_id(row: U) -> int:
        seen = set()
        while row.replaces_id is not None and row.replaces_id in by_id and row.id not in seen:
            seen.add(row.id)
            row = by_id[row.replaces_id]
        return row.id

    keep = [r for r in rows if r.kind != "withdrawal" and r.id not in replaced]
    return sorted(keep, key=lambda r: (root_id(r), r.id))


def row_term(row: ProgressUpdate) -> Term:
    return Term(row.academic_year, row.term)


@dataclass
class ActionStatus:
    """Where one action stands in a term."""

    action_id: int
    rag: str | None = None  # the rating in force: the latest given up to this term ("no change" carries it)
    rag_this_term: str | None = None  # the latest rating given in this term itself
    comment: str = ""  # the latest comment this term
    latest: ProgressUpdate | None = None  # the latest effective update this term
    updates_this_term: int = 0

    @property
    def updated(self) -> bool:
        return self.latest is not None


def status_from_rows(action_id: int, rows: Iterable[ProgressUpdate], term: Term) -> ActionStatus:
    """Pure: an action's status in `term` from all its progress rows."""
    status = ActionStatus(action_id)
    for row in effective_updates(rows):
        t = row_term(row)
        if t > term:
            continue
        if row.rag:
            status.rag = row.rag
        if t == term:
            status.latest = row
            status.updates_this_term += 1
            if row.rag:
                status.rag_this_term = row.rag
            if row.comment:
                status.comment = row.comment
    return status


def milestone_dates(action: Action) -> list[tuple[dt.date, str]]:
    """(date, text) of every dated milestone, plus the action's due date."""
    out: list[tuple[dt.date, str]] = []
    for m in action.milestones or []:
        if not isinstance(m, dict) or not m.get("date"):
            continue
        try:
            day = dt.date.fromisoformat(str(m["date"])[:10])
        except ValueError:
            continue
        out.append((day, str(m.get("text") or m.get("when") or "")))
    if action.due_date is not None:
        out.append((action.due_date, ""))
    return sorted(out, key=lambda x: x[0])


def due_milestones(
    action: Action, today: dt.date, since: dt.date, days: int = DUE_SOON_DAYS
) -> list[tuple[dt.date, str]]:
    """Milestones that fell due after `since` (the last update, or the term's start) up to today, or are
    due within `days` days."""
    horizon = today + dt.timedelta(days=days)
    return [(d, text) for d, text in milestone_dates(action) if since < d <= horizon]


# --------------------------------------------------------------------------------------------------
# Rights
# --------------------------------------------------------------------------------------------------


async def can_update(session: AsyncSession, member: MemberLike | None, action: Action) -> bool:
    """Owners of the action, the plan's coordinators, partnership coordinators and admins."""
    if member is None or member.role < Role.MEMBER:
        return False
    if member.role >= Role.COORDINATOR:
        return True
    if member.person_id is not None:
        owner = await session.scalar(
            select(ActionOwner.id)
            .where(ActionOwner.action_id == action.id, ActionOwner.person_id == member.person_id)
            .limit(1)
        )
        if owner is not None:
            return True
    return await is_plan_coordinator(session, member, action.plan_id)


async def is_plan_coordinator(session: AsyncSession, member: MemberLike | None, plan_id: int) -> bool:
    if member is None or member.role < Role.MEMBER:
        return False
    if member.role >= Role.COORDINATOR:
        return True
    hit = await session.scalar(
        select(PlanCoordinator.plan_id).where(
            PlanCoordinator.plan_id == plan_id, PlanCoordinator.telegram_id == member.telegram_id
        )
    )
    return hit is not None


# --------------------------------------------------------------------------------------------------
# Writing (appends only)
# --------------------------------------------------------------------------------------------------


def _check_rag(rag: str | None, plan: Plan) -> str | None:
    if rag is None:
        return None
    code = rag.strip().upper()
    if code not in parse_rag_set(plan.rag_set):
        raise ProgressError("bad_rating", f"{rag!r} is not in this plan's set {plan.rag_set}")
    return code


async def post_update(
    session: AsyncSession,
    action_id: int,
    rag: str | None,
    comment: str,
    author: MemberLike | None,
    when: dt.datetime | None = None,
    *,
    kind: str = "update",
    replaces_id: int | None = None,
    term: Term | None = None,
) -> ProgressUpdate:
    """Append a progress update (the term is worked out from `when`, London time) and audit it."""
    action = await session.get(Action, action_id)
    plan = await session.get(Plan, action.plan_id) if action is not None else None
    if action is None or plan is None:
        raise ProgressError("not_found", f"no action {action_id}")
    if not plan.active or plan.archived_at is not None or action.archived_at is not None:
        raise ProgressError("archived", f"action {action_id} is archived")
    when = when or clock.now()
    term = term or term_for(when)
    row = ProgressUpdate(
        action_id=action.id,
        rag=_check_rag(rag, plan),
        comment=(comment or "").strip(),
        academic_year=term.academic_year,
        term=term.term,
        kind=kind,
        replaces_id=replaces_id,
        author_id=author.telegram_id if author else None,
        author_person_id=author.person_id if author else None,
        author_label=(author.display_name if author else "") or "",
        created_at=when,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        # uq_progress_update_replaces_id: a correction or withdrawal of the same update was stored a moment
        # ago (two presses at once). The insert is the decision; this one lost and nothing was written.
        if replaces_id is None:
            raise
        raise ProgressError("replaced") from exc
    audit.record(
        session,
        author.telegram_id if author else None,
        f"progress.{kind}",
        "progress_update",
        row.id,
        action_id=action.id,
        plan_id=action.plan_id,
        ref=action.ref,
        rag=row.rag,
        term=term.code,
        replaces=replaces_id,
    )
    return row


async def _replaceable(session: AsyncSession, update_id: int, author: MemberLike, when: dt.datetime) -> ProgressUpdate:
    row = await session.get(ProgressUpdate, update_id)
    if row is None or row.kind == "withdrawal":
        raise ProgressError("not_found")
    if row.author_id is None or row.author_id != author.telegram_id:
        raise ProgressError("not_author")
    root = row
    while root.replaces_id is not None:
        parent = await session.get(ProgressUpdate, root.replaces_id)
        if parent is None:
            break
        root = parent
    if when - root.created_at > CORRECTION_WINDOW:
        raise ProgressError("window_closed")
    later = await session.scalar(select(ProgressUpdate.id).where(ProgressUpdate.replaces_id == row.id).limit(1))
    if later is not None:
        raise ProgressError("replaced")
    return row


async def correct_update(
    session: AsyncSession,
    update_id: int,
    author: MemberLike,
    rag: str | None,
    comment: str,
    when: dt.datetime | None = None,
) -> ProgressUpdate:
    """The author replaces their update within the window: a new row of kind 'correction'."""
    when = when or clock.now()
    row = await _replaceable(session, update_id, author, when)
    return await post_update(
        session, row.action_id, rag, comment, author, when, kind="correction", replaces_id=row.id, term=row_term(row)
    )


async def withdraw_update(
    session: AsyncSession, update_id: int, author: MemberLike, when: dt.datetime | None = None
) -> ProgressUpdate:
    """The author withdraws their update within the window: a new row of kind 'withdrawal'."""
    when = when or clock.now()
    row = await _replaceable(session, update_id, author, when)
    return await post_update(
        session, row.action_id, None, "", author, when, kind="withdrawal", replaces_id=row.id, term=row_term(row)
    )


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


async def _rows_for_plan(session: AsyncSession, plan_id: int) -> dict[int, list[ProgressUpdate]]:
    rows = (
        await session.scalars(
            select(ProgressUpdate)
            .join(Action, ProgressUpdate.action_id == Action.id)
            .where(Action.plan_id == plan_id)
            .order_by(ProgressUpdate.id)
        )
    ).all()
    out: dict[int, list[ProgressUpdate]] = defaultdict(list)
    for row in rows:
        out[row.action_id].append(row)
    return out


async def plan_actions(session: AsyncSession, plan_id: int) -> list[Action]:
    return list(
        (
            await session.scalars(
                select(Action)
                .where(Action.plan_id == plan_id, Action.archived_at.is_(None))
                .options(selectinload(Action.owners))
                .order_by(Action.position, Action.id)
            )
        ).all()
    )


async def status_by_action(session: AsyncSession, plan_id: int, term: Term) -> dict[int, ActionStatus]:
    """Every action of the plan (in plan order) with its status in `term`."""
    rows = await _rows_for_plan(session, plan_id)
    return {a.id: status_from_rows(a.id, rows.get(a.id, []), term) for a in await plan_actions(session, plan_id)}


async def latest_by_action(session: AsyncSession, plan_id: int, term: Term) -> dict[int, ProgressUpdate]:
    """The latest effective update of each action in `term` (actions with none are left out)."""
    return {
        aid: s.latest for aid, s in (await status_by_action(session, plan_id, term)).items() if s.latest is not None
    }


async def action_history(session: AsyncSession, action_id: int) -> list[ProgressUpdate]:
    """Every row of an action, newest first (corrections and withdrawals included, for the record)."""
    return list(
        (
            await session.scalars(
                select(ProgressUpdate).where(ProgressUpdate.action_id == action_id).order_by(ProgressUpdate.id.desc())
            )
        ).all()
    )


async def term_changes(session: AsyncSession, plan_id: int, term: Term) -> list[tuple[Action, ProgressUpdate]]:
    """The effective updates of `term`, in plan order then time: what a digest reports."""
    rows = await _rows_for_plan(session, plan_id)
    out = []
    for action in await plan_actions(session, plan_id):
        for row in effective_updates(rows.get(action.id, [])):
            if row_term(row) == term and row.kind != "import":
                out.append((action, row))
    return out


@dataclass
class MyAction:
    action: Action
    plan: Plan
    status: ActionStatus
    due: list[tuple[dt.date, str]] = field(default_factory=list)
    overdue: list[tuple[dt.date, str]] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        """No update this term."""
        return not self.status.updated

    @property
    def is_due(self) -> bool:
        return bool(self.due)


async def my_actions(session: AsyncSession, person_id: int | None, today: dt.date | None = None) -> list[MyAction]:
    """The actions a person owns in active plans, with due (a milestone passed since the last update or
    term start, or due within 14 days) and stale (no update this term) flags."""
    if person_id is None:
        return []
    today = today or to_local_date(clock.now(), LONDON)
    term = term_for(today)
    owned = select(ActionOwner.action_id).where(ActionOwner.person_id == person_id)
    actions = (
        await session.scalars(
            select(Action)
            .join(Plan, Plan.id == Action.plan_id)
            .where(Action.id.in_(owned), Plan.active.is_(True), Action.archived_at.is_(None))
            .options(selectinload(Action.plan), selectinload(Action.owners))
            .order_by(Action.plan_id, Action.position, Action.id)
        )
    ).all()
    if not actions:
        return []
    rows = (
        await session.scalars(
            select(ProgressUpdate)
            .where(ProgressUpdate.action_id.in_([a.id for a in actions]))
            .order_by(ProgressUpdate.id)
        )
    ).all()
    by_action: dict[int, list[ProgressUpdate]] = defaultdict(list)
    for row in rows:
        by_action[row.action_id].append(row)
    out = []
    for action in actions:
        status = status_from_rows(action.id, by_action.get(action.id, []), term)
        eff = effective_updates(by_action.get(action.id, []))
        since = term.start - dt.timedelta(days=1)
        if eff:
            since = max(since, to_local_date(eff[-1].created_at, LONDON))
        due = due_milestones(action, today, since)
        out.append(MyAction(action, action.plan, status, due=due, overdue=[d for d in due if d[0] <= today]))
    return out


@dataclass
class OwnerGap:
    """An owner with actions that have no update this term."""

    name: str
    person_id: int | None
    telegram_ids: list[int]
    refs: list[str]
    action_ids: list[int]
    reminders: bool = True  # False when every linked member has switched reminders off


async def who_hasnt_updated(session: AsyncSession, plan_id: int, term: Term) -> list[OwnerGap]:
    """Owners (grouped by person, or by name where not linked to the directory) whose actions have no
    update in `term`, in plan order."""
    statuses = await status_by_action(session, plan_id, term)
    actions = await plan_actions(session, plan_id)
    person_ids = {o.person_id for a in actions for o in a.owners if o.person_id is not None}
    members: dict[int, list[Member]] = defaultdict(list)
    if person_ids:
        for m in (
            await session.scalars(select(Member).where(Member.person_id.in_(person_ids), Member.active.is_(True)))
        ).all():
            if m.person_id is not None:
                members[m.person_id].append(m)
    gaps: dict[object, OwnerGap] = {}
    for action in actions:
        if statuses[action.id].updated:
            continue
        for owner in action.owners:
            key: object = owner.person_id if owner.person_id is not None else owner.name.strip().lower()
            gap = gaps.get(key)
            if gap is None:
                linked = members.get(owner.person_id, []) if owner.person_id is not None else []
                gap = gaps[key] = OwnerGap(
                    name=owner.name,
                    person_id=owner.person_id,
                    telegram_ids=[m.telegram_id for m in linked],
                    refs=[],
                    action_ids=[],
                    reminders=any(m.reminders for m in linked) if linked else True,
                )
            if action.id not in gap.action_ids:
                gap.refs.append(action.ref)
                gap.action_ids.append(action.id)
    return list(gaps.values())


async def owner_names(session: AsyncSession, action: Action) -> list[str]:
    rows = (
        await session.scalars(select(ActionOwner).where(ActionOwner.action_id == action.id).order_by(ActionOwner.id))
    ).all()
    names = [o.name for o in rows if o.name]
    return names or ([action.owners_text] if action.owners_text else [])


async def active_plans(session: AsyncSession) -> Sequence[Plan]:
    return (await session.scalars(select(Plan).where(Plan.active.is_(True)).order_by(Plan.id))).all()


async def plan_refs(session: AsyncSession, plan_id: int) -> dict[str, int]:
    """Each action's reference in the plan, to its id, in plan order (archived actions left out)."""
    rows = (
        await session.execute(
            select(Action.ref, Action.id)
            .where(Action.plan_id == plan_id, Action.archived_at.is_(None))
            .order_by(Action.position, Action.id)
        )
    ).all()
    return {ref: aid for ref, aid in rows}
