"""Erasing a person: their own rows (`erase_ids`: the directory entry, member rows, requests, saved state,
appointments and buddy matches; progress comments kept as "former member"), and every free-text field of
every table that names them.

Owners cells in imported plans ("Mrs Draycott / JD"), an access request someone else typed, an audit
entry's details, another person's notes, a saved chat draft: wherever the person's name, email or phone
appears it is replaced by "former member". The tables and columns are read from the models
(`Base.metadata`), so a new table's text is covered without a change here.

Erasures are logged by id in the audit log ("person.erase", with the person id and Telegram ids and
nothing else about them), so a restore of an older backup can re-apply them (storage/backup.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, String, Text, delete, or_, select, tuple_
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator, TypeEngine

from storage import audit
from storage.base import Base
from storage.buddies import Appointment, BuddyMatch
from storage.directory import Person
from storage.members import AccessRequest, AuditEntry, BotState, Member, Throttle
from storage.plans import ActionOwner, ProgressUpdate

FORMER_MEMBER = "former member"
ERASE_ACTION = "person.erase"
MIN_TERM = 4  # shorter strings ("Jo") would hit other people's words


def rows(result: Any) -> int:
    """Rows an UPDATE or DELETE touched (a CursorResult's rowcount; typed as a plain Result)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _base(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    while isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance if hasattr(type_, "impl_instance") else type_.impl  # type: ignore[assignment]
    return type_


def name_variants(title: str | None, first: str, last: str) -> list[str]:
    """The ways a plan or a message writes one person's name."""
    title, first, last = (title or "").strip(), (first or "").strip(), (last or "").strip()
    out = []
    if first and last:
        out += [f"{first} {last}", f"{last}, {first}"]
        if title:
            out.append(f"{title} {first} {last}")
    if title and last:
        out.append(f"{title} {last}")
    if title and first:
        out.append(f"{title} {first}")
    return out


def phone_pattern(phone: str) -> str | None:
    """A phone number written with any spacing or punctuation, and +44 written as 0."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return None
    variants = {digits}
    if digits.startswith("44"):
        variants.add("0" + digits[2:])
    elif digits.startswith("0"):
        variants.add("44" + digits[1:])
    sep = r"[\s\-().]*"
    return "|".join(
        r"\+?" + sep.join(re.escape(d) for d in v) if v.startswith("44") else sep.join(v) for v in sorted(variants)
    )


def matcher(terms: Iterable[str], phones: Iterable[str] = ()) -> re.Pattern[str] | None:
    """One case-insensitive pattern for all of a person's identifiers, longest first (so "Dr Zoë Smith"
    is replaced whole, not as "Dr former member")."""
    words = sorted({t.strip() for t in terms if t and len(t.strip()) >= MIN_TERM}, key=len, reverse=True)
    parts = [r"\s+".join(re.escape(w) for w in word.split()) for word in words]
    parts += [p for p in (phone_pattern(x) for x in phones if x) if p]
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def _scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(FORMER_MEMBER, value)
    if isinstance(value, list):
        return [_scrub(v, pattern) for v in value]
    if isinstance(value, dict):
        return {_scrub(k, pattern): _scrub(v, pattern) for k, v in value.items()}
    return value


def text_columns() -> dict[str, list[str]]:
    """Every table's free-text and JSON columns that are not part of its key."""
    out: dict[str, list[str]] = {}
    for tbl in Base.metadata.sorted_tables:
        cols = [c.name for c in tbl.columns if not c.primary_key and isinstance(_base(c.type), (String, Text, JSON))]
        if cols:
            out[tbl.name] = cols
    return out


async def scrub_everywhere(session: AsyncSession, pattern: re.Pattern[str]) -> dict[str, int]:
    """Replace every match of `pattern` in every text column of every table; rows changed per table.
    A table scan, in Python, because a name may sit inside JSON or be spelt with other spacing."""
    changed: dict[str, int] = {}
    await session.flush()
    for name, cols in text_columns().items():
        tbl = Base.metadata.tables[name]
        keys = list(tbl.primary_key.columns)
        if not keys:
            continue
        found = (await session.execute(select(*keys, *(tbl.c[c] for c in cols)))).all()
        for row in found:
            key, values = row[: len(keys)], row[len(keys) :]
            new = {c: _scrub(v, pattern) for c, v in zip(cols, values) if v is not None}
            new = {c: v for c, v in new.items() if v != values[cols.index(c)]}
            if new:
                await session.execute(
                    sql_update(tbl).where(tuple_(*keys) == tuple(key)).values(**new)
                    if len(keys) > 1
                    else sql_update(tbl).where(keys[0] == key[0]).values(**new)
                )
                changed[name] = changed.get(name, 0) + 1
    return changed


async def forget_accounts(session: AsyncSession, telegram_ids: list[int]) -> dict[str, int]:
    """Every other reference to the erased Telegram accounts, found from the models: rows that are the
    account's own (a `telegram_id` column, or a required "by" column) are deleted, optional "who did it"
    columns (updated_by, decided_by, responder_id, actor_id ...) are emptied."""
    from sqlalchemy import delete

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


# --- erasing a person -------------------------------------------------------------------------------
# The one erasure: /erase (handlers/privacy.py), a restore that re-applies logged erasures (storage/backup.py)
# and retention's removal of a departed account (storage/retention.py) all call `erase_ids`.

ERASED_DETAIL = {"erased": True}


@dataclass
class EraseResult:
    person_id: int
    telegram_ids: list[int] = field(default_factory=list)
    updates_kept: int = 0
    rows_removed: dict[str, int] = field(default_factory=dict)


def bot_state_of(telegram_id: int) -> Any:
    """bot_state rows for one user: their user data, private chat data and conversations they are in."""
    return or_(
        (BotState.kind.in_(["user", "chat"])) & (BotState.key == str(telegram_id)),
        (BotState.kind == "conv") & (BotState.key.like(f"%,{telegram_id},%") | BotState.key.like(f"%,{telegram_id}]")),
    )


async def erase_ids(
    session: AsyncSession, person_id: int, person: Person | None, ids: list[int], actor_id: int | None
) -> EraseResult:
    """Erase a person (when still held) and the Telegram accounts `ids`; also used to re-apply a logged
    erasure after a restore, when the person may already be gone from the restored data."""
    labels = list(await session.scalars(select(Member.display_name).where(Member.telegram_id.in_(ids)))) if ids else []
    terms = [*(person_names(person) if person is not None else []), *(x for x in labels if len(x.split()) > 1)]
    pattern = matcher(terms, [person.phone] if person is not None and person.phone else [])
    result = EraseResult(person_id, ids)
    authored = or_(ProgressUpdate.author_person_id == person_id, ProgressUpdate.author_id.in_(ids))
    result.updates_kept = (  # type: ignore[attr-defined]
        await session.execute(
            sql_update(ProgressUpdate)
            .where(authored)
            .values(author_label=FORMER_MEMBER, author_id=None, author_person_id=None)
        )
    ).rowcount or 0
    result.rows_removed["action_owner_links"] = (  # type: ignore[attr-defined]
        await session.execute(
            sql_update(ActionOwner).where(ActionOwner.person_id == person_id).values(name=FORMER_MEMBER, person_id=None)
        )
    ).rowcount or 0

    # audit details about them are scrubbed, the entries themselves kept
    request_ids = (
        [str(i) for i in await session.scalars(select(AccessRequest.id).where(AccessRequest.telegram_id.in_(ids)))]
        if ids
        else []
    )
    about: list[Any] = [
        (AuditEntry.action != ERASE_ACTION) & (AuditEntry.entity == "person") & (AuditEntry.entity_id == str(person_id))
    ]
    if ids:
        about.append((AuditEntry.entity == "member") & AuditEntry.entity_id.in_([str(i) for i in ids]))
        about.append(AuditEntry.actor_id.in_(ids))
    if request_ids:
        about.append((AuditEntry.entity == "access_request") & AuditEntry.entity_id.in_(request_ids))
    await session.execute(sql_update(AuditEntry).where(or_(*about)).values(detail=ERASED_DETAIL))
    if ids:
        await session.execute(
            sql_update(AuditEntry).where(AuditEntry.actor_id.in_(ids)).values(actor_label=FORMER_MEMBER)
        )

    removed = result.rows_removed
    if ids:
        removed["access_request"] = (  # type: ignore[attr-defined]
            await session.execute(delete(AccessRequest).where(AccessRequest.telegram_id.in_(ids)))
        ).rowcount or 0
        removed["bot_state"] = 0
        for telegram_id in ids:
            removed["bot_state"] += (  # type: ignore[attr-defined]
                await session.execute(delete(BotState).where(bot_state_of(telegram_id)))
            ).rowcount or 0
        removed["throttle"] = (  # type: ignore[attr-defined]
            await session.execute(delete(Throttle).where(Throttle.telegram_id.in_(ids)))
        ).rowcount or 0
        removed["member"] = (await session.execute(delete(Member).where(Member.telegram_id.in_(ids)))).rowcount or 0  # type: ignore[attr-defined]
    appointments = list(await session.scalars(select(Appointment.id).where(Appointment.person_id == person_id)))
    matches = list(
        await session.scalars(
            select(BuddyMatch.id).where(
                or_(BuddyMatch.buddy_person_id == person_id, BuddyMatch.appointment_id.in_(appointments))
            )
        )
    )
    removed["buddy_match"] = len(matches)
    removed["appointment"] = len(appointments)
    if person is not None:
        await session.delete(person)  # cascades: specialisms links, appointments, buddy matches, check-ins
    await session.flush()
    removed.update(await forget_accounts(session, ids))
    if pattern is not None:  # owners cells, requests others typed, audit details, notes: by name, email, phone
        removed["text_fields"] = sum((await scrub_everywhere(session, pattern)).values())
        session.expire_all()
    # Logged by id only, so a restore of an older backup can erase them again (storage/backup.py).
    audit.record(
        session,
        actor_id,
        ERASE_ACTION,
        "person",
        person_id,
        members=len(ids),
        telegram_ids=ids,
        updates_kept=result.updates_kept,
        removed=removed,
    )
    return result


def person_names(person: Person) -> list[str]:
    """Name spellings and contact details that identify the person in free text."""
    out = name_variants(person.title, person.first_name, person.last_name)
    if person.full_name:
        out.append(person.full_name)
    if person.email:
        out.append(person.email)
    return out
