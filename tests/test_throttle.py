"""Search throttling: counts per minute window, coordinators told once an hour, atomic under load."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from core.throttle import coordinator_ids, record_search, window_start
from storage.access import Member, Throttle

T0 = dt.datetime(2025, 10, 6, 9, 15, 5, tzinfo=dt.timezone.utc)


async def _search(sessionmaker, uid: int, limit: int, now: dt.datetime):
    async with sessionmaker.begin() as session:
        return await record_search(session, uid, limit, now)


async def test_limit_per_minute_and_notify_once_an_hour(sessionmaker):
    results = [await _search(sessionmaker, 1001, 3, T0 + dt.timedelta(seconds=i)) for i in range(5)]
    assert [r.allowed for r in results] == [True, True, True, False, False]
    assert [r.count for r in results] == [1, 2, 3, 4, 5]
    assert [r.notify for r in results] == [False, False, False, True, False]
    # another user is not affected
    assert (await _search(sessionmaker, 1002, 3, T0)).allowed
    # the next minute starts a fresh count
    nxt = await _search(sessionmaker, 1001, 3, T0 + dt.timedelta(minutes=1))
    assert nxt.allowed and nxt.count == 1
    # over the limit again within the hour: slowed, but coordinators are not told twice
    for i in range(3):
        await _search(sessionmaker, 1001, 3, T0 + dt.timedelta(minutes=1, seconds=i + 1))
    again = await _search(sessionmaker, 1001, 3, T0 + dt.timedelta(minutes=1, seconds=10))
    assert not again.allowed and not again.notify
    # an hour after the first flag they are told again
    later = T0 + dt.timedelta(hours=1, minutes=1)
    for i in range(3):
        assert (await _search(sessionmaker, 1001, 3, later)).allowed
    assert (await _search(sessionmaker, 1001, 3, later)).notify
    async with sessionmaker() as session:
        row = await session.get(Throttle, 1001)
        assert row.flagged_at == later and row.window_start == window_start(later)
        assert "4 searches" in row.note


async def test_zero_limit_means_unlimited(sessionmaker):
    for i in range(5):
        assert (await _search(sessionmaker, 1001, 0, T0)).allowed


async def test_simultaneous_searches_are_counted_exactly(sessionmaker):
    limit, n = 10, 25
    results = await asyncio.gather(*(_search(sessionmaker, 1001, limit, T0) for _ in range(n)))
    assert sorted(r.count for r in results) == list(range(1, n + 1))
    assert sum(r.allowed for r in results) == limit
    assert sum(r.notify for r in results) == 1


async def test_coordinator_ids(sessionmaker):
    async with sessionmaker.begin() as session:
        session.add_all([
            Member(telegram_id=1, role="member"), Member(telegram_id=2, role="coordinator"),
            Member(telegram_id=3, role="admin"), Member(telegram_id=4, role="coordinator", active=False),
        ])
    async with sessionmaker() as session:
        assert await coordinator_ids(session, (99,)) == [2, 3, 99]
        assert (await session.scalars(select(Member))).all()
