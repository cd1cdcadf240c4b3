"""Bot users (members), access requests and the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.roles import Role  # noqa: F401  (re-exported: the handlers' manifests import it from here)
from storage.base import Base, BigId, Timestamps, UTCDateTime
from storage.directory import Person


class Member(Timestamps, Base):
    """A Telegram user the partnership has approved (or an admin from settings).

    Identity (storage/identity.py is the one place that changes `person_id`): an account is linked to at most
    one person (one column) and a person to at most one active account (the partial unique index below, on
    SQLite and PostgreSQL alike)."""

    __tablename__ = "member"
    __table_args__ = (
        Index(
            "uq_member_person_active",
            "person_id",
            unique=True,
            sqlite_where=text("active = 1 AND person_id IS NOT NULL"),
            postgresql_where=text("active AND person_id IS NOT NULL"),
        ),
    )

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(20), default="member")  # Role name, lower case
    display_name: Mapped[str] = mapped_column(String(200), default="")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    approved_by: Mapped[int | None] = mapped_column(BigInteger)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the current link to `person_id` was made (by a coordinator's decision, storage/identity.py).
    linked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The account's @username as Telegram last showed it (shown to admins beside the name; may be None).
    username: Mapped[str | None] = mapped_column(String(64))

    person: Mapped[Person | None] = relationship()

    @property
    def role_enum(self) -> Role:
        return Role.parse(self.role) if self.active else Role.STRANGER


class AccessRequest(Base):
    __tablename__ = "access_request"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    telegram_name: Mapped[str] = mapped_column(String(200), default="")
    telegram_username: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    school: Mapped[str] = mapped_column(String(200), default="")
    suggested_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|approved|rejected
    # Bumped whenever the applicant corrects the request: a decision names the version the coordinator saw.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who changed what and when. Appended only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, index=True)  # Telegram id; None = command line
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(60))  # "person.update", "plan.import", ...
    entity: Mapped[str] = mapped_column(String(40), default="")
    entity_id: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class BotState(Base):
    """python-telegram-bot persistence: user/chat data and conversation states as JSON."""

    __tablename__ = "bot_state"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # user|chat|conv|callback
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[dict | list | None] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)


class Throttle(Base):
    """Search counts per user per minute window, so throttling survives restarts."""

    __tablename__ = "throttle"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
    flagged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)


async def coordinator_ids(session: AsyncSession, admin_ids: Sequence[int] = ()) -> list[int]:
    """Telegram ids of active coordinators and admins (including admins named in settings)."""
    ids = set(
        await session.scalars(
            select(Member.telegram_id).where(Member.active.is_(True), Member.role.in_(("coordinator", "admin")))
        )
    )
    return sorted(ids | set(admin_ids))


async def member_row(session: AsyncSession, telegram_id: int) -> Member | None:
    """The member row for `telegram_id` (what `core.services.Services.member` reads, handed it by bot.py)."""
    return await session.get(Member, telegram_id)


async def refresh_username(session: AsyncSession, telegram_id: int, username: str | None) -> bool:
    """Keep the @username shown on account cards as Telegram shows it now: Telegram vouches for it on every
    update the account itself sends, so this is the account's own act (never a name someone typed). One
    conditional write, a no-op when another update got there first; True when it changed."""
    username = (username or "")[:64] or None
    result = await session.execute(
        update(Member)
        .where(
            Member.telegram_id == telegram_id,
            Member.active.is_(True),
            Member.username.is_distinct_from(username),
        )
        .values(username=username)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
