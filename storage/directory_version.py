"""The directory's change counter, kept by the database itself (migration 0003: triggers on school, person,
specialism and person_specialism bump it on every write, whoever writes: the bot, the command line, a
restore, another process).

The search index's snapshot (directory.snapshot) is keyed by this counter. Writing a snapshot first moves
the counter on by a random jump (`claim_version`), so a key is a value the counter held only at that
moment: a restore or an emptied table, which put the counter back to an old or small value, cannot make
an old snapshot look current.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.directory import DirectoryVersion

ROW_ID = 1


async def current_version(session: AsyncSession) -> int | None:
    """The counter now, or None when the database keeps none (not migrated, or the row is gone)."""
    try:
        value = await session.scalar(select(DirectoryVersion.counter).where(DirectoryVersion.id == ROW_ID))
    except SQLAlchemyError:
        return None
    return None if value is None else int(value)


async def claim_version(session: AsyncSession) -> int | None:
    """Move the counter on by a random jump (creating its row if missing) and return the new value; None
    when the database has no counter. Call in the transaction that then reads the directory."""
    jump = secrets.randbelow(1 << 40) + (1 << 20)
    try:
        row = await session.get(DirectoryVersion, ROW_ID)
        if row is None:
            session.add(DirectoryVersion(id=ROW_ID, counter=jump))
            await session.flush()
            return jump
        await session.execute(
            update(DirectoryVersion)
            .where(DirectoryVersion.id == ROW_ID)
            .values(counter=DirectoryVersion.counter + jump)
        )
        return await current_version(session)
    except SQLAlchemyError:
        return None
