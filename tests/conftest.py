"""Databases for tests: a migrated SQLite file per test, and (with TEST_POSTGRES_URL) a PostgreSQL
database of this run's own, emptied before each test. REQUIRE_POSTGRES=1 makes a missing server an error."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import make_engine, make_sessionmaker, upgrade_database
from storage.models import Base

pytest_plugins = ["tests.harness"]

PG_URL = os.environ.get("TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


def _run_sync(coro_fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion from sync code, even when an event loop is running here:
    session fixtures may first be needed from inside an async test's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(coro_fn())).result()


def _migrate(url: str) -> None:
    async def run() -> None:
        engine = make_engine(url)
        await upgrade_database(engine)
        await engine.dispose()

    _run_sync(run)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite+aiosqlite:///{path}")
    return path


def _pg_admin_dsn(url: str) -> tuple[str, str]:
    """(asyncpg DSN of the server's maintenance db, base URL without the db name)."""
    base, _sep, _db = url.rpartition("/")
    return base.replace("postgresql+asyncpg://", "postgresql://") + "/postgres", base


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    if not PG_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests need TEST_POSTGRES_URL")
    import asyncpg

    admin_dsn, base = _pg_admin_dsn(PG_URL)
    name = f"pb_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    try:
        _run_sync(create)
    except (OSError, asyncpg.PostgresError) as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = f"{base}/{name}"
    _migrate(url)
    yield url
    _run_sync(drop)


async def empty_postgres(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database: a SQLite file, or this run's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_database")
        await empty_postgres(url)
        yield url


@pytest.fixture
async def sessionmaker(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    await engine.dispose()
