"""Who may do what: the one table every command, button prefix and file upload is checked against.

Handlers register their entry points where they create them:
    CommandHandler(policy.command("update", Role.MEMBER), start_update)
    CallbackQueryHandler(on_rag, pattern=policy.callback("ur", Role.MEMBER))
The access gate (handlers/access.py, group -1) consults this table before any handler runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import MessageEntity, Update

from storage.members import Role

COMMANDS: dict[str, Role] = {}
CALLBACKS: dict[str, Role] = {}
# What a stranger may type as plain text: only the answer to a question the bot asked them.
PUBLIC_AWAITING: set[str] = {"access_request"}
DOCUMENT_ROLE = Role.COORDINATOR
TEXT_ROLE = Role.MEMBER


def command(name: str, role: Role) -> str:
    """Register a command's minimum role and return its name for the CommandHandler."""
    existing = COMMANDS.get(name)
    if existing is not None and existing != role:
        raise ValueError(f"/{name} registered with two roles: {existing.name} and {role.name}")
    COMMANDS[name] = role
    return name


def callback(prefix: str, role: Role) -> str:
    """Register a callback-data prefix's minimum role and return the handler's pattern."""
    if ":" in prefix or len(prefix) > 8:
        raise ValueError(f"callback prefix {prefix!r} must be short and contain no ':'")
    existing = CALLBACKS.get(prefix)
    if existing is not None and existing != role:
        raise ValueError(f"callback {prefix!r} registered with two roles")
    CALLBACKS[prefix] = role
    return rf"^{prefix}:"


@dataclass(frozen=True)
class Need:
    """What an update asks for: its kind (command, callback, text, document, other), the key
    (command name or callback prefix) and the minimum role, or None when nothing allows it."""

    kind: str
    key: str
    role: Role | None


def command_name(text: str) -> str:
    return text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()


def need_for(update: Update, awaiting: str | None) -> Need:
    if update.callback_query is not None:
        prefix = (update.callback_query.data or "").split(":", 1)[0]
        return Need("callback", prefix, CALLBACKS.get(prefix))
    message = update.effective_message
    if message is None or update.edited_message is not None:
        return Need("other", "", None)
    entities = message.entities
    if message.text and message.text.startswith("/") and entities and \
            entities[0].type == MessageEntity.BOT_COMMAND and entities[0].offset == 0:
        # A command as the handlers see one (filters.COMMAND); "/ Smith" with no command in it is text.
        name = command_name(message.text)
        # An unknown command is answered politely by the fallback handler, whoever asks.
        return Need("command", name, COMMANDS.get(name, Role.STRANGER))
    if message.document is not None:
        return Need("document", "", DOCUMENT_ROLE)
    if message.text is not None:
        if awaiting in PUBLIC_AWAITING:
            return Need("text", awaiting or "", Role.STRANGER)
        return Need("text", "", TEXT_ROLE)
    return Need("other", "", None)
