"""`partnerbot import directory FILE [--dry-run]`: import the directory from the command line.

Exit codes: 0 imported (or dry run done), 2 the file was refused (the reason is printed), 1 the
database refused the change (nothing was written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core.i18n import _


def add_import_directory(import_subparsers: Any) -> None:
    """Add `directory` to the sub-parsers of the `import` group."""
    parser = import_subparsers.add_parser(
        "directory", help="import schools and people from CSV, TSV, XLSX or a GIAS extract"
    )
    parser.add_argument("file", type=Path, help="the spreadsheet to import")
    parser.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    parser.set_defaults(func=cmd_import_directory)


def add_commands(subparsers: Any) -> None:
    """`import directory ...` for a parser that has no `import` group of its own."""
    group = subparsers.add_parser("import", help="import a directory")
    subs = group.add_subparsers(dest="import_what", metavar="WHAT")
    subs.required = True
    add_import_directory(subs)


async def cmd_import_directory(args: argparse.Namespace) -> int:
    from core.settings import load_settings

    return await import_directory(load_settings().database_url, args.file, dry_run=args.dry_run)


async def import_directory(
    database_url: str, path: Path, dry_run: bool = False, out: Any = None, err: Any = None
) -> int:
    from core.sandbox import SandboxError
    from directory.importer import DirectoryImportError, apply_directory, summary_lines
    from directory.reading import read_directory
    from storage.db import make_engine, make_sessionmaker, upgrade_database
    from storage.import_lock import ImportBusy

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        parsed = await read_directory(Path(path), Path(path).name)
    except (DirectoryImportError, SandboxError) as exc:
        print(_("{file} was not imported: {reason}").format(file=path.name, reason=exc), file=err)
        return 2
    engine = make_engine(database_url)
    try:
        await upgrade_database(engine)
        async with make_sessionmaker(engine).begin() as session:
            summary = await apply_directory(session, parsed, actor_id=None, dry_run=dry_run)
    except ImportBusy as exc:
        print(_("{file} was not imported: {reason}.").format(file=path.name, reason=exc), file=err)
        return 1
    except Exception as exc:  # noqa: BLE001 - report any database failure in one line; nothing was written
        print(
            _("{file} was not imported: the database refused it ({reason}). Nothing was changed.").format(
                file=path.name, reason=type(exc).__name__
            ),
            file=err,
        )
        return 1
    finally:
        await engine.dispose()
    for line in summary_lines(summary, max_problems=50):
        print(line, file=out)
    if not dry_run:
        await _write_search_snapshot(database_url)
    return 0


async def _write_search_snapshot(database_url: str) -> None:
    """Save the search index of the imported directory, so the bot's next start loads it instead of building
    it (directory.snapshot). A failure here is not the import's: the bot then rebuilds the index itself."""
    import logging

    from directory.snapshot import SNAPSHOT_MIN_ENTRIES, write_snapshot
    from storage.db import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    try:
        from directory.snapshot import _directory_size

        async with make_sessionmaker(engine)() as session:
            large = await _directory_size(session) >= SNAPSHOT_MIN_ENTRIES
        if large:
            await write_snapshot(database_url)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        logging.getLogger(__name__).warning("search index snapshot not written: %s", exc)
    finally:
        await engine.dispose()
