"""New-head appointments, buddy matches and check-ins."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from storage.base import Base, BigId, Timestamps, UTCDateTime
from storage.directory import Person, School


class Appointment(Timestamps, Base):
    __tablename__ = "appointment"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="SET NULL"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    new_to_headship: Mapped[bool] = mapped_column(Boolean, default=False)
    new_to_area: Mapped[bool] = mapped_column(Boolean, default=False)
    new_to_trust: Mapped[bool] = mapped_column(Boolean, default=False)
    new_to_phase: Mapped[bool] = mapped_column(Boolean, default=False)
    needs: Mapped[list] = mapped_column(JSON, default=list)  # canonical specialism names
    notes: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[int | None] = mapped_column(BigInteger)  # Telegram id
    reporter_relation: Mapped[str] = mapped_column(String(20), default="self")  # self|school|trust|office
    status: Mapped[str] = mapped_column(String(20), default="open")  # open|matched|closed
    # The day the post changed hands (directory/succession.py); None while the start date is ahead.
    took_effect: Mapped[dt.date | None] = mapped_column(Date)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    school: Mapped[School | None] = relationship()
    matches: Mapped[list[BuddyMatch]] = relationship(back_populates="appointment", order_by="BuddyMatch.id")


# A pairing that holds a buddy's place (directory.appointments.ACTIVE): at most one per appointment, so two
# coordinators confirming different suggestions at once ask one buddy, not two (storage/decisions.py).
ACTIVE_MATCH = "status IN ('requested', 'accepted')"


class BuddyMatch(Base):
    __tablename__ = "buddy_match"
    __table_args__ = (
        Index(
            "uq_buddy_match_active",
            "appointment_id",
            unique=True,
            sqlite_where=text(ACTIVE_MATCH),
            postgresql_where=text(ACTIVE_MATCH),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"), index=True)
    buddy_person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    # proposed | requested | accepted | declined | ended
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[int | None] = mapped_column(BigInteger)
    end_reason: Mapped[str | None] = mapped_column(Text)

    appointment: Mapped[Appointment] = relationship(back_populates="matches")
    buddy: Mapped[Person] = relationship(foreign_keys=[buddy_person_id])
    checkins: Mapped[list[CheckIn]] = relationship(back_populates="match", order_by="CheckIn.due_date")


class CheckIn(Base):
    __tablename__ = "buddy_checkin"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("buddy_match.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # two_weeks | half_term | hundred_days
    due_date: Mapped[dt.date] = mapped_column(Date)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    responder_id: Mapped[int | None] = mapped_column(BigInteger)
    answer: Mapped[str | None] = mapped_column(String(20))  # good | mixed | struggling
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    match: Mapped[BuddyMatch] = relationship(back_populates="checkins")
