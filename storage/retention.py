"""Retention: what is deleted, and when (the schedule is in core/settings.py; deploy/DATA-PROTECTION.md
says why). Applied daily by the job in handlers/retention.py; a pure function over a session and a clock
so it is tested with a frozen clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from storage import audit
from storage.buddies import BuddyMatch, CheckIn
from storage.erasure import ERASE_ACTION, rows
from storage.members import AccessRequest, AuditEntry, Member

RETENTION_ACTION = "retention.apply"  # the audit entry each daily run leaves, with its counts


@dataclass(frozen=True)
class Schedule:
    rejected_request_days: int = 90
    former_member_days: int = 365
    checkin_comment_days: int = 365
    audit_days: int = 2192  # six years

    @classmethod
    def from_settings(cls, settings: object) -> Schedule:
        return cls(
            *(
                int(getattr(settings, f"retention_{name}"))
                for name in ("rejected_request_days", "former_member_days", "checkin_comment_days", "audit_days")
            )
        )


async def apply_retention(
    session: AsyncSession, schedule: Schedule, now: dt.datetime | None = None, forgotten: list[int] | None = None
) -> dict[str, int]:
    """Delete what has passed its time, within the caller's transaction; how many of each. The Telegram
    ids of applicants and former members forgotten entirely are added to `forgotten` (so the running bot
    can drop their menus and in-memory state too)."""
    now = now or clock.now()
    done: dict[str, int] = {}
    forgotten = forgotten if forgotten is not None else []

    before = now - dt.timedelta(days=schedule.rejected_request_days)
    expired = func.coalesce(AccessRequest.decided_at, AccessRequest.created_at) < before
    old = list(
        (
            await session.execute(
                select(AccessRequest.id, AccessRequest.telegram_id).where(AccessRequest.status == "rejected", expired)
            )
        ).all()
    )
    # Every copy of an old rejected request goes: its audit details (old entries may hold the typed name
    # and school), and, for an applicant who is nobody else to the bot (no account, no later request), the
    # whole account: saved chat state, throttle, audit details by them (the one erasure, by account).
    await session.execute(
        sql_update(AuditEntry)
        .where(AuditEntry.entity == "access_request", AuditEntry.entity_id.in_([str(r.id) for r in old]))
        .values(detail={"expired": True})
    )
    done["rejected_requests"] = (
        rows(await session.execute(delete(AccessRequest).where(AccessRequest.id.in_([r.id for r in old]))))
        if old
        else 0
    )
    applicants = sorted({r.telegram_id for r in old})
    if applicants:
        from storage.erasure import erase_ids  # the one erasure, shared with /erase

        members = set(await session.scalars(select(Member.telegram_id).where(Member.telegram_id.in_(applicants))))
        waiting = set(
            await session.scalars(select(AccessRequest.telegram_id).where(AccessRequest.telegram_id.in_(applicants)))
        )
        for telegram_id in applicants:
            if telegram_id not in members and telegram_id not in waiting:
                await erase_ids(session, 0, None, [telegram_id], None)
                forgotten.append(telegram_id)
    done["applicants_forgotten"] = len(forgotten)

    before = now - dt.timedelta(days=schedule.former_member_days)
    former = list(
        await session.scalars(select(Member.telegram_id).where(Member.active.is_(False), Member.updated_at < before))
    )
    if former:
        from storage.erasure import erase_ids  # the one erasure, shared with /erase

        for telegram_id in former:  # their account and Telegram id; the directory entry is the office's
            await erase_ids(session, 0, None, [telegram_id], None)
            forgotten.append(telegram_id)
    done["former_members"] = len(former)

    before = now - dt.timedelta(days=schedule.checkin_comment_days)
    ended = select(BuddyMatch.id).where(BuddyMatch.ended_at.is_not(None), BuddyMatch.ended_at < before)
    done["checkin_comments"] = rows(
        await session.execute(
            sql_update(CheckIn).where(CheckIn.match_id.in_(ended), CheckIn.comment.is_not(None)).values(comment=None)
        )
    )

    before = now - dt.timedelta(days=schedule.audit_days)
    # erasure records stay: they are what re-applies an erasure after a restore
    done["audit_entries"] = rows(
        await session.execute(delete(AuditEntry).where(AuditEntry.at < before, AuditEntry.action != ERASE_ACTION))
    )
    if any(done.values()):
        audit.record(session, None, "retention.apply", "database", "", counts=done)
    return done
