"""`partnerbot report PLAN [--term "Spring 2026"] -o DIR`: the termly report's three files, written to DIR.

The same code as /report in chat (plans.report.make_report): the same span of terms, the same files.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import TextIO

from core.i18n import _
from core.terms import parse_term, term_label
from plans.report import TermNotInSpan, make_report
from plans.store import find_plan
from storage.db import make_engine, make_sessionmaker


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="the termly report on a plan: Word, Excel and the RAG picture")
    parser.add_argument("plan", help="the plan's number (see `partnerbot plans`) or its title")
    parser.add_argument(
        "--term",
        default=None,
        help='the term reported on, e.g. "Spring 2026" or "Spr 26" (default: the latest term with ratings)',
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder to write the three files to")
    parser.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> Awaitable[int]:
    async def run() -> int:
        from core.settings import load_settings
        from plans.cli import _migrated_url

        url = await _migrated_url()
        return await run_report(url, args.plan, args.term, args.output, author=load_settings().partnership_name)

    return run()


async def run_report(
    database_url: str,
    key: str,
    term_text: str | None,
    output: Path,
    out: TextIO | None = None,
    err: TextIO | None = None,
    author: str = "",
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    term = parse_term(term_text) if term_text else None
    if term_text and term is None:
        print(
            _('Cannot read {text!r} as a term: write it like "Spring 2026" or "Spr 26".').replace(
                "{text!r}", repr(term_text)
            ),
            file=err,
        )
        return 2
    engine = make_engine(database_url)
    try:
        sessionmaker = make_sessionmaker(engine)
        async with sessionmaker() as session:
            plan = await find_plan(session, key)
            plan_id = plan.id if plan is not None else None
        if plan_id is None:
            print(
                _("No plan {key!r}. `partnerbot plans` lists them with their numbers.").replace("{key!r}", repr(key)),
                file=err,
            )
            return 1
        try:
            files = await make_report(sessionmaker, plan_id, term, author=author)
        except TermNotInSpan as exc:
            print(
                _("{term} is not one of this plan's terms: {terms}").format(
                    term=term_label(exc.term), terms=", ".join(term_label(t) for t in exc.span)
                ),
                file=err,
            )
            return 1
    finally:
        await engine.dispose()
    assert files is not None
    try:
        output.mkdir(parents=True, exist_ok=True)
        for name, data in files.files:
            (output / name).write_bytes(data)
    except OSError as exc:
        print(_("Cannot write to {path}: {error}").format(path=output, error=exc.strerror or exc), file=err)
        return 1
    print(
        _("Termly report on plan {number}, {term} (terms: {terms}):").format(
            number=files.plan_id,
            term=term_label(files.term),
            terms=", ".join(term_label(t, short=True) for t in files.span),
        ),
        file=out,
    )
    for name, data in files.files:
        print(f"  {output / name} ({len(data) // 1024 + 1} KB)", file=out)
    if files.chosen:
        print(
            _('{term} is the latest term with ratings; --term "Summer 2026" reports on another.').format(
                term=term_label(files.term)
            ),
            file=out,
        )
    return 0
