"""`/privacy`: the partnership's privacy notice. Strangers are shown it before they ask for access, and
pressing "Agree and request access" is recorded with their request (handlers/access.py).

The text is the file named by the PRIVACY_NOTICE_FILE setting, or the built-in notice below, which covers
the lawful basis, what is held, who sees it, Telegram as the carrier, retention, rights and contact."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from telegram import Update

from core.i18n import N_, _
from core.reply import reply
from core.services import BotContext
from core.text import Html, esc
from handlers.manifest import Command, Manifest
from storage.members import Role
from storage.retention import Schedule

log = logging.getLogger(__name__)


def default_notice(schedule: Schedule | None = None) -> str:
    """The built-in notice; its retention periods are the ones the daily job enforces (storage/retention.py
    with the settings in force), so the notice cannot promise what the code does not do."""
    schedule = schedule or Schedule()
    return _(
        "Privacy notice\n\n"
        "Who we are: the partnership (its local authority or trust) is the controller of the data this bot "
        "holds. Lawful basis: public task — supporting school improvement and new headteachers.\n\n"
        "What we hold: staff names, job titles, schools, work email and phone, specialisms; your Telegram id and "
        "name when you use the bot; action plans, progress ratings and comments; new-head appointments, buddy "
        "pairings and check-in answers; an audit log of changes. Please do not put health or other sensitive "
        "details in comments.\n\n"
        "Who sees it: approved members see the directory and the plans they belong to; coordinators manage "
        "access, buddies and plans; admins see the audit log.\n\n"
        "Telegram carries the messages: it is a separate company with its own privacy policy, so the bot sends "
        "only what each message needs.\n\n"
        "How long: a rejected access request, with every copy of it (its audit details, your saved chat state "
        "and command menu), {rejected} days after the decision; a former member's account and its copies "
        "{former} days after they leave; check-in comments {checkin} days after a pairing ends; the audit log "
        "{audit} days. An erasure removes your data from every copy at once.\n\n"
        "Your rights: /mydata shows everything held about you; you may ask for corrections or erasure, and "
        "object. Contact the partnership office or its data protection officer; you may also complain to the "
        "Information Commissioner's Office (ico.org.uk)."
    ).format(
        rejected=schedule.rejected_request_days,
        former=schedule.former_member_days,
        checkin=schedule.checkin_comment_days,
        audit=schedule.audit_days,
    )


def notice_text(settings: object) -> str:
    path = str(getattr(settings, "privacy_notice_file", "") or "").strip()
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
            if text:
                return text[:3500]  # one Telegram message with room for the request's wording
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("privacy notice file unreadable (%s); showing the built-in notice", type(exc).__name__)
    try:
        schedule = Schedule.from_settings(settings)
    except (AttributeError, TypeError, ValueError):
        schedule = Schedule()
    return default_notice(schedule)


def notice_version(text: str) -> str:
    """Which notice someone agreed to: a short digest of its text."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def notice_html(settings: object) -> Html:
    return esc(notice_text(settings))


async def privacy_command(update: Update, context: BotContext) -> None:
    await reply(update, context, notice_html(context.services.settings))


MANIFEST = Manifest(
    "privacy_notice",
    commands=(Command("privacy", privacy_command, Role.STRANGER, N_("how your data is used")),),
)
