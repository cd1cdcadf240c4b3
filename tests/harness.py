"""Drive the real Application offline: real Update objects through `process_update`, every outgoing
Bot API call recorded by core.offline.OfflineRequest and returned for assertions."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application

from bot import build_application, start_services
from core import clock
from core.offline import OfflineRequest, Sent, UpdateFactory
from core.settings import load_settings
from storage.members import Member
from tests.telegram_html import check as check_telegram_html


@dataclass(frozen=True)
class Users:
    stranger: int = 9001
    member: int = 1001
    lead: int = 1002
    coordinator: int = 1003
    admin: int = 1004


USERS = Users()
ROLES = {USERS.member: "member", USERS.lead: "lead", USERS.coordinator: "coordinator", USERS.admin: "admin"}


@contextmanager
def frozen_clock(moment: dt.datetime) -> Iterator[None]:
    """core.clock stands still at `moment` inside the block (a test may move it with clock.set_clock)."""
    clock.set_clock(lambda: moment)
    try:
        yield
    finally:
        clock.set_clock(None)


class ChatDriver:
    """Plays users talking to the bot. Each call returns the Bot API calls the bot made in response."""

    def __init__(self, app: Application, request: OfflineRequest):
        self.app = app
        self.request = request
        self.factory = UpdateFactory(app.bot)

    @property
    def sent(self) -> list[Sent]:
        return self.request.calls

    async def _process(self, update: Any) -> list[Sent]:
        before = len(self.request.calls)
        await self.app.process_update(update)
        return self.request.calls[before:]

    async def send(
        self, text: str, user: int, chat: int | None = None, first_name: str = "", username: str | None = None
    ) -> list[Sent]:
        return await self._process(self.factory.text(text, user, chat, first_name, username))

    async def press(self, data: str, user: int, chat: int | None = None) -> list[Sent]:
        """Press a button: the callback comes from the last message the bot sent to that chat."""
        chat_id = user if chat is None else chat
        message = None
        for sent in reversed(self.request.calls):
            if sent.chat_id == chat_id and isinstance(sent.result, dict) and "message_id" in sent.result:
                message = dict(sent.result)
                break
        return await self._process(self.factory.press(data, user, message, chat))

    async def upload(
        self,
        filename: str,
        data: bytes,
        user: int,
        caption: str | None = None,
        chat: int | None = None,
        mime_type: str | None = None,
    ) -> list[Sent]:
        file_id = self.request.add_file(data)
        return await self._process(
            self.factory.document(file_id, filename, len(data), user, caption, chat, mime_type=mime_type)
        )

    async def inline(self, query: str, user: int) -> list[Sent]:
        return await self._process(self.factory.inline_query(query, user))

    async def location(self, latitude: float, longitude: float, user: int) -> list[Sent]:
        return await self._process(self.factory.location(latitude, longitude, user))

    def to(self, chat_id: int) -> list[Sent]:
        """Everything sent to one chat so far."""
        return [s for s in self.request.calls if s.chat_id == chat_id]


async def add_members(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        for telegram_id, role in ROLES.items():
            session.add(Member(telegram_id=telegram_id, role=role, display_name=role.title()))


@pytest.fixture
def users() -> Users:
    return USERS


@pytest.fixture
async def app(db_url: str, sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[Application]:
    """The real Application over a migrated database with one member of each role."""
    await add_members(sessionmaker)
    settings = load_settings(database_url=db_url, admin_telegram_ids=(USERS.admin,), telegram_bot_token=None)
    request = OfflineRequest(check_html=check_telegram_html)
    application = build_application(settings, request, rate_limit=False)
    async with application:
        await start_services(application)
        yield application
    await application.bot_data["services"].close()
    # Telegram would have refused these (too long, too many buttons, HTML it cannot parse): a bug in a reply.
    assert not request.refused, [(s.method, problem) for s, problem in request.refused][:5]


@pytest.fixture
def chat(app: Application) -> ChatDriver:
    return ChatDriver(app, app.bot.request)  # type: ignore[arg-type]


class HeldChild:
    """The next sandboxed child (core.sandbox), stopped with SIGSTOP as soon as it exists: see `hold_next_child`."""

    def __init__(self) -> None:
        self.pids: list[int] = []

    def __call__(self, pid: int) -> None:
        if not self.pids:  # the first child only
            os.kill(pid, signal.SIGSTOP)
            self.pids.append(pid)

    async def started(self) -> None:
        """Wait until the child exists and is stopped (an event, not a duration)."""
        while not self.pids:
            await asyncio.sleep(0.01)


@asynccontextmanager
async def hold_next_child() -> AsyncIterator[HeldChild]:
    """Hold the sandbox's next child still while the block runs (to show the bot answers others meanwhile),
    then let it go on. Only the first child is held."""
    from core import sandbox

    held = HeldChild()
    sandbox.observers.append(held)
    try:
        yield held
    finally:
        sandbox.observers.remove(held)
        for pid in held.pids:
            os.kill(pid, signal.SIGCONT)
