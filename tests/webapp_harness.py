"""The Mini App served for tests: the bot's real web server (cli.serve.make_web_app) on a loopback port, in the
test's own event loop, beside the chat harness's Application; init data signed as Telegram signs it.

`telegram_init_data` is written here from Telegram's documented algorithm, independently of the library the
server checks with, so a test passes only if both agree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from telegram.ext import Application

from core import clock

# Debian's chromium (Playwright's own browser download cannot work here), as the browser tests and the benchmark
# launch it.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def telegram_init_data(
    user_id: int, token: str, auth_date: dt.datetime | None = None, first_name: str = "Test", **extra: str
) -> str:
    """`window.Telegram.WebApp.initData` for `user_id` as Telegram would sign it with the bot's token."""
    when = auth_date or clock.now()
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user_id, "first_name": first_name, "language_code": "en"}, separators=(",", ":")),
        "auth_date": str(int(when.timestamp())),
        **extra,
    }
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


@dataclass
class Office:
    """The running web server: its address and the token its init data is checked with."""

    base: str
    token: str

    def init_data(self, user_id: int, **kwargs: Any) -> str:
        return telegram_init_data(user_id, self.token, **kwargs)

    def headers(self, user_id: int | None, **kwargs: Any) -> dict[str, str]:
        return {} if user_id is None else {"Authorization": "tma " + self.init_data(user_id, **kwargs)}

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, timeout=30)


@pytest.fixture
async def office(app: Application) -> AsyncIterator[Office]:
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets

    from cli.serve import make_web_app

    async def health() -> dict[str, Any]:
        return {"healthy": True}

    server = HTTPServer(make_web_app(app, None, "unused-secret", health))
    sockets = bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    try:
        yield Office(f"http://127.0.0.1:{port}", app.bot.token)
    finally:
        from webapp.server import settled

        await settled()  # no notice still writing while the Application and its database close
        server.stop()
        await server.close_all_connections()
