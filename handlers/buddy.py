"""Buddies for new heads: suggestions for coordinators, requests, answers, introductions, check-ins.

Commands: /buddy (your pairings and whether you take buddies), /buddy end | optout | pause | resume;
/matchterm (coordinators: pair every open appointment at once, show the plan, then "Send requests").

Callback data:
  bc:APPT:PERSON  coordinator confirms a suggestion (asks that buddy)      bq:a:MATCH / bq:d:MATCH  buddy answers
  ba:APPT         coordinator lets the bot ask the best suggestion         be:MATCH / bey:MATCH  end a pairing
  bm:APPT         coordinator sees more suggestions                        bk:CHECKIN:g|m|s  check-in answer
  bs:N            coordinator sends the /matchterm plan number N           bkn:ROW  no comment
Only the buddy answers their request (a coordinator may answer for a buddy who is not on Telegram); only the
two people in a pairing answer its check-ins or end it. Anyone else's press gets a polite answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import TelegramError

from core import clock
from core.i18n import N_, _, format_date, ngettext
from core.office import ask_the_office
from core.reply import answer, edit, keyboard, reply, send
from core.services import BotContext
from core.text import Html, bold, esc, fill, t
from directory import appointments as ap
from directory.matching import PHASE_LABELS, Scored, join_words, need_label
from handlers.erase_memory import gone_text
from handlers.manifest import Button, Command, Job, Manifest, TextStep, Writes
from handlers.once import once
from storage import audit
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.directory import Person, School
from storage.members import Role

log = logging.getLogger(__name__)

SUGGESTIONS = 3
MORE = 10
PLAN_KEY = "matchterm"
MAX_PLAN_LINES = 60
CHECKIN_LABELS = {
    "two_weeks": N_("two weeks in"),
    "half_term": N_("the first half-term"),
    "hundred_days": N_("100 days in"),
}
ANSWER_CODES = {"g": "good", "m": "mixed", "s": "struggling"}
ANSWER_LABELS = {"good": N_("Good"), "mixed": N_("Mixed"), "struggling": N_("Struggling")}
FLAG_LABELS = (
    ("new_to_headship", N_("new to headship")),
    ("new_to_area", N_("new to the area")),
    ("new_to_trust", N_("new to an academy or trust")),
    ("new_to_phase", N_("new to the phase")),
)
RELATION_LABELS = {
    "self": N_("the new head"),
    "school": N_("the school"),
    "trust": N_("the trust"),
    "office": N_("the partnership office"),
}


def _ints(data: str | None) -> list[int]:
    out = []
    for part in (data or "").split(":")[1:]:
        try:
            out.append(int(part))
        except ValueError:
            continue
    return out


def _rules(context: BotContext) -> Any:
    return ap.rules_from(context.services.settings)


def _today(context: BotContext) -> dt.date:
    return clock.now().astimezone(context.services.settings.tz).date()


async def _send(context: BotContext, chat_id: int, text: str, markup: object = None) -> bool:
    try:
        await send(context.bot, chat_id, text, markup)  # type: ignore[arg-type]
        return True
    except TelegramError as exc:
        log.warning("could not message %s: %s", chat_id, exc)
        return False


async def _coordinators(context: BotContext, session: AsyncSession) -> list[int]:
    return await ap.coordinator_ids(session, context.services.settings.admin_telegram_ids)


async def tell_coordinators(
    context: BotContext, text: str, markup: object = None, session: AsyncSession | None = None
) -> int:
    if session is None:
        async with context.services.session() as own:
            ids = await _coordinators(context, own)
    else:
        ids = await _coordinators(context, session)
    sent = 0
    for chat_id in ids:
        sent += await _send(context, chat_id, text, markup)
    return sent


# --------------------------------------------------------------------------------------------- formatting


def school_text(school: School | None) -> str:
    if school is None:
        return _("school not known")
    return f"{school.name} ({school.locality})" if school.locality else school.name


def contact_lines(person: Person, none: Html | None = None) -> Html:
    """Name, role, school and how to reach them; `none` says what to do when the directory has no way."""
    parts = [bold(person.full_name)]
    if person.job_title:
        parts.append(esc(person.job_title))
    if person.school is not None:
        parts.append(esc(school_text(person.school)))
    if person.email:
        parts.append(t("Email: {email}", email=person.email))
    if person.phone:
        parts.append(t("Phone: {phone}", phone=person.phone))
    elif person.school is not None and person.school.phone:
        parts.append(t("School phone: {phone}", phone=person.school.phone))
    if not (person.email or person.phone or (person.school is not None and person.school.phone)):
        parts.append(none or t("(no contact details in the directory: ask the partnership office)"))
    return Html("\n".join(parts))


def appointment_text(appointment: Appointment) -> Html:
    person = appointment.person
    flags = [_(label) for key, label in FLAG_LABELS if getattr(appointment, key)]
    lines = [
        t(
            "{name}, {school}, starts {date}.",
            name=person.full_name if person else "?",
            school=school_text(appointment.school),
            date=format_date(appointment.start_date),
        )
    ]
    if appointment.school is not None and appointment.school.phase:
        lines.append(t("Phase: {phase}", phase=_(PHASE_LABELS.get(appointment.school.phase, appointment.school.phase))))
    if flags:
        lines.append(t("Applies: {flags}", flags="; ".join(flags)))
    if appointment.needs:
        lines.append(
            t("Would like support with: {needs}", needs=join_words([need_label(n) for n in appointment.needs]))
        )
    lines.append(t("Reported by {who}.", who=_(RELATION_LABELS.get(appointment.reporter_relation, "office"))))
    return Html("\n".join(lines))


def suggestion_lines(suggestions: Sequence[Scored], start: int = 1) -> Html:
    lines = []
    for i, s in enumerate(suggestions, start):
        lines.append(Html(f"{i}. {bold(s.name)}"))
        lines.append(Html(f"   <i>{esc(s.reason_text)}</i>"))
    return Html("\n".join(lines))


def suggestion_buttons(
    appointment_id: int, suggestions: Sequence[Scored], more: bool = True
) -> list[list[tuple[str, str]]]:
    rows = [[(_("Confirm {name}").format(name=s.name), f"bc:{appointment_id}:{s.person_id}")] for s in suggestions]
    last = [(_("Let the bot ask"), f"ba:{appointment_id}")]
    if more:
        last.append((_("Show more"), f"bm:{appointment_id}"))
    rows.append(last)
    return rows


async def announce_appointment(context: BotContext, appointment_id: int) -> int:
    """Tell the coordinators about a new appointment at once, with the top suggestions and buttons."""
    async with context.services.session() as session:
        appointment = await _load_appointment(session, appointment_id)
        if appointment is None:
            return 0
        suggestions = await ap.propose(session, appointment_id, SUGGESTIONS, _rules(context), _today(context))
        text = Html(bold(_("New headteacher appointment")) + "\n" + appointment_text(appointment) + "\n\n")
        if suggestions:
            text = Html(text + bold(_("Suggested buddies")) + "\n" + suggestion_lines(suggestions))
            markup = keyboard(suggestion_buttons(appointment_id, suggestions))
        else:
            text = Html(text + t("No suitable buddy is free in the directory at present."))
            markup = None
        return await tell_coordinators(context, text, markup, session)


async def _load_appointment(session: AsyncSession, appointment_id: int) -> Appointment | None:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    return (
        await session.scalars(
            select(Appointment)
            .where(Appointment.id == appointment_id)
            .options(selectinload(Appointment.person).selectinload(Person.school), selectinload(Appointment.school))
        )
    ).first()


# --------------------------------------------------------------------------------------------- requests


async def deliver_request(context: BotContext, match_id: int) -> bool:
    """Send a requested pairing to the buddy (or, if they are not on Telegram, to the coordinators).
    True when the buddy has it themselves."""
    async with context.services.session() as session:
        match = await ap.get_match(session, match_id)
        if match is None or match.status != "requested":
            return False
        if match.requested_at is None:  # recorded on the command line: asked now
            match.requested_at = clock.now()
        ids = await ap.telegram_ids(session, match.buddy_person_id)
        appointment = match.appointment
        text = Html(
            t("Would you be a buddy to a new headteacher?")
            + "\n\n"
            + appointment_text(appointment)
            + "\n\n"
            + t("Why you: {reasons}", reasons="; ".join(match.reasons or []))
            + "\n\n"
            + t(
                "A buddy phones in the new head's first week, meets them in the first half-term and is someone "
                "to talk to for the first 100 days."
            )
        )
        buttons = keyboard([[(_("Accept"), f"bq:a:{match.id}"), (_("Decline"), f"bq:d:{match.id}")]])
        buddy_name, contact = match.buddy.full_name, contact_lines(match.buddy)
    delivered = False
    for chat_id in ids:
        delivered |= await _send(context, chat_id, text, buttons)
    if not delivered:
        # An account Telegram would not deliver to (the bot blocked, the account gone) is not "not on Telegram".
        why = (
            t(
                "Telegram did not deliver my request to {name}, so I could not ask them myself. Please ask them "
                "and record their answer with the buttons below.",
                name=buddy_name,
            )
            if ids
            else t(
                "{name} is not on Telegram, so I could not ask them myself. Please ask them and record their "
                "answer with the buttons below.",
                name=buddy_name,
            )
        )
        await tell_coordinators(
            context,
            Html(why + "\n\n" + contact + "\n\n" + text),
            buttons,
        )
    return delivered


def asked_text(name: str, delivered: bool, next_if_declined: bool = False) -> Html:
    """What the coordinator who asked is told: only "I have asked" when the buddy really has the request."""
    if not delivered:
        return t(
            "I could not ask {name} on Telegram myself: their contact details and buttons to record their answer "
            "are in a message of their own.",
            name=name,
        )
    if next_if_declined:
        return t("I have asked {name}; if they decline I will ask the next suggestion.", name=name)
    return t("I have asked {name} to be the buddy. I will tell you their answer.", name=name)


async def confirm_buddy(
    session: AsyncSession, appointment_id: int, person_id: int, actor_id: int, rules: Any, today: dt.date
) -> tuple[int, str]:
    """A coordinator confirms a suggested buddy (the chat's Confirm button and the Mini App's desk alike): the
    pairing is asked, one write the unique index decides (uq_buddy_match_active), so two presses at once ask
    once and the other raises MatchError. (match id, the buddy's name); the caller then `deliver_request`s it
    after its commit."""
    match = await ap.request_buddy(session, appointment_id, person_id, actor_id, rules, today)
    person = await session.get(Person, person_id)
    return match.id, person.full_name if person is not None else ""


async def ask_next(
    session: AsyncSession, appointment_id: int, actor_id: int, rules: Any, today: dt.date
) -> tuple[int | None, str]:
    """ "Let the bot ask": the best suggestion is asked (as `confirm_buddy`); (None, "") when nobody suitable is
    free. MatchError when the new head has a buddy or one was asked meanwhile."""
    match = await ap.request_next(session, appointment_id, actor_id, rules, today)
    if match is None:
        appointment = await session.get(Appointment, appointment_id)
        if appointment is None or appointment.status != "open" or await ap.active_match(session, appointment_id):
            raise ap.MatchError(_("This new head already has a buddy, or one has been asked."))
        return None, ""
    person = await session.get(Person, match.buddy_person_id)
    return match.id, person.full_name if person is not None else ""


async def confirm_suggestion(update: Update, context: BotContext) -> None:
    ids = _ints(update.callback_query.data if update.callback_query else None)
    if len(ids) != 2:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    appointment_id, person_id = ids
    try:
        async with context.services.session() as session:
            assert context.member is not None  # the button is for members (its guard checked)
            match_id, name = await confirm_buddy(
                session, appointment_id, person_id, context.member.telegram_id, _rules(context), _today(context)
            )
    except ap.MatchError as exc:
        await answer(update, str(exc), alert=True)
        return
    await answer(update, _("Asked"))
    delivered = await deliver_request(context, match_id)
    await edit(update, context, asked_text(name, delivered))


async def let_bot_ask(update: Update, context: BotContext) -> None:
    ids = _ints(update.callback_query.data if update.callback_query else None)
    if not ids:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    try:
        async with context.services.session() as session:
            assert context.member is not None  # the button is for coordinators (its guard checked)
            match_id, name = await ask_next(
                session, ids[0], context.member.telegram_id, _rules(context), _today(context)
            )
    except ap.MatchError as exc:
        await answer(update, str(exc), alert=True)
        return
    await answer(update)
    if match_id is None:
        await edit(update, context, t("No suitable buddy is free in the directory at present."))
        return
    delivered = await deliver_request(context, match_id)
    await edit(update, context, asked_text(name, delivered, next_if_declined=True))


async def show_more(update: Update, context: BotContext) -> None:
    ids = _ints(update.callback_query.data if update.callback_query else None)
    if not ids:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    async with context.services.session() as session:
        appointment = await _load_appointment(session, ids[0])
        if appointment is None:
            await answer(update, await gone_text(session, "appointment", ids[0]), alert=True)
            return
        suggestions = await ap.propose(session, ids[0], MORE, _rules(context), _today(context))
        text = Html(appointment_text(appointment) + "\n\n")
    await answer(update)
    if not suggestions:
        await reply(update, context, Html(text + t("No suitable buddy is free in the directory at present.")))
        return
    await reply(
        update,
        context,
        Html(text + bold(_("Suggested buddies")) + "\n" + suggestion_lines(suggestions)),
        keyboard(suggestion_buttons(ids[0], suggestions, more=False)),
    )


async def on_request_answer(update: Update, context: BotContext) -> None:
    """bq:a:MATCH (accept) or bq:d:MATCH (decline), pressed by the buddy."""
    data = (update.callback_query.data if update.callback_query else "") or ""
    parts = data.split(":")
    ids = _ints(data)
    if len(parts) != 3 or parts[1] not in ("a", "d") or not ids:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    match_id, accepting = ids[-1], parts[1] == "a"
    member = context.member
    # The answer is one conditional write (directory.appointments.accept / decline): of two presses at once
    # only one is recorded; the other is told what the first decided. Errors are caught outside the
    # session, whose transaction a lost race may have spent.
    try:
        async with context.services.session() as session:
            match = await ap.get_match(session, match_id)
            if match is None:
                await answer(update, await gone_text(session, "buddy_match", match_id), alert=True)
                return
            buddy_ids = await ap.telegram_ids(session, match.buddy_person_id)
            is_buddy = member is not None and member.person_id == match.buddy_person_id
            on_behalf = not buddy_ids and member is not None and member.role >= Role.COORDINATOR
            if not (is_buddy or on_behalf):
                await answer(update, _("Sorry, only the head who was asked can answer this request."), alert=True)
                return
            if match.status != "requested":
                await answer(update, _("This request has already been answered."), alert=True)
                return
            buddy_name, head_name = match.buddy.full_name, match.appointment.person.full_name
            if accepting:
                await ap.accept(session, match_id, member.telegram_id)  # type: ignore[union-attr]
                following = None
            else:
                _declined, following = await ap.decline(
                    session,
                    match_id,
                    member.telegram_id,  # type: ignore[union-attr]
                    rules=_rules(context),
                    today=_today(context),
                )
            next_id = following.id if following else None
            next_name = (await session.get(Person, following.buddy_person_id)).full_name if following else ""  # type: ignore[union-attr]
    except ap.MatchError as exc:
        await answer(update, str(exc), alert=True)
        return
    await answer(update, _("Thank you"))
    if accepting:
        await edit(
            update,
            context,
            t("Thank you for agreeing to be {name}'s buddy. I have introduced you both.", name=head_name),
        )
        await introduce(context, match_id)
        await tell_coordinators(context, t("{buddy} accepted to be {head}'s buddy.", buddy=buddy_name, head=head_name))
        return
    await edit(update, context, t("Thank you for letting us know. I will ask someone else."))
    if next_id is not None:
        await tell_coordinators(
            context,
            t(
                "{buddy} declined to be {head}'s buddy. I have asked {next} instead.",
                buddy=buddy_name,
                head=head_name,
                next=next_name,
            ),
        )
        await deliver_request(context, next_id)
    else:
        await tell_coordinators(
            context,
            t(
                "{buddy} declined to be {head}'s buddy, and nobody else suitable is free. "
                "Please find a buddy for {head}.",
                buddy=buddy_name,
                head=head_name,
            ),
        )


async def introduce(context: BotContext, match_id: int) -> None:
    """Both get each other's contact details and the first steps; who is not on Telegram, the coordinators."""
    async with context.services.session() as session:
        match = await ap.get_match(session, match_id)
        if match is None:
            return
        appointment = match.appointment
        head = await _person(session, appointment.person_id)
        buddy = await _person(session, match.buddy_person_id)
        head_ids = await ap.telegram_ids(session, head.id)
        buddy_ids = await ap.telegram_ids(session, buddy.id)
        meet_by = format_date(ap.half_term_end(appointment.start_date))
        starts = format_date(appointment.start_date)
        # No phone or email of the new head's own: the buddy writes to them through the bot (when they
        # are on it), else the office puts them in touch.
        relay = head_ids and not (head.phone or head.email)
        head_none = (
            t("(no phone or email given: press the button below to send them a message here)")
            if relay
            else Html("(" + ask_the_office(context.services.settings) + ")")
        )
        buddy_markup = (
            keyboard([[(_("✉️ Message {name}").format(name=head.full_name), f"bw:{match_id}")]]) if relay else None
        )
        to_buddy = Html(
            bold(_("Meet your new head"))
            + "\n"
            + contact_lines(head, head_none)
            + "\n\n"
            + t("Starts {date}.", date=starts)
            + "\n"
            + t(
                "First steps: phone them in their first week; meet them before {date}; I will check in with you "
                "both at two weeks, at half-term and at 100 days.",
                date=meet_by,
            )
        )
        to_head = Html(
            bold(_("Meet your buddy"))
            + "\n"
            + contact_lines(buddy)
            + "\n\n"
            + t(
                "Your buddy will phone you in your first week and meet you before {date}. I will check in with "
                "you both at two weeks, at half-term and at 100 days.",
                date=meet_by,
            )
        )
        missing = []
        for ids, text, person, markup in ((buddy_ids, to_buddy, buddy, buddy_markup), (head_ids, to_head, head, None)):
            delivered = False
            for chat_id in ids:
                delivered |= await _send(context, chat_id, text, markup)
            if not delivered:
                missing.append(person)
        if missing:
            lines = [
                t(
                    "Please introduce them yourself: {names} not on Telegram.",
                    names=join_words([p.full_name for p in missing]),
                )
            ]
            lines += [Html(""), contact_lines(buddy), Html(""), contact_lines(head)]
            await tell_coordinators(context, Html("\n".join(lines)), session=session)


async def _person(session: AsyncSession, person_id: int) -> Person:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    return (
        await session.scalars(select(Person).where(Person.id == person_id).options(selectinload(Person.school)))
    ).one()


# --------------------------------------------------------------------------------------------- /buddy


def _status_text(person: Person, today: dt.date) -> Html:
    if person.buddy_status == "opted_out":
        return t("You have opted out of being a buddy. Send /buddy resume to take buddies again.")
    if person.buddy_status == "paused" and person.buddy_paused_until and person.buddy_paused_until >= today:
        return t(
            "You are paused as a buddy until {date}. Send /buddy resume to take buddies again.",
            date=format_date(person.buddy_paused_until),
        )
    if person.is_head and person.mentor_capacity:
        return fill(
            ngettext(
                "You offer {n} buddy place. /buddy pause or /buddy optout to stop for a while.",
                "You offer {n} buddy places. /buddy pause or /buddy optout to stop for a while.",
                person.mentor_capacity,
            ),
            n=person.mentor_capacity,
        )
    return t("You offer no buddy places at present (update your entry to offer some).")


def _pairing_line(match: BuddyMatch, person_id: int) -> Html:
    status = {"requested": _("asked, waiting for an answer"), "accepted": _("active"), "ended": _("ended")}
    if match.buddy_person_id == person_id:
        text = t(
            "Buddy to {name}, {school}",
            name=match.appointment.person.full_name,
            school=school_text(match.appointment.school),
        )
    else:
        text = t("Your buddy: {name}, {school}", name=match.buddy.full_name, school=school_text(match.buddy.school))
    return Html(f"• {text} — {esc(status.get(match.status, match.status))}")


async def buddy_command(update: Update, context: BotContext) -> None:
    member = context.member
    args = [a.lower() for a in (context.args or [])]
    sub = args[0] if args else ""
    if member is None or member.person_id is None:
        await reply(
            update,
            context,
            t("Your Telegram account is not linked to an entry in the directory yet. Ask a coordinator to link it."),
        )
        return
    today = _today(context)
    if sub in ("optout", "opt-out", "pause", "resume"):
        status = {"optout": "opted_out", "opt-out": "opted_out", "pause": "paused", "resume": "available"}[sub]
        async with context.services.session() as session:
            person = await ap.set_buddy_status(session, member.person_id, status, member.telegram_id, today)
            text = _status_text(person, today)
        await reply(update, context, text)
        return
    if sub not in ("", "end"):
        await reply(
            update,
            context,
            t("Send /buddy to see your pairings, or /buddy end, /buddy optout, /buddy pause or /buddy resume."),
        )
        return
    async with context.services.session() as session:
        entry = await session.get(Person, member.person_id)
        pairings = await ap.pairings_of(session, member.person_id)
        if entry is None:
            await reply(update, context, t("Your entry is no longer in the directory."))
            return
        lines = [bold(_("Your buddy pairings"))]
        lines += [_pairing_line(m, member.person_id) for m in pairings] or [esc(_("None yet."))]
        lines += [Html(""), _status_text(entry, today)]
        rows = [
            [
                (
                    _("End pairing with {name}").format(
                        name=(
                            m.appointment.person.full_name
                            if m.buddy_person_id == member.person_id
                            else m.buddy.full_name
                        )
                    ),
                    f"be:{m.id}",
                )
            ]
            for m in pairings
            if m.status == "accepted"
        ]
    if sub == "end" and not rows:
        await reply(update, context, t("You have no active pairing to end."))
        return
    await reply(update, context, Html("\n".join(lines)), keyboard(rows) if rows else None)


async def _party(session: AsyncSession, context: BotContext, match_id: int) -> BuddyMatch | None:
    match = await ap.get_match(session, match_id)
    member = context.member
    if match is None or member is None or member.person_id not in (match.buddy_person_id, match.appointment.person_id):
        return None
    return match


async def end_button(update: Update, context: BotContext) -> None:
    ids = _ints(update.callback_query.data if update.callback_query else None)
    confirmed = (update.callback_query.data or "").startswith("bey:")  # type: ignore[union-attr]
    async with context.services.session() as session:
        match = await _party(session, context, ids[0]) if ids else None
        if match is None:
            await answer(update, _("Sorry, only the two heads in a pairing can end it."), alert=True)
            return
        if match.status != "accepted":
            await answer(update, _("That pairing is not active."), alert=True)
            return
        other = match.appointment.person if match.buddy_person_id == context.member.person_id else match.buddy  # type: ignore[union-attr]
        other_name, other_id = other.full_name, other.id
        if not confirmed:
            await answer(update)
            await edit(
                update,
                context,
                t("End your pairing with {name}? They and the coordinators will be told.", name=other_name),
                keyboard([[(_("Yes, end it"), f"bey:{match.id}")]]),
            )
            return
        try:  # one conditional write: if the other head ended it a moment ago, this press changes nothing
            await ap.end_pairing(session, match.id, context.member.telegram_id, today=_today(context))  # type: ignore[union-attr]
        except ap.MatchError as exc:
            await answer(update, str(exc), alert=True)
            return
        me = await session.get(Person, context.member.person_id)  # type: ignore[union-attr]
        my_name = me.full_name if me else ""
        other_ids = await ap.telegram_ids(session, other_id)
    await answer(update, _("Ended"))
    await edit(update, context, t("Your pairing with {name} has ended. Thank you.", name=other_name))
    for chat_id in other_ids:
        await _send(
            context,
            chat_id,
            t(
                "{name} has ended your buddy pairing. The partnership office will be in "
                "touch if you would like another buddy.",
                name=my_name,
            ),
        )
    await tell_coordinators(context, t("{who} ended the buddy pairing with {other}.", who=my_name, other=other_name))


# --------------------------------------------------------------------------------------------- check-ins


async def send_checkins(context: BotContext, today: dt.date | None = None) -> int:
    """Send every due check-in to both people in the pairing; returns the number of messages sent.
    The daily job calls this; tests call it directly with the clock set."""
    today = today or _today(context)
    messages = 0
    async with context.services.session() as session:
        due = await ap.due_checkins(session, today)
        work = []
        for checkin in due:
            match = checkin.match
            head, buddy = match.appointment.person, match.buddy
            parties = [
                (await ap.telegram_ids(session, buddy.id), head.full_name),
                (await ap.telegram_ids(session, head.id), buddy.full_name),
            ]
            work.append((checkin.id, checkin.kind, parties))
            checkin.sent_at = clock.now()
    for checkin_id, kind, parties in work:
        buttons = keyboard([[(_(ANSWER_LABELS[a]), f"bk:{checkin_id}:{code}") for code, a in ANSWER_CODES.items()]])
        for ids, other in parties:
            text = t("Buddy check-in, {when}: how is it going with {name}?", when=_(CHECKIN_LABELS[kind]), name=other)
            for chat_id in ids:
                messages += await _send(context, chat_id, text, buttons)
    return messages


async def deliver_queued(context: BotContext) -> int:
    """Send requests recorded on the command line (`partnerbot match --term --send`)."""
    async with context.services.session() as session:
        queued = await ap.undelivered_requests(session)
    for match_id in queued:
        await deliver_request(context, match_id)
    return len(queued)


async def queued_job(context: BotContext) -> None:
    await deliver_queued(context)


async def checkin_job(context: BotContext) -> None:
    await deliver_queued(context)
    await send_checkins(context)


async def on_checkin_answer(update: Update, context: BotContext) -> None:
    data = (update.callback_query.data if update.callback_query else "") or ""
    parts = data.split(":")
    ids = _ints(data)
    if len(parts) != 3 or parts[2] not in ANSWER_CODES or not ids:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    answer_code = ANSWER_CODES[parts[2]]
    async with context.services.session() as session:
        checkin = await session.get(CheckIn, ids[0])
        match = await _party(session, context, checkin.match_id) if checkin else None
        if checkin is None or match is None:
            await answer(update, _("Sorry, this check-in is not yours to answer."), alert=True)
            return
        row = await ap.answer_checkin(session, checkin.id, context.member.telegram_id, answer_code)  # type: ignore[union-attr]
        row_id = row.id
        me = await session.get(Person, context.member.person_id)  # type: ignore[union-attr]
        head_name, buddy_name = match.appointment.person.full_name, match.buddy.full_name
    context.user_data["awaiting"] = "buddy_comment"
    context.user_data["buddy_comment_row"] = row_id
    await answer(update, _("Thank you"))
    await edit(
        update,
        context,
        Html(
            t("Thank you: {answer}.", answer=_(ANSWER_LABELS[answer_code]))
            + "\n"
            + t("Add a comment for the coordinator if you like: type it now, or press No comment.")
        ),
        keyboard([[(_("No comment"), f"bkn:{row_id}")]]),
    )
    if answer_code == "struggling":
        # Named once: the one who says so is one of the two (the new head or the buddy).
        if me is not None and me.id == match.buddy_person_id:
            said = t(
                "{buddy}, the buddy, says the pairing with {head} is struggling.", buddy=buddy_name, head=head_name
            )
        elif me is not None and me.id == match.appointment.person_id:
            said = t(
                "{head}, the new head, says the pairing with their buddy {buddy} is struggling.",
                head=head_name,
                buddy=buddy_name,
            )
        else:
            said = t(
                "{who} says the buddy pairing of {head} and {buddy} is struggling.",
                who=me.full_name if me else "?",
                head=head_name,
                buddy=buddy_name,
            )
        await tell_coordinators(context, said)


async def no_comment(update: Update, context: BotContext) -> None:
    context.user_data.pop("awaiting", None)
    context.user_data.pop("buddy_comment_row", None)
    await answer(update)
    await edit(update, context, t("Thank you. Your answer is kept for the coordinator."))


async def receive_comment(update: Update, context: BotContext) -> None:
    message = update.effective_message
    row_id = context.user_data.pop("buddy_comment_row", None)
    context.user_data.pop("awaiting", None)
    if message is None or not message.text or not isinstance(row_id, int):
        return
    try:
        async with context.services.session() as session:
            await ap.comment_checkin(session, row_id, context.member.telegram_id, message.text.strip())  # type: ignore[union-attr]
    except ap.MatchError as exc:
        await reply(update, context, esc(str(exc)))
        return
    await reply(update, context, t("Thank you. Your comment is kept for the coordinator."))


# --------------------------------------------------------------------------------------------- /matchterm


async def matchterm(update: Update, context: BotContext) -> None:
    today = _today(context)
    async with context.services.session() as session:
        term = await ap.plan_term(session, today, _rules(context))
        names = {c.person_id: c.name for c in term.candidates}
    if not term.heads:
        await reply(update, context, t("There are no open appointments waiting for a buddy."))
        return
    plan = term.plan
    lines = [
        bold(_("Buddy plan for every open appointment")),
        fill(
            ngettext("{n} new head, {m} paired.", "{n} new heads, {m} paired.", len(term.heads)),
            n=len(term.heads),
            m=len(plan.pairs),
        ),
    ]
    heads = {h.appointment_id: h for h in term.heads}
    for pair in plan.pairs[:MAX_PLAN_LINES]:
        scored = term.scored[pair.appointment_id]
        lines.append(
            Html(
                f"• {esc(heads[pair.appointment_id].name)} → {bold(names[pair.buddy_person_id])}"
                f"\n   <i>{esc(scored.reason_text)}</i>"
            )
        )
    if len(plan.pairs) > MAX_PLAN_LINES:
        lines.append(t("… and {n} more.", n=len(plan.pairs) - MAX_PLAN_LINES))
    if plan.unassigned:
        lines.append(
            t("No buddy free for: {names}", names=", ".join(heads[a].name for a in plan.unassigned[:MAX_PLAN_LINES]))
        )
    lines.append(
        plan_comparison(len(term.heads), len(plan.pairs), plan.total, len(term.greedy.pairs), term.greedy.total)
    )
    seq = int(context.chat_data.get(PLAN_KEY + "_seq", 0)) + 1
    context.chat_data[PLAN_KEY + "_seq"] = seq
    context.chat_data[PLAN_KEY] = {"id": seq, "pairs": [[p.appointment_id, p.buddy_person_id] for p in plan.pairs]}
    markup = keyboard([[(_("Send requests"), f"bs:{seq}")]]) if plan.pairs else None
    await reply(update, context, Html("\n".join(lines)), markup)


def plan_comparison(heads: int, paired: int, total: float, greedy_paired: int, greedy_total: float) -> Html:
    """Why this plan, in words a coordinator uses: against pairing one at a time, best match first. No scores."""
    if paired == heads:
        first = _("This is the best plan overall: every new head gets a buddy")
    else:
        first = fill(
            ngettext(
                "This is the best plan overall: {n} new head gets a buddy",
                "This is the best plan overall: {n} new heads get a buddy",
                paired,
            ),
            n=paired,
        )
    if paired > greedy_paired:
        left = paired - greedy_paired
        rest: str = fill(
            ngettext(
                "pairing one at a time, best match first, would leave {n} more without one.",
                "pairing one at a time, best match first, would leave {n} more without one.",
                left,
            ),
            n=left,
        )
    elif total > greedy_total + 0.5:
        rest = _("pairing one at a time, best match first, would give weaker matches.")
    else:
        rest = _("pairing one at a time, best match first, would give the same.")
    return Html(esc(first) + "; " + esc(rest))


async def send_plan_button(update: Update, context: BotContext) -> None:
    from directory.matching import Assignment, Pair

    ids = _ints(update.callback_query.data if update.callback_query else None)
    stored = context.chat_data.get(PLAN_KEY)
    if not ids or not isinstance(stored, dict) or stored.get("id") != ids[0]:
        await answer(update, _("That plan is out of date. Send /matchterm again."), alert=True)
        return
    context.chat_data.pop(PLAN_KEY, None)
    plan = Assignment([Pair(a, 0, b, 0.0) for a, b in stored["pairs"]], [], "stored")
    try:
        async with context.services.session() as session:
            sent, skipped = await ap.send_plan(
                session,
                plan,
                context.member.telegram_id,  # type: ignore[union-attr]
                _rules(context),
                _today(context),
            )
            sent_ids = [m.id for m in sent]
    except ap.AlreadyAsked:
        await answer(update)
        await edit(update, context, t("Someone asked a buddy meanwhile, so nothing was sent. Send /matchterm again."))
        return
    await answer(update, _("Sent"))
    text = fill(ngettext("Sent {n} request.", "Sent {n} requests.", len(sent_ids)), n=len(sent_ids))
    if skipped:
        text = Html(text + "\n" + t("Not sent (things changed since the plan): {n}", n=len(skipped)))
    await edit(update, context, text)
    for match_id in sent_ids:
        await deliver_request(context, match_id)


# --------------------------------------------------------------------------------------------- registration


# --------------------------------------------------------------------------------------------- messages

RELAY = "buddy_message"
MAX_RELAY = 1500


async def write_button(update: Update, context: BotContext) -> None:
    """bw:MATCH — one of the two heads of an active pairing writes to the other through the bot (for a new
    head who gave no phone or email); the next message is passed on with the writer's name."""
    ids = _ints(update.callback_query.data if update.callback_query else None)
    async with context.services.session() as session:
        match = await _party(session, context, ids[0]) if ids else None
        if match is None or match.status != "accepted":
            await answer(update, _("Sorry, only the two heads of an active pairing can write here."), alert=True)
            return
        mine = match.buddy_person_id == context.member.person_id  # type: ignore[union-attr]
        other = match.appointment.person if mine else match.buddy
        other_name = other.full_name
    await answer(update)
    context.user_data["awaiting"] = RELAY
    context.user_data[RELAY] = ids[0]
    await reply(
        update,
        context,
        t(
            "Type your message to {name}: I will pass it on with your name, and they can answer the same way.",
            name=other_name,
        ),
    )


async def receive_message(update: Update, context: BotContext) -> None:
    context.user_data.pop("awaiting", None)
    match_id = context.user_data.pop(RELAY, None)
    message = update.effective_message
    text = ((message.text if message else "") or "")[:MAX_RELAY].strip()
    if not isinstance(match_id, int) or not text:
        await reply(update, context, t("Nothing was sent."))
        return
    async with context.services.session() as session:
        match = await _party(session, context, match_id)
        if match is None or match.status != "accepted":
            await reply(update, context, t("That pairing is no longer active. Nothing was sent."))
            return
        mine = match.buddy_person_id == context.member.person_id  # type: ignore[union-attr]
        me = match.buddy if mine else match.appointment.person
        other = match.appointment.person if mine else match.buddy
        me_name, other_name = me.full_name, other.full_name
        to_ids = await ap.telegram_ids(session, other.id)
        audit.record(session, context.member.telegram_id, "buddy.message", "buddy_match", match_id)  # type: ignore[union-attr]
    heading = (
        t("A message from your buddy, {name}:", name=me_name)
        if mine
        else t("A message from {name}, the new head you are buddying:", name=me_name)
    )
    sent = 0
    for chat_id in to_ids:
        sent += await _send(
            context,
            chat_id,
            Html(bold(heading) + "\n" + esc(text)),
            keyboard([[(_("Reply to {name}").format(name=me_name), f"bw:{match_id}")]]),
        )
    if sent:
        await reply(update, context, t("Sent to {name}.", name=other_name))
    else:
        await reply(
            update,
            context,
            Html(
                t("I could not reach {name} here. Nothing was sent.", name=other_name)
                + " "
                + ask_the_office(context.services.settings)
            ),
        )


MANIFEST = Manifest(
    "buddy",
    commands=(
        Command(
            "buddy",
            buddy_command,
            Role.MEMBER,
            N_("your buddy pairings; /buddy pause, optout, resume, end"),
            private=True,
            writes=Writes("the actor's own pairings: pause, opt out, resume, end", "linked"),
        ),
        Command(
            "matchterm",
            matchterm,
            Role.COORDINATOR,
            N_("pair every open new-head appointment with a buddy at once"),
            private=True,
        ),
    ),
    buttons=(
        Button(
            "bc",
            once(confirm_suggestion),
            Role.COORDINATOR,
            private=True,
            args="id:id",
            writes=Writes("confirms a suggested buddy"),
        ),
        Button(
            "ba",
            once(let_bot_ask),
            Role.COORDINATOR,
            private=True,
            args="id",
            writes=Writes("asks the suggested buddy"),
        ),
        Button("bm", show_more, Role.COORDINATOR, private=True, args="id"),
        Button(
            "bs",
            once(send_plan_button),
            Role.COORDINATOR,
            private=True,
            args="id",
            writes=Writes("sends the plan to both heads"),
        ),
        Button(
            "bq",
            on_request_answer,
            Role.MEMBER,
            private=True,
            args="a|d:id",
            writes=Writes(
                "accepts or declines a request to the actor's entry (or for a buddy not on Telegram)",
                "linked or office",
            ),
        ),
        Button("be", end_button, Role.MEMBER, private=True, args="id"),
        Button(
            "bey",
            end_button,
            Role.MEMBER,
            private=True,
            args="id",
            writes=Writes("ends a pairing of the actor's entry", "linked"),
        ),
        Button(
            "bk",
            on_checkin_answer,
            Role.MEMBER,
            private=True,
            args="bigid:g|m|s",
            writes=Writes("answers a check-in of the actor's pairing", "linked"),
        ),
        Button("bkn", no_comment, Role.MEMBER, private=True, args="bigid"),
        Button("bw", write_button, Role.MEMBER, private=True, args="id"),
    ),
    text_steps=(
        TextStep(
            "buddy_comment",
            receive_comment,
            Role.MEMBER,
            writes=Writes("a comment on the actor's check-in answer", "linked"),
        ),
        TextStep(
            RELAY,
            receive_message,
            Role.MEMBER,
            writes=Writes("a message to the buddy of the actor's pairing (audited)", "linked"),
        ),
    ),
    jobs=(
        Job("buddy-checkins", checkin_job, daily=dt.time(9, 0)),
        # Requests recorded with `partnerbot match --term --send` go out within a quarter of an hour.
        Job("buddy-queued-requests", queued_job, every=dt.timedelta(minutes=15), first=60),
    ),
)
