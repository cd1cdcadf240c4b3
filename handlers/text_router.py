"""Plain text that no conversation took: the answer to a one-off question, else a search.

A handler that asks a single question sets `context.user_data["awaiting"] = NAME` and registers
`on_awaiting(NAME, callback)`; the router sends the next plain message there. Everything else a
member types is a directory search (handlers/find.py sets `on_search`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from core.services import BotContext

Callback = Callable[[Update, BotContext], Awaitable[None]]
_awaiting: dict[str, Callback] = {}
_search: list[Callback] = []


def on_awaiting(name: str, callback: Callback) -> None:
    _awaiting[name] = callback


def on_search(callback: Callback) -> None:
    _search[:] = [callback]


async def route_text(update: Update, context: BotContext) -> None:
    awaiting = context.user_data.get("awaiting") if context.user_data is not None else None
    if awaiting in _awaiting:
        await _awaiting[awaiting](update, context)
        return
    if awaiting is not None:
        context.user_data.pop("awaiting", None)  # a question from an older version of the bot
    if _search:
        await _search[0](update, context)


def register(application: Application) -> None:
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, route_text))
