"""The access gate, welcome and help, access requests and their approval, roles.

The gate runs first (group -1) for every update: it drops what is not for us (edits, channel posts,
bots, commands for other bots, non-members in groups), works out who is talking and binds their locale.
It refuses nothing itself: every handler is registered behind its manifest role (handlers/manifest.py),
so the check runs where dispatch happens.
"""

from __future__ import annotations

import datetime as dt
import html
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType, ParseMode
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

from core import clock
from core.i18n import N_, _, current_locale, format_datetime
from core.reply import answer, edit, is_private, keyboard, reply, send
from core.services import BotContext
from core.text import Html, t
from handlers.manifest import Button, Command, Manifest, TextStep, features_of, guard
from handlers.once import once
from handlers.person_picker import people_named, person_label
from handlers.privacy_notice import notice_html, notice_text, notice_version
from storage import access_requests as requests
from storage import audit
from storage.directory import Person
from storage.members import AccessRequest, Member, Role, coordinator_ids
from storage.membership import revoke, set_role

log = logging.getLogger(__name__)

MAX_REQUEST_TEXT = 300
REQUEST_RENOTIFY = dt.timedelta(hours=1)


async def gate(update: Update, context: BotContext) -> None:
    """Admit the update or end it. Any exception here ends it too: a gate that fails shows nothing.
    What to refuse is decided before any reply is tried, and refusing is left to the handler's own
    guard (handlers/manifest.py), so the handler that runs is the handler that was checked."""
    try:
        admitted = await _admit(update, context)
    except Exception:  # noqa: BLE001 - fail closed, whatever went wrong
        log.exception("the access gate failed; update dropped")
        admitted = False
    if not admitted:
        raise ApplicationHandlerStop
    try:
        await _after_admission(update, context)
    except Exception:  # noqa: BLE001 - notices and menus are courtesies; the update goes on
        log.warning("gate courtesies failed", exc_info=True)


def _for_another_bot(message: Message, bot_username: str) -> bool:
    """`/start@OtherBot`: a command addressed to another bot in the chat."""
    entity = message.entities[0] if message.entities else None
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return False
    command = message.parse_entity(entity)
    _name, at, username = command.partition("@")
    return bool(at) and username.lower() != bot_username.lower()


async def _admit(update: Update, context: BotContext) -> bool:
    # Only what the bot answers: messages, button presses and inline queries. Edits, channel posts and
    # the rest are not requests (an edited message would otherwise run its command a second time).
    if update.message is None and update.callback_query is None and update.inline_query is None:
        return False
    user = update.effective_user
    if user is None or user.is_bot:
        return False
    message = update.message
    if message is not None and message.text and _for_another_bot(message, context.bot.username or ""):
        return False
    member = await context.services.member(user.id)
    chat = update.effective_chat
    if member is None and chat is not None and chat.type != ChatType.PRIVATE:
        return False  # silence towards non-members in groups
    context.member = member
    context.admitted = True
    current_locale.set(member.locale if member and member.locale else None)
    return True


async def _after_admission(update: Update, context: BotContext) -> None:
    features = features_of(context.application)
    expired = await features.expire_conversations(update, context)
    if expired and update.effective_chat is not None:
        await send(
            context.bot,
            update.effective_chat.id,
            t(
                "Your unfinished {what} was not saved: it waited too long for an answer. Please start again.",
                what=", ".join(_(label) for label in expired),
            ),
        )
    chat = update.effective_chat
    if context.member is not None and chat is not None and chat.type == ChatType.PRIVATE:
        # The member's menu follows their role, also after a restart or a change made on the command line.
        menus = context.services.menus
        if menus.get(context.member.telegram_id) != context.role:
            menus[context.member.telegram_id] = context.role
            await features.set_menu(context.bot, context.member.telegram_id, context.role)


ROLE_LABELS = {
    Role.STRANGER: N_("stranger"),
    Role.MEMBER: N_("member"),
    Role.LEAD: N_("action lead"),
    Role.COORDINATOR: N_("coordinator"),
    Role.ADMIN: N_("admin"),
}


def role_label(role: Role | str) -> str:
    """A role's name for people, translated ('action lead', not 'lead')."""
    try:
        return _(ROLE_LABELS[Role.parse(role) if isinstance(role, str) else role])
    except KeyError:
        return str(role)


async def start(update: Update, context: BotContext) -> None:
    if context.member is None:
        user = update.effective_user
        async with context.services.sessionmaker() as session:
            waiting = await requests.pending_for(session, user.id) if user is not None else None
        if waiting is not None:
            await reply(
                update, context, pending_text(waiting, context), keyboard([[(_("Correct my request"), "ar:req")]])
            )
            return
        # The notice comes first: asking for access is agreeing to it (recorded with the request).
        await reply(
            update,
            context,
            Html(
                notice_html(context.services.settings)
                + "\n\n"
                + t(
                    "Hello! I am the partnership's assistant: I help its schools find support, track the action "
                    "plan and welcome new headteachers.\n\nThe directory is for members only. If you work in one of "
                    "our schools, ask for access and a coordinator will approve you."
                )
            ),
            keyboard([[(_("Agree and request access"), "ar:req")]]),
        )
        return
    name = context.member.display_name or (update.effective_user.first_name if update.effective_user else "")
    # "Welcome back" only for someone who has been here before (their persisted chat data says so).
    returning = bool(context.user_data.get("welcomed")) if context.user_data is not None else False
    if context.user_data is not None:
        context.user_data["welcomed"] = True
    greeting = t("Welcome back, {name}.", name=name) if returning else t("Welcome, {name}.", name=name)
    await reply(update, context, greeting + "\n\n" + features_of(context.application).help_text(context.role))


def pending_text(request: AccessRequest, context: BotContext) -> Html:
    return t(
        "Your request for access is with the coordinators since {when}. I will message you here when it is decided.",
        when=format_datetime(request.created_at, context.services.settings.tz),
    )


async def show_help(update: Update, context: BotContext) -> None:
    await reply(update, context, features_of(context.application).help_text(context.role))


async def request_access_button(update: Update, context: BotContext) -> None:
    await answer(update)
    if context.member is not None:
        await edit(update, context, t("You already have access. Send /help to see what you can do."))
        return
    context.user_data["awaiting"] = "access_request"
    context.user_data["privacy_agreed"] = {
        "at": clock.now().isoformat(),
        "notice": notice_version(notice_text(context.services.settings)),
    }
    await edit(
        update,
        context,
        t(
            "Please send your <b>name and school</b> in one message, for example:\n"
            "<i>Jane Smith, Oakfield Primary School</i>"
        ),
    )


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
        pending = (
            await session.scalars(
                select(AccessRequest).where(AccessRequest.telegram_id == user.id, AccessRequest.status == "pending")
            )
        ).first()
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
        agreed = context.user_data.get("privacy_agreed") or {}
        audit.record(
            session,
            user.id,
            "access.request",
            "access_request",
            pending.id,
            name=pending.name,
            school=pending.school,
            privacy_notice=agreed.get("notice"),
            privacy_agreed_at=agreed.get("at"),
        )
        request_id = pending.id
        suggested = (
            await session.get(Person, suggestion_id, options=[selectinload(Person.school)]) if suggestion_id else None
        )
        coordinators = await coordinator_ids(session, context.services.settings.admin_telegram_ids)
    if already_told:
        await reply(
            update,
            context,
            t(
                "Thank you: I have updated your request. The coordinators already have it; "
                "I will message you here when it is decided."
            ),
        )
        return
    await reply(
        update,
        context,
        t("Thank you. A coordinator will look at your request soon; I will message you here when it is decided."),
    )
    lines = [
        t("<b>Access request</b> from {telegram}", telegram=user.full_name),
        t("Name: {name}", name=pending.name),
        t("School: {school}", school=pending.school or "—"),
    ]
    rows: list[list[tuple[str, str]]] = []
    if suggested is not None:
        school_name = suggested.school.name if suggested.school else ""
        lines.append(t("Directory match: {person}, {school}", person=suggested.full_name, school=school_name))
        rows.append([(_("Approve and link"), f"aa:{request_id}:{suggested.id}")])
    rows.append([(_("Approve without link"), f"aa:{request_id}:0"), (_("Reject"), f"ax:{request_id}")])
    copies = []
    for coordinator in coordinators:
        try:
            sent = await send(context.bot, coordinator, Html("\n".join(lines)), keyboard(rows))
            copies.append(requests.Copy(coordinator, sent[-1].message_id))
        except TelegramError as exc:
            log.warning("could not notify coordinator %s: %s", coordinator, exc)
    async with context.services.session() as session:
        await requests.keep_copies(session, request_id, copies)


def decision_text(
    name: str, school: str, approved: bool, decider: str, when: dt.datetime, tz: dt.tzinfo | None
) -> Html:
    """What every coordinator's copy of a request says once it is decided."""
    who = name + (f", {school}" if school else "")
    if approved:
        return t(
            "<b>Access request</b> from {who}: approved by {decider} on {when}.",
            who=who,
            decider=decider or _("a coordinator"),
            when=format_datetime(when, tz),
        )
    return t(
        "<b>Access request</b> from {who}: rejected by {decider} on {when}.",
        who=who,
        decider=decider or _("a coordinator"),
        when=format_datetime(when, tz),
    )


async def edit_copies(context: BotContext, copies: list[requests.Copy], text: str) -> None:
    """Every coordinator's copy of a request now shows the decision (its buttons are gone)."""
    for copy in copies:
        try:
            await context.bot.edit_message_text(
                text, chat_id=copy.chat_id, message_id=copy.message_id, parse_mode=ParseMode.HTML
            )
        except TelegramError as exc:  # deleted, too old to edit …: the decision stands
            log.info("could not update a copy of an access request: %s", exc.__class__.__name__)


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
    await decide_request(update, context, request_id, approve, person_id)


async def decide_request(
    update: Update, context: BotContext, request_id: int, approve: bool, person_id: int, *, show: bool = True
) -> bool:
    """Approve (linked to a directory entry, or not) or reject one request; every coordinator's copy of it is
    edited to show who decided, and the applicant is told. Used by the request's own buttons and by /desk
    (`show=False`: the desk shows the outcome itself)."""
    actor = context.member
    assert actor is not None
    async with context.services.session() as session:
        request = await session.get(AccessRequest, request_id)
        if request is None or request.status != "pending":
            await answer(update, _("That request has already been decided."), alert=True)
            return False
        requests.close(request, "approved" if approve else "rejected", actor.telegram_id)
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
            applicant_role = member.role_enum
        audit.record(
            session,
            actor.telegram_id,
            "access.approve" if approve else "access.reject",
            "access_request",
            request_id,
            applicant=applicant,
            person_id=person_id or None,
        )
        applicant_name = request.name
        decided = decision_text(
            request.name,
            request.school,
            approve,
            actor.display_name or await requests.decider_name(session, actor.telegram_id),
            request.decided_at or clock.now(),
            context.services.settings.tz,
        )
        copies = await requests.copies_of(session, request_id)
    if show:
        await answer(update)
    if approve:
        await tell_role_changed(context, applicant, applicant_role)
        if show:
            await edit(update, context, t("Approved: {name}.", name=applicant_name))
        news = t(
            "Good news: your access has been approved. Send /help to see what "
            "you can do, or just type a name to search."
        )
    else:
        if show:
            await edit(update, context, t("Rejected: {name}.", name=applicant_name))
        news = t(
            "Sorry, your access request was not approved. If you think this is "
            "a mistake, please contact the partnership office."
        )
    await edit_copies(context, _other_copies(update, copies), decided)
    try:
        await send(context.bot, applicant, news)
    except TelegramError as exc:  # blocked the bot, deleted account …: the decision stands
        log.warning("could not tell applicant %s about the decision: %s", applicant, exc)
    return True


def _other_copies(update: Update, copies: list[requests.Copy]) -> list[requests.Copy]:
    """The copies besides the message the decider pressed on (that one already says what happened)."""
    message = update.callback_query.message if update.callback_query else None
    if message is None:
        return copies
    return [c for c in copies if (c.chat_id, c.message_id) != (message.chat.id, message.message_id)]


def _telegram_id(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and int(text) < 2**63 else None


async def grant(update: Update, context: BotContext) -> None:
    """/grant NAME ROLE — admins set roles: the person is picked from the directory, then confirmed.
    (/grant TELEGRAM_ID ROLE still works, for an account not linked to the directory.)"""
    args = context.args or []
    valid = ", ".join(role_label(r) for r in Role if r != Role.STRANGER)
    role = _role_arg(args[-1]) if len(args) >= 2 else None
    if role is None:
        await reply(
            update,
            context,
            t(
                "Usage: /grant NAME ROLE, for example <code>/grant Draycott lead</code> (ROLE is one of {roles}).",
                roles=valid,
            ),
        )
        return
    target = _telegram_id(args[0]) if len(args) == 2 else None
    if target is None and len(args) == 2 and args[0].isdigit():  # "²", or past Telegram's ids
        await reply(
            update,
            context,
            t(
                "Usage: /grant NAME ROLE, for example <code>/grant Draycott lead</code> (ROLE is one of {roles}).",
                roles=valid,
            ),
        )
        return
    if target is not None:
        async with context.services.session() as session:
            await _grant(context, session, [target], role)
        await tell_role_changed(context, target, role)
        await reply(update, context, t("{id} is now {role}.", id=target, role=role_label(role)))
        return
    name = " ".join(args[:-1])
    async with context.services.sessionmaker() as session:
        people = [(p, await _accounts(session, p.id)) for p in people_named(context, name)]
    people = [(p, ids) for p, ids in people if ids]
    if not people:
        await reply(
            update,
            context,
            t(
                "Nobody called “{name}” has an account with me yet. They can send /start "
                "and press Request access; you will see their request on /desk.",
                name=name[:100],
            ),
        )
        return
    code = role.name.lower()
    if len(people) == 1:
        await _confirm_grant(update, context, people[0][0].id, role)
        return
    rows = [[(person_label(p), f"gp:{p.id}:{code}")] for p, _ids in people]
    await reply(update, context, t("Who should be {role}?", role=role_label(role)), keyboard(rows))


def _role_arg(text: str) -> Role | None:
    aliases = {"action-lead": "LEAD", "actionlead": "LEAD", "coord": "COORDINATOR"}
    key = aliases.get(text.lower(), text.upper())
    return Role[key] if key in Role.__members__ and key != "STRANGER" else None


async def _accounts(session: AsyncSession, person_id: int) -> list[int]:
    """The Telegram accounts of a person: members linked to them and pending requests that name them."""
    linked = set(await session.scalars(select(Member.telegram_id).where(Member.person_id == person_id)))
    linked |= set(
        await session.scalars(
            select(AccessRequest.telegram_id).where(
                AccessRequest.status == "pending", AccessRequest.suggested_person_id == person_id
            )
        )
    )
    return sorted(linked)


async def _confirm_grant(update: Update, context: BotContext, person_id: int, role: Role) -> None:
    index = context.services.directory
    entry = index.person(person_id) if index is not None else None
    if entry is None:
        await edit(update, context, t("That person is no longer in the directory. Nothing was changed."))
        return
    code = role.name.lower()
    await edit(
        update,
        context,
        t("Make {name} {role}?", name=person_label(entry), role=role_label(role)),
        keyboard([[(_("Confirm"), f"gy:{person_id}:{code}"), (_("Cancel"), f"gy:{person_id}:x")]]),
    )


def _grant_button_args(data: str | None) -> tuple[int, str] | None:
    parts = (data or "").split(":")
    if len(parts) != 3 or not (parts[1].isascii() and parts[1].isdigit()) or len(parts[1]) > 10:
        return None
    return int(parts[1]), parts[2]


async def grant_pick(update: Update, context: BotContext) -> None:
    parsed = _grant_button_args(update.callback_query.data if update.callback_query else None)
    role = _role_arg(parsed[1]) if parsed else None
    if parsed is None or role is None:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    await answer(update)
    await _confirm_grant(update, context, parsed[0], role)


async def grant_confirm(update: Update, context: BotContext) -> None:
    parsed = _grant_button_args(update.callback_query.data if update.callback_query else None)
    if parsed is None:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    person_id, code = parsed
    await answer(update)
    if code == "x":
        await edit(update, context, t("Cancelled. Nothing was changed."))
        return
    role = _role_arg(code)
    if role is None:
        await edit(update, context, t("That button has expired. Please start again."))
        return
    async with context.services.session() as session:
        person = await session.get(Person, person_id)
        ids = await _accounts(session, person_id) if person is not None else []
        if person is None or not ids:
            await edit(update, context, t("That person has no account with me any more. Nothing was changed."))
            return
        name = person.full_name
        await _grant(context, session, ids, role, person_id=person_id, display_name=name)
    for telegram_id in ids:
        await tell_role_changed(context, telegram_id, role)
    await edit(update, context, t("Done: {name} is now {role}.", name=name, role=role_label(role)))


async def _grant(
    context: BotContext,
    session: AsyncSession,
    ids: list[int],
    role: Role,
    person_id: int | None = None,
    display_name: str = "",
) -> None:
    """Set the role of each account and close any access request it still had waiting (every coordinator's
    copy of it then says who decided)."""
    actor = context.member.telegram_id if context.member else None
    decider = context.member.display_name if context.member else ""
    for telegram_id in ids:
        member = await set_role(session, telegram_id, role, actor, display_name)
        if person_id is not None and member.person_id is None:
            member.person_id = person_id
        for request in await requests.close_pending_of(session, telegram_id, actor):
            if not member.display_name:
                member.display_name = request.name
            text = decision_text(request.name, request.school, True, decider, clock.now(), context.services.settings.tz)
            await edit_copies(context, await requests.copies_of(session, request.id), text)


async def revoke_command(update: Update, context: BotContext) -> None:
    """/revoke TELEGRAM_ID — admins end someone's access."""
    args = context.args or []
    if len(args) != 1 or not (args[0].isascii() and args[0].isdigit()) or int(args[0]) >= 2**63:
        await reply(update, context, t("Usage: /revoke TELEGRAM_ID"))
        return
    target = int(args[0])
    async with context.services.session() as session:
        member = await revoke(session, target, context.member.telegram_id if context.member else None)
    if member is None:
        await reply(update, context, t("{id} has no access to revoke. Nothing was changed.", id=target))
        return
    await tell_role_changed(context, target, Role.STRANGER)
    await reply(update, context, t("{id} no longer has access.", id=target))


async def tell_role_changed(context: BotContext, telegram_id: int, role: Role) -> None:
    """The member's command menu follows their new role at once."""
    context.services.menus[telegram_id] = role
    await features_of(context.application).set_menu(context.bot, telegram_id, role)


async def unknown_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if not is_private(update):
        return  # in a group the command was most likely for someone else
    name = message.text.split(maxsplit=1)[0][1:].split("@", 1)[0] if message and message.text else ""
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
            await context.bot.send_message(
                update.effective_chat.id,
                html.escape(_("Sorry, something went wrong on my side and nothing was changed. Please try again.")),
            )
        except TelegramError:
            log.warning("could not tell the user about the error")


def register_gate(application: Application) -> None:
    application.add_handler(TypeHandler(Update, gate), group=-1)


MANIFEST = Manifest(
    "access",
    commands=(
        Command("start", start, Role.STRANGER, N_("start here")),
        Command("help", show_help, Role.STRANGER, N_("what I can do")),
        Command("grant", grant, Role.ADMIN, N_("set a member's role")),
        Command("revoke", revoke_command, Role.ADMIN, N_("end a member's access")),
    ),
    buttons=(
        Button("ar", request_access_button, Role.STRANGER),
        Button("aa", decide_access, Role.COORDINATOR),
        Button("ax", decide_access, Role.COORDINATOR),
        Button("gp", grant_pick, Role.ADMIN, private=True),
        Button("gy", once(grant_confirm), Role.ADMIN, private=True),
    ),
    text_steps=(TextStep("access_request", receive_access_request, Role.STRANGER),),
)


def register_fallbacks(application: Application) -> None:
    """After every feature: /cancel with nothing to cancel, unknown commands and buttons from old messages.
    They are for anyone the gate admitted, behind the same guard as everything else."""
    application.add_handler(CommandHandler("cancel", guard(cancel, Role.STRANGER, False, "/cancel")))
    application.add_handler(MessageHandler(filters.COMMAND, guard(unknown_command, Role.STRANGER, False, "command")))
    application.add_handler(CallbackQueryHandler(guard(stale_button, Role.STRANGER, False, "button")))
    application.add_error_handler(on_error)
