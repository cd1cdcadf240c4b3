"""Shared clients for the running bot (database, search index), created in post_init and closed in
post_shutdown, and the callback context every handler receives."""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ExtBot

from core.roles import Role
from core.settings import Settings
from core.throttle import SearchCounter

if TYPE_CHECKING:  # for the annotations only: core does not import directory/ at run time
    from directory.search import DirectoryIndex, PersonEntry

log = logging.getLogger(__name__)

FREEZE_FROM_ENTRIES = 5_000  # see refresh_directory


@dataclass(frozen=True)
class MemberInfo:
    """A snapshot of who is talking, taken once per update by the access gate."""

    telegram_id: int
    role: Role
    person_id: int | None = None
    display_name: str = ""
    locale: str | None = None
    reminders: bool = True
    # The @username stored for the account (None: none known), compared with what Telegram sends now.
    username: str | None = None
    account: bool = False  # a member row exists (an admin named only in the settings has none)

    @classmethod
    def from_row(cls, row: Any, admin_ids: tuple[int, ...] = ()) -> MemberInfo:
        """From a `storage.members.Member` row."""
        role = Role.ADMIN if row.telegram_id in admin_ids else row.role_enum
        username = row.username or None
        return cls(row.telegram_id, role, row.person_id, row.display_name, row.locale, row.reminders, username, True)


@dataclass(frozen=True)
class DirectoryLoaders:
    """How the search index is read from the database, handed in by bot.py (as `member_row` is): core does
    not reach up into directory/."""

    # directory.freshness.directory_version: the database's directory change counter.
    version: Callable[[AsyncSession], Awaitable[int]]
    # directory.snapshot.load_index_cached: the whole index, from the snapshot when that is current.
    index: Callable[[async_sessionmaker[AsyncSession], str], Awaitable[DirectoryIndex]]
    # directory.loader.load_person_entry: one person as the index holds them (None: gone or not current).
    person: Callable[[AsyncSession, int], Awaitable[PersonEntry | None]]


class Services:
    """What every handler needs besides Telegram: settings, the database and the search index."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        member_row: Callable[[AsyncSession, int], Awaitable[Any]],
        directory_loaders: DirectoryLoaders,
    ):
        self.settings = settings
        # storage.members.member_row, handed in by bot.py: core does not reach up into storage.
        self._member_row = member_row
        self._loaders = directory_loaders
        self.engine = engine
        self.sessionmaker = sessionmaker
        self.directory: DirectoryIndex | None = None
        # The database's directory counter the index was built from (directory/freshness.py); None: not built.
        self.directory_version: int | None = None
        self._rebuilding = False
        self.search_counter = SearchCounter()
        # What each user is browsing (last search, page): in memory, not persisted, so changing it on
        # every search costs no database write; after a restart an old "next page" button says to search again.
        self.browsing: dict[int, dict[str, Any]] = {}
        # The role each member's command menu was last set for by this process.
        self.menus: dict[int, Role] = {}

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """One unit of work: `async with services.session() as s:` commits on success, rolls back on error."""
        return self.sessionmaker.begin()

    async def refresh_directory(self) -> None:
        """Rebuild the in-memory search index after the directory changed (from the snapshot beside the
        database when that is current: directory.snapshot)."""
        self._rebuilding = True
        try:
            async with self.sessionmaker() as session:
                version = await self._loaders.version(session)  # before loading: see directory/freshness.py
            self.directory = await self._loaders.index(self.sessionmaker, self.settings.database_url)
            self.directory_version = version
        finally:
            self._rebuilding = False
        if len(self.directory) >= FREEZE_FROM_ENTRIES:
            # Everything alive now (the loaded modules, the index) lives as long as the bot: take it out of the
            # cyclic collector's view, whose full pass over it would otherwise stop the loop for 130-180 ms
            # now and then (benchmarks/RESULTS.md, section 7). Freed objects still go by reference counting;
            # only a cycle that was garbage at this moment stays, once per directory import. A small
            # directory (a test's, the demo's) costs the collector little, so there it is left alone.
            gc.freeze()
        log.info("directory index ready")

    async def refresh_person(self, person_id: int) -> None:
        """After one person's entry changed: update the index in place (no rebuild)."""
        if self.directory is None:
            await self.refresh_directory()
            return
        async with self.sessionmaker() as session:
            entry = await self._loaders.person(session, person_id)
        if entry is None:
            self.directory.remove_person(person_id)
        else:
            self.directory.update_person(entry)

    async def refresh_if_changed(self) -> bool:
        """Rebuild the index when the database's directory counter moved since it was built (another
        process or the command line wrote); True when it was rebuilt. A rebuild under way is not doubled."""
        if self._rebuilding:
            return False
        async with self.sessionmaker() as session:
            version = await self._loaders.version(session)
        if version == self.directory_version:
            return False
        await self.refresh_directory()
        return True

    async def member(self, telegram_id: int) -> MemberInfo | None:
        async with self.sessionmaker() as session:
            row = await self._member_row(session, telegram_id)
        if row is not None and row.active:
            return MemberInfo.from_row(row, self.settings.admin_telegram_ids)
        if telegram_id in self.settings.admin_telegram_ids:
            return MemberInfo(telegram_id, Role.ADMIN)
        return None

    async def close(self) -> None:
        await self.engine.dispose()


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context handlers receive: `context.services` and `context.member` besides PTB's own."""

    member: MemberInfo | None
    # Set by the access gate once it has loaded who is talking; every handler's guard refuses without it.
    admitted: bool

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ):
        super().__init__(application, chat_id, user_id)
        self.member = None
        self.admitted = False

    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]

    @property
    def user_data(self) -> dict[Any, Any]:
        """This user's data. Every update the gate admits has a user, so handlers never see None here."""
        data = super().user_data
        if data is None:
            raise RuntimeError("this update has no user, so it has no user data")
        return data

    @user_data.setter
    def user_data(self, _value: object) -> None:
        raise AttributeError("user_data cannot be replaced; change its contents instead")

    @property
    def chat_data(self) -> dict[Any, Any]:
        """This chat's data. Commands and buttons always come from a chat."""
        data = super().chat_data
        if data is None:
            raise RuntimeError("this update has no chat, so it has no chat data")
        return data

    @chat_data.setter
    def chat_data(self, _value: object) -> None:
        raise AttributeError("chat_data cannot be replaced; change its contents instead")

    @property
    def role(self) -> Role:
        return self.member.role if self.member else Role.STRANGER

    @property
    def browsing(self) -> dict[str, Any]:
        """This user's in-memory browsing state (see Services.browsing)."""
        return self.services.browsing.setdefault(self._user_id or 0, {})

    def draft(self, key: str) -> dict[str, Any]:
        """The answers so far of a conversation, kept in user_data (so persisted) under `key`."""
        user_data = self.user_data
        if user_data is None:  # only updates without a user (channel posts) have none; no handler drafts then
            raise RuntimeError("a conversation draft needs a user")
        value = user_data.get(key)
        if not isinstance(value, dict):
            value = {}
            user_data[key] = value
        return value
