"""An offline Telegram: a request object that records what the bot sends and answers like the Bot API,
and builders for the updates a user would cause. The console and the tests both use it.

Tests can make the "network" fail: `request.fail("timeout")` makes every later call raise TimedOut,
`request.fail("bad_request", methods={"sendMessage"}, message="can't parse entities")` only some. The
call is recorded all the same (in `calls`, with `error` set), so a test can check what the bot even
tried to send. Updates carry entities the way Telegram computes them (core.entities)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from core.bot_api_limits import HtmlCheck, plain_text, refusal
from core.entities import entities as text_entities

BOT_ID = 7000000001
BOT_USERNAME = "PartnerBot"
OFFLINE_TOKEN = "7000000001:offline-console-token-not-real"


@dataclass
class Sent:
    """One call the bot made to the Bot API."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    result: Any = None
    error: str | None = None  # the failure kind when the call was made to fail

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if not markup or "inline_keyboard" not in markup:
            return []
        return [
            (b.get("text", ""), b.get("callback_data") or b.get("url") or "")
            for row in markup["inline_keyboard"]
            for b in row
        ]

    @property
    def document(self) -> tuple[str, bytes] | None:
        return self.files.get("document")

    @property
    def photo(self) -> tuple[str, bytes] | None:
        return self.files.get("photo")


def _user(uid: int, first_name: str = "", username: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": first_name or f"User{uid}"}
    if username:
        data["username"] = username
    return data


# What a failing call answers, by kind: an exception raised by the transport, or (status, body) as the
# Bot API (or something between it and us) would answer.
FAILURE_KINDS = ("timeout", "network", "bad_request", "retry_after", "forbidden", "invalid_json", "no_result")
# Calls the recording leaves out of `calls` (start-up and bookkeeping); they are in `attempts` all the same.
QUIET_METHODS = frozenset(
    {
        "getMe",
        "getUpdates",
        "deleteWebhook",
        "setMyCommands",
        "deleteMyCommands",
        "getMyCommands",
        "getFile",
        "close",
        "logOut",
        "setWebhook",
    }
)


@dataclass
class Failure:
    """Make calls fail: `kind` (one of FAILURE_KINDS), for `methods` (None: every method) and `chats` (None: every
    chat; otherwise only calls to these chat ids, as one user who blocked the bot)."""

    kind: str
    methods: frozenset[str] | None = None
    message: str = ""
    retry_after: int = 5
    chats: frozenset[int] | None = None

    def applies(self, method: str, chat_id: Any = None) -> bool:
        if self.chats is not None and (chat_id is None or int(chat_id) not in self.chats):
            return False
        return self.methods is None or method in self.methods

    def answer(self) -> tuple[int, bytes]:
        if self.kind == "timeout":
            raise TimedOut(self.message or "Timed out (offline failure)")
        if self.kind == "network":
            raise NetworkError(self.message or "Connection reset (offline failure)")
        if self.kind == "invalid_json":
            return 200, b"<html><body>502 Bad Gateway</body></html>"
        if self.kind == "no_result":
            return 200, b'{"ok": true}'
        code, description, extra = {
            "bad_request": (400, "Bad Request: " + (self.message or "can't parse entities"), {}),
            "forbidden": (403, "Forbidden: " + (self.message or "bot was blocked by the user"), {}),
            "retry_after": (
                429,
                f"Too Many Requests: retry after {self.retry_after}",
                {"parameters": {"retry_after": self.retry_after}},
            ),
        }[self.kind]
        return code, json.dumps({"ok": False, "error_code": code, "description": description, **extra}).encode()


def _scope_key(params: dict[str, Any]) -> str:
    scope = params.get("scope") or {"type": "default"}
    if isinstance(scope, str):
        scope = json.loads(scope)
    return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)


class OfflineRequest(BaseRequest):
    """Answers Bot API calls locally and records them. `on_call` sees each call as it is made."""

    def __init__(
        self, on_call: Callable[[Sent], None] | None = None, check_html: HtmlCheck = plain_text, keep: bool = True
    ) -> None:
        # keep=False: calls go to `on_call` only and are not kept (a benchmark's hundred thousand answers would
        # otherwise pile up here, and the garbage collector's passes over them would be measured as the bot's).
        self.keep = keep
        self.calls: list[Sent] = []
        # Calls Telegram would have refused (outside its limits, HTML it cannot parse): answered with
        # its 400 Bad Request, and kept here so a test can insist there were none.
        self.refused: list[tuple[Sent, str]] = []
        self.check_html = check_html
        self.attempts: list[Sent] = []  # every call, the quiet ones included
        self.on_call = on_call
        self.files: dict[str, bytes] = {}  # file_id -> content, for getFile + download
        self.failures: list[Failure] = []
        # The command menus as Telegram holds them: (scope, language) -> [{"command", "description"}]
        self.menus: dict[str, list[dict[str, str]]] = {}
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)

    def continue_after(self, message_id: int) -> None:
        """Number new messages after `message_id` (a console that kept messages from an earlier run)."""
        self._message_ids = itertools.count(max(1000, message_id + 1))

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def add_file(self, content: bytes) -> str:
        """Store a file as if a user had uploaded it; returns its file_id."""
        file_id = f"offline-file-{next(self._file_ids)}"
        self.files[file_id] = content
        return file_id

    # failures ------------------------------------------------------------------------------
    def fail(
        self,
        kind: str,
        methods: set[str] | frozenset[str] | None = None,
        message: str = "",
        chats: set[int] | frozenset[int] | None = None,
    ) -> Failure:
        """From now on, calls (of `methods`, or all; to `chats`, or any) fail with `kind`; returns the failure for
        `stop`."""
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; one of {FAILURE_KINDS}")
        failure = Failure(
            kind,
            frozenset(methods) if methods is not None else None,
            message,
            chats=frozenset(chats) if chats is not None else None,
        )
        self.failures.append(failure)
        return failure

    def stop_failing(self, failure: Failure | None = None) -> None:
        """Stop one failure, or all of them."""
        if failure is None:
            self.failures.clear()
        elif failure in self.failures:
            self.failures.remove(failure)

    def menu(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[str]:
        """The command names Telegram would show in `scope` (default scope when None), in order."""
        key = _scope_key({"scope": scope, "language_code": language_code})
        return [c["command"] for c in self.menus.get(key, [])]

    # the transport -------------------------------------------------------------------------
    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a download of a file the user "uploaded"
            file_id = url.rsplit("/", 1)[-1]
            if file_id in self.files:
                return 200, self.files[file_id]
            return 404, b'{"ok": false, "error_code": 404, "description": "Not Found"}'
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files: dict[str, tuple[str, bytes]] = {}
        if request_data and request_data.contains_files:
            for name, value in request_data.multipart_data.items():
                filename, content = value[0], value[1]
                if hasattr(content, "read"):
                    content = content.read()
                key = name
                for pname, pvalue in params.items():
                    if pvalue == f"attach://{name}":
                        key = pname
                files[key] = (filename or name, bytes(content))
        sent = Sent(api_method, params, files)
        failure = next((f for f in reversed(self.failures) if f.applies(api_method, params.get("chat_id"))), None)
        problem = None if failure is not None else refusal(api_method, params, self.check_html)
        if problem is not None:
            failure = Failure("bad_request", message=problem)
            self.refused.append((sent, problem))
        if failure is not None:
            sent.error = failure.kind
        else:
            sent.result = self._result(api_method, params, files)
        if self.keep:
            self.attempts.append(sent)
        if api_method not in QUIET_METHODS:
            if self.keep:
                self.calls.append(sent)
            if self.on_call:
                self.on_call(sent)
        if failure is not None:
            return failure.answer()
        return 200, json.dumps({"ok": True, "result": sent.result}).encode()

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        message = {
            "message_id": int(params.get("message_id") or next(self._message_ids)),
            "date": int(dt.datetime.now(dt.timezone.utc).timestamp()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "title": None},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": BOT_USERNAME, "username": BOT_USERNAME},
        }
        if params.get("reply_markup"):
            markup = params["reply_markup"]
            message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
        message.update(extra)
        return message

    def _result(self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": BOT_USERNAME,
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method in {"sendMessage", "editMessageText"}:
            return self._message(params, text=params.get("text", ""))
        if method == "sendDocument":
            name = files.get("document", ("file", b""))[0]
            return self._message(
                params,
                document={
                    "file_id": self.add_file(files.get("document", ("", b""))[1]),
                    "file_unique_id": "u",
                    "file_name": name,
                },
                caption=params.get("caption"),
            )
        if method == "sendPhoto":
            return self._message(
                params,
                photo=[
                    {
                        "file_id": self.add_file(files.get("photo", ("", b""))[1]),
                        "file_unique_id": "p",
                        "width": 1,
                        "height": 1,
                    }
                ],
                caption=params.get("caption"),
            )
        if method == "getFile":
            file_id = str(params.get("file_id"))
            return {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_size": len(self.files.get(file_id, b"")),
                "file_path": file_id,
            }
        if method == "getUpdates":
            return []
        if method == "editMessageReplyMarkup":
            return self._message(params)
        if method == "sendContact":
            return self._message(
                params,
                contact={k: params[k] for k in ("phone_number", "first_name", "last_name", "vcard") if params.get(k)},
            )
        if method == "setMyCommands":
            commands = params.get("commands") or []
            self.menus[_scope_key(params)] = json.loads(commands) if isinstance(commands, str) else list(commands)
        if method == "deleteMyCommands":
            self.menus.pop(_scope_key(params), None)
        if method == "getMyCommands":
            return self.menus.get(_scope_key(params), [])
        return True


class UpdateFactory:
    """Builds the updates a user would cause: messages, commands, button presses, documents."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)

    def _base_message(
        self, user_id: int, chat_id: int | None, first_name: str, username: str | None = None
    ) -> dict[str, Any]:
        chat_id = user_id if chat_id is None else chat_id
        chat: dict[str, Any] = {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
        if chat_id > 0:
            chat["first_name"] = first_name or f"User{user_id}"
        else:
            chat["title"] = "Delivery group"
        return {
            "message_id": next(self._message_ids),
            "date": int(dt.datetime.now(dt.timezone.utc).timestamp()),
            "chat": chat,
            "from": _user(user_id, first_name, username),
        }

    def text(
        self, text: str, user_id: int, chat_id: int | None = None, first_name: str = "", username: str | None = None
    ) -> Update:
        message = self._base_message(user_id, chat_id, first_name, username)
        if username and chat_id is None:
            message["chat"]["username"] = username
        message["text"] = text
        found = text_entities(text)
        if found:
            message["entities"] = found
        return Update.de_json({"update_id": next(self._update_ids), "message": message}, self.bot)

    def document(
        self,
        file_id: str,
        filename: str,
        size: int,
        user_id: int,
        caption: str | None = None,
        chat_id: int | None = None,
        mime_type: str | None = None,
    ) -> Update:
        message = self._base_message(user_id, chat_id, "")
        message["document"] = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": filename,
            "file_size": size,
            "mime_type": mime_type or "application/octet-stream",
        }
        if caption:
            message["caption"] = caption
            found = text_entities(caption)
            if found:
                message["caption_entities"] = found
        return Update.de_json({"update_id": next(self._update_ids), "message": message}, self.bot)

    def press(
        self, data: str, user_id: int, message: dict[str, Any] | None = None, chat_id: int | None = None
    ) -> Update:
        if message is None:
            message = self._base_message(user_id, chat_id, "")
            message["from"] = {"id": BOT_ID, "is_bot": True, "first_name": BOT_USERNAME}
            message["text"] = "…"
        query = {
            "id": str(next(self._callback_ids)),
            "from": _user(user_id),
            "chat_instance": "offline",
            "data": data,
            "message": message,
        }
        return Update.de_json({"update_id": next(self._update_ids), "callback_query": query}, self.bot)

    def inline_query(self, query: str, user_id: int, chat_type: str = "sender") -> Update:
        """`@bot query` typed by a user in some chat (Telegram says only the kind of chat)."""
        inline = {
            "id": str(next(self._callback_ids)),
            "from": _user(user_id),
            "query": query,
            "offset": "",
            "chat_type": chat_type,
        }
        return Update.de_json({"update_id": next(self._update_ids), "inline_query": inline}, self.bot)

    def location(self, latitude: float, longitude: float, user_id: int, chat_id: int | None = None) -> Update:
        """A location the user shares (the paper clip, then Location)."""
        message = self._base_message(user_id, chat_id, "")
        message["location"] = {"latitude": latitude, "longitude": longitude}
        return Update.de_json({"update_id": next(self._update_ids), "message": message}, self.bot)
