"""What each feature module adds to the bot, declared in one value, and the fold that turns every feature's
manifest into registered handlers, the role table, /help and the command menus.

A feature module (handlers/find.py, handlers/progress_chat.py …) ends with one declaration:

    MANIFEST = Manifest(
        "find",
        commands=(Command("find", find_command, Role.MEMBER, N_("find a person …"), private=True),),
        buttons=(Button("fp", page_button, Role.MEMBER, private=True),),
        search=search_text,
    )

- `Command(name, callback, role, help=None, private=False)`: `/name`. `help` (an `N_()` text) lists it in /help
  and in the role's command menu; without it the command works but is not advertised.
- `Button(prefix, callback, role, private=False, args=None)`: callback data `prefix:…` (a short prefix, ids
  after it, never user text). Callback data comes from the client, so it may be old or forged: before the
  callback runs, the guard checks it against `args` (core/callback_args.py: `"id:a|d"`, `"id:id?"` …),
  which every button must declare (a start-up error otherwise). Data that fails is answered "that button
  has expired" and reaches no query.
- `TextStep(name, callback, role)`: the answer to a one-off question: a handler sets
  `context.user_data["awaiting"] = name` and the next plain message goes to `callback`.
- `Conversation(name, entry, states, fallbacks, role, draft=...)`: a persistent guided flow whose steps are
  Commands, Buttons and `Reply(callback)` (typed text in that state). It ends by itself after
  `timeout` of silence, also across a restart; the user is told their draft was not saved.
- `Upload(callback, role)`: a document sent to the bot.
- `Job(name, callback, daily=time | every=timedelta)`: scheduled work (time zone from settings).
- `search`: what a member's plain text means when nothing else took it.
- `Inline(callback, role)`: inline queries (`@bot text` in any chat). Refused ones are answered with an
  empty, personal, uncached list, so a stranger sees nothing and no one sees another's results.
- `Location(callback, role, private=False)`: a location the user shares (a message with a map pin).

`private=True` marks anything that shows personal data: refused in group chats.
`writes=Writes(what, relation)` on a Command, Button or TextStep declares that it changes data and what it needs
besides the role; handlers/authority.py folds these into the authority table.

The role check runs where dispatch happens: `build` wraps every callback with its declared role, so the
handler that runs is the handler that was checked, whatever the gate (handlers/access.py) thought the update
was. A declaration without a role cannot be made. Anything that raises in the check refuses.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import warnings
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from core import clock, update_log
from core.callback_args import checker
from core.i18n import _
from core.services import BotContext
from core.text import Html, bold, esc, t
from storage.members import Role

log = logging.getLogger(__name__)

Callback = Callable[[Update, BotContext], Coroutine[Any, Any, Any]]
JobCallback = Callable[[Any], Coroutine[Any, Any, Any]]

END = ConversationHandler.END
PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,7}$")
COMMAND_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# Where the last activity of each conversation is kept, in the user's (persisted) data.
ACTIVITY_KEY = "_conversations"


@dataclass(frozen=True)
class Writes:
    """What a write needs besides its declared role: the actor's relation to what it changes. One line of the
    authority table (handlers/authority.py, docs/ARCHITECTURE.md). `relation`: "none" (the role is enough),
    "self" (the actor's own account), "linked" (the actor's account must be linked to a directory entry and the
    change is to that entry), "owner" (the actor owns the target, e.g. an action). `what`: what it changes."""

    what: str
    relation: str = "none"


@dataclass(frozen=True)
class Command:
    name: str
    callback: Callback
    role: Role
    help: str | None = None
    private: bool = False
    # Listed in the role's command menu (beside /help); False keeps it in /help only.
    menu: bool = True
    writes: Writes | None = None


@dataclass(frozen=True)
class Button:
    prefix: str
    callback: Callback
    role: Role
    private: bool = False
    args: str | None = None  # what follows "prefix:", checked before the callback (core/callback_args.py)
    writes: Writes | None = None


@dataclass(frozen=True)
class Reply:
    """Typed text (not a command) in a conversation state."""

    callback: Callback


@dataclass(frozen=True)
class TextStep:
    name: str
    callback: Callback
    role: Role
    writes: Writes | None = None


@dataclass(frozen=True)
class Upload:
    callback: Callback
    role: Role


Step = Command | Button | Reply


@dataclass(frozen=True)
class Conversation:
    name: str
    entry: tuple[Command | Button, ...]
    states: Mapping[object, tuple[Step, ...]]
    fallbacks: tuple[Command | Button, ...]
    role: Role
    # user_data keys holding the draft: cleared when the conversation expires.
    drafts: tuple[str, ...] = ()
    # What the user was doing, for "your unfinished … was not saved" (an N_() text).
    label: str = ""
    timeout: dt.timedelta = dt.timedelta(minutes=30)
    private: bool = False


@dataclass(frozen=True)
class Job:
    name: str
    callback: JobCallback
    daily: dt.time | None = None
    every: dt.timedelta | None = None
    first: float | None = None


@dataclass(frozen=True)
class Inline:
    callback: Callback
    role: Role


@dataclass(frozen=True)
class Location:
    callback: Callback
    role: Role
    private: bool = False


@dataclass(frozen=True)
class Manifest:
    name: str
    commands: tuple[Command, ...] = ()
    buttons: tuple[Button, ...] = ()
    conversations: tuple[Conversation, ...] = ()
    text_steps: tuple[TextStep, ...] = ()
    uploads: tuple[Upload, ...] = ()
    jobs: tuple[Job, ...] = ()
    search: Callback | None = None
    inline: tuple[Inline, ...] = ()
    locations: tuple[Location, ...] = ()


# --- refusing -------------------------------------------------------------------------------------


def role_name(role: Role) -> str:
    names = {
        Role.STRANGER: _("everyone"),
        Role.MEMBER: _("members"),
        Role.LEAD: _("action leads"),
        Role.COORDINATOR: _("coordinators"),
        Role.ADMIN: _("admins"),
    }
    return names[role]


def _private_chat(update: Update) -> bool:
    chat = update.effective_chat
    return chat is None or chat.type == ChatType.PRIVATE


def allowed(update: Update, context: BotContext, role: Role, private: bool) -> bool:
    """The decision, made from what the gate loaded. An update the gate did not admit is refused."""
    if not getattr(context, "admitted", False):
        return False
    if private and not _private_chat(update):
        return False
    return context.role >= role


async def refuse(update: Update, context: BotContext, role: Role, private: bool, what: str) -> None:
    """Say no politely. Nothing personal is in any of these texts; a failing reply changes nothing."""
    try:
        if not getattr(context, "admitted", False):
            return
        in_group = not _private_chat(update)
        if update.callback_query is not None:
            if context.role < role:
                text = _("Sorry, you can't use that button.")
            else:
                text = _("To keep contact details private, please use this in a private chat with me.")
            await update.callback_query.answer(text, show_alert=True)
            return
        if in_group and context.member is None:
            return  # silence towards non-members in groups
        chat = update.effective_chat
        if chat is None:
            return
        if context.role < role:
            if context.member is None:
                text = t(
                    "This is the partnership's assistant for its members. To use it you need access first: "
                    "send /start and press <b>Request access</b>."
                )
            elif what == "document":
                text = t("Only coordinators can send files to import. Nothing was changed.")
            else:
                text = t("Sorry, {what} is for {role} only.", what=what, role=role_name(role))
        else:
            text = t("To keep contact details private, please ask me in a private chat.")
        await context.bot.send_message(chat.id, text)
    except TelegramError as exc:
        log.warning("could not send a refusal: %s", exc.__class__.__name__)


def guard(
    callback: Callback,
    role: Role,
    private: bool,
    what: str,
    *,
    ends: object = None,
    data_ok: Callable[[object], bool] | None = None,
) -> Callback:
    """`callback` behind its role: run only when the gate admitted the update and the role is enough.
    `ends` is what a refused conversation step returns (END leaves the conversation). `data_ok` (buttons)
    checks the callback data: when it fails, the press is answered as an expired button and goes no further."""

    name = f"{getattr(callback, '__module__', '').rsplit('.', 1)[-1]}.{getattr(callback, '__name__', '?')}"

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> Any:
        update_log.note_handler(name)  # for the update's log line (core/update_log.py)
        try:
            ok = allowed(update, context, role, private)
        except Exception:  # noqa: BLE001 - any doubt refuses
            log.exception("access check failed")
            ok = False
        if not ok:
            update_log.note_outcome("refused")
            await refuse(update, context, role, private, what)
            return ends
        if data_ok is not None and not _data_ok(data_ok, update):
            update_log.note_outcome("refused")
            await refuse_data(update)
            return ends
        return await callback(update, context)

    guarded.required_role = role  # type: ignore[attr-defined]
    return guarded


def _data_ok(check: Callable[[object], bool], update: Update) -> bool:
    try:
        return update.callback_query is not None and check(update.callback_query.data)
    except Exception:  # noqa: BLE001 - any doubt refuses
        log.exception("callback data check failed")
        return False


async def refuse_data(update: Update) -> None:
    """Old or forged callback data: the polite answer an expired button gets; nothing else happens."""
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(_("That button has expired. Please start again."), show_alert=True)
    except TelegramError as exc:
        log.warning("could not answer a refused button: %s", exc.__class__.__name__)


def button_guard(button: Button, private: bool, ends: object = None) -> Callback:
    """A button's callback behind its role and its callback-data check (core/callback_args.py)."""
    return guard(
        button.callback, button.role, private, "button", ends=ends, data_ok=checker(button.prefix, button.args)
    )


def guard_inline(callback: Callback, role: Role) -> Callback:
    """An inline-query handler behind its role. Refused: an empty answer, personal and not cached, so
    Telegram shows nothing and keeps nothing (a refusal that fails to send changes nothing either)."""

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> Any:
        try:
            ok = allowed(update, context, role, False)
        except Exception:  # noqa: BLE001 - any doubt refuses
            log.exception("access check failed")
            ok = False
        if not ok:
            if update.inline_query is not None:
                try:
                    await update.inline_query.answer([], cache_time=0, is_personal=True)
                except TelegramError as exc:
                    log.warning("could not answer an inline query: %s", exc.__class__.__name__)
            return None
        return await callback(update, context)

    guarded.required_role = role  # type: ignore[attr-defined]
    return guarded


# --- conversations that expire --------------------------------------------------------------------


class ExpiringConversation(ConversationHandler[BotContext]):
    """A persistent ConversationHandler that ends after `timeout` without activity, counted from the time the
    fold records in the user's data after every step, so it holds across restarts (PTB's own
    conversation_timeout lives in the job queue and is lost on restart)."""

    def __init__(self, spec: Conversation, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec

    def conversation_key(self, update: Update) -> tuple[int | str, ...] | None:
        try:
            return self._get_key(update)
        except RuntimeError:
            return None

    def expire_if_stale(self, update: Update, user_data: dict[Any, Any] | None, now: dt.datetime) -> bool:
        """End this update's conversation when it has been idle too long; True when it was ended."""
        key = self.conversation_key(update)
        if key is None or key not in self._conversations:
            return False
        if not is_stale(user_data, self.spec, now):
            return False
        self.end(key, user_data)
        return True

    def end(self, key: tuple[int | str, ...], user_data: dict[Any, Any] | None) -> None:
        # _update_state is how ConversationHandler itself ends a conversation (and marks it for persistence).
        self._update_state(self.END, key)
        if user_data is not None:
            for draft in self.spec.drafts:
                user_data.pop(draft, None)
            activity = user_data.get(ACTIVITY_KEY)
            if isinstance(activity, dict):
                activity.pop(self.spec.name, None)

    def sweep(self, user_data: Mapping[int, dict[Any, Any]], now: dt.datetime) -> list[int]:
        """At start-up: end every stored conversation idle for longer than its timeout. Returns the users."""
        swept = []
        for key in list(self._conversations):
            user_id = key[-1] if key else None
            data = user_data.get(user_id) if isinstance(user_id, int) else None
            if is_stale(data, self.spec, now):
                self.end(key, data)
                if isinstance(user_id, int):
                    if data is not None:
                        data.setdefault("_expired", []).append(self.spec.name)
                    swept.append(user_id)
        return swept


def is_stale(user_data: Mapping[Any, Any] | None, spec: Conversation, now: dt.datetime) -> bool:
    activity = user_data.get(ACTIVITY_KEY) if user_data else None
    stamp = activity.get(spec.name) if isinstance(activity, dict) else None
    if not isinstance(stamp, str):
        return True  # no record of when: from before timeouts existed, or damaged; treat as old
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return True
    return now - when > spec.timeout


def _track(callback: Callback, spec: Conversation) -> Callback:
    """Record the conversation's last activity after each step (and forget it when the step ends it)."""

    @functools.wraps(callback)
    async def tracked(update: Update, context: BotContext) -> Any:
        state = await callback(update, context)
        if context.user_data is not None:
            activity = context.user_data.setdefault(ACTIVITY_KEY, {})
            if state == END:
                activity.pop(spec.name, None)
                if not activity:
                    context.user_data.pop(ACTIVITY_KEY, None)
            else:
                activity[spec.name] = clock.now().isoformat()
        return state

    return tracked


# --- the fold -------------------------------------------------------------------------------------


@dataclass
class Features:
    """Every feature's manifest folded: who may use what, what /help and the menus list, the handlers."""

    manifests: tuple[Manifest, ...]
    commands: dict[str, Role] = field(default_factory=dict)
    buttons: dict[str, Role] = field(default_factory=dict)
    button_args: dict[str, str | None] = field(default_factory=dict)  # what each prefix's data may carry
    steps: dict[str, TextStep] = field(default_factory=dict)
    help: list[tuple[str, Role, str]] = field(default_factory=list)
    in_menu: set[str] = field(default_factory=set)
    conversations: list[ExpiringConversation] = field(default_factory=list)
    search: Callback | None = None

    def __post_init__(self) -> None:
        for manifest in self.manifests:
            for command in manifest.commands:
                self._command(command)
            for button in manifest.buttons:
                self._button(button)
            for conversation in manifest.conversations:
                for step in (
                    *conversation.entry,
                    *conversation.fallbacks,
                    *(s for steps in conversation.states.values() for s in steps),
                ):
                    if isinstance(step, Command) and step.name != "cancel":
                        self._command(step)
                    elif isinstance(step, Button):
                        self._button(step)
            for text_step in manifest.text_steps:
                if text_step.name in self.steps:
                    raise ValueError(f"text step {text_step.name!r} declared twice")
                self.steps[text_step.name] = text_step
            if manifest.search is not None:
                if self.search is not None:
                    raise ValueError("two features declare the plain-text search")
                self.search = manifest.search
        # The fallback /cancel (handlers/access.py) answers anyone; conversations have their own.
        self.commands.setdefault("cancel", Role.STRANGER)

    def _command(self, command: Command) -> None:
        if not COMMAND_RE.match(command.name):
            raise ValueError(f"/{command.name} is not a command Telegram accepts")
        if not isinstance(command.role, Role):
            raise TypeError(f"/{command.name} has no role")
        existing = self.commands.get(command.name)
        if existing is not None and existing != command.role:
            raise ValueError(f"/{command.name} declared with two roles: {existing.name} and {command.role.name}")
        if existing is None and command.help:
            self.help.append((command.name, command.role, command.help))
            if command.menu:
                self.in_menu.add(command.name)
        self.commands[command.name] = command.role

    def _button(self, button: Button) -> None:
        if not PREFIX_RE.match(button.prefix):
            raise ValueError(f"callback prefix {button.prefix!r} must be short letters and digits")
        if not isinstance(button.role, Role):
            raise TypeError(f"button {button.prefix!r} has no role")
        existing = self.buttons.get(button.prefix)
        if existing is not None and existing != button.role:
            raise ValueError(f"button {button.prefix!r} declared with two roles")
        if button.args is None:
            # Undeclared data would only be held to 64 bits: an id past 2^31 would reach an INTEGER column.
            raise ValueError(f"button {button.prefix!r} declares no args (core/callback_args.py)")
        checker(button.prefix, button.args)  # a malformed `args` fails at start-up, not on a press
        self.button_args.setdefault(button.prefix, button.args)
        self.buttons[button.prefix] = button.role

    # what people see ----------------------------------------------------------------------------
    def help_text(self, role: Role) -> Html:
        lines = [bold(_("What I can do for you"))]
        for name, needed, description in self.help:
            if role >= needed:
                lines.append(Html(f"/{esc(name)} — {esc(_(description))}"))
        if role >= Role.MEMBER and self.search is not None:
            lines.append(esc(_("Or just type a name, a school or a specialism to search.")))
        return Html("\n".join(lines))

    def menu(self, role: Role) -> list[BotCommand]:
        """The command menu for a role: what /help lists for it (descriptions within Telegram's 256)."""
        return [
            BotCommand(name, _(description)[:256])
            for name, needed, description in self.help
            if role >= needed and name in self.in_menu
        ][:100]

    async def set_menu(self, bot: Any, chat_id: int | None, role: Role) -> None:
        """Set the menu of one private chat (None: the default menu everyone without one sees)."""
        scope = BotCommandScopeDefault() if chat_id is None else BotCommandScopeChat(chat_id)
        try:
            if chat_id is not None and role == Role.STRANGER:
                await bot.delete_my_commands(scope=scope)
            else:
                await bot.set_my_commands(self.menu(role), scope=scope)
        except TelegramError as exc:
            log.warning("could not set the command menu: %s", exc.__class__.__name__)

    # building handlers --------------------------------------------------------------------------
    def _handler(self, step: Step, role: Role, private: bool, conversation: Conversation | None) -> BaseHandler:
        ends: object = END if conversation is not None else None
        if isinstance(step, Command):
            callback = guard(step.callback, step.role, step.private or private, f"/{step.name}", ends=ends)
            if conversation is not None:
                callback = _track(callback, conversation)
            return CommandHandler(step.name, callback)
        if isinstance(step, Button):
            callback = button_guard(step, step.private or private, ends=ends)
            if conversation is not None:
                callback = _track(callback, conversation)
            return CallbackQueryHandler(callback, pattern=rf"^{step.prefix}:")
        assert conversation is not None, "Reply steps belong to conversations"
        callback = _track(guard(step.callback, role, private, "text", ends=None), conversation)
        return MessageHandler(filters.TEXT & ~filters.COMMAND, callback)

    def _conversation(self, spec: Conversation) -> ExpiringConversation:
        def steps(items: Sequence[Step]) -> list[BaseHandler]:
            return [self._handler(s, spec.role, spec.private, spec) for s in items]

        with warnings.catch_warnings():
            # Buttons are tracked per user and chat, which is what we want (per_message=False).
            warnings.filterwarnings("ignore", message=".*per_message=False.*", category=PTBUserWarning)
            return ExpiringConversation(
                spec,
                entry_points=steps(spec.entry),
                states={state: steps(items) for state, items in spec.states.items()},
                fallbacks=steps(spec.fallbacks),
                name=spec.name,
                persistent=True,
                allow_reentry=True,
            )

    def register(self, application: Application) -> None:
        """Add every handler, in an order that matters (one handler per group handles an update):
        1. each feature's commands and buttons;
        2. conversations, so that their typed answers are theirs before the plain-text router sees them
           (a command that is not a conversation step passes through them to 1);
        3. uploaded files, inline queries and shared locations;
        4. the plain-text router: a one-off question's answer, else the search;
        5. fallbacks: /cancel with nothing to cancel, unknown commands, old buttons (handlers/access.py)."""
        for manifest in self.manifests:
            for command in manifest.commands:
                application.add_handler(
                    CommandHandler(
                        command.name, guard(command.callback, command.role, command.private, f"/{command.name}")
                    )
                )
            for button in manifest.buttons:
                application.add_handler(
                    CallbackQueryHandler(button_guard(button, button.private), pattern=rf"^{button.prefix}:")
                )
        for manifest in self.manifests:
            for spec in manifest.conversations:
                handler = self._conversation(spec)
                self.conversations.append(handler)
                application.add_handler(handler)
        for manifest in self.manifests:
            for upload in manifest.uploads:
                application.add_handler(
                    MessageHandler(filters.Document.ALL, guard(upload.callback, upload.role, False, "document"))
                )
        for manifest in self.manifests:
            for inline in manifest.inline:
                application.add_handler(InlineQueryHandler(guard_inline(inline.callback, inline.role)))
            for location in manifest.locations:
                application.add_handler(
                    MessageHandler(
                        filters.LOCATION, guard(location.callback, location.role, location.private, "location")
                    )
                )
        application.add_handler(
            MessageHandler(filters.TEXT & ~filters.COMMAND, guard(self.route_text, Role.STRANGER, False, "text"))
        )

    async def route_text(self, update: Update, context: BotContext) -> None:
        """Plain text no conversation took: the answer to a one-off question the bot asked, else a search."""
        awaiting = context.user_data.get("awaiting") if context.user_data is not None else None
        step = self.steps.get(awaiting) if isinstance(awaiting, str) else None
        if step is not None:
            await guard(step.callback, step.role, False, "text")(update, context)
            return
        if awaiting is not None and context.user_data is not None:
            context.user_data.pop("awaiting", None)  # a question from an older version of the bot
        if self.search is not None:
            await guard(self.search, Role.MEMBER, False, "text")(update, context)

    def schedule(self, application: Application, tz: dt.tzinfo) -> None:
        if application.job_queue is None:
            return
        for manifest in self.manifests:
            for job in manifest.jobs:
                for old in application.job_queue.get_jobs_by_name(job.name):
                    old.schedule_removal()  # scheduling twice (a second start-up) must not run a job twice
                if job.daily is not None:
                    when = job.daily if job.daily.tzinfo is not None else job.daily.replace(tzinfo=tz)
                    application.job_queue.run_daily(job.callback, time=when, name=job.name)
                elif job.every is not None:
                    application.job_queue.run_repeating(
                        job.callback, interval=job.every, first=job.first, name=job.name
                    )
                else:
                    raise ValueError(f"job {job.name!r} has no schedule")

    async def expire_conversations(self, update: Update, context: BotContext) -> list[str]:
        """End this user's idle conversations; the labels of those ended (to tell the user)."""
        now = clock.now()
        ended = []
        for handler in self.conversations:
            if handler.expire_if_stale(update, context.user_data, now):
                ended.append(handler.spec.label)
        if context.user_data is not None:
            earlier = context.user_data.pop("_expired", None)
            if isinstance(earlier, list):
                labels = {h.spec.name: h.spec.label for h in self.conversations}
                ended.extend(labels[name] for name in earlier if name in labels)
        return [label for label in ended if label]

    def sweep_conversations(self, application: Application) -> list[int]:
        """At start-up: end the conversations that went stale while the bot was down; the users concerned
        (they are told on their next message)."""
        now = clock.now()
        return sorted({user for h in self.conversations for user in h.sweep(application.user_data, now)})


def features_of(application: Application) -> Features:
    features: Features = application.bot_data["features"]
    return features
