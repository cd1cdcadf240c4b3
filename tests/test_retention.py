"""Retention with a controlled clock: nothing goes a day early, each kind goes once its time has passed,
erasure records outlive the audit period, and the daily job is scheduled and runs. Both databases."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select
from telegram.ext import Application

from core import clock
from storage import audit
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.directory import Person
from storage.erasure import ERASE_ACTION
from storage.members import AccessRequest, AuditEntry, Member
from storage.retention import Schedule, apply_retention
from tests.harness import frozen_clock

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)
FORMER = 7_000_000_007


async def _seed(sessionmaker) -> None:
    with frozen_clock(T0):
        async with sessionmaker.begin() as s:
            head = Person(first_name="Ann", last_name="Head")
            buddy = Person(first_name="Bo", last_name="Buddy")
            s.add_all([head, buddy])
            await s.flush()
            appt = Appointment(person_id=head.id, start_date=T0.date())
            s.add(appt)
            await s.flush()
            match = BuddyMatch(appointment_id=appt.id, buddy_person_id=buddy.id, status="ended", ended_at=T0)
            s.add(match)
            await s.flush()
            s.add(
                CheckIn(
                    match_id=match.id, kind="two_weeks", due_date=T0.date(), answer="good", comment="Lovely to talk"
                )
            )
            s.add_all(
                [
                    AccessRequest(telegram_id=9100, name="Rejected Rita", status="rejected", decided_at=T0),
                    AccessRequest(telegram_id=9101, name="Pending Pat", status="pending"),
                    Member(telegram_id=FORMER, role="member", display_name="Fay Former", active=False),
                    Member(telegram_id=7_000_000_008, role="member", display_name="Still Here"),
                ]
            )
            audit.record(s, None, "person.update", "person", head.id)
            audit.record(s, None, ERASE_ACTION, "person", 99, telegram_ids=[1])


async def _counts(sessionmaker) -> dict[str, int]:
    async with sessionmaker() as s:

        async def n(stmt) -> int:
            return int(await s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)

        return {
            "requests": await n(select(AccessRequest.id)),
            "members": await n(select(Member.telegram_id).where(Member.telegram_id >= 7_000_000_000)),
            "comments": await n(select(CheckIn.id).where(CheckIn.comment.is_not(None))),
            "audit": await n(select(AuditEntry.id).where(AuditEntry.action != "retention.apply")),
        }


async def _apply(sessionmaker, days: int) -> dict[str, int]:
    moment = T0 + dt.timedelta(days=days)
    with frozen_clock(moment):
        async with sessionmaker.begin() as s:
            return await apply_retention(s, Schedule())


async def test_retention_schedule_with_a_frozen_clock(sessionmaker):
    await _seed(sessionmaker)
    start = await _counts(sessionmaker)
    assert start == {"requests": 2, "members": 2, "comments": 1, "audit": 2}
    assert await _apply(sessionmaker, 89) == {
        "rejected_requests": 0,
        "applicants_forgotten": 0,
        "former_members": 0,
        "checkin_comments": 0,
        "audit_entries": 0,
    }
    assert (await _apply(sessionmaker, 91))["rejected_requests"] == 1
    assert (await _counts(sessionmaker))["requests"] == 1  # the pending one stays
    assert (await _apply(sessionmaker, 364))["former_members"] == 0
    done = await _apply(sessionmaker, 366)
    assert done["former_members"] == 1 and done["checkin_comments"] == 1
    async with sessionmaker() as s:
        assert await s.get(Member, FORMER) is None and await s.get(Member, 7_000_000_008) is not None
        checkin = (await s.scalars(select(CheckIn))).one()
        assert checkin.comment is None and checkin.answer == "good"  # the answer is kept, the words go
    assert (await _apply(sessionmaker, 2191))["audit_entries"] == 0
    assert (await _apply(sessionmaker, 2193))["audit_entries"] >= 1
    async with sessionmaker() as s:
        actions = set(await s.scalars(select(AuditEntry.action)))
    assert "person.update" not in actions and ERASE_ACTION in actions  # erasures outlive the audit period


async def test_the_daily_job_is_scheduled_and_runs(app: Application, sessionmaker, chat, users):
    await _seed(sessionmaker)
    before = (await chat.send("/stats", user=users.admin))[0].text
    assert "Rejected access requests: kept 90 days" in before and "has not run yet" in before
    jobs = app.job_queue.get_jobs_by_name("retention")
    assert len(jobs) == 1
    clock.set_clock(lambda: T0 + dt.timedelta(days=400))
    try:
        await jobs[0].run(app)
    finally:
        clock.set_clock(None)
    counts = await _counts(sessionmaker)
    assert counts["requests"] == 1 and counts["members"] == 1 and counts["comments"] == 0
    after = (await chat.send("/stats", user=users.admin))[0].text
    assert "Last run" in after and "items removed or cleared" in after  # /stats reports the run


async def test_after_the_period_no_copy_of_a_rejected_applicant_is_left(app: Application, sessionmaker, chat):
    """Name, school and phone: not in the request, the audit details, the saved state, the bot's memory."""
    from storage.members import BotState
    from tests.test_erasure_identity import every_column

    rita = 9_100_000_001
    with frozen_clock(T0):
        async with sessionmaker.begin() as s:
            request = AccessRequest(
                telegram_id=rita, name="Rita Rejected", school="Secret School 07700 123456", status="rejected"
            )
            request.decided_at = T0
            s.add(request)
            await s.flush()
            # an entry from before the log kept ids only, and one written now
            s.add(
                AuditEntry(
                    actor_id=rita,
                    action="access.request",
                    entity="access_request",
                    entity_id=str(request.id),
                    detail={"name": "Rita Rejected", "school": "Secret School 07700 123456"},
                )
            )
            audit.record(s, rita, "access.request", "access_request", request.id, name="Rita", school="Secret")
            s.add(BotState(kind="user", key=str(rita), data={"request": {"name": "Rita Rejected"}}))
            s.add(BotState(kind="chat", key=str(rita), data={"typed": "Secret School"}))
    app.user_data[rita]["request"] = {"name": "Rita Rejected", "phone": "07700 123456"}
    values = " ".join((await every_column(sessionmaker)).values())
    assert "Rita Rejected" in values and "07700 123456" in values

    clock.set_clock(lambda: T0 + dt.timedelta(days=91))
    try:
        await app.job_queue.get_jobs_by_name("retention")[0].run(app)
    finally:
        clock.set_clock(None)
    values = " ".join((await every_column(sessionmaker)).values())
    for trace in ("Rita", "Secret School", "07700 123456", "123456", str(rita)):
        assert trace not in values, trace
    assert rita not in app.user_data and "Rita" not in json.dumps(app.user_data, default=str)
    # and the command menu of their chat is gone
    calls = [c for c in app.bot.request.attempts if c.method == "deleteMyCommands"]
    assert any(str(rita) in json.dumps(c.params, default=str) for c in calls), [c.params for c in calls]
