"""Exactly one running bot per database: two instances would both poll Telegram and both run the reminder
jobs. `partnerbot run` takes this lock before it starts and holds it until it exits.

- PostgreSQL: a session-level advisory lock on a connection kept open for the bot's lifetime. The holder
  is told apart by that connection's `application_name` ("partnerbot <host> pid <pid>") and its
  `backend_start` in pg_stat_activity, so a second instance can say who is running and since when. If
  that connection is lost the lock is gone too: `check()` notices, and the bot stops (systemd or the
  container then restarts it, and it takes the lock again or waits).
- SQLite: an exclusive `flock` on a file beside the database (`partnerbot.db.lock`), which holds the
  holder's host, pid and start time as JSON. "Beside the database" means beside the real file: the path in
  the URL is resolved (relative to the working directory, `~`, `..`, every symlink) first, so
  `sqlite:///./x.db`, `sqlite:////srv/bot/x.db` and a symlink to it all take the same lock. The kernel
  drops the lock when the process dies, so a crashed bot never leaves a stale lock behind; the file itself
  is left in place (deleting it would race).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool

from core import clock
from storage.db import make_engine

# pg_try_advisory_lock(bigint): an arbitrary key, the same in every PartnerBot ("PBOT" in ASCII).
ADVISORY_KEY = 0x50424F54
APPLICATION_NAME_PREFIX = "partnerbot "


class InstanceLockError(Exception):
    """Another instance holds the lock; the message says which, in one line."""

    def __init__(self, holder: Holder | None) -> None:
        self.holder = holder
        super().__init__(
            f"another PartnerBot is running on this database ({holder.describe()})"
            if holder
            else "another PartnerBot is running on this database"
        )


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int | None
    started_at: dt.datetime | None

    def describe(self) -> str:
        since = f", since {self.started_at.isoformat(timespec='seconds')}" if self.started_at else ""
        pid = f" pid {self.pid}" if self.pid else ""
        return f"on {self.host or 'an unknown host'}{pid}{since}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "pid": self.pid,
            "started_at": self.started_at.isoformat() if self.started_at else None,
        }


def this_process() -> Holder:
    return Holder(socket.gethostname(), os.getpid(), clock.now())


def database_file(database_url: str) -> Path | None:
    """The real file a SQLite URL names, resolved as the driver will open it (None: in memory, not SQLite)."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return None
    if not url.drivername.startswith("sqlite"):
        return None
    database = url.database or ""
    if database.startswith("file:"):  # a URI filename (?uri=true): the path part of it
        if url.query.get("mode") == "memory" or "mode=memory" in database:
            return None
        database = unquote(urlsplit(database).path)
    if not database or database == ":memory:":
        return None
    return Path(database).expanduser().resolve()


def lock_file_for(database_url: str) -> Path | None:
    """The lock file beside a SQLite database's real file (None for in-memory databases and PostgreSQL)."""
    path = database_file(database_url)
    if path is None:
        return None
    return path.with_name(path.name + ".lock")


class InstanceLock:
    """Taken with `await acquire(wait=...)`, released with `await release()`; `holder()` asks who has it."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.lock_file = lock_file_for(database_url)
        self.is_postgres = database_url.startswith("postgresql")
        self._fd: int | None = None
        self._engine: AsyncEngine | None = None
        self._conn: AsyncConnection | None = None
        self.held = False

    # --- taking and releasing ---------------------------------------------------------------------

    async def try_acquire(self) -> bool:
        if self.is_postgres:
            return await self._try_pg()
        if self.lock_file is None:  # an in-memory database cannot be shared anyway
            self.held = True
            return True
        return self._try_file()

    async def acquire(self, wait: bool = False, poll: float = 2.0, on_wait: Any = None) -> None:
        """Take the lock; without `wait`, raise InstanceLockError naming the holder when it is taken.
        With `wait`, try again every `poll` seconds (calling `on_wait(holder)` once)."""
        told = False
        while not await self.try_acquire():
            holder = await self.holder()
            if not wait:
                raise InstanceLockError(holder)
            if not told and on_wait is not None:
                on_wait(holder)
                told = True
            await asyncio.sleep(poll)

    async def release(self) -> None:
        self.held = False
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            except Exception:  # noqa: BLE001 - a lost connection has released the lock already
                pass
            try:
                await self._conn.close()
            finally:
                self._conn = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    async def check(self) -> bool:
        """Is the lock still ours? (On PostgreSQL the connection that holds it may have been lost.)"""
        if not self.held:
            return False
        if self._conn is None:
            return True
        try:
            still = (
                await self._conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                        "AND objid = :low AND granted"
                    ),
                    {"low": ADVISORY_KEY & 0xFFFFFFFF},
                )
            ).scalar_one()
        except Exception:  # noqa: BLE001 - the connection is gone, and the lock with it
            return False
        return bool(still)

    # --- who holds it -----------------------------------------------------------------------------

    async def holder(self) -> Holder | None:
        """Who holds the lock now (None when nobody, or when it cannot be told)."""
        if self.is_postgres:
            return await self._pg_holder()
        if self.lock_file is None or not self.lock_file.exists():
            return None
        return _read_holder(self.lock_file)

    async def is_held_elsewhere(self) -> bool:
        """Does another process hold the lock? Asks without taking it for long."""
        if self.is_postgres:
            return await self._pg_holder() is not None
        if self.lock_file is None or not self.lock_file.exists():
            return False
        fd = os.open(self.lock_file, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops the shared lock we may have taken
        return False

    # --- SQLite: a lock file ----------------------------------------------------------------------

    def _try_file(self) -> bool:
        assert self.lock_file is not None
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        me = this_process()
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me.as_dict()).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        self.held = True
        return True

    # --- PostgreSQL: an advisory lock ---------------------------------------------------------------

    async def _try_pg(self) -> bool:
        if self._engine is None:
            # Its own connection, outside the application's pool: it lives as long as the bot.
            self._engine = make_engine(self.database_url, poolclass=NullPool)
        conn = await self._engine.connect()
        try:
            me = this_process()
            name = f"{APPLICATION_NAME_PREFIX}{me.host} pid {me.pid}"[:63]
            await conn.execute(text("SELECT set_config('application_name', :n, false)"), {"n": name})
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})).scalar_one()
            # The lock is per session, not per transaction: end the implicit transaction, keep the session.
            await conn.commit()
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        self.held = True
        return True

    async def _pg_holder(self) -> Holder | None:
        engine = self._engine or make_engine(self.database_url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                row = (
                    await conn.execute(
                        text(
                            "SELECT a.application_name, a.backend_start, a.client_hostname, host(a.client_addr) "
                            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                            "WHERE l.locktype = 'advisory' AND l.objid = :low AND l.granted "
                            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                        ),
                        {"low": ADVISORY_KEY & 0xFFFFFFFF},
                    )
                ).first()
        finally:
            if engine is not self._engine:
                await engine.dispose()
        if row is None:
            return None
        return _holder_from_application_name(row[0] or "", row[1], row[2] or row[3] or "")


def _holder_from_application_name(name: str, started: dt.datetime | None, client: str) -> Holder:
    host, pid = client, None
    if name.startswith(APPLICATION_NAME_PREFIX):
        rest = name[len(APPLICATION_NAME_PREFIX) :]
        host_part, _, pid_part = rest.partition(" pid ")
        host = host_part or client
        pid = int(pid_part) if pid_part.isdigit() else None
    return Holder(host, pid, started)


def _read_holder(path: Path) -> Holder | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or not raw:
        return None
    started = raw.get("started_at")
    try:
        started_at = dt.datetime.fromisoformat(started) if isinstance(started, str) else None
    except ValueError:
        started_at = None
    pid = raw.get("pid")
    return Holder(str(raw.get("host") or ""), pid if isinstance(pid, int) else None, started_at)
