"""School-to-school support in the chat: ask for support, the office brokers it, the system leader answers,
logs days and both sides report the impact.

Commands: /support (your requests, your deployments; coordinators: what waits, /support capacity ID DAYS),
/days DEPLOYMENT DAYS [NOTE] (a system leader logs days delivered: `/days 12 1.5 lesson study with Y5`).

Callback data (ids only, never user text):
  ua:0 / ua:PERSON   ask for support from /sle results / from a system leader's card
  uu:s|t|n           how soon (draft)                          uy:DAYS      roughly how many days (draft)
  uo:REQUEST         coordinator opens a request with its suggestions
  uc:REQUEST:PERSON  coordinator confirms a system leader       ut:REQUEST   let the bot ask in turn
  ux:REQUEST         coordinator declines the request           uw:REQUEST   the requester withdraws it
  uq:a|d:DEPLOYMENT  the system leader accepts / declines       uv:DEPLOYMENT  see a deployment
  ue:DEPLOYMENT      the support is over (leader or office)     ui:DEPLOYMENT:y|n  impact: would you recommend
Identity: a request is made for the member's own linked entry and school; only its two parties and the office
see a deployment, and the school's need is never shown to anyone else (a press by anyone else gets the same
"not found" as a deployment that does not exist).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import TelegramError

from core import clock
from core.i18n import N_, _, format_date, ngettext
from core.reply import answer, edit, keyboard, not_in_private, reply, send
from core.services import BotContext
from core.text import Html, bold, esc, fill, t
from directory import deployments as dp
from directory import specialisms as spec_catalogue
from directory import support_report
from directory.matching import PHASE_LABELS, join_words
from directory.support_match import Suggestion, days_text
from handlers.manifest import Button, Command, Manifest, TextStep, Writes
from handlers.once import once
from storage.directory import Person
from storage.members import Role, coordinator_ids
from storage.support import SupportDay, SupportDeployment, SupportImpact, SupportLeader, SupportRequest

log = logging.getLogger(__name__)

DRAFT = "support_draft"
IMPACT = "support_impact_row"
SUGGESTIONS = 3
IN_TURN = 5
DAY_CHOICES = ("0.5", "1", "2", "3", "5", "10")
URGENCY = {"s": "soon", "t": "this_term", "n": "next_term"}
URGENCY_LABELS = {
    "soon": N_("as soon as possible"),
    "this_term": N_("this term"),
    "next_term": N_("next term"),
}
REQUEST_STATUS = {
    "waiting": N_("with the partnership office"),
    "asked": N_("a system leader has been asked"),
    "agreed": N_("agreed"),
    "closed": N_("finished"),
    "declined": N_("not possible this time"),
    "withdrawn": N_("withdrawn"),
}
DEPLOYMENT_STATUS = {
    "asked": N_("asked, waiting for an answer"),
    "accepted": N_("under way"),
    "declined": N_("declined"),
    "withdrawn": N_("withdrawn"),
    "closed": N_("finished"),
}
NOT_FOUND = N_("Sorry, that support record is not available to you.")


# --------------------------------------------------------------------------------------------- helpers


def _today(context: BotContext) -> dt.date:
    return clock.now().astimezone(context.services.settings.tz).date()


def _data(update: Update) -> str:
    return (update.callback_query.data if update.callback_query else "") or ""


def _ints(data: str) -> list[int]:
    out = []
    for part in data.split(":")[1:]:
        if part.isascii() and part.isdigit() and len(part) < 19:
            out.append(int(part))
    return out


def _is_office(context: BotContext) -> bool:
    return context.role >= Role.COORDINATOR


def _rule(context: BotContext) -> str:
    rule = getattr(context.services.settings, "support_conflict", "trust")
    return rule if rule in ("school", "trust") else "trust"


async def _send(context: BotContext, chat_id: int, text: str, markup: object = None) -> bool:
    try:
        await send(context.bot, chat_id, text, markup)  # type: ignore[arg-type]
        return True
    except TelegramError as exc:
        log.warning("could not message %s: %s", chat_id, exc.__class__.__name__)
        return False


async def _tell_office(context: BotContext, session: AsyncSession, text: str, markup: object = None) -> int:
    sent = 0
    for chat_id in await coordinator_ids(session, context.services.settings.admin_telegram_ids):
        sent += await _send(context, chat_id, text, markup)
    return sent


async def _telegram_ids(session: AsyncSession, person_id: int) -> list[int]:
    from directory.appointments import telegram_ids

    return await telegram_ids(session, person_id)


def _school(request: SupportRequest) -> str:
    school = request.school
    if school is None:
        return _("school not known")
    return f"{school.name} ({school.locality})" if school.locality else school.name


def _what(request: SupportRequest) -> str:
    what = spec_catalogue.label(request.specialism)
    if request.phase:
        what += ", " + _(PHASE_LABELS.get(request.phase, request.phase)).lower()
    return what


def request_text(request: SupportRequest) -> Html:
    """The need, for its parties and the office only."""
    lines = [
        t("{school} asks for support with {what}.", school=_school(request), what=_what(request)),
        t("Asked by {name}.", name=request.requester.full_name if request.requester else "?"),
    ]
    if request.context:
        lines.append(t("Need: {text}", text=request.context))
    lines.append(
        t(
            "How soon: {when}. Roughly {days} days.",
            when=_(URGENCY_LABELS.get(request.urgency, request.urgency)),
            days=days_text(request.days_wanted),
        )
    )
    return Html("\n".join(lines))


def suggestion_lines(suggestions: list[Suggestion]) -> Html:
    lines = []
    for i, s in enumerate(suggestions, 1):
        lines.append(Html(f"{i}. {bold(s.name)}"))
        lines.append(Html(f"   <i>{esc(s.reason_text)}</i>"))
    return Html("\n".join(lines))


async def _suggestions(
    context: BotContext, session: AsyncSession, request: SupportRequest, limit: int
) -> list[Suggestion]:
    return await suggestions_for(context.services, session, request, limit)


async def suggestions_for(
    services: Any, session: AsyncSession, request: SupportRequest, limit: int
) -> list[Suggestion]:
    """The system leaders to suggest for a request (the chat's request view and the Mini App's desk)."""
    index = services.directory
    if index is None:
        return []
    exclude = await dp.asked_before(session, request.id)
    today = clock.now().astimezone(services.settings.tz).date()
    rule = getattr(services.settings, "support_conflict", "trust")
    rule = rule if rule in ("school", "trust") else "trust"
    return await dp.suggestions(session, index, dp.need_of(request), today, rule, limit, exclude)


def contact_lines(person: Person, offer: SupportLeader | None) -> Html:
    """Name, role, school and the contact details the person agreed to share (a system leader chooses; the
    requesting member asked for the introduction, so theirs are shared)."""
    parts = [bold(person.full_name)]
    if person.job_title:
        parts.append(esc(person.job_title))
    if person.school is not None:
        parts.append(esc(person.school.name))
    share_email = offer.share_email if offer is not None else True
    share_phone = offer.share_phone if offer is not None else True
    shown = False
    if person.email and share_email:
        parts.append(t("Email: {email}", email=person.email))
        shown = True
    if person.phone and share_phone:
        parts.append(t("Phone: {phone}", phone=person.phone))
        shown = True
    elif person.school is not None and person.school.phone:
        parts.append(t("School phone: {phone}", phone=person.school.phone))
        shown = True
    if not shown:
        parts.append(t("(no contact details to share: ask the partnership office)"))
    return Html("\n".join(parts))


# --------------------------------------------------------------------------------------------- asking


async def ask_button(update: Update, context: BotContext) -> None:
    """'Ask for support' on /sle results (ua:0: the search's need) or on a system leader's card (ua:PERSON)."""
    member = context.member
    ids = _ints(_data(update))
    if member is None or member.person_id is None:
        await answer(
            update, _("Your account is not linked to a directory entry yet. Ask a coordinator to link it."), True
        )
        return
    saved = context.browsing.get("sle_query")
    spec = saved.get("spec") if isinstance(saved, dict) else None
    phase = saved.get("phase") if isinstance(saved, dict) else None
    preferred = ids[0] if ids and ids[0] else None
    index = context.services.directory
    if preferred is not None:
        leader = index.person(preferred) if index is not None else None
        if leader is None or not leader.designations:
            await answer(update, _("That system leader is no longer in the directory."), alert=True)
            return
        specs = list(leader.specialisms)
        if not spec or (specs and spec not in specs):
            spec = specs[0] if specs else None
    if not spec:
        await answer(update, _("Search with /sle first, e.g. /sle maths primary."), alert=True)
        return
    own = index.person(member.person_id) if index is not None else None
    if phase is None and own is not None and own.school_id is not None and index is not None:
        school = index.school_by_id.get(own.school_id)
        phase = school.phase if school else None
    context.user_data[DRAFT] = {"spec": spec, "phase": phase, "preferred": preferred}
    context.user_data["awaiting"] = "support_need"
    await answer(update)
    what = spec_catalogue.label(spec) + (", " + _(PHASE_LABELS.get(phase, str(phase))).lower() if phase else "")
    await reply(
        update,
        context,
        Html(
            t("Ask for support with {what}.", what=what)
            + "\n"
            + t("In one line, what does your school need? (/cancel to stop)")
        ),
    )


async def need_text(update: Update, context: BotContext) -> None:
    message = update.effective_message
    draft = context.user_data.get(DRAFT)
    context.user_data.pop("awaiting", None)
    if message is None or not isinstance(draft, dict):
        return
    text = (message.text or "").strip()
    if not text or text.startswith("/"):
        context.user_data.pop(DRAFT, None)
        await reply(update, context, t("Nothing was sent. Press “Ask for support” again when you are ready."))
        return
    draft["context"] = text[: dp.MAX_TEXT]
    context.user_data[DRAFT] = draft
    rows = [[(_(URGENCY_LABELS[v]), f"uu:{k}")] for k, v in URGENCY.items()]
    await reply(update, context, t("How soon?"), keyboard(rows))


async def urgency_button(update: Update, context: BotContext) -> None:
    data = _data(update)
    code = data.split(":")[1] if data.count(":") == 1 else ""
    draft = context.user_data.get(DRAFT)
    if code not in URGENCY or not isinstance(draft, dict) or "context" not in draft:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    draft["urgency"] = URGENCY[code]
    context.user_data[DRAFT] = draft
    await answer(update)
    rows = [[(d, f"uy:{d}") for d in DAY_CHOICES]]
    await edit(update, context, t("Roughly how many days of support?"), keyboard(rows))


async def days_button(update: Update, context: BotContext) -> None:
    data = _data(update)
    value = data.split(":")[1] if data.count(":") == 1 else ""
    draft = context.user_data.get(DRAFT)
    member = context.member
    if value not in DAY_CHOICES or not isinstance(draft, dict) or "urgency" not in draft or member is None:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    context.user_data.pop(DRAFT, None)
    async with context.services.session() as session:
        me = await session.get(Person, member.person_id) if member.person_id else None
        if me is None:
            await answer(update, _("Your entry is no longer in the directory."), alert=True)
            return
        try:
            request = await dp.create_request(
                session,
                requester_person_id=me.id,
                school_id=me.school_id,
                specialism=str(draft["spec"]),
                phase=draft.get("phase"),
                context=str(draft.get("context", "")),
                urgency=str(draft["urgency"]),
                days_wanted=float(value),
                actor_id=member.telegram_id,
                preferred_person_id=draft.get("preferred"),
            )
        except dp.SupportError as exc:
            await answer(update, str(exc), alert=True)
            return
        request_id = request.id
        loaded = await dp.get_request(session, request_id)
        office_text = Html(bold(_("New request for support")) + "\n" + request_text(loaded))  # type: ignore[arg-type]
    await answer(update, _("Sent"))
    await edit(
        update,
        context,
        t(
            "Thank you. Your request (number {n}) is with the partnership office, who will find a system leader. "
            "See where it is with /support.",
            n=request_id,
        ),
    )
    async with context.services.session() as session:
        await _tell_office(context, session, office_text, keyboard([[(_("Suggestions"), f"uo:{request_id}")]]))


# --------------------------------------------------------------------------------------------- brokering


async def open_request(update: Update, context: BotContext, request_id: int | None = None, note: str = "") -> None:
    """The office's view of one request: the need, who has been asked, suggestions with their reasons."""
    if request_id is None:
        ids = _ints(_data(update))
        request_id = ids[0] if ids else None
    async with context.services.session() as session:
        request = await dp.get_request(session, request_id) if request_id else None
        if request is None:
            await answer(update, _("That request is no longer there."), alert=True)
            return
        lines = [bold(t("Request {n}", n=request.id)), request_text(request)]
        lines.append(t("Status: {status}", status=_(REQUEST_STATUS.get(request.status, request.status))))
        for d in request.deployments:
            lines.append(
                t(
                    "• {name}: {status}",
                    name=d.leader.full_name,
                    status=_(DEPLOYMENT_STATUS.get(d.status, d.status)),
                )
            )
        rows: list[list[tuple[str, str]]] = []
        if request.status == "waiting":
            suggestions = await _suggestions(context, session, request, SUGGESTIONS)
            lines.append(Html(""))
            if suggestions:
                lines += [bold(_("Suggested system leaders")), suggestion_lines(suggestions)]
                rows += [
                    [(_("Confirm {name}").format(name=s.name), f"uc:{request.id}:{s.person_id}")] for s in suggestions
                ]
                rows.append([(_("Let the bot ask in turn"), f"ut:{request.id}")])
            else:
                lines.append(
                    t("No system leader with days left and no conflict of interest is in the directory for this.")
                )
        if request.status in ("waiting", "asked"):
            rows.append([(_("Decline the request"), f"ux:{request.id}")])
        rows += [
            [(_("Deployment {n}").format(n=d.id), f"uv:{d.id}")]
            for d in request.deployments
            if d.status in ("accepted", "closed")
        ]
    if note:
        lines.insert(0, esc(note))
    await answer(update)
    await edit(update, context, Html("\n".join(lines)), keyboard(rows) if rows else None)


async def deliver_ask(context: BotContext, deployment_id: int) -> bool:
    """Ask the system leader (or, if they are not on Telegram, the office, with the same buttons)."""
    async with context.services.session() as session:
        deployment = await dp.get_deployment(session, deployment_id)
        if deployment is None or deployment.status != "asked":
            return False
        request = deployment.request
        left = await dp.capacity_left(session, deployment.leader_person_id, _today(context))
        text = Html(
            bold(_("Would you support a school?"))
            + "\n\n"
            + request_text(request)
            + "\n\n"
            + (t("Why you: {reasons}", reasons="; ".join(deployment.reasons)) + "\n" if deployment.reasons else "")
            + t("You have {n} days left this year.", n=days_text(left or 0.0))
        )
        buttons = keyboard([[(_("Accept"), f"uq:a:{deployment_id}"), (_("Decline"), f"uq:d:{deployment_id}")]])
        delivered = False
        for chat_id in await _telegram_ids(session, deployment.leader_person_id):
            delivered |= await _send(context, chat_id, text, buttons)
        if not delivered:
            await _tell_office(
                context,
                session,
                Html(
                    t(
                        "{name} is not on Telegram: please ask them yourself and record their answer here.",
                        name=deployment.leader.full_name,
                    )
                    + "\n\n"
                    + text
                ),
                buttons,
            )
        return delivered


async def confirm_button(update: Update, context: BotContext) -> None:
    ids = _ints(_data(update))
    if len(ids) != 2:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    await _broker(update, context, ids[0], ids[1])


async def in_turn_button(update: Update, context: BotContext) -> None:
    ids = _ints(_data(update))
    if len(ids) != 1:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    await _broker(update, context, ids[0], None)


async def broker(
    services: Any, session: AsyncSession, request_id: int, person_id: int | None, actor_id: int | None
) -> tuple[int, str]:
    """Confirm one system leader, or (person_id None) the best suggestion with the next ones queued: one
    conditional write (directory.deployments.ask: still waiting), for the chat's uc:/ut: and the Mini App's desk.
    (deployment, the leader's name); SupportError (nothing written) when it cannot be done. The caller then
    `deliver_ask`s after its commit."""
    request = await dp.get_request(session, request_id)
    if request is None:
        raise dp.SupportError(_("That request is no longer there."))
    suggestions = await suggestions_for(services, session, request, IN_TURN)
    if person_id is None:
        chosen = suggestions[0] if suggestions else None
        queue = [s.person_id for s in suggestions[1:]]
    else:
        chosen = next((s for s in suggestions if s.person_id == person_id), None)
        queue = []
    if chosen is None:
        if request.status != "waiting":
            raise dp.SupportError(_("That request is no longer waiting: someone has already acted on it."))
        raise dp.SupportError(_("That system leader can no longer be suggested (days, conflict or already asked)."))
    deployment = await dp.ask(session, request_id, chosen.person_id, actor_id, chosen.reasons, queue)
    return deployment.id, chosen.name


async def _broker(update: Update, context: BotContext, request_id: int, person_id: int | None) -> None:
    member = context.member
    try:
        async with context.services.session() as session:
            deployment_id, name = await broker(
                context.services, session, request_id, person_id, member.telegram_id if member else None
            )
    except dp.SupportError as exc:
        await answer(update, str(exc), alert=True)
        return
    await answer(update, _("Asked"))
    await edit(update, context, t("I have asked {name} to support request {n}.", name=name, n=request_id))
    await deliver_ask(context, deployment_id)


async def decline_request(session: AsyncSession, request_id: int, actor_id: int | None) -> list[int] | None:
    """The office declines a request (the chat's ux: and the Mini App): one conditional write
    (directory.deployments.office_decline); the requester's chats to tell after the commit, None for the loser."""
    request = await dp.get_request(session, request_id)
    if request is None or not await dp.office_decline(session, request.id, actor_id):
        return None
    return await _telegram_ids(session, request.requester_person_id) if request.requester_person_id else []


async def tell_declined(context: BotContext, targets: list[int], request_id: int) -> None:
    for chat_id in targets:
        await _send(
            context,
            chat_id,
            t(
                "The partnership office cannot arrange support for your request {n} this time. They will be in touch.",
                n=request_id,
            ),
        )


async def office_decline_button(update: Update, context: BotContext) -> None:
    ids = _ints(_data(update))
    member = context.member
    async with context.services.session() as session:
        targets = await decline_request(session, ids[0], member.telegram_id if member else None) if ids else None
    if targets is None:
        await answer(update, _("That request is no longer open: someone has already acted on it."), alert=True)
        return
    await answer(update, _("Declined"))
    await edit(update, context, t("Request {n} declined. The school has been told.", n=ids[0]))
    await tell_declined(context, targets, ids[0])


async def withdraw_button(update: Update, context: BotContext) -> None:
    ids = _ints(_data(update))
    member = context.member
    if not ids or member is None or member.person_id is None:
        await answer(update, _(NOT_FOUND), alert=True)
        return
    async with context.services.session() as session:
        won = await dp.withdraw(session, ids[0], member.person_id, member.telegram_id)
        if won:
            await _tell_office(context, session, t("Request {n} was withdrawn by the school.", n=ids[0]))
    if not won:
        await answer(update, _("That request is no longer open."), alert=True)
        return
    await answer(update, _("Withdrawn"))
    await edit(update, context, t("Your request {n} is withdrawn.", n=ids[0]))


# --------------------------------------------------------------------------------------------- answering


async def answer_button(update: Update, context: BotContext) -> None:
    data = _data(update)
    parts = data.split(":")
    ids = _ints(":".join(parts[1:]) if len(parts) == 3 else "")
    member = context.member
    if len(parts) != 3 or parts[1] not in ("a", "d") or not ids or member is None:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    deployment_id, accepting = ids[0], parts[1] == "a"
    async with context.services.session() as session:
        deployment = await dp.get_deployment(session, deployment_id)
        if deployment is None:
            await answer(update, _(NOT_FOUND), alert=True)
            return
        leader_id = deployment.leader_person_id
        acting_for = False
        if member.person_id != leader_id:
            # The office may record the answer of a system leader who is not on Telegram; nobody else may.
            if not (_is_office(context) and not await _telegram_ids(session, leader_id)):
                await answer(update, _("Sorry, only the system leader who was asked can answer this."), alert=True)
                return
            acting_for = True
        try:
            if accepting:
                await dp.accept(session, deployment_id, leader_id, member.telegram_id, _today(context))
                following = None
            else:
                _declined, following = await dp.decline(session, deployment_id, leader_id, member.telegram_id)
        except dp.SupportError as exc:
            await answer(update, str(exc), alert=True)
            return
        leader_name = deployment.leader.full_name
        request_id = deployment.request_id
        next_id = following.id if following is not None else None
    await answer(update, _("Thank you"))
    if accepting:
        await edit(
            update,
            context,
            t("Thank you for agreeing to support request {n}. I have introduced you both.", n=request_id)
            if not acting_for
            else t("Recorded: {name} accepted request {n}.", name=leader_name, n=request_id),
        )
        await introduce(context, deployment_id)
        return
    await edit(update, context, t("Thank you for letting us know."))
    async with context.services.session() as session:
        if next_id is None:
            await _tell_office(
                context,
                session,
                t("{name} declined request {n}. It is back on your /desk.", name=leader_name, n=request_id),
                keyboard([[(_("Suggestions"), f"uo:{request_id}")]]),
            )
        else:
            await _tell_office(
                context,
                session,
                t("{name} declined request {n}; I am asking the next.", name=leader_name, n=request_id),
            )
    if next_id is not None:
        await deliver_ask(context, next_id)


async def introduce(context: BotContext, deployment_id: int) -> None:
    """Both schools get each other's details (those each agreed to share); the office is told."""
    async with context.services.session() as session:
        deployment = await dp.get_deployment(session, deployment_id)
        if deployment is None:
            return
        request, leader = deployment.request, deployment.leader
        requester = request.requester
        leader_offer = await session.get(SupportLeader, leader.id)
        requester_offer = await session.get(SupportLeader, requester.id)
        days = days_text(deployment.days_agreed)
        to_leader = Html(
            bold(t("Support agreed: deployment {n}", n=deployment.id))
            + "\n"
            + request_text(request)
            + "\n\n"
            + contact_lines(requester, requester_offer)
            + "\n\n"
            + t(
                "{days} days agreed. Log days as you give them: /days {n} 1.5 what you did. "
                "When it is over, press “Support finished” in /support.",
                days=days,
                n=deployment.id,
            )
        )
        to_school = Html(
            bold(t("Support agreed: deployment {n}", n=deployment.id))
            + "\n"
            + contact_lines(leader, leader_offer)
            + "\n\n"
            + t("{days} days agreed for {what}. They will be in touch.", days=days, what=_what(request))
        )
        missing = []
        for person, text in ((leader, to_leader), (requester, to_school)):
            delivered = False
            for chat_id in await _telegram_ids(session, person.id):
                delivered |= await _send(context, chat_id, text)
            if not delivered:
                missing.append(person.full_name)
        note = t(
            "{leader} will support {school} ({what}): deployment {n}, {days} days.",
            leader=leader.full_name,
            school=_school(request),
            what=_what(request),
            n=deployment.id,
            days=days,
        )
        if missing:
            note = Html(
                note + "\n" + t("Please introduce them yourself: {names} not on Telegram.", names=join_words(missing))
            )
        await _tell_office(context, session, note)


# --------------------------------------------------------------------------------------------- deployments


async def _party(session: AsyncSession, context: BotContext, deployment_id: int) -> SupportDeployment | None:
    """The deployment if this member may see it (a party or the office), else None: fail closed."""
    member = context.member
    if member is None:
        return None
    deployment = await dp.get_deployment(session, deployment_id)
    if deployment is None:
        return None
    if _is_office(context) or dp.side_of(deployment, member.person_id) is not None:
        return deployment
    return None


def deployment_text(d: SupportDeployment) -> Html:
    lines = [
        bold(t("Deployment {n}", n=d.id)),
        request_text(d.request),
        t("System leader: {name}", name=d.leader.full_name),
        t("Status: {status}", status=_(DEPLOYMENT_STATUS.get(d.status, d.status))),
        t("Days agreed: {a}; delivered: {b}", a=days_text(d.days_agreed), b=days_text(d.days_delivered)),
    ]
    if d.start_date:
        lines.append(t("From {date}", date=format_date(d.start_date)))
    if d.end_date:
        lines.append(t("Finished {date}", date=format_date(d.end_date)))
    return Html("\n".join(lines))


async def _record_lines(session: AsyncSession, deployment_id: int, office: bool) -> list[str]:
    """Days logged (the parties and the office) and, for the office, the impact answers."""
    from sqlalchemy import select

    out = []
    days = (
        await session.scalars(
            select(SupportDay).where(SupportDay.deployment_id == deployment_id).order_by(SupportDay.id).limit(30)
        )
    ).all()
    for row in days:
        out.append(
            _("{date}: {days} days — {note}").format(
                date=format_date(row.on_date), days=days_text(row.days), note=row.note
            )
        )
    if office:
        answers = (
            await session.scalars(select(SupportImpact).where(SupportImpact.deployment_id == deployment_id))
        ).all()
        for answer_row in answers:
            side = _("the school") if answer_row.side == "school" else _("the system leader")
            out.append(
                _("Impact, {side}: would recommend: {yes}; what changed: {text}").format(
                    side=side,
                    yes=_("yes") if answer_row.recommend else _("no"),
                    text=answer_row.what_changed or "—",
                )
            )
    return out


async def view_button(update: Update, context: BotContext) -> None:
    ids = _ints(_data(update))
    async with context.services.session() as session:
        d = await _party(session, context, ids[0]) if ids else None
        if d is None:
            await answer(update, _(NOT_FOUND), alert=True)
            return
        text = deployment_text(d)
        extra = [esc(line) for line in await _record_lines(session, d.id, _is_office(context))]
        if extra:
            text = Html(text + "\n\n" + "\n".join(extra))
        rows = [[(_("Support finished"), f"ue:{d.id}")]] if d.status == "accepted" else []
    await answer(update)
    await reply(update, context, text, keyboard(rows) if rows else None)


async def days_command(update: Update, context: BotContext) -> None:
    """`/days 12 1.5 lesson study with Y5`: deployment 12, one and a half days, a note."""
    if await not_in_private(update, context):
        return
    member = context.member
    args = context.args or []
    usage = t("Usage: <code>/days DEPLOYMENT DAYS NOTE</code>, e.g. <code>/days 12 1.5 lesson study with Y5</code>")
    if member is None or member.person_id is None:
        await reply(
            update, context, t("Your account is not linked to a directory entry yet. Ask a coordinator to link it.")
        )
        return
    if len(args) < 2 or not (args[0].isascii() and args[0].isdigit()) or len(args[0]) > 12:
        await reply(update, context, usage)
        return
    try:
        days = float(args[1].replace(",", "."))
    except ValueError:
        await reply(update, context, Html(t("“{days}” is not a number of days.", days=args[1][:40]) + "\n" + usage))
        return
    if days != days or days in (float("inf"), float("-inf")) or round(days * 2) != days * 2:
        await reply(update, context, t("Please log days in halves: 0.5, 1, 1.5 …"))
        return
    note = " ".join(args[2:])
    try:
        async with context.services.session() as session:
            d = await dp.log_days(
                session, int(args[0]), member.person_id, days, note, member.telegram_id, _today(context)
            )
            total, agreed, deployment_id = d.days_delivered, d.days_agreed, d.id
    except dp.SupportError as exc:
        await reply(update, context, esc(str(exc)))
        return
    await reply(
        update,
        context,
        fill(
            ngettext(
                "Logged {days} day on deployment {n}: {total} of {agreed} agreed days delivered.",
                "Logged {days} days on deployment {n}: {total} of {agreed} agreed days delivered.",
                1 if days == 1 else 2,
            ),
            days=days_text(days),
            n=deployment_id,
            total=days_text(total),
            agreed=days_text(agreed),
        ),
        keyboard([[(_("Support finished"), f"ue:{deployment_id}")]]),
    )


async def close_button(update: Update, context: BotContext) -> None:
    ids = _ints(_data(update))
    member = context.member
    async with context.services.session() as session:
        d = await _party(session, context, ids[0]) if ids else None
        # The system leader or the office ends it; the school asks the office.
        if d is None or not (_is_office(context) or (member and d.leader_person_id == member.person_id)):
            await answer(update, _(NOT_FOUND), alert=True)
            return
        won = await dp.close(session, d.id, member.telegram_id if member else None, _today(context))
        parties = [
            (await _telegram_ids(session, d.leader_person_id), d.request.requester.full_name),
            (await _telegram_ids(session, d.request.requester_person_id), d.leader.full_name),
        ]
        deployment_id = d.id
    if not won:
        await answer(update, _("That support has already finished."), alert=True)
        return
    await answer(update, _("Finished"))
    await edit(update, context, t("Deployment {n} is finished. Thank you.", n=deployment_id))
    await send_impact_check(context, deployment_id, parties)


async def send_impact_check(context: BotContext, deployment_id: int, parties: list[tuple[list[int], str]]) -> int:
    sent = 0
    buttons = keyboard([[(_("Yes"), f"ui:{deployment_id}:1"), (_("No"), f"ui:{deployment_id}:0")]])
    for ids, other in parties:
        for chat_id in ids:
            sent += await _send(
                context,
                chat_id,
                Html(
                    bold(t("Impact check: deployment {n}", n=deployment_id))
                    + "\n"
                    + t("Would you recommend working with {name} to another school?", name=other)
                ),
                buttons,
            )
    return sent


async def impact_button(update: Update, context: BotContext) -> None:
    ids = _ints(_data(update))
    member = context.member
    if len(ids) != 2 or ids[1] not in (0, 1) or member is None:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    async with context.services.session() as session:
        d = await dp.get_deployment(session, ids[0])
        side = dp.side_of(d, member.person_id) if d is not None else None
        if d is None or side is None or member.person_id is None:
            await answer(update, _(NOT_FOUND), alert=True)
            return
        if d.status != "closed":
            await answer(update, _("The impact check opens when the support has finished."), alert=True)
            return
        try:
            row = await dp.record_impact(session, d.id, side, member.person_id, bool(ids[1]), member.telegram_id)
        except dp.SupportError as exc:
            await answer(update, str(exc), alert=True)
            return
        row_id = row.id
    context.user_data["awaiting"] = "support_impact"
    context.user_data[IMPACT] = row_id
    await answer(update, _("Thank you"))
    await edit(update, context, t("Thank you. In a line or two: what changed because of this support?"))


async def impact_text(update: Update, context: BotContext) -> None:
    message = update.effective_message
    row_id = context.user_data.pop(IMPACT, None)
    context.user_data.pop("awaiting", None)
    member = context.member
    if message is None or not message.text or not isinstance(row_id, int) or member is None or not member.person_id:
        return
    async with context.services.session() as session:
        kept = await dp.impact_comment(session, row_id, member.person_id, message.text)
    if kept:
        await reply(update, context, t("Thank you. Your answers are kept for the partnership office."))
    else:
        await reply(update, context, t("Your answer is already kept. Thank you."))


# --------------------------------------------------------------------------------------------- /support


def _request_line(r: SupportRequest) -> Html:
    line = t(
        "• {n}. {what} — {status}",
        n=r.id,
        what=_what(r),
        status=_(REQUEST_STATUS.get(r.status, r.status)),
    )
    agreed = [d for d in r.deployments if d.status in ("accepted", "closed")]
    if agreed:
        d = agreed[-1]
        line = Html(
            line
            + " "
            + t(
                "({name}, deployment {n}: {b} of {a} days)",
                name=d.leader.full_name,
                n=d.id,
                b=days_text(d.days_delivered),
                a=days_text(d.days_agreed),
            )
        )
    return line


async def support_command(update: Update, context: BotContext) -> None:
    if await not_in_private(update, context):
        return
    member = context.member
    args = context.args or []
    if args and args[0].lower() == "capacity":
        await _office_capacity(update, context, args[1:])
        return
    if args and args[0].lower() == "share":
        await _share(update, context, [a.lower() for a in args[1:]])
        return
    if member is None:
        return
    lines: list[str] = [bold(_("School-to-school support"))]
    rows: list[list[tuple[str, str]]] = []
    async with context.services.session() as session:
        if _is_office(context):
            waiting, asked = await dp.open_requests_count(session)
            lines.append(
                t("{w} requests waiting for you, {a} waiting for a system leader's answer.", w=waiting, a=asked)
            )
            for r in (await dp.waiting_requests(session))[:8]:
                rows.append([(f"{r.id}. {_school(r)} · {_what(r)}"[:60], f"uo:{r.id}")])
            year = dp.year_of(_today(context))
            figures = await support_report.load(session, year)
            lines.append(
                t(
                    "This year ({year}): {n} requests — {met} met, {waiting} waiting, {declined} declined; "
                    "{d} deployments, {days} days delivered; {cold} of {schools} schools have neither asked "
                    "for nor given support.",
                    year=year.label,
                    n=figures.requests,
                    met=figures.met,
                    waiting=figures.waiting,
                    declined=figures.declined,
                    d=figures.deployments,
                    days=days_text(figures.days_delivered),
                    cold=len(figures.cold_schools),
                    schools=figures.schools,
                )
            )
            lines.append(
                t(
                    "The register and its report (Excel and Word): <code>partnerbot support report --year {year} "
                    "-o DIR</code>.",
                    year=year.label,
                )
            )
        if member.person_id is None:
            if not _is_office(context):
                lines.append(t("Your account is not linked to a directory entry yet. Ask a coordinator to link it."))
        else:
            mine = await dp.requests_of(session, member.person_id)
            lines += ["", bold(_("Your school's requests"))]
            lines += [_request_line(r) for r in mine] or [
                t("None. Find a system leader with /sle and press “Ask for support”.")
            ]
            rows += [
                [(_("Withdraw request {n}").format(n=r.id), f"uw:{r.id}")]
                for r in mine
                if r.status in ("waiting", "asked")
            ]
            given = await dp.deployments_of(session, member.person_id)
            offer = await session.get(SupportLeader, member.person_id)
            if given or (offer is not None and offer.capacity_days is not None):
                left = await dp.capacity_left(session, member.person_id, _today(context))
                lines += ["", bold(_("Support you give"))]
                if left is not None:
                    lines.append(
                        t(
                            "{left} of {cap} days left this year (/edit capacity 10 days to change).",
                            left=days_text(left),
                            cap=days_text(offer.capacity_days or 0.0),  # type: ignore[union-attr]
                        )
                    )
                for d in given:
                    lines.append(
                        t(
                            "• Deployment {n}: {school}, {what} — {status}; {b} of {a} days",
                            n=d.id,
                            school=_school(d.request),
                            what=_what(d.request),
                            status=_(DEPLOYMENT_STATUS.get(d.status, d.status)),
                            b=days_text(d.days_delivered),
                            a=days_text(d.days_agreed),
                        )
                    )
                    if d.status == "accepted":
                        rows.append([(_("Support finished: deployment {n}").format(n=d.id), f"ue:{d.id}")])
    await reply(update, context, Html("\n".join(lines)), keyboard(rows[:20]) if rows else None)


SHARE = {"email": (True, False), "phone": (False, True), "both": (True, True), "none": (False, False)}


async def _share(update: Update, context: BotContext, args: list[str]) -> None:
    """`/support share email|phone|both|none`: what a system leader's school is given when introduced."""
    member = context.member
    if member is None or member.person_id is None:
        await reply(
            update, context, t("Your account is not linked to a directory entry yet. Ask a coordinator to link it.")
        )
        return
    if len(args) != 1 or args[0] not in SHARE:
        await reply(update, context, t("Usage: <code>/support share email|phone|both|none</code>"))
        return
    email, phone = SHARE[args[0]]
    async with context.services.session() as session:
        row = await dp.leader_row(session, member.person_id)
        row.share_email, row.share_phone, row.updated_by = email, phone, member.telegram_id
        from storage import audit

        audit.record(session, member.telegram_id, "support.share", "person", member.person_id, email=email, phone=phone)
    if email or phone:
        what = join_words([w for w, on in ((_("email"), email), (_("phone"), phone)) if on])
        await reply(update, context, t("Saved: schools you support will be given your {what}.", what=what))
    else:
        await reply(update, context, t("Saved: schools you support will be given your school's phone number only."))


async def _office_capacity(update: Update, context: BotContext, args: list[str]) -> None:
    """`/support capacity PERSON_ID DAYS`: the office sets a system leader's days (by directory id)."""
    member = context.member
    if not _is_office(context) or member is None:
        await reply(
            update,
            context,
            t("Only the partnership office can set another person's days. Use /edit capacity 10 days for your own."),
        )
        return
    if len(args) != 2 or not (args[0].isascii() and args[0].isdigit()) or len(args[0]) > 12:
        await reply(
            update, context, t("Usage: <code>/support capacity PERSON_ID DAYS</code> (the id is on /find results).")
        )
        return
    try:
        days = float(args[1].replace(",", "."))
    except ValueError:
        days = -1.0
    async with context.services.session() as session:
        person = await session.get(Person, int(args[0]))
        if person is None:
            await reply(update, context, t("There is no directory entry {n}.", n=args[0]))
            return
        try:
            await dp.set_capacity(session, person.id, days, member.telegram_id)
        except dp.SupportError as exc:
            await reply(update, context, esc(str(exc)))
            return
        name = person.full_name
    await reply(update, context, t("Saved: {name} offers {days} days a year.", name=name, days=days_text(days)))


async def set_own_capacity(context: BotContext, person_id: int, text: str) -> Html:
    """`/edit capacity 10 days` (handlers/profile.py hands it here): a system leader's own days a year."""
    try:
        days = float(text.lower().replace("days", "").replace("day", "").strip().replace(",", "."))
    except ValueError:
        return t("Please give a number of days, e.g. /edit capacity 10 days. Nothing was changed.")
    async with context.services.session() as session:
        try:
            await dp.set_capacity(session, person_id, days, context.member.telegram_id if context.member else None)
        except dp.SupportError as exc:
            return Html(esc(str(exc)) + " " + esc(_("Nothing was changed.")))
    return t("Saved: you offer {days} days of support a year.", days=days_text(days))


# --------------------------------------------------------------------------------------------- the desk


async def desk_queue(session: AsyncSession) -> tuple[Html, tuple[str, str], int]:
    """The desk's line and button for support requests (handlers/desk.py)."""
    waiting, asked = await dp.open_requests_count(session)
    line = fill(
        ngettext(
            "{n} support request waiting ({m} with a system leader)",
            "{n} support requests waiting ({m} with a system leader)",
            waiting,
        ),
        n=waiting,
        m=asked,
    )
    return line, (fill(ngettext("Support ({n})", "Support ({n})", waiting), n=waiting), "dk:su"), waiting


async def desk_part(context: BotContext, session: AsyncSession) -> tuple[Html, list[list[tuple[str, str]]]]:
    requests = await dp.waiting_requests(session)
    lines = [bold(_("Support requests waiting"))]
    rows: list[list[tuple[str, str]]] = []
    for r in requests[:8]:
        lines.append(
            t(
                "• {n}. {school}: {what}, {when}, {created}",
                n=r.id,
                school=_school(r),
                what=_what(r),
                when=_(URGENCY_LABELS.get(r.urgency, r.urgency)),
                created=format_date(r.created_at.date()),
            )
        )
        rows.append([(f"{r.id}. {_school(r)}"[:60], f"uo:{r.id}")])
    if not requests:
        lines.append(esc(_("None.")))
    elif len(requests) > 8:
        lines.append(t("… and {n} more: see /support.", n=len(requests) - 8))
    rows.append([(_("‹ Desk"), "dk:h")])
    return Html("\n".join(lines)), rows


# --------------------------------------------------------------------------------------------- registration


MANIFEST = Manifest(
    "support",
    commands=(
        Command(
            "support",
            support_command,
            Role.MEMBER,
            N_("school-to-school support: your requests and deployments"),
            private=True,
            writes=Writes("a system leader's days offered: one's own, or anyone's by the office", "linked or office"),
        ),
        Command(
            "days",
            days_command,
            Role.MEMBER,
            N_("log support days: /days 12 1.5 what you did"),
            private=True,
            writes=Writes("days delivered on the actor's own deployment", "linked"),
        ),
    ),
    buttons=(
        Button("ua", ask_button, Role.MEMBER, private=True, args="id"),
        Button("uu", urgency_button, Role.MEMBER, private=True, args="s|t|n"),
        Button(
            "uy",
            days_button,
            Role.MEMBER,
            private=True,
            args="0.5|1|2|3|5|10",
            writes=Writes("a support request for the actor's own entry and school", "linked"),
        ),
        Button("uo", open_request, Role.COORDINATOR, private=True, args="id"),
        Button(
            "uc",
            once(confirm_button),
            Role.COORDINATOR,
            private=True,
            args="id:id",
            writes=Writes("asks a system leader (brokers a request)"),
        ),
        Button(
            "ut",
            once(in_turn_button),
            Role.COORDINATOR,
            private=True,
            args="id",
            writes=Writes("asks system leaders in turn"),
        ),
        Button(
            "ux",
            office_decline_button,
            Role.COORDINATOR,
            private=True,
            args="id",
            writes=Writes("declines a support request"),
        ),
        Button(
            "uw",
            withdraw_button,
            Role.MEMBER,
            private=True,
            args="id",
            writes=Writes("withdraws a support request (its requester only)", "owner"),
        ),
        Button(
            "uq",
            answer_button,
            Role.MEMBER,
            private=True,
            args="a|d:id",
            writes=Writes(
                "accepts or declines a deployment of the actor's entry (the office: one not on Telegram)",
                "linked or office",
            ),
        ),
        Button("uv", view_button, Role.MEMBER, private=True, args="id"),
        Button(
            "ue",
            close_button,
            Role.MEMBER,
            private=True,
            args="id",
            writes=Writes("ends a deployment (its system leader, or the office)", "linked or office"),
        ),
        Button(
            "ui",
            impact_button,
            Role.MEMBER,
            private=True,
            args="id:0|1",
            writes=Writes("the impact answer of a party to the deployment", "linked"),
        ),
    ),
    text_steps=(
        TextStep("support_need", need_text, Role.MEMBER),
        TextStep(
            "support_impact",
            impact_text,
            Role.MEMBER,
            writes=Writes("a comment on the actor's impact answer", "linked"),
        ),
    ),
)
