"""New-head appointments and buddy pairings in the database.

Query helpers take a session and never open one; every change is audited. The matcher itself
(directory.matching) is pure; this module turns rows into its records and its answers into rows.

Life of a pairing (BuddyMatch.status):  requested -> accepted -> ended
                                                  -> declined (the next suggestion is requested at once)
A buddy's places are used by pairings that are requested or accepted. An appointment is `open` until a
buddy accepts (`matched`); a pairing ended within the first 100 days reopens it, later closes it.

Check-ins (one row per moment, a second row when the other party answers too): two weeks after the start,
at the end of the first half-term (the Friday before the last Monday of October for a September start,
else six weeks after the start) and at 100 days. Moments already past when the buddy accepts are skipped,
except the 100-day one, which is then set a fortnight after the acceptance.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core import clock
from core.i18n import N_, _
from core.settings import Settings
from directory import succession
from directory.matching import Assignment, Candidate, NewHead, Rules, Scored, assign, assign_greedy, score, suggest
from storage import audit
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.decisions import decide
from storage.directory import Person, School, Specialism, person_specialism
from storage.members import Member
from storage.members import coordinator_ids as coordinator_ids  # the buddy handlers ask for it here

ACTIVE = ("requested", "accepted")  # pairings that use a buddy's place
RELATIONS = ("self", "school", "trust", "office")
ANSWERS = ("good", "mixed", "struggling")
CHECKIN_KINDS = ("two_weeks", "half_term", "hundred_days")
MAX_COMMENT = 2000


class MatchError(Exception):
    """A change that cannot be made; the message is in plain words, already translated."""


class AlreadyAsked(MatchError):
    """Two buddies asked for one head at once: this one lost. Its transaction cannot go on: let it end."""


def rules_from(settings: Settings | None = None) -> Rules:
    """Matching rules, with the minimum years in headship from settings (BUDDY_MIN_YEARS)."""
    return Rules(min_years=float(settings.buddy_min_years)) if settings is not None else Rules()


def local_today() -> dt.date:
    from core.terms import today

    return today()


def years_between(start: dt.date | None, today: dt.date) -> float | None:
    return None if start is None else max(0.0, (today - start).days / 365.25)


def is_available(person: Person, today: dt.date) -> bool:
    if person.buddy_status == "opted_out":
        return False
    if person.buddy_status == "paused":
        return person.buddy_paused_until is not None and person.buddy_paused_until < today
    return True


# --------------------------------------------------------------------------------------------- register


@dataclass
class Registration:
    appointment: Appointment
    person: Person
    created: bool  # False: an existing appointment was updated


async def register_appointment(
    session: AsyncSession,
    *,
    actor_id: int | None,
    first_name: str,
    last_name: str,
    start_date: dt.date,
    school_id: int | None = None,
    new_school_name: str | None = None,
    title: str | None = None,
    person_id: int | None = None,
    new_to_headship: bool = True,
    new_to_area: bool = False,
    new_to_trust: bool = False,
    new_to_phase: bool = False,
    needs: Sequence[str] = (),
    relation: str = "self",
    notes: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> Registration:
    """Add or update the new head in the directory and store (or update) their appointment."""
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {RELATIONS}")
    first_name, last_name = " ".join(first_name.split())[:100], " ".join(last_name.split())[:100]
    if not (first_name or last_name):
        raise MatchError(_("The new head needs a name."))
    school: School | None = None
    if school_id is not None:
        school = await session.get(School, school_id)
        if school is None:
            raise MatchError(_("That school is no longer in the directory."))
    elif new_school_name and new_school_name.strip():
        school = School(name=" ".join(new_school_name.split())[:200], updated_by=actor_id)
        session.add(school)
        await session.flush()
        audit.record(session, actor_id, "school.create", "school", school.id, name=school.name, source="newhead")

    person: Person | None = await session.get(Person, person_id) if person_id is not None else None
    if person is None:
        # Case is compared here, not in SQL: SQLite's lower() leaves non-ASCII letters ("É") as they are.
        rows = [
            p
            for p in (
                await session.scalars(
                    select(Person)
                    .where(
                        func.length(Person.first_name) == len(first_name),
                        func.length(Person.last_name) == len(last_name),
                    )
                    .order_by(Person.id)
                )
            ).all()
            if (p.first_name or "").lower() == first_name.lower() and (p.last_name or "").lower() == last_name.lower()
        ]
        same_school = [p for p in rows if school is not None and p.school_id == school.id]
        unplaced = [p for p in rows if p.school_id is None]
        # The same name at the school, or the only such name not placed at any school: the same person.
        # The same name elsewhere may be someone else, so a new entry is made (a coordinator can merge).
        person = same_school[0] if same_school else (unplaced[0] if len(unplaced) == 1 else None)
    created_person = person is None
    if person is None:
        person = Person(first_name=first_name, last_name=last_name, title=title or None)
        session.add(person)
    if email and not person.email:
        person.email = email.strip()[:200]
    if phone and not person.phone:
        person.phone = phone.strip()[:40]
    person.updated_by = actor_id
    await session.flush()
    if created_person:
        audit.record(session, actor_id, "person.create", "person", person.id, name=person.full_name, source="newhead")
    # The post itself changes on the start date (directory/succession.py): at once when that is today or
    # past, else by the daily job. Until then the person keeps their post.
    today = local_today()

    existing = (
        await session.scalars(
            select(Appointment)
            .where(Appointment.person_id == person.id, Appointment.status.in_(("open", "matched")))
            .order_by(Appointment.id.desc())
        )
    ).first()
    school_id = school.id if school else (existing.school_id if existing else person.school_id)
    values: dict[str, Any] = dict(
        school_id=school_id,
        start_date=start_date,
        new_to_headship=new_to_headship,
        new_to_area=new_to_area,
        new_to_trust=new_to_trust,
        new_to_phase=new_to_phase,
        needs=list(dict.fromkeys(needs)),
        notes=(notes or None) and notes[:MAX_COMMENT],
    )
    if existing is not None:
        changes = {k: [getattr(existing, k), v] for k, v in values.items() if getattr(existing, k) != v}
        for key, value in values.items():
            setattr(existing, key, value)
        existing.updated_by = actor_id
        if existing.took_effect is not None and "school_id" in changes:
            existing.took_effect = None  # a corrected school: the post changes there instead
        await session.flush()
        audit.record(
            session,
            actor_id,
            "appointment.update",
            "appointment",
            existing.id,
            changes=changes,
            reported_by=actor_id,
            relation=relation,
        )
        if existing.took_effect is None and existing.start_date <= today:
            await succession.take_effect(session, existing, today, actor_id)
        return Registration(existing, person, False)
    appointment = Appointment(
        person_id=person.id,
        reported_by=actor_id,
        reporter_relation=relation,
        status="open",
        updated_by=actor_id,
        **values,
    )
    session.add(appointment)
    await session.flush()
    audit.record(
        session,
        actor_id,
        "appointment.create",
        "appointment",
        appointment.id,
        person_id=person.id,
        relation=relation,
        **values,
    )
    if start_date <= today:
        await succession.take_effect(session, appointment, today, actor_id)
    return Registration(appointment, person, True)


# --------------------------------------------------------------------------------------------- records


async def candidates_for(
    session: AsyncSession, today: dt.date, person_ids: Sequence[int] | None = None
) -> list[Candidate]:
    """Every head in the directory (or those in `person_ids`) as a matcher Candidate, in four queries."""
    query = select(Person, School).outerjoin(School, Person.school_id == School.id).where(Person.is_head.is_(True))
    if person_ids is not None:
        query = query.where(Person.id.in_(list(person_ids)))
    rows = (await session.execute(query.order_by(Person.id))).all()
    if not rows:
        return []
    strengths: dict[int, list[str]] = defaultdict(list)
    for pid, name in (
        await session.execute(
            select(person_specialism.c.person_id, Specialism.name)
            .join(Specialism, Specialism.id == person_specialism.c.specialism_id)
            .join(Person, Person.id == person_specialism.c.person_id)
            .where(Person.is_head.is_(True))
            .order_by(person_specialism.c.person_id, Specialism.name)
        )
    ).all():
        strengths[pid].append(name)
    open_counts: dict[int, int] = {
        buddy_id: count
        for buddy_id, count in (
            await session.execute(
                select(BuddyMatch.buddy_person_id, func.count())
                .where(BuddyMatch.status.in_(ACTIVE))
                .group_by(BuddyMatch.buddy_person_id)
            )
        ).all()
    }
    declined: dict[int, set[int]] = defaultdict(set)
    for buddy_id, head_id in (
        await session.execute(
            select(BuddyMatch.buddy_person_id, Appointment.person_id)
            .join(Appointment, Appointment.id == BuddyMatch.appointment_id)
            .where(BuddyMatch.status == "declined")
        )
    ).all():
        declined[buddy_id].add(head_id)
    out = []
    for person, school in rows:
        out.append(
            Candidate(
                person_id=person.id,
                name=person.full_name,
                school_id=person.school_id,
                phase=school.phase if school else None,
                school_type=school.school_type if school else None,
                pupils=school.pupils if school else None,
                locality=school.locality if school else None,
                local_authority=school.local_authority if school else None,
                easting=school.easting if school else None,
                northing=school.northing if school else None,
                years_headship=years_between(person.headship_start, today),
                strengths=tuple(strengths[person.id]),
                capacity=person.mentor_capacity or 0,
                open_matches=int(open_counts.get(person.id, 0)),
                declined_with=frozenset(declined[person.id]),
                available=is_available(person, today),
                trust=school.trust if school else None,
                designations=tuple(person.designation_list),
            )
        )
    return out


async def newhead_for(session: AsyncSession, appointment: Appointment) -> NewHead:
    person = await session.get(Person, appointment.person_id)
    school = await session.get(School, appointment.school_id) if appointment.school_id else None
    tried = (
        await session.scalars(select(BuddyMatch.buddy_person_id).where(BuddyMatch.appointment_id == appointment.id))
    ).all()
    return NewHead(
        appointment_id=appointment.id,
        person_id=appointment.person_id,
        school_id=appointment.school_id,
        phase=school.phase if school else None,
        school_type=school.school_type if school else None,
        pupils=school.pupils if school else None,
        locality=school.locality if school else None,
        local_authority=school.local_authority if school else None,
        easting=school.easting if school else None,
        northing=school.northing if school else None,
        needs=tuple(appointment.needs or ()),
        new_to_phase=appointment.new_to_phase,
        new_to_area=appointment.new_to_area,
        new_to_trust=appointment.new_to_trust,
        new_to_headship=appointment.new_to_headship,
        name=person.full_name if person else "",
        trust=school.trust if school else None,
        excluded=frozenset(tried),
    )


async def _appointment(session: AsyncSession, appointment_id: int) -> Appointment:
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None:
        raise MatchError(_("That appointment is no longer in the directory."))
    return appointment


async def active_match(session: AsyncSession, appointment_id: int) -> BuddyMatch | None:
    return (
        await session.scalars(
            select(BuddyMatch).where(BuddyMatch.appointment_id == appointment_id, BuddyMatch.status.in_(ACTIVE))
        )
    ).first()


async def propose(
    session: AsyncSession, appointment_id: int, k: int = 3, rules: Rules | None = None, today: dt.date | None = None
) -> list[Scored]:
    """The `k` best buddies for an appointment, best first (nothing is stored)."""
    today = today or local_today()
    appointment = await _appointment(session, appointment_id)
    head = await newhead_for(session, appointment)
    return suggest(head, await candidates_for(session, today), k, rules or Rules())


# --------------------------------------------------------------------------------------------- pairing


async def request_buddy(
    session: AsyncSession,
    appointment_id: int,
    buddy_person_id: int,
    actor_id: int | None,
    rules: Rules | None = None,
    today: dt.date | None = None,
    queued: bool = False,
) -> BuddyMatch:
    """Ask a buddy: a `requested` pairing (the buddy's place is held until they answer).

    `queued` (the command line): requested_at stays empty until the bot delivers the request
    (see `undelivered_requests`); otherwise it is now, as the caller sends the request at once."""
    rules = rules or Rules()
    today = today or local_today()
    appointment = await _appointment(session, appointment_id)
    if appointment.status != "open":
        raise MatchError(_("This new head already has a buddy."))
    head = await newhead_for(session, appointment)
    found = await candidates_for(session, today, [buddy_person_id])
    # After reading the candidate, so a pairing asked a moment ago by another press is named as such
    # (the unique index, below, is what decides).
    current = await active_match(session, appointment_id)
    if current is not None:
        raise MatchError(_("A buddy has already been asked for this new head; wait for their answer."))
    if not found:
        raise MatchError(_("That person is not a head in the directory."))
    scored = score(head, found[0], rules)
    if not scored.eligible:
        raise MatchError(_("{name} cannot be asked: {why}.").format(name=found[0].name, why="; ".join(scored.blocked)))
    match = BuddyMatch(
        appointment_id=appointment_id,
        buddy_person_id=buddy_person_id,
        score=scored.total,
        reasons=list(scored.reasons),
        status="requested",
        requested_at=None if queued else clock.now(),
    )
    session.add(match)
    try:
        await session.flush()
    except IntegrityError as exc:
        # uq_buddy_match_active: another press asked a buddy for this head first. The transaction is spent;
        # the caller's session block ends with this error and the presser is told (nothing was written).
        raise AlreadyAsked(_("A buddy has just been asked for this new head by someone else.")) from exc
    audit.record(
        session,
        actor_id,
        "buddy.request",
        "buddy_match",
        match.id,
        appointment_id=appointment_id,
        buddy_person_id=buddy_person_id,
        score=round(scored.total, 2),
    )
    return match


async def request_next(
    session: AsyncSession,
    appointment_id: int,
    actor_id: int | None,
    rules: Rules | None = None,
    today: dt.date | None = None,
) -> BuddyMatch | None:
    """Ask the best buddy not tried yet; None when nobody suitable is left."""
    appointment = await _appointment(session, appointment_id)
    if appointment.status != "open" or await active_match(session, appointment_id) is not None:
        return None
    best = await propose(session, appointment_id, 1, rules, today)
    if not best:
        return None
    return await request_buddy(session, appointment_id, best[0].person_id, actor_id, rules, today)


async def get_match(session: AsyncSession, match_id: int, fresh: bool = False) -> BuddyMatch | None:
    """The pairing with its people and schools; `fresh` reloads what the session already holds."""
    return (
        await session.scalars(
            select(BuddyMatch)
            .where(BuddyMatch.id == match_id)
            .execution_options(populate_existing=fresh)
            .options(
                selectinload(BuddyMatch.appointment).selectinload(Appointment.person),
                selectinload(BuddyMatch.appointment).selectinload(Appointment.school),
                selectinload(BuddyMatch.buddy).selectinload(Person.school),
            )
        )
    ).first()


DECIDED = {
    "accepted": N_("This request has already been answered: the buddy accepted."),
    "declined": N_("This request has already been answered: the buddy declined."),
    "ended": N_("This request has already been answered, and the pairing has since ended."),
}


async def _lost(session: AsyncSession, match_id: int) -> MatchError:
    """What the press that lost a decision is told: what the row is now (the winner has committed)."""
    status = await session.scalar(select(BuddyMatch.status).where(BuddyMatch.id == match_id))
    if status is None:
        return MatchError(_("That request is no longer in the directory."))
    return MatchError(_(DECIDED.get(status, N_("This request has already been answered."))))


async def _answer(session: AsyncSession, match_id: int, status: str, **values: Any) -> BuddyMatch:
    """requested -> `status`, as one conditional write: of two answers at once only one changes the row."""
    if not await decide(session, BuddyMatch, match_id, BuddyMatch.status == "requested", status=status, **values):
        raise await _lost(session, match_id)
    match = await get_match(session, match_id, fresh=True)
    assert match is not None  # the row was just written in this transaction
    return match


async def accept(session: AsyncSession, match_id: int, actor_id: int | None) -> BuddyMatch:
    now = clock.now()
    match = await _answer(session, match_id, "accepted", decided_at=now)
    match.appointment.status = "matched"
    match.appointment.updated_by = actor_id
    decided = now.date()
    for kind, due in checkin_dates(match.appointment.start_date, decided):
        session.add(CheckIn(match_id=match.id, kind=kind, due_date=due))
    await session.flush()
    audit.record(session, actor_id, "buddy.accept", "buddy_match", match.id, appointment_id=match.appointment_id)
    return match


async def decline(
    session: AsyncSession,
    match_id: int,
    actor_id: int | None,
    reason: str | None = None,
    rules: Rules | None = None,
    today: dt.date | None = None,
) -> tuple[BuddyMatch, BuddyMatch | None]:
    """Record the decline, then ask the next suggestion. Returns (declined pairing, next pairing or None)."""
    match = await _answer(
        session, match_id, "declined", decided_at=clock.now(), end_reason=(reason or None) and reason[:MAX_COMMENT]
    )
    audit.record(session, actor_id, "buddy.decline", "buddy_match", match.id, appointment_id=match.appointment_id)
    following = await request_next(session, match.appointment_id, actor_id, rules, today)
    return match, following


async def end_pairing(
    session: AsyncSession, match_id: int, actor_id: int | None, reason: str | None = None, today: dt.date | None = None
) -> BuddyMatch:
    today = today or local_today()
    ended = await decide(
        session,
        BuddyMatch,
        match_id,
        BuddyMatch.status.in_(ACTIVE),
        status="ended",
        ended_at=clock.now(),
        ended_by=actor_id,
        end_reason=(reason or None) and reason[:MAX_COMMENT],
    )
    match = await get_match(session, match_id, fresh=True) if ended else None
    if match is None:
        now = await session.scalar(select(BuddyMatch.status).where(BuddyMatch.id == match_id))
        if now == "ended":  # the other head (or the office) ended it a moment ago
            raise MatchError(_("That pairing has already been ended."))
        raise MatchError(_("That pairing is not active."))
    appointment = match.appointment
    appointment.status = "open" if today < appointment.start_date + dt.timedelta(days=100) else "closed"
    appointment.updated_by = actor_id
    await session.flush()
    audit.record(
        session,
        actor_id,
        "buddy.end",
        "buddy_match",
        match.id,
        appointment_id=appointment.id,
        appointment_status=appointment.status,
        reason=match.end_reason,
    )
    return match


async def pairings_of(session: AsyncSession, person_id: int) -> list[BuddyMatch]:
    """Pairings a person is in, as buddy or as new head, newest first (declined ones left out)."""
    rows = await session.scalars(
        select(BuddyMatch)
        .join(Appointment)
        .where(
            (BuddyMatch.buddy_person_id == person_id) | (Appointment.person_id == person_id),
            BuddyMatch.status != "declined",
        )
        .order_by(BuddyMatch.id.desc())
        .options(
            selectinload(BuddyMatch.appointment).selectinload(Appointment.person),
            selectinload(BuddyMatch.appointment).selectinload(Appointment.school),
            selectinload(BuddyMatch.buddy).selectinload(Person.school),
        )
    )
    return list(rows)


# --------------------------------------------------------------------------------------------- check-ins


def half_term_end(start: dt.date) -> dt.date:
    """The end of the new head's first half-term."""
    if start.month in (8, 9) or (start.month == 10 and start.day <= 7):
        last_monday = dt.date(start.year, 10, 31)
        while last_monday.weekday() != 0:
            last_monday -= dt.timedelta(days=1)
        end = last_monday - dt.timedelta(days=3)  # the Friday before half-term week
        if end >= start + dt.timedelta(days=21):
            return end
    return start + dt.timedelta(weeks=6)


def checkin_dates(start: dt.date, accepted: dt.date) -> list[tuple[str, dt.date]]:
    planned = [
        ("two_weeks", start + dt.timedelta(days=14)),
        ("half_term", half_term_end(start)),
        ("hundred_days", start + dt.timedelta(days=100)),
    ]
    out = [(kind, due) for kind, due in planned if due >= accepted + dt.timedelta(days=7)]
    if not any(kind == "hundred_days" for kind, _due in out):
        out.append(("hundred_days", max(planned[2][1], accepted + dt.timedelta(days=14))))
    return out


async def due_checkins(session: AsyncSession, today: dt.date) -> list[CheckIn]:
    """Check-ins due today or earlier and not sent yet, on accepted pairings."""
    return list(
        await session.scalars(
            select(CheckIn)
            .join(BuddyMatch)
            .where(
                CheckIn.due_date <= today,
                CheckIn.sent_at.is_(None),
                CheckIn.responder_id.is_(None),
                BuddyMatch.status == "accepted",
            )
            .order_by(CheckIn.due_date, CheckIn.id)
            .options(
                selectinload(CheckIn.match).selectinload(BuddyMatch.appointment).selectinload(Appointment.person),
                selectinload(CheckIn.match).selectinload(BuddyMatch.buddy),
            )
        )
    )


async def answer_checkin(
    session: AsyncSession, checkin_id: int, responder_id: int, answer: str, comment: str | None = None
) -> CheckIn:
    """Keep one party's answer. The other party's answer to the same check-in goes in a row of its own;
    the same party answering again replaces their answer."""
    if answer not in ANSWERS:
        raise ValueError(f"answer must be one of {ANSWERS}")
    checkin = await session.get(CheckIn, checkin_id)
    if checkin is None:
        raise MatchError(_("That check-in is no longer in the directory."))
    row = checkin
    # The first to answer takes the check-in's own row, in one conditional write: two parties answering at
    # once cannot both take it (one answer would overwrite the other); the second gets a row of its own.
    taken = await decide(
        session,
        CheckIn,
        checkin.id,
        or_(CheckIn.responder_id.is_(None), CheckIn.responder_id == responder_id),
        responder_id=responder_id,
    )
    if not taken:
        own = (
            await session.scalars(
                select(CheckIn).where(
                    CheckIn.match_id == checkin.match_id,
                    CheckIn.kind == checkin.kind,
                    CheckIn.responder_id == responder_id,
                )
            )
        ).first()
        if own is None:
            own = CheckIn(
                match_id=checkin.match_id, kind=checkin.kind, due_date=checkin.due_date, sent_at=checkin.sent_at
            )
            session.add(own)
        row = own
    row.responder_id = responder_id
    row.answer = answer
    if comment is not None:
        row.comment = comment[:MAX_COMMENT]
    row.answered_at = clock.now()
    await session.flush()
    audit.record(
        session,
        responder_id,
        "buddy.checkin",
        "buddy_checkin",
        row.id,
        match_id=row.match_id,
        kind=row.kind,
        answer=answer,
        comment=bool(comment),
    )
    return row


async def comment_checkin(session: AsyncSession, checkin_id: int, responder_id: int, comment: str) -> CheckIn:
    """Add a comment to one's own answer (the row that answer_checkin returned)."""
    row = await session.get(CheckIn, checkin_id)
    if row is None or row.responder_id != responder_id:
        raise MatchError(_("That check-in is no longer in the directory."))
    row.comment = comment[:MAX_COMMENT]
    await session.flush()
    audit.record(session, responder_id, "buddy.checkin_comment", "buddy_checkin", row.id, match_id=row.match_id)
    return row


# --------------------------------------------------------------------------------------------- availability


async def set_buddy_status(
    session: AsyncSession, person_id: int, status: str, actor_id: int | None, today: dt.date | None = None
) -> Person:
    """`opted_out`, `paused` (for the rest of this term) or `available`."""
    from core.terms import term_for

    if status not in ("available", "opted_out", "paused"):
        raise ValueError("unknown buddy status")
    person = await session.get(Person, person_id)
    if person is None:
        raise MatchError(_("Your entry is no longer in the directory."))
    today = today or local_today()
    before = (person.buddy_status, person.buddy_paused_until)
    person.buddy_status = status
    person.buddy_paused_until = term_for(today).end if status == "paused" else None
    person.updated_by = actor_id
    await session.flush()
    audit.record(
        session,
        actor_id,
        "person.buddy_status",
        "person",
        person.id,
        before=list(before),
        status=status,
        until=person.buddy_paused_until,
    )
    return person


# --------------------------------------------------------------------------------------------- batch


async def open_appointments(session: AsyncSession) -> list[Appointment]:
    """Open appointments with no buddy asked or accepted."""
    busy = select(BuddyMatch.appointment_id).where(BuddyMatch.status.in_(ACTIVE))
    return list(
        await session.scalars(
            select(Appointment)
            .where(Appointment.status == "open", Appointment.id.not_in(busy))
            .order_by(Appointment.start_date, Appointment.id)
        )
    )


@dataclass
class TermPlan:
    plan: Assignment
    greedy: Assignment
    heads: list[NewHead]
    candidates: list[Candidate]
    scored: dict[int, Scored]  # appointment id -> the scored pairing in the plan


async def plan_term(session: AsyncSession, today: dt.date | None = None, rules: Rules | None = None) -> TermPlan:
    """Pair every open appointment at once (the optimal plan) and, beside it, the greedy baseline."""
    rules = rules or Rules()
    today = today or local_today()
    heads = [await newhead_for(session, a) for a in await open_appointments(session)]
    cands = await candidates_for(session, today)
    plan = assign(heads, cands, rules)
    greedy = assign_greedy(heads, cands, rules)
    by_id = {c.person_id: c for c in cands}
    by_appt = {h.appointment_id: h for h in heads}
    scored = {p.appointment_id: score(by_appt[p.appointment_id], by_id[p.buddy_person_id], rules) for p in plan.pairs}
    return TermPlan(plan, greedy, heads, cands, scored)


async def undelivered_requests(session: AsyncSession) -> list[int]:
    """Requests recorded on the command line that the bot has not yet sent to the buddy."""
    return list(
        await session.scalars(
            select(BuddyMatch.id)
            .where(BuddyMatch.status == "requested", BuddyMatch.requested_at.is_(None))
            .order_by(BuddyMatch.id)
        )
    )


async def send_plan(
    session: AsyncSession,
    plan: Assignment,
    actor_id: int | None,
    rules: Rules | None = None,
    today: dt.date | None = None,
    queued: bool = False,
) -> tuple[list[BuddyMatch], list[tuple[int, str]]]:
    """Ask every buddy in the plan; a pairing no longer possible is skipped with the reason."""
    sent, skipped = [], []
    for pair in plan.pairs:
        try:  # request_buddy checks everything before it changes anything
            sent.append(
                await request_buddy(session, pair.appointment_id, pair.buddy_person_id, actor_id, rules, today, queued)
            )
        except AlreadyAsked:
            raise  # the transaction is spent: the whole plan is not sent (the caller says so)
        except MatchError as exc:
            skipped.append((pair.appointment_id, str(exc)))
    return sent, skipped


# --------------------------------------------------------------------------------------------- people


async def telegram_ids(session: AsyncSession, person_id: int) -> list[int]:
    """Members linked to a person (active ones), to message them."""
    return list(
        await session.scalars(
            select(Member.telegram_id)
            .where(Member.person_id == person_id, Member.active.is_(True))
            .order_by(Member.telegram_id)
        )
    )
