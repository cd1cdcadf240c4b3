"""Per-user search throttling: someone copying the directory search by search is slowed, and the
coordinators are told (once an hour per user).

The count of the current minute lives in memory (`SearchCounter`): an ordinary search costs no
database write, which keeps lookups quick. Only a user over the limit is written to the `throttle`
table, with one atomic statement that also decides whether the coordinators are told (once an hour),
so that stays right however many searches arrive at once and survives a restart. A restart forgets
at most one minute's counts, which only lets a scraper start a fresh minute early.

Search handlers call `await check_search_allowed(update, context)` first and stop when it is False
(the user has already been told to slow down).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import and_, case, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import TelegramError

from core import clock
from core.text import t
from storage import audit
from storage.members import Member, Role, Throttle

log = logging.getLogger(__name__)

NOTIFY_EVERY = dt.timedelta(hours=1)


def window_start(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.timezone.utc).replace(second=0, microsecond=0)


class SearchCounter:
    """Searches per user in the current minute window, in memory."""

    def __init__(self) -> None:
        self._counts: dict[int, tuple[dt.datetime, int]] = {}

    def hit(self, telegram_id: int, now: dt.datetime | None = None) -> int:
        """Count one search; returns the number in this minute, this one included."""
        window = window_start(now or clock.now())
        start, count = self._counts.get(telegram_id, (window, 0))
        count = count + 1 if start == window else 1
        self._counts[telegram_id] = (window, count)
        if len(self._counts) > 10_000:  # forget users whose minute has passed
            self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
        return count


def judge(count: int, limit: int) -> bool:
    """May the `count`-th search of the minute run? `limit` <= 0 means no limit."""
    return limit <= 0 or count <= limit


async def flag_over_limit(session: AsyncSession, telegram_id: int, count: int,
                          now: dt.datetime | None = None) -> bool:
    """Record that `telegram_id` went over the limit; True when the coordinators should be told now
    (the first time this hour). One upsert, so simultaneous calls tell them once."""
    now = now or clock.now()
    window = window_start(now)
    note = f"{count} searches in the minute from {window.isoformat()}"
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(Throttle).values(telegram_id=telegram_id, window_start=window, count=count)
                          .on_conflict_do_update(index_elements=[Throttle.telegram_id], set_={
                              "window_start": window,
                              "count": case((and_(Throttle.window_start == window, Throttle.count > count),
                                             Throttle.count), else_=count)}))
    # Only one of any simultaneous calls finds the flag due and sets it: the row lock decides.
    flagged = await session.execute(
        sql_update(Throttle)
        .where(Throttle.telegram_id == telegram_id,
               or_(Throttle.flagged_at.is_(None), Throttle.flagged_at <= now - NOTIFY_EVERY))
        .values(flagged_at=now, note=note)
        .returning(Throttle.telegram_id))
    return flagged.first() is not None


async def coordinator_ids(session: AsyncSession, admin_ids: tuple[int, ...] = ()) -> list[int]:
    """Telegram ids of active coordinators and admins (including admins named in settings)."""
    rows = await session.scalars(select(Member).where(Member.active.is_(True)))
    ids = {m.telegram_id for m in rows if m.role_enum >= Role.COORDINATOR}
    return sorted(ids | set(admin_ids))


async def check_search_allowed(update: Update, context: Any) -> bool:
    """Count a search; False (after telling the user to slow down) when they are over the limit."""
    from core.reply import answer, reply, send

    user = update.effective_user
    if user is None:
        return False
    services = context.services
    limit = services.settings.search_limit_per_minute
    count = services.search_counter.hit(user.id)
    if judge(count, limit):
        return True
    recipients: list[int] = []
    async with services.session() as session:
        if await flag_over_limit(session, user.id, count):
            audit.record(session, user.id, "search.throttled", "member", user.id, count=count, limit=limit)
            recipients = [i for i in await coordinator_ids(session, services.settings.admin_telegram_ids)
                          if i != user.id]

    message = t("You are searching very quickly. Please wait a minute, then try again.")
    if update.callback_query is not None:
        await answer(update, message, alert=True)
    else:
        await reply(update, context, message)

    if recipients:
        member = getattr(context, "member", None)
        name = (member.display_name if member and member.display_name else None) or user.full_name
        note = t("⚠️ {name} (Telegram id {id}) ran {n} searches within a minute and has been slowed down. "
                 "Someone may be copying the directory.", name=name, id=user.id, n=count)
        for chat_id in recipients:
            try:
                await send(context.bot, chat_id, note)
            except TelegramError as exc:  # a coordinator who blocked the bot must not stop the others
                log.warning("could not tell %s about throttled user %s: %s", chat_id, user.id, exc)
    return False
