"""The desk's queues in a real browser (Playwright on Debian's chromium, as tests/test_webapp_browser.py): a new
head's suggested buddy confirmed on the page reaches the database and the buddy's chat; a pairing ended after the
page's confirm step. Screenshots of the desk at 1280×800 and 390×844 (light and dark) go to tests/artifacts/webapp/.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from core.terms import term_for
from directory import appointments as ap
from storage.audit import AuditEntry
from storage.buddies import BuddyMatch, CheckIn
from storage.directory import Person
from storage.members import Member
from storage.support import SupportRequest
from tests import test_webapp_browser as pages
from tests import webapp_harness
from tests.desk_world import waiting_and_paired
from tests.harness import frozen_clock
from tests.plan_seed import seed_plan
from tests.test_webapp_browser import ARTEFACTS, open_page, shot

office = webapp_harness.office  # the fixtures
browser = pages.browser

pytestmark = pytest.mark.slow

NOW = dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.timezone.utc)
BUDDY, HEAD, SUGGESTED = 5011, 5010, 5030


@pytest.fixture
def at_now() -> Any:
    with frozen_clock(NOW):
        yield


async def _world(app: Any, sessionmaker: Any, users: Any) -> dict[str, Any]:
    """A new head waiting (their best suggestion on Telegram), an active pairing with a struggling answer, an
    account waiting for a link, an entry not confirmed this term."""
    async with sessionmaker.begin() as session:
        heads = await waiting_and_paired(session, users.coordinator, NOW.date(), dt.date(2026, 1, 5))
        waiting, paired, buddy, match = heads.waiting, heads.paired, heads.buddy, heads.match
        session.add(Member(telegram_id=BUDDY, role="member", display_name="Buddy", person_id=buddy.person_id))
        session.add(Member(telegram_id=HEAD, role="member", display_name="Omar", person_id=paired.person.id))
        await session.flush()
        await ap.accept(session, match.id, BUDDY)
        checkin = (await session.scalars(select(CheckIn).where(CheckIn.match_id == match.id))).first()
        await ap.answer_checkin(session, checkin.id, BUDDY, "struggling", "We have not managed to meet yet.")
        [best] = await ap.propose(session, waiting.appointment.id, k=1, today=NOW.date())
        session.add(Member(telegram_id=SUGGESTED, role="member", display_name="Suggested", person_id=best.person_id))
        target = (
            await session.scalars(
                select(Person)
                .where(Person.id.not_in([buddy.person_id, paired.person.id, best.person_id]))
                .order_by(Person.id)
            )
        ).first()
        session.add(Member(telegram_id=5020, role="member", display_name=target.full_name))
        (await session.get(Person, buddy.person_id)).check_asked = term_for(NOW.date()).code
        ids = {"waiting": waiting.appointment.id, "best": best.person_id, "best_name": best.name, "match": match.id}
    await seed_plan(sessionmaker)
    async with sessionmaker.begin() as session:  # a support request waiting on the office
        session.add(
            SupportRequest(
                requester_person_id=target.id, school_id=target.school_id, specialism="mathematics", phase="primary"
            )
        )
    await app.bot_data["services"].refresh_directory()
    return ids


async def test_confirm_a_buddy_and_end_a_pairing_on_the_page(
    browser, office, app, chat, users, sessionmaker, at_now, db_url
):
    world = await _world(app, sessionmaker, users)
    page = await open_page(browser, office, users.coordinator, width=1280, height=800)
    await page.get_by_role("tab", name="Desk").click()
    head = page.locator(f"[data-appointment='{world['waiting']}']")
    await head.wait_for()
    assert "Nadia Quill" in await head.inner_text() and world["best_name"] in await head.inner_text()
    if db_url.startswith("sqlite"):
        await shot(page, "desk-queues-1280")
        await page.screenshot(path=str(ARTEFACTS / "desk-queues-1280-full.png"), full_page=True)
        for scheme in ("light", "dark"):
            phone = await open_page(browser, office, users.coordinator, scheme)
            await phone.get_by_role("tab", name="Desk").click()
            await phone.locator(f"[data-appointment='{world['waiting']}']").wait_for()
            await phone.locator("#part-heads").scroll_into_view_if_needed()
            await shot(phone, f"desk-queues-390-{scheme}")
            await phone.screenshot(path=str(ARTEFACTS / f"desk-queues-390-{scheme}-full.png"), full_page=True)
            assert not phone.errors and not phone.outside  # type: ignore[attr-defined]
            await phone.close()

    # the narrowest phone: nothing wider than the screen (long names and buttons wrap)
    narrow = await open_page(browser, office, users.coordinator, width=360, height=740)
    await narrow.get_by_role("tab", name="Desk").click()
    await narrow.locator(f"[data-appointment='{world['waiting']}']").wait_for()
    assert await narrow.evaluate("document.documentElement.scrollWidth") <= 360
    await narrow.close()

    # confirm the suggested buddy: the chat's own request reaches them
    await head.get_by_role("button", name=f"Confirm {world['best_name']}").click()
    await page.locator("#status", has_text=f"I have asked {world['best_name']}").wait_for()
    await head.wait_for(state="detached")  # no longer waiting for a buddy
    async with sessionmaker() as session:
        match = (await session.scalars(select(BuddyMatch).where(BuddyMatch.appointment_id == world["waiting"]))).one()
        asked = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "buddy.request")
        )
    assert match.buddy_person_id == world["best"] and match.status == "requested" and asked == 2
    for _i in range(200):
        if any("Would you be a buddy" in s.text for s in chat.to(SUGGESTED)):
            break
        await page.wait_for_timeout(25)
    [request] = [s for s in chat.to(SUGGESTED) if "Would you be a buddy" in s.text]
    assert request.buttons == [("Accept", f"bq:a:{match.id}"), ("Decline", f"bq:d:{match.id}")]
    # the new pairing is listed as asked, with "ask again"
    await page.locator(f"[data-match='{match.id}']", has_text="asked, waiting for an answer").wait_for()

    # end the active pairing: a question first; Cancel puts the button back; Yes ends it
    pairing = page.locator(f"[data-match='{world['match']}']")
    await pairing.get_by_role("button", name="End: ").click()
    await pairing.get_by_text("They will both be told.").wait_for()
    await pairing.get_by_role("button", name="Cancel").click()
    await pairing.get_by_role("button", name="End: ").click()
    if db_url.startswith("sqlite"):
        await pairing.scroll_into_view_if_needed()
        await shot(page, "desk-end-confirm-1280")
    await pairing.get_by_role("button", name="Yes, end it").click()
    await page.locator("#status", has_text="Ended: ").wait_for()
    await pairing.wait_for(state="detached")
    async with sessionmaker() as session:
        assert (await session.get(BuddyMatch, world["match"])).status == "ended"
    for _i in range(200):
        if all(any("has ended the buddy pairing" in s.text for s in chat.to(who)) for who in (BUDDY, HEAD)):
            break
        await page.wait_for_timeout(25)
    for who in (BUDDY, HEAD):
        assert len([s for s in chat.to(who) if "has ended the buddy pairing" in s.text]) == 1
    assert await page.evaluate("window.__tg.haptics") == ["success", "warning", "warning", "success"]
    # the chat's button for the same pairing, pressed late: already ended
    sent = await chat.press(f"dkey:{world['match']}", user=users.admin)
    assert "already been ended" in sent[0].params["text"] or "not active" in sent[0].params["text"]
    assert not page.errors and not page.outside  # type: ignore[attr-defined]
    await page.close()
