"""The office's sends on a press are claimed once (storage/sends.py): "ask the buddy again" (dkr: and the Mini
App), "send reminders" for a plan (chr: and the Mini App) and the plan's digest (dg:, /digest).

Real Updates through Application.process_update and the real web server, on SQLite and PostgreSQL. Two presses
at once (two coordinators in the chat, or the app and the chat; 20 rounds each, who starts first varying) end
with exactly one message to each recipient, one audit entry and the loser told who sent and when; the next day
(the digest: the next hour) sends again; a send Telegram refuses is reported and, when it reached nobody, can be
tried again."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock
from core.services import MemberInfo
from directory import appointments as ap
from plans import progress
from storage.members import Member, Role
from storage.sends import SendClaim
from tests import webapp_harness
from tests.harness import ChatDriver, Users
from tests.plan_seed import LEAD, seed_plan
from tests.presses import press_together, repeat
from tests.test_webapp_desk import (  # noqa: F401 - fixtures: the autouse clock and the desk's world
    NOW,
    _account,
    _after,
    _alerts,
    _audits,
    _new_head,
    _stagger,
    _until,
    at_now,
    desk,
)

office = webapp_harness.office  # the fixture
ROUNDS = 20
ASKED = "Would you be a buddy"
REMINDED = "Progress reminder"


def _delivered(chat: ChatDriver, chat_id: int, words: str, since: int = 0) -> list[str]:
    """Messages that reached the chat (a refused call is recorded too, with its error)."""
    return [s.text for s in chat.to(chat_id)[since:] if s.ok and s.method == "sendMessage" and words in s.text]


def _next_day() -> None:
    later = NOW + dt.timedelta(days=1)
    clock.set_clock(lambda: later)  # the autouse fixture puts the clock back


# --- ask the buddy again ------------------------------------------------------------------------------------------


async def _requested(sessionmaker, users: Users, i: int) -> tuple[int, int]:
    """A request to a buddy on Telegram (account 6000+i), recorded and not yet answered."""
    appointment, person = await _new_head(sessionmaker, users, i)
    async with sessionmaker.begin() as session:
        match = await ap.request_buddy(session, appointment, person, users.coordinator, today=NOW.date())
        return match.id, 6000 + i


@pytest.mark.usefixtures("desk")
async def test_ask_again_by_two_coordinators_at_once_asks_once(chat, users, sessionmaker):
    async def one_round(i: int) -> None:
        match, buddy = await _requested(sessionmaker, users, i)
        presses = [(f"dkr:{match}", users.coordinator), (f"dkr:{match}", users.admin)]
        result = await press_together(chat, presses if i % 2 else presses[::-1])
        assert len(_delivered(chat, buddy, ASKED)) == 1, i
        assert await _audits(sessionmaker, "buddy.ask_again", match) == 1, i
        alerts = result.alerts
        assert sum(a == "Asked again" for a in alerts) == 1, alerts
        [lost] = [a for a in alerts if a != "Asked again"]
        assert lost.startswith("Already asked by ") and lost.endswith(": nothing was sent again."), lost
        assert "3 Nov 2025" in lost and ("Coordinator" in lost or "Admin" in lost), lost

    await repeat(ROUNDS, one_round)


@pytest.mark.usefixtures("desk")
async def test_ask_again_in_the_app_and_the_chat_at_once_asks_once(office, chat, users, sessionmaker):
    async with office.client() as client:
        for i in range(ROUNDS):
            match, buddy = await _requested(sessionmaker, users, i)
            app_delay, chat_delay = _stagger(i)
            response, sent = await asyncio.gather(
                _after(
                    app_delay,
                    client.post(
                        "/app/api/desk/ask-again", json={"match": match}, headers=office.headers(users.coordinator)
                    ),
                ),
                _after(chat_delay, chat.press(f"dkr:{match}", user=users.admin)),
            )
            assert response.status_code in (200, 409), response.text
            await _until(lambda buddy=buddy: len(_delivered(chat, buddy, ASKED)) >= 1)
            assert len(_delivered(chat, buddy, ASKED)) == 1, i
            assert await _audits(sessionmaker, "buddy.ask_again", match) == 1, i
            if response.status_code == 409:
                assert "Already asked by Admin at " in response.json()["error"], response.text
                assert _alerts(sent) == ["Asked again"], sent
            else:
                assert any(a.startswith("Already asked by Coordinator at ") for a in _alerts(sent)), sent


@pytest.mark.usefixtures("desk")
async def test_ask_again_once_a_day_then_again_the_next_day(office, chat, users, sessionmaker):
    match, buddy = await _requested(sessionmaker, users, 0)
    first = await chat.press(f"dkr:{match}", user=users.coordinator)
    assert _alerts(first) == ["Asked again"]
    # the same button again, another coordinator's, and the app: each told who asked and when, nothing sent
    for user in (users.coordinator, users.admin):
        again = await chat.press(f"dkr:{match}", user=user)
        assert _alerts(again) == ["Already asked by Coordinator at 3 Nov 2025, 09:00: nothing was sent again."]
    async with office.client() as client:
        late = await client.post("/app/api/desk/ask-again", json={"match": match}, headers=office.headers(users.admin))
    assert late.status_code == 409 and "Already asked by Coordinator at " in late.json()["error"]
    assert len(_delivered(chat, buddy, ASKED)) == 1
    assert await _audits(sessionmaker, "buddy.ask_again", match) == 1
    # the desk, in the chat and the app, says so instead of offering a button that would only be refused
    await chat.send("/desk", user=users.admin)
    part = await chat.press("dk:pr", user=users.admin)
    assert "Asked again by Coordinator at 3 Nov 2025, 09:00: once a day." in part[-1].text
    assert f"dkr:{match}" not in [data for _label, data in part[-1].buttons]
    async with office.client() as client:
        desk = (await client.get("/app/api/desk", headers=office.headers(users.admin))).json()
    pairing = next(p for p in desk["pairings"] if p["id"] == match)
    assert pairing["asked_again"] == "Asked again by Coordinator at 3 Nov 2025, 09:00: once a day."
    _next_day()
    part = await chat.press("dk:pr", user=users.admin)
    assert f"dkr:{match}" in [data for _label, data in part[-1].buttons] and "once a day" not in part[-1].text
    again = await chat.press(f"dkr:{match}", user=users.admin)
    assert _alerts(again) == ["Asked again"]
    assert len(_delivered(chat, buddy, ASKED)) == 2
    assert await _audits(sessionmaker, "buddy.ask_again", match) == 2
    async with sessionmaker() as session:
        claim = (await session.scalars(select(SendClaim).where(SendClaim.subject_id == match))).one()
        assert claim.claimed_by == users.admin


@pytest.mark.usefixtures("desk")
async def test_ask_again_that_reaches_nobody_is_reported_and_can_be_tried_again(office, chat, users, sessionmaker):
    match, buddy = await _requested(sessionmaker, users, 0)
    blocked = chat.request.fail("forbidden", {"sendMessage"}, chats={buddy})
    sent = await chat.press(f"dkr:{match}", user=users.coordinator)
    assert _alerts(sent) == ["Could not reach them on Telegram: their details are in your chat. You can ask again."]
    # the office has the buddy's details and the buttons to record the answer (handlers.buddy's fallback)
    assert _delivered(chat, users.coordinator, "could not ask them myself")
    # the buddy has an account Telegram would not deliver to: not "not on Telegram"
    assert _delivered(chat, users.coordinator, "Telegram did not deliver my request to")
    assert not _delivered(chat, users.coordinator, "is not on Telegram")
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(SendClaim)) == 0  # given back
    # from the app, still blocked: the page answered already, so the presser is told in their chat
    told = len(chat.to(users.admin))
    async with office.client() as client:
        response = await client.post(
            "/app/api/desk/ask-again", json={"match": match}, headers=office.headers(users.admin)
        )
    assert response.status_code == 200, response.text
    await _until(lambda: bool(_delivered(chat, users.admin, "Could not reach them on Telegram", told)))
    chat.request.stop_failing(blocked)
    sent = await chat.press(f"dkr:{match}", user=users.coordinator)
    assert _alerts(sent) == ["Asked again"]
    assert len(_delivered(chat, buddy, ASKED)) == 1
    assert await _audits(sessionmaker, "buddy.ask_again", match) == 3
    assert await _audits(sessionmaker, "buddy.ask_again_failed", match) == 2
    # and now it stands for the day
    sent = await chat.press(f"dkr:{match}", user=users.admin)
    assert _alerts(sent)[0].startswith("Already asked by Coordinator at ")


# --- send reminders (a chase) -------------------------------------------------------------------------------------


async def _chased_plan(sessionmaker, i: int) -> tuple[int, int]:
    """A plan nobody has updated with two owners on the bot: the lead (1002) and account 6500+i ("Karen i")."""
    seeded = await seed_plan(sessionmaker, title=f"Plan {i}")
    async with sessionmaker.begin() as session:
        session.add(Member(telegram_id=6500 + i, role="member", display_name=f"Karen {i}"))
        await session.flush()
        (await session.get(Member, 6500 + i)).person_id = seeded.other_person_id
    return seeded.plan_id, 6500 + i


async def _reminder_audits(sessionmaker, plan: int) -> int:
    return await _audits(sessionmaker, "reminder.send", plan)


@pytest.mark.usefixtures("desk")
async def test_chase_by_two_coordinators_at_once_reminds_once(chat, users, sessionmaker):
    async def one_round(i: int) -> None:
        plan, karen = await _chased_plan(sessionmaker, i)
        since = {LEAD: len(chat.to(LEAD)), karen: 0}
        presses = [(f"chr:{plan}", users.coordinator), (f"chr:{plan}", users.admin)]
        result = await press_together(chat, presses if i % 2 else presses[::-1])
        for who in (LEAD, karen):
            assert len(_delivered(chat, who, REMINDED, since[who])) == 1, (i, who)
        assert await _audits(sessionmaker, "plan.chase", plan) == 1, i
        assert await _reminder_audits(sessionmaker, plan) == 2, i
        alerts = result.alerts
        assert sum(a == "Sent" for a in alerts) == 1, alerts
        [lost] = [a for a in alerts if a != "Sent"]
        assert lost.startswith("Reminders already sent by ") and lost.endswith(": nothing was sent again."), lost

    await repeat(ROUNDS, one_round)


@pytest.mark.usefixtures("desk")
async def test_chase_in_the_app_and_the_chat_at_once_reminds_once(office, chat, users, sessionmaker):
    async with office.client() as client:
        for i in range(ROUNDS):
            plan, karen = await _chased_plan(sessionmaker, i)
            since = {LEAD: len(chat.to(LEAD)), karen: 0}
            app_delay, chat_delay = _stagger(i)
            response, sent = await asyncio.gather(
                _after(
                    app_delay,
                    client.post("/app/api/desk/chase", json={"plan": plan}, headers=office.headers(users.coordinator)),
                ),
                _after(chat_delay, chat.press(f"chr:{plan}", user=users.admin)),
            )
            assert response.status_code in (200, 409), response.text
            await _until(
                lambda since=since, karen=karen: all(_delivered(chat, w, REMINDED, since[w]) for w in (LEAD, karen))
            )
            for who in (LEAD, karen):
                assert len(_delivered(chat, who, REMINDED, since[who])) == 1, (i, who)
            assert await _audits(sessionmaker, "plan.chase", plan) == 1, i
            assert await _reminder_audits(sessionmaker, plan) == 2, i
            if response.status_code == 409:
                assert "Reminders already sent by Admin at " in response.json()["error"], response.text
                assert _alerts(sent) == ["Sent"], sent
            else:
                assert response.json()["reminders"] == 2
                assert any(a.startswith("Reminders already sent by Coordinator at ") for a in _alerts(sent)), sent


@pytest.mark.usefixtures("desk")
async def test_chase_once_a_day_then_again_the_next_day(office, chat, users, sessionmaker):
    plan, karen = await _chased_plan(sessionmaker, 0)
    since = len(chat.to(LEAD))
    await chat.send("/chase", user=users.coordinator)
    sent = await chat.press(f"chr:{plan}", user=users.coordinator)
    assert "Sent 2 reminders." in sent[-1].text
    again = await chat.press(f"chr:{plan}", user=users.admin)
    assert _alerts(again) == ["Reminders already sent by Coordinator at 3 Nov 2025, 09:00: nothing was sent again."]
    async with office.client() as client:
        late = await client.post("/app/api/desk/chase", json={"plan": plan}, headers=office.headers(users.admin))
    assert late.status_code == 409 and "Reminders already sent by Coordinator at " in late.json()["error"]
    assert len(_delivered(chat, LEAD, REMINDED, since)) == 1 and len(_delivered(chat, karen, REMINDED)) == 1
    assert await _reminder_audits(sessionmaker, plan) == 2
    _next_day()
    async with office.client() as client:
        done = await client.post("/app/api/desk/chase", json={"plan": plan}, headers=office.headers(users.admin))
    assert done.status_code == 200, done.text
    await _until(lambda: len(_delivered(chat, karen, REMINDED)) == 2)
    assert len(_delivered(chat, LEAD, REMINDED, since)) == 2
    assert await _audits(sessionmaker, "plan.chase", plan) == 2


@pytest.mark.usefixtures("desk")
async def test_chase_not_reaching_someone_names_them_and_stands(office, chat, users, sessionmaker):
    plan, karen = await _chased_plan(sessionmaker, 0)
    since = len(chat.to(LEAD))
    blocked = chat.request.fail("forbidden", {"sendMessage"}, chats={karen})
    await chat.send("/chase", user=users.coordinator)
    sent = await chat.press(f"chr:{plan}", user=users.coordinator)
    assert "Sent 1 reminder." in sent[-1].text
    assert "Not reached on Telegram: Karen 0. Please contact them another way." in sent[-1].text
    # the lead was reached: the chase stands, nobody is reminded twice
    again = await chat.press(f"chr:{plan}", user=users.admin)
    assert _alerts(again)[0].startswith("Reminders already sent by Coordinator")
    assert len(_delivered(chat, LEAD, REMINDED, since)) == 1
    chat.request.stop_failing(blocked)
    # the app's presser is told in their chat (the page has answered before the sends)
    _next_day()
    chat.request.fail("forbidden", {"sendMessage"}, chats={karen})
    told = len(chat.to(users.admin))
    async with office.client() as client:
        done = await client.post("/app/api/desk/chase", json={"plan": plan}, headers=office.headers(users.admin))
    assert done.status_code == 200, done.text
    await _until(lambda: bool(_delivered(chat, users.admin, "Not reached on Telegram: Karen 0", told)))


@pytest.mark.usefixtures("desk")
async def test_chase_reaching_nobody_is_given_back(chat, users, sessionmaker):
    plan, karen = await _chased_plan(sessionmaker, 0)
    since = len(chat.to(LEAD))
    down = chat.request.fail("network", {"sendMessage"}, chats={LEAD, karen})
    await chat.send("/chase", user=users.coordinator)
    sent = await chat.press(f"chr:{plan}", user=users.coordinator)
    assert "Nobody could be reached on Telegram" in sent[-1].text and "you can send again" in sent[-1].text
    assert "Lucy Draycott" in sent[-1].text and "Karen 0" in sent[-1].text
    assert await _audits(sessionmaker, "plan.chase_failed", plan) == 1
    chat.request.stop_failing(down)
    sent = await chat.press(f"chr:{plan}", user=users.coordinator)  # the same message's button, tried again
    assert "Sent 2 reminders." in sent[-1].text
    assert len(_delivered(chat, LEAD, REMINDED, since)) == 1 and len(_delivered(chat, karen, REMINDED)) == 1


# --- the digest ----------------------------------------------------------------------------------------------------


async def _digest_group(chat: ChatDriver, users: Users, sessionmaker: Any) -> tuple[int, int]:
    seeded = await seed_plan(sessionmaker)
    async with sessionmaker.begin() as session:
        await progress.post_update(
            session,
            seeded.actions["1.3"],
            "A",
            "Survey sent",
            MemberInfo(LEAD, Role.LEAD, seeded.lead_person_id, "Lucy Draycott"),
        )
    group = -100777
    await chat.send("/digest here", user=users.coordinator, chat=group)
    return seeded.plan_id, group


def _posts(chat: ChatDriver, group: int) -> list[str]:
    return _delivered(chat, group, "progress this term")


async def test_digest_posted_once_an_hour(chat, users, sessionmaker):
    plan, group = await _digest_group(chat, users, sessionmaker)

    async def one_round(i: int) -> None:
        moment = NOW + dt.timedelta(hours=2 * i)
        clock.set_clock(lambda: moment)
        before = len(_posts(chat, group))
        result = await press_together(chat, [(f"dg:{plan}", users.coordinator), (f"dg:{plan}", users.admin)])
        assert len(_posts(chat, group)) == before + 1, i
        lost = [s.text for s in result.calls if "Digest already posted by" in s.text]
        assert len(lost) == 1 and "nothing was sent again" in lost[0], result.texts()

    await repeat(ROUNDS, one_round)
    assert await _audits(sessionmaker, "plan.digest", plan) == ROUNDS
    # within the hour: /digest is told; after it, posted again
    last = NOW + dt.timedelta(hours=2 * (ROUNDS - 1), minutes=59)
    clock.set_clock(lambda: last)
    sent = await chat.send("/digest", user=users.coordinator)
    assert "Digest already posted by" in sent[-1].text
    later = last + dt.timedelta(minutes=2)
    clock.set_clock(lambda: later)
    await chat.send("/digest", user=users.coordinator)
    assert len(_posts(chat, group)) == ROUNDS + 1
