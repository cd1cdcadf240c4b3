"""/plans (coordinators): every plan with its number, and buttons to rename, archive or restore it.

An archived plan leaves every "Which plan?" keyboard, /plan, reminders and digests, and keeps
everything it holds (plans.archive); Restore brings it back. The same is `partnerbot plans archive N`.

Callback data: pl:PLAN:a (archive)  pl:PLAN:r (restore)  pl:PLAN:n (rename: the next message is the title)
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from core.i18n import N_, _, format_date
from core.reply import Rows, answer, edit, keyboard, reply
from core.services import BotContext
from core.text import Html, bold, esc, t
from handlers.manifest import Button, Command, Manifest, TextStep, Writes
from plans.archive import TITLE_LIMIT, archive_plan, clean_title, rename_plan, restore_plan
from plans.store import action_counts, plans_list
from storage.members import Role

MAX_PLANS = 45  # two buttons' worth of rows stay under Telegram's 100 buttons
RENAMING = "plan_rename"


async def plans_listing(session: AsyncSession) -> tuple[Html, Rows]:
    plans = list((await session.scalars(plans_list(include_inactive=True))).all())
    if not plans:
        return t("There is no action plan yet. Send me a plan file to import one."), []
    counts = await action_counts(session)
    plans.sort(key=lambda p: (not p.active, p.id))  # active first
    lines = [bold(_("Plans"))]
    rows: list[list[tuple[str, str]]] = []
    for plan in plans[:MAX_PLANS]:
        n = counts.get(plan.id, 0)
        line = t("{number}. {title} ({n} actions)", number=plan.id, title=plan.title, n=n)
        if not plan.active:
            when = format_date(plan.archived_at.date()) if plan.archived_at else ""
            line = Html(line + " · " + esc(_("archived {date}").format(date=when).strip()))
            rows.append([(_("Restore {number}").format(number=plan.id), f"pl:{plan.id}:r")])
        else:
            rows.append(
                [
                    (_("Rename {number}").format(number=plan.id), f"pl:{plan.id}:n"),
                    (_("Archive {number}").format(number=plan.id), f"pl:{plan.id}:a"),
                ]
            )
        lines.append(line)
    if len(plans) > MAX_PLANS:
        lines.append(t("… and {n} more: `partnerbot plans --all` lists them all.", n=len(plans) - MAX_PLANS))
    return Html("\n".join(lines)), rows


async def show_plans(update: Update, context: BotContext) -> None:
    async with context.services.sessionmaker() as session:
        text, rows = await plans_listing(session)
    await reply(update, context, text, keyboard(rows) if rows else None)


async def on_button(update: Update, context: BotContext) -> None:
    parts = ((update.callback_query.data or "") if update.callback_query else "").split(":")
    if len(parts) != 3 or not (parts[1].isascii() and parts[1].isdigit()) or parts[2] not in ("a", "r", "n"):
        await answer(update, _("That button has expired. Send /plans again."), alert=True)
        return
    if parts[2] == "n":
        await answer(update)
        context.user_data["awaiting"] = RENAMING
        context.user_data[RENAMING] = int(parts[1])
        await reply(
            update,
            context,
            t(
                "Send the new title of plan {number} as a message (one line, up to {n} characters). "
                "It heads every report and export.",
                number=int(parts[1]),
                n=TITLE_LIMIT,
            ),
        )
        return
    plan_id, archive = int(parts[1]), parts[2] == "a"
    actor = context.member.telegram_id if context.member else None
    async with context.services.session() as session:
        plan = await (archive_plan if archive else restore_plan)(session, plan_id, actor)
        title = plan.title if plan is not None else ""
    if plan is None:
        await answer(update, _("That plan is no longer there."), alert=True)
        return
    await answer(
        update,
        (_("Archived plan {number}: {title}") if archive else _("Restored plan {number}: {title}")).format(
            number=plan_id, title=title
        )[:200],
    )
    async with context.services.sessionmaker() as session:
        text, rows = await plans_listing(session)
    await edit(update, context, text, keyboard(rows) if rows else None)


async def receive_title(update: Update, context: BotContext) -> None:
    """The title typed after "Rename N"."""
    context.user_data.pop("awaiting", None)
    plan_id = context.user_data.pop(RENAMING, None)
    message = update.effective_message
    if not isinstance(plan_id, int):
        await reply(update, context, t("Send /plans and press Rename again."))
        return
    title = clean_title(message.text if message and message.text else "")
    if title is None:
        context.user_data["awaiting"] = RENAMING
        context.user_data[RENAMING] = plan_id
        await reply(
            update, context, t("A plan's title is one line of 1 to {n} characters. Send it again.", n=TITLE_LIMIT)
        )
        return
    actor = context.member.telegram_id if context.member else None
    async with context.services.session() as session:
        plan = await rename_plan(session, plan_id, title, actor)
    if plan is None:
        await reply(update, context, t("That plan is no longer there. Send /plans to see them."))
        return
    await reply(update, context, t("Plan {number} is now called: {title}", number=plan_id, title=title))


MANIFEST = Manifest(
    "plans_admin",
    commands=(Command("plans", show_plans, Role.COORDINATOR, N_("every plan: rename, archive or restore")),),
    buttons=(Button("pl", on_button, Role.COORDINATOR, args="id:a|r|n", writes=Writes("archives or restores a plan")),),
    text_steps=(TextStep(RENAMING, receive_title, Role.COORDINATOR, writes=Writes("renames a plan")),),
)
