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


# The notice's retention sentence, read as a person would: each kind of data and its number of days.
PERIODS = {
    "rejected_request_days": r"rejected access request.*?(\d+) days",
    "former_member_days": r"former member's account.*?(\d+) days",
    "checkin_comment_days": r"check-in comments (\d+) days",
    "audit_days": r"the audit log (\d+) days",
}


def _periods(text: str) -> dict[str, int]:
    import re

    found = {}
    for name, pattern in PERIODS.items():
        match = re.search(pattern, text, re.DOTALL)
        assert match, f"the notice does not state the period for {name}"
        found[name] = int(match.group(1))
    return found


async def test_the_notice_states_the_periods_the_code_enforces(chat: ChatDriver, users: Users) -> None:
    """What /privacy promises is what storage/retention.py applies with the settings in force."""
    from dataclasses import asdict

    from core.settings import load_settings
    from handlers.privacy_notice import notice_text
    from storage.retention import Schedule

    services = chat.app.bot_data["services"]
    sent = await chat.send("/privacy", user=users.stranger)
    assert _periods(sent[0].text) == asdict(Schedule.from_settings(services.settings))
    # other settings, another notice: the two cannot drift apart
    custom = load_settings(
        retention_rejected_request_days=30,
        retention_former_member_days=200,
        retention_checkin_comment_days=100,
        retention_audit_days=3000,
        telegram_bot_token=None,
    )
    assert (
        _periods(notice_text(custom))
        == asdict(Schedule.from_settings(custom))
        == {
            "rejected_request_days": 30,
            "former_member_days": 200,
            "checkin_comment_days": 100,
            "audit_days": 3000,
        }
    )
