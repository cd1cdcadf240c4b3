"""Appointments and pairings in the database: register, suggest, request, accept, decline, end, check-ins."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory import appointments as ap
from directory import succession, synthetic
from directory.matching import score
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.directory import Person, School
from storage.members import AuditEntry
from tests.harness import frozen_clock

TODAY = dt.date(2025, 7, 1)
START = dt.date(2025, 9, 1)


@pytest.fixture(autouse=True)
def fixed_clock() -> object:
    with frozen_clock(dt.datetime(2025, 7, 1, 9, 0, tzinfo=dt.timezone.utc)):
        yield


async def load(
    sessionmaker: async_sessionmaker[AsyncSession], people: int = 320, schools: int = 260, seed: int = 21
) -> tuple[synthetic.Directory, dict[int, int], dict[int, int]]:
    directory = synthetic.make_directory(people, schools, seed=seed, today=TODAY)
    async with sessionmaker.begin() as session:
        school_ids, person_ids = await synthetic.insert_directory(session, directory)
    return directory, school_ids, person_ids


async def audits(session: AsyncSession, action: str) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)))


async def register(session: AsyncSession, school_id: int | None, **kw: object) -> ap.Registration:
    values: dict[str, object] = dict(
        actor_id=1001,
        first_name="Priya",
        last_name="Okafor",
        start_date=START,
        school_id=school_id,
        needs=["send", "pupil premium"],
        relation="school",
    )
    values.update(kw)
    return await ap.register_appointment(session, **values)  # type: ignore[arg-type]


async def test_register_adds_the_new_head_and_updates_on_a_second_report(sessionmaker) -> None:
    _d, school_ids, _p = await load(sessionmaker)
    school_id = school_ids[5]
    async with sessionmaker.begin() as session:
        first = await register(session, school_id)
        assert first.created
        # Starting in September: until then the new head holds no post (directory/succession.py).
        assert not first.person.is_head and first.person.school_id is None
        assert first.appointment.took_effect is None
        assert first.appointment.status == "open" and first.appointment.needs == ["send", "pupil premium"]
        assert first.appointment.reporter_relation == "school" and first.appointment.reported_by == 1001
    async with sessionmaker.begin() as session:
        # The trust reports the same appointment with a corrected date: one person, one appointment.
        second = await register(
            session,
            school_id,
            start_date=dt.date(2025, 9, 3),
            first_name=" priya ",
            last_name="OKAFOR",
            relation="trust",
            new_to_area=True,
        )
        assert not second.created
        assert second.appointment.id == first.appointment.id and second.person.id == first.person.id
        assert second.appointment.start_date == dt.date(2025, 9, 3) and second.appointment.new_to_area
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Appointment)) == 1
        assert await session.scalar(select(func.count()).select_from(Person).where(Person.last_name == "Okafor")) == 1
        assert await audits(session, "appointment.create") == 1
        assert await audits(session, "appointment.update") == 1
        assert await audits(session, "person.create") == 1
    async with sessionmaker.begin() as session:
        outgoing = await succession.current_heads(session, school_id)
        assert len(outgoing) == 1
        handovers = await succession.apply_due(session, dt.date(2025, 9, 3))
        assert [h.head.id for h in handovers] == [first.person.id]
        assert [p.id for p in handovers[0].outgoing] == [outgoing[0].id]
    async with sessionmaker() as session:
        head = await session.get(Person, first.person.id)
        assert head.is_head and head.school_id == school_id and head.headship_start == dt.date(2025, 9, 3)
        old = await session.get(Person, outgoing[0].id)
        assert old.status == "former" and not old.is_head and old.left_on == dt.date(2025, 9, 3)
        assert await audits(session, "person.former_head") == 1


async def test_register_promotes_an_existing_deputy_and_can_add_a_new_school(sessionmaker) -> None:
    directory, school_ids, person_ids = await load(sessionmaker)
    deputy = next(p for p in directory.people if not p.is_head)
    async with sessionmaker.begin() as session:
        reg = await register(
            session,
            school_ids[deputy.school_id],
            first_name=deputy.first_name,
            last_name=deputy.last_name,
            start_date=TODAY,
        )
        assert reg.person.id == person_ids[deputy.id]
        assert reg.person.is_head and reg.person.job_title == "Headteacher"
    async with sessionmaker.begin() as session:
        reg = await register(session, None, first_name="Tom", last_name="Baines", new_school_name="Castle Free School")
        school = await session.get(School, reg.appointment.school_id)
        assert school is not None and school.name == "Castle Free School"
        assert await audits(session, "school.create") == 1
        assert await audits(session, "appointment.effective") == 1  # the deputy's post changed today


async def test_candidates_are_built_in_bulk_from_the_directory(sessionmaker) -> None:
    directory, _s, person_ids = await load(sessionmaker)
    async with sessionmaker() as session:
        cands = await ap.candidates_for(session, TODAY)
    assert len(cands) == len(directory.heads) == 260
    by_id = {c.person_id: c for c in cands}
    for record in directory.heads:
        c = by_id[person_ids[record.id]]
        assert set(c.strengths) == set(record.specialisms)
        assert c.capacity == record.mentor_capacity and c.open_matches == 0
        assert c.years_headship == pytest.approx((TODAY - record.headship_start).days / 365.25)
        assert c.available == (record.buddy_status == "available")
        school = directory.school_by_id[record.school_id]
        assert (c.phase, c.locality, c.local_authority, c.trust) == (
            school.phase,
            school.locality,
            school.local_authority,
            school.trust,
        )


async def test_request_accept_and_check_ins(sessionmaker) -> None:
    _d, school_ids, _p = await load(sessionmaker)
    async with sessionmaker.begin() as session:
        reg = await register(session, school_ids[3])
        top = await ap.propose(session, reg.appointment.id, k=3, today=TODAY)
        assert len(top) == 3 and top[0].total >= top[1].total >= top[2].total
        match = await ap.request_buddy(session, reg.appointment.id, top[0].person_id, 1003, today=TODAY)
        assert match.status == "requested" and match.reasons == list(top[0].reasons)
        with pytest.raises(ap.MatchError):  # one request at a time
            await ap.request_buddy(session, reg.appointment.id, top[1].person_id, 1003, today=TODAY)
        match_id, buddy_id = match.id, top[0].person_id
    async with sessionmaker() as session:
        cands = {c.person_id: c for c in await ap.candidates_for(session, TODAY)}
        assert cands[buddy_id].open_matches == 1  # the place is held while the buddy decides
    async with sessionmaker.begin() as session:
        accepted = await ap.accept(session, match_id, 7001)
        assert accepted.status == "accepted" and accepted.appointment.status == "matched"
        with pytest.raises(ap.MatchError):
            await ap.accept(session, match_id, 7001)
    async with sessionmaker() as session:
        checkins = (
            await session.scalars(select(CheckIn).where(CheckIn.match_id == match_id).order_by(CheckIn.due_date))
        ).all()
        assert [(c.kind, c.due_date) for c in checkins] == [
            ("two_weeks", dt.date(2025, 9, 15)),
            ("half_term", dt.date(2025, 10, 24)),
            ("hundred_days", dt.date(2025, 12, 10)),
        ]
        assert await ap.due_checkins(session, dt.date(2025, 9, 14)) == []
        due = await ap.due_checkins(session, dt.date(2025, 9, 15))
        assert [c.kind for c in due] == ["two_weeks"]
        assert await audits(session, "buddy.request") == 1 and await audits(session, "buddy.accept") == 1


async def test_declines_move_to_the_next_candidate_and_are_never_repeated(sessionmaker) -> None:
    _d, school_ids, _p = await load(sessionmaker)
    async with sessionmaker.begin() as session:
        reg = await register(session, school_ids[8])
        ranked = [s.person_id for s in await ap.propose(session, reg.appointment.id, k=4, today=TODAY)]
        first = await ap.request_next(session, reg.appointment.id, 1003, today=TODAY)
        assert first is not None and first.buddy_person_id == ranked[0]
        appointment_id, head_id = reg.appointment.id, reg.person.id
    asked = [first.buddy_person_id]
    match_id = first.id
    for step in range(3):
        async with sessionmaker.begin() as session:
            declined, following = await ap.decline(session, match_id, 7000 + step, today=TODAY)
            assert declined.status == "declined"
            assert following is not None and following.status == "requested"
            assert following.buddy_person_id not in asked
            assert following.buddy_person_id == ranked[step + 1]  # the next suggestion, in order
            asked.append(following.buddy_person_id)
            match_id = following.id
    async with sessionmaker() as session:
        cands = await ap.candidates_for(session, TODAY)
        decliners = [c for c in cands if head_id in c.declined_with]
        assert sorted(c.person_id for c in decliners) == sorted(asked[:3])
        # Those who declined are not suggested again, even for a later appointment of the same head.
        head = await ap.newhead_for(session, await session.get(Appointment, appointment_id))
        assert not any(score(head, c).eligible for c in decliners)
        statuses = Counter((await session.scalars(select(BuddyMatch.status))).all())
        assert statuses == {"declined": 3, "requested": 1}
        assert await audits(session, "buddy.decline") == 3


async def test_when_nobody_is_left_decline_says_so(sessionmaker) -> None:
    async with sessionmaker.begin() as session:
        s1, s2 = School(name="A Primary", phase="primary"), School(name="B Primary", phase="primary")
        session.add_all([s1, s2])
        await session.flush()
        buddy = Person(
            first_name="Ann",
            last_name="Lee",
            is_head=True,
            school_id=s1.id,
            mentor_capacity=1,
            headship_start=dt.date(2015, 9, 1),
        )
        session.add(buddy)
        await session.flush()
        reg = await register(session, s2.id)
        match = await ap.request_next(session, reg.appointment.id, None, today=TODAY)
        assert match is not None and match.buddy_person_id == buddy.id
        _declined, following = await ap.decline(session, match.id, 5, today=TODAY)
        assert following is None
        assert (await session.get(Appointment, reg.appointment.id)).status == "open"


async def test_end_pairing_reopens_an_early_appointment(sessionmaker) -> None:
    _d, school_ids, _p = await load(sessionmaker)
    async with sessionmaker.begin() as session:
        reg = await register(session, school_ids[2])
        match = await ap.request_next(session, reg.appointment.id, None, today=TODAY)
        await ap.accept(session, match.id, 1)
        ended = await ap.end_pairing(session, match.id, 42, reason="moved away", today=dt.date(2025, 9, 20))
        assert ended.status == "ended" and ended.ended_by == 42 and ended.end_reason == "moved away"
        assert ended.appointment.status == "open"
        with pytest.raises(ap.MatchError):
            await ap.end_pairing(session, match.id, 42)
        assert [a.id for a in await ap.open_appointments(session)] == [reg.appointment.id]
        assert await audits(session, "buddy.end") == 1


async def test_check_in_answers_from_both_parties_are_kept(sessionmaker) -> None:
    _d, school_ids, _p = await load(sessionmaker)
    async with sessionmaker.begin() as session:
        reg = await register(session, school_ids[4])
        match = await ap.request_next(session, reg.appointment.id, None, today=TODAY)
        await ap.accept(session, match.id, 1)
        checkin = (await ap.due_checkins(session, dt.date(2025, 9, 15)))[0]
        a = await ap.answer_checkin(session, checkin.id, 111, "good")
        b = await ap.answer_checkin(session, checkin.id, 222, "struggling", "Budget worries")
        again = await ap.answer_checkin(session, checkin.id, 111, "mixed")
        assert a.id == checkin.id == again.id and b.id != a.id
        await ap.comment_checkin(session, a.id, 111, "Staffing is hard")
        with pytest.raises(ap.MatchError):
            await ap.comment_checkin(session, a.id, 222, "not mine")
        rows = (await session.scalars(select(CheckIn).where(CheckIn.kind == "two_weeks"))).all()
        assert sorted((r.responder_id, r.answer, r.comment) for r in rows) == [
            (111, "mixed", "Staffing is hard"),
            (222, "struggling", "Budget worries"),
        ]
        with pytest.raises(ValueError):
            await ap.answer_checkin(session, checkin.id, 111, "<b>bad</b>")


async def test_opt_out_and_pause_for_the_term(sessionmaker) -> None:
    async with sessionmaker.begin() as session:
        school = School(name="C Primary", phase="primary")
        session.add(school)
        await session.flush()
        head = Person(
            first_name="Bo",
            last_name="Ray",
            is_head=True,
            school_id=school.id,
            mentor_capacity=2,
            headship_start=dt.date(2010, 1, 1),
        )
        session.add(head)
        await session.flush()
        autumn = dt.date(2025, 10, 6)
        person = await ap.set_buddy_status(session, head.id, "paused", 1001, today=autumn)
        assert person.buddy_paused_until == dt.date(2025, 12, 31)
        assert not (await ap.candidates_for(session, autumn))[0].available
        assert (await ap.candidates_for(session, dt.date(2026, 1, 5)))[0].available  # next term
        await ap.set_buddy_status(session, head.id, "opted_out", 1001, today=autumn)
        assert not (await ap.candidates_for(session, dt.date(2027, 1, 5)))[0].available
        await ap.set_buddy_status(session, head.id, "available", 1001, today=autumn)
        assert (await ap.candidates_for(session, autumn))[0].available
        assert await audits(session, "person.buddy_status") == 3


def test_half_term_and_check_in_dates() -> None:
    assert ap.half_term_end(dt.date(2025, 9, 1)) == dt.date(2025, 10, 24)
    assert ap.half_term_end(dt.date(2026, 9, 1)) == dt.date(2026, 10, 23)
    assert ap.half_term_end(dt.date(2026, 1, 5)) == dt.date(2026, 2, 16)
    assert ap.half_term_end(dt.date(2026, 4, 20)) == dt.date(2026, 6, 1)
    # Accepted late: moments already past are skipped; 100 days always stays.
    late = ap.checkin_dates(dt.date(2025, 9, 1), dt.date(2025, 10, 20))
    assert late == [("hundred_days", dt.date(2025, 12, 10))]
    very_late = ap.checkin_dates(dt.date(2025, 9, 1), dt.date(2026, 1, 10))
    assert very_late == [("hundred_days", dt.date(2026, 1, 24))]


async def test_term_plan_respects_capacity_and_sends_requests(sessionmaker) -> None:
    directory, school_ids, _p = await load(sessionmaker, people=400, schools=300, seed=5)
    new_schools = [s.id for s in directory.schools[:40]]
    async with sessionmaker.begin() as session:
        for i, sid in enumerate(new_schools):
            await register(
                session,
                school_ids[sid],
                first_name=f"New{i}",
                last_name="Head",
                needs=[synthetic.SPECIALISMS[i % len(synthetic.SPECIALISMS)]],
            )
        term = await ap.plan_term(session, today=TODAY)
        assert len(term.heads) == 40
        assert len(term.plan.pairs) == 40
        assert term.plan.total >= term.greedy.total - 1e-6
        free = {c.person_id: c.free for c in term.candidates}
        assert all(n <= free[pid] for pid, n in term.plan.load().items())
        for pair in term.plan.pairs:
            assert term.scored[pair.appointment_id].total == pytest.approx(pair.score)
        sent, skipped = await ap.send_plan(session, term.plan, 1003, today=TODAY)
        assert len(sent) == 40 and skipped == []
        # Sent again, every pairing is refused (each head already has a request).
        again, skipped = await ap.send_plan(session, term.plan, 1003, today=TODAY)
        assert again == [] and len(skipped) == 40
        assert await ap.open_appointments(session) == []
    async with sessionmaker() as session:
        cands = await ap.candidates_for(session, TODAY)
        assert all(c.open_matches <= c.capacity for c in cands)
        assert sum(c.open_matches for c in cands) == 40


async def test_match_command_line(db_url: str, sessionmaker, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from directory import match_cli

    directory, school_ids, _p = await load(sessionmaker, people=300, schools=240, seed=8)
    async with sessionmaker.begin() as session:
        for i, s in enumerate(directory.schools[:6]):
            await register(session, school_ids[s.id], first_name=f"Cli{i}", last_name="Head")
    parser = argparse.ArgumentParser()
    match_cli.add_commands(parser.add_subparsers())
    args = parser.parse_args(["match", "--term", "--json"])
    assert args.func is match_cli.cmd_match and args.json and not args.send

    result = await match_cli.run_match(db_url)
    assert result["open_appointments"] == 6 and len(result["pairs"]) == 6
    assert result["total"] >= result["greedy"]["total"]
    assert all(row["reasons"] for row in result["pairs"]) and result["sent"] == 0
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(BuddyMatch)) == 0  # nothing without --send
    result = await match_cli.run_match(db_url, send=True)
    assert result["sent"] == 6
    async with sessionmaker() as session:
        queued = await ap.undelivered_requests(session)
        assert len(queued) == 6  # the bot asks them (handlers.buddy.deliver_queued)
        assert await ap.open_appointments(session) == []
