"""Erasure, complete: after erasing a person nothing in any column of any table, nor in a fresh backup,
carries their name, phone or email — only "former member" — and a restore of an older backup erases
them again. Both databases."""

from __future__ import annotations

import json
import zipfile

from sqlalchemy import select

from handlers.privacy import erase_person
from storage import backup
from storage.directory import Person
from storage.members import AccessRequest, AuditEntry, Member
from storage.mentions import pseudonym
from storage.models import Base
from storage.plans import Action, ProgressUpdate
from tests.dbtools import UNICODE, populate

HEAD_TG = 5_000_000_001
# the head's identifiers as stored, and as other people typed them
IDENTIFIERS = ["zoe@example.org", "01273 000000", "01273-000-000", "+44 1273 000000", UNICODE, "Dr Zoë", "Zoë O’Brien"]


async def _name_them_everywhere(sessionmaker, ids: dict[str, int]) -> None:
    async with sessionmaker.begin() as s:
        for action in await s.scalars(select(Action)):
            action.owners_text = "Dr Zoë / SN"
        req = AccessRequest(
            telegram_id=9002,
            name="Pat Deputy",
            telegram_name="pat",
            school=f"deputy to Zoë {UNICODE}, call 01273-000-000 or ZOE@example.org",
        )
        s.add(req)
        await s.flush()
        # an entry written before the audit log stopped keeping typed text (storage/audit.py)
        s.add(
            AuditEntry(
                actor_id=None,
                action="access.request",
                entity="access_request",
                entity_id=str(req.id),
                detail={"name": "Pat Deputy", "school": "deputy to Dr Zoë (+44 1273 000000)"},
            )
        )
        newbie = await s.get(Person, ids["newbie"])
        newbie.notes = "Buddy: Dr Zoë, zoe@example.org"
        s.add(
            ProgressUpdate(
                action_id=(await s.scalars(select(Action.id))).first(),
                comment="Met Dr Zoë today",
                academic_year=2025,
                term="autumn",
                author_id=1001,
            )
        )


def _everything(rows: dict[str, list]) -> str:
    return json.dumps(rows, default=str, ensure_ascii=False)


async def _all_rows(engine) -> dict[str, list]:
    out = {}
    async with engine.connect() as conn:
        for tbl in Base.metadata.sorted_tables:  # every column of every table, whatever its type
            out[tbl.name] = [[str(v) for v in row] for row in (await conn.execute(select(tbl))).all()]
    return out


def _leaks(text: str) -> list[str]:
    return [x for x in IDENTIFIERS if x.lower() in text.lower()]


async def test_erase_leaves_no_name_phone_or_email_anywhere(sessionmaker, tmp_path):
    ids = await populate(sessionmaker)
    await _name_them_everywhere(sessionmaker, ids)
    engine = sessionmaker.kw["bind"]
    assert len(_leaks(_everything(await _all_rows(engine)))) == len(IDENTIFIERS)  # the test can fail
    older = tmp_path / "before.zip"
    await backup.backup(engine, older)

    async with sessionmaker.begin() as s:
        result = await erase_person(s, ids["head"], actor_id=1004)
    assert len(result.redacted) >= 5

    rows = await _all_rows(engine)
    assert _leaks(_everything(rows)) == []
    fresh = tmp_path / "after.zip"
    await backup.backup(engine, fresh)
    with zipfile.ZipFile(fresh) as zf:
        assert _leaks("".join(zf.read(n).decode() for n in zf.namelist())) == []
    FORMER_MEMBER = pseudonym(ids["head"])
    async with sessionmaker() as s:
        action = (await s.scalars(select(Action))).first()
        assert action.owners_text == f"{FORMER_MEMBER} / SN"
        request = (await s.scalars(select(AccessRequest).where(AccessRequest.telegram_id == 9002))).one()
        assert request.name == "Pat Deputy" and request.school.count(FORMER_MEMBER) == 3
        comments = [u.comment for u in await s.scalars(select(ProgressUpdate).order_by(ProgressUpdate.id))]
        assert comments[-1] == f"Met {FORMER_MEMBER} today" and "Started — 50% done 🚀" in comments
        assert (await s.get(Person, ids["newbie"])).notes == f"Buddy: {FORMER_MEMBER}, {FORMER_MEMBER}"

    # restoring the older backup (made before the erasure) erases them again
    await backup.restore(engine, older)
    assert _leaks(_everything(await _all_rows(engine))) == []
    async with sessionmaker() as s:
        assert await s.get(Person, ids["head"]) is None and await s.get(Member, HEAD_TG) is None
        assert (await s.get(Person, ids["newbie"])).email == "sam@example.org"  # nobody else is touched
