"""Guided conversations carry on after the bot restarts mid-way: the process stops without a clean
shutdown (as after a crash), a new Application is built over the same database, and the user simply
answers the question they were last asked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application

from bot import build_application, start_services
from core.offline import OfflineRequest
from core.settings import load_settings
from storage.buddies import Appointment
from storage.directory import School
from storage.plans import ProgressUpdate
from tests.harness import USERS, ChatDriver, add_members
from tests.plan_seed import seed_plan


@asynccontextmanager
async def running_bot(db_url: str) -> AsyncIterator[ChatDriver]:
    """A bot that is started but never shut down: leaving the block is a crash, not a clean stop."""
    settings = load_settings(
        database_url=db_url, admin_telegram_ids=(USERS.admin,), telegram_bot_token=None, _env_file=None
    )
    application: Application = build_application(settings, OfflineRequest(), rate_limit=False)
    await application.initialize()
    await start_services(application)
    try:
        yield ChatDriver(application, application.bot.request)  # type: ignore[arg-type]
    finally:
        await application.bot_data["services"].close()  # only the connections; nothing is flushed


def last_buttons(sent: list) -> list[tuple[str, str]]:
    return next(s.buttons for s in reversed(sent) if s.buttons)


def button(sent: list, predicate: Callable[[str, str], bool]) -> str:
    return next(data for label, data in last_buttons(sent) if predicate(label, data))


async def test_newhead_carries_on_after_a_restart(db_url: str, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    # A coordinator: a member's registration for someone else would wait for a confirm (directory/integrity.py).
    await add_members(sessionmaker)
    async with sessionmaker.begin() as session:
        session.add(School(urn="123456", name="Hillside Primary School", phase="primary", locality="Riverton"))
    async with running_bot(db_url) as chat:
        await chat.send("/newhead", user=USERS.coordinator)
        await chat.press("nhw:school", user=USERS.coordinator)
        await chat.send("Ms Priya Okafor", user=USERS.coordinator)
        sent = await chat.send("Hillside Primary", user=USERS.coordinator)
        await chat.press(
            button(sent, lambda _label, data: data.startswith("nhs:") and data != "nhs:new"), user=USERS.coordinator
        )
    # The bot restarts. The user answers the question they were asked before it went down.
    async with running_bot(db_url) as chat:
        sent = await chat.send("1 Sept 2026", user=USERS.coordinator)
        assert "1 Sept 2026" in sent[-1].text
        sent = await chat.press("nhf:done", user=USERS.coordinator)
        sent = await chat.press(button(sent, lambda label, _data: "Done" in label), user=USERS.coordinator)
        sent = await chat.press("nhp:skip", user=USERS.coordinator)  # how to be reached: optional
        assert "Ms Priya Okafor" in sent[-1].text and "Hillside Primary School" in sent[-1].text
        sent = await chat.press("nhc:save", user=USERS.coordinator)
        assert any("Saved" in s.text for s in sent)
    async with sessionmaker() as session:
        appointment = (await session.scalars(select(Appointment))).one()
        assert appointment.reported_by == USERS.coordinator and str(appointment.start_date) == "2026-09-01"


async def test_guided_update_carries_on_after_a_restart(
    db_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await add_members(sessionmaker)
    await seed_plan(sessionmaker)
    async with running_bot(db_url) as chat:
        sent = await chat.send("/update", user=USERS.lead)
        sent = await chat.press(button(sent, lambda label, _data: label.startswith("★")), user=USERS.lead)
        await chat.press(button(sent, lambda label, _data: "Amber" in label), user=USERS.lead)
    async with running_bot(db_url) as chat:
        sent = await chat.send("Survey sent to all heads", user=USERS.lead)
        assert "Save this update?" in sent[-1].text and "Amber" in sent[-1].text
        await chat.press(button(sent, lambda _label, data: data.startswith("ups:")), user=USERS.lead)
    async with sessionmaker() as session:
        row = (await session.scalars(select(ProgressUpdate).where(ProgressUpdate.kind == "update"))).one()
        assert (row.rag, row.comment, row.author_id) == ("A", "Survey sent to all heads", USERS.lead)
