"""Backups verified: a restore refuses a backup that does not list every table of its revision, or whose
row counts, columns or checksums do not match its contents — and changes nothing. Both databases."""

from __future__ import annotations

import json
import zipfile

import pytest

from storage.backup import BackupError, backup, restore
from storage.directory import Person
from tests.dbtools import populate, snapshot
from tests.test_backup import _manifest, _rewrite, _table


def _drop_table(name: str):
    def change(file: str, data: bytes):
        if file == f"tables/{name}.jsonl":
            return None
        if file == "manifest.json":
            manifest = json.loads(data)
            manifest["tables"] = [t for t in manifest["tables"] if t["name"] != name]
            return json.dumps(manifest).encode()
        return data

    return change


def _edit_table_entry(name: str, **values):
    def edit(manifest):
        for entry in manifest["tables"]:
            if entry["name"] == name:
                entry.update(values)

    return _manifest(edit)


def _rename_column(manifest):
    for entry in manifest["tables"]:
        if entry["name"] == "person":
            entry["columns"] = ["surname" if c == "last_name" else c for c in entry["columns"]]


def _add_row(data: bytes) -> bytes:
    return data + data.split(b"\n", 1)[0] + b"\n"


TAMPERED = {
    "no tables listed": (_manifest(lambda m: m.update(tables=[])), "does not list table"),
    "one table left out": (_drop_table("progress_update"), "does not list table progress_update"),
    "row count raised": (_edit_table_entry("person", rows=99), "manifest says 99"),
    "checksum replaced": (_edit_table_entry("plan", sha256="0" * 64), "checksum"),
    "row added": (_table("school", _add_row), "manifest says"),
    "column renamed": (_manifest(_rename_column), "columns do not match"),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
async def test_a_tampered_backup_is_refused_and_changes_nothing(case, db_url, sessionmaker, tmp_path):
    await populate(sessionmaker)
    engine = sessionmaker.kw["bind"]
    good = tmp_path / "good.zip"
    await backup(engine, good)
    async with sessionmaker.begin() as s:
        s.add(Person(first_name="Only", last_name="Here"))
    before = await snapshot(engine)
    change, reason = TAMPERED[case]
    bad = tmp_path / "bad.zip"
    _rewrite(good, bad, change)
    with pytest.raises(BackupError, match=reason):
        await restore(engine, bad)
    assert await snapshot(engine) == before
    # the untouched file still restores
    summary = await restore(engine, good)
    assert summary.rows > 0
    assert summary.tables == len(json.loads(zipfile.ZipFile(good).read("manifest.json"))["tables"])
