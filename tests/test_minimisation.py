"""Minimisation, where it is cheap to check: job names carry no people, buttons carry short prefixes and
ids (never a name, email or phone), and logs during an access request and an erasure carry no message text."""

from __future__ import annotations

import logging
import re

from telegram.ext import Application

from storage.directory import Person
from tests.harness import ChatDriver, Users

PERSONAL = ["Jane Smith", "Oakfield", "mo@example.org", "07700 900123", "Mo Member"]


def test_job_names_are_fixed_words(app: Application) -> None:
    names = [job.name for job in app.job_queue.jobs()]
    assert "retention" in names
    for name in names:
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name or ""), name


async def test_buttons_and_logs_carry_no_personal_data(chat: ChatDriver, users: Users, sessionmaker, caplog) -> None:
    async with sessionmaker.begin() as s:
        s.add(Person(first_name="Mo", last_name="Member", email="mo@example.org", phone="07700 900123"))
    await chat.app.bot_data["services"].refresh_directory()
    caplog.set_level(logging.INFO)  # what the bot logs in production (third-party DEBUG echoes SQL)
    await chat.send("/start", user=users.stranger)
    await chat.press("ar:req", user=users.stranger)
    await chat.send("Jane Smith, Oakfield Primary", user=users.stranger)
    await chat.send("/erase Member", user=users.admin)
    await chat.send("/find Mo Member", user=users.member)
    buttons = [data for sent in chat.sent for _label, data in (sent.buttons or [])]
    assert buttons  # the test looks at something
    for data in buttons:
        assert re.fullmatch(r"[a-z]{1,4}(:[A-Za-z0-9_-]{1,24})*", data), data
        assert not any(p.lower() in data.lower() for p in PERSONAL)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not [p for p in PERSONAL if p in logged], logged[-2000:]
