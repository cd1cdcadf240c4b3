"""Nothing confirmed is lost: a bot process is SIGKILLed in the middle of a stream of progress updates;
after a restart every update the user saw "Saved" for is in the database, once, whole. And a user half-way
through /update when the bot dies carries on after the restart (persistent conversations)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from sqlalchemy import select

from storage.members import AuditEntry
from storage.plans import ProgressUpdate
from tests.durability_worker import comment
from tests.harness import add_members
from tests.plan_seed import seed_plan

ROOT = Path(__file__).resolve().parent.parent
KILL_AFTER = 8


async def _start(db_url: str, *args: str) -> asyncio.subprocess.Process:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.durability_worker",
        db_url,
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _lines(proc: asyncio.subprocess.Process, want: int | None) -> list[str]:
    """Lines from the worker: `want` of them, or all until it exits."""
    out: list[str] = []
    while want is None or len(out) < want:
        raw = await asyncio.wait_for(proc.stdout.readline(), timeout=120)
        if not raw:
            if want is not None:
                await proc.wait()
                raise AssertionError("the worker ended early: " + (await proc.stderr.read()).decode()[-2000:])
            break
        out.append(raw.decode().strip())
    return out


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        raise AssertionError("the worker ended by itself: " + (await proc.stderr.read()).decode()[-2000:])
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    assert proc.returncode == -signal.SIGKILL


async def _check_whole(sessionmaker) -> dict[str, int]:
    """Every progress row is whole (its comment is one we sent, its audit entry is there, in the same
    transaction) and no audit entry points at a missing row. Returns comment -> count."""
    async with sessionmaker() as session:
        rows = list(await session.scalars(select(ProgressUpdate)))
        audited = {
            e.entity_id for e in await session.scalars(select(AuditEntry).where(AuditEntry.entity == "progress_update"))
        }
    assert {str(r.id) for r in rows} == audited
    counts: dict[str, int] = {}
    for r in rows:
        assert re.fullmatch(r"(durability|resume) #\d+", r.comment), r.comment
        assert r.rag == "G" and r.author_id == 1002
        counts[r.comment] = counts.get(r.comment, 0) + 1
    return counts


async def test_sigkill_mid_stream_loses_nothing_confirmed(db_url, sessionmaker):
    await add_members(sessionmaker)
    await seed_plan(sessionmaker)

    proc = await _start(db_url, "stream", "1", "1000")
    confirmed = await _lines(proc, KILL_AFTER)
    await _kill(proc)  # somewhere in the middle of the next update
    # confirmations printed between our read and the kill count as confirmed too
    confirmed += (await proc.stdout.read()).decode().split("\n")
    saved = [int(x.split()[1]) for x in confirmed if x.startswith("SAVED")]
    assert saved == list(range(1, len(saved) + 1)) and len(saved) >= KILL_AFTER, confirmed

    counts = await _check_whole(sessionmaker)
    for i in saved:
        assert counts.get(comment(i)) == 1, f"confirmed update #{i} is missing"
    unconfirmed = set(counts) - {comment(i) for i in saved}
    assert len(unconfirmed) <= 1  # at most the one in flight, written whole but not yet confirmed

    # restart: the bot carries on from the same database
    proc = await _start(db_url, "stream", "2001", "3")
    more = await _lines(proc, None)
    assert await proc.wait() == 0, (await proc.stderr.read()).decode()[-2000:]
    assert more == ["SAVED 2001", "SAVED 2002", "SAVED 2003"]
    counts = await _check_whole(sessionmaker)
    for i in [*saved, 2001, 2002, 2003]:
        assert counts.get(comment(i)) == 1


async def test_a_conversation_survives_sigkill(db_url, sessionmaker):
    await add_members(sessionmaker)
    await seed_plan(sessionmaker)
    proc = await _start(db_url, "ask", "7")
    asked = await _lines(proc, 1)
    await _kill(proc)  # the user has the confirm button; the bot dies before they press it
    assert asked[0].startswith("ASKED ups:"), asked
    assert await _check_whole(sessionmaker) == {}

    proc = await _start(db_url, "press", asked[0].split()[1], "7")
    out = await _lines(proc, None)
    assert await proc.wait() == 0, (await proc.stderr.read()).decode()[-2000:]
    assert out == ["SAVED 7"]
    assert await _check_whole(sessionmaker) == {comment(7): 1}
