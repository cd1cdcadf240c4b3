"""Many people updating the same action at the same moment lose nothing, on SQLite and PostgreSQL:
through the store (each post its own transaction, all started together) and through the real Application
(several users' /update conversations processed concurrently)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import func, select

from plans.progress import post_update
from storage.members import AuditEntry, Role
from storage.plans import ProgressUpdate
from tests.harness import ChatDriver, Users
from tests.plan_seed import seed_plan

N = 40


@dataclass(frozen=True)
class Author:
    telegram_id: int
    role: Role = Role.COORDINATOR
    person_id: int | None = None
    display_name: str = ""


async def test_simultaneous_posts_to_one_action_are_all_kept(sessionmaker):
    seeded = await seed_plan(sessionmaker)
    action_id = seeded.actions["1.1"]
    start = asyncio.Event()

    async def post(i: int) -> int:
        await start.wait()
        async with sessionmaker.begin() as session:
            row = await post_update(session, action_id, "RAG"[i % 3], f"concurrent #{i}", Author(10_000 + i))
            return row.id

    tasks = [asyncio.create_task(post(i)) for i in range(N)]
    await asyncio.sleep(0)
    start.set()
    ids = await asyncio.gather(*tasks)
    assert len(set(ids)) == N

    async with sessionmaker() as session:
        rows = list(await session.scalars(select(ProgressUpdate).where(ProgressUpdate.action_id == action_id)))
        audited = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "progress.update")
        )
    assert sorted(r.comment for r in rows) == sorted(f"concurrent #{i}" for i in range(N))
    assert {r.author_id for r in rows} == {10_000 + i for i in range(N)}
    assert audited == N


async def test_simultaneous_chat_updates_are_all_kept(chat: ChatDriver, users: Users, sessionmaker):
    seeded = await seed_plan(sessionmaker)
    people = [users.lead, users.coordinator, users.admin]
    rounds = 4
    for r in range(rounds):
        # everyone types their one-line update at once ...
        await asyncio.gather(
            *(chat.app.process_update(chat.factory.text(f"/update 1.1 green round {r} by {u}", u)) for u in people)
        )
        buttons = {}
        for u in people:
            mine = [d for s in chat.to(u) for _l, d in s.buttons if d.startswith("ups:")]
            assert mine, [s.text for s in chat.to(u)][-2:]
            buttons[u] = mine[-1]
        # ... and everyone presses Save at once
        await asyncio.gather(*(chat.app.process_update(chat.factory.press(buttons[u], u)) for u in people))

    async with sessionmaker() as session:
        comments = sorted(
            await session.scalars(
                select(ProgressUpdate.comment).where(ProgressUpdate.action_id == seeded.actions["1.1"])
            )
        )
    assert comments == sorted(f"round {r} by {u}" for r in range(rounds) for u in people)
    saved = [s for s in chat.sent if s.method == "answerCallbackQuery" and s.params.get("text") == "Saved"]
    assert len(saved) == rounds * len(people)
