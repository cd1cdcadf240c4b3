"""Fuzzy directory search (directory.search), normalisation and the specialism catalogue: pure, no database.

The directory under test is built from the real GIAS sample (881 school names and their heads) and the
national head-name frequency lists, with a seeded random generator, so it has the real shape of the
problem: many Smiths, many "St Mary's C of E Primary School"s, initials instead of first names.
"""

from __future__ import annotations

import csv
import random
import string
from functools import lru_cache

import pytest

from core.normalise import fold, normalise, normalise_school, person_tokens
from directory import specialisms as sp
from directory.search import (
    Area,
    DirectoryIndex,
    Match,
    PersonEntry,
    SchoolEntry,
    sle_candidates,
)
from tests.shared import GIAS

DATA = GIAS

TOWNS = [
    ("St Albans", "Hertfordshire", 515000, 207000),
    ("Watford", "Hertfordshire", 510900, 196500),
    ("Hemel Hempstead", "Hertfordshire", 505600, 207200),
    ("Stevenage", "Hertfordshire", 524000, 224800),
    ("Hitchin", "Hertfordshire", 518500, 229000),
    ("Hertford", "Hertfordshire", 532500, 212500),
    ("Islington", "Islington", 531000, 185000),
    ("Highgate", "Islington", 528500, 187500),
    ("North Kensington", "Kensington and Chelsea", 524300, 182000),
    ("Chelsea", "Kensington and Chelsea", 527300, 178000),
    ("Luton", "Luton", 509000, 221500),
    ("Dunstable", "Central Bedfordshire", 501800, 221900),
]
PHASES = ["primary", "primary", "primary", "secondary", "nursery", "special", "all-through"]
JOBS = [
    "Deputy Headteacher",
    "Assistant Headteacher",
    "SENDCo",
    "School Business Manager",
    "Head of Maths",
    "Phase Leader",
    "Chair of Governors",
]


def _read_counts(name: str) -> tuple[list[str], list[int]]:
    names, weights = [], []
    with open(DATA / name, encoding="utf-8") as fh:
        for line in fh:
            count, _tab, value = line.rstrip("\n").partition("\t")
            value = value.strip()
            if value and count.strip().isdigit():
                names.append(value)
                weights.append(int(count))
    return names, weights


@lru_cache(maxsize=1)
def gias_schools() -> list[dict[str, str]]:
    with open(DATA / "schools-england-2017.tsv", encoding="utf-8", newline="") as fh:
        return [row for row in csv.DictReader(fh, delimiter="\t") if row.get("name")]


def build_directory(
    seed: int = 7,
    extra_people: int = 1500,
    extra_schools: int = 0,
) -> tuple[list[PersonEntry], list[SchoolEntry]]:
    """Real schools and heads from GIAS, plus seeded random staff (and optionally made-up schools)."""
    rng = random.Random(seed)
    firsts, fweights = _read_counts("head-first-name-counts.tsv")
    lasts, lweights = _read_counts("head-last-name-counts.tsv")
    full_firsts = [(f, w) for f, w in zip(firsts, fweights) if len(f) > 1]
    ff, fw = zip(*full_firsts)
    schools: list[SchoolEntry] = []
    people: list[PersonEntry] = []
    for i, row in enumerate(gias_schools()):
        town, la, e, n = rng.choice(TOWNS)
        school = SchoolEntry(
            i + 1,
            row["school-eng"],
            row["name"],
            town,
            la,
            rng.choice(PHASES),
            None,
            e + rng.uniform(-3000, 3000),
            n + rng.uniform(-3000, 3000),
        )
        schools.append(school)
        head = row.get("headteacher", "").split()
        if len(head) >= 2:
            title = head[0] if head[0].lower().rstrip(".") in {"mr", "mrs", "ms", "miss", "dr", "prof"} else None
            rest = head[1:] if title else head
            people.append(
                PersonEntry(
                    len(people) + 1,
                    title,
                    " ".join(rest[:-1]),
                    rest[-1],
                    "Headteacher",
                    school.id,
                    school.name,
                    town,
                    school.phase,
                    (),
                    (),
                    True,
                )
            )
    # Made-up schools for scale: real name stems recombined with real school types.
    stems = sorted({" ".join(r["name"].split()[:2]) for r in gias_schools()})
    kinds = [
        "Primary School",
        "C of E Primary School",
        "Junior School",
        "Infant School",
        "Academy",
        "High School",
        "RC Primary School",
        "Community College",
        "Nursery School",
    ]
    for _ in range(extra_schools):
        town, la, e, n = rng.choice(TOWNS)
        name = f"{rng.choice(lasts[:3000])} {rng.choice(stems).split()[0]} {rng.choice(kinds)}"
        schools.append(
            SchoolEntry(
                len(schools) + 1,
                str(200000 + len(schools)),
                name,
                town,
                la,
                rng.choice(PHASES),
                None,
                e + rng.uniform(-5000, 5000),
                n + rng.uniform(-5000, 5000),
            )
        )
    specs = list(sp.CATALOGUE)
    for _ in range(extra_people):
        school = rng.choice(schools)
        designations: tuple[str, ...] = ()
        specialisms: tuple[str, ...] = ()
        if rng.random() < 0.15:
            designations = (rng.choice(["SLE", "SLE", "SLE", "NLE", "LLE", "NLG"]),)
            specialisms = tuple(rng.sample(specs, rng.randint(1, 3)))
        people.append(
            PersonEntry(
                len(people) + 1,
                rng.choice(["Mr", "Mrs", "Ms", "Miss", "Dr", None]),
                rng.choices(ff, fw)[0],
                rng.choices(lasts, lweights)[0],
                rng.choice(JOBS),
                school.id,
                school.name,
                school.locality,
                school.phase,
                designations,
                specialisms,
                False,
            )
        )
    return people, schools


@pytest.fixture(scope="module")
def directory() -> tuple[DirectoryIndex, list[PersonEntry], list[SchoolEntry]]:
    people, schools = build_directory()
    return DirectoryIndex(people, schools), people, schools


def typo(word: str, rng: random.Random) -> str:
    """One realistic keyboard slip: a dropped, doubled, swapped or wrong letter (never the first)."""
    i = rng.randrange(1, len(word))
    kind = rng.choice(["drop", "double", "swap", "replace"])
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    letters = [c for c in string.ascii_lowercase if c != word[i].lower()]
    return word[:i] + rng.choice(letters) + word[i + 1 :]


# --- normalisation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b",
    [
        ("St Thomas' CofE Primary School", "Saint Thomas Church of England Primary"),
        ("St. Thomas C of E Prim Sch", "st thomas ce primary"),
        ("St Aloysius RC College", "Saint Aloysius Roman Catholic College"),
        ("St Aloysius Catholic College", "St Aloysius R.C. College"),
        ("Oakfield J&I School", "Oakfield Junior and Infant School"),
        ("Oakfield JI", "Oakfield Junior & Infants"),
        ("Harris Acad Peckham", "Harris Academy Peckham"),
        ("Bishop's Park", "Bishops Park"),
        ("The Purcell School", "Purcell Sch"),
    ],
)
def test_school_spellings_normalise_alike(a: str, b: str) -> None:
    assert normalise_school(a) == normalise_school(b)


def test_fold_strips_accents_case_punctuation() -> None:
    assert fold("Zoë  O’Brien-Smith") == "zoe obrien smith"
    assert fold("ÉCOLE  Françoise") == "ecole francoise"
    assert person_tokens("Mrs Siân Ní Bhriain") == ["sian", "ni", "bhriain"]
    assert person_tokens("Dr") == ["dr"]  # a lone title is the name
    assert normalise("") == "" and fold("!!!") == ""


# --- specialisms ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("maths", "mathematics"),
        ("Math", "mathematics"),
        ("mathmatics", "mathematics"),
        ("numeracy", "mathematics"),
        ("literacy", "english"),
        ("Reading", "english"),
        ("phonix", "phonics"),
        ("EYFS", "early years"),
        ("SEN", "send"),
        ("special educational needs", "send"),
        ("Inclusion", "send"),
        ("behavior", "behaviour"),
        ("attendance", "behaviour"),
        ("CPD", "leadership of cpd"),
        ("NQT", "itt and mentoring"),
        ("mentoring", "itt and mentoring"),
        ("PP", "pupil premium"),
        ("disadvantaged", "pupil premium"),
        ("governence", "governance"),
        ("safegaurding", "safeguarding"),
        ("MFL", "modern languages"),
        ("P.E.", "pe"),
        ("RE", "re"),
        ("SBM", "school business management"),
        ("finance", "school business management"),
    ],
)
def test_canonical_specialism(text: str, expected: str) -> None:
    assert sp.canonical(text) == expected


@pytest.mark.parametrize("text", ["Smith", "Williams", "Heffernan", "", "   ", "x" * 500, "zz", "qwertyuiop"])
def test_canonical_rejects_names_and_noise(text: str) -> None:
    assert sp.canonical(text) is None


def test_canonical_many_splits_lists() -> None:
    assert sp.canonical_many("SEND and pupil premium, maths") == ["send", "pupil premium", "mathematics"]
    assert sp.canonical_many("ITT and mentoring; early years & phonics") == [
        "itt and mentoring",
        "early years",
        "phonics",
    ]
    assert sp.canonical_many("maths, Maths, numeracy") == ["mathematics"]
    assert sp.split_unknown("maths, basket weaving") == (["mathematics"], ["basket weaving"])
    assert sp.canonical_many("") == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("maths primary Islington", ("mathematics", "primary", "Islington")),
        ("pupil premium secondary North Kensington", ("pupil premium", "secondary", "North Kensington")),
        ("governance 16+ Leeds", ("governance", "16-plus", "Leeds")),
        ("early years", ("early years", None, None)),
        ("send ks2", ("send", "primary", None)),
        ("basketry", (None, None, "basketry")),
        ("", (None, None, None)),
    ],
)
def test_parse_sle_query(text: str, expected: tuple[str | None, str | None, str | None]) -> None:
    assert sp.parse_sle_query(text) == expected


# --- search: accuracy on a realistic directory --------------------------------------------------


def test_typod_surnames_find_the_person(directory: tuple[DirectoryIndex, list[PersonEntry], list[SchoolEntry]]) -> None:
    index, people, _schools = directory
    rng = random.Random(11)
    words = {w for p in people for w in fold(f"{p.first_name} {p.last_name}").split()}
    words |= {w for s in _schools for w in normalise_school(s.name).split()}
    trials = hits = 0
    misses = []
    for person in rng.sample(people, 600):
        name = fold(person.last_name)
        if len(name) < 5 or " " in name:
            continue
        query = typo(name, rng)
        if query in words or any(w.startswith(query) for w in words):
            continue  # the slip made another real name (or the start of one, which ranks first): no right answer
        trials += 1
        top = index.search(query, limit=5)
        if top and top[0].kind == "person" and fold(index.person(top[0].id).last_name) == name:
            hits += 1
        else:
            misses.append((query, name, top[0].label if top else None))
    assert trials >= 300
    assert hits / trials >= 0.95, misses[:20]


def test_typod_school_names_find_the_school(
    directory: tuple[DirectoryIndex, list[PersonEntry], list[SchoolEntry]],
) -> None:
    index, _people, schools = directory
    rng = random.Random(12)
    trials = hits = 0
    misses = []
    for school in rng.sample(schools, 400):
        words = school.name.split()
        candidates = [
            i
            for i, w in enumerate(words)
            if len(w) >= 5
            and w.isalpha()
            and fold(w) not in {"primary", "school", "academy", "nursery", "junior", "infant", "college"}
        ]
        if not candidates:
            continue
        i = rng.choice(candidates)
        words[i] = typo(words[i], rng)
        query = " ".join(words)
        trials += 1
        top = index.search(query, limit=5)
        if top and top[0].kind == "school" and normalise_school(top[0].label) == normalise_school(school.name):
            hits += 1
        else:
            misses.append((query, school.name, top[0].label if top else None))
    assert trials >= 250
    assert hits / trials >= 0.95, misses[:20]


def test_short_school_queries_find_the_school(
    directory: tuple[DirectoryIndex, list[PersonEntry], list[SchoolEntry]],
) -> None:
    """The first two words of a school's name, as people type them, rank it among the schools so named."""
    index, _people, schools = directory
    keys = [normalise_school(s.name) for s in schools]
    rng = random.Random(13)
    trials = hits = 0
    for school in rng.sample(schools, 300):
        words = school.name.split()[:2]
        if len(words) < 2 or not all(len(w) > 2 for w in words):
            continue
        query = " ".join(words).lower()
        prefix = normalise_school(query)
        sharing = sum(1 for k in keys if k.startswith(prefix))  # "St Mary's ..." names several schools
        if sharing > 8:
            continue
        trials += 1
        found = [m.id for m in index.search(query, limit=max(3, sharing)) if m.kind == "school"]
        hits += school.id in found
    assert trials >= 150
    assert hits / trials >= 0.95


# --- search: specific behaviours on a small hand-made directory ----------------------------------

SCHOOLS = [
    SchoolEntry(
        1,
        "100492",
        "St Thomas' CofE Primary School",
        "North Kensington",
        "Kensington and Chelsea",
        "primary",
        "W10 5EF",
        524351,
        182075,
    ),
    SchoolEntry(2, "100459", "St Aloysius RC College", "Highgate", "Islington", "secondary", "N6 5LY", 529090, 187296),
    SchoolEntry(3, "117065", "Weston Way Nursery School", "Baldock", "Hertfordshire", "nursery", None, None, None),
    SchoolEntry(
        4, "117500", "Oakfield Junior and Infant School", "Hitchin", "Hertfordshire", "primary", None, 518500, 229000
    ),
    SchoolEntry(
        5,
        "117501",
        "Sir John Cass's Foundation Primary School",
        "City",
        "City of London",
        "primary",
        "EC3A 5DE",
        533500,
        181200,
    ),
    SchoolEntry(
        6,
        "117502",
        "Holy Trinity Church of England Academy",
        "Islington",
        "Islington",
        "primary",
        "N1 1AA",
        531000,
        185000,
    ),
]
PEOPLE = [
    PersonEntry(
        1,
        "Ms",
        "Sarah",
        "Bouette",
        "Headteacher",
        1,
        SCHOOLS[0].name,
        "North Kensington",
        "primary",
        ("NLE",),
        ("mathematics", "school improvement"),
        True,
    ),
    PersonEntry(
        2,
        "Ms",
        "Jane",
        "Heffernan",
        "Headteacher",
        2,
        SCHOOLS[1].name,
        "Highgate",
        "secondary",
        ("SLE",),
        ("mathematics",),
        True,
    ),
    PersonEntry(
        3, "Mrs", "Zoë", "Ó Briain", "SENDCo", 2, SCHOOLS[1].name, "Highgate", "secondary", ("SLE",), ("send",), False
    ),
    PersonEntry(
        4,
        "Mr",
        "Tom",
        "Williams",
        "Deputy Headteacher",
        4,
        SCHOOLS[3].name,
        "Hitchin",
        "primary",
        ("SLE",),
        ("mathematics", "phonics"),
        False,
    ),
    PersonEntry(
        5,
        "Mrs",
        "Anne",
        "Williams",
        "Headteacher",
        6,
        SCHOOLS[5].name,
        "Islington",
        "primary",
        ("LLE",),
        ("mathematics",),
        True,
    ),
    PersonEntry(6, "Dr", "José", "García", "Headteacher", 5, SCHOOLS[4].name, "City", "primary", (), (), True),
    PersonEntry(
        7,
        "Mr",
        "Kwame",
        "Mensah-Boateng",
        "Chair of Governors",
        3,
        SCHOOLS[2].name,
        "Baldock",
        "nursery",
        ("NLG",),
        (),
        False,
    ),
    PersonEntry(8, "Miss", "Priya", "Patel", "Teacher", None, None, None, None, ("SLE",), ("maths",), False),
]


@pytest.fixture(scope="module")
def small() -> DirectoryIndex:
    return DirectoryIndex(PEOPLE, SCHOOLS)


def _top(index: DirectoryIndex, query: str) -> Match:
    found = index.search(query)
    assert found, query
    return found[0]


@pytest.mark.parametrize(
    "query, kind, ident",
    [
        ("Heffernan", "person", 2),
        ("heffernen", "person", 2),
        ("Hefernan", "person", 2),
        ("Heff", "person", 2),
        ("Jane Heffernan", "person", 2),
        ("Heffernan Jane", "person", 2),
        ("J Heffernan", "person", 2),
        ("Ms Heffernan", "person", 2),
        ("Sarah Bouette", "person", 1),
        ("Bouette Sarah", "person", 1),
        ("sara bouete", "person", 1),
        ("zoe o briain", "person", 3),
        ("Zoë Ó Briain", "person", 3),
        ("Jose Garcia", "person", 6),
        ("JOSÉ GARCÍA", "person", 6),
        ("Mensah Boateng", "person", 7),
        ("mensah-boateng", "person", 7),
        ("St Thomas CE Primary", "school", 1),
        ("Saint Thomas Church of England", "school", 1),
        ("st thomas's c of e", "school", 1),
        ("St Tomas", "school", 1),
        ("St Aloysius Roman Catholic", "school", 2),
        ("st aloysious", "school", 2),
        ("Oakfield J&I", "school", 4),
        ("Oakfield JI School", "school", 4),
        ("Sir John Cass", "school", 5),
        ("holy trinity c of e academy", "school", 6),
        ("Weston Way", "school", 3),
        ("100459", "school", 2),
        ("117065", "school", 3),
        ("JH", "person", 2),
    ],
)
def test_query_finds(small: DirectoryIndex, query: str, kind: str, ident: int) -> None:
    top = _top(small, query)
    assert (top.kind, top.id) == (kind, ident), small.search(query)


def test_exact_and_near_miss_flags(small: DirectoryIndex) -> None:
    exact = small.search("Jane Heffernan")
    assert exact[0].exact and not exact[0].near_miss and exact[0].score == 100
    assert [m for m in exact if m.exact] == [exact[0]]
    typo_ = small.search("Heffernen")
    assert not typo_[0].exact and typo_[0].near_miss
    prefix = small.search("Heffer")
    assert not prefix[0].exact and not prefix[0].near_miss


def test_title_breaks_ties(small: DirectoryIndex) -> None:
    assert _top(small, "Mrs Williams").id == 5
    assert _top(small, "Mr Williams").id == 4
    both = {m.id for m in small.search("Williams") if m.kind == "person"}
    assert both == {4, 5}


def test_exact_matches_come_before_fuzzy(small: DirectoryIndex) -> None:
    found = small.search("Williams")
    assert [m.exact for m in found[:2]] == [True, True]
    assert all(not m.exact for m in found[2:])


def test_school_context_narrows_a_name(small: DirectoryIndex) -> None:
    assert _top(small, "Williams Oakfield").id == 4
    assert _top(small, "Williams Holy Trinity").id == 5


def test_specialism_query(small: DirectoryIndex) -> None:
    top = _top(small, "maths")
    assert top.kind == "specialism" and top.exact
    assert small.specialism_by_id[top.id].name == "mathematics"
    near = [m for m in small.search("mathmatics") if m.kind == "specialism"]
    assert near and near[0].near_miss


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "!!!",
        "?",
        "'",
        "%_%",
        "\x00\x01",
        "🙂🙂",
        "a" * 10_000,
        "primary " * 500,
        "DROP TABLE person;",
        "<b>Heffernan</b>" * 50,
        "0",
        "999999999999999999999",
        "qxzjvk",
        "the",
        "&",
        "\n\t",
    ],
)
def test_odd_queries_do_not_raise(small: DirectoryIndex, query: str) -> None:
    found = small.search(query)
    assert isinstance(found, list)
    assert all(0 <= m.score <= 100 for m in found)


@pytest.mark.parametrize("query", ["", "   ", "!!!", "qxzjvk", "999999", "zzzzzzzzzz"])
def test_nonsense_finds_nothing(small: DirectoryIndex, query: str) -> None:
    assert small.search(query) == []


def test_empty_index() -> None:
    index = DirectoryIndex([], [])
    assert index.search("Heffernan") == []
    assert index.search("100459") == []
    assert len(index) == 0


def test_limit(directory: tuple[DirectoryIndex, list[PersonEntry], list[SchoolEntry]]) -> None:
    index = directory[0]
    assert len(index.search("Smith", limit=3)) == 3
    assert len(index.search("Smith", limit=40)) > 10
    assert index.search("Smith", limit=0) == []


def test_staff_lists_heads_first(small: DirectoryIndex) -> None:
    assert [p.id for p in small.staff(2)] == [2, 3]
    assert small.staff(999) == []


# --- system leaders ------------------------------------------------------------------------------


def test_sle_nearest_first_from_own_school(small: DirectoryIndex) -> None:
    # Asked from St Aloysius (Highgate, Islington): Heffernan is in Highgate, Williams (LLE) in Islington,
    # Bouette (NLE) in Kensington with a grid point, Patel has no school at all.
    found = sle_candidates(small, "maths", origin_school_id=2)
    assert [c.person.id for c in found] == [2, 5, 1, 4, 8]
    assert [c.nearness for c in found] == ["locality", "authority", "distance", "distance", "other"]
    assert found[2].distance_km is not None and found[2].distance_km < found[3].distance_km


def test_sle_area_by_name_and_phase(small: DirectoryIndex) -> None:
    found = sle_candidates(small, "mathematics", phase="primary", area="North Kensington")
    assert [c.person.id for c in found] == [1, 5, 4]
    assert found[0].nearness == "locality"
    assert sle_candidates(small, "mathematics", area="islingtn")[0].person.id == 5  # typo'd LA
    assert [c.person.id for c in sle_candidates(small, "send")] == [3]
    assert [c.person.id for c in sle_candidates(small, "governance")] == [7]  # NLG counts
    assert sle_candidates(small, "phonics", phase="secondary") == []
    assert sle_candidates(small, "basket weaving") == []
    assert len(sle_candidates(small, "maths", limit=2)) == 2


def test_resolve_area(small: DirectoryIndex) -> None:
    assert small.resolve_area("highgate").local_authority == "Islington"
    assert small.resolve_area("Kensington & Chelsea").local_authority == "Kensington and Chelsea"
    assert small.resolve_area("N6") is not None
    assert small.resolve_area("Atlantis") is None
    assert isinstance(small.area_of_school(1), Area)
