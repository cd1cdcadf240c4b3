"""Archiving a plan takes it out of use without losing anything; restoring puts it back.

An archived plan is not active (`Plan.active` is what every "Which plan?" keyboard, listing, reminder
and digest filters on) and remembers when and by whom it was archived. Its sections, actions and
progress stay as they were.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from storage import audit
from storage.plans import Plan


async def archive_plan(session: AsyncSession, plan_id: int, actor_id: int | None) -> Plan | None:
    """Archive plan `plan_id` (no change if it already is); None when there is no such plan."""
    plan = await session.get(Plan, plan_id)
    if plan is None:
        return None
    if plan.active or plan.archived_at is None:
        plan.active = False
        plan.archived_at = clock.now()
        plan.archived_by = actor_id
        plan.updated_by = actor_id
        audit.record(session, actor_id, "plan.archive", "plan", plan.id, title=plan.title)
        await session.flush()
    return plan


async def restore_plan(session: AsyncSession, plan_id: int, actor_id: int | None) -> Plan | None:
    """Make an archived plan active again; None when there is no such plan."""
    plan = await session.get(Plan, plan_id)
    if plan is None:
        return None
    if not plan.active or plan.archived_at is not None:
        plan.active = True
        plan.archived_at = None
        plan.archived_by = None
        plan.updated_by = actor_id
        audit.record(session, actor_id, "plan.restore", "plan", plan.id, title=plan.title)
        await session.flush()
    return plan
