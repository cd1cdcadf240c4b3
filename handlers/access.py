"""The access gate, welcome and help, access requests and their approval, roles.

The gate runs first (group -1) for every update: it drops what is not for us (edits, channel posts,
bots, commands for other bots, non-members in groups), works out who is talking and binds their locale.
It refuses nothing itself: every handler is registered behind its manifest role (handlers/manifest.py),
so the check runs where dispatch happens.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
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
from core.i18n import N_, _, current_locale, format_date, format_datetime
from core.office import ask_the_office
from core.reply import answer, edit, is_private, keyboard, reply, send
from core.services import BotContext
from core.settings import Settings
from core.text import Html, t
from handlers import account_picker
from handlers.manifest import Button, Callback, Command, Manifest, TextStep, Writes, features_of, guard
from handlers.once import once
from handlers.person_picker import people_named, person_label
from handlers.privacy_notice import notice_html, notice_text, notice_version
from handlers.two_taps import YES, two_taps
from storage import access_requests as requests
from storage import audit, identity
from storage.directory import Person
from storage.members import AccessRequest, Member, Role, coordinator_ids, refresh_username
from storage.membership import LastAdmin, revoke, set_role

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
    if member is not None and member.account and member.username != (user.username or None):
        # A renamed account: its cards and the desk show the @username Telegram shows now.
        try:
            async with context.services.session() as session:
                await refresh_username(session, user.id, user.username)
            member = dataclasses.replace(member, username=user.username or None)
        except SQLAlchemyError as exc:  # cosmetic: the request itself goes on
            log.warning("could not refresh an account's @username: %s", exc.__class__.__name__)
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
        # The notice is in the message (asking for access is agreeing to it, recorded with the request),
        # folded: a few lines, then the button, not 1,500 characters first; a tap opens it.
        await reply(
            update,
            context,
            Html(
                t(
                    "Hello! I am the partnership's assistant: I help its schools find support, track the action "
                    "plan and welcome new headteachers.\n\nThe directory is for members only. If you work in one of "
                    "our schools, ask for access and a coordinator will approve you. Asking means you agree to the "
                    "privacy notice below (tap it to read it all; /privacy shows it again)."
                )
                + "\n\n<blockquote expandable>"
                + notice_html(context.services.settings)
                + "</blockquote>"
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
    """A stranger's answer to 'name and school': store it and tell the coordinators. What they type is a
    claim: it is shown to the coordinators, with the directory entry it resembles, and links nothing."""
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
    name, school = name.strip()[:200], school.strip()[:200]
    suggestion_id: int | None = None
    index = context.services.directory
    if index is not None:
        hits = [m for m in index.search(name, limit=3) if m.kind == "person"]
        suggestion_id = hits[0].id if hits else None
    stale: list[requests.Copy] = []
    async with context.services.session() as session:
        pending = await requests.pending_for(session, user.id)
        changed = pending is not None and (pending.name, pending.school) != (name, school)
        # Asking again unchanged within the hour updates nothing and tells nobody, so pressing an old
        # "Request access" button repeatedly cannot flood the coordinators. A correction is news: the old
        # copies say so (their buttons go) and the new version is sent, up to MAX_CORRECTIONS times.
        already_told = (
            pending is not None and not changed and clock.now() - pending.created_at < REQUEST_RENOTIFY
        ) or (pending is not None and changed and pending.version > MAX_CORRECTIONS)
        if pending is None:
            pending = AccessRequest(telegram_id=user.id, telegram_name=user.full_name[:200], name=name, version=1)
            session.add(pending)
        else:
            if changed:
                pending.version += 1
            if not already_told:
                pending.created_at = clock.now()
                stale = await requests.forget_copies(session, pending.id)
        pending.telegram_name = user.full_name[:200]
        pending.telegram_username = (user.username or None) and user.username[:64]
        pending.name = name
        pending.school = school
        pending.suggested_person_id = suggestion_id
        await session.flush()
        agreed = context.user_data.get("privacy_agreed") or {}
        audit.record(
            session,
            user.id,
            "access.correct" if changed else "access.request",
            "access_request",
            pending.id,
            name=pending.name,
            school=pending.school,
            version=pending.version,
            privacy_notice=agreed.get("notice"),
            privacy_agreed_at=agreed.get("at"),
        )
        request_id = pending.id
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
    await edit_copies(
        context,
        stale,
        t("<b>Access request</b>: this request has changed; see the new one.")
        if changed
        else t("<b>Access request</b>: sent again; see the new message."),
    )
    await notify_coordinators(context, request_id)


MAX_CORRECTIONS = 5


def account_line(account: identity.Account | None, telegram_id: int) -> Html:
    """An account as an admin or coordinator must see it before deciding: the name it gave, @username, the
    directory entry it is linked to (or none), its role and whether its access was revoked."""
    if account is None:
        return t("Telegram id {id}: no account with me yet.", id=telegram_id)
    who = account.display_name or _("no name given")
    if account.username:
        who = f"{who} (@{account.username})"
    linked = (
        t("linked to {person}, {school}", person=account.person_name, school=account.school_name or "—")
        if account.person_id
        else t("not linked to a directory entry")
    )
    state = role_label(account.role) if account.active else _("access revoked")
    return t("{who}, Telegram id {id}: {linked}; {state}.", who=who, id=telegram_id, linked=linked, state=state)


async def history_lines(session: AsyncSession, telegram_id: int, tz: dt.tzinfo | None) -> list[Html]:
    """'This account was coordinator until 7 Dec 2026, revoked by …': what re-admitting it means."""
    return [
        t(
            "This account was {role} until {when}, revoked by {who}.",
            role=role_label(past.role),
            when=format_date(past.until.astimezone(tz).date() if tz else past.until.date()),
            who=past.by or _("a coordinator"),
        )
        for past in await identity.past_roles(session, telegram_id)
    ]


async def request_message(
    session: AsyncSession, context: BotContext, request: AccessRequest
) -> tuple[Html, list[list[tuple[str, str]]]]:
    """The access request as every coordinator is shown it, with buttons naming the version shown."""
    tz = context.services.settings.tz
    telegram = request.telegram_name + (f" (@{request.telegram_username})" if request.telegram_username else "")
    lines = [
        t("<b>Access request</b> from {telegram}", telegram=telegram),
        t("Name: {name}", name=request.name),
        t("School: {school}", school=request.school or "—"),
    ]
    if request.version > 1:
        lines.append(t("(corrected by the applicant: version {n})", n=request.version))
    lines += await history_lines(session, request.telegram_id, tz)
    rows: list[list[tuple[str, str]]] = []
    ref = f"{request.id}:{request.version}"
    suggested = (
        await session.get(Person, request.suggested_person_id, options=[selectinload(Person.school)])
        if request.suggested_person_id
        else None
    )
    if suggested is not None:
        school_name = suggested.school.name if suggested.school else ""
        lines.append(t("Directory match: {person}, {school}", person=suggested.full_name, school=school_name))
        other = await identity.active_account_of(session, suggested.id, besides=request.telegram_id)
        if other is not None:
            lines.append(
                t(
                    "Already linked to another account since {when}: {account}",
                    when=format_date(other.linked_at.date()) if other.linked_at else "—",
                    account=account_line(other, other.telegram_id),
                )
            )
        rows.append([(_("Approve and link"), f"aa:{ref}:{suggested.id}")])
    rows.append([(_("Approve without link"), f"aa:{ref}:0"), (_("Reject"), f"ax:{ref}")])
    return Html("\n".join(lines)), rows


async def notify_coordinators(context: BotContext, request_id: int) -> None:
    async with context.services.sessionmaker() as session:
        request = await session.get(AccessRequest, request_id)
        if request is None or request.status != "pending":
            return
        text, rows = await request_message(session, context, request)
        coordinators = await coordinator_ids(session, context.services.settings.admin_telegram_ids)
    copies = []
    for coordinator in coordinators:
        try:
            sent = await send(context.bot, coordinator, text, keyboard(rows))
            copies.append(requests.Copy(coordinator, sent[-1].message_id))
        except TelegramError as exc:
            log.warning("could not notify coordinator %s: %s", coordinator, exc)
    async with context.services.session() as session:
        await requests.keep_copies(session, request_id, copies)


def applicant_news(approved: bool, settings: Settings) -> Html:
    """What the applicant is told of the decision, in the chat and from the Mini App's desk alike."""
    if approved:
        return t(
            "Good news: your access has been approved. Send /help to see what "
            "you can do, or just type a name to search."
        )
    return Html(
        t("Sorry, your access request was not approved. If you think this is a mistake:")
        + " "
        + ask_the_office(settings)
    )


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


def decision_args(data: str, size: int) -> list[int] | None:
    """The ids after the prefix: exactly `size` of them, each a plain number in range (a reject's second tap
    carries the word "ok" after them: handlers/two_taps.py)."""
    parts = data.split(":")[1:]
    if parts and parts[-1] == YES:
        parts = parts[:-1]
    if len(parts) != size or not all(p.isascii() and p.isdigit() and len(p) < 19 for p in parts):
        return None
    return [int(p) for p in parts]


async def decide_access(update: Update, context: BotContext) -> None:
    """aa:REQUEST:VERSION:PERSON (approve; 0 = without link), aar:… (approve and replace another account's
    link, after being shown it), ax:REQUEST:VERSION (reject)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    prefix = query.data.split(":", 1)[0]
    approve = prefix in ("aa", "aar")
    ids = decision_args(query.data, 3 if approve else 2)
    if ids is None:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    await decide_request(update, context, ids[0], ids[1], approve, ids[2] if approve else 0, replace=prefix == "aar")


async def decide_request(
    update: Update,
    context: BotContext,
    request_id: int,
    version: int,
    approve: bool,
    person_id: int,
    *,
    replace: bool = False,
    show: bool = True,
) -> bool:
    """Approve (linked to a directory entry, or not) or reject the version of a request the coordinator saw
    (storage/access_requests.decide: one conditional write). Only the press that decided edits every
    coordinator's copy and tells the applicant; any other press is told what happened. Used by the request's
    own buttons and by /desk (`show=False`: the desk shows the outcome itself)."""
    try:
        decision, decided, copies, applicant_role, by = await _decide(
            context, request_id, version, approve, person_id, replace
        )
    except (identity.LinkConflict, identity.IdentityError, IntegrityError):
        # Linked to another account (or gone) between what was shown and the press: nothing was written.
        await answer(update, _("That entry changed meanwhile. Nothing was changed: please look again."), alert=True)
        return False
    return await _show_decision(
        update, context, decision, decided, copies, applicant_role, by, (version, approve, person_id), show=show
    )


async def _decide(
    context: BotContext, request_id: int, version: int, approve: bool, person_id: int, replace: bool
) -> tuple[requests.Decision, Html, list[requests.Copy], Role, str]:
    actor = context.member
    assert actor is not None
    tz = context.services.settings.tz
    decided, copies, applicant_role, by = Html(""), [], Role.MEMBER, ""
    async with context.services.session() as session:
        decision = await requests.decide(session, request_id, version, actor.telegram_id, approve, person_id, replace)
        if decision.outcome == "decided":
            decided = decision_text(
                decision.name,
                decision.school,
                approve,
                actor.display_name or await requests.decider_name(session, actor.telegram_id),
                decision.decided_at or clock.now(),
                tz,
            )
            copies = await requests.copies_of(session, request_id)
            if approve:
                row = await session.get(Member, decision.applicant)
                applicant_role = row.role_enum if row is not None else Role.MEMBER
        elif decision.outcome == "decided-elsewhere":
            by = await requests.decider_name(session, decision.decided_by)
    return decision, decided, copies, applicant_role, by


async def _show_decision(
    update: Update,
    context: BotContext,
    decision: requests.Decision,
    decided: Html,
    copies: list[requests.Copy],
    applicant_role: Role,
    by: str,
    pressed: tuple[int, bool, int],
    *,
    show: bool,
) -> bool:
    """Tell the presser what their press did; only the deciding press tells the others and the applicant.
    `pressed`: the version, approve or not, and the person of the button pressed."""
    tz = context.services.settings.tz
    request_id = decision.request_id
    version, approve, person_id = pressed
    if decision.outcome == "missing":
        await answer(update, _("That request is no longer waiting."), alert=True)
        return False
    if decision.outcome == "changed":
        await answer(update, _("This request has changed: see the new one."), alert=True)
        return False
    if decision.outcome == "decided-elsewhere":
        verdict = _("approved") if decision.status == "approved" else _("rejected")
        await answer(
            update,
            _("That request has already been decided: {verdict} by {who} on {when}.").format(
                verdict=verdict,
                who=by or _("a coordinator"),
                when=format_datetime(decision.decided_at, tz) if decision.decided_at else "—",
            ),
            alert=True,
        )
        return False
    if decision.outcome == "conflict":
        other = decision.other
        assert other is not None
        await answer(update)
        ref = f"{request_id}:{version}"
        await edit(
            update,
            context,
            Html(
                t(
                    "{person} is already linked to another account since {when}: {account}",
                    person=other.person_name,
                    when=format_date(other.linked_at.date()) if other.linked_at else "—",
                    account=account_line(other, other.telegram_id),
                )
                + "\n\n"
                + t("Replace that link with the account asking now? The other account keeps its access, unlinked.")
            ),
            keyboard(
                [
                    [(_("Replace the link and approve"), f"aar:{ref}:{person_id}")],
                    [(_("Approve without link"), f"aa:{ref}:0"), (_("Reject"), f"ax:{ref}")],
                ]
            ),
        )
        return False
    applicant = decision.applicant
    if show:
        await answer(update)
    if approve:
        await tell_role_changed(context, applicant, applicant_role)
        if decision.replaced is not None:
            await tell_role_changed(context, decision.replaced.telegram_id, Role.parse(decision.replaced.role))
        if show:
            await edit(update, context, t("Approved: {name}.", name=decision.name))
    elif show:
        await edit(update, context, t("Rejected: {name}.", name=decision.name))
    news = applicant_news(approve, context.services.settings)
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


# --- /grant, /revoke, /link, /unlink: a name or an id, the exact account shown, then Confirm ---------
#
# One flow for the four (`pick_account`): what was typed resolves (handlers/account_picker.py) to the accounts
# that qualify for the command. None is said politely; one is shown on its card with Confirm; several are
# listed, each with a "Telegram id …" button (the id in the data, never a name) that opens its card. Only a
# card's Confirm writes, once (handlers/once.py), as one conditional write.


@dataclass(frozen=True)
class Picker:
    """One command's part in the shared flow."""

    eligible: account_picker.Eligible
    no_id: Callable[[int], Html]  # an id whose account does not qualify
    question: Html = Html("")  # above the account's card
    prefix: str = ""  # the card's buttons: Confirm PREFIX:ID:WORD, Cancel PREFIX:0:x (the list's Cancel too)
    word: str = "y"
    which: Html = Html("")  # the question above several accounts
    pick: Callable[[int], str] | None = None  # a listed account's button data; None: ids only (/link)
    no_name: Callable[[str], Html] = lambda name: _nobody(name)  # a name that reaches no qualifying account
    then: Callable[[Update, BotContext, int], Awaitable[None]] | None = None  # instead of the card (/link)


async def _show(
    update: Update, context: BotContext, picker: Picker, telegram_id: int, account: identity.Account | None
) -> None:
    """The one account's card (or, for /link, the directory entry to link it to)."""
    if picker.then is not None:
        await picker.then(update, context, telegram_id)
        return
    confirm = (_("Confirm"), f"{picker.prefix}:{telegram_id}:{picker.word}")
    await confirm_card(update, context, picker.question, telegram_id, account, confirm, f"{picker.prefix}:0:x")


async def pick_account(update: Update, context: BotContext, picker: Picker, text: str, usage: Html) -> None:
    """A typed target: the usage, a polite "nobody", the one account's card, or the "which one?" list."""
    target = account_picker.parse_target(text)
    if target is None or (target.telegram_id is None and picker.pick is None):
        await reply(update, context, usage)
        return
    async with context.services.sessionmaker() as session:
        cards = await account_picker.candidates(session, context.services.directory, target, picker.eligible)
    if not cards:
        number = target.telegram_id
        await reply(update, context, picker.no_id(number) if number is not None else picker.no_name(target.name))
        return
    if len(cards) == 1 or picker.pick is None:
        await _show(update, context, picker, *cards[0])
        return
    lines = [picker.which, *(Html("• " + account_line(account, tid)) for tid, account in cards)]
    rows: list[Sequence[tuple[str, str]]] = [
        [(_("Telegram id {id}").format(id=tid), picker.pick(tid))] for tid, _account in cards
    ]
    rows.append([(_("Cancel"), f"{picker.prefix}:0:x")])
    await reply(update, context, Html("\n".join(lines)), keyboard(rows))


async def account_picked(update: Update, context: BotContext, picker: Picker, telegram_id: int) -> None:
    """A "Telegram id …" button of the list: that account's card, if it still qualifies."""
    await answer(update)
    async with context.services.sessionmaker() as session:
        account = await identity.account(session, telegram_id)
    if not picker.eligible(account):
        await edit(update, context, picker.no_id(telegram_id))
        return
    await _show(update, context, picker, telegram_id, account)


async def confirm_card(
    update: Update,
    context: BotContext,
    question: Html,
    telegram_id: int,
    account: identity.Account | None,
    confirm: tuple[str, str],
    cancel: str,
    more: Sequence[Html] = (),
) -> None:
    """The account as the decider must see it before deciding (account_line), under the command's question,
    with whatever else they must know (a conflict), then Confirm (or Replace) and Cancel."""
    lines = [question, account_line(account, telegram_id), *more]
    await edit(update, context, Html("\n".join(lines)), keyboard([[confirm, (_("Cancel"), cancel)]]))


def _account_press(update: Update) -> tuple[int, str] | None:
    """PREFIX:TELEGRAM_ID:WORD (gp, gy, rv, ul) as (id, word); a list's Cancel carries no account: (0, "x")."""
    data = update.callback_query.data if update.callback_query else None
    parts = (data or "").split(":")
    if len(parts) != 3:
        return None
    if parts[1:] == ["0", "x"]:
        return 0, "x"
    number = account_picker.telegram_id(parts[1])
    return (number, parts[2]) if number is not None else None


async def _confirmed(update: Update, context: BotContext, valid: Callable[[str], bool]) -> tuple[int, str] | None:
    """A card's press, answered: (id, word) for Confirm; None when that was all (Cancel, or a button that
    makes no sense: told it expired)."""
    parsed = _account_press(update)
    if parsed is not None and parsed[1] == "x":
        await answer(update)
        await edit(update, context, t("Cancelled. Nothing was changed."))
        return None
    if parsed is None or not valid(parsed[1]):
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return None
    await answer(update)
    return parsed


def _picks_or(confirm: Callback, picker: Callable[[], Picker]) -> Callback:
    """PREFIX:ID:p is a pick from the list (it writes nothing, so it may be pressed again); any other press is
    the card's Confirm or Cancel, usable once."""
    confirm_once = once(confirm)

    @functools.wraps(confirm)
    async def press(update: Update, context: BotContext) -> None:
        parsed = _account_press(update)
        if parsed is not None and parsed[1] == "p":
            await account_picked(update, context, picker(), parsed[0])
            return
        await confirm_once(update, context)

    return press


def _nobody(name: str) -> Html:
    return t(
        "No active account is linked to anyone called “{name}”. A name finds only accounts a coordinator has "
        "linked to a directory entry: use the Telegram id (shown on /desk, Accounts) or link the account first "
        "with /link.",
        name=name[:100],
    )


def _grant_usage() -> Html:
    valid = ", ".join(role_label(r) for r in Role if r != Role.STRANGER)
    return t(
        "Usage: /grant NAME ROLE or /grant TELEGRAM_ID ROLE, for example <code>/grant Draycott lead</code> "
        "(ROLE is one of {roles}).",
        roles=valid,
    )


def _role_arg(text: str) -> Role | None:
    aliases = {"action-lead": "LEAD", "actionlead": "LEAD", "coord": "COORDINATOR"}
    key = aliases.get(text.lower(), text.upper())
    return Role[key] if key in Role.__members__ and key != "STRANGER" else None


def _grant_picker(role: Role) -> Picker:
    code = role.name.lower()
    return Picker(
        account_picker.anyone,  # an id that never used the bot too: granting creates the account
        no_id=lambda telegram_id: _grant_usage(),  # never said: every id qualifies
        question=t("Make this account {role}?", role=role_label(role)),
        prefix="gy",
        word=code,
        which=t("Which account should be {role}?", role=role_label(role)),
        pick=lambda telegram_id: f"gp:{telegram_id}:{code}",
    )


async def grant(update: Update, context: BotContext) -> None:
    """/grant NAME|ID ROLE — admins set roles, on the account shown, after Confirm."""
    args = context.args or []
    role = _role_arg(args[-1]) if len(args) >= 2 else None
    if role is None:
        await reply(update, context, _grant_usage())
        return
    await pick_account(update, context, _grant_picker(role), " ".join(args[:-1]), _grant_usage())


async def grant_pick(update: Update, context: BotContext) -> None:
    """gp:ID:ROLE, an account picked from /grant's list: its card."""
    parsed = _account_press(update)
    role = _role_arg(parsed[1]) if parsed else None
    if parsed is None or role is None:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    await account_picked(update, context, _grant_picker(role), parsed[0])


async def grant_confirm(update: Update, context: BotContext) -> None:
    parsed = await _confirmed(update, context, lambda code: _role_arg(code) is not None)
    if parsed is None:
        return
    telegram_id, code = parsed
    role = _role_arg(code)
    assert role is not None
    try:
        async with context.services.session() as session:
            await _grant(context, session, telegram_id, role)
            account = await identity.account(session, telegram_id)
    except LastAdmin:
        await edit(update, context, t("This is the last admin: make someone else admin first. Nothing was changed."))
        return
    await tell_role_changed(context, telegram_id, role)
    await edit(update, context, Html(t("Done:") + " " + account_line(account, telegram_id)))


async def _grant(context: BotContext, session: AsyncSession, telegram_id: int, role: Role) -> None:
    """Set the account's role and close any access request it still had waiting (every coordinator's copy
    of it then says who decided). Links nothing."""
    actor = context.member.telegram_id if context.member else None
    decider = context.member.display_name if context.member else ""
    member = await set_role(
        session, telegram_id, role, actor, settings_admins=context.services.settings.admin_telegram_ids
    )
    for request in await requests.close_pending_of(session, telegram_id, actor):
        if not member.display_name:
            member.display_name = request.name
        if request.telegram_username and not member.username:
            member.username = request.telegram_username
        text = decision_text(request.name, request.school, True, decider, clock.now(), context.services.settings.tz)
        await edit_copies(context, await requests.copies_of(session, request.id), text)


def _no_access(telegram_id: int) -> Html:
    return t("{id} has no access to revoke. Nothing was changed.", id=telegram_id)


def _revoke_picker() -> Picker:
    return Picker(
        account_picker.active,
        no_id=_no_access,
        question=t("End the access of this account? Its role and its link to the directory end."),
        prefix="rv",
        which=t("Which account should lose its access?"),
        pick=lambda telegram_id: f"rv:{telegram_id}:p",
    )


async def revoke_command(update: Update, context: BotContext) -> None:
    """/revoke NAME|ID — admins end someone's access (role and link), on the account shown, after Confirm."""
    usage = t("Usage: /revoke NAME or /revoke TELEGRAM_ID")
    await pick_account(update, context, _revoke_picker(), " ".join(context.args or []), usage)


async def revoke_confirm(update: Update, context: BotContext) -> None:
    parsed = await _confirmed(update, context, lambda word: word == "y")
    if parsed is None:
        return
    target = parsed[0]
    try:
        async with context.services.session() as session:
            account = await identity.account(session, target)
            member = await revoke(
                session,
                target,
                context.member.telegram_id if context.member else None,
                context.services.settings.admin_telegram_ids,
            )
    except LastAdmin:
        await edit(update, context, t("This is the last admin: make someone else admin first. Nothing was changed."))
        return
    if member is None:
        await edit(update, context, _no_access(target))
        return
    await tell_role_changed(context, target, Role.STRANGER)
    await edit(
        update,
        context,
        Html(
            t("Access ended:") + " " + account_line(account, target) + "\n" + t("{id} no longer has access.", id=target)
        ),
    )


def _link_usage() -> Html:
    return t(
        "Usage: /link TELEGRAM_ID NAME, for example <code>/link 123456789 Draycott</code>. "
        "The accounts waiting for a link, with their ids, are on /desk (Accounts)."
    )


def _not_active(telegram_id: int) -> Html:
    return t("Telegram id {id} is not an active member. Nothing was changed.", id=telegram_id)


def _link_picker(name: str) -> Picker:
    """The account by its id only (a name never reaches an account to link), then the entry by `name`."""

    async def entry(update: Update, context: BotContext, telegram_id: int) -> None:
        people = people_named(context, name)
        if not people:
            await reply(update, context, t("Nobody called “{name}” is in the directory.", name=name[:100]))
            return
        if len(people) == 1:
            await _confirm_link(update, context, telegram_id, people[0].id)
            return
        rows = [[(person_label(p)[:60], f"lk:{telegram_id}:{p.id}:p")] for p in people]
        await reply(update, context, t("Which directory entry is it?"), keyboard(rows))

    return Picker(account_picker.active, no_id=_not_active, then=entry)


async def link_command(update: Update, context: BotContext) -> None:
    """/link TELEGRAM_ID NAME — a coordinator links an account to a directory entry, after seeing both and any
    conflict. /unlink NAME|TELEGRAM_ID ends a link."""
    args = context.args or []
    name = " ".join(args[1:])
    if not name.strip():
        await reply(update, context, _link_usage())
        return
    await pick_account(update, context, _link_picker(name), args[0], _link_usage())


async def _confirm_link(update: Update, context: BotContext, telegram_id: int, person_id: int) -> None:
    async with context.services.sessionmaker() as session:
        account = await identity.account(session, telegram_id)
        person = await session.get(Person, person_id, options=[selectinload(Person.school)])
        other = await identity.active_account_of(session, person_id, besides=telegram_id) if person else None
    if not account_picker.active(account):
        await edit(update, context, _not_active(telegram_id))
        return
    if person is None:
        await edit(update, context, t("That person is no longer in the directory. Nothing was changed."))
        return
    question = t(
        "Link this account to {person}, {school}?",
        person=person.full_name,
        school=person.school.name if person.school else "—",
    )
    confirm, more = (_("Confirm"), f"lk:{telegram_id}:{person_id}:y"), []
    if other is not None:
        more = [
            t(
                "Already linked to another account since {when}: {account}",
                when=format_date(other.linked_at.date()) if other.linked_at else "—",
                account=account_line(other, other.telegram_id),
            ),
            t("Replace? The other account keeps its access, unlinked."),
        ]
        confirm = (_("Replace"), f"lk:{telegram_id}:{person_id}:r")
    await confirm_card(
        update, context, question, telegram_id, account, confirm, f"lk:{telegram_id}:{person_id}:x", more
    )


async def link_button(update: Update, context: BotContext) -> None:
    """lk:ACCOUNT:PERSON:p (picked: show the confirmation) | :y (link) | :r (replace the other link) | :x."""
    parts = ((update.callback_query.data if update.callback_query else "") or "").split(":")
    ids = decision_args(":".join(parts[:3]), 2) if len(parts) == 4 else None
    if ids is None or parts[3] not in ("p", "y", "r", "x"):
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    telegram_id, person_id = ids
    await answer(update)
    if parts[3] == "x":
        await edit(update, context, t("Cancelled. Nothing was changed."))
        return
    if parts[3] == "p":
        await _confirm_link(update, context, telegram_id, person_id)
        return
    actor = context.member.telegram_id if context.member else None
    try:
        async with context.services.session() as session:
            replaced = await identity.link(
                session, telegram_id, person_id, actor, replace=parts[3] == "r", already_ok=False
            )
            account = await identity.account(session, telegram_id)
    except identity.LinkConflict:
        await _confirm_link(update, context, telegram_id, person_id)  # linked elsewhere meanwhile: show it
        return
    except identity.LinkChanged as exc:  # another press (the desk in the Mini App, say) decided first
        async with context.services.sessionmaker() as session:
            await edit(update, context, await link_changed_text(session, exc, context.services.settings.tz))
        return
    except (identity.IdentityError, IntegrityError):
        await edit(update, context, t("That link cannot be made now. Nothing was changed."))
        return
    lines = [t("Linked:") + " " + account_line(account, telegram_id)]
    if replaced is not None:
        lines.append(t("Unlinked: {account}", account=account_line(replaced, replaced.telegram_id)))
    await edit(update, context, Html("\n".join(lines)))
    await context.services.refresh_directory()


async def link_changed_text(session: AsyncSession, exc: identity.LinkChanged, tz: Any) -> Html:
    """What the loser of a link decision is told (the chat and the Mini App alike): the account as it is now,
    who linked or unlinked it and when; nothing was changed."""
    who = ""
    if exc.by is not None:
        actor = await session.get(Member, exc.by)
        who = (actor.display_name if actor is not None else "") or str(exc.by)
    lines = [
        t(
            "Already decided by {who} on {when}. Nothing was changed.",
            who=who or "—",
            when=format_datetime(exc.at, tz) if exc.at is not None else "—",
        )
    ]
    if exc.account is not None:
        lines.append(account_line(exc.account, exc.account.telegram_id))
    return Html("\n".join(lines))


def _no_link(_target: object) -> Html:
    return t("No account linked to a directory entry was found. Nothing was changed.")


def _unlink_picker() -> Picker:
    return Picker(
        account_picker.linked,
        no_id=_no_link,
        no_name=_no_link,
        question=t("End the link of this account to its directory entry? Its access stays."),
        prefix="ul",
        which=t("Which account should be unlinked?"),
        pick=lambda telegram_id: f"ul:{telegram_id}:p",
    )


async def unlink_command(update: Update, context: BotContext) -> None:
    """/unlink NAME|TELEGRAM_ID — show the linked account, then Confirm."""
    usage = t("Usage: /unlink NAME or /unlink TELEGRAM_ID")
    await pick_account(update, context, _unlink_picker(), " ".join(context.args or []), usage)


async def unlink_button(update: Update, context: BotContext) -> None:
    """ul:ID:y, from the card or the desk's latest links: one conditional write on the link the account has."""
    parsed = await _confirmed(update, context, lambda word: word == "y")
    if parsed is None:
        return
    async with context.services.session() as session:
        account = await identity.account(session, parsed[0])
        person_id = await identity.unlink(
            session, parsed[0], context.member.telegram_id if context.member else None, reason="coordinator"
        )
    if person_id is None:
        await edit(update, context, t("That account is not linked. Nothing was changed."))
        return
    await edit(update, context, Html(t("Unlinked:") + " " + account_line(account, parsed[0])))


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
        Command("link", link_command, Role.COORDINATOR, N_("link an account to its directory entry")),
        Command("unlink", unlink_command, Role.COORDINATOR, N_("end an account's link to the directory")),
    ),
    buttons=(
        Button("ar", request_access_button, Role.STRANGER, args="req"),
        Button(
            "aa",
            decide_access,
            Role.COORDINATOR,
            args="bigid:id:id",
            writes=Writes("decides an access request (approve, link)"),
        ),
        Button(
            "aar",
            decide_access,
            Role.COORDINATOR,
            args="bigid:id:id",
            writes=Writes("approves and moves a link to this account"),
        ),
        Button(
            "ax",
            two_taps(decide_access, N_("Reject this request?"), N_("Yes, reject")),
            Role.COORDINATOR,
            args="bigid:id:ok|no?",
            writes=Writes("rejects an access request"),
        ),
        Button("gp", grant_pick, Role.ADMIN, private=True, args="bigid:tok"),
        Button(
            "gy", once(grant_confirm), Role.ADMIN, private=True, args="bigid:tok", writes=Writes("an account's role")
        ),
        Button(
            "rv",
            _picks_or(revoke_confirm, _revoke_picker),
            Role.ADMIN,
            private=True,
            args="bigid:p|y|x",
            writes=Writes("ends access, role and link"),
        ),
        Button(
            "lk",
            link_button,
            Role.COORDINATOR,
            private=True,
            args="bigid:id:p|y|r|x",
            writes=Writes("links an account to a person"),
        ),
        Button(
            "ul",
            _picks_or(unlink_button, _unlink_picker),
            Role.COORDINATOR,
            private=True,
            args="bigid:p|y|x",
            writes=Writes("ends an account's link"),
        ),
    ),
    text_steps=(
        TextStep(
            "access_request",
            receive_access_request,
            Role.STRANGER,
            writes=Writes("the sender's own access request", "self"),
        ),
    ),
)


def register_fallbacks(application: Application) -> None:
    """After every feature: /cancel with nothing to cancel, unknown commands and buttons from old messages.
    They are for anyone the gate admitted, behind the same guard as everything else."""
    application.add_handler(CommandHandler("cancel", guard(cancel, Role.STRANGER, False, "/cancel")))
    application.add_handler(MessageHandler(filters.COMMAND, guard(unknown_command, Role.STRANGER, False, "command")))
    application.add_handler(CallbackQueryHandler(guard(stale_button, Role.STRANGER, False, "button")))
    application.add_error_handler(on_error)
