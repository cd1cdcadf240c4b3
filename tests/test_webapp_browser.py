"""The Mini App in a real browser: Playwright driving Debian's chromium against the bot's real web server and
Application (SQLite and PostgreSQL). Telegram's telegram-web-app.js is replaced by a local stub carrying init
data signed with the test bot's token, as Telegram would hand it to the page.

Screenshots (390×844 light and dark, 1280×800) are kept in tests/artifacts/webapp/ (not committed).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.audit import AuditEntry
from storage.directory import Person
from storage.members import AccessRequest, Member
from tests import webapp_harness
from tests.harness import frozen_clock
from tests.shared import EXAMPLE_PLANS
from tests.webapp_harness import CHROMIUM, LAUNCH_ARGS

office = webapp_harness.office  # the fixture

ARTEFACTS = Path(__file__).parent / "artifacts" / "webapp"
NOW = dt.datetime(2014, 11, 10, 10, 0, tzinfo=dt.timezone.utc)  # Autumn 2014, inside the plan's year
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
THEMES = {
    "light": {
        "bg_color": "#ffffff",
        "text_color": "#000000",
        "hint_color": "#707579",
        "link_color": "#3390ec",
        "button_color": "#3390ec",
        "button_text_color": "#ffffff",
        "secondary_bg_color": "#f4f4f5",
    },
    "dark": {
        "bg_color": "#212121",
        "text_color": "#ffffff",
        "hint_color": "#aaaaaa",
        "link_color": "#8774e1",
        "button_color": "#8774e1",
        "button_text_color": "#ffffff",
        "secondary_bg_color": "#181818",
    },
}

pytestmark = pytest.mark.slow


def telegram_stub(init_data: str, scheme: str) -> str:
    """What telegram-web-app.js gives a page, recording what the page asks of Telegram in window.__tg."""
    return f"""
window.__tg = {{
  haptics: [], main: {{ text: "", visible: false, cb: [] }}, back: {{ visible: false, cb: [] }}, ready: false,
}};
window.Telegram = {{ WebApp: {{
  initData: {json.dumps(init_data)}, initDataUnsafe: {{}}, version: "8.0", platform: "tdesktop",
  colorScheme: {json.dumps(scheme)}, themeParams: {json.dumps(THEMES[scheme])},
  ready() {{ window.__tg.ready = true; }}, expand() {{}}, onEvent() {{}}, offEvent() {{}},
  HapticFeedback: {{
    notificationOccurred(kind) {{ window.__tg.haptics.push(kind); }}, impactOccurred() {{}}, selectionChanged() {{}},
  }},
  MainButton: {{
    setText(text) {{ window.__tg.main.text = text; return this; }},
    show() {{ window.__tg.main.visible = true; return this; }},
    hide() {{ window.__tg.main.visible = false; return this; }},
    onClick(f) {{ window.__tg.main.cb.push(f); return this; }},
    offClick(f) {{ window.__tg.main.cb = window.__tg.main.cb.filter((g) => g !== f); return this; }},
  }},
  BackButton: {{
    show() {{ window.__tg.back.visible = true; }}, hide() {{ window.__tg.back.visible = false; }},
    onClick(f) {{ window.__tg.back.cb.push(f); }}, offClick() {{}},
  }},
}} }};
"""


@pytest.fixture
def at_now() -> Iterator[None]:
    with frozen_clock(NOW):
        yield


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"no chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def open_page(browser: Any, office: Any, user: int, scheme: str = "light", width: int = 390, height: int = 844):
    page = await browser.new_page(viewport={"width": width, "height": height})
    stub = telegram_stub(office.init_data(user), scheme)
    outside: list[str] = []

    async def route(request_route: Any) -> None:
        url = request_route.request.url
        if url == TELEGRAM_SCRIPT:
            await request_route.fulfill(status=200, content_type="application/javascript", body=stub)
        elif url.startswith(office.base):
            await request_route.continue_()
        else:  # nothing else may be fetched: no CDN, no fonts, nothing
            outside.append(url)
            await request_route.abort()

    await page.route("**/*", route)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await page.goto(office.base + "/app/")
    page.outside = outside  # type: ignore[attr-defined]
    page.errors = errors  # type: ignore[attr-defined]
    return page


async def shot(page: Any, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=False)


async def _api(office: Any, user: int, path: str, body: dict[str, Any] | None = None) -> Any:
    async with office.client() as client:
        if body is None:
            response = await client.get(path, headers=office.headers(user))
        else:
            response = await client.post(path, json=body, headers=office.headers(user))
    assert response.status_code == 200, response.text
    return response.json()


async def import_plan(chat: Any, users: Any, sessionmaker: Any) -> None:
    """A real plan, imported as a coordinator does: sent to the bot, previewed, Import pressed. Karen Shilton
    (an owner in the plan) is in the directory and linked to the lead's account."""
    async with sessionmaker.begin() as session:
        karen = Person(first_name="Karen", last_name="Shilton")
        session.add(karen)
        await session.flush()
        lead = await session.get(Member, users.lead)
        lead.person_id = karen.id
        lead.display_name = "Karen Shilton"
    await chat.app.bot_data["services"].refresh_directory()  # as a directory import does
    data = (EXAMPLE_PLANS / "teaching-school-action-plan-2014-15.md").read_bytes()
    sent = await chat.upload("teaching-school-action-plan-2014-15.md", data, user=users.coordinator, caption="plan")
    await chat.press([d for label, d in sent[-1].buttons if label == "Import"][0], user=users.coordinator)


async def test_board_owner_update_reaches_the_chat(browser, office, chat, users, sessionmaker, at_now, db_url):
    await import_plan(chat, users, sessionmaker)
    page = await open_page(browser, office, users.lead)
    rows = page.locator("tr[data-action]")
    await rows.first.wait_for()
    assert await rows.count() == 22
    assert (await page.locator("h2").first.inner_text()).startswith("Teaching School 2014/15")
    # sections as rows, owners, one column per term (Autumn, Spring, Summer of 2014/15) with a letter rating
    assert await page.locator("tr.section").count() >= 3
    headers = await page.locator("th.term").all_inner_texts()
    assert headers[:3] == ["Aut 14", "Spr 15", "Sum 15"]
    assert await page.evaluate("window.__tg.ready") is True
    if db_url.startswith("sqlite"):
        await shot(page, "board-390-light")

    # "Mine": Karen's actions only
    await page.get_by_label("Mine").check()
    mine = await rows.count()
    assert 0 < mine < 22
    for owners in await page.locator("tr[data-action] .owner-inline").all_inner_texts():
        assert "Shilton" in owners

    # an action: history and the update form; Telegram's back button is shown
    row = page.locator("tr[data-action]", has_text="Professional studies")
    await row.locator("button").click()
    sheet = page.locator("#sheet")
    await sheet.wait_for(state="visible")
    assert await page.evaluate("window.__tg.back.visible") is True
    assert await page.evaluate("window.__tg.main.text") == "Save update"
    await sheet.get_by_role("radio", name="Green").check()
    await sheet.get_by_label("Comment", exact=True).fill("Programme running; <b>12</b> trainees & 2 mentors")
    if db_url.startswith("sqlite"):
        await shot(page, "update-390-light")
    # Saved with Telegram's main button, as a user would on a phone
    await page.evaluate("window.__tg.main.cb.forEach((f) => f())")
    await page.locator("#status", has_text="Saved for Autumn 2014").wait_for()
    assert await page.evaluate("window.__tg.haptics") == ["success"]
    assert await sheet.is_hidden()
    cell = page.locator("tr[data-action]", has_text="Professional studies").locator("td.term").first
    assert (await cell.inner_text()).strip() == "G"
    assert await cell.locator(".rag-G").get_attribute("aria-label") == "Autumn 2014: Green"

    # the chat shows it at once
    text = "\n".join(s.text for s in await chat.send("/plan", user=users.member))
    assert "Programme running; &lt;b&gt;12&lt;/b&gt; trainees &amp; 2 mentors" in text
    # and a chat update shows on the board at its next load
    assert not page.errors and not page.outside  # type: ignore[attr-defined]
    await page.close()

    if db_url.startswith("sqlite"):
        # a few more ratings from the coordinator, through the API, so the pictures show a plan in use
        board = (await _api(office, users.coordinator, "/app/api/me"))["plans"][0]["id"]
        grid = await _api(office, users.coordinator, f"/app/api/board/{board}")
        for n, action in enumerate(grid["actions"][:9]):
            body = {
                "action": action["id"],
                "rag": "RAGAGGRAG"[n],
                "comment": f"Reviewed at the delivery group, item {n}",
            }
            await _api(office, users.coordinator, "/app/api/update", body)
        dark = await open_page(browser, office, users.lead, "dark")
        await dark.locator("tr[data-action]").first.wait_for()
        background = await dark.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(33, 33, 33)"
        await shot(dark, "board-390-dark")
        await dark.close()
        wide = await open_page(browser, office, users.coordinator, "light", 1280, 800)
        await wide.locator("tr[data-action]").first.wait_for()
        await shot(wide, "board-1280")
        await wide.close()


async def test_the_main_button_saves_once(browser, office, chat, users, sessionmaker, at_now, db_url):
    """Telegram's main button pressed twice, and "Correct" opened over an open form: one update, one correction
    (the form's save is the only one on the button, and a save in flight is not started again)."""
    from storage.plans import Action, ProgressUpdate

    await import_plan(chat, users, sessionmaker)
    page = await open_page(browser, office, users.lead)
    row = page.locator("tr[data-action]", has_text="Professional studies")
    await row.locator("button").click()
    sheet = page.locator("#sheet")
    await sheet.wait_for(state="visible")
    await sheet.get_by_role("radio", name="Green").check()
    await page.evaluate("window.__tg.main.cb.forEach((f) => f()); window.__tg.main.cb.forEach((f) => f())")
    await page.locator("#status", has_text="Saved for Autumn 2014").wait_for()
    async with sessionmaker() as session:
        action_id = (
            await session.scalars(select(Action.id).where(Action.text.contains("Professional studies")))
        ).first()
        kinds = (
            await session.scalars(
                select(ProgressUpdate.kind).where(
                    ProgressUpdate.action_id == action_id, ProgressUpdate.author_id == users.lead
                )
            )
        ).all()
    assert kinds == ["update"]

    await row.locator("button").click()
    await sheet.wait_for(state="visible")
    await sheet.get_by_role("button", name="Correct").click()
    await sheet.get_by_role("heading", name="Correct your update").wait_for()
    assert await page.evaluate("window.__tg.main.cb.length") == 1
    assert await page.evaluate("window.__tg.main.text") == "Save correction"
    await sheet.get_by_role("radio", name="Amber").check()
    await page.evaluate("window.__tg.main.cb.forEach((f) => f()); window.__tg.main.cb.forEach((f) => f())")
    await page.locator("#status", has_text="Corrected").wait_for()
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(ProgressUpdate.kind, ProgressUpdate.rag)
                .where(ProgressUpdate.action_id == action_id, ProgressUpdate.author_id == users.lead)
                .order_by(ProgressUpdate.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [("update", "G"), ("correction", "A")]
    assert not page.errors and not page.outside  # type: ignore[attr-defined]
    await page.close()


async def test_desk_decision_in_app_and_chat_at_once(browser, office, chat, users, sessionmaker, at_now, db_url):
    sent = await chat.send("/start", user=users.stranger, first_name="Sam")
    await chat.press([d for label, d in sent[-1].buttons if "access" in label.lower()][0], user=users.stranger)
    await chat.send("Sam Newton, Kimpton Primary", user=users.stranger)
    async with sessionmaker() as session:
        request = (await session.scalars(select(AccessRequest))).one()
    # the coordinator's desk in chat, at the access requests
    await chat.send("/desk", user=users.coordinator)
    sent = await chat.press("dk:ar", user=users.coordinator)
    reject_in_chat = [d for label, d in sent[-1].buttons if label.startswith("Reject")][0]

    page = await open_page(browser, office, users.coordinator)
    await page.get_by_role("tab", name="Desk").click()
    card = page.locator(f"[data-request='{request.id}']")
    await card.wait_for()
    assert "Sam Newton" in await card.inner_text()
    if db_url.startswith("sqlite"):
        await shot(page, "desk-390-light")
    told_before = len(chat.to(users.stranger))

    await asyncio.gather(
        card.get_by_role("button", name="Approve", exact=True).click(),
        chat.press(reject_in_chat, user=users.coordinator),
    )
    # the page says what happened to its own press: done, or already decided in the chat
    outcome = page.locator("#status", has_text=re.compile("Approved: Sam Newton|already been decided"))
    await outcome.wait_for()
    await page.locator("[data-request]").first.wait_for(state="detached")
    async with sessionmaker() as session:
        decided = await session.get(AccessRequest, request.id)
        audits = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action.in_(["access.approve", "access.reject"]))
        )
        member = await session.get(Member, users.stranger)
    assert decided.status in ("approved", "rejected")
    assert audits == 1
    assert (member is not None and member.active) == (decided.status == "approved")
    news = [s.text for s in chat.to(users.stranger)[told_before:] if s.method == "sendMessage"]
    assert len([t for t in news if "approved" in t]) == 1, news
    await page.close()


def teardown_module() -> None:
    # keep the artefacts; remove only an empty folder
    if ARTEFACTS.exists() and not any(ARTEFACTS.iterdir()):
        shutil.rmtree(ARTEFACTS)


async def test_import_review_fixes_a_column_then_imports(browser, office, chat, users, sessionmaker, at_now, db_url):
    from storage.plans import ActionOwner, Plan

    services = chat.app.bot_data["services"]
    services.settings = services.settings.model_copy(update={"webapp_url": "https://office.example.org/app/"})
    # The owners' column is headed "Champion": the reader cannot tell it holds owners and keeps it as extra detail.
    text = (EXAMPLE_PLANS / "teaching-school-action-plan-2014-15.md").read_text(encoding="utf-8")
    data = text.replace("| Lead |", "| Champion |").encode()
    sent = await chat.upload("plan-with-champions.md", data, user=users.coordinator, caption="plan")
    markup = sent[-1].params["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    review_button = [b for row in markup["inline_keyboard"] for b in row if "web_app" in b]
    assert review_button == [{"text": "Open review", "web_app": {"url": "https://office.example.org/app/?view=review"}}]

    page = await open_page(browser, office, users.coordinator, width=1280, height=800)
    await page.goto(office.base + "/app/?view=review")
    champion = page.get_by_label("Field: Champion").first
    await champion.wait_for()
    assert await champion.input_value() == "extra"
    assert "guessed" in await page.locator("tr[data-header='Champion']").first.inner_text()
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Plan)) == 0
    await champion.select_option("owner")
    # read again at once, with the chat's own reader: the owners are there, still nothing saved
    await page.locator("tr[data-ref='1.4']", has_text="K Shilton").wait_for()
    assert "Ratings read as: R = Red, A = Amber, G = Green" in await page.locator("#view").inner_text()
    assert await page.locator("tr.section", has_text="2. CPD").count() == 1
    assert await page.get_by_label("Field: Champion").first.input_value() == "owner"
    # the header row as read, with the chat's other choices beside it
    assert await page.locator("#header-row option").first.inner_text() == "line 5 (as read)"
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Plan)) == 0
    if db_url.startswith("sqlite"):
        await shot(page, "review-1280")
    await page.locator("#do-import").click()
    await page.locator("#status", has_text="Imported plan").wait_for()
    await page.locator("tr[data-action]").first.wait_for()  # the board, showing the new plan
    assert await page.locator("tr[data-action]").count() == 22
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Plan)) == 1
        owners = await session.scalars(select(ActionOwner.name))
        assert "K Shilton" in set(owners.all())
    # the chat's preview buttons are spent: Import there imports nothing more
    await chat.press([d for label, d in sent[-1].buttons if label == "Import"][0], user=users.coordinator)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Plan)) == 1
    assert not page.errors and not page.outside  # type: ignore[attr-defined]
    await page.close()


async def test_registration_confirmed_in_the_app(browser, office, chat, users, sessionmaker, at_now, db_url):
    from directory import integrity
    from storage.buddies import Appointment
    from storage.directory import EntryChange, School

    # a member's new-head registration waiting on the desk (what /newhead stores), and an access request
    async with sessionmaker.begin() as session:
        school = School(name="Kimpton Primary", phase="primary", urn="100002")
        session.add(school)
        await session.flush()
        values = {
            "first_name": "Nadia",
            "last_name": "Newhead",
            "title": "Ms",
            "start_date": dt.date(2015, 1, 5),
            "school_id": school.id,
            "relation": "school",
        }
        change = await integrity.propose_appointment(
            session, users.member, values, "Ms Nadia Newhead, headteacher of Kimpton Primary from 5 Jan 2015"
        )
        session.add(AccessRequest(telegram_id=9001, telegram_name="Sam", name="Sam Newton", school="Kimpton"))
    page = await open_page(browser, office, users.coordinator)
    await page.get_by_role("tab", name="Desk").click()
    card = page.locator(f"[data-change='{change.id}']")
    await card.wait_for()
    assert "Nadia Newhead" in await card.inner_text()
    if db_url.startswith("sqlite"):
        await shot(page, "desk-registrations-390-light")
        await page.screenshot(path=str(ARTEFACTS / "desk-registrations-390-light-full.png"), full_page=True)
        dark = await open_page(browser, office, users.coordinator, "dark")
        await dark.get_by_role("tab", name="Desk").click()
        await dark.locator(f"[data-change='{change.id}']").wait_for()
        await shot(dark, "desk-registrations-390-dark")
        await dark.screenshot(path=str(ARTEFACTS / "desk-registrations-390-dark-full.png"), full_page=True)
        await dark.close()
    told = len(chat.to(users.member))
    await card.get_by_role("button", name="Confirm", exact=True).click()
    await page.locator("#status", has_text="Confirmed: the appointment is registered.").wait_for()
    await card.wait_for(state="detached")
    assert await page.evaluate("window.__tg.haptics") == ["success"]
    # the new head now waits for a buddy: listed with its suggestions
    await page.locator("[data-appointment]", has_text="Ms Nadia Newhead").wait_for()
    if db_url.startswith("sqlite"):
        await page.screenshot(path=str(ARTEFACTS / "desk-confirmed-390-light-full.png"), full_page=True)
    async with sessionmaker() as session:
        assert (await session.get(EntryChange, change.id)).status == "confirmed"
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 1
        confirms = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "change.confirm")
        )
    assert confirms == 1
    assert len([s for s in chat.to(users.member)[told:] if "has confirmed the appointment" in s.text]) == 1
    # the chat's Confirm button for it, pressed late, changes nothing
    sent = await chat.press(f"ecd:y:{change.id}", user=users.admin)
    assert any("already been decided" in s.text for s in sent)
    assert not page.errors and not page.outside  # type: ignore[attr-defined]
    await page.close()


async def test_a_changed_access_request_is_reloaded_not_decided(browser, office, users, sessionmaker, at_now, db_url):
    from sqlalchemy import update

    async with sessionmaker.begin() as session:
        request = AccessRequest(telegram_id=9001, telegram_name="Sam", name="Sam Newton", school="Kimpton")
        session.add(request)
    page = await open_page(browser, office, users.coordinator)
    await page.get_by_role("tab", name="Desk").click()
    card = page.locator(f"[data-request='{request.id}']")
    await card.wait_for()
    shown = int(await card.get_attribute("data-version") or 0)
    # the applicant corrects the request while the page shows the old one
    async with sessionmaker.begin() as session:
        await session.execute(
            update(AccessRequest)
            .where(AccessRequest.id == request.id)
            .values(version=shown + 1, name="Samuel Newton", school="Kimpton Primary")
        )
    await card.get_by_role("button", name="Approve", exact=True).click()
    await page.locator("#status", has_text="This request has changed: see the new one.").wait_for()
    # the card is shown again as it is now, marked, and nothing was decided
    again = page.locator(f"[data-request='{request.id}'].changed")
    await again.wait_for()
    assert await again.get_attribute("data-version") == str(shown + 1)
    assert "Samuel Newton" in await again.inner_text()
    if db_url.startswith("sqlite"):
        await shot(page, "desk-changed-390-light")
    assert await page.evaluate("window.__tg.haptics") == ["error"]
    async with sessionmaker() as session:
        assert (await session.get(AccessRequest, request.id)).status == "pending"
        assert await session.get(Member, users.stranger) is None
    # the new version, approved
    await again.get_by_role("button", name="Approve", exact=True).click()
    await page.locator("#status", has_text="Approved: Samuel Newton.").wait_for()
    async with sessionmaker() as session:
        assert (await session.get(AccessRequest, request.id)).status == "approved"
    assert not page.outside  # type: ignore[attr-defined]
    await page.close()
