"""The support register and its report for one academic year (KPI: system leaders designated, trained and
deployed; requests met, waiting and declined; time to broker; cold spots).

`build(...)` is pure (plain rows in, a `SupportReport` out); `load(session, year)` reads the rows from the
database. directory/support_export.py writes the report as Excel and Word; `partnerbot support report` and
the office's /support call both.

Definitions (written once, here):
- a request belongs to the year it was made in; met = agreed or closed; waiting = waiting or asked;
  declined = the office could not meet it; withdrawn by the school is counted apart;
- a deployment belongs to the year it was accepted in; it counts max(days agreed, days delivered) against
  capacity, and its delivered days as delivered;
- time to broker: from the request to the acceptance, in days (median and mean) over the year's met requests;
- a school is engaged in the year if it asked for support (any request, whatever came of it) or one of its
  people gave support (a deployment accepted in the year). Cold spots are the schools not engaged, and the
  areas (locality, else local authority) where no school is engaged.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from directory.deployments import Year
from storage.directory import Person, School
from storage.support import COUNTED, SupportDeployment, SupportImpact, SupportLeader, SupportRequest

MET = ("agreed", "closed")
WAITING = ("waiting", "asked")


@dataclass(frozen=True)
class LeaderRow:
    person_id: int
    name: str
    designations: tuple[str, ...]
    specialisms: tuple[str, ...]
    school_id: int | None
    capacity_days: float | None
    designated_on: dt.date | None = None
    trained_on: dt.date | None = None


@dataclass(frozen=True)
class SchoolRow:
    id: int
    name: str
    area: str  # locality, else local authority, else ""


@dataclass(frozen=True)
class RequestRow:
    id: int
    school_id: int | None
    specialism: str
    status: str
    created_at: dt.datetime
    brokered_at: dt.datetime | None


@dataclass(frozen=True)
class DeploymentRow:
    id: int
    request_id: int
    leader_person_id: int
    school_id: int | None  # the school supported
    status: str
    days_agreed: float
    days_delivered: float
    decided_at: dt.datetime | None


@dataclass(frozen=True)
class ImpactRow:
    deployment_id: int
    side: str
    recommend: bool | None


@dataclass(frozen=True)
class LeaderLine:
    person_id: int
    name: str
    designations: str
    specialisms: str
    school: str
    designated_on: dt.date | None
    trained_on: dt.date | None
    deployments: int
    days_agreed: float
    days_delivered: float
    schools: int
    capacity: float | None
    capacity_left: float | None


@dataclass
class SupportReport:
    year: Year
    leaders: list[LeaderLine] = field(default_factory=list)
    by_designation: dict[str, int] = field(default_factory=dict)
    by_specialism: dict[str, int] = field(default_factory=dict)
    designated_this_year: int = 0
    trained: int = 0
    trained_this_year: int = 0
    leaders_deployed: int = 0
    deployments: int = 0
    days_agreed: float = 0.0
    days_delivered: float = 0.0
    schools_supported: int = 0
    requests: int = 0
    met: int = 0
    waiting: int = 0
    declined: int = 0
    withdrawn: int = 0
    broker_days_median: float | None = None
    broker_days_mean: float | None = None
    impact_answers: int = 0
    recommend_yes: int = 0
    cold_schools: list[SchoolRow] = field(default_factory=list)
    cold_areas: list[str] = field(default_factory=list)
    schools: int = 0


def _in_year(moment: dt.datetime | None, year: Year) -> bool:
    return moment is not None and year.holds(moment.date())


def build(
    year: Year,
    leaders: Sequence[LeaderRow],
    schools: Sequence[SchoolRow],
    requests: Sequence[RequestRow],
    deployments: Sequence[DeploymentRow],
    impacts: Sequence[ImpactRow] = (),
) -> SupportReport:
    report = SupportReport(year, schools=len(schools))
    school_name = {s.id: s.name for s in schools}
    year_requests = [r for r in requests if _in_year(r.created_at, year)]
    year_deployments = [d for d in deployments if d.status in COUNTED and _in_year(d.decided_at, year)]

    report.requests = len(year_requests)
    report.met = sum(r.status in MET for r in year_requests)
    report.waiting = sum(r.status in WAITING for r in year_requests)
    report.declined = sum(r.status == "declined" for r in year_requests)
    report.withdrawn = sum(r.status == "withdrawn" for r in year_requests)
    waits = [
        (r.brokered_at - r.created_at).total_seconds() / 86400
        for r in year_requests
        if r.status in MET and r.brokered_at is not None
    ]
    if waits:
        report.broker_days_median = round(statistics.median(waits), 1)
        report.broker_days_mean = round(statistics.fmean(waits), 1)

    per_leader: dict[int, list[DeploymentRow]] = defaultdict(list)
    for d in year_deployments:
        per_leader[d.leader_person_id].append(d)
    designations: Counter[str] = Counter()
    specialisms: Counter[str] = Counter()
    for leader in leaders:
        for designation in leader.designations:
            designations[designation] += 1
        for spec in leader.specialisms:
            specialisms[spec] += 1
        mine = per_leader.get(leader.person_id, [])
        used = sum(max(d.days_agreed, d.days_delivered) for d in mine)
        report.leaders.append(
            LeaderLine(
                leader.person_id,
                leader.name,
                ", ".join(leader.designations),
                ", ".join(leader.specialisms),
                school_name.get(leader.school_id, "") if leader.school_id is not None else "",
                leader.designated_on,
                leader.trained_on,
                len(mine),
                sum(d.days_agreed for d in mine),
                sum(d.days_delivered for d in mine),
                len({d.school_id for d in mine if d.school_id is not None}),
                leader.capacity_days,
                max(0.0, leader.capacity_days - used) if leader.capacity_days is not None else None,
            )
        )
        if leader.designated_on is not None and year.holds(leader.designated_on):
            report.designated_this_year += 1
        if leader.trained_on is not None:
            report.trained += 1
            report.trained_this_year += year.holds(leader.trained_on)
    report.leaders.sort(key=lambda line: (-line.deployments, line.name))
    report.by_designation = dict(sorted(designations.items()))
    report.by_specialism = dict(sorted(specialisms.items(), key=lambda kv: (-kv[1], kv[0])))
    report.leaders_deployed = len(per_leader)
    report.deployments = len(year_deployments)
    report.days_agreed = sum(d.days_agreed for d in year_deployments)
    report.days_delivered = sum(d.days_delivered for d in year_deployments)
    report.schools_supported = len({d.school_id for d in year_deployments if d.school_id is not None})

    counted = {d.id for d in year_deployments}
    year_impacts = [i for i in impacts if i.deployment_id in counted]
    report.impact_answers = len(year_impacts)
    report.recommend_yes = sum(bool(i.recommend) for i in year_impacts)

    leader_school = {leader.person_id: leader.school_id for leader in leaders}
    engaged = {r.school_id for r in year_requests if r.school_id is not None}
    engaged |= {leader_school.get(d.leader_person_id) for d in year_deployments} - {None}  # type: ignore[arg-type]
    report.cold_schools = sorted((s for s in schools if s.id not in engaged), key=lambda s: (s.area, s.name))
    areas: dict[str, bool] = {}
    for s in schools:
        if s.area:
            areas[s.area] = areas.get(s.area, False) or s.id in engaged
    report.cold_areas = sorted(area for area, warm in areas.items() if not warm)
    return report


async def load(session: AsyncSession, year: Year) -> SupportReport:
    """The year's report from the database: every system leader (anyone with a designation, or a support
    row), every school, the year's requests, deployments and impact answers."""
    offers = {row.person_id: row for row in (await session.scalars(select(SupportLeader))).all()}
    people = (
        await session.scalars(
            select(Person)
            .where(Person.status == "current", (Person.designations != "") | Person.id.in_(list(offers) or [0]))
            .options(selectinload(Person.specialisms))
        )
    ).all()
    leaders = []
    for p in people:
        offer = offers.get(p.id)
        designations = tuple(d.strip() for d in (p.designations or "").split(",") if d.strip())
        if not designations and offer is None:
            continue
        leaders.append(
            LeaderRow(
                p.id,
                p.full_name,
                designations,
                tuple(sorted(s.name for s in p.specialisms)),
                p.school_id,
                offer.capacity_days if offer else None,
                offer.designated_on if offer else None,
                offer.trained_on if offer else None,
            )
        )
    schools = [
        SchoolRow(sid, name or "", (locality or la or "").strip())
        for sid, name, locality, la in await session.execute(
            select(School.id, School.name, School.locality, School.local_authority)
        )
    ]
    start = dt.datetime.combine(year.start, dt.time(0), tzinfo=dt.timezone.utc) - dt.timedelta(days=1)
    end = dt.datetime.combine(year.end, dt.time(0), tzinfo=dt.timezone.utc) + dt.timedelta(days=2)
    requests = [
        RequestRow(*row)
        for row in await session.execute(
            select(
                SupportRequest.id,
                SupportRequest.school_id,
                SupportRequest.specialism,
                SupportRequest.status,
                SupportRequest.created_at,
                SupportRequest.brokered_at,
            ).where(SupportRequest.created_at >= start, SupportRequest.created_at < end)
        )
    ]
    deployments = [
        DeploymentRow(*row)
        for row in await session.execute(
            select(
                SupportDeployment.id,
                SupportDeployment.request_id,
                SupportDeployment.leader_person_id,
                SupportRequest.school_id,
                SupportDeployment.status,
                SupportDeployment.days_agreed,
                SupportDeployment.days_delivered,
                SupportDeployment.decided_at,
            )
            .join(SupportRequest, SupportRequest.id == SupportDeployment.request_id)
            .where(SupportDeployment.decided_at >= start, SupportDeployment.decided_at < end)
        )
    ]
    impacts = [
        ImpactRow(*row)
        for row in await session.execute(
            select(SupportImpact.deployment_id, SupportImpact.side, SupportImpact.recommend)
            .join(SupportDeployment, SupportDeployment.id == SupportImpact.deployment_id)
            .where(SupportDeployment.decided_at >= start, SupportDeployment.decided_at < end)
        )
    ]
    return build(year, leaders, schools, requests, deployments, impacts)
