"""/privacy shows the notice (the built-in one, or the file in settings); a stranger sees it before asking for
access, and their agreement (which notice, when) is recorded with the request."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from handlers.privacy_notice import default_notice, notice_version
from storage.members import AccessRequest, AuditEntry
from tests.harness import ChatDriver, Users, frozen_clock

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)


async def test_privacy_command_shows_the_notice_to_anyone(chat: ChatDriver, users: Users) -> None:
    for who in (users.stranger, users.member):
        sent = await chat.send("/privacy", user=who)
        assert len(sent) == 1
        text = sent[0].text
        for part in ("public task", "What we hold", "Who sees it", "Telegram", "How long", "/mydata", "Contact"):
            assert part in text, part


async def test_stranger_sees_the_notice_and_agreement_is_recorded(chat: ChatDriver, users: Users, sessionmaker) -> None:
    sent = await chat.send("/start", user=users.stranger)
    assert "public task" in sent[0].text and sent[0].buttons == [("Agree and request access", "ar:req")]
    with frozen_clock(T0):
        await chat.press("ar:req", user=users.stranger)
        await chat.send("Jane Smith, Oakfield Primary", user=users.stranger)
    async with sessionmaker() as s:
        request = (await s.scalars(select(AccessRequest).where(AccessRequest.telegram_id == users.stranger))).one()
        entry = (
            await s.scalars(
                select(AuditEntry).where(AuditEntry.action == "access.request", AuditEntry.entity_id == str(request.id))
            )
        ).one()
    assert entry.detail["privacy_notice"] == notice_version(default_notice())
    assert entry.detail["privacy_agreed_at"] == T0.isoformat()


async def test_notice_from_the_settings_file(chat: ChatDriver, users: Users, tmp_path) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text("Hove Partnership privacy notice <draft> — contact dpo@hove.example", encoding="utf-8")
    settings = chat.app.bot_data["services"].settings
    object.__setattr__(settings, "privacy_notice_file", str(notice))
    sent = await chat.send("/privacy", user=users.stranger)
    assert "Hove Partnership privacy notice &lt;draft&gt;" in sent[0].params["text"]
    notice.unlink()  # unreadable later: the built-in notice, not an error
    sent = await chat.send("/privacy", user=users.stranger)
    assert "public task" in sent[0].text
