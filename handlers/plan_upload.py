"""A coordinator sends an action plan file: preview, then Import or Cancel.

Which uploads are plans (handlers/uploads.py asks here first):
- caption "plan" (any case, may have more words after it): always a plan;
- caption "directory": never looked at here;
- anything else: the file is read as a plan; if it has no action table, `offer_plan` says so and
  handlers/uploads.py gives it to the directory importer, which reads the headers.

Supported: .md .txt .csv .tsv .xlsx .docx. Nothing is stored until Import is pressed; the file is kept
in Telegram (its file_id in user_data), read again on Import, and saved with plans.store.save_plan.

Callback data: pi:TOKEN (import)  pix:TOKEN (cancel)
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import PurePath

from telegram import Update
from telegram.error import TelegramError

from core.i18n import _, ngettext
from core.reply import answer, edit, keyboard, reply
from core.services import BotContext
from core.text import Html, bold, esc, fill, italic, t
from handlers.files import download, fetch_document
from handlers.manifest import Button, Manifest
from plans.importer import ParsedPlan, PlanImportError, parse_plan
from plans.store import PlanSummary, save_plan
from plans.terms import term_label
from storage.members import Role

log = logging.getLogger(__name__)

PLAN_EXTENSIONS = {".md", ".markdown", ".txt", ".csv", ".tsv", ".xlsx", ".docx"}
MAX_BYTES = 5 * 1024 * 1024
PENDING = "plan_upload"
MAX_WARNINGS = 8
_PLAN_CAPTION = re.compile(r"^\s*(?:action\s+)?plan\b", re.IGNORECASE)
_DIRECTORY_CAPTION = re.compile(r"^\s*directory\b", re.IGNORECASE)

def wants_plan(caption: str | None) -> bool | None:
    """True: caption says plan; False: caption says directory; None: look at the file."""
    if caption and _PLAN_CAPTION.match(caption):
        return True
    if caption and _DIRECTORY_CAPTION.match(caption):
        return False
    return None


async def _parse(data: bytes, filename: str) -> ParsedPlan:
    return await asyncio.to_thread(parse_plan, data, filename)


async def offer_plan(update: Update, context: BotContext) -> bool:
    """Read an uploaded file as a plan and offer its preview. False (having said nothing) when the file holds
    no plan and its caption did not say it was one: handlers/uploads.py then tries it as a directory."""
    message = update.effective_message
    if message is None or message.document is None:
        return True
    document = message.document
    filename = document.file_name or "plan"
    explicit = wants_plan(message.caption) is True
    if PurePath(filename).suffix.lower() not in PLAN_EXTENSIONS:
        if not explicit:
            return False
        await reply(update, context, t("I can read plans from .md, .txt, .csv, .xlsx and .docx files. Nothing was "
                                       "changed."))
        return True
    data = await fetch_document(update, context, MAX_BYTES)
    if data is None:
        return True
    try:
        parsed = await _parse(data, filename)
    except PlanImportError as exc:
        if not explicit:
            return False
        await reply(update, context, t("I could not read a plan from {file}: {reason}\nNothing was changed.",
                                       file=filename, reason=str(exc)))
        return True
    actor = context.member.telegram_id if context.member else None
    async with context.services.sessionmaker() as session:  # read only: a dry run, rolled back
        summary = await save_plan(session, parsed, actor, dry_run=True)
        await session.rollback()
    token = int(context.user_data.get("plan_upload_seq", 0)) + 1
    context.user_data["plan_upload_seq"] = token
    context.user_data[PENDING] = {"id": token, "file_id": document.file_id, "name": filename}
    rows = [[(_("Import"), f"pi:{token}"), (_("Cancel"), f"pix:{token}")]]
    await reply(update, context, preview_text(parsed, summary), keyboard(rows))
    return True


def preview_text(parsed: ParsedPlan, summary: PlanSummary) -> Html:
    lines = [bold(_("Import this plan?")), bold(parsed.title)]
    details = " · ".join(x for x in (parsed.partnership or "", parsed.year or "") if x)
    if details:
        lines.append(esc(details))
    lines.append(fill(ngettext("{n} section", "{n} sections", summary.sections), n=summary.sections) + Html(", ")
                 + fill(ngettext("{n} action", "{n} actions", summary.actions), n=summary.actions))
    for section in parsed.sections[:15]:
        lines.append(Html(f"• {esc(section.title or _('(untitled)'))} — {len(section.actions)}"))
    if len(parsed.sections) > 15:
        lines.append(esc("…"))
    lines.append(t("Owners: {linked} of {total} matched to the directory.", linked=summary.owners_linked,
                   total=summary.owners))
    if summary.unlinked_names:
        lines.append(t("Kept as text: {names}", names=", ".join(summary.unlinked_names[:12])))
    if summary.ambiguous_names:
        lines.append(t("More than one person could be: {names}", names=", ".join(summary.ambiguous_names[:12])))
    if summary.updates:
        terms = ", ".join(term_label(x, short=True) for x in summary.terms)
        lines.append(t("{n} RAG ratings from the plan's term columns ({terms}).", n=summary.updates, terms=terms))
    if summary.same_title_plan_id:
        lines.append(t("⚠️ A plan with this title already exists (number {n}); importing adds another.",
                       n=summary.same_title_plan_id))
    if summary.warnings:
        lines.append(bold(_("Warnings")))
        for warning in summary.warnings[:MAX_WARNINGS]:
            lines.append(Html("• " + italic(str(warning))))
        if len(summary.warnings) > MAX_WARNINGS:
            lines.append(t("… and {n} more.", n=len(summary.warnings) - MAX_WARNINGS))
    return Html("\n".join(lines))


def _pending(context: BotContext, data: str | None) -> dict | None:
    pending = context.user_data.get(PENDING)
    try:
        token = int((data or "").split(":")[1])
    except (IndexError, ValueError):
        return None
    if not isinstance(pending, dict) or pending.get("id") != token:
        return None
    return pending


async def confirm_import(update: Update, context: BotContext) -> None:
    pending = _pending(context, update.callback_query.data if update.callback_query else None)
    if pending is None:
        await answer(update, _("That button has expired. Please send the file again."), alert=True)
        return
    context.user_data.pop(PENDING, None)
    await answer(update, _("Importing…"))
    try:
        data = await download(context, pending["file_id"])
        parsed = await _parse(data, pending["name"])
    except (TelegramError, PlanImportError) as exc:
        await edit(update, context, t("I could not read the file again ({error}). Nothing was changed.",
                                      error=str(exc)))
        return
    actor = context.member.telegram_id if context.member else None
    async with context.services.session() as session:
        summary = await save_plan(session, parsed, actor)
    await edit(update, context, t("Imported plan {n}: {title} — {sections} sections, {actions} actions, {updates} "
                                  "RAG ratings. Send /plan to see it, /meetings to set its meeting dates.",
                                  n=summary.plan_id, title=summary.title, sections=summary.sections,
                                  actions=summary.actions, updates=summary.updates))


async def cancel_import(update: Update, context: BotContext) -> None:
    pending = _pending(context, update.callback_query.data if update.callback_query else None)
    await answer(update)
    if pending is not None:
        context.user_data.pop(PENDING, None)
    await edit(update, context, t("Cancelled. Nothing was imported."))


MANIFEST = Manifest(
    "plan_upload",
    buttons=(Button("pi", confirm_import, Role.COORDINATOR), Button("pix", cancel_import, Role.COORDINATOR)),
)
