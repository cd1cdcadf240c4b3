"""PartnerBot: builds the Application from settings. `python bot.py` is `partnerbot run`."""

from __future__ import annotations

import logging
import sys
from typing import Any

from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ContextTypes, Defaults
from telegram.request import BaseRequest

from core import update_log
from core.i18n import set_default_locale
from core.offline import OFFLINE_TOKEN
from core.services import BotContext, DirectoryLoaders, Services
from core.settings import Settings
from core.update_order import UserOrderedProcessor
from storage.db import make_engine, make_sessionmaker
from storage.members import member_row

log = logging.getLogger("partnerbot")


def build_application(
    settings: Settings, request: BaseRequest | None = None, *, rate_limit: bool = True, updater: bool = True
) -> Application[Any, BotContext, Any, Any, Any, Any]:
    """The configured Application, not started. `request` replaces the network (console, tests)."""
    from directory.freshness import directory_version
    from directory.loader import load_person_entry
    from directory.snapshot import load_index_cached
    from handlers import register
    from storage.persistence import SQLPersistence, attach

    set_default_locale(settings.default_locale)
    # The engine connects lazily, so making it here is safe; persistence needs its sessions before
    # post_init runs. post_shutdown disposes of it.
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    loaders = DirectoryLoaders(version=directory_version, index=load_index_cached, person=load_person_entry)
    services = Services(settings, engine, sessionmaker, member_row, loaders)

    builder = (
        Application.builder()
        .token(settings.telegram_bot_token or OFFLINE_TOKEN)
        .context_types(ContextTypes(context=BotContext))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .persistence(SQLPersistence(sessionmaker))
        # Different users' updates at once; each user's own in order (core/update_order.py).
        .concurrent_updates(UserOrderedProcessor())
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.api_base_urls:
        base_url, base_file_url = settings.api_base_urls
        builder = builder.base_url(base_url).base_file_url(base_file_url)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if rate_limit:
        # Telegram allows about 30 messages a second overall; broadcasts queue instead of failing.
        # ApplicationBuilder's generic parameters cannot follow a rate limiter added after .build()'s types.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))  # type: ignore[arg-type]
    if not updater:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data["services"] = services
    register(application)
    update_log.install(application)  # one structured log line per update (core/update_log.py)
    # Save conversation state after every update, not every few seconds: a restart mid-/update resumes.
    attach(application)
    return application


async def _post_init(application: Application) -> None:
    await start_services(application)


async def start_services(application: Application) -> None:
    """Load the search index, end conversations that went stale while the bot was down, set the menu
    strangers see and schedule the jobs (the database is migrated before start)."""
    from handlers import schedule_jobs
    from handlers.manifest import features_of
    from storage.members import Role

    services: Services = application.bot_data["services"]
    await services.refresh_directory()
    features = features_of(application)
    swept = features.sweep_conversations(application)
    if swept:
        application.mark_data_for_update_persistence(user_ids=swept)
        await application.update_persistence()
        log.info("ended %d stale conversations", len(swept))
    await features.set_menu(application.bot, None, Role.STRANGER)
    schedule_jobs(application)


async def _post_shutdown(application: Application) -> None:
    services: Services = application.bot_data["services"]
    await services.close()


def main() -> None:
    """`python bot.py` = `partnerbot run`: the command line (cli/, which builds on this module) run as a
    module, so that this module never imports it."""
    import runpy

    sys.argv[1:1] = ["run"]
    runpy.run_module("cli", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
