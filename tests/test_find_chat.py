"""/find, plain-text search, contact cards and /sle, through the real Application (tests/harness.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.offline import Sent
from storage.directory import Person
from storage.members import Member
from tests.harness import ChatDriver, Users
from tests.test_find_cli import seed_directory


@pytest.fixture
async def ids(chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """The small partnership, with the member linked to Mrs Ó Briain of St Aloysius (Highgate, Islington)."""
    found = await seed_directory(sessionmaker)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Member).where(Member.telegram_id == users.member).values(person_id=found["obriain"])
        )
    await chat.app.bot_data["services"].refresh_directory()
    return found


def texts(sent: list[Sent]) -> str:
    return "\n".join(s.text for s in sent)


def buttons(sent: list[Sent]) -> list[tuple[str, str]]:
    return [b for s in sent for b in s.buttons]


async def test_exact_name_opens_the_card(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    sent = await chat.send("/find Jane Heffernan", user=users.member)
    text = texts(sent)
    for expected in (
        "Ms Jane Heffernan",
        "Headteacher",
        "St Aloysius RC College",
        "020 7561 7801",
        "j.heffernan@example.org",
        "NLE (National Leader of Education)",
        "Mathematics",
        "Headteacher since 1 Sept 2015",
    ):
        assert expected in text, expected
    assert ("🏫 St Aloysius RC College", f"sc:{ids['aloysius']}") in buttons(sent)
    assert sent[0].params.get("parse_mode") == "HTML"


async def test_plain_text_lists_matches_as_buttons(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    sent = await chat.send("Williams", user=users.member)
    assert "2 matches for “Williams”" in texts(sent)
    data = [d for _label, d in buttons(sent)]
    assert set(data) == {f"pc:{ids['awilliams']}", f"pc:{ids['twilliams']}"}
    card = await chat.press(f"pc:{ids['twilliams']}", user=users.member)
    assert "Mr Tom Williams" in texts(card) and "t.williams@example.org" in texts(card)
    assert ("‹ Back to results", "fp:0") in buttons(card)
    back = await chat.press("fp:0", user=users.member)
    assert "2 matches" in texts(back)


async def test_typo_says_did_you_mean(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    sent = await chat.send("Bouete", user=users.member)
    assert "Did you mean" in texts(sent)
    assert (f"pc:{ids['bouette']}") in [d for _l, d in buttons(sent)]
    assert "s.bouette@example.org" not in texts(sent)  # a suggestion, not yet the card


async def test_no_match_is_friendly(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    sent = await chat.send("/find qqxxzzkk", user=users.member)
    assert "I found no one" in texts(sent) and buttons(sent) == []
    sent = await chat.send("/find", user=users.member)
    assert "What shall I look for?" in texts(sent)


async def test_user_text_is_escaped(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    sent = await chat.send("<b>Hef</b> & <script>", user=users.member)
    assert "<script>" not in texts(sent) and "&lt;script&gt;" in texts(sent)


async def test_pages_of_eight_with_query_kept_out_of_buttons(
    chat: ChatDriver, users: Users, ids: dict[str, int], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker.begin() as session:
        session.add_all([Person(first_name=f"Pat{i}", last_name="Smithson", job_title="Teacher") for i in range(11)])
    await chat.app.bot_data["services"].refresh_directory()
    first = await chat.send("Smithson", user=users.member)
    assert "11 matches" in texts(first) and "Page 1 of 2" in texts(first)
    data = [d for _l, d in buttons(first)]
    assert len([d for d in data if d.startswith("pc:")]) == 8 and "fp:1" in data
    assert all("mith" not in d for d in data)  # the query lives in user_data, not in callback data
    second = await chat.press("fp:1", user=users.member)
    assert second[-1].method == "editMessageText"
    data2 = [d for _l, d in buttons(second)]
    assert len([d for d in data2 if d.startswith("pc:")]) == 3 and "fp:0" in data2
    assert not set(data2) & {d for d in data if d.startswith("pc:")}


async def test_school_card_lists_its_people(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    sent = await chat.send("/find st aloysious", user=users.member)  # typo: a suggestion first
    assert f"sc:{ids['aloysius']}" in [d for _l, d in buttons(sent)]
    card = await chat.press(f"sc:{ids['aloysius']}", user=users.member)
    text = texts(card)
    assert "St Aloysius RC College" in text and "URN 100459" in text and "Highgate, Islington, N6 5LY" in text
    people = [d for _l, d in buttons(card) if d.startswith("pc:")]
    assert people == [f"pc:{ids['heffernan']}", f"pc:{ids['obriain']}"]  # the head first


async def test_urn_opens_the_school(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    sent = await chat.send("100492", user=users.member)
    assert "St Thomas' CofE Primary School" in texts(sent)
    assert f"pc:{ids['bouette']}" in [d for _l, d in buttons(sent)]


async def test_sle_nearest_to_own_school(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    sent = await chat.send("/sle maths", user=users.member)
    text = texts(sent)
    assert "nearest Highgate first" in text
    order = [text.index(name) for name in ("Jane Heffernan", "Anne Williams", "Sarah Bouette")]
    assert order == sorted(order)
    assert "Tom Williams" not in text  # not a system leader
    assert [d for _l, d in buttons(sent)] == [
        f"pc:{ids['heffernan']}",
        f"pc:{ids['awilliams']}",
        f"pc:{ids['bouette']}",
        "ua:0",  # ask for support (handlers/support.py)
    ]


async def test_sle_phase_and_area(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    text = texts(await chat.send("/sle numeracy primary North Kensington", user=users.member))
    assert "nearest North Kensington first" in text
    assert text.index("Sarah Bouette") < text.index("Anne Williams")
    assert "Heffernan" not in text  # a secondary head
    text = texts(await chat.send("/sle SEN", user=users.member))
    assert "Zoë Ó Briain" in text
    text = texts(await chat.send("/sle maths Atlantis", user=users.member))
    assert "I don't know a place called “Atlantis”" in text and "Heffernan" in text


async def test_sle_usage_and_unknown(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    assert "Usage: /sle" in texts(await chat.send("/sle", user=users.member)).replace("<code>", "").replace(
        "</code>", ""
    )
    assert "I don't know the specialism “basket weaving”" in texts(
        await chat.send("/sle basket weaving", user=users.member)
    )
    assert "No system leaders in the directory for Phonics" in texts(await chat.send("/sle phonics", user=users.member))


async def test_specialism_query_lists_leaders(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    sent = await chat.send("maths", user=users.member)
    assert "System leaders for Mathematics" in texts(sent)
    assert f"pc:{ids['heffernan']}" in [d for _l, d in buttons(sent)]


async def test_stranger_gets_no_personal_data(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    sent = await chat.send("Heffernan", user=users.stranger)
    sent += await chat.send("/find Heffernan", user=users.stranger)
    sent += await chat.send("/sle maths", user=users.stranger)
    sent += await chat.press(f"pc:{ids['heffernan']}", user=users.stranger)
    sent += await chat.press(f"sc:{ids['aloysius']}", user=users.stranger)
    everything = " ".join(s.text + " " + str(s.params) for s in sent)
    for secret in ("Heffernan", "heffernan@", "7561", "Aloysius", "Bouette"):
        assert secret not in everything.replace("/find Heffernan", ""), secret
    assert sent  # the stranger was answered (told how to ask for access), not ignored


async def test_group_chat_gets_no_cards(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    sent = await chat.send("/find Jane Heffernan", user=users.member, chat=-100123)
    assert "private chat" in texts(sent) and "heffernan@" not in texts(sent)
    assert await chat.send("Heffernan", user=users.member, chat=-100123) == []  # chatter in a group is not a search


async def test_searches_and_card_opens_are_throttled(chat: ChatDriver, users: Users, ids: dict[str, int]) -> None:
    chat.app.bot_data["services"].settings.search_limit_per_minute = 3
    assert "Heffernan" in texts(await chat.send("/find Jane Heffernan", user=users.member))
    assert "2 matches" in texts(await chat.send("Williams", user=users.member))
    assert "Tom Williams" in texts(await chat.press(f"pc:{ids['twilliams']}", user=users.member))
    slowed = await chat.send("Bouette", user=users.member)
    assert "searching very quickly" in texts(slowed) and "bouette@" not in texts(slowed)
    pressed = await chat.press(f"pc:{ids['awilliams']}", user=users.member)
    assert "a.williams@" not in texts(pressed)
    assert any(s.method == "answerCallbackQuery" and "quickly" in s.text for s in pressed)
