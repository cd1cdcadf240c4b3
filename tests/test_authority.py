"""The authority table (handlers/authority.py), generated from the manifests, is in docs/ARCHITECTURE.md as it
is, and holds: every row is played by a stranger, an unlinked member, a linked member, an owner, a coordinator,
a revoked coordinator and an admin, and only the actors the row allows change anything in the database."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application

from directory import integrity
from handlers import fold_features
from handlers.authority import READ_ONLY, Row, allowed, authority_table, idents, render
from plans import progress
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.directory import Person, School, Specialism
from storage.members import AccessRequest, Member, Role
from storage.models import Base
from storage.plans import Action, ActionOwner, Holiday, Plan, PlanMeeting
from storage.support import SupportDeployment, SupportLeader, SupportRequest
from tests.harness import ChatDriver, frozen_clock

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone.utc)
DOC = Path(__file__).resolve().parent.parent / "docs" / "ARCHITECTURE.md"
START, END = "<!-- authority-table:start -->", "<!-- authority-table:end -->"
# Bookkeeping, not data: chat state, one-time button claims, search throttles, where request copies were sent.
IGNORED = {"bot_state", "button_use", "throttle", "access_request_copy", "directory_version"}


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    with frozen_clock(NOW):
        yield


def test_the_documented_table_is_the_generated_one() -> None:
    table = render(authority_table(fold_features()))
    text = DOC.read_text(encoding="utf-8")
    assert START in text and END in text, "docs/ARCHITECTURE.md lacks the authority table markers"
    documented = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert documented == table, "docs/ARCHITECTURE.md is out of date: paste render(authority_table(...))"


def test_a_relation_must_be_known() -> None:
    row = Row("f", "button", "x:", Role.MEMBER, "linked", "")
    assert allowed(row, Role.MEMBER, linked=True, owner=False)
    assert not allowed(row, Role.MEMBER, linked=False, owner=False)
    assert not allowed(row, Role.STRANGER, linked=True, owner=False)


# --- the actors ------------------------------------------------------------------------------------------


class Actor:
    def __init__(self, name: str, telegram_id: int, role: Role, linked: bool, owner: bool = False):
        self.name, self.telegram_id, self.role, self.linked, self.owner = name, telegram_id, role, linked, owner


ACTORS = (
    Actor("stranger", 9001, Role.STRANGER, False),
    Actor("unlinked member", 1001, Role.MEMBER, False),
    Actor("linked member", 1011, Role.MEMBER, True),
    Actor("owner", 1002, Role.LEAD, True, owner=True),
    Actor("coordinator", 1003, Role.COORDINATOR, False),
    Actor("revoked coordinator", 1012, Role.STRANGER, False),
    Actor("admin", 1004, Role.ADMIN, False),
)


class World:
    """Fresh targets for each play, so one actor's change never hides another's."""

    def __init__(
        self,
        chat: ChatDriver,
        sessionmaker: async_sessionmaker[AsyncSession],
        school_id: int,
        people: dict[int, int],
        action_id: int,
    ):
        self.chat, self.sessionmaker, self.school_id = chat, sessionmaker, school_id
        self.people = people  # telegram id -> linked person (the linked member, the owner)
        self.action_id = action_id  # an action of a live plan owned by the owner's person
        self.ids = itertools.count(50_000)

    def entry_of(self, actor: Actor) -> int | None:
        return self.people.get(actor.telegram_id)

    async def plan(self) -> int:
        async with self.sessionmaker.begin() as session:
            plan = Plan(title=f"Walk plan {next(self.ids)}", year="2026-27")
            session.add(plan)
            await session.flush()
            return plan.id

    async def head(self) -> int:
        """An experienced head at another school: a buddy the matcher may ask."""
        async with self.sessionmaker.begin() as session:
            school = School(name=f"Other School {next(self.ids)}", phase="primary", urn=str(next(self.ids)))
            session.add(school)
            await session.flush()
            person = Person(
                first_name="Experienced",
                last_name=f"Head{next(self.ids)}",
                school_id=school.id,
                is_head=True,
                headship_start=dt.date(2012, 9, 1),
                mentor_capacity=2,
            )
            session.add(person)
            await session.flush()
            return person.id

    async def appointment(self) -> int:
        head = await self.person("Head")
        async with self.sessionmaker.begin() as session:
            appointment = Appointment(
                person_id=head, school_id=self.school_id, start_date=dt.date(2027, 1, 4), reporter_relation="office"
            )
            session.add(appointment)
            await session.flush()
            return appointment.id

    async def owned_action(self) -> tuple[int, int]:
        """A fresh plan with one action owned by the owner's person: (plan, action)."""
        plan = await self.plan()
        async with self.sessionmaker.begin() as session:
            action = Action(plan_id=plan, position=0, ref="1.1", text="Chase me")
            session.add(action)
            await session.flush()
            session.add(ActionOwner(action_id=action.id, person_id=self.people[1002], name="Owen Owner"))
            return plan, action.id

    async def sle(self) -> int:
        """A maths system leader at another school, offering days."""
        async with self.sessionmaker.begin() as session:
            school = School(name=f"SLE School {next(self.ids)}", phase="primary", urn=str(next(self.ids)))
            session.add(school)
            await session.flush()
            maths = (await session.execute(select(Specialism).where(Specialism.name == "mathematics"))).scalar_one()
            person = Person(
                first_name="Sally",
                last_name=f"Leader{next(self.ids)}",
                school_id=school.id,
                designations="SLE",
                job_title="Maths lead",
                specialisms=[maths],
            )
            session.add(person)
            await session.flush()
            session.add(SupportLeader(person_id=person.id, capacity_days=10))
            person_id = person.id
        await self.chat.app.bot_data["services"].refresh_directory()  # suggestions come from the index
        return person_id

    async def support_request(self, requester: int | None = None, status: str = "waiting") -> int:
        requester = requester or await self.person("Requester")
        async with self.sessionmaker.begin() as session:
            request = SupportRequest(
                requester_person_id=requester,
                school_id=self.school_id,
                specialism="mathematics",
                phase="primary",
                context="Year 5 fractions",
                status=status,
            )
            session.add(request)
            await session.flush()
            return request.id

    async def deployment(self, leader: int | None, status: str) -> int:
        """A deployment of `leader` (a fresh system leader when None) in state `status`."""
        leader = leader or await self.sle()
        request_status = {"asked": "asked", "accepted": "agreed", "closed": "closed"}[status]
        request = await self.support_request(status=request_status)
        async with self.sessionmaker.begin() as session:
            deployment = SupportDeployment(
                request_id=request, leader_person_id=leader, status=status, days_agreed=3, asked_at=NOW
            )
            session.add(deployment)
            await session.flush()
            return deployment.id

    async def match(self, buddy: int | None, status: str = "requested", asked: bool = True) -> int:
        """A pairing of a fresh new head with `buddy` (a fresh person when None)."""
        head = await self.person("Head")
        buddy = buddy or await self.person("Buddy")
        async with self.sessionmaker.begin() as session:
            appointment = Appointment(
                person_id=head, school_id=self.school_id, start_date=dt.date(2026, 9, 1), reporter_relation="office"
            )
            session.add(appointment)
            await session.flush()
            match = BuddyMatch(
                appointment_id=appointment.id,
                buddy_person_id=buddy,
                status=status,
                requested_at=NOW if asked else None,
            )
            if status == "accepted":
                match.decided_at = NOW
            session.add(match)
            await session.flush()
            return match.id

    async def checkin(self, actor: Actor) -> int:
        match = await self.match(self.entry_of(actor), "accepted")
        async with self.sessionmaker.begin() as session:
            checkin = CheckIn(match_id=match, kind="two_weeks", due_date=NOW.date(), sent_at=NOW)
            session.add(checkin)
            await session.flush()
            return checkin.id

    async def person(self, name: str = "Target") -> int:
        async with self.sessionmaker.begin() as session:
            person = Person(first_name=name, last_name=f"Person{next(self.ids)}", school_id=self.school_id)
            session.add(person)
            await session.flush()
            return person.id

    async def account(self, person_id: int | None = None, role: str = "member") -> int:
        telegram_id = next(self.ids)
        async with self.sessionmaker.begin() as session:
            session.add(Member(telegram_id=telegram_id, role=role, display_name="Target", person_id=person_id))
        return telegram_id

    async def request(self) -> int:
        async with self.sessionmaker.begin() as session:
            request = AccessRequest(telegram_id=next(self.ids), name="Applicant", school="Somewhere")
            session.add(request)
            await session.flush()
            return request.id

    async def registration(self) -> int:
        async with self.sessionmaker.begin() as session:
            values = {
                "first_name": "Reg",
                "last_name": f"Istered{next(self.ids)}",
                "title": None,
                "start_date": dt.date(2027, 1, 4),
                "school_id": self.school_id,
                "new_school_name": None,
                "person_id": None,
                "needs": [],
                "relation": "school",
                "new_to_headship": True,
                "new_to_area": False,
                "new_to_trust": False,
                "new_to_phase": False,
            }
            change = await integrity.propose_appointment(session, 1001, values, "a registration")
            return change.id


Play = Callable[[World, Actor], Awaitable[Callable[[], Awaitable[Any]]]]


def press(data: str) -> Callable[[World, Actor], Awaitable[Any]]:
    async def run(world: World, actor: Actor) -> Any:
        return await world.chat.press(data, user=actor.telegram_id)

    return run


async def play_aa(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    request_id = await world.request()
    return lambda: press(f"aa:{request_id}:1:0")(world, actor)


async def play_aar(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    person = await world.person()
    await world.account(person)
    request_id = await world.request()
    return lambda: press(f"aar:{request_id}:1:{person}")(world, actor)


async def play_ax(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    request_id = await world.request()
    return lambda: press(f"ax:{request_id}:1:ok")(world, actor)


async def play_dka(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    request_id = await world.request()
    return lambda: press(f"dka:{request_id}:1:0")(world, actor)


async def play_dkx(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    request_id = await world.request()
    return lambda: press(f"dkx:{request_id}:1:ok")(world, actor)


async def play_gy(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    target = await world.account()
    return lambda: press(f"gy:{target}:lead")(world, actor)


async def play_rv(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    target = await world.account()
    return lambda: press(f"rv:{target}:y")(world, actor)


async def play_lk(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    target, person = await world.account(), await world.person()
    return lambda: press(f"lk:{target}:{person}:y")(world, actor)


async def play_ul(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    target = await world.account(await world.person())
    return lambda: press(f"ul:{target}:y")(world, actor)


async def play_ecd(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    change = await world.registration()
    return lambda: press(f"ecd:y:{change}")(world, actor)


async def play_dk(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    return lambda: press("dk:dg")(world, actor)


async def play_access_request(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    async def run() -> None:
        await world.chat.send("/start", user=actor.telegram_id)
        await world.chat.press("ar:req", user=actor.telegram_id)
        await world.chat.send("Some One, Some School", user=actor.telegram_id)

    return run


async def play_nhc(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    async def run() -> None:
        user = actor.telegram_id
        await world.chat.send("/newhead", user=user)
        await world.chat.press("nhw:school", user=user)
        await world.chat.send(f"Ms New Head{next(world.ids)}", user=user)
        await world.chat.send("Walk School", user=user)
        await world.chat.press(f"nhs:{world.school_id}", user=user)
        await world.chat.send("4/1/2027", user=user)
        await world.chat.press("nhf:done", user=user)
        await world.chat.press("nhk:done", user=user)
        await world.chat.press("nhp:skip", user=user)
        await world.chat.press("nhc:save", user=user)

    return run


async def play_edit(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    return lambda: world.chat.send("/edit job Walking tester", user=actor.telegram_id)


def data_of(sent: list[Any], prefix: str) -> str | None:
    return next((data for s in sent for _label, data in s.buttons if data.startswith(prefix)), None)


def steps(*moves: tuple[str, str]) -> Callable[[World, Actor], Awaitable[Callable[[], Awaitable[Any]]]]:
    """A play of ("send"|"press", text) moves by the actor, with nothing to set up."""

    async def play(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
        async def run() -> None:
            for kind, text in moves:
                if kind == "send":
                    await world.chat.send(text, user=actor.telegram_id)
                else:
                    await world.chat.press(text, user=actor.telegram_id)

        return run

    return play


async def play_ups(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    async def run() -> None:
        user = actor.telegram_id
        await world.chat.press(f"upq:{world.action_id}", user=user)
        await world.chat.press("upr:A", user=user)
        sent = await world.chat.send("Walked through", user=user)
        save = data_of(sent, "ups:")
        if save is not None:
            await world.chat.press(save, user=user)

    return run


async def play_upw(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    async with world.sessionmaker.begin() as session:
        owner = await session.get(Member, 1002)
        row = await progress.post_update(session, world.action_id, "G", "by the owner", owner, NOW)
        update_id = row.id
    return lambda: press(f"upw:{update_id}")(world, actor)


async def play_pl(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    plan = await world.plan()
    return lambda: press(f"pl:{plan}:a")(world, actor)


async def play_rename(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    plan = await world.plan()

    async def run() -> None:
        await world.chat.press(f"pl:{plan}:n", user=actor.telegram_id)
        await world.chat.send(f"Renamed by the walk {next(world.ids)}", user=actor.telegram_id)

    return run


async def play_mtr(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    plan = await world.plan()
    async with world.sessionmaker.begin() as session:
        meeting = PlanMeeting(plan_id=plan, date=dt.date(2027, 2, 1))
        session.add(meeting)
        await session.flush()
        meeting_id = meeting.id
    return lambda: press(f"mtr:{meeting_id}:ok")(world, actor)


async def play_mtp(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    plan = await world.plan()
    return lambda: press(f"mtp:{plan}:20261120")(world, actor)


async def play_hdr(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    async with world.sessionmaker.begin() as session:
        holiday = Holiday(start=dt.date(2027, 2, 15), end=dt.date(2027, 2, 19), label=f"Half term {next(world.ids)}")
        session.add(holiday)
        await session.flush()
        holiday_id = holiday.id
    return lambda: press(f"hdr:{holiday_id}")(world, actor)


async def play_plan_press(prefix: str, world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    plan = await world.plan()
    return lambda: press(f"{prefix}:{plan}")(world, actor)


async def play_chr(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    plan, _action = await world.owned_action()
    return lambda: press(f"chr:{plan}")(world, actor)


async def play_er(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    person = await world.person()
    return lambda: press(f"er:{person}:y")(world, actor)


async def play_dck(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    person = world.entry_of(actor) or await world.person()
    return lambda: press(f"dck:ok:{person}")(world, actor)


async def play_dkey(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    match = await world.match(None, "accepted")
    return lambda: press(f"dkey:{match}")(world, actor)


async def play_dkr(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    buddy = await world.person("Buddy")
    await world.account(buddy)  # on Telegram: the bot asks them itself
    match = await world.match(buddy, "requested", asked=False)  # recorded on the command line, not yet asked
    return lambda: press(f"dkr:{match}")(world, actor)


async def play_dks(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    from core.terms import term_for

    person = await world.person("Stale")
    await world.account(person)  # someone to ask
    async with world.sessionmaker.begin() as session:
        (await session.get(Person, person)).check_asked = term_for(NOW.date()).code  # type: ignore[union-attr]
    return lambda: press(f"dks:{person}")(world, actor)


async def play_bq(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    match = await world.match(world.entry_of(actor))
    return lambda: press(f"bq:a:{match}")(world, actor)


async def play_bey(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    match = await world.match(world.entry_of(actor), "accepted")
    return lambda: press(f"bey:{match}")(world, actor)


async def play_bk(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    checkin = await world.checkin(actor)
    return lambda: press(f"bk:{checkin}:g")(world, actor)


async def play_buddy_comment(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    checkin = await world.checkin(actor)

    async def run() -> None:
        await world.chat.press(f"bk:{checkin}:s", user=actor.telegram_id)
        await world.chat.send("A comment from the walk", user=actor.telegram_id)

    return run


async def play_bc(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    appointment, buddy = await world.appointment(), await world.head()
    return lambda: press(f"bc:{appointment}:{buddy}")(world, actor)


async def play_ba(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    appointment = await world.appointment()
    await world.head()
    return lambda: press(f"ba:{appointment}")(world, actor)


async def play_bs(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    await world.appointment()
    await world.head()

    async def run() -> None:
        sent = await world.chat.send("/matchterm", user=actor.telegram_id)
        data = data_of(sent, "bs:")
        if data is not None:
            await world.chat.press(data, user=actor.telegram_id)

    return run


async def play_meetings(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    day = next(world.ids) % 28 + 1
    return lambda: world.chat.send(f"/meetings add {day}/03/2027 1", user=actor.telegram_id)


async def play_upload(kind: str, world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    """The actor uploads (a coordinator's upload when the actor may not), then presses its import button."""
    uploader = actor.telegram_id if actor.role >= Role.COORDINATOR else 1003
    n = next(world.ids)
    if kind == "di":
        body = f"first name,last name,school\nWalk{n},Person,Walk School\n".encode()
        sent = await world.chat.upload("people.csv", body, user=uploader, caption="directory")
        data = data_of(sent, "di:ok:")
    else:
        body = f"Walk plan {n} 2026-27\n\n| Ref | Action | Lead |\n|---|---|---|\n| 1.1 | Walk {n} | L Linked |\n"
        sent = await world.chat.upload("plan.md", body.encode(), user=uploader, caption="plan")
        data = data_of(sent, "pi:")
    assert data is not None, [s.text for s in sent]
    return lambda: press(data)(world, actor)


async def play_ux(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    request = await world.support_request()
    return lambda: press(f"ux:{request}")(world, actor)


async def play_uw(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    request = await world.support_request(world.people[1002])  # the owner's request
    return lambda: press(f"uw:{request}")(world, actor)


async def play_uc(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    request, leader = await world.support_request(), await world.sle()
    return lambda: press(f"uc:{request}:{leader}")(world, actor)


async def play_ut(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    request = await world.support_request()
    await world.sle()
    return lambda: press(f"ut:{request}")(world, actor)


async def play_uq(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    deployment = await world.deployment(world.entry_of(actor), "asked")
    return lambda: press(f"uq:a:{deployment}")(world, actor)


async def play_ue(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    deployment = await world.deployment(world.entry_of(actor), "accepted")
    return lambda: press(f"ue:{deployment}")(world, actor)


async def play_ui(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    deployment = await world.deployment(world.entry_of(actor), "closed")
    return lambda: press(f"ui:{deployment}:1")(world, actor)


async def play_support_impact(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    deployment = await world.deployment(world.entry_of(actor), "closed")

    async def run() -> None:
        await world.chat.press(f"ui:{deployment}:1", user=actor.telegram_id)
        await world.chat.send("It helped our Year 5 team", user=actor.telegram_id)

    return run


async def play_days(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    deployment = await world.deployment(world.entry_of(actor), "accepted")
    return lambda: world.chat.send(f"/days {deployment} 1 lesson study", user=actor.telegram_id)


async def play_support_capacity(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    leader = await world.sle()
    return lambda: world.chat.send(f"/support capacity {leader} 4", user=actor.telegram_id)


async def play_uy(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    leader = await world.sle()

    async def run() -> None:
        user = actor.telegram_id
        await world.chat.press(f"ua:{leader}", user=user)
        await world.chat.send("Year 5 fractions", user=user)
        await world.chat.press("uu:t", user=user)
        await world.chat.press("uy:2", user=user)

    return run


async def play_buddy_message(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    match = await world.match(world.entry_of(actor), "accepted")

    async def run() -> None:
        await world.chat.press(f"bw:{match}", user=actor.telegram_id)
        await world.chat.send("Shall we meet on Friday?", user=actor.telegram_id)

    return run


PLAYS: dict[str, Play] = {
    "access aa:": play_aa,
    "access aar:": play_aar,
    "access ax:": play_ax,
    "access gy:": play_gy,
    "access lk:": play_lk,
    "access rv:": play_rv,
    "access ul:": play_ul,
    "access access_request": play_access_request,
    "currency ecd:": play_ecd,
    "desk dk:": play_dk,
    "desk dka:": play_dka,
    "desk dkx:": play_dkx,
    "newhead nhc:": play_nhc,
    "profile /edit": play_edit,
    "progress ups:": play_ups,
    "progress upw:": play_upw,
    "plans_admin pl:": play_pl,
    "reminders mtr:": play_mtr,
    "reminders mtp:": play_mtp,
    "reminders hdr:": play_hdr,
    "reminders chr:": play_chr,
    "reminders dg:": lambda w, a: play_plan_press("dg", w, a),
    "reminders dgh:": lambda w, a: play_plan_press("dgh", w, a),
    "reminders /reminders": steps(("send", "/reminders off")),
    "reminders /meetings": play_meetings,
    "reminders /holidays": steps(("send", "/holidays add 12/04/2027 23/04/2027 Easter")),
    "privacy er:": play_er,
    "currency dck:": play_dck,
    "desk dkey:": play_dkey,
    "desk dkr:": play_dkr,
    "desk dks:": play_dks,
    "buddy bq:": play_bq,
    "buddy bey:": play_bey,
    "buddy bk:": play_bk,
    "buddy buddy_comment": play_buddy_comment,
    "buddy bc:": play_bc,
    "buddy ba:": play_ba,
    "buddy bs:": play_bs,
    "buddy /buddy": steps(("send", "/buddy pause")),
    "directory_upload di:": lambda w, a: play_upload("di", w, a),
    "plan_upload pi:": lambda w, a: play_upload("pi", w, a),
    "plans_admin plan_rename": play_rename,
    "buddy buddy_message": play_buddy_message,
    "support ux:": play_ux,
    "support uw:": play_uw,
    "support uc:": play_uc,
    "support ut:": play_ut,
    "support uq:": play_uq,
    "support ue:": play_ue,
    "support ui:": play_ui,
    "support support_impact": play_support_impact,
    "support /days": play_days,
    "support /support": play_support_capacity,
    "support uy:": play_uy,
}


def test_every_handler_declares_what_it_writes_or_is_read_only() -> None:
    """A new Command, Button or TextStep must either declare `writes=` (and get a play here) or be listed in
    handlers/authority.py READ_ONLY: nobody adds a handler without deciding."""
    features = fold_features()
    everything, table = idents(features), {row.ident for row in authority_table(features)}
    assert not everything - table - READ_ONLY, f"undeclared: {sorted(everything - table - READ_ONLY)}"
    assert not READ_ONLY - everything, f"READ_ONLY names what is not there: {sorted(READ_ONLY - everything)}"
    assert not READ_ONLY & table, f"both read-only and writing: {sorted(READ_ONLY & table)}"


def test_every_row_of_the_table_is_walked() -> None:
    rows = {row.ident for row in authority_table(fold_features())}
    assert rows == set(PLAYS), (rows - set(PLAYS), set(PLAYS) - rows)


async def dump(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    async with sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in IGNORED:
                continue
            rows = (await session.execute(select(table))).all()
            out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return out


@pytest.fixture
async def world(app: Application, chat: ChatDriver, sessionmaker: async_sessionmaker[AsyncSession]) -> World:
    async with sessionmaker.begin() as session:
        school = School(name="Walk School", phase="primary", urn="900001")
        session.add(school)
        await session.flush()
        linked = Person(first_name="Linda", last_name="Linked", school_id=school.id)
        owner = Person(first_name="Owen", last_name="Owner", school_id=school.id)
        session.add_all([linked, owner])
        await session.flush()
        session.add(Member(telegram_id=1011, role="member", display_name="Linda", person_id=linked.id))
        session.add(Member(telegram_id=1012, role="coordinator", display_name="Revoked", active=False))
        await session.execute(update(Member).where(Member.telegram_id == 1002).values(person_id=owner.id))
        plan = Plan(title="Live walk plan", year="2026-27")
        session.add(plan)
        await session.flush()
        action = Action(plan_id=plan.id, position=0, ref="1.1", text="Walk the table")
        session.add(action)
        await session.flush()
        session.add(ActionOwner(action_id=action.id, person_id=owner.id, name="Owen Owner"))
        session.add(Specialism(name="mathematics", aliases="maths"))
        session.add_all([SupportLeader(person_id=p.id, capacity_days=50) for p in (linked, owner)])
        school_id, people, action_id = school.id, {1011: linked.id, 1002: owner.id}, action.id
    await app.bot_data["services"].refresh_directory()  # type: ignore[attr-defined]
    return World(chat, sessionmaker, school_id, people, action_id)


async def test_only_the_allowed_change_anything(world: World, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    failures = []
    for row in authority_table(fold_features()):
        changed = set()
        for actor in ACTORS:
            run = await PLAYS[row.ident](world, actor)
            before = await dump(sessionmaker)
            await run()
            if await dump(sessionmaker) != before:
                changed.add(actor.name)
        permitted = {a.name for a in ACTORS if allowed(row, a.role, a.linked, a.owner)}
        if not changed <= permitted:
            failures.append(f"{row.ident}: {sorted(changed - permitted)} changed data without authority")
        if not changed:
            failures.append(f"{row.ident}: nobody changed anything (the walk proves nothing)")
    assert not failures, "\n".join(failures)
