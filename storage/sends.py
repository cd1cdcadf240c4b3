"""Sends the office makes on a press, claimed once: "ask the buddy again", "send reminders" (a chase), "post the
digest". Each is one conditional write on a (kind, subject) row before anything is sent, so two presses at once
(two coordinators, the Mini App and the chat) send once; the other presser is told who sent and when.

One small table rather than a stamp column per thing asked: the claim, its window and the loser's answer are one
piece of code for every kind, a new kind needs no migration, and the subjects' own tables stay as they were. The
subject's own state (a request still unanswered, a plan still there) is checked by the caller; this row only
says "sent, by whom, when".

The claim is `INSERT … ON CONFLICT (kind, subject_id) DO UPDATE SET claimed_at = now … WHERE claimed_at <
window start RETURNING id`: one statement (SQLite ≥ 3.35 and PostgreSQL alike), the first claim inserts, a later
one takes the row over only once the window has passed, and of two at once exactly one gets a row back.

Windows (why): the office is busy and works on phones, so a second coordinator pressing the same button an hour
later, not knowing a colleague did, is the usual case, not a race. A buddy (a volunteer head) asked twice in a
day, or a head chased twice in a day for the same plan, is nagging; so those are once per local calendar day
(as the desk's "ask a member again", person.check_reminded_on), and the next day sends again. The digest goes
to a group and changes as updates come in, so it may go again after an hour.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from storage.base import Base, BigId, UTCDateTime

ASK_AGAIN = "ask_again"  # subject: buddy_match.id
CHASE = "chase"  # subject: plan.id
DIGEST = "digest"  # subject: plan.id
DAY = "day"  # the window "until the next local day"
WINDOWS: dict[str, str | dt.timedelta] = {ASK_AGAIN: DAY, CHASE: DAY, DIGEST: dt.timedelta(hours=1)}


class SendClaim(Base):
    """The last time the office sent this kind of message about this subject, and who pressed."""

    __tablename__ = "send_claim"
    __table_args__ = (UniqueConstraint("kind", "subject_id", name="uq_send_claim_subject"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)


@dataclass(frozen=True)
class Claim:
    """`won`: this press sends. Otherwise who holds the claim and since when (for the loser's answer)."""

    won: bool
    by: int | None
    at: dt.datetime


def window_start(kind: str, now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A claim made before this moment no longer stands: the start of today (local) or now − the interval."""
    window = WINDOWS[kind]
    if isinstance(window, dt.timedelta):
        return now - window
    local = now.astimezone(tz)
    return dt.datetime.combine(local.date(), dt.time(0), tzinfo=tz).astimezone(dt.UTC)


async def claim(session: AsyncSession, kind: str, subject_id: int, actor_id: int | None, tz: dt.tzinfo) -> Claim:
    """Claim the send: `won` when this call may send (after the commit); otherwise who holds it and when (send
    nothing). One conditional statement; the caller's transaction commits it."""
    now = clock.now()
    start = window_start(kind, now, tz)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = SendClaim.__table__
    values = insert(SendClaim).values(kind=kind, subject_id=subject_id, claimed_at=now, claimed_by=actor_id)
    statement = values.on_conflict_do_update(
        index_elements=[table.c.kind, table.c.subject_id],
        set_={"claimed_at": now, "claimed_by": actor_id},
        where=table.c.claimed_at < start,
    ).returning(table.c.id)
    if (await session.execute(statement)).first() is not None:
        return Claim(True, actor_id, now)
    row = (
        await session.execute(
            select(SendClaim.claimed_by, SendClaim.claimed_at).where(
                SendClaim.kind == kind, SendClaim.subject_id == subject_id
            )
        )
    ).first()
    return Claim(False, row.claimed_by, row.claimed_at) if row is not None else Claim(False, None, now)


async def standing(session: AsyncSession, kind: str, subject_ids: list[int], tz: dt.tzinfo) -> dict[int, Claim]:
    """The claims of this kind that still stand (made within the window), by subject: what a list shows instead
    of a button whose press would only be refused."""
    if not subject_ids:
        return {}
    start = window_start(kind, clock.now(), tz)
    rows = await session.execute(
        select(SendClaim.subject_id, SendClaim.claimed_by, SendClaim.claimed_at).where(
            SendClaim.kind == kind, SendClaim.subject_id.in_(subject_ids), SendClaim.claimed_at >= start
        )
    )
    return {row.subject_id: Claim(False, row.claimed_by, row.claimed_at) for row in rows}


async def release(session: AsyncSession, kind: str, subject_id: int, actor_id: int | None) -> bool:
    """Give a claim back when its send reached nobody (so the office can try again at once): only the presser's
    own claim, never one another press has taken since."""
    result = await session.execute(
        delete(SendClaim).where(
            SendClaim.kind == kind,
            SendClaim.subject_id == subject_id,
            SendClaim.claimed_by == actor_id if actor_id is not None else SendClaim.claimed_by.is_(None),
        )
    )
    return bool(getattr(result, "rowcount", 0))
