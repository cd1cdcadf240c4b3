"""End to end over HTTP: the real bot, polling, against telegram-test-api (an emulated Bot API server,
npm, MIT) on 127.0.0.1. Users send commands and press buttons through the server's client endpoints
and read the bot's answers there. Half-way through, the server is stopped and started again: the bot
carries on.

Skips only when node/npm are not installed; REQUIRE_E2E=1 (CI) turns that into a failure. The npm
package is installed from tests/e2e_server/package-lock.json (`npm ci`, which `make test` runs).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot import build_application, start_services
from core.settings import load_settings
from storage.db import make_engine, make_sessionmaker, upgrade_database
from storage.members import AccessRequest, Member
from tests.e2e.request import EmulatorRequest
from tests.harness import add_members

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SERVER_DIR = ROOT / "tests" / "e2e_server"
TOKEN = "123456789:E2E-test-token"
STRANGER, MEMBER, COORDINATOR = 9001, 1001, 1003
DEADLINE = 60.0  # seconds to wait for an answer before failing (a hang guard, not a timing assertion)


def _require_node() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, npm
    if os.environ.get("REQUIRE_E2E") == "1":
        pytest.fail("REQUIRE_E2E=1 but node and npm are not installed")
    pytest.skip("the end-to-end test needs node and npm")


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = _require_node()
    if not (SERVER_DIR / "node_modules" / "telegram-test-api").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=SERVER_DIR, check=True, capture_output=True)
    return node


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """telegram-test-api in a node process (tests/e2e_server/server.js)."""

    def __init__(self, node: str, port: int):
        self.node, self.port = node, port
        self.proc: asyncio.subprocess.Process | None = None
        self.url = f"http://127.0.0.1:{port}"

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            self.node,
            "server.js",
            str(self.port),
            cwd=SERVER_DIR,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=DEADLINE)
        if not line.startswith(b"READY"):
            raise RuntimeError(f"server did not start: {line!r} {await self.proc.stderr.read()!r}")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()
        self.proc = None


class Client:
    """A Telegram user, through the emulator's client endpoints."""

    def __init__(self, http: httpx.AsyncClient):
        self.http = http

    @staticmethod
    def _person(user: int) -> dict[str, Any]:
        return {"id": user, "is_bot": False, "first_name": f"User{user}"}

    async def send(self, user: int, text: str) -> None:
        body: dict[str, Any] = {
            "botToken": TOKEN,
            "date": int(time.time()),
            "from": self._person(user),
            "chat": {"id": user, "type": "private", "first_name": f"User{user}"},
            "text": text,
        }
        endpoint = "/sendMessage"
        if text.startswith("/"):
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
            endpoint = "/sendCommand"
        (await self.http.post(endpoint, json=body)).raise_for_status()

    async def press(self, user: int, data: str, message: dict[str, Any]) -> None:
        """Press a button on a message the bot sent (`message` as returned by `wait`)."""
        body = {
            "botToken": TOKEN,
            "date": int(time.time()),
            "from": self._person(user),
            "data": data,
            "message": {
                "message_id": message["messageId"],
                "date": int(time.time()),
                "chat": {"id": user, "type": "private"},
                "text": message["message"].get("text", ""),
                "from": {"id": 666, "is_bot": True, "first_name": "Bot"},
            },
        }
        (await self.http.post("/sendCallback", json=body)).raise_for_status()

    async def wait(self, chat: int, containing: str) -> dict[str, Any]:
        """The next message the bot sends to `chat` whose text contains `containing`."""
        end = time.monotonic() + DEADLINE
        seen = []
        while time.monotonic() < end:
            response = await self.http.post("/getUpdates", json={"token": TOKEN, "chatId": chat})
            for update in response.json()["result"]:
                seen.append(update["message"].get("text", ""))
                if containing in update["message"].get("text", ""):
                    return update
            await asyncio.sleep(0.05)
        raise AssertionError(f"no message to {chat} containing {containing!r}; saw {seen}")

    async def wait_edit(self, chat: int, message_id: int, containing: str) -> dict[str, Any]:
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            history = (await self.http.post("/getUpdatesHistory", json={"token": TOKEN})).json()["result"]
            for item in history:
                message = item.get("message") or {}
                if (
                    item.get("messageId") == message_id
                    and str(message.get("chat_id")) == str(chat)
                    and containing in message.get("text", "")
                ):
                    return item
            await asyncio.sleep(0.05)
        raise AssertionError(f"message {message_id} in {chat} was not edited to contain {containing!r}")


def buttons(update: dict[str, Any]) -> list[tuple[str, str]]:
    markup = update["message"].get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


class PollingErrors(logging.Handler):
    """Counts the errors the bot logs while it cannot reach the server."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def test_bot_over_http_survives_a_server_outage(node: str, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}"
    engine = make_engine(url)
    try:
        await _run(node, url, engine)
    finally:
        await engine.dispose()


async def _run(node: str, url: str, engine: Any) -> None:
    await upgrade_database(engine)
    sessionmaker = make_sessionmaker(engine)
    await add_members(sessionmaker)

    server = Server(node, _free_port())
    await server.start()
    settings = load_settings(
        database_url=url, telegram_bot_token=TOKEN, telegram_api_base_url=server.url, admin_telegram_ids=(1004,)
    )
    application = build_application(settings, EmulatorRequest(connection_pool_size=16))
    errors = PollingErrors()
    updater_log = logging.getLogger("telegram.ext.Updater")
    updater_log.addHandler(errors)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http, application:
            await start_services(application)
            await application.start()
            await application.updater.start_polling(poll_interval=0.05, timeout=0)
            user = Client(http)

            # A stranger starts the bot and asks for access with the button.
            await user.send(STRANGER, "/start")
            welcome = await user.wait(STRANGER, "ask for access")
            assert buttons(welcome) == [("Agree and request access", "ar:req")]
            await user.press(STRANGER, "ar:req", welcome)
            await user.wait_edit(STRANGER, welcome["messageId"], "name and school")
            await user.send(STRANGER, "Jane <Smith>, Oakfield Primary")
            await user.wait(STRANGER, "coordinator will look")

            # The coordinator is told, with the name escaped, and approves with a button.
            note = await user.wait(COORDINATOR, "Access request")
            assert "Jane &lt;Smith&gt;" in note["message"]["text"]
            approve = [data for _label, data in buttons(note) if data.startswith("aa:")][-1]
            await user.press(COORDINATOR, approve, note)
            await user.wait(STRANGER, "approved")

            # The server goes away; the bot keeps polling, logging the failures, not dying.
            await server.stop()
            end = time.monotonic() + DEADLINE
            while errors.count == 0 and time.monotonic() < end:
                await asyncio.sleep(0.1)
            assert errors.count > 0, "the bot never noticed the server had gone"
            assert application.running and application.updater.running
            await server.start()

            # When it returns, the bot answers again, and what was saved before is still there.
            await user.send(MEMBER, "/help")
            helped = await user.wait(MEMBER, "What I can do")
            assert "/start" in helped["message"]["text"]
            await user.send(STRANGER, "/start")
            await user.wait(STRANGER, "Welcome, Jane")  # approved before the outage: a member now

            await application.updater.stop()
            await application.stop()
    finally:
        updater_log.removeHandler(errors)
        await server.stop()
        await application.bot_data["services"].close()

    async with sessionmaker() as session:
        member = await session.get(Member, STRANGER)
        assert member is not None and member.role == "member"
        request = (await session.scalars(select(AccessRequest))).one()
        assert request.status == "approved" and request.decided_by == COORDINATOR
