"""The access gate, welcome and help, access requests and their approval, roles.

The gate runs first (group -1) for every update: it works out who is talking, binds their
locale, and refuses politely whatever their role does not allow (core.policy), so no handler
after it needs to check roles by hand.
"""

from __future__ import annotations

import datetime as dt
import html
import logging

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from core import clock, policy
from core.i18n import N_, _, current_locale
from core.reply import answer, edit, keyboard, reply, send
from core.services import BotContext
from core.text import Html, bold, esc, t
from storage.members import coordinator_ids
from storage import audit
from storage.members import AccessRequest, Member, Role
from storage.directory import Person

log = logging.getLogger(__name__)

MAX_REQUEST_TEXT = 300
REQUEST_RENOTIFY = dt.timedelta(hours=1)

# (command, minimum role, one-line description) for /help; order is the order shown.
HELP: list[tuple[str, Role, str]] = []


def describe(name: str, role: Role, description: str) -> str:
    """Register a command for /help (description is translated at display time) and its minimum role."""
    HELP.append((name, role, description))
    return policy.command(name, role)


async def gate(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None or user.is_bot:
        raise ApplicationHandlerStop
    context.member = await context.services.member(user.id)
    current_locale.set(context.member.locale if context.member and context.member.locale else None)
    awaiting = context.user_data.get("awaiting") if context.user_data is not None else None
    need = policy.need_for(update, awaiting)
    role = context.role
    if need.role is not None and role >= need.role:
        return
    if need.kind == "other":
        raise ApplicationHandlerStop
    if need.kind == "callback":
        if need.role is None:
            await answer(update, _("That button has expired. Please start again."), alert=True)
        else:
            await answer(update, _("Sorry, you can't use that button."), alert=True)
        raise ApplicationHandlerStop
    if role == Role.STRANGER:
        await reply(update, context, t(
            "This is the partnership's assistant for its members. To use it you need access first: "
            "send /start and press <b>Request access</b>."))
    elif need.kind == "document":
        await reply(update, context, t("Only coordinators can send files to import. Nothing was changed."))
    else:
        await reply(update, context, t("Sorry, /{command} is for {role} only.", command=need.key,
                                       role=_role_name(need.role or Role.ADMIN)))
    raise ApplicationHandlerStop


ROLE_LABELS = {Role.STRANGER: N_("stranger"), Role.MEMBER: N_("member"), Role.LEAD: N_("action lead"),
               Role.COORDINATOR: N_("coordinator"), Role.ADMIN: N_("admin")}


def role_label(role: Role | str) -> str:
    """A role's name for people, translated ('action lead', not 'lead')."""
    try:
        return _(ROLE_LABELS[Role.parse(role) if isinstance(role, str) else role])
    except KeyError:
        return str(role)


def _role_name(role: Role) -> str:
    names = {Role.STRANGER: _("everyone"), Role.MEMBER: _("members"), Role.LEAD: _("action leads"),
             Role.COORDINATOR: _("coordinators"), Role.ADMIN: _("admins")}
    return names[role]


async def start(update: Update, context: BotContext) -> None:
    if context.member is None:
        await reply(update, context, t(
            "Hello! I am the partnership's assistant: I help its schools find support, track the action "
            "plan and welcome new headteachers.\n\nThe directory is for members only. If you work in one of "
            "our schools, ask for access and a coordinator will approve you."),
            keyboard([[(_("Request access"), "ar:req")]]))
        return
    name = context.member.display_name or (update.effective_user.first_name if update.effective_user else "")
    await reply(update, context, t("Welcome back, {name}.", name=name) + "\n\n" + help_text(context.role))


def help_text(role: Role) -> Html:
    lines = [bold(_("What I can do for you"))]
    for name, needed, description in HELP:
        if role >= needed:
            lines.append(Html(f"/{esc(name)} — {esc(_(description))}"))
    if role >= Role.MEMBER:
        lines.append(esc(_("Or just type a name, a school or a specialism to search.")))
    return Html("\n".join(lines))


async def show_help(update: Update, context: BotContext) -> None:
    await reply(update, context, help_text(context.role))


async def request_access_button(update: Update, context: BotContext) -> None:
    await answer(update)
    if context.member is not None:
        await edit(update, context, t("You already have access. Send /help to see what you can do."))
        return
    context.user_data["awaiting"] = "access_request"
    await edit(update, context, t(
        "Please send your <b>name and school</b> in one message, for example:\n"
        "<i>Jane Smith, Oakfield Primary School</i>"))


async def receive_access_request(update: Update, context: BotContext) -> None:
    """A stranger's answer to 'name and school': store it and tell the coordinators."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or not message.text:
        return
    context.user_data.pop("awaiting", None)
    text = " ".join(message.text.split())[:MAX_REQUEST_TEXT]
    name, _sep, school = text.partition(",")
    if not name.strip():
        context.user_data["awaiting"] = "access_request"
        await reply(update, context, t("Please send your name and school, separated by a comma."))
        return
    suggestion_id: int | None = None
    index = context.services.directory
    if index is not None:
        hits = [m for m in index.search(name.strip(), limit=3) if m.kind == "person"]
        suggestion_id = hits[0].id if hits else None
    async with context.services.session() as session:
        pending = (await session.scalars(select(AccessRequest).where(
            AccessRequest.telegram_id == user.id, AccessRequest.status == "pending"))).first()
        # Asking again within the hour updates the request without telling the coordinators again,
        # so pressing an old "Request access" button repeatedly cannot flood them.
        already_told = pending is not None and clock.now() - pending.created_at < REQUEST_RENOTIFY
        if pending is None:
            pending = AccessRequest(telegram_id=user.id, telegram_name=user.full_name[:200], name=name.strip()[:200])
            session.add(pending)
        elif not already_told:
            pending.created_at = clock.now()
        pending.name = name.strip()[:200]
        pending.school = school.strip()[:200]
        pending.suggested_person_id = suggestion_id
        await session.flush()
        audit.record(session, user.id, "access.request", "access_request", pending.id, name=pending.name,
                     school=pending.school)
        request_id = pending.id
        suggested = await session.get(Person, suggestion_id, options=[selectinload(Person.school)]) \
            if suggestion_id else None
        coordinators = await coordinator_ids(session, context.services.settings.admin_telegram_ids)
    if already_told:
        await reply(update, context, t("Thank you: I have updated your request. The coordinators already have it; "
                                       "I will message you here when it is decided."))
        return
    await reply(update, context, t("Thank you. A coordinator will look at your request soon; I will message you "
                                   "here when it is decided."))
    lines = [t("<b>Access request</b> from {telegram} (id {id})", telegram=user.full_name, id=user.id),
             t("Name: {name}", name=pending.name), t("School: {school}", school=pending.school or "—")]
    rows: list[list[tuple[str, str]]] = []
    if suggested is not None:
        school_name = suggested.school.name if suggested.school else ""
        lines.append(t("Directory match: {person}, {school}", person=suggested.full_name, school=school_name))
        rows.append([(_("Approve and link"), f"aa:{request_id}:{suggested.id}")])
    rows.append([(_("Approve without link"), f"aa:{request_id}:0"), (_("Reject"), f"ax:{request_id}")])
    for coordinator in coordinators:
        try:
            await send(context.bot, coordinator, Html("\n".join(lines)), keyboard(rows))
        except TelegramError as exc:
            log.warning("could not notify coordinator %s: %s", coordinator, exc)


async def decide_access(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    parts = query.data.split(":")
    approve = parts[0] == "aa"
    try:
        request_id = int(parts[1])
        person_id = int(parts[2]) if approve and len(parts) > 2 else 0
    except (IndexError, ValueError):
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    actor = context.member
    assert actor is not None
    async with context.services.session() as session:
        request = await session.get(AccessRequest, request_id)
        if request is None or request.status != "pending":
            await answer(update, _("That request has already been decided."), alert=True)
            return
        request.status = "approved" if approve else "rejected"
        request.decided_by = actor.telegram_id
        request.decided_at = clock.now()
        applicant = request.telegram_id
        if approve:
            person = await session.get(Person, person_id) if person_id else None
            member = await session.get(Member, applicant)
            if member is None:
                member = Member(telegram_id=applicant, role="member")
                session.add(member)
            member.active = True
            member.display_name = request.name
            member.person_id = person.id if person else None
            member.approved_by = actor.telegram_id
            member.approved_at = clock.now()
            member.updated_by = actor.telegram_id
        audit.record(session, actor.telegram_id, "access.approve" if approve else "access.reject",
                     "access_request", request_id, applicant=applicant, person_id=person_id or None)
        applicant_name = request.name
    await answer(update)
    if approve:
        await edit(update, context, t("Approved: {name}.", name=applicant_name))
        news = t("Good news: your access has been approved. Send /help to see what "
                 "you can do, or just type a name to search.")
    else:
        await edit(update, context, t("Rejected: {name}.", name=applicant_name))
        news = t("Sorry, your access request was not approved. If you think this is "
                 "a mistake, please contact the partnership office.")
    try:
        await send(context.bot, applicant, news)
    except TelegramError as exc:  # blocked the bot, deleted account …: the decision stands
        log.warning("could not tell applicant %s about the decision: %s", applicant, exc)


async def grant(update: Update, context: BotContext) -> None:
    """/grant TELEGRAM_ID ROLE — admins set roles."""
    args = context.args or []
    valid = ", ".join(r.name.lower() for r in Role if r != Role.STRANGER)
    if len(args) != 2 or not (args[0].isascii() and args[0].isdigit()) or int(args[0]) >= 2 ** 63 or \
            args[1].upper() not in Role.__members__ or args[1].upper() == "STRANGER":
        await reply(update, context, t("Usage: /grant TELEGRAM_ID ROLE (one of {roles})", roles=valid))
        return
    target, role = int(args[0]), Role.parse(args[1])
    async with context.services.session() as session:
        await set_role(session, target, role, context.member.telegram_id if context.member else None)
    await reply(update, context, t("{id} is now {role}.", id=target, role=role_label(role)))


async def set_role(session: object, telegram_id: int, role: Role, actor_id: int | None,
                   display_name: str = "") -> Member:
    """Create or update a member with a role (used by /grant and `partnerbot admin grant`)."""
    member = await session.get(Member, telegram_id)  # type: ignore[attr-defined]
    if member is None:
        member = Member(telegram_id=telegram_id, display_name=display_name)
        session.add(member)  # type: ignore[attr-defined]
    member.role = role.name.lower()
    member.active = True
    member.updated_by = actor_id
    audit.record(session, actor_id, "member.role", "member", telegram_id, role=member.role)  # type: ignore[arg-type]
    return member


async def unknown_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    name = policy.command_name(message.text) if message and message.text else ""
    await reply(update, context, t("I don't know /{command}. Send /help to see what I can do.", command=name[:50]))


async def cancel(update: Update, context: BotContext) -> None:
    context.user_data.pop("awaiting", None)
    await reply(update, context, t("Nothing to cancel."))


async def stale_button(update: Update, context: BotContext) -> None:
    await answer(update, _("That button has expired. Please start again."), alert=True)


async def on_error(update: object, context: BotContext) -> None:
    log.error("error handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await answer(update)
            await context.bot.send_message(update.effective_chat.id, html.escape(_(
                "Sorry, something went wrong on my side and nothing was changed. Please try again.")))
        except TelegramError:
            log.warning("could not tell the user about the error")


def register_gate(application: Application) -> None:
    application.add_handler(TypeHandler(Update, gate), group=-1)


def register(application: Application) -> None:
    from handlers import text_router as text

    text.on_awaiting("access_request", receive_access_request)
    application.add_handler(CommandHandler(describe("start", Role.STRANGER, "start here"), start))
    application.add_handler(CommandHandler(describe("help", Role.STRANGER, "what I can do"), show_help))
    application.add_handler(CommandHandler(describe("grant", Role.ADMIN, "set a member's role"), grant))
    application.add_handler(CallbackQueryHandler(request_access_button, pattern=policy.callback("ar", Role.STRANGER)))
    application.add_handler(CallbackQueryHandler(decide_access, pattern=policy.callback("aa", Role.COORDINATOR)))
    application.add_handler(CallbackQueryHandler(decide_access, pattern=policy.callback("ax", Role.COORDINATOR)))


def register_fallbacks(application: Application) -> None:
    policy.command("cancel", Role.STRANGER)
    application.add_handler(CommandHandler("cancel", cancel))
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    application.add_handler(CallbackQueryHandler(stale_button))
    application.add_error_handler(on_error)
