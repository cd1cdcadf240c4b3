"""`python -m benchmarks` (or `make bench`): every benchmark, each figure beside a baseline measured in the
same run, written as Markdown to benchmarks/RESULTS.md.

    python -m benchmarks                 full sizes (30,000 people, 25,000 schools, 50,000-row import ...)
    python -m benchmarks --quick         a tenth of the sizes, for a fast look
    python -m benchmarks --only lookup,matching
    python -m benchmarks --people 10000 --schools 8000 --queries 500 --out /tmp/results.md

Sizes can also come from the environment: BENCH_PEOPLE, BENCH_SCHOOLS, BENCH_QUERIES, BENCH_DIFFLIB_QUERIES,
BENCH_SQL_QUERIES, BENCH_UPDATES, BENCH_IMPORT_ROWS, BENCH_HEADS, BENCH_CANDIDATES, BENCH_SEED.
PostgreSQL: BENCH_PG_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/test; "none" skips it). The run
creates its own databases there (pb_bench_<pid>...) and drops them at the end. Generated data is cached
under benchmarks/.cache/.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import os
import shutil
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from benchmarks.common import DEFAULT_PG_URL, Env, Postgres, Section, Sizes, machine
from benchmarks.data import cache_dir

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
NAMES = ("lookup", "updates", "import", "startup", "matching", "load", "understanding", "support")


def _runners() -> dict[str, Callable[[Env], Awaitable[Section]]]:
    from benchmarks import imports, load, lookup, matching, support, understanding, updates

    return {
        "lookup": lookup.run,
        "updates": updates.run,
        "import": imports.run_import,
        "startup": imports.run_startup,
        "matching": matching.run,
        "load": load.run,
        "understanding": understanding.run,
        "support": support.run,
    }


def sizes_from(args: argparse.Namespace) -> Sizes:
    sizes = Sizes.quick() if args.quick else Sizes()
    changes: dict[str, int] = {}
    for f in dataclasses.fields(Sizes):
        env_value = os.environ.get(f"BENCH_{f.name.upper()}")
        if env_value:
            changes[f.name] = int(env_value)
        arg_value = getattr(args, f.name, None)
        if arg_value is not None:
            changes[f.name] = arg_value
    return dataclasses.replace(sizes, **changes)


async def run_all(
    sizes: Sizes,
    only: tuple[str, ...] = NAMES,
    pg_url: str | None = DEFAULT_PG_URL,
    strict: bool = False,
    log: Callable[[str], None] = print,
) -> tuple[list[Section], dict[str, str]]:
    """Run the chosen benchmarks; returns the sections and facts about the run (machine, PostgreSQL...)."""
    runners = _runners()
    work = cache_dir() / f"run-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    facts = machine()
    pg: Postgres | None = None
    if pg_url:
        candidate = Postgres(pg_url)
        if await candidate.available():
            pg = candidate
            facts["postgresql"] = candidate.version
        else:
            facts["postgresql"] = f"not reachable ({candidate.error})"
            log(f"PostgreSQL not reachable: {candidate.error}; its figures are skipped")
    else:
        facts["postgresql"] = "skipped"
    env = Env(sizes, work, pg, log)
    sections: list[Section] = []
    try:
        for name in only:
            log(f"{name} ...")
            start = time.perf_counter()
            try:
                section = await runners[name](env)
            except Exception as exc:
                if strict:
                    raise
                traceback.print_exc()
                section = Section(name, notes=[f"**Failed**: {type(exc).__name__}: {exc}"])
                section.misses.append(f"{name} failed: {type(exc).__name__}: {exc}")
            section.figures["_seconds"] = time.perf_counter() - start
            log(f"{name} done in {section.figures['_seconds']:.0f} s")
            sections.append(section)
    finally:
        if pg is not None:
            await pg.close()
        shutil.rmtree(work, ignore_errors=True)
    return sections, facts


def render(sections: list[Section], facts: dict[str, str], sizes: Sizes, elapsed: float, command: str) -> str:
    today = dt.datetime.now(dt.UTC)
    out = [
        "# Benchmark results",
        "",
        (
            f"Written by `{command}` on {today:%-d %B %Y at %H:%M} UTC in {elapsed:.0f} s. Every figure stands "
            "beside a baseline measured in the same run, so the ratios hold on a noisy machine even when the "
            "absolute times move. Targets are from issue 6."
        ),
        "",
        "| machine | |",
        "| --- | --- |",
        f"| CPU | {facts.get('cpu', '?')} |",
        f"| cores | {facts.get('cores', '?')} |",
        f"| memory | {facts.get('memory', '?')} |",
        f"| Python | {facts.get('python', '?')} |",
        f"| OS | {facts.get('os', '?')} |",
        f"| SQLite | {facts.get('sqlite', '?')} |",
        f"| PostgreSQL | {facts.get('postgresql', '?')} |",
        f"| load average at start | {facts.get('load', '?')} (the machine is shared: expect noise) |",
        "",
        "Sizes: "
        + ", ".join(f"{f.name.replace('_', ' ')} {getattr(sizes, f.name):,}" for f in dataclasses.fields(Sizes))
        + ".",
        "",
    ]
    misses = [m for s in sections for m in s.misses]
    out += ["## Summary", ""]
    if misses:
        out += ["Targets missed:", ""] + [f"- {m}" for m in misses] + [""]
    else:
        out += ["Every target measured was met.", ""]
    for section in sections:
        out += [f"## {section.title}", ""]
        if section.intro:
            out += [section.intro, ""]
        if section.rows:
            out += [
                "| measure | PartnerBot | baseline | ratio | target | verdict |",
                "| --- | ---: | ---: | ---: | --- | --- |",
            ]
            for r in section.rows:
                out.append(f"| {r.what} | {r.value} | {r.baseline} | {r.ratio} | {r.target} | {r.verdict} |")
            out.append("")
        for block in section.extra:
            out += [block, ""]
        for note in section.notes:
            out += [note, ""]
        out += [f"_Section time: {section.figures.get('_seconds', 0):.0f} s._", ""]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about a tenth of the full sizes")
    parser.add_argument("--only", default=",".join(NAMES), help=f"comma-separated subset of {', '.join(NAMES)}")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the Markdown (default: %(default)s)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL),
        help='PostgreSQL server to create a scratch database on; "none" to skip',
    )
    for f in dataclasses.fields(Sizes):
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=int, default=None)
    args = parser.parse_args(argv)
    only = tuple(n.strip() for n in args.only.split(",") if n.strip())
    unknown = [n for n in only if n not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (choose from {', '.join(NAMES)})")
    sizes = sizes_from(args)
    pg_url = None if args.pg_url.lower() in ("", "none", "off") else args.pg_url
    start = time.perf_counter()
    sections, facts = asyncio.run(run_all(sizes, only, pg_url))
    elapsed = time.perf_counter() - start
    command = "python -m benchmarks" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    args.out.write_text(render(sections, facts, sizes, elapsed, command.strip()), encoding="utf-8")
    print(f"wrote {args.out} ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
