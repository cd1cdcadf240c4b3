"""Old and forged buttons (issue 20, item 8), through the real Application on SQLite and PostgreSQL:
ids beyond 64 bits never reach the database, a school card's page form counts as a search, an old
"Update 1.1" button on an archived plan saves nothing, and two spellings of one SQLite file take one
instance lock. Then a fuzz: forged callback data for every registered button prefix, pressed by a member,
a coordinator and a stranger: no exception reaches anyone, nothing in the database changes, and every
reply is valid Telegram HTML (the `app` fixture fails the test on any reply Telegram would refuse)."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application

from core.offline import Sent
from handlers.manifest import features_of
from plans.archive import archive_plan
from storage.instance_lock import InstanceLock, InstanceLockError, lock_file_for
from storage.plans import ProgressUpdate
from tests.dbtools import populate, snapshot
from tests.harness import ChatDriver, Users
from tests.plan_seed import seed_plan
from tests.test_find_cli import seed_directory

# Bookkeeping the gate and the search counter keep for any press (not data a button decides).
BOOKKEEPING = ("bot_state", "throttle", "button_use", "audit_log")
SORRY = "something went wrong"


class Errors:
    def __init__(self, app: Application) -> None:
        self.seen: list[BaseException] = []

        async def record(_update: object, context: Any) -> None:
            self.seen.append(context.error)

        app.add_error_handler(record)


@pytest.fixture
def errors(app: Application) -> Errors:
    return Errors(app)


def alerts(sent: list[Sent]) -> list[str]:
    return [str(s.params.get("text", "")) for s in sent if s.method == "answerCallbackQuery"]


def forged(prefix: str, rng: random.Random) -> list[str]:
    """Callback data no version of the bot ever sent for `prefix`."""
    big = [2**63, 2**64, 10**30, 2**63 + rng.randrange(10**6)]
    out = [f"{prefix}:{n}" for n in big]
    out += [f"{prefix}:{-(2**63) - 1}", f"{prefix}:1:{2**63}", f"{prefix}:a:{2**63}", f"{prefix}:{2**63}:g"]
    out += [f"{prefix}:d:{2**64}", f"{prefix}:y:{10**25}", f"{prefix}:{2**63}:{2**63}"]
    out += [f"{prefix}:١٢", f"{prefix}:1_000", f"{prefix}:+5", f"{prefix}:<b>", f"{prefix}:é", f"{prefix}:1 OR 1=1"]
    out += [f"{prefix}:" + ":".join(["1"] * 12), f"{prefix}:" + "7" * 60, f"{prefix}:x\n1", f"{prefix}:\u202e1"]
    out.append(f"{prefix}:" + "".join(rng.choice("0123456789:abc-_<>&é ") for _ in range(rng.randrange(1, 60))))
    return out


# --- ids beyond 64 bits ---------------------------------------------------------------------------


async def test_ids_beyond_64_bits_are_refused_before_any_query(
    chat: ChatDriver, users: Users, errors: Errors, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await seed_directory(sessionmaker)
    for data in (f"pc:{2**63}", f"sc:{2**63}", f"sc:1:{2**64}", f"ct:{10**20}", f"bq:a:{2**63}", f"upw:{2**63}"):
        sent = await chat.press(data, user=users.member)
        assert alerts(sent) == ["That button has expired. Please start again."], (data, alerts(sent))
        assert not any(SORRY in s.text for s in sent), data
    for data in (f"bc:1:{2**63}", f"bk:{2**63}:g", f"upq:{2**63}"):
        sent = await chat.press(data, user=users.coordinator)
        assert not any(SORRY in s.text for s in sent), data
    assert errors.seen == []


# --- a school card's pages count as searches ------------------------------------------------------


async def test_school_card_pages_count_as_searches(
    chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    found = await seed_directory(sessionmaker)
    await chat.app.bot_data["services"].refresh_directory()
    limit = 5
    chat.app.bot_data["services"].settings.search_limit_per_minute = limit
    shown = 0
    for _i in range(limit + 3):
        sent = await chat.press(f"sc:{found['aloysius']}:0", user=users.member)
        shown += sum("St Aloysius" in s.text for s in sent)
    assert shown == limit
    slowed = await chat.press(f"sc:{found['aloysius']}:0", user=users.member)
    assert any("searching very quickly" in a for a in alerts(slowed))
    assert not any("Heffernan" in s.text for s in slowed)


# --- buttons on archived plans ----------------------------------------------------------------------


async def test_an_old_update_button_on_an_archived_plan_saves_nothing(
    chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_plan(sessionmaker)
    action = seeded.actions["1.1"]
    # A draft started before the plan was archived: rating and comment chosen, Save not yet pressed.
    await chat.press(f"upq:{action}", user=users.lead)
    await chat.press("upr:G", user=users.lead)
    confirm = await chat.send("All on track", user=users.lead)
    save = next(d for s in confirm for _label, d in s.buttons if d.startswith("ups:"))
    async with sessionmaker.begin() as session:
        await archive_plan(session, seeded.plan_id, users.coordinator)
    sent = await chat.press(save, user=users.lead)
    assert any("archived" in s.text for s in sent), [s.text for s in sent]
    sent = await chat.press(f"upq:{action}", user=users.lead)  # the "Update 1.1" button under an old /mine
    assert any("archived" in s.text for s in sent) and not any("How is it going" in s.text for s in sent)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ProgressUpdate)) == 0


async def test_withdrawing_on_an_archived_plan_changes_nothing(
    chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    seeded = await seed_plan(sessionmaker)
    await chat.send("/update 1.1 green On track", user=users.lead)
    saved = await chat.press(
        next(d for s in chat.to(users.lead) for _l, d in s.buttons if d.startswith("ups:")), user=users.lead
    )
    withdraw = next(d for s in saved for _l, d in s.buttons if d.startswith("upw:"))
    async with sessionmaker.begin() as session:
        await archive_plan(session, seeded.plan_id, users.coordinator)
    sent = await chat.press(withdraw, user=users.lead)
    assert any("archived" in a for a in alerts(sent))
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ProgressUpdate)) == 1


# --- one instance per database file -------------------------------------------------------------


async def test_two_spellings_of_one_sqlite_file_take_one_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "data" / "partnerbot.db"
    real.parent.mkdir()
    real.touch()
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "elsewhere" / "bot.db"
    link.symlink_to(real)
    monkeypatch.chdir(tmp_path / "data")
    spellings = [
        f"sqlite+aiosqlite:///{link}",
        "sqlite+aiosqlite:///./partnerbot.db",
        "sqlite:///partnerbot.db",
        f"sqlite+aiosqlite:///{tmp_path}/elsewhere/../data/partnerbot.db",
    ]
    assert {lock_file_for(url) for url in spellings} == {real.with_name("partnerbot.db.lock")}
    first = InstanceLock(f"sqlite+aiosqlite:///{real}")
    await first.acquire()
    try:
        for url in spellings:
            with pytest.raises(InstanceLockError) as refused:
                await InstanceLock(url).acquire()
            assert f"pid {os.getpid()}" in str(refused.value)
    finally:
        await first.release()


# --- fuzz: every button, forged ---------------------------------------------------------------------


async def test_forged_callback_data_for_every_button_changes_nothing(
    chat: ChatDriver, users: Users, errors: Errors, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await populate(sessionmaker)
    await seed_plan(sessionmaker, link_lead=False)
    features = features_of(chat.app)
    prefixes = sorted(features.buttons)
    assert len(prefixes) > 40  # every feature's buttons, conversation steps included
    engine = sessionmaker.kw["bind"]
    before = await snapshot(engine, skip=BOOKKEEPING)
    rng = random.Random(20)
    pressed = 0
    for prefix in prefixes:
        for who in (users.member, users.coordinator, users.stranger):
            for data in forged(prefix, rng):
                sent = await chat.press(data, user=who)
                pressed += 1
                assert not any(SORRY in s.text for s in sent), (data, who)
                if features.button_args.get(prefix) is not None:  # a declared shape: refused before the callback
                    assert [s.method for s in sent] == ["answerCallbackQuery"], (data, who)
    assert errors.seen == [], errors.seen[:3]
    assert await snapshot(engine, skip=BOOKKEEPING) == before
    assert pressed > 1000


async def test_random_ids_for_every_button_never_raise(
    chat: ChatDriver, users: Users, errors: Errors, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Well-formed data with ids that may or may not exist (old messages, other people's buttons)."""
    await populate(sessionmaker)
    await seed_plan(sessionmaker, link_lead=False)
    rng = random.Random(7)
    words = ["a", "d", "x", "y", "n", "g", "m", "s", "ok", "ed", "r", "c", "h", "0", "-"]
    features = features_of(chat.app)
    for prefix in sorted(features.buttons):
        # Large numbers only where the button declares its ids: an undeclared one is only held to 64 bits
        # (its owner declares `args` to hold its ids to their columns: core/callback_args.py).
        large = [2**31, 2**63 - 1] if features.button_args.get(prefix) is not None else []
        for who in (users.member, users.coordinator, users.stranger):
            for _i in range(6):
                n, m = rng.randrange(0, 12), rng.choice([0, 1, 2, 3, *large])
                data = rng.choice(
                    [
                        f"{prefix}:{n}",
                        f"{prefix}:{m}",
                        f"{prefix}:{n}:{m}",
                        f"{prefix}:{rng.choice(words)}:{m}",
                        f"{prefix}:{m}:{rng.choice(words)}",
                    ]
                )
                sent = await chat.press(data, user=who)
                assert not any(SORRY in s.text for s in sent), (data, who, errors.seen[-1:])
    assert errors.seen == [], errors.seen[:3]


# --- gone people, revoked accounts, decided requests ----------------------------------------------


async def test_buttons_on_gone_people_revoked_accounts_and_decided_requests(
    chat: ChatDriver, users: Users, errors: Errors, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    import datetime as dt

    from sqlalchemy import delete

    from storage.buddies import Appointment, BuddyMatch
    from storage.directory import Person
    from storage.members import Member

    async with sessionmaker.begin() as session:
        head, buddy, gone = (
            Person(first_name="New", last_name="Head"),
            Person(first_name="Old", last_name="Hand"),
            Person(first_name="Gone", last_name="Away"),
        )
        session.add_all([head, buddy, gone])
        await session.flush()
        appointment = Appointment(person_id=head.id, start_date=dt.date(2026, 9, 1), reporter_relation="office")
        session.add(appointment)
        await session.flush()
        decided = BuddyMatch(appointment_id=appointment.id, buddy_person_id=buddy.id, status="declined")
        waiting = BuddyMatch(appointment_id=appointment.id, buddy_person_id=buddy.id, status="requested")
        session.add_all([decided, waiting])
        await session.flush()
        ids = {"gone": gone.id, "decided": decided.id, "waiting": waiting.id}
        (await session.get(Member, users.member)).person_id = buddy.id  # type: ignore[union-attr]
    async with sessionmaker.begin() as session:
        await session.execute(delete(Person).where(Person.id == ids["gone"]))
    engine = sessionmaker.kw["bind"]
    before = await snapshot(engine, skip=BOOKKEEPING)

    sent = await chat.press(f"pc:{ids['gone']}", user=users.member)
    assert any("no longer in the directory" in s.text for s in sent)
    sent = await chat.press(f"bq:a:{ids['decided']}", user=users.member)
    assert any("already been answered" in a for a in alerts(sent))
    async with sessionmaker.begin() as session:
        (await session.get(Member, users.member)).active = False  # type: ignore[union-attr]  # revoked
    sent = await chat.press(f"bq:a:{ids['waiting']}", user=users.member)
    assert any("can't use that button" in a for a in alerts(sent))
    async with sessionmaker.begin() as session:
        (await session.get(Member, users.member)).active = True  # type: ignore[union-attr]
    assert await snapshot(engine, skip=(*BOOKKEEPING, "member")) == {k: v for k, v in before.items() if k != "member"}
    assert errors.seen == []


# --- ids just above 2^31 on every button ------------------------------------------------------------

ABOVE_INT = [2**31, 2**31 + 1, 2**32 + 7]


def _sample(item: str) -> list[str]:
    """Well-formed values for one declared item (core/callback_args.py)."""
    item = item.rstrip("?")
    if item in ("id", "bigid", "part"):
        return ["1"]
    if item in ("tok", "*"):
        return ["1", "a"]
    return item.split("|")


def above_int(prefix: str, args: str) -> list[str]:
    """Data shaped as `prefix`'s declaration, with a number just above 2^31 in each place in turn (and in
    all at once): ids an INTEGER column on PostgreSQL cannot hold, yet within 64 bits."""
    items = args.split(":")
    if items[-1].endswith("*"):
        items = [*items[:-1], items[-1][:-1] or "*"]
    base = [_sample(item)[0] for item in items]
    out = set()
    for word in {w for item in items for w in _sample(item)}:
        for i in range(len(items)):
            if word in _sample(items[i]):
                out.add(f"{prefix}:" + ":".join([*base[:i], word, *base[i + 1 :]]))
    for big in ABOVE_INT:
        for i in range(len(items)):
            out.add(f"{prefix}:" + ":".join([*base[:i], str(big), *base[i + 1 :]]))
        out.add(f"{prefix}:" + ":".join([str(big)] * len(items)))
    return sorted(d for d in out if len(d) <= 64)


def test_every_button_declares_its_args() -> None:
    from handlers import fold_features
    from handlers.manifest import Button, Features, Manifest
    from storage.members import Role

    async def nothing(*_args: Any) -> None:
        return None

    assert all(args is not None for args in fold_features().button_args.values())
    with pytest.raises(ValueError, match="declares no args"):
        Features((Manifest("x", buttons=(Button("zz", nothing, Role.MEMBER),)),))
    Features((Manifest("x", buttons=(Button("zz", nothing, Role.MEMBER, args="id:part*"),)),))


async def test_ids_just_above_32_bits_on_every_button_never_raise(
    chat: ChatDriver, users: Users, errors: Errors, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Every prefix, every place its declaration allows a number, 2^31 … 2^32+7: refused or answered as
    "not there", never an error (on PostgreSQL an INTEGER column raises for these)."""
    await populate(sessionmaker)
    await seed_plan(sessionmaker, link_lead=False)
    features = features_of(chat.app)
    pressed = 0
    for prefix in sorted(features.buttons):
        args = features.button_args[prefix]
        assert args is not None, prefix
        for data in above_int(prefix, args):
            for who in (users.member, users.coordinator, users.admin):
                sent = await chat.press(data, user=who)
                pressed += 1
                assert not any(SORRY in s.text for s in sent), (data, who, errors.seen[-1:])
                assert errors.seen == [], (data, who, errors.seen[:1])
    assert pressed > 500
