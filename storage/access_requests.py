"""Access requests over their life: pending (shown on the applicant's /start), decided by a coordinator's
button, /grant or the desk, and closed once. Where each coordinator's copy of the request message was sent is
kept, so every copy can be edited to show who decided."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
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
