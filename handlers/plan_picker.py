"""'Which plan?': the one question every plan command asks when the partnership has more than one."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Update

from core.i18n import _
from core.reply import keyboard, reply
from core.services import BotContext
from core.text import t
from storage.plans import Plan


def plan_buttons(plans: Sequence[Plan], prefix: str) -> list[list[tuple[str, str]]]:
    return [[(p.title[:60] or _("Plan {n}").format(n=p.id), f"{prefix}:{p.id}")] for p in plans]


async def only_plan_or_ask(update: Update, context: BotContext, plans: Sequence[Plan], prefix: str,
                           question: str | None = None) -> Plan | None:
    """The plan when there is exactly one; otherwise None, after saying there is none or asking which
    (a button per plan, with callback data `prefix:<plan id>`)."""
    if not plans:
        await reply(update, context, t("There is no action plan yet. A coordinator can import one."))
        return None
    if len(plans) > 1:
        await reply(update, context, question or t("Which plan?"), keyboard(plan_buttons(plans, prefix)))
        return None
    return plans[0]
