"""Who could give a school the support it asked for: suggestions with plain reasons (pure, no Telegram, no
database: the index and plain dataclasses in, plain dataclasses out).

The candidates are those `/sle` finds for the same specialism and phase, nearest the requesting school first
(directory.search.sle_candidates, the one place "system leaders for a need, nearest first" is decided).
Then, for brokering:
- never someone at the requesting school (whatever the setting); never someone in the same trust when the
  partnership forbids it (the setting SUPPORT_CONFLICT = "trust", the default; "school" allows the same trust);
- only system leaders who offer days this year (their capacity, /edit capacity or the office); those with
  fewer days left than the school asked for come after those with enough;
- a system leader the school asked for by name (from their card) comes first, if allowed at all;
- among equals: nearer first, then fewer recent deployments (spread the load), then more days left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from core.i18n import _, ngettext
from directory.matching import PHASE_LABELS, need_label
from directory.search import DirectoryIndex, SleCandidate, sle_candidates

CONFLICT_RULES = ("school", "trust")
POOL = 400  # how many of /sle's nearest are considered (each is then checked for capacity and conflict)


@dataclass(frozen=True)
class Need:
    specialism: str
    phase: str | None
    school_id: int | None
    days_wanted: float
    preferred_person_id: int | None = None


@dataclass(frozen=True)
class Offer:
    """A system leader's year so far: days offered, days counted against them, recent deployments."""

    capacity_days: float | None
    days_used: float = 0.0
    recent: int = 0  # deployments accepted in the last twelve months
    last: dt.date | None = None

    @property
    def days_left(self) -> float:
        return max(0.0, (self.capacity_days or 0.0) - self.days_used)


@dataclass(frozen=True)
class Suggestion:
    person_id: int
    name: str
    school_id: int | None
    days_left: float
    enough: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def reason_text(self) -> str:
        return "; ".join(self.reasons)


def days_text(days: float) -> str:
    """1, 1.5, 2 … as a person writes them."""
    return f"{days:g}"


def _distance_reason(c: SleCandidate) -> str:
    if c.nearness == "locality" and c.school is not None and c.school.locality:
        return _("in {place}, the same town").format(place=c.school.locality)
    if c.distance_km is not None:
        km = f"{c.distance_km:.0f}" if c.distance_km >= 10 else f"{c.distance_km:.1f}"
        return _("{km} km away").format(km=km)
    if c.nearness == "authority":
        return _("in the same local authority")
    return _("distance not known")


def _reasons(c: SleCandidate, need: Need, offer: Offer, rule: str, preferred: bool) -> tuple[str, ...]:
    p = c.person
    what = need_label(need.specialism)
    designation = ", ".join(p.designations) or _("system leader")
    first = _("{designation} in {what}").format(designation=designation, what=what)
    phase = p.phase or (c.school.phase if c.school else None)
    if phase:
        first += ", " + _(PHASE_LABELS.get(phase, phase)).lower()
    out = [first]
    if preferred:
        out.append(_("the school asked for them"))
    out.append(_distance_reason(c))
    left = offer.days_left
    out.append(
        ngettext("{n} day left this year", "{n} days left this year", 1 if left == 1 else 2).format(n=days_text(left))
    )
    if left < need.days_wanted:
        out.append(_("fewer days left than the {n} asked for").format(n=days_text(need.days_wanted)))
    if offer.recent:
        out.append(
            ngettext("{n} deployment in the last year", "{n} deployments in the last year", offer.recent).format(
                n=offer.recent
            )
        )
    else:
        out.append(_("no deployment in the last year"))
    out.append(_("no conflict: another trust") if rule == "trust" else _("no conflict: another school"))
    return tuple(out)


def conflict(leader_school: int | None, school: int | None, rule: str, trust_of: Mapping[int, str | None]) -> bool:
    """True when the system leader may not support the school: the same school always; the same trust when
    the rule is "trust" (a trust of neither school's is no conflict)."""
    if school is None:
        return False
    if leader_school == school:
        return True
    if rule != "trust" or leader_school is None:
        return False
    mine, theirs = trust_of.get(leader_school), trust_of.get(school)
    return bool(mine and theirs and mine.strip().casefold() == theirs.strip().casefold())


def candidates(index: DirectoryIndex, need: Need, pool: int = POOL) -> list[SleCandidate]:
    """/sle's answer for the need, nearest the requesting school first (plus the preferred leader, if the
    school asked for one by name and they are not among the nearest)."""
    found = sle_candidates(index, need.specialism, phase=need.phase, limit=pool, origin_school_id=need.school_id)
    if need.preferred_person_id is not None and all(c.person.id != need.preferred_person_id for c in found):
        person = index.person(need.preferred_person_id)
        if person is not None and person.designations:
            school = index.school_by_id.get(person.school_id) if person.school_id is not None else None
            found.append(SleCandidate(person, school, "other", None))
    return found


def rank(
    found: Sequence[SleCandidate],
    need: Need,
    offers: Mapping[int, Offer],
    trust_of: Mapping[int, str | None],
    rule: str = "trust",
    limit: int = 5,
    exclude: frozenset[int] = frozenset(),
) -> list[Suggestion]:
    """The suggestions, best first, each with its reasons. `exclude`: already asked for this request."""
    tier = {"locality": 0, "authority": 1, "distance": 2, "other": 3}
    keyed = []
    for position, c in enumerate(found):
        pid = c.person.id
        offer = offers.get(pid)
        if pid in exclude or offer is None or offer.capacity_days is None or offer.days_left <= 0:
            continue
        if conflict(c.person.school_id, need.school_id, rule, trust_of):
            continue
        preferred = pid == need.preferred_person_id
        enough = offer.days_left >= need.days_wanted
        key = (
            not preferred,
            not enough,
            tier.get(c.nearness, 3),
            c.distance_km if c.distance_km is not None else float("inf"),
            offer.recent,
            -offer.days_left,
            position,
        )
        keyed.append((key, c, offer, preferred, enough))
    keyed.sort(key=lambda k: k[0])
    return [
        Suggestion(
            c.person.id,
            c.person.full_name,
            c.person.school_id,
            offer.days_left,
            enough,
            _reasons(c, need, offer, rule, preferred),
        )
        for _key, c, offer, preferred, enough in keyed[: max(0, limit)]
    ]


def suggest(
    index: DirectoryIndex,
    need: Need,
    offers: Mapping[int, Offer],
    trust_of: Mapping[int, str | None],
    rule: str = "trust",
    limit: int = 5,
    exclude: frozenset[int] = frozenset(),
) -> list[Suggestion]:
    return rank(candidates(index, need), need, offers, trust_of, rule, limit, exclude)
