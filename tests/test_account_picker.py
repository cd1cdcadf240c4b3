"""/grant, /revoke, /link and /unlink pick an account the same way (handlers/account_picker.py, the shared flow
in handlers/access.py): none is said politely, one is shown on its card with Confirm, several get the same
"which one?" list with a button per Telegram id; a name reaches only active accounts linked to a person of that
name; nothing changes before Confirm. Played as Telegram sends it, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application

from core.offline import Sent
from storage import audit
from storage.directory import Person, School
from storage.members import AccessRequest, Member
from tests.dbtools import snapshot
from tests.harness import ChatDriver, Users, frozen_clock

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone.utc)
PETER = 2001  # Mr Peter Draycott's account, beside the lead's (Mrs Lesley Draycott)
REVOKED = 2002  # a former coordinator, revoked
NEVER = 424242  # an id that never used the bot
BOOKKEEPING = ("bot_state", "throttle", "button_use", "audit_log")
DATA = re.compile(r"[a-z]+:[0-9]+:[a-z]+")  # ids and words only: never a name in callback data


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    with frozen_clock(NOW):
        yield


@pytest.fixture
async def people(app: Application, users: Users, sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Two Draycotts, each linked to an active account (the lead's and Peter's); Helen Ashworth linked to the
    member's; Sam Newton linked to nobody; a revoked former coordinator; and a stranger's pending request that
    calls itself Draycott."""
    async with sessionmaker.begin() as session:
        school = School(name="Kimpton Primary", phase="primary", urn="100002")
        session.add(school)
        await session.flush()
        lesley = Person(title="Mrs", first_name="Lesley", last_name="Draycott", job_title="Director")
        peter = Person(title="Mr", first_name="Peter", last_name="Draycott", job_title="Deputy", school_id=school.id)
        helen = Person(title="Mrs", first_name="Helen", last_name="Ashworth", job_title="Headteacher")
        sam = Person(title="Mr", first_name="Sam", last_name="Newton", job_title="Deputy", school_id=school.id)
        session.add_all([lesley, peter, helen, sam])
        await session.flush()
        session.add(Member(telegram_id=PETER, role="member", display_name="Peter", person_id=peter.id, linked_at=NOW))
        session.add(Member(telegram_id=REVOKED, role="member", display_name="Former", active=False))
        session.add(AccessRequest(telegram_id=users.stranger, telegram_name="Pat", name="Lesley Draycott"))
        audit.record(session, users.admin, "member.revoke", "member", REVOKED, role="coordinator")
        for telegram_id, person in ((users.lead, lesley), (users.member, helen)):
            values = {"person_id": person.id, "linked_at": NOW}
            await session.execute(update(Member).where(Member.telegram_id == telegram_id).values(**values))
        ids = {"lesley": lesley.id, "peter": peter.id, "helen": helen.id, "sam": sam.id}
    await app.bot_data["services"].refresh_directory()  # type: ignore[attr-defined]
    return ids


async def account(sessionmaker: async_sessionmaker[AsyncSession], telegram_id: int) -> Member | None:
    async with sessionmaker() as session:
        return await session.get(Member, telegram_id)


async def state(sessionmaker: async_sessionmaker[AsyncSession]) -> dict:
    return await snapshot(sessionmaker.kw["bind"], skip=BOOKKEEPING)


def last(sent: list[Sent]) -> Sent:
    return [s for s in sent if s.method in ("sendMessage", "editMessageText")][-1]


def alerts(sent: list[Sent]) -> list[str]:
    return [str(s.params.get("text") or "") for s in sent if s.method == "answerCallbackQuery"]


async def told_only(chat: ChatDriver, cases: tuple[tuple[int, str, str], ...]) -> None:
    """Each command, sent by its actor, is answered with one message that says `said` and has no buttons."""
    for actor, text, said in cases:
        sent = await chat.send(text, user=actor)
        assert len(sent) == 1 and said in sent[0].text and not sent[0].buttons, (text, sent[0].text)


# Per command: who may use it, what it is sent, the list's question, the pick's data, the card's question and
# what Confirm changes on Peter's account.
COMMANDS = {
    "grant": (
        "admin",
        "/grant Draycott coordinator",
        "Which account should be coordinator?",
        f"gp:{PETER}:coordinator",
        "Make this account coordinator?",
        lambda m: m.role == "coordinator" and m.active and m.person_id is not None,
    ),
    "revoke": (
        "admin",
        "/revoke Draycott",
        "Which account should lose its access?",
        f"rv:{PETER}:p",
        "End the access of this account?",
        lambda m: not m.active and m.person_id is None,
    ),
    "unlink": (
        "coordinator",
        "/unlink Draycott",
        "Which account should be unlinked?",
        f"ul:{PETER}:p",
        "End the link of this account to its directory entry?",
        lambda m: m.active and m.person_id is None,
    ),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
async def test_several_accounts_get_the_same_which_one_list_then_the_card_then_confirm(
    command: str, chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker
) -> None:
    who, text, which, pick, question, changed = COMMANDS[command]
    actor = getattr(users, who)
    before = await state(sessionmaker)
    sent = await chat.send(text, user=actor)
    listed = last(sent)
    assert which in listed.text
    assert "Mrs Lesley Draycott" in listed.text and "Mr Peter Draycott" in listed.text
    assert str(users.stranger) not in listed.text  # a pending request that typed the name is never reached
    labels = [label for label, _data in listed.buttons]
    assert labels == [f"Telegram id {users.lead}", f"Telegram id {PETER}", "Cancel"]
    assert all(DATA.fullmatch(data) for _label, data in listed.buttons), listed.buttons
    assert pick in [data for _label, data in listed.buttons]
    assert await state(sessionmaker) == before  # a list changes nothing

    sent = await chat.press(pick, user=actor)
    card = last(sent)
    assert card.method == "editMessageText" and question in card.text
    assert f"Telegram id {PETER}" in card.text and f"Telegram id {users.lead}" not in card.text
    assert [label for label, _data in card.buttons] == ["Confirm", "Cancel"]
    assert await state(sessionmaker) == before  # nor does a pick
    again = await chat.press(pick, user=actor)  # a pick writes nothing, so it is not a one-time button
    assert question in last(again).text

    await chat.press(card.buttons[0][1], user=actor)
    assert changed(await account(sessionmaker, PETER))
    lead = await account(sessionmaker, users.lead)
    assert lead is not None and lead.active and lead.role == "lead" and lead.person_id == people["lesley"]


@pytest.mark.parametrize("command", sorted(COMMANDS))
async def test_cancel_on_the_list_or_the_card_changes_nothing(
    command: str, chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker
) -> None:
    who, text, _which, pick, _question, _changed = COMMANDS[command]
    actor = getattr(users, who)
    before = await state(sessionmaker)
    listed = last(await chat.send(text, user=actor))
    sent = await chat.press(listed.buttons[-1][1], user=actor)
    assert "Cancelled. Nothing was changed." in last(sent).text
    await chat.send(text, user=actor)
    card = last(await chat.press(pick, user=actor))
    sent = await chat.press(card.buttons[-1][1], user=actor)
    assert "Cancelled. Nothing was changed." in last(sent).text
    assert await state(sessionmaker) == before


async def test_one_account_goes_straight_to_its_card_for_every_command(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker
) -> None:
    before = await state(sessionmaker)
    for actor, text, question, confirm in (
        (users.admin, "/grant Ashworth lead", "Make this account action lead?", f"gy:{users.member}:lead"),
        (users.admin, "/revoke Ashworth", "End the access of this account?", f"rv:{users.member}:y"),
        (users.coordinator, "/unlink Ashworth", "End the link of this account", f"ul:{users.member}:y"),
        (users.coordinator, f"/link {users.coordinator} Newton", "Link this account to Mr Sam Newton", None),
    ):
        card = last(await chat.send(text, user=actor))
        assert card.text.startswith(question), (text, card.text)
        assert [label for label, _data in card.buttons] == ["Confirm", "Cancel"], text
        assert confirm is None or card.buttons[0][1] == confirm
    assert await state(sessionmaker) == before


async def test_a_name_that_reaches_no_account_is_told_politely_and_changes_nothing(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker
) -> None:
    before = await state(sessionmaker)
    nobody = "No active account is linked to anyone called “Nobodyatall”."
    await told_only(
        chat,
        (
            (users.admin, "/grant Nobodyatall lead", nobody),
            (users.admin, "/revoke Nobodyatall", nobody),
            (users.coordinator, "/unlink Nobodyatall", "No account linked to a directory entry was found."),
            (users.coordinator, f"/link {PETER} Nobodyatall", "Nobody called “Nobodyatall” is in the directory."),
            # Sam Newton is in the directory, but no account is linked to him: a name never reaches one otherwise
            (users.admin, "/grant Newton lead", "No active account is linked to anyone called “Newton”."),
            (users.coordinator, "/unlink Newton", "No account linked to a directory entry was found."),
        ),
    )
    assert await state(sessionmaker) == before


@pytest.mark.parametrize(("telegram_id", "shown"), [(NEVER, "no account with me yet."), (REVOKED, "access revoked.")])
async def test_an_id_that_never_used_the_bot_or_was_revoked(
    telegram_id: int, shown: str, chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker
) -> None:
    before = await state(sessionmaker)
    await told_only(
        chat,
        (
            (users.admin, f"/revoke {telegram_id}", f"{telegram_id} has no access to revoke. Nothing was changed."),
            (users.coordinator, f"/unlink {telegram_id}", "No account linked to a directory entry was found."),
            # told at once, not after a pick among the two Draycotts
            (users.coordinator, f"/link {telegram_id} Draycott", f"Telegram id {telegram_id} is not an active member."),
        ),
    )
    # /grant shows the account as it is and (re)admits it only on Confirm, linked to nobody
    card = last(await chat.send(f"/grant {telegram_id} lead", user=users.admin))
    assert "Make this account action lead?" in card.text and f"Telegram id {telegram_id}" in card.text
    assert shown in card.text
    assert await state(sessionmaker) == before
    await chat.press(card.buttons[0][1], user=users.admin)
    granted = await account(sessionmaker, telegram_id)
    assert granted is not None and granted.role == "lead" and granted.active and granted.person_id is None


async def test_an_erased_account_by_id_and_by_name(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker
) -> None:
    await chat.send(f"/erase {people['peter']}", user=users.admin)
    await chat.press(f"er:{people['peter']}:y", user=users.admin)
    assert await account(sessionmaker, PETER) is None
    before = await state(sessionmaker)
    # by name only the other Draycott is left: straight to her card
    card = last(await chat.send("/revoke Draycott", user=users.admin))
    assert f"Telegram id {users.lead}" in card.text and str(PETER) not in card.text
    sent = await chat.send(f"/revoke {PETER}", user=users.admin)
    assert f"{PETER} has no access to revoke" in sent[0].text and not sent[0].buttons
    sent = await chat.send(f"/unlink {PETER}", user=users.coordinator)
    assert "No account linked to a directory entry was found." in sent[0].text
    card = last(await chat.send(f"/grant {PETER} member", user=users.admin))
    assert f"Telegram id {PETER}: no account with me yet." in card.text
    assert await state(sessionmaker) == before


async def test_a_pick_from_an_old_list_checks_the_account_again(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker
) -> None:
    """The list was right when shown; between it and the pick, the account lost what the command needs."""
    listed = last(await chat.send("/revoke Draycott", user=users.admin))
    card = last(await chat.send(f"/revoke {PETER}", user=users.admin))
    await chat.press(card.buttons[0][1], user=users.admin)
    assert not (await account(sessionmaker, PETER)).active  # type: ignore[union-attr]
    sent = await chat._process(chat.factory.press(f"rv:{PETER}:p", users.admin, dict(listed.result), None))  # type: ignore[arg-type]
    assert f"{PETER} has no access to revoke. Nothing was changed." in last(sent).text and not last(sent).buttons

    listed = last(await chat.send("/unlink Draycott", user=users.coordinator))
    card = last(await chat.send(f"/unlink {users.lead}", user=users.coordinator))
    await chat.press(card.buttons[0][1], user=users.coordinator)
    before = await state(sessionmaker)
    sent = await chat._process(
        chat.factory.press(f"ul:{users.lead}:p", users.coordinator, dict(listed.result), None)  # type: ignore[arg-type]
    )
    assert "No account linked to a directory entry was found." in last(sent).text and not last(sent).buttons
    assert await state(sessionmaker) == before


async def test_old_buttons_of_the_lists_and_cards_still_work(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker
) -> None:
    """Messages sent before the shared flow: /revoke's and /unlink's lists acted at once (rv:ID:y, ul:ID:y, with
    Cancel rv:0:x, ul:0:x); /grant's card cancelled with gy:ID:x. They keep their meaning."""
    await chat.send("/help", user=users.admin)
    for data in ("rv:0:x", f"gy:{PETER}:x"):
        sent = await chat.press(data, user=users.admin)
        assert "Cancelled. Nothing was changed." in last(sent).text
    await chat.send("/help", user=users.coordinator)
    sent = await chat.press("ul:0:x", user=users.coordinator)
    assert "Cancelled. Nothing was changed." in last(sent).text
    sent = await chat.press(f"ul:{PETER}:y", user=users.coordinator)
    assert "Unlinked:" in last(sent).text
    assert (await account(sessionmaker, PETER)).person_id is None  # type: ignore[union-attr]
    await chat.send("/help", user=users.admin)
    sent = await chat.press(f"rv:{PETER}:y", user=users.admin)
    assert "Access ended:" in last(sent).text
    again = await chat.press(f"rv:{PETER}:y", user=users.admin)
    assert any("already done" in a for a in alerts(again))
    for data in (f"gp:{PETER}:bogus", f"rv:{PETER}:q", "rv:0:y", "ul:0:p", f"gy:{PETER}:stranger"):
        sent = await chat.press(data, user=users.admin)
        assert any("expired" in a for a in alerts(sent)), data


@pytest.mark.parametrize("who", ["stranger", "member", "lead"])
async def test_strangers_and_members_cannot_pick_or_confirm(
    who: str, chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker
) -> None:
    actor = getattr(users, who)
    before = await state(sessionmaker)
    for text in ("/grant Draycott admin", f"/grant {actor} admin", "/revoke Draycott", f"/revoke {users.admin}"):
        sent = await chat.send(text, user=actor)
        assert not any("Telegram id" in s.text or s.buttons for s in sent), (text, [s.text for s in sent])
    for text in (f"/link {actor} Draycott", "/unlink Draycott", f"/unlink {users.lead}"):
        sent = await chat.send(text, user=actor)
        assert not any("Telegram id" in s.text or s.buttons for s in sent), (text, [s.text for s in sent])
    for data in (f"gp:{PETER}:admin", f"gy:{actor}:admin", f"rv:{PETER}:p", f"rv:{PETER}:y", f"ul:{PETER}:p"):
        sent = await chat.press(data, user=actor)
        assert not [s for s in sent if s.method != "answerCallbackQuery"], data
    assert await state(sessionmaker) == before


async def test_a_coordinator_may_link_and_unlink_but_not_grant_or_revoke(
    chat: ChatDriver, users: Users, people: dict[str, int], sessionmaker
) -> None:
    before = await state(sessionmaker)
    for text in ("/grant Draycott lead", "/revoke Draycott"):
        sent = await chat.send(text, user=users.coordinator)
        assert "admins only" in sent[0].text and not sent[0].buttons
    for data in (f"gp:{PETER}:lead", f"rv:{PETER}:p"):
        sent = await chat.press(data, user=users.coordinator)
        assert any("can't use" in a for a in alerts(sent)), data
    assert await state(sessionmaker) == before
