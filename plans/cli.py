"""Command line for action plans: `partnerbot plans [--all]`, `partnerbot plans archive|restore N`,
`partnerbot import plan FILE [--column "Header=field" ...] [--term T] [--header-row LINE] [--row "12=section" ...]
[--plan N | --new] [--dry-run]` and `partnerbot export plan PLAN --format xlsx|docx|csv|png -o FILE`.

Importing reads the file in the sandbox and saves it exactly as the chat does (plans.importing,
plans.preview, plans.store.save_plan): a plan with the same title is updated action by action.

The argparse functions return coroutines that `cli.main.main` runs; tests call `run_list_plans`,
`run_import_plan` and `run_export_plan` directly with a database URL.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import TextIO

from core.i18n import _, ngettext
from core.terms import term_label
from plans.archive import TITLE_LIMIT, archive_plan, clean_title, rename_plan, restore_plan
from plans.export import PlanView, export_csv, export_docx, export_xlsx, render_rag_png
from plans.importing import PlanReadErrors, read_plan
from plans.parsed import PlanOverrides
from plans.preview import plain_preview
from plans.store import NoSuchPlan, PlanSummary, action_counts, build_plan_view, find_plan, plans_list, save_plan
from storage.db import make_engine, make_sessionmaker
from storage.import_lock import ImportBusy

FORMATS = {"xlsx": export_xlsx, "docx": export_docx, "csv": export_csv, "png": render_rag_png}


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plans", help="list the action plans with their numbers")
    parser.add_argument("--all", action="store_true", help="include archived plans")
    parser.set_defaults(func=_cmd_plans)
    subs = parser.add_subparsers(dest="plans_command", metavar="COMMAND")
    archive = subs.add_parser("archive", help="archive a plan: it leaves every list and 'Which plan?' question")
    archive.add_argument("plan", type=int, help="the plan's number (see `partnerbot plans`)")
    archive.set_defaults(func=_cmd_archive)
    restore = subs.add_parser("restore", help="make an archived plan active again")
    restore.add_argument("plan", type=int, help="the plan's number (see `partnerbot plans --all`)")
    restore.set_defaults(func=_cmd_restore)
    rename = subs.add_parser("rename", help="give a plan the title its reports and exports are headed with")
    rename.add_argument("plan", type=int, help="the plan's number (see `partnerbot plans --all`)")
    rename.add_argument("title", help="the new title")
    rename.set_defaults(func=_cmd_rename)


def add_import_plan(import_subparsers: argparse._SubParsersAction) -> None:
    parser = import_subparsers.add_parser(
        "plan",
        help="import an action plan from a table (Markdown, tab-separated text, CSV, XLSX, XLS, ODS, DOCX, HTML, PDF)",
    )
    parser.add_argument("file", type=Path, help="the plan file")
    parser.add_argument("--dry-run", action="store_true", help="read and report, save nothing")
    parser.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="HEADER=FIELD",
        help='read a column as a field, e.g. --column "By whom=owners" or "Notes=ignore" '
        '("#3=owners" for the third column); repeatable',
    )
    parser.add_argument("--term", help='the term of RAG columns that name none, e.g. "Spring 2017"')
    parser.add_argument("--header-row", type=int, metavar="LINE", help="the line of the table's header row")
    parser.add_argument(
        "--rating-column",
        action="append",
        default=[],
        metavar="HEADER=TERM",
        help='a column that holds ratings, and for which term, e.g. --rating-column "Score=Autumn 2025" '
        '("#5=Spr 17" for the fifth column; the term may be left out); repeatable',
    )
    parser.add_argument(
        "--key",
        metavar="KEY",
        help='the rating key to apply, e.g. --key "1=R, 2=A, 3=G, 4=complete" (over any key the plan prints)',
    )
    parser.add_argument(
        "--row",
        action="append",
        default=[],
        metavar="LINE=KIND",
        help="read a row of the table as an action, a section heading, a continuation of the action above, or "
        'skip it: --row "12=section" ("2:12=action" for line 12 of the second table); repeatable',
    )
    parser.add_argument("--title", help="the plan's title (default: the file's own title row, else its name)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--plan", type=int, metavar="N", help="update plan N (default: the active plan with the same title, if any)"
    )
    target.add_argument("--new", action="store_true", help="add a new plan even if one has the same title")
    parser.set_defaults(func=_cmd_import)


def add_export_plan(export_subparsers: argparse._SubParsersAction) -> None:
    parser = export_subparsers.add_parser("plan", help="export a plan as XLSX, Word, CSV or a PNG RAG grid")
    parser.add_argument("plan", help="the plan's number (see `partnerbot plans`) or its title")
    parser.add_argument(
        "--format",
        "-f",
        choices=sorted(FORMATS),
        default=None,
        help="file format (default: from the output file's extension)",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="file to write")
    parser.set_defaults(func=_cmd_export)


async def _migrated_url() -> str:
    """The configured database, migrated to the latest schema (as every command-line command does)."""
    from core.settings import load_settings
    from storage.db import migrate

    settings = load_settings()
    await migrate(settings.database_url)
    return settings.database_url


def _cmd_plans(args: argparse.Namespace) -> Awaitable[int]:
    async def run() -> int:
        return await run_list_plans(await _migrated_url(), include_inactive=args.all)

    return run()


def _cmd_import(args: argparse.Namespace) -> Awaitable[int]:
    async def run() -> int:
        return await run_import_plan(
            await _migrated_url(),
            args.file,
            dry_run=args.dry_run,
            columns=args.column,
            term=args.term,
            header_row=args.header_row,
            rating_columns=args.rating_column,
            key=args.key,
            rows=args.row,
            plan=args.plan,
            new=args.new,
            title=args.title,
        )

    return run()


def _cmd_rename(args: argparse.Namespace) -> Awaitable[int]:
    async def run() -> int:
        return await run_rename_plan(await _migrated_url(), args.plan, args.title)

    return run()


def _cmd_archive(args: argparse.Namespace) -> Awaitable[int]:
    async def run() -> int:
        return await run_archive_plan(await _migrated_url(), args.plan, archive=True)

    return run()


def _cmd_restore(args: argparse.Namespace) -> Awaitable[int]:
    async def run() -> int:
        return await run_archive_plan(await _migrated_url(), args.plan, archive=False)

    return run()


def _cmd_export(args: argparse.Namespace) -> Awaitable[int]:
    async def run() -> int:
        from core.settings import load_settings

        url = await _migrated_url()
        return await run_export_plan(url, args.plan, args.format, args.output, author=load_settings().partnership_name)

    return run()


# ---------------------------------------------------------------------------------------------------------
# The work (callable from tests)
# ---------------------------------------------------------------------------------------------------------


async def run_list_plans(database_url: str, include_inactive: bool = False, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            plans = list((await session.scalars(plans_list(include_inactive))).all())
            counts = await action_counts(session)
    finally:
        await engine.dispose()
    if not plans:
        print(_("No plans yet. Import one with: partnerbot import plan FILE"), file=out)
        return 0
    for plan in plans:
        details = " · ".join(p for p in (plan.partnership or "", plan.year or "") if p)
        line = _("{number:>3}  {title} ({n} actions)").format(
            number=plan.id, title=plan.title, n=counts.get(plan.id, 0)
        )
        print(line + (f"  [{details}]" if details else "") + ("" if plan.active else "  " + _("(archived)")), file=out)
    return 0


async def run_archive_plan(
    database_url: str,
    number: int,
    archive: bool = True,
    actor_id: int | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`partnerbot plans archive N` / `restore N`."""
    out, err = out or sys.stdout, err or sys.stderr
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            plan = await (archive_plan if archive else restore_plan)(session, number, actor_id)
            title = plan.title if plan is not None else ""
    finally:
        await engine.dispose()
    if plan is None:
        print(_("There is no plan {number}. `partnerbot plans --all` lists them.").format(number=number), file=err)
        return 1
    print(
        (_("Archived plan {number}: {title}") if archive else _("Restored plan {number}: {title}")).format(
            number=number, title=title
        ),
        file=out,
    )
    return 0


async def run_rename_plan(
    database_url: str,
    number: int,
    title: str,
    actor_id: int | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`partnerbot plans rename N "Title"`."""
    out, err = out or sys.stdout, err or sys.stderr
    clean = clean_title(title)
    if clean is None:
        print(_("A plan's title is one line of 1 to {n} characters.").format(n=TITLE_LIMIT), file=err)
        return 2
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            plan = await rename_plan(session, number, clean, actor_id)
    finally:
        await engine.dispose()
    if plan is None:
        print(_("There is no plan {number}. `partnerbot plans --all` lists them.").format(number=number), file=err)
        return 1
    print(_("Plan {number} is now called: {title}").format(number=number, title=clean), file=out)
    return 0


def format_summary(summary: PlanSummary) -> list[str]:
    """Lines describing an import (also used by the chat upload, after escaping)."""
    if summary.diff is not None:
        heading = _("Would update plan {number}: {title}") if summary.dry_run else _("Updated plan {number}: {title}")
    else:
        heading = _("Would import: {title}") if summary.dry_run else _("Imported plan {number}: {title}")
    lines = [heading.format(number=summary.plan_id, title=summary.title)]
    details = " · ".join(p for p in (summary.partnership or "", summary.year or "") if p)
    if details:
        lines.append("  " + details)
    lines.append(
        _("  {sections} sections, {actions} actions").format(sections=summary.sections, actions=summary.actions)
    )
    lines.append(
        _("  owners: {linked} of {owners} linked to people in the directory").format(
            linked=summary.owners_linked, owners=summary.owners
        )
    )
    if summary.unlinked_names:
        lines.append(_("  kept as text: {names}").format(names=", ".join(summary.unlinked_names)))
    if summary.ambiguous_names:
        lines.append(
            _("  more than one person could be: {names} (kept as text)").format(
                names=", ".join(summary.ambiguous_names)
            )
        )
    if summary.updates:
        lines.append(
            ngettext(
                "  {n} RAG rating and comment from {terms}",
                "  {n} RAG ratings and comments from {terms}",
                summary.updates,
            ).format(n=summary.updates, terms=", ".join(term_label(t, short=True) for t in summary.terms))
        )
    if summary.same_title_plan_id is not None:
        lines.append(_("  note: plan {number} already has this title").format(number=summary.same_title_plan_id))
    if summary.warnings:
        lines.append(
            ngettext(
                "  {n} thing I could not read as plan fields:",
                "  {n} things I could not read as plan fields:",
                len(summary.warnings),
            ).format(n=len(summary.warnings))
        )
        lines.extend(f"    - {w}" for w in summary.warnings)
    if summary.dry_run:
        lines.append(_("Dry run: nothing was saved."))
    return lines


async def run_import_plan(
    database_url: str,
    path: Path,
    dry_run: bool = False,
    actor_id: int | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    *,
    columns: list[str] | None = None,
    term: str | None = None,
    header_row: int | None = None,
    plan: int | None = None,
    new: bool = False,
    rating_columns: list[str] | None = None,
    key: str | None = None,
    title: str | None = None,
    rows: list[str] | None = None,
) -> int:
    """`partnerbot import plan FILE [--column H=F ...] [--term T] [--header-row N] [--rating-column H=T ...]
    [--key K] [--row LINE=KIND ...] [--plan N | --new] [--dry-run]`: the chat's reading, preview and saving
    (plans.importing, plans.preview, save_plan)."""
    out, err = out or sys.stdout, err or sys.stderr
    given_title = clean_title(title) if title is not None else None
    if title is not None and given_title is None:
        print(_("A plan's title is one line of 1 to {n} characters.").format(n=TITLE_LIMIT), file=err)
        return 2
    try:
        overrides = PlanOverrides.from_options(
            columns, term=term, header_row=header_row, rating_columns=rating_columns, key=key, rows=rows
        )
    except ValueError as exc:
        print(_("Not imported: {reason}").format(reason=exc), file=err)
        return 2
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        print(_("Cannot read {path}: {error}").format(path=path, error=exc.strerror or exc), file=err)
        return 1
    try:
        parsed = await read_plan(data, Path(path).name, overrides or None)
    except PlanReadErrors as exc:
        print(_("Not imported: {reason}").format(reason=exc), file=err)
        return 1
    if given_title is not None:
        parsed.title = given_title
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            summary = await save_plan(session, parsed, actor_id, dry_run=dry_run, into=plan, as_new=new)
    except (NoSuchPlan, ImportBusy) as exc:
        print(_("Not imported: {reason}").format(reason=exc), file=err)
        return 1
    finally:
        await engine.dispose()
    print(format_summary(summary)[0], file=out)
    for line in plain_preview(parsed, summary, heading=False):
        print(line, file=out)
    if summary.dry_run:
        print(_("Dry run: nothing was saved."), file=out)
    return 0


def render(view: PlanView, fmt: str) -> bytes:
    return FORMATS[fmt](view)


async def run_export_plan(
    database_url: str,
    key: str,
    fmt: str | None,
    output: Path,
    out: TextIO | None = None,
    err: TextIO | None = None,
    author: str = "",
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    output = Path(output)
    fmt = (fmt or output.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        print(_("Choose a format: {formats}").format(formats=", ".join(sorted(FORMATS))), file=err)
        return 2
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            plan = await find_plan(session, key)
            view = await build_plan_view(session, plan.id) if plan is not None else None
    finally:
        await engine.dispose()
    if view is None:
        print(
            _("No plan {key!r}. `partnerbot plans` lists them with their numbers.").replace("{key!r}", repr(key)),
            file=err,
        )
        return 1
    view.author = author
    data = render(view, fmt)
    try:
        output.write_bytes(data)
    except OSError as exc:
        print(_("Cannot write {path}: {error}").format(path=output, error=exc.strerror or exc), file=err)
        return 1
    print(
        _("Wrote {path}: plan {number} ({actions} actions, {terms} terms) as {fmt}").format(
            path=output, number=view.id, actions=len(view.actions), terms=len(view.terms), fmt=fmt.upper()
        ),
        file=out,
    )
    return 0
