"""Two taps for anything that discards: the first tap asks ("Reject Sam Newton's request?") with "Yes" and
"Keep" in place of the message's buttons; "Yes" does it, "Keep" puts the buttons back as they were.

Wrap the button's callback where its `Button` is declared: `Button("ax", two_taps(decide, N_("Reject?")), …)`.
The buttons keep the callback data's shape: the first tap's data `ax:12`, then `ax:12:ok` (Yes, the
wrapped callback runs: it reads its ids from the front, as before) and `ax:12:no` (Keep). Each part of
the data stays a prefix and numbers or a fixed word, never user text, within 64 bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from core.i18n import _
from core.reply import answer, keyboard
from core.services import BotContext

Callback = Callable[[Update, BotContext], Coroutine[Any, Any, Any]]
YES, KEEP = "ok", "no"
KEPT_KEY = "two_taps"  # user_data: message id -> the buttons "Keep" puts back
KEPT_AT_MOST = 20


def _markup_rows(markup: InlineKeyboardMarkup | None) -> list[list[tuple[str, str]]]:
    if markup is None:
        return []
    return [[(b.text, str(b.callback_data or "")) for b in row if b.callback_data] for row in markup.inline_keyboard]


def two_taps(callback: Callback, question: str, yes: str = "", only: str = "") -> Callback:
    """`callback` on the second tap; `question` (an N_() text) and `yes` (its button, default "Yes") asked
    on the first. With `only`, just the buttons whose data starts with it ask ("ecd:n:" rejects; "ecd:y:"
    confirms at once)."""

    async def first_asks(update: Update, context: BotContext) -> Any:
        query = update.callback_query
        if query is None or not query.data:
            return None
        data = query.data
        if only and not data.startswith(only):
            return await callback(update, context)
        word = data.rsplit(":", 1)[-1]
        message = query.message
        message_id = message.message_id if message is not None else 0
        kept: dict[str, Any] = context.user_data.setdefault(KEPT_KEY, {})
        if word == YES:
            kept.pop(str(message_id), None)
            return await callback(update, context)
        if word == KEEP:
            await answer(update)
            rows = kept.pop(str(message_id), None)
            try:
                await query.edit_message_reply_markup(keyboard(rows) if rows else None)
            except BadRequest:
                pass  # too old to edit: the buttons stay as they are
            return None
        await answer(update, _(question)[:200])
        markup = message.reply_markup if message is not None and hasattr(message, "reply_markup") else None
        kept[str(message_id)] = _markup_rows(markup)
        while len(kept) > KEPT_AT_MOST:  # old questions never answered
            kept.pop(next(iter(kept)))
        if len(data.encode()) + 3 > 64:
            return await callback(update, context)  # no room for the word: as before, one tap
        confirm = [[(_(yes) if yes else _("Yes"), f"{data}:{YES}"), (_("Keep"), f"{data}:{KEEP}")]]
        try:
            await query.edit_message_reply_markup(keyboard(confirm))
        except BadRequest:
            pass
        return None

    first_asks.__name__ = getattr(callback, "__name__", "two_taps")
    first_asks.__doc__ = callback.__doc__
    return first_asks
