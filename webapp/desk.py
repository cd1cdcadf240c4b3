"""The desk in the Mini App: the queues /desk shows (directory/office.py, storage/access_requests.py,
directory/integrity.py) and their decisions, each made once whoever presses first.

Access requests and members' new-head registrations are decided here with the very functions the chat's
buttons call (storage.access_requests.decide on the version the page showed, directory.integrity.decide): one
conditional write each (UPDATE … WHERE status = 'pending' … RETURNING), so the app and a chat button pressed at
the same moment end in one decision; the loser gets 409 with who decided, and changes nothing. The other queues
(accounts to link, new heads, pairings, check-in answers, owners not updated) are listed read-only: their
actions are worked on /desk in the chat.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.i18n import _, format_date, format_datetime, ngettext
from core.services import MemberInfo, Services
from core.text import t
from directory import integrity, office
from plans.terms import current_term, term_label
from storage import access_requests as requests
from storage.directory import EntryChange, Person
from storage.members import AccessRequest, Member
from webapp.board import BoardError

log = logging.getLogger("partnerbot.webapp")

MAX_ITEMS = 20  # per queue, as on the chat's /desk: the oldest first, decide these first


async def queues(session: AsyncSession, member: MemberInfo, services: Services) -> dict[str, Any]:
    from handlers.desk import STATUS_LABELS  # the chat's own words for a pairing's state

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
    registrations = []
    for change in await session.scalars(
        select(EntryChange)
        .where(EntryChange.status == "pending")
        .order_by(EntryChange.created_at, EntryChange.id)
        .limit(MAX_ITEMS)
    ):
        registrations.append(
            {
                "id": change.id,
                "by": await _name_of(session, change.proposed_by),
                "when": format_datetime(change.created_at, tz),
                "summary": change.summary,
            }
        )
    unlinked = await session.scalars(
        select(Member)
        .where(Member.active.is_(True), Member.person_id.is_(None))
        .order_by(Member.approved_at.desc().nulls_last(), Member.telegram_id)
        .limit(MAX_ITEMS)
    )
    order = {"asked": 0, "ending": 1, "paused": 2, "active": 3}
    return {
        "term": term_label(term),
        "requests": waiting,
        "registrations": registrations,
        "accounts": [{"name": m.display_name or str(m.telegram_id), "username": m.username or ""} for m in unlinked],
        "new_heads": [
            {
                "name": a.person.full_name,
                "school": a.school.name if a.school is not None else _("school not known"),
                "starts": format_date(a.start_date),
            }
            for a in the_desk.unmatched[:MAX_ITEMS]
        ],
        "pairings": [
            {"head": p.head, "buddy": p.buddy, "status": _(STATUS_LABELS.get(p.status, p.status))}
            for p in sorted(the_desk.pairings, key=lambda p: (order.get(p.status, 9), p.start))[:MAX_ITEMS]
        ],
        "plans": len(the_desk.plans),
        "answers_line": ngettext(
            "{n} check-in answer since you last looked in the chat",
            "{n} check-in answers since you last looked in the chat",
            len(the_desk.answers),
        ).format(n=len(the_desk.answers)),
        "not_updated": [
            {"plan": g.title, "names": g.not_updated[:20]} for g in the_desk.plans[:MAX_ITEMS] if g.not_updated
        ],
        "counts": {
            "new_heads": len(the_desk.unmatched),
            "pairings": len(the_desk.pairings),
            "answers": len(the_desk.answers),
            "not_updated": sum(len(g.not_updated) for g in the_desk.plans),
        },
    }


async def _name_of(session: AsyncSession, telegram_id: int | None) -> str:
    member = await session.get(Member, telegram_id) if telegram_id is not None else None
    return (member.display_name if member is not None else "") or (str(telegram_id) if telegram_id else "—")


def _already(status: str, who: str, when: Any, tz: Any) -> str:
    """The loser's answer: what became of it, who decided and when."""
    return t(
        "Already {status} by {who} on {when}. Nothing was changed.",
        status=status,
        who=who or "—",
        when=format_datetime(when, tz) if when is not None else "—",
    )


async def decide(session: AsyncSession, member: MemberInfo, body: dict[str, Any], services: Services) -> dict[str, Any]:
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
    if decision.outcome == "decided-elsewhere":
        raise BoardError(
            409,
            _("That request has already been decided.")
            + " "
            + _already(
                _("approved") if decision.status == "approved" else _("rejected"),
                await _name_of(session, decision.decided_by),
                decision.decided_at,
                services.settings.tz,
            ),
        )
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
    from handlers.access import applicant_news, decision_text

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
    news = applicant_news(result["status"] == "approved", services.settings)
    try:
        await send(application.bot, result["applicant"], news)
    except TelegramError as exc:
        log.warning("could not tell an applicant about the decision: %s", exc.__class__.__name__)


async def decide_registration(
    session: AsyncSession, member: MemberInfo, body: dict[str, Any], services: Services
) -> dict[str, Any]:
    """Confirm or reject a member's new-head registration: the chat's Confirm/Reject (handlers/currency.py)
    call the same directory.integrity.decide, one conditional write; the loser is told who decided."""
    change_id, confirm = body.get("change"), body.get("confirm")
    if not isinstance(change_id, int) or isinstance(change_id, bool) or not isinstance(confirm, bool):
        raise BoardError(400, _("That could not be done. Nothing was changed."))
    try:
        change, registration = await integrity.decide(session, change_id, member.telegram_id, confirm)
    except integrity.ChangeError as exc:
        current = await session.get(EntryChange, change_id)
        if current is None or current.status not in ("confirmed", "rejected"):
            raise BoardError(409, str(exc)) from None
        raise BoardError(
            409,
            _("That registration has already been decided.")
            + " "
            + _already(
                _("confirmed") if current.status == "confirmed" else _("rejected"),
                await _name_of(session, current.decided_by),
                current.decided_at,
                services.settings.tz,
            ),
        ) from None
    return {
        "change": change.id,
        "status": change.status,
        "summary": change.summary,
        "proposer": change.proposed_by,
        "appointment": registration.appointment.id if registration is not None else None,
        # a registrant who said "I am the new head": linking their account is a separate decision, in the chat
        "link_in_chat": registration is not None
        and change.proposed_by is not None
        and (change.payload or {}).get("relation") == "self",
    }


async def after_registration(application: Any, result: dict[str, Any]) -> None:
    """After the commit, what the chat's button does after its own: the registrant told, the directory
    refreshed, the coordinators told of the new appointment (handlers/currency.py)."""
    from core.services import BotContext
    from handlers.currency import after_change

    await after_change(
        BotContext(application), result["proposer"], result["status"] == "confirmed", result["appointment"]
    )
