"""The gate, welcome, access requests and their approval, driven through the real Application."""

from __future__ import annotations

from sqlalchemy import select

from storage.members import AccessRequest, AuditEntry, Member
from tests.harness import ChatDriver, Users


async def test_stranger_start_offers_access_request(chat: ChatDriver, users: Users) -> None:
    sent = await chat.send("/start", user=users.stranger)
    assert len(sent) == 1
    assert "ask for access" in sent[0].text
    assert sent[0].buttons == [("Agree and request access", "ar:req")]


async def test_stranger_typing_a_name_is_told_to_request_access(chat: ChatDriver, users: Users) -> None:
    sent = await chat.send("Smith", user=users.stranger)
    assert len(sent) == 1 and "need access first" in sent[0].text


async def test_access_request_reaches_coordinators_and_approval_admits(
    chat: ChatDriver, users: Users, sessionmaker
) -> None:
    await chat.send("/start", user=users.stranger)
    await chat.press("ar:req", user=users.stranger)
    sent = await chat.send("Jane <b>Smith</b>, Oakfield Primary", user=users.stranger)
    to_stranger = [s for s in sent if s.chat_id == users.stranger]
    assert "coordinator will look" in to_stranger[0].text
    to_coordinator = [s for s in sent if s.chat_id == users.coordinator]
    assert len(to_coordinator) == 1
    note = to_coordinator[0]
    assert "Jane &lt;b&gt;Smith&lt;/b&gt;" in note.text  # user text is escaped
    approve = [data for label, data in note.buttons if data.startswith("aa:")][-1]
    assert [s.chat_id for s in sent if s.method == "sendMessage"].count(users.admin) == 1

    # A member cannot press a coordinator's button.
    refused = await chat.press(approve, user=users.member)
    assert refused[0].method == "answerCallbackQuery" and "can't use" in refused[0].params["text"]

    await chat.press(approve, user=users.coordinator)
    async with sessionmaker() as session:
        member = await session.get(Member, users.stranger)
        assert member is not None and member.role == "member"
        request = (await session.scalars(select(AccessRequest))).one()
        assert request.status == "approved" and request.decided_by == users.coordinator
        actions = (await session.scalars(select(AuditEntry.action))).all()
        assert "access.request" in actions and "access.approve" in actions
    assert any("approved" in s.text for s in chat.to(users.stranger))

    # The same button again answers politely and changes nothing.
    again = await chat.press(approve, user=users.coordinator)
    assert "already been decided" in again[0].params["text"]


async def test_member_cannot_use_admin_command(chat: ChatDriver, users: Users, sessionmaker) -> None:
    sent = await chat.send("/grant 9001 admin", user=users.member)
    assert "for admins only" in sent[0].text
    async with sessionmaker() as session:
        assert await session.get(Member, users.stranger) is None


async def test_admin_grants_role(chat: ChatDriver, users: Users, sessionmaker) -> None:
    sent = await chat.send("/grant 9001 lead", user=users.admin)
    assert "Make this account action lead?" in sent[0].text and "9001" in sent[0].text
    async with sessionmaker() as session:
        assert await session.get(Member, users.stranger) is None  # nothing before Confirm
    sent = await chat.press("gy:9001:lead", user=users.admin)
    assert any("action lead" in s.text for s in sent)
    async with sessionmaker() as session:
        assert (await session.get(Member, users.stranger)).role == "lead"


async def test_unknown_command_and_stale_button(chat: ChatDriver, users: Users) -> None:
    # Telegram ends the command at "&" (and sends "/frobnicate<script>" as no command at all)
    sent = await chat.send("/frobnicate&<script>", user=users.member)
    assert "I don't know /frobnicate" in sent[0].text and "<script>" not in sent[0].text
    sent = await chat.press("zz:99", user=users.member)
    assert "expired" in sent[0].params["text"]


async def test_repeated_requests_within_the_hour_tell_the_coordinators_once(
    chat: ChatDriver, users: Users, sessionmaker
) -> None:
    for _attempt in range(3):
        await chat.press("ar:req", user=users.stranger)
        sent = await chat.send("Jane Smith, Oakfield Primary", user=users.stranger)
        assert sent[0].chat_id == users.stranger
    told = [s for s in chat.to(users.coordinator) if "Access request" in s.text]
    assert len(told) == 1
    async with sessionmaker() as session:
        request = (await session.scalars(select(AccessRequest))).one()
        assert request.name == "Jane Smith" and request.version == 1  # unchanged: not a new version
