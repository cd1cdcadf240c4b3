"""Who is who: the one place that links a Telegram account to a person in the directory, and unlinks it.

The model (docs/ARCHITECTURE.md, "Identity"):
- an account (`Member`) is linked to at most one person (`member.person_id`), and a person to at most one
  *active* account: the partial unique index `uq_member_person_active` holds it on SQLite and PostgreSQL,
  so two decisions racing cannot both link;
- a link is made only here, by a coordinator's decision (`link`), after they were shown the account, the
  person and any conflict (`active_account_of`): "already linked to another account since …: replace?";
- nothing a user types links or resolves to an account: a name reaches an account only through a person it
  is already linked to (`accounts_of_people`), and only active accounts count; pending requests never do;
- revoking an account ends its role and its link (storage/membership.py calls `unlink`).
The directory importer, the register and /newhead never call `link`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core import clock
from storage import audit
from storage.directory import Person
from storage.members import AuditEntry, Member


class IdentityError(Exception):
    """The link cannot be made (no such active account or person); `reason` is a short code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Account:
    """An account as a coordinator is shown it before deciding anything about it."""

    telegram_id: int
    display_name: str
    username: str | None
    role: str
    active: bool
    person_id: int | None
    person_name: str
    school_name: str
    linked_at: dt.datetime | None


class LinkConflict(Exception):
    """The person is already linked to another active account."""

    def __init__(self, other: Account):
        super().__init__(other.telegram_id)
        self.other = other


def _account(member: Member) -> Account:
    person = member.person
    return Account(
        telegram_id=member.telegram_id,
        display_name=member.display_name,
        username=member.username,
        role=member.role,
        active=member.active,
        person_id=member.person_id,
        person_name=person.full_name if person is not None else "",
        school_name=person.school.name if person is not None and person.school is not None else "",
        linked_at=member.linked_at,
    )


def _with_person() -> list:
    return [selectinload(Member.person).selectinload(Person.school)]


async def account(session: AsyncSession, telegram_id: int) -> Account | None:
    member = (
        await session.scalars(select(Member).where(Member.telegram_id == telegram_id).options(*_with_person()))
    ).first()
    return _account(member) if member is not None else None


async def active_account_of(session: AsyncSession, person_id: int, besides: int | None = None) -> Account | None:
    """The active account linked to a person (at most one, by the index), other than `besides`."""
    query = select(Member).where(Member.person_id == person_id, Member.active.is_(True)).options(*_with_person())
    if besides is not None:
        query = query.where(Member.telegram_id != besides)
    member = (await session.scalars(query)).first()
    return _account(member) if member is not None else None


async def accounts_of_people(session: AsyncSession, person_ids: Iterable[int]) -> list[Account]:
    """What a typed name may resolve to: the active accounts already linked to these people. Never a pending
    request, never an unlinked account whose self-declared name happens to match."""
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return []
    members = await session.scalars(
        select(Member)
        .where(Member.person_id.in_(ids), Member.active.is_(True))
        .options(*_with_person())
        .order_by(Member.telegram_id)
    )
    order = {pid: n for n, pid in enumerate(ids)}
    return sorted((_account(m) for m in members), key=lambda a: order.get(a.person_id or 0, 0))


SEEN = object()  # `expect` not given: the link the account has when the decision is read (see `link`)


class LinkChanged(Exception):
    """The account's link is no longer what the decider was shown (another press decided first): nothing was
    changed. `account` is the account as it is now; `by`/`at` who last linked or unlinked it, and when."""

    def __init__(self, account: Account | None, by: int | None, at: dt.datetime | None):
        super().__init__("changed")
        self.account, self.by, self.at = account, by, at


async def last_change(session: AsyncSession, telegram_id: int) -> tuple[int | None, dt.datetime | None]:
    """Who last linked or unlinked this account, and when (its audit entry)."""
    entry = (
        await session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action.in_(("member.link", "member.unlink")),
                AuditEntry.entity == "member",
                AuditEntry.entity_id == str(telegram_id),
            )
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
    ).first()
    return (entry.actor_id, entry.at) if entry is not None else (None, None)


async def _changed(session: AsyncSession, telegram_id: int) -> LinkChanged:
    by, at = await last_change(session, telegram_id)
    return LinkChanged(await account(session, telegram_id), by, at)


def _still(expected: int | None) -> ColumnElement[bool]:
    return Member.person_id.is_(None) if expected is None else Member.person_id == expected


async def link(
    session: AsyncSession,
    telegram_id: int,
    person_id: int,
    actor_id: int | None,
    *,
    replace: bool = False,
    expect: object = SEEN,
    already_ok: bool = True,
) -> Account | None:
    """Link an active account to a person: a coordinator's decision, one conditional write
    (`UPDATE member … WHERE active AND person_id IS <what the decider saw>`), so two presses at once (the desk in
    the chat and in the Mini App) make one link and the other raises LinkChanged, changing nothing.

    `expect`: the person the account was linked to when the decider was shown it (None: unlinked), as the Mini
    App's page carries it; without it, the link read here (the chat's confirmation, which shows the account as it
    is). `already_ok=False`: an account already linked to this person is LinkChanged too (a button's second press
    is told who linked it), not a silent success. Raises LinkConflict when the person is already linked to another
    active account and `replace` is False; with `replace`, that account is unlinked first (audited). Returns the
    account that lost the link, if any.
    The unique index stops a racing decision that links another account to the same person."""
    member = await session.get(Member, telegram_id)
    if member is None or not member.active:
        raise IdentityError("no-account")
    person = await session.get(Person, person_id)
    if person is None:
        raise IdentityError("no-person")
    expected = member.person_id if expect is SEEN else expect
    if member.person_id != expected or (member.person_id == person_id and not already_ok):
        raise await _changed(session, telegram_id)
    if member.person_id == person_id:
        return None
    other = await active_account_of(session, person_id, besides=telegram_id)
    if other is not None and not replace:
        raise LinkConflict(other)
    if other is not None:
        if await unlink(session, other.telegram_id, actor_id, reason="replaced", expect=person_id) is None:
            raise LinkConflict(other)  # unlinked a moment ago by someone else: show the decider again
        await session.flush()
    now = clock.now()
    done = (
        await session.execute(
            update(Member)
            .where(Member.telegram_id == telegram_id, Member.active.is_(True), _still(expected))
            .values(person_id=person_id, linked_at=now, updated_by=actor_id)
            .returning(Member.telegram_id)
            .execution_options(synchronize_session="fetch")
        )
    ).first()
    if done is None:
        raise await _changed(session, telegram_id)
    audit.record(
        session,
        actor_id,
        "member.link",
        "member",
        telegram_id,
        person_id=person_id,
        previous_person_id=expected,
        replaced_account=other.telegram_id if other else None,
    )
    await session.flush()
    return other


async def unlink(
    session: AsyncSession, telegram_id: int, actor_id: int | None, reason: str = "", *, expect: object = SEEN
) -> int | None:
    """End an account's link, as one conditional write (`… WHERE person_id = <the link the decider saw>`): the
    person it was linked to, or None when there was none or it changed meanwhile (another press decided)."""
    member = await session.get(Member, telegram_id)
    if member is None or member.person_id is None:
        return None
    person_id = member.person_id if expect is SEEN else expect
    if not isinstance(person_id, int) or member.person_id != person_id:
        return None
    done = (
        await session.execute(
            update(Member)
            .where(Member.telegram_id == telegram_id, Member.person_id == person_id)
            .values(person_id=None, linked_at=None, updated_by=actor_id)
            .returning(Member.telegram_id)
            .execution_options(synchronize_session="fetch")
        )
    ).first()
    if done is None:
        return None
    audit.record(session, actor_id, "member.unlink", "member", telegram_id, person_id=person_id, reason=reason or None)
    return person_id


@dataclass(frozen=True)
class PastRole:
    role: str
    until: dt.datetime
    by: str


async def past_roles(session: AsyncSession, telegram_id: int) -> list[PastRole]:
    """The roles this account held and lost (newest first): what an approver is shown before re-admitting it."""
    entries = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "member.revoke", AuditEntry.entity == "member")
        .where(AuditEntry.entity_id == str(telegram_id))
        .order_by(AuditEntry.id.desc())
        .limit(5)
    )
    out = []
    for entry in entries:
        by = ""
        if entry.actor_id is not None:
            actor = await session.get(Member, entry.actor_id)
            by = actor.display_name if actor is not None and actor.display_name else str(entry.actor_id)
        out.append(PastRole(str((entry.detail or {}).get("role") or "member"), entry.at, by or entry.actor_label))
    return out
