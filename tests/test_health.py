"""How `partnerbot status` judges the status file the running bot writes (the live process is tested over
HTTP in tests/test_serve.py)."""

from __future__ import annotations

import datetime as dt
import os
import socket

from cli.health import STALE_AFTER, judge_status, read_status, write_status

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)


def _report(**changes: object) -> dict[str, object]:
    report: dict[str, object] = {
        "healthy": True,
        "problems": [],
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "checked_at": NOW.isoformat(),
    }
    report.update(changes)
    return report


def test_a_fresh_healthy_report_is_healthy(tmp_path) -> None:
    write_status(tmp_path / "s.json", _report())
    assert judge_status(read_status(tmp_path / "s.json"), tmp_path / "s.json", NOW) == []


def test_what_makes_it_unhealthy(tmp_path) -> None:
    path = tmp_path / "s.json"
    assert "no running bot" in judge_status(None, path, NOW)[0]
    stale = NOW + dt.timedelta(seconds=STALE_AFTER + 1)
    assert any("stopped or hangs" in p for p in judge_status(_report(), path, stale))
    assert judge_status(_report(healthy=False, problems=["the database does not answer"]), path, NOW) == [
        "the database does not answer"
    ]
    dead = 2**22 + 12345  # above the default pid_max: no such process
    assert any(f"process {dead} is not running" in p for p in judge_status(_report(pid=dead), path, NOW))
    path.write_text("{half a file", encoding="utf-8")
    assert read_status(path) is None
