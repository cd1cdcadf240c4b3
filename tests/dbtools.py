"""Helpers for tests that need a database of their own besides the `db_url` fixture's: an empty
database of the same kind (a new SQLite file, or a new PostgreSQL database on the same server),
and a snapshot of every table for before/after comparisons."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Base


@asynccontextmanager
async def empty_database(like_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database with no tables at all, of the same kind as `like_url`; dropped afterwards."""
    if like_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / ('empty-' + uuid.uuid4().hex[:8] + '.db')}"
        return
    import asyncpg

    url = make_url(like_url)
    name = f"pb_extra_{uuid.uuid4().hex[:10]}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def snapshot(engine: AsyncEngine, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered by primary key (not the directory change counter, which is no data:
    storage.backup.NOT_BACKED_UP)."""
    from storage.backup import NOT_BACKED_UP

    out = {}
    async with engine.connect() as conn:
        for tbl in Base.metadata.sorted_tables:
            if tbl.name in skip or tbl.name in NOT_BACKED_UP:
                continue
            order = list(tbl.primary_key.columns) or list(tbl.columns)
            out[tbl.name] = [tuple(r) for r in (await conn.execute(select(tbl).order_by(*order))).all()]
    return out


UNICODE = "Zoë O’Brien-Łukasiewicz — مدرسة 学校 👩‍🏫 <b>&amp;"


async def populate(sessionmaker: Any) -> dict[str, int]:
    """A small directory, a plan with progress, a new-head appointment, members, audit and bot state,
    with the awkward values a backup or migration must carry: unicode, JSON, dates, datetimes, NULLs."""
    import datetime as dt

    from storage import audit
    from storage.models import (
        AccessRequest,
        Action,
        ActionOwner,
        Appointment,
        BotState,
        BuddyMatch,
        CheckIn,
        Holiday,
        Member,
        Person,
        Plan,
        PlanMeeting,
        ProgressUpdate,
        School,
        Section,
        Specialism,
        Throttle,
    )

    when = dt.datetime(2025, 10, 6, 14, 30, 15, 123456, tzinfo=dt.timezone.utc)
    async with sessionmaker.begin() as s:
        school = School(
            urn="100001",
            name="St Mary’s C of E Primary",
            phase="primary",
            locality="Hove",
            easting=530000.5,
            northing=104000.25,
            pupils=210,
            created_at=when,
        )
        maths = Specialism(name="mathematics", aliases="maths|numeracy")
        head = Person(
            title="Dr",
            first_name="Zoë",
            last_name=UNICODE,
            job_title="Headteacher",
            is_head=True,
            school=school,
            email="zoe@example.org",
            phone="01273 000000",
            designations="SLE,NLE",
            headship_start=dt.date(2019, 9, 1),
            mentor_capacity=2,
            specialisms=[maths],
            notes="line one\nline two\t\u200f\u200b",
        )
        newbie = Person(first_name="Sam", last_name="New", school=school, email="sam@example.org")
        s.add_all([school, maths, head, newbie])
        await s.flush()
        s.add_all(
            [
                Member(telegram_id=5_000_000_001, role="lead", display_name="Zoë", person_id=head.id, approved_at=when),
                AccessRequest(telegram_id=9001, name="Stranger ☃", school="?", created_at=when),
            ]
        )
        plan = Plan(title="Closing the gap 2025–26", partnership="Hove Partnership", year="2025-26", rag_set="B,R,A,G")
        section = Section(plan=plan, position=1, title="1. Reading", kpis="90% ≥ expected")
        action = Action(
            plan=plan,
            section=section,
            position=1,
            ref="1.1",
            text="Phonics CPD for all KS1 staff",
            milestones=[{"text": "Training", "date": "2025-11-01", "when": "November 2025"}],
            extra={"£ source": "DSG", "nested": {"list": [1, 2.5, None, True]}},
            due_date=dt.date(2026, 7, 17),
        )
        action.owners.append(ActionOwner(name="Dr Zoë", person_id=head.id))
        s.add_all([plan, section, action])
        await s.flush()
        first = ProgressUpdate(
            action_id=action.id,
            rag="A",
            comment="Started — 50% done 🚀",
            academic_year=2025,
            term="autumn",
            author_id=5_000_000_001,
            author_person_id=head.id,
            created_at=when,
        )
        s.add(first)
        await s.flush()
        s.add(
            ProgressUpdate(
                action_id=action.id,
                rag="G",
                comment="=SUM(A1:A9)",
                academic_year=2025,
                term="autumn",
                kind="correction",
                replaces_id=first.id,
                author_id=5_000_000_001,
                created_at=when + dt.timedelta(days=1),
            )
        )
        s.add_all(
            [
                PlanMeeting(plan_id=plan.id, date=dt.date(2025, 12, 1)),
                Holiday(start=dt.date(2025, 12, 20), end=dt.date(2026, 1, 4), label="Christmas"),
            ]
        )
        appt = Appointment(
            person_id=newbie.id,
            school_id=school.id,
            start_date=dt.date(2026, 1, 5),
            new_to_headship=True,
            needs=["mathematics", "safeguarding"],
        )
        s.add(appt)
        await s.flush()
        match = BuddyMatch(
            appointment_id=appt.id,
            buddy_person_id=head.id,
            score=0.87,
            reasons=["same phase", "4.2 km"],
            status="accepted",
            created_at=when,
        )
        s.add(match)
        await s.flush()
        s.add(CheckIn(match_id=match.id, kind="two_weeks", due_date=dt.date(2026, 1, 19)))
        s.add(BotState(kind="conv", key='["update",1001,1001]', data=2))
        s.add(BotState(kind="user", key="1001", data={"draft": {"rag": "A", "comment": "Brouillon — ✓ مسودة"}}))
        s.add(Throttle(telegram_id=1001, window_start=when, count=3))
        audit.record(s, 5_000_000_001, "person.update", "person", head.id, field="phone", old=None, new="01273")
    return {"head": head.id, "newbie": newbie.id, "action": action.id, "school": school.id, "plan": plan.id}
