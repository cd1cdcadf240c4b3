"""The sandbox that reads files we did not write: results and the job's own errors come back; a job that
allocates past its memory limit, loops forever or dies gets a clear refusal and leaves no process; and
the bot answers another user while a file is being read (ordering, not timing)."""

from __future__ import annotations

import asyncio
import os

import pytest

from core import sandbox
from core.sandbox import Limits, SandboxCrash, SandboxMemory, SandboxTimeout, run_bounded, run_bounded_sync
from plans.parsed import PlanImportError
from tests.harness import ChatDriver, Users, hold_next_child
from tests.sandbox_jobs import allocate_gigabyte, die, double, refuse, spin

SMALL = Limits(seconds=2.0, memory_bytes=400 * sandbox.MB)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_result_and_the_jobs_own_error_come_back() -> None:
    assert await run_bounded(double, 21, limits=SMALL) == 42
    with pytest.raises(PlanImportError, match="no table here"):
        await run_bounded(refuse, "no table here", limits=SMALL)


def test_memory_past_the_limit_is_refused_clearly() -> None:
    pids: list[int] = []
    with pytest.raises(SandboxMemory, match="more than 400 MB of memory"):
        run_bounded_sync(allocate_gigabyte, limits=SMALL, started=pids.append)
    assert pids and _gone(pids[0])
    # Without the limit the same job succeeds: the refusal came from the limit.
    assert (
        run_bounded_sync(allocate_gigabyte, limits=Limits(seconds=30, memory_bytes=2048 * sandbox.MB))
        == 1024 * sandbox.MB
    )


def test_a_job_that_never_ends_is_stopped_and_killed() -> None:
    pids: list[int] = []
    with pytest.raises(SandboxTimeout, match="longer than 1 second"):
        run_bounded_sync(spin, limits=Limits(seconds=1.0, memory_bytes=400 * sandbox.MB), started=pids.append)
    assert pids and _gone(pids[0])


def test_a_job_that_dies_is_reported() -> None:
    with pytest.raises(SandboxCrash):
        run_bounded_sync(die, limits=SMALL)


async def test_the_bot_answers_others_while_a_file_is_read(chat: ChatDriver, users: Users) -> None:
    """The coordinator's file is held mid-read (its reader stopped with SIGSTOP); a member's /help is
    answered meanwhile; then the read goes on and the preview arrives."""
    plan = b"| Ref | Action | Lead |\n|---|---|---|\n| 1.1 | Phonics training | L Draycott |\n"
    file_id = chat.request.add_file(plan)
    update = chat.factory.document(file_id, "plan.md", len(plan), users.coordinator, "plan", None)
    async with hold_next_child() as child:
        reading = asyncio.create_task(chat.app.process_update(update))
        await child.started()
        answered = await chat.send("/help", user=users.member)
        assert answered and answered[0].chat_id == users.member
        assert not chat.to(users.coordinator)  # the file is still being read
        assert not reading.done()
    await reading
    assert "Import this plan?" in "\n".join(s.text for s in chat.to(users.coordinator))
