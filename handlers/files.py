"""Files users send: size check and download, shared by the plan and directory importers."""

from __future__ import annotations

from telegram import Update
from telegram.error import TelegramError

from core.reply import reply
from core.services import BotContext
from core.text import t

MAX_BYTES = 5 * 1024 * 1024  # a partnership's sheet or plan is far smaller; more is a mistake or abuse


async def download(context: BotContext, file_id: str) -> bytes:
    file = await context.bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())


async def fetch_document(update: Update, context: BotContext, max_bytes: int = MAX_BYTES) -> bytes | None:
    """The document's bytes, or None after telling the user why not (too big, or not downloadable)."""
    message = update.effective_message
    document = message.document if message else None
    if document is None:
        return None
    if document.file_size and document.file_size > max_bytes:
        await reply(
            update,
            context,
            t("That file is too big for me ({mb} MB at most). Nothing was changed.", mb=max_bytes // (1024 * 1024)),
        )
        return None
    try:
        return await download(context, document.file_id)
    except TelegramError as exc:
        await reply(
            update, context, t("I could not download that file ({error}). Please send it again.", error=str(exc))
        )
        return None
