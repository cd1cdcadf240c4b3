"""A next step at every dead end (issue 23, item 7), and two taps for anything that discards: each case as a
user meets it in the chat, through the real Application, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import clock
from storage.members import AccessRequest
from storage.plans import PlanMeeting, ProgressUpdate
from tests.harness import ChatDriver, Users, frozen_clock
from tests.plan_seed import seed_plan
from tests.test_find_cli import seed_directory

NOW = dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.timezone.utc)


def texts(sent) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(s.text or "" for s in sent)


async def _directory(chat: ChatDriver, sessionmaker) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ids = await seed_directory(sessionmaker)
    await chat.app.bot_data["services"].refresh_directory()
    return ids


async def test_no_system_leader_says_what_to_do_next(chat: ChatDriver, users: Users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    await _directory(chat, sessionmaker)
    chat.app.bot_data["services"].settings.office_contact = "office@partnership.example"
    text = texts(await chat.send("/sle science primary", user=users.member))
    assert "No system leaders in the directory for Science, primary yet." in text
    assert "System leaders can help with: Mathematics" in text  # the specialisms that have leaders
    assert "office@partnership.example" in text
    # Leaders in the specialism but not the phase: the same search without the phase is offered.
    text = texts(await chat.send("/sle maths special", user=users.member))
    assert "in other phases: <code>/sle mathematics</code>" in text
    # An unknown place is called back without its "near".
    text = texts(await chat.send("/sle maths near Nowhereville", user=users.member))
    assert "“Nowhereville”" in text and "near Nowhereville" not in text


async def test_hello_gets_a_pointer_to_help(chat: ChatDriver, users: Users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    await _directory(chat, sessionmaker)
    for greeting in ("hello", "Hi there!", "thanks", "what can you do?"):
        sent = await chat.send(greeting, user=users.member)
        assert len(sent) == 1 and "Send /help" in sent[0].text and "found no one" not in sent[0].text
    # A name is still a search, and a search with nothing found says where /help is.
    assert "Heffernan" in texts(await chat.send("Heffernan", user=users.member))
    assert "/help" in texts(await chat.send("Zzyzx", user=users.member))


async def test_action_owned_in_one_plan_opens_without_asking(chat: ChatDriver, users: Users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    with frozen_clock(NOW):
        await seed_plan(sessionmaker)
        await seed_plan(sessionmaker, title="Second plan", link_lead=False)
        # The second plan's Lucy Draycott is another directory entry: the lead owns 1.3 in the first only.
        sent = await chat.send("/action 1.3", user=users.lead)
        assert "more than one plan" not in texts(sent) and "Recruit School Direct" in texts(sent)
        # Someone who owns it in neither is still asked which.
        sent = await chat.send("/action 1.3", user=users.member)
        assert "more than one plan" in texts(sent)


async def test_update_by_the_actions_words(chat: ChatDriver, users: Users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    with frozen_clock(NOW):
        seeded = await seed_plan(sessionmaker)
        sent = await chat.send("/update Recruit School Direct amber 12 places so far", user=users.lead)
        assert "There is no action Recruit" not in texts(sent)
        assert "1.3" in texts(sent)
        confirm = next(
            d for s in sent for label, d in s.buttons if "Save" in label or "Confirm" in label or "Post" in label
        )
        await chat.press(confirm, user=users.lead)
        async with sessionmaker() as session:
            rows = (
                await session.scalars(select(ProgressUpdate).where(ProgressUpdate.action_id == seeded.actions["1.3"]))
            ).all()
        assert [(r.rag, r.comment) for r in rows] == [("A", "12 places so far")]
        # Words that fit several actions: the choices and how to say which, nothing saved.
        sent = await chat.send("/update School amber fine", user=users.lead)
        assert "could be" in texts(sent) and "Nothing was saved" in texts(sent)


async def test_chase_keeps_its_list_after_sending(chat: ChatDriver, users: Users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    day = dt.datetime(2025, 11, 3, 8, 0, tzinfo=dt.timezone.utc)
    with frozen_clock(day):
        await seed_plan(sessionmaker, meetings=(dt.date(2025, 11, 20),))
        sent = await chat.send("/chase", user=users.coordinator)
        sent = await chat.press(sent[-1].buttons[0][1], user=users.coordinator)
    edited = next(s for s in sent if s.method == "editMessageText")
    assert "Sent 1 reminder." in edited.text and "Karen Shilton" in edited.text and "Lucy Draycott" in edited.text


async def test_rejecting_takes_two_taps_and_tells_how_to_reach_the_office(
    chat: ChatDriver, users: Users, sessionmaker
) -> None:  # type: ignore[no-untyped-def]
    chat.app.bot_data["services"].settings.office_contact = "01632 960000"
    await chat.send("/start", user=users.stranger)
    await chat.press("ar:req", user=users.stranger)
    sent = await chat.send("Jane Smith, Oakfield Primary", user=users.stranger)
    note = next(s for s in sent if s.chat_id == users.coordinator)
    reject = next(d for label, d in note.buttons if label == "Reject")
    asked = await chat.press(reject, user=users.coordinator)
    markup = next(s for s in asked if s.method == "editMessageReplyMarkup")
    assert [label for label, _d in markup.buttons] == ["Yes, reject", "Keep"]
    async with sessionmaker() as session:
        assert (await session.scalars(select(AccessRequest.status))).one() == "pending"  # nothing yet
    # Keep: the buttons come back as they were, nothing decided.
    kept = await chat.press(f"{reject}:no", user=users.coordinator)
    restored = next(s for s in kept if s.method == "editMessageReplyMarkup")
    assert ("Reject", reject) in restored.buttons
    await chat.press(reject, user=users.coordinator)
    await chat.press(f"{reject}:ok", user=users.coordinator)
    async with sessionmaker() as session:
        assert (await session.scalars(select(AccessRequest.status))).one() == "rejected"
    told = [s.text for s in chat.to(users.stranger) if "not approved" in (s.text or "")]
    assert told and "01632 960000" in told[-1]


async def test_removing_a_meeting_takes_two_taps(chat: ChatDriver, users: Users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    clock.set_clock(lambda: NOW)
    try:
        await seed_plan(sessionmaker, meetings=(dt.date(2025, 11, 20),))
        listing = await chat.send("/meetings", user=users.coordinator)
        remove = next(d for label, d in listing[-1].buttons if label.startswith("Remove"))
        await chat.press(remove, user=users.coordinator)
        async with sessionmaker() as session:
            assert len((await session.scalars(select(PlanMeeting))).all()) == 1  # still there
        sent = await chat.press(f"{remove}:ok", user=users.coordinator)
        assert "Removed the meeting on 20 Nov 2025." in texts(sent)
        async with sessionmaker() as session:
            assert (await session.scalars(select(PlanMeeting))).all() == []
    finally:
        clock.set_clock(None)


async def test_buddy_places_said_plainly(chat: ChatDriver, users: Users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    from tests.test_profile import link_member

    await link_member(sessionmaker, users.member)
    assert "Saved: you now offer 2 buddy places." in texts(await chat.send("/edit capacity 2", user=users.member))
    assert "Saved: you now offer 1 buddy place." in texts(await chat.send("/edit capacity 1", user=users.member))
    assert "no buddy places" in texts(await chat.send("/edit capacity 0", user=users.member))


def test_periods_said_as_people_say_them() -> None:
    from core.i18n import format_period

    assert [format_period(d) for d in (2192, 365, 730, 548, 90, 14, 1)] == [
        "6 years",
        "1 year",
        "2 years",
        "18 months",
        "90 days",
        "2 weeks",
        "1 day",
    ]
