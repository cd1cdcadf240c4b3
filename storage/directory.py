"""The directory: schools, people, specialisms and designations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from storage.base import Base, BigId, Timestamps, UTCDateTime

PHASES = ("nursery", "primary", "middle", "secondary", "all-through", "special", "pru", "16-plus")
DESIGNATIONS = ("SLE", "NLE", "LLE", "NLG")

person_specialism = Table(
    "person_specialism",
    Base.metadata,
    Column("person_id", ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    Column("specialism_id", ForeignKey("specialism.id", ondelete="CASCADE"), primary_key=True),
)


class School(Timestamps, Base):
    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    urn: Mapped[str | None] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str | None] = mapped_column(String(20))  # one of PHASES
    school_type: Mapped[str | None] = mapped_column(String(120))
    local_authority: Mapped[str | None] = mapped_column(String(120))
    locality: Mapped[str | None] = mapped_column(String(120))  # town or area used for "near me"
    postcode: Mapped[str | None] = mapped_column(String(10))
    trust: Mapped[str | None] = mapped_column(String(200))
    pupils: Mapped[int | None] = mapped_column(Integer)
    low_age: Mapped[int | None] = mapped_column(Integer)
    high_age: Mapped[int | None] = mapped_column(Integer)
    # Ordnance Survey grid (metres) from the register, for distances between schools.
    easting: Mapped[float | None] = mapped_column(Float)
    northing: Mapped[float | None] = mapped_column(Float)
    phone: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))  # the school office's address

    people: Mapped[list[Person]] = relationship(back_populates="school")


class Specialism(Base):
    __tablename__ = "specialism"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)  # canonical, e.g. "mathematics"
    aliases: Mapped[str] = mapped_column(Text, default="")  # "|"-separated, e.g. "maths|numeracy"


class Person(Timestamps, Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str | None] = mapped_column(String(40))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    job_title: Mapped[str | None] = mapped_column(String(120))  # "Headteacher", "SENDCo" ...
    is_head: Mapped[bool] = mapped_column(Boolean, default=False)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="SET NULL"), index=True)
    email: Mapped[str | None] = mapped_column(String(200), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    designations: Mapped[str] = mapped_column(String(40), default="")  # "SLE,NLE"
    headship_start: Mapped[dt.date | None] = mapped_column(Date)
    mentor_capacity: Mapped[int] = mapped_column(Integer, default=0)  # buddy places offered
    # available | opted_out | paused (until buddy_paused_until)
    buddy_status: Mapped[str] = mapped_column(String(20), default="available")
    buddy_paused_until: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    # current | former (a head whose successor has started: kept for history, out of default search)
    status: Mapped[str] = mapped_column(String(20), default="current", server_default="current")
    left_on: Mapped[dt.date | None] = mapped_column(Date)  # the day they stopped being head (former heads)
    # The termly check (directory/currency.py): the day the member last said "all correct", and the term
    # (code, "2026-autumn") they were last asked in.
    checked_on: Mapped[dt.date | None] = mapped_column(Date)
    check_asked: Mapped[str | None] = mapped_column(String(20))
    # The day a coordinator last had the member asked again from the desk (at most once a day: a conditional
    # write on this stamp, directory/currency.py `remind`).
    check_reminded_on: Mapped[dt.date | None] = mapped_column(Date)

    school: Mapped[School | None] = relationship(back_populates="people")
    specialisms: Mapped[list[Specialism]] = relationship(secondary=person_specialism)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)

    @property
    def is_former(self) -> bool:
        return self.status == "former"

    @property
    def designation_list(self) -> list[str]:
        return [d for d in self.designations.split(",") if d]


class EntryChange(Base):
    """A change to someone else's entry, waiting for a coordinator (directory/integrity.py). Appended; the
    decision is recorded on the row and in the audit log."""

    __tablename__ = "entry_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # "appointment" (a /newhead for someone else) | "person"
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | confirmed | rejected
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DirectoryVersion(Base):
    """One row whose counter every write to the directory tables bumps, by database triggers (migration
    0003), whoever writes: the bot, the command line, a restore, another process. A running bot compares
    it with the counter its index was built at (directory/freshness.py)."""

    __tablename__ = "directory_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
