"""Reminders, chasing and digests.

- A daily job at 08:00 Europe/London (`schedule`) runs `run_reminders`: before each delivery-group
  meeting owners whose actions have no update this term get one reminder per plan per term (see
  plans.reminders); none in school holidays, none for members who sent `/reminders off`.
- `/reminders on|off` (members), `/chase` (coordinators: who hasn't updated, and a "Send reminders"
  button), `/digest` (coordinators: the term's changes to the plan's group chat; `/digest here` in a
  group makes that group the plan's digest chat), `/meetings` and `/holidays` (coordinators: the
  dates reminders work from).

Callback data: chs:PLAN (chase: choose plan)  chr:PLAN (send reminders: once a day per plan, storage/sends.py)
               dg:PLAN (post digest: once an hour per plan, storage/sends.py)
               dgh:PLAN (this group gets the digest)
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from core import clock, uk_dates
from core.i18n import N_, _, current_locale, format_date, ngettext
from core.reply import answer, edit, keyboard, reply, send
from core.services import BotContext
from core.terms import LONDON, current_term, term_label, to_local_date
from core.text import Html, bold, esc, fill, italic, t
from handlers import sends as sent_once
from handlers.manifest import Button, Command, Job, Manifest, Writes
from handlers.once import once
from handlers.plan_picker import only_plan_or_ask, plan_buttons
from handlers.two_taps import two_taps
from plans import progress
from plans import reminders as rem
from plans.labels import action_label, rag_text
from storage import audit, sends
from storage.members import Role
from storage.plans import Action, Holiday, Plan, PlanMeeting

log = logging.getLogger(__name__)

DAILY_AT = dt.time(8, 0, tzinfo=LONDON)
MAX_BUTTONS = 8
MAX_ID = 2**31  # meeting and holiday ids are 32-bit integers in PostgreSQL


def _digits(text: str) -> bool:
    """ASCII digits only: "²" passes str.isdigit() but not int()."""
    return text.isascii() and text.isdigit()


def _int(data: str | None) -> int | None:
    try:
        return int((data or "").split(":")[1])
    except (IndexError, ValueError):
        return None


def parse_day(text: str) -> dt.date | None:
    """'27/10/2025', '27-10-2025', '27.10.25' (UK order) or '2025-10-27' (the one UK date parser)."""
    return uk_dates.parse_day(text)


# --------------------------------------------------------------------------------------------------
# Sending reminders
# --------------------------------------------------------------------------------------------------


async def _reminder_text(session: AsyncSession, reminder: rem.Reminder) -> tuple[Html, Any]:
    actions = [a for a in [await session.get(Action, aid) for aid in reminder.action_ids] if a is not None]
    token = current_locale.set(reminder.locale)
    try:
        lines = [bold(_("Progress reminder")), Html("")]
        if reminder.meeting is not None:
            lines.append(
                t(
                    "The delivery group for {plan} meets on {date}.",
                    plan=reminder.plan_title,
                    date=format_date(reminder.meeting),
                )
            )
        lines.append(
            fill(
                ngettext(
                    "This action of yours has no update for {term} yet:",
                    "These actions of yours have no update for {term} yet:",
                    len(actions),
                ),
                term=term_label(reminder.term),
            )
        )
        for action in actions:
            lines.append(Html(f"• <b>{esc(action.ref)}</b> {esc(action_label(action, 80)[len(action.ref) + 1 :])}"))
        lines.append(Html(""))
        lines.append(
            t(
                "Press an action below, or send one line such as <code>/update {ref} amber what has "
                "happened</code>. To stop these reminders: /reminders off",
                ref=actions[0].ref if actions else "1.1",
            )
        )
        rows = [[(_("Update {ref}").format(ref=a.ref), f"upq:{a.id}")] for a in actions[:MAX_BUTTONS]]
    finally:
        current_locale.reset(token)
    return Html("\n".join(lines)), keyboard(rows) if rows else None


async def _deliver(bot: Any, session: AsyncSession, reminder: rem.Reminder) -> bool:
    text, markup = await _reminder_text(session, reminder)
    try:
        await send(bot, reminder.telegram_id, text, markup)
        return True
    except TelegramError as exc:  # blocked the bot, deleted account …: still only one attempt this term
        log.warning("reminder to %s not delivered: %s", reminder.telegram_id, exc)
        return False


async def run_reminders(application: Application, today: dt.date | None = None) -> list[rem.Reminder]:
    """Send today's reminders (the daily job; tests call it with a controlled clock). Returns those sent."""
    services = application.bot_data["services"]
    today = today or to_local_date(clock.now(), LONDON)
    async with services.sessionmaker() as session:
        due = await rem.due_reminders(session, today)
    sent: list[rem.Reminder] = []
    for reminder in due:
        async with services.session() as session:
            if not await rem.claim(session, reminder):
                continue
            meeting = await rem.next_meeting(session, reminder.plan_id, today)
            if meeting is not None and meeting.reminded_at is None:
                meeting.reminded_at = clock.now()
        async with services.sessionmaker() as session:
            if await _deliver(application.bot, session, reminder):
                sent.append(reminder)
    if sent:
        log.info("sent %d progress reminders", len(sent))
    return sent


async def daily_job(context: BotContext) -> None:
    await run_reminders(context.application)


# --------------------------------------------------------------------------------------------------
# /reminders on|off
# --------------------------------------------------------------------------------------------------


async def reminders_command(update: Update, context: BotContext) -> None:
    member = context.member
    assert member is not None
    arg = context.args[0].lower() if context.args else ""
    if arg not in ("on", "off"):
        state = _("on") if member.reminders else _("off")
        await reply(
            update,
            context,
            t("Your progress reminders are {state}. Send /reminders off or /reminders on to change.", state=state),
        )
        return
    async with context.services.session() as session:
        ok = await rem.set_reminders(session, member.telegram_id, arg == "on")
    if not ok:
        await reply(update, context, t("Reminders can only be set for members approved in the bot."))
    elif arg == "on":
        await reply(
            update,
            context,
            t(
                "Reminders are on: I will remind you before delivery-group meetings "
                "when your actions have no update this term."
            ),
        )
    else:
        await reply(update, context, t("Reminders are off. Send /reminders on to have them again."))


# --------------------------------------------------------------------------------------------------
# /chase
# --------------------------------------------------------------------------------------------------


async def chase_text(session: AsyncSession, plan: Plan, sent: int | None = None) -> tuple[Html, Any]:
    """Who hasn't updated, with "Send reminders"; after sending (`sent`), the same list and how many went."""
    term = current_term()
    gaps = await progress.who_hasnt_updated(session, plan.id, term)
    lines = [bold(plan.title), t("Who hasn't updated for {term}:", term=term_label(term)), Html("")]
    if not gaps:
        lines.append(esc(_("Everyone has updated. 🎉")))
        return Html("\n".join(lines)), None
    reachable = 0
    for gap in gaps:
        refs = ", ".join(gap.refs)
        if gap.telegram_ids and gap.reminders:
            note = _("on the bot")
            reachable += 1
        elif gap.telegram_ids:
            note = _("reminders switched off")
        elif gap.person_id is not None:
            note = _("not on the bot")
        else:
            note = _("not matched to the directory")
        lines.append(Html(f"• <b>{esc(gap.name)}</b>: {esc(refs)} — {italic(note)}"))
    markup = None
    if sent is not None:
        lines.append(Html(""))
        lines.append(fill(ngettext("Sent {n} reminder.", "Sent {n} reminders.", sent), n=sent))
    elif reachable:
        lines.append(Html(""))
        lines.append(
            fill(ngettext("I can remind {n} of them here.", "I can remind {n} of them here.", reachable), n=reachable)
        )
        markup = keyboard([[(_("Send reminders"), f"chr:{plan.id}")]])
    return Html("\n".join(lines)), markup


async def chase(update: Update, context: BotContext) -> None:
    async with context.services.session() as session:
        plan = await only_plan_or_ask(update, context, list(await progress.active_plans(session)), "chs")
        if plan is None:
            return
        text, markup = await chase_text(session, plan)
    await reply(update, context, text, markup)


async def chase_plan(update: Update, context: BotContext) -> None:
    await answer(update)
    async with context.services.session() as session:
        plan = await session.get(Plan, _int(update.callback_query.data if update.callback_query else None) or 0)
        if plan is None:
            await edit(update, context, t("That plan is no longer available."))
            return
        text, markup = await chase_text(session, plan)
    await edit(update, context, text, markup)


async def chase_claim(
    session: AsyncSession, plan_id: int, actor: int | None, tz: dt.tzinfo = LONDON
) -> list[rem.Reminder] | None:
    """A coordinator's "Send reminders" (the chat's chr: and the Mini App's desk): everyone on the bot with
    reminders on, whatever the daily job sent before, each recorded (plans.reminders.claim). First ONE conditional
    write claims the chase of this plan for today (storage.sends: once per plan per local day, whoever presses,
    in the chat or the app); a second press raises handlers.sends.AlreadySent (who sent, when) and nothing is
    written or sent. None when the plan is gone; [] (nothing claimed) when nobody is left to remind.
    The caller sends them with `chase_deliver` after its commit."""
    plan = await session.get(Plan, plan_id)
    if plan is None:
        return None
    term = current_term()
    meeting = await rem.next_meeting(session, plan.id, to_local_date(clock.now(), LONDON), within_days=366)
    due = await rem.reminders_for_plan(session, plan, term, meeting.date if meeting else None, include_sent=True)
    if not due:
        return []
    await sent_once.claim_or_raise(session, sends.CHASE, plan.id, actor, tz)
    audit.record(session, actor, "plan.chase", "plan", plan.id, reminders=len(due))
    for reminder in due:
        await rem.claim(session, reminder, actor_id=actor, manual=True)
    return due


async def chase_deliver(bot: Any, services: Any, due: list[rem.Reminder], actor: int | None) -> list[rem.Reminder]:
    """After the commit: the reminders; returns those Telegram refused (blocked, deleted account, network). When
    none got through, the chase is given back (storage.sends.release) so the office can try again today; when
    some did, it stands (they must not be reminded twice) and the presser is told who was not reached."""
    unreached = []
    async with services.sessionmaker() as session:
        for reminder in due:
            if not await _deliver(bot, session, reminder):
                unreached.append(reminder)
    if due and len(unreached) == len(due):
        async with services.session() as session:
            await sends.release(session, sends.CHASE, due[0].plan_id, actor)
            audit.record(session, actor, "plan.chase_failed", "plan", due[0].plan_id)
    return unreached


def unreached_text(due: list[rem.Reminder], unreached: list[rem.Reminder]) -> Html:
    """For the presser: who was not reached, and whether the chase can be tried again today."""
    names = ", ".join(r.name for r in unreached)
    if len(unreached) == len(due):
        return t("Nobody could be reached on Telegram ({names}). Nothing counted: you can send again.", names=names)
    return t("Not reached on Telegram: {names}. Please contact them another way.", names=names)


async def send_chase(update: Update, context: BotContext) -> None:
    """A coordinator's "Send reminders": everyone on the bot with reminders on, once a day per plan."""
    actor = context.member.telegram_id if context.member else None
    plan_id = _int(update.callback_query.data if update.callback_query else None) or 0
    services = context.services
    try:
        async with services.session() as session:
            due = await chase_claim(session, plan_id, actor, services.settings.tz)
    except sent_once.AlreadySent as exc:
        await answer(update, exc.text, alert=True)
        return
    if due is None:
        await answer(update, _("That plan is no longer available."), alert=True)
        return
    unreached = await chase_deliver(context.bot, services, due, actor)
    await answer(update, _("Sent"))
    # The list stays (who was chased), with how many reminders went: the coordinator can act on the rest.
    async with services.sessionmaker() as session:
        plan = await session.get(Plan, plan_id)
        if plan is None:
            return
        text, _markup = await chase_text(session, plan, sent=len(due) - len(unreached))
    if unreached:
        text = Html(text + "\n\n" + unreached_text(due, unreached))
    await edit(update, context, text)


# --------------------------------------------------------------------------------------------------
# /digest
# --------------------------------------------------------------------------------------------------


async def digest_text(session: AsyncSession, plan: Plan) -> Html:
    term = current_term()
    changes = await progress.term_changes(session, plan.id, term)
    lines = [bold(_("{plan}: progress this term ({term})").format(plan=plan.title, term=term_label(term)))]
    if not changes:
        lines.append(esc(_("No updates yet this term.")))
    for action, row in changes:
        day = format_date(to_local_date(row.created_at, LONDON), "d MMM")
        head = (
            f"{esc(rag_text(row.rag))} <b>{esc(action.ref)}</b> {esc(action_label(action, 60)[len(action.ref) + 1 :])}"
        )
        who = f" — {esc(row.author_label)}, {esc(day)}" if row.author_label else f" — {esc(day)}"
        lines.append(Html(head + who + (f"\n    {esc(row.comment)}" if row.comment else "")))
    return Html("\n".join(lines))


async def digest(update: Update, context: BotContext) -> None:
    here = bool(context.args) and (context.args or [""])[0].lower() == "here"
    chat = update.effective_chat
    async with context.services.session() as session:
        plans = list(await progress.active_plans(session))
        if not plans:
            await reply(update, context, t("There is no action plan yet."))
            return
        if here and chat is not None and chat.type == "private":
            await reply(
                update, context, t("Send <code>/digest here</code> in the group that should receive the digest.")
            )
            return
        prefix = "dgh" if here else "dg"
        if len(plans) > 1:
            await reply(update, context, t("Which plan?"), keyboard(plan_buttons(plans, prefix)))
            return
    if here:
        await _set_digest_chat(update, context, plans[0].id)
    else:
        await _post_digest(update, context, plans[0].id)


async def digest_plan(update: Update, context: BotContext) -> None:
    await answer(update)
    plan_id = _int(update.callback_query.data if update.callback_query else None) or 0
    if update.callback_query is not None and (update.callback_query.data or "").startswith("dgh:"):
        await _set_digest_chat(update, context, plan_id)
    else:
        await _post_digest(update, context, plan_id)


async def _set_digest_chat(update: Update, context: BotContext, plan_id: int) -> None:
    chat = update.effective_chat
    assert chat is not None
    async with context.services.session() as session:
        plan = await session.get(Plan, plan_id)
        if plan is None:
            await reply(update, context, t("That plan is no longer available."))
            return
        plan.digest_chat_id = chat.id
        plan.updated_by = context.member.telegram_id if context.member else None
        audit.record(session, plan.updated_by, "plan.digest_chat", "plan", plan.id, chat_id=chat.id)
        title = plan.title
    await reply(
        update,
        context,
        t("This group will receive the progress digest of {plan}. A coordinator sends it with /digest.", plan=title),
    )


async def _post_digest(update: Update, context: BotContext, plan_id: int) -> None:
    """Post the plan's digest to its group: at most once an hour per plan, whoever asks (storage/sends.py: ONE
    conditional write before the post; a second /digest or dg: within the hour is told who posted it and when,
    and the group gets nothing twice). A post Telegram refuses gives the claim back, so it can be tried again."""
    actor = context.member.telegram_id if context.member else None
    try:
        async with context.services.session() as session:
            plan = await session.get(Plan, plan_id)
            if plan is None:
                await reply(update, context, t("That plan is no longer available."))
                return
            text = await digest_text(session, plan)
            target = plan.digest_chat_id
            if target is not None:
                await sent_once.claim_or_raise(session, sends.DIGEST, plan.id, actor, context.services.settings.tz)
            audit.record(session, actor, "plan.digest", "plan", plan.id, chat_id=target)
    except sent_once.AlreadySent as exc:
        await reply(update, context, esc(exc.text))
        return
    if target is None:
        await reply(
            update,
            context,
            text + "\n\n" + t("No group receives this plan's digest yet: send <code>/digest here</code> in the group."),
        )
        return
    try:
        await send(context.bot, target, text)
    except TelegramError as exc:
        async with context.services.session() as session:
            await sends.release(session, sends.DIGEST, plan_id, actor)
        await reply(
            update,
            context,
            t("I could not post to the digest group ({error}). Is the bot still in it?", error=str(exc)),
        )
        return
    chat = update.effective_chat
    if chat is None or chat.id != target:
        await reply(update, context, t("Digest posted to the group."))


# --------------------------------------------------------------------------------------------------
# /meetings and /holidays
# --------------------------------------------------------------------------------------------------


async def meetings(update: Update, context: BotContext) -> None:
    """/meetings — list; /meetings add DD/MM/YYYY [PLAN]; /meetings remove ID. The answer is sent once the
    change has committed."""
    actor = context.member.telegram_id if context.member else None
    async with context.services.session() as session:
        answer_text = await _meetings_change(session, context.args or [], actor)
    markup = keyboard(answer_text.rows) if isinstance(answer_text, WithButtons) and answer_text.rows else None
    await reply(update, context, answer_text, markup)


async def _meetings_change(session: AsyncSession, args: list[str], actor: int | None) -> Html:
    plans = list(await progress.active_plans(session))
    if not plans:
        return t("There is no action plan yet.")
    if args and args[0].lower() == "add":
        checked = await _meeting_to_add(plans, args[1:], to_local_date(clock.now(), LONDON))
        if isinstance(checked, str):
            return Html(checked)
        plan, day, passed = checked
        if passed:
            return WithButtons(
                t("{date} has passed — add the meeting of {plan} anyway?", date=format_date(day), plan=plan.title),
                [[(_("Add it anyway"), f"mtp:{plan.id}:{day:%Y%m%d}")]],
            )
        return await add_meeting(session, plan, day, actor)
    if args and args[0].lower() == "remove" and len(args) >= 2 and _digits(args[1]):
        meeting = await session.get(PlanMeeting, int(args[1])) if int(args[1]) < MAX_ID else None
        if meeting is None:
            return t("There is no meeting {id}.", id=args[1])
        audit.record(session, actor, "plan.meeting_remove", "plan", meeting.plan_id, date=meeting.date.isoformat())
        await session.delete(meeting)
        return t("Meeting removed.")
    if args:
        return _meetings_usage(len(plans))
    return await meetings_list(session, plans)


async def meetings_list(session: AsyncSession, plans: list[Plan]) -> WithButtons:
    """The meetings ahead, plan by plan, each with a Remove button (no numbers to copy)."""
    lines = [bold(_("Delivery-group meetings"))]
    buttons: list[list[tuple[str, str]]] = []
    today = to_local_date(clock.now(), LONDON)
    for number, plan in enumerate(plans, 1):
        lines.append(Html(f"{number}. {bold(plan.title)}"))
        rows = (
            await session.scalars(
                select(PlanMeeting)
                .where(PlanMeeting.plan_id == plan.id, PlanMeeting.date >= today)
                .order_by(PlanMeeting.date)
            )
        ).all()
        for m in rows:
            lines.append(Html(f"    • {esc(format_date(m.date))}"))
            if len(buttons) < MAX_BUTTONS:
                label = _("Remove {date}").format(date=format_date(m.date))
                if len(plans) > 1:
                    label = _("Remove {date} ({plan})").format(date=format_date(m.date), plan=number)
                buttons.append([(label, f"mtr:{m.id}")])
        if not rows:
            lines.append(Html("    " + esc(_("no meetings ahead"))))
    lines.append(_meetings_usage(len(plans)))
    return WithButtons("\n".join(lines), buttons)


async def remove_meeting(update: Update, context: BotContext) -> None:
    """mtr:MEETING — a meeting's Remove button on the /meetings list."""
    meeting_id = _int(update.callback_query.data if update.callback_query else None)
    actor = context.member.telegram_id if context.member else None
    async with context.services.session() as session:
        meeting = await session.get(PlanMeeting, meeting_id) if meeting_id and meeting_id < MAX_ID else None
        if meeting is None:
            await answer(update, _("That meeting has already been removed."), alert=True)
            return
        day = meeting.date
        audit.record(session, actor, "plan.meeting_remove", "plan", meeting.plan_id, date=day.isoformat())
        await session.delete(meeting)
        await session.flush()
        listing = await meetings_list(session, list(await progress.active_plans(session)))
    await answer(update, _("Removed the meeting on {date}.").format(date=format_date(day)))
    await edit(update, context, listing, keyboard(listing.rows) if listing.rows else None)


class WithButtons(Html):
    """An answer that comes with buttons (made inside the transaction, sent after it commits)."""

    rows: list[list[tuple[str, str]]]

    def __new__(cls, text: str, rows: list[list[tuple[str, str]]]) -> WithButtons:
        made = super().__new__(cls, text)
        made.rows = rows
        return made


async def _meeting_to_add(plans: list[Plan], args: list[str], today: dt.date) -> tuple[Plan, dt.date, bool] | str:
    """What `/meetings add DATE [PLAN]` asks for, or what was wrong with it, said plainly."""
    if not args:
        return t("Which date? For example <code>/meetings add 12/03/2026</code>.")
    day = parse_day(args[0])
    if day is None:
        if re.fullmatch(r"\d{1,2}[/.\-]\d{1,2}[/.\-](\d{2}|\d{4})|\d{4}-\d{2}-\d{2}", args[0]):
            return t("{text} is not a date. Nothing was changed.", text=args[0][:20])
        return t(
            "I could not read “{text}” as a date: write it like 12/03/2026. Nothing was changed.", text=args[0][:20]
        )
    if len(args) > 2:
        return _meetings_usage(len(plans))
    if len(args) == 1:
        if len(plans) > 1:
            return t(
                "Which plan? Add its number from /meetings, for example <code>/meetings add {date} 2</code>.",
                date=args[0][:20],
            )
        number = 1
    else:
        if not _digits(args[1]) or len(args[1]) > 6 or not 1 <= int(args[1]) <= len(plans):
            return fill(
                ngettext(
                    "There is no plan {number}: there is {n} plan, number 1.",
                    "There is no plan {number}: the plans are numbered 1 to {n}, as in /meetings.",
                    len(plans),
                ),
                number=args[1][:10],
                n=len(plans),
            )
        number = int(args[1])
    return plans[number - 1], day, day < today


async def add_meeting(session: AsyncSession, plan: Plan, day: dt.date, actor: int | None) -> Html:
    meeting = PlanMeeting(plan_id=plan.id, date=day)
    session.add(meeting)
    await session.flush()
    audit.record(session, actor, "plan.meeting_add", "plan", plan.id, date=day.isoformat())
    return t(
        "Meeting added: {plan}, {date}. Owners without an update this term are reminded in the week before.",
        plan=plan.title,
        date=format_date(day),
    )


async def add_past_meeting(update: Update, context: BotContext) -> None:
    """mtp:PLAN:YYYYMMDD — "add it anyway" for a meeting date that has passed."""
    parts = ((update.callback_query.data if update.callback_query else "") or "").split(":")
    try:
        plan_id, day = int(parts[1]), dt.datetime.strptime(parts[2], "%Y%m%d").date()
    except (IndexError, ValueError):
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    actor = context.member.telegram_id if context.member else None
    async with context.services.session() as session:
        plan = await session.get(Plan, plan_id)
        if plan is None:
            await answer(update, _("That plan is no longer available."), alert=True)
            return
        text = await add_meeting(session, plan, day, actor)
    await answer(update)
    await edit(update, context, text)


def _meetings_usage(plans: int) -> Html:
    if plans > 1:
        return t(
            "Add one with <code>/meetings add 12/03/2026 PLAN</code> (PLAN is the plan's number above); "
            "remove one with its button."
        )
    return t("Add one with <code>/meetings add 12/03/2026</code>; remove one with its button.")


async def holidays_command(update: Update, context: BotContext) -> None:
    """/holidays — list; /holidays add DD/MM/YYYY DD/MM/YYYY [label]; /holidays remove ID. The answer is sent
    once the change has committed."""
    actor = context.member.telegram_id if context.member else None
    async with context.services.session() as session:
        answer_text = await _holidays_change(session, context.args or [], actor)
    markup = keyboard(answer_text.rows) if isinstance(answer_text, WithButtons) and answer_text.rows else None
    await reply(update, context, answer_text, markup)


async def _holidays_change(session: AsyncSession, args: list[str], actor: int | None) -> Html:
    usage = t(
        "Add one with <code>/holidays add 27/10/2025 31/10/2025 Autumn half term</code> (first and last "
        "day); remove one with its button. No reminders go out in holidays."
    )
    if args and args[0].lower() == "add" and len(args) >= 3:
        start, end = parse_day(args[1]), parse_day(args[2])
        for text, day in ((args[1], start), (args[2], end)):
            if day is None:
                return t("{text} is not a date (write it like 27/10/2025). Nothing was changed.", text=text[:20])
        assert start is not None and end is not None
        if end < start:
            return t(
                "The end ({end}) is before the start ({start}). Nothing was changed.",
                end=format_date(end),
                start=format_date(start),
            )
        label = " ".join(args[3:])[:100]
        holiday = Holiday(start=start, end=end, label=label)
        session.add(holiday)
        await session.flush()
        audit.record(
            session,
            actor,
            "holiday.add",
            "holiday",
            holiday.id,
            start=start.isoformat(),
            end=end.isoformat(),
            label=label,
        )
        return t("Holiday added: {start} to {end} {label}", start=format_date(start), end=format_date(end), label=label)
    if args and args[0].lower() == "remove" and len(args) >= 2 and _digits(args[1]):
        old = await session.get(Holiday, int(args[1])) if int(args[1]) < MAX_ID else None
        if old is None:
            return t("There is no old {id}.", id=args[1])
        audit.record(session, actor, "old.remove", "old", old.id)
        await session.delete(old)
        return t("Holiday removed.")
    if args:
        return usage
    lines = [bold(_("School holidays"))]
    buttons: list[list[tuple[str, str]]] = []
    for h in await rem.holidays(session):
        lines.append(Html(f"• {esc(format_date(h.start))} – {esc(format_date(h.end))} {esc(h.label)}"))
        if len(buttons) < MAX_BUTTONS:
            buttons.append(
                [
                    (
                        _("Remove {start} – {end}").format(start=format_date(h.start), end=format_date(h.end)),
                        f"hdr:{h.id}",
                    )
                ]
            )
    if len(lines) == 1:
        lines.append(esc(_("None set.")))
    lines.append(usage)
    return WithButtons("\n".join(lines), buttons)


async def remove_holiday(update: Update, context: BotContext) -> None:
    """hdr:HOLIDAY — a holiday's Remove button on the /holidays list."""
    holiday_id = _int(update.callback_query.data if update.callback_query else None)
    actor = context.member.telegram_id if context.member else None
    async with context.services.session() as session:
        holiday = await session.get(Holiday, holiday_id) if holiday_id and holiday_id < MAX_ID else None
        if holiday is None:
            await answer(update, _("That holiday has already been removed."), alert=True)
            return
        audit.record(session, actor, "holiday.remove", "holiday", holiday.id)
        await session.delete(holiday)
    await answer(update, _("Holiday removed."))
    await edit(update, context, t("Holiday removed. Send /holidays to see the others."))


MANIFEST = Manifest(
    "reminders",
    commands=(
        Command(
            "reminders",
            reminders_command,
            Role.MEMBER,
            N_("switch progress reminders on or off"),
            writes=Writes("the actor's own reminder setting", "self"),
        ),
        Command("chase", chase, Role.COORDINATOR, N_("who hasn't updated the plan")),
        Command("digest", digest, Role.COORDINATOR, N_("post the term's progress to the group")),
        Command(
            "meetings",
            meetings,
            Role.COORDINATOR,
            N_("delivery-group meeting dates"),
            writes=Writes("a plan's meeting dates"),
        ),
        Command(
            "holidays",
            holidays_command,
            Role.COORDINATOR,
            N_("school holidays (no reminders)"),
            writes=Writes("school holidays"),
        ),
    ),
    buttons=(
        Button("chs", chase_plan, Role.COORDINATOR, args="id"),
        # not `once`: the claim (storage/sends.py) makes any second press send nothing, and a chase that
        # reached nobody can be sent again from the same message
        Button(
            "chr",
            send_chase,
            Role.COORDINATOR,
            args="id",
            writes=Writes("records the reminders a chase sends (once a day per plan)"),
        ),
        Button(
            "mtp", once(add_past_meeting), Role.COORDINATOR, args="id:tok", writes=Writes("adds a past meeting date")
        ),
        Button(
            "mtr",
            two_taps(remove_meeting, N_("Remove this meeting?"), N_("Yes, remove")),
            Role.COORDINATOR,
            args="id:ok|no?",
            writes=Writes("removes a meeting date"),
        ),
        Button("hdr", remove_holiday, Role.COORDINATOR, args="id", writes=Writes("removes a holiday")),
        Button(
            "dg",
            digest_plan,
            Role.COORDINATOR,
            args="id",
            writes=Writes("posts the plan's digest to its group (once an hour per plan)"),
        ),
        Button("dgh", digest_plan, Role.COORDINATOR, args="id", writes=Writes("the plan's digest chat")),
    ),
    jobs=(Job("plan-reminders", daily_job, daily=DAILY_AT),),
)
