"""Regressions from the handlers review: odd or huge numbers typed as arguments, over-long values,
and a notification that cannot be delivered must get a polite answer, never the error handler."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from telegram import Update

from storage.directory import Person
from storage.members import AccessRequest, Member
from storage.plans import PlanMeeting
from tests.harness import ChatDriver, Users
from tests.plan_seed import seed_plan
from tests.test_find_cli import seed_directory
from tests.test_profile import link_member

WENT_WRONG = "something went wrong"
HUGE = "99999999999"  # past PostgreSQL's integer ids
HUGER = "99999999999999999999"  # past BIGINT too
SUPERSCRIPT = "²"  # str.isdigit() says yes, int() says no


def _texts(sent: list[Any]) -> str:
    return "\n".join(s.text or "" for s in sent)


async def test_edit_capacity_with_a_superscript_digit_is_refused(chat: ChatDriver, users: Users, sessionmaker) -> None:
    person_id = await link_member(sessionmaker, users.member)
    sent = await chat.send(f"/edit capacity {SUPERSCRIPT}", user=users.member)
    assert WENT_WRONG not in _texts(sent)
    assert "number from 0 to 5" in sent[0].text
    async with sessionmaker() as session:
        assert (await session.get(Person, person_id)).mentor_capacity == 0


async def test_edit_long_job_title_fits_the_column(chat: ChatDriver, users: Users, sessionmaker) -> None:
    person_id = await link_member(sessionmaker, users.member)
    sent = await chat.send("/edit job " + "Deputy " * 25, user=users.member)
    assert WENT_WRONG not in _texts(sent)
    assert "Saved" in sent[0].text
    async with sessionmaker() as session:
        job = (await session.get(Person, person_id)).job_title
        assert job.startswith("Deputy Deputy") and len(job) <= 120


async def test_grant_refuses_odd_and_huge_ids(chat: ChatDriver, users: Users, sessionmaker) -> None:
    for target in (SUPERSCRIPT, HUGER):
        sent = await chat.send(f"/grant {target} member", user=users.admin)
        assert WENT_WRONG not in _texts(sent)
        assert "Usage: /grant" in sent[0].text
    async with sessionmaker() as session:
        assert len((await session.scalars(select(Member))).all()) == 4  # the harness's members only


async def test_erase_and_audit_refuse_odd_and_huge_numbers(chat: ChatDriver, users: Users) -> None:
    for arg in (SUPERSCRIPT, HUGE, HUGER):
        sent = await chat.send(f"/erase {arg}", user=users.admin)
        assert WENT_WRONG not in _texts(sent)
        assert "Usage: /erase" in sent[0].text or "no such person" in sent[0].text
    sent = await chat.send(f"/audit {SUPERSCRIPT}", user=users.admin)
    assert WENT_WRONG not in _texts(sent) and "Usage: /audit" in sent[0].text


async def test_meetings_and_holidays_refuse_odd_and_huge_numbers(chat: ChatDriver, users: Users, sessionmaker) -> None:
    await seed_plan(sessionmaker)
    for command in (
        f"/meetings remove {HUGE}",
        f"/meetings remove {HUGER}",
        f"/meetings remove {SUPERSCRIPT}",
        f"/holidays remove {HUGE}",
        f"/holidays remove {SUPERSCRIPT}",
    ):
        sent = await chat.send(command, user=users.coordinator)
        assert WENT_WRONG not in _texts(sent), command
        assert "There is no" in sent[-1].text or "Add one with" in sent[-1].text, command
    async with sessionmaker() as session:
        assert (await session.scalars(select(PlanMeeting))).all() == []
    # A plan "number" that is not one is said to be wrong, and nothing is added.
    sent = await chat.send(f"/meetings add 12/03/2026 {SUPERSCRIPT}", user=users.coordinator)
    assert WENT_WRONG not in _texts(sent) and "There is no plan ²" in sent[-1].text


async def test_approval_is_reported_even_when_the_applicant_blocked_the_bot(
    chat: ChatDriver, users: Users, sessionmaker
) -> None:
    await chat.send("/start", user=users.stranger)
    await chat.press("ar:req", user=users.stranger)
    sent = await chat.send("Jane Smith, Oakfield Primary", user=users.stranger)
    note = next(s for s in sent if s.chat_id == users.coordinator)
    approve = [data for _label, data in note.buttons if data.startswith("aa:")][-1]

    request = chat.request
    real = request.do_request

    async def blocked(url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any) -> Any:
        params = dict(request_data.parameters) if request_data else {}
        if url.endswith("/sendMessage") and str(params.get("chat_id")) == str(users.stranger):
            return 403, b'{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}'
        return await real(url, method, request_data, *args, **kwargs)

    request.do_request = blocked  # type: ignore[method-assign]
    try:
        sent = await chat.press(approve, user=users.coordinator)
    finally:
        request.do_request = real  # type: ignore[method-assign]
    assert WENT_WRONG not in _texts(sent) and "nothing was changed" not in _texts(sent)
    assert any("Approved: Jane Smith" in (s.text or "") for s in sent)
    async with sessionmaker() as session:
        assert (await session.get(Member, users.stranger)).active
        assert (await session.scalars(select(AccessRequest.status))).one() == "approved"


async def test_stranger_text_starting_with_a_slash_is_not_a_search(
    chat: ChatDriver, users: Users, sessionmaker
) -> None:
    # "/ Heffernan" starts with "/" but Telegram marks no command in it: it is plain text, which the
    # directory search answers, so the gate must treat it as text (members only), not as a command.
    await seed_directory(sessionmaker)
    await chat.app.bot_data["services"].refresh_directory()
    factory = chat.factory
    message = factory._base_message(users.stranger, None, "")
    message["text"] = "/ Jane Heffernan"
    sent = await chat._process(
        Update.de_json({"update_id": next(factory._update_ids), "message": message}, chat.app.bot)
    )
    text = _texts(sent)
    assert "Heffernan" not in text and "@" not in text
    assert "need access first" in text
    # The same for a member is still a search.
    message = factory._base_message(users.member, None, "")
    message["text"] = "/ Jane Heffernan"
    sent = await chat._process(
        Update.de_json({"update_id": next(factory._update_ids), "message": message}, chat.app.bot)
    )
    assert "Heffernan" in _texts(sent)
