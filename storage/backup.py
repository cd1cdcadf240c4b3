"""Database-neutral backup and restore: a zip of JSON lines, one file per table.

A backup made on SQLite restores on PostgreSQL and the other way round. The zip holds
`manifest.json` (format name and version, the Alembic revision of the database, when it was made,
and for each table its columns, row count and SHA-256) and `tables/<name>.jsonl`: one JSON array of
column values per row, dates and datetimes as ISO 8601 text, JSON columns as JSON.

Restore checks the whole file before it touches the database (a foreign, truncated or corrupt file
is refused with the reason and nothing changes), then replaces every table's rows in one
transaction. The database must be at the backup's revision; an empty database is first migrated to
that revision, and after loading, to the newest one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import JSON as SAJSON
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    column,
    func,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.types import TypeDecorator, TypeEngine

from core import clock
from storage import audit
from storage.db import current_revisions, make_engine, upgrade_database
from storage.models import Base

FORMAT = "partnerbot-backup"
VERSION = 1
MANIFEST = "manifest.json"
BATCH = 500


class BackupError(Exception):
    """The file cannot be restored (or written); the message says why, in one line."""


@dataclass
class TableDump:
    name: str
    columns: list[str]
    rows: int = 0
    sha256: str = ""


@dataclass
class Manifest:
    revision: list[str]
    created_at: str
    tables: list[TableDump] = field(default_factory=list)
    format: str = FORMAT
    version: int = VERSION

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": self.format,
                "version": self.version,
                "alembic_revision": self.revision,
                "created_at": self.created_at,
                "tables": [
                    {"name": d.name, "columns": d.columns, "rows": d.rows, "sha256": d.sha256} for d in self.tables
                ],
            },
            indent=2,
            ensure_ascii=False,
        )


@dataclass(frozen=True)
class Summary:
    tables: int
    rows: int
    revision: list[str]


# --- value conversion ---------------------------------------------------------------------------


def _base_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    while isinstance(type_, TypeDecorator):
        type_ = cast(TypeEngine[Any], type_.impl_instance if hasattr(type_, "impl_instance") else type_.impl)
    return type_


def _to_json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _from_json(value: Any, type_: TypeEngine[Any] | None) -> Any:
    """The Python value for a column; raises ValueError when it does not fit the column's type."""
    if value is None or type_ is None:
        return value
    base = _base_type(type_)
    if isinstance(base, DateTime):
        if not isinstance(value, str):
            raise ValueError("not a date and time")
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not a date and time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    if isinstance(base, Date):
        if not isinstance(value, str):
            raise ValueError("not a date")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("not a date") from None
    if isinstance(base, Boolean):
        if not isinstance(value, bool):
            raise ValueError("not true/false")
        return value
    if isinstance(base, Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("not a whole number")
        return value
    if isinstance(base, (Float, Numeric)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("not a number")
        return value
    if isinstance(base, (String, Text)):
        if not isinstance(value, str):
            raise ValueError("not text")
        return value
    if isinstance(base, SAJSON):
        return value
    return value


# --- backup -------------------------------------------------------------------------------------

# Not data: the directory change counter (storage.directory.DirectoryVersion) is kept by triggers. It is
# neither saved nor replaced, so a restore moves it on (its own writes bump it) and a running bot notices.
NOT_BACKED_UP = frozenset({"directory_version"})


def _data_tables() -> list[Table]:
    return [tbl for tbl in Base.metadata.sorted_tables if tbl.name not in NOT_BACKED_UP]


async def backup(engine: AsyncEngine, path: str | Path) -> Summary:
    """Write every table to `path` (replaced only when the new file is complete)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    total = 0
    async with engine.connect() as conn:
        # Every table from one snapshot, so a backup of a running bot is consistent (no row whose
        # parent was added after its table was read). PostgreSQL's default gives each statement
        # its own snapshot; the SQLite driver only opens a transaction before writes.
        if conn.dialect.name == "postgresql":
            await conn.execution_options(isolation_level="REPEATABLE READ")
        else:
            await conn.exec_driver_sql("BEGIN")
        revision = sorted(await conn.run_sync(_revisions))
        if not revision:
            raise BackupError("the database has never been migrated: nothing to back up")
        manifest = Manifest(revision=revision, created_at=clock.now().isoformat())
        try:
            try:
                zf = zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED)
            except OSError as exc:
                raise BackupError(f"cannot write {path}: {exc.strerror or exc}") from None
            with zf:
                for tbl in _data_tables():
                    dump = TableDump(tbl.name, [c.name for c in tbl.columns])
                    digest = hashlib.sha256()
                    with zf.open(f"tables/{tbl.name}.jsonl", "w") as out:
                        order = list(tbl.primary_key.columns) or list(tbl.columns)
                        result = await conn.stream(select(tbl).order_by(*order))
                        async for row in result:
                            line = (
                                json.dumps([_to_json(v) for v in row], ensure_ascii=False, separators=(",", ":")) + "\n"
                            ).encode()
                            out.write(line)
                            digest.update(line)
                            dump.rows += 1
                    dump.sha256 = digest.hexdigest()
                    total += dump.rows
                    manifest.tables.append(dump)
                zf.writestr(MANIFEST, manifest.to_json())
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return Summary(len(manifest.tables), total, revision)


def _revisions(sync_conn: Any) -> list[str]:
    from alembic.runtime.migration import MigrationContext

    return list(MigrationContext.configure(sync_conn).get_current_heads())


# --- reading and checking a file ----------------------------------------------------------------


def read_manifest(zf: zipfile.ZipFile) -> Manifest:
    try:
        raw = json.loads(zf.read(MANIFEST).decode("utf-8"))
    except KeyError:
        raise BackupError("not a PartnerBot backup: it has no manifest.json") from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError("not a PartnerBot backup: its manifest is not valid JSON") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BackupError("not a PartnerBot backup: the manifest names another format")
    if raw.get("version") != VERSION:
        raise BackupError(
            f"backup format version {raw.get('version')!r} is not supported (this PartnerBot reads version {VERSION})"
        )
    try:
        tables = [
            TableDump(str(d["name"]), [str(c) for c in d["columns"]], int(d["rows"]), str(d["sha256"]))
            for d in raw["tables"]
        ]
        revision = [str(r) for r in raw["alembic_revision"]]
    except (KeyError, TypeError, ValueError):
        raise BackupError("the backup's manifest is incomplete") from None
    if not revision:
        raise BackupError("the backup's manifest has no database revision")
    return Manifest(revision=revision, created_at=str(raw.get("created_at", "")), tables=tables)


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise BackupError("not a PartnerBot backup: the file is not a zip archive") from None


def _rows(zf: zipfile.ZipFile, dump: TableDump, types: dict[str, TypeEngine[Any] | None]) -> Iterator[dict[str, Any]]:
    """Rows of one table as column dicts, checked line by line; raises BackupError with the place."""
    digest = hashlib.sha256()
    count = 0
    try:
        with zf.open(f"tables/{dump.name}.jsonl") as fh:
            for number, line in enumerate(fh, start=1):
                digest.update(line)
                where = f"table {dump.name}, line {number}"
                try:
                    values = json.loads(line.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    raise BackupError(f"{where}: not valid JSON") from None
                if not isinstance(values, list) or len(values) != len(dump.columns):
                    raise BackupError(f"{where}: expected {len(dump.columns)} values")
                row = {}
                for name, value in zip(dump.columns, values):
                    try:
                        row[name] = _from_json(value, types.get(name))
                    except ValueError as exc:
                        raise BackupError(f"{where}: column {name}: {exc}") from None
                count += 1
                yield row
    except KeyError:
        raise BackupError(f"the backup has no data for table {dump.name}") from None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise BackupError(f"the backup is damaged (table {dump.name}: {exc})") from None
    if count != dump.rows:
        raise BackupError(f"table {dump.name}: {count} rows where the manifest says {dump.rows}")
    if digest.hexdigest() != dump.sha256:
        raise BackupError(f"table {dump.name}: contents do not match the manifest's checksum")


def _column_types(manifest: Manifest) -> dict[str, dict[str, TypeEngine[Any] | None]]:
    out = {}
    for dump in manifest.tables:
        known = Base.metadata.tables.get(dump.name)
        out[dump.name] = {c: (known.c[c].type if known is not None and c in known.c else None) for c in dump.columns}
    return out


def check(path: str | Path) -> Manifest:
    """Read the whole file and check every row; the manifest when it can be restored."""
    with _open_zip(Path(path)) as zf:
        manifest = read_manifest(zf)
        types = _column_types(manifest)
        names = [d.name for d in manifest.tables]
        if len(set(names)) != len(names):
            raise BackupError("the backup lists a table twice")
        if sorted(manifest.revision) == _code_heads():  # this PartnerBot's own schema: every table must be there
            _check_tables(manifest, {tbl.name: [c.name for c in tbl.columns] for tbl in _data_tables()})
        for dump in manifest.tables:
            for _row in _rows(zf, dump, types[dump.name]):
                pass
    return manifest


def _code_heads() -> list[str]:
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    return sorted(ScriptDirectory.from_config(alembic_config()).get_heads())


def _check_tables(manifest: Manifest, tables: dict[str, list[str]]) -> None:
    """A backup must list every table of its revision, each with that table's columns: a manifest that
    leaves a table out would otherwise empty it on restore."""
    listed = {d.name: d for d in manifest.tables}
    missing = sorted(set(tables) - set(listed))
    if missing:
        raise BackupError(
            f"the backup does not list table {missing[0]} of its database revision "
            f"({len(missing)} of {len(tables)} tables missing); it is incomplete or was altered"
        )
    for name, columns in tables.items():
        if sorted(listed[name].columns) != sorted(columns):
            raise BackupError(f"table {name}: the backup's columns do not match the table's at its revision")


async def _check_tables_of(conn: AsyncConnection, manifest: Manifest, existing: set[str]) -> None:
    def columns(sync_conn: Any) -> dict[str, list[str]]:
        inspector = inspect(sync_conn)
        return {
            name: [c["name"] for c in inspector.get_columns(name)]
            for name in existing
            if name != "alembic_version" and name not in NOT_BACKED_UP
        }

    _check_tables(manifest, await conn.run_sync(columns))


# --- restore ------------------------------------------------------------------------------------


async def _table_names(conn: AsyncConnection) -> set[str]:
    return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def database_has_data(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        existing = await _table_names(conn)
        for tbl in _data_tables():
            if tbl.name in existing and (await conn.execute(select(func.count()).select_from(tbl))).scalar_one():
                return True
    return False


async def restore(
    engine: AsyncEngine, path: str | Path, actor_label: str = "command line", *, record: bool = True
) -> Summary:
    """Replace all data with the backup's, in one transaction. Raises BackupError and changes nothing
    when the file or the database does not fit. `record=False` leaves the audit log exactly as in the
    backup (a copy records itself once it has been verified)."""
    path = Path(path)
    manifest = check(path)
    revision = sorted(manifest.revision)
    current = sorted(await current_revisions(engine))
    fresh = not current
    if fresh:
        async with engine.connect() as conn:
            ours = await _table_names(conn) & set(Base.metadata.tables)
        if ours:
            raise BackupError(
                "the database has PartnerBot tables but no migration record; restore into an "
                "empty database or one made by `partnerbot db upgrade`"
            )
        try:
            await upgrade_database(engine, revision[0] if len(revision) == 1 else "heads")
        except Exception as exc:  # an unknown revision: a backup from a newer PartnerBot
            raise BackupError(
                f"the backup was made at database revision {', '.join(revision)}, which this "
                f"PartnerBot does not know ({exc})"
            ) from None
        current = sorted(await current_revisions(engine))
    if current != revision:
        raise BackupError(
            f"the backup was made at database revision {', '.join(revision)} but the database is at "
            f"{', '.join(current)}; restore it into an empty database instead"
        )

    types = _column_types(manifest)
    total = 0
    with _open_zip(path) as zf:
        async with engine.begin() as conn:
            existing = await _table_names(conn)
            unknown = [d.name for d in manifest.tables if d.name not in existing]
            if unknown:
                raise BackupError(f"the database has no table {unknown[0]}")
            # the database is at the backup's revision: its tables are that revision's tables
            await _check_tables_of(conn, manifest, existing)
            erasures = await _erasures(conn) if not fresh else []
            for tbl in reversed(_data_tables()):
                if tbl.name in existing:
                    await conn.execute(tbl.delete())
            # The directory's change counter (storage/directory_version.py) last: the directory's rows bump it
            # through triggers as they go in; the backup's own value is what the restored directory had.
            for dump in sorted(manifest.tables, key=lambda d: d.name == "directory_version"):
                target = table(dump.name, *(column(c, types[dump.name][c]) for c in dump.columns))
                if dump.name == "directory_version":
                    await conn.execute(target.delete())  # the triggers made its row again meanwhile
                batch: list[dict[str, Any]] = []
                for row in _rows(zf, dump, types[dump.name]):
                    batch.append(row)
                    if len(batch) >= BATCH:
                        await conn.execute(target.insert(), batch)
                        batch = []
                if batch:
                    await conn.execute(target.insert(), batch)
                total += dump.rows
            if conn.dialect.name == "postgresql":
                await _reset_sequences(conn)
            await _reapply_erasures(conn, erasures)
            if not fresh and record:  # the restore itself goes in the restored audit log, in the same transaction
                await _record_restore(conn, path, manifest, total, actor_label)
    if fresh:
        await upgrade_database(engine)
        if record:
            async with engine.begin() as conn:
                await _record_restore(conn, path, manifest, total, actor_label)
    return Summary(len(manifest.tables), total, revision)


async def _erasures(conn: AsyncConnection) -> list[tuple[int, list[int], list[str], dict[str, str]]]:
    """The erasures logged in the database about to be replaced: (person id, Telegram ids of older
    records, digests of the accounts, the places the admin kept with their reasons)."""
    from storage.erasure import ERASE_ACTION
    from storage.members import AuditEntry

    out = []
    for entity_id, detail in (
        await conn.execute(select(AuditEntry.entity_id, AuditEntry.detail).where(AuditEntry.action == ERASE_ACTION))
    ).all():
        detail = detail if isinstance(detail, dict) else {}
        try:
            ids = [int(i) for i in detail.get("telegram_ids", [])]
            digests = [str(d) for d in detail.get("accounts", []) if isinstance(d, str)]
            kept = {str(p): str(r) for p, r in detail.get("kept", []) if isinstance(p, str)}
            out.append((int(entity_id or 0), ids, digests, kept))
        except (TypeError, ValueError):
            continue
    return out


async def _reapply_erasures(
    conn: AsyncConnection, erasures: list[tuple[int, list[int], list[str], dict[str, str]]]
) -> None:
    """An older backup still holds people erased since: erase them again, in the restore's transaction,
    so a restore never brings back personal data the partnership was asked to erase (what the admin
    chose to keep stays kept)."""
    if not erasures:
        return
    from storage.directory import Person
    from storage.erasure import account_digest, erase_ids  # the one erasure, shared with /erase
    from storage.members import Member

    async with AsyncSession(bind=conn) as session:
        for person_id, ids, digests, kept in erasures:
            person = await session.get(Person, person_id) if person_id else None
            linked = (
                list(await session.scalars(select(Member.telegram_id).where(Member.person_id == person_id)))
                if person is not None
                else []
            )
            wanted = set(digests)
            held = [
                telegram_id
                for telegram_id in await session.scalars(select(Member.telegram_id))
                if telegram_id in ids or account_digest(telegram_id) in wanted
            ]
            if person is None and not held:
                continue  # already erased in the backup too
            await erase_ids(session, person_id, person, sorted(set(held) | set(linked)), None, keep=kept)
        await session.flush()


async def _record_restore(conn: AsyncConnection, path: Path, manifest: Manifest, rows: int, actor_label: str) -> None:
    async with AsyncSession(bind=conn) as session:
        audit.record(
            session,
            None,
            "database.restore",
            "database",
            "",
            actor_label=actor_label,
            file=path.name,
            made=manifest.created_at,
            rows=rows,
        )
        await session.flush()


async def _reset_sequences(conn: AsyncConnection) -> None:
    """After inserting explicit ids, move PostgreSQL's sequences past them."""
    for tbl in Base.metadata.sorted_tables:
        for col in tbl.primary_key.columns:
            seq = (
                await conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": tbl.name, "c": col.name})
            ).scalar_one()
            if seq:
                await conn.execute(
                    text(
                        f'SELECT setval(:s, COALESCE((SELECT MAX("{col.name}") FROM "{tbl.name}"), 1), '
                        f'(SELECT MAX("{col.name}") FROM "{tbl.name}") IS NOT NULL)'
                    ),
                    {"s": seq},
                )


async def backup_url(url: str, path: str | Path) -> Summary:
    engine = make_engine(url)
    try:
        return await backup(engine, path)
    finally:
        await engine.dispose()


async def restore_url(url: str, path: str | Path) -> Summary:
    engine = make_engine(url)
    try:
        return await restore(engine, path)
    finally:
        await engine.dispose()


def table_for(name: str) -> Table:
    return Base.metadata.tables[name]
