"""School-to-school support: system leaders' capacity, requests for support, deployments, days and impact.

Every row is keyed by directory person ids (and the Telegram id of whoever acted), with ON DELETE CASCADE
from `person`, so erasing a person (storage/erasure.py deletes the person row) removes their requests,
deployments, logged days and impact answers with them.

Statuses (each change is one conditional UPDATE … WHERE status=… in directory/support_store.py):
  request:    waiting → asked → agreed → closed;  waiting|asked → declined (by the office) | withdrawn
  deployment: asked → accepted | declined | withdrawn;  accepted → closed
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from storage.base import Base, BigId, UTCDateTime
from storage.directory import Person, School

REQUEST_OPEN = ("waiting", "asked")
REQUEST_STATUSES = ("waiting", "asked", "agreed", "closed", "declined", "withdrawn")
DEPLOYMENT_STATUSES = ("asked", "accepted", "declined", "withdrawn", "closed")
# Deployments whose agreed days count against the system leader's capacity.
COUNTED = ("accepted", "closed")


class SupportLeader(Base):
    """What a system leader offers (one row per person, made when first set): days a year, the dates of
    designation and training, and which contact details they agree to share when introduced."""

    __tablename__ = "support_leader"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    capacity_days: Mapped[float | None] = mapped_column(Float)  # None: not set (nobody is asked)
    designated_on: Mapped[dt.date | None] = mapped_column(Date)
    trained_on: Mapped[dt.date | None] = mapped_column(Date)
    share_email: Mapped[bool] = mapped_column(Boolean, default=True)
    share_phone: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    updated_by: Mapped[int | None] = mapped_column(BigInteger)


class SupportRequest(Base):
    __tablename__ = "support_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="SET NULL"), index=True)
    # A system leader the school asked for by name (from their card): suggested first, never assumed.
    preferred_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    specialism: Mapped[str] = mapped_column(String(80))  # canonical specialism name
    phase: Mapped[str | None] = mapped_column(String(20))
    context: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[str] = mapped_column(String(20), default="this_term")  # soon | this_term | next_term
    days_wanted: Mapped[float] = mapped_column(Float, default=1.0)
    status: Mapped[str] = mapped_column(String(20), default="waiting", index=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger)  # Telegram id of the member who asked
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    brokered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # a system leader accepted
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    requester: Mapped[Person] = relationship(foreign_keys=[requester_person_id])
    school: Mapped[School | None] = relationship()
    deployments: Mapped[list[SupportDeployment]] = relationship(
        back_populates="request", order_by="SupportDeployment.id", passive_deletes=True
    )


class SupportDeployment(Base):
    __tablename__ = "support_deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_request.id", ondelete="CASCADE"), index=True)
    leader_person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="asked", index=True)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    # The bot asks in turn: the suggestions still to ask after this one (person ids), when the office said so.
    queue: Mapped[list] = mapped_column(JSON, default=list)
    focus: Mapped[str] = mapped_column(Text, default="")
    days_agreed: Mapped[float] = mapped_column(Float, default=0.0)
    days_delivered: Mapped[float] = mapped_column(Float, default=0.0)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    asked_by: Mapped[int | None] = mapped_column(BigInteger)
    asked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(BigInteger)

    request: Mapped[SupportRequest] = relationship(back_populates="deployments")
    leader: Mapped[Person] = relationship(foreign_keys=[leader_person_id])


class SupportDay(Base):
    """Days delivered, appended (a correction is a new row with negative days, by the office)."""

    __tablename__ = "support_day"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("support_deployment.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    days: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    on_date: Mapped[dt.date] = mapped_column(Date)
    logged_by: Mapped[int | None] = mapped_column(BigInteger)
    logged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)


class SupportImpact(Base):
    """The two-question impact check at the end: one answer per side (the school, the system leader)."""

    __tablename__ = "support_impact"
    __table_args__ = (UniqueConstraint("deployment_id", "side", name="uq_support_impact_side"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("support_deployment.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(10))  # school | leader
    recommend: Mapped[bool | None] = mapped_column(Boolean)
    what_changed: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(BigInteger)
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
