"""`partnerbot backup` / `restore`: round trips on SQLite and PostgreSQL (and across them), and files that
must be refused without changing anything."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.backup import BackupError, backup, restore
from storage.db import (
    current_revisions,
    make_engine,
    make_sessionmaker,
    upgrade_database,
)
from storage.members import AuditEntry
from storage.models import Person, ProgressUpdate
from tests.dbtools import UNICODE, empty_database, populate, snapshot

ROOT = Path(__file__).resolve().parent.parent


def _without_restore_entry(snap: dict) -> dict:
    snap = dict(snap)
    snap["audit_log"] = [r for r in snap["audit_log"] if r[4] != "database.restore"]
    return snap


async def test_round_trip_replaces_changed_data(db_url, sessionmaker, tmp_path):
    await populate(sessionmaker)
    engine = sessionmaker.kw["bind"]
    before = await snapshot(engine)
    file = tmp_path / "backup.zip"
    summary = await backup(engine, file)
    assert summary.rows == sum(len(rows) for rows in before.values()) and summary.rows > 20

    # change things after the backup
    async with sessionmaker.begin() as s:
        person = (await s.scalars(select(Person).where(Person.email == "sam@example.org"))).one()
        await s.delete(person)
        s.add(Person(first_name="Added", last_name="Later"))
    assert await snapshot(engine) != before

    await restore(engine, file)
    after = await snapshot(engine)
    assert _without_restore_entry(after) == before
    restored = [r for r in after["audit_log"] if r[4] == "database.restore"]
    assert len(restored) == 1
    async with sessionmaker() as s:
        head = (await s.scalars(select(Person).where(Person.email == "zoe@example.org"))).one()
        assert head.last_name == UNICODE and head.headship_start == dt.date(2019, 9, 1)


async def test_restore_into_an_empty_database_of_either_kind(db_url, sessionmaker, tmp_path):
    """Backup from this database; restore into an empty one of the same kind and into an empty SQLite file
    (so PostgreSQL → SQLite is covered too); every row, type and sequence comes back."""
    await populate(sessionmaker)
    engine = sessionmaker.kw["bind"]
    before = await snapshot(engine)
    file = tmp_path / "backup.zip"
    await backup(engine, file)

    targets = [empty_database(db_url, tmp_path), empty_database("sqlite+aiosqlite:///x", tmp_path)]
    for target in targets:
        async with target as url:
            other = make_engine(url)
            try:
                await restore(other, file)
                assert await current_revisions(other) == await current_revisions(engine)
                assert _without_restore_entry(await snapshot(other)) == before
                # new rows get fresh ids after a restore (PostgreSQL sequences were moved on)
                sm = make_sessionmaker(other)
                async with sm.begin() as s:
                    first = (await s.scalars(select(ProgressUpdate).order_by(ProgressUpdate.id))).first()
                    s.add(
                        ProgressUpdate(
                            action_id=first.action_id,
                            rag="G",
                            comment="after restore",
                            academic_year=2025,
                            term="spring",
                        )
                    )
                    s.add(Person(first_name="New", last_name="Person"))
                async with sm() as s:
                    ids = [p.id for p in await s.scalars(select(ProgressUpdate))]
                    assert len(ids) == len(set(ids)) == 3
                    restored = await s.scalars(select(AuditEntry).where(AuditEntry.action == "database.restore"))
                    assert restored.one().detail["file"] == "backup.zip"
            finally:
                await other.dispose()


async def test_sqlite_backup_restores_into_postgres(db_url, sessionmaker, tmp_path):
    """SQLite → this run's kind of database (on the PostgreSQL run: across databases)."""
    async with empty_database("sqlite+aiosqlite:///x", tmp_path) as sqlite_url:
        source = make_engine(sqlite_url)
        try:
            await upgrade_database(source)
            await populate(make_sessionmaker(source))
            before = await snapshot(source)
            await backup(source, tmp_path / "from-sqlite.zip")
        finally:
            await source.dispose()
    engine = sessionmaker.kw["bind"]
    await restore(engine, tmp_path / "from-sqlite.zip")
    assert _without_restore_entry(await snapshot(engine)) == before


def _rewrite(src: Path, dst: Path, change) -> None:
    """Copy a backup zip, passing each member's name and bytes through `change` (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)


def _manifest(edit):
    def change(name: str, data: bytes):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest).encode()

    return change


def _table(table: str, edit):
    def change(name: str, data: bytes):
        return edit(data) if name == f"tables/{table}.jsonl" else data

    return change


def _bad_date(data: bytes) -> bytes:
    first, rest = data.split(b"\n", 1)
    row = json.loads(first)
    return (
        json.dumps([v if not (isinstance(v, str) and v.startswith("2019-")) else "not a date" for v in row]).encode()
        + b"\n"
        + rest
    )


CORRUPTIONS = {
    "not a zip": (None, "not a zip archive"),
    "no manifest": (lambda n, d: None if n == "manifest.json" else d, "no manifest.json"),
    "foreign format": (_manifest(lambda m: m.update(format="something-else")), "another format"),
    "future version": (_manifest(lambda m: m.update(version=99)), "version 99 is not supported"),
    "unknown revision": (_manifest(lambda m: m.update(alembic_revision=["9999_future"])), "9999_future"),
    "truncated table": (_table("person", lambda d: d.split(b"\n", 1)[1]), "manifest says"),
    "edited row": (_table("person", lambda d: d.replace("Zoë".encode(), b"Zoe")), "checksum"),
    "wrong type": (_table("person", _bad_date), "column headship_start: not a date"),
    "broken json": (_table("plan_action", lambda d: d[:-5] + b"\n"), "not valid JSON"),
    "missing table": (lambda n, d: None if n == "tables/school.jsonl" else d, "no data for table school"),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
async def test_a_bad_file_is_refused_and_changes_nothing(case, db_url, sessionmaker, tmp_path):
    await populate(sessionmaker)
    engine = sessionmaker.kw["bind"]
    good = tmp_path / "good.zip"
    await backup(engine, good)
    async with sessionmaker.begin() as s:  # data that differs from the backup, so a restore would show
        s.add(Person(first_name="Only", last_name="Here"))
    before = await snapshot(engine)
    change, reason = CORRUPTIONS[case]
    bad = tmp_path / "bad.zip"
    if change is None:
        bad.write_bytes(os.urandom(2048))
    else:
        _rewrite(good, bad, change)
    with pytest.raises(BackupError, match=reason):
        await restore(engine, bad)
    assert await snapshot(engine) == before


async def test_backup_is_written_whole_or_not_at_all(db_url, sessionmaker, tmp_path):
    await populate(sessionmaker)
    file = tmp_path / "b.zip"
    file.write_bytes(b"previous backup")
    engine = sessionmaker.kw["bind"]
    await backup(engine, file)
    assert zipfile.ZipFile(file).namelist()[-1] == "manifest.json"
    assert not list(tmp_path.glob("*.partial"))


async def _cli(*args: str, stdin: bytes = b"") -> tuple[int, str]:
    """`partnerbot ARGS` through the real command line (cli.main)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from cli.main import main; main()",
        *args,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate(stdin)
    return proc.returncode, out.decode()


async def test_command_line(db_url, sessionmaker, tmp_path):
    await populate(sessionmaker)
    engine = sessionmaker.kw["bind"]
    before = await snapshot(engine)
    file = str(tmp_path / "cli.zip")
    code, out = await _cli("backup", file, "--database-url", db_url)
    assert code == 0, out
    assert "Backed up" in out
    # the database holds data: without --yes (and no terminal to ask) nothing happens
    async with sessionmaker.begin() as s:
        s.add(Person(first_name="Only", last_name="Here"))
    changed = await snapshot(engine)
    code, out = await _cli("restore", file, "--database-url", db_url)
    assert code == 1 and "--yes" in out
    assert await snapshot(engine) == changed
    code, out = await _cli("restore", file, "--database-url", db_url, "--yes")
    assert code == 0, out
    assert _without_restore_entry(await snapshot(engine)) == before
    # a foreign file: refused with the reason
    (tmp_path / "notes.txt").write_text("hello")
    code, out = await _cli("restore", str(tmp_path / "notes.txt"), "--database-url", db_url, "--yes")
    assert code == 1 and "not a zip archive" in out and "Nothing was changed" in out
