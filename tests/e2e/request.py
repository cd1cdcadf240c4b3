"""The one place telegram-test-api's differences from the real Bot API are smoothed over, for the
end-to-end test only (never used by the bot itself):

- it returns message dates in milliseconds (Telegram: seconds);
- its getMe has no `is_bot`;
- its callback queries have no `chat_instance`;
- it answers null to editMessageText / editMessageReplyMarkup / answerCallbackQuery (Telegram: the
  edited message, or true);
- the message it returns for sendMessage echoes the request's form fields, so object fields such as
  `link_preview_options` come back as JSON text instead of objects.
"""

from __future__ import annotations

import json
from typing import Any

from telegram.request import HTTPXRequest, RequestData

MILLIS = 10**11  # a "seconds" timestamp this big is year 5138: it is milliseconds


def _fix_dates(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("date", "edit_date") and isinstance(item, (int, float)) and item > MILLIS:
                item = int(item // 1000)
            out[key] = _fix_dates(item)
        return out
    if isinstance(value, list):
        return [_fix_dates(v) for v in value]
    return value


ECHOED_OBJECTS = ("link_preview_options", "reply_parameters", "reply_markup", "entities", "caption_entities")


def fix_result(api_method: str, result: Any) -> Any:
    result = _fix_dates(result)
    if isinstance(result, dict):
        for key in ECHOED_OBJECTS:
            if isinstance(result.get(key), str):
                try:
                    result[key] = json.loads(result[key])
                except ValueError:
                    del result[key]
    if api_method == "getMe" and isinstance(result, dict):
        result.setdefault("is_bot", True)
    if api_method == "getUpdates" and isinstance(result, list):
        for update in result:
            query = update.get("callback_query")
            if isinstance(query, dict):
                query.setdefault("chat_instance", str((query.get("message") or {}).get("chat", {}).get("id", "0")))
    if (
        api_method
        in ("editMessageText", "editMessageReplyMarkup", "editMessageCaption", "answerCallbackQuery", "deleteMessage")
        and result is None
    ):
        result = True
    return result


class EmulatorRequest(HTTPXRequest):
    """HTTPXRequest that corrects telegram-test-api's answers to what python-telegram-bot expects."""

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        status, body = await super().do_request(url, method, request_data, *args, **kwargs)
        try:
            payload = json.loads(body)
        except ValueError:
            return status, body
        if isinstance(payload, dict) and payload.get("ok") is True and "result" in payload:
            payload["result"] = fix_result(url.rsplit("/", 1)[-1], payload["result"])
            body = json.dumps(payload).encode()
        return status, body
