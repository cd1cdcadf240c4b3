"""One structured log line per update: who (Telegram user id), what kind of update, which handler ran,
how long it took and how it ended. Never the message text, a caption, a file name or contact details:
only ids, names of our own functions and the outcome.

`install(application)` wraps the Application's `process_update` (and `process_error`, to see failures)
for every update, however it arrives (polling, webhook, tests). The handler is named by the role check
in handlers/manifest.py (`note_handler`), which runs in the same task as the update. The last update's
time and the running count feed the health report (`UpdateStats`).

Outcomes: `handled` (a handler ran and returned), `refused` (the role check said no), `error` (a handler
raised; the error handler ran), `ignored` (no handler took it, e.g. an edited message).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from core import clock

log = logging.getLogger("partnerbot.updates")

_CURRENT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("partnerbot_update", default=None)


@dataclass
class UpdateStats:
    """What the health report says about updates: how many, and when the last one was handled."""

    handled: int = 0
    errors: int = 0
    last_update_at: dt.datetime | None = None
    started_at: dt.datetime = field(default_factory=clock.now)


def note_handler(name: str) -> None:
    """Called by the role check: this update went to `name` (module.function)."""
    record = _CURRENT.get()
    if record is not None and record.get("handler") is None:
        record["handler"] = name


def note_outcome(outcome: str) -> None:
    record = _CURRENT.get()
    if record is not None and record.get("outcome") in (None, "handled"):
        record["outcome"] = outcome


def update_kind(update: object) -> str:
    """'message', 'callback_query', 'edited_message' … : the one field Telegram set (no content)."""
    for name in (
        "message",
        "edited_message",
        "callback_query",
        "channel_post",
        "edited_channel_post",
        "my_chat_member",
        "chat_member",
        "inline_query",
        "chat_join_request",
    ):
        if getattr(update, name, None) is not None:
            return name
    return "other"


def _user_id(update: object) -> int | None:
    user = getattr(update, "effective_user", None)
    return getattr(user, "id", None)


def _command(update: object) -> str | None:
    """The command word of a message ("/find"), never its arguments: they are user text."""
    message = getattr(update, "effective_message", None)
    entities = getattr(message, "entities", None) or ()
    raw = getattr(message, "text", None) or ""
    for entity in entities:
        if entity.type == "bot_command" and entity.offset == 0:
            return raw[: entity.length].split("@", 1)[0][:40]
    return None


def install(application: Any) -> UpdateStats:
    """Log every update the Application processes; returns the counters (kept in bot_data too)."""
    stats = UpdateStats()
    application.bot_data["update_stats"] = stats
    process_update = application.process_update
    process_error = application.process_error

    async def logged_process_update(update: object) -> None:
        record: dict[str, Any] = {"handler": None, "outcome": None}
        token = _CURRENT.set(record)
        started = time.perf_counter()
        try:
            await process_update(update)
        except BaseException:
            record["outcome"] = "error"
            raise
        finally:
            _CURRENT.reset(token)
            elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
            outcome = record["outcome"] or ("handled" if record["handler"] else "ignored")
            stats.handled += 1
            stats.errors += outcome == "error"
            stats.last_update_at = clock.now()
            fields = {
                "update_id": getattr(update, "update_id", None),
                "user_id": _user_id(update),
                "kind": update_kind(update),
                "command": _command(update),
                "handler": record["handler"],
                "ms": elapsed_ms,
                "outcome": outcome,
            }
            log.info(
                "update %s", " ".join(f"{k}={v}" for k, v in fields.items() if v is not None), extra={"update": fields}
            )

    async def noted_process_error(update: object | None, error: Exception, *args: Any, **kwargs: Any) -> bool:
        note_outcome("error")
        return await process_error(update, error, *args, **kwargs)

    application.process_update = logged_process_update
    application.process_error = noted_process_error
    return stats
