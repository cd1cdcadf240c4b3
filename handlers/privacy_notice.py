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

log = logging.getLogger(__name__)


def default_notice() -> str:
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
        "How long: rejected access requests 90 days; former members' accounts a year after they leave; check-in "
        "comments a year after a pairing ends; the audit log six years.\n\n"
        "Your rights: /mydata shows everything held about you; you may ask for corrections or erasure, and "
        "object. Contact the partnership office or its data protection officer; you may also complain to the "
        "Information Commissioner's Office (ico.org.uk)."
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
    return default_notice()


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
