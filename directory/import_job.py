"""Previewing and importing a directory file off the event loop: read and applied in one child process.

Matching 50,000 rows against the directory already held is seconds of pure Python (keys, dictionaries,
comparisons) between the database calls; on the bot's event loop it stopped every other member's answer
for as long, and under load the import itself crawled (each of its awaits waited behind 40 members'
searches: 459 s for a 50,000-row register, benchmarks/RESULTS.md section 7). So the whole job, parse and
apply, runs in one sandboxed child (core.sandbox: a time and memory limit) with a database connection of
its own, and hands back the `ImportSummary`; the bot's loop only waits. A preview (dry run) is the same
job rolled back. The transaction is the child's: if the child is killed, nothing was committed.

An in-memory SQLite database cannot be reached from another process: there the file is parsed in the
sandbox and applied in the caller's process, as before.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from core.sandbox import Limits, run_bounded

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from directory.records import ImportSummary, ParsedDirectory

# Reading a 50,000-row register takes seconds and applying it some more; an import waiting for another
# import's lock (storage.import_lock) may wait minutes.
IMPORT_LIMITS = Limits(seconds=600.0, memory_bytes=2048 * 1024 * 1024)
# Of each list in the summary (rows skipped or rejected, head changes), how many cross back to the bot; the
# chat shows eight, the counts are whole (ImportSummary.trimmed).
SENT_BACK = 50


def reachable_from_another_process(database_url: str) -> bool:
    """False for an in-memory SQLite database (only the process that opened it sees it)."""
    if not database_url.startswith("sqlite"):
        return True
    path = database_url.split(":///", 1)[-1].split("?", 1)[0] if ":///" in database_url else ""
    return bool(path) and path != ":memory:" and "mode=memory" not in database_url


def _import_job(
    source: bytes | Path, filename: str, database_url: str, actor_id: int | None, dry_run: bool, now: dt.datetime
) -> ImportSummary:
    """Runs in the child (module-level, so it pickles). `now` is the parent's clock, so every timestamp
    the import writes is the one the bot would have written (a test's frozen clock included)."""
    from core import clock
    from directory.importer import parse_directory_file

    clock.set_clock(lambda: now)
    parsed = parse_directory_file(source, filename)
    return asyncio.run(_apply_in_child(database_url, parsed, actor_id, dry_run)).trimmed(SENT_BACK)


async def _apply_in_child(
    database_url: str, parsed: ParsedDirectory, actor_id: int | None, dry_run: bool
) -> ImportSummary:
    from sqlalchemy.pool import NullPool

    from storage.db import make_engine, make_sessionmaker

    engine = make_engine(database_url, poolclass=NullPool)  # one connection, closed with the job
    try:
        return await _apply(make_sessionmaker(engine), parsed, actor_id, dry_run)
    finally:
        await engine.dispose()


async def _apply(
    sessionmaker: async_sessionmaker[AsyncSession], parsed: ParsedDirectory, actor_id: int | None, dry_run: bool
) -> ImportSummary:
    """One transaction: committed, or (a dry run) rolled back."""
    from directory.saving import apply_directory

    async with sessionmaker() as session:
        summary = await apply_directory(session, parsed, actor_id, dry_run=dry_run)
        if dry_run:
            await session.rollback()
        else:
            await session.commit()
    return summary


async def import_directory_file(
    source: bytes | Path,
    filename: str,
    *,
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    actor_id: int | None,
    dry_run: bool,
    limits: Limits = IMPORT_LIMITS,
) -> ImportSummary:
    """Read `source` and apply it to the directory (or, `dry_run`, say what applying it would do).

    Raises what reading raises (`DirectoryImportError`, `SandboxError`: translated sentences), `ImportBusy`
    when another import holds the database, or the database's own error; nothing is half-imported."""
    from core import clock

    if reachable_from_another_process(database_url):
        return await run_bounded(
            _import_job, source, filename, database_url, actor_id, dry_run, clock.now(), limits=limits
        )
    from directory.reading import read_directory

    return await _apply(sessionmaker, await read_directory(source, filename), actor_id, dry_run)
