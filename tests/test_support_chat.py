"""School-to-school support through the real Application (tests/harness.py), on SQLite and PostgreSQL:
a head asks from /sle results, the office sees suggestions with reasons and confirms, the system leader
accepts or declines (two presses at once make one decision), logs days (beyond capacity refused), both sides
answer the impact check; a stranger and an unrelated member see nothing of it."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.offline import Sent
from directory import deployments as dp
from storage.directory import Person, School, Specialism
from storage.members import Member
from storage.support import SupportDay, SupportDeployment, SupportImpact, SupportLeader, SupportRequest
from tests.harness import ChatDriver, Users, frozen_clock

NOW = dt.datetime(2025, 10, 6, 9, 0, tzinfo=dt.timezone.utc)
UNRELATED = 1005  # a member with no part in any request


@pytest.fixture(autouse=True)
def fixed_clock() -> object:
    with frozen_clock(NOW):
        yield


@dataclass
class World:
    head: int  # Hana Reed, head of Ashcombe Primary (Oak Trust): linked to users.lead
    sam: int  # maths SLE at Millbrook Primary (Beacon Trust): linked to users.member, 5 days
    tia: int  # maths SLE at Ashcombe Juniors, the same trust as the head's school: a conflict
    uma: int  # maths SLE at Stoneford Primary, not on Telegram, 3 days
    vic: int  # maths SLE at the head's own school
    wes: int  # maths SLE at Riverton Primary who offers no days
    other: int  # the unrelated member's entry


def texts(sent: list[Sent]) -> str:
    return "\n".join(s.text for s in sent)


def buttons(sent: list[Sent]) -> list[tuple[str, str]]:
    return [b for s in sent for b in s.buttons]


def alert(sent: list[Sent]) -> str:
    return next((str(s.params.get("text", "")) for s in sent if s.method == "answerCallbackQuery"), "")


@pytest.fixture
async def world(chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]) -> World:
    async with sessionmaker.begin() as session:
        maths = Specialism(name="mathematics", aliases="maths")
        session.add(maths)

        def school(name: str, town: str, trust: str | None, easting: float) -> School:
            row = School(
                name=name,
                phase="primary",
                locality=town,
                local_authority="Riverside",
                trust=trust,
                easting=easting,
                northing=210_000,
                phone="01632 960000",
            )
            session.add(row)
            return row

        ashcombe = school("Ashcombe Primary", "Ashcombe", "Oak Trust", 447_000)
        juniors = school("Ashcombe Juniors", "Ashcombe", "Oak Trust", 447_500)
        millbrook = school("Millbrook Primary", "Millbrook", "Beacon Trust", 452_000)
        stoneford = school("Stoneford Primary", "Stoneford", None, 461_000)
        riverton = school("Riverton Primary", "Riverton", None, 450_000)
        await session.flush()

        def person(first: str, last: str, at: School, designations: str = "", email: str = "") -> Person:
            row = Person(
                title="Ms",
                first_name=first,
                last_name=last,
                school_id=at.id,
                designations=designations,
                email=email or f"{first.lower()}.{last.lower()}@example.org",
                phone="07700 900" + str(100 + len(first) + len(last)),
                job_title="Headteacher" if not designations else "Maths lead",
                is_head=not designations,
                specialisms=[maths] if designations else [],
            )
            session.add(row)
            return row

        head = person("Hana", "Reed", ashcombe)
        sam = person("Sam", "Okafor", millbrook, "SLE")
        tia = person("Tia", "Moss", juniors, "SLE")
        uma = person("Uma", "Patel", stoneford, "SLE")
        vic = person("Vic", "Lang", ashcombe, "SLE")
        wes = person("Wes", "Hart", riverton, "SLE")
        other = person("Olly", "Grant", riverton)
        await session.flush()
        session.add_all(
            [
                SupportLeader(person_id=sam.id, capacity_days=5, share_email=True, share_phone=False),
                SupportLeader(person_id=tia.id, capacity_days=10),
                SupportLeader(person_id=uma.id, capacity_days=3),
                SupportLeader(person_id=vic.id, capacity_days=10),
            ]
        )
        session.add(Member(telegram_id=UNRELATED, role="member", display_name="Other", person_id=other.id))
        for telegram_id, person_id in ((users.lead, head.id), (users.member, sam.id)):
            (await session.get(Member, telegram_id)).person_id = person_id  # type: ignore[union-attr]
        found = World(head.id, sam.id, tia.id, uma.id, vic.id, wes.id, other.id)
    await chat.app.bot_data["services"].refresh_directory()
    return found


async def ask_for_support(chat: ChatDriver, users: Users, need: str = "Year 5 fractions", days: str = "2") -> int:
    """The head's journey: /sle, Ask for support, the need, how soon, how many days."""
    sent = await chat.send("/sle maths primary", user=users.lead)
    assert ("🤝 Ask for support", "ua:0") in buttons(sent)
    sent = await chat.press("ua:0", user=users.lead)
    assert "Ask for support with Mathematics, primary" in texts(sent)
    sent = await chat.send(need, user=users.lead)
    assert "How soon?" in texts(sent)
    sent = await chat.press("uu:t", user=users.lead)
    assert ("2", "uy:2") in buttons(sent)
    sent = await chat.press(f"uy:{days}", user=users.lead)
    assert "is with the partnership office" in texts(sent)
    return max(int(s.text.split("number ")[1].split(")")[0]) for s in sent if "number " in s.text)


async def test_the_whole_journey(
    chat: ChatDriver, users: Users, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    before = len(chat.to(users.coordinator))
    request_id = await ask_for_support(chat, users)
    told = chat.to(users.coordinator)[before:]
    assert any("New request for support" in s.text and "Year 5 fractions" in s.text for s in told)
    assert ("Suggestions", f"uo:{request_id}") in buttons(told)

    # The desk counts it and lists it.
    sent = await chat.send("/desk", user=users.coordinator)
    assert "1 support request waiting" in texts(sent) and ("Support (1)", "dk:su") in buttons(sent)
    sent = await chat.press("dk:su", user=users.coordinator)
    assert "Ashcombe Primary" in texts(sent) and ("‹ Desk", "dk:h") in buttons(sent)

    # Suggestions with plain reasons: no one from the head's school or trust, no one without days.
    sent = await chat.press(f"uo:{request_id}", user=users.coordinator)
    text = texts(sent)
    assert "Sam Okafor" in text and "Uma Patel" in text
    for excluded in ("Tia Moss", "Vic Lang", "Wes Hart"):
        assert excluded not in text, excluded
    assert "SLE in mathematics, primary" in text and "5 days left this year" in text
    assert "no conflict: another trust" in text and "no deployment in the last year" in text
    assert text.index("Sam Okafor") < text.index("Uma Patel")  # nearer
    assert ("Confirm Ms Sam Okafor", f"uc:{request_id}:{world.sam}") in buttons(sent)

    # A member cannot broker; a stranger cannot either.
    for who in (users.member, users.stranger):
        sent = await chat.press(f"uc:{request_id}:{world.sam}", user=who)
        assert "can't" in alert(sent) or "only" in alert(sent).lower()
    # A confirmation naming someone who may not be suggested (same trust) is refused.
    sent = await chat.press(f"uc:{request_id}:{world.tia}", user=users.coordinator)
    assert "can no longer be suggested" in alert(sent)

    sent = await chat.press(f"uc:{request_id}:{world.sam}", user=users.coordinator)
    assert "I have asked Ms Sam Okafor" in texts(sent)
    ask = chat.to(users.member)[-1]
    assert "Would you support a school?" in ask.text and "Year 5 fractions" in ask.text and "Why you:" in ask.text
    async with sessionmaker() as session:
        deployment = (await session.scalars(select(SupportDeployment))).one()
    assert ask.buttons == [("Accept", f"uq:a:{deployment.id}"), ("Decline", f"uq:d:{deployment.id}")]

    # Nobody else answers: the head, the unrelated member, the office (Sam is on Telegram), a stranger.
    for who in (users.lead, UNRELATED, users.coordinator):
        sent = await chat.press(f"uq:a:{deployment.id}", user=who)
        assert "only the system leader who was asked" in alert(sent)
    sent = await chat.press(f"uq:a:{deployment.id}", user=users.stranger)
    assert sent[0].method == "answerCallbackQuery" and "Year 5" not in texts(sent)

    head_before = len(chat.to(users.lead))
    sent = await chat.press(f"uq:a:{deployment.id}", user=users.member)
    assert "I have introduced you both" in texts(sent)
    to_sam = chat.to(users.member)[-1].text
    assert "hana.reed@example.org" in to_sam and f"/days {deployment.id} 1.5" in to_sam
    to_head = "\n".join(s.text for s in chat.to(users.lead)[head_before:])
    assert "sam.okafor@example.org" in to_head
    assert "07700" not in to_head  # Sam shares her email, not her phone
    assert "School phone: 01632 960000" in to_head

    # The need is seen by its parties and the office only.
    for who in (UNRELATED, users.stranger):
        sent = await chat.press(f"uv:{deployment.id}", user=who)
        assert "Year 5" not in texts(sent) and "Year 5" not in alert(sent)
        sent = await chat.send("/support", user=who)
        assert "Year 5" not in texts(sent) and "fractions" not in texts(sent)
    sent = await chat.press(f"uv:{deployment.id}", user=UNRELATED)
    assert "not available to you" in alert(sent)
    sent = await chat.press(f"uv:{deployment.id}", user=users.lead)
    assert "Year 5 fractions" in texts(sent) and "Days agreed: 2" in texts(sent)

    # Days: one line; bad input answered politely; beyond capacity refused with a clear answer.
    sent = await chat.send(f"/days {deployment.id} 1.5 lesson study with Y5", user=users.member)
    assert "Logged 1.5 days on deployment" in texts(sent) and "1.5 of 2 agreed days" in texts(sent)
    sent = await chat.send(f"/days {deployment.id} 4 more", user=users.member)
    assert "beyond your capacity" in texts(sent) and "Nothing was logged" in texts(sent)
    for bad in (f"/days {deployment.id} lots", "/days twelve 1", f"/days {deployment.id} 0.3", "/days"):
        sent = await chat.send(bad, user=users.member)
        assert sent and ("Usage" in texts(sent) or "not a number" in texts(sent) or "halves" in texts(sent)), bad
    sent = await chat.send(f"/days {deployment.id} 1", user=users.lead)  # not the system leader
    assert f"no deployment {deployment.id} of yours" in texts(sent)
    sent = await chat.send(f"/days {deployment.id} 1 extra", user=users.member)  # within capacity: 2.5 of 5
    assert "2.5 of 2 agreed days" in texts(sent)
    async with sessionmaker() as session:
        days = list(await session.scalars(select(SupportDay.days).order_by(SupportDay.id)))
        delivered = (await session.get(SupportDeployment, deployment.id)).days_delivered  # type: ignore[union-attr]
    assert days == [1.5, 1.0] and delivered == 2.5

    sent = await chat.send("/support", user=users.lead)
    assert "agreed" in texts(sent) and "2.5 of 2 days" in texts(sent)
    sent = await chat.send("/support", user=users.member)
    assert "2.5 of 5 days left" in texts(sent) and (
        f"Support finished: deployment {deployment.id}",
        f"ue:{deployment.id}",
    ) in buttons(sent)

    # The head cannot close it; Sam can; both get the impact check.
    sent = await chat.press(f"ue:{deployment.id}", user=users.lead)
    assert "not available" in alert(sent)
    head_before, sam_before = len(chat.to(users.lead)), len(chat.to(users.member))
    await chat.press(f"ue:{deployment.id}", user=users.member)
    check_head = chat.to(users.lead)[head_before:]
    check_sam = chat.to(users.member)[sam_before:]
    assert any("Would you recommend working with Ms Sam Okafor" in s.text for s in check_head)
    assert any("Would you recommend working with Ms Hana Reed" in s.text for s in check_sam)
    sent = await chat.press(f"ue:{deployment.id}", user=users.member)
    assert "already finished" in alert(sent)

    sent = await chat.press(f"ui:{deployment.id}:1", user=UNRELATED)
    assert "not available" in alert(sent)
    await chat.press(f"ui:{deployment.id}:1", user=users.lead)
    sent = await chat.send("Teachers now plan fractions together", user=users.lead)
    assert "kept for the partnership office" in texts(sent)
    await chat.press(f"ui:{deployment.id}:1", user=users.member)
    sent = await chat.press(f"ui:{deployment.id}:0", user=users.member)
    assert "already kept" in alert(sent)
    await chat.send("A confident team", user=users.member)
    async with sessionmaker() as session:
        answers = {(i.side, i.recommend, i.what_changed) for i in (await session.scalars(select(SupportImpact))).all()}
        request = await session.get(SupportRequest, request_id)
    assert answers == {("school", True, "Teachers now plan fractions together"), ("leader", True, "A confident team")}
    # The office reads the record, impact answers included; the head sees the days but not the answers.
    sent = await chat.press(f"uv:{deployment.id}", user=users.coordinator)
    assert "1.5 days — lesson study with Y5" in texts(sent)
    assert "Impact, the school: would recommend: yes; what changed: Teachers now plan fractions together" in texts(sent)
    sent = await chat.press(f"uv:{deployment.id}", user=users.lead)
    assert "lesson study with Y5" in texts(sent) and "Impact" not in texts(sent)
    assert request is not None and request.status == "closed" and request.brokered_at is not None


async def test_in_turn_decline_and_capacity(
    chat: ChatDriver, users: Users, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # Ten days are more than anyone has left: the system leader's accept is refused, clearly.
    request_id = await ask_for_support(chat, users, "Reasoning in KS2", days="10")
    await chat.press(f"uo:{request_id}", user=users.coordinator)
    sent = await chat.press(f"ut:{request_id}", user=users.coordinator)
    assert "I have asked Ms Sam Okafor" in texts(sent)
    async with sessionmaker() as session:
        first = (await session.scalars(select(SupportDeployment))).one()
    assert first.queue == [world.uma]
    sent = await chat.press(f"uq:a:{first.id}", user=users.member)
    assert "You have 5 days left this year and the school asked for 10" in alert(sent)

    # Sam declines: the bot asks the next (Uma, not on Telegram: the office gets her buttons).
    before = len(chat.to(users.coordinator))
    sent = await chat.press(f"uq:d:{first.id}", user=users.member)
    assert "Thank you for letting us know" in texts(sent)
    told = chat.to(users.coordinator)[before:]
    assert any("is not on Telegram" in s.text and "Uma Patel" in s.text for s in told)
    async with sessionmaker() as session:
        rows = (await session.scalars(select(SupportDeployment).order_by(SupportDeployment.id))).all()
    assert [(r.leader_person_id, r.status) for r in rows] == [(world.sam, "declined"), (world.uma, "asked")]
    # Uma has 3 days; the school asked for 10: the office's recorded answer is refused too, then declined.
    sent = await chat.press(f"uq:a:{rows[1].id}", user=users.coordinator)
    assert "You have 3 days left" in alert(sent)
    sent = await chat.press(f"uq:d:{rows[1].id}", user=users.coordinator)
    assert any("back on your /desk" in s.text for s in chat.to(users.coordinator)[-3:])
    async with sessionmaker() as session:
        assert (await session.get(SupportRequest, request_id)).status == "waiting"  # type: ignore[union-attr]

    # Nobody left to suggest: the office declines the request; the head is told.
    sent = await chat.press(f"uo:{request_id}", user=users.coordinator)
    assert "No system leader with days left" in texts(sent)
    head_before = len(chat.to(users.lead))
    await chat.press(f"ux:{request_id}", user=users.coordinator)
    assert any("cannot arrange support" in s.text for s in chat.to(users.lead)[head_before:])
    sent = await chat.press(f"ux:{request_id}", user=users.admin)
    assert "no longer open" in alert(sent)

    # Sam chooses what schools are given: her phone now, not her email.
    sent = await chat.send("/support share phone", user=users.member)
    assert "will be given your phone" in texts(sent)
    sent = await chat.send("/support share everything", user=users.member)
    assert "Usage" in texts(sent)
    async with sessionmaker() as session:
        offer = await session.get(SupportLeader, world.sam)
        assert offer is not None and (offer.share_email, offer.share_phone) == (False, True)

    # Sam raises her days herself; the office sets Uma's by id.
    sent = await chat.send("/edit capacity 12 days", user=users.member)
    assert "you offer 12 days of support a year" in texts(sent)
    sent = await chat.send("/edit capacity lots of days", user=users.member)
    assert "Nothing was changed" in texts(sent)
    sent = await chat.send(f"/support capacity {world.uma} 4", user=users.member)
    assert "Only the partnership office" in texts(sent)
    sent = await chat.send(f"/support capacity {world.uma} 4", user=users.coordinator)
    assert "offers 4 days a year" in texts(sent)
    async with sessionmaker() as session:
        assert (await session.get(SupportLeader, world.sam)).capacity_days == 12  # type: ignore[union-attr]
        assert (await session.get(SupportLeader, world.uma)).capacity_days == 4  # type: ignore[union-attr]

    # The head withdraws a new request; a second press changes nothing.
    second = await ask_for_support(chat, users, "Times tables", days="1")
    sent = await chat.press(f"uw:{second}", user=UNRELATED)
    assert "no longer open" in alert(sent)
    await chat.send("/support", user=users.lead)
    sent = await chat.press(f"uw:{second}", user=users.lead)
    assert "is withdrawn" in texts(sent)
    async with sessionmaker() as session:
        assert (await session.get(SupportRequest, second)).status == "withdrawn"  # type: ignore[union-attr]


async def test_two_presses_at_once_make_one_decision(
    chat: ChatDriver, users: Users, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker.begin() as session:
        (await session.get(SupportLeader, world.sam)).capacity_days = 100  # type: ignore[union-attr]
    for round_ in range(20):
        async with sessionmaker.begin() as session:
            request = await dp.create_request(
                session,
                requester_person_id=world.head,
                school_id=None,
                specialism="mathematics",
                phase="primary",
                context=f"round {round_}",
                urgency="soon",
                days_wanted=1,
                actor_id=users.lead,
            )
            deployment = await dp.ask(session, request.id, world.sam, users.coordinator)
            deployment_id = deployment.id
        await chat.send("/support", user=users.member)  # a message for the presses to sit on
        before = len(chat.sent)
        first, second = ("uq:a", "uq:d") if round_ % 2 else ("uq:d", "uq:a")
        await asyncio.gather(
            chat.app.process_update(chat.factory.press(f"{first}:{deployment_id}", users.member)),
            chat.app.process_update(chat.factory.press(f"{second}:{deployment_id}", users.member)),
        )
        answers = [str(s.params.get("text", "")) for s in chat.sent[before:] if s.method == "answerCallbackQuery"]
        assert sorted(answers) == ["Thank you", "This request has already been answered."], answers
        async with sessionmaker() as session:
            status = (await session.get(SupportDeployment, deployment_id)).status  # type: ignore[union-attr]
            request_status = (await session.get(SupportRequest, request.id)).status  # type: ignore[union-attr]
            rows = await session.scalar(
                select(func.count()).select_from(SupportDeployment).where(SupportDeployment.request_id == request.id)
            )
        intros = [s for s in chat.sent[before:] if f"Support agreed: deployment {deployment_id}" in s.text]
        assert status in ("accepted", "declined") and rows == 1
        assert len(intros) == (2 if status == "accepted" else 0)  # the head and Sam, once each
        assert request_status == ("agreed" if status == "accepted" else "waiting")


async def test_erasure_removes_every_support_row_of_the_person(
    chat: ChatDriver, users: Users, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Every support row is keyed by person ids: erasing the head (storage/erasure.py) takes their requests,
    the deployments for them, the days logged and the impact answers; the system leader's offer stays."""
    from storage.erasure import erase_ids

    request_id = await ask_for_support(chat, users, "Hana Reed's fractions plan")
    await chat.press(f"uc:{request_id}:{world.sam}", user=users.coordinator)
    async with sessionmaker() as session:
        deployment_id = (await session.scalars(select(SupportDeployment.id))).one()
    await chat.press(f"uq:a:{deployment_id}", user=users.member)
    await chat.send(f"/days {deployment_id} 1 with Hana Reed", user=users.member)
    await chat.press(f"ue:{deployment_id}", user=users.member)
    await chat.press(f"ui:{deployment_id}:1", user=users.lead)
    async with sessionmaker.begin() as session:
        head = await session.get(Person, world.head)
        await erase_ids(session, world.head, head, [users.lead], users.admin)
    async with sessionmaker() as session:
        for model in (SupportRequest, SupportDeployment, SupportDay, SupportImpact):
            assert (await session.scalar(select(func.count()).select_from(model))) == 0, model.__tablename__
        assert await session.get(SupportLeader, world.sam) is not None


async def test_forged_buttons_and_hostile_input_change_nothing(
    chat: ChatDriver, users: Users, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    request_id = await ask_for_support(chat, users, "<b>bold</b> & <script>x</script>")
    async with sessionmaker() as session:
        before = (await session.get(SupportRequest, request_id)).context  # type: ignore[union-attr]
    assert before == "<b>bold</b> & <script>x</script>"  # kept as typed; every reply escapes it (harness checks HTML)
    sent = await chat.press(f"uo:{request_id}", user=users.coordinator)
    assert "Need: &lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;" in texts(sent)
    for data, who in (
        ("uc:1", users.coordinator),
        (f"uc:{request_id}:999999", users.coordinator),
        ("uc:x:y", users.coordinator),
        ("uq:z:1", users.member),
        ("uq:a:999999", users.member),
        ("uq:a", users.member),
        ("ui:1:7", users.lead),
        ("ui:999999:1", users.lead),
        ("ue:999999", users.member),
        ("uv:abc", users.member),
        ("uu:q", users.lead),
        ("uy:7", users.lead),
        ("uy:2", users.lead),  # no draft any more
        ("ux:999999", users.coordinator),
        ("uw:999999", users.lead),
        ("ua:999999", users.lead),
    ):
        sent = await chat.press(data, user=who)
        assert sent and sent[0].method == "answerCallbackQuery", data
        assert "Traceback" not in texts(sent)
    for text in (
        "/days 1 1e400",
        "/days 1 nan",
        "/days 1 -2",
        "/days 99999999999999999999 1",
        "/support capacity 1 nan",
        f"/support capacity {world.sam} 1e999",
        "/support capacity abc 3",
    ):
        for who in (users.member, users.coordinator):
            sent = await chat.send(text, user=who)
            assert sent and "Logged" not in texts(sent) and "Saved" not in texts(sent), (text, texts(sent))
    async with sessionmaker() as session:
        assert (await session.scalar(select(func.count()).select_from(SupportRequest))) == 1
        assert (await session.scalar(select(func.count()).select_from(SupportDeployment))) == 0
        assert (await session.scalar(select(func.count()).select_from(SupportDay))) == 0
        assert (await session.get(SupportLeader, world.sam)).capacity_days == 5  # type: ignore[union-attr]
        assert (await session.get(SupportRequest, request_id)).status == "waiting"  # type: ignore[union-attr]


async def test_two_coordinators_confirming_at_once_ask_one_leader(
    chat: ChatDriver, users: Users, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker.begin() as session:
        (await session.get(SupportLeader, world.sam)).capacity_days = 100  # type: ignore[union-attr]
        head = await session.get(Person, world.head)
        school_id = head.school_id  # type: ignore[union-attr]
    for round_ in range(20):
        async with sessionmaker.begin() as session:
            request = await dp.create_request(
                session,
                requester_person_id=world.head,
                school_id=school_id,
                specialism="mathematics",
                phase="primary",
                context=f"round {round_}",
                urgency="soon",
                days_wanted=1,
                actor_id=users.lead,
            )
            request_id = request.id
        before = len(chat.sent)
        await asyncio.gather(
            chat.app.process_update(chat.factory.press(f"uc:{request_id}:{world.sam}", users.coordinator)),
            chat.app.process_update(chat.factory.press(f"uc:{request_id}:{world.uma}", users.admin)),
        )
        answers = sorted(str(s.params.get("text", "")) for s in chat.sent[before:] if s.method == "answerCallbackQuery")
        assert len(answers) == 2 and answers[0] == "Asked", answers
        assert "no longer waiting" in answers[1] or "can no longer be suggested" in answers[1], answers
        async with sessionmaker() as session:
            asked = list(
                await session.scalars(select(SupportDeployment).where(SupportDeployment.request_id == request_id))
            )
        assert len(asked) == 1 and asked[0].status == "asked"
        async with sessionmaker.begin() as session:  # close the round: the office declines it
            await dp.office_decline(session, request_id, users.coordinator)
