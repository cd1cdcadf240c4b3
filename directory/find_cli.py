"""`partnerbot find QUERY [--limit N] [--json]` and `partnerbot find --batch FILE` (`-` = standard input).

The same understanding and ranking as the chat and the inline mode (directory/query.py: "head of St Mary's
Stoneford", nicknames, a role at a school, schools in a town), so the command line answers as the chat does.

One query prints a readable table (or, with --json, one JSON line); a batch prints one JSON line per
non-empty input line: {"query": ..., "matches": [{"kind", "id", "label", "score", "exact", "near_miss",
"detail"}, ...]}. Exit codes: 0 done (even with no matches), 2 bad arguments or an unreadable file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from core.i18n import _
from directory import query as understood
from directory.search import DirectoryIndex, Match

MAX_LIMIT = 200


def add_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser("find", help="search the directory (people, schools, specialisms), typos forgiven")
    parser.add_argument("query", nargs="*", help="what to look for, e.g. a name, a school or a URN")
    parser.add_argument("--limit", type=int, default=10, help="how many matches (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON (one line) instead of a table")
    parser.add_argument(
        "--batch",
        metavar="FILE",
        help="one query per line from FILE ('-' for standard input); prints one JSON line each",
    )
    parser.set_defaults(func=cmd_find)


async def cmd_find(args: argparse.Namespace) -> int:
    from core.settings import load_settings

    return await run_find(
        load_settings().database_url, query=" ".join(args.query), limit=args.limit, as_json=args.json, batch=args.batch
    )


async def run_find(
    database_url: str,
    query: str = "",
    limit: int = 10,
    as_json: bool = False,
    batch: str | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    stdin: IO[str] | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if limit < 1 or limit > MAX_LIMIT:
        print(_("--limit must be between 1 and {n}.").format(n=MAX_LIMIT), file=err)
        return 2
    if batch is None and not query.strip():
        print(_("Give something to find, or --batch FILE."), file=err)
        return 2
    if batch is not None and query.strip():
        print(_("Give either a query or --batch FILE, not both."), file=err)
        return 2
    lines: Iterable[str] = ()
    if batch is not None:
        if batch == "-":
            lines = (stdin or sys.stdin).read().splitlines()
        else:
            try:
                lines = Path(batch).read_text(encoding="utf-8-sig", errors="replace").splitlines()
            except OSError as exc:
                print(_("Cannot read {file}: {reason}").format(file=batch, reason=exc.strerror or exc), file=err)
                return 2
    index = await _load(database_url)
    if batch is not None:
        for text in batch_lines(index, lines, limit):
            print(text, file=out)
        return 0
    matches = understood.search(index, query, limit)
    if as_json:
        print(_json_line(query, matches), file=out)
    else:
        print(format_table(query, matches), file=out)
    return 0


async def _load(database_url: str) -> DirectoryIndex:
    from directory.snapshot import load_index_cached
    from storage.db import make_engine, make_sessionmaker, upgrade_database

    engine = make_engine(database_url)
    try:
        await upgrade_database(engine)
        # The snapshot beside the database when it is current; else built here (and saved for next time).
        return await load_index_cached(make_sessionmaker(engine), database_url, subprocess=False)
    finally:
        await engine.dispose()


def _json_line(query: str, matches: list[Match]) -> str:
    # Plain dicts, not dataclasses.asdict (which deep-copies every field): this is most of a batch's time.
    return _ENCODE(
        {
            "query": query,
            "matches": [
                {
                    "kind": m.kind,
                    "id": m.id,
                    "label": m.label,
                    "score": m.score,
                    "exact": m.exact,
                    "near_miss": m.near_miss,
                    "detail": m.detail,
                }
                for m in matches
            ],
        }
    )


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def batch_lines(index: DirectoryIndex, queries: Iterable[str], limit: int = 10) -> Iterator[str]:
    """One JSON line per non-empty query: what `find --batch` prints (and what the benchmark times)."""
    for line in queries:
        q = line.strip()
        if q:
            yield _json_line(q, understood.search(index, q, limit))


def format_table(query: str, matches: list[Match]) -> str:
    if not matches:
        return _("No matches for “{query}”.").format(query=query)
    heads = (_("score"), _("kind"), _("id"), _("name"), _("details"))
    kinds = {"person": _("person"), "school": _("school"), "specialism": _("specialism")}
    rows = []
    for m in matches:
        flag = "=" if m.exact else ("?" if m.near_miss else " ")
        rows.append((f"{m.score:5.1f}{flag}", kinds.get(m.kind, m.kind), str(m.id), m.label, m.detail))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    widths[4] = min(widths[4], 60)
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    text = [fmt.format(*heads).rstrip(), fmt.format(*("-" * w for w in widths)).rstrip()]
    text += [fmt.format(*(c[: widths[i]] for i, c in enumerate(r))).rstrip() for r in rows]
    if any(m.near_miss for m in matches) and not any(m.exact for m in matches):
        text.append(_("(? = did you mean: no exact match)"))
    return "\n".join(text)
