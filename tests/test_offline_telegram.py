"""The offline Telegram itself: calls made to fail answer as Telegram (or the network) would and are still
recorded; calls outside Telegram's limits get Telegram's 400; menus are kept per scope."""

from __future__ import annotations

import pytest
from telegram import Bot, BotCommand, BotCommandScopeChat, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from core.bot_api_limits import refusal
from core.offline import FAILURE_KINDS, OFFLINE_TOKEN, OfflineRequest
from tests.telegram_html import check

RAISES: dict[str, type[BaseException] | tuple[type[BaseException], ...]] = {
    "timeout": TimedOut,
    "network": NetworkError,
    "bad_request": BadRequest,
    "retry_after": RetryAfter,
    "forbidden": Forbidden,
    "invalid_json": TelegramError,
    # {"ok": true} without a result: python-telegram-bot cannot read it (not a TelegramError)
    "no_result": (KeyError, TelegramError),
}


@pytest.fixture
async def bot() -> Bot:
    request = OfflineRequest(check_html=check)
    bot = Bot(OFFLINE_TOKEN, request=request, get_updates_request=request)
    await bot.initialize()
    return bot


def _request(bot: Bot) -> OfflineRequest:
    return bot.request  # type: ignore[return-value]


@pytest.mark.parametrize("kind", FAILURE_KINDS)
async def test_each_failure_raises_and_is_recorded(bot: Bot, kind: str) -> None:
    request = _request(bot)
    failure = request.fail(kind, methods={"sendMessage"})
    with pytest.raises(RAISES[kind]):
        await bot.send_message(1001, "Lucy Draycott, 01273 000000")
    assert request.calls[-1].error == kind and request.calls[-1].params["text"].startswith("Lucy Draycott")
    await bot.send_chat_action(1001, "typing")  # other methods still work
    request.stop_failing(failure)
    await bot.send_message(1001, "fine")
    assert request.calls[-1].ok


def test_unknown_failure_kind_is_an_error() -> None:
    with pytest.raises(ValueError):
        OfflineRequest().fail("gremlins")


async def test_calls_outside_telegrams_limits_are_refused_like_telegram(bot: Bot) -> None:
    request = _request(bot)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(1, "x" * 4097)
    await bot.send_message(1, "&amp;" * 4096, parse_mode="HTML")  # 4096 after parsing is fine
    with pytest.raises(BadRequest, match="(?i)parse entities"):
        await bot.send_message(1, "<b>open", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)text is empty"):
        await bot.send_message(1, "<b></b>", parse_mode="HTML")
    many = InlineKeyboardMarkup([[InlineKeyboardButton(str(i), callback_data=f"x:{i}")] for i in range(101)])
    with pytest.raises(BadRequest, match="(?i)reply markup is too long"):
        await bot.send_message(1, "hi", reply_markup=many)
    wide = InlineKeyboardMarkup([[InlineKeyboardButton(str(i), callback_data=f"x:{i}") for i in range(9)]])
    with pytest.raises(BadRequest, match="(?i)reply markup is too long"):
        await bot.send_message(1, "hi", reply_markup=wide)
    with pytest.raises(BadRequest, match="(?i)caption is too long"):
        await bot.send_document(1, b"data", filename="a.txt", caption="c" * 1025)
    assert request.refused[0][1] == "message is too long" and len(request.refused) == 6


def test_refusals_of_buttons_answers_and_menus() -> None:
    assert (
        refusal(
            "sendMessage",
            {"text": "x", "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "p:" + "9" * 63}]]}},
        )
        == "BUTTON_DATA_INVALID"
    )
    assert (
        refusal(
            "sendMessage", {"text": "x", "reply_markup": {"inline_keyboard": [[{"text": " ", "callback_data": "p:1"}]]}}
        )
        is not None
    )
    assert refusal("answerCallbackQuery", {"text": "a" * 201}) is not None
    assert refusal("setMyCommands", {"commands": [{"command": "Find", "description": "x"}]}) == "BOT_COMMAND_INVALID"
    assert refusal("setMyCommands", {"commands": [{"command": "find", "description": "x"}]}) is None


async def test_menus_are_kept_per_scope(bot: Bot) -> None:
    request = _request(bot)
    await bot.set_my_commands([BotCommand("start", "start here"), BotCommand("help", "help")])
    await bot.set_my_commands([BotCommand("find", "find someone")], scope=BotCommandScopeChat(1001))
    assert request.menu() == ["start", "help"]
    assert request.menu({"type": "chat", "chat_id": 1001}) == ["find"]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(1001))] == ["find"]
    await bot.delete_my_commands(scope=BotCommandScopeChat(1001))
    assert request.menu({"type": "chat", "chat_id": 1001}) == []
    assert not request.calls and {s.method for s in request.attempts} >= {"setMyCommands", "deleteMyCommands"}
