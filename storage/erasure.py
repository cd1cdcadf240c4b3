"""Erasing a person, by identity, completely and finally.

1. **By identity.** Everything keyed to the person's ids is removed or replaced by a stable pseudonym
   ("former member #41", storage.mentions.pseudonym): the directory entry (cascading to specialisms,
   appointments, buddy matches and check-ins), the member rows linked to it, their access requests, saved
   chat state, throttle, desk and button records, the Telegram ids wherever a column holds them
   (`forget_accounts`, columns found from the models), progress comments kept as by the pseudonym, action
   owner links, audit entries about them (the event stays, personal details become the pseudonym),
   pending proposals about them (marked "erased", emptied: a Confirm can no longer re-create them), and
   other users' saved drafts that hold their id or name. Nothing keyed to anyone else is touched, whatever
   their name: identity columns of other rows are never read as mentions (storage.mentions.IDENTITY_COLUMNS).
2. **Free text, shown first.** Every other text or JSON column of every table that mentions them (owners
   cells, comments, milestones, notes, someone else's request, old audit details) is a *place*
   (storage.mentions.find_places). `preview` lists the places as they would stand after step 1; the admin
   chooses per place to redact (the default) or keep, with a reason; `erase_ids` redacts all but the kept
   ones, and its result lists what was kept (the receipt).
3. **Logged by digest.** The erasure's audit entry holds the person id, one-way digests of the Telegram ids
   and the kept places (ids only), so a restore of an older backup erases them again (storage/backup.py),
   keeping only what the admin kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_, select, tuple_
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.base import Base
from storage.buddies import Appointment, BuddyMatch
from storage.directory import EntryChange, Person
from storage.members import AccessRequest, AuditEntry, BotState, Member, Throttle
from storage.mentions import FORMER_MEMBER, Finder, Identity, Place, find_places, pseudonym
from storage.plans import ActionOwner, ProgressUpdate

__all__ = ["FORMER_MEMBER", "pseudonym"]

ERASE_ACTION = "person.erase"
ERASED = "erased"  # the status of a pending proposal whose subject was erased
# Why a mention may be kept (the admin picks one; the code is what the audit and the receipt keep).
KEEP_REASONS = {"h": "the plan's historic record", "l": "a legal obligation or claim", "o": "refers to someone else"}


def rows(result: Any) -> int:
    """Rows an UPDATE or DELETE touched (a CursorResult's rowcount; typed as a plain Result)."""
    return int(getattr(result, "rowcount", 0) or 0)


def account_digest(telegram_id: int) -> str:
    """A one-way stand-in for an erased Telegram id, kept in the erasure record so that a restore can
    recognise the account again without the record holding the id itself."""
    return hashlib.sha256(f"partnerbot-erased-account:{int(telegram_id)}".encode()).hexdigest()[:24]


async def forget_accounts(session: AsyncSession, telegram_ids: list[int]) -> dict[str, int]:
    """Every other reference to the erased Telegram accounts, found from the models: rows that are the
    account's own (a `telegram_id` column, or a required "by" column) are deleted, optional "who did it"
    columns (updated_by, decided_by, responder_id, actor_id ...) are emptied."""
    from storage.subject_access import member_columns

    out: dict[str, int] = {}
    if not telegram_ids:
        return out
    await session.flush()
    for name, cols in member_columns().items():
        tbl = Base.metadata.tables[name]
        for col in cols:
            column = tbl.c[col]
            if col == "telegram_id" or not column.nullable:
                n = rows(await session.execute(delete(tbl).where(column.in_(telegram_ids))))
            else:
                n = rows(await session.execute(sql_update(tbl).where(column.in_(telegram_ids)).values({col: None})))
            if n:
                out[f"{name}.{col}"] = n
    return out


def bot_state_of(telegram_id: int) -> Any:
    """bot_state rows for one user: their user data, private chat data and conversations they are in."""
    return or_(
        (BotState.kind.in_(["user", "chat"])) & (BotState.key == str(telegram_id)),
        (BotState.kind == "conv") & (BotState.key.like(f"%,{telegram_id},%") | BotState.key.like(f"%,{telegram_id}]")),
    )


# --- who they are -------------------------------------------------------------------------------------


async def identity_of(session: AsyncSession, person_id: int, person: Person | None, ids: list[int]) -> Identity:
    if person is None:
        # An account alone (retention of a former member or an applicant): found by its ids only. Its
        # display name is a claim, not an identity: redacting it from free text with nobody choosing
        # would be guessing, and could hit a namesake.
        return Identity(person_id, telegram_ids=tuple(ids))
    accounts = list(await session.scalars(select(Member).where(Member.telegram_id.in_(ids)))) if ids else []
    names = [m.display_name for m in accounts]
    handles = tuple(h for h in (getattr(m, "username", None) for m in accounts) if isinstance(h, str) and h)
    return Identity(
        person_id,
        title=person.title or "",
        first=person.first_name or "",
        last=person.last_name or "",
        email=person.email or "",
        phones=(person.phone,) if person.phone else (),
        telegram_ids=tuple(ids),
        names=tuple([*names, person.full_name or ""]),
        handles=handles,
    )


# --- the erasure --------------------------------------------------------------------------------------


@dataclass
class EraseResult:
    person_id: int
    telegram_ids: list[int] = field(default_factory=list)
    pseudonym: str = FORMER_MEMBER
    updates_kept: int = 0
    rows_removed: dict[str, int] = field(default_factory=dict)
    redacted: list[Place] = field(default_factory=list)
    kept: list[tuple[Place, str]] = field(default_factory=list)  # (place, reason code)
    drafts_closed: dict[int, list[str]] = field(default_factory=dict)  # user id -> draft keys dropped
    to_tell: list[int] = field(default_factory=list)  # accounts of people whose pairing ended
    erased_rows: dict[str, list[int]] = field(default_factory=dict)  # table -> ids (old buttons answer "erased")
    finder: Finder | None = None  # what identified them (the running bot forgets its drafts with it)


def _pseudonymise_detail(detail: Any, finder: Finder) -> dict[str, Any]:
    """An audit entry about the erased person: the event's codes and counts stay, their ids and any text
    about them become the pseudonym, and the entry says who it was about ("erased": pseudonym)."""
    kept = audit.safe_detail(detail if isinstance(detail, dict) else {})
    out = finder.redact(kept)
    if not isinstance(out, dict):
        out = {}
    out["erased"] = finder.identity.pseudonym
    return out


def _drop_mentions(data: Any, finder: Finder) -> tuple[Any, list[str]]:
    """A user's saved data without the top-level entries (drafts, picks) that hold the person's id or name."""
    if not isinstance(data, dict):
        return data, []
    dropped = [k for k, v in data.items() if finder.mentions(v, k) or finder.mentions(k)]
    return {k: v for k, v in data.items() if k not in dropped}, dropped


async def _others_saved_state(
    session: AsyncSession, finder: Finder, conversations: Mapping[str, str] | None, result: EraseResult
) -> None:
    """Other users' saved drafts about the person are dropped (with the conversation they belong to)."""
    for state in list(await session.scalars(select(BotState).where(BotState.kind.in_(["user", "chat"])))):
        data, dropped = _drop_mentions(state.data, finder)
        if not dropped:
            continue
        if data:
            await session.execute(
                sql_update(BotState).where(BotState.kind == state.kind, BotState.key == state.key).values(data=data)
            )
        else:
            await session.execute(delete(BotState).where(BotState.kind == state.kind, BotState.key == state.key))
        if state.kind == "user" and state.key.lstrip("-").isdigit():
            user = int(state.key)
            result.drafts_closed.setdefault(user, []).extend(str(k) for k in dropped)
            names = {(conversations or {}).get(str(k), str(k)) for k in dropped}
            for name in names:
                await session.execute(
                    delete(BotState).where(
                        BotState.kind == "conv",
                        BotState.key.like(f'["{name}",%'),
                        BotState.key.like(f"%,{user}]"),
                    )
                )


async def _by_identity(
    session: AsyncSession,
    person_id: int,
    person: Person | None,
    ids: list[int],
    finder: Finder,
    result: EraseResult,
    conversations: Mapping[str, str] | None,
) -> None:
    label = finder.identity.pseudonym
    removed = result.rows_removed
    authored = or_(ProgressUpdate.author_person_id == person_id, ProgressUpdate.author_id.in_(ids))
    result.updates_kept = rows(
        await session.execute(
            sql_update(ProgressUpdate).where(authored).values(author_label=label, author_id=None, author_person_id=None)
        )
    )
    if person_id:
        removed["action_owner_links"] = rows(
            await session.execute(
                sql_update(ActionOwner).where(ActionOwner.person_id == person_id).values(name=label, person_id=None)
            )
        )
        # Pending proposals about them can no longer be confirmed (a Confirm would re-create them).
        removed["proposals"] = rows(
            await session.execute(
                sql_update(EntryChange)
                .where(EntryChange.person_id == person_id)
                .values(person_id=None, payload={}, summary=label, status=ERASED)
            )
        )
        # Who is told: the other side of every pairing still running.
        appointments = select(Appointment.id).where(Appointment.person_id == person_id)
        other_people: set[int] = set()
        for match in await session.scalars(
            select(BuddyMatch).where(
                BuddyMatch.ended_at.is_(None),
                or_(BuddyMatch.buddy_person_id == person_id, BuddyMatch.appointment_id.in_(appointments)),
            )
        ):
            if match.buddy_person_id != person_id:
                other_people.add(match.buddy_person_id)
            else:
                head = await session.scalar(select(Appointment.person_id).where(Appointment.id == match.appointment_id))
                if head is not None and head != person_id:
                    other_people.add(head)
        if other_people:
            result.to_tell = sorted(
                await session.scalars(
                    select(Member.telegram_id).where(Member.person_id.in_(other_people), Member.active.is_(True))
                )
            )
        result.erased_rows["buddy_match"] = sorted(
            await session.scalars(
                select(BuddyMatch.id).where(
                    or_(BuddyMatch.buddy_person_id == person_id, BuddyMatch.appointment_id.in_(appointments))
                )
            )
        )
        result.erased_rows["appointment"] = sorted(await session.scalars(appointments))
        removed["buddy_match"] = len(result.erased_rows["buddy_match"])
        removed["appointment"] = len(result.erased_rows["appointment"])

    # Audit entries about them keep the event; their details become the pseudonym.
    request_ids = (
        [str(i) for i in await session.scalars(select(AccessRequest.id).where(AccessRequest.telegram_id.in_(ids)))]
        if ids
        else []
    )
    about: list[Any] = []
    if person_id:
        about.append(
            (AuditEntry.action != ERASE_ACTION)
            & (AuditEntry.entity == "person")
            & (AuditEntry.entity_id == str(person_id))
        )
    if ids:
        about.append((AuditEntry.entity == "member") & AuditEntry.entity_id.in_([str(i) for i in ids]))
        about.append(AuditEntry.actor_id.in_(ids))
    if request_ids:
        about.append((AuditEntry.entity == "access_request") & AuditEntry.entity_id.in_(request_ids))
    if about:
        for entry in list(await session.scalars(select(AuditEntry).where(or_(*about)))):
            entry.detail = _pseudonymise_detail(entry.detail, finder)
            if entry.entity == "member" and entry.entity_id in {str(i) for i in ids}:
                entry.entity_id = label[:40]
            if entry.actor_id in ids:
                entry.actor_label = label
    await session.flush()
    # Their ids inside any other entry's details ("owners_linked_to", "applicant", "person_id", ...) are
    # keyed to them: replaced by the pseudonym without asking.
    for entry_id, detail in (
        await session.execute(select(AuditEntry.id, AuditEntry.detail).where(AuditEntry.action != ERASE_ACTION))
    ).all():
        new = finder.redact_ids(detail)
        if new != detail:
            await session.execute(sql_update(AuditEntry).where(AuditEntry.id == entry_id).values(detail=new))

    if ids:
        removed["access_request"] = rows(
            await session.execute(delete(AccessRequest).where(AccessRequest.telegram_id.in_(ids)))
        )
        removed["bot_state"] = 0
        for telegram_id in ids:
            removed["bot_state"] += rows(await session.execute(delete(BotState).where(bot_state_of(telegram_id))))
        removed["throttle"] = rows(await session.execute(delete(Throttle).where(Throttle.telegram_id.in_(ids))))
        removed["member"] = rows(await session.execute(delete(Member).where(Member.telegram_id.in_(ids))))
    if person is not None:
        await _release_person(session, person_id)
        await session.delete(person)  # cascades: specialisms links, appointments, buddy matches, check-ins
    await session.flush()
    removed.update(await forget_accounts(session, ids))
    await _others_saved_state(session, finder, conversations, result)
    await session.flush()


async def _release_person(session: AsyncSession, person_id: int) -> None:
    """Every other column pointing at the person, found from the models (so a table added later is
    covered): emptied when it may be, its rows deleted when it may not; the database's own ON DELETE
    CASCADE is left to do its work."""
    from storage.subject_access import person_columns

    for name, cols in person_columns().items():
        if name == "person":
            continue
        tbl = Base.metadata.tables[name]
        for col in cols:
            column = tbl.c[col]
            if any((fk.ondelete or "").upper() == "CASCADE" for fk in column.foreign_keys):
                continue
            if column.nullable:
                await session.execute(sql_update(tbl).where(column == person_id).values({col: None}))
            else:
                await session.execute(delete(tbl).where(column == person_id))


async def preview(session: AsyncSession, person_id: int, person: Person, ids: list[int]) -> list[Place]:
    """The free-text places that would still mention the person once everything keyed to them is gone.
    Runs the erasure by identity in the caller's session: the caller ROLLS BACK afterwards."""
    finder = Finder(await identity_of(session, person_id, person, ids))
    result = EraseResult(person_id, ids, finder.identity.pseudonym)
    await _by_identity(session, person_id, person, ids, finder, result, None)
    return await find_places(session, finder)


def _is_kept(place: Place, keep: Mapping[str, str] | None) -> str | None:
    if not keep:
        return None
    return keep.get(place_id(place))


def place_id(place: Place) -> str:
    """A short, stable name for a place (ids only): what the admin's choices and the audit record use."""
    return f"{place.table}.{place.column}:" + ",".join(str(k) for k in place.key)


async def _redact(session: AsyncSession, place: Place, finder: Finder) -> None:
    tbl = Base.metadata.tables[place.table]
    keys = list(tbl.primary_key.columns)
    where = tuple_(*keys) == tuple(place.key) if len(keys) > 1 else keys[0] == place.key[0]
    value = await session.scalar(select(tbl.c[place.column]).where(where))
    values: dict[str, Any] = {place.column: finder.redact(value)}
    if place.table == "entry_change":
        # a pending proposal naming them (a new head who is this person) is not confirmable any more
        status, payload = (await session.execute(select(tbl.c.status, tbl.c.payload).where(where))).one()
        named = (
            " ".join(str(payload.get(k) or "") for k in ("title", "first_name", "last_name", "name"))
            if isinstance(payload, dict)
            else ""
        )
        if status == "pending" and finder.mentions(named):
            values.update(status=ERASED, payload={}, summary=finder.identity.pseudonym, person_id=None)
    await session.execute(sql_update(tbl).where(where).values(**values))


async def erase_ids(
    session: AsyncSession,
    person_id: int,
    person: Person | None,
    ids: list[int],
    actor_id: int | None,
    keep: Mapping[str, str] | None = None,
    conversations: Mapping[str, str] | None = None,
) -> EraseResult:
    """Erase a person (when still held) and the Telegram accounts `ids`, within the caller's transaction.
    `keep` maps a place (`place_id`) the admin chose to keep to the reason's code; every other mention is
    redacted. `conversations` maps a draft key in user data to its conversation's name (so a dropped
    draft ends its conversation). Also used to re-apply a logged erasure after a restore."""
    finder = Finder(await identity_of(session, person_id, person, ids))
    result = EraseResult(person_id, list(ids), finder.identity.pseudonym, finder=finder)
    await _by_identity(session, person_id, person, ids, finder, result, conversations)
    for place in await find_places(session, finder):
        reason = _is_kept(place, keep)
        if reason is not None:
            result.kept.append((place, reason))
        else:
            await _redact(session, place, finder)
            result.redacted.append(place)
    session.expire_all()
    removed = dict(result.rows_removed)
    removed["text_fields"] = len(result.redacted)
    # Logged by id and digest only, so a restore of an older backup can erase them again (storage/backup.py).
    audit.record(
        session,
        actor_id,
        ERASE_ACTION,
        "person",
        person_id,
        members=len(ids),
        accounts=[account_digest(i) for i in ids],
        updates_kept=result.updates_kept,
        removed=removed,
        kept=[[place_id(p), reason] for p, reason in result.kept],
        drafts_closed=len(result.drafts_closed),
        rows=result.erased_rows,
    )
    return result


async def erased_person(session: AsyncSession, person_id: int) -> bool:
    """Was this person id erased? (An old button or a pending item that still names it answers so.)"""
    return (
        await session.scalar(
            select(AuditEntry.id)
            .where(AuditEntry.action == ERASE_ACTION, AuditEntry.entity == "person")
            .where(AuditEntry.entity_id == str(person_id))
            .limit(1)
        )
    ) is not None


async def erased_row(session: AsyncSession, table: str, row_id: int) -> bool:
    """Was this appointment or buddy match removed by an erasure? (Its old buttons answer so.)"""
    for detail in await session.scalars(select(AuditEntry.detail).where(AuditEntry.action == ERASE_ACTION)):
        found = detail.get("rows", {}).get(table, []) if isinstance(detail, dict) else []
        if isinstance(found, list) and row_id in found:
            return True
    return False
