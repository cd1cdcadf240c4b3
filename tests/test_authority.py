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
from handlers.authority import Row, allowed, authority_table, render
from storage.directory import Person, School
from storage.members import AccessRequest, Member, Role
from storage.models import Base
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

    def __init__(self, chat: ChatDriver, sessionmaker: async_sessionmaker[AsyncSession], school_id: int):
        self.chat, self.sessionmaker, self.school_id = chat, sessionmaker, school_id
        self.ids = itertools.count(50_000)

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
    return lambda: press(f"ax:{request_id}:1")(world, actor)


async def play_dka(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    request_id = await world.request()
    return lambda: press(f"dka:{request_id}:1:0")(world, actor)


async def play_dkx(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    request_id = await world.request()
    return lambda: press(f"dkx:{request_id}:1")(world, actor)


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
        await world.chat.press("nhc:save", user=user)

    return run


async def play_edit(world: World, actor: Actor) -> Callable[[], Awaitable[Any]]:
    return lambda: world.chat.send("/edit job Walking tester", user=actor.telegram_id)


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
}


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
        school_id = school.id
    await app.bot_data["services"].refresh_directory()  # type: ignore[attr-defined]
    return World(chat, sessionmaker, school_id)


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
    assert not failures, failures
