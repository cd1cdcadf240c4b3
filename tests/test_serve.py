"""`partnerbot run` as it runs in production: a real process, talking HTTP to a Bot API server on
localhost (tests/fake_bot_api.py), polling and by webhook; the health endpoint and `partnerbot status`;
one instance per database; SIGTERM mid-stream losing nothing; getMe failures naming the setting; JSON logs
without message text."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from core.settings import load_settings
from tests.fake_bot_api import TOKEN, FakeBotApi

STRANGER = 9001
pytestmark = pytest.mark.slow  # real processes: each start imports the whole bot


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(db_url: str, tmp_path: Path, api_base: str, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api_base,
        "DATABASE_URL": db_url,
        "STATUS_FILE": str(tmp_path / "status.json"),
    }
    if "WEBHOOK_PORT" not in extra:  # the one web server listens in polling mode too: never on a shared port
        env["WEB_PORT"] = str(_free_port())
    env.update(extra)
    return env


class Bot:
    """`partnerbot run` in a subprocess; stderr kept for the test to read."""

    def __init__(self, env: dict[str, str], cwd: Path, *args: str) -> None:
        self.err_path = cwd / f"stderr-{time.monotonic_ns()}.log"
        self.err = open(self.err_path, "w+b")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "run", *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=self.err,
        )

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def terminate(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.err.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.err.close()


def _status(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "status"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _polling(fake: FakeBotApi) -> bool:
    return any(c.method == "getUpdates" for c in fake.calls)


def _wait_started(fake: FakeBotApi, bot: Bot, ready: Any) -> None:
    if not fake.wait_for(lambda: ready() or bot.proc.poll() is not None, 60) or bot.proc.poll() is not None:
        bot.kill()
        pytest.fail(f"the bot did not start:\n{bot.stderr}")


def _post(url: str, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST" if data is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# --- the base URL -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    ["http://127.0.0.1:8081", "http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/bot/"],
)
def test_base_url_with_or_without_bot(given: str) -> None:
    settings = load_settings(telegram_api_base_url=given, _env_file=None)
    assert settings.api_base_urls == ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot")


# --- polling ----------------------------------------------------------------------------------------


async def test_polling_over_http_status_and_json_logs_without_text(db_url: str, tmp_path: Path) -> None:
    with FakeBotApi() as fake:
        env = _env(db_url, tmp_path, fake.base_url, LOG_FORMAT="json")  # the form without /bot
        bot = Bot(env, tmp_path)
        try:
            _wait_started(fake, bot, lambda: _polling(fake))
            fake.push(
                fake.message_update(STRANGER, "/help"),
                fake.message_update(STRANGER + 1, "/find Zebedee 07700 900123 zeb@example.org"),
            )
            assert fake.wait_for(lambda: {c.params.get("chat_id") for c in fake.sent()} >= {STRANGER, STRANGER + 1})
            assert fake.wait_for(lambda: (tmp_path / "status.json").exists())
            healthy = _status(env, tmp_path)
            assert healthy.returncode == 0, healthy.stdout + healthy.stderr
            assert healthy.stdout.startswith("healthy") and "mode: polling" in healthy.stdout
            assert "database: ok" in healthy.stdout
            # /healthz and the Mini App are served in polling mode too
            status, body = _post(f"http://127.0.0.1:{env['WEB_PORT']}/healthz", None)
            assert status == 200 and json.loads(body)["healthy"] is True
            status, _page = _post(f"http://127.0.0.1:{env['WEB_PORT']}/app/api/me", None)
            assert status == 401
        finally:
            code = bot.terminate()
        assert code == 0, bot.stderr
    stderr = bot.stderr
    assert "Zebedee" not in stderr and "900123" not in stderr and "example.org" not in stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert len(lines) == len(stderr.splitlines()), stderr  # every line is JSON
    updates = [line for line in lines if line["logger"] == "partnerbot.updates"]
    by_user = {line["user_id"]: line for line in updates}
    assert set(by_user) == {STRANGER, STRANGER + 1}
    for line in updates:
        assert line["kind"] == "message" and isinstance(line["ms"], float)
        assert line["outcome"] in {"handled", "refused"} and line["handler"]
    assert by_user[STRANGER + 1]["command"] == "/find" and by_user[STRANGER + 1]["outcome"] == "refused"
    # stopped: the status says so, and exits 1
    gone = _status(env, tmp_path)
    assert gone.returncode == 1 and gone.stdout.startswith("UNHEALTHY")


# --- webhook ----------------------------------------------------------------------------------------


async def test_webhook_checks_the_secret_and_serves_health(db_url: str, tmp_path: Path) -> None:
    port = _free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    with FakeBotApi() as fake:
        env = _env(
            db_url,
            tmp_path,
            fake.base_url + "/bot",  # the form with /bot
            WEBHOOK_URL=hook,
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
            WEBHOOK_SECRET="s3cret-Token",
        )
        bot = Bot(env, tmp_path)
        try:
            _wait_started(fake, bot, lambda: fake.sent("setWebhook"))
            (registered,) = fake.sent("setWebhook")
            assert registered.params["url"] == hook and registered.params["secret_token"] == "s3cret-Token"
            update = fake.message_update(STRANGER, "/help")
            assert _post(hook, update)[0] == 403  # no secret header
            assert _post(hook, update, {"X-Telegram-Bot-Api-Secret-Token": "wrong"})[0] == 403
            assert not fake.sent()  # neither was handled
            assert _post(hook, update, {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token"})[0] == 200
            assert fake.wait_for(lambda: [c for c in fake.sent() if c.params.get("chat_id") == STRANGER])
            assert fake.wait_for(
                lambda: json.loads(_post(f"http://127.0.0.1:{port}/healthz", None)[1]).get("updates_handled") == 1
            )
            status, body = _post(f"http://127.0.0.1:{port}/healthz", None)
            report = json.loads(body)
            assert status == 200 and report["healthy"] is True, report
            assert report["mode"] == "webhook" and report["database"] == "ok" and report["jobs_scheduled"] > 0
            assert report["last_update_at"] and report["instance_lock"] == "held"
            assert fake.wait_for(lambda: (tmp_path / "status.json").exists())
            assert _status(env, tmp_path).returncode == 0
        finally:
            code = bot.terminate()
        assert code == 0, bot.stderr
    assert "refused a POST with a missing secret token" in bot.stderr
    assert "refused a POST with a wrong secret token" in bot.stderr


async def test_webhook_without_a_configured_secret_still_requires_one(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    port = _free_port()
    hook = f"http://127.0.0.1:{port}/tg"
    with FakeBotApi() as fake:
        env = _env(url, tmp_path, fake.base_url, WEBHOOK_URL=hook, WEBHOOK_PORT=str(port))
        bot = Bot(env, tmp_path)
        try:
            _wait_started(fake, bot, lambda: fake.sent("setWebhook"))
            secret = fake.sent("setWebhook")[0].params["secret_token"]
            assert len(secret) >= 32  # made up at start, sent to Telegram only
            update = fake.message_update(STRANGER, "/help")
            assert _post(hook, update)[0] == 403
            assert _post(hook, update, {"X-Telegram-Bot-Api-Secret-Token": secret})[0] == 200
            assert fake.wait_for(lambda: fake.sent())
        finally:
            assert bot.terminate() == 0, bot.stderr


# --- one instance -------------------------------------------------------------------------------------


async def test_a_second_instance_names_the_first_and_exits_or_waits(db_url: str, tmp_path: Path) -> None:
    with FakeBotApi() as fake:
        env = _env(db_url, tmp_path, fake.base_url)
        first = Bot(env, tmp_path)
        try:
            _wait_started(fake, first, lambda: _polling(fake))
            second = subprocess.run(
                [sys.executable, "-m", "cli.main", "run"],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert second.returncode == 3, second.stderr
            (line,) = second.stderr.strip().splitlines()
            assert "another PartnerBot is running on this database" in line
            assert socket.gethostname() in line and f"pid {first.proc.pid}" in line and "since 20" in line
            assert "--wait" in line
            getme_before = len(fake.sent("getMe"))
            assert getme_before == 1  # the second one never started its Application
            waiting = Bot(env, tmp_path, "--wait")
            try:
                assert fake.wait_for(lambda: "waiting" in waiting.stderr, 60), waiting.stderr
                assert waiting.proc.poll() is None and len(fake.sent("getMe")) == 1
                assert first.terminate() == 0
                # the waiting one takes over
                assert fake.wait_for(lambda: len(fake.sent("getMe")) == 2, 60), waiting.stderr
                fake.push(fake.message_update(STRANGER, "/help"))
                assert fake.wait_for(lambda: fake.sent()), waiting.stderr
            finally:
                assert waiting.terminate() == 0, waiting.stderr
        finally:
            first.kill()


# --- SIGTERM ------------------------------------------------------------------------------------------


async def test_sigterm_mid_stream_loses_nothing(tmp_path: Path, db_url: str) -> None:
    users = [STRANGER + i for i in range(8)]
    with FakeBotApi(send_delay=0.4) as fake:
        env = _env(db_url, tmp_path, fake.base_url)
        bot = Bot(env, tmp_path)
        try:
            _wait_started(fake, bot, lambda: _polling(fake))
            fake.push(*[fake.message_update(u, "/help") for u in users])
            assert fake.wait_for(lambda: fake.sent(), 60)
            # updates are in hand (each reply takes 0.4 s): stop now
        finally:
            code = bot.terminate()
        assert code == 0, bot.stderr
        first_run = Counter(c.params.get("chat_id") for c in fake.sent())
        assert first_run and all(n == 1 for n in first_run.values())
        # what the bot took from Telegram (confirmed by its last getUpdates) is exactly what it answered;
        # the rest is still with Telegram for the next start
        assert {users[update_id - 1] for update_id in fake.confirmed} == set(first_run)
        polls = len(fake.sent("getUpdates"))
        again = Bot(env, tmp_path)
        try:
            _wait_started(fake, again, lambda: len(fake.sent("getUpdates")) > polls + 1)
            assert fake.wait_for(lambda: len(fake.sent()) >= len(users), 60), again.stderr
            time.sleep(1.0)  # nothing more arrives
        finally:
            assert again.terminate() == 0, again.stderr
        answered = Counter(c.params.get("chat_id") for c in fake.sent())
        assert answered == Counter(users)  # every update answered exactly once over the two runs


# --- getMe ----------------------------------------------------------------------------------------------


async def test_a_failing_getme_names_the_setting_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    with FakeBotApi() as fake:
        cases = [
            ({"TELEGRAM_BOT_TOKEN": "123456:not-the-right-one"}, "check TELEGRAM_BOT_TOKEN"),
            ({"TELEGRAM_API_BASE_URL": fake.base_url + "/bot/v2"}, "TELEGRAM_API_BASE_URL (now "),
            ({"TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{_free_port()}"}, "check TELEGRAM_API_BASE_URL"),
        ]
        for extra, wanted in cases:
            env = _env(url, tmp_path, fake.base_url)
            env.update(extra)
            result = subprocess.run(
                [sys.executable, "-m", "cli.main", "run"],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 1, result.stderr
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("partnerbot: Telegram's getMe failed ("), result.stderr
            assert wanted in lines[0] and TOKEN not in lines[0]
            assert not (tmp_path / "bot.db.lock").exists() or _lock_free(tmp_path / "bot.db.lock")


def _lock_free(path: Path) -> bool:
    import fcntl

    with open(path, "rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
    return True
