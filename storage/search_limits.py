"""Users over the search limit, in the `throttle` table: one atomic statement records the minute and
decides whether the coordinators are told (once an hour per user), so that stays right however many
searches arrive at once, and survives a restart. The in-memory count is core/throttle.py's."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, or_
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.throttle import window_start
from storage.members import Throttle

NOTIFY_EVERY = dt.timedelta(hours=1)


async def flag_over_limit(session: AsyncSession, telegram_id: int, count: int, now: dt.datetime | None = None) -> bool:
    """Record that `telegram_id` went over the limit; True when the coordinators should be told now
    (the first time this hour). One upsert, so simultaneous calls tell them once."""
    now = now or clock.now()
    window = window_start(now)
    note = f"{count} searches in the minute from {window.isoformat()}"
    bind = session.get_bind()
    insert = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(Throttle)
        .values(telegram_id=telegram_id, window_start=window, count=count)
        .on_conflict_do_update(
            index_elements=[Throttle.telegram_id],
            set_={
                "window_start": window,
                "count": case(
                    (and_(Throttle.window_start == window, Throttle.count > count), Throttle.count), else_=count
                ),
            },
        )
    )
    # Only one of any simultaneous calls finds the flag due and sets it: the row lock decides.
    flagged = await session.execute(
        sql_update(Throttle)
        .where(
            Throttle.telegram_id == telegram_id,
            or_(Throttle.flagged_at.is_(None), Throttle.flagged_at <= now - NOTIFY_EVERY),
        )
        .values(flagged_at=now, note=note)
        .returning(Throttle.telegram_id)
    )
    return flagged.first() is not None
