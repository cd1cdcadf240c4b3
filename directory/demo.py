"""The demo partnership: a fictional "Riverside Partnership" a trainer can show a room of heads.

`await load_demo(session)` fills an empty directory (no people yet) with about 60 schools picked from
the national register's list of schools (`schools-england-2017.tsv`), moved to four fictional towns,
a head for each with a real-looking but invented name (drawn from the head-name frequency files,
never a real head's pair of names), deputies, SENDCos and business managers at some schools, SLEs
with specialisms, two NLEs, an NLG, new heads who started this school year, experienced heads with
buddy places, and the demo members (see DEMO_USERS). Everything is drawn from a fixed seed, so the
same people are at the same schools every time and a trainer's script always works.

The action-plan owners of examples/action-plans/teaching-school-action-plan-2014-15.md ("L Draycott",
"K Shilton", "M Rock", ...) are people here, so a demo plan's owners match the directory.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.data import data_file
from core.i18n import N_
from core.normalise import GENERIC, fold, school_tokens
from directory.importer import normalise_phase, split_full_name
from directory.specialisms import CATALOGUE
from storage import audit
from storage.directory import Person, School, Specialism
from storage.members import Member

SEED = 20240901
PARTNERSHIP = "Riverside Partnership"
LOCAL_AUTHORITY = "Riverside"
EMAIL_DOMAIN = "riverside.sch.example"  # .example is reserved: these addresses can never reach anyone

# Four fictional towns: (name, postcode district, centre easting, centre northing). The postcode
# area "RV" does not exist in the UK; the grid is a quiet corner of the map.
TOWNS = (
    ("Riverton", "RV1", 452_000, 210_000),
    ("Millbrook", "RV2", 458_500, 214_000),
    ("Ashcombe", "RV3", 447_000, 218_500),
    ("Stoneford", "RV4", 461_000, 204_500),
)
# How many schools of each phase the partnership has (60 in all).
PHASE_QUOTA = {
    "nursery": 2,
    "primary": 36,
    "middle": 2,
    "secondary": 12,
    "all-through": 2,
    "special": 3,
    "pru": 2,
    "16-plus": 1,
}
SLE_SPECIALISMS = (
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
    "safeguarding",
    "curriculum",
    "science",
    "computing",
    "mental health",
)

# Demo users: telegram id -> (role, description shown in the console's help).
DEMO_USERS: dict[int, tuple[str, str]] = {
    1001: ("member", N_("Mrs Helen Ashworth, headteacher of a primary school in Millbrook")),
    1002: ("lead", N_("Mrs Lesley Draycott, teaching school director; owns action-plan actions")),
    1003: ("coordinator", N_("Ms Priya Shah, partnership coordinator")),
    1004: ("admin", N_("the administrator")),
    9001: ("stranger", N_("someone the partnership does not know yet")),
}


@dataclass(frozen=True)
class Fixed:
    """A named demo person: the same every time, so plans and scripts can refer to them."""

    title: str
    first: str
    last: str
    job: str
    where: str  # "hub" (the teaching school), "member" (the member's primary), "office", or a phase
    designations: str = ""
    specialisms: tuple[str, ...] = ()
    member: int | None = None
    is_head: bool = False
    years_in_headship: int | None = None
    capacity: int = 0


FIXED_PEOPLE = (
    Fixed(
        "Mrs", "Helen", "Ashworth", "Headteacher", "member", is_head=True, years_in_headship=9, capacity=1, member=1001
    ),
    Fixed(
        "Mr",
        "Richard",
        "Beards",
        "Headteacher",
        "hub",
        "NLE",
        ("school improvement", "leadership of cpd"),
        is_head=True,
        years_in_headship=14,
        capacity=2,
    ),
    Fixed(
        "Mrs",
        "Lesley",
        "Draycott",
        "Teaching school director",
        "hub",
        "SLE",
        ("itt and mentoring", "leadership of cpd"),
        member=1002,
    ),
    Fixed("Mrs", "Kate", "Shilton", "SCITT coordinator", "hub", "SLE", ("itt and mentoring",)),
    Fixed("Mr", "Martin", "Rock", "Assistant headteacher (CPD)", "hub", "SLE", ("teaching and learning",)),
    Fixed("Ms", "Rachel", "Osborne", "Early career teachers lead", "hub", "", ("itt and mentoring",)),
    Fixed("Mr", "Andrew", "Turner", "Deputy headteacher", "hub", "SLE", ("curriculum", "assessment")),
    Fixed("Mrs", "Karen", "Hibbs", "Assistant headteacher", "hub"),
    Fixed("Dr", "David", "Lowbridge", "Research lead", "hub"),
    Fixed("Ms", "Priya", "Shah", "Partnership coordinator", "office", member=1003),
    Fixed("Mr", "Graham", "Pennington", "Chair of governors", "primary", "NLG", ("governance",)),
)

# Schools and people added after everything drawn at random (so the rest of the demo is unchanged), so
# that the README's examples work as written: "/find smith" (two Smiths), "hefernan" (a slip for
# Heffernan), "Mrs Williams", "st thomas cofe", "Bouette Sarah" (surname first); and two schools of the
# same name in different towns, told apart by town and URN on their buttons. Invented names and URNs
# outside the register's range (9xxxxx).
README_SCHOOLS = (
    ("900001", "St Thomas' Church of England Primary School", "Ashcombe", "RV3 2TA", 447_900.0, 218_100.0),
    ("900002", "St Mary's Catholic Primary School", "Riverton", "RV1 4MS", 452_600.0, 209_400.0),
    ("900003", "St Mary's Catholic Primary School", "Stoneford", "RV4 7MS", 460_400.0, 205_100.0),
)
README_PEOPLE = (
    ("Mrs", "Carys", "Williams", "Headteacher", 0, True),
    ("Mr", "John", "Smith", "Deputy headteacher", 0, False),
    ("Mrs", "Siobhan", "Heffernan", "Headteacher", 1, True),
    ("Ms", "Sarah", "Bouette", "Headteacher", 2, True),
    ("Mr", "Peter", "Smith", "SENDCo", 2, False),
)


def data_dir() -> Path:
    """The folder of the register's files shipped in data/gias (or $PARTNERBOT_DATA_DIR/gias)."""
    return data_file("gias", "schools-england-2017.tsv").parent


def _read_tsv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [row for row in csv.reader(handle, delimiter="\t")]


def _counts(path: Path) -> tuple[list[str], list[int]]:
    names, weights = [], []
    for row in _read_tsv(path):
        if len(row) < 2 or not row[0].strip().isdigit():
            continue
        name = row[1].strip()
        if len(name) >= 3 and re.fullmatch(r"[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?", name):
            names.append(name)
            weights.append(int(row[0]))
    return names, weights


class _Names:
    """Invented names: a first name a real head of that title has, a surname from the frequency list."""

    def __init__(self, rng: random.Random, folder: Path, real_pairs: set[tuple[str, str]]):
        self.rng = rng
        self.real = real_pairs
        self.used: set[tuple[str, str]] = set()
        female, male = set(), set()
        for row in _read_tsv(folder / "schools-england-2017.tsv")[1:]:
            if len(row) > 6 and row[6].strip():
                title, first, _last = split_full_name(row[6])
                first = first.split(" ")[0] if first else ""
                if len(first) >= 3 and title in {"Mrs", "Ms", "Miss"}:
                    female.add(first)
                elif len(first) >= 3 and title == "Mr":
                    male.add(first)
        firsts, first_weights = _counts(folder / "head-first-name-counts.tsv")
        self.female = [(n, w) for n, w in zip(firsts, first_weights) if n in female and n not in male]
        self.male = [(n, w) for n, w in zip(firsts, first_weights) if n in male and n not in female]
        lasts, last_weights = _counts(folder / "head-last-name-counts.tsv")
        self.lasts, self.last_weights = lasts, last_weights

    def person(self) -> tuple[str, str, str]:
        for _attempt in range(1000):
            female = self.rng.random() < 0.68  # roughly the share of women among heads
            pool = self.female if female else self.male
            first = self.rng.choices([n for n, _w in pool], weights=[w for _n, w in pool])[0]
            last = self.rng.choices(self.lasts, weights=self.last_weights)[0]
            if (first, last) in self.used or (first.lower(), last.lower()) in self.real:
                continue
            self.used.add((first, last))
            title = self.rng.choice(("Mrs", "Mrs", "Ms", "Miss")) if female else "Mr"
            if self.rng.random() < 0.04:
                title = "Dr"
            return title, first, last
        raise RuntimeError("ran out of demo names")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", fold(text))


def _school_slug(name: str) -> str:
    words = school_tokens(name)
    distinctive = [w for w in words if w not in GENERIC] or words
    return "".join(distinctive)[:24]


def _pick_schools(rng: random.Random, rows: list[list[str]]) -> list[dict[str, Any]]:
    by_phase: dict[str, list[dict[str, Any]]] = {p: [] for p in PHASE_QUOTA}
    for row in rows[1:]:
        if len(row) < 10 or row[9].strip() or not row[1].strip():
            continue  # closed, or no name
        if row[7] in {"Independent School", "Higher Education Institution", "Miscellaneous"}:
            continue
        low = int(row[3]) if row[3].isdigit() else None
        high = int(row[4]) if row[4].isdigit() else None
        phase = normalise_phase(None, row[7], row[1], low, high)
        if phase in by_phase:
            by_phase[phase].append(
                {
                    "urn": row[0],
                    "name": row[1],
                    "school_type": row[7],
                    "phase": phase,
                    "low_age": low,
                    "high_age": high,
                    "capacity": int(row[5]) if row[5].isdigit() else None,
                }
            )
    picked: list[dict[str, Any]] = []
    for phase, quota in PHASE_QUOTA.items():
        pool = by_phase[phase]
        picked += rng.sample(pool, min(quota, len(pool)))
    return picked


def _years_ago(today: dt.date, years: float, rng: random.Random) -> dt.date:
    """A 1 September (or January, after Easter) start about `years` ago."""
    year = today.year - int(years) - (1 if today.month < 9 else 0)
    return rng.choice((dt.date(year, 9, 1), dt.date(year, 9, 1), dt.date(year + 1, 1, 6), dt.date(year + 1, 4, 22)))


async def load_demo(session: AsyncSession) -> None:
    """Build the demo partnership if the directory has no people; otherwise do nothing."""
    if await session.scalar(select(func.count()).select_from(Person)):
        return
    rng = random.Random(SEED)
    folder = data_dir()
    rows = _read_tsv(folder / "schools-england-2017.tsv")
    real_pairs: set[tuple[str, str]] = set()
    for row in rows[1:]:
        if len(row) > 6 and row[6].strip():
            _t, first, last = split_full_name(row[6])
            real_pairs.add((first.lower(), last.lower()))
    names = _Names(rng, folder, real_pairs | {(f.first.lower(), f.last.lower()) for f in FIXED_PEOPLE})
    for fixed in FIXED_PEOPLE:
        names.used.add((fixed.first, fixed.last))
    today = clock.now().date()

    # Schools: spread over the four towns, scattered a few kilometres round each centre.
    specs = _pick_schools(rng, rows)
    rng.shuffle(specs)
    schools: list[School] = []
    phones = rng.sample(range(1000), len(specs))
    for i, spec in enumerate(specs):
        town, district, east, north = TOWNS[i % len(TOWNS)]
        pupils = spec.pop("capacity")
        school = School(
            **spec,
            local_authority=LOCAL_AUTHORITY,
            locality=town,
            trust=None,
            postcode=f"{district} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
            easting=float(east + rng.randint(-3500, 3500)),
            northing=float(north + rng.randint(-3500, 3500)),
            phone=f"01632 960{phones[i]:03d}",
            website=f"https://{_school_slug(spec['name'])}.example",
            pupils=int(pupils * rng.uniform(0.8, 1.0)) if pupils else rng.randint(90, 420),
        )
        if i % 5 == 0:
            school.trust = "Riverside Learning Trust"
        schools.append(school)
    session.add_all(schools)
    hub = next(s for s in schools if s.phase == "secondary")
    hub.trust = "Riverside Learning Trust"
    member_school = next(s for s in schools if s.phase == "primary" and s.locality == "Millbrook")

    specialisms: dict[str, Specialism] = {}
    existing = (await session.execute(select(Specialism))).scalars().all()
    for known in existing:
        specialisms[known.name] = known

    def specialism(name: str) -> Specialism:
        if name not in specialisms:
            specialisms[name] = Specialism(name=name, aliases="|".join(CATALOGUE.get(name, ())))
            session.add(specialisms[name])
        return specialisms[name]

    emails: set[str] = set()

    def email_for(first: str, last: str, school: School | None) -> str:
        base = f"{_slug(first)[:1]}.{_slug(last)}"
        where = _school_slug(school.name) if school else "office"
        candidate = f"{base}@{where}.{EMAIL_DOMAIN}"
        n = 2
        while candidate in emails:
            candidate = f"{base}{n}@{where}.{EMAIL_DOMAIN}"
            n += 1
        emails.add(candidate)
        return candidate

    people: list[Person] = []

    def add(title: str, first: str, last: str, job: str, school: School | None, **extra: Any) -> Person:
        chosen = extra.pop("specialisms", ())
        # Ofcom's range for drama (07700 900000-900999): realistic, and never anyone's real number.
        phone = f"07700 900{len(people):03d}"
        person = Person(
            title=title,
            first_name=first,
            last_name=last,
            job_title=job,
            school=school,
            phone=phone,
            email=email_for(first, last, school),
            specialisms=[specialism(s) for s in chosen],
            **extra,
        )
        people.append(person)
        session.add(person)
        return person

    # The named people first.
    by_member: dict[int, Person] = {}
    heads: dict[int, Person] = {}
    chair_school = next(s for s in schools if s.phase == "primary" and s is not member_school)
    for fixed in FIXED_PEOPLE:
        where = {"hub": hub, "member": member_school, "office": None}.get(fixed.where, chair_school)
        start = _years_ago(today, fixed.years_in_headship, rng) if fixed.years_in_headship else None
        person = add(
            fixed.title,
            fixed.first,
            fixed.last,
            fixed.job,
            where,
            is_head=fixed.is_head,
            designations=fixed.designations,
            specialisms=fixed.specialisms,
            headship_start=start,
            mentor_capacity=fixed.capacity,
        )
        if fixed.is_head and where is not None:
            heads[id(where)] = person
        if fixed.member:
            by_member[fixed.member] = person

    # A head for every other school: most experienced, five new this school year.
    new_head_schools = {
        id(s) for s in rng.sample([s for s in schools if id(s) not in heads and s.phase in {"primary", "secondary"}], 5)
    }
    for school in schools:
        if id(school) in heads:
            continue
        title, first, last = names.person()
        if id(school) in new_head_schools:
            start = today - dt.timedelta(days=rng.randint(20, 300))
            capacity = 0
        else:
            years = rng.choice((2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 18))
            start = _years_ago(today, years, rng)
            capacity = rng.choice((0, 0, 1, 1, 2)) if years >= 5 else 0
        job = "Executive headteacher" if school.trust and rng.random() < 0.3 else "Headteacher"
        heads[id(school)] = add(
            title, first, last, job, school, is_head=True, headship_start=start, mentor_capacity=capacity
        )
    experienced = [
        p
        for p in heads.values()
        if p.headship_start
        and (today - p.headship_start).days > 8 * 365
        and p.last_name != "Beards"
        and p.last_name != "Ashworth"
    ]
    nle = rng.choice(experienced)
    nle.designations = "NLE"
    nle.specialisms = [specialism("school improvement"), specialism("leadership of cpd")]
    nle.mentor_capacity = max(nle.mentor_capacity, 2)

    # Other leaders at some schools; SLEs among the deputies and assistant heads.
    others = [s for s in schools if s is not hub]
    leaders: list[Person] = []
    for school in rng.sample(others, 20):
        leaders.append(add(*names.person(), "Deputy headteacher", school))
    for school in rng.sample(others, 8):
        leaders.append(add(*names.person(), "Assistant headteacher", school))
    for school in rng.sample(others, 15):
        add(*names.person(), "SENDCo", school, specialisms=("send",))
    for school in rng.sample(schools, 10):
        add(*names.person(), "School business manager", school, specialisms=("school business management",))
    sle_count = sum(1 for f in FIXED_PEOPLE if "SLE" in f.designations)
    available = [s for s in SLE_SPECIALISMS]
    for leader in rng.sample(leaders, 15 - sle_count):
        leader.designations = "SLE"
        first = available.pop(0) if available else rng.choice(SLE_SPECIALISMS)
        second = rng.choice([s for s in SLE_SPECIALISMS if s != first])
        leader.specialisms = [specialism(first)] + ([specialism(second)] if rng.random() < 0.4 else [])

    extra: list[School] = []
    for r_urn, r_name, r_town, r_postcode, r_east, r_north in README_SCHOOLS:
        r_district = r_postcode.split()[0]
        extra.append(
            School(
                urn=r_urn,
                name=r_name,
                phase="primary",
                school_type="Voluntary aided school",
                local_authority=LOCAL_AUTHORITY,
                locality=r_town,
                postcode=r_postcode,
                easting=r_east,
                northing=r_north,
                phone=f"01632 961{len(extra):03d}",
                pupils=210,
                website=f"https://{_school_slug(r_name)}{r_district.lower()}.example",
            )
        )
    session.add_all(extra)
    for r_title, r_first, r_last, r_job, r_where, r_is_head in README_PEOPLE:
        add(
            r_title,
            r_first,
            r_last,
            r_job,
            extra[r_where],
            is_head=r_is_head,
            headship_start=dt.date(today.year - 6, 9, 1) if r_is_head else None,
        )
    schools.extend(extra)
    for school in schools:  # the office's address (invented, like every demo address)
        school.email = f"office@{_school_slug(school.name)}{(school.postcode or '')[:3].lower()}.{EMAIL_DOMAIN}"

    await session.flush()

    # The demo members: linked to their people, whether or not the members already exist.
    for telegram_id, (role, _description) in DEMO_USERS.items():
        if role == "stranger":
            continue
        linked = by_member.get(telegram_id)
        member = await session.get(Member, telegram_id)
        display = linked.full_name if linked else "Admin"
        if member is None:
            session.add(
                Member(
                    telegram_id=telegram_id,
                    role=role,
                    display_name=display,
                    person_id=linked.id if linked else None,
                    approved_at=clock.now(),
                )
            )
        elif linked is not None and member.person_id is None:
            member.person_id = linked.id  # an existing member keeps their role
            member.display_name = display
    audit.record(session, None, "directory.demo", "directory", PARTNERSHIP, schools=len(schools), people=len(people))
    await session.flush()
