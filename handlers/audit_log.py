"""`/audit` (admins): the audit log as sentences — who did what, when, in the admin's time zone — newest
first, a page at a time. `/audit Draycott` shows what one person did and what was done to their entry or
account; `/audit plan` (or `/audit plan 2`, the plan's number in /plan) one plan's changes; `/audit 50`
the last 50 changes.

Callback data: au:PAGE (the filter stays in memory, in context.browsing, never in the button)."""

from __future__ import annotations

from sqlalchemy import select
from telegram import Update

from core.i18n import N_, _, ngettext
from core.reply import answer, edit, keyboard, reply
from core.services import BotContext
from core.text import Html, bold, esc, fill, t
from handlers.manifest import Button, Command, Manifest
from handlers.person_picker import people_named
from plans import progress
from storage import audit_story
from storage.members import Member, Role

PAGE = 10
AUDIT_MAX = 100
KEY = "audit_filter"


async def _filter(context: BotContext, args: list[str]) -> tuple[audit_story.Filter | None, int, Html | None]:
    """The filter and page size the arguments ask for, or an answer explaining why not."""
    if not args:
        return audit_story.Filter(), PAGE, None
    if len(args) == 1 and args[0].isascii() and args[0].isdigit():
        if len(args[0]) > 4:
            return None, 0, _usage()
        return audit_story.Filter(), max(1, min(int(args[0]), AUDIT_MAX)), None
    if args[0].lower() == "plan":
        async with context.services.sessionmaker() as session:
            plans = list(await progress.active_plans(session))
        number = args[1] if len(args) == 2 else "1"
        if len(args) > 2 or not (number.isascii() and number.isdigit()) or not 1 <= int(number) <= len(plans):
            if not plans:
                return None, 0, t("There is no action plan yet.")
            return (
                None,
                0,
                t(
                    "There is no plan {number}: the plans are numbered 1 to {n}, as in /plan.",
                    number=number[:10],
                    n=len(plans),
                ),
            )
        plan = plans[int(number) - 1]
        return audit_story.Filter(label=plan.title, plan_id=plan.id), PAGE, None
    name = " ".join(args)
    people = people_named(context, name, limit=1)
    if not people:
        return None, 0, Html(t("I found nobody called “{name}” in the directory.", name=name[:100]) + "\n" + _usage())
    person = people[0]
    async with context.services.sessionmaker() as session:
        ids = tuple(await session.scalars(select(Member.telegram_id).where(Member.person_id == person.id)))
    return audit_story.Filter(label=person.full_name, person_id=person.id, telegram_ids=ids), PAGE, None


def _usage() -> Html:
    return t(
        "Usage: /audit, /audit NAME, /audit plan [NUMBER] or /audit N (the last N changes, at most {max}).",
        max=AUDIT_MAX,
    )


async def _page_text(context: BotContext, f: audit_story.Filter, page: int, size: int) -> tuple[Html, object]:
    async with context.services.sessionmaker() as session:
        entries, total = await audit_story.page(session, f, page * size, size)
        lines = await audit_story.sentences(session, entries, context.services.settings.tz)
    heading = t("Changes to do with {what}", what=f.label) if f.label else bold(_("Latest changes"))
    if f.label:
        heading = bold(heading)
    if not entries:
        return Html(heading + "\n" + esc(_("No changes recorded."))), None
    pages = max(1, (total + size - 1) // size)
    text = Html("\n".join([heading, *(esc(line) for line in lines)]))
    if pages > 1:
        text = Html(
            text
            + "\n\n"
            + fill(
                ngettext("Page {page} of {pages} ({n} change).", "Page {page} of {pages} ({n} changes).", total),
                page=page + 1,
                pages=pages,
                n=total,
            )
        )
        nav = []
        if page > 0:
            nav.append((_("‹ Previous"), f"au:{page - 1}"))
        if page < pages - 1:
            nav.append((_("Next ›"), f"au:{page + 1}"))
        rows = [nav] if nav else []
        return text, keyboard(rows) if rows else None
    return text, None


async def audit_command(update: Update, context: BotContext) -> None:
    f, size, problem = await _filter(context, list(context.args or []))
    if f is None:
        await reply(update, context, problem or _usage())
        return
    context.browsing[KEY] = {"filter": f, "size": size}
    text, markup = await _page_text(context, f, 0, size)
    await reply(update, context, text, markup)  # type: ignore[arg-type]


async def audit_page(update: Update, context: BotContext) -> None:
    data = (update.callback_query.data if update.callback_query else "") or ""
    stored = context.browsing.get(KEY)
    number = data.split(":")[1] if data.count(":") == 1 else ""
    if not isinstance(stored, dict) or not (number.isascii() and number.isdigit() and len(number) < 6):
        await answer(update, _("That list is out of date. Send /audit again."), alert=True)
        return
    await answer(update)
    text, markup = await _page_text(context, stored["filter"], int(number), stored["size"])
    await edit(update, context, text, markup)  # type: ignore[arg-type]


MANIFEST = Manifest(
    "audit_log",
    commands=(Command("audit", audit_command, Role.ADMIN, N_("the latest changes: who, what, when"), private=True),),
    buttons=(Button("au", audit_page, Role.ADMIN, private=True, args="id"),),
)
