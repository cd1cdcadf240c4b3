"""Archiving a plan takes it out of use without losing anything; restoring puts it back; renaming gives
it the title every report and export is headed with.

An archived plan is not active (`Plan.active` is what every "Which plan?" keyboard, listing, reminder
and digest filters on) and remembers when and by whom it was archived. Its sections, actions and
progress stay as they were.
"""

from __future__ import annotations

import re

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


TITLE_LIMIT = 300  # the column's size


def clean_title(text: str) -> str | None:
    """A plan title as typed: spaces and control characters tidied; None when nothing is left or it is too
    long to head a page."""
    title = re.sub(r"\s+", " ", re.sub(r"[\x00-\x1f\x7f]", " ", text or "")).strip()
    if not title or len(title) > TITLE_LIMIT:
        return None
    return title


async def rename_plan(session: AsyncSession, plan_id: int, title: str, actor_id: int | None) -> Plan | None:
    """Give plan `plan_id` the title `title` (already cleaned); None when there is no such plan."""
    plan = await session.get(Plan, plan_id)
    if plan is None:
        return None
    if plan.title != title:
        audit.record(session, actor_id, "plan.rename", "plan", plan.id, before=plan.title, title=title)
        plan.title = title
        plan.updated_by = actor_id
        await session.flush()
    return plan
