"""Changing who is a member and with which role: one place for the chat (/grant, /revoke, approvals) and
the command line (`partnerbot admin grant`), each change audited in the same transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.members import Member, Role


async def set_role(
    session: AsyncSession, telegram_id: int, role: Role, actor_id: int | None, display_name: str = ""
) -> Member:
    """Create or update a member with a role."""
    if role == Role.STRANGER:
        raise ValueError("a member's role cannot be 'stranger'; revoke their access instead")
    member = await session.get(Member, telegram_id)
    if member is None:
        member = Member(telegram_id=telegram_id, display_name=display_name)
        session.add(member)
    member.role = role.name.lower()
    member.active = True
    member.updated_by = actor_id
    audit.record(session, actor_id, "member.role", "member", telegram_id, role=member.role)
    return member


async def revoke(session: AsyncSession, telegram_id: int, actor_id: int | None) -> Member | None:
    """End a member's access (the record stays, inactive, for the audit trail); None if there was none."""
    member = await session.get(Member, telegram_id)
    if member is None or not member.active:
        return None
    member.active = False
    member.updated_by = actor_id
    audit.record(session, actor_id, "member.revoke", "member", telegram_id)
    return member
