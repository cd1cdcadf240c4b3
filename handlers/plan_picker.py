"""'Which plan?': the one question every plan command asks when the partnership has more than one.

A partnership may keep more plans than one keyboard holds (Telegram allows 100 buttons): the buttons come
a page at a time, and "Next ›" (callback `pk:<prefix>:<page>`) shows the next page of the same question."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Update

from core.i18n import _
from core.reply import answer, edit, keyboard, paged_rows, reply
from core.services import BotContext
from core.text import t
from handlers.manifest import PREFIX_RE, Button, Manifest
from plans import progress
from storage.members import Role
from storage.plans import Plan

PER_PAGE = 10


def plan_buttons(plans: Sequence[Plan], prefix: str, page: int = 0) -> list[list[tuple[str, str]]]:
    """One page of a button per plan (data `prefix:<plan id>`), with ‹ Previous / Next › when there are more."""
    items = [(p.title[:60] or _("Plan {n}").format(n=p.id), f"{prefix}:{p.id}") for p in plans]
    return paged_rows(items, page, PER_PAGE, f"pk:{prefix}")


async def only_plan_or_ask(
    update: Update, context: BotContext, plans: Sequence[Plan], prefix: str, question: str | None = None
) -> Plan | None:
    """The plan when there is exactly one; otherwise None, after saying there is none or asking which
    (a button per plan, with callback data `prefix:<plan id>`)."""
    if not plans:
        await reply(update, context, t("There is no action plan yet. A coordinator can import one."))
        return None
    if len(plans) > 1:
        await reply(update, context, question or t("Which plan?"), keyboard(plan_buttons(plans, prefix)))
        return None
    return plans[0]


async def page_button(update: Update, context: BotContext) -> None:
    """Another page of the active plans for the same question (the prefix says what a press will do)."""
    parts = (update.callback_query.data or "").split(":") if update.callback_query else []
    if len(parts) != 3 or not PREFIX_RE.match(parts[1]) or not parts[2].isdigit():
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    prefix, page = parts[1], int(parts[2])
    async with context.services.session() as session:
        plans = list(await progress.active_plans(session))
    await answer(update)
    if not plans:
        await edit(update, context, t("There is no action plan yet. A coordinator can import one."))
        return
    await edit(update, context, t("Which plan?"), keyboard(plan_buttons(plans, prefix, page)))


MANIFEST = Manifest("plan_picker", buttons=(Button("pk", page_button, Role.MEMBER, args="tok:id"),))
