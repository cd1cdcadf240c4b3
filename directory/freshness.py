"""One directory across processes: has the database changed since the running bot built its index?

Every write to the directory tables (school, person, specialism, person_specialism) bumps the one-row
counter `directory_version` through database triggers (migration 0003), whoever makes it: this process,
the command line (`partnerbot import-directory`), a restore, another bot process, psql. The running bot
remembers the counter its index was built from (`Services.directory_version`) and a repeating job
(handlers/directory_watch.py) compares it with the database's: one primary-key read, so it can run
every few seconds. When they differ, the index is rebuilt off the event loop (directory.loader builds it
in a thread) while the old one keeps answering.

The counter is read *before* the index is loaded: a change that commits while loading leaves the counter
ahead of what was remembered, so the next check rebuilds again. Nothing is missed; at worst one rebuild
too many.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.directory import DirectoryVersion


async def directory_version(session: AsyncSession) -> int:
    """The database's directory change counter (0 when the row is missing, e.g. just emptied)."""
    value = await session.scalar(select(DirectoryVersion.counter).where(DirectoryVersion.id == 1))
    return int(value or 0)
