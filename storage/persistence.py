"""python-telegram-bot persistence on our own database (the `bot_state` table).

`SQLPersistence(sessionmaker)` keeps user data, chat data and conversation states as JSON rows
(kind = user | chat | conv), so the same code works on SQLite and PostgreSQL and a user half-way
through a conversation carries on after a restart. `bot_data` is never persisted: it holds the
runtime services. Callback data is not used (buttons carry short ids, not objects).

python-telegram-bot only hands changes to a persistence every `update_interval` seconds. So that
a conversation step is on disk as soon as the bot has answered it, `attach(application)` adds a
handler in a late group that runs `application.update_persistence()` after every update; each
`update_*` call here is its own committed transaction (an upsert), never buffered.

Values that JSON cannot hold natively (dates, datetimes, tuples, sets, dicts with non-string keys)
are written as small tagged objects and read back as the same Python types. A value of any other
type is left out, with a warning in the log, rather than breaking the bot.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import Application, BasePersistence, PersistenceInput, TypeHandler
from telegram.ext._utils.types import ConversationDict, ConversationKey

from core import clock
from storage.members import BotState

log = logging.getLogger(__name__)

USER, CHAT, CONV = "user", "chat", "conv"
# The group of the handler that writes persistence after each update: after every other group.
PERSIST_GROUP = 10_000

_SKIP = object()


# --- JSON with a few tagged types ---------------------------------------------------------------


def encode(value: Any, path: str = "$") -> Any:
    """A JSON-ready copy of `value`; unsupported values become `_SKIP` (dropped by the caller)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else {"__float__": repr(value)}
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    if isinstance(value, Decimal):
        return {"__decimal__": str(value)}
    if isinstance(value, Mapping):
        items = []
        for k, v in value.items():
            ev = encode(v, f"{path}.{k}")
            if ev is _SKIP:
                continue
            ek = encode(k, f"{path}<key>")
            if ek is _SKIP:
                continue
            items.append((k, ek, ev))
        if all(isinstance(k, str) and not k.startswith("__") for k, _ek, _ev in items):
            return {k: ev for k, _ek, ev in items}
        return {"__pairs__": [[ek, ev] for _k, ek, ev in items]}
    if isinstance(value, (list, tuple, set, frozenset)):
        out = []
        for i, v in enumerate(value):
            ev = encode(v, f"{path}[{i}]")
            if ev is not _SKIP:
                out.append(ev)
        if isinstance(value, list):
            return out
        if isinstance(value, tuple):
            return {"__tuple__": out}
        return {"__set__": out}
    log.warning("persistence: value at %s of type %s is not stored", path, type(value).__name__)
    return _SKIP


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def decode(value: Any) -> Any:
    """The inverse of `encode`."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "__datetime__":
            return dt.datetime.fromisoformat(inner)
        if tag == "__date__":
            return dt.date.fromisoformat(inner)
        if tag == "__decimal__":
            return Decimal(inner)
        if tag == "__float__":
            return float(inner)
        if tag == "__tuple__":
            return tuple(decode(v) for v in inner)
        if tag == "__set__":
            return {_hashable(decode(v)) for v in inner}
        if tag == "__pairs__":
            return {_hashable(decode(k)): decode(v) for k, v in inner}
    return {k: decode(v) for k, v in value.items()}


def dumps(value: Any) -> Any:
    encoded = encode(value)
    return None if encoded is _SKIP else encoded


def conversation_key(name: str, key: ConversationKey) -> str:
    """The row key of one conversation: JSON of [handler name, *conversation key]."""
    return json.dumps([name, *key], separators=(",", ":"), ensure_ascii=False)


# --- the persistence ----------------------------------------------------------------------------


class SQLPersistence(BasePersistence[dict, dict, dict]):
    """Bot persistence in the `bot_state` table, through an `async_sessionmaker`."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], update_interval: float = 5) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=True, user_data=True, callback_data=False),
            update_interval=update_interval,
        )
        self.sessionmaker = sessionmaker
        # What the table holds for each (kind, key), as this process last read or wrote it (canonical
        # JSON; None = no row). Saving after every update stays cheap: unchanged data is not written again.
        self._held: dict[tuple[str, str], str | None] = {}

    @staticmethod
    def _canonical(data: Any) -> str:
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)

    # reading --------------------------------------------------------------------------------
    async def _rows(self, kind: str) -> list[BotState]:
        async with self.sessionmaker() as session:
            result = await session.scalars(select(BotState).where(BotState.kind == kind))
            return list(result)

    async def _int_keyed(self, kind: str) -> dict[int, dict]:
        out: dict[int, dict] = {}
        for row in await self._rows(kind):
            try:
                key = int(row.key)
            except ValueError:
                log.warning("persistence: ignoring %s row with key %r", kind, row.key)
                continue
            self._held[(kind, row.key)] = self._canonical(row.data)
            data = decode(row.data)
            out[key] = data if isinstance(data, dict) else {}
        return out

    async def get_user_data(self) -> dict[int, dict]:
        return await self._int_keyed(USER)

    async def get_chat_data(self) -> dict[int, dict]:
        return await self._int_keyed(CHAT)

    async def get_bot_data(self) -> dict:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        out: ConversationDict = {}
        for row in await self._rows(CONV):
            try:
                parts = json.loads(row.key)
            except ValueError:
                continue
            if not isinstance(parts, list) or not parts or parts[0] != name:
                continue
            self._held[(CONV, row.key)] = self._canonical(row.data)
            out[tuple(parts[1:])] = decode(row.data)
        return out

    # writing --------------------------------------------------------------------------------
    async def _put(self, kind: str, key: str, data: Any) -> None:
        canonical = self._canonical(data)
        if self._held.get((kind, key)) == canonical:
            return
        now = clock.now()
        async with self.sessionmaker() as session, session.begin():
            dialect = session.bind.dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            stmt = insert(BotState).values(kind=kind, key=key, data=data, updated_at=now)
            stmt = stmt.on_conflict_do_update(
                index_elements=[BotState.kind, BotState.key],
                set_={"data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at},
            )
            await session.execute(stmt)
        self._held[(kind, key)] = canonical

    async def _drop(self, kind: str, key: str) -> None:
        if (kind, key) in self._held and self._held[(kind, key)] is None:
            return
        async with self.sessionmaker() as session, session.begin():
            await session.execute(delete(BotState).where(BotState.kind == kind, BotState.key == key))
        self._held[(kind, key)] = None

    async def update_user_data(self, user_id: int, data: dict) -> None:
        if not data:
            await self._drop(USER, str(user_id))
        else:
            await self._put(USER, str(user_id), dumps(data))

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        if not data:
            await self._drop(CHAT, str(chat_id))
        else:
            await self._put(CHAT, str(chat_id), dumps(data))

    async def update_bot_data(self, data: dict) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        row_key = conversation_key(name, key)
        if new_state is None:
            await self._drop(CONV, row_key)
            return
        encoded = encode(new_state)
        if encoded is _SKIP:
            log.warning("persistence: conversation %s state %r cannot be stored", name, new_state)
            return
        await self._put(CONV, row_key, encoded)

    async def drop_user_data(self, user_id: int) -> None:
        await self._drop(USER, str(user_id))

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._drop(CHAT, str(chat_id))

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict) -> None:
        return None

    async def flush(self) -> None:
        return None  # every write is already committed


async def _write_now(update: object, context: Any) -> None:
    application = context.application
    if isinstance(update, Update):
        # PTB marks this update's user and chat data for saving only after every group has run,
        # i.e. after this handler; mark them now so this write includes them.
        application.mark_data_for_update_persistence(
            chat_ids=update.effective_chat.id if update.effective_chat else None,
            user_ids=update.effective_user.id if update.effective_user else None,
        )
    await application.update_persistence()


def attach(application: Application) -> None:
    """Write conversation states and user/chat data after every update, not every few seconds."""
    if application.persistence is not None:
        application.add_handler(TypeHandler(Update, _write_now), group=PERSIST_GROUP)
