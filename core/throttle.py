"""Per-user search throttling: someone copying the directory search by search is slowed, and the
coordinators are told (once an hour per user).

Counts live in the `throttle` table (one row per Telegram user: the current minute window and the
number of searches in it), updated with one atomic upsert, so the count is right however many
searches arrive at once and it survives a restart.

Search handlers call `await check_search_allowed(update, context)` first and stop when it is False
(the user has already been told to slow down).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, or_, select, update as sql_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import TelegramError

from core import clock
from core.text import t
from storage import audit
from storage.access import Member, Role, Throttle

log = logging.getLogger(__name__)

NOTIFY_EVERY = dt.timedelta(hours=1)


@dataclass(frozen=True)
class ThrottleResult:
    allowed: bool
    count: int  # searches in the current minute, this one included
    notify: bool  # tell the coordinators now (first time over the limit this hour)


def window_start(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.timezone.utc).replace(second=0, microsecond=0)


async def record_search(session: AsyncSession, telegram_id: int, limit: int,
                        now: dt.datetime | None = None) -> ThrottleResult:
    """Count one search by `telegram_id` and say whether it may run. `limit` <= 0 means no limit."""
    now = now or clock.now()
    window = window_start(now)
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(Throttle).values(telegram_id=telegram_id, window_start=window, count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Throttle.telegram_id],
        set_={"count": case((Throttle.window_start == window, Throttle.count + 1), else_=1),
              "window_start": window},
    ).returning(Throttle.count)
    count = (await session.execute(stmt)).scalar_one()
    if limit <= 0 or count <= limit:
        return ThrottleResult(True, count, False)
    flagged = await session.execute(
        sql_update(Throttle)
        .where(Throttle.telegram_id == telegram_id,
               or_(Throttle.flagged_at.is_(None), Throttle.flagged_at <= now - NOTIFY_EVERY))
        .values(flagged_at=now, note=f"{count} searches in the minute from {window.isoformat()}")
        .returning(Throttle.telegram_id))
    return ThrottleResult(False, count, flagged.first() is not None)


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
    async with services.session() as session:
        result = await record_search(session, user.id, limit)
        recipients: list[int] = []
        if result.notify:
            audit.record(session, user.id, "search.throttled", "member", user.id, count=result.count, limit=limit)
            recipients = [i for i in await coordinator_ids(session, services.settings.admin_telegram_ids)
                          if i != user.id]
    if result.allowed:
        return True

    message = t("You are searching very quickly. Please wait a minute, then try again.")
    if update.callback_query is not None:
        await answer(update, message, alert=True)
    else:
        await reply(update, context, message)

    if recipients:
        member = getattr(context, "member", None)
        name = (member.display_name if member and member.display_name else None) or user.full_name
        note = t("⚠️ {name} (Telegram id {id}) ran {n} searches within a minute and has been slowed down. "
                 "Someone may be copying the directory.", name=name, id=user.id, n=result.count)
        for chat_id in recipients:
            try:
                await send(context.bot, chat_id, note)
            except TelegramError as exc:  # a coordinator who blocked the bot must not stop the others
                log.warning("could not tell %s about throttled user %s: %s", chat_id, user.id, exc)
    return False
