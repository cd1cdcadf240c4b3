"""The desk's world, shared by the chat's and the Mini App's desk tests: a synthetic directory, a new head
waiting for a buddy (Nadia Quill) and a paired new head (Omar Reyes) whose suggested buddy has been asked. Each
test then adds the accounts, answers and queues it needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from directory import appointments as ap
from directory import synthetic


@dataclass
class Heads:
    waiting: Any  # the registration of the head without a buddy
    paired: Any  # the registration of the head whose buddy has been asked
    buddy: Any  # the suggestion asked (person_id, name)
    match: Any  # the buddy request


async def waiting_and_paired(
    session: AsyncSession,
    coordinator: int,
    today: dt.date,
    start: dt.date,
    size: tuple[int, int] = (120, 90),
) -> Heads:
    directory = synthetic.make_directory(*size, seed=7, today=today)
    school_ids, _p = await synthetic.insert_directory(session, directory)
    primaries = [s for s in directory.schools if s.phase == "primary"]
    waiting = await ap.register_appointment(
        session,
        actor_id=coordinator,
        first_name="Nadia",
        last_name="Quill",
        start_date=start,
        school_id=school_ids[primaries[0].id],
        relation="office",
    )
    paired = await ap.register_appointment(
        session,
        actor_id=coordinator,
        first_name="Omar",
        last_name="Reyes",
        start_date=dt.date(2025, 9, 1),
        school_id=school_ids[primaries[1].id],
        relation="office",
    )
    await session.flush()
    buddy = (await ap.propose(session, paired.appointment.id, k=1, today=today))[0]
    match = await ap.request_buddy(session, paired.appointment.id, buddy.person_id, coordinator, today=today)
    return Heads(waiting, paired, buddy, match)
