"""Seeing where the plan stands: /plan (at a glance), /action 1.3 (one action and its history), /mine.

/report [term] (coordinators): the termly report, three files (Word, Excel, the RAG picture) from plans.report.

Callback data: pv:PLAN (choose a plan for /plan)  pa:ACTION (choose an action for /action)
rp:PLAN (choose a plan for /report)  rt:PLAN:TERM (the report for another term; TERM is
core.terms.term_ordinal, three a year, so a button names its term even if the span grows).
"Update" buttons under /mine start the /update conversation (upq:ACTION, handlers.progress_chat).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InputFile, Update
from telegram.constants import ChatAction

from core.i18n import N_, _, format_date, ngettext
from core.reply import answer, edit, keyboard, reply
from core.reply import caption as fit_caption
from core.services import BotContext
from core.terms import (
    LONDON,
    Term,
    current_term,
    parse_term,
    term_from_ordinal,
    term_label,
    term_ordinal,
    to_local_date,
)
from core.text import Html, bold, esc, fill, italic, t
from handlers.manifest import Button, Command, Manifest
from handlers.plan_picker import only_plan_or_ask, plan_buttons
from plans import progress
from plans.labels import action_label
from plans.oneline import match_ref, suggest_refs
from plans.rag import parse_rag_set, rag_emoji, rag_label
from plans.report import TermNotInSpan, make_report
from storage import audit
from storage.members import Role
from storage.plans import Action, ActionOwner, Plan, Section

COMMENT_PREVIEW = 90
REPORT_TERM_BUTTONS = 12  # four years of terms: older ones by name, "/report Autumn 2014"
log = logging.getLogger(__name__)
# At most this many buttons when a reference is in several plans (Telegram allows 100 per keyboard).
PICK_AT_MOST = 20


def _short(text: str, width: int = COMMENT_PREVIEW) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _int(data: str | None) -> int | None:
    try:
        return int((data or "").split(":")[1])
    except (IndexError, ValueError):
        return None


# --------------------------------------------------------------------------------------------------
# /plan
# --------------------------------------------------------------------------------------------------


async def plan_glance(session: AsyncSession, plan: Plan) -> Html:
    """The plan at a glance this term: counts by colour, then each action with its rating."""
    term = current_term()
    statuses = await progress.status_by_action(session, plan.id, term)
    actions = await progress.plan_actions(session, plan.id)
    sections = {s.id: s for s in (await session.scalars(select(Section).where(Section.plan_id == plan.id))).all()}
    shown = {a.id: (statuses[a.id].rag if statuses[a.id].updated else None) for a in actions}
    counts = Counter(shown.values())
    summary = []
    for code in parse_rag_set(plan.rag_set):
        summary.append(f"{rag_emoji(code)} {esc(rag_label(code))} {counts.get(code, 0)}")
    summary.append(f"{rag_emoji(None)} {esc(_('not updated'))} {counts.get(None, 0)}")
    lines = [
        bold(plan.title),
        fill(
            ngettext("{term}: {n} action", "{term}: {n} actions", len(actions)), term=term_label(term), n=len(actions)
        ),
        Html(" · ".join(summary)),
        Html(""),
    ]
    current_section: int | None = -1
    for action in actions:
        if action.section_id != current_section:
            current_section = action.section_id
            section = sections.get(action.section_id or 0)
            if section is not None and section.title:
                lines.append(bold(section.title))
        status = statuses[action.id]
        line = f"{rag_emoji(shown[action.id])} <b>{esc(action.ref)}</b> {esc(_short(action.text, 70))}"
        if status.comment:
            line += f"\n    {italic(_short(status.comment))}"
        lines.append(Html(line))
    lines.append(Html(""))
    lines.append(t("Details: /action {ref} · post progress: /update", ref=actions[0].ref if actions else "1.1"))
    return Html("\n".join(lines))


async def show_plan(update: Update, context: BotContext) -> None:
    async with context.services.session() as session:
        plan = await only_plan_or_ask(update, context, list(await progress.active_plans(session)), "pv")
        if plan is None:
            return
        text = await plan_glance(session, plan)
    await reply(update, context, text)


async def choose_plan(update: Update, context: BotContext) -> None:
    await answer(update)
    plan_id = _int(update.callback_query.data if update.callback_query else None)
    async with context.services.session() as session:
        plan = await session.get(Plan, plan_id or 0)
        if plan is None or not plan.active:
            await edit(update, context, t("That plan is no longer available."))
            return
        text = await plan_glance(session, plan)
    await edit(update, context, text)


# --------------------------------------------------------------------------------------------------
# /action
# --------------------------------------------------------------------------------------------------

_KINDS = {"correction": N_("correction"), "import": N_("from the imported plan")}


async def action_card(session: AsyncSession, action: Action) -> Html:
    """An action with its owners, milestones and full history, newest first."""
    plan = await session.get(Plan, action.plan_id)
    section = await session.get(Section, action.section_id) if action.section_id else None
    owners = (
        await session.scalars(select(ActionOwner).where(ActionOwner.action_id == action.id).order_by(ActionOwner.id))
    ).all()
    term = current_term()
    rows = list(reversed(await progress.action_history(session, action.id)))  # oldest first
    status = progress.status_from_rows(action.id, rows, term)
    lines = [Html(f"<b>{esc(action.ref)}</b> {esc(action.text)}")]
    if plan is not None:
        lines.append(italic(plan.title + (f" · {section.title}" if section and section.title else "")))
    owner_names = [o.name for o in owners] or ([action.owners_text] if action.owners_text else [])
    lines.append(t("Owners: {names}", names=", ".join(owner_names) or _("none yet")))
    lines.append(
        t(
            "Now ({term}): {rating}",
            term=term_label(term),
            rating=rag_emoji(status.rag) + " " + (rag_label(status.rag) or _("not rated")),
        )
    )
    if action.impact:
        lines.append(t("Impact: {text}", text=action.impact))
    if action.kpis:
        lines.append(t("KPIs: {text}", text=action.kpis))
    if action.timeline:
        lines.append(t("Timeline: {text}", text=action.timeline))
    milestones = [m for m in (action.milestones or []) if isinstance(m, dict)]
    if milestones:
        lines.append(bold(_("Milestones")))
        for m in milestones:
            when = ""
            if m.get("date"):
                try:
                    when = format_date(dt.date.fromisoformat(str(m["date"])[:10]))
                except ValueError:
                    when = str(m.get("when") or "")
            else:
                when = str(m.get("when") or "")
            text = str(m.get("text") or "")
            lines.append(Html("• " + " — ".join(esc(part) for part in (text, when) if part)))
    if action.due_date:
        lines.append(t("Due: {date}", date=format_date(action.due_date)))
    lines.append(bold(_("History")))
    replaced_by = {r.replaces_id: r for r in rows if r.replaces_id is not None}
    history = [r for r in reversed(rows) if r.kind != "withdrawal"]
    if not history:
        lines.append(esc(_("No progress posted yet.")))
    for row in history:
        day = format_date(to_local_date(row.created_at, LONDON))
        who = row.author_label or (_("imported") if row.kind == "import" else "")
        head = (
            f"{esc(day)} · {esc(term_label(progress.row_term(row), short=True))} · "
            f"{rag_emoji(row.rag)} {esc(rag_label(row.rag) or _('no change'))}"
        )
        if who:
            head += f" · {esc(who)}"
        if row.kind in _KINDS:
            head += f" ({esc(_(_KINDS[row.kind]))})"
        body = esc(row.comment) if row.comment else Html("")
        later = replaced_by.get(row.id)
        if later is not None:
            note = _("withdrawn") if later.kind == "withdrawal" else _("corrected")
            lines.append(Html(f"<s>{head}</s> — {esc(note)}" + (f"\n    <s>{body}</s>" if body else "")))
        else:
            lines.append(Html(head + (f"\n    {body}" if body else "")))
    return Html("\n".join(lines))


async def show_action(update: Update, context: BotContext) -> None:
    token = " ".join(context.args or []).strip()
    if not token:
        await reply(update, context, t("Which action? For example: <code>/action 1.3</code>. /plan lists them."))
        return
    async with context.services.session() as session:
        plans = list(await progress.active_plans(session))
        found: list[Action] = []
        every: list[str] = []
        for plan in plans:
            refs = await progress.plan_refs(session, plan.id)
            every.extend(r for r in refs if r not in every)
            ref = match_ref(token, refs)
            if ref is not None:
                action = await session.get(Action, refs[ref])
                if action is not None:
                    found.append(action)
        if not found:
            suggestions = suggest_refs(token, every)
            if suggestions:
                await reply(
                    update,
                    context,
                    t("There is no action {ref}. Did you mean {options}?", ref=token, options=" / ".join(suggestions)),
                )
            else:
                await reply(update, context, t("There is no action {ref}. /plan lists the actions.", ref=token))
            return
        person_id = context.member.person_id if context.member else None
        if len(found) > 1 and person_id is not None:
            # The one they own, when they own it in only one plan: theirs is the one they mean.
            owned = set(
                await session.scalars(
                    select(ActionOwner.action_id).where(
                        ActionOwner.person_id == person_id, ActionOwner.action_id.in_([a.id for a in found])
                    )
                )
            )
            if len(owned) == 1:
                found = [a for a in found if a.id in owned]
        if len(found) > 1:
            rows = []
            for action in found[:PICK_AT_MOST]:
                its_plan = await session.get(Plan, action.plan_id)
                rows.append([(f"{its_plan.title[:40] if its_plan else ''} · {action.ref}", f"pa:{action.id}")])
            question = t("{ref} is in more than one plan. Which one?", ref=token)
            if len(found) > PICK_AT_MOST:  # more than a keyboard should hold: the first ones, and the way on
                question = Html(
                    question
                    + "\n"
                    + t("(the first {n} of {total}: /plan shows one plan's actions)", n=PICK_AT_MOST, total=len(found))
                )
            await reply(update, context, question, keyboard(rows))
            return
        text = await action_card(session, found[0])
        markup = keyboard([[(_("Post an update"), f"upq:{found[0].id}")]])
    await reply(update, context, text, markup)


async def choose_action(update: Update, context: BotContext) -> None:
    await answer(update)
    action_id = _int(update.callback_query.data if update.callback_query else None)
    async with context.services.session() as session:
        action = await session.get(Action, action_id or 0)
        if action is None:
            await edit(update, context, t("That action is no longer in the plan."))
            return
        text = await action_card(session, action)
    await edit(update, context, text, keyboard([[(_("Post an update"), f"upq:{action.id}")]]))


# --------------------------------------------------------------------------------------------------
# /mine
# --------------------------------------------------------------------------------------------------


async def show_mine(update: Update, context: BotContext) -> None:
    member = context.member
    assert member is not None
    if member.person_id is None:
        await reply(
            update,
            context,
            t(
                "Your account is not linked to a person in the directory, so I cannot tell "
                "which actions are yours. Please ask a coordinator to link it."
            ),
        )
        return
    async with context.services.session() as session:
        mine = await progress.my_actions(session, member.person_id)
    if not mine:
        await reply(update, context, t("You do not own any actions in the current plans."))
        return
    term = current_term()
    stale = sum(1 for m in mine if m.stale)
    lines = [
        bold(_("Your actions")),
        fill(
            ngettext(
                "{n} action, {stale} without an update this term ({term}).",
                "{n} actions, {stale} without an update this term ({term}).",
                len(mine),
            ),
            n=len(mine),
            stale=stale,
            term=term_label(term),
        ),
        Html(""),
    ]
    rows: list[list[tuple[str, str]]] = []
    plan_id = None
    for item in mine:
        if item.plan.id != plan_id and len({m.plan.id for m in mine}) > 1:
            plan_id = item.plan.id
            lines.append(bold(item.plan.title))
        flags = []
        if item.stale:
            flags.append("⚠️ " + _("no update this term"))
        for day, text in item.overdue:
            flags.append("⏰ " + _("was due {date}").format(date=format_date(day)) + (f": {text}" if text else ""))
        for day, text in item.due:
            if (day, text) not in item.overdue:
                flags.append("📅 " + _("due {date}").format(date=format_date(day)) + (f": {text}" if text else ""))
        rating = item.status.rag if item.status.updated else None
        line = f"{rag_emoji(rating)} <b>{esc(item.action.ref)}</b> {esc(_short(item.action.text, 70))}"
        for flag in flags:
            line += f"\n    {esc(flag)}"
        lines.append(Html(line))
        if item.stale or item.is_due:
            rows.append([(_("Update {ref}").format(ref=action_label(item.action, 40)), f"upq:{item.action.id}")])
    await reply(update, context, Html("\n".join(lines)), keyboard(rows[:20]) if rows else None)


# --------------------------------------------------------------------------------------------------
# /report (coordinators)
# --------------------------------------------------------------------------------------------------


async def report(update: Update, context: BotContext) -> None:
    """/report [term]: the termly report on the plan (asked which when there are several), for this term
    or the one named ("/report Spring 2026")."""
    wanted = " ".join(context.args or []).strip()
    term = parse_term(wanted) if wanted else None
    if wanted and term is None:
        await reply(
            update,
            context,
            t(
                "I could not read {text} as a term. Try <code>/report Spring 2026</code>, "
                "or just /report for the latest term with ratings.",
                text=wanted,
            ),
        )
        return
    async with context.services.session() as session:
        plans = list(await progress.active_plans(session))
    if term is not None and len(plans) > 1:  # the buttons carry the term asked for
        rows = [[(label, f"{data}:{term_ordinal(term)}") for label, data in row] for row in plan_buttons(plans, "rt")]
        await reply(update, context, t("Report on which plan, for {term}?", term=term_label(term)), keyboard(rows))
        return
    plan = await only_plan_or_ask(update, context, plans, "rp", t("Report on which plan?"))
    if plan is not None:
        await _send_report(update, context, plan.id, term)


async def report_plan(update: Update, context: BotContext) -> None:
    """rp:PLAN: the plan chosen; its report for this term (the term buttons come with it)."""
    await answer(update)
    await _send_report(update, context, _int(update.callback_query.data if update.callback_query else None) or 0)


async def report_term(update: Update, context: BotContext) -> None:
    """rt:PLAN:TERM (core.terms.term_ordinal): the report for another term of the plan's span."""
    await answer(update)
    parts = ((update.callback_query.data if update.callback_query else None) or "").split(":")
    try:
        plan_id, term = int(parts[1]), term_from_ordinal(int(parts[2]))
    except (IndexError, ValueError):
        await reply(update, context, t("That button is out of date. Send /report again."))
        return
    await _send_report(update, context, plan_id, term)


def term_buttons(plan_id: int, span: list[Term], shown: Term) -> list[list[tuple[str, str]]]:
    """One button per term of the span (the latest REPORT_TERM_BUTTONS), three to a row; the one shown
    is marked."""
    terms = span[-REPORT_TERM_BUTTONS:]
    buttons = [
        (("• " if term == shown else "") + term_label(term, short=True), f"rt:{plan_id}:{term_ordinal(term)}")
        for term in terms
    ]
    return [buttons[i : i + 3] for i in range(0, len(buttons), 3)]


async def _send_report(update: Update, context: BotContext, plan_id: int, term: Term | None = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    async with context.services.session() as session:
        plan = await session.get(Plan, plan_id)
        if plan is None or not plan.active:
            await reply(update, context, t("That plan is no longer available."))
            return
    await context.bot.send_chat_action(chat.id, ChatAction.UPLOAD_DOCUMENT)
    try:
        # Read in a session of its own and built in the worker process: no transaction stays open
        # while the files are made, and the bot goes on answering others.
        files = await make_report(
            context.services.sessionmaker, plan_id, term, author=context.services.settings.partnership_name
        )
    except TermNotInSpan as exc:
        await reply(
            update,
            context,
            t("{term} is not one of this plan's terms. Choose one:", term=term_label(exc.term)),
            keyboard(term_buttons(plan_id, exc.span, exc.term)),
        )
        return
    except Exception:
        log.exception("report on plan %s failed", plan_id)
        await reply(
            update,
            context,
            t(
                "Sorry, I could not build that report. Nothing was changed; please try "
                "again later or ask an administrator."
            ),
        )
        return
    if files is None:
        await reply(update, context, t("That plan is no longer available."))
        return
    async with context.services.session() as session:
        audit.record(
            session,
            context.member.telegram_id if context.member else None,
            "plan.report",
            "plan",
            plan_id,
            term=files.term.code,
        )
    summary = " · ".join(f"{rag_emoji(c)} {files.counts.get(c, 0)}" for c in files.rag_set)
    summary += f" · {rag_emoji(None)} {files.counts.get('', 0)}"
    caption = t("{plan}: termly report, {term}", plan=_short(files.title, 200), term=term_label(files.term))
    await context.bot.send_document(
        chat.id,
        InputFile(files.docx[1], filename=files.docx[0]),
        caption=fit_caption(t("{caption} (Word)", caption=caption)),
    )
    await context.bot.send_document(
        chat.id,
        InputFile(files.xlsx[1], filename=files.xlsx[0]),
        caption=fit_caption(t("{caption} (Excel)", caption=caption)),
    )
    markup = keyboard(term_buttons(plan_id, files.span, files.term)) if len(files.span) > 1 else None
    photo_caption = Html(f"{caption}\n{esc(summary)}")
    if files.chosen:
        photo_caption = Html(
            photo_caption + "\n" + t("{term} is the latest term with ratings.", term=term_label(files.term))
        )
    if markup is not None:
        photo_caption = Html(photo_caption + "\n" + t("Another term:"))
    await context.bot.send_photo(
        chat.id, InputFile(files.png[1], filename=files.png[0]), caption=fit_caption(photo_caption), reply_markup=markup
    )


MANIFEST = Manifest(
    "plan_view",
    commands=(
        Command("plan", show_plan, Role.MEMBER, N_("the action plan at a glance")),
        Command("action", show_action, Role.MEMBER, N_("one action and its history")),
        Command("mine", show_mine, Role.MEMBER, N_("your actions: due and stale")),
        Command("report", report, Role.COORDINATOR, N_("the termly report: Word, Excel and the RAG picture")),
    ),
    buttons=(
        Button("pv", choose_plan, Role.MEMBER, args="id"),
        Button("rp", report_plan, Role.COORDINATOR, args="id"),
        Button("rt", report_term, Role.COORDINATOR, args="id:id"),
        Button("pa", choose_action, Role.MEMBER, args="id"),
    ),
)
