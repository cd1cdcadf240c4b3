"""Subject access: every row that refers to one person or one Telegram account, found from the models.

Which tables and columns are read is derived from `Base.metadata`, not listed by hand, so a new table
cannot be forgotten: a column refers to a person when it is a foreign key to `person.id`; it refers to a
member when it is a foreign key to `member.telegram_id` or a Telegram id column (a big integer that is
not a key of its own table, not a foreign key, and not a chat or message id). Rows of tables that hang
off a collected row by a foreign key (a check-in off a buddy match) are collected too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Column, Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import Base

# Big integers that are not Telegram users: chats, messages, and the directory change counter.
NOT_PEOPLE = frozenset({"chat_id", "message_id", "digest_chat_id", "counter"})


def _is_telegram_id(col: Column[Any]) -> bool:
    if col.foreign_keys:
        return any(fk.target_fullname == "member.telegram_id" for fk in col.foreign_keys)
    if col.name in NOT_PEOPLE or not isinstance(col.type, BigInteger):
        return False
    # a surrogate key (autoincrementing id) is not a Telegram id; a natural one (member.telegram_id) is
    return not (col.primary_key and col.autoincrement is not False)


def person_columns() -> dict[str, list[str]]:
    """table -> columns holding a person id."""
    out: dict[str, list[str]] = {}
    for tbl in Base.metadata.sorted_tables:
        cols = [c.name for c in tbl.columns if any(fk.target_fullname == "person.id" for fk in c.foreign_keys)]
        if tbl.name == "person":
            cols.append("id")
        if cols:
            out[tbl.name] = cols
    return out


def member_columns() -> dict[str, list[str]]:
    """table -> columns holding a Telegram id."""
    out: dict[str, list[str]] = {}
    for tbl in Base.metadata.sorted_tables:
        cols = [c.name for c in tbl.columns if _is_telegram_id(c)]
        if cols:
            out[tbl.name] = cols
    return out


def covered_tables() -> set[str]:
    return set(person_columns()) | set(member_columns())


def _json(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _key(tbl: Table, row: Any) -> str:
    cols = list(tbl.primary_key.columns) or list(tbl.columns)
    return repr([row._mapping[c] for c in cols])


def _dict(tbl: Table, row: Any) -> dict[str, Any]:
    return {c.name: _json(v) for c, v in zip(tbl.columns, row)}


async def rows_about(
    session: AsyncSession, person_id: int | None, telegram_ids: list[int]
) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table referring to the person or the accounts, plus the rows hanging off them."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    follow: set[str] = set()  # tables whose rows are the person's own, so rows hanging off them are too
    people, members = person_columns(), member_columns()
    for tbl in Base.metadata.sorted_tables:
        clauses = []
        if person_id is not None:
            clauses += [tbl.c[c] == person_id for c in people.get(tbl.name, [])]
        if telegram_ids:
            clauses += [tbl.c[c].in_(telegram_ids) for c in members.get(tbl.name, [])]
        if not clauses:
            continue
        for row in (await session.execute(select(tbl).where(or_(*clauses)))).all():
            found.setdefault(tbl.name, {})[_key(tbl, row)] = _dict(tbl, row)
        # a plan they last edited is not theirs (its actions are not their data); a request they made is
        if tbl.name in found and (tbl.name in people or "telegram_id" in members.get(tbl.name, [])):
            follow.add(tbl.name)
    # children: rows with a foreign key to a collected row (buddy_match -> check_in), to a fixed point
    changed = True
    while changed:
        changed = False
        for tbl in Base.metadata.sorted_tables:
            for col in tbl.columns:
                for fk in col.foreign_keys:
                    parent, key = fk.column.table.name, fk.column.name
                    if parent not in follow:
                        continue
                    keys = [r[key] for r in found[parent].values() if r.get(key) is not None]
                    if not keys:
                        continue
                    for row in (await session.execute(select(tbl).where(col.in_(keys)))).all():
                        if _key(tbl, row) not in found.get(tbl.name, {}):
                            found.setdefault(tbl.name, {})[_key(tbl, row)] = _dict(tbl, row)
                            follow.add(tbl.name)
                            changed = True
    return {name: list(rows.values()) for name, rows in sorted(found.items())}


# --- what is withheld from the subject ----------------------------------------------------------------
# Other people's words kept in confidence: (table, column) -> the column saying who wrote them. Withheld
# from the subject's own copy when someone else wrote them (UK GDPR Art. 15(4), DPA 2018 Sch. 2 para 16:
# third-party data), and flagged for the DPO in the admin's export, who decides whether to release them.
CONFIDENTIAL_WORDS = {
    ("buddy_checkin", "comment"): "responder_id",
    ("buddy_match", "end_reason"): "ended_by",
}
WITHHELD = "(withheld: another person's information, reviewed by the data protection officer on request)"


def withhold(
    held: dict[str, list[dict[str, Any]]], telegram_ids: list[int]
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """`held` as the subject may see it, and what was withheld (table, row, column, value) for the DPO:
    other people's confidential words, and every other account's Telegram id."""
    mine = set(telegram_ids)
    members = member_columns()
    out: dict[str, list[dict[str, Any]]] = {}
    review: list[dict[str, Any]] = []
    for name, found in held.items():
        tbl = Base.metadata.tables[name]
        keys = [c.name for c in tbl.primary_key.columns]
        rows_out = []
        for row in found:
            row = dict(row)
            for (table, column), author in CONFIDENTIAL_WORDS.items():
                if table == name and row.get(column) and row.get(author) not in mine:
                    review.append(
                        {
                            "table": name,
                            "key": [row.get(k) for k in keys],
                            "column": column,
                            "value": row[column],
                            "why": "another person's words, kept in confidence",
                        }
                    )
                    row[column] = WITHHELD
            for column in members.get(name, []):
                value = row.get(column)
                if value is not None and value not in mine:
                    review.append(
                        {
                            "table": name,
                            "key": [row.get(k) for k in keys],
                            "column": column,
                            "value": value,
                            "why": "another account's Telegram id",
                        }
                    )
                    row[column] = WITHHELD
            rows_out.append(row)
        out[name] = rows_out
    return out, review
