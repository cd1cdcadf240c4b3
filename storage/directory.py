"""The directory: schools, people, specialisms and designations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
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

from storage.base import Base, Timestamps

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

    school: Mapped[School | None] = relationship(back_populates="people")
    specialisms: Mapped[list[Specialism]] = relationship(secondary=person_specialism)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)

    @property
    def designation_list(self) -> list[str]:
        return [d for d in self.designations.split(",") if d]
