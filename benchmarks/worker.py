"""Measurements that need a process of their own (peak and idle memory): run as
`python -m benchmarks.worker MODE ...`; prints one JSON object on its last line.

Modes:
  bare                     RSS of a bare Python process
  libs                     RSS of a process that only imports the bot's libraries
  csv FILE                 read FILE with the csv module alone (the I/O floor)
  import FILE URL          parse_directory_file + apply_directory into the (migrated, empty) database at URL
  startup URL              build_application -> start_services (index built) -> idle
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

T0 = time.perf_counter()


def _status(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def rss_now() -> int:
    """Resident set size in bytes, now."""
    value = _status("VmRSS")
    if value is not None:
        return value
    import psutil

    return int(psutil.Process().memory_info().rss)


def peak_rss() -> int:
    """Peak resident set size of this process in bytes. VmHWM, not ru_maxrss: on Linux ru_maxrss survives
    fork + exec, so a child of a big parent would report the parent's size."""
    value = _status("VmHWM")
    if value is not None:
        return value
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024


def mode_csv(path: str) -> dict[str, float]:
    import csv

    start = time.perf_counter()
    rows = 0
    with open(path, encoding="latin-1", newline="") as handle:
        for _row in csv.reader(handle):
            rows += 1
    return {"seconds": time.perf_counter() - start, "rows": rows - 1, "peak_rss": peak_rss()}


def mode_import(path: str, url: str) -> dict[str, float]:
    import asyncio
    from pathlib import Path

    from directory.importer import apply_directory, parse_directory_file
    from storage.db import make_engine, make_sessionmaker

    before = rss_now()
    start = time.perf_counter()
    parsed = parse_directory_file(Path(path), Path(path).name)
    parse_s = time.perf_counter() - start

    async def apply() -> object:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine).begin() as session:
                return await apply_directory(session, parsed, actor_id=None, dry_run=False)
        finally:
            await engine.dispose()

    summary = asyncio.run(apply())
    total = time.perf_counter() - start
    counts = {k: v for k, v in vars(summary).items() if isinstance(v, int) and not isinstance(v, bool)}
    return {
        "seconds": total,
        "parse_seconds": parse_s,
        "apply_seconds": total - parse_s,
        "peak_rss": peak_rss(),
        "rss_before": before,
        "rejected": len(parsed.rejected),
        "skipped": len(parsed.skipped),
        "schools": len(parsed.schools),
        "people": len(parsed.people),
        **{f"summary_{k}": v for k, v in counts.items()},
    }


def mode_startup(url: str) -> dict[str, float]:
    import asyncio
    import gc

    async def main() -> dict[str, float]:
        from bot import build_application, start_services
        from core.offline import OfflineRequest
        from core.settings import load_settings

        imported = time.perf_counter()
        settings = load_settings(database_url=url, telegram_bot_token=None, admin_telegram_ids=())
        start = time.perf_counter()
        app = build_application(settings, OfflineRequest(), rate_limit=False)
        async with app:
            await start_services(app)
            ready = time.perf_counter()
            services = app.bot_data["services"]
            size = len(services.directory) if services.directory is not None else -1
            gc.collect()
            await asyncio.sleep(1.0)
            idle = rss_now()
        await services.close()
        return {
            "seconds": ready - start,
            "process_seconds": ready - T0,
            "import_seconds": imported - T0,
            "idle_rss": idle,
            "peak_rss": peak_rss(),
            "entries": size,
        }

    return asyncio.run(main())


def main(argv: list[str]) -> int:
    mode = argv[0]
    if mode == "bare":
        result: dict[str, float] = {"idle_rss": rss_now(), "peak_rss": peak_rss()}
    elif mode == "libs":
        # A bare process with the libraries the bot imports at start (the floor for the bot's own memory).
        import numpy  # noqa: F401
        import rapidfuzz  # noqa: F401
        import sqlalchemy.ext.asyncio  # noqa: F401
        import telegram.ext  # noqa: F401

        import bot  # noqa: F401
        import handlers  # noqa: F401

        result = {"idle_rss": rss_now(), "peak_rss": peak_rss()}
    elif mode == "csv":
        result = mode_csv(argv[1])
    elif mode == "import":
        result = mode_import(argv[1], argv[2])
    elif mode == "startup":
        result = mode_startup(argv[1])
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    result["pid"] = os.getpid()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
