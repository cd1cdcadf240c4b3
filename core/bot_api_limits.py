"""What the Bot API refuses, checked by the offline Telegram (core.offline) the way the real one would:
a request outside Telegram's limits gets the `400 Bad Request` Telegram sends, so a reply that would fail in
production fails in the console and the tests too.

The limits: message text 1 to 4096 characters after entities are parsed, captions up to 1024, an inline
keyboard of at most 100 buttons and 8 to a row, each with text and 1 to 64 bytes of callback data, a button
press answered with at most 200 characters, a command menu of at most 100 commands named with 1 to 32
lower-case letters, digits or `_`, each with a description of 1 to 256 characters."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
BUTTONS = 100
PER_ROW = 8
DATA_BYTES = 64
ANSWER_LIMIT = 200
COMMANDS = 100
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")

# Takes HTML, returns its plain text, raises ValueError when Telegram could not parse it.
HtmlCheck = Callable[[str], str]


def plain_text(text: str) -> str:
    """A lenient parse (tags dropped, entities unescaped) for when no stricter checker is given."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _markup(markup: Any) -> str | None:
    markup = _json(markup)
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if sum(len(row) for row in rows) > BUTTONS or any(len(row) > PER_ROW for row in rows):
        return "reply markup is too long"
    for row in rows:
        for button in row:
            if not str(button.get("text") or "").strip():
                return "text buttons are unallowed in the inline keyboard"
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= DATA_BYTES:
                return "BUTTON_DATA_INVALID"
    return None


def _formatted(text: str, params: dict[str, Any], check_html: HtmlCheck) -> tuple[str | None, str]:
    """(refusal or None, plain text) of a text or caption in the request's parse mode."""
    if str(params.get("parse_mode") or "").upper() != "HTML":
        return None, text
    try:
        return None, check_html(text) if text.strip() else ""
    except ValueError as exc:
        return f"can't parse entities: {exc}"[:300], ""


def refusal(method: str, params: dict[str, Any], check_html: HtmlCheck = plain_text) -> str | None:
    """Telegram's "Bad Request: …" description for a call it would refuse, or None."""
    if method in {"sendMessage", "editMessageText"}:
        problem, plain = _formatted(str(params.get("text") or ""), params, check_html)
        if problem:
            return problem
        if not plain.strip():
            return "message text is empty"
        if len(plain) > TEXT_LIMIT:
            return "message is too long"
    if method in {"sendDocument", "sendPhoto", "editMessageCaption"} and params.get("caption"):
        problem, plain = _formatted(str(params["caption"]), params, check_html)
        if problem:
            return problem
        if len(plain) > CAPTION_LIMIT:
            return "message caption is too long"
    if "reply_markup" in params:
        problem = _markup(params["reply_markup"])
        if problem:
            return problem
    if method == "answerCallbackQuery" and len(str(params.get("text") or "")) > ANSWER_LIMIT:
        return "MESSAGE_TOO_LONG"
    if method == "setMyCommands":
        commands = _json(params.get("commands")) or []
        if len(commands) > COMMANDS:
            return "BOT_COMMANDS_TOO_MUCH"
        for command in commands:
            if not COMMAND_RE.match(str(command.get("command", ""))):
                return "BOT_COMMAND_INVALID"
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                return "BOT_COMMAND_DESCRIPTION_INVALID"
    return None
