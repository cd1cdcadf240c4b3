"""A member searching too fast: told to slow down, recorded, and the coordinators told once an hour.

Search handlers call `await check_search_allowed(update, context)` first and stop when it is False
(the user has already been told to slow down). A button that shows people or schools (a card, a card's
next page, a page of results) is a search too: declare it with `counted(callback)`, so paging through a
school's staff costs what typing their names would.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.error import TelegramError

from core.reply import answer, reply, send
from core.text import t
from core.throttle import judge
from storage import audit
from storage.members import coordinator_ids
from storage.search_limits import flag_over_limit

log = logging.getLogger(__name__)


async def check_search_allowed(update: Update, context: Any) -> bool:
    """Count a search; False (after telling the user to slow down) when they are over the limit."""
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
            recipients = [
                i for i in await coordinator_ids(session, services.settings.admin_telegram_ids) if i != user.id
            ]

    message = t("You are searching very quickly. Please wait a minute, then try again.")
    if update.callback_query is not None:
        await answer(update, message, alert=True)
    else:
        await reply(update, context, message)

    if recipients:
        member = getattr(context, "member", None)
        name = (member.display_name if member and member.display_name else None) or user.full_name
        note = t(
            "⚠️ {name} (Telegram id {id}) ran {n} searches within a minute and has been slowed down. "
            "Someone may be copying the directory.",
            name=name,
            id=user.id,
            n=count,
        )
        for chat_id in recipients:
            try:
                await send(context.bot, chat_id, note)
            except TelegramError as exc:  # a coordinator who blocked the bot must not stop the others
                log.warning("could not tell %s about throttled user %s: %s", chat_id, user.id, exc)
    return False


def counted(
    callback: Callable[[Update, Any], Coroutine[Any, Any, Any]],
) -> Callable[[Update, Any], Coroutine[Any, Any, Any]]:
    """`callback` counted against the search allowance before it runs; over it, the press is answered
    "slow down" and the callback does not run (nothing is read)."""

    @functools.wraps(callback)
    async def within_limit(update: Update, context: Any) -> Any:
        if not await check_search_allowed(update, context):
            return None
        return await callback(update, context)

    return within_limit
