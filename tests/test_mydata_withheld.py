"""/mydata is what is about me and what I wrote (issue 22, scenario 4): a buddy's confidential check-in
comment about Helen, kept for the coordinator, and the buddy's account id are withheld from Helen's copy
(she is told that something was withheld) and listed for the DPO in the admin's export; the buddy's own
/mydata has their words. Both databases, through the bot."""

from __future__ import annotations

import datetime as dt
import json

from handlers.privacy import collect_my_data
from storage import audit
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.directory import Person
from storage.members import Member
from storage.subject_access import WITHHELD
from tests.harness import ChatDriver

HELEN_TG = 6_000_000_001
BUDDY_TG = 6_000_000_002
SECRET = "CONFIDENTIAL for coordinator: Helen is not coping"


async def _pairing(sessionmaker) -> int:
    async with sessionmaker.begin() as s:
        helen = Person(first_name="Helen", last_name="Ashworth", email="helen@example.org")
        buddy = Person(first_name="Bea", last_name="Buddy", email="bea@example.org")
        s.add_all([helen, buddy])
        await s.flush()
        s.add_all(
            [
                Member(telegram_id=HELEN_TG, role="member", display_name="Helen", person_id=helen.id),
                Member(telegram_id=BUDDY_TG, role="member", display_name="Bea", person_id=buddy.id),
            ]
        )
        appointment = Appointment(person_id=helen.id, start_date=dt.date(2026, 9, 1))
        s.add(appointment)
        await s.flush()
        match = BuddyMatch(appointment_id=appointment.id, buddy_person_id=buddy.id, status="accepted")
        s.add(match)
        await s.flush()
        s.add_all(
            [
                CheckIn(
                    match_id=match.id,
                    kind="two_weeks",
                    due_date=dt.date(2026, 9, 14),
                    answer="struggling",
                    comment=SECRET,
                    responder_id=BUDDY_TG,
                ),
                CheckIn(
                    match_id=match.id,
                    kind="half_term",
                    due_date=dt.date(2026, 10, 20),
                    answer="good",
                    comment="Feeling better, thanks Bea",
                    responder_id=HELEN_TG,
                ),
            ]
        )
        # Helen, as a coordinator, once approved the buddy's request: her own change, the buddy's id in it
        audit.record(s, HELEN_TG, "access.approve", "access_request", 1, applicant=BUDDY_TG)
        return helen.id


async def test_mydata_withholds_other_peoples_confidential_words(chat: ChatDriver, sessionmaker) -> None:
    helen_id = await _pairing(sessionmaker)
    sent = await chat.send("/mydata", user=HELEN_TG)
    assert [s.method for s in sent] == ["sendMessage", "sendDocument"]
    assert "withheld" in sent[0].text and "not coping" not in sent[0].text
    raw = sent[1].document[1].decode()
    assert "not coping" not in raw and str(BUDDY_TG) not in raw  # not anywhere in the file
    doc = json.loads(raw)
    assert "Feeling better, thanks Bea" in raw  # what she wrote is hers
    assert doc["withheld"] >= 3 and "for_dpo_review" not in doc
    assert doc["changes_you_made"][0]["detail"] == {"applicant": WITHHELD}
    assert [c["comment"] for c in doc["check_ins"]] == [WITHHELD, "Feeling better, thanks Bea"]
    assert {c["answer"] for c in doc["check_ins"]} == {"struggling", "good"}  # the answer is about her

    # the admin's export (partnerbot admin mydata) flags them for the DPO, who decides
    async with sessionmaker() as session:
        export = await collect_my_data(session, HELEN_TG, person_id=helen_id, for_admin=True)
    flagged = export["for_dpo_review"]
    assert any(r["value"] == SECRET and r["column"] == "comment" for r in flagged)
    assert any(r["value"] == BUDDY_TG for r in flagged)

    # the buddy's own /mydata holds their words
    sent = await chat.send("/mydata", user=BUDDY_TG)
    assert SECRET in sent[1].document[1].decode()
