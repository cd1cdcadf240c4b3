"""`partnerbot find`: the index loaded from a migrated database (SQLite and PostgreSQL), one query, --json,
--batch from a file and from standard input, bad arguments."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.find_cli import add_commands, run_find
from directory.loader import load_index
from storage.directory import Person, School, Specialism


async def seed_directory(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """A small partnership: three schools, five people (two system leaders in maths), ids by short name."""
    async with sessionmaker.begin() as session:
        maths = Specialism(name="mathematics", aliases="maths|numeracy")
        send = Specialism(name="send", aliases="sen")
        session.add_all([maths, send])
        aloysius = School(
            urn="100459",
            name="St Aloysius RC College",
            phase="secondary",
            locality="Highgate",
            local_authority="Islington",
            postcode="N6 5LY",
            easting=529090,
            northing=187296,
            school_type="Voluntary aided school",
            phone="020 7561 7800",
        )
        thomas = School(
            urn="100492",
            name="St Thomas' CofE Primary School",
            phase="primary",
            locality="North Kensington",
            local_authority="Kensington and Chelsea",
            postcode="W10 5EF",
            easting=524351,
            northing=182075,
        )
        trinity = School(
            urn="100500",
            name="Holy Trinity Church of England Academy",
            phase="primary",
            locality="Islington",
            local_authority="Islington",
            easting=531000,
            northing=185000,
        )
        session.add_all([aloysius, thomas, trinity])
        await session.flush()
        people = {
            "heffernan": Person(
                title="Ms",
                first_name="Jane",
                last_name="Heffernan",
                job_title="Headteacher",
                is_head=True,
                school_id=aloysius.id,
                email="j.heffernan@example.org",
                phone="020 7561 7801",
                designations="NLE",
                headship_start=dt.date(2015, 9, 1),
                specialisms=[maths],
            ),
            "obriain": Person(
                title="Mrs",
                first_name="Zoë",
                last_name="Ó Briain",
                job_title="SENDCo",
                school_id=aloysius.id,
                email="z.obriain@example.org",
                designations="SLE",
                specialisms=[send],
            ),
            "bouette": Person(
                title="Ms",
                first_name="Sarah",
                last_name="Bouette",
                job_title="Headteacher",
                is_head=True,
                school_id=thomas.id,
                email="s.bouette@example.org",
                phone="020 8969 2810",
                designations="SLE",
                specialisms=[maths],
            ),
            "twilliams": Person(
                title="Mr",
                first_name="Tom",
                last_name="Williams",
                job_title="Deputy Headteacher",
                school_id=trinity.id,
                email="t.williams@example.org",
            ),
            "awilliams": Person(
                title="Mrs",
                first_name="Anne",
                last_name="Williams",
                job_title="Headteacher",
                is_head=True,
                school_id=trinity.id,
                email="a.williams@example.org",
                designations="LLE",
                specialisms=[maths],
            ),
        }
        session.add_all(people.values())
        await session.flush()
        ids = {k: p.id for k, p in people.items()}
        ids.update(aloysius=aloysius.id, thomas=thomas.id, trinity=trinity.id, maths=maths.id, send=send.id)
    return ids


async def test_load_index_from_database(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    ids = await seed_directory(sessionmaker)
    async with sessionmaker() as session:
        index = await load_index(session)
    assert len(index.people) == 5 and len(index.schools) == 3
    heff = index.person(ids["heffernan"])
    assert heff.school_name == "St Aloysius RC College" and heff.locality == "Highgate"
    assert heff.designations == ("NLE",) and heff.specialisms == ("mathematics",) and heff.is_head
    top = index.search("hefernan")[0]
    assert (top.kind, top.id) == ("person", ids["heffernan"])
    assert index.search("100492")[0].id == ids["thomas"]
    # The database's own specialism (with its aliases) answers, with its database id.
    spec = index.search("numeracy")[0]
    assert (spec.kind, spec.id, spec.exact) == ("specialism", ids["maths"], True)
    assert index.specialism_for("sen").id == ids["send"]
    assert index.search("phonics")[0].kind == "specialism"  # catalogue-only specialism still found


async def test_load_empty_database(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        index = await load_index(session)
    assert len(index) == 0 and index.search("anyone") == []


async def test_find_table(db_url: str, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    ids = await seed_directory(sessionmaker)
    out, err = io.StringIO(), io.StringIO()
    assert await run_find(db_url, "Mrs Williams", out=out, err=err) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["score", "kind", "id", "name", "details"]
    assert "Mrs Anne Williams" in lines[2] and str(ids["awilliams"]) in lines[2]
    assert "Mr Tom Williams" in out.getvalue()
    out = io.StringIO()
    assert await run_find(db_url, "zzzzqqq", out=out, err=err) == 0
    assert "No matches" in out.getvalue()


async def test_find_json_and_limit(db_url: str, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    ids = await seed_directory(sessionmaker)
    out = io.StringIO()
    assert await run_find(db_url, "Williams", limit=1, as_json=True, out=out) == 0
    record = json.loads(out.getvalue())
    assert record["query"] == "Williams" and len(record["matches"]) == 1
    match = record["matches"][0]
    assert match["kind"] == "person" and match["id"] in {ids["awilliams"], ids["twilliams"]}
    assert match["exact"] is True and 0 <= match["score"] <= 100


async def test_find_batch_file_and_stdin(
    db_url: str, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    ids = await seed_directory(sessionmaker)
    batch = tmp_path / "queries.txt"
    batch.write_text("heffernen\n\nSt Tomas C of E\n100459\nnobody-at-all-xq\n", encoding="utf-8")
    out = io.StringIO()
    assert await run_find(db_url, batch=str(batch), out=out) == 0
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["query"] for r in records] == ["heffernen", "St Tomas C of E", "100459", "nobody-at-all-xq"]
    assert records[0]["matches"][0]["id"] == ids["heffernan"] and records[0]["matches"][0]["near_miss"]
    assert records[1]["matches"][0]["id"] == ids["thomas"]
    assert records[2]["matches"][0] | {"score": 0} == {
        "kind": "school",
        "id": ids["aloysius"],
        "label": "St Aloysius RC College",
        "score": 0,
        "exact": True,
        "near_miss": False,
        "detail": "Highgate, URN 100459",
    }
    assert records[3]["matches"] == []
    out = io.StringIO()
    assert await run_find(db_url, batch="-", stdin=io.StringIO("bouette\n"), out=out) == 0
    assert json.loads(out.getvalue())["matches"][0]["id"] == ids["bouette"]


async def test_find_bad_arguments(db_url: str, tmp_path: Path) -> None:
    err = io.StringIO()
    assert await run_find(db_url, "", err=err) == 2
    assert await run_find(db_url, "x", limit=0, err=err) == 2
    assert await run_find(db_url, "x", batch="-", err=err) == 2
    assert await run_find(db_url, batch=str(tmp_path / "missing.txt"), err=err) == 2
    assert "missing.txt" in err.getvalue()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="partnerbot")
    add_commands(parser.add_subparsers(dest="command"))
    return parser


def test_find_arguments() -> None:
    args = _parser().parse_args(["find", "St", "Thomas", "--limit", "3", "--json"])
    assert args.query == ["St", "Thomas"] and args.limit == 3 and args.json and args.batch is None
    args = _parser().parse_args(["find", "--batch", "-"])
    assert args.batch == "-" and args.query == []
    with pytest.raises(SystemExit):
        _parser().parse_args(["find", "--limit", "x", "a"])


async def test_find_command_reads_database_from_settings(
    db_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = await seed_directory(sessionmaker)
    monkeypatch.setenv("DATABASE_URL", db_url)
    args = _parser().parse_args(["find", "sarah", "bouette", "--json"])
    assert await args.func(args) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["query"] == "sarah bouette" and record["matches"][0]["id"] == ids["bouette"]
