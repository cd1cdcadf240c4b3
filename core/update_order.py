"""Updates from different people are handled at the same time; each person's own updates stay in order.

python-telegram-bot runs updates one at a time unless told otherwise, so one coordinator's import made every
head wait. With this processor the Application starts each update as it arrives, but an update waits for the
previous update from the same user (or, without a user, the same chat) to finish. A conversation's steps, a
draft and its Save, a button and the message before it therefore see each other's effects exactly as before;
only different users overlap.

The per-key locks are created on demand and dropped when nobody holds or waits for them, so memory does not
grow with the number of users ever seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Enough that a burst from one user (who waits on their own lock) cannot hold every slot.
MAX_CONCURRENT = 256


class UserOrderedProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[object, asyncio.Lock] = {}
        self._waiting: dict[object, int] = {}

    @staticmethod
    def key(update: object) -> object:
        if isinstance(update, Update):
            if update.effective_user is not None:
                return ("user", update.effective_user.id)
            if update.effective_chat is not None:
                return ("chat", update.effective_chat.id)
        return ("other", None)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self.key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                del self._locks[key]

    def busy_keys(self) -> int:
        """How many users have an update in hand or waiting (for tests and health)."""
        return len(self._locks)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
