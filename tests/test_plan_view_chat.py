"""/plan, /action and /mine in the chat."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from core.services import MemberInfo
from plans import progress
from storage.members import Role
from storage.plans import Action, Plan, PlanMeeting
from tests.harness import frozen_clock
from tests.plan_seed import LEAD, seed_plan
from tests.shared import EXAMPLE_PLANS

NOW = dt.datetime(2025, 11, 10, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def at_now() -> Iterator[None]:
    with frozen_clock(NOW):
        yield


def texts(sent) -> str:
    return "\n".join(s.text for s in sent)


async def post(
    sessionmaker, action_id: int, rag: str | None, comment: str, when: dt.datetime = NOW, person_id: int | None = None
) -> int:
    async with sessionmaker.begin() as session:
        row = await progress.post_update(
            session, action_id, rag, comment, MemberInfo(LEAD, Role.LEAD, person_id, "Lucy Draycott"), when
        )
        return row.id


async def test_plan_at_a_glance(chat, users, sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    await post(sessionmaker, seeded.actions["1.1"], "G", "Business case submitted")
    await post(sessionmaker, seeded.actions["1.3"], "A", "Survey sent")
    await post(
        sessionmaker,
        seeded.actions["1.2"],
        "R",
        "Last year's rating",
        when=dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc),
    )  # Summer 2025: not this term
    sent = await chat.send("/plan", user=users.member)
    text = texts(sent)
    assert "Teaching School 2025-26" in text and "Autumn 2025: 4 actions" in text
    assert "🔴 Red 0 · 🟠 Amber 1 · 🟢 Green 1 · ⚪ not updated 2" in text
    assert "🟢 <b>1.1</b>" in text and "🟠 <b>1.3</b>" in text and "⚪ <b>1.2</b>" in text
    assert "<i>Survey sent</i>" in text
    assert "&lt;according&gt;" in text  # plan text escaped


async def test_plan_picks_among_several(chat, users, sessionmaker, at_now):
    await seed_plan(sessionmaker)
    async with sessionmaker.begin() as session:
        session.add(Plan(title="Second plan", rag_set="B,R,A,G"))
    sent = await chat.send("/plan", user=users.member)
    assert "Which plan?" in texts(sent)
    data = [d for label, d in sent[-1].buttons if label == "Second plan"][0]
    sent = await chat.press(data, user=users.member)
    assert "Second plan" in texts(sent) and "🔵 Blue 0" in texts(sent)


async def test_stranger_cannot_see_the_plan(chat, users, sessionmaker, at_now):
    await seed_plan(sessionmaker)
    sent = await chat.send("/plan", user=users.stranger)
    assert "Teaching School" not in texts(sent)
    sent = await chat.send("/action 1.3", user=users.stranger)
    assert "Recruit" not in texts(sent)


async def test_action_with_history_newest_first(chat, users, sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    a13 = seeded.actions["1.3"]
    first = await post(sessionmaker, a13, "R", "Nothing yet", when=dt.datetime(2025, 9, 20, 9, tzinfo=dt.timezone.utc))
    await post(sessionmaker, a13, "A", "Survey sent", when=dt.datetime(2025, 10, 3, 9, tzinfo=dt.timezone.utc))
    async with sessionmaker.begin() as session:
        await progress.withdraw_update(
            session,
            first,
            MemberInfo(LEAD, Role.LEAD, None, "Lucy Draycott"),
            when=dt.datetime(2025, 9, 21, 9, tzinfo=dt.timezone.utc),
        )
    sent = await chat.send("/action 1.3", user=users.member)
    text = texts(sent)
    assert "Recruit School Direct 2026 allocation" in text
    assert "Owners: Lucy Draycott, Karen Shilton" in text
    assert "Target numbers reached — 1 Sept 2026" in text
    assert text.index("3 Oct 2025") < text.index("20 Sept 2025")  # newest first
    assert "<s>" in text and "withdrawn" in text
    assert "Now (Autumn 2025): 🟠 Amber" in text
    assert ("Post an update", f"upq:{a13}") in sent[-1].buttons


async def test_action_unknown_ref_suggests(chat, users, sessionmaker, at_now):
    await seed_plan(sessionmaker)
    sent = await chat.send("/action 13", user=users.member)
    assert "Did you mean 1.3" in texts(sent)
    sent = await chat.send("/action", user=users.member)
    assert "/action 1.3" in texts(sent)


async def test_mine_lists_due_and_stale_and_offers_update(chat, users, sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    sent = await chat.send("/mine", user=users.lead)
    text = texts(sent)
    assert "2 actions, 2 without an update this term (Autumn 2025)" in text
    assert "was due 15 Oct 2025: Complete business case" in text
    assert "1.2" not in text  # not hers
    data = [d for label, d in sent[-1].buttons if label.startswith("Update 1.1")][0]
    sent = await chat.press(data, user=users.lead)
    assert "How is it going" in texts(sent)
    await chat.press("upr:G", user=users.lead)
    sent = await chat.send("Business case submitted", user=users.lead)
    save = [d for label, d in sent[-1].buttons if label == "Save"][0]
    await chat.press(save, user=users.lead)
    sent = await chat.send("/mine", user=users.lead)
    assert "2 actions, 1 without an update this term" in texts(sent)
    assert seeded.actions["1.1"] not in [int(d.split(":")[1]) for _l, d in sent[-1].buttons]


async def test_mine_for_an_unlinked_member(chat, users, sessionmaker, at_now):
    await seed_plan(sessionmaker)
    sent = await chat.send("/mine", user=users.member)
    assert "not linked" in texts(sent)


# --- sending a plan file ----------------------------------------------------------------------------

EXAMPLES = EXAMPLE_PLANS


async def plan_count(sessionmaker) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Plan)) or 0)


async def test_upload_plan_preview_then_import(chat, users, sessionmaker):
    data = (EXAMPLES / "teaching-school-action-plan-2014-15.md").read_bytes()
    sent = await chat.upload("teaching-school-action-plan-2014-15.md", data, user=users.coordinator, caption="plan")
    text = texts(sent)
    assert "Import this plan?" in text and "Teaching School 2014/15" in text and "22 actions" in text
    assert "CPD" in text
    assert await plan_count(sessionmaker) == 0  # nothing until Import
    data_import = [d for label, d in sent[-1].buttons if label == "Import"][0]
    sent = await chat.press(data_import, user=users.coordinator)
    assert "Imported plan 1" in texts(sent) and "22 actions" in texts(sent)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Action)) == 22
    # The same button again does not import twice.
    await chat.press(data_import, user=users.coordinator)
    assert await plan_count(sessionmaker) == 1
    sent = await chat.send("/plan", user=users.member)
    assert "Teaching School 2014/15" in texts(sent)


async def test_upload_without_caption_is_read_as_a_plan(chat, users, sessionmaker):
    data = (EXAMPLES / "emtsa-action-plan-2016-17.txt").read_bytes()
    sent = await chat.upload("emtsa.txt", data, user=users.coordinator)
    assert "Import this plan?" in texts(sent) and "30 actions" in texts(sent)
    cancel = [d for label, d in sent[-1].buttons if label == "Cancel"][0]
    sent = await chat.press(cancel, user=users.coordinator)
    assert "Nothing was imported" in texts(sent)
    assert await plan_count(sessionmaker) == 0


async def test_upload_refusals_change_nothing(chat, users, sessionmaker):
    sent = await chat.upload(
        "notes.txt", b"Just some notes, no table at all.\n", user=users.coordinator, caption="plan"
    )
    assert "could not read a plan" in texts(sent) and "Nothing was changed" in texts(sent)
    sent = await chat.upload("plan.pdf", b"%PDF-1.4", user=users.coordinator, caption="plan")
    assert ".docx" in texts(sent)
    data = (EXAMPLES / "teaching-school-action-plan-2014-15.md").read_bytes()
    sent = await chat.upload("plan.md", data, user=users.member, caption="plan")
    assert "Only coordinators" in texts(sent)
    assert await plan_count(sessionmaker) == 0


async def test_demo_plan_makes_the_lead_an_owner(chat, users, sessionmaker, at_now):
    from plans.demo import load_demo_plan

    async with sessionmaker.begin() as session:
        plan_id = await load_demo_plan(session)
    assert plan_id is not None
    async with sessionmaker.begin() as session:
        assert await load_demo_plan(session) is None  # once only
        meetings = (await session.scalars(select(PlanMeeting.date).where(PlanMeeting.plan_id == plan_id))).all()
    assert len(meetings) == 2 and all(d > NOW.date() for d in meetings)
    sent = await chat.send("/mine", user=users.lead)
    assert "SCITT" in texts(sent) and "without an update this term" in texts(sent)
    sent = await chat.send("/plan", user=users.member)
    assert "🟢 Green 2" in texts(sent) and "🔴 Red 1" in texts(sent)
