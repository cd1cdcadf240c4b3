"""Migrations: a database created by the first revision, with data in it, upgraded to the heads loses
nothing; every revision downgrades and upgrades again with the data intact; and the migrated schema is
exactly the models' (so no model change ships without its revision). On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import (
    alembic_config,
    current_revisions,
    downgrade_database,
    make_engine,
    upgrade_database,
)
from storage.models import Base
from tests.dbtools import UNICODE, empty_database

WHEN = dt.datetime(2025, 10, 6, 14, 30, 15, 123456, tzinfo=dt.timezone.utc)

# Rows as the first revision knows them (only columns present at that revision are written).
DATA: dict[str, list[dict[str, Any]]] = {
    "school": [
        {
            "id": 1,
            "urn": "100001",
            "name": "St Mary’s C of E Primary",
            "phase": "primary",
            "pupils": 210,
            "easting": 530000.5,
            "created_at": WHEN,
            "updated_at": WHEN,
        }
    ],
    "specialism": [{"id": 1, "name": "mathematics", "aliases": "maths|numeracy"}],
    "person": [
        {
            "id": 1,
            "first_name": "Zoë",
            "last_name": UNICODE,
            "email": "zoe@example.org",
            "school_id": 1,
            "is_head": True,
            "designations": "SLE",
            "headship_start": dt.date(2019, 9, 1),
            "mentor_capacity": 2,
            "buddy_status": "available",
            "created_at": WHEN,
            "updated_at": WHEN,
        }
    ],
    "person_specialism": [{"person_id": 1, "specialism_id": 1}],
    "member": [
        {
            "telegram_id": 5_000_000_001,
            "role": "lead",
            "display_name": "Zoë",
            "person_id": 1,
            "reminders": True,
            "active": True,
            "created_at": WHEN,
            "updated_at": WHEN,
        }
    ],
    "plan": [
        {
            "id": 1,
            "title": "Closing the gap 2025–26",
            "rag_set": "R,A,G",
            "active": True,
            "created_at": WHEN,
            "updated_at": WHEN,
        }
    ],
    "plan_section": [{"id": 1, "plan_id": 1, "position": 0, "title": "1. Reading"}],
    "plan_action": [
        {
            "id": 1,
            "plan_id": 1,
            "section_id": 1,
            "position": 0,
            "ref": "1.1",
            "text": "Phonics CPD",
            "milestones": [{"text": "Training", "date": "2025-11-01"}],
            "extra": {"£": "DSG"},
            "due_date": dt.date(2026, 7, 17),
            "created_at": WHEN,
            "updated_at": WHEN,
        }
    ],
    "progress_update": [
        {
            "id": 1,
            "action_id": 1,
            "rag": "A",
            "comment": "Started 🚀",
            "academic_year": 2025,
            "term": "autumn",
            "kind": "update",
            "author_id": 5_000_000_001,
            "author_label": "Zoë",
            "created_at": WHEN,
        }
    ],
    "audit_log": [
        {
            "id": 1,
            "at": WHEN,
            "actor_id": 5_000_000_001,
            "actor_label": "",
            "action": "progress.update",
            "entity": "progress_update",
            "entity_id": "1",
            "detail": {"rag": "A", "ref": "1.1"},
        }
    ],
    "bot_state": [{"kind": "conv", "key": '["update",1001,1001]', "data": 2, "updated_at": WHEN}],
}


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _first_revision() -> str:
    bases = _script().get_bases()
    assert len(bases) == 1
    return bases[0]


def _reflect(sync_conn: Any) -> MetaData:
    meta = MetaData()
    meta.reflect(sync_conn)
    return meta


async def _insert(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        meta = await conn.run_sync(_reflect)
        for name, rows in DATA.items():
            table = meta.tables[name]
            await conn.execute(table.insert(), [{k: v for k, v in r.items() if k in table.c} for r in rows])


def _norm(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, str) and value[:4].isdigit() and len(value) >= 19 and value[10] in " T":
        try:
            return _norm(dt.datetime.fromisoformat(value))
        except ValueError:
            return value
    return value


async def _assert_data(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        for name, rows in DATA.items():
            table = Base.metadata.tables[name]
            found = [dict(r._mapping) for r in (await conn.execute(select(table))).all()]
            assert len(found) == len(rows), name
            for want, got in zip(rows, found):
                for key, value in want.items():
                    assert _norm(got[key]) == value, (name, key, got[key], value)


def _diffs(sync_conn: Any) -> list[Any]:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": False})
    return compare_metadata(context, Base.metadata)


async def test_first_revision_with_data_upgrades_to_heads(db_url, tmp_path):
    async with empty_database(db_url, tmp_path) as url:
        engine = make_engine(url)
        try:
            first = _first_revision()
            await upgrade_database(engine, first)
            assert await current_revisions(engine) == (first,)
            await _insert(engine)
            await upgrade_database(engine)
            heads = set(_script().get_heads())
            assert set(await current_revisions(engine)) == heads
            await _assert_data(engine)
            await upgrade_database(engine)  # repeating is harmless
            await _assert_data(engine)
        finally:
            await engine.dispose()


async def test_every_revision_downgrades_and_upgrades_with_data(db_url, tmp_path):
    """Walk down one revision at a time to the first, then up again; the first revision's data survives.
    (With a single revision this is the round trip base → first → base → first on an empty database.)"""
    revisions = list(reversed(list(_script().walk_revisions())))  # oldest first
    async with empty_database(db_url, tmp_path) as url:
        engine = make_engine(url)
        try:
            await upgrade_database(engine, revisions[0].revision)
            await _insert(engine)
            await upgrade_database(engine)
            for rev in reversed(revisions[1:]):
                await downgrade_database(engine, rev.down_revision if isinstance(rev.down_revision, str) else "-1")
            assert await current_revisions(engine) == (revisions[0].revision,)
            await upgrade_database(engine)
            await _assert_data(engine)
        finally:
            await engine.dispose()
        # and the whole schema goes and comes back
        engine = make_engine(url)
        try:
            await downgrade_database(engine, "base")
            assert await current_revisions(engine) == ()
            async with engine.connect() as conn:
                left = set((await conn.run_sync(_reflect)).tables)
            assert left <= {"alembic_version"}
            await upgrade_database(engine)
            async with engine.connect() as conn:
                assert await conn.run_sync(_diffs) == []
        finally:
            await engine.dispose()


async def test_migrated_schema_matches_the_models(db_url):
    """`db_url` is migrated to heads by the fixture; the models must not differ from it."""
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diffs) == []
    finally:
        await engine.dispose()
