"""Data for the benchmarks: a national-scale directory with distinct, realistic school names, typo'd
queries with their known answers, and the register's (GIAS) 133-column extract.

People, heads, specialisms, localities and grid references come from `directory.synthetic.make_directory`
(the generator the tests use). Its school names repeat the ~880 real names with a town or a number
appended, which makes typo'd school-name queries ambiguous by construction; so the benchmark renames
the schools with `school_names(n)`: distinct (after `normalise_school`) names built the way English
schools are named, from real name stems (the real school list and the academy-trust list), saints'
dedications, places with "Park", "Hill" ..., and the real suffixes ("CofE Primary School",
"Catholic Primary School", "Primary Academy", "Junior School" ...) in realistic proportions.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import pickle
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.normalise import GENERIC, fold, normalise_school
from directory.synthetic import Directory, _data_file, make_directory

CACHE = Path(__file__).resolve().parent / ".cache"


def cache_dir() -> Path:
    """Where generated data is kept between runs (BENCH_CACHE_DIR overrides benchmarks/.cache)."""
    path = Path(os.environ.get("BENCH_CACHE_DIR") or CACHE)
    path.mkdir(parents=True, exist_ok=True)
    return path


CACHE_VERSION = 3  # bump when the generator changes

# (suffix, weight, religious): religious suffixes go with saints' dedications (and some places).
SUFFIXES: tuple[tuple[str, float, bool], ...] = (
    ("Primary School", 30, False),
    ("Community Primary School", 4, False),
    ("Primary Academy", 5, False),
    ("Academy", 6, False),
    ("Infant School", 5, False),
    ("Junior School", 5, False),
    ("First School", 2, False),
    ("Middle School", 1, False),
    ("Nursery School", 2, False),
    ("High School", 5, False),
    ("School", 4, False),
    ("Community College", 1, False),
    ("College", 1, False),
    ("Junior and Infant School", 1, False),
    ("Infant and Nursery School", 1, False),
    ("Primary and Nursery School", 1, False),
    ("Grammar School", 0.5, False),
    ("Church of England Primary School", 3, True),
    ("CofE Primary School", 4, True),
    ("C of E Primary School", 2, True),
    ("CE Primary School", 1, True),
    ("Catholic Primary School", 4, True),
    ("RC Primary School", 2, True),
    ("Catholic High School", 1, True),
    ("Church of England Academy", 1, True),
    ("CofE Junior School", 1, True),
    ("CofE Infant School", 1, True),
    ("Catholic Academy", 1, True),
    ("Methodist Primary School", 0.5, True),
)
SAINTS = (
    "St Mary's",
    "St John's",
    "St Peter's",
    "St Paul's",
    "St Joseph's",
    "St Michael's",
    "St Andrew's",
    "St George's",
    "St James'",
    "St Thomas'",
    "St Anne's",
    "St Margaret's",
    "St Nicholas'",
    "St Bartholomew's",
    "St Augustine's",
    "St Edmund's",
    "St Francis'",
    "St Catherine's",
    "St Helen's",
    "St Luke's",
    "St Mark's",
    "St Matthew's",
    "St Stephen's",
    "St Lawrence",
    "St Martin's",
    "St Alban's",
    "St Bede's",
    "St Chad's",
    "St Cuthbert's",
    "St Dunstan's",
    "St Gregory's",
    "St Leonard's",
    "St Oswald's",
    "St Patrick's",
    "St Teresa's",
    "St Wilfrid's",
    "St Aidan's",
    "St Benedict's",
    "St Clement's",
    "St Giles'",
    "Saint Mary's",
    "Saint John's",
    "Saint Francis of Assisi",
    "Holy Trinity",
    "Christ Church",
    "Our Lady's",
    "Sacred Heart",
    "All Saints",
    "Holy Family",
    "St Mary and St John",
    "St Peter and St Paul",
    "Our Lady of Lourdes",
    "St Thomas More",
    "St John Fisher",
    "St Winefride's",
    "St Edward's",
    "St Hilda's",
    "St Swithun's",
    "St Barnabas",
    "St Saviour's",
    "St Botolph's",
    "St Laurence",
    "St Agnes",
    "St Ambrose",
    "St Anselm's",
)
PLACE_ENDINGS = (
    "Park",
    "Hill",
    "Green",
    "Vale",
    "Meadow",
    "Fields",
    "Wood",
    "Lane",
    "Road",
    "Grange",
    "Manor",
    "Heath",
    "Brook",
    "Bridge",
    "Cross",
    "End",
    "Common",
    "Valley",
    "Farm",
    "Gate",
)
PLACE_PREFIXES = ("North", "South", "East", "West", "Great", "Little", "Upper", "Lower", "Old", "New")
_TYPE_WORDS = {
    "school",
    "schools",
    "primary",
    "infant",
    "infants",
    "junior",
    "juniors",
    "nursery",
    "academy",
    "academies",
    "college",
    "high",
    "community",
    "first",
    "middle",
    "c",
    "of",
    "e",
    "cofe",
    "ce",
    "church",
    "england",
    "catholic",
    "rc",
    "roman",
    "and",
    "jmi",
    "free",
    "grammar",
    "secondary",
    "voluntary",
    "controlled",
    "aided",
    "pre",
    "centre",
    "early",
    "years",
    "education",
    "educational",
    "support",
    "sixth",
    "form",
    "trust",
    "multi",
    "learning",
    "partnership",
    "federation",
    "limited",
    "ltd",
    "foundation",
    "mat",
    "alliance",
    "diocese",
    "collaborative",
    "family",
    "the",
    "va",
    "vc",
    "utc",
    "unit",
    "girls",
    "boys",
    "special",
    "upper",
    "lower",
    "studio",
    "teaching",
    "mixed",
    "methodist",
    "for",
    "trusts",
    "charitable",
    "company",
    "group",
    "network",
    "services",
    "initiative",
    "cooperative",
    "co",
    "operative",
    "ventures",
    "inspiration",
    "excellence",
}


def _stem(name: str) -> str | None:
    """A school or trust name without its type words: 'Ashwell Primary School' -> 'Ashwell'."""
    name = re.sub(r"\(.*?\)", " ", name).replace('"', " ")
    words = name.replace(",", " ").split()
    while words and fold(words[0]) in {"the"}:
        words.pop(0)
    while words and (fold(words[-1]) in _TYPE_WORDS or not fold(words[-1]) or any(ch.isdigit() for ch in words[-1])):
        words.pop()
    if not words or fold(words[0]) in {"st", "saint", "our", "holy"} | _TYPE_WORDS:
        return None
    stem = " ".join(words)
    if len(stem) < 3 or len(words) > 4 or not stem[0].isupper():
        return None
    return stem


def name_stems() -> list[str]:
    """Distinct name stems from the real school list and the real academy-trust list."""
    stems: dict[str, str] = {}
    with _data_file("schools-england-2017.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            stem = _stem(row["name"])
            if stem:
                stems.setdefault(fold(stem), stem)
    with _data_file("academy-trusts-2016.csv").open(encoding="utf-8", errors="replace") as handle:
        for row in csv.DictReader(handle):
            stem = _stem(row.get("Group Name") or "")
            if stem and not stem.isupper():  # acronyms ("CUL") are not place names
                stems.setdefault(fold(stem), stem)
    return sorted(stems.values())


def school_names(n: int, seed: int = 0) -> list[str]:
    """`n` school names, distinct after `normalise_school`, in realistic shapes."""
    rng = random.Random(f"school-names:{seed}")
    stems = name_stems()
    plain = [s for s in SUFFIXES if not s[2]]
    religious = [s for s in SUFFIXES if s[2]]
    towns = sorted({t for s in stems for t in [s] if " " not in s})
    out: list[str] = []
    seen: set[str] = set()

    def add(name: str) -> None:
        key = normalise_school(name)
        if key and key not in seen:
            seen.add(key)
            out.append(name)

    def pick(options: Sequence[tuple[str, float, bool]]) -> str:
        return rng.choices([o[0] for o in options], weights=[o[1] for o in options])[0]

    attempts = 0
    while len(out) < n and attempts < n * 50:
        attempts += 1
        roll = rng.random()
        if roll < 0.14:  # a saint's dedication, usually with its place to tell it apart
            saint = rng.choice(SAINTS)
            suffix = pick(religious)
            name = (
                f"{saint} {suffix}"
                if rng.random() < 0.1
                else (
                    f"{rng.choice(towns)} {saint} {suffix}"
                    if rng.random() < 0.5
                    else f"{saint} {suffix}, {rng.choice(towns)}"
                )
            )
        else:
            stem = rng.choice(stems)
            r2 = rng.random()
            if r2 < 0.25 and " " not in stem:
                stem = f"{stem} {rng.choice(PLACE_ENDINGS)}"
            elif r2 < 0.33 and " " not in stem:
                stem = f"{rng.choice(PLACE_PREFIXES)} {stem}"
            suffix = pick(religious) if rng.random() < 0.12 else pick(plain)
            name = f"{stem} {suffix}"
        add(name)
    if len(out) < n:
        raise RuntimeError(f"only {len(out)} distinct school names could be made (asked for {n})")
    return out


def bench_directory(n_people: int, n_schools: int, seed: int = 0, cache: bool = True) -> Directory:
    """`make_directory` with distinct realistic school names; cached under benchmarks/.cache/."""
    path = cache_dir() / f"directory-v{CACHE_VERSION}-{n_people}-{n_schools}-{seed}.pickle"
    if cache and path.exists():
        with path.open("rb") as handle:
            return pickle.load(handle)
    directory = make_directory(n_people, n_schools, seed)
    names = school_names(n_schools, seed)
    schools = [dataclasses.replace(s, name=names[i]) for i, s in enumerate(directory.schools)]
    directory = Directory(schools, directory.people, directory.today)
    if cache:
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            pickle.dump(directory, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    return directory


# --------------------------------------------------------------------------------------------- typos

KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(KEYBOARD):
    for _c, _ch in enumerate(_row):
        near = []
        for dr in (-1, 0, 1):
            rr = _r + dr
            if 0 <= rr < len(KEYBOARD):
                for dc in (-1, 0, 1):
                    cc = _c + dc
                    if (dr or dc) and 0 <= cc < len(KEYBOARD[rr]):
                        near.append(KEYBOARD[rr][cc])
        _NEIGHBOURS[_ch] = "".join(near)

TYPO_KINDS = ("transposition", "deletion", "substitution", "doubled")


def typo(word: str, kind: str, rng: random.Random) -> str:
    """One typing slip in `word`, never in its first letter (people rarely get that wrong)."""
    letters = [i for i, ch in enumerate(word) if ch.isalpha() and i > 0]
    if not letters:
        return word
    if kind == "transposition":
        pairs = [i for i in letters if i + 1 < len(word) and word[i + 1].isalpha() and word[i] != word[i + 1]]
        if not pairs:
            return typo(word, "substitution", rng)
        i = rng.choice(pairs)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    i = rng.choice(letters)
    if kind == "deletion":
        return word[:i] + word[i + 1 :]
    if kind == "doubled":
        return word[:i] + word[i] + word[i:]
    ch = word[i]
    options = _NEIGHBOURS.get(ch.lower(), "aeiou")
    new = rng.choice(options)
    return word[:i] + (new.upper() if ch.isupper() else new) + word[i + 1 :]


@dataclass(frozen=True)
class Query:
    text: str
    kind: str  # surname | fullname | school
    typo: str  # transposition | deletion | substitution | doubled | saint
    answer: str  # the folded key a right answer has (surname, "first last", or normalised school name)
    target_id: int  # the record the query was made from


def _typo_in_longest_word(text: str, kind: str, rng: random.Random, min_len: int = 4) -> str:
    words = text.split(" ")
    choices = [
        i
        for i, w in enumerate(words)
        if sum(ch.isalpha() for ch in w) >= min_len and not set(fold(w).split()) & (GENERIC | _TYPE_WORDS)
    ]
    if not choices:
        choices = [i for i, w in enumerate(words) if sum(ch.isalpha() for ch in w) >= 3] or [0]
    i = rng.choice(choices)
    words[i] = typo(words[i], kind, rng)
    return " ".join(words)


def make_queries(directory: Directory, n: int = 2000, seed: int = 0) -> list[Query]:
    """`n` typo'd queries: 35% surnames, 30% full names, 35% school names; each has one slip (school names:
    one of five kinds, the fifth being "St" <-> "Saint"); half the school queries leave out "School".

    A slip that turns a name into another name the directory holds ("Rose" -> "Roe", "Reid" -> "Red") is
    drawn again: no search can tell what was meant there, so such queries measure the data, not the search."""
    rng = random.Random(f"queries:{seed}")
    people = [p for p in directory.people if len(fold(p.last_name).replace(" ", "")) >= 4]
    schools = directory.schools
    saintly = [s for s in schools if re.search(r"\b(St|Saint)\b", s.name)]
    name_words = {w for p in directory.people for w in fold(f"{p.first_name} {p.last_name}").split()}
    school_words = {w for s in schools for w in fold(s.name).split()}
    known = name_words | school_words

    def slip(word: str, kind: str) -> str:
        out = word
        for _ in range(20):
            out = typo(word, kind, rng)
            new_words = set(fold(out).split()) - set(fold(word).split())
            if new_words and not new_words <= known:
                break
        return out

    n_surname = round(n * 0.35)
    n_full = round(n * 0.30)
    n_school = n - n_surname - n_full
    out: list[Query] = []
    for i in range(n_surname):
        p = rng.choice(people)
        kind = TYPO_KINDS[i % 4]
        out.append(Query(slip(p.last_name, kind), "surname", kind, fold(p.last_name), p.id))
    for i in range(n_full):
        p = rng.choice(people)
        kind = TYPO_KINDS[i % 4]
        text = (
            f"{p.first_name} {slip(p.last_name, kind)}"
            if rng.random() < 0.7
            else f"{slip(p.first_name, kind)} {p.last_name}"
        )
        out.append(Query(text, "fullname", kind, fold(f"{p.first_name} {p.last_name}"), p.id))
    for i in range(n_school):
        kind = (*TYPO_KINDS, "saint")[i % 5]
        if kind == "saint" and saintly:
            s = rng.choice(saintly)
            text = (
                re.sub(r"\bSt\b", "Saint", s.name)
                if re.search(r"\bSt\b", s.name)
                else re.sub(r"\bSaint\b", "St", s.name)
            )
        else:
            s = rng.choice(schools)
            kind = kind if kind != "saint" else "substitution"
            text = s.name
            for _ in range(20):
                text = _typo_in_longest_word(s.name, kind, rng)
                new_words = set(fold(text).split()) - set(fold(s.name).split())
                if new_words and not new_words <= known:
                    break
        if rng.random() < 0.5:
            text = re.sub(r"\s+School\b", "", text)
        if rng.random() < 0.3:
            text = text.lower()
        out.append(Query(text, "school", kind, normalise_school(s.name), s.id))
    rng.shuffle(out)
    return out


# --------------------------------------------------------------------------------------------- GIAS extract


def gias_header() -> list[str]:
    with _data_file("gias-edubase-sample.csv").open(encoding="latin-1", newline="") as handle:
        return next(csv.reader(handle))


PHASE_NAMES = {
    "nursery": ("1", "Nursery"),
    "primary": ("2", "Primary"),
    "middle": ("3", "Middle deemed primary"),
    "secondary": ("4", "Secondary"),
    "16-plus": ("6", "16 plus"),
    "all-through": ("7", "All-through"),
    "special": ("0", "Not applicable"),
    "pru": ("0", "Not applicable"),
}
TYPE_NAMES = {
    "Local authority maintained": ("01", "Community school", "4", "Local authority maintained schools"),
    "Academy converter": ("28", "Academy converter", "10", "Academies"),
    "Academy sponsor led": ("27", "Academy sponsor led", "10", "Academies"),
    "Academy": ("28", "Academy converter", "10", "Academies"),
    "Independent School": ("11", "Other independent school", "3", "Independent schools"),
    "Independent Special School": ("10", "Other independent special school", "3", "Independent schools"),
}


def write_gias_extract(path: Path, n_rows: int, seed: int = 0) -> Path:
    """A GIAS "edubase" extract of `n_rows` open establishments, every one of the 133 columns filled the way
    the register fills them (codes, names, dates as dd-mm-yyyy, "Not applicable"), with a head each."""
    if path.exists():
        return path
    header = gias_header()
    directory = bench_directory(n_rows, n_rows, seed)
    heads = {p.school_id: p for p in directory.people if p.is_head}
    rng = random.Random(f"gias:{seed}")
    col = {name: i for i, name in enumerate(header)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="latin-1", errors="replace", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        for s in directory.schools:
            row = [""] * len(header)
            head = heads.get(s.id)
            phase_code, phase_name = PHASE_NAMES.get(s.phase, ("0", "Not applicable"))
            t_code, t_name, g_code, g_name = TYPE_NAMES.get(s.school_type, TYPE_NAMES["Local authority maintained"])
            religious = (
                "Church of England"
                if re.search(r"C\s*of\s*E|CofE|CE |Church of England", s.name)
                else ("Roman Catholic" if re.search(r"Catholic|RC ", s.name) else "Does not apply")
            )
            values = {
                "URN": s.urn,
                "LA (code)": str(200 + hash(s.local_authority) % 700),
                "LA (name)": s.local_authority,
                "EstablishmentNumber": str(2000 + s.id % 7000),
                "EstablishmentName": s.name,
                "TypeOfEstablishment (code)": t_code,
                "TypeOfEstablishment (name)": t_name,
                "EstablishmentTypeGroup (code)": g_code,
                "EstablishmentTypeGroup (name)": g_name,
                "EstablishmentStatus (code)": "1",
                "EstablishmentStatus (name)": "Open",
                "ReasonEstablishmentOpened (code)": "00",
                "ReasonEstablishmentOpened (name)": "Not applicable",
                "ReasonEstablishmentClosed (code)": "00",
                "ReasonEstablishmentClosed (name)": "Not applicable",
                "PhaseOfEducation (code)": phase_code,
                "PhaseOfEducation (name)": phase_name,
                "StatutoryLowAge": str(s.low_age or ""),
                "StatutoryHighAge": str(s.high_age or ""),
                "Boarders (code)": "1",
                "Boarders (name)": "No boarders",
                "NurseryProvision (name)": rng.choice(("Has Nursery Classes", "No Nursery Classes")),
                "OfficialSixthForm (code)": "2",
                "OfficialSixthForm (name)": "Does not have a sixth form",
                "Gender (code)": "3",
                "Gender (name)": "Mixed",
                "ReligiousCharacter (code)": "02" if religious != "Does not apply" else "00",
                "ReligiousCharacter (name)": religious,
                "ReligiousEthos (name)": "Does not apply",
                "AdmissionsPolicy (code)": "0",
                "AdmissionsPolicy (name)": "Not applicable",
                "SchoolCapacity": str(int((s.pupils or 300) * 1.05)),
                "SpecialClasses (code)": "2",
                "SpecialClasses (name)": "No Special Classes",
                "CensusDate": "18-01-2018",
                "NumberOfPupils": str(s.pupils or ""),
                "NumberOfBoys": str((s.pupils or 0) // 2),
                "NumberOfGirls": str((s.pupils or 0) - (s.pupils or 0) // 2),
                "PercentageFSM": f"{rng.uniform(2, 45):.1f}",
                "TrustSchoolFlag (code)": "0",
                "TrustSchoolFlag (name)": "Not applicable",
                "Trusts (name)": s.trust or "",
                "SchoolSponsorFlag (name)": "Not applicable",
                "FederationFlag (name)": "Not under a federation",
                "UKPRN": str(10000000 + s.id),
                "FurtherEducationType (name)": "Not applicable",
                "OfstedLastInsp": f"{rng.randint(1, 28):02d}-{rng.randint(1, 12):02d}-{rng.randint(2012, 2019)}",
                "OfstedSpecialMeasures (code)": "0",
                "OfstedSpecialMeasures (name)": "Not applicable",
                "LastChangedDate": "19-09-2018",
                "Street": f"{rng.randint(1, 200)} {rng.choice(PLACE_ENDINGS)}",
                "Locality": "",
                "Town": s.locality,
                "County (name)": "",
                "Postcode": s.postcode,
                "SchoolWebsite": f"http://www.school{s.id}.example.sch.uk",
                "TelephoneNum": f"01{rng.randint(100000000, 999999999)}",
                "HeadTitle (name)": head.title if head else "",
                "HeadFirstName": head.first_name if head else "",
                "HeadLastName": head.last_name if head else "",
                "HeadPreferredJobTitle": "Headteacher",
                "InspectorateName (name)": "Not applicable",
                "TeenMoth (name)": "Not applicable",
                "CCF (name)": "Not applicable",
                "SENPRU (name)": "Not applicable",
                "EBD (name)": "Not applicable",
                "FTProv (name)": "",
                "EdByOther (name)": "",
                "Section41Approved (name)": "Not applicable",
                "GOR (code)": "H",
                "GOR (name)": "London",
                "UrbanRural (code)": "A1",
                "UrbanRural (name)": "Urban major conurbation",
                "Easting": str(int(s.easting)),
                "Northing": str(int(s.northing)),
                "MSOA (name)": f"{s.local_authority} 001",
                "LSOA (name)": f"{s.local_authority} 001E",
                "Country (name)": "",
                "OfstedRating (name)": rng.choice(("Outstanding", "Good", "Good", "Requires improvement")),
                "RSCRegion (name)": "North-West London and South-Central England",
                "UPRN": str(100000000 + s.id),
                "MSOA (code)": "E02000577",
                "LSOA (code)": "E01002857",
            }
            for key, value in values.items():
                if key in col:
                    row[col[key]] = value
            writer.writerow(row)
    tmp.replace(path)
    return path
