"""The support register's report over a generated partnership (hundreds of schools, dozens of system
leaders, a year of requests and deployments, plus the year before), checked against the generator's own
truth on SQLite and PostgreSQL; the Excel and Word files open and say the same; `partnerbot support report`."""

from __future__ import annotations

import datetime as dt
import io
import random
import statistics
from dataclasses import dataclass, field

import docx
import openpyxl
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory import deployments as dp
from directory import support_report
from directory.support_cli import write_report
from directory.support_export import support_docx, support_xlsx
from storage.directory import Person, School, Specialism
from storage.support import SupportDeployment, SupportImpact, SupportLeader, SupportRequest

UTC = dt.timezone.utc
YEAR = dp.parse_year("2025-26")
TOWNS = [f"Town{i:02d}" for i in range(15)]
QUIET = set(TOWNS[-3:])  # nobody there asks or gives: cold areas
SPECS = ["mathematics", "english", "send", "phonics", "early years"]


@dataclass
class Truth:
    schools: int = 0
    leaders: int = 0
    designated_this_year: int = 0
    trained: int = 0
    requests: int = 0
    met: int = 0
    waiting: int = 0
    declined: int = 0
    withdrawn: int = 0
    deployments: int = 0
    days_agreed: float = 0.0
    days_delivered: float = 0.0
    leaders_deployed: set[int] = field(default_factory=set)
    schools_supported: set[int] = field(default_factory=set)
    waits: list[float] = field(default_factory=list)
    engaged: set[int] = field(default_factory=set)
    school_names: dict[int, str] = field(default_factory=dict)
    school_town: dict[int, str] = field(default_factory=dict)
    impact_answers: int = 0
    recommend_yes: int = 0


def moment(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=UTC)


async def generate(sessionmaker: async_sessionmaker[AsyncSession], seed: int) -> Truth:
    rng = random.Random(seed)
    truth = Truth()
    assert YEAR is not None
    async with sessionmaker.begin() as session:
        specs = {name: Specialism(name=name) for name in SPECS}
        session.add_all(specs.values())
        schools = []
        for i in range(rng.randint(250, 350)):
            town = rng.choice(TOWNS)
            school = School(name=f"School {i:03d} {town}", phase="primary", locality=town, local_authority="Shire")
            schools.append(school)
        session.add_all(schools)
        await session.flush()
        truth.schools = len(schools)
        truth.school_names = {s.id: s.name for s in schools}
        truth.school_town = {s.id: s.locality or "" for s in schools}
        heads = {}
        for s in schools:
            heads[s.id] = Person(first_name="Head", last_name=f"of {s.id}", school_id=s.id, is_head=True)
        session.add_all(heads.values())
        busy = [s for s in schools if s.locality not in QUIET]
        leaders = []
        for i in range(rng.randint(30, 60)):
            at = rng.choice(busy)
            leader = Person(
                first_name="Leader",
                last_name=f"{i:02d}",
                school_id=at.id,
                designations=rng.choice(["SLE", "SLE", "SLE", "NLE", "LLE"]),
                specialisms=[specs[name] for name in rng.sample(SPECS, rng.randint(1, 2))],
            )
            leaders.append(leader)
        session.add_all(leaders)
        await session.flush()
        truth.leaders = len(leaders)
        for leader in leaders:
            designated = dt.date(rng.randint(2019, 2026), rng.randint(1, 12), rng.randint(1, 28))
            trained = designated + dt.timedelta(days=rng.randint(10, 90)) if rng.random() < 0.7 else None
            truth.designated_this_year += YEAR.holds(designated)
            truth.trained += trained is not None
            session.add(
                SupportLeader(
                    person_id=leader.id,
                    capacity_days=float(rng.choice([5, 10, 20])),
                    designated_on=designated,
                    trained_on=trained,
                )
            )
        askers = [s for s in busy if rng.random() < 0.4]
        for n in range(rng.randint(150, 250)):
            school = rng.choice(askers)
            previous_year = rng.random() < 0.1
            if previous_year:
                created = moment(dt.date(2025, 3, 1) + dt.timedelta(days=rng.randint(0, 150)))
            else:
                created = moment(YEAR.start + dt.timedelta(days=rng.randint(0, 320)))
            status = rng.choices(
                ["agreed", "closed", "waiting", "asked", "declined", "withdrawn"], [25, 25, 15, 5, 15, 15]
            )[0]
            request = SupportRequest(
                requester_person_id=heads[school.id].id,
                school_id=school.id,
                specialism=rng.choice(SPECS),
                phase="primary",
                context=f"need {n}",
                urgency="this_term",
                days_wanted=2.0,
                status=status,
                created_at=created,
            )
            session.add(request)
            await session.flush()
            if not previous_year:
                truth.requests += 1
                truth.engaged.add(school.id)
                truth.met += status in ("agreed", "closed")
                truth.waiting += status in ("waiting", "asked")
                truth.declined += status == "declined"
                truth.withdrawn += status == "withdrawn"
            helpers = [p for p in leaders if p.school_id != school.id]
            if status in ("asked", "declined", "withdrawn") or rng.random() < 0.2:
                # A question that was not (or not yet) accepted: no deployment, no engagement of the leader.
                session.add(
                    SupportDeployment(
                        request_id=request.id,
                        leader_person_id=rng.choice(helpers).id,
                        status={"asked": "asked", "declined": "withdrawn"}.get(status, "declined"),
                        decided_at=created + dt.timedelta(days=1) if status != "asked" else None,
                    )
                )
            if status in ("agreed", "closed"):
                leader = rng.choice(helpers)
                wait = dt.timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 23))
                agreed = float(rng.randint(1, 6))
                delivered = rng.choice([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, agreed, agreed + 1])
                deployment = SupportDeployment(
                    request_id=request.id,
                    leader_person_id=leader.id,
                    status="accepted" if status == "agreed" else "closed",
                    days_agreed=agreed,
                    days_delivered=delivered,
                    decided_at=created + wait,
                )
                session.add(deployment)
                request.brokered_at = created + wait
                await session.flush()
                answers = []
                if status == "closed":
                    for side in ("school", "leader"):
                        if rng.random() < 0.7:
                            answers.append(rng.random() < 0.8)
                            session.add(SupportImpact(deployment_id=deployment.id, side=side, recommend=answers[-1]))
                if not previous_year and YEAR.holds((created + wait).date()):
                    truth.waits.append(wait.total_seconds() / 86400)
                    truth.deployments += 1
                    truth.days_agreed += agreed
                    truth.days_delivered += delivered
                    truth.leaders_deployed.add(leader.id)
                    truth.schools_supported.add(school.id)
                    truth.engaged.add(leader.school_id)  # type: ignore[arg-type]
                    truth.impact_answers += len(answers)
                    truth.recommend_yes += sum(answers)
    return truth


async def test_report_counts_match_the_generator(sessionmaker: async_sessionmaker[AsyncSession], tmp_path) -> None:
    for seed in (3, 11):
        truth = await generate(sessionmaker, seed)
        async with sessionmaker() as session:
            report = await support_report.load(session, YEAR)  # type: ignore[arg-type]
        assert len(report.leaders) == truth.leaders
        assert report.designated_this_year == truth.designated_this_year
        assert report.trained == truth.trained
        assert (report.requests, report.met, report.waiting, report.declined, report.withdrawn) == (
            truth.requests,
            truth.met,
            truth.waiting,
            truth.declined,
            truth.withdrawn,
        )
        assert report.deployments == truth.deployments
        assert report.days_agreed == truth.days_agreed and report.days_delivered == truth.days_delivered
        assert report.leaders_deployed == len(truth.leaders_deployed)
        assert report.schools_supported == len(truth.schools_supported)
        assert sum(line.deployments for line in report.leaders) == truth.deployments
        assert report.broker_days_median == round(statistics.median(truth.waits), 1)
        assert report.broker_days_mean == round(statistics.fmean(truth.waits), 1)
        assert (report.impact_answers, report.recommend_yes) == (truth.impact_answers, truth.recommend_yes)
        assert report.schools == truth.schools
        cold = {s.id for s in report.cold_schools}
        assert cold == set(truth.school_names) - truth.engaged
        assert set(report.cold_areas) == QUIET | {
            town for town in TOWNS if all(truth.school_town[s] != town or s in cold for s in truth.school_names)
        }
        assert set(report.cold_areas) >= QUIET
        assert 0 < len(cold) < truth.schools

        # The files say the same.
        book = openpyxl.load_workbook(io.BytesIO(support_xlsx(report)))
        assert book.sheetnames == ["Summary", "System leaders", "Cold spots"]
        figures = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=3, values_only=True) if row[0]}
        assert figures["Requests"] == str(truth.requests) and figures["Met"] == str(truth.met)
        assert figures["Deployments"] == str(truth.deployments)
        assert book["System leaders"].max_row == truth.leaders + 1
        assert book["Cold spots"].max_row == len(cold) + 1
        assert int(book["System leaders"].page_setup.paperSize) == 9  # A4
        document = docx.Document(io.BytesIO(support_docx(report)))
        assert round(document.sections[0].page_width.cm, 1) == 29.7  # A4, landscape
        summary = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
        assert summary["Declined"] == str(truth.declined)
        assert len(document.tables[2].rows) == len(cold) + 1

        # Clear the tables for the next seed (a fresh partnership).
        async with sessionmaker.begin() as session:
            for model in (SupportImpact, SupportDeployment, SupportRequest, SupportLeader, Person, School, Specialism):
                from sqlalchemy import delete

                await session.execute(delete(model))


async def test_command_line_writes_both_files(db_url: str, sessionmaker, tmp_path) -> None:
    truth = await generate(sessionmaker, 5)
    paths, report = await write_report(db_url, "2025-26", tmp_path / "out")
    assert [p.name for p in paths] == ["support-register-2025-26.xlsx", "support-register-2025-26.docx"]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert report.requests == truth.requests  # type: ignore[attr-defined]
    try:
        await write_report(db_url, "2025-27", tmp_path)
    except ValueError as exc:
        assert "not an academic year" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a bad year was accepted")


def test_years() -> None:
    assert dp.parse_year("2025-26") == dp.year_of(dt.date(2026, 3, 1))
    assert dp.parse_year("2025/2026") == dp.year_of(dt.date(2025, 9, 1))
    assert dp.parse_year("2025") == dp.year_of(dt.date(2026, 8, 31))
    for bad in ("2025-27", "twenty", "", "25-26", "1800-01"):
        assert dp.parse_year(bad) is None, bad
    assert dp.year_of(dt.date(2025, 8, 31)).label == "2024-25"


async def test_command_line_sets_capacity_by_id(db_url: str, sessionmaker, monkeypatch, capsys) -> None:
    import argparse

    from directory.support_cli import cmd_capacity

    async with sessionmaker.begin() as session:
        person = Person(first_name="Sam", last_name="Okafor", designations="SLE")
        session.add(person)
        await session.flush()
        person_id = person.id
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert await cmd_capacity(argparse.Namespace(person=person_id, days=12.0)) == 0
    assert "Sam Okafor: 12 days a year" in capsys.readouterr().out
    assert await cmd_capacity(argparse.Namespace(person=person_id, days=999.0)) == 2
    assert await cmd_capacity(argparse.Namespace(person=person_id + 1000, days=3.0)) == 2
    async with sessionmaker() as session:
        assert (await session.get(SupportLeader, person_id)).capacity_days == 12  # type: ignore[union-attr]
