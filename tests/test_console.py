"""The offline console, scripted as a trainer would: a member finds a head from a misspelt surname and
opens their card; the same script as a stranger shows no personal data."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cli.console import console_session
from core.settings import load_settings
from storage.db import make_engine, make_sessionmaker
from storage.directory import Person


def misspell(name: str) -> str:
    """Swap two letters in the middle: 'Hammond' -> 'Hamomnd'."""
    i = max(1, len(name) // 2 - 1)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


async def run_script(db_url: str, as_id: int, lines: list[str], tmp_path: Path) -> str:
    settings = load_settings(database_url=db_url, console_files_dir=str(tmp_path / "files"), _env_file=None)
    out = io.StringIO()
    await console_session(settings, as_id, True, io.StringIO("".join(f"{line}\n" for line in lines)), out)
    return out.getvalue()


async def a_head(db_url: str) -> Person:
    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as session:
        heads = (
            await session.scalars(
                select(Person)
                .options(selectinload(Person.school))
                .where(Person.is_head.is_(True), Person.phone.is_not(None))
                .order_by(Person.id)
            )
        ).all()
    await engine.dispose()
    # a surname that only one head has, so the first result must be them
    counts: dict[str, int] = {}
    for head in heads:
        counts[head.last_name] = counts.get(head.last_name, 0) + 1
    return next(h for h in heads if counts[h.last_name] == 1 and len(h.last_name) >= 6)


async def test_member_finds_head_from_misspelt_surname(db_url: str, tmp_path: Path) -> None:
    await run_script(db_url, 1001, [], tmp_path)  # first use loads the demo partnership
    head = await a_head(db_url)
    output = await run_script(db_url, 1001, [f"/find {misspell(head.last_name)}", "1"], tmp_path)
    assert "PartnerBot console, offline. You are 1001" in output
    assert head.last_name in output
    assert head.phone in output  # the card opened
    assert "<b>" not in output  # HTML is shown readably


async def test_stranger_sees_no_personal_data(db_url: str, tmp_path: Path) -> None:
    await run_script(db_url, 9001, [], tmp_path)
    head = await a_head(db_url)
    output = await run_script(
        db_url, 9001, [f"/find {head.last_name}", head.last_name, "pc:1", "/me", "/start", "1", "/sle maths"], tmp_path
    )
    assert "request access" in output
    bot_said = "\n".join(line for line in output.splitlines() if not line.startswith("you> "))
    for secret in (head.last_name, head.first_name + " " + head.last_name, head.phone, head.email or "@"):
        assert secret not in bot_said


def test_run_without_token_starts_the_console(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/run.db", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "bot.py"],
        input="/help\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first == "No TELEGRAM_BOT_TOKEN set: starting the offline console with demo data (Ctrl-D to quit)."
    assert "What I can do for you" in result.stdout


async def test_the_mini_app_link_is_served_while_the_console_waits_for_a_line(db_url: str, tmp_path: Path) -> None:
    """A script piped in (a trainer's demo) waits for its next line in a thread: the page and its API answer
    meanwhile, as the console's current user (the link's init data, signed with the console's own key)."""
    import asyncio
    import os
    import re
    from urllib.parse import unquote

    import httpx

    settings = load_settings(database_url=db_url, console_files_dir=str(tmp_path / "files"), _env_file=None)
    read_fd, write_fd = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_fd, "r") as stdin, os.fdopen(write_fd, "w") as script:
        session = asyncio.create_task(console_session(settings, 1003, True, stdin, out))
        script.write(":app\n")
        script.flush()
        link = None
        for _attempt in range(200):
            found = re.search(r"(http://127\.0\.0\.1:\d+)/app/#tgWebAppData=(\S+)", out.getvalue())
            if found:
                link = found
                break
            await asyncio.sleep(0.05)
        assert link is not None, out.getvalue()
        try:
            async with httpx.AsyncClient(base_url=link.group(1), timeout=10) as client:
                page = await client.get("/app/")
                me = await client.get("/app/api/me", headers={"Authorization": "tma " + unquote(link.group(2))})
        finally:
            script.write(":quit\n")
            script.flush()
            await asyncio.wait_for(session, 30)
    assert page.status_code == 200 and "console-telegram.js" in page.text
    assert me.status_code == 200 and me.json()["desk"] is True  # 1003 is the demo's coordinator
