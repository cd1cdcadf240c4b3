"""The action-plan store: plans, sections, actions, owners and appended progress updates."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from storage.base import Base, BigId, Timestamps, UTCDateTime


class Plan(Timestamps, Base):
    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    partnership: Mapped[str | None] = mapped_column(String(200))
    year: Mapped[str | None] = mapped_column(String(20))  # "2016-17"
    priority: Mapped[str | None] = mapped_column(Text)  # strategic priority
    aim: Mapped[str | None] = mapped_column(Text)
    success_criteria: Mapped[str | None] = mapped_column(Text)
    rag_set: Mapped[str] = mapped_column(String(20), default="R,A,G")  # codes in display order
    source_name: Mapped[str | None] = mapped_column(String(300))  # file it was imported from
    digest_chat_id: Mapped[int | None] = mapped_column(BigInteger)  # group chat for digests
    # Archived plans are not active: they leave every "Which plan?" keyboard and default listing, and
    # keep everything they hold; restoring makes them active again. `active` is what queries filter on.
    active: Mapped[bool] = mapped_column(default=True)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    archived_by: Mapped[int | None] = mapped_column(BigInteger, default=None)  # Telegram id; None = CLI

    sections: Mapped[list[Section]] = relationship(
        back_populates="plan", order_by="Section.position", cascade="all, delete-orphan"
    )
    actions: Mapped[list[Action]] = relationship(
        back_populates="plan", order_by="Action.position", cascade="all, delete-orphan"
    )
    meetings: Mapped[list[PlanMeeting]] = relationship(
        back_populates="plan", order_by="PlanMeeting.date", cascade="all, delete-orphan"
    )


class PlanCoordinator(Base):
    """People who coordinate a particular plan (besides the partnership's coordinators)."""

    __tablename__ = "plan_coordinator"

    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class Section(Base):
    __tablename__ = "plan_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300), default="")
    kpis: Mapped[str | None] = mapped_column(Text)

    plan: Mapped[Plan] = relationship(back_populates="sections")


class Action(Timestamps, Base):
    __tablename__ = "plan_action"
    __table_args__ = (UniqueConstraint("plan_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("plan_section.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    ref: Mapped[str] = mapped_column(String(20))  # "1.3", "c)"
    text: Mapped[str] = mapped_column(Text)
    impact: Mapped[str | None] = mapped_column(Text)
    owners_text: Mapped[str | None] = mapped_column(Text)  # as written in the plan
    # [{"text": ..., "date": "2015-01-01"|None, "when": "January 2015"}]
    milestones: Mapped[list] = mapped_column(JSON, default=list)
    timeline: Mapped[str | None] = mapped_column(Text)
    kpis: Mapped[str | None] = mapped_column(Text)
    funding: Mapped[str | None] = mapped_column(Text)  # "£ source", "Budget cost"
    reporting: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    extra: Mapped[dict] = mapped_column(JSON, default=dict)  # columns we kept but do not model
    aim: Mapped[str | None] = mapped_column(Text)  # the objective / recommendation the action serves
    # Set when a re-import of the plan no longer has this action (never deleted: its history stays);
    # archived actions leave pickers, lists, reminders and exports. A later re-import may bring it back.
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    plan: Mapped[Plan] = relationship(back_populates="actions")
    section: Mapped[Section | None] = relationship()
    owners: Mapped[list[ActionOwner]] = relationship(cascade="all, delete-orphan", order_by="ActionOwner.id")
    updates: Mapped[list[ProgressUpdate]] = relationship(
        back_populates="action", order_by="ProgressUpdate.id", cascade="all, delete-orphan"
    )


class ActionOwner(Base):
    """An owner of an action: linked to a directory person where matched, else kept as text."""

    __tablename__ = "plan_action_owner"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("plan_action.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(200))


class ProgressUpdate(Base):
    """One RAG rating and/or comment for an action in a term. Appended, never overwritten:
    a correction or withdrawal is a new row pointing at the one it replaces."""

    __tablename__ = "progress_update"
    # An update is corrected or withdrawn once: of two replacements at once only the first is stored.
    __table_args__ = (Index("uq_progress_update_replaces_id", "replaces_id", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("plan_action.id", ondelete="CASCADE"), index=True)
    rag: Mapped[str | None] = mapped_column(String(1))  # R/A/G/B; None = no change of rating
    comment: Mapped[str] = mapped_column(Text, default="")
    academic_year: Mapped[int] = mapped_column(Integer)  # 2025 for 2025-26
    term: Mapped[str] = mapped_column(String(10))  # autumn | spring | summer
    kind: Mapped[str] = mapped_column(String(12), default="update")  # update|correction|withdrawal|import
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("progress_update.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(BigInteger, index=True)  # Telegram id; None = import/CLI
    author_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    author_label: Mapped[str] = mapped_column(String(200), default="")  # "former member" after erasure
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)

    action: Mapped[Action] = relationship(back_populates="updates")


class PlanMeeting(Base):
    """Delivery-group meeting dates; reminders go out before each one."""

    __tablename__ = "plan_meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    plan: Mapped[Plan] = relationship(back_populates="meetings")


class ReminderSent(Base):
    """One reminder per owner per plan per term: the record that stops a stream."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("plan_id", "telegram_id", "academic_year", "term"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    academic_year: Mapped[int] = mapped_column(Integer)
    term: Mapped[str] = mapped_column(String(10))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)


class Holiday(Base):
    """School holidays (inclusive dates): no reminders go out in them."""

    __tablename__ = "holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(100), default="")
