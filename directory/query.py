"""What a member means by what they type, before the index is asked: query understanding on top of the
search index's public API (DirectoryIndex.search, .staff, .resolve_area, .schools). Pure: no database,
no Telegram. directory/search.py ranks names; this module decides which names to ask it for.

Kinds of query, tried in this order (the first that finds something answers):
1. "head of X", "head at X", "who is the head at X", "headteacher of X", "X head": the head(s) of the
   best-matching school(s) for X, in the schools' order.
2. A role with a place: "SENDCo St Mary's", "deputy head at Oakfield", "business manager Riverton": the
   people with that role at the schools X matches (or, for a town, at the schools there).
3. An area: "primary schools in Redcar", "schools in TS5", "TS5", "secondary Ashcombe": the schools in
   that town, local authority or postcode district (a bare place name only when nothing is named so).
4. Names, as the index reads them, with nicknames widened: "Liz Jones" also asks for Elizabeth Jones
   (NICKNAMES: common English short forms), each match keeping the better of its two scores. A surname
   with a word of the school ("Smith Ashcombe") is the index's own context matching.

A town, local authority or postcode district after a school's name narrows it ("head of St Mary's
Stoneford", "St Mary's, Stoneford"), unless the whole text is a school's name already. A person whose
school's name is shared by another school in the directory has the school's town in their details, so a
button or a line of `partnerbot find` tells the two apart. The chat, the inline mode and the command line
all call `search` here: one understanding, one ranking.
"""

from __future__ import annotations

import re
import weakref
from collections import Counter
from dataclasses import dataclass

from core.normalise import fold
from directory.search import Area, DirectoryIndex, Match, PersonEntry, SchoolEntry

# Short forms and nicknames -> the full first names they stand for (common English ones).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "liz": ("elizabeth",),
    "lizzie": ("elizabeth",),
    "lizzy": ("elizabeth",),
    "beth": ("elizabeth", "bethany"),
    "eliza": ("elizabeth",),
    "betty": ("elizabeth",),
    "libby": ("elizabeth",),
    "bess": ("elizabeth",),
    "bob": ("robert",),
    "rob": ("robert",),
    "robbie": ("robert",),
    "bobby": ("robert",),
    "bert": ("robert", "albert"),
    "bill": ("william",),
    "will": ("william",),
    "billy": ("william",),
    "liam": ("william",),
    "jim": ("james",),
    "jimmy": ("james",),
    "jamie": ("james",),
    "jack": ("john", "jack"),
    "johnny": ("john",),
    "mike": ("michael",),
    "mick": ("michael",),
    "mickey": ("michael",),
    "dave": ("david",),
    "davy": ("david",),
    "steve": ("stephen", "steven"),
    "chris": ("christopher", "christine", "christina"),
    "kate": ("katherine", "catherine", "kathryn"),
    "katie": ("katherine", "catherine", "kathryn"),
    "kathy": ("katherine", "kathryn", "catherine"),
    "cathy": ("catherine",),
    "kat": ("katherine", "catherine"),
    "sue": ("susan", "suzanne"),
    "suzy": ("susan", "suzanne"),
    "sam": ("samuel", "samantha"),
    "tom": ("thomas",),
    "tommy": ("thomas",),
    "dan": ("daniel",),
    "danny": ("daniel",),
    "matt": ("matthew",),
    "nick": ("nicholas",),
    "nicky": ("nicola", "nicholas"),
    "nikki": ("nicola",),
    "andy": ("andrew",),
    "drew": ("andrew",),
    "tony": ("anthony",),
    "ant": ("anthony",),
    "pete": ("peter",),
    "phil": ("philip", "phillip"),
    "rich": ("richard",),
    "rick": ("richard",),
    "dick": ("richard",),
    "ricky": ("richard",),
    "ed": ("edward",),
    "eddie": ("edward",),
    "ted": ("edward",),
    "ben": ("benjamin",),
    "alex": ("alexander", "alexandra"),
    "sandy": ("alexandra", "sandra"),
    "jen": ("jennifer",),
    "jenny": ("jennifer",),
    "jo": ("joanne", "joanna", "josephine"),
    "jess": ("jessica",),
    "jessie": ("jessica",),
    "vicky": ("victoria",),
    "vicki": ("victoria",),
    "tori": ("victoria",),
    "becky": ("rebecca",),
    "becca": ("rebecca",),
    "debbie": ("deborah",),
    "deb": ("deborah",),
    "mandy": ("amanda",),
    "mags": ("margaret",),
    "maggie": ("margaret",),
    "peggy": ("margaret",),
    "meg": ("margaret",),
    "pat": ("patricia", "patrick"),
    "patty": ("patricia",),
    "trish": ("patricia",),
    "tricia": ("patricia",),
    "sally": ("sarah",),
    "gill": ("gillian",),
    "jill": ("gillian",),
    "helen": ("helen",),
    "nell": ("helen", "eleanor"),
    "ellie": ("eleanor", "elizabeth"),
    "nora": ("eleanor",),
    "fran": ("frances", "francesca"),
    "frankie": ("frances",),
    "frank": ("francis",),
    "geoff": ("geoffrey",),
    "greg": ("gregory",),
    "jeff": ("jeffrey",),
    "joe": ("joseph",),
    "joey": ("joseph",),
    "ken": ("kenneth",),
    "kenny": ("kenneth",),
    "len": ("leonard",),
    "leo": ("leonard",),
    "les": ("leslie",),
    "mo": ("maureen",),
    "mags ": ("margaret",),
    "ron": ("ronald",),
    "ronnie": ("ronald",),
    "russ": ("russell",),
    "stu": ("stuart", "stewart"),
    "terry": ("terence",),
    "tim": ("timothy",),
    "val": ("valerie",),
    "viv": ("vivien", "vivienne"),
    "wendy": ("gwendolyn",),
    "abby": ("abigail",),
    "abbie": ("abigail",),
    "annie": ("anne", "ann"),
    "barb": ("barbara",),
    "babs": ("barbara",),
    "bev": ("beverley",),
    "caz": ("caroline", "carol"),
    "carrie": ("caroline",),
    "di": ("diane", "diana"),
    "gaz": ("gary",),
    "hattie": ("harriet",),
    "harry": ("harold", "henry"),
    "hal": ("henry",),
    "izzy": ("isabel", "isobel"),
    "jackie": ("jacqueline",),
    "jan": ("janet", "janice"),
    "lou": ("louise",),
    "lucy": ("lucy", "lucinda"),
    "mel": ("melanie", "melissa"),
    "pam": ("pamela",),
    "penny": ("penelope",),
    "ros": ("rosalind",),
    "rosie": ("rosemary",),
    "steph": ("stephanie",),
    "theo": ("theodore",),
    "zoe": ("zoe",),
}
# Roles people ask for, each with the words a job title of that role contains.
ROLES: dict[str, tuple[str, ...]] = {
    "sendco": ("sendco", "senco", "send", "special educational"),
    "senco": ("sendco", "senco", "send"),
    "deputy": ("deputy",),
    "deputy head": ("deputy",),
    "assistant head": ("assistant head",),
    "business manager": ("business",),
    "bursar": ("bursar", "business"),
    "dsl": ("safeguarding", "dsl"),
    "safeguarding lead": ("safeguarding", "dsl"),
    "chair of governors": ("chair",),
    "exec head": ("executive",),
    "executive head": ("executive",),
}
PHASE_WORDS = {
    "primary": "primary",
    "primaries": "primary",
    "secondary": "secondary",
    "secondaries": "secondary",
    "infant": "primary",
    "junior": "primary",
    "nursery": "nursery",
    "special": "special",
    "middle": "middle",
    "all-through": "all-through",
    "sixth": "16-plus",
}
_HEAD_OF = re.compile(
    r"^(?:who\s+is\s+|who's\s+|whos\s+)?(?:the\s+)?(?:head\s*teacher|head|principal|headmaster|headmistress)"
    r"\s+(?:of|at|for)\s+(?:the\s+)?(?P<place>.+?)\??$",
    re.IGNORECASE,
)
_HEAD_AFTER = re.compile(r"^(?P<place>.+?)\s+(?:head\s*teacher|head|principal)\??$", re.IGNORECASE)
_AREA = re.compile(r"^(?:(?P<phase>[a-z-]+)\s+)?(?:schools?\s+)?(?:in|near|around)\s+(?P<place>.+?)\??$", re.IGNORECASE)
_POSTCODE_DISTRICT = re.compile(r"^[A-Za-z]{1,2}[0-9][0-9A-Za-z]?$")
SCHOOL_LIMIT = 5


def _person_match(p: PersonEntry, score: float, exact: bool, near: bool = False) -> Match:
    detail = ", ".join(x for x in (p.job_title, p.school_name) if x)
    return Match("person", p.id, p.full_name, round(score, 1), exact, near, detail)


def _school_match(s: SchoolEntry, score: float = 100.0, exact: bool = False) -> Match:
    detail = ", ".join(x for x in (s.locality or s.local_authority, f"URN {s.urn}" if s.urn else None) if x)
    return Match("school", s.id, s.name, score, exact, False, detail)


@dataclass(frozen=True)
class _Names:
    """What the directory's schools are called and where they are (folded), for one index."""

    places: frozenset[str]  # localities and local authorities
    school_names: Counter[str]  # school name -> how many schools have it
    by_locality: dict[str, frozenset[int]]  # folded locality -> its schools' ids
    by_authority: dict[str, frozenset[int]]
    by_district: dict[str, frozenset[int]]  # postcode district ("TS5") -> its schools' ids


_NAMES: weakref.WeakKeyDictionary[DirectoryIndex, _Names] = weakref.WeakKeyDictionary()
_PLACE_JOINERS = {"in", "at", "of", "near", ","}
NARROW_POOL = 200  # school matches a narrowed name is looked for among


def _names(index: DirectoryIndex) -> _Names:
    """Built once per index (an import builds a new index; a person's edit does not rename schools)."""
    found = _NAMES.get(index)
    if found is None:
        schools = list(index.schools)
        places = {fold(s.locality) for s in schools if s.locality} | {
            fold(s.local_authority) for s in schools if s.local_authority
        }
        groups: tuple[dict[str, set[int]], dict[str, set[int]], dict[str, set[int]]] = ({}, {}, {})
        for s in schools:
            for group, key in zip(
                groups,
                (
                    fold(s.locality or ""),
                    fold(s.local_authority or ""),
                    s.postcode.replace(" ", "").upper()[:-3] if s.postcode else "",
                ),
            ):
                if key:
                    group.setdefault(key, set()).add(s.id)
        by_locality, by_authority, by_district = ({k: frozenset(v) for k, v in g.items()} for g in groups)
        found = _Names(
            frozenset(places), Counter(fold(s.name) for s in schools), by_locality, by_authority, by_district
        )
        _NAMES[index] = found
    return found


def split_place(index: DirectoryIndex, text: str) -> tuple[str, Area] | None:
    """("St Mary's", Stoneford) for "St Mary's Stoneford" / "St Mary's, Stoneford" / "St Mary's in TS5":
    a known town, local authority or postcode district at the end, with a name before it; else None."""
    words = text.replace(",", " , ").split()
    places = _names(index).places
    for n in (3, 2, 1):
        if len(words) <= n:
            continue
        tail = " ".join(words[-n:])
        key = fold(tail)
        if key not in places and not (n == 1 and _POSTCODE_DISTRICT.match(tail)):
            continue
        area = index.resolve_area(tail)
        if area is None:
            continue
        rest = words[:-n]
        while rest and rest[-1].lower() in _PLACE_JOINERS:
            rest = rest[:-1]
        if rest:
            return " ".join(rest), area
    return None


def _narrowed_schools(index: DirectoryIndex, text: str, limit: int) -> list[Match]:
    """The schools `text` names, narrowed by a place at its end; [] when it names no place or when the
    whole text is a school's name already (a school called after its town stays found)."""
    split = split_place(index, text)
    if split is None:
        return []
    if fold(text) in _names(index).school_names:
        return []
    rest, area = split
    inside = _inside(index, area)
    if not inside:
        return []
    found = [m for m in index.search(rest, limit=NARROW_POOL) if m.kind == "school" and m.id in inside]
    return found[:limit]


def _inside(index: DirectoryIndex, area: Area) -> frozenset[int]:
    """The ids of the schools in `area`, as `_schools_in` finds them (without a phase), from the index's
    tables built once: a query pays a lookup, not a pass over every school."""
    names = _names(index)
    compact = area.label.replace(" ", "").upper()
    if area.locality is None and _POSTCODE_DISTRICT.match(compact):
        return names.by_district.get(compact, frozenset())
    if area.locality:
        return names.by_locality.get(fold(area.locality), frozenset())
    if area.local_authority:
        return names.by_authority.get(fold(area.local_authority), frozenset())
    return frozenset()


def _schools_for(index: DirectoryIndex, text: str) -> list[Match]:
    narrowed = _narrowed_schools(index, text, SCHOOL_LIMIT)
    if narrowed:
        return narrowed
    return [m for m in index.search(text, limit=SCHOOL_LIMIT * 4) if m.kind == "school"][:SCHOOL_LIMIT]


def with_towns(index: DirectoryIndex, matches: list[Match]) -> list[Match]:
    """People whose school shares its name with another school get the school's town in their details
    ("Headteacher, St Mary's CofE Primary School, Stoneford")."""
    counts = _names(index).school_names
    out = []
    for m in matches:
        if m.kind == "person":
            p = index.person(m.id)
            if (
                p is not None
                and p.school_name
                and p.locality
                and counts.get(fold(p.school_name), 0) > 1
                and fold(p.locality) not in fold(m.detail)
            ):
                m = m._replace(detail=", ".join(x for x in (m.detail, p.locality) if x))
        out.append(m)
    return out


def heads_of(index: DirectoryIndex, place: str, limit: int) -> list[Match]:
    """The heads of the schools `place` names, best school first."""
    out: list[Match] = []
    schools = _schools_for(index, place)
    if not schools:
        area = index.resolve_area(place)
        if area is not None:
            schools = [_school_match(s) for s in _schools_in(index, area, None)][:limit]
    for rank, school in enumerate(schools):
        heads = [p for p in index.staff(school.id) if p.is_head]
        for p in heads:
            # The only head of the one school the query matched exactly opens at once.
            exact = school.exact and len(heads) == 1 and (rank == 0 and not any(s.exact for s in schools[1:]))
            out.append(_person_match(p, school.score, exact, school.near_miss))
    return out[:limit]


def _role_query(text: str) -> tuple[str, str] | None:
    key = fold(text)
    for role in sorted(ROLES, key=len, reverse=True):
        for prefix in (role + " at ", role + " of ", role + " "):
            if key.startswith(prefix) and len(key) > len(prefix):
                return role, key[len(prefix) :]
    return None


def role_at(index: DirectoryIndex, role: str, place: str, limit: int) -> list[Match]:
    words = ROLES[role]
    schools = _schools_for(index, place)
    school_ids = [s.id for s in schools]
    area = index.resolve_area(place) if not any(s.exact for s in schools) else None
    if area is not None:
        school_ids = [s.id for s in _schools_in(index, area, None)] + school_ids
    out: list[Match] = []
    seen: set[int] = set()
    for sid in school_ids:
        for p in index.staff(sid):
            title = fold(p.job_title or "")
            if p.id not in seen and any(w in title for w in words):
                seen.add(p.id)
                out.append(_person_match(p, 90.0, False))
    if len(out) == 1:
        out = [out[0]._replace(exact=True)]  # the one SENDCo of that school: open their card
    return out[:limit]


def _schools_in(index: DirectoryIndex, area: object, phase: str | None) -> list[SchoolEntry]:
    from directory.search import Area

    assert isinstance(area, Area)
    compact = area.label.replace(" ", "").upper()
    # resolve_area labels a postcode district's area with the district itself ("TS5").
    district = compact if area.locality is None and _POSTCODE_DISTRICT.match(compact) else None
    loc = fold(area.locality or "") if area.locality and not district else None
    la = fold(area.local_authority or "") if area.local_authority and not area.locality and not district else None
    found = []
    for s in index.schools:
        if phase and s.phase != phase:
            continue
        if loc and fold(s.locality or "") == loc:
            found.append(s)
        elif la and fold(s.local_authority or "") == la:
            found.append(s)
        elif district and s.postcode and s.postcode.replace(" ", "").upper()[:-3] == district:
            found.append(s)
    return sorted(found, key=lambda s: fold(s.name))


def _area_query(index: DirectoryIndex, text: str) -> tuple[object, str | None] | None:
    """(area, phase) when the query names an area: "primary schools in Redcar", "TS5", "schools in X"."""
    m = _AREA.match(text.strip())
    phase = None
    place = None
    if m:
        phase = PHASE_WORDS.get((m.group("phase") or "").lower())
        if m.group("phase") and phase is None and m.group("phase").lower() not in {"schools", "school"}:
            return None
        place = m.group("place")
    else:
        words = text.split()
        if len(words) >= 2 and words[0].lower() in PHASE_WORDS and words[1].lower() in {"schools", "school"}:
            phase, place = PHASE_WORDS[words[0].lower()], " ".join(words[2:])
        elif len(words) == 1 and _POSTCODE_DISTRICT.match(words[0]):
            place = words[0]
    if not place:
        return None
    area = index.resolve_area(place)
    return (area, phase) if area is not None else None


def _nickname_variants(query: str) -> list[str]:
    words = query.split()
    if not words:
        return []
    lead = 1 if fold(words[0]).rstrip(".") in {"mr", "mrs", "ms", "miss", "dr"} and len(words) > 2 else 0
    full = NICKNAMES.get(fold(words[lead]))
    if not full:
        return []
    return [" ".join([*words[:lead], name, *words[lead + 1 :]]) for name in full if name != fold(words[lead])]


def search(index: DirectoryIndex, query: str, limit: int = 10) -> list[Match]:
    """Ranked matches for what a member typed (see the module doc); [] for nothing useful."""
    return with_towns(index, _search(index, query, limit))


def _search(index: DirectoryIndex, query: str, limit: int) -> list[Match]:
    if not isinstance(query, str) or not query.strip() or limit <= 0:
        return []
    text = " ".join(query.split())[:200]
    m = _HEAD_OF.match(text) or (_HEAD_AFTER.match(text) if len(text.split()) >= 2 else None)
    if m:
        found = heads_of(index, m.group("place"), limit)
        if found:
            return found
    role = _role_query(text)
    if role is not None:
        found = role_at(index, role[0], role[1], limit)
        if found:
            return found
    area = _area_query(index, text)
    if area is not None:
        schools = _schools_in(index, area[0], area[1])
        if schools:
            return [_school_match(s) for s in schools[:limit]]
    results = index.search(text, limit=limit)
    if not results or (results[0].kind == "school" and not results[0].exact):
        # A school's name and its town: the schools of that name there, first.
        narrowed = _narrowed_schools(index, text, limit)
        if narrowed:
            results = narrowed + [m for m in results if (m.kind, m.id) not in {(n.kind, n.id) for n in narrowed}]
            return results[:limit]
    variants = _nickname_variants(text)
    if variants:
        merged: dict[tuple[str, int], Match] = {}
        order: list[Match] = []
        for variant in variants:
            order.extend(index.search(variant, limit=limit))
        order.extend(results)
        for match in order:
            key = (match.kind, match.id)
            if key not in merged or (match.exact, match.score) > (merged[key].exact, merged[key].score):
                merged[key] = match
        results = sorted(merged.values(), key=lambda x: (not x.exact, x.near_miss, -x.score))[:limit]
    if not results and len(text.split()) == 1:
        area_only = index.resolve_area(text)
        if area_only is not None and fold(text) in {fold(s.locality or "") for s in index.schools} | {
            fold(s.local_authority or "") for s in index.schools
        }:
            return [_school_match(s) for s in _schools_in(index, area_only, None)[:limit]]
    return results


_NEAR = re.compile(r"^(?:near|in|around|by|close\s+to)\s+", re.IGNORECASE)


def without_near(text: str | None) -> str:
    """The place in "near Nowhereville" (what to call it back)."""
    return _NEAR.sub("", (text or "").strip())


def resolve_place(index: DirectoryIndex, text: str | None) -> Area | None:
    """Where "near PLACE" means: a town, local authority or postcode district, else the school PLACE names
    (its grid point and town)."""
    place = _NEAR.sub("", (text or "").strip())
    if not place:
        return None
    area = index.resolve_area(place)
    if area is not None:
        return area
    schools = _schools_for(index, place)
    best = next((s for s in schools if not s.near_miss), None)
    return index.area_of_school(best.id) if best is not None else None


def grid_point(latitude: float, longitude: float) -> tuple[float, float] | None:
    """WGS84 latitude/longitude (a shared Telegram location) to the register's OSGB36 National Grid
    easting/northing in metres, by the Ordnance Survey's OSTN15 transformation (the `convertbng` package);
    None outside the grid's coverage (Great Britain and its waters)."""
    import math

    from convertbng.cutil import convert_bng

    eastings, northings = convert_bng([float(longitude)], [float(latitude)])
    e, n = float(eastings[0]), float(northings[0])
    if math.isnan(e) or math.isnan(n):
        return None
    return e, n
