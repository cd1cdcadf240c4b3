"""The desk in the Mini App: the queues /desk shows (handlers/desk.py) and their decisions, each made once
whoever presses first.

Every action calls the very function the chat's button calls, and is one conditional write, so the app and a
chat button pressed at the same moment end in one decision; the loser gets 409 saying who decided and when,
and nothing changes. Notifications go out after the commit (the ApiHandler's `after`), as the chat sends them.

Queue: action (the chat's button) → the shared function (its condition):
- access requests: approve, linked or not / reject (dka, dkx) → storage.access_requests.decide (the `version` shown)
- registrations: confirm / reject (ecd) → directory.integrity.decide (still pending)
- accounts without a link: link to a suggested entry, replace only explicitly after the conflict is shown
  (lk:…:y, :r) → storage.identity.link (`expect`: the link the page showed)
- latest links: unlink (ul) → storage.identity.unlink (`expect`: the person shown)
- new heads without a buddy: confirm a suggestion / let the bot ask (bc, ba) → handlers.buddy.confirm_buddy,
  ask_next (the unique index uq_buddy_match_active)
- pairings: ask the buddy again / end, after the page's confirm step (dkr, dkey) → handlers.desk.ask_again_claim
  (once a day per pairing, storage/sends.py), end_pairing_core (still accepted)
- check-in answers, struggling first: mark as seen up to the newest shown (dk:ck) → directory.office.
  mark_checkins_seen (the mark only moves forward)
- plans not updated: send reminders (chs → chr) → handlers.reminders_chat.chase_claim (once a day per plan,
  storage/sends.py), chase_deliver
- entries not confirmed this term: ask the member again, once a day per entry (dks) → handlers.desk.ask_to_confirm
  (directory.currency.remind: a conditional write on person.check_reminded_on)
- support requests: confirm a suggested system leader / let the bot ask in turn / decline (uc, ut, ux; the chat's
  request view, uo:) → handlers.support.broker, decline_request (directory.deployments: still waiting / open)

Each route's role is the role the chat's manifest declares for that button (webapp/server.py `roles`), read
from the same table handlers/authority.py walks.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import TelegramError

from core import clock
from core.i18n import _, format_date, format_datetime, ngettext
from core.reply import send
from core.services import MemberInfo, Services
from core.terms import current_term, term_label
from core.text import Html, esc, t
from directory import appointments as ap
from directory import currency, integrity, office
from handlers import sends as sent_once
from handlers.person_picker import people_in, person_label
from storage import access_requests as requests
from storage import identity, sends
from storage.buddies import BuddyMatch
from storage.directory import EntryChange, Person
from storage.members import AccessRequest, AuditEntry, Member
from webapp.board import BoardError

log = logging.getLogger("partnerbot.webapp")

MAX_ITEMS = 20  # per queue, as on the chat's /desk: the oldest first, decide these first
MAX_ANSWERS = 30  # as the chat's check-in part
SUGGESTIONS = 2  # buddies suggested per new head, as the chat's part


async def queues(session: AsyncSession, member: MemberInfo, services: Services) -> dict[str, Any]:
    from handlers.buddy import ANSWER_LABELS, CHECKIN_LABELS
    from handlers.desk import STATUS_LABELS, reminded_text  # the chat's own words

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
    unlinked = list(
        await session.scalars(
            select(Member)
            .where(Member.active.is_(True), Member.person_id.is_(None))
            .order_by(Member.approved_at.desc().nulls_last(), Member.telegram_id)
            .limit(MAX_ITEMS)
        )
    )
    accounts = []
    for m in unlinked:
        suggestions = people_in(services.directory, m.display_name, limit=2) if m.display_name else []
        linked_elsewhere = []
        for p in suggestions:
            other = await identity.active_account_of(session, p.id, besides=m.telegram_id)
            linked_elsewhere.append(_account_label(other) if other is not None else "")
        accounts.append(
            {
                "id": m.telegram_id,
                "name": m.display_name or str(m.telegram_id),
                "username": m.username or "",
                "suggestions": [
                    {"person": p.id, "label": person_label(p), "linked_to": other}
                    for p, other in zip(suggestions, linked_elsewhere, strict=True)
                ],
            }
        )
    recent = await session.scalars(
        select(Member)
        .where(Member.active.is_(True), Member.person_id.is_not(None), Member.linked_at.is_not(None))
        .order_by(Member.linked_at.desc())
        .limit(3)
    )
    links = []
    for m in recent:
        person = await session.get(Person, m.person_id)
        links.append(
            {
                "id": m.telegram_id,
                "name": m.display_name or str(m.telegram_id),
                "person": m.person_id,
                "person_name": person.full_name if person is not None else "",
                "since": format_date(m.linked_at.astimezone(tz).date()) if m.linked_at else "",
            }
        )
    rules = ap.rules_from(services.settings)
    new_heads = []
    for a in the_desk.unmatched[:MAX_ITEMS]:
        proposed = await ap.propose(session, a.id, SUGGESTIONS, rules, today)
        new_heads.append(
            {
                "id": a.id,
                "name": a.person.full_name,
                "school": a.school.name if a.school is not None else _("school not known"),
                "starts": format_date(a.start_date),
                "suggestions": [{"person": x.person_id, "name": x.name, "reasons": x.reason_text} for x in proposed],
            }
        )
    order = {"asked": 0, "ending": 1, "paused": 2, "active": 3}
    answers = the_desk.answers[:MAX_ANSWERS]
    upto = max((x.answered_at for x in answers), default=None)
    stale = await currency.stale(session, today, MAX_ITEMS + 1)
    asked_today = await sent_once.standing_notes(
        session, sends.ASK_AGAIN, [p.match_id for p in the_desk.pairings if p.status == "asked"], tz
    )
    return {
        "term": term_label(term),
        "requests": waiting,
        "registrations": registrations,
        "accounts": accounts,
        "links": links,
        "new_heads": new_heads,
        "pairings": [
            {
                "id": p.match_id,
                "head": p.head,
                "buddy": p.buddy,
                "state": p.status,
                "status": _(STATUS_LABELS.get(p.status, p.status)),
                "ends": format_date(p.ends),
                "asked_again": asked_today.get(p.match_id, ""),
            }
            for p in sorted(the_desk.pairings, key=lambda p: (order.get(p.status, 9), p.start))[:MAX_ITEMS]
        ],
        "plans": len(the_desk.plans),
        "answers_line": ngettext(
            "{n} check-in answer since you last looked",
            "{n} check-in answers since you last looked",
            len(the_desk.answers),
        ).format(n=len(the_desk.answers)),
        # struggling first (directory.office.answers_since), each with its comment
        "answers": [
            {
                "who": x.who,
                "about": x.about,
                "when": _(CHECKIN_LABELS.get(x.kind, x.kind)),
                "answer": x.answer,
                "answer_label": _(ANSWER_LABELS.get(x.answer, x.answer)),
                "comment": x.comment or "",
                "answered": format_datetime(x.answered_at, tz),
            }
            for x in answers
        ],
        # "mark as seen" carries the newest answer the page showed: one given since stays new
        "answers_upto": upto.isoformat() if upto is not None else None,
        "not_updated": [
            {"plan": g.title, "id": g.plan_id, "names": g.not_updated[:20]}
            for g in the_desk.plans[:MAX_ITEMS]
            if g.not_updated
        ],
        "stale": [
            {
                "person": e.person_id,
                "name": e.name,
                "reminded": reminded_text(e.reminded_on),
                "can_ask": e.telegram_id is not None and e.reminded_on != today,
                "no_account": e.telegram_id is None,
            }
            for e in stale[:MAX_ITEMS]
        ],
        "support": await _support(session, services),
        "counts": {
            "new_heads": len(the_desk.unmatched),
            "pairings": len(the_desk.pairings),
            "answers": len(the_desk.answers),
            "not_updated": sum(len(g.not_updated) for g in the_desk.plans),
            "stale": len(stale),
        },
    }


async def _support(session: AsyncSession, services: Services) -> list[dict[str, Any]]:
    """The support queue as the chat's desk part lists it (handlers/support.py desk_part), each waiting request
    with the suggestions the chat's request view (uo:) offers to confirm."""
    from directory import deployments as dp
    from handlers.support import SUGGESTIONS as SUPPORT_SUGGESTIONS
    from handlers.support import URGENCY_LABELS, _school, _what, suggestions_for

    out = []
    for r in (await dp.waiting_requests(session))[:MAX_ITEMS]:
        suggestions = await suggestions_for(services, session, r, SUPPORT_SUGGESTIONS)
        out.append(
            {
                "id": r.id,
                "school": _school(r),
                "what": _what(r),
                "urgency": _(URGENCY_LABELS.get(r.urgency, r.urgency)),
                "created": format_date(r.created_at.date()),
                "suggestions": [{"person": x.person_id, "name": x.name, "reasons": x.reason_text} for x in suggestions],
            }
        )
    return out


def _account_label(account: identity.Account) -> str:
    since = format_date(account.linked_at.date()) if account.linked_at else "—"
    return _("{name}, linked since {date}").format(name=account.display_name or str(account.telegram_id), date=since)


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


# --- the other queues' actions: the chat's functions, one conditional write each ----------------------------


class Lost(BoardError):
    """409 for the loser of two presses at once. Its sentence (who decided, when) is written by `explain` in a
    fresh session once the losing transaction has ended (a failed insert spends it)."""

    def __init__(self, explain: Callable[[AsyncSession], Awaitable[str]]):
        super().__init__(409, _("That has already been decided. Nothing was changed."))
        self.explain = explain


def _ids(body: dict[str, Any], *keys: str) -> list[int]:
    """The ids a body must carry: ints (not bools, not strings), in range; 400 otherwise, nothing read."""
    out = []
    for key in keys:
        value = body.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
            raise BoardError(400, _("That could not be done. Nothing was changed."))
        out.append(value)
    return out


def _today(services: Services) -> Any:
    return clock.now().astimezone(services.settings.tz).date()


async def _audit_of(session: AsyncSession, action: str, entity: str, ident: int) -> tuple[str, Any]:
    entry = (
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.entity == entity, AuditEntry.entity_id == str(ident))
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
    ).first()
    if entry is None:
        return "", None
    return await _name_of(session, entry.actor_id) if entry.actor_id is not None else entry.actor_label, entry.at


def _asked_already(appointment_id: int, tz: Any) -> Callable[[AsyncSession], Awaitable[str]]:
    async def explain(session: AsyncSession) -> str:
        match = await ap.active_match(session, appointment_id)
        if match is None:
            return _("This new head already has a buddy, or one has been asked. Nothing was changed.")
        who, when = await _audit_of(session, "buddy.request", "buddy_match", match.id)
        buddy = await session.get(Person, match.buddy_person_id)
        return (
            _("A buddy has already been asked for this new head: {buddy}.").format(
                buddy=buddy.full_name if buddy is not None else "—"
            )
            + " "
            + _already(_("asked"), who, when, tz)
        )

    return explain


async def confirm_buddy(
    session: AsyncSession, member: MemberInfo, body: dict[str, Any], services: Services
) -> dict[str, Any]:
    """A new head's suggested buddy confirmed (the chat's bc:APPOINTMENT:PERSON) or, without `person`, the bot
    lets ask the best one (ba:APPOINTMENT): handlers.buddy.confirm_buddy / ask_next."""
    from handlers.buddy import ask_next, asked_text
    from handlers.buddy import confirm_buddy as confirm

    (appointment_id,) = _ids(body, "appointment")
    rules, today, tz = ap.rules_from(services.settings), _today(services), services.settings.tz
    try:
        if body.get("person") is None:
            match_id, name = await ask_next(session, appointment_id, member.telegram_id, rules, today)
        else:
            (person_id,) = _ids(body, "person")
            match_id, name = await confirm(session, appointment_id, person_id, member.telegram_id, rules, today)
    except ap.MatchError as exc:
        if await _has_active(services, appointment_id):
            raise Lost(_asked_already(appointment_id, tz)) from None
        raise BoardError(409, str(exc)) from None
    if match_id is None:
        return {"match": None, "text": _("No suitable buddy is free in the directory at present.")}
    # what the chat's message then says; `delivered` is known after the commit, so the page says "asked"
    return {"match": match_id, "name": name, "text": str(asked_text(name, True, body.get("person") is None))}


async def _has_active(services: Services, appointment_id: int) -> bool:
    async with services.sessionmaker() as fresh:
        return await ap.active_match(fresh, appointment_id) is not None


async def after_buddy(application: Any, result: dict[str, Any]) -> None:
    """After the commit, as the chat's button: the buddy asked (or the coordinators, if not on Telegram)."""
    from core.services import BotContext
    from handlers.buddy import deliver_request

    if result.get("match"):
        await deliver_request(BotContext(application), result["match"])


async def ask_again(
    session: AsyncSession, member: MemberInfo, body: dict[str, Any], services: Services
) -> dict[str, Any]:
    """The chat's dkr:MATCH: handlers.desk.ask_again_claim (still unanswered; once a day per pairing, whoever
    presses, in the app or the chat); the loser gets 409 naming who asked and when, and nothing is sent."""
    from handlers.desk import ask_again_claim
    from handlers.sends import AlreadySent

    (match_id,) = _ids(body, "match")
    try:
        waiting = await ask_again_claim(session, match_id, member.telegram_id, services.settings.tz)
    except AlreadySent as exc:
        raise BoardError(409, exc.text) from None
    if not waiting:
        raise BoardError(409, _("That request has already been answered."))
    return {"match": match_id, "text": _("Asked again")}


async def after_ask_again(application: Any, result: dict[str, Any], actor_id: int) -> None:
    """After the commit, as the chat: the buddy asked. Not reached: the office has the details (the fallback of
    handlers.buddy.deliver_request), the claim is given back, and the presser is told in their chat."""
    from core.services import BotContext
    from handlers.desk import ask_again_deliver, asked_again_text

    outcome = await ask_again_deliver(BotContext(application), result["match"], actor_id)
    if outcome == "failed":
        await _tell(application.bot, actor_id, esc(asked_again_text(outcome)))


async def _tell(bot: Any, chat_id: int, text: Html) -> None:
    """A courtesy after the page has answered: the presser told in their chat what the send could not do."""
    try:
        await send(bot, chat_id, text)
    except TelegramError:
        log.info("webapp: could not tell %s the outcome of a send", chat_id)


async def end_pairing(
    session: AsyncSession, member: MemberInfo, body: dict[str, Any], services: Services
) -> dict[str, Any]:
    """The chat's dkey:MATCH (after the page's own confirm step): handlers.desk.end_pairing_core."""
    from handlers.desk import end_pairing_core

    (match_id,) = _ids(body, "match")
    tz = services.settings.tz
    try:
        head, buddy, parties = await end_pairing_core(session, match_id, member.telegram_id, _today(services))
    except ap.MatchError as exc:
        match = await session.get(BuddyMatch, match_id)
        if match is not None and match.status == "ended":
            raise BoardError(
                409,
                _("That pairing has already been ended.")
                + " "
                + _already(_("ended"), await _name_of(session, match.ended_by), match.ended_at, tz),
            ) from None
        raise BoardError(409, str(exc)) from None
    return {"match": match_id, "head": head, "buddy": buddy, "parties": parties}


async def after_end(application: Any, result: dict[str, Any]) -> None:
    from handlers.desk import tell_pairing_ended

    await tell_pairing_ended(application.bot, result["parties"], result["head"], result["buddy"])


async def checkins_seen(
    session: AsyncSession, member: MemberInfo, body: dict[str, Any], services: Services
) -> dict[str, Any]:
    """The chat's check-in part reads the answers (checkins_seen_at); here "Mark as seen" up to the newest
    answer the page showed (`upto`), never later than now."""
    raw = body.get("upto")
    try:
        upto = dt.datetime.fromisoformat(raw) if isinstance(raw, str) and len(raw) < 40 else None
    except ValueError:
        upto = None
    if upto is None or upto.tzinfo is None:
        raise BoardError(400, _("That could not be done. Nothing was changed."))
    moved = await office.mark_checkins_seen(session, member.telegram_id, min(upto, clock.now()))
    return {"seen": True, "moved": moved}


async def chase(session: AsyncSession, member: MemberInfo, body: dict[str, Any], services: Services) -> dict[str, Any]:
    """The chat's Chase → Send reminders (chr:PLAN): handlers.reminders_chat.chase_claim (once a day per plan,
    whoever presses, in the app or the chat; the loser gets 409 naming who sent and when), sent after commit."""
    from handlers.reminders_chat import chase_claim
    from handlers.sends import AlreadySent

    (plan_id,) = _ids(body, "plan")
    try:
        due = await chase_claim(session, plan_id, member.telegram_id, services.settings.tz)
    except AlreadySent as exc:
        raise BoardError(409, exc.text) from None
    if due is None:
        raise BoardError(404, _("That plan is no longer available."))
    text = ngettext("Reminding {n} person on the bot.", "Reminding {n} people on the bot.", len(due)).format(n=len(due))
    return {"plan": plan_id, "reminders": len(due), "text": text, "due": due}


async def after_chase(application: Any, services: Services, result: dict[str, Any], actor_id: int) -> None:
    """After the commit, as the chat; the presser is told in their chat who was not reached (the page has
    already answered)."""
    from handlers.reminders_chat import chase_deliver, unreached_text

    due = result.pop("due")
    unreached = await chase_deliver(application.bot, services, due, actor_id)
    if unreached:
        await _tell(application.bot, actor_id, unreached_text(due, unreached))


async def ask_to_confirm(
    session: AsyncSession, member: MemberInfo, body: dict[str, Any], services: Services
) -> dict[str, Any]:
    """The chat's dks:PERSON: the member asked again to confirm their entry, at most once a day per entry."""
    from handlers.desk import ask_to_confirm as ask
    from handlers.desk import remind_error_text

    (person_id,) = _ids(body, "person")
    try:
        telegram_id, text = await ask(session, person_id, member.telegram_id, _today(services))
    except currency.RemindError as exc:
        message = remind_error_text(exc)
        if str(exc) == "today":
            who, when = await _audit_of(session, "person.check_reminded", "person", person_id)
            message += " " + _already(_("asked again"), who, when, services.settings.tz)
        raise BoardError(409, message) from None
    return {"person": person_id, "telegram_id": telegram_id, "card": str(text), "text": _("Asked again.")}


async def after_confirm_ask(application: Any, result: dict[str, Any]) -> None:
    from core.text import Html
    from handlers.desk import send_check

    await send_check(application.bot, result.pop("telegram_id"), result["person"], Html(result.pop("card")))


async def link(session: AsyncSession, member: MemberInfo, body: dict[str, Any], services: Services) -> dict[str, Any]:
    """The chat's lk:ACCOUNT:PERSON:y (or :r, `replace`: true, after the conflict was shown): storage.identity.link,
    conditional on the account still being unlinked (`expect`: what the page showed, null or a person id)."""
    account_id, person_id = _ids(body, "account", "person")
    expect = body.get("expect")
    if expect is not None:
        (expect,) = _ids(body, "expect")
    replace = body.get("replace", False)
    if not isinstance(replace, bool):
        raise BoardError(400, _("That could not be done. Nothing was changed."))
    tz = services.settings.tz
    try:
        replaced = await identity.link(
            session, account_id, person_id, member.telegram_id, replace=replace, expect=expect
        )
    except identity.LinkConflict as exc:
        raise BoardError(
            409,
            _(
                "Already linked to another account: {account}. Replace? The other account keeps its access, unlinked."
            ).format(account=_account_label(exc.other)),
        ) from None
    except identity.LinkChanged as exc:
        now = exc.account
        where = ""
        if now is not None and now.person_id is not None:
            where = " " + _("It is now linked to {person}.").format(person=now.person_name or "—")
        raise BoardError(
            409,
            _("This account's link has changed since the page showed it.")
            + where
            + " "
            + _already(_("decided"), await _name_of(session, exc.by) if exc.by else "", exc.at, tz),
        ) from None
    except identity.IdentityError:
        raise BoardError(409, _("That link cannot be made now. Nothing was changed.")) from None
    account = await identity.account(session, account_id)
    return {
        "account": account_id,
        "person": person_id,
        "text": _("Linked: {name} to {person}.").format(
            name=account.display_name if account else str(account_id), person=account.person_name if account else ""
        ),
        "replaced": replaced.display_name if replaced is not None else None,
    }


async def unlink(session: AsyncSession, member: MemberInfo, body: dict[str, Any], services: Services) -> dict[str, Any]:
    """The chat's ul:ACCOUNT:y: storage.identity.unlink, conditional on the link the page showed (`person`)."""
    account_id, person_id = _ids(body, "account", "person")
    account = await identity.account(session, account_id)
    if await identity.unlink(session, account_id, member.telegram_id, reason="coordinator", expect=person_id) is None:
        by, at = await identity.last_change(session, account_id)
        raise BoardError(
            409,
            _("That account is no longer linked to that entry.")
            + " "
            + _already(_("decided"), await _name_of(session, by) if by else "", at, services.settings.tz),
        )
    return {
        "account": account_id,
        "text": _("Unlinked: {name}.").format(name=account.display_name if account else str(account_id)),
    }


async def support_broker(
    session: AsyncSession, member: MemberInfo, body: dict[str, Any], services: Services
) -> dict[str, Any]:
    """The chat's uc:REQUEST:PERSON (a system leader confirmed) or, without `person`, ut:REQUEST (in turn)."""
    from directory import deployments as dp
    from handlers.support import broker

    (request_id,) = _ids(body, "request")
    person_id = None
    if body.get("person") is not None:
        (person_id,) = _ids(body, "person")
    try:
        deployment_id, name = await broker(services, session, request_id, person_id, member.telegram_id)
    except dp.SupportError as exc:
        raise BoardError(409, str(exc) + " " + await _support_decided(session, request_id, services)) from None
    return {
        "deployment": deployment_id,
        "text": _("I have asked {name} to support request {n}.").format(name=name, n=request_id),
    }


async def _support_decided(session: AsyncSession, request_id: int, services: Services) -> str:
    from storage.support import SupportRequest

    request = await session.get(SupportRequest, request_id)
    if request is None or request.decided_by is None:
        return _("Nothing was changed.")
    return _already(_("decided"), await _name_of(session, request.decided_by), request.decided_at, services.settings.tz)


async def after_support_broker(application: Any, result: dict[str, Any]) -> None:
    from core.services import BotContext
    from handlers.support import deliver_ask

    await deliver_ask(BotContext(application), result["deployment"])


async def support_decline(
    session: AsyncSession, member: MemberInfo, body: dict[str, Any], services: Services
) -> dict[str, Any]:
    """The chat's ux:REQUEST (after the page's confirm step): handlers.support.decline_request."""
    from handlers.support import decline_request

    (request_id,) = _ids(body, "request")
    targets = await decline_request(session, request_id, member.telegram_id)
    if targets is None:
        raise BoardError(
            409,
            _("That request is no longer open: someone has already acted on it.")
            + " "
            + await _support_decided(session, request_id, services),
        )
    return {
        "request": request_id,
        "targets": targets,
        "text": _("Request {n} declined. The school has been told.").format(n=request_id),
    }


async def after_support_decline(application: Any, request_id: int, targets: list[int]) -> None:
    from core.services import BotContext
    from handlers.support import tell_declined

    await tell_declined(BotContext(application), targets, request_id)
