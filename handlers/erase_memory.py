"""After an erasure is committed: the running bot forgets the person too, and the people affected are told.

The database side (storage/erasure.py) has already removed the erased accounts' saved state and other
users' saved drafts that hold the person's id or name. The running Application holds the same data in
memory (user_data, chat_data, the conversations' states): unless it forgets them here, the next save
would write them back, and a coordinator's next step in an open /newhead would re-create the person from
the draft. So: the erased accounts' data and conversations are dropped and their command menu removed;
any other user's draft that mentions the person is dropped and the conversation it belongs to is ended;
then the state is saved at once. Those whose draft was closed, and the other side of a pairing that
ended, get a neutral message (no name: the person is erased).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import TelegramError
from telegram.ext import Application

from core.i18n import N_, _
from core.reply import send
from core.text import t
from handlers.manifest import features_of
from storage.erasure import EraseResult, erased_row
from storage.members import Role
from storage.mentions import Finder

log = logging.getLogger(__name__)


def draft_conversations(application: Application) -> dict[str, str]:
    """Draft key in user data -> the name of the conversation it belongs to (from the manifests)."""
    try:
        conversations = features_of(application).conversations
    except KeyError:
        return {}
    return {draft: h.spec.name for h in conversations for draft in h.spec.drafts}


def _end_conversations(application: Application, user_id: int, data: dict[Any, Any] | None, drafts: set[str]) -> None:
    """End the user's conversations (all of them when `drafts` is empty, else those owning the drafts)."""
    try:
        conversations = features_of(application).conversations
    except KeyError:
        return
    for handler in conversations:
        if drafts and not drafts & set(handler.spec.drafts):
            continue
        for key in list(handler._conversations):  # noqa: SLF001 - the handler's own table, ended its own way
            if user_id in key:
                handler.end(key, data)


async def forget_accounts_in_memory(application: Application, telegram_ids: list[int]) -> None:
    """The accounts' in-memory data, conversations and command menu (retention and erasure)."""
    services = application.bot_data.get("services")
    for telegram_id in telegram_ids:
        _end_conversations(application, telegram_id, None, set())
        if telegram_id in application.user_data:
            application.drop_user_data(telegram_id)
        if telegram_id in application.chat_data:
            application.drop_chat_data(telegram_id)
        if services is not None:
            services.browsing.pop(telegram_id, None)
        try:
            await features_of(application).set_menu(application.bot, telegram_id, Role.STRANGER)
        except KeyError:
            pass
    if application.persistence is not None:
        await application.update_persistence()


async def forget_in_memory(application: Application, result: EraseResult, finder: Finder) -> list[int]:
    """Forget the erased accounts and every in-memory draft that mentions the person; the users whose
    draft was closed (to be told)."""
    services = application.bot_data.get("services")
    await forget_accounts_in_memory(application, result.telegram_ids)
    closed: set[int] = set(result.drafts_closed)
    for user_id, data in list(application.user_data.items()):
        if user_id in result.telegram_ids or not isinstance(data, dict):
            continue
        dropped = {str(k) for k, v in data.items() if finder.mentions(v, k)}
        if not dropped:
            continue
        _end_conversations(application, user_id, data, dropped)
        for key in dropped:
            data.pop(key, None)
        closed.add(user_id)
        application.mark_data_for_update_persistence(user_ids=user_id)
    for chat_id, data in list(application.chat_data.items()):
        if chat_id in result.telegram_ids or not isinstance(data, dict):
            continue
        dropped = {str(k) for k, v in data.items() if finder.mentions(v, k)}
        for key in dropped:
            data.pop(key, None)
        if dropped:
            application.mark_data_for_update_persistence(chat_ids=chat_id)
    if services is not None:
        for user_id, browsing in list(services.browsing.items()):
            if finder.mentions(browsing):
                services.browsing.pop(user_id, None)
    if application.persistence is not None:
        await application.update_persistence()
    return sorted(closed - set(result.telegram_ids))


async def tell_affected(application: Application, result: EraseResult, drafts_closed: list[int]) -> None:
    """Neutral words to those affected: no name, nothing about why beyond an erasure."""
    for telegram_id in drafts_closed:
        await _tell(
            application,
            telegram_id,
            t(
                "A draft you had not finished was closed, because personal data in it has been erased. "
                "Nothing from it was saved; you can start again if it is still needed."
            ),
        )
    for telegram_id in result.to_tell:
        if telegram_id in drafts_closed:
            continue
        await _tell(
            application,
            telegram_id,
            t(
                "A buddy pairing you were part of has ended, because the partnership office has erased "
                "personal data. There is nothing you need to do; the office will be in touch if needed."
            ),
        )


async def _tell(application: Application, telegram_id: int, text: str) -> None:
    try:
        await send(application.bot, telegram_id, text)
    except TelegramError as exc:
        log.warning("could not tell an affected user about an erasure: %s", exc.__class__.__name__)


GONE = {
    "appointment": N_("That appointment is no longer in the directory."),
    "buddy_match": N_("That request is no longer in the directory."),
}


async def gone_text(session: AsyncSession, table: str, row_id: int) -> str:
    """What an old button on a row that is gone answers: "erased" when an erasure removed it."""
    if await erased_row(session, table, row_id):
        return _("This person's data has been erased. Nothing was changed.")
    return _(GONE[table])
