"""Changes to someone else's entry wait for a coordinator.

A member registering a new head other than themselves (`/newhead` for the school, the trust, or a
colleague) makes a *pending* appointment: an `EntryChange` row holding what `register_appointment` would
be given, and nothing in the directory changes. A coordinator confirms (the appointment is then made,
by them) or rejects it. Proposal and decision are both in the audit log. Coordinators' own changes and a
member's changes to their own entry apply at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.i18n import _
from directory import appointments as ap
from storage import audit
from storage.directory import EntryChange


class ChangeError(Exception):
    """Translated, for the user."""


async def propose_appointment(
    session: AsyncSession, actor_id: int | None, values: dict[str, Any], summary: str
) -> EntryChange:
    payload = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}
    change = EntryChange(
        kind="appointment",
        person_id=values.get("person_id"),
        payload=payload,
        summary=summary[:4000],
        proposed_by=actor_id,
        status="pending",
    )
    session.add(change)
    await session.flush()
    audit.record(
        session,
        actor_id,
        "change.propose",
        "entry_change",
        change.id,
        kind="appointment",
        person_id=values.get("person_id"),
        start_date=payload.get("start_date"),
    )
    return change


async def decide(
    session: AsyncSession, change_id: int, actor_id: int | None, confirm: bool
) -> tuple[EntryChange, ap.Registration | None]:
    """Confirm or reject a waiting change: one conditional write (UPDATE … WHERE status = 'pending' RETURNING),
    so of two presses at once exactly one decides; the other is told it has already been decided."""
    won = (
        await session.execute(
            update(EntryChange)
            .where(EntryChange.id == change_id, EntryChange.status == "pending")
            .values(status="confirmed" if confirm else "rejected", decided_by=actor_id, decided_at=clock.now())
            .returning(EntryChange.id)
            .execution_options(synchronize_session=False)
        )
    ).first()
    change = await session.get(EntryChange, change_id, populate_existing=True)
    if change is None:
        raise ChangeError(_("That change is no longer waiting."))
    if won is None:
        if change.status == "erased":  # its subject's data was erased (storage/erasure.py): nothing to re-create
            raise ChangeError(_("This person's data has been erased. Nothing was changed."))
        raise ChangeError(_("That change has already been decided."))
    registration = None
    if confirm and change.kind == "appointment":
        values = dict(change.payload)
        values["start_date"] = dt.date.fromisoformat(values["start_date"])
        values.pop("actor_id", None)
        registration = await ap.register_appointment(session, actor_id=actor_id, **values)
        registration.appointment.reported_by = change.proposed_by  # who reported it; the audit says who confirmed
    await session.flush()
    audit.record(
        session,
        actor_id,
        "change.confirm" if confirm else "change.reject",
        "entry_change",
        change.id,
        kind=change.kind,
        proposed_by=change.proposed_by,
        appointment_id=registration.appointment.id if registration else None,
    )
    return change, registration
