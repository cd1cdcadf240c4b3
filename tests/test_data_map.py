"""deploy/DATA-PROTECTION.md stays true: it lists every table, each listed field is a real column, and
every column that refers to a person or Telegram account, or holds a name, contact detail or free text
about people, is listed as personal."""

from __future__ import annotations

import re
from pathlib import Path

from storage.models import Base
from storage.subject_access import member_columns, person_columns

MAP = Path(__file__).resolve().parent.parent / "deploy" / "DATA-PROTECTION.md"
# columns that hold what a person is called, how to reach them, or what someone wrote about them
PERSONAL_NAMES = re.compile(
    r"^(title|first_name|last_name|display_name|telegram_name|name|email|phone|notes|"
    r"comment|note|owners_text|actor_label|author_label|end_reason|detail)$"
)
NOT_ABOUT_PEOPLE = {
    ("specialism", "name"),
    ("school", "name"),
    ("holiday", "label"),
    ("plan", "title"),
    ("plan_section", "title"),
}


def _rows() -> dict[str, list[str]]:
    out = {}
    for line in MAP.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `(\w+)` \| ([^|]*) \|(?:[^|]*\|){3}\s*$", line)
        if match:
            out[match.group(1)] = re.findall(r"`(\w+)`", match.group(2))
    return out


def test_every_table_is_in_the_data_map():
    rows = _rows()
    assert set(rows) == set(Base.metadata.tables)


def test_listed_fields_are_columns_and_personal_columns_are_listed():
    rows = _rows()
    refs = {(t, c) for t, cols in {**person_columns()}.items() for c in cols} | {
        (t, c) for t, cols in member_columns().items() for c in cols
    }
    for name, tbl in Base.metadata.tables.items():
        listed = set(rows[name])
        assert listed <= {c.name for c in tbl.columns}, (name, listed - {c.name for c in tbl.columns})
        for col in tbl.columns:
            personal = (name, col.name) in refs or (
                PERSONAL_NAMES.match(col.name) and (name, col.name) not in NOT_ABOUT_PEOPLE
            )
            if personal and not (name == "person" and col.name == "id"):
                assert col.name in listed, f"{name}.{col.name} holds personal data but the data map omits it"
