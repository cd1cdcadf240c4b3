"""One-time buttons: Send reminders, Approve, Confirm, Save … do their work once. A second press of the same
button on the same message (a double tap, a copy on another device, an old message in the console) is told
"already done" and changes nothing.

`once(callback)` wraps a button's callback where it is declared in a MANIFEST. The press is claimed in its own
transaction before the work starts (a unique row per chat, message and button data, so two presses at the
same moment cannot both win); if the work then fails, the claim is released so the button can be tried again.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from telegram import Update

from core.i18n import _
from core.reply import answer
from core.services import BotContext
from handlers.manifest import Callback
from storage.desk import ButtonUse

log = logging.getLogger(__name__)


def already_done_text() -> str:
    return _("That is already done: this button has been used once. Nothing was changed.")


def once(callback: Callback) -> Callback:
    @functools.wraps(callback)
    async def first_press_only(update: Update, context: BotContext) -> Any:
        query = update.callback_query
        message = query.message if query is not None else None
        if query is None or message is None or not query.data:
            return await callback(update, context)
        chat_id, message_id, data = message.chat.id, message.message_id, query.data[:64]
        try:
            async with context.services.session() as session:
                session.add(ButtonUse(chat_id=chat_id, message_id=message_id, data=data, used_by=query.from_user.id))
        except IntegrityError:
            await answer(update, already_done_text(), alert=True)
            return None
        try:
            return await callback(update, context)
        except BaseException:
            try:
                async with context.services.session() as session:
                    await session.execute(
                        delete(ButtonUse).where(
                            ButtonUse.chat_id == chat_id, ButtonUse.message_id == message_id, ButtonUse.data == data
                        )
                    )
            except Exception:  # noqa: BLE001 - the original error matters more
                log.warning("could not release a one-time button", exc_info=True)
            raise

    return first_press_only
