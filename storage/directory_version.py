"""A change counter for the directory, kept by the database itself.

Triggers (migration 0002) bump `directory_version.counter` and draw a new random `stamp` whenever a row
of person, school, specialism or person_specialism is inserted or deleted, or a column the search index
reads is updated, whoever does it (the bot, the command line, a restore, another process). The search
index's snapshot (directory.snapshot) records the stamp it was built from and is used only while the
database still shows that stamp. The random stamp, not the counter alone, is what is compared: a restore
can put back an old counter value but never a stamp drawn after the snapshot was written.
"""

from __future__ import annotations

import secrets

from sqlalchemy import BigInteger, Integer, String, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base

ROW_ID = 1
# The columns directory.loader reads: an update of any other column (phone, email ...) leaves the index valid.
WATCHED_COLUMNS = {
    "person": ("id", "title", "first_name", "last_name", "job_title", "school_id", "designations", "is_head"),
    "school": ("id", "urn", "name", "locality", "local_authority", "phase", "postcode", "easting", "northing"),
    "specialism": ("id", "name", "aliases"),
    "person_specialism": ("person_id", "specialism_id"),
}


class DirectoryVersion(Base):
    __tablename__ = "directory_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
    stamp: Mapped[str] = mapped_column(String(32), default="")


async def current_stamp(session: AsyncSession) -> str | None:
    """The directory's stamp now, or None when the database keeps none (not migrated, or the row is gone)."""
    try:
        return await session.scalar(select(DirectoryVersion.stamp).where(DirectoryVersion.id == ROW_ID))
    except SQLAlchemyError:
        return None


async def ensure_stamp(session: AsyncSession) -> str | None:
    """The stamp, creating the counter's row if it is missing (a truncated table); None if there is no table."""
    stamp = await current_stamp(session)
    if stamp:
        return stamp
    try:
        fresh = secrets.token_hex(8)
        if stamp is None and await session.get(DirectoryVersion, ROW_ID) is None:
            session.add(DirectoryVersion(id=ROW_ID, counter=0, stamp=fresh))
        else:
            await session.execute(update(DirectoryVersion).where(DirectoryVersion.id == ROW_ID).values(stamp=fresh))
        await session.flush()
        return fresh
    except SQLAlchemyError:
        return None
