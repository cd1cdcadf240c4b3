"""`partnerbot support report --year 2025-26 -o DIR`: the school-to-school support register's report for a
year, as Excel and Word (A4), with the figures printed; `partnerbot support capacity --person ID --days N`:
the office sets a system leader's days a year (by directory id, never by name)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("support", help="school-to-school support: the register's report, capacity")
    sub = parser.add_subparsers(dest="support_what", metavar="WHAT")
    sub.required = True
    report = sub.add_parser("report", help="the register's report for an academic year (Excel and Word)")
    report.add_argument("--year", default=None, help="academic year, e.g. 2025-26 (default: this one)")
    report.add_argument("-o", "--output", default=".", help="folder to write the two files into")
    report.set_defaults(func=cmd_report)
    capacity = sub.add_parser("capacity", help="set a system leader's days of support a year")
    capacity.add_argument("--person", type=int, required=True, help="the directory id of the system leader")
    capacity.add_argument("--days", type=float, required=True, help="days a year")
    capacity.set_defaults(func=cmd_capacity)


async def write_report(database_url: str, year_text: str | None, folder: Path) -> tuple[list[Path], object]:
    from core.i18n import set_default_locale
    from core.settings import load_settings
    from directory import deployments as dp
    from directory import support_report
    from directory.support_export import support_docx, support_xlsx
    from storage.db import make_engine, make_sessionmaker

    settings = load_settings(database_url=database_url)
    set_default_locale(settings.default_locale)
    year = dp.parse_year(year_text) if year_text else dp.year_of(dp.local_today())
    if year is None:
        raise ValueError(f"not an academic year: {year_text!r} (e.g. 2025-26)")
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            report = await support_report.load(session, year)
    finally:
        await engine.dispose()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"support-register-{year.label}"
    paths = [folder / f"{stem}.xlsx", folder / f"{stem}.docx"]
    paths[0].write_bytes(support_xlsx(report))
    paths[1].write_bytes(support_docx(report))
    return paths, report


async def cmd_report(args: argparse.Namespace) -> int:
    import sys

    from core.settings import load_settings
    from directory.support_export import summary_rows

    try:
        paths, report = await write_report(load_settings().database_url, args.year, Path(args.output))
    except ValueError as exc:
        print(f"partnerbot: {exc}", file=sys.stderr)
        return 2
    for label, value in summary_rows(report):  # type: ignore[arg-type]
        print(f"{label}: {value}")
    for path in paths:
        print(f"wrote {path}")
    return 0


async def cmd_capacity(args: argparse.Namespace) -> int:
    import sys

    from core.settings import load_settings
    from directory import deployments as dp
    from storage.db import make_engine, make_sessionmaker
    from storage.directory import Person

    engine = make_engine(load_settings().database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            person = await session.get(Person, args.person)
            if person is None:
                print(f"partnerbot: no directory entry {args.person}", file=sys.stderr)
                return 2
            try:
                await dp.set_capacity(session, person.id, args.days, None)
            except dp.SupportError as exc:
                print(f"partnerbot: {exc}", file=sys.stderr)
                return 2
            print(f"{person.full_name}: {args.days:g} days a year")
    finally:
        await engine.dispose()
    return 0
