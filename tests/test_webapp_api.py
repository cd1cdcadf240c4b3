"""The Mini App's API over plain HTTP (no browser): who may call what, what is refused, and that the board's
writes are the chat's writes. The real web server and Application on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from core.offline import OFFLINE_TOKEN
from storage.audit import AuditEntry
from storage.members import AccessRequest, Member
from storage.membership import revoke
from storage.plans import ProgressUpdate
from tests import webapp_harness
from tests.harness import frozen_clock
from tests.plan_seed import seed_plan
from tests.webapp_harness import telegram_init_data

office = webapp_harness.office  # the fixture

NOW = dt.datetime(2025, 11, 10, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def at_now() -> Iterator[None]:
    with frozen_clock(NOW):
        yield


async def _count(sessionmaker, model) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _pending_request(sessionmaker) -> int:
    async with sessionmaker.begin() as session:
        request = AccessRequest(telegram_id=9001, telegram_name="Sam", name="Sam Newton", school="Kimpton")
        session.add(request)
        await session.flush()
        return request.id


def _refused(response, status: int) -> None:
    """Refused with `status` and nothing but a sentence: no data, never cached."""
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    assert response.headers["Cache-Control"] == "no-store"


async def test_page_headers_and_no_data_in_the_page(office, at_now):
    async with office.client() as client:
        page = await client.get("/app/")
        assert page.status_code == 200
        csp = page.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self' https://telegram.org;" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert page.headers["Cache-Control"] == "no-store"
        assert '<script src="https://telegram.org/js/telegram-web-app.js"></script>' in page.text
        # the only other scripts are our own files
        assert page.text.count("<script") == 2 and 'src="static/app.js"' in page.text
        script = await client.get("/app/static/app.js")
        assert script.status_code == 200 and script.headers["Cache-Control"] == "no-store"
        assert (await client.get("/app/static/../server.py")).status_code in (403, 404)
        moved = await client.get("/app?view=review")  # the page's files are relative to /app/
        assert moved.status_code in (301, 302) and moved.headers["Location"] == "/app/?view=review"


async def test_refusals_without_valid_init_data(office, users, sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    board = f"/app/api/board/{seeded.plan_id}"
    async with office.client() as client:
        # no init data
        _refused(await client.get(board), 401)
        # init data in the URL is not read (it would be in every access log)
        _refused(await client.get(board + "?" + office.init_data(users.member)), 401)
        # a forged hash: the member's init data with the user changed to the coordinator
        good = office.init_data(users.member)
        forged = good.replace("%22id%22%3A1001", "%22id%22%3A1003")
        assert forged != good
        _refused(await client.get(board, headers={"Authorization": "tma " + forged}), 401)
        # signed with another bot's token
        other = telegram_init_data(users.coordinator, "123456:another-bots-token")
        _refused(await client.get(board, headers={"Authorization": "tma " + other}), 401)
        # expired: older than WEBAPP_AUTH_MAX_AGE (an hour)
        old = office.headers(users.member, auth_date=NOW - dt.timedelta(hours=2))
        _refused(await client.get(board, headers=old), 401)
        # signed "in the future"
        future = office.headers(users.member, auth_date=NOW + dt.timedelta(hours=2))
        _refused(await client.get(board, headers=future), 401)
        # the wrong scheme, garbage
        _refused(await client.get(board, headers={"Authorization": "Bearer " + good}), 401)
        _refused(await client.get(board, headers={"Authorization": "tma %%%&&&hash="}), 401)
        # a stranger's perfectly valid init data: who they are is known, what they may see is nothing
        _refused(await client.get(board, headers=office.headers(users.stranger)), 403)
        _refused(await client.get("/app/api/me", headers=office.headers(users.stranger)), 403)
        # the same member, validly: the board
        ok = await client.get(board, headers=office.headers(users.member))
        assert ok.status_code == 200 and ok.json()["title"] == "Teaching School 2025-26"
        assert ok.headers["Cache-Control"] == "no-store"


async def test_member_cannot_use_coordinator_apis(office, users, sessionmaker, at_now):
    request_id = await _pending_request(sessionmaker)
    audits = await _count(sessionmaker, AuditEntry)
    async with office.client() as client:
        for user in (users.member, users.lead):
            me = (await client.get("/app/api/me", headers=office.headers(user))).json()
            assert me["board"] is True and me["desk"] is False and me["review"] is False
            _refused(await client.get("/app/api/desk", headers=office.headers(user)), 403)
            decide = {"request": request_id, "approve": True, "person": 0}
            _refused(await client.post("/app/api/desk/decide", json=decide, headers=office.headers(user)), 403)
            _refused(await client.get("/app/api/review", headers=office.headers(user)), 403)
            for path in ("/app/api/review/read", "/app/api/review/import"):
                _refused(await client.post(path, json={"token": 1, "columns": []}, headers=office.headers(user)), 403)
    async with sessionmaker() as session:
        assert (await session.get(AccessRequest, request_id)).status == "pending"
        assert await session.get(Member, users.stranger) is None
    assert await _count(sessionmaker, AuditEntry) == audits


async def test_revoked_coordinator_with_an_open_page(office, users, sessionmaker, at_now):
    request_id = await _pending_request(sessionmaker)
    headers = office.headers(users.coordinator)  # the page keeps the init data it was opened with
    async with office.client() as client:
        desk = await client.get("/app/api/desk", headers=headers)
        assert desk.status_code == 200 and [r["name"] for r in desk.json()["requests"]] == ["Sam Newton"]
        async with sessionmaker.begin() as session:
            assert await revoke(session, users.coordinator, users.admin) is not None
        audits = await _count(sessionmaker, AuditEntry)
        _refused(await client.get("/app/api/desk", headers=headers), 403)
        decide = {"request": request_id, "approve": True, "person": 0}
        _refused(await client.post("/app/api/desk/decide", json=decide, headers=headers), 403)
        _refused(await client.get("/app/api/me", headers=headers), 403)
    async with sessionmaker() as session:
        assert (await session.get(AccessRequest, request_id)).status == "pending"
    assert await _count(sessionmaker, AuditEntry) == audits


async def test_board_update_rules_are_the_chats(office, chat, users, sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    a11, a12 = seeded.actions["1.1"], seeded.actions["1.2"]
    async with office.client() as client:
        board = (await client.get(f"/app/api/board/{seeded.plan_id}", headers=office.headers(users.lead))).json()
        by_ref = {a["ref"]: a for a in board["actions"]}
        # the lead (Lucy) owns 1.1 and 1.3, not 1.2
        assert by_ref["1.1"]["mine"] and by_ref["1.1"]["can_update"] and not by_ref["1.2"]["can_update"]
        assert [t["label"] for t in board["terms"]][:3] == ["Aut 25", "Spr 26", "Sum 26"]
        # a member who owns nothing may not post; nor the lead on someone else's action
        for user, action in ((users.member, a11), (users.lead, a12)):
            response = await client.post(
                "/app/api/update", json={"action": action, "rag": "G", "comment": "x"}, headers=office.headers(user)
            )
            _refused(response, 403)
        # a rating the plan does not use
        bad = await client.post(
            "/app/api/update", json={"action": a11, "rag": "B", "comment": "x"}, headers=office.headers(users.lead)
        )
        _refused(bad, 400)
        # nonsense bodies change nothing
        for body in (b"[1]", b"{", b'{"action": "1"}', b'{"action": true}'):
            response = await client.post("/app/api/update", content=body, headers=office.headers(users.lead))
            _refused(response, 400)
        assert await _count(sessionmaker, ProgressUpdate) == 0
        # the owner posts: the chat's /plan shows it at once
        saved = await client.post(
            "/app/api/update",
            json={"action": a11, "rag": "A", "comment": "Bid <b>delayed</b> & resubmitted"},
            headers=office.headers(users.lead),
        )
        assert saved.status_code == 200 and saved.json()["term"] == "Autumn 2025"
        text = "\n".join(s.text for s in await chat.send("/plan", user=users.member))
        assert "Bid &lt;b&gt;delayed&lt;/b&gt; &amp; resubmitted" in text
        # a chat update shows on the board at once
        sent = await chat.send("/update 1.3 green Survey results in", user=users.lead)
        await chat.press([d for label, d in sent[-1].buttons if label == "Save"][0], user=users.lead)
        board = (await client.get(f"/app/api/board/{seeded.plan_id}", headers=office.headers(users.member))).json()
        by_ref = {a["ref"]: a for a in board["actions"]}
        assert by_ref["1.3"]["comment"] == "Survey results in"
        assert list(by_ref["1.1"]["rag"].values()) == ["A"] and list(by_ref["1.3"]["rag"].values()) == ["G"]
        # history, with the author's correction open for 48 hours, to the author only
        history = (await client.get(f"/app/api/action/{a11}", headers=office.headers(users.lead))).json()
        row = history["rows"][0]
        assert row["correctable"] and row["rag"] == "A"
        other = (await client.get(f"/app/api/action/{a11}", headers=office.headers(users.coordinator))).json()
        assert not other["rows"][0]["correctable"]
        # someone else cannot correct it (the chat's rule: only the author)
        response = await client.post(
            "/app/api/update",
            json={"replaces": row["id"], "rag": "R", "comment": "no"},
            headers=office.headers(users.coordinator),
        )
        _refused(response, 403)
        corrected = await client.post(
            "/app/api/update",
            json={"replaces": row["id"], "rag": "G", "comment": "Bid accepted"},
            headers=office.headers(users.lead),
        )
        assert corrected.status_code == 200 and corrected.json()["kind"] == "correction"
        # after 48 hours it is closed
        with frozen_clock(NOW + dt.timedelta(hours=49)):
            later = office.headers(users.lead)
            response = await client.post(
                "/app/api/update", json={"replaces": corrected.json()["id"], "withdraw": True}, headers=later
            )
            _refused(response, 409)
    text = "\n".join(s.text for s in await chat.send("/action 1.1", user=users.member))
    assert "Bid accepted" in text


async def test_desk_decision_is_made_once(office, users, sessionmaker, at_now):
    request_id = await _pending_request(sessionmaker)
    decide = {"request": request_id, "approve": False, "person": 0}
    async with office.client() as client:
        first = await client.post("/app/api/desk/decide", json=decide, headers=office.headers(users.coordinator))
        assert first.status_code == 200 and first.json()["status"] == "rejected"
        again = {"request": request_id, "approve": True, "person": 0}
        _refused(await client.post("/app/api/desk/decide", json=again, headers=office.headers(users.admin)), 409)
    async with sessionmaker() as session:
        assert (await session.get(AccessRequest, request_id)).status == "rejected"
        assert await session.get(Member, users.stranger) is None


def test_offline_token_is_not_a_real_bots():
    # The console signs its links with this token; a production bot checks with its own, so they never open it.
    assert OFFLINE_TOKEN.split(":")[1] == "offline-console-token-not-real"


async def test_console_link_opens_the_app_as_the_console_user(app, users, sessionmaker, at_now):
    from urllib.parse import unquote

    from webapp.auth import AuthError, verify
    from webapp.console import start_local

    local = await start_local(app)
    try:
        link = local.link(users.coordinator)
        assert link.startswith("http://127.0.0.1:") and "/app/#tgWebAppData=" in link
        init_data = unquote(link.split("#tgWebAppData=", 1)[1])
        async with httpx.AsyncClient(base_url=local.base, timeout=30) as client:
            page = await client.get("/app/")
            assert '<script src="static/console-telegram.js"></script>' in page.text
            me = await client.get("/app/api/me", headers={"Authorization": "tma " + init_data})
            assert me.status_code == 200 and me.json()["desk"] is True
        # a bot with a real token (production) does not accept the console's signature
        with pytest.raises(AuthError):
            verify(init_data, "7000000001:AAH-another-bots-token", 3600)
    finally:
        await local.stop()


# --- the desk's queues and decisions: the chat's own functions, made once -----------------------------------


async def _pending_registration(sessionmaker, proposer: int, last_name: str = "Newhead") -> int:
    """A member's new-head registration waiting on the desk, as /newhead leaves it (directory/integrity.py)."""
    from directory import integrity
    from storage.directory import School

    async with sessionmaker.begin() as session:
        school = (await session.scalars(select(School).where(School.urn == "100002"))).first()
        if school is None:
            school = School(name="Kimpton Primary", phase="primary", urn="100002")
            session.add(school)
            await session.flush()
        values = {
            "first_name": "Nadia",
            "last_name": last_name,
            "title": "Ms",
            "start_date": dt.date(2026, 1, 5),
            "school_id": school.id,
            "relation": "school",
        }
        change = await integrity.propose_appointment(
            session, proposer, values, f"Ms Nadia {last_name}, head of Kimpton Primary from 5 Jan 2026"
        )
        return change.id


async def _decisions(sessionmaker, change_id: int) -> int:
    async with sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.action.in_(["change.confirm", "change.reject"]),
                    AuditEntry.entity_id == str(change_id),
                )
            )
            or 0
        )


async def test_registration_confirmed_in_the_app_once(office, chat, users, sessionmaker, at_now):
    from storage.buddies import Appointment
    from storage.directory import EntryChange

    change_id = await _pending_registration(sessionmaker, users.member)
    async with office.client() as client:
        desk = (await client.get("/app/api/desk", headers=office.headers(users.coordinator))).json()
        [shown] = desk["registrations"]
        assert shown["id"] == change_id and "Nadia Newhead" in shown["summary"]
        assert {"accounts", "new_heads", "pairings", "not_updated"} <= set(desk)
        # nonsense bodies change nothing
        for body in ({"change": str(change_id), "confirm": True}, {"change": change_id, "confirm": 1}, {}):
            _refused(
                await client.post("/app/api/desk/registration", json=body, headers=office.headers(users.coordinator)),
                400,
            )
        assert await _decisions(sessionmaker, change_id) == 0
        told = len(chat.to(users.member))
        done = await client.post(
            "/app/api/desk/registration",
            json={"change": change_id, "confirm": True},
            headers=office.headers(users.coordinator),
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "confirmed" and done.json()["appointment"]
        # the admin's press, a moment late: 409, saying who decided
        late = await client.post(
            "/app/api/desk/registration",
            json={"change": change_id, "confirm": False},
            headers=office.headers(users.admin),
        )
        _refused(late, 409)
        assert "already been decided" in late.json()["error"] and "Already confirmed by" in late.json()["error"]
        desk = (await client.get("/app/api/desk", headers=office.headers(users.coordinator))).json()
        assert desk["registrations"] == []
        # the new head now waits for a buddy, listed read-only
        assert [h["name"] for h in desk["new_heads"]] == ["Ms Nadia Newhead"]
    async with sessionmaker() as session:
        assert (await session.get(EntryChange, change_id)).status == "confirmed"
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 1
    assert await _decisions(sessionmaker, change_id) == 1
    # what the chat's button does afterwards: the registrant is told, once
    news = [s.text for s in chat.to(users.member)[told:] if "has confirmed the appointment" in s.text]
    assert len(news) == 1


async def test_registration_refused_to_members_and_revoked_coordinators(office, users, sessionmaker, at_now):
    from storage.directory import EntryChange

    change_id = await _pending_registration(sessionmaker, users.member)
    headers = office.headers(users.coordinator)  # a page opened before the revocation
    audits = await _count(sessionmaker, AuditEntry)
    async with office.client() as client:
        body = {"change": change_id, "confirm": True}
        for user in (users.member, users.lead):
            _refused(await client.post("/app/api/desk/registration", json=body, headers=office.headers(user)), 403)
        async with sessionmaker.begin() as session:
            assert await revoke(session, users.coordinator, users.admin) is not None
        audits = await _count(sessionmaker, AuditEntry)
        _refused(await client.post("/app/api/desk/registration", json=body, headers=headers), 403)
    async with sessionmaker() as session:
        assert (await session.get(EntryChange, change_id)).status == "pending"
    assert await _count(sessionmaker, AuditEntry) == audits


async def test_registration_in_app_and_chat_at_once_is_one_decision(office, chat, users, sessionmaker, at_now):
    import asyncio

    from storage.directory import EntryChange

    async with office.client() as client:
        for attempt in range(6):
            change_id = await _pending_registration(sessionmaker, users.member, f"Newhead{chr(65 + attempt)}")
            app_confirms = attempt % 2 == 0
            response, _sent = await asyncio.gather(
                client.post(
                    "/app/api/desk/registration",
                    json={"change": change_id, "confirm": app_confirms},
                    headers=office.headers(users.coordinator),
                ),
                chat.press(f"ecd:{'n' if app_confirms else 'y'}:{change_id}", user=users.admin),
            )
            assert response.status_code in (200, 409), response.text
            async with sessionmaker() as session:
                status = (await session.get(EntryChange, change_id)).status
            assert await _decisions(sessionmaker, change_id) == 1, attempt
            app_won = response.status_code == 200
            assert status == ("confirmed" if app_confirms == app_won else "rejected"), (attempt, status)
            if not app_won:
                assert "already been decided" in response.json()["error"]


async def test_access_request_stale_version_is_refused_then_the_new_one_decided(office, users, sessionmaker, at_now):
    from sqlalchemy import update

    request_id = await _pending_request(sessionmaker)
    async with office.client() as client:
        desk = (await client.get("/app/api/desk", headers=office.headers(users.coordinator))).json()
        shown = desk["requests"][0]["version"]
        # the applicant corrects the request after the page showed it
        async with sessionmaker.begin() as session:
            await session.execute(
                update(AccessRequest).where(AccessRequest.id == request_id).values(version=AccessRequest.version + 1)
            )
        stale = {"request": request_id, "version": shown, "approve": True, "person": 0}
        refused = await client.post("/app/api/desk/decide", json=stale, headers=office.headers(users.coordinator))
        _refused(refused, 409)
        assert refused.json()["error"] == "This request has changed: see the new one."
        async with sessionmaker() as session:
            assert (await session.get(AccessRequest, request_id)).status == "pending"
            assert await session.get(Member, users.stranger) is None
        # the page reloads the card: the new version, decided
        desk = (await client.get("/app/api/desk", headers=office.headers(users.coordinator))).json()
        assert desk["requests"][0]["version"] == shown + 1
        fresh = {**stale, "version": shown + 1, "approve": False}
        done = await client.post("/app/api/desk/decide", json=fresh, headers=office.headers(users.coordinator))
        assert done.status_code == 200 and done.json()["status"] == "rejected"
        # and a second press elsewhere is told who decided
        late = await client.post("/app/api/desk/decide", json=fresh, headers=office.headers(users.admin))
        _refused(late, 409)
        assert "Already rejected by" in late.json()["error"]


PLAN_WITH_PREAMBLE = b"""Kimpton Partnership action plan 2025-26
Prepared by,Office,,,
Priority,Aim,,,
Ref,Action,Lead,Autumn RAG,Comment
1.1,Run the reading survey,Jo Bloggs,G,Done
1.2,Train the mentors,Ann Lee,A,Half way
2.1,Write the bid,Jo Bloggs,R,Late
"""


async def test_review_header_row_is_the_chats_choice(office, chat, users, sessionmaker, at_now):
    from storage.plans import Plan

    await chat.upload("kimpton-plan.csv", PLAN_WITH_PREAMBLE, user=users.coordinator, caption="plan")
    headers = office.headers(users.coordinator)
    async with office.client() as client:
        review = (await client.get("/app/api/review", headers=headers)).json()
        assert review["header"]["lines"] == [4] and review["header"]["chosen"] is None
        choices = [c["line"] for c in review["header"]["choices"]]
        assert 3 in choices and 4 not in choices
        assert review["counts"]["actions"] == 3
        # a line the chat does not offer, or not a number: refused, nothing changed
        for line in (1, 99, "3", True):
            body = {"token": review["token"], "columns": [], "header_row": line}
            _refused(await client.post("/app/api/review/read", json=body, headers=headers), 400)
        again = (await client.get("/app/api/review", headers=headers)).json()
        assert again["header"]["chosen"] is None and again["token"] == review["token"]
        # line 3 as the header: read again at once with it, nothing saved
        body = {"token": review["token"], "columns": [], "header_row": 3}
        moved = await client.post("/app/api/review/read", json=body, headers=headers)
        assert moved.status_code == 200, moved.text
        moved = moved.json()
        assert moved["header"]["lines"] == [3] and moved["header"]["chosen"] == 3
        assert [c["header"] for c in moved["tables"][0]["columns"]][1:3] == ["Priority", "Aim"]
        # and back to line 4, offered now as another choice
        assert 4 in [c["line"] for c in moved["header"]["choices"]]
        body = {"token": moved["token"], "columns": [], "header_row": 4}
        back = (await client.post("/app/api/review/read", json=body, headers=headers)).json()
        assert back["header"]["lines"] == [4] and back["counts"]["actions"] == 3
        # a stale token (the page before the last re-read) is refused
        stale = {"token": moved["token"], "columns": [], "header_row": 3}
        _refused(await client.post("/app/api/review/read", json=stale, headers=headers), 409)
        # a member may not
        _refused(await client.post("/app/api/review/read", json=body, headers=office.headers(users.member)), 403)
    assert await _count(sessionmaker, Plan) == 0
    # the chat's pending upload holds the choice: its own reading uses it
    pending = chat.app.user_data[users.coordinator]["plan_upload"]
    assert pending["overrides"]["header_row"] == 4
