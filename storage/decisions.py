"""A decision is one conditional write: `UPDATE … WHERE id = :id AND <still undecided> … RETURNING id`.

Two presses at once (two coordinators, the buddy and a coordinator, two devices) each send that one
statement; the database applies them one after the other (PostgreSQL re-checks the condition on the row
a first writer committed, SQLite lets one writer in at a time), so exactly one finds the row still
undecided and changes it. The other changes nothing and is told what happened instead. Reading the status
first and writing it afterwards (what a press did before) lets both win.

Used by the buddy answers and the end of a pairing (directory/appointments.py); new decisions (access
requests, support brokering …) call `decide` the same way. Where a decision *adds* a row instead (a buddy
asked, an update corrected) a unique index is the condition: see storage/buddies.py and storage/plans.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.ext.asyncio import AsyncSession


async def decide(
    session: AsyncSession, model: type[Any], ident: int, *conditions: ColumnElement[bool], **values: Any
) -> bool:
    """Set `values` on row `ident` of `model` only while every condition holds; True when this call did it.

    The objects of that row already in the session are refreshed from what was written."""
    statement = (
        update(model)
        .where(model.id == ident, *conditions)
        .values(**values)
        .returning(model.id)
        .execution_options(synchronize_session="fetch")
    )
    return (await session.execute(statement)).first() is not None
