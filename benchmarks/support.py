"""8. Support suggestions: who could support a school's request (directory.support_match over /sle's nearest,
with each system leader's days left, recent deployments and conflicts of interest read from the database),
beside the same need asked through /sle (`sle_candidates`, what the member sees), in the same run.

The directory is the lookup benchmark's (30,000 people, 25,000 schools at full size), loaded into SQLite (and
PostgreSQL when reachable); every system leader offers days, and a year of deployments is spread among them.
"""

from __future__ import annotations

import datetime as dt
import random
import time

from sqlalchemy import insert, select

from benchmarks.common import Env, Section, median, ms, percentile, times
from benchmarks.data import bench_directory
from benchmarks.lookup import directory_databases
from directory import deployments as dp
from directory.loader import load_index
from directory.search import DirectoryIndex, sle_candidates
from directory.support_match import Need, candidates, rank
from storage.db import make_engine, make_sessionmaker
from storage.directory import Person
from storage.support import SupportDeployment, SupportLeader, SupportRequest

TODAY = dt.date(2026, 3, 2)
SLE_LIMIT = 40  # what /sle lists (handlers/find.py SLE_MAX)


def _needs(index: DirectoryIndex, n: int, seed: int) -> list[Need]:
    rng = random.Random(f"support:{seed}")
    leaders = [p for p in index.system_leaders if p.specialisms]
    schools = list(index.school_by_id.values())
    out = []
    for _i in range(n):
        spec = rng.choice(rng.choice(leaders).specialisms)
        school = rng.choice(schools)
        phase = school.phase if rng.random() < 0.7 else None
        out.append(Need(spec, phase, school.id, float(rng.choice((1, 2, 3, 5)))))
    return out


async def _seed_support(url: str, seed: int) -> tuple[int, int]:
    """Capacity for every system leader and a year of accepted deployments; (leaders, deployments)."""
    rng = random.Random(f"support-rows:{seed}")
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            if await session.scalar(select(SupportLeader.person_id).limit(1)) is not None:
                leaders = list(await session.scalars(select(SupportLeader.person_id)))
                return len(leaders), -1
            leaders = list(await session.scalars(select(Person.id).where(Person.designations != "")))
            heads = list(await session.scalars(select(Person.id).where(Person.is_head.is_(True)).limit(5000)))
            now = dt.datetime.combine(TODAY, dt.time(9), tzinfo=dt.timezone.utc)
            await session.execute(
                insert(SupportLeader),
                [
                    {
                        "person_id": pid,
                        "capacity_days": float(rng.choice((5, 10, 20))),
                        "share_email": True,
                        "share_phone": True,
                        "updated_at": now,
                    }
                    for pid in leaders
                ],
            )
            n = len(leaders) * 2
            requests = [
                {
                    "requester_person_id": rng.choice(heads),
                    "specialism": "mathematics",
                    "context": "",
                    "urgency": "this_term",
                    "days_wanted": 2.0,
                    "status": "agreed",
                    "created_at": now - dt.timedelta(days=rng.randint(1, 180)),
                }
                for _i in range(n)
            ]
            await session.execute(insert(SupportRequest), requests)
            ids = list(await session.scalars(select(SupportRequest.id)))
            await session.execute(
                insert(SupportDeployment),
                [
                    {
                        "request_id": rid,
                        "leader_person_id": rng.choice(leaders),
                        "status": "accepted",
                        "reasons": [],
                        "queue": [],
                        "focus": "",
                        "days_agreed": 2.0,
                        "days_delivered": float(rng.randint(0, 3)),
                        "asked_at": now - dt.timedelta(days=120),
                        "decided_at": now - dt.timedelta(days=rng.randint(1, 150)),
                    }
                    for rid in ids
                ],
            )
            return len(leaders), len(ids)
    finally:
        await engine.dispose()


async def _with_database(url: str, index: DirectoryIndex, needs: list[Need]) -> tuple[list[float], int]:
    """The office's suggestions as the bot makes them: /sle's pool, then capacity and trusts from the database."""
    engine = make_engine(url)
    found_total = 0
    out = []
    try:
        maker = make_sessionmaker(engine)
        for need in needs:
            start = time.perf_counter()
            async with maker() as session:
                found = await dp.suggestions(session, index, need, TODAY, "trust", 3)
            out.append(time.perf_counter() - start)
            found_total += bool(found)
    finally:
        await engine.dispose()
    return out, found_total


async def run(env: Env) -> Section:
    s = env.sizes
    sec = Section(
        "8. Support suggestions",
        f"{s.people:,} people and {s.schools:,} schools; suggestions for a request (the office's view: /sle's "
        "nearest 400 for the need, then each one's days left this year, deployments in the last year and trust "
        "read from the database, conflicts of interest removed, ranked, reasons written) beside the same need "
        "through /sle (the nearest 40), in the same run. Baseline: /sle.",
    )
    directory = bench_directory(s.people, s.schools, s.seed)
    urls = await directory_databases(env, directory)
    engine = make_engine(urls["sqlite"])
    try:
        async with make_sessionmaker(engine)() as session:
            index = await load_index(session)
    finally:
        await engine.dispose()
    leaders, deployments = await _seed_support(urls["sqlite"], s.seed)
    needs = _needs(index, max(20, min(s.queries, 300)), s.seed)
    env.log(f"  {len(index.system_leaders):,} system leaders, {deployments:,} deployments; {len(needs)} requests")

    sle_times = []
    for need in needs:
        start = time.perf_counter()
        sle_candidates(index, need.specialism, phase=need.phase, limit=SLE_LIMIT, origin_school_id=need.school_id)
        sle_times.append(time.perf_counter() - start)

    # Ranking alone (capacity already in memory): what the pure logic adds to /sle.
    engine = make_engine(urls["sqlite"])
    try:
        async with make_sessionmaker(engine)() as session:
            every = [p.id for p in index.system_leaders]
            offers = await dp.offers(session, every, TODAY)
            trusts = await dp.trusts_of(session, index.school_by_id)
    finally:
        await engine.dispose()
    pure_times = []
    for need in needs:
        start = time.perf_counter()
        rank(candidates(index, need), need, offers, trusts, "trust", 3)
        pure_times.append(time.perf_counter() - start)

    sle = median(sle_times)
    sec.add("/sle for the need (nearest 40)", ms(sle), "", "", "baseline")
    sec.add(
        "suggestions, ranking in memory",
        ms(median(pure_times)),
        f"/sle {ms(sle)}",
        times(median(pure_times) / sle, "/sle"),
    )
    sec.figures.update({"sle_median": sle, "pure_median": median(pure_times)})
    for name, url in urls.items():
        if name != "sqlite":
            await _seed_support(url, s.seed)
        db_times, answered = await _with_database(url, index, needs)
        label = {"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(name, name)
        sec.add(
            f"suggestions with capacity read from {label}",
            ms(median(db_times)),
            f"/sle {ms(sle)}",
            times(median(db_times) / sle, "/sle"),
            "under 1 s a request",
            "met" if percentile(db_times, 99) < 1.0 else f"missed: p99 {ms(percentile(db_times, 99))}",
        )
        sec.figures[f"{name}_median"] = median(db_times)
        sec.notes.append(
            f"{label}: p99 {ms(percentile(db_times, 99))}; {answered} of {len(needs)} requests had a suggestion."
        )
    sec.notes.append(f"{leaders:,} system leaders offer days; /sle p99 {ms(percentile(sle_times, 99))}.")
    return sec
