"""Moving house: `partnerbot db copy --to URL` copies the configured database into another, empty one
(SQLite into PostgreSQL, or back) and proves the copy: every table's row count and SHA-256 over its rows,
read back from the target, must equal the source's.

The copy goes through the backup format (storage/backup.py): the source is read in one snapshot into a
temporary backup file, which is restored into the target in one transaction. The checksums are the
backup's own: rows in primary-key order, each value in the database-neutral JSON form, so the same data
gives the same digest on either database. Stop the bot first (deploy/RUNBOOK.md): a copy of a running bot
is consistent, but what it writes afterwards is not in it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from storage import audit
from storage.backup import BackupError, Manifest, backup, check, database_has_data, restore
from storage.db import make_engine, make_sessionmaker


class CopyError(Exception):
    """The copy was refused or did not verify; the message says why, in one line."""


@dataclass
class CopyReport:
    source: str
    target: str
    tables: list[tuple[str, int, str]] = field(default_factory=list)  # name, rows, sha256

    @property
    def rows(self) -> int:
        return sum(rows for _name, rows, _sha in self.tables)

    def lines(self) -> list[str]:
        out = [
            f"Copied {self.rows} rows in {len(self.tables)} tables from {self.source} to {self.target}.",
            "Verified: every table has the same row count and SHA-256 in both databases.",
        ]
        out += [f"  {name:<24} {rows:>8}  {sha[:16]}" for name, rows, sha in self.tables]
        return out


def redact(url: str) -> str:
    """The URL without its password, for messages and the audit log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def _compare(source: Manifest, target: Manifest) -> list[str]:
    theirs = {d.name: d for d in target.tables}
    problems = []
    for dump in source.tables:
        other = theirs.get(dump.name)
        if other is None:
            problems.append(f"{dump.name} is missing")
        elif other.rows != dump.rows:
            problems.append(f"{dump.name} has {other.rows} rows, not {dump.rows}")
        elif other.sha256 != dump.sha256:
            problems.append(f"{dump.name} differs (checksum)")
    return problems


async def copy_database(source_url: str, target_url: str) -> CopyReport:
    """Copy `source_url` (migrated) into the empty `target_url`, then verify. Raises CopyError."""
    if source_url == target_url:
        raise CopyError("the target is the database being copied")
    source = make_engine(source_url)
    target = make_engine(target_url)
    try:
        try:
            if await database_has_data(target):
                raise CopyError(f"{redact(target_url)} is not empty: copy only into an empty database")
        except CopyError:
            raise
        except Exception as exc:  # noqa: BLE001 - unreachable, wrong password, no such database
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            raise CopyError(f"cannot use {redact(target_url)}: {reason[0] if reason else type(exc).__name__}") from None
        with tempfile.TemporaryDirectory(prefix="partnerbot-copy-") as tmp:
            made, back = Path(tmp) / "source.zip", Path(tmp) / "target.zip"
            try:
                await backup(source, made)
                await restore(target, made, record=False)
                await backup(target, back)
            except BackupError as exc:
                raise CopyError(str(exc)) from None
            wanted, got = check(made), check(back)
        problems = _compare(wanted, got)
        if problems:
            raise CopyError("the copy does not match: " + "; ".join(problems[:5]))
        async with make_sessionmaker(target).begin() as session:
            audit.record(
                session,
                None,
                "database.copy",
                "database",
                "",
                source=redact(source_url),
                rows=sum(d.rows for d in wanted.tables),
            )
        return CopyReport(redact(source_url), redact(target_url), [(d.name, d.rows, d.sha256) for d in wanted.tables])
    finally:
        await source.dispose()
        await target.dispose()
