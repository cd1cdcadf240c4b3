"""Two presses at once make one decision (issue 20, item 7), on SQLite and PostgreSQL, each race run
ROUNDS times: a coordinator confirming a buddy while another confirms a different one, two coordinators
answering for a buddy who is not on Telegram, both heads ending their pairing, both answering a check-in,
an author withdrawing twice, and a correction racing a withdrawal. Exactly one decision, one audit entry
and one message to the other party; the loser is told what happened."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory import appointments as ap
from directory import synthetic
from plans import progress
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.directory import Person
from storage.members import AuditEntry, Member
from storage.plans import ProgressUpdate
from tests.harness import ChatDriver, Users
from tests.plan_seed import seed_plan
from tests.presses import press_together, repeat
from tests.test_buddy_chat import NOW, START, fixed_clock  # noqa: F401 - the clock fixture, used by every test
from tests.test_concurrency import Author

ROUNDS = 20


async def audits(sessionmaker: async_sessionmaker[AsyncSession], actions: tuple[str, ...], entity_id: int) -> int:
    async with sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action.in_(actions), AuditEntry.entity_id == str(entity_id))
            )
            or 0
        )


async def link(sessionmaker: async_sessionmaker[AsyncSession], telegram_id: int, person_id: int | None) -> None:
    async with sessionmaker.begin() as session:
        (await session.get(Member, telegram_id)).person_id = person_id  # type: ignore[union-attr]


@dataclass
class Heads:
    school_ids: list[int]
    buddies: list[int]  # experienced heads with places, best first is not implied


@pytest.fixture
async def heads(app: object, sessionmaker: async_sessionmaker[AsyncSession]) -> Heads:
    directory = synthetic.make_directory(120, 90, seed=7, today=NOW.date())
    async with sessionmaker.begin() as session:
        school_map, _people = await synthetic.insert_directory(session, directory)
        for person in await session.scalars(select(Person).where(Person.is_head.is_(True))):
            person.mentor_capacity = max(person.mentor_capacity, 40)  # room for every round
        buddies = list(await session.scalars(select(Person.id).where(Person.is_head.is_(True)).order_by(Person.id)))
    return Heads(list(school_map.values()), buddies)


async def new_appointment(sessionmaker: async_sessionmaker[AsyncSession], heads: Heads, i: int) -> tuple[int, int]:
    """A new head (not yet in post) at one of the schools: (appointment id, new head's person id)."""
    async with sessionmaker.begin() as session:
        head = Person(first_name="Newhead", last_name=f"Round{i}", email=f"newhead{i}@example.org.uk")
        session.add(head)
        await session.flush()
        appointment = Appointment(
            person_id=head.id,
            school_id=heads.school_ids[i % len(heads.school_ids)],
            start_date=START,
            new_to_headship=True,
            needs=["send"],
            reporter_relation="office",
        )
        session.add(appointment)
        await session.flush()
        return appointment.id, head.id


async def requested(
    sessionmaker: async_sessionmaker[AsyncSession], appointment_id: int, buddy_id: int, status: str = "requested"
) -> int:
    async with sessionmaker.begin() as session:
        match = BuddyMatch(
            appointment_id=appointment_id,
            buddy_person_id=buddy_id,
            reasons=["test"],
            status=status,
            requested_at=NOW,
        )
        session.add(match)
        await session.flush()
        if status == "accepted":
            (await session.get(Appointment, appointment_id)).status = "matched"  # type: ignore[union-attr]
        return match.id


async def paired(sessionmaker: async_sessionmaker[AsyncSession], heads: Heads, users: Users, i: int) -> int:
    """An accepted pairing of a new head (users.lead's entry) and a buddy (users.member's); its id."""
    appointment_id, head_id = await new_appointment(sessionmaker, heads, i)
    buddy = heads.buddies[i % len(heads.buddies)]
    match_id = await requested(sessionmaker, appointment_id, buddy, status="accepted")
    await link(sessionmaker, users.lead, head_id)
    await link(sessionmaker, users.member, buddy)
    return match_id


def texts(calls: list, needle: str) -> int:
    return sum(1 for s in calls if s.text and needle in s.text)


# --- buddy decisions ------------------------------------------------------------------------------


async def test_two_coordinators_confirm_different_buddies_at_once(
    chat: ChatDriver, users: Users, heads: Heads, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """One presses Confirm on the first suggestion while the other confirms the second (even rounds) or
    presses "Let the bot ask" (odd rounds): one buddy is asked, once."""

    async def one_round(i: int) -> None:
        appointment_id, _head = await new_appointment(sessionmaker, heads, i)
        async with sessionmaker() as session:
            first, second = [s.person_id for s in await ap.propose(session, appointment_id, 2, today=NOW.date())]
        # One active account per person: both links are let go before either is made again.
        await link(sessionmaker, users.member, None)
        await link(sessionmaker, users.lead, None)
        await link(sessionmaker, users.member, first)
        await link(sessionmaker, users.lead, second)
        other = f"bc:{appointment_id}:{second}" if i % 2 == 0 else f"ba:{appointment_id}"
        result = await press_together(chat, [(f"bc:{appointment_id}:{first}", users.coordinator), (other, users.admin)])
        async with sessionmaker() as session:
            matches = list(await session.scalars(select(BuddyMatch).where(BuddyMatch.appointment_id == appointment_id)))
        assert len(matches) == 1 and matches[0].status == "requested", (i, [(m.status, m.id) for m in matches])
        assert await audits(sessionmaker, ("buddy.request",), matches[0].id) == 1
        asked = texts(result.to(users.member), "Would you be a buddy") + texts(
            result.to(users.lead), "Would you be a buddy"
        )
        assert asked == 1, i
        told = [a for a in result.alerts if a not in ("Asked", "")]  # the winner: "Asked" (bc) or silence (ba)
        assert len(result.alerts) == 2 and len(told) == 1 and "asked" in told[0], result.alerts
        # Ready for the next round: that buddy's request answered away.
        async with sessionmaker.begin() as session:
            (await session.get(BuddyMatch, matches[0].id)).status = "declined"  # type: ignore[union-attr]

    await repeat(ROUNDS, one_round)


async def test_two_coordinators_answer_for_an_offline_buddy_at_once(
    chat: ChatDriver, users: Users, heads: Heads, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await link(sessionmaker, users.member, None)

    async def one_round(i: int) -> None:
        appointment_id, head_id = await new_appointment(sessionmaker, heads, i)
        await link(sessionmaker, users.lead, head_id)  # the new head is on Telegram, the buddy is not
        buddy = heads.buddies[i % len(heads.buddies)]
        match_id = await requested(sessionmaker, appointment_id, buddy)
        second = "a" if i % 2 == 0 else "d"
        result = await press_together(
            chat, [(f"bq:a:{match_id}", users.coordinator), (f"bq:{second}:{match_id}", users.admin)]
        )
        async with sessionmaker() as session:
            match = await session.get(BuddyMatch, match_id)
            checkins = await session.scalar(
                select(func.count()).select_from(CheckIn).where(CheckIn.match_id == match_id)
            )
            asked = await session.scalar(
                select(func.count())
                .select_from(BuddyMatch)
                .where(BuddyMatch.appointment_id == appointment_id, BuddyMatch.status.in_(ap.ACTIVE))
            )
        assert match is not None and match.status in ("accepted", "declined")
        assert await audits(sessionmaker, ("buddy.accept", "buddy.decline"), match_id) == 1, i
        assert sum(a == "Thank you" for a in result.alerts) == 1, result.alerts
        assert any("already" in a for a in result.alerts), result.alerts
        met = texts(result.to(users.lead), "Meet your buddy")
        if match.status == "accepted":
            assert met == 1 and checkins == len(ap.checkin_dates(START, NOW.date())) and asked == 1
        else:
            assert met == 0 and checkins == 0 and asked <= 1  # one next buddy asked, not two

    await repeat(ROUNDS, one_round)


async def test_both_heads_end_their_pairing_at_once(
    chat: ChatDriver, users: Users, heads: Heads, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async def one_round(i: int) -> None:
        match_id = await paired(sessionmaker, heads, users, i)
        result = await press_together(chat, [(f"bey:{match_id}", users.lead), (f"bey:{match_id}", users.member)])
        async with sessionmaker() as session:
            match = await session.get(BuddyMatch, match_id)
        assert match is not None and match.status == "ended"
        assert await audits(sessionmaker, ("buddy.end",), match_id) == 1, i
        assert texts(result.calls, "has ended your buddy pairing") == 1, i
        assert sum(a == "Ended" for a in result.alerts) == 1, result.alerts

    await repeat(ROUNDS, one_round)


async def test_both_heads_answer_a_check_in_at_once(
    chat: ChatDriver, users: Users, heads: Heads, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Not one decision but two answers: each is kept, neither overwrites the other."""

    async def one_round(i: int) -> None:
        match_id = await paired(sessionmaker, heads, users, i)
        async with sessionmaker.begin() as session:
            checkin = CheckIn(match_id=match_id, kind="two_weeks", due_date=START, sent_at=NOW)
            session.add(checkin)
            await session.flush()
            checkin_id = checkin.id
        await press_together(chat, [(f"bk:{checkin_id}:g", users.lead), (f"bk:{checkin_id}:s", users.member)])
        async with sessionmaker() as session:
            rows = list(await session.scalars(select(CheckIn).where(CheckIn.match_id == match_id)))
        assert sorted((r.responder_id, r.answer) for r in rows) == sorted(
            [(users.lead, "good"), (users.member, "struggling")]
        ), (i, [(r.responder_id, r.answer) for r in rows])

    await repeat(ROUNDS, one_round)


# --- progress updates -----------------------------------------------------------------------------


async def test_an_update_withdrawn_twice_at_once_is_withdrawn_once(
    chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The author presses Withdraw on two devices at the same moment (only the author may withdraw)."""
    seeded = await seed_plan(sessionmaker)

    async def one_round(i: int) -> None:
        async with sessionmaker.begin() as session:
            row = await progress.post_update(
                session, seeded.actions["1.1"], "G", f"round {i}", Author(users.lead, person_id=seeded.lead_person_id)
            )
            row_id = row.id
        result = await press_together(chat, [(f"upw:{row_id}", users.lead), (f"upw:{row_id}", users.lead)])
        async with sessionmaker() as session:
            withdrawals = list(
                await session.scalars(select(ProgressUpdate).where(ProgressUpdate.replaces_id == row_id))
            )
        assert len(withdrawals) == 1, i
        assert await audits(sessionmaker, ("progress.withdrawal",), withdrawals[0].id) == 1
        assert sum(a == "Withdrawn" for a in result.alerts) == 1, result.alerts
        assert any("already been corrected or withdrawn" in a for a in result.alerts), result.alerts

    await repeat(ROUNDS, one_round)


async def test_a_correction_and_a_withdrawal_at_once_replace_the_update_once(
    sessionmaker: async_sessionmaker[AsyncSession], users: Users
) -> None:
    seeded = await seed_plan(sessionmaker)
    author = Author(users.lead, person_id=seeded.lead_person_id)

    async def one_round(i: int) -> None:
        async with sessionmaker.begin() as session:
            row_id = (await progress.post_update(session, seeded.actions["1.1"], "G", f"round {i}", author)).id

        async def correct() -> str:
            try:
                async with sessionmaker.begin() as session:
                    await progress.correct_update(session, row_id, author, "A", "corrected")
                return "corrected"
            except progress.ProgressError as exc:
                return exc.kind

        async def withdraw() -> str:
            try:
                async with sessionmaker.begin() as session:
                    await progress.withdraw_update(session, row_id, author)
                return "withdrawn"
            except progress.ProgressError as exc:
                return exc.kind

        outcomes = await asyncio.gather(correct(), withdraw())
        async with sessionmaker() as session:
            replacing = await session.scalar(
                select(func.count()).select_from(ProgressUpdate).where(ProgressUpdate.replaces_id == row_id)
            )
        assert replacing == 1 and sorted(outcomes).count("replaced") == 1, (i, outcomes)

    await repeat(ROUNDS, one_round)
