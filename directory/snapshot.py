"""The search index saved to a file beside the database, so a restart loads it instead of rebuilding.

Building the index over a national directory takes seconds and leaves the process a hundred megabytes
larger than the index itself (the rows read, the tokens made, freed but fragmented); loading a snapshot
takes a fifth of a second and leaves only the index. So:

- `load_index_cached(sessionmaker, url)` reads the directory's change counter (storage.directory_version,
  kept by database triggers), and loads the snapshot when it was written at that counter by this version
  of the search code; else it rebuilds, and for a large directory does so in a child process
  (`python -m directory.snapshot URL`), which writes the snapshot, so the bot's own memory holds only
  what it loads.
- A snapshot from an older directory (another counter), from other search code (`CODE_KEY`), or a file
  that does not read back is never used: the index is rebuilt.

Where: beside a SQLite file (`partnerbot.db` -> `partnerbot.db.search-index`); for PostgreSQL in
$PARTNERBOT_INDEX_DIR, else the user's cache folder, named by a hash of the database address.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.search import DirectoryIndex

log = logging.getLogger(__name__)

FORMAT = 1
# Directories smaller than this are built in the process (tens of milliseconds) and not snapshotted.
SNAPSHOT_MIN_ENTRIES = 5_000
_SOURCES = ("search.py", "search_space.py", "entry_tables.py", "../core/normalise.py", "specialisms.py", "loader.py")


def _code_key() -> str:
    """A hash of the code that builds the index: a snapshot from other code is not read."""
    digest = hashlib.sha256(f"format {FORMAT} python {sys.version_info[:2]}".encode())
    here = Path(__file__).resolve().parent
    for name in _SOURCES:
        digest.update(name.encode())
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


CODE_KEY = _code_key()


def snapshot_path(database_url: str) -> Path | None:
    """Where the snapshot of the directory at `database_url` lives (None: an in-memory database)."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[-1].split("?", 1)[0]
        if not path or path == ":memory:":
            return None
        return Path(path + ".search-index")
    folder = Path(
        os.environ.get("PARTNERBOT_INDEX_DIR")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "partnerbot"
    )
    name = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return folder / f"search-index-{name}"


def save(index: DirectoryIndex, version: int, path: Path) -> None:
    """Write atomically (a temporary file renamed), so a reader never sees half a snapshot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            pickle.dump({"code": CODE_KEY, "version": version}, handle, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path, version: int) -> DirectoryIndex | None:
    """The snapshot at `path` if it was written at counter `version` by this code, else None (never raises)."""
    try:
        with path.open("rb") as handle:
            header: Any = pickle.load(handle)
            if not isinstance(header, dict) or header.get("code") != CODE_KEY or header.get("version") != version:
                return None
            index = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file only means: rebuild
        log.warning("search index snapshot %s not read (%s): rebuilding", path, exc)
        return None
    return index if isinstance(index, DirectoryIndex) else None


async def _directory_size(session: AsyncSession) -> int:
    from sqlalchemy import func, select

    from storage.directory import Person, School

    people = await session.scalar(select(func.count()).select_from(Person)) or 0
    schools = await session.scalar(select(func.count()).select_from(School)) or 0
    return int(people) + int(schools)


async def load_index_cached(
    sessionmaker: async_sessionmaker[AsyncSession],
    database_url: str,
    min_entries: int = SNAPSHOT_MIN_ENTRIES,
    subprocess: bool = True,
) -> DirectoryIndex:
    """The index of the directory now: from the snapshot when it is current, else rebuilt (and saved)."""
    from directory.loader import load_index
    from storage.directory_version import claim_version, current_version

    path = snapshot_path(database_url)
    async with sessionmaker() as session:
        version = await current_version(session) if path is not None else None
        size = await _directory_size(session) if version is not None else 0
    if version is None or path is None or size < min_entries:
        async with sessionmaker() as session:
            return await load_index(session)
    index = await asyncio.to_thread(load, path, version)
    if index is not None:
        log.info("search index loaded from %s", path)
        return index
    if subprocess:
        version = await _build_in_child(database_url)
        if version is not None:
            index = await asyncio.to_thread(load, path, version)
            if index is not None:
                return index
    # No child (or it failed): build here. The counter is claimed before the rows are read, so a change
    # made meanwhile leaves the snapshot stale, never wrong.
    async with sessionmaker.begin() as session:
        version = await claim_version(session)
    async with sessionmaker() as session:
        index = await load_index(session)
    if version is None:
        return index
    try:
        await asyncio.to_thread(save, index, version, path)
    except OSError as exc:
        log.warning("search index snapshot not written to %s: %s", path, exc)
    return index


async def _build_in_child(database_url: str) -> int | None:
    """`python -m directory.snapshot URL` in a child process: builds the index, writes the snapshot and
    prints the counter it is keyed by (None when the child could not)."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "directory.snapshot",
            database_url,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
    except OSError as exc:
        log.warning("search index not built in a child process: %s", exc)
        return None
    if proc.returncode != 0:
        log.warning("search index child process failed: %s", err.decode(errors="replace").strip()[-500:])
        return None
    try:
        return int(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


async def write_snapshot(database_url: str) -> int | None:
    """Build the index of the directory at `database_url` and save it (the import and the child call this);
    the counter it is keyed by, or None when there is nowhere to keep it."""
    from directory.loader import load_index
    from storage.db import make_engine, make_sessionmaker
    from storage.directory_version import claim_version

    path = snapshot_path(database_url)
    if path is None:
        return None
    engine = make_engine(database_url)
    try:
        sessionmaker = make_sessionmaker(engine)
        async with sessionmaker.begin() as session:
            version = await claim_version(session)
        if version is None:
            return None
        async with sessionmaker() as session:
            index = await load_index(session)
    finally:
        await engine.dispose()
    save(index, version, path)
    return version


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m directory.snapshot DATABASE_URL", file=sys.stderr)
        return 2
    version = asyncio.run(write_snapshot(argv[0]))
    if version is None:
        return 1
    print(version)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
