"""The daily retention job (storage/retention.py does the work; the schedule is in settings)."""

from __future__ import annotations

import datetime as dt
import logging

from core.services import BotContext
from handlers.erase_memory import forget_accounts_in_memory
from handlers.manifest import Job, Manifest
from storage import audit
from storage.retention import RETENTION_ACTION, Schedule, apply_retention

log = logging.getLogger(__name__)

RETENTION_AT = dt.time(3, 30)  # night, when nobody is mid-conversation


async def retention_job(context: BotContext) -> None:
    services = context.services
    forgotten: list[int] = []
    async with services.session() as session:
        done = await apply_retention(session, Schedule.from_settings(services.settings), forgotten=forgotten)
        # Counts only (no personal data), so /stats can say what the last run removed.
        audit.record(session, None, RETENTION_ACTION, "retention", "", actor_label="retention job", **done)
    if forgotten:  # the running bot forgets them too: in-memory state, conversations, command menu
        await forget_accounts_in_memory(context.application, forgotten)
    if done.get("former_members"):
        await services.refresh_directory()
    log.info("retention applied: %s", ", ".join(f"{k}={v}" for k, v in done.items()))  # counts only


MANIFEST = Manifest("retention", jobs=(Job("retention", retention_job, daily=RETENTION_AT),))
