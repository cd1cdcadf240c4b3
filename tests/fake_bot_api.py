"""A small stand-in for Telegram's Bot API server over real HTTP, for tests that run `partnerbot run` as a
subprocess: getMe, getUpdates (long polling with offsets, as Telegram does: an update stays until a later
offset confirms it), setWebhook, and every sending method (recorded, answered with a plausible Message).

Paths are Telegram's: /bot<TOKEN>/<method>; anything else is 404, a wrong token 401.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

TOKEN = "123456:TEST-token_for-the-fake-server"
BOT_USER = {
    "id": 4242,
    "is_bot": True,
    "first_name": "PartnerBot",
    "username": "partner_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeBotApi:
    def __init__(self, token: str = TOKEN, send_delay: float = 0.0) -> None:
        self.token = token
        self.send_delay = send_delay  # seconds each sending call takes (an update "in hand")
        self.calls: list[Call] = []
        self.pending: list[dict[str, Any]] = []  # updates Telegram still holds (not confirmed)
        self.confirmed: set[int] = set()
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._cond = threading.Condition()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeBotApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what tests do ----------------------------------------------------------------------------

    def message_update(self, user_id: int, text: str, *, first_name: str = "Test") -> dict[str, Any]:
        """An update shaped as Telegram sends it (a private chat; a command entity where text is one)."""
        update_id = next(self._ids)
        message: dict[str, Any] = {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": first_name},
            "from": {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"},
            "text": text,
        }
        if text.startswith("/"):
            length = len(re.match(r"/[A-Za-z0-9_]*(@[A-Za-z0-9_]+)?", text).group(0))  # type: ignore[union-attr]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"update_id": update_id, "message": message}

    def push(self, *updates: dict[str, Any]) -> None:
        with self._cond:
            self.pending.extend(updates)
            self._cond.notify_all()

    def sent(self, method: str = "sendMessage") -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return bool(predicate())

    # --- the server ---------------------------------------------------------------------------------

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name = method.lower()
        if name == "getme":
            return 200, {"ok": True, "result": BOT_USER}
        if name == "getupdates":
            offset = int(params.get("offset") or 0)
            timeout = min(float(params.get("timeout") or 0), 1.0)
            with self._cond:
                if offset:
                    self.confirmed.update(u["update_id"] for u in self.pending if u["update_id"] < offset)
                    self.pending = [u for u in self.pending if u["update_id"] >= offset]
                if not self.pending and timeout:
                    self._cond.wait(timeout)
                result = list(self.pending[: int(params.get("limit") or 100)])
            return 200, {"ok": True, "result": result}
        if name.startswith(("send", "edit", "copy", "forward")):
            if self.send_delay:
                time.sleep(self.send_delay)
            chat_id = params.get("chat_id")
            return 200, {
                "ok": True,
                "result": {
                    "message_id": next(self._message_ids),
                    "date": int(time.time()),
                    "text": params.get("text", ""),
                    "chat": {"id": int(chat_id) if str(chat_id).lstrip("-").isdigit() else 0, "type": "private"},
                    "from": BOT_USER,
                },
            }
        return 200, {"ok": True, "result": True}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                match = _PATH.match(self.path.split("?", 1)[0])
                if match is None:
                    self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found: route not found"})
                    return
                if match["token"] != fake.token:
                    self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                    return
                params = _params(self.headers.get("Content-Type") or "", raw)
                with fake._cond:
                    fake.calls.append(Call(match["method"], params))
                status, body = fake._answer(match["method"], params)
                self._reply(status, body)

        return Handler


def _params(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        data = json.loads(raw)
        return data if isinstance(data, dict) else {}
    if "multipart" in content_type:
        return {}
    out: dict[str, Any] = {}
    for key, values in parse_qs(raw.decode(), keep_blank_values=True).items():
        value: Any = values[-1]
        try:
            value = json.loads(value)
        except ValueError:
            pass
        out[key] = value
    return out
