"""One running bot per database, in process: the PostgreSQL advisory lock and the SQLite lock file, who holds
them, waiting, and a lost PostgreSQL connection noticed. (Two real processes: tests/test_serve.py.)"""

from __future__ import annotations

import asyncio
import os
import socket

import pytest
from sqlalchemy import text

from storage.db import make_engine
from storage.instance_lock import InstanceLock, InstanceLockError, lock_file_for


async def test_only_one_holder_and_it_is_named(db_url: str) -> None:
    first, second = InstanceLock(db_url), InstanceLock(db_url)
    await first.acquire()
    try:
        with pytest.raises(InstanceLockError) as refused:
            await second.acquire()
        holder = refused.value.holder
        assert holder is not None and holder.host == socket.gethostname() and holder.pid == os.getpid()
        assert holder.started_at is not None
        assert f"pid {os.getpid()}" in str(refused.value) and "since" in str(refused.value)
        assert await second.is_held_elsewhere() and await first.check()
    finally:
        await first.release()
    assert not await second.is_held_elsewhere()
    await second.acquire()  # free again
    await second.release()


async def test_wait_takes_over_when_the_holder_stops(db_url: str) -> None:
    first, second = InstanceLock(db_url), InstanceLock(db_url)
    await first.acquire()
    told: list[object] = []
    waiting = asyncio.create_task(second.acquire(wait=True, poll=0.1, on_wait=told.append))
    await asyncio.sleep(0.5)
    assert not waiting.done() and len(told) == 1
    await first.release()
    await asyncio.wait_for(waiting, 10)
    assert second.held and await second.check()
    await second.release()


@pytest.mark.postgres
async def test_a_lost_postgres_connection_is_noticed(postgres_database: str) -> None:
    lock = InstanceLock(postgres_database)
    await lock.acquire()
    try:
        engine = make_engine(postgres_database)
        async with engine.begin() as conn:  # what a database restart does to the bot's connection
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name LIKE 'partnerbot %' AND pid <> pg_backend_pid()"
                )
            )
        await engine.dispose()
        assert not await lock.check()
        other = InstanceLock(postgres_database)
        assert await other.try_acquire()  # the lock went with the connection
        await other.release()
    finally:
        await lock.release()


def test_the_lock_file_sits_beside_the_database(tmp_path) -> None:
    assert lock_file_for(f"sqlite+aiosqlite:///{tmp_path}/p.db") == tmp_path / "p.db.lock"
    assert lock_file_for("sqlite+aiosqlite:///:memory:") is None
    assert lock_file_for("postgresql+asyncpg://u@h/db") is None
