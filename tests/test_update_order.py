"""Updates from different users are handled at the same time, each user's own in order (core/update_order.py):
through the Application's own update queue, as polling and webhooks feed it. Ordering, never timing."""

from __future__ import annotations

import asyncio
import itertools

from telegram.ext import Application

from core.offline import Sent
from tests.harness import ChatDriver, Users, frozen_clock
from tests.plan_seed import seed_plan
from tests.test_progress_chat import NOW


async def _feed(app: Application, updates: list[object]) -> None:
    """Put updates on the queue as the network would, and wait until every one has been handled."""
    await app.start()
    try:
        for update in updates:
            await app.update_queue.put(update)
        for _ in itertools.count():
            await asyncio.sleep(0.02)
            if app.update_queue.empty() and app.update_processor.current_concurrent_updates == 0:
                break
    finally:
        await app.stop()


def _index(sent: list[Sent], chat_id: int, needle: str) -> int:
    for i, s in enumerate(sent):
        if s.chat_id == chat_id and needle in s.text:
            return i
    raise AssertionError(f"nothing sent to {chat_id} containing {needle!r}: {[x.text[:60] for x in sent]}")


async def test_one_users_updates_stay_in_order(chat: ChatDriver, users: Users, sessionmaker) -> None:
    """The one-line update asks for a rating; the typed answer, queued at the same moment, is its answer —
    not a search — because it waits for the first update to finish."""
    await seed_plan(sessionmaker)
    with frozen_clock(NOW):
        updates = [
            chat.factory.text("/update 1.1 Business case drafted", users.lead),
            chat.factory.text("green", users.lead),
        ]
        start = len(chat.sent)
        await _feed(chat.app, updates)
    sent = chat.sent[start:]
    assert _index(sent, users.lead, "How is it going") < _index(sent, users.lead, "Save this update?")


def _directory_csv(rows: int) -> bytes:
    lines = ["Name,Job title,School,Email"]
    lines += [f"Person{i} Surname{i},Teacher,School {i // 3},p{i}@example.org" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


async def test_a_member_is_answered_while_an_import_is_read(chat: ChatDriver, users: Users, sessionmaker) -> None:
    """A coordinator's large directory file is read off the event loop: a member's search sent after it is
    answered before the import's preview."""
    data = _directory_csv(30_000)
    file_id = chat.request.add_file(data)
    upload = chat.factory.document(file_id, "directory.csv", len(data), users.coordinator, caption="directory")
    search = chat.factory.text("/find Coordinator", users.member)
    start = len(chat.sent)
    await _feed(chat.app, [upload, search])
    sent = chat.sent[start:]
    answered = next(i for i, s in enumerate(sent) if s.chat_id == users.member)
    preview = _index(sent, users.coordinator, "directory.csv")
    assert answered < preview
