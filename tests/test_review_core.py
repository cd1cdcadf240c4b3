"""Regression tests from the review of storage/ and core/: the command line stops with one line on bad
input, webhook settings are checked, the console survives odd input, and backups are consistent."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import storage.backup as backup_module
from cli.console import console_session
from cli.main import main
from core.settings import SettingsError, load_settings
from storage.backup import BackupError, backup
from storage.db import make_engine, make_sessionmaker
from storage.members import Member
from storage.plans import Action, Plan


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    return int(caught.value.code or 0)


async def _in_thread(argv: list[str]) -> int:
    """cli.main.main runs its own event loop: call it from an async test in a worker thread."""
    return await asyncio.to_thread(_exit_code, argv)


# --- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code"), [("postgresql://nobody@127.0.0.1:1/nothing", 1), ("sqlite:////no/such/dir/partnerbot.db", 2)]
)
def test_cli_unusable_database_is_one_line_not_a_traceback(url: str, code: int, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert _exit_code(["db", "current"]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("partnerbot: "), err


async def test_cli_grant_refuses_an_impossible_telegram_id(db_url: str, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    for bad in ("99999999999999999999999", "0", "-5"):
        assert await _in_thread(["admin", "grant", "--", bad, "admin"]) == 2
        assert "not a Telegram" in capsys.readouterr().err
    assert await _in_thread(["admin", "grant", "4242", "lead"]) == 0
    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as session:
        assert [m.telegram_id for m in await session.scalars(select(Member))] == [4242]
    await engine.dispose()


async def test_cli_backup_into_a_missing_folder_is_refused_in_one_line(db_url: str, tmp_path: Path, capsys) -> None:
    target = tmp_path / "no-such-folder" / "b.zip"
    assert await _in_thread(["backup", str(target), "--database-url", db_url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Backup failed: cannot write" in err[0], err
    engine = make_engine(db_url)
    with pytest.raises(BackupError, match="cannot write"):
        await backup(engine, target)
    await engine.dispose()


# Webhook mode (a secret always checked, also when WEBHOOK_SECRET is not set): tests/test_serve.py, over HTTP.


# --- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("webhook_url", "bot.example.org/tg"),  # no scheme: Telegram would refuse it at start
        ("webhook_url", "http://bot.example.org/tg"),  # Telegram's own servers only call https
        ("webhook_secret", "has spaces and ü"),
        ("webhook_secret", "x" * 257),
        ("webhook_port", "70000"),
        ("telegram_api_base_url", "127.0.0.1:8081"),
    ],
)
def test_wrong_webhook_settings_stop_start_up(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**{name: value}, _env_file=None)
    assert str(caught.value).startswith(name.upper() + ":")


def test_good_webhook_settings_pass() -> None:
    settings = load_settings(
        webhook_url="https://bot.example.org/tg", webhook_secret="abc-DEF_123", webhook_port="8443", _env_file=None
    )
    assert settings.webhook_url == "https://bot.example.org/tg" and settings.webhook_secret == "abc-DEF_123"
    # a self-hosted Bot API server may call a plain http webhook
    settings = load_settings(
        webhook_url="http://127.0.0.1:9000/tg", telegram_api_base_url="http://127.0.0.1:8081", _env_file=None
    )
    assert settings.webhook_url == "http://127.0.0.1:9000/tg"
    assert load_settings(webhook_url=" ", webhook_secret="", _env_file=None).webhook_url is None


# --- the console --------------------------------------------------------------------------------


async def test_console_survives_odd_input(db_url: str, tmp_path: Path) -> None:
    settings = load_settings(database_url=db_url, console_files_dir=str(tmp_path / "files"), _env_file=None)
    lines = [
        "",
        "   ",
        "/start",
        "²",
        ":file /" + "a" * 5000,
        ":file " + str(tmp_path / "missing.csv"),
        ":file",
        ":as",
        ":as junk",
        "7",
        "/start",
        "1",
    ]
    out = io.StringIO()
    assert await console_session(settings, 9001, False, io.StringIO("".join(f"{x}\n" for x in lines)), out) == 0
    text = out.getvalue()
    assert "cannot read" in text and "no such file" in text and "usage: :as TELEGRAM_ID" in text
    assert "(pressed" in text  # "1" still presses the button


async def test_console_closes_the_database_when_it_stops_on_an_error(db_url: str, tmp_path: Path, monkeypatch) -> None:
    from core.services import Services

    closed: list[bool] = []
    original = Services.close

    async def close(self: Services) -> None:
        closed.append(True)
        await original(self)

    monkeypatch.setattr(Services, "close", close)

    class Failing(io.StringIO):
        def readline(self, *args: Any) -> str:  # type: ignore[override]
            raise RuntimeError("terminal went away")

    settings = load_settings(database_url=db_url, console_files_dir=str(tmp_path / "files"), _env_file=None)
    with pytest.raises(RuntimeError):
        await console_session(settings, 9001, False, Failing(), io.StringIO())
    assert closed == [True]


# --- backup -------------------------------------------------------------------------------------


def _write_plan_elsewhere(url: str) -> None:
    """A plan and its action committed by another connection (the running bot), from sync code."""

    async def run() -> None:
        engine = make_engine(url)
        async with make_sessionmaker(engine).begin() as session:
            plan = Plan(title="Added during the backup")
            session.add(plan)
            await session.flush()
            session.add(Action(plan_id=plan.id, ref="9.9", text="written mid-backup"))
        await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(run())).result()


async def test_backup_of_a_running_bot_is_one_consistent_snapshot(
    db_url: str, sessionmaker, tmp_path: Path, monkeypatch
) -> None:
    real_dump = backup_module.TableDump

    def dump(name: str, columns: list[str]) -> Any:
        if name == "plan_action":  # `plan` has been read already: the bot commits a plan and an action
            _write_plan_elsewhere(db_url)
        return real_dump(name, columns)

    monkeypatch.setattr(backup_module, "TableDump", dump)
    engine = sessionmaker.kw["bind"]
    file = tmp_path / "live.zip"
    await backup(engine, file)
    monkeypatch.undo()

    with zipfile.ZipFile(file) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        columns = {t["name"]: t["columns"] for t in manifest["tables"]}

        def rows(name: str) -> list[dict[str, Any]]:
            text = zf.read(f"tables/{name}.jsonl").decode()
            return [dict(zip(columns[name], json.loads(line))) for line in text.splitlines()]

        plan_ids = {r["id"] for r in rows("plan")}
        orphans = [r for r in rows("plan_action") if r["plan_id"] not in plan_ids]
    assert orphans == []  # a restore would fail on the foreign key
    async with sessionmaker() as session:  # the write itself happened, after the snapshot
        assert await session.scalar(select(func.count()).select_from(Action)) == 1


async def test_cli_backup_takes_the_plain_database_url_forms(db_url: str, tmp_path: Path, capsys) -> None:
    """`--database-url sqlite:///…` / `postgresql://…` (the forms DATABASE_URL documents) work too."""
    plain = db_url.replace("+aiosqlite", "").replace("+asyncpg", "")
    file = tmp_path / "plain.zip"
    assert await _in_thread(["backup", str(file), "--database-url", plain]) == 0, capsys.readouterr().err
    assert await _in_thread(["restore", str(file), "--database-url", plain, "--yes"]) == 0, capsys.readouterr().err
