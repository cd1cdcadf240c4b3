"""`partnerbot`: run the bot, the offline console, and the bulk work (imports, exports, reports, admin)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.settings import Settings, SettingsError, load_settings

# Modules that add subcommands, with the function each exposes and the group it goes under
# (None: top level). Each area owns its commands; this is the one place they are collected.
COMMAND_MODULES: list[tuple[str, str, str | None]] = [
    ("directory.import_cli", "add_import_directory", "import"),
    ("plans.cli", "add_import_plan", "import"),
    ("plans.cli", "add_export_plan", "export"),
    ("plans.cli", "add_commands", None),
    ("plans.report_cli", "add_commands", None),
    ("directory.find_cli", "add_commands", None),
    ("directory.match_cli", "add_commands", None),
    ("directory.support_cli", "add_commands", None),
    ("storage.backup_cli", "add_commands", None),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="partnerbot", description="PartnerBot: the partnership's Telegram assistant")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser(
        "run",
        help="start the bot (polling, or webhook when WEBHOOK_URL is set); "
        "without TELEGRAM_BOT_TOKEN, the offline console on demo data",
    )
    run.add_argument("--as", dest="as_id", type=int, default=None, help="console only: who is typing")
    run.add_argument(
        "--wait",
        action="store_true",
        help="if another instance is running on this database, wait for it to stop instead of exiting",
    )
    run.set_defaults(func=cmd_run)

    status = sub.add_parser("status", help="is the running bot healthy? (exit 1 when not; for healthchecks)")
    status.add_argument("--json", action="store_true", help="print the report as JSON")
    status.set_defaults(func=cmd_status)

    console = sub.add_parser("console", help="play the chat in this terminal, offline")
    console.add_argument(
        "--as",
        dest="as_id",
        type=int,
        default=None,
        help="Telegram id of the user typing (demo: 1001 member, 1002 lead, 1003 coordinator, "
        "1004 admin, 9001 stranger)",
    )
    console.add_argument("--no-demo", action="store_true", help="do not load the demo partnership into an empty db")
    console.set_defaults(func=cmd_console)

    db = sub.add_parser("db", help="database: upgrade (migrate), current")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    db_sub.required = True
    db_sub.add_parser("upgrade", help="migrate to the latest schema (safe to repeat)").set_defaults(func=cmd_db_upgrade)
    db_sub.add_parser("current", help="show the schema revision").set_defaults(func=cmd_db_current)
    copy = db_sub.add_parser("copy", help="copy this database (DATABASE_URL) into another, empty one, and verify it")
    copy.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="URL",
        help="the empty target database, e.g. postgresql://user:pass@host/partnerbot or sqlite:///new.db",
    )
    copy.set_defaults(func=cmd_db_copy)

    admin = sub.add_parser("admin", help="administration: grant roles")
    admin_sub = admin.add_subparsers(dest="admin_command", metavar="ACTION")
    admin_sub.required = True
    grant = admin_sub.add_parser("grant", help="give a Telegram user a role")
    grant.add_argument("telegram_id", type=_telegram_id)
    grant.add_argument("role", choices=["member", "lead", "coordinator", "admin"])
    grant.add_argument("--name", default="", help="display name")
    grant.set_defaults(func=cmd_admin_grant)
    mydata = admin_sub.add_parser("mydata", help="subject access: everything held about a person, as JSON")
    mydata.add_argument("person_id", type=int, help="the person's directory id (as /erase and /find show it)")
    mydata.add_argument("--out", metavar="FILE", help="write the JSON here (default: print it)")
    mydata.set_defaults(func=cmd_admin_mydata)

    demo = sub.add_parser("demo", help="load the demo partnership into an empty database")
    demo.set_defaults(func=cmd_demo)

    groups = {
        "import": sub.add_parser("import", help="import a directory or an action plan"),
        "export": sub.add_parser("export", help="export an action plan"),
    }
    group_subs = {}
    for name, group in groups.items():
        group_subs[name] = group.add_subparsers(dest=f"{name}_what", metavar="WHAT")
        group_subs[name].required = True
    for module_name, function, group_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        getattr(module, function)(group_subs[group_name] if group_name else sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    from cli.logs import configure_logging
    from cli.serve import StartupError

    configure_logging(args.verbose, os.environ.get("LOG_FORMAT", "text").strip().lower())
    try:
        result: Any = args.func(args)
        if inspect.isawaitable(result):
            result = asyncio.run(result)  # type: ignore[arg-type]
    except SettingsError as exc:
        print(f"partnerbot: setting {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except StartupError as exc:
        print(f"partnerbot: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except BrokenPipeError:  # the output was piped into `head` or similar, which stopped reading
        sys.stderr.close()
        raise SystemExit(0) from None
    except Exception as exc:
        # An unreachable or unusable database, an unwritable file, Telegram refusing the token:
        # one line naming the problem, not a traceback.
        if not _is_environment_error(exc):
            raise
        print(f"partnerbot: {_one_line(exc)}", file=sys.stderr)
        raise SystemExit(1) from None
    raise SystemExit(result if isinstance(result, int) else 0)


def _is_environment_error(exc: BaseException) -> bool:
    import asyncpg
    from sqlalchemy.exc import SQLAlchemyError
    from telegram.error import TelegramError

    return isinstance(exc, (OSError, SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError, TelegramError))


def _one_line(exc: BaseException) -> str:
    reason = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    lines = str(reason).strip().splitlines()
    return f"{type(reason).__name__}: {lines[0]}" if lines else type(reason).__name__


def _telegram_id(value: str) -> int:
    """argparse type: a Telegram user id (a positive 64-bit number)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a Telegram id: {value!r}") from None
    if not 0 < number < 2**63:
        raise argparse.ArgumentTypeError(f"not a Telegram user id: {value}")
    return number


def settings_from_env() -> Settings:
    return load_settings()


async def migrate(settings: Settings) -> None:
    from storage.db import migrate as migrate_database

    await migrate_database(settings.database_url)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = settings_from_env()
    asyncio.run(migrate(settings))
    print("Database is at the latest schema.")
    return 0


async def cmd_db_current(args: argparse.Namespace) -> int:
    from storage.db import current_revisions, make_engine

    engine = make_engine(settings_from_env().database_url)
    try:
        revisions = await current_revisions(engine)
    finally:
        await engine.dispose()
    print(", ".join(revisions) or "empty (not migrated)")
    return 0


async def cmd_admin_grant(args: argparse.Namespace) -> int:
    from storage.db import make_engine, make_sessionmaker
    from storage.members import Role
    from storage.membership import set_role

    settings = settings_from_env()
    await migrate(settings)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            await set_role(session, args.telegram_id, Role.parse(args.role), None, args.name)
    finally:
        await engine.dispose()
    print(f"{args.telegram_id} is now {args.role}.")
    return 0


async def cmd_admin_mydata(args: argparse.Namespace) -> int:
    import json

    from sqlalchemy import select

    from handlers.privacy import collect_my_data
    from storage.db import make_engine, make_sessionmaker
    from storage.directory import Person
    from storage.members import Member

    settings = settings_from_env()
    await migrate(settings)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            if await session.get(Person, args.person_id) is None:
                print(f"There is no person {args.person_id} in the directory.", file=sys.stderr)
                return 1
            accounts = list(await session.scalars(select(Member.telegram_id).where(Member.person_id == args.person_id)))
            doc = await collect_my_data(
                session, min(accounts) if accounts else 0, person_id=args.person_id, for_admin=True
            )
    finally:
        await engine.dispose()
    payload = json.dumps(doc, ensure_ascii=False, indent=2, default=str)
    if args.out:
        Path(args.out).write_text(payload + "\n", encoding="utf-8")
        print(
            f"Wrote {args.out}: {doc['progress_updates']['count']} progress updates, "
            f"{len(doc['held'])} tables with rows about person {args.person_id}."
        )
    else:
        print(payload)
    return 0


async def load_demo(settings: Settings) -> bool:
    """Load the demo partnership (directory, members, plan) if the database has no people yet."""
    from sqlalchemy import func, select

    from directory.demo import load_demo as load_demo_directory
    from plans.demo import load_demo_plan
    from storage.db import make_engine, make_sessionmaker
    from storage.directory import Person

    engine = make_engine(settings.database_url)
    try:
        sessionmaker = make_sessionmaker(engine)
        async with sessionmaker() as session:
            if await session.scalar(select(func.count()).select_from(Person)):
                return False
        async with sessionmaker.begin() as session:
            await load_demo_directory(session)
        async with sessionmaker.begin() as session:
            await load_demo_plan(session)
        async with sessionmaker.begin() as session:
            from directory.support_demo import load_demo_support

            await load_demo_support(session)
    finally:
        await engine.dispose()
    return True


async def cmd_demo(args: argparse.Namespace) -> int:
    settings = settings_from_env()
    await migrate(settings)
    print(
        "Demo partnership loaded."
        if await load_demo(settings)
        else "The database already has people; the demo was not loaded."
    )
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from cli.console import run_console

    return run_console(settings_from_env(), args.as_id, load_demo_data=not args.no_demo)


def cmd_run(args: argparse.Namespace) -> int:
    settings = settings_from_env()
    if not settings.telegram_bot_token:
        print("No TELEGRAM_BOT_TOKEN set: starting the offline console with demo data (Ctrl-D to quit).")
        from cli.console import run_console

        return run_console(settings, args.as_id, load_demo_data=True)
    from cli.logs import configure_logging
    from cli.serve import serve

    configure_logging(args.verbose, settings.log_format, updates=True)
    return asyncio.run(serve(settings, wait=args.wait))


async def cmd_status(args: argparse.Namespace) -> int:
    from cli.health import status

    return await status(settings_from_env(), as_json=args.json)


async def cmd_db_copy(args: argparse.Namespace) -> int:
    from storage.db_copy import CopyError, copy_database

    settings = settings_from_env()
    try:
        target = load_settings(database_url=args.target).database_url  # the same forms DATABASE_URL accepts
    except SettingsError as exc:
        print(f"partnerbot: --to: {str(exc).split(': ', 1)[-1]}", file=sys.stderr)
        return 2
    await migrate(settings)
    try:
        report = await copy_database(settings.database_url, target)
    except CopyError as exc:
        print(f"partnerbot: {exc}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    return 0


if __name__ == "__main__":
    main()
