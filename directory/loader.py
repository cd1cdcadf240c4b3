"""Build the in-memory search index from the database: three bulk selects (schools; specialisms with who has
them; people), no per-row queries, and no ORM objects (rows of plain columns, dropped once the index holds
them). `load_person_entry` reads one person, for an in-place update of the index after an edit."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.search import DirectoryIndex, PersonEntry, SchoolEntry, SpecialismEntry
from storage.directory import Person, School, Specialism, person_specialism


async def load_index(session: AsyncSession) -> DirectoryIndex:
    school_rows = (
        await session.execute(
            select(
                School.id,
                School.urn,
                School.name,
                School.locality,
                School.local_authority,
                School.phase,
                School.postcode,
                School.easting,
                School.northing,
            )
        )
    ).all()
    schools = [
        SchoolEntry(
            id=r.id,
            urn=r.urn,
            name=r.name or "",
            locality=r.locality,
            local_authority=r.local_authority,
            phase=r.phase,
            postcode=r.postcode,
            easting=r.easting,
            northing=r.northing,
        )
        for r in school_rows
    ]
    by_id = {s.id: s for s in schools}

    # Specialisms and who has them, in one select (a specialism nobody has still comes with a null person).
    spec_rows = (
        await session.execute(
            select(Specialism.id, Specialism.name, Specialism.aliases, person_specialism.c.person_id).outerjoin(
                person_specialism, person_specialism.c.specialism_id == Specialism.id
            )
        )
    ).all()
    specialisms: dict[int, SpecialismEntry] = {}
    person_specs: dict[int, list[str]] = defaultdict(list)
    for r in spec_rows:
        if r.id not in specialisms:
            aliases = tuple(a.strip() for a in (r.aliases or "").split("|") if a.strip())
            specialisms[r.id] = SpecialismEntry(r.id, r.name, aliases)
        if r.person_id is not None:
            person_specs[r.person_id].append(r.name)

    person_rows = (await session.execute(select(*_PERSON_COLUMNS).where(Person.status == "current"))).all()
    # Former heads stay in the database for history but out of search (directory/succession.py).
    people = []
    for r in person_rows:
        school = by_id.get(r.school_id) if r.school_id is not None else None
        people.append(
            _person_entry(
                r,
                (school.name, school.locality, school.phase) if school else (None, None, None),
                person_specs.get(r.id, ()),
            )
        )
    # Building takes about a second at 50,000 entries: do it off the event loop so the bot keeps answering.
    return await asyncio.to_thread(DirectoryIndex, people, schools, list(specialisms.values()) or None)


async def load_person_entry(session: AsyncSession, person_id: int) -> PersonEntry | None:
    """One person as the index holds them (with their school's name, town and phase), or None if gone or no
    longer current (a former head: out of search, as in `load_index`)."""
    r = (
        await session.execute(
            select(*_PERSON_COLUMNS, School.name.label("school_name"), School.locality, School.phase)
            .outerjoin(School, School.id == Person.school_id)
            .where(Person.id == person_id, Person.status == "current")  # as the whole load: former heads are out
        )
    ).first()
    if r is None:
        return None
    specs = (
        await session.scalars(
            select(Specialism.name)
            .join(person_specialism, person_specialism.c.specialism_id == Specialism.id)
            .where(person_specialism.c.person_id == person_id)
        )
    ).all()
    at_school = r.school_id is not None
    return _person_entry(r, (r.school_name, r.locality, r.phase) if at_school else (None, None, None), specs)


# What the index holds of a person, read the same way for the whole directory and for one edited person.
_PERSON_COLUMNS = (
    Person.id,
    Person.title,
    Person.first_name,
    Person.last_name,
    Person.job_title,
    Person.school_id,
    Person.designations,
    Person.is_head,
)


def _person_entry(r: Any, school: tuple[str | None, str | None, str | None], specialisms: Iterable[str]) -> PersonEntry:
    """The index's entry for a row of _PERSON_COLUMNS; `school` is their school's (name, town, phase)."""
    return PersonEntry(
        id=r.id,
        title=r.title,
        first_name=r.first_name or "",
        last_name=r.last_name or "",
        job_title=r.job_title,
        school_id=r.school_id,
        school_name=school[0],
        locality=school[1],
        phase=school[2],
        designations=tuple(d.strip().upper() for d in (r.designations or "").split(",") if d.strip()),
        specialisms=tuple(sorted(specialisms)),
        is_head=bool(r.is_head),
    )
