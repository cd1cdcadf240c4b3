"""One import at a time per database, for every importer (directory and plans), from any process.

`take_import_lock(session)` must be the first statement of the import's transaction: the import reads
what exists and then writes what is new, and two imports that both read before either wrote would each
add the same schools, people or plan. With the lock, the second waits until the first has committed and
then reads what the first wrote.

- PostgreSQL: `pg_advisory_xact_lock`, released when the transaction ends (commit or rollback).
- SQLite: `BEGIN IMMEDIATE`, which takes the database's write lock before anything is read; a second
  writer waits for the connection's busy timeout (storage.db sets 30 s) and then fails with "database is
  locked", which `ImportBusy` reports as "another import is running".
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import _

IMPORT_LOCK_KEY = 0x5042494D  # "PBIM": any constant all our importers share


class ImportBusy(Exception):
    """Another import held the database for longer than we wait; str() is a translated sentence."""

    def __init__(self) -> None:
        super().__init__(_("another import is running on this database; please try again in a minute"))

    def __reduce__(self) -> tuple[type[ImportBusy], tuple[()]]:
        # Raised in the import's child process (directory.import_job) and sent back to the bot.
        return (ImportBusy, ())


async def take_import_lock(session: AsyncSession) -> None:
    """Wait for, then hold until the transaction ends, the database's one import lock."""
    dialect = session.bind.dialect.name
    try:
        if dialect == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})
        elif dialect == "sqlite":
            await session.execute(text("BEGIN IMMEDIATE"))
    except OperationalError as exc:
        if "within a transaction" in str(exc):
            return  # this transaction has written already, so it holds the write lock
        if "locked" in str(exc).lower() or "busy" in str(exc).lower():
            raise ImportBusy() from exc
        raise
