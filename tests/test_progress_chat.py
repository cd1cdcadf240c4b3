"""Posting progress: the store (appends, corrections, who may update) and the /update chat both ways."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from core import clock
from core.services import MemberInfo
from core.terms import AUTUMN, SPRING, Term
from plans import progress
from storage.members import AuditEntry, Role
from storage.plans import Action, Plan, PlanCoordinator, ProgressUpdate
from tests.harness import frozen_clock
from tests.plan_seed import LEAD, seed_plan

NOW = dt.datetime(2025, 11, 10, 9, 0, tzinfo=dt.timezone.utc)  # Autumn 2025


@pytest.fixture
def at_now() -> Iterator[None]:
    with frozen_clock(NOW):
        yield


def lead_info(person_id: int) -> MemberInfo:
    return MemberInfo(LEAD, Role.LEAD, person_id, "Lucy Draycott")


async def count_updates(sessionmaker) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(ProgressUpdate)) or 0)


async def rows(sessionmaker) -> list[ProgressUpdate]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(ProgressUpdate).order_by(ProgressUpdate.id))).all())


# --- the store ------------------------------------------------------------------------------------


async def test_post_correct_withdraw_are_appended_rows(sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    lucy = lead_info(seeded.lead_person_id)
    a13 = seeded.actions["1.3"]
    async with sessionmaker.begin() as session:
        first = await progress.post_update(session, a13, "A", "Survey sent", lucy)
    assert (first.academic_year, first.term, first.kind) == (2025, AUTUMN, "update")
    async with sessionmaker.begin() as session:
        fixed = await progress.correct_update(
            session, first.id, lucy, "G", "Survey sent, 12 replies", when=NOW + dt.timedelta(hours=3)
        )
    assert fixed.kind == "correction" and fixed.replaces_id == first.id and fixed.term == AUTUMN
    async with sessionmaker() as session:
        status = (await progress.status_by_action(session, seeded.plan_id, Term(2025, AUTUMN)))[a13]
        assert (status.rag, status.comment) == ("G", "Survey sent, 12 replies")
        # The original cannot be corrected again: the correction replaced it.
        with pytest.raises(progress.ProgressError) as err:
            await progress.correct_update(session, first.id, lucy, "R", "x", when=NOW + dt.timedelta(hours=4))
        assert err.value.kind == "replaced"
    async with sessionmaker.begin() as session:
        await progress.withdraw_update(session, fixed.id, lucy, when=NOW + dt.timedelta(hours=5))
    async with sessionmaker() as session:
        latest = await progress.latest_by_action(session, seeded.plan_id, Term(2025, AUTUMN))
        assert a13 not in latest
        history = await progress.action_history(session, a13)
    assert [r.kind for r in history] == ["withdrawal", "correction", "update"]  # newest first, nothing lost
    async with sessionmaker() as session:
        actions = [e.action for e in (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()]
    assert actions == ["progress.update", "progress.correction", "progress.withdrawal"]


async def test_only_the_author_within_the_window(sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    lucy = lead_info(seeded.lead_person_id)
    async with sessionmaker.begin() as session:
        row = await progress.post_update(session, seeded.actions["1.1"], "R", "Late", lucy)
    coordinator = MemberInfo(1003, Role.COORDINATOR, None, "Coordinator")
    async with sessionmaker() as session:
        with pytest.raises(progress.ProgressError) as err:
            await progress.withdraw_update(session, row.id, coordinator)
        assert err.value.kind == "not_author"
        with pytest.raises(progress.ProgressError) as err:
            await progress.withdraw_update(session, row.id, lucy, when=NOW + dt.timedelta(hours=49))
        assert err.value.kind == "window_closed"
    assert await count_updates(sessionmaker) == 1


async def test_no_change_carries_the_rating_and_terms_are_separate(sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    lucy = lead_info(seeded.lead_person_id)
    a11 = seeded.actions["1.1"]
    async with sessionmaker.begin() as session:
        await progress.post_update(session, a11, "A", "Started", lucy)
        await progress.post_update(
            session, a11, None, "Still going", lucy, when=dt.datetime(2026, 1, 12, 9, tzinfo=dt.timezone.utc)
        )
    async with sessionmaker() as session:
        autumn = (await progress.status_by_action(session, seeded.plan_id, Term(2025, AUTUMN)))[a11]
        spring = (await progress.status_by_action(session, seeded.plan_id, Term(2025, SPRING)))[a11]
    assert (autumn.rag, autumn.comment) == ("A", "Started")
    assert (spring.rag, spring.rag_this_term, spring.comment) == ("A", None, "Still going")


async def test_bad_rating_for_the_plan_is_refused(sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    async with sessionmaker() as session:
        with pytest.raises(progress.ProgressError):
            await progress.post_update(session, seeded.actions["1.1"], "B", "Done", lead_info(seeded.lead_person_id))


async def test_can_update(sessionmaker):
    seeded = await seed_plan(sessionmaker)
    lucy = lead_info(seeded.lead_person_id)
    member = MemberInfo(1001, Role.MEMBER, None, "Member")
    async with sessionmaker.begin() as session:
        a11 = await session.get(Action, seeded.actions["1.1"])
        a12 = await session.get(Action, seeded.actions["1.2"])
        assert await progress.can_update(session, lucy, a11)
        assert not await progress.can_update(session, lucy, a12)
        assert not await progress.can_update(session, member, a11)
        assert not await progress.can_update(session, None, a11)
        assert await progress.can_update(session, MemberInfo(1003, Role.COORDINATOR), a12)
        assert await progress.can_update(session, MemberInfo(1004, Role.ADMIN), a12)
        session.add(PlanCoordinator(plan_id=seeded.plan_id, telegram_id=1001))
        await session.flush()
        assert await progress.can_update(session, member, a12)


async def test_many_people_posting_at_once_lose_nothing(sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    authors = [MemberInfo(2000 + i, Role.COORDINATOR, None, f"Person {i}") for i in range(12)]

    async def post(i: int) -> None:
        async with sessionmaker.begin() as session:
            await progress.post_update(session, seeded.actions["1.3"], "RAG"[i % 3], f"note {i}", authors[i])

    await asyncio.gather(*(post(i) for i in range(12)))
    stored = await rows(sessionmaker)
    assert sorted(r.comment for r in stored) == sorted(f"note {i}" for i in range(12))


async def test_my_actions_due_and_stale(sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    lucy = lead_info(seeded.lead_person_id)
    async with sessionmaker() as session:
        mine = await progress.my_actions(session, seeded.lead_person_id, today=dt.date(2025, 11, 10))
    assert [m.action.ref for m in mine] == ["1.1", "1.3"]
    by_ref = {m.action.ref: m for m in mine}
    assert by_ref["1.1"].stale and by_ref["1.1"].is_due  # milestone 15 Oct passed this term, no update since
    assert by_ref["1.1"].overdue[0][0] == dt.date(2025, 10, 15)
    assert by_ref["1.3"].stale and not by_ref["1.3"].is_due  # its milestone is next September
    async with sessionmaker.begin() as session:
        await progress.post_update(session, seeded.actions["1.1"], "G", "Business case done", lucy)
    async with sessionmaker() as session:
        mine = {
            m.action.ref: m
            for m in await progress.my_actions(session, seeded.lead_person_id, today=dt.date(2025, 11, 10))
        }
    assert not mine["1.1"].stale and not mine["1.1"].is_due


async def test_who_hasnt_updated(sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    async with sessionmaker.begin() as session:
        await progress.post_update(session, seeded.actions["1.1"], "G", "ok", lead_info(seeded.lead_person_id))
    async with sessionmaker() as session:
        gaps = await progress.who_hasnt_updated(session, seeded.plan_id, Term(2025, AUTUMN))
    by_name = {g.name: g for g in gaps}
    assert by_name["Lucy Draycott"].refs == ["1.3"] and by_name["Lucy Draycott"].telegram_ids == [LEAD]
    assert by_name["Karen Shilton"].refs == ["1.2", "1.3"] and by_name["Karen Shilton"].telegram_ids == []
    assert by_name["M Rock"].refs == ["c)"]


# --- the chat -------------------------------------------------------------------------------------


def texts(sent) -> str:
    return "\n".join(s.text for s in sent)


def button(sent, label: str) -> str:
    for s in reversed(sent):
        for text, data in s.buttons:
            if label in text:
                return data
    raise AssertionError(f"no button {label!r} in {[s.buttons for s in sent]}")


async def test_one_line_update_as_owner(chat, users, sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    sent = await chat.send("/update 1.3 amber Survey sent to all heads, 12 replies so far", user=users.lead)
    assert "Save this update?" in texts(sent) and "Amber" in texts(sent)
    assert "Survey sent to all heads, 12 replies so far" in texts(sent) and "Autumn 2025" in texts(sent)
    assert await count_updates(sessionmaker) == 0  # nothing until Save
    sent = await chat.press(button(sent, "Save"), user=users.lead)
    assert "Saved: 1.3" in texts(sent) and "Autumn 2025" in texts(sent)
    [row] = await rows(sessionmaker)
    assert (row.action_id, row.rag, row.comment, row.author_id, row.term) == (
        seeded.actions["1.3"],
        "A",
        "Survey sent to all heads, 12 replies so far",
        LEAD,
        AUTUMN,
    )
    # An old Save button does nothing more.
    await chat.press(f"ups:{1}", user=users.lead)
    assert await count_updates(sessionmaker) == 1


async def test_guided_update_as_owner_stores_the_same_row(chat, users, sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    sent = await chat.send("/update", user=users.lead)  # one plan: straight to the actions
    assert "Which action?" in texts(sent)
    labels = [label for label, _data in sent[-1].buttons]
    assert labels[0].startswith("★ 1.1") and labels[1].startswith("★ 1.3")  # own actions first
    sent = await chat.press(f"upa:{seeded.actions['1.3']}", user=users.lead)
    assert [label for label, _ in sent[-1].buttons][:4] == ["🔴 Red", "🟠 Amber", "🟢 Green", "⚪ No change"]
    sent = await chat.press("upr:A", user=users.lead)
    assert "comment" in texts(sent)
    sent = await chat.send("Survey sent to all heads, 12 replies so far", user=users.lead)
    assert "Save this update?" in texts(sent)
    sent = await chat.press(button(sent, "Save"), user=users.lead)
    assert "Saved: 1.3" in texts(sent)
    [row] = await rows(sessionmaker)
    assert (row.action_id, row.rag, row.comment, row.author_id, row.kind) == (
        seeded.actions["1.3"],
        "A",
        "Survey sent to all heads, 12 replies so far",
        LEAD,
        "update",
    )


async def test_guided_typed_reference_and_skip(chat, users, sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    await chat.send("/update", user=users.coordinator)
    sent = await chat.send("C", user=users.coordinator)  # "C" means "c)"
    assert "How is it going" in texts(sent)
    await chat.press("upr:G", user=users.coordinator)
    sent = await chat.send("skip", user=users.coordinator)
    assert "Comment: —" in texts(sent)
    await chat.press(button(sent, "Save"), user=users.coordinator)
    [row] = await rows(sessionmaker)
    assert (row.action_id, row.rag, row.comment) == (seeded.actions["c)"], "G", "")


async def test_one_line_without_rating_asks_for_it(chat, users, sessionmaker, at_now):
    await seed_plan(sessionmaker)
    sent = await chat.send("/update 1.1 Business case drafted", user=users.lead)
    assert "How is it going" in texts(sent)
    sent = await chat.send("green", user=users.lead)  # typed instead of pressed
    assert "Save this update?" in texts(sent) and "Business case drafted" in texts(sent)
    await chat.press(button(sent, "Save"), user=users.lead)
    [row] = await rows(sessionmaker)
    assert (row.rag, row.comment) == ("G", "Business case drafted")


async def test_stranger_is_refused_and_nothing_stored(chat, users, sessionmaker, at_now):
    await seed_plan(sessionmaker)
    sent = await chat.send("/update 1.3 green all done", user=users.stranger)
    assert "access" in texts(sent).lower()
    assert "Save" not in [label for s in sent for label, _ in s.buttons]
    await chat.press("ups:1", user=users.stranger)
    assert await count_updates(sessionmaker) == 0


async def test_member_without_rights_is_told_who_can(chat, users, sessionmaker, at_now):
    await seed_plan(sessionmaker)
    sent = await chat.send("/update 1.3 green all done", user=users.member)
    assert "Lucy Draycott" in texts(sent) and "Karen Shilton" in texts(sent) and "Nothing was saved" in texts(sent)
    # the guided way too
    await chat.send("/update", user=users.member)
    sent = await chat.send("1.2", user=users.member)
    assert "Karen Shilton" in texts(sent)
    # the lead owns 1.1 and 1.3 but not 1.2
    sent = await chat.send("/update 1.2 red stuck", user=users.lead)
    assert "Karen Shilton" in texts(sent)
    assert await count_updates(sessionmaker) == 0


async def test_unknown_reference_and_bad_rating(chat, users, sessionmaker, at_now):
    await seed_plan(sessionmaker)
    sent = await chat.send("/update 13 amber x", user=users.lead)
    assert "Did you mean" in texts(sent) and "1.3" in texts(sent)
    sent = await chat.send("/update 1.3 blue finished", user=users.lead)
    assert "is not one of them" in texts(sent)
    assert await count_updates(sessionmaker) == 0


async def test_html_in_comment_is_escaped(chat, users, sessionmaker, at_now):
    await seed_plan(sessionmaker)
    sent = await chat.send("/update c) amber <b>5 & 6</b> done", user=users.coordinator)
    assert "&lt;b&gt;5 &amp; 6&lt;/b&gt;" in texts(sent)
    assert "&lt;according&gt;" in texts(sent)  # the action text from the plan is escaped too
    await chat.press(button(sent, "Save"), user=users.coordinator)
    [row] = await rows(sessionmaker)
    assert row.comment == "<b>5 & 6</b> done"


async def test_correct_and_withdraw_from_the_chat(chat, users, sessionmaker, at_now):
    await seed_plan(sessionmaker)
    sent = await chat.send("/update 1.3 amber Survey sent", user=users.lead)
    sent = await chat.press(button(sent, "Save"), user=users.lead)
    correct, withdraw = button(sent, "Correct"), button(sent, "Withdraw")
    # Someone else cannot use the author's buttons.
    sent = await chat.press(withdraw, user=users.coordinator)
    assert any(s.method == "answerCallbackQuery" and "Only the person" in s.params.get("text", "") for s in sent)
    # The author corrects.
    sent = await chat.press(correct, user=users.lead)
    assert "How is it going" in texts(sent)
    await chat.press("upr:G", user=users.lead)
    sent = await chat.send("Survey sent, 30 replies", user=users.lead)
    assert "Correct your update?" in texts(sent)
    sent = await chat.press(button(sent, "Save"), user=users.lead)
    assert "Corrected: 1.3" in texts(sent)
    withdraw2 = button(sent, "Withdraw")
    # The first update's buttons are now old: it was replaced.
    sent = await chat.press(withdraw, user=users.lead)
    assert any("already been corrected" in s.params.get("text", "") for s in sent)
    sent = await chat.press(withdraw2, user=users.lead)
    assert "Withdrawn" in texts(sent)
    assert [(r.kind, r.rag) for r in await rows(sessionmaker)] == [
        ("update", "A"),
        ("correction", "G"),
        ("withdrawal", None),
    ]
    # After the window the buttons refuse politely.
    sent = await chat.send("/update 1.1 green ok", user=users.lead)
    sent = await chat.press(button(sent, "Save"), user=users.lead)
    late = button(sent, "Withdraw")
    clock.set_clock(lambda: NOW + dt.timedelta(hours=49))
    sent = await chat.press(late, user=users.lead)
    assert any("has passed" in s.params.get("text", "") for s in sent)
    assert await count_updates(sessionmaker) == 4


async def test_cancel_and_stale_buttons(chat, users, sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    await chat.send("/update", user=users.lead)
    sent = await chat.send("/cancel", user=users.lead)
    assert "Cancelled" in texts(sent)
    # Buttons of the finished conversation answer politely.
    sent = await chat.press(f"upa:{seeded.actions['1.1']}", user=users.lead)
    assert any(s.method == "answerCallbackQuery" and "expired" in s.params.get("text", "") for s in sent)
    assert await count_updates(sessionmaker) == 0


async def test_paging_actions(chat, users, sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    async with sessionmaker.begin() as session:
        for i in range(4, 15):
            session.add(Action(plan_id=seeded.plan_id, position=10 + i, ref=f"3.{i}", text=f"Extra action {i}"))
    sent = await chat.send("/update", user=users.coordinator)
    assert "upn:1" in [d for _, d in sent[-1].buttons]
    sent = await chat.press("upn:1", user=users.coordinator)
    assert any(label.startswith("3.") for label, _ in sent[-1].buttons)
    assert "upn:0" in [d for _, d in sent[-1].buttons]


async def test_whole_line_typed_at_the_action_step(chat, users, sessionmaker, at_now):
    seeded = await seed_plan(sessionmaker)
    await chat.send("/update", user=users.lead)
    sent = await chat.send("1.3 amber Survey sent", user=users.lead)
    assert "Save this update?" in texts(sent)
    await chat.press(button(sent, "Save"), user=users.lead)
    sent = await chat.send("/update action 1.1 g done", user=users.lead)
    await chat.press(button(sent, "Save"), user=users.lead)
    assert [(r.action_id, r.rag, r.comment) for r in await rows(sessionmaker)] == [
        (seeded.actions["1.3"], "A", "Survey sent"),
        (seeded.actions["1.1"], "G", "done"),
    ]


async def test_same_reference_in_two_plans(chat, users, sessionmaker, at_now):
    first = await seed_plan(sessionmaker)
    async with sessionmaker.begin() as session:
        other = Plan(title="Second plan")
        session.add(other)
        await session.flush()
        session.add(Action(plan_id=other.id, position=0, ref="1.3", text="Another 1.3"))
    # The lead may only update the first plan's 1.3: no question asked.
    sent = await chat.send("/update 1.3 green fine", user=users.lead)
    assert "Save this update?" in texts(sent) and "Recruit School Direct" in texts(sent)
    # A coordinator may update both: asked which plan.
    sent = await chat.send("/update 1.3 green fine", user=users.coordinator)
    assert "more than one plan" in texts(sent)
    data = [d for label, d in sent[-1].buttons if label == "Second plan"][0]
    sent = await chat.press(data, user=users.coordinator)
    assert "Another 1.3" in texts(sent)
    await chat.press(button(sent, "Save"), user=users.coordinator)
    [row] = await rows(sessionmaker)
    assert row.action_id != first.actions["1.3"]
