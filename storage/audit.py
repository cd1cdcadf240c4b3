"""The audit log: every change to data records who made it and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.members import AuditEntry


def record(
    session: AsyncSession,
    actor_id: int | None,
    action: str,
    entity: str = "",
    entity_id: object = "",
    actor_label: str = "",
    **detail: Any,
) -> AuditEntry:
    """Add an audit entry to the session's transaction (it commits with the change it describes)."""
    entry = AuditEntry(
        actor_id=actor_id,
        actor_label=actor_label or ("command line" if actor_id is None else ""),
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        detail=_jsonable(detail),
    )
    session.add(entry)
    return entry


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def recent(limit: int = 20) -> Select[tuple[AuditEntry]]:
    return select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
