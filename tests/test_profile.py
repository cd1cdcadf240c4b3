"""Members keep their own entry up to date: /me and /edit, validated and audited."""

from __future__ import annotations

from sqlalchemy import select

from storage.directory import Person, School
from storage.members import AuditEntry, Member
from tests.harness import ChatDriver, Users


async def link_member(sessionmaker, telegram_id: int) -> int:
    async with sessionmaker.begin() as session:
        school = School(name="Oakfield Primary School", phase="primary", locality="Riverside")
        person = Person(
            title="Mrs",
            first_name="Ada",
            last_name="Okafor",
            job_title="Headteacher",
            is_head=True,
            school=school,
            phone="01632 960001",
            email="ada@oakfield.example",
        )
        session.add(person)
        await session.flush()
        (await session.get(Member, telegram_id)).person_id = person.id
        return person.id


async def test_me_shows_own_entry(chat: ChatDriver, users: Users, sessionmaker) -> None:
    await link_member(sessionmaker, users.member)
    sent = await chat.send("/me", user=users.member)
    assert "Okafor" in sent[0].text and "01632 960001" in sent[0].text


async def test_me_unlinked(chat: ChatDriver, users: Users) -> None:
    sent = await chat.send("/me", user=users.lead)
    assert "not linked" in sent[0].text


async def test_edit_fields(chat: ChatDriver, users: Users, sessionmaker) -> None:
    person_id = await link_member(sessionmaker, users.member)
    sent = await chat.send("/edit phone 01632 960999", user=users.member)
    assert "Saved" in sent[0].text
    sent = await chat.send("/edit specialisms SEN, mathmatics", user=users.member)
    assert "Saved" in sent[0].text
    refused = await chat.send("/edit email not-an-email<b>", user=users.member)
    assert "Nothing was changed" in refused[0].text
    refused = await chat.send("/edit capacity 99", user=users.member)
    assert "Nothing was changed" in refused[0].text
    usage = await chat.send("/edit", user=users.member)
    assert "Usage" in usage[0].text
    async with sessionmaker() as session:
        person = await session.get(Person, person_id)
        assert person.phone == "01632 960999" and person.mentor_capacity == 0
        audits = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "person.update"))).all()
        assert [a.detail["field"] for a in audits] == ["phone", "specialisms"]
        assert audits[0].actor_id == users.member
    sent = await chat.send("/me", user=users.member)
    assert "01632 960999" in sent[0].text


async def test_own_entry_is_not_shown_in_a_group(chat: ChatDriver, users: Users, sessionmaker) -> None:
    await link_member(sessionmaker, users.member)
    for command in ("/me", "/edit phone 01632 960999"):
        sent = await chat.send(command, user=users.member, chat=-100123)
        assert len(sent) == 1 and "private chat" in sent[0].text
        assert "01632" not in sent[0].text and "ada@" not in sent[0].text
    async with sessionmaker() as session:
        person = (await session.scalars(select(Person))).one()
        assert person.phone == "01632 960001"
