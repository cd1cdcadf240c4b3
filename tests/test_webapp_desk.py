"""The Mini App's desk: every queue's actions over HTTP, each the chat button's own function, made once.

The real web server and Application on SQLite and PostgreSQL; notifications asserted in the recorded Bot API
calls; refusals compared against a dump of the database; the app and the chat pressed at once (20 rounds) end
in one decision, one audit entry and one message to each party."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.terms import term_for
from directory import appointments as ap
from storage.audit import AuditEntry
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.desk import DeskState
from storage.directory import Person
from storage.members import Member
from storage.membership import revoke
from storage.plans import ReminderSent
from tests import webapp_harness
from tests.desk_world import waiting_and_paired
from tests.harness import ChatDriver, Users, frozen_clock
from tests.plan_seed import seed_plan
from tests.test_authority import dump

office = webapp_harness.office  # the fixture

NOW = dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.timezone.utc)  # a Monday in Autumn 2025
START = dt.date(2026, 1, 5)
HEAD_ACCOUNT, BUDDY_ACCOUNT = 5010, 5011  # the paired new head and their buddy, on Telegram


@pytest.fixture(autouse=True)
def at_now() -> Iterator[None]:
    with frozen_clock(NOW):
        yield


class Desk:
    def __init__(self, **ids: Any):
        self.__dict__.update(ids)


async def _account(session: Any, telegram_id: int, person_id: int | None, name: str = "") -> None:
    session.add(
        Member(
            telegram_id=telegram_id, role="member", display_name=name or f"Account {telegram_id}", person_id=person_id
        )
    )


@pytest.fixture
async def desk(app, sessionmaker, users: Users) -> Desk:
    """A directory; a new head waiting for a buddy; an accepted pairing (both heads on Telegram) with a struggling
    check-in answer; a plan nobody has updated; an account waiting for a link; an entry not confirmed."""
    async with sessionmaker.begin() as session:
        heads = await waiting_and_paired(session, users.coordinator, NOW.date(), START)
        waiting, paired, buddy, match = heads.waiting, heads.paired, heads.buddy, heads.match
        await _account(session, BUDDY_ACCOUNT, buddy.person_id, "Buddy")
        await _account(session, HEAD_ACCOUNT, paired.person.id, "Omar")
        await session.flush()
        await ap.accept(session, match.id, BUDDY_ACCOUNT)
        checkin = (await session.scalars(select(CheckIn).where(CheckIn.match_id == match.id))).first()
        await ap.answer_checkin(session, checkin.id, BUDDY_ACCOUNT, "struggling", "We have not managed to meet.")
        suggested = await ap.propose(session, waiting.appointment.id, k=2, today=NOW.date())
        # an account waiting for a link, named like a directory entry nobody is linked to
        target = (
            await session.scalars(
                select(Person).where(Person.id.not_in([buddy.person_id, paired.person.id])).order_by(Person.id)
            )
        ).first()
        await _account(session, 5020, None, target.full_name)
        # the buddy's entry was asked this term and not confirmed
        (await session.get(Person, buddy.person_id)).check_asked = term_for(NOW.date()).code
        ids = dict(
            waiting=waiting.appointment.id,
            match=match.id,
            buddy=buddy.person_id,
            head=paired.person.id,
            suggested=[s.person_id for s in suggested],
            target=target.id,
            target_name=target.full_name,
        )
    seeded = await seed_plan(sessionmaker)
    await app.bot_data["services"].refresh_directory()
    return Desk(plan=seeded.plan_id, **ids)


def _refused(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}


async def _audits(sessionmaker, action: str, entity_id: Any = None) -> int:
    query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    async with sessionmaker() as session:
        return int(await session.scalar(query) or 0)


async def _until(condition: Any) -> None:
    """The API answers once its decision is committed; its notices follow (the handler's `after`): wait for
    them to have gone, then the condition must hold."""
    from webapp.server import settled

    await settled()
    assert condition(), "the notice never came"


def _texts(chat: ChatDriver, chat_id: int, since: int = 0) -> list[str]:
    return [s.text for s in chat.to(chat_id)[since:] if s.text]


# --- the queues -----------------------------------------------------------------------------------------------


async def test_the_desk_lists_every_queue_with_what_its_actions_need(office, users, desk):
    async with office.client() as client:
        shown = (await client.get("/app/api/desk", headers=office.headers(users.coordinator))).json()
    [head] = shown["new_heads"]
    assert head["id"] == desk.waiting and head["name"] == "Nadia Quill"
    assert [s["person"] for s in head["suggestions"]] == desk.suggested
    assert all(s["reasons"] for s in head["suggestions"])  # the reasons, as the chat shows them
    [pairing] = shown["pairings"]
    assert pairing["id"] == desk.match and pairing["state"] == "active" and pairing["head"] == "Omar Reyes"
    [answer] = shown["answers"]
    assert answer["answer"] == "struggling" and answer["comment"] == "We have not managed to meet."
    assert shown["answers_upto"]
    assert [(p["id"], p["plan"]) for p in shown["not_updated"]] == [(desk.plan, "Teaching School 2025-26")]
    account = next(a for a in shown["accounts"] if a["id"] == 5020)
    assert account["suggestions"][0]["person"] == desk.target and account["suggestions"][0]["linked_to"] == ""
    assert [e["person"] for e in shown["stale"]] == [desk.buddy] and shown["stale"][0]["can_ask"] is True
    assert shown["support"] == []


# --- each action: the chat's function, its notices, the loser told ------------------------------------------------


async def test_confirm_a_suggested_buddy(office, chat, users, sessionmaker, desk):
    first = desk.suggested[0]
    async with sessionmaker.begin() as session:
        await _account(session, 5030, first, "Suggested")  # on Telegram: the bot asks them itself
    async with office.client() as client:
        done = await client.post(
            "/app/api/desk/buddy",
            json={"appointment": desk.waiting, "person": first},
            headers=office.headers(users.coordinator),
        )
        assert done.status_code == 200, done.text
        assert "I have asked" in done.json()["text"]
        # the chat's own request, with its own buttons, after the commit
        await _until(lambda: any("Would you be a buddy" in s.text for s in chat.to(5030)))
        [request] = [s for s in chat.to(5030) if "Would you be a buddy" in s.text]
        async with sessionmaker() as session:
            match = (await session.scalars(select(BuddyMatch).where(BuddyMatch.appointment_id == desk.waiting))).one()
        assert request.buttons == [("Accept", f"bq:a:{match.id}"), ("Decline", f"bq:d:{match.id}")]
        # a moment later, the admin confirms the other suggestion: told who asked, and when
        late = await client.post(
            "/app/api/desk/buddy",
            json={"appointment": desk.waiting, "person": desk.suggested[1]},
            headers=office.headers(users.admin),
        )
        _refused(late, 409)
        assert "already been asked" in late.json()["error"] and "by Coordinator on 3 Nov 2025" in late.json()["error"]
        # and the chat's button for the same new head says so too
        sent = await chat.press(f"bc:{desk.waiting}:{desk.suggested[1]}", user=users.admin)
        assert "already been asked" in sent[0].params["text"]
    assert await _audits(sessionmaker, "buddy.request") == 2  # the fixture's pairing and this one
    assert len([s for s in chat.to(5030) if "Would you be a buddy" in s.text]) == 1


async def test_let_the_bot_ask(office, chat, users, sessionmaker, desk):
    async with office.client() as client:
        done = await client.post(
            "/app/api/desk/buddy-ask", json={"appointment": desk.waiting}, headers=office.headers(users.coordinator)
        )
        assert done.status_code == 200, done.text
        assert "if they decline I will ask the next suggestion" in done.json()["text"]
    async with sessionmaker() as session:
        match = (await session.scalars(select(BuddyMatch).where(BuddyMatch.appointment_id == desk.waiting))).one()
    assert match.buddy_person_id == desk.suggested[0] and match.status == "requested"
    # not on Telegram: the coordinators get the request to make themselves, with the buttons (as from the chat)
    await _until(lambda: any("is not on Telegram" in t for t in _texts(chat, users.coordinator)))
    assert any("is not on Telegram" in t for t in _texts(chat, users.coordinator))


async def test_ask_again_and_end_a_pairing(office, chat, users, sessionmaker, desk):
    async with sessionmaker.begin() as session:
        asked = await ap.request_buddy(session, desk.waiting, desk.suggested[0], users.coordinator, today=NOW.date())
        await _account(session, 5031, desk.suggested[0], "Suggested")
    async with office.client() as client:
        again = await client.post(
            "/app/api/desk/ask-again", json={"match": asked.id}, headers=office.headers(users.coordinator)
        )
        assert again.status_code == 200, again.text
        await _until(lambda: _texts(chat, 5031) != [])
        assert len([t for t in _texts(chat, 5031) if "Would you be a buddy" in t]) == 1
        # an answered request is not asked again
        _refused(
            await client.post(
                "/app/api/desk/ask-again", json={"match": desk.match}, headers=office.headers(users.admin)
            ),
            409,
        )

        told = {who: len(chat.to(who)) for who in (HEAD_ACCOUNT, BUDDY_ACCOUNT)}
        ended = await client.post(
            "/app/api/desk/end", json={"match": desk.match}, headers=office.headers(users.coordinator)
        )
        assert ended.status_code == 200, ended.text
        await _until(lambda: all(len(chat.to(who)) > told[who] for who in told))
        for who in (HEAD_ACCOUNT, BUDDY_ACCOUNT):
            assert [t for t in _texts(chat, who, told[who]) if "has ended the buddy pairing" in t] != []
            assert len(chat.to(who)) == told[who] + 1
        late = await client.post("/app/api/desk/end", json={"match": desk.match}, headers=office.headers(users.admin))
        _refused(late, 409)
        assert "already been ended" in late.json()["error"] and "Already ended by Coordinator" in late.json()["error"]
        sent = await chat.press(f"dkey:{desk.match}", user=users.admin)
        assert "already been ended" in sent[0].params["text"] or "not active" in sent[0].params["text"]
    async with sessionmaker() as session:
        assert (await session.get(BuddyMatch, desk.match)).status == "ended"
    assert await _audits(sessionmaker, "buddy.end", desk.match) == 1


async def test_check_ins_marked_seen(office, chat, users, sessionmaker, desk):
    async with office.client() as client:
        headers = office.headers(users.coordinator)
        shown = (await client.get("/app/api/desk", headers=headers)).json()
        for bad in ({}, {"upto": "yesterday"}, {"upto": 5}, {"upto": "2025-11-03T09:00:00"}):  # naive: refused
            _refused(await client.post("/app/api/desk/seen", json=bad, headers=headers), 400)
        done = await client.post("/app/api/desk/seen", json={"upto": shown["answers_upto"]}, headers=headers)
        assert done.status_code == 200 and done.json()["moved"] is True
        assert (await client.get("/app/api/desk", headers=headers)).json()["answers"] == []
        again = await client.post("/app/api/desk/seen", json={"upto": shown["answers_upto"]}, headers=headers)
        assert again.json()["moved"] is False  # the mark only moves forward
    # the chat's part reads the same mark
    sent = await chat.press("dk:ck", user=users.coordinator)
    assert "No new answers." in sent[-1].text
    async with sessionmaker() as session:
        assert (await session.get(DeskState, users.admin)) is None  # another coordinator's desk: untouched


async def test_chase_sends_the_chats_reminders(office, chat, users, sessionmaker, desk):
    before = len(chat.to(users.lead))
    async with office.client() as client:
        done = await client.post(
            "/app/api/desk/chase", json={"plan": desk.plan}, headers=office.headers(users.coordinator)
        )
        assert done.status_code == 200, done.text
        assert done.json() == {"plan": desk.plan, "reminders": 1, "text": "Reminding 1 person on the bot."}
        _refused(
            await client.post("/app/api/desk/chase", json={"plan": 999999}, headers=office.headers(users.coordinator)),
            404,
        )
    await _until(lambda: len(chat.to(users.lead)) > before)
    reminders = chat.to(users.lead)[before:]
    assert len(reminders) == 1 and "Progress reminder" in reminders[0].text
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ReminderSent)) == 1


async def test_stale_entry_asked_again_once_a_day(office, chat, users, sessionmaker, desk):
    async with office.client() as client:
        before = len(chat.to(BUDDY_ACCOUNT))
        done = await client.post(
            "/app/api/desk/stale", json={"person": desk.buddy}, headers=office.headers(users.coordinator)
        )
        assert done.status_code == 200, done.text
        await _until(lambda: len(chat.to(BUDDY_ACCOUNT)) > before)
        [card] = chat.to(BUDDY_ACCOUNT)[before:]
        assert "Please confirm your directory entry for Autumn 2025" in card.text
        assert [d for _l, d in card.buttons] == [f"dck:ok:{desk.buddy}", f"dck:ed:{desk.buddy}"]  # the termly check's
        late = await client.post(
            "/app/api/desk/stale", json={"person": desk.buddy}, headers=office.headers(users.admin)
        )
        _refused(late, 409)
        assert "already been asked again today" in late.json()["error"] and "by Coordinator" in late.json()["error"]
        # the chat's desk: no button for it today, and an old button is refused
        sent = await chat.press("dk:st", user=users.admin)
        assert "asked again on 3 Nov 2025" in sent[-1].text
        assert f"dks:{desk.buddy}" not in [d for _l, d in sent[-1].buttons]
        sent = await chat.press(f"dks:{desk.buddy}", user=users.admin)
        assert "already been asked again today" in sent[0].params["text"]
        assert len(chat.to(BUDDY_ACCOUNT)) == before + 1
        # the member confirms: the entry leaves the queue
        await chat.press(f"dck:ok:{desk.buddy}", user=BUDDY_ACCOUNT)
        shown = (await client.get("/app/api/desk", headers=office.headers(users.coordinator))).json()
        assert shown["stale"] == []
    assert await _audits(sessionmaker, "person.check_reminded") == 1


async def test_stale_entries_part_in_the_chat(chat, users, desk):
    sent = await chat.send("/desk", user=users.coordinator)
    assert "1 entry not confirmed this term" in sent[0].text
    assert ("Entry to confirm (1)", "dk:st") in sent[0].buttons
    sent = await chat.press("dk:st", user=users.coordinator)
    assert "Entries not confirmed this term" in sent[-1].text
    button = next(d for _l, d in sent[-1].buttons if d.startswith("dks:"))
    before = len(chat.to(BUDDY_ACCOUNT))
    sent = await chat.press(button, user=users.coordinator)
    assert "Asked again." in sent[-1].text
    assert len(chat.to(BUDDY_ACCOUNT)) == before + 1


async def test_link_conflict_replace_and_unlink(office, chat, users, sessionmaker, desk):
    headers = office.headers(users.coordinator)
    async with office.client() as client:
        link = {"account": 5020, "person": desk.target, "expect": None}
        done = await client.post("/app/api/desk/link", json=link, headers=headers)
        assert done.status_code == 200, done.text
        assert done.json()["text"] == f"Linked: {desk.target_name} to {desk.target_name}."
        # the admin's page showed it unlinked too: told who linked it, nothing changed
        late = await client.post("/app/api/desk/link", json=link, headers=office.headers(users.admin))
        _refused(late, 409)
        assert "link has changed" in late.json()["error"] and "by Coordinator on 3 Nov 2025" in late.json()["error"]
        # another account asks for the same entry: the conflict is shown, and replacing needs saying so
        async with sessionmaker.begin() as session:
            await _account(session, 5021, None, desk.target_name)
        shown = (await client.get("/app/api/desk", headers=headers)).json()
        other = next(a for a in shown["accounts"] if a["id"] == 5021)
        assert other["suggestions"][0]["linked_to"].startswith(desk.target_name + ", linked since 3 Nov 2025")
        conflict = {"account": 5021, "person": desk.target, "expect": None}
        refused = await client.post("/app/api/desk/link", json=conflict, headers=headers)
        _refused(refused, 409)
        assert "Already linked to another account" in refused.json()["error"]
        replaced = await client.post("/app/api/desk/link", json={**conflict, "replace": True}, headers=headers)
        assert replaced.status_code == 200 and replaced.json()["replaced"] == desk.target_name
        async with sessionmaker() as session:
            assert (await session.get(Member, 5020)).person_id is None
            assert (await session.get(Member, 5021)).person_id == desk.target
        # unlink what the page showed; a second press (or an old page) is told
        links = (await client.get("/app/api/desk", headers=headers)).json()["links"]
        assert links[0]["id"] == 5021 and links[0]["person"] == desk.target
        gone = await client.post("/app/api/desk/unlink", json={"account": 5021, "person": desk.target}, headers=headers)
        assert gone.status_code == 200, gone.text
        again = await client.post(
            "/app/api/desk/unlink", json={"account": 5021, "person": desk.target}, headers=office.headers(users.admin)
        )
        _refused(again, 409)
        assert "no longer linked" in again.json()["error"] and "by Coordinator" in again.json()["error"]
    async with sessionmaker() as session:
        assert (await session.get(Member, 5021)).person_id is None
    assert await _audits(sessionmaker, "member.link") == 2
    assert await _audits(sessionmaker, "member.unlink") == 2  # replaced, then unlinked


async def _support_world(app, sessionmaker) -> dict[str, int]:
    """A maths system leader on Telegram (5040) and two waiting requests from a head on Telegram (5041)."""
    from storage.directory import School, Specialism
    from storage.support import SupportLeader, SupportRequest

    async with sessionmaker.begin() as session:
        maths = (await session.scalars(select(Specialism).where(Specialism.name == "mathematics"))).first()
        if maths is None:
            maths = Specialism(name="mathematics", aliases="maths")
            session.add(maths)
        schools = [School(name=f"Support School {n}", phase="primary", urn=f"99000{n}") for n in (1, 2)]
        session.add_all(schools)
        await session.flush()
        leader = Person(
            first_name="Sally",
            last_name="Leader",
            school_id=schools[0].id,
            designations="SLE",
            job_title="Maths lead",
            specialisms=[maths],
        )
        requester = Person(first_name="Rita", last_name="Requester", school_id=schools[1].id)
        session.add_all([leader, requester])
        await session.flush()
        session.add(SupportLeader(person_id=leader.id, capacity_days=10))
        await _account(session, 5040, leader.id, "Sally")
        await _account(session, 5041, requester.id, "Rita")
        requests = [
            SupportRequest(
                requester_person_id=requester.id,
                school_id=schools[1].id,
                specialism="mathematics",
                phase="primary",
                context="Year 5 fractions",
            )
            for _n in (1, 2)
        ]
        session.add_all(requests)
        await session.flush()
        ids = {"leader": leader.id, "first": requests[0].id, "second": requests[1].id}
    await app.bot_data["services"].refresh_directory()
    return ids


async def test_support_requests_brokered_and_declined(office, app, chat, users, sessionmaker, desk):
    from storage.support import SupportDeployment, SupportRequest

    world = await _support_world(app, sessionmaker)
    headers = office.headers(users.coordinator)
    async with office.client() as client:
        shown = (await client.get("/app/api/desk", headers=headers)).json()["support"]
        first = next(r for r in shown if r["id"] == world["first"])
        assert [x["person"] for x in first["suggestions"]] == [world["leader"]] and first["suggestions"][0]["reasons"]
        done = await client.post(
            "/app/api/desk/support", json={"request": world["first"], "person": world["leader"]}, headers=headers
        )
        assert done.status_code == 200, done.text
        assert done.json()["text"] == f"I have asked Sally Leader to support request {world['first']}."
        await _until(lambda: any("Would you support a school?" in t for t in _texts(chat, 5040)))
        late = await client.post(
            "/app/api/desk/support",
            json={"request": world["first"], "person": world["leader"]},
            headers=office.headers(users.admin),
        )
        _refused(late, 409)
        assert "Already decided by Coordinator on 3 Nov 2025" in late.json()["error"]

        declined = await client.post(
            "/app/api/desk/support-decline", json={"request": world["second"]}, headers=headers
        )
        assert declined.status_code == 200, declined.text
        await _until(lambda: any("cannot arrange support" in t for t in _texts(chat, 5041)))
        again = await client.post(
            "/app/api/desk/support-decline", json={"request": world["second"]}, headers=office.headers(users.admin)
        )
        _refused(again, 409)
        assert "no longer open" in again.json()["error"] and "by Coordinator" in again.json()["error"]
        # the chat's button for the declined one, late: no longer open, nothing sent
        sent = await chat.press(f"ux:{world['second']}", user=users.admin)
        assert "no longer open" in sent[0].params["text"]
    async with sessionmaker() as session:
        assert (await session.get(SupportRequest, world["first"])).status == "asked"
        assert (await session.get(SupportRequest, world["second"])).status == "declined"
        assert await session.scalar(select(func.count()).select_from(SupportDeployment)) == 1
    assert len([t for t in _texts(chat, 5041) if "cannot arrange support" in t]) == 1
    assert await _audits(sessionmaker, "support.office_decline") == 1


# --- who may: the chat's table, read on every call ---------------------------------------------------------------


def test_every_desk_action_needs_its_chat_buttons_row_of_the_authority_table(app) -> None:
    """Each write route of the desk names the chat button it mirrors; that row exists, and the route asks the
    role the row declares (read from the manifests, never copied)."""
    from webapp.server import WRITES, authority_rows, roles, routes

    writes = [
        r[2]
        for r in routes(app, app.bot_data["services"])
        if len(r) == 3 and isinstance(r[2], dict) and r[2].get("write")
    ]
    desk_actions = [w for w in writes if w["name"].startswith("desk-") and w["name"] != "desk-decide"]
    assert len(desk_actions) == 13
    for route in desk_actions:
        row = authority_rows()[WRITES[route["need"]]]
        assert row.role == roles()[route["need"]], route["name"]
        assert row.relation in ("none", "self"), route["name"]  # office work: no relation to a target needed


def _actions(desk: Desk) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("/app/api/desk/buddy", {"appointment": desk.waiting, "person": desk.suggested[0]}),
        ("/app/api/desk/buddy-ask", {"appointment": desk.waiting}),
        ("/app/api/desk/ask-again", {"match": desk.match}),
        ("/app/api/desk/end", {"match": desk.match}),
        ("/app/api/desk/seen", {"upto": NOW.isoformat()}),
        ("/app/api/desk/chase", {"plan": desk.plan}),
        ("/app/api/desk/stale", {"person": desk.buddy}),
        ("/app/api/desk/link", {"account": 5020, "person": desk.target, "expect": None}),
        ("/app/api/desk/unlink", {"account": BUDDY_ACCOUNT, "person": desk.buddy}),
        ("/app/api/desk/support", {"request": desk.support, "person": desk.leader}),
        ("/app/api/desk/support-in-turn", {"request": desk.support}),
        ("/app/api/desk/support-decline", {"request": desk.support}),
    ]


async def test_members_and_revoked_coordinators_are_refused_and_nothing_changes(
    office, app, chat, users, sessionmaker, desk
):
    support = await _support_world(app, sessionmaker)
    desk.support, desk.leader = support["first"], support["leader"]
    headers = office.headers(users.coordinator)  # a page opened before the revocation
    before = await dump(sessionmaker)
    sent = len(chat.sent)
    async with office.client() as client:
        for path, body in _actions(desk):
            for user in (users.member, users.lead, users.stranger, BUDDY_ACCOUNT):
                _refused(await client.post(path, json=body, headers=office.headers(user)), 403)
            _refused(await client.post(path, json=body), 401)
        async with sessionmaker.begin() as session:
            assert await revoke(session, users.coordinator, users.admin) is not None
        before = await dump(sessionmaker)
        for path, body in _actions(desk):
            _refused(await client.post(path, json=body, headers=headers), 403)
    assert await dump(sessionmaker) == before
    assert len(chat.sent) == sent  # nobody was told anything


async def test_forged_and_old_ids_change_nothing(office, app, chat, users, sessionmaker, desk):
    support = await _support_world(app, sessionmaker)
    desk.support, desk.leader = support["first"], support["leader"]
    headers = office.headers(users.coordinator)
    bad: list[tuple[str, dict[str, Any], int]] = []
    for path, body in _actions(desk):
        for key, value in body.items():
            if key in ("upto", "expect"):
                continue
            for forged in (str(value), True, -1, 0, 2**70, None, [value]):
                bad.append((path, {**body, key: forged}, 400))
    bad += [
        ("/app/api/desk/buddy", {"appointment": 999999, "person": desk.suggested[0]}, 409),
        ("/app/api/desk/buddy", {"appointment": desk.waiting, "person": 999999}, 409),
        ("/app/api/desk/buddy", {"appointment": desk.waiting, "person": desk.head}, 409),  # not a head to ask
        ("/app/api/desk/end", {"match": 999999}, 409),
        ("/app/api/desk/ask-again", {"match": 999999}, 409),
        ("/app/api/desk/chase", {"plan": 999999}, 404),
        ("/app/api/desk/stale", {"person": 999999}, 409),
        ("/app/api/desk/stale", {"person": desk.target}, 409),  # not asked this term, nobody to ask
        ("/app/api/desk/link", {"account": 999999, "person": desk.target, "expect": None}, 409),
        ("/app/api/desk/link", {"account": 5020, "person": 999999, "expect": None}, 409),
        ("/app/api/desk/link", {"account": 5020, "person": desk.target, "expect": desk.buddy}, 409),  # an old page
        ("/app/api/desk/link", {"account": 5020, "person": desk.target, "expect": None, "replace": "yes"}, 400),
        ("/app/api/desk/unlink", {"account": BUDDY_ACCOUNT, "person": desk.target}, 409),  # not that link
        ("/app/api/desk/unlink", {"account": 999999, "person": desk.target}, 409),
        ("/app/api/desk/support", {"request": 999999, "person": desk.leader}, 409),
        ("/app/api/desk/support", {"request": desk.support, "person": desk.target}, 409),  # not suggested
        ("/app/api/desk/support-decline", {"request": 999999}, 409),
    ]
    before = await dump(sessionmaker)
    sent = len(chat.sent)
    async with office.client() as client:
        for path, body, status in bad:
            response = await client.post(path, content=json.dumps(body), headers=headers)
            assert response.status_code == status, (path, body, response.text)
            assert set(response.json()) == {"error"}
        _refused(await client.post("/app/api/desk/end", content=b"[1]", headers=headers), 400)
        _refused(await client.post("/app/api/desk/end", content=b"{nonsense", headers=headers), 400)
        assert (await client.get("/app/api/desk/end", headers=headers)).status_code == 405
    assert await dump(sessionmaker) == before
    assert len(chat.sent) == sent


# --- the app and the chat pressed at once: one decision ------------------------------------------------------------


async def _new_head(sessionmaker, users: Users, i: int) -> tuple[int, int]:
    """A fresh new head and their best suggestion, the suggestion on Telegram (account 6000+i)."""
    async with sessionmaker.begin() as session:
        school = (
            await session.scalars(
                select(Person.school_id).where(Person.is_head.is_(True)).order_by(Person.id).offset(10 + i)
            )
        ).first()
        reg = await ap.register_appointment(
            session,
            actor_id=users.coordinator,
            first_name="Race",
            last_name=f"Head{i}",
            start_date=START,
            school_id=school,
            relation="office",
        )
        await session.flush()
        [best] = await ap.propose(session, reg.appointment.id, k=1, today=NOW.date())
        member = await session.get(Member, 6000 + i)
        if member is None:
            await _account(session, 6000 + i, None, "Racer")
            await session.flush()
        # the buddy's account: relinked each round (a person may be the best suggestion twice)
        for old in await session.scalars(select(Member).where(Member.person_id == best.person_id)):
            old.person_id = None
        await session.flush()
        (await session.get(Member, 6000 + i)).person_id = best.person_id
        return reg.appointment.id, best.person_id


async def test_confirm_a_buddy_in_the_app_and_the_chat_at_once(office, chat, users, sessionmaker, desk):
    async with office.client() as client:
        for i in range(20):
            appointment, person = await _new_head(sessionmaker, users, i)
            app_delay, chat_delay = _stagger(i)
            response, _sent = await asyncio.gather(
                _after(
                    app_delay,
                    client.post(
                        "/app/api/desk/buddy",
                        json={"appointment": appointment, "person": person},
                        headers=office.headers(users.coordinator),
                    ),
                ),
                _after(chat_delay, chat.press(f"bc:{appointment}:{person}", user=users.admin)),
            )
            assert response.status_code in (200, 409), response.text
            async with sessionmaker() as session:
                matches = (
                    await session.scalars(select(BuddyMatch).where(BuddyMatch.appointment_id == appointment))
                ).all()
                audits = await session.scalar(
                    select(func.count())
                    .select_from(AuditEntry)
                    .where(AuditEntry.action == "buddy.request", AuditEntry.entity_id.in_([str(m.id) for m in matches]))
                )
            assert len(matches) == 1 and audits == 1, i
            await _until(lambda i=i: any("Would you be a buddy" in t for t in _texts(chat, 6000 + i)))
            asked = [t for t in _texts(chat, 6000 + i) if "Would you be a buddy" in t]
            assert len(asked) == 1, (i, asked)
            if response.status_code == 409:
                assert "already been asked" in response.json()["error"], response.text
            else:
                assert any("already been asked" in a or "just been asked" in a for a in _alerts(_sent)), _sent


async def _after(delay: float, work: Any) -> Any:
    await asyncio.sleep(delay)
    return await work


def _stagger(i: int) -> tuple[float, float]:
    """Who starts first, and by how much, changes from round to round: the app, the chat, or both at once."""
    lead = (0.0, 0.001, 0.003, 0.008, 0.02)[i % 5]
    return (lead, 0.0) if i % 2 else (0.0, lead)


def _alerts(sent: list[Any]) -> list[str]:
    return [str(s.params.get("text", "")) for s in sent if s.method == "answerCallbackQuery"]


async def test_end_a_pairing_in_the_app_and_the_chat_at_once(office, chat, users, sessionmaker, desk):
    async with office.client() as client:
        for i in range(20):
            appointment, person = await _new_head(sessionmaker, users, i)
            async with sessionmaker.begin() as session:
                match = await ap.request_buddy(session, appointment, person, users.coordinator, today=NOW.date())
                await ap.accept(session, match.id, 6000 + i)
                head = (await session.get(Appointment, appointment)).person_id
                await _account(session, 7000 + i, head, "Head")
            told = {who: len(chat.to(who)) for who in (6000 + i, 7000 + i)}
            app_delay, chat_delay = _stagger(i)
            response, sent = await asyncio.gather(
                _after(
                    app_delay,
                    client.post(
                        "/app/api/desk/end", json={"match": match.id}, headers=office.headers(users.coordinator)
                    ),
                ),
                _after(chat_delay, chat.press(f"dkey:{match.id}", user=users.admin)),
            )
            assert response.status_code in (200, 409), response.text
            assert await _audits(sessionmaker, "buddy.end", match.id) == 1, i
            await _until(lambda i=i, told=told: all(len(chat.to(w)) > told[w] for w in (6000 + i, 7000 + i)))
            for who in (6000 + i, 7000 + i):
                news = [t for t in _texts(chat, who, told[who]) if "has ended the buddy pairing" in t]
                assert len(news) == 1, (i, who, news)
            app_won = response.status_code == 200
            if not app_won:
                assert "already been ended" in response.json()["error"]
            else:
                assert any("already been ended" in a or "not active" in a for a in _alerts(sent)), sent


async def test_link_an_account_in_the_app_and_the_chat_at_once(office, chat, users, sessionmaker, desk):
    async with office.client() as client:
        for i in range(20):
            async with sessionmaker.begin() as session:
                person = Person(first_name="Linky", last_name=f"Person{i}")
                session.add(person)
                await session.flush()
                await _account(session, 8000 + i, None, f"Linky Person{i}")
                person_id = person.id
            app_delay, chat_delay = _stagger(i)
            response, sent = await asyncio.gather(
                _after(
                    app_delay,
                    client.post(
                        "/app/api/desk/link",
                        json={"account": 8000 + i, "person": person_id, "expect": None},
                        headers=office.headers(users.coordinator),
                    ),
                ),
                _after(chat_delay, chat.press(f"lk:{8000 + i}:{person_id}:y", user=users.admin)),
            )
            assert response.status_code in (200, 409), response.text
            async with sessionmaker() as session:
                assert (await session.get(Member, 8000 + i)).person_id == person_id
            assert await _audits(sessionmaker, "member.link", 8000 + i) == 1, i
            edits = [s.text for s in sent if s.method == "editMessageText"]
            if response.status_code == 409:
                assert "link has changed" in response.json()["error"]
                assert any(e.startswith("Linked:") for e in edits), edits
            else:
                assert any("Already decided by Coordinator" in e for e in edits), edits
