"""`partnerbot run` with a token: the bot in production, polling or behind a reverse proxy by webhook.

The start, in order: migrate the database; take the instance lock (storage/instance_lock.py: one running
bot per database; a second one says who is running and exits, or waits with --wait); build the
Application; `getMe` (a failure says in one line which setting to check); then either poll, or serve the
webhook (Telegram's secret-token header checked: a missing or wrong one gets 403 and a log line) with
`/healthz` beside it. Every few seconds the health report is written to STATUS_FILE for `partnerbot
status`.

The stop, on SIGTERM or SIGINT: stop taking updates (the poller stops, the webhook stops listening, and
Telegram keeps what it could not deliver), finish the updates already taken, write persistence, close
the database, release the lock; exit 0. This is python-telegram-bot's documented custom-webhook pattern
(initialize, start, our own server feeding `update_queue`, stop, shutdown) rather than run_webhook, so
that the health endpoint, the lock and the signals are ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import json
import logging
import secrets
import signal
import sys
from typing import Any
from urllib.parse import urlparse

from core.settings import Settings
from storage.db import migrate
from storage.instance_lock import Holder, InstanceLock, InstanceLockError

log = logging.getLogger("partnerbot.serve")

EXIT_LOCKED = 3  # another instance holds the lock (systemd: RestartPreventExitStatus=3)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"


class StartupError(Exception):
    """Start-up failed for a reason an operator can fix; the message names the setting, in one line."""


def describe_getme_failure(settings: Settings, exc: BaseException) -> str:
    """One line: what getMe said, and which setting to check."""
    from telegram.error import BadRequest, InvalidToken, NetworkError

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if settings.telegram_bot_token:  # python-telegram-bot quotes a rejected token in its message
        text = text.replace(settings.telegram_bot_token, "…")
    reason = f"{type(exc).__name__}: {text}".rstrip(": ")
    base = settings.telegram_api_base_url
    where = f" (now {base})" if base else ""
    if isinstance(exc, InvalidToken):
        setting = "TELEGRAM_BOT_TOKEN" + (f" and TELEGRAM_API_BASE_URL{where}" if base else "")
    elif isinstance(exc, BadRequest):
        setting = f"TELEGRAM_API_BASE_URL{where}" if base else "TELEGRAM_BOT_TOKEN"
    elif isinstance(exc, NetworkError):
        setting = (
            f"TELEGRAM_API_BASE_URL{where}"
            if base
            else "the network: api.telegram.org cannot be reached (or set TELEGRAM_API_BASE_URL)"
        )
    else:
        setting = "TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL"
    return f"Telegram's getMe failed ({reason}): check {setting}"


# --- the webhook server ---------------------------------------------------------------------------


def make_web_app(application: Any, url_path: str | None, secret: str, health: Any) -> Any:
    """The bot's one web server (tornado, already installed by python-telegram-bot[webhooks]): POST /<url_path>
    takes Telegram's updates (webhook mode only: `url_path` None in polling mode), GET /healthz answers the
    health report, /app/ is the Mini App (webapp/server.py)."""
    import tornado.web
    from telegram import Update

    from webapp.server import routes as webapp_routes

    class WebhookHandler(tornado.web.RequestHandler):
        async def post(self) -> None:
            got = self.request.headers.get(SECRET_HEADER)
            if got is None or not hmac.compare_digest(got.encode(), secret.encode()):
                log.warning(
                    "webhook: refused a POST with a %s secret token from %s (403)",
                    "missing" if got is None else "wrong",
                    self.request.remote_ip,
                )
                self.set_status(403)
                return
            try:
                data = json.loads(self.request.body)
                update = Update.de_json(data, application.bot)
            except Exception:  # noqa: BLE001 - whatever the body is, it is not an update
                log.warning(
                    "webhook: refused a body that is not a Telegram update from %s (400)", self.request.remote_ip
                )
                self.set_status(400)
                return
            await application.update_queue.put(update)
            self.set_status(200)

        def log_exception(self, *args: Any) -> None:  # no traceback with a request body in it
            log.warning("webhook: error while taking an update")

    class HealthHandler(tornado.web.RequestHandler):
        async def get(self) -> None:
            report = await health()
            self.set_status(200 if report["healthy"] else 503)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(report))

    handlers: list[Any] = [(HEALTH_PATH, HealthHandler)]
    if url_path is not None:
        handlers.insert(0, (rf"/{url_path}", WebhookHandler))
    handlers += webapp_routes(application, application.bot_data["services"])
    # No per-request access log: tornado's would carry paths and addresses of every call; ours say outcomes.
    return tornado.web.Application(handlers, log_function=lambda handler: None)


# --- running ----------------------------------------------------------------------------------------


async def set_menu_button(application: Any, settings: Settings) -> None:
    """The chat's menu button opens the Mini App when WEBAPP_URL is set (for everyone: the page itself shows
    a stranger nothing, the API refuses them); without it, the command list."""
    from telegram import MenuButtonCommands, MenuButtonWebApp, WebAppInfo
    from telegram.error import TelegramError

    from core.i18n import _

    try:
        if settings.webapp_url:
            button: Any = MenuButtonWebApp(_("Office"), WebAppInfo(settings.webapp_url))
        else:
            button = MenuButtonCommands()
        await application.bot.set_chat_menu_button(menu_button=button)
    except TelegramError as exc:  # a courtesy: the bot works without it
        log.warning("could not set the menu button: %s", exc.__class__.__name__)


def freeze_startup_heap() -> None:
    """Everything loaded by start-up (modules, the database layer, the index) lives as long as the bot: take it out
    of the cyclic collector's view, whose full passes over it stopped the event loop for 40-260 ms when 20 people
    loaded the Mini App's board at once (benchmarks/WEBAPP.md). The garbage is collected first, so none is kept.
    Only in the long-running process: a test process builds many applications and would keep their garbage."""
    gc.collect()
    gc.freeze()


async def serve(settings: Settings, wait: bool = False) -> int:
    """Run the bot until SIGTERM/SIGINT; the exit code."""
    from telegram import Update
    from telegram.error import TelegramError

    from bot import build_application
    from cli.health import HEARTBEAT_EVERY, health_report, remove_status, write_status

    lock = InstanceLock(settings.database_url)

    def waiting(holder: Holder | None) -> None:
        print(
            f"partnerbot: waiting: another PartnerBot is running on this database "
            f"({holder.describe() if holder else 'unknown'}).",
            file=sys.stderr,
            flush=True,
        )

    try:
        await lock.acquire(wait=wait, on_wait=waiting)
    except InstanceLockError as exc:
        print(f"partnerbot: {exc}. Stop it first, or start this one with --wait.", file=sys.stderr)
        return EXIT_LOCKED
    try:
        await migrate(settings.database_url)  # after the lock: two instances never migrate at once
    except BaseException:
        await lock.release()
        raise

    mode = "webhook" if settings.webhook_url else "polling"
    stop = asyncio.Event()
    exit_code = 0
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    heartbeat: asyncio.Task[None] | None = None
    server: Any = None
    application = build_application(settings)
    try:
        try:
            await application.initialize()  # getMe
        except TelegramError as exc:
            raise StartupError(describe_getme_failure(settings, exc)) from None
        if application.post_init is not None:
            await application.post_init(application)

        async def health() -> dict[str, Any]:
            return await health_report(application, mode, lock)

        await application.start()
        from tornado.httpserver import HTTPServer

        # One web server in both modes: /healthz and the Mini App, and the webhook when there is one.
        url_path = urlparse(settings.webhook_url).path.strip("/") if settings.webhook_url else None
        # Without a secret anyone who finds the URL could post forged updates (any sender id, admins
        # included); Telegram sends this one back with every update.
        secret = settings.webhook_secret or secrets.token_urlsafe(32)
        server = HTTPServer(make_web_app(application, url_path, secret, health), xheaders=True)
        listen, port = settings.server_address
        server.listen(port, listen)
        await set_menu_button(application, settings)
        if settings.webhook_url:
            await application.bot.set_webhook(
                settings.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
            )
        else:
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        freeze_startup_heap()
        log.info("running (%s); SIGTERM stops it cleanly", mode)

        async def beat() -> None:
            nonlocal exit_code
            while True:
                report = await health()
                try:
                    write_status(settings.status_file, report)
                except OSError as exc:
                    log.warning("cannot write the status file %s: %s", settings.status_file, exc)
                if report["instance_lock"] == "lost":
                    log.critical("the instance lock was lost (database connection gone): stopping")
                    exit_code = 1
                    stop.set()
                    return
                await asyncio.sleep(HEARTBEAT_EVERY)

        heartbeat = asyncio.create_task(beat())
        await stop.wait()
        log.info("stopping: taking no more updates, finishing the ones in hand")
    finally:
        if heartbeat is not None:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        try:
            if server is not None:
                server.stop()  # no new connections; Telegram keeps undelivered updates and retries
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()  # processes what was taken, then writes persistence
            if server is not None:
                await server.close_all_connections()
            if application.post_stop is not None and not application.running:
                await application.post_stop(application)
            await application.shutdown()
            if application.post_shutdown is not None:
                await application.post_shutdown(application)  # closes the database
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            remove_status(settings.status_file)
            await lock.release()
    log.info("stopped")
    return exit_code
