"""Moving house: `partnerbot db copy --to URL`, SQLite into an empty PostgreSQL and back again, through the
real command line; the copy is checked row by row here as well as by the command's own counts and checksums."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import make_engine, make_sessionmaker, upgrade_database
from storage.db_copy import CopyError, copy_database, redact
from storage.members import AuditEntry
from tests.conftest import empty_postgres
from tests.dbtools import populate, snapshot

pytestmark = pytest.mark.postgres


def _copy(source_url: str, target_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "DATABASE_URL": source_url}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "db", "copy", "--to", target_url],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_sqlite_to_postgresql_and_back(tmp_path: Path, postgres_database: str) -> None:
    await empty_postgres(postgres_database)
    source_url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    source = make_engine(source_url)
    await upgrade_database(source)
    await populate(make_sessionmaker(source))
    before = await snapshot(source)
    await source.dispose()
    assert sum(len(rows) for rows in before.values()) > 20

    there = _copy(source_url, postgres_database, tmp_path)
    assert there.returncode == 0, there.stderr
    assert "Verified: every table has the same row count and SHA-256" in there.stdout
    pg = make_engine(postgres_database)
    copied = await snapshot(pg, skip=("audit_log",))
    async with pg.connect() as conn:
        copies = (
            await conn.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "database.copy"))
        ).scalar_one()
    await pg.dispose()
    assert copied == {k: v for k, v in before.items() if k != "audit_log"}
    assert copies == 1

    back_url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"  # does not exist yet: made and migrated
    back = _copy(postgres_database, back_url, tmp_path)
    assert back.returncode == 0, back.stderr
    engine = make_engine(back_url)
    returned = await snapshot(engine)
    await engine.dispose()
    for name, rows in before.items():
        if name == "audit_log":
            # the original entries, then one per copy
            assert returned[name][: len(rows)] == rows and len(returned[name]) == len(rows) + 2
        else:
            assert returned[name] == rows, name


async def test_refuses_a_target_with_data_and_changes_nothing(tmp_path: Path, postgres_database: str) -> None:
    await empty_postgres(postgres_database)
    source_url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    source = make_engine(source_url)
    await upgrade_database(source)
    await populate(make_sessionmaker(source))
    await source.dispose()
    target = make_engine(postgres_database)
    await populate(make_sessionmaker(target))
    before = await snapshot(target)
    with pytest.raises(CopyError, match="is not empty"):
        await copy_database(source_url, postgres_database)
    assert await snapshot(target) == before
    await target.dispose()
    result = _copy(
        source_url,
        postgres_database.replace("postgresql+asyncpg://postgres@", "postgresql://postgres:secret@"),
        tmp_path,
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "is not empty" in line and "secret" not in line


def test_redact_hides_the_password() -> None:
    assert redact("postgresql+asyncpg://bob:hunter2@db:5432/pb") == "postgresql+asyncpg://bob:***@db:5432/pb"
    assert redact("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"
