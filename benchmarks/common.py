"""Shared pieces: sizes, timing statistics, result rows, the machine description, and the databases
(a migrated SQLite file, and a PostgreSQL database of this run's own, dropped afterwards)."""

from __future__ import annotations

import math
import os
import platform
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.data import cache_dir

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Sizes:
    people: int = 30_000
    schools: int = 25_000
    queries: int = 2_000
    difflib_queries: int = 100  # difflib takes ~0.1-0.5 s a query at full size: a sample
    sql_queries: int = 200  # SQL LIKE / pg_trgm: a sample as well
    updates: int = 600  # updates per message kind per database
    import_rows: int = 50_000
    heads: int = 300
    candidates: int = 20_000
    seed: int = 0

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            people=3_000,
            schools=2_500,
            queries=400,
            difflib_queries=40,
            sql_queries=60,
            updates=150,
            import_rows=5_000,
            heads=60,
            candidates=2_000,
        )

    @classmethod
    def tiny(cls) -> Sizes:
        """For the smoke test: proves every benchmark runs, in seconds."""
        return cls(
            people=300,
            schools=250,
            queries=40,
            difflib_queries=5,
            sql_queries=5,
            updates=8,
            import_rows=200,
            heads=10,
            candidates=200,
        )


# --------------------------------------------------------------------------------------------- results


@dataclass
class Row:
    what: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""  # "met" | "missed: ..." | ""


@dataclass
class Section:
    title: str
    intro: str = ""
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # more Markdown (tables) after the main table
    figures: dict[str, float] = field(default_factory=dict)  # raw numbers, for other sections and tests

    def add(self, *args: Any, **kwargs: Any) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        if row.verdict.startswith("missed"):
            self.misses.append(f"{row.what}: {row.verdict[len('missed') :].lstrip(': ')}")
        return row


def ms(seconds: float) -> str:
    value = seconds * 1000
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 1:
        return f"{value:.2f} ms"
    return f"{value * 1000:.0f} µs"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


def mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:,.0f} MB"


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def times(x: float, word: str = "") -> str:
    text = f"{x:,.0f}×" if x >= 100 else (f"{x:.1f}×" if x >= 1 else f"{x:.2f}×")
    return f"{text} {word}".strip()


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0-100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def verdict_upper(value: float, limit: float, fmt: Callable[[float], str], fix: str = "") -> str:
    """Met when value < limit, else the gap."""
    if value < limit:
        return "met"
    return f"missed by {fmt(value - limit)} ({times(value / limit)} the limit){'; ' + fix if fix else ''}"


def verdict_lower(value: float, floor: float, fmt: Callable[[float], str], fix: str = "") -> str:
    if value >= floor:
        return "met"
    return f"missed by {fmt(floor - value)} (reached {value / floor:.0%} of the target){'; ' + fix if fix else ''}"


# --------------------------------------------------------------------------------------------- machine


def machine() -> dict[str, str]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1e6:.1f} GB"
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
        "sqlite": sqlite3.sqlite_version,
        "load": load,
    }


# --------------------------------------------------------------------------------------------- databases


def schema_tag() -> str:
    """The migration heads, so a cached database is rebuilt when the schema moves on."""
    import hashlib

    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    heads = sorted(ScriptDirectory.from_config(alembic_config()).get_heads())
    return hashlib.sha1(",".join(heads).encode()).hexdigest()[:8]


async def migrate(url: str) -> None:
    from storage.db import make_engine, upgrade_database

    engine = make_engine(url)
    try:
        await upgrade_database(engine)
    finally:
        await engine.dispose()


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url).set(drivername="postgresql")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


class Postgres:
    """Databases of this run's own on the server at `url` (`pb_bench_<pid>[_suffix]`), dropped by `close()`."""

    def __init__(self, url: str):
        self.url = url
        self.created: list[str] = []
        self.version = ""
        self.error = ""

    async def available(self) -> bool:
        import asyncpg

        try:
            conn = await asyncpg.connect(_asyncpg_dsn(self.url, "postgres"), timeout=5)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            return False
        try:
            self.version = (await conn.fetchval("SHOW server_version")) or ""
        finally:
            await conn.close()
        return True

    async def create(self, suffix: str = "") -> str:
        import asyncpg
        from sqlalchemy.engine import make_url

        name = f"pb_bench_{os.getpid()}{'_' + suffix if suffix else ''}"
        conn = await asyncpg.connect(_asyncpg_dsn(self.url, "postgres"))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        url = make_url(self.url).set(database=name).render_as_string(hide_password=False)
        await migrate(url)
        return url

    async def close(self) -> None:
        import asyncpg

        if not self.created:
            return
        conn = await asyncpg.connect(_asyncpg_dsn(self.url, "postgres"))
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
        self.created.clear()


async def sqlite_database(path: Path, template: Path | None = None) -> str:
    """A migrated SQLite file at `path` (a copy of `template` when given)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for extra in ("", "-wal", "-shm"):
        Path(str(path) + extra).unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    if template is not None and template.exists():
        shutil.copy(template, path)
    else:
        await migrate(url)
    return url


async def load_directory(url: str, directory: Any) -> None:
    """The benchmark directory into a migrated, empty database (bulk inserts)."""
    from directory.synthetic import insert_directory
    from storage.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            await insert_directory(session, directory)
        if url.startswith("postgresql"):
            async with engine.connect() as conn:
                from sqlalchemy import text

                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


@dataclass
class Env:
    """What every benchmark shares: sizes, the output folder for temporary files, and PostgreSQL (or None)."""

    sizes: Sizes
    work: Path
    pg: Postgres | None
    log: Callable[[str], None] = print
    shared: dict[str, Any] = field(default_factory=dict)  # what one benchmark hands to the next

    def cache_path(self, name: str) -> Path:
        return cache_dir() / name


def each(items: Iterable[Any]) -> list[Any]:
    return list(items)
