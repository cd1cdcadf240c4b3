"""Queries as people type them (issue 12): top-1 by kind, today's index search beside the query
understanding in directory/query.py, over the same generated national-scale directory (benchmarks/data.py).

Kinds, each generated from a record whose right answer is known:
- head of: "head of <school name with one slip>" -> that school's head
- who is the head: "who is the head at <school name>" -> that school's head
- nickname: "<short form> <surname>" for people whose first name has one ("Liz Jones" for Elizabeth)
- surname + school word: "<surname> <a distinctive word of their school>" -> that person
- role with a place: "<SENDCo|deputy> <school name>" -> that person
- area: "primary schools in <town>" -> a primary school in that town
- postcode district: "<district>" -> a school in that district
"""

from __future__ import annotations

import random
from collections import defaultdict

from benchmarks.common import Env, Row, Section
from benchmarks.data import bench_directory, typo
from benchmarks.lookup import entries
from core.normalise import GENERIC, fold, school_tokens
from directory import query as understood
from directory.search import DirectoryIndex, Match

KINDS = (
    "head of",
    "who is the head",
    "nickname",
    "surname + school word",
    "role with a place",
    "area",
    "postcode district",
)


def _reverse_nicknames() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for nick, names in understood.NICKNAMES.items():
        for name in names:
            if name != nick:
                out[name].append(nick.strip())
    return out


def make_kind_queries(index: DirectoryIndex, per_kind: int, seed: int = 0) -> list[tuple[str, str, object]]:
    """(kind, text, check) where check(match) says whether a top-1 match is right."""
    rng = random.Random(seed)
    out: list[tuple[str, str, object]] = []
    heads = [p for p in index.people if p.is_head and p.school_id is not None]
    by_school_heads: dict[int, list[int]] = defaultdict(list)
    for p in heads:
        by_school_heads[p.school_id].append(p.id)  # type: ignore[index]
    schools = {s.id: s for s in index.schools}

    def person_is(pid: int):  # noqa: ANN202
        return lambda m: m.kind == "person" and m.id == pid

    def head_of(sid: int):  # noqa: ANN202
        return lambda m: m.kind == "person" and m.id in by_school_heads[sid]

    for p in rng.sample(heads, min(per_kind, len(heads))):
        name = schools[p.school_id].name  # type: ignore[index]
        words = name.split()
        long = max(range(len(words)), key=lambda i: len(words[i]))
        words[long] = typo(words[long], rng.choice(("transposition", "deletion", "substitution")), rng)
        out.append(("head of", "head of " + " ".join(words), head_of(p.school_id)))  # type: ignore[arg-type]
    for p in rng.sample(heads, min(per_kind, len(heads))):
        out.append(
            (
                "who is the head",
                f"who is the head at {schools[p.school_id].name}",  # type: ignore[index]
                head_of(p.school_id),
            )
        )  # type: ignore[arg-type]
    reverse = _reverse_nicknames()
    nick_people = [p for p in index.people if fold(p.first_name.split(" ")[0]) in reverse]
    for p in rng.sample(nick_people, min(per_kind, len(nick_people))):
        nick = rng.choice(reverse[fold(p.first_name.split(" ")[0])])
        out.append(("nickname", f"{nick.title()} {p.last_name}", person_is(p.id)))
    placed = [p for p in index.people if p.school_name]
    for p in rng.sample(placed, min(per_kind, len(placed))):
        words = [w for w in school_tokens(p.school_name or "") if w not in GENERIC and len(w) > 3]
        if words:
            out.append(("surname + school word", f"{p.last_name} {rng.choice(words)}", person_is(p.id)))
    roles = [p for p in placed if p.job_title and ("SENDCo" in p.job_title or "Deputy" in p.job_title)]
    for p in rng.sample(roles, min(per_kind, len(roles))):
        role = "SENDCo" if "SENDCo" in (p.job_title or "") else "deputy head"
        out.append(("role with a place", f"{role} {p.school_name}", person_is(p.id)))
    towns = sorted({s.locality for s in index.schools if s.locality and s.phase == "primary"})
    for town in rng.sample(towns, min(per_kind, len(towns))):
        out.append(
            (
                "area",
                f"primary schools in {town}",
                lambda m, town=town: (
                    m.kind == "school" and schools[m.id].locality == town and schools[m.id].phase == "primary"
                ),
            )
        )
    districts = sorted({s.postcode.split()[0] for s in index.schools if s.postcode and " " in s.postcode})
    for d in rng.sample(districts, min(per_kind, len(districts))):
        out.append(
            (
                "postcode district",
                d,
                lambda m, d=d: m.kind == "school" and (schools[m.id].postcode or "").startswith(d + " "),
            )
        )
    return out


def top1(results: list[Match], check: object) -> bool:
    return bool(results) and check(results[0])  # type: ignore[operator]


async def run(env: Env) -> Section:
    directory = bench_directory(env.sizes.people, env.sizes.schools, env.sizes.seed)
    people, schools = entries(directory)
    index = DirectoryIndex(people, schools)
    per_kind = max(20, min(300, env.sizes.queries // 7))
    queries = make_kind_queries(index, per_kind, env.sizes.seed)
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # kind -> [today, understood, n]
    for kind, text, check in queries:
        counts = hits[kind]
        counts[0] += top1(index.search(text, limit=10), check)
        counts[1] += top1(understood.search(index, text, limit=10), check)
        counts[2] += 1
    section = Section(
        "Queries as people type them (top-1 by kind)",
        intro=(
            f"{len(queries)} generated queries over {len(people):,} people and {len(schools):,} schools; "
            "baseline: the index's own search (today), value: directory/query.py in front of it."
        ),
    )
    for kind in KINDS:
        today, new, n = hits[kind]
        if n:
            section.rows.append(Row(kind, f"{100 * new / n:.0f}%", f"{100 * today / n:.0f}%"))
            section.figures[f"top1_{kind}"] = new / n
    return section
