"""Access requests over their life: pending (shown on the applicant's /start), decided by a coordinator's
button, /grant or the desk, and closed once. Where each coordinator's copy of the request message was sent is
kept, so every copy can be edited to show who decided."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from storage import audit, identity
from storage.desk import AccessRequestCopy
from storage.members import AccessRequest, Member


@dataclass(frozen=True)
class Copy:
    chat_id: int
    message_id: int


async def pending_for(session: AsyncSession, telegram_id: int) -> AccessRequest | None:
    return (
        await session.scalars(
            select(AccessRequest)
            .where(AccessRequest.telegram_id == telegram_id, AccessRequest.status == "pending")
            .order_by(AccessRequest.id.desc())
        )
    ).first()


async def pending(session: AsyncSession) -> list[AccessRequest]:
    return list(
        await session.scalars(
            select(AccessRequest)
            .where(AccessRequest.status == "pending")
            .order_by(AccessRequest.created_at, AccessRequest.id)
        )
    )


async def keep_copies(session: AsyncSession, request_id: int, copies: Sequence[Copy]) -> None:
    for copy in copies:
        session.add(AccessRequestCopy(request_id=request_id, chat_id=copy.chat_id, message_id=copy.message_id))


async def copies_of(session: AsyncSession, request_id: int) -> list[Copy]:
    rows = await session.scalars(
        select(AccessRequestCopy).where(AccessRequestCopy.request_id == request_id).order_by(AccessRequestCopy.id)
    )
    return [Copy(r.chat_id, r.message_id) for r in rows]


def close(request: AccessRequest, status: str, actor_id: int | None) -> None:
    request.status = status
    request.decided_by = actor_id
    request.decided_at = clock.now()


async def close_pending_of(session: AsyncSession, telegram_id: int, actor_id: int | None) -> list[AccessRequest]:
    """Close every pending request of a user (they were given access another way: /grant)."""
    closed = list(
        await session.scalars(
            select(AccessRequest).where(AccessRequest.telegram_id == telegram_id, AccessRequest.status == "pending")
        )
    )
    for request in closed:
        close(request, "approved", actor_id)
    return closed


async def decider_name(session: AsyncSession, actor_id: int | None) -> str:
    if actor_id is None:
        return ""
    member = await session.get(Member, actor_id)
    return member.display_name if member is not None else ""


async def forget_copies(session: AsyncSession, request_id: int) -> list[Copy]:
    """The copies sent so far, removed (a corrected request is sent afresh; the old copies are edited)."""
    copies = await copies_of(session, request_id)
    await session.execute(delete(AccessRequestCopy).where(AccessRequestCopy.request_id == request_id))
    return copies


@dataclass(frozen=True)
class Decision:
    """What became of a coordinator's press.

    outcome: "decided" (this press made the decision), "decided-elsewhere" (someone else's press or /grant was
    first: `status`, `decided_by`), "changed" (the applicant corrected the request since the coordinator saw it),
    "missing" (no such request), "conflict" (approve-and-link, but the person is linked to another active
    account: `other`; nothing was written)."""

    outcome: str
    request_id: int
    applicant: int = 0
    name: str = ""
    school: str = ""
    status: str = ""
    decided_by: int | None = None
    decided_at: dt.datetime | None = None
    other: identity.Account | None = None
    replaced: identity.Account | None = None


async def decide(
    session: AsyncSession,
    request_id: int,
    version: int,
    actor_id: int,
    approve: bool,
    person_id: int | None = None,
    replace: bool = False,
) -> Decision:
    """Approve (linked to `person_id` or not) or reject the version of a request the coordinator was shown.

    One conditional write decides: UPDATE … WHERE status = 'pending' AND version = … RETURNING, so of two
    presses at once exactly one returns a row (PostgreSQL re-checks the WHERE after the first commits; SQLite
    writes one at a time). Only that press creates the member, links, audits and tells the applicant.
    A plain function of ids and the actor, so the chat, the desk and a web page call the same thing."""
    row = (
        await session.execute(
            select(AccessRequest.telegram_id, AccessRequest.status, AccessRequest.version).where(
                AccessRequest.id == request_id
            )
        )
    ).first()
    if row is None:
        return Decision("missing", request_id)
    if approve and person_id and row.status == "pending" and row.version == version and not replace:
        other = await identity.active_account_of(session, person_id, besides=row.telegram_id)
        if other is not None:
            return Decision("conflict", request_id, applicant=row.telegram_id, other=other)
    now = clock.now()
    won = (
        await session.execute(
            update(AccessRequest)
            .where(
                AccessRequest.id == request_id,
                AccessRequest.status == "pending",
                AccessRequest.version == version,
            )
            .values(status="approved" if approve else "rejected", decided_by=actor_id, decided_at=now)
            .returning(
                AccessRequest.telegram_id,
                AccessRequest.name,
                AccessRequest.school,
                AccessRequest.telegram_username,
            )
            .execution_options(synchronize_session=False)
        )
    ).first()
    if won is None:
        current = (
            await session.execute(
                select(
                    AccessRequest.status, AccessRequest.version, AccessRequest.decided_by, AccessRequest.decided_at
                ).where(AccessRequest.id == request_id)
            )
        ).first()
        if current is None:
            return Decision("missing", request_id)
        if current.status == "pending":
            return Decision("changed", request_id, applicant=row.telegram_id)
        return Decision(
            "decided-elsewhere",
            request_id,
            applicant=row.telegram_id,
            status=current.status,
            decided_by=current.decided_by,
            decided_at=current.decided_at,
        )
    applicant, name, school, username = won
    replaced = None
    if approve:
        member = await session.get(Member, applicant)
        if member is None:
            member = Member(telegram_id=applicant, role="member")
            session.add(member)
        elif not member.active:
            member.role = "member"  # a revoked account starts afresh: its old role ended when it was revoked
        member.active = True
        member.display_name = name
        member.username = username
        member.approved_by = actor_id
        member.approved_at = now
        member.updated_by = actor_id
        await session.flush()
        if person_id:
            replaced = await identity.link(session, applicant, person_id, actor_id, replace=replace)
    audit.record(
        session,
        actor_id,
        "access.approve" if approve else "access.reject",
        "access_request",
        request_id,
        applicant=applicant,
        person_id=person_id or None,
        version=version,
        replaced_account=replaced.telegram_id if replaced else None,
    )
    return Decision(
        "decided",
        request_id,
        applicant=applicant,
        name=name,
        school=school,
        status="approved" if approve else "rejected",
        decided_by=actor_id,
        decided_at=now,
        replaced=replaced,
    )
