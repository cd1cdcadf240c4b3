"""The desk in the Mini App: the queues /desk shows (directory/office.py, storage/access_requests.py) and the
access decision, made once whoever presses first.

The decision is one conditional write (storage.decisions.decide: UPDATE … WHERE status = 'pending'): the app
and a chat button pressed at the same moment end in one decision; the loser is told it was already decided
and changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.i18n import _, format_datetime
from core.services import MemberInfo, Services
from core.text import t
from directory import office
from plans.terms import current_term, term_label
from storage import access_requests as requests
from storage.directory import Person
from storage.members import AccessRequest
from webapp.board import BoardError

log = logging.getLogger("partnerbot.webapp")


async def queues(session: AsyncSession, member: MemberInfo, services: Services) -> dict[str, Any]:
    tz = services.settings.tz
    today = clock.now().astimezone(tz).date()
    term = current_term()
    the_desk = await office.the_desk(session, member.telegram_id, today, term)
    waiting = []
    for request in await requests.pending(session):
        person = await session.get(Person, request.suggested_person_id) if request.suggested_person_id else None
        waiting.append(
            {
                "id": request.id,
                "name": request.name,
                "school": request.school or "",
                "telegram_name": request.telegram_name if request.telegram_name != request.name else "",
                "asked": format_datetime(request.created_at, tz),
                "version": request.version,
                "person": {"id": person.id, "name": person.full_name} if person is not None else None,
            }
        )
    return {
        "term": term_label(term),
        "requests": waiting,
        "counts": {
            "new_heads": len(the_desk.unmatched),
            "pairings": len(the_desk.pairings),
            "answers": len(the_desk.answers),
            "not_updated": sum(len(g.not_updated) for g in the_desk.plans),
        },
    }


async def decide(session: AsyncSession, member: MemberInfo, body: dict[str, Any]) -> dict[str, Any]:
    request_id, approve, person_id = body.get("request"), body.get("approve"), body.get("person") or 0
    if (
        not isinstance(request_id, int)
        or not isinstance(approve, bool)
        or not isinstance(person_id, int)
        or isinstance(request_id, bool)
        or isinstance(person_id, bool)
    ):
        raise BoardError(400, _("That could not be done. Nothing was changed."))
    # The same decision as the chat's buttons (storage/access_requests.decide): one conditional write on the
    # version shown, a link only through storage/identity.py (a conflict is refused here: the chat's /desk shows
    # it and offers to replace), a revoked account back as a member. Without a version, the current one.
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        current = await session.get(AccessRequest, request_id)
        version = current.version if current is not None else 0
    if approve and person_id:
        suggested = await session.get(AccessRequest, request_id)
        if suggested is None or person_id != suggested.suggested_person_id:
            raise BoardError(400, _("That could not be done. Nothing was changed."))
    decision = await requests.decide(session, request_id, version, member.telegram_id, approve, person_id or None)
    if decision.outcome == "conflict":
        raise BoardError(
            409, _("That person is already linked to another account: decide this request on /desk in the chat.")
        )
    if decision.outcome == "changed":
        raise BoardError(409, _("This request has changed: see the new one."))
    if decision.outcome != "decided":
        raise BoardError(409, _("That request has already been decided."))
    status, applicant = decision.status, decision.applicant
    await session.flush()
    request = await session.get(AccessRequest, request_id)
    assert request is not None
    return {"request": request_id, "status": status, "applicant": applicant, "name": request.name}


async def after_decision(application: Any, services: Services, result: dict[str, Any], decider: MemberInfo) -> None:
    """After the commit: every coordinator's copy of the request says who decided, the applicant is told."""
    from telegram.constants import ParseMode
    from telegram.error import TelegramError

    from core.reply import send
    from handlers.access import decision_text

    async with services.session() as session:
        request = await session.get(AccessRequest, result["request"])
        copies = await requests.copies_of(session, result["request"])
        if request is None:
            return
        text = decision_text(
            request.name,
            request.school,
            result["status"] == "approved",
            decider.display_name or await requests.decider_name(session, decider.telegram_id),
            request.decided_at or clock.now(),
            services.settings.tz,
        )
    for copy in copies:
        try:
            await application.bot.edit_message_text(
                text, chat_id=copy.chat_id, message_id=copy.message_id, parse_mode=ParseMode.HTML
            )
        except TelegramError as exc:
            log.info("could not update a copy of an access request: %s", exc.__class__.__name__)
    if result["status"] == "approved":
        news = t(
            "Good news: your access has been approved. Send /help to see what "
            "you can do, or just type a name to search."
        )
    else:
        news = t(
            "Sorry, your access request was not approved. If you think this is "
            "a mistake, please contact the partnership office."
        )
    try:
        await send(application.bot, result["applicant"], news)
    except TelegramError as exc:
        log.warning("could not tell an applicant about the decision: %s", exc.__class__.__name__)
