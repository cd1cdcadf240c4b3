"""Contacts that reach people (issue 23): a new head with no phone or email of their own is reached through
the bot — the buddy's introduction says so and carries a button, the message goes with the writer's name,
and the new head can answer the same way; no one outside the pairing can use it. With a phone or email given,
the introduction gives them. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.contact import read_contact
from storage.buddies import BuddyMatch
from storage.directory import Person
from tests.harness import ChatDriver, Users
from tests.test_buddy_chat import World, fixed_clock, world  # noqa: F401  (fixtures)


async def _accepted_without_contact(chat: ChatDriver, users: Users, world: World, sessionmaker) -> int:  # type: ignore[no-untyped-def]  # noqa: F811
    async with sessionmaker.begin() as session:
        head = await session.get(Person, world.head_id)
        head.phone = head.email = None
    first = world.ranked[0]
    await chat.press(f"bc:{world.appointment_id}:{first}", user=users.coordinator)
    async with sessionmaker() as session:
        match = (await session.scalars(select(BuddyMatch))).one()
    await chat.press(f"bq:a:{match.id}", user=users.member)
    return match.id


async def test_the_buddy_reaches_a_new_head_with_no_contact_through_the_bot(
    chat: ChatDriver,
    users: Users,
    world: World,  # noqa: F811
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    match_id = await _accepted_without_contact(chat, users, world, sessionmaker)
    intro = next(s for s in reversed(chat.to(users.member)) if "Meet your new head" in s.text)
    assert "no phone or email given" in intro.text and "ask the partnership office" not in intro.text
    assert intro.buttons == [("✉️ Message Nadia Quill", f"bw:{match_id}")]
    # Someone outside the pairing cannot write through it.
    refused = await chat.press(f"bw:{match_id}", user=users.coordinator)
    assert "only the two heads" in refused[0].params.get("text", "")
    await chat.press(f"bw:{match_id}", user=users.member)
    before = len(chat.to(users.lead))
    sent = await chat.send("Welcome! Ring me on <07700 900999> when you can.", user=users.member)
    assert "Sent to Nadia Quill." in sent[-1].text
    got = chat.to(users.lead)[before:]
    assert len(got) == 1 and "A message from your buddy" in got[0].text
    assert "&lt;07700 900999&gt;" in got[0].text  # their words, escaped
    reply_data = got[0].buttons[0][1]
    assert reply_data == f"bw:{match_id}"
    # The new head answers the same way.
    await chat.press(reply_data, user=users.lead)
    before = len(chat.to(users.member))
    await chat.send("Thank you, Tuesday works.", user=users.lead)
    back = chat.to(users.member)[before:]
    assert len(back) == 1 and "A message from Nadia Quill, the new head you are buddying" in back[0].text


async def test_a_pairing_that_ended_carries_no_more_messages(
    chat: ChatDriver,
    users: Users,
    world: World,  # noqa: F811
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    match_id = await _accepted_without_contact(chat, users, world, sessionmaker)
    await chat.press(f"bw:{match_id}", user=users.member)
    async with sessionmaker.begin() as session:
        (await session.get(BuddyMatch, match_id)).status = "ended"
    sent = await chat.send("Still there?", user=users.member)
    assert "no longer active" in sent[-1].text
    assert all("Still there?" not in s.text for s in chat.to(users.lead))


@pytest.mark.parametrize(
    "text,phone,email",
    [
        ("07700 900123, j.smith@school.org.uk", "07700 900123", "j.smith@school.org.uk"),
        ("ring me on +44 7700 900123", "07700 900123", None),
        ("Email: J.Smith@Oak.sch.uk please", None, "j.smith@oak.sch.uk"),
        ("0207 946 0000", "020 7946 0000", None),
        ("no thanks", None, None),
        ("starting 1/9/2026", None, None),
        ("", None, None),
        ("x" * 5000, None, None),
    ],
)
def test_reading_how_to_be_reached(text: str, phone: str | None, email: str | None) -> None:
    given = read_contact(text)
    assert (given.phone, given.email) == (phone, email)
