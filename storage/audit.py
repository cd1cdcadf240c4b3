"""The audit log: every change to data records who made it and when.

Details hold ids, codes, counts and dates, never names or what someone typed: a string is kept only under a
key on `TEXT_KEYS` (codes such as a role, a field's name, a RAG rating, a term, a file name), or, for the
entities on `ENTITY_TEXT`, the name of a school or the title of a plan (not personal data). Any other
string is stored as `WITHHELD`. So a later erasure or retention run has nothing to chase in the log but
ids (storage/erasure.py), and a caller cannot put a name in by accident. Numbers, booleans and None are
kept as they are (ids, counts, flags)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.members import AuditEntry

WITHHELD = "(text not logged)"
# Keys whose string values are codes, dates or file names, not what a person typed or is called.
TEXT_KEYS = frozenset(
    {
        "action",
        "answer",
        "appointment_status",
        "at",
        "date",
        "end",
        "field",
        "file",
        "kind",
        "left_on",
        "made",
        "on",
        "privacy_agreed_at",
        "privacy_notice",
        "rag",
        "ref",
        "refs",
        "relation",
        "role",
        "source",
        "start",
        "start_date",
        "status",
        "term",
        "until",
        "needs",
        "before",
        "accounts",
        "kept",
        "erased",
        "label",
    }
)
ENTITY_TEXT = {"school": frozenset({"name"}), "plan": frozenset({"title"}), "database": frozenset({"source"})}


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
        detail=safe_detail(_jsonable(detail), entity),
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


def safe_detail(detail: dict[str, Any], entity: str = "") -> dict[str, Any]:
    """`detail` with every string not under an allowed key replaced by WITHHELD (nested values are judged
    by the nearest key above them)."""
    allowed = TEXT_KEYS | ENTITY_TEXT.get(entity, frozenset())

    def walk(value: Any, key: str) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str) and key not in allowed:
            return WITHHELD
        return value

    out = walk(detail, "")
    return out if isinstance(out, dict) else {}


def recent(limit: int = 20) -> Select[tuple[AuditEntry]]:
    return select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
