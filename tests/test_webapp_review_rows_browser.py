"""The import review's row list in a real browser (Playwright, Debian's chromium, the bot's real web server and
Application on SQLite and PostgreSQL): a coordinator sends a plan in which a section heading is read as an
action, says what the row is in the review's row list, imports, and the plan saved has that structure.

Screenshots of the review at 390×844 (light and dark) go to tests/artifacts/webapp/ (not committed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from storage.plans import Action, Plan, Section
from tests import webapp_harness
from tests.harness import frozen_clock
from tests.test_webapp_browser import ARTEFACTS, browser, open_page  # noqa: F401 - `browser` is a fixture

office = webapp_harness.office  # the fixture
pytestmark = pytest.mark.slow

NOW = dt.datetime(2025, 11, 10, 9, 0, tzinfo=dt.timezone.utc)

# "2 | Leadership and governance" is the heading of part 2, but it has a reference: read as an action.
PLAN = b"""Kimpton Partnership action plan 2025-26
Key: 1 = off track; 2 = some concerns; 3 = on track
Ref,Action,Lead,Autumn RAG,Comment
1.1,Run the reading survey in every school and share the results with the heads,Jo Bloggs,3,Done
,and with the governors,,,
1.2,Train the mentors,Ann Lee,2,Half way
2,Leadership and governance,,,
2.1,Write the bid,Jo Bloggs,4,Sent
2.2,Recruit two governors with finance experience,Ann Lee,1,Late
Total,5,,,
"""


@pytest.fixture
def at_now() -> Iterator[None]:
    with frozen_clock(NOW):
        yield


async def test_a_misread_heading_is_fixed_in_the_row_list_then_imported(
    browser,  # noqa: F811 - the fixture
    office,
    chat,
    users,
    sessionmaker,
    at_now,
    db_url,
):
    await chat.upload("kimpton-plan.csv", PLAN, user=users.coordinator, caption="plan")
    page = await open_page(browser, office, users.coordinator)
    await page.goto(office.base + "/app/?view=review")
    kind = page.get_by_label("Line 7 is", exact=True)
    await kind.wait_for()
    assert await kind.input_value() == "action"
    row = page.locator("li.row-reading[data-line='7']")
    assert "it has its own reference" in await row.inner_text()
    continued = page.locator("li.row-reading[data-line='5']")
    assert "continues the action above (action 1.1, line 4)" in await continued.inner_text()
    assert await page.get_by_label("Line 5 is", exact=True).input_value() == "continuation"
    # rows that are no action are listed too, each with its reason; the header and the title have no select
    assert "a totals row" in await page.locator("li.row-reading[data-line='10']").inner_text()
    assert await page.locator("li.row-reading[data-line='3'] select").count() == 0
    assert await page.locator("ol.rows-list > li").count() == 10
    # the key found is shown; "4" matched nothing and can be given its meaning
    assert await page.get_by_label("3 means", exact=True).input_value() == "G"
    unknown = page.get_by_label("4 means", exact=True)
    assert await unknown.input_value() == ""

    # keyboard only: focus the row's select and choose "Section heading"
    await kind.focus()
    await kind.select_option("section")
    await page.locator("li.row-reading.forced[data-line='7']").wait_for()
    assert await page.get_by_label("Line 7 is", exact=True).input_value() == "section"
    assert await page.evaluate("document.activeElement.dataset.row") == "0:7"  # the focus stays on the row
    await page.locator("tr.section", has_text="2 Leadership and governance").wait_for()
    await page.get_by_label("4 means", exact=True).select_option("B")
    await page.get_by_label("4 means", exact=True).wait_for()
    assert await page.get_by_label("4 means", exact=True).input_value() == "B"
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Plan)) == 0

    # the page fits a phone: no sideways scrolling, every row's text wraps
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    overflowing = await page.evaluate(
        "[...document.querySelectorAll('ol.rows-list li, ul.key-list li, .review-table tr, .review-table select')]"
        ".filter((li) => li.getBoundingClientRect().right > window.innerWidth + 1).length"
    )
    assert overflowing == 0
    unlabelled = await page.evaluate(
        "[...document.querySelectorAll('.review-rows select, .review-key select, .review-key input')]"
        ".filter((s) => !s.getAttribute('aria-label')).length"
    )
    assert unlabelled == 0
    if db_url.startswith("sqlite"):
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        for scheme in ("light", "dark"):  # the page opened afresh: the corrections are the pending upload's
            fresh = await open_page(browser, office, users.coordinator, scheme=scheme)
            await fresh.goto(office.base + "/app/?view=review")
            await fresh.locator("li.row-reading.forced[data-line='7']").wait_for()
            for part, where in (("columns", ".review-table"), ("rows", "#rows-title"), ("key", "#key-title")):
                await fresh.locator(where).first.scroll_into_view_if_needed()
                await fresh.screenshot(path=str(ARTEFACTS / f"review-{part}-390-{scheme}.png"))
            assert not fresh.errors and not fresh.outside  # type: ignore[attr-defined]
            await fresh.close()
    # A change and Import pressed at once (a thumb on a phone): Import waits for that reading and imports it,
    # instead of meeting "the review has changed" (the reading moved the review's token on).
    await page.get_by_label("4 means", exact=True).select_option("G")
    await page.locator("#do-import").click()
    await page.locator("#status", has_text="Imported plan").wait_for()
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Plan)) == 1
        sections = {s.id: s.title for s in await session.scalars(select(Section))}
        actions = {a.ref: sections.get(a.section_id) for a in await session.scalars(select(Action))}
    assert actions == {"1.1": "", "1.2": "", "2.1": "2 Leadership and governance", "2.2": "2 Leadership and governance"}
    assert not page.errors and not page.outside  # type: ignore[attr-defined]
    await page.close()
