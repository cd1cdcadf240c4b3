"""One structured log line per update through the real Application: who, what kind, which handler, how
long, how it ended; never the text, a name or contact details; JSON with LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging

import pytest
from telegram.ext import Application

from cli.logs import JsonFormatter
from storage.directory import Person
from tests.harness import ChatDriver, Users


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [record.update for record in caplog.records if record.name == "partnerbot.updates"]  # type: ignore[attr-defined]


async def test_each_update_logs_who_what_and_outcome_without_text(
    app: Application, chat: ChatDriver, users: Users, sessionmaker, caplog: pytest.LogCaptureFixture
) -> None:
    async with sessionmaker.begin() as session:
        session.add(
            Person(
                first_name="Zebedee",
                last_name="Quayle",
                phone="07700 900123",
                email="zq@example.org",
                job_title="Headteacher",
            )
        )
    await app.bot_data["services"].refresh_directory()
    caplog.set_level(logging.INFO, logger="partnerbot.updates")
    await chat.send("/find Zebedee", user=users.member)
    await chat.send("Zebedee 07700 900123", user=users.member)
    await chat.send("/find Zebedee", user=users.stranger)
    await chat.send("/nosuchcommand zq@example.org", user=users.member)
    lines = _lines(caplog)
    assert [line["user_id"] for line in lines] == [users.member, users.member, users.stranger, users.member]
    assert all(line["kind"] == "message" and line["ms"] >= 0 for line in lines)
    assert lines[0]["command"] == "/find" and lines[0]["handler"] and lines[0]["outcome"] == "handled"
    assert lines[1]["command"] is None and lines[1]["outcome"] == "handled"
    assert lines[2]["outcome"] in {"refused", "ignored"}
    everything = caplog.text + "".join(JsonFormatter().format(r) for r in caplog.records)
    for secret in ("Zebedee", "Quayle", "900123", "example.org"):
        assert secret not in everything


async def test_an_error_in_a_handler_is_logged_as_error(
    app: Application, chat: ChatDriver, users: Users, caplog: pytest.LogCaptureFixture
) -> None:
    from telegram.error import NetworkError

    def fail(sent: object) -> None:
        raise NetworkError("the line is down")

    app.bot.request.on_call = fail  # type: ignore[attr-defined]  # every reply fails inside the handler
    caplog.set_level(logging.INFO, logger="partnerbot.updates")
    await chat.send("/help", user=users.member)
    (line,) = _lines(caplog)
    assert line["outcome"] == "error" and app.bot_data["update_stats"].errors == 1


def test_json_lines_carry_the_fields() -> None:
    record = logging.LogRecord("partnerbot.updates", logging.INFO, __file__, 1, "update %s", ("x",), None)
    record.update = {"user_id": 5, "handler": "find.find_command", "outcome": "handled", "ms": 1.5}
    line = json.loads(JsonFormatter().format(record))
    assert line["logger"] == "partnerbot.updates" and line["level"] == "info" and line["user_id"] == 5
    assert line["message"] == "update x" and line["time"].endswith("+00:00")
