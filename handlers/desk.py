"""`/desk`: everything waiting on the partnership office, in one message, with a button for each part, and
`/stats` (admins): the partnership in figures.

Parts: access requests (approve, linked to their directory entry or not, or reject), new heads without a buddy
(confirm a suggestion, or let the bot ask), pairings (asked, active, paused, ending), check-in answers since the
coordinator last looked (opening them reads them), plans and who has not updated (chase them), recent imports,
support requests, and members' entries not confirmed this term (ask them again).
Every action reuses the feature's own function (handlers/access.py, handlers/buddy.py,
handlers/reminders_chat.py): the buttons of a part are those features' own buttons where they exist.
A coordinator can switch on a daily digest of the desk (the `desk-digest` job; sent only when something waits).

Callback data: dk:h|ar|rg|ac|nh|pr|ck|pl|im|su|st|dg   (home, a part, switch the digest)
               dka:REQUEST:VERSION:PERSON (approve, 0 = without link)   dkx:REQUEST:VERSION (reject): the
               version of the request the coordinator was shown (handlers/access.py, storage/access_requests.py)
               Registrations waiting (rg) use the registration's own buttons (ecd:y|n:CHANGE, handlers/currency.py);
               accounts without a link (ac) the access feature's link buttons (lk:ACCOUNT:PERSON:p).
               dkr:MATCH (ask the buddy again: once a day per pairing, storage/sends.py)
               dke:MATCH / dkey:MATCH (end a pairing, confirmed)
               dks:PERSON (ask the member again to confirm their entry: entries not confirmed this term, `st`;
               at most once a day per entry, a conditional write on person.check_reminded_on)
The Mini App's desk (webapp/desk.py) calls the same functions (ask_again_claim, end_pairing_core, ask_to_confirm
and the other features' own), so a press there and here at once make one decision.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import TelegramError

from core import clock
from core.i18n import N_, _, format_date, format_datetime, format_period, ngettext
from core.reply import answer, edit, keyboard, reply, send
from core.services import BotContext
from core.terms import current_term, term_label
from core.text import Html, bold, esc, fill, italic, t
from directory import appointments as ap
from directory import currency, office
from handlers import access, buddy, support
from handlers import sends as sent_once
from handlers.manifest import Button, Command, Job, Manifest, Writes
from handlers.once import once
from handlers.person_picker import people_named, person_label
from handlers.two_taps import two_taps
from storage import audit, identity, sends
from storage.desk import DeskState
from storage.directory import EntryChange, Person
from storage.members import AccessRequest, Member, Role

log = logging.getLogger(__name__)

DIGEST_AT = dt.time(8, 30)
MAX_ITEMS = 6
SUGGESTIONS = 2
Rows = list[list[tuple[str, str]]]
Queue = tuple[Html, tuple[str, str], int]  # another feature's part: its line, its button, how many wait

STATUS_LABELS = {
    "asked": N_("asked, waiting for an answer"),
    "active": N_("active"),
    "paused": N_("paused by the buddy"),
    "ending": N_("ending"),
}
# The same, as a line of /stats of its own.
STATS_LABELS = {
    "asked": N_("Pairings waiting for the buddy's answer"),
    "active": N_("Active pairings"),
    "paused": N_("Pairings paused by the buddy"),
    "ending": N_("Pairings ending"),
}


def _today(context: BotContext) -> dt.date:
    return clock.now().astimezone(context.services.settings.tz).date()


def _home_button() -> list[tuple[str, str]]:
    return [(_("‹ Desk"), "dk:h")]


def _int_parts(data: str | None) -> list[int]:
    out = []
    for part in (data or "").split(":")[1:]:
        if part.isascii() and part.isdigit() and len(part) < 19:
            out.append(int(part))
    return out


async def queues(session: AsyncSession) -> tuple[Queue, ...]:
    """Parts other features add to the desk (school-to-school support, entries not confirmed this term)."""
    return (await support.desk_queue(session), await stale_queue(session))


async def stale_queue(session: AsyncSession) -> Queue:
    n = len(await currency.stale(session, ap.local_today(), 1000))
    line = _count("{n} entry not confirmed this term", "{n} entries not confirmed this term", n)
    return line, (fill(ngettext("Entry to confirm ({n})", "Entries to confirm ({n})", n), n=n), "dk:st"), n


async def _load(context: BotContext, session: AsyncSession) -> office.Desk:
    return await office.the_desk(session, context.member.telegram_id, _today(context), current_term())  # type: ignore[union-attr]


# --- the overview ---------------------------------------------------------------------------------


def _count(singular: str, plural: str, n: int) -> Html:
    return fill(ngettext(singular, plural, n), n=n)


def pairing_summary(pairings: list[office.Pairing]) -> str:
    counts = {status: sum(p.status == status for p in pairings) for status in STATUS_LABELS}
    parts = [f"{n} {_(STATUS_LABELS[status])}" for status, n in counts.items() if n]
    return ", ".join(parts) if parts else _("none")


def overview(
    desk: office.Desk, tz: dt.tzinfo, identity_counts: tuple[int, int] = (0, 0), queues: tuple[Queue, ...] = ()
) -> tuple[Html, Rows]:
    """The desk's first message: one line and one button for each part. `identity_counts`: registrations
    waiting for confirmation, active accounts without a directory link; `queues`: other features' parts."""
    lines = [bold(_("Your desk")), ""]
    rows: Rows = []
    n = len(desk.requests)
    lines.append(Html("• " + _count("{n} access request waiting", "{n} access requests waiting", n)))
    rows.append([(fill(ngettext("Access request ({n})", "Access requests ({n})", n), n=n), "dk:ar")])
    n, unlinked = identity_counts
    lines.append(
        Html("• " + _count("{n} new-head registration to confirm", "{n} new-head registrations to confirm", n))
    )
    lines.append(
        Html("• " + _count("{n} account without a directory link", "{n} accounts without a directory link", unlinked))
    )
    rows.append(
        [
            (fill(ngettext("Registration ({n})", "Registrations ({n})", n), n=n), "dk:rg"),
            (fill(ngettext("Account ({n})", "Accounts ({n})", unlinked), n=unlinked), "dk:ac"),
        ]
    )
    n = len(desk.unmatched)
    lines.append(Html("• " + _count("{n} new head without a buddy", "{n} new heads without a buddy", n)))
    rows.append([(fill(ngettext("New head ({n})", "New heads ({n})", n), n=n), "dk:nh")])
    for line, _button, _n in queues:
        lines.append(Html("• " + line))
    lines.append(Html("• " + t("Pairings: {summary}", summary=pairing_summary(desk.pairings))))
    n = len(desk.answers)
    struggling = sum(a.answer == "struggling" for a in desk.answers)
    line = _count("{n} check-in answer since you last looked", "{n} check-in answers since you last looked", n)
    if struggling:
        line = Html(line + " " + _count("({n} struggling)", "({n} struggling)", struggling))
    lines.append(Html("• " + line))
    rows.append([(_("Pairings"), "dk:pr"), (fill(ngettext("Check-in ({n})", "Check-ins ({n})", n), n=n), "dk:ck")])
    for plan in desk.plans[:MAX_ITEMS]:
        lines.append(
            Html(
                "• "
                + fill(
                    ngettext(
                        "{plan}: {n} person has not updated this term",
                        "{plan}: {n} people have not updated this term",
                        len(plan.not_updated),
                    ),
                    plan=plan.title,
                    n=len(plan.not_updated),
                )
            )
        )
    if not desk.plans:
        lines.append(Html("• " + esc(_("No action plan yet"))))
    if desk.imports:
        last = desk.imports[0]
        lines.append(
            Html("• " + t("Last import: {what} on {when}", what=_import_what(last), when=format_datetime(last.at, tz)))
        )
    else:
        lines.append(Html("• " + esc(_("No imports yet"))))
    rows.append([(_("Plans"), "dk:pl"), (_("Imports"), "dk:im")])
    rows += [[button] for _line, button, _n in queues]  # after the others: their buttons keep their places
    lines += [
        "",
        esc(_("The daily digest of your desk is on.") if desk.digest else _("The daily digest of your desk is off.")),
    ]
    rows.append([(_("Switch the daily digest off") if desk.digest else _("Switch the daily digest on"), "dk:dg")])
    return Html("\n".join(lines)), rows


def _import_what(item: office.Import) -> str:
    if item.what == "plan":
        return _("the plan “{name}”").format(name=item.name)
    return _("the directory file “{name}”").format(name=item.name)


def waiting_anything(desk: office.Desk) -> bool:
    return bool(
        desk.requests or desk.unmatched or desk.answers or any(p.status in ("asked", "ending") for p in desk.pairings)
    )


# --- the parts ------------------------------------------------------------------------------------


async def requests_part(context: BotContext, session: AsyncSession, note: str = "") -> tuple[Html, Rows]:
    tz = context.services.settings.tz
    waiting = await access.requests.pending(session)
    lines = [bold(_("Access requests"))] + ([esc(note), ""] if note else [])
    rows: Rows = []
    if not waiting:
        lines.append(esc(_("Nobody is waiting for access.")))
    for number, request in enumerate(waiting[:MAX_ITEMS], 1):
        line = t(
            "{n}. {name}, {school} — asked {when}",
            n=number,
            name=request.name,
            school=request.school or _("school not given"),
            when=format_datetime(request.created_at, tz),
        )
        if request.telegram_name and request.telegram_name != request.name:
            line = Html(line + " " + t("(on Telegram: {telegram})", telegram=request.telegram_name))
        lines.append(line)
        person = await session.get(Person, request.suggested_person_id) if request.suggested_person_id else None
        if person is not None:
            lines.append(Html("   " + t("In the directory: {person}", person=person.full_name)))
            other = await identity.active_account_of(session, person.id, besides=request.telegram_id)
            if other is not None:
                lines.append(
                    Html(
                        "   "
                        + t(
                            "Already linked to another account since {when}: {account}",
                            when=format_date(other.linked_at.date()) if other.linked_at else "—",
                            account=access.account_line(other, other.telegram_id),
                        )
                    )
                )
            rows.append(
                [(_("Approve and link {n}").format(n=number), f"dka:{request.id}:{request.version}:{person.id}")]
            )
        lines += [Html("   " + line) for line in await access.history_lines(session, request.telegram_id, tz)]
        rows.append(
            [
                (_("Approve {n}").format(n=number), f"dka:{request.id}:{request.version}:0"),
                (_("Reject {n}").format(n=number), f"dkx:{request.id}:{request.version}"),
            ]
        )
    if len(waiting) > MAX_ITEMS:
        lines.append(
            _count(
                "… and {n} more: decide these first.", "… and {n} more: decide these first.", len(waiting) - MAX_ITEMS
            )
        )
    rows.append(_home_button())
    return Html("\n".join(lines)), rows


async def identity_counts(session: AsyncSession) -> tuple[int, int]:
    registrations = await session.scalar(
        select(func.count()).select_from(EntryChange).where(EntryChange.status == "pending")
    )
    unlinked = await session.scalar(
        select(func.count()).select_from(Member).where(Member.active.is_(True), Member.person_id.is_(None))
    )
    return int(registrations or 0), int(unlinked or 0)


async def registrations_part(context: BotContext, session: AsyncSession) -> tuple[Html, Rows]:
    """Members' new-head registrations: notifications that change nothing until a coordinator confirms."""
    tz = context.services.settings.tz
    waiting = list(
        await session.scalars(
            select(EntryChange)
            .where(EntryChange.status == "pending")
            .order_by(EntryChange.created_at, EntryChange.id)
            .limit(MAX_ITEMS + 1)
        )
    )
    lines = [bold(_("New-head registrations to confirm"))]
    rows: Rows = []
    if not waiting:
        lines.append(esc(_("No registration is waiting.")))
    for number, change in enumerate(waiting[:MAX_ITEMS], 1):
        proposer = await session.get(Member, change.proposed_by) if change.proposed_by else None
        lines += [
            Html(""),
            t(
                "{n}. Registered by {who} on {when}:",
                n=number,
                who=(proposer.display_name if proposer and proposer.display_name else str(change.proposed_by or "—")),
                when=format_datetime(change.created_at, tz),
            ),
            esc(change.summary),
        ]
        rows.append(
            [
                (_("Confirm {n}").format(n=number), f"ecd:y:{change.id}"),
                (_("Reject {n}").format(n=number), f"ecd:n:{change.id}"),
            ]
        )
    if len(waiting) > MAX_ITEMS:
        lines.append(esc(_("… and more: decide these first.")))
    rows.append(_home_button())
    return Html("\n".join(lines)), rows


async def accounts_part(context: BotContext, session: AsyncSession) -> tuple[Html, Rows]:
    """Active accounts without a directory link (each with the entries its given name resembles: a link is
    made only after the confirmation that shows both and any conflict), and the latest links, to unlink."""
    unlinked = list(
        await session.scalars(
            select(Member)
            .where(Member.active.is_(True), Member.person_id.is_(None))
            .order_by(Member.approved_at.desc().nulls_last(), Member.telegram_id)
            .limit(MAX_ITEMS)
        )
    )
    lines = [bold(_("Accounts without a directory link"))]
    rows: Rows = []
    if not unlinked:
        lines.append(esc(_("Every account is linked.")))
    for number, member in enumerate(unlinked, 1):
        account = await identity.account(session, member.telegram_id)
        lines.append(Html(f"{number}. " + access.account_line(account, member.telegram_id)))
        for person in people_named(context, member.display_name, limit=2) if member.display_name else []:
            rows.append(
                [
                    (
                        _("Link {n} to {person}").format(n=number, person=person_label(person))[:60],
                        f"lk:{member.telegram_id}:{person.id}:p",
                    )
                ]
            )
    linked = list(
        await session.scalars(
            select(Member)
            .where(Member.active.is_(True), Member.person_id.is_not(None), Member.linked_at.is_not(None))
            .order_by(Member.linked_at.desc())
            .limit(3)
        )
    )
    if linked:
        lines += [Html(""), bold(_("Latest links"))]
    for member in linked:
        account = await identity.account(session, member.telegram_id)
        lines.append(Html("• " + access.account_line(account, member.telegram_id)))
        rows.append([(_("Unlink {id}").format(id=member.telegram_id), f"ul:{member.telegram_id}:y")])
    lines += [
        Html(""),
        t("Another entry: <code>/link TELEGRAM_ID NAME</code>. End a link: <code>/unlink NAME</code>."),
    ]
    rows.append(_home_button())
    return Html("\n".join(lines)), rows


async def newheads_part(context: BotContext, session: AsyncSession) -> tuple[Html, Rows]:
    appointments = await office.unmatched_appointments(session)
    lines = [bold(_("New heads without a buddy"))]
    rows: Rows = []
    if not appointments:
        lines.append(esc(_("Every new head has a buddy or has one asked.")))
    for number, appointment in enumerate(appointments[:MAX_ITEMS], 1):
        lines.append(Html(""))
        lines.append(
            Html(
                f"{number}. "
                + t(
                    "{name}, {school}, starts {date}.",
                    name=appointment.person.full_name,
                    school=buddy.school_text(appointment.school),
                    date=format_date(appointment.start_date),
                )
            )
        )
        suggestions = await ap.propose(
            session, appointment.id, SUGGESTIONS, ap.rules_from(context.services.settings), _today(context)
        )
        if suggestions:
            lines += [Html(f"   – {bold(s.name)}: {italic(s.reason_text)}") for s in suggestions]
            rows += buddy.suggestion_buttons(appointment.id, suggestions)
        else:
            lines.append(esc(_("No suitable buddy is free in the directory at present.")))
    if len(appointments) > MAX_ITEMS:
        lines.append(
            _count(
                "… and {n} more: /matchterm pairs them all at once.",
                "… and {n} more: /matchterm pairs them all at once.",
                len(appointments) - MAX_ITEMS,
            )
        )
    rows.append(_home_button())
    return Html("\n".join(lines)), rows


async def pairings_part(context: BotContext, session: AsyncSession, note: str = "") -> tuple[Html, Rows]:
    pairings = await office.pairings(session, _today(context))
    lines = [bold(_("Buddy pairings"))] + ([esc(note), ""] if note else [])
    rows: Rows = []
    if not pairings:
        lines.append(esc(_("No pairings yet.")))
    order = {"asked": 0, "ending": 1, "paused": 2, "active": 3}
    asked_today = await sent_once.standing_notes(
        session,
        sends.ASK_AGAIN,
        [p.match_id for p in pairings if p.status == "asked"],
        context.services.settings.tz,
    )
    for pairing in sorted(pairings, key=lambda p: (order[p.status], p.start)):
        lines.append(
            Html(
                "• "
                + t(
                    "{head} with {buddy} — {status}",
                    head=pairing.head,
                    buddy=pairing.buddy,
                    status=_(STATUS_LABELS[pairing.status]),
                )
                + (
                    " " + t("(first 100 days end {date})", date=format_date(pairing.ends))
                    if pairing.status == "ending"
                    else ""
                )
            )
        )
        if pairing.match_id in asked_today:  # asked again today: a press would only be refused
            lines.append(Html("   " + esc(asked_today[pairing.match_id])))
        elif pairing.status == "asked" and len(rows) < MAX_ITEMS:
            rows.append([(_("Ask {name} again").format(name=pairing.buddy), f"dkr:{pairing.match_id}")])
        elif pairing.status == "ending" and len(rows) < MAX_ITEMS:
            rows.append(
                [
                    (
                        _("End: {head} and {buddy}").format(head=pairing.head, buddy=pairing.buddy),
                        f"dke:{pairing.match_id}",
                    )
                ]
            )
    rows.append(_home_button())
    return Html("\n".join(lines)), rows


async def checkins_part(context: BotContext, session: AsyncSession) -> tuple[Html, Rows]:
    """The answers since the coordinator last looked; looking reads them."""
    state = await office.desk_state(session, context.member.telegram_id)  # type: ignore[union-attr]
    answers = await office.answers_since(session, state.checkins_seen_at)
    tz = context.services.settings.tz
    lines = [bold(_("Check-in answers since you last looked"))]
    if not answers:
        lines.append(esc(_("No new answers.")))
    for item in answers[:30]:
        line = t(
            "• {who} about {other} ({when}): {answer}",
            who=item.who,
            other=item.about,
            when=_(buddy.CHECKIN_LABELS.get(item.kind, item.kind)),
            answer=_(buddy.ANSWER_LABELS.get(item.answer, item.answer)),
        )
        if item.comment:
            line = Html(line + "\n   " + italic(f"“{item.comment}”"))
        lines.append(Html(line + " " + esc(format_datetime(item.answered_at, tz, "d MMM"))))
    if len(answers) > 30:
        lines.append(_count("… and {n} more.", "… and {n} more.", len(answers) - 30))
    await office.mark_checkins_seen(session, state.telegram_id, clock.now())
    return Html("\n".join(lines)), [_home_button()]


async def plans_part(context: BotContext, session: AsyncSession) -> tuple[Html, Rows]:
    term = current_term()
    plans = await office.plan_gaps(session, term)
    lines = [bold(_("Plans: who has not updated for {term}").format(term=term_label(term)))]
    rows: Rows = []
    if not plans:
        lines.append(esc(_("There is no action plan yet.")))
    for plan in plans[:MAX_ITEMS]:
        lines.append(Html(""))
        lines.append(Html(bold(plan.title) + " — " + _count("{n} action", "{n} actions", plan.actions)))
        if plan.not_updated:
            lines.append(
                t(
                    "Not updated yet: {names}",
                    names=", ".join(plan.not_updated[:20]) + (" …" if len(plan.not_updated) > 20 else ""),
                )
            )
            rows.append([(_("Chase: {plan}").format(plan=plan.title[:40]), f"chs:{plan.plan_id}")])
        else:
            lines.append(esc(_("Everyone has updated. 🎉")))
    rows.append(_home_button())
    return Html("\n".join(lines)), rows


async def imports_part(context: BotContext, session: AsyncSession) -> tuple[Html, Rows]:
    tz = context.services.settings.tz
    imports = await office.recent_imports(session, 8)
    lines = [bold(_("Recent imports"))]
    if not imports:
        lines.append(esc(_("Nothing has been imported yet.")))
    for item in imports:
        line = t("• {when}: {what}", when=format_datetime(item.at, tz), what=_import_what(item))
        if item.by:
            line = Html(line + " " + t("by {who}", who=item.by))
        lines.append(line)
    lines += [Html(""), esc(_("To import, send me the spreadsheet or document as a file."))]
    return Html("\n".join(lines)), [_home_button()]


PARTS = {
    "ar": requests_part,
    "rg": registrations_part,
    "ac": accounts_part,
    "nh": newheads_part,
    "pr": pairings_part,
    "ck": checkins_part,
    "pl": plans_part,
    "im": imports_part,
    "su": support.desk_part,
}


# --- handlers -------------------------------------------------------------------------------------


async def desk_command(update: Update, context: BotContext) -> None:
    async with context.services.session() as session:
        text, rows = overview(
            await _load(context, session),
            context.services.settings.tz,
            await identity_counts(session),
            await queues(session),
        )
    await reply(update, context, text, keyboard(rows))


async def desk_button(update: Update, context: BotContext) -> None:
    data = (update.callback_query.data if update.callback_query else "") or ""
    part = data.split(":")[1] if data.count(":") == 1 else ""
    if part != "h" and part != "dg" and part not in PARTS:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    note = ""
    async with context.services.session() as session:
        if part == "dg":
            state = await office.desk_state(session, context.member.telegram_id)  # type: ignore[union-attr]
            state.digest = not state.digest
            note = (
                _("Daily digest on: I will send you your desk each morning when something is waiting.")
                if state.digest
                else _("Daily digest off.")
            )
        if part in PARTS:
            text, rows = await PARTS[part](context, session)
        else:
            text, rows = overview(
                await _load(context, session),
                context.services.settings.tz,
                await identity_counts(session),
                await queues(session),
            )
    await answer(update, note or None)
    await edit(update, context, text, keyboard(rows))


async def desk_decide(update: Update, context: BotContext) -> None:
    """Approve or reject an access request from the desk, with the access feature's own decision."""
    data = (update.callback_query.data if update.callback_query else "") or ""
    approve = data.startswith("dka:")
    ids = access.decision_args(data, 3 if approve else 2)
    if ids is None:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    async with context.services.sessionmaker() as session:
        request = await session.get(AccessRequest, ids[0])
        name = request.name if request is not None else ""
    if not await access.decide_request(update, context, ids[0], ids[1], approve, ids[2] if approve else 0, show=False):
        return
    note = (_("Approved: {name}.") if approve else _("Rejected: {name}.")).format(name=name)
    await answer(update, note)
    async with context.services.session() as session:
        text, rows = await requests_part(context, session, note)
    await edit(update, context, text, keyboard(rows))


async def ask_again_claim(session: AsyncSession, match_id: int, actor_id: int | None, tz: dt.tzinfo) -> bool:
    """Ask the buddy again (the chat's dkr: and the Mini App): the request must still be unanswered, then ONE
    conditional write claims the send for today (storage.sends, once per pairing per local day), audited.
    False when the request is answered or gone; AlreadySent (who asked, when) for a second press. The caller
    sends with `ask_again_deliver` after its commit. Returns whether the buddy has an account to be asked on."""
    match = await ap.get_match(session, match_id)
    if match is None or match.status != "requested":
        return False
    await sent_once.claim_or_raise(session, sends.ASK_AGAIN, match_id, actor_id, tz)
    audit.record(session, actor_id, "buddy.ask_again", "buddy_match", match_id)
    return True


async def ask_again_deliver(context: BotContext, match_id: int, actor_id: int | None) -> str:
    """After the commit: the request to the buddy (or, not on Telegram, to the coordinators with the contact
    details: handlers.buddy.deliver_request). If the buddy has an account and Telegram refused it, the office has
    been told by that same fallback, and the claim is given back so the office can try again today; a buddy
    without an account keeps the claim (the coordinators have the details: a second press would only repeat
    them). "asked", "not-on-telegram" or "failed"."""
    async with context.services.sessionmaker() as session:
        match = await ap.get_match(session, match_id)
        on_telegram = match is not None and bool(await ap.telegram_ids(session, match.buddy_person_id))
    delivered = await buddy.deliver_request(context, match_id)
    if not delivered and on_telegram:
        async with context.services.session() as session:
            await sends.release(session, sends.ASK_AGAIN, match_id, actor_id)
            audit.record(session, actor_id, "buddy.ask_again_failed", "buddy_match", match_id)
        return "failed"
    return "asked" if delivered else "not-on-telegram"


def asked_again_text(outcome: str) -> str:
    if outcome == "asked":
        return _("Asked again")
    if outcome == "failed":
        return _("Could not reach them on Telegram: their details are in your chat. You can ask again.")
    return _("Not on Telegram: the details are in your chat")


async def ask_again(update: Update, context: BotContext) -> None:
    ids = _int_parts(update.callback_query.data if update.callback_query else None)
    actor = context.member.telegram_id if context.member else None
    try:
        async with context.services.session() as session:
            waiting = bool(ids) and await ask_again_claim(session, ids[0], actor, context.services.settings.tz)
    except sent_once.AlreadySent as exc:
        await answer(update, exc.text, alert=True)
        return
    if not waiting:
        await answer(update, _("That request has already been answered."), alert=True)
        return
    await answer(update, asked_again_text(await ask_again_deliver(context, ids[0], actor)))


async def end_pairing_core(
    session: AsyncSession, match_id: int, actor_id: int, today: dt.date
) -> tuple[str, str, list[int]]:
    """End a pairing from the desk (the chat's "Yes, end it" and the Mini App alike): one conditional write
    (directory.appointments.end_pairing), MatchError for the loser. (head, buddy, the chats to tell)."""
    match = await ap.get_match(session, match_id)
    if match is None or match.status != "accepted":
        raise ap.MatchError(_("That pairing is not active."))
    head, buddy_name = match.appointment.person.full_name, match.buddy.full_name
    await ap.end_pairing(session, match.id, actor_id, today=today)
    parties = await ap.telegram_ids(session, match.buddy_person_id) + await ap.telegram_ids(
        session, match.appointment.person_id
    )
    return head, buddy_name, parties


async def tell_pairing_ended(bot: Any, parties: list[int], head: str, buddy_name: str) -> None:
    """After the commit: both heads told, the same words whoever ended it."""
    for chat_id in parties:
        try:
            await send(
                bot,
                chat_id,
                t(
                    "The partnership office has ended the buddy pairing of {head} and "
                    "{buddy}: the first 100 days are over. Thank you.",
                    head=head,
                    buddy=buddy_name,
                ),
            )
        except TelegramError as exc:
            log.info("could not tell %s about the end of a pairing: %s", chat_id, exc.__class__.__name__)


async def end_pairing(update: Update, context: BotContext) -> None:
    data = (update.callback_query.data if update.callback_query else "") or ""
    ids = _int_parts(data)
    confirmed = data.startswith("dkey:")
    if not confirmed:
        async with context.services.sessionmaker() as session:
            match = await ap.get_match(session, ids[0]) if ids else None
            if match is None or match.status != "accepted":
                await answer(update, _("That pairing is not active."), alert=True)
                return
            head, buddy_name = match.appointment.person.full_name, match.buddy.full_name
        await answer(update)
        await edit(
            update,
            context,
            t("End the pairing of {head} and {buddy}? They will both be told.", head=head, buddy=buddy_name),
            keyboard([[(_("Yes, end it"), f"dkey:{ids[0]}")], _home_button()]),
        )
        return
    try:  # one conditional write: a head (or another coordinator, or the Mini App) may have ended it a moment ago
        async with context.services.session() as session:
            head, buddy_name, parties = await end_pairing_core(
                session,
                ids[0] if ids else 0,
                context.member.telegram_id,  # type: ignore[union-attr]
                _today(context),
            )
    except ap.MatchError as exc:
        await answer(update, str(exc), alert=True)
        return
    await tell_pairing_ended(context.bot, parties, head, buddy_name)
    await answer(update, _("Ended"))
    async with context.services.session() as session:
        text, rows = await pairings_part(context, session, t("Ended: {head} and {buddy}.", head=head, buddy=buddy_name))
    await edit(update, context, text, keyboard(rows))


# --- stale entries: asked this term to confirm their entry, not confirmed yet ---------------------------------


def reminded_text(reminded_on: dt.date | None) -> str:
    return _("asked again on {date}").format(date=format_date(reminded_on)) if reminded_on else ""


async def stale_part(context: BotContext, session: AsyncSession, note: str = "") -> tuple[Html, Rows]:
    """Members' entries asked this term and not confirmed (directory/currency.py): "Ask again" sends the member
    the termly check once more, at most once a day per entry."""
    entries = await currency.stale(session, _today(context), MAX_ITEMS + 1)
    lines = [bold(_("Entries not confirmed this term"))] + ([esc(note), ""] if note else [])
    rows: Rows = []
    if not entries:
        lines.append(esc(_("Every entry asked this term has been confirmed.")))
    for number, entry in enumerate(entries[:MAX_ITEMS], 1):
        line = Html(f"{number}. " + esc(entry.name))
        if entry.reminded_on:
            line = Html(line + " — " + esc(reminded_text(entry.reminded_on)))
        if entry.telegram_id is None:
            line = Html(line + " — " + esc(_("no account linked: nobody to ask")))
        lines.append(line)
        if entry.telegram_id is not None and entry.reminded_on != _today(context):
            rows.append([(_("Ask {name} again").format(name=entry.name)[:60], f"dks:{entry.person_id}")])
    if len(entries) > MAX_ITEMS:
        lines.append(esc(_("… and more: ask these first.")))
    rows.append(_home_button())
    return Html("\n".join(lines)), rows


async def ask_to_confirm(session: AsyncSession, person_id: int, actor_id: int, today: dt.date) -> tuple[int, Html]:
    """Ask a member again to confirm their entry (the chat's dks: and the Mini App): one conditional write on the
    entry's reminded-on day (directory.currency.remind), then the card to send after the commit. RemindError
    for the loser of two presses at once, or an entry confirmed meanwhile."""
    from directory import cards

    telegram_id = await currency.remind(session, person_id, actor_id, today)
    loaded = await cards.load_person(session, person_id)
    card = cards.person_card(loaded) if loaded is not None else Html("")
    term = term_label(current_term())
    return telegram_id, Html(
        t("Please confirm your directory entry for {term}: is it still right?", term=term) + "\n\n" + card
    )


def remind_error_text(exc: currency.RemindError) -> str:
    if str(exc) == "today":
        return _("This member has already been asked again today. Nothing was changed.")
    if str(exc) == "no-account":
        return _("No account is linked to this entry: there is nobody to ask. Nothing was changed.")
    return _("This entry has been confirmed or is no longer waiting. Nothing was changed.")


async def send_check(bot: Any, telegram_id: int, person_id: int, text: Html) -> bool:
    """After the commit: the member gets their card with the termly check's own buttons (handlers/currency.py)."""
    from handlers.currency import check_markup

    try:
        await send(bot, telegram_id, text, check_markup(person_id))  # type: ignore[arg-type]
        return True
    except TelegramError as exc:
        log.info("could not ask %s again to confirm: %s", telegram_id, exc.__class__.__name__)
        return False


async def stale_button(update: Update, context: BotContext) -> None:
    """dks:PERSON — ask the member linked to this entry again to confirm it."""
    ids = _int_parts(update.callback_query.data if update.callback_query else None)
    try:
        async with context.services.session() as session:
            telegram_id, text = await ask_to_confirm(
                session,
                ids[0] if ids else 0,
                context.member.telegram_id,  # type: ignore[union-attr]
                _today(context),
            )
    except currency.RemindError as exc:
        await answer(update, remind_error_text(exc), alert=True)
        return
    delivered = await send_check(context.bot, telegram_id, ids[0], text)
    note = _("Asked again.") if delivered else _("Could not reach them on Telegram.")
    await answer(update, note)
    async with context.services.session() as session:
        text, rows = await stale_part(context, session, note)
    await edit(update, context, text, keyboard(rows))


PARTS["st"] = stale_part  # beside its action, above


async def send_digests(context: BotContext) -> int:
    """The daily digest: each coordinator who switched it on gets their desk, when something is waiting."""
    services = context.application.bot_data["services"]
    async with services.sessionmaker() as session:
        ids = list(
            await session.scalars(
                select(DeskState.telegram_id)
                .join(Member, Member.telegram_id == DeskState.telegram_id)
                .where(DeskState.digest.is_(True), Member.active.is_(True), Member.role.in_(("coordinator", "admin")))
            )
        )
    sent = 0
    today = clock.now().astimezone(services.settings.tz).date()
    for telegram_id in ids:
        async with services.session() as session:
            desk = await office.the_desk(session, telegram_id, today, current_term())
            counts = await identity_counts(session)
            extra = await queues(session)
        if not waiting_anything(desk) and not counts[0] and not any(n for _line, _button, n in extra):
            continue
        text, rows = overview(desk, services.settings.tz, counts, extra)
        try:
            await send(
                context.bot,
                telegram_id,
                Html(t("Good morning. This is what is waiting today.") + "\n\n" + text),
                keyboard(rows),
            )
            sent += 1
        except TelegramError as exc:
            log.warning("desk digest to %s not delivered: %s", telegram_id, exc.__class__.__name__)
    return sent


async def digest_job(context: BotContext) -> None:
    await send_digests(context)


# --- /stats ---------------------------------------------------------------------------------------


async def retention_lines(session: AsyncSession, settings: Any, tz: Any) -> list[Html]:
    """Data protection for /stats: the retention schedule in force and what its last daily run removed."""
    from storage.members import AuditEntry
    from storage.retention import RETENTION_ACTION, Schedule

    schedule = Schedule.from_settings(settings)
    lines = [
        Html("• " + t("Rejected access requests: kept {period}", period=format_period(schedule.rejected_request_days))),
        Html(
            "• "
            + t(
                "Former members' accounts: kept {period} after they leave",
                period=format_period(schedule.former_member_days),
            )
        ),
        Html(
            "• "
            + t(
                "Check-in comments: kept {period} after the pairing ends",
                period=format_period(schedule.checkin_comment_days),
            )
        ),
        Html("• " + t("Audit log: kept {period}", period=format_period(schedule.audit_days))),
    ]
    last = (
        await session.scalars(
            select(AuditEntry).where(AuditEntry.action == RETENTION_ACTION).order_by(AuditEntry.id.desc()).limit(1)
        )
    ).first()
    if last is None:
        lines.append(esc(_("The retention job has not run yet (it runs every night).")))
    else:
        removed = sum(int(v) for v in (last.detail or {}).values() if isinstance(v, int))
        lines.append(
            Html(
                t("Last run {when}:", when=format_datetime(last.at, tz))
                + " "
                + _count("{n} item removed or cleared", "{n} items removed or cleared", removed)
            )
        )
    return lines


async def stats_command(update: Update, context: BotContext) -> None:
    term = current_term()
    tz = context.services.settings.tz
    async with context.services.sessionmaker() as session:
        figures = await office.stats(session, term, _today(context))
        retention = await retention_lines(session, context.services.settings, tz)
    lines = [bold(_("The partnership in figures")), "", bold(_("Members"))]
    for role in (Role.ADMIN, Role.COORDINATOR, Role.LEAD, Role.MEMBER):
        n = figures.members_by_role.get(role.name.lower(), 0)
        lines.append(Html(f"• {esc(access.role_label(role))}: {n}"))
    lines.append(Html("• " + _count("{n} person in the directory", "{n} people in the directory", figures.people)))
    lines += [
        "",
        bold(_("Action plan, {term}").format(term=term_label(term))),
        Html("• " + _count("{n} progress update", "{n} progress updates", figures.updates_this_term)),
        Html("• " + _count("from {n} person", "from {n} people", figures.updaters_this_term)),
        "",
        bold(_("New heads and buddies")),
        Html(
            "• "
            + _count("{n} appointment without a buddy", "{n} appointments without a buddy", figures.open_appointments)
        ),
    ]
    for status, label in STATS_LABELS.items():
        lines.append(Html("• " + t("{label}: {n}", label=_(label), n=figures.pairings_by_status.get(status, 0))))
    lines += ["", bold(_("Last imports"))]
    for item in figures.imports:
        lines.append(Html("• " + t("{when}: {what}", when=format_datetime(item.at, tz), what=_import_what(item))))
    if not figures.imports:
        lines.append(Html("• " + esc(_("none yet"))))
    if retention:
        lines += ["", bold(_("Data protection")), *retention]
    await reply(update, context, Html("\n".join(lines)))


MANIFEST = Manifest(
    "desk",
    commands=(
        Command(
            "desk",
            desk_command,
            Role.COORDINATOR,
            N_("what is waiting on the office, with a button for each"),
            private=True,
        ),
        Command("stats", stats_command, Role.ADMIN, N_("the partnership in figures"), private=True),
    ),
    buttons=(
        Button(
            "dk",
            desk_button,
            Role.COORDINATOR,
            private=True,
            writes=Writes("the coordinator's desk settings", "self"),
            args="tok",
        ),
        Button(
            "dka",
            desk_decide,
            Role.COORDINATOR,
            private=True,
            args="bigid:id:id",
            writes=Writes("approves an access request"),
        ),
        Button(
            "dkx",
            two_taps(desk_decide, N_("Reject this request?"), N_("Yes, reject")),
            Role.COORDINATOR,
            private=True,
            args="bigid:id:ok|no?",
            writes=Writes("rejects an access request"),
        ),
        # not `once`: the claim (storage/sends.py) already makes any second press, from this message or any other, send
        # nothing; and after a send that reached nobody the same button can try again
        Button(
            "dkr",
            ask_again,
            Role.COORDINATOR,
            private=True,
            args="id",
            writes=Writes("asks a buddy again (once a day per pairing)"),
        ),
        Button("dke", end_pairing, Role.COORDINATOR, private=True, args="id"),
        Button("dkey", once(end_pairing), Role.COORDINATOR, private=True, args="id", writes=Writes("ends a pairing")),
        Button(
            "dks",
            once(stale_button),
            Role.COORDINATOR,
            private=True,
            args="id",
            writes=Writes("asks a member again to confirm their entry (once a day)"),
        ),
    ),
    jobs=(Job("desk-digest", digest_job, daily=DIGEST_AT),),
)
