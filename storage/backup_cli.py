"""`partnerbot backup FILE` and `partnerbot restore FILE` (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from core.i18n import _
from storage.backup import (
    BackupError,
    backup_url,
    check,
    database_has_data,
    restore_url,
)


def _database_url(args: argparse.Namespace) -> str:
    from core.settings import load_settings

    url = getattr(args, "database_url", None)
    if url:  # normalised like DATABASE_URL: sqlite:///… and postgresql://… get their async drivers
        return load_settings(database_url=url).database_url
    return load_settings().database_url


def run_backup(args: argparse.Namespace) -> int:
    try:
        summary = asyncio.run(backup_url(_database_url(args), args.file))
    except BackupError as exc:
        print(_("Backup failed: {reason}").format(reason=exc), file=sys.stderr)
        return 1
    print(
        _("Backed up {rows} rows from {tables} tables to {file} (database revision {revision}).").format(
            rows=summary.rows, tables=summary.tables, file=args.file, revision=", ".join(summary.revision)
        )
    )
    return 0


async def _has_data(url: str) -> bool:
    from storage.db import make_engine

    engine = make_engine(url)
    try:
        return await database_has_data(engine)
    finally:
        await engine.dispose()


def run_restore(args: argparse.Namespace) -> int:
    url = _database_url(args)
    try:
        manifest = check(args.file)
    except BackupError as exc:
        print(_("Restore refused: {reason}. Nothing was changed.").format(reason=exc), file=sys.stderr)
        return 1
    if not args.yes and asyncio.run(_has_data(url)):
        question = _(
            "The database already holds data; restoring replaces all of it with the backup made "
            "{when}. Type yes to go on: "
        ).format(when=manifest.created_at)
        if not sys.stdin.isatty():
            print(
                _("Restore refused: the database holds data; add --yes to replace it. Nothing was changed."),
                file=sys.stderr,
            )
            return 1
        if input(question).strip().lower() != "yes":
            print(_("Nothing was changed."), file=sys.stderr)
            return 1
    try:
        summary = asyncio.run(restore_url(url, args.file))
    except BackupError as exc:
        print(_("Restore refused: {reason}. Nothing was changed.").format(reason=exc), file=sys.stderr)
        return 1
    print(
        _("Restored {rows} rows into {tables} tables from {file}.").format(
            rows=summary.rows, tables=summary.tables, file=args.file
        )
    )
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("backup", help=_("write every table to a backup file (zip of JSON lines)"))
    p.add_argument("file", help=_("the backup file to write, e.g. partnerbot-2025-09-01.zip"))
    p.add_argument("--database-url", help=_("the database to back up (default: DATABASE_URL)"))
    p.set_defaults(func=run_backup)
    r = subparsers.add_parser("restore", help=_("replace all data with a backup file's, in one transaction"))
    r.add_argument("file", help=_("a file written by `partnerbot backup`"))
    r.add_argument("--database-url", help=_("the database to restore into (default: DATABASE_URL)"))
    r.add_argument("--yes", action="store_true", help=_("replace existing data without asking"))
    r.set_defaults(func=run_restore)
