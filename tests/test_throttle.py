"""Search throttling: counts per minute window, coordinators told once an hour, atomic under load."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from core.throttle import SearchCounter, judge, window_start
from storage.members import Member, Throttle, coordinator_ids
from storage.search_limits import flag_over_limit

T0 = dt.datetime(2025, 10, 6, 9, 15, 5, tzinfo=dt.timezone.utc)


async def _search(sessionmaker, counter: SearchCounter, uid: int, limit: int, now: dt.datetime):
    """What check_search_allowed does: count in memory; over the limit, flag in the database."""
    count = counter.hit(uid, now)
    if judge(count, limit):
        return True, count, False
    async with sessionmaker.begin() as session:
        return False, count, await flag_over_limit(session, uid, count, now)


async def test_limit_per_minute_and_notify_once_an_hour(sessionmaker):
    counter = SearchCounter()
    results = [await _search(sessionmaker, counter, 1001, 3, T0 + dt.timedelta(seconds=i)) for i in range(5)]
    assert [r[0] for r in results] == [True, True, True, False, False]
    assert [r[1] for r in results] == [1, 2, 3, 4, 5]
    assert [r[2] for r in results] == [False, False, False, True, False]
    # another user is not affected
    assert (await _search(sessionmaker, counter, 1002, 3, T0))[0]
    # the next minute starts a fresh count
    allowed, count, _told = await _search(sessionmaker, counter, 1001, 3, T0 + dt.timedelta(minutes=1))
    assert allowed and count == 1
    # over the limit again within the hour: slowed, but coordinators are not told twice
    for i in range(3):
        await _search(sessionmaker, counter, 1001, 3, T0 + dt.timedelta(minutes=1, seconds=i + 1))
    allowed, _count, told = await _search(sessionmaker, counter, 1001, 3, T0 + dt.timedelta(minutes=1, seconds=10))
    assert not allowed and not told
    # an hour after the first flag they are told again
    later = T0 + dt.timedelta(hours=1, minutes=1)
    for _ in range(3):
        assert (await _search(sessionmaker, counter, 1001, 3, later))[0]
    assert (await _search(sessionmaker, counter, 1001, 3, later))[2]
    async with sessionmaker() as session:
        row = await session.get(Throttle, 1001)
        assert row.flagged_at == later and row.window_start == window_start(later)
        assert "4 searches" in row.note


async def test_zero_limit_means_unlimited(sessionmaker):
    counter = SearchCounter()
    for _ in range(5):
        assert (await _search(sessionmaker, counter, 1001, 0, T0))[0]


async def test_ordinary_searches_write_nothing(sessionmaker):
    counter = SearchCounter()
    for _ in range(3):
        await _search(sessionmaker, counter, 1001, 3, T0)
    async with sessionmaker() as session:
        assert (await session.scalars(select(Throttle))).all() == []


async def test_simultaneous_flags_tell_the_coordinators_once(sessionmaker):
    async def flag(count: int) -> bool:
        async with sessionmaker.begin() as session:
            return await flag_over_limit(session, 1001, count, T0)

    told = await asyncio.gather(*(flag(11 + i) for i in range(15)))
    assert sum(told) == 1
    async with sessionmaker() as session:
        assert (await session.get(Throttle, 1001)).count == 25  # the highest count seen is kept


def test_counter_forgets_old_minutes() -> None:
    counter = SearchCounter()
    for uid in range(10_001):
        counter.hit(uid, T0)
    assert counter.hit(1, T0 + dt.timedelta(minutes=1)) == 1
    assert len(counter._counts) < 10


async def test_coordinator_ids(sessionmaker):
    async with sessionmaker.begin() as session:
        session.add_all(
            [
                Member(telegram_id=1, role="member"),
                Member(telegram_id=2, role="coordinator"),
                Member(telegram_id=3, role="admin"),
                Member(telegram_id=4, role="coordinator", active=False),
            ]
        )
    async with sessionmaker() as session:
        assert await coordinator_ids(session, (99,)) == [2, 3, 99]
        assert (await session.scalars(select(Member))).all()


async def test_scraping_in_chat_is_slowed_and_coordinators_told_once(chat, users, app):
    limit = app.bot_data["services"].settings.search_limit_per_minute
    assert limit > 0
    for i in range(limit):
        sent = await chat.send(f"/find Smith{i}", user=users.member)
        assert not any("searching very quickly" in s.text for s in sent)
    over = await chat.send("/find Jones", user=users.member)
    assert [s.chat_id for s in over if "searching very quickly" in s.text] == [users.member]
    told = [s.chat_id for s in over if "Telegram id 1001" in s.text]
    assert sorted(told) == [users.coordinator, users.admin]
    again = await chat.send("Jones", user=users.member)  # plain-text search counts too
    assert any("searching very quickly" in s.text for s in again)
    assert not any("Telegram id 1001" in s.text for s in again)
    # another member is not affected
    assert not any("searching very quickly" in s.text for s in await chat.send("/find Jones", user=users.lead))
