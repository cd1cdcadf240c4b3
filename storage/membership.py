"""Changing who is a member and with which role: one place for the chat (/grant, /revoke, approvals) and
the command line (`partnerbot admin grant`), each change audited in the same transaction.

A role lasts until it is revoked, and revoking ends it: the account is inactive, its role back to "member" and
its link to a directory entry ended (storage/identity.py), so a later approval starts afresh as a member; the
audit log keeps what it was ("coordinator until …, revoked by …", `identity.past_roles`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, identity
from storage.members import Member, Role


class LastAdmin(Exception):
    """The change would leave the partnership without an admin."""


async def admins(session: AsyncSession, settings_admins: Iterable[int] = ()) -> set[int]:
    """Everyone who is an admin: active admin accounts and the admins named in settings."""
    rows = await session.scalars(select(Member.telegram_id).where(Member.active.is_(True), Member.role == "admin"))
    return set(rows) | set(settings_admins)


async def set_role(
    session: AsyncSession,
    telegram_id: int,
    role: Role,
    actor_id: int | None,
    display_name: str = "",
    settings_admins: Iterable[int] = (),
) -> Member:
    """Create or update a member with a role. Taking the last admin's role away raises LastAdmin."""
    if role == Role.STRANGER:
        raise ValueError("a member's role cannot be 'stranger'; revoke their access instead")
    member = await session.get(Member, telegram_id)
    demoting = member is not None and member.active and member.role == "admin" and role != Role.ADMIN
    if demoting and not (await admins(session, settings_admins)) - {telegram_id}:
        raise LastAdmin
    previous = member.role if member is not None and member.active else None
    if member is None:
        member = Member(telegram_id=telegram_id, display_name=display_name)
        session.add(member)
    member.role = role.name.lower()
    member.active = True
    member.updated_by = actor_id
    audit.record(session, actor_id, "member.role", "member", telegram_id, role=member.role, previous=previous)
    return member


async def revoke(
    session: AsyncSession, telegram_id: int, actor_id: int | None, settings_admins: Iterable[int] = ()
) -> Member | None:
    """End a member's access, role and link (the record stays, inactive, for the audit trail); None if there
    was none. Revoking the last admin raises LastAdmin."""
    member = await session.get(Member, telegram_id)
    if member is None or not member.active:
        return None
    if member.role == "admin" and not (await admins(session, settings_admins)) - {telegram_id}:
        raise LastAdmin
    role = member.role
    person_id = await identity.unlink(session, telegram_id, actor_id, reason="revoked")
    member.active = False
    member.role = "member"
    member.updated_by = actor_id
    audit.record(session, actor_id, "member.revoke", "member", telegram_id, role=role, person_id=person_id)
    return member
