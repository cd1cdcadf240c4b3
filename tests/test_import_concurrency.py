"""One import at a time per database: two imports of the same file at once (asyncio.gather), in one
process or as two command-line runs with their own engines, leave one copy of everything.
On SQLite (BEGIN IMMEDIATE) and PostgreSQL (advisory lock)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from sqlalchemy import func, select

from directory.import_cli import import_directory
from directory.importer import apply_directory, parse_directory_file
from plans.cli import run_import_plan
from plans.importer import parse_plan
from plans.store import save_plan
from storage.directory import Person, School
from storage.plans import Action, Plan, Section

DATA = Path(__file__).parent / "data"
DIRECTORY = DATA / "directory-misspelt.csv"
PLAN = Path(__file__).parent / "data" / "action-plans" / "teaching-school-action-plan-2014-15.md"


async def _count(sessionmaker, model) -> int:  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_two_directory_imports_at_once_leave_one_copy(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_directory_file(DIRECTORY.read_bytes(), DIRECTORY.name)

    async def one() -> None:
        async with sessionmaker.begin() as session:
            await apply_directory(session, parsed, actor_id=None)

    await asyncio.gather(one(), one())
    assert parsed.schools and parsed.people
    schools, people = await _count(sessionmaker, School), await _count(sessionmaker, Person)
    # As many as one import of the file adds (the preview of an import into an empty directory says so).
    async with sessionmaker() as session:
        names = (await session.execute(select(Person.first_name, Person.last_name))).all()
    assert len(names) == len(set(names)) == people
    assert schools == 3 and people == 3


async def test_two_command_line_directory_imports_at_once(db_url, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    outs = [io.StringIO(), io.StringIO()]
    codes = await asyncio.gather(*(import_directory(db_url, DIRECTORY, out=o, err=o) for o in outs))
    assert codes == [0, 0], [o.getvalue() for o in outs]
    assert await _count(sessionmaker, School) == 3 and await _count(sessionmaker, Person) == 3


async def test_two_plan_imports_at_once_make_one_plan(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_plan(PLAN.read_bytes(), PLAN.name)

    async def one() -> None:
        async with sessionmaker.begin() as session:
            await save_plan(session, parsed, actor_id=None)

    await asyncio.gather(one(), one())
    assert await _count(sessionmaker, Plan) == 1
    assert await _count(sessionmaker, Action) == len(parsed.actions) == 22
    assert await _count(sessionmaker, Section) == len(parsed.sections)


async def test_two_command_line_plan_imports_at_once(db_url, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    outs = [io.StringIO(), io.StringIO()]
    codes = await asyncio.gather(*(run_import_plan(db_url, PLAN, out=o, err=o) for o in outs))
    assert codes == [0, 0], [o.getvalue() for o in outs]
    assert await _count(sessionmaker, Plan) == 1 and await _count(sessionmaker, Action) == 22
    said = "\n".join(o.getvalue() for o in outs)
    assert "Imported plan 1" in said and "Updated plan 1" in said  # the second found the first's plan
