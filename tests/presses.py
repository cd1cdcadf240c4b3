"""Two (or more) presses at once: each a real callback-query Update, all handed to
`Application.process_update` together (asyncio.gather), so each runs in its own task with its own session,
as two people pressing at the same moment would. Reusable for any decision button:

    result = await press_together(chat, [("bq:a:7", users.coordinator), ("bq:d:7", users.admin)])
    result.alerts            # the callback answers (what each presser was told)
    result.to(head_chat)     # what reached someone else
    await repeat(20, one_round)  # run a whole round (set-up, presses, assertions) 20 times

Each press comes from the last message the bot sent to that presser's chat, like `ChatDriver.press`; the
updates are all built before any is processed, so none sees another's reply first."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from core.offline import Sent
from tests.harness import ChatDriver


@dataclass
class Presses:
    calls: list[Sent]

    @property
    def alerts(self) -> list[str]:
        return [str(s.params.get("text", "")) for s in self.calls if s.method == "answerCallbackQuery"]

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.calls if s.chat_id == chat_id]

    def texts(self) -> list[str]:
        return [s.text for s in self.calls if s.text]


def _message_for(chat: ChatDriver, chat_id: int) -> dict | None:
    for sent in reversed(chat.request.calls):
        if sent.chat_id == chat_id and isinstance(sent.result, dict) and "message_id" in sent.result:
            return dict(sent.result)
    return None


async def press_together(chat: ChatDriver, presses: Sequence[tuple[str, int]]) -> Presses:
    """Press every (data, user) at the same moment, each in its own private chat."""
    updates = [chat.factory.press(data, user, _message_for(chat, user), None) for data, user in presses]
    before = len(chat.request.calls)
    await asyncio.gather(*(chat.app.process_update(u) for u in updates))
    return Presses(chat.request.calls[before:])


async def repeat(times: int, one_round: Callable[[int], Awaitable[None]]) -> None:
    """Run `one_round(i)` `times` times (a race that is lost only sometimes is still a bug)."""
    for i in range(times):
        await one_round(i)
