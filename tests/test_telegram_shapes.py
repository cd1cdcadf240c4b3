"""Updates shaped exactly as Telegram sends them, and a Telegram that fails.

- Every command the manifests declare, sent as `/cmd,` `/cmd.` `/cmd-` `/cmd:` (Telegram's entity ends at
  the punctuation, so the handlers read `/cmd`) and `/cmd@OtherBot` (an entity that includes the other
  bot's name), by a stranger and by a member: refused or ignored, nothing changes, nothing personal sent.
- The access walk with every outgoing call failing, each way a call can fail, and with the member read
  failing: no name, phone or email from the directory in any request the bot even attempted.
- A forged `fp:0` / `sp:0` pressed in a group; a stale /update draft; the command menus per role.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, text

from core import clock
from core.offline import FAILURE_KINDS, OfflineRequest
from handlers.manifest import features_of
from storage.members import Role
from storage.plans import ProgressUpdate
from tests.harness import ChatDriver, Users
from tests.test_access_walk import _before, _check_nothing_changed, _leaks, _prepare, _secrets

SHAPES = [",", ".", "-", ":", "@OtherBot"]
GROUP = -100123
NOW = dt.datetime(2025, 11, 10, 9, 0, tzinfo=dt.timezone.utc)


def _request(chat: ChatDriver) -> OfflineRequest:
    return chat.request


def _no_leak_anywhere(sent: list[Any], secrets: list[str]) -> None:
    found = _leaks(sent, secrets)
    # Also anything in any parameter (captions, answers' alert texts, inline results, documents' names).
    for s in sent:
        blob = repr(s.params) + repr({k: v[0] for k, v in s.files.items()})
        found += [(secret, s.method) for secret in secrets if secret in blob]
    assert not found, found[:5]


# --- /cmd, /cmd. /cmd- /cmd: /cmd@OtherBot ----------------------------------------------------------


def test_the_factory_makes_telegrams_entities(chat: ChatDriver) -> None:
    for typed, length in (
        ("/grant, 12345 admin", 6),
        ("/find.x", 5),
        ("/cmd@OtherBot foo", 13),
        ("/audit: 5", 6),
        ("/report-", 7),
        ("/start@PartnerBot", 17),
    ):
        entity = chat.factory.text(typed, 1).message.entities[0]
        assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, length), typed
    assert not chat.factory.text("/ Smith", 1).message.entities
    assert not chat.factory.text("/find<b>", 1).message.entities
    # Offsets count UTF-16 code units: the teacher emoji is five of them.
    entity = chat.factory.text("👩‍🏫 /find x", 1).message.entities[0]
    assert (entity.offset, entity.length) == (6, 5)


REFUSALS = ("you need access first", "only")


async def _shaped_walk(chat: ChatDriver, sessionmaker: Any, walker: int, commands: list[str]) -> None:
    secrets = await _secrets(sessionmaker, walker)
    before = await _before(sessionmaker, walker)
    start = len(_request(chat).attempts)
    features = features_of(chat.app)
    walker_role = Role.STRANGER if walker == 9001 else Role.MEMBER
    for command in commands:
        for shape in SHAPES:
            for args in ("", " 9001 admin", " Draycott"):
                sent = await chat.send(f"/{command}{shape}{args}", user=walker)
                if shape.startswith("@"):
                    assert sent == [], (command, [s.text[:80] for s in sent])  # another bot's: ignored
                elif features.commands[command] > walker_role:
                    said = [s.text for s in sent if s.method == "sendMessage"]
                    assert said and all(any(r in text for r in REFUSALS) for text in said), (command, shape, said)
        await chat.send("/cancel", user=walker)
    attempts = _request(chat).attempts[start:]
    _no_leak_anywhere(attempts, secrets)
    others = [s for s in attempts if s.chat_id not in (walker, None)]
    assert all("Access request" in s.text for s in others), [s.text[:80] for s in others]
    await _check_nothing_changed(sessionmaker, before, walker, {"access.request"} if walker == 9001 else set())


async def test_stranger_sends_every_command_in_every_shape(chat: ChatDriver, users: Users, sessionmaker: Any) -> None:
    await _prepare(chat, sessionmaker)
    commands = sorted(features_of(chat.app).commands)
    assert {"find", "grant", "report", "audit"} <= set(commands)
    await _shaped_walk(chat, sessionmaker, users.stranger, commands)


async def test_member_sends_every_command_above_them_in_every_shape(
    chat: ChatDriver, users: Users, sessionmaker: Any
) -> None:
    await _prepare(chat, sessionmaker)
    above = sorted(c for c, role in features_of(chat.app).commands.items() if role > Role.MEMBER)
    assert "grant" in above and "report" in above
    await _shaped_walk(chat, sessionmaker, users.member, above)
    # and the member's own commands addressed to another bot are ignored too
    for command in sorted(c for c, role in features_of(chat.app).commands.items() if role <= Role.MEMBER):
        assert await chat.send(f"/{command}@OtherBot Draycott", user=users.member) == []


# --- the walk with a failing Telegram, and with a failing database ----------------------------------

WALK_ARGS = ["", "9001 admin Draycott zoe@example.org"]
WALK_FORGED = ["1", "1:1:y", "0"]
WALK_TEXTS = ["Draycott", "zoe@example.org", "01273 000000", "St Mary"]


def _walk_items(chat: ChatDriver, walker_role: Role) -> list[tuple[str, str]]:
    features = features_of(chat.app)
    if walker_role == Role.STRANGER:
        commands = sorted(features.commands)
        prefixes = sorted(features.buttons)
        return (
            [("send", f"/{c} {a}".strip()) for c in commands for a in WALK_ARGS]
            + [("press", f"{p}:{f}") for p in prefixes for f in WALK_FORGED]
            + [("send", t) for t in WALK_TEXTS]
        )
    # A member: what is above them, and their own buttons with ids that do not exist.
    commands = sorted(c for c, r in features.commands.items() if r > walker_role)
    above = sorted(p for p, r in features.buttons.items() if r > walker_role)
    own = sorted(p for p, r in features.buttons.items() if r <= walker_role)
    return (
        [("send", f"/{c} {a}".strip()) for c in commands for a in WALK_ARGS]
        + [("press", f"{p}:{f}") for p in above for f in WALK_FORGED]
        + [("press", f"{p}:{f}") for p in own for f in ("999999", "999999:999999:y", "x")]
    )


async def _walk(chat: ChatDriver, walker: int, items: list[tuple[str, str]]) -> None:
    for kind, value in items:
        try:
            if kind == "send":
                await chat.send(value, user=walker)
            else:
                await chat.press(value, user=walker)
            await chat.send("/cancel", user=walker)
        except Exception as exc:  # process_update must not raise whatever Telegram answers
            raise AssertionError(f"{value!r} raised {exc!r}") from exc


@pytest.mark.parametrize("kind", FAILURE_KINDS)
async def test_walk_with_every_call_failing(chat: ChatDriver, users: Users, sessionmaker: Any, kind: str) -> None:
    await _prepare(chat, sessionmaker)
    request = _request(chat)
    for walker, role in ((users.stranger, Role.STRANGER), (users.member, Role.MEMBER)):
        secrets = await _secrets(sessionmaker, walker)
        before = await _before(sessionmaker, walker)
        start = len(request.attempts)
        failure = request.fail(kind)
        try:
            await _walk(chat, walker, _walk_items(chat, role))
        finally:
            request.stop_failing(failure)
        attempts = request.attempts[start:]
        assert attempts and all(s.error == kind for s in attempts)  # the bot tried, and every call failed
        _no_leak_anywhere([s for s in attempts if s.chat_id in (walker, None)], secrets)
        others = [s for s in attempts if s.chat_id not in (walker, None)]
        assert all("Access request" in s.text for s in others), [s.text[:80] for s in others]
        allowed = {"access.request"} if role == Role.STRANGER else set()
        await _check_nothing_changed(sessionmaker, before, walker, allowed)


async def _hide_member_table(sessionmaker: Any, hide: bool) -> None:
    old, new = ("member", "member_hidden") if hide else ("member_hidden", "member")
    async with sessionmaker.kw["bind"].begin() as conn:
        await conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_walk_with_the_member_read_failing(chat: ChatDriver, users: Users, sessionmaker: Any) -> None:
    """The member table cannot be read (renamed away under the running bot): every update ends in the gate,
    for strangers and members alike; nothing personal is sent, nothing is written."""
    await _prepare(chat, sessionmaker)
    request = _request(chat)
    for walker in (users.stranger, users.admin):  # the admin would see the most
        secrets = await _secrets(sessionmaker, 0)
        before = await _before(sessionmaker, walker)
        start = len(request.attempts)
        await _hide_member_table(sessionmaker, True)
        try:
            items = _walk_items(chat, Role.STRANGER)  # everything, even what the walker may normally use
            await _walk(chat, walker, items)
            await chat.upload("directory.csv", b"Name,Email\nEve Intruder,eve@example.org\n", user=walker)
        finally:
            await _hide_member_table(sessionmaker, False)
        attempts = request.attempts[start:]
        _no_leak_anywhere(attempts, secrets)
        assert not [s for s in attempts if s.method in ("sendDocument", "sendPhoto", "editMessageText")]
        await _check_nothing_changed(sessionmaker, before, walker, set())


# --- groups, stale drafts, menus --------------------------------------------------------------------


async def test_forged_result_pages_in_a_group_change_nothing(chat: ChatDriver, users: Users, sessionmaker: Any) -> None:
    await _prepare(chat, sessionmaker)
    secrets = await _secrets(sessionmaker, users.member)
    # The member has results to page through in private (a name search and a specialism search).
    await chat.send("Draycott", user=users.member)
    await chat.send("maths", user=users.member)
    before = await _before(sessionmaker, users.member)
    start = len(chat.request.attempts)
    for data in ("fp:0", "fp:1", "sp:0", "sp:1", "sc:1:0", "p:1"):
        for chat_id in (GROUP, -1001234567890):
            await chat.press(data, user=users.member, chat=chat_id)
            await chat.press(data, user=users.stranger, chat=chat_id)
    attempts = chat.request.attempts[start:]
    assert not [
        s
        for s in attempts
        if s.method in ("editMessageText", "sendMessage", "sendDocument") and s.chat_id is not None and s.chat_id < 0
    ], [(s.method, s.text[:60]) for s in attempts]
    _no_leak_anywhere(attempts, secrets)
    await _check_nothing_changed(sessionmaker, before, users.member, set())


async def test_a_stale_update_draft_does_not_swallow_later_text(
    chat: ChatDriver, users: Users, sessionmaker: Any
) -> None:
    from tests.plan_seed import seed_plan

    seeded = await seed_plan(sessionmaker)
    await _prepare_directory_only(chat, sessionmaker)
    moment = [NOW]
    clock.set_clock(lambda: moment[0])
    try:
        await chat.send("/update", user=users.lead)
        await chat.press(f"upa:{seeded.actions['1.3']}", user=users.lead)
        sent = await chat.press("upr:A", user=users.lead)
        assert "comment" in " ".join(s.text for s in sent)
        moment[0] = NOW + dt.timedelta(hours=2)
        sent = await chat.send("Draycott", user=users.lead)
        said = "\n".join(s.text for s in sent)
        assert "was not saved" in said and "Save this update?" not in said, said
        assert "Draycott" in said  # the text was a search again
        # and the old buttons of the draft do nothing
        sent = await chat.press("ups:1", user=users.lead)
    finally:
        clock.set_clock(None)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ProgressUpdate)) == 0


async def _prepare_directory_only(chat: ChatDriver, sessionmaker: Any) -> None:
    from storage.directory import Person, School

    async with sessionmaker.begin() as session:
        school = School(name="Draycott Primary", phase="primary", locality="Hove")
        session.add(Person(first_name="Lucy", last_name="Draycott", school=school, job_title="Headteacher"))
    await chat.app.bot_data["services"].refresh_directory()


def _chat_scope(chat_id: int) -> dict[str, Any]:
    return {"type": "chat", "chat_id": chat_id}


async def test_menus_follow_roles(chat: ChatDriver, users: Users, sessionmaker: Any) -> None:
    request = _request(chat)
    assert request.menu() == ["start", "help", "privacy"]  # strangers: the default scope
    await chat.send("/help", user=users.member)
    await chat.send("/help", user=users.coordinator)
    member_menu = request.menu(_chat_scope(users.member))
    assert "find" in member_menu and "report" not in member_menu and "grant" not in member_menu
    coordinator_menu = request.menu(_chat_scope(users.coordinator))
    assert {"find", "report"} <= set(coordinator_menu) and "grant" not in coordinator_menu
    await chat.send("/start", user=users.stranger)
    assert request.menu(_chat_scope(users.stranger)) == []  # no chat menu: the default one applies

    # /grant changes the member's menu at once
    await chat.send(f"/grant {users.member} coordinator", user=users.admin)
    await chat.press(f"gy:{users.member}:coordinator", user=users.admin)  # after Confirm
    assert "report" in request.menu(_chat_scope(users.member))
    # approval gives a stranger the member's menu
    await chat.press("ar:req", user=users.stranger)
    sent = await chat.send("Jane Smith, Oakfield Primary", user=users.stranger)
    approve = [d for s in sent if s.chat_id == users.coordinator for _l, d in s.buttons if d.startswith("aa:")][-1]
    await chat.press(approve, user=users.coordinator)
    stranger_menu = request.menu(_chat_scope(users.stranger))
    assert "find" in stranger_menu and "report" not in stranger_menu
    # revoking takes it away again
    await chat.send(f"/revoke {users.stranger}", user=users.admin)
    await chat.press(f"rv:{users.stranger}:y", user=users.admin)  # after Confirm
    assert request.menu(_chat_scope(users.stranger)) == []
    assert request.menu() == ["start", "help", "privacy"]


async def test_a_stale_update_draft_is_swept_across_a_restart(db_url: str, sessionmaker: Any) -> None:
    """The bot goes down with a draft open and comes back after the timeout: the draft is ended at
    start-up, the user is told on their next message, and that message is a search."""
    from tests.harness import USERS, add_members
    from tests.plan_seed import seed_plan
    from tests.test_restart import running_bot

    await add_members(sessionmaker)
    seeded = await seed_plan(sessionmaker)
    moment = [NOW]
    clock.set_clock(lambda: moment[0])
    try:
        async with running_bot(db_url) as chat:
            await _prepare_directory_only(chat, sessionmaker)
            await chat.send("/update", user=USERS.lead)
            await chat.press(f"upa:{seeded.actions['1.3']}", user=USERS.lead)
            await chat.press("upr:A", user=USERS.lead)
        moment[0] = NOW + dt.timedelta(hours=3)
        async with running_bot(db_url) as chat:
            sent = await chat.send("Draycott", user=USERS.lead)
            said = "\n".join(s.text for s in sent)
            assert "was not saved" in said and "Save this update?" not in said, said
            assert "Draycott" in said
            sent = await chat.send("Draycott", user=USERS.lead)  # told once
            assert "was not saved" not in "\n".join(s.text for s in sent)
    finally:
        clock.set_clock(None)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ProgressUpdate)) == 0


async def test_groups_hear_nothing_for_non_members_and_other_bots(chat: ChatDriver, users: Users) -> None:
    for typed in (
        "hello everyone",
        "Draycott",
        "/start",
        "/start@PartnerBot",
        "/start@OtherBot",
        "/help",
        "/find@PartnerBot Draycott",
    ):
        assert await chat.send(typed, user=users.stranger, chat=GROUP) == [], typed
    assert await chat.send("/start@OtherBot", user=users.member, chat=GROUP) == []
    sent = await chat.send("/help@PartnerBot", user=users.member, chat=GROUP)
    assert sent and sent[0].chat_id == GROUP and "/find" in sent[0].text
