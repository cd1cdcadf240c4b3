"""Subject access, complete: /mydata and `partnerbot admin mydata` cover every table that refers to a
person or a Telegram account (the set derived here from the models, independently of the code), with
every progress update, appointments reported, pairings and check-in answers, requests and audit entries."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from sqlalchemy import BigInteger, or_, select

from handlers.privacy import collect_my_data
from storage import audit
from storage.buddies import Appointment, CheckIn
from storage.desk import DeskState
from storage.members import AccessRequest
from storage.models import Base
from storage.plans import Action, PlanCoordinator, ProgressUpdate, ReminderSent
from storage.subject_access import covered_tables, member_columns, person_columns
from tests.dbtools import populate
from tests.harness import ChatDriver, Users

HEAD_TG = 5_000_000_001
ROOT = Path(__file__).resolve().parent.parent


def _references() -> dict[str, list[str]]:
    """Columns that point at a person or a Telegram user, by a rule written for the test."""
    out: dict[str, list[str]] = {}
    for tbl in Base.metadata.sorted_tables:
        for col in tbl.columns:
            to_person = (
                any(fk.column.table.name == "person" for fk in col.foreign_keys)
                or tbl.name == "person"
                and col.name == "id"
            )
            telegram = (
                isinstance(col.type, BigInteger)
                and not col.foreign_keys
                and not col.name.endswith(("chat_id", "message_id"))
                and (col.name in ("telegram_id", "actor_id", "author_id", "responder_id") or col.name.endswith("_by"))
            )
            if to_person or telegram:
                out.setdefault(tbl.name, []).append(col.name)
    return out


def test_covered_tables_are_derived_from_the_models():
    expected = set(_references())
    assert covered_tables() == expected
    # the tables the issue names are among them
    assert {
        "member",
        "person",
        "progress_update",
        "appointment",
        "buddy_match",
        "access_request",
        "audit_log",
        "plan_action_owner",
        "plan_coordinator",
        "reminder_sent",
        "buddy_checkin",
    } <= expected
    for table, cols in _references().items():
        assert set(cols) == set(person_columns().get(table, [])) | set(member_columns().get(table, [])), table


async def _three_updates_and_more(sessionmaker, ids: dict[str, int]) -> None:
    async with sessionmaker.begin() as s:
        action_id = (await s.scalars(select(Action.id))).first()
        plan_id = (await s.scalars(select(Action.plan_id))).first()
        s.add(
            ProgressUpdate(
                action_id=action_id,
                rag="G",
                comment="Third: all staff trained",
                academic_year=2025,
                term="spring",
                author_id=HEAD_TG,
            )
        )
        s.add(
            Appointment(
                person_id=ids["newbie"],
                start_date=(await s.get(Appointment, 1)).start_date,
                reported_by=HEAD_TG,
                reporter_relation="school",
            )
        )
        for c in await s.scalars(select(CheckIn)):
            c.responder_id, c.answer, c.comment = HEAD_TG, "good", "Going well, we meet fortnightly"
        s.add_all(
            [
                PlanCoordinator(plan_id=plan_id, telegram_id=HEAD_TG),
                DeskState(telegram_id=HEAD_TG),
                ReminderSent(plan_id=plan_id, telegram_id=HEAD_TG, academic_year=2025, term="autumn"),
                AccessRequest(telegram_id=HEAD_TG, name="Zoë", school="St Mary’s", status="approved"),
            ]
        )
        audit.record(s, HEAD_TG, "progress.add", "action", action_id, rag=["A", "G"])


async def test_mydata_document_covers_every_referring_row(sessionmaker):
    ids = await populate(sessionmaker)
    await _three_updates_and_more(sessionmaker, ids)
    async with sessionmaker() as session:
        doc = await collect_my_data(session, HEAD_TG)
        refs = _references()
        held = doc["held"]
        for name, cols in refs.items():
            tbl = Base.metadata.tables[name]
            clauses = [
                tbl.c[c] == (ids["head"] if name == "person" or tbl.c[c].foreign_keys else HEAD_TG) for c in cols
            ]
            rows = (await session.execute(select(tbl).where(or_(*clauses)))).all()
            assert len(held.get(name, [])) >= len(rows), name  # every row that refers to them is in the file
    json.dumps(doc)
    assert [u["comment"] for u in doc["progress_updates"]["all"]] == [
        "Started — 50% done 🚀",
        "=SUM(A1:A9)",
        "Third: all staff trained",
    ]
    assert doc["progress_updates"]["all"][1]["kind"] == "correction"
    assert [a["reporter_relation"] for a in doc["appointments_reported"]] == ["school"]
    assert len(doc["pairings"]) == 1 and doc["check_ins"][0]["comment"] == "Going well, we meet fortnightly"
    assert [e["action"] for e in doc["changes_you_made"]][-1] == "progress.add"
    assert doc["changes_you_made"][-1]["detail"] == {"rag": ["A", "G"]}
    assert {"plan_coordinator", "desk_state", "reminder_sent", "buddy_checkin"} <= set(doc["held"])
    # a plan they coordinate is listed, not copied whole (its actions are the partnership's, not theirs)
    assert "plan_action" not in doc["held"]


async def test_mydata_in_chat_lists_what_they_did(chat: ChatDriver, users: Users, sessionmaker):
    ids = await populate(sessionmaker)
    await _three_updates_and_more(sessionmaker, ids)
    sent = await chat.send("/mydata", user=HEAD_TG)
    assert [s.method for s in sent] == ["sendMessage", "sendDocument"]
    text = sent[0].text
    assert "3 progress updates by you" in text and "1 new appointment you reported" in text
    assert "1 buddy check-in" in text and "changes you made" in text
    doc = json.loads(sent[1].document[1])
    assert len(doc["progress_updates"]["all"]) == 3


async def test_admin_mydata_command_line(db_url, sessionmaker, tmp_path):
    ids = await populate(sessionmaker)
    await _three_updates_and_more(sessionmaker, ids)
    out = tmp_path / "mydata.json"
    env = {**os.environ, "DATABASE_URL": db_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from cli.main import main; main()",
        "admin",
        "mydata",
        str(ids["head"]),
        "--out",
        str(out),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    printed = (await proc.communicate())[0].decode()
    assert proc.returncode == 0, printed
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["person"]["email"] == "zoe@example.org" and doc["telegram_ids"] == [HEAD_TG]
    assert len(doc["progress_updates"]["all"]) == 3 and "3 progress updates" in printed
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from cli.main import main; main()",
        "admin",
        "mydata",
        "999999",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    printed = (await proc.communicate())[0].decode()
    assert proc.returncode == 1 and "no person 999999" in printed
