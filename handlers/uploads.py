"""A file sent to the bot: a plan or a directory. One entry point decides which importer reads it, so no
handler has to hand an update on to another."""

from __future__ import annotations

from telegram import Update

from core.services import BotContext
from handlers import directory_upload, plan_upload
from handlers.manifest import Manifest, Upload
from storage.members import Role


async def on_document(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None or message.document is None:
        return
    # Caption "directory" goes straight to the directory importer; otherwise the plan importer looks first
    # and declines (silently) a file that holds no plan and was not captioned as one.
    if plan_upload.wants_plan(message.caption) is not False and await plan_upload.offer_plan(update, context):
        return
    await directory_upload.on_document(update, context)


MANIFEST = Manifest("uploads", uploads=(Upload(on_document, Role.COORDINATOR),))
