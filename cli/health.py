"""Is the bot healthy? One report, three readers: `/healthz` in webhook mode, the status file the running
bot rewrites every few seconds, and `partnerbot status` (a container HEALTHCHECK, systemd, an operator).

Healthy means: the process runs its Application, the database answers, the scheduled jobs are there, and
(on PostgreSQL) the instance lock is still held. When the last update was handled is reported, not judged:
a quiet night is not an illness.

`partnerbot status` reads the status file (STATUS_FILE) and adds its own look at the database; it exits 1
when the file is missing or stale (the bot is not running or hangs), when the bot said it is unhealthy,
or when the database does not answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import socket
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core import clock
from core.settings import Settings
from core.update_log import UpdateStats
from storage.db import make_engine
from storage.instance_lock import InstanceLock

HEARTBEAT_EVERY = 10.0  # seconds between status file writes
STALE_AFTER = 45.0  # a status file older than this means the bot stopped or hangs
DB_TIMEOUT = 5.0


async def database_reachable(engine: AsyncEngine, timeout: float = DB_TIMEOUT) -> bool:
    async def ping() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(ping(), timeout)
    except Exception:  # noqa: BLE001 - any failure means unreachable; the report says so
        return False
    return True


async def health_report(application: Any, mode: str, lock: InstanceLock | None = None) -> dict[str, Any]:
    """The running bot's health, as JSON-ready values."""
    services = application.bot_data["services"]
    stats: UpdateStats | None = application.bot_data.get("update_stats")
    jobs = len(application.job_queue.jobs()) if application.job_queue is not None else 0
    database = await database_reachable(services.engine)
    lock_ok = await lock.check() if lock is not None else True
    problems = []
    if not application.running:
        problems.append("the application is not running")
    if not database:
        problems.append("the database does not answer")
    if jobs == 0:
        problems.append("no jobs are scheduled")
    if not lock_ok:
        problems.append("the instance lock was lost")
    return {
        "healthy": not problems,
        "problems": problems,
        "mode": mode,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_at": stats.started_at.isoformat() if stats else None,
        "database": "ok" if database else "unreachable",
        "jobs_scheduled": jobs,
        "last_update_at": stats.last_update_at.isoformat() if stats and stats.last_update_at else None,
        "updates_handled": stats.handled if stats else 0,
        "update_errors": stats.errors if stats else 0,
        "instance_lock": "held" if lock_ok else "lost",
        "checked_at": clock.now().isoformat(),
    }


def write_status(path: str | Path, report: dict[str, Any]) -> None:
    """Replace the status file in one step (a reader never sees half a file)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(report, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def remove_status(path: str | Path) -> None:
    Path(path).unlink(missing_ok=True)


def read_status(path: str | Path) -> dict[str, Any] | None:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def judge_status(report: dict[str, Any] | None, path: str | Path, now: dt.datetime | None = None) -> list[str]:
    """What is wrong with the bot according to its status file (empty: nothing)."""
    if report is None:
        return [f"no running bot has written {path} (is it running? is STATUS_FILE the same for both?)"]
    problems = [str(p) for p in report.get("problems") or []]
    if not report.get("healthy") and not problems:
        problems.append("the bot reported itself unhealthy")
    try:
        checked = dt.datetime.fromisoformat(str(report.get("checked_at")))
        age = ((now or clock.now()) - checked).total_seconds()
    except (TypeError, ValueError):
        age = float("inf")
    if age > STALE_AFTER:
        problems.append(f"the status was last written {age:.0f} s ago: the bot has stopped or hangs")
    pid = report.get("pid")
    if report.get("host") == socket.gethostname() and isinstance(pid, int) and not _pid_alive(pid):
        problems.append(f"process {pid} is not running")
    return problems


def format_status(report: dict[str, Any] | None, problems: list[str]) -> list[str]:
    lines = ["healthy" if not problems else "UNHEALTHY: " + "; ".join(problems)]
    if report:
        for key in (
            "mode",
            "host",
            "pid",
            "started_at",
            "database",
            "jobs_scheduled",
            "last_update_at",
            "updates_handled",
            "update_errors",
            "instance_lock",
            "checked_at",
        ):
            lines.append(f"  {key}: {report.get(key) if report.get(key) is not None else '-'}")
    return lines


async def status(settings: Settings, as_json: bool = False) -> int:
    """`partnerbot status`: print the bot's health; 0 when healthy, 1 when not."""
    report = read_status(settings.status_file)
    problems = judge_status(report, settings.status_file)
    engine = make_engine(settings.database_url)
    try:
        if not await database_reachable(engine):
            problems.append("the database does not answer this command either")
    finally:
        await engine.dispose()
    if as_json:
        print(json.dumps({"healthy": not problems, "problems": problems, "report": report}, indent=1))
    else:
        print("\n".join(format_status(report, problems)))
    return 0 if not problems else 1
