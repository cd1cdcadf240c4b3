"""Keeping the directory current: scheduled work and the buttons it sends.

Jobs (handlers/manifest.py `Job`):
- "directory-watch", every few seconds: has another process changed the directory (the change counter,
  directory/freshness.py)? Then the index is rebuilt in the background.
- "directory-daily", each morning: appointments whose day has come take effect (directory/succession.py;
  coordinators are told who is now head and who became a former head); at the start of a term every
  member with an entry is asked to confirm it (directory/currency.py); two weeks on, coordinators get the
  list of entries not confirmed.

Callback data: dck:ok:PERSON (all correct)  dck:ed:PERSON (how to edit)   — the member's own entry only
               ecd:y:CHANGE  ecd:n:CHANGE (a coordinator confirms or rejects a pending change)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

from sqlalchemy import String
from telegram import Update
from telegram.error import TelegramError

from core.i18n import N_, _, format_date
from core.reply import answer, edit, keyboard, send
from core.services import BotContext
from core.terms import term_for, term_label
from core.text import Html, bold, esc, t
from directory import cards, currency, integrity, succession
from handlers.manifest import Button, Job, Manifest, Writes
from handlers.two_taps import two_taps
from storage.members import Role

log = logging.getLogger(__name__)
WATCH_EVERY = dt.timedelta(seconds=10)
DAILY_AT = dt.time(7, 30)


def _today(context: BotContext) -> dt.date:
    from core.terms import today

    return today(context.services.settings.tz)


async def watch_job(context: BotContext) -> None:
    """Rebuild the index when the database's directory counter moved (another process wrote); then tell
    the coordinators of head changes an import elsewhere (the command line) found."""
    try:
        if await context.services.refresh_if_changed():
            log.info("directory changed elsewhere: index rebuilt")
            await announce_head_changes(context)
    except Exception:  # noqa: BLE001 - a failed check is retried on the next run; the old index answers
        log.warning("directory change check failed", exc_info=True)


async def announce_head_changes(context: BotContext) -> int:
    """ "New head at X (from the register): register for a buddy?" to the coordinators for every head change
    an import recorded (audit "school.head_change") and nobody was told of yet, wherever the import ran,
    with a button that opens /newhead filled in (handlers/newhead.start_from_register). Each once: a
    "school.head_change_told" entry marks it, written before sending."""
    from sqlalchemy import select

    from handlers.buddy import tell_coordinators
    from storage import audit
    from storage.directory import Person, School
    from storage.members import AuditEntry

    notes: list[tuple[Html, object]] = []
    async with context.services.session() as session:
        told = select(AuditEntry.entity_id).where(AuditEntry.action == "school.head_change_told")
        changes = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "school.head_change", AuditEntry.id.cast(String).not_in(told))
                .order_by(AuditEntry.id)
                .limit(200)
            )
        ).all()
        for entry in changes:
            audit.record(session, None, "school.head_change_told", "audit_log", entry.id)
            school = await session.get(School, int(entry.entity_id)) if entry.entity_id.isdigit() else None
            for person_id in (entry.detail or {}).get("incoming", []):
                person = await session.get(Person, person_id)
                if school is None or person is None:
                    continue
                notes.append(
                    (
                        t(
                            "New head at {school} (from the register): {name}. Register for a buddy?",
                            school=school.name,
                            name=person.full_name,
                        ),
                        keyboard([[(_("Register for a buddy"), f"nhr:{person.id}")]]),
                    )
                )
    for text, markup in notes:
        await tell_coordinators(context, text, markup)
    return len(notes)


async def run_successions(context: BotContext) -> int:
    from handlers.buddy import tell_coordinators

    today = _today(context)
    async with context.services.session() as session:
        handovers = await succession.apply_due(session, today)
        notes = []
        for h in handovers:
            school = h.school.name if h.school is not None else _("their school")
            line = t(
                "{name} is now head of {school} (from {date}).",
                name=h.head.full_name,
                school=school,
                date=format_date(h.appointment.start_date),
            )
            if h.outgoing:
                line = Html(line + " " + t("Former head: {names}.", names=", ".join(p.full_name for p in h.outgoing)))
            notes.append(line)
    if handovers:
        await context.services.refresh_directory()
        await tell_coordinators(context, Html(bold(_("Headship changes today")) + "\n" + "\n".join(notes)))
    return len(handovers)


def check_markup(person_id: int) -> object:
    return keyboard([[(_("✅ All correct"), f"dck:ok:{person_id}"), (_("✏️ Edit"), f"dck:ed:{person_id}")]])


async def send_termly_checks(context: BotContext) -> int:
    today = _today(context)
    messages = []
    async with context.services.session() as session:
        for telegram_id, person in await currency.to_ask(session, today):
            loaded = await cards.load_person(session, person.id)
            if loaded is not None:
                messages.append((telegram_id, person.id, cards.person_card(loaded)))
    term = term_label(term_for(today))
    sent = 0
    for telegram_id, person_id, card in messages:
        text = Html(t("It is the start of {term}: is your directory entry still right?", term=term) + "\n\n" + card)
        try:
            await send(context.bot, telegram_id, text, check_markup(person_id))  # type: ignore[arg-type]
            sent += 1
        except TelegramError as exc:  # blocked the bot, say: asked again next term
            log.warning("termly check not delivered: %s", exc.__class__.__name__)
    return sent


async def report_overdue(context: BotContext) -> int | None:
    from handlers.buddy import tell_coordinators

    async with context.services.session() as session:
        people = await currency.overdue(session, _today(context))
        lines = [esc(f"• {p.full_name}") for p in people or []]
    if people is None:
        return None
    if lines:
        await tell_coordinators(context, Html(bold(_("Entries not confirmed this term")) + "\n" + "\n".join(lines)))
    return len(lines)


async def daily_job(context: BotContext) -> None:
    await run_successions(context)
    await send_termly_checks(context)
    await report_overdue(context)


def _ids(update: Update) -> tuple[str, int] | None:
    parts = ((update.callback_query.data if update.callback_query else "") or "").split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


async def check_button(update: Update, context: BotContext) -> None:
    parsed = _ids(update)
    member = context.member
    if parsed is None or member is None or member.person_id != parsed[1]:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    what, person_id = parsed
    if what == "ed":
        await answer(update)
        await edit(
            update,
            context,
            t("Change a detail with /edit, e.g. <code>/edit phone 01632 960123</code>. /me shows your entry."),
        )
        return
    async with context.services.session() as session:
        person = await currency.confirm(session, person_id, member.telegram_id, _today(context))
        label = cards.checked_label(person) if person is not None else None
    await answer(update, _("Thank you"))
    await edit(update, context, t("Thank you: your entry is marked {checked}.", checked=label or ""))


async def change_button(update: Update, context: BotContext) -> None:
    parsed = _ids(update)
    if parsed is None or parsed[0] not in ("y", "n"):
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    confirm = parsed[0] == "y"
    actor = context.member.telegram_id if context.member else None
    try:
        async with context.services.session() as session:
            change, registration = await integrity.decide(session, parsed[1], actor, confirm)
            summary, proposer = change.summary, change.proposed_by
            appointment_id = registration.appointment.id if registration else None
            # Registering never links an account; for a registrant who said "I am the new head" the coordinator
            # is offered the link decision itself (storage/identity.py), which shows the account and any conflict.
            offer_link = (
                registration is not None and proposer is not None and (change.payload or {}).get("relation") == "self"
            )
            link_to = registration.person.id if registration is not None else None
    except (integrity.ChangeError, ValueError) as exc:
        await answer(update, str(exc), alert=True)
        return
    await answer(update, _("Confirmed") if confirm else _("Rejected"))
    verdict = t("Confirmed: the appointment is registered.") if confirm else t("Rejected: nothing was changed.")
    rows = [[(_("Link the registrant's account to this entry…"), f"lk:{proposer}:{link_to}:p")]] if offer_link else None
    await edit(update, context, Html(esc(summary) + "\n\n" + verdict), keyboard(rows) if rows else None)
    await after_change(context, proposer, confirm, appointment_id)


async def after_change(context: BotContext, proposer: int | None, confirm: bool, appointment_id: int | None) -> None:
    """After a registration is decided and committed (here or in the Mini App's desk): the registrant is told,
    and a new appointment refreshes the directory and is announced to the coordinators."""
    if proposer is not None:
        with contextlib.suppress(TelegramError):
            await send(
                context.bot,
                proposer,
                t(
                    "The partnership office has {verdict} the appointment you registered.",
                    verdict=_("confirmed") if confirm else _("not accepted"),
                ),
            )
    if appointment_id is not None:
        await context.services.refresh_directory()
        from handlers.buddy import announce_appointment

        await announce_appointment(context, appointment_id)


MANIFEST = Manifest(
    "currency",
    buttons=(
        Button(
            "dck",
            check_button,
            Role.MEMBER,
            private=True,
            args="ok|ed:id",
            writes=Writes("confirms the actor's own entry is current", "linked"),
        ),
        Button(
            "ecd",
            two_taps(change_button, N_("Reject this change?"), N_("Yes, reject"), only="ecd:n:"),
            Role.COORDINATOR,
            writes=Writes("confirms or rejects a registration"),
            args="y|n:bigid:ok|no?",
        ),
    ),
    jobs=(
        Job("directory-watch", watch_job, every=WATCH_EVERY, first=WATCH_EVERY.total_seconds()),
        Job("directory-daily", daily_job, daily=DAILY_AT),
    ),
)
