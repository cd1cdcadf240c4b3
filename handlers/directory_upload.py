"""A coordinator sends a directory spreadsheet: preview of what would change, then Confirm or Cancel.

Which uploads come here (handlers/uploads.py decides):
- caption "directory" (any case, more words may follow): always read as a directory;
- caption "plan": never (the plan importer's);
- no caption or another caption: the plan importer looks first; a file that holds no action plan comes
  here and its headers decide (a file with no recognisable directory header is refused with the reason).

Only coordinators and admins reach this handler: uploads are declared for coordinators.
Nothing changes until Confirm: the file stays in Telegram (its file_id is kept in user_data under a
random token) and is read again on Confirm, so a pending preview survives a restart. Reading and
applying (the preview is a dry run of the same) happen in a child process with a database connection of
its own (directory.import_job), so a 50,000-row register does not hold up anyone else's answer.

Callback data: di:ok:TOKEN (import)  di:no:TOKEN (cancel)
"""

from __future__ import annotations

import logging
import re
import secrets

from telegram import Update
from telegram.error import TelegramError

from core.i18n import _
from core.reply import answer, edit, keyboard, reply
from core.sandbox import SandboxError
from core.services import BotContext
from core.text import Html, bold, esc, t
from directory.import_job import import_directory_file
from directory.importer import DirectoryImportError, ImportSummary, summary_lines
from handlers.files import download, fetch_document
from handlers.manifest import Button, Manifest, Writes
from storage.import_lock import ImportBusy
from storage.members import Role

log = logging.getLogger(__name__)

PREFIX = "di"
PENDING = "directory_upload"  # user_data key: {"token", "file_id", "name"}
MAX_BYTES = 20 * 1024 * 1024  # the most a bot may download from Telegram
_DIRECTORY_CAPTION = re.compile(r"^\s*directory\b", re.IGNORECASE)
_PLAN_CAPTION = re.compile(r"^\s*(?:action\s+)?plan\b", re.IGNORECASE)


async def _run(context: BotContext, data: bytes, filename: str, actor: int | None, dry_run: bool) -> ImportSummary:
    """Read and apply (or preview) in a child process with its own connection: directory.import_job."""
    return await import_directory_file(
        data,
        filename,
        database_url=context.services.settings.database_url,
        sessionmaker=context.services.sessionmaker,
        actor_id=actor,
        dry_run=dry_run,
    )


def _summary_html(summary: ImportSummary, heading: str) -> Html:
    lines = summary_lines(summary, max_problems=8)
    return Html("\n".join([bold(heading), *(esc(line) for line in lines[1:])]))


async def on_document(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None or message.document is None:
        return
    document = message.document
    filename = document.file_name or "directory"
    data = await fetch_document(update, context, MAX_BYTES)
    if data is None:
        return
    actor = context.member.telegram_id if context.member else None
    try:
        summary = await _run(context, data, filename, actor, dry_run=True)  # a dry run: reads only
    except (DirectoryImportError, SandboxError) as exc:
        await reply(
            update,
            context,
            t(
                "I could not import {file} as a directory: {reason}\nNothing was changed.",
                file=filename,
                reason=str(exc),
            ),
        )
        return
    token = secrets.token_hex(4)
    context.user_data[PENDING] = {"token": token, "file_id": document.file_id, "name": filename}
    heading = t("Import the directory from {file}?", file=filename)
    if summary.changes == 0:
        heading = t("{file} matches the directory: importing it would change nothing.", file=filename)
    rows = [[(_("Confirm"), f"{PREFIX}:ok:{token}"), (_("Cancel"), f"{PREFIX}:no:{token}")]]
    await reply(update, context, _summary_html(summary, heading), keyboard(rows))


def _pending(context: BotContext, data: str | None) -> dict | None:
    """The pending upload this button belongs to, or None for an old or forged button."""
    parts = (data or "").split(":")
    pending = context.user_data.get(PENDING)
    if len(parts) != 3 or not isinstance(pending, dict) or pending.get("token") != parts[2]:
        return None
    return pending


async def on_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    data = query.data if query else None
    pending = _pending(context, data)
    if pending is None:
        await answer(update, _("That button has expired. Please send the file again."), alert=True)
        return
    context.user_data.pop(PENDING, None)
    if (data or "").split(":")[1] != "ok":
        await answer(update)
        await edit(update, context, t("Cancelled. Nothing was imported."))
        return
    await answer(update, _("Importing…"))
    actor = context.member.telegram_id if context.member else None
    try:
        summary = await _run(context, await download(context, pending["file_id"]), pending["name"], actor, False)
    except (TelegramError, DirectoryImportError, SandboxError) as exc:
        await edit(
            update, context, t("I could not read the file again ({error}). Nothing was changed.", error=str(exc))
        )
        return
    except ImportBusy as exc:
        await edit(update, context, t("Not imported: {reason}. Nothing was changed.", reason=str(exc)))
        return
    except Exception:  # noqa: BLE001 - the transaction rolled back; say so rather than fail silently
        log.exception("directory import of %s failed", pending["name"])
        await edit(update, context, t("The import failed and was undone. Nothing was changed."))
        return
    await context.services.refresh_directory()
    await edit(update, context, _summary_html(summary, t("Imported {file}.", file=pending["name"])))
    await announce_head_changes(context, summary)


async def announce_head_changes(context: BotContext, summary: ImportSummary) -> None:
    """Tell the coordinators about the import's head changes (handlers/currency.announce_head_changes)."""
    from handlers.currency import announce_head_changes as announce

    if summary.head_changes:
        await announce(context)


MANIFEST = Manifest(
    "directory_upload",
    buttons=(Button(PREFIX, on_button, Role.COORDINATOR, args="ok|no:tok", writes=Writes("imports the directory")),),
)
