"""Data protection: /mydata, /erase with its confirm button, /audit — the functions on both databases, and
the chat through the real Application."""

from __future__ import annotations

import json

from sqlalchemy import select

from handlers.privacy import collect_my_data, erase_person
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.directory import Person
from storage.members import AuditEntry, BotState, Member
from storage.mentions import pseudonym
from storage.plans import ActionOwner, ProgressUpdate
from tests.dbtools import UNICODE, populate, snapshot
from tests.harness import ChatDriver, Users

HEAD_TG = 5_000_000_001
PERSONAL = ["zoe@example.org", "01273 000000", UNICODE, "Zoë"]


async def test_collect_my_data(sessionmaker):
    ids = await populate(sessionmaker)
    async with sessionmaker() as session:
        doc = await collect_my_data(session, HEAD_TG)
    json.dumps(doc)  # a JSON document as it stands
    assert doc["member"]["role"] == "lead"
    assert doc["person"]["email"] == "zoe@example.org" and doc["person"]["specialisms"] == ["mathematics"]
    assert doc["person"]["school"] == "St Mary’s C of E Primary"
    assert doc["progress_updates"]["count"] == 2
    assert doc["progress_updates"]["latest"]["comment"] == "=SUM(A1:A9)"
    assert doc["progress_updates"]["latest"]["action_ref"] == "1.1"
    assert doc["buddy_matches_as_buddy"] == 1 and doc["actions_owned"] == ["1.1"]
    assert [e["action"] for e in doc["audit_entries_about_you"]] == ["person.update"]
    # someone else's document holds none of it
    async with sessionmaker() as session:
        other = await collect_my_data(session, 1001)
    assert other["member"] is None and other["person"] is None
    assert other["saved_chat_state"] and all(s["key"] != str(HEAD_TG) for s in other["saved_chat_state"])
    assert not any(p in json.dumps(other, ensure_ascii=False) for p in PERSONAL)
    assert ids["head"] == doc["person"]["id"]


async def test_erase_person_keeps_comments_as_former_member(sessionmaker):
    ids = await populate(sessionmaker)
    async with sessionmaker() as session:
        updates_before = [(u.id, u.comment, u.rag) for u in await session.scalars(select(ProgressUpdate))]
    async with sessionmaker.begin() as session:
        result = await erase_person(session, ids["head"], actor_id=1004)
    assert result.telegram_ids == [HEAD_TG] and result.updates_kept == 2

    async with sessionmaker() as session:
        assert await session.get(Person, ids["head"]) is None
        assert await session.get(Member, HEAD_TG) is None
        updates = list(await session.scalars(select(ProgressUpdate).order_by(ProgressUpdate.id)))
        assert [(u.id, u.comment, u.rag) for u in updates] == updates_before
        label = pseudonym(ids["head"])
        assert {(u.author_label, u.author_id, u.author_person_id) for u in updates} == {(label, None, None)}
        owner = (await session.scalars(select(ActionOwner))).one()
        assert owner.name == label and owner.person_id is None
        assert (await session.scalars(select(BuddyMatch))).all() == []
        assert (await session.scalars(select(CheckIn))).all() == []
        assert len((await session.scalars(select(Appointment))).all()) == 1  # the other head's appointment
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert entries[0].action == "person.update"
        assert entries[0].detail == {"field": "phone", "old": None, "new": "(text not logged)", "erased": label}
        assert entries[-1].action == "person.erase" and entries[-1].actor_id == 1004
        assert entries[-1].entity_id == str(ids["head"]) and entries[-1].detail["updates_kept"] == 2
        assert (await session.get(Person, ids["newbie"])).email == "sam@example.org"
    everything = json.dumps(await snapshot(sessionmaker.kw["bind"]), default=str, ensure_ascii=False)
    for value in PERSONAL:
        assert value not in everything

    async with sessionmaker.begin() as session:
        assert await erase_person(session, ids["head"], actor_id=1004) is None


async def _linked_member(sessionmaker, users: Users) -> int:
    async with sessionmaker.begin() as session:
        person = Person(first_name="Mo", last_name="Member", email="mo@example.org", phone="07700 900123")
        session.add(person)
        await session.flush()
        member = await session.get(Member, users.member)
        member.person_id = person.id
        return person.id


async def test_mydata_in_chat(chat: ChatDriver, users: Users, sessionmaker):
    await _linked_member(sessionmaker, users)
    sent = await chat.send("/mydata", user=users.member)
    assert [s.method for s in sent] == ["sendMessage", "sendDocument"]
    assert "mo@example.org" in sent[0].text and "07700 900123" in sent[0].text
    name, data = sent[1].document
    assert name == "mydata.json"
    doc = json.loads(data)
    assert doc["telegram_id"] == users.member and doc["person"]["last_name"] == "Member"
    # never in a group, where others would read it
    sent = await chat.send("/mydata", user=users.member, chat=-100555)
    assert len(sent) == 1 and "private chat" in sent[0].text and "mo@example.org" not in sent[0].text
    # a stranger gets their own (empty) record, nobody else's
    sent = await chat.send("/mydata", user=users.stranger)
    assert "You are not a member" in sent[0].text
    assert "mo@example.org" not in json.dumps(json.loads(sent[1].document[1]))


async def test_erase_needs_admin_and_confirmation(chat: ChatDriver, users: Users, sessionmaker):
    person_id = await _linked_member(sessionmaker, users)
    for who in (users.member, users.coordinator, users.stranger):
        sent = await chat.send(f"/erase {person_id}", user=who)
        assert "mo@example.org" not in sent[0].text and "Mo Member" not in sent[0].text
        refused = await chat.press(f"er:{person_id}:y", user=who)
        assert refused[0].method == "answerCallbackQuery"
    async with sessionmaker() as session:
        assert await session.get(Person, person_id) is not None

    sent = await chat.send(f"/erase {person_id}", user=users.admin)
    assert "Mo Member" in sent[0].text
    assert sent[0].buttons == [("Erase", f"er:{person_id}:y"), ("Cancel", f"er:{person_id}:n")]
    await chat.press(f"er:{person_id}:n", user=users.admin)
    async with sessionmaker() as session:
        assert await session.get(Person, person_id) is not None
    await chat.send(f"/erase {person_id}", user=users.admin)
    sent = await chat.press(f"er:{person_id}:y", user=users.admin)
    assert any("Erased: 1 member account removed" in s.text for s in sent)
    async with sessionmaker() as session:
        assert await session.get(Person, person_id) is None
        assert await session.get(Member, users.member) is None
        assert (await session.scalars(select(BotState).where(BotState.key == str(users.member)))).all() == []
    again = await chat.press(f"er:{person_id}:y", user=users.admin)
    assert any("already" in (s.text or s.params.get("text", "")) for s in again)  # a one-time button
    for bad in ("/erase", "/erase abc", "/erase 99999"):
        sent = await chat.send(bad, user=users.admin)
        assert "Usage" in sent[0].text or "no such person" in sent[0].text or "found nobody" in sent[0].text


async def test_audit_lists_latest_changes_for_admins_only(chat: ChatDriver, users: Users, sessionmaker):
    await chat.send("/grant 9001 member", user=users.admin)
    await chat.press("gy:9001:member", user=users.admin)  # /grant acts after Confirm
    sent = await chat.send("/audit 5", user=users.admin)
    assert "Admin made an unnamed account a member." in sent[0].text and "member.role" not in sent[0].text
    sent = await chat.send("/audit", user=users.coordinator)
    assert "made Member" not in sent[0].text
    sent = await chat.send("/audit lots", user=users.admin)
    assert "Usage" in sent[0].text
