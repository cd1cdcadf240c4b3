"""SQLPersistence: round trips on SQLite and PostgreSQL, and a conversation that survives a restart."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from telegram import Chat, Message, Update, User
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, RequestData

from storage.members import BotState
from storage.persistence import SQLPersistence, attach, decode, encode

# --- direct round trips -------------------------------------------------------------------------


async def test_user_and_chat_data_round_trip(sessionmaker):
    p = SQLPersistence(sessionmaker)
    when = dt.datetime(2025, 9, 1, 8, 30, tzinfo=dt.timezone.utc)
    data = {
        "draft": {"action": 12, "rag": "A", "comment": "Ça va — نعم ✓ <b>"},
        "when": when,
        "day": dt.date(2025, 9, 1),
        "ids": (1, 2),
        "seen": {3, 4},
        "by_id": {7: "seven", 8: ["x", None]},
        "money": Decimal("1.50"),
        "flag": True,
        "ratio": 0.25,
        "__weird": 1,
    }
    await p.update_user_data(1001, data)
    await p.update_chat_data(-100123, {"mode": "group"})
    await p.update_user_data(1002, {"a": 1})

    fresh = SQLPersistence(sessionmaker)
    users = await fresh.get_user_data()
    assert users[1001] == data
    assert users[1002] == {"a": 1}
    assert isinstance(users[1001]["ids"], tuple) and isinstance(users[1001]["seen"], set)
    assert users[1001]["when"].tzinfo is not None
    assert await fresh.get_chat_data() == {-100123: {"mode": "group"}}

    # overwrite, then drop
    await p.update_user_data(1001, {"draft": None})
    assert (await fresh.get_user_data())[1001] == {"draft": None}
    await p.drop_user_data(1001)
    await p.drop_chat_data(-100123)
    assert set(await fresh.get_user_data()) == {1002}
    assert await fresh.get_chat_data() == {}
    # empty data leaves no row behind
    await p.update_user_data(1002, {})
    async with sessionmaker() as session:
        assert (await session.scalars(select(BotState))).all() == []


async def test_unstorable_values_are_left_out_not_fatal(sessionmaker, caplog):
    p = SQLPersistence(sessionmaker)
    await p.update_user_data(5, {"ok": 1, "service": object()})
    assert (await p.get_user_data()) == {5: {"ok": 1}}
    assert "not stored" in caplog.text


async def test_bot_data_and_callback_data_are_never_persisted(sessionmaker):
    p = SQLPersistence(sessionmaker)
    assert p.store_data.bot_data is False and p.store_data.callback_data is False
    await p.update_bot_data({"services": "runtime"})
    assert await p.get_bot_data() == {}
    assert await p.get_callback_data() is None
    async with sessionmaker() as session:
        assert (await session.scalars(select(BotState))).all() == []


async def test_conversations_round_trip_per_handler(sessionmaker):
    p = SQLPersistence(sessionmaker)
    await p.update_conversation("update", (1001, 1001), 2)
    await p.update_conversation("update", (-5, 1002), "ASK_RAG")
    await p.update_conversation("newhead", (1001, 1001), 7)
    fresh = SQLPersistence(sessionmaker)
    assert await fresh.get_conversations("update") == {(1001, 1001): 2, (-5, 1002): "ASK_RAG"}
    assert await fresh.get_conversations("newhead") == {(1001, 1001): 7}
    assert await fresh.get_conversations("other") == {}
    await p.update_conversation("update", (1001, 1001), 3)
    await p.update_conversation("update", (-5, 1002), None)  # conversation ended
    assert await fresh.get_conversations("update") == {(1001, 1001): 3}
    async with sessionmaker() as session:
        keys = sorted(r.key for r in await session.scalars(select(BotState).where(BotState.kind == "conv")))
    assert [json.loads(k) for k in keys] == [["newhead", 1001, 1001], ["update", 1001, 1001]]


def test_encoding_is_plain_json_and_reversible():
    value = {"a": [1, (2, 3)], 4: {"__date__": "not a tag"}, "d": dt.date(2024, 2, 29)}
    encoded = encode(value)
    assert decode(json.loads(json.dumps(encoded))) == value


# --- through the Application --------------------------------------------------------------------


class FakeTelegram(BaseRequest):
    """Answers the two Bot API calls these tests make; records sent texts."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_kwargs: Any
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        if name == "getMe":
            result: Any = {"id": 42, "is_bot": True, "first_name": "Bot", "username": "test_bot"}
        elif name == "sendMessage":
            self.texts.append(params["text"])
            result = {
                "message_id": len(self.texts),
                "date": 0,
                "text": params["text"],
                "chat": {"id": params["chat_id"], "type": "private"},
            }
        else:
            result = True
        return 200, json.dumps({"ok": True, "result": result}).encode()


ASK_NAME, ASK_SCHOOL = range(2)


async def _start(update: Update, context: Any) -> int:
    context.user_data["started"] = True
    await update.effective_message.reply_text("Your name?")
    return ASK_NAME


async def _name(update: Update, context: Any) -> int:
    context.user_data["name"] = update.effective_message.text
    context.user_data["since"] = dt.date(2025, 9, 1)
    await update.effective_message.reply_text("Your school?")
    return ASK_SCHOOL


async def _school(update: Update, context: Any) -> int:
    name = context.user_data.pop("name")
    await update.effective_message.reply_text(f"Thanks {name} of {update.effective_message.text}")
    return ConversationHandler.END


def _app(sessionmaker, request: FakeTelegram) -> Application:
    app = (
        ApplicationBuilder()
        .token("42:TEST")
        .request(request)
        .get_updates_request(FakeTelegram())
        .persistence(SQLPersistence(sessionmaker, update_interval=3600))
        .build()
    )
    app.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("start", _start)],
            states={
                ASK_NAME: [MessageHandler(filters.TEXT & ~filters.COMMAND, _name)],
                ASK_SCHOOL: [MessageHandler(filters.TEXT & ~filters.COMMAND, _school)],
            },
            fallbacks=[],
            name="signup",
            persistent=True,
        )
    )
    attach(app)
    return app


_next_id = iter(range(1, 10_000))


def _message(app: Application, text: str, user_id: int = 1001) -> Update:
    entities = []
    if text.startswith("/"):
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    msg = Message.de_json(
        {
            "message_id": next(_next_id),
            "date": 1_700_000_000,
            "text": text,
            "entities": entities,
            "chat": Chat(user_id, "private").to_dict(),
            "from": User(user_id, "Ann", False).to_dict(),
        },
        app.bot,
    )
    return Update(next(_next_id), message=msg)


async def test_conversation_survives_a_new_application(sessionmaker):
    first = FakeTelegram()
    app = _app(sessionmaker, first)
    await app.initialize()
    await app.process_update(_message(app, "/start"))
    async with sessionmaker() as session:  # the first step is on disk as soon as it is answered
        conv = (await session.scalars(select(BotState).where(BotState.kind == "conv"))).one()
        assert conv.data == ASK_NAME
        user = (await session.scalars(select(BotState).where(BotState.kind == "user"))).one()
        assert user.data == {"started": True}
    await app.process_update(_message(app, "Ann Smith"))
    assert first.texts == ["Your name?", "Your school?"]
    # Already on disk: no interval has passed and the application is never shut down (a crash).
    async with sessionmaker() as session:
        conv = (await session.scalars(select(BotState).where(BotState.kind == "conv"))).one()
        user = (await session.scalars(select(BotState).where(BotState.kind == "user"))).one()
    assert conv.data == ASK_SCHOOL and json.loads(conv.key) == ["signup", 1001, 1001]
    assert user.key == "1001" and user.data["name"] == "Ann Smith"  # written with this very update

    second = FakeTelegram()
    app2 = _app(sessionmaker, second)
    await app2.initialize()
    assert app2.user_data[1001]["since"] == dt.date(2025, 9, 1)
    await app2.process_update(_message(app2, "Hillside Primary"))
    assert second.texts == ["Thanks Ann Smith of Hillside Primary"]
    # The conversation ended, so its row is gone; another user's text starts nothing.
    async with sessionmaker() as session:
        assert (await session.scalars(select(BotState).where(BotState.kind == "conv"))).all() == []
    await app2.process_update(_message(app2, "Hillside Primary", user_id=1002))
    assert second.texts == ["Thanks Ann Smith of Hillside Primary"]
    await app2.shutdown()
    await app.shutdown()
