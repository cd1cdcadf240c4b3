"""3. Import: the register's extract (GIAS, 133 columns) through parse_directory_file + apply_directory, in a
process of its own (peak RSS), beside reading the same CSV with the csv module alone.
4. Start-up with that directory loaded: build_application -> start_services (search index built), and the
resident memory while idle, beside a bare Python process."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import (
    Env,
    Section,
    mb,
    secs,
    sqlite_database,
    times,
    verdict_upper,
)
from benchmarks.data import CACHE_VERSION, write_gias_extract

ROOT = Path(__file__).resolve().parents[1]


async def worker(*args: str, timeout: float = 600) -> dict[str, Any]:
    """Run `python -m benchmarks.worker ARGS` and return its JSON result."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.worker",
        *args,
        cwd=str(ROOT),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError(f"benchmarks.worker {args[0]} took longer than {timeout:.0f} s") from None
    if proc.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"benchmarks.worker {args[0]} failed: " + " / ".join(tail))
    return json.loads(out.decode().strip().splitlines()[-1])


def extract_path(env: Env) -> Path:
    s = env.sizes
    return write_gias_extract(
        env.cache_path(f"gias-extract-v{CACHE_VERSION}-{s.import_rows}-{s.seed}.csv"), s.import_rows, s.seed
    )


async def run_import(env: Env) -> Section:
    s = env.sizes
    path = extract_path(env)
    size = path.stat().st_size
    sec = Section(
        "3. Import",
        f"A GIAS extract of {s.import_rows:,} establishments (all 133 columns, a head in "
        f"each row; {size / 1e6:.0f} MB) into an empty database: `parse_directory_file` then "
        "`apply_directory` in one transaction, each in a fresh process. Baseline: reading the same "
        "file with `csv.reader` alone (the I/O floor).",
    )
    floor = await worker("csv", str(path))
    bare = await worker("bare")
    targets: dict[str, str] = {"sqlite": await sqlite_database(env.work / "imported.db")}
    if env.pg is not None:
        targets["postgres"] = await env.pg.create("import")
    sec.add("csv.reader over the file (floor)", secs(floor["seconds"]), "", "", "", "")
    for label, url in targets.items():
        name = "SQLite" if label == "sqlite" else "PostgreSQL"
        result = await worker("import", str(path), url)
        env.log(f"  import into {name}: {result['seconds']:.1f} s, peak {result['peak_rss'] / 1e6:.0f} MB")
        sec.figures[f"{label}_seconds"] = result["seconds"]
        sec.figures[f"{label}_peak_rss"] = result["peak_rss"]
        sec.add(
            f"{name}: import time",
            secs(result["seconds"]),
            f"csv floor {secs(floor['seconds'])}",
            times(result["seconds"] / floor["seconds"], "the floor"),
            "< 20 s",
            verdict_upper(result["seconds"], 20.0, secs),
        )
        sec.add(
            f"{name}: of which parsing / writing", f"{secs(result['parse_seconds'])} / {secs(result['apply_seconds'])}"
        )
        sec.add(
            f"{name}: peak memory (process RSS)",
            mb(result["peak_rss"]),
            f"csv floor {mb(floor['peak_rss'])}",
            times(result["peak_rss"] / floor["peak_rss"], "the floor"),
            "< 300 MB",
            verdict_upper(result["peak_rss"], 300e6, mb),
        )
        sec.add(
            f"{name}: rows → schools / people added",
            f"{result.get('summary_rows', 0):,} → {result.get('summary_schools_added', 0):,} / "
            f"{result.get('summary_people_added', 0):,}",
            verdict=""
            if result.get("summary_schools_added") == s.import_rows
            else f"expected {s.import_rows:,} schools ({result.get('rejected', 0)} rejected)",
        )
        env.shared[f"imported_{label}"] = url
    sec.notes.append(
        f"A bare Python process has a resident size of {mb(bare['idle_rss'])}; the import's peak "
        "includes the interpreter, SQLAlchemy, the drivers and the parsed records."
    )
    return sec


async def run_startup(env: Env) -> Section:
    sec = Section(
        "4. Start-up",
        "A fresh process with the imported national directory in the database: "
        "time from `build_application` to ready (`start_services`: directory read, search index "
        "built, jobs scheduled), and resident memory after a second idle. Baseline: a bare Python "
        "process.",
    )
    if "imported_sqlite" not in env.shared:
        await run_import(env)
    bare = await worker("bare")
    libs = await worker("libs")
    sec.add("Bare Python process: resident memory", mb(bare["idle_rss"]))
    sec.add(
        "Python with the bot's libraries imported (telegram, SQLAlchemy, numpy, rapidfuzz, handlers)",
        mb(libs["idle_rss"]),
        f"bare Python {mb(bare['idle_rss'])}",
    )
    empty = await worker("startup", await sqlite_database(env.work / "empty.db"))
    sec.add("The bot with an empty directory (SQLite): build_application → ready", secs(empty["seconds"]))
    sec.add(
        "The bot with an empty directory: resident memory while idle",
        mb(empty["idle_rss"]),
        f"bare Python {mb(bare['idle_rss'])}",
        times(empty["idle_rss"] / bare["idle_rss"], "bare Python"),
    )
    for label in ("sqlite", "postgres"):
        url = env.shared.get(f"imported_{label}")
        if not url:
            continue
        name = "SQLite" if label == "sqlite" else "PostgreSQL"
        if label == "postgres":
            os.environ.setdefault("PARTNERBOT_INDEX_DIR", str(env.work / "index"))
        built = await worker("startup", url)  # no snapshot yet: built in a child process, which writes it
        env.log(
            f"  start-up on {name} without a snapshot: {built['seconds']:.2f} s, idle {built['idle_rss'] / 1e6:.0f} MB"
        )
        sec.add(
            f"{name}: build_application → ready, no snapshot (index built in a child process)", secs(built["seconds"])
        )
        sec.add(
            f"{name}: resident memory while idle, no snapshot",
            mb(built["idle_rss"]),
            f"libraries only {mb(libs['idle_rss'])}",
            times(built["idle_rss"] / libs["idle_rss"], "the floor"),
            "≤ 160 MB",
            verdict_upper(built["idle_rss"], 160e6, mb),
        )
        result = await worker("startup", url)  # the snapshot written above
        env.log(
            f"  start-up on {name}: {result['seconds']:.2f} s, idle {result['idle_rss'] / 1e6:.0f} MB, "
            f"{result['entries']:,} entries"
        )
        sec.figures[f"{label}_seconds"] = result["seconds"]
        sec.figures[f"{label}_idle_rss"] = result["idle_rss"]
        entries = result["entries"]
        sec.add(
            f"{name}: build_application → ready (index from the snapshot)",
            secs(result["seconds"]),
            "before issue 15: 3.48 s",
            times(3.48 / result["seconds"], "faster"),
            "< 2 s",
            verdict_upper(result["seconds"], 2.0, secs) if entries > 0 else "directory index not loaded",
        )
        sec.add(f"{name}: process start → ready (imports included)", secs(result["process_seconds"]))
        sec.add(
            f"{name}: resident memory while idle",
            mb(result["idle_rss"]),
            f"libraries only {mb(libs['idle_rss'])}",
            times(result["idle_rss"] / libs["idle_rss"], "the floor"),
            "≤ 160 MB",
            verdict_upper(result["idle_rss"], 160e6, mb),
        )
        sec.add(
            f"{name}: resident memory while idle vs before issue 15",
            mb(result["idle_rss"]),
            "320 MB",
            times(result["idle_rss"] / 320e6, "of before"),
        )
        sec.add(
            f"{name}: of which the directory",
            mb(result["idle_rss"] - empty["idle_rss"]),
            f"empty-directory bot {mb(empty['idle_rss'])}",
            times(result["idle_rss"] / empty["idle_rss"], "the empty bot"),
        )
        sec.add(f"{name}: entries in the search index", f"{entries:,}" if entries >= 0 else "none")
    return sec
