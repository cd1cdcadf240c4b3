"""What the coordinator's desk remembers: where each copy of an access request was sent (so every copy can
be edited once one coordinator decides), which one-time buttons have been pressed, and each coordinator's
desk settings (the daily digest, when they last read the check-in answers)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from storage.base import Base, BigId, UTCDateTime


class AccessRequestCopy(Base):
    """One coordinator's copy of an access request message."""

    __tablename__ = "access_request_copy"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("access_request.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)


class ButtonUse(Base):
    """A one-time button that has done its work: pressed on this message with this data. A second press
    (a double tap, an old copy) finds the row and is told it is already done."""

    __tablename__ = "button_use"
    __table_args__ = (UniqueConstraint("chat_id", "message_id", "data", name="uq_button_use_press"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[str] = mapped_column(String(64))
    used_by: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)


class DeskState(Base):
    """A coordinator's desk: whether the daily digest is on, and when they last read the check-in answers."""

    __tablename__ = "desk_state"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    checkins_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
