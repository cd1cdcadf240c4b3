"""Realistic synthetic directories for tests and benchmarks (seeded, fast: 30,000 people in about a second).

`make_directory(n_people, n_schools, seed)` returns plain records: schools drawn from the real list of
schools in England (`schools-england-2017.tsv`: names, types, age ranges, capacities), placed in real
local authorities and towns with grid references near each town, and people whose names follow the real
frequencies of head teachers' first and last names. The first `n_schools` people are the heads (one per
school); the rest are deputies, SENDCos and business managers. Heads have years in headship, buddy
places offered, specialisms and designations in plausible proportions.

`candidates(directory, today)` and `new_heads(directory, n, seed)` turn it into the matcher's records;
`insert_directory(session, directory)` loads it into the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from directory.matching import Candidate, NewHead

# The register's files shipped in data/gias (nothing outside the repository is needed).
DATA_DIRS = (Path(__file__).resolve().parents[1] / "data" / "gias",)

# (local authority, postcode area, centre easting, centre northing, towns)
AREAS: tuple[tuple[str, str, int, int, tuple[str, ...]], ...] = (
    (
        "Kent",
        "ME",
        590000,
        150000,
        ("Ashford", "Canterbury", "Dover", "Maidstone", "Margate", "Sevenoaks", "Tonbridge", "Folkestone"),
    ),
    ("Essex", "CM", 575000, 215000, ("Chelmsford", "Colchester", "Basildon", "Harlow", "Braintree", "Brentwood")),
    ("Hampshire", "SO", 450000, 125000, ("Winchester", "Basingstoke", "Andover", "Eastleigh", "Fareham", "Aldershot")),
    ("Surrey", "GU", 510000, 150000, ("Guildford", "Woking", "Epsom", "Reigate", "Farnham")),
    ("Hertfordshire", "AL", 520000, 215000, ("St Albans", "Watford", "Stevenage", "Hitchin", "Hemel Hempstead")),
    ("Lancashire", "PR", 355000, 430000, ("Preston", "Lancaster", "Burnley", "Chorley", "Morecambe")),
    ("Norfolk", "NR", 615000, 310000, ("Norwich", "King's Lynn", "Great Yarmouth", "Thetford", "Dereham")),
    ("Suffolk", "IP", 615000, 255000, ("Ipswich", "Bury St Edmunds", "Lowestoft", "Sudbury")),
    ("Devon", "EX", 270000, 95000, ("Exeter", "Barnstaple", "Tiverton", "Newton Abbot", "Exmouth")),
    ("Cornwall", "TR", 180000, 55000, ("Truro", "Penzance", "St Austell", "Bodmin", "Falmouth")),
    ("Cumbria", "CA", 340000, 520000, ("Carlisle", "Kendal", "Penrith", "Workington", "Barrow-in-Furness")),
    ("Northumberland", "NE", 400000, 590000, ("Hexham", "Morpeth", "Alnwick", "Blyth")),
    ("Leeds", "LS", 430000, 435000, ("Leeds", "Otley", "Morley", "Wetherby", "Pudsey")),
    ("Manchester", "M", 384000, 398000, ("Manchester", "Wythenshawe", "Didsbury", "Gorton")),
    ("Birmingham", "B", 407000, 287000, ("Birmingham", "Erdington", "Edgbaston", "Handsworth", "Selly Oak")),
    ("Bristol", "BS", 359000, 173000, ("Bristol", "Bedminster", "Southmead", "Brislington")),
    ("Nottinghamshire", "NG", 460000, 355000, ("Mansfield", "Newark", "Worksop", "Retford", "Hucknall")),
    ("Derbyshire", "DE", 425000, 360000, ("Chesterfield", "Buxton", "Matlock", "Ilkeston", "Glossop")),
    ("Lincolnshire", "LN", 500000, 370000, ("Lincoln", "Grantham", "Boston", "Skegness", "Spalding")),
    ("North Yorkshire", "YO", 440000, 470000, ("Harrogate", "Scarborough", "Northallerton", "Selby", "Whitby")),
    ("Cambridgeshire", "CB", 540000, 270000, ("Cambridge", "Ely", "Huntingdon", "St Neots", "Wisbech")),
    ("Oxfordshire", "OX", 450000, 210000, ("Oxford", "Banbury", "Bicester", "Witney", "Abingdon")),
    ("Camden", "NW", 528000, 184000, ("Camden Town", "Kentish Town", "Hampstead", "Holborn")),
    ("Islington", "N", 531000, 185000, ("Highbury", "Holloway", "Angel", "Archway")),
    ("Hackney", "E", 535000, 185000, ("Dalston", "Homerton", "Stoke Newington", "Hackney Wick")),
    ("Croydon", "CR", 533000, 165000, ("Croydon", "Purley", "Thornton Heath", "Norbury")),
    ("Cheshire East", "CW", 375000, 365000, ("Crewe", "Macclesfield", "Congleton", "Nantwich")),
    ("West Sussex", "RH", 515000, 115000, ("Chichester", "Worthing", "Crawley", "Horsham")),
    ("East Sussex", "BN", 550000, 115000, ("Eastbourne", "Hastings", "Lewes", "Uckfield")),
    ("Somerset", "TA", 330000, 135000, ("Taunton", "Yeovil", "Bridgwater", "Frome")),
    ("Shropshire", "SY", 350000, 305000, ("Shrewsbury", "Oswestry", "Ludlow", "Bridgnorth")),
)

SPECIALISMS = (
    "mathematics",
    "english",
    "phonics",
    "early years",
    "send",
    "assessment",
    "behaviour",
    "leadership of cpd",
    "itt and mentoring",
    "pupil premium",
    "governance",
    "safeguarding",
    "curriculum",
    "science",
    "school improvement",
    "mental health",
)
OTHER_ROLES = (
    "Deputy headteacher",
    "Assistant headteacher",
    "SENDCo",
    "School business manager",
    "Head of school",
    "Early years lead",
)


@dataclass(frozen=True)
class SchoolRecord:
    id: int
    urn: str
    name: str
    phase: str
    school_type: str
    local_authority: str
    locality: str
    postcode: str
    trust: str | None
    pupils: int | None
    low_age: int | None
    high_age: int | None
    easting: float
    northing: float


@dataclass(frozen=True)
class PersonRecord:
    id: int
    title: str
    first_name: str
    last_name: str
    job_title: str
    is_head: bool
    school_id: int | None
    email: str
    phone: str
    designations: str
    headship_start: dt.date | None
    mentor_capacity: int
    buddy_status: str
    buddy_paused_until: dt.date | None
    specialisms: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.title} {self.first_name} {self.last_name}"


@dataclass
class Directory:
    schools: list[SchoolRecord]
    people: list[PersonRecord]
    today: dt.date
    school_by_id: dict[int, SchoolRecord] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.school_by_id = {s.id: s for s in self.schools}

    @property
    def heads(self) -> list[PersonRecord]:
        return [p for p in self.people if p.is_head]


def _data_file(name: str) -> Path:
    for folder in DATA_DIRS:
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"{name} not found in {', '.join(str(d) for d in DATA_DIRS)}")


@lru_cache(maxsize=1)
def _real_schools() -> tuple[tuple[str, str, int | None, int | None, int | None], ...]:
    """(name, type, low age, high age, capacity) of real schools in England."""
    rows = []
    with _data_file("schools-england-2017.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            kind = row.get("school-type") or ""
            if kind in ("Higher Education Institution", "Further Education", "Miscellaneous"):
                continue

            def num(key: str) -> int | None:
                value = (row.get(key) or "").strip()  # noqa: B023 (called at once, in this iteration)
                return int(value) if value.isdigit() else None

            rows.append((row["name"].strip(), kind, num("minimum-age"), num("maximum-age"), num("school-capacity")))
    return tuple(rows)


@lru_cache(maxsize=2)
def _names(kind: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    names, weights = [], []
    with _data_file(f"head-{kind}-name-counts.tsv").open(encoding="utf-8") as handle:
        for line in handle:
            count, _tab, name = line.rstrip("\n").partition("\t")
            name = name.strip()
            if len(name) < 2 or not count.strip().isdigit() or not name[0].isalpha():
                continue
            names.append(name)
            weights.append(int(count))
    cumulative, running = [], 0
    for w in weights:
        running += w
        cumulative.append(running)
    return tuple(names), tuple(cumulative)


def phase_for(name: str, kind: str, low: int | None, high: int | None) -> str:
    lowered = name.lower()
    if "special" in kind.lower() or "special" in lowered:
        return "special"
    if "pupil referral" in lowered or "alternative" in lowered:
        return "pru"
    if low is None or high is None:
        if "nursery" in lowered:
            return "nursery"
        if any(w in lowered for w in ("academy", "high", "college", "secondary", "grammar")):
            return "secondary"
        return "primary"
    if high <= 5:
        return "nursery"
    if low >= 16:
        return "16-plus"
    if low >= 11:
        return "secondary"
    if high <= 11:
        return "primary"
    if low >= 8 and high <= 14:
        return "middle"
    return "all-through"


def make_directory(n_people: int, n_schools: int, seed: int = 0, today: dt.date = dt.date(2025, 7, 1)) -> Directory:
    """A seeded directory of `n_schools` schools (one head each) and `n_people` people in all."""
    rng = random.Random(seed)
    real = _real_schools()
    trusts = [
        f"{w} Academy Trust"
        for w in (
            "Oak",
            "Riverside",
            "Harbour",
            "Meadow",
            "Beacon",
            "Castle",
            "Forest",
            "Pioneer",
            "Unity",
            "Horizon",
            "Kingfisher",
            "Summit",
        )
    ]
    town_points: list[tuple[int, str, float, float]] = []  # (area index, town, easting, northing)
    for a, (_la, _pc, e, n, towns) in enumerate(AREAS):
        town_rng = random.Random(f"{seed}:{a}")
        for town in towns:
            town_points.append((a, town, e + town_rng.uniform(-22000, 22000), n + town_rng.uniform(-22000, 22000)))
    schools: list[SchoolRecord] = []
    used_names: set[str] = set()
    for i in range(n_schools):
        name, kind, low, high, capacity = real[rng.randrange(len(real))]
        area, town, te, tn = town_points[rng.randrange(len(town_points))]
        la, pc = AREAS[area][0], AREAS[area][1]
        if name in used_names:
            name = f"{name}, {town}"
            if name in used_names:
                name = f"{name} ({i + 1})"
        used_names.add(name)
        phase = phase_for(name, kind, low, high)
        if kind == "Local authority maintained" and rng.random() < 0.35:
            kind = rng.choice(("Academy converter", "Academy sponsor led"))
        trust = rng.choice(trusts) + f" ({la})" if "Academy" in kind and rng.random() < 0.8 else None
        pupils = (
            int(capacity * rng.uniform(0.75, 1.02))
            if capacity
            else {"primary": 300, "secondary": 1000, "nursery": 80, "special": 120}.get(phase, 400)
        )
        schools.append(
            SchoolRecord(
                id=i + 1,
                urn=str(100000 + i),
                name=name,
                phase=phase,
                school_type=kind,
                local_authority=la,
                locality=town,
                postcode=f"{pc}{rng.randint(1, 29)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
                f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
                trust=trust,
                pupils=pupils,
                low_age=low,
                high_age=high,
                easting=round(te + rng.gauss(0, 2500)),
                northing=round(tn + rng.gauss(0, 2500)),
            )
        )

    firsts, first_cum = _names("first")
    lasts, last_cum = _names("last")
    first_pick = rng.choices(firsts, cum_weights=first_cum, k=n_people)
    last_pick = rng.choices(lasts, cum_weights=last_cum, k=n_people)
    people: list[PersonRecord] = []
    emails: set[str] = set()
    for i in range(n_people):
        first, last = first_pick[i], last_pick[i]
        is_head = i < n_schools
        school_id = i + 1 if is_head else (rng.randrange(n_schools) + 1 if n_schools else None)
        local = "".join(ch for ch in f"{first}.{last}".lower() if ch.isalnum() or ch == ".")
        email = f"{local}@school{school_id or 0}.example.org.uk"
        if email in emails:
            email = f"{local}{i + 1}@school{school_id or 0}.example.org.uk"
        emails.add(email)
        title = rng.choice(("Mr", "Mrs", "Ms", "Miss", "Dr")) if rng.random() < 0.97 else "Dr"
        capacity = 0
        start_date: dt.date | None = None
        skills: tuple[str, ...] = ()
        status, paused, designations = "available", None, ""
        if is_head:
            years = min(30.0, rng.expovariate(1 / 7.0))
            start_date = today - dt.timedelta(days=int(years * 365.25))
            capacity = rng.choices((0, 1, 2, 3), weights=(35, 35, 22, 8))[0] if years >= 3 else 0
            roll = rng.random()
            if roll < 0.06:
                status = "opted_out"
            elif roll < 0.10:
                status, paused = "paused", today + dt.timedelta(days=rng.randint(10, 120))
            if years >= 5 and rng.random() < 0.12:
                designations = rng.choice(("NLE", "LLE", "LLE"))
            skills = tuple(rng.sample(SPECIALISMS, rng.choices((0, 1, 2, 3, 4), weights=(15, 30, 30, 17, 8))[0]))
        else:
            if rng.random() < 0.15:
                designations = "SLE"
                skills = tuple(rng.sample(SPECIALISMS, rng.randint(1, 2)))
        people.append(
            PersonRecord(
                id=i + 1,
                title=title,
                first_name=first,
                last_name=last,
                job_title="Headteacher" if is_head else rng.choice(OTHER_ROLES),
                is_head=is_head,
                school_id=school_id,
                email=email,
                phone=f"01{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
                designations=designations,
                headship_start=start_date,
                mentor_capacity=capacity,
                buddy_status=status,
                buddy_paused_until=paused,
                specialisms=skills,
            )
        )
    return Directory(schools, people, today)


def years_between(start: dt.date | None, today: dt.date) -> float | None:
    return None if start is None else (today - start).days / 365.25


def candidates(directory: Directory, today: dt.date | None = None) -> list[Candidate]:
    """Every head in the directory as a matcher Candidate (unavailable ones included, flagged)."""
    today = today or directory.today
    out = []
    for p in directory.people:
        if not p.is_head:
            continue
        s = directory.school_by_id.get(p.school_id) if p.school_id else None
        available = p.buddy_status == "available" or (
            p.buddy_status == "paused" and p.buddy_paused_until is not None and p.buddy_paused_until <= today
        )
        out.append(
            Candidate(
                person_id=p.id,
                name=p.name,
                school_id=p.school_id,
                phase=s.phase if s else None,
                school_type=s.school_type if s else None,
                pupils=s.pupils if s else None,
                locality=s.locality if s else None,
                local_authority=s.local_authority if s else None,
                easting=s.easting if s else None,
                northing=s.northing if s else None,
                years_headship=years_between(p.headship_start, today),
                strengths=p.specialisms,
                capacity=p.mentor_capacity,
                available=available,
                trust=s.trust if s else None,
                designations=tuple(d for d in p.designations.split(",") if d),
            )
        )
    return out


def new_heads(directory: Directory, n: int, seed: int = 0, first_id: int = 1) -> list[NewHead]:
    """`n` new heads at schools of the directory (each at a different school where possible)."""
    rng = random.Random(f"newheads:{seed}")
    schools = rng.sample(directory.schools, min(n, len(directory.schools)))
    while len(schools) < n:
        schools.append(rng.choice(directory.schools))
    base_person = max((p.id for p in directory.people), default=0) + 1
    out = []
    for i, s in enumerate(schools):
        needs = tuple(rng.sample(SPECIALISMS, rng.choices((0, 1, 2, 3), weights=(20, 35, 30, 15))[0]))
        out.append(
            NewHead(
                appointment_id=first_id + i,
                person_id=base_person + i,
                school_id=s.id,
                phase=s.phase,
                school_type=s.school_type,
                pupils=s.pupils,
                locality=s.locality,
                local_authority=s.local_authority,
                easting=s.easting,
                northing=s.northing,
                needs=needs,
                new_to_phase=rng.random() < 0.1,
                new_to_area=rng.random() < 0.3,
                new_to_trust=rng.random() < 0.2,
                name=f"New head {i + 1}",
                trust=s.trust,
            )
        )
    return out


async def insert_directory(session: object, directory: Directory) -> tuple[dict[int, int], dict[int, int]]:
    """Load the records into the database (schools, specialisms, people and their specialisms).

    Database ids are the database's own (sequences stay right on PostgreSQL); returns the maps
    (school record id -> school row id, person record id -> person row id)."""
    from sqlalchemy import insert, select

    from storage.directory import Person, School, Specialism, person_specialism

    s: Any = session  # an AsyncSession
    school_ids: dict[int, int] = {}
    if directory.schools:
        by_urn = {r.urn: r.id for r in directory.schools}
        rows = await s.execute(
            insert(School).returning(School.id, School.urn),
            [
                {
                    "urn": r.urn,
                    "name": r.name,
                    "phase": r.phase,
                    "school_type": r.school_type,
                    "local_authority": r.local_authority,
                    "locality": r.locality,
                    "postcode": r.postcode,
                    "trust": r.trust,
                    "pupils": r.pupils,
                    "low_age": r.low_age,
                    "high_age": r.high_age,
                    "easting": r.easting,
                    "northing": r.northing,
                }
                for r in directory.schools
            ],
        )
        school_ids = {by_urn[urn]: sid for sid, urn in rows.all()}
    names = sorted({n for p in directory.people for n in p.specialisms})
    existing = {row.name: row.id for row in (await s.execute(select(Specialism))).scalars()}
    missing = [n for n in names if n not in existing]
    if missing:
        await s.execute(insert(Specialism), [{"name": n, "aliases": ""} for n in missing])
        existing = {row.name: row.id for row in (await s.execute(select(Specialism))).scalars()}
    person_ids: dict[int, int] = {}
    if directory.people:
        by_email = {p.email: p.id for p in directory.people}
        rows = await s.execute(
            insert(Person).returning(Person.id, Person.email),
            [
                {
                    "title": p.title,
                    "first_name": p.first_name,
                    "last_name": p.last_name,
                    "job_title": p.job_title,
                    "is_head": p.is_head,
                    "school_id": school_ids.get(p.school_id) if p.school_id else None,
                    "email": p.email,
                    "phone": p.phone,
                    "designations": p.designations,
                    "headship_start": p.headship_start,
                    "mentor_capacity": p.mentor_capacity,
                    "buddy_status": p.buddy_status,
                    "buddy_paused_until": p.buddy_paused_until,
                }
                for p in directory.people
            ],
        )
        person_ids = {by_email[email]: pid for pid, email in rows.all()}
        links = [
            {"person_id": person_ids[p.id], "specialism_id": existing[n]}
            for p in directory.people
            for n in p.specialisms
        ]
        if links:
            await s.execute(insert(person_specialism), links)
    return school_ids, person_ids
