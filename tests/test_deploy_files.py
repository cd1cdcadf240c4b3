"""The files in deploy/: Docker cannot run on these machines, so the container files are read and checked
(the compose file parsed as YAML, the Dockerfile's instructions); the systemd unit is checked by
`systemd-analyze verify` where the tool exists; the nginx site and the runbook by what they must say."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
ROOT = DEPLOY.parent


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending += (" " if pending else "") + line.rstrip("\\").strip()
        if line.endswith("\\"):
            continue
        word, _, rest = pending.partition(" ")
        out.append((word.upper(), rest.strip()))
        pending = ""
    return out


def test_dockerfile_is_slim_non_root_locked_and_checks_health() -> None:
    steps = _instructions(DEPLOY / "Dockerfile")
    (base,) = [args for word, args in steps if word == "FROM"]
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", base)
    users = [args for word, args in steps if word == "USER"]
    assert users and users[-1] not in {"root", "0"}
    # the user switch comes after every RUN (nothing installs as the bot's user), before CMD
    last_run = max(i for i, (word, _a) in enumerate(steps) if word == "RUN")
    user_at = max(i for i, (word, _a) in enumerate(steps) if word == "USER")
    cmd_at = max(i for i, (word, _a) in enumerate(steps) if word == "CMD")
    assert last_run < user_at < cmd_at
    runs = " ".join(args for word, args in steps if word == "RUN")
    assert "--require-hashes -r requirements.txt" in runs and "--no-deps" in runs
    assert "pybabel compile" in runs  # compiled catalogs
    (health,) = [args for word, args in steps if word == "HEALTHCHECK"]
    assert re.search(r'CMD \["partnerbot", "status"\]', health)
    assert "--interval=" in health and "--start-period=" in health
    copied = {args.split()[0] for word, args in steps if word == "COPY"}
    for package in ("cli", "core", "handlers", "directory", "storage", "plans", "locales", "data"):
        assert package in copied, f"the image would lack {package}/"
    for name in ("pyproject.toml", "requirements.txt", "bot.py"):
        assert any(name in args for word, args in steps if word == "COPY")
    assert ("STOPSIGNAL", "SIGTERM") in steps
    (cmd,) = [args for word, args in steps if word == "CMD"]
    assert cmd.startswith('["partnerbot", "run"')
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert ".venv" in ignored and ".git" in ignored and ".env" in ignored


def test_compose_has_postgres_volumes_healthchecks_and_waits_for_the_database() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"db", "bot"}
    db, bot = services["db"], services["bot"]
    assert db["image"].startswith("postgres:")
    assert any(v.split(":")[0] in compose["volumes"] and v.endswith("/var/lib/postgresql/data") for v in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["healthcheck"]["test"] == ["CMD", "partnerbot", "status"]
    assert bot["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    database_url = bot["environment"]["DATABASE_URL"]
    assert database_url.startswith("postgresql://") and "@db:5432/" in database_url
    assert any(v.split(":")[0] in compose["volumes"] for v in bot["volumes"])
    for service in (db, bot):
        assert service["restart"] == "unless-stopped"
    # the webhook port is published on the host's loopback only (nginx in front)
    assert all(str(p).startswith("127.0.0.1:") for p in bot.get("ports", []))
    assert "change-me" not in (DEPLOY / "compose.yaml").read_text(encoding="utf-8")


def _unit() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (DEPLOY / "partnerbot.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_systemd_unit_has_env_file_restart_policy_and_hardening() -> None:
    unit = _unit()
    assert unit["EnvironmentFile"] == ["/etc/partnerbot/partnerbot.env"]
    assert unit["Restart"] == ["on-failure"] and unit["User"] == ["partnerbot"]
    for key, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "CapabilityBoundingSet": "",
        "PrivateDevices": "yes",
        "RestrictNamespaces": "yes",
    }.items():
        assert unit.get(key) == [value], key
    assert unit["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    assert unit["KillSignal"] == ["SIGTERM"] and "run" in unit["ExecStart"][0]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    # verify checks that ExecStart exists: point it at this checkout's partnerbot
    partnerbot = Path(sys.executable).with_name("partnerbot")
    if not partnerbot.exists():
        pytest.skip("partnerbot is not installed beside this Python")
    text = (DEPLOY / "partnerbot.service").read_text(encoding="utf-8")
    text = text.replace("/opt/partnerbot/.venv/bin/partnerbot", str(partnerbot))
    unit = tmp_path / "partnerbot.service"
    unit.write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if "partnerbot.service" in line]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr


def test_nginx_site_terminates_tls_and_proxies_the_webhook() -> None:
    text = (DEPLOY / "nginx-partnerbot.conf").read_text(encoding="utf-8")
    assert text.count("{") == text.count("}")
    assert re.search(r"listen 443 ssl;", text) and "ssl_certificate " in text and "ssl_certificate_key " in text
    assert "return 301 https://" in text
    env = (DEPLOY / "partnerbot.env.example").read_text(encoding="utf-8")
    hook_path = re.search(r"^WEBHOOK_URL=https://[^/]+(/\S*)$", env, re.M).group(1)  # type: ignore[union-attr]
    port = re.search(r"^WEBHOOK_PORT=(\d+)$", env, re.M).group(1)  # type: ignore[union-attr]
    block = re.search(rf"location = {re.escape(hook_path)} \{{(.*?)\n    \}}", text, re.S)
    assert block, "the nginx site has no location for WEBHOOK_URL's path"
    assert f"proxy_pass http://127.0.0.1:{port};" in block.group(1)
    assert "proxy_set_header X-Telegram-Bot-Api-Secret-Token" not in text  # passed through, never replaced
    assert re.search(r"location = /healthz \{[^}]*deny all;", text)


def test_runbook_covers_what_operators_do() -> None:
    text = (DEPLOY / "RUNBOOK.md").read_text(encoding="utf-8").lower()
    for topic in (
        "install",
        "upgrade",
        "backup",
        "restore",
        "rotate the token",
        "sqlite to postgresql",
        "telegram is down",
        "logs",
        "scale",
        "partnerbot status",
        "partnerbot db copy",
        "--wait",
        "webhook",
        "advisory lock",
        "log_format=json",
    ):
        assert topic in text, topic
    # every command the runbook shows exists
    import argparse

    from cli.main import build_parser

    (commands,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    original = (DEPLOY / "RUNBOOK.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"(?:^\s*|`|/bin/)partnerbot ((?:-v )?[a-z]+)", original, re.M))
    assert shown, "the runbook shows no commands"
    for word in shown:
        assert word.removeprefix("-v ") in commands.choices, f"the runbook shows `partnerbot {word}`"


def test_the_image_copies_every_package_the_project_declares() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    include = re.search(r"include = \[(.*?)\]", pyproject).group(1)  # type: ignore[union-attr]
    packages = {p.strip().strip('"').rstrip("*") for p in include.split(",")}
    copied = {args.split()[0] for word, args in _instructions(DEPLOY / "Dockerfile") if word == "COPY"}
    assert packages <= copied
