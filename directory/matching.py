"""Buddy matching for new headteachers (pure: plain records in, plain records out).

Scoring
-------
`score(newhead, candidate, rules)` gives a `Scored`: the total, the parts that make it (each part has its
points and the plain-words reason for them) and the reasons of the positive parts, in order. Reasons are
built from the very same parts as the points, so they cannot disagree: a part with points has a reason,
a reason comes only from a part with points.

Hard filters (a candidate who fails one is not a possible buddy at all): an experienced head (years in
headship at least `rules.min_years`), available (not opted out or paused), with a place left (open
matches below the places offered), not at the new head's school, not the new head themself, and not a
pairing declined before.

All scoring is vectorised with numpy (`_Pool` holds candidates as arrays, `_HeadArrays` the new heads),
and the one-pair `score` goes through the same code, so the batch and the single scores are identical.

Batch assignment
----------------
`assign(newheads, candidates, rules)` pairs many new heads at once, respecting each buddy's remaining
places and maximising first the number of new heads given a buddy and then the total score
(`rules.coverage_first`; set it False to maximise the total score alone). It is an assignment problem,
solved exactly with `scipy.optimize.linear_sum_assignment` on a rectangular cost matrix whose columns
are buddy *slots* (a buddy with two places free is two columns).

To stay tractable at national scale (tens of thousands of candidates, hundreds of new heads) each new
head is first pruned to its `rules.top_k` best candidates; the bipartite graph those edges make is split
into connected components and each component is solved on its own (with every allowed pair inside it,
not only the top-K edges).

Pruning is exact whenever top_k >= the number of new heads: take an optimal assignment in which head h
has a buddy c outside h's top-K list. The other heads use at most n-1 <= K-1 distinct buddies, so one of
h's top-K candidates c' is used by nobody else and has a free place (every candidate kept has one), and
score(h, c') >= score(h, c). Moving h to c' keeps the number of pairs and does not lower the total;
repeating this puts every head inside its list, so an optimum of the pruned problem is an optimum of the
full one. (The same argument covers a head left without a buddy while an allowed candidate exists.)
With top_k below the number of heads the plan can in principle be worse; tests/test_matching.py measures
it against the unpruned solution, and `assign(..., top_k=None)` turns pruning off.

`assign_greedy` is the baseline: repeatedly take the best-scoring remaining allowed pair.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from core.i18n import N_, _, ngettext

# --------------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Candidate:
    """A possible buddy: an experienced head, as the matcher sees them."""

    person_id: int
    name: str
    school_id: int | None
    phase: str | None
    school_type: str | None
    pupils: int | None
    locality: str | None
    local_authority: str | None
    easting: float | None
    northing: float | None
    years_headship: float | None
    strengths: tuple[str, ...] = ()
    capacity: int = 0  # buddy places offered
    open_matches: int = 0  # pairings requested or accepted and not ended
    # Person ids of new heads this candidate has declined before (a declined pairing is never repeated).
    declined_with: frozenset[int] = frozenset()
    available: bool = True  # False when opted out or paused
    trust: str | None = None
    designations: tuple[str, ...] = ()

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.open_matches)


@dataclass(frozen=True)
class NewHead:
    """A new head's appointment, as the matcher sees it."""

    appointment_id: int
    person_id: int
    school_id: int | None
    phase: str | None
    school_type: str | None
    pupils: int | None
    locality: str | None
    local_authority: str | None
    easting: float | None
    northing: float | None
    needs: tuple[str, ...] = ()
    new_to_phase: bool = False
    new_to_area: bool = False
    new_to_trust: bool = False
    new_to_headship: bool = True
    name: str = ""
    trust: str | None = None
    # Buddies already tried for this appointment (requested, declined or ended): not suggested again.
    excluded: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Rules:
    """Weights and limits. Points are added up; every weight is the most a part can give."""

    min_years: float = 3.0
    phase: float = 30.0  # same phase
    related_phase: float = 10.0  # e.g. all-through for a secondary head
    school_type: float = 8.0  # academy / maintained / independent / special like theirs
    size: float = 8.0  # similar number of pupils (full points when equal, none at twice or half)
    locality: float = 20.0  # same town or area
    local_authority: float = 10.0  # same local authority (when not the same area)
    distance: float = 15.0  # nearness from grid references: full at 0 km, none at max_km
    max_km: float = 30.0
    need: float = 12.0  # for each need asked for that the candidate has as a strength
    max_needs: int = 3
    experience: float = 6.0  # full at 15 years or more
    capacity: float = 4.0  # share of places still free
    trust: float = 6.0  # same trust
    leader: float = 4.0  # a National or Local Leader of Education
    # A head new to the phase values a same-phase buddy more; one new to the area a local one.
    new_to_phase_factor: float = 1.5
    new_to_area_factor: float = 1.5
    top_k: int | None = 50
    coverage_first: bool = True


@dataclass(frozen=True)
class Part:
    key: str
    points: float
    reason: str  # plain words, translated; "" when points == 0


@dataclass(frozen=True)
class Scored:
    person_id: int
    name: str
    total: float
    parts: tuple[Part, ...]
    reasons: tuple[str, ...]
    eligible: bool = True
    blocked: tuple[str, ...] = ()  # why the candidate cannot be a buddy for this head (plain words)

    @property
    def reason_text(self) -> str:
        return "; ".join(self.reasons)


@dataclass(frozen=True)
class Pair:
    appointment_id: int
    head_person_id: int
    buddy_person_id: int
    score: float


@dataclass
class Assignment:
    pairs: list[Pair]
    unassigned: list[int]  # appointment ids left without a buddy
    method: str
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return float(sum(p.score for p in self.pairs))

    def load(self) -> dict[int, int]:
        """Buddy person id -> number of new heads given to them."""
        counts: dict[int, int] = defaultdict(int)
        for pair in self.pairs:
            counts[pair.buddy_person_id] += 1
        return dict(counts)


# --------------------------------------------------------------------------------------------- labels

PHASE_LABELS = {
    "nursery": N_("nursery"),
    "primary": N_("primary"),
    "middle": N_("middle"),
    "secondary": N_("secondary"),
    "all-through": N_("all-through"),
    "special": N_("special"),
    "pru": N_("alternative provision"),
    "16-plus": N_("16 plus"),
}
RELATED_PHASES = {
    frozenset({"all-through", "primary"}),
    frozenset({"all-through", "secondary"}),
    frozenset({"middle", "primary"}),
    frozenset({"middle", "secondary"}),
    frozenset({"nursery", "primary"}),
    frozenset({"secondary", "16-plus"}),
    frozenset({"special", "pru"}),
}
TYPE_REASONS = {
    "academy": N_("an academy too"),
    "maintained": N_("also maintained by the local authority"),
    "independent": N_("also independent"),
    "special": N_("also a special school"),
}
PART_ORDER = (
    "phase",
    "related_phase",
    "school_type",
    "size",
    "locality",
    "local_authority",
    "distance",
    "trust",
    "needs",
    "experience",
    "leader",
    "capacity",
)


def type_group(school_type: str | None, phase: str | None = None) -> str | None:
    """The broad kind of school: academy, maintained, independent or special."""
    text = (school_type or "").lower()
    if "special" in text or phase in ("special", "pru"):
        return "special"
    if "academy" in text or "free school" in text or "studio" in text or "technical college" in text:
        return "academy"
    if "independent" in text:
        return "independent"
    if any(word in text for word in ("maintained", "community", "voluntary", "foundation", "nursery school")):
        return "maintained"
    return None


def need_label(name: str) -> str:
    """A specialism as it reads inside a sentence: "SEND", "pupil premium", "English"."""
    try:
        from directory.specialisms import label
    except ImportError:  # pragma: no cover - the catalogue is part of the package
        return name
    text = label(_norm(name)) if _norm(name) else name
    if _norm(name) not in ("english",) and text[:1].isupper() and text[1:2].islower():
        text = text[:1].lower() + text[1:]
    return text


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def join_words(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c' (translated conjunction)."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return _("{items} and {last}").format(items=", ".join(items[:-1]), last=items[-1])


# --------------------------------------------------------------------------------------------- arrays


class _Codes:
    """Strings to small integers, shared by candidates and heads (-1 = unknown)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def code(self, value: str | None) -> int:
        key = _norm(value)
        if not key:
            return -1
        return self.index.setdefault(key, len(self.index))

    def codes(self, values: Iterable[str | None]) -> np.ndarray:
        return np.fromiter((self.code(v) for v in values), dtype=np.int32)


def _floats(values: Iterable[float | int | None]) -> np.ndarray:
    return np.fromiter((np.nan if v is None else float(v) for v in values), dtype=np.float64)


class _Pool:
    """Candidates as column arrays; heads are encoded against the same codes."""

    def __init__(self, candidates: Sequence[Candidate], rules: Rules) -> None:
        self.rules = rules
        self.candidates = list(candidates)
        cs = self.candidates
        self.phases = _Codes()
        self.places = _Codes()  # localities and local authorities share nothing, but one table is fine
        self.types = _Codes()
        self.trusts = _Codes()
        self.skills = _Codes()
        self.n = len(cs)
        self.person = np.fromiter((c.person_id for c in cs), dtype=np.int64, count=self.n)
        self.school = np.fromiter(
            (-1 if c.school_id is None else c.school_id for c in cs), dtype=np.int64, count=self.n
        )
        self.phase = self.phases.codes(c.phase for c in cs)
        self.type = self.types.codes(type_group(c.school_type, c.phase) for c in cs)
        self.pupils = _floats(c.pupils for c in cs)
        self.locality = self.places.codes(c.locality for c in cs)
        self.la = self.places.codes(("la:" + c.local_authority) if c.local_authority else None for c in cs)
        self.east = _floats(c.easting for c in cs)
        self.north = _floats(c.northing for c in cs)
        self.years = _floats(c.years_headship for c in cs)
        self.trust = self.trusts.codes(c.trust for c in cs)
        self.free = np.fromiter((c.free for c in cs), dtype=np.int64, count=self.n)
        self.capacity = np.fromiter((c.capacity for c in cs), dtype=np.int64, count=self.n)
        self.leader = np.fromiter(
            (any(d.upper() in ("NLE", "LLE") for d in c.designations) for c in cs), dtype=bool, count=self.n
        )
        for c in cs:
            for s in c.strengths:
                self.skills.code(s)
        self.strength_matrix = np.zeros((self.n, max(1, len(self.skills.index))), dtype=np.float32)
        for i, c in enumerate(cs):
            for s in c.strengths:
                self.strength_matrix[i, self.skills.code(s)] = 1.0
        available = np.fromiter((c.available for c in cs), dtype=bool, count=self.n)
        with np.errstate(invalid="ignore"):
            experienced = self.years >= rules.min_years
        self.ok = available & experienced & (self.free > 0)
        # Declines: new head person id -> candidate indexes who declined them.
        self.declined: dict[int, list[int]] = defaultdict(list)
        for i, c in enumerate(cs):
            for pid in c.declined_with:
                self.declined[pid].append(i)
        self.by_person: dict[int, list[int]] = defaultdict(list)
        for i, c in enumerate(cs):
            self.by_person[c.person_id].append(i)

    def heads(self, heads: Sequence[NewHead]) -> _HeadArrays:
        return _HeadArrays(self, heads)

    def parts(
        self, h: _HeadArrays, rows: np.ndarray, cols: np.ndarray | slice
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Points per part for heads `rows` x candidates `cols` (arrays of shape len(rows) x len(cols)),
        and the mask of allowed pairs."""
        r = self.rules
        col_idx = np.arange(self.n)[cols]
        shape = (len(rows), len(col_idx))

        def hc(head_values: np.ndarray, cand_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return head_values[rows][:, None], cand_values[col_idx][None, :]

        parts: dict[str, np.ndarray] = {}
        hp, cp = hc(h.phase, self.phase)
        same_phase = (hp == cp) & (hp >= 0)
        phase_factor = np.where(h.new_to_phase[rows], r.new_to_phase_factor, 1.0)[:, None]
        parts["phase"] = np.where(same_phase, r.phase * phase_factor, 0.0)
        related = np.zeros(shape, dtype=bool)
        for a, b in (tuple(pair) for pair in RELATED_PHASES):
            ca, cb = self.phases.index.get(a), self.phases.index.get(b)
            if ca is None or cb is None:
                continue
            related |= ((hp == ca) & (cp == cb)) | ((hp == cb) & (cp == ca))
        parts["related_phase"] = np.where(related, r.related_phase, 0.0)
        ht, ct = hc(h.type, self.type)
        parts["school_type"] = np.where((ht == ct) & (ht >= 0), r.school_type, 0.0)
        hpup, cpup = hc(h.pupils, self.pupils)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.abs(np.log(np.maximum(hpup, 1.0) / np.maximum(cpup, 1.0)))
            similarity = np.clip(1.0 - ratio / math.log(2.0), 0.0, 1.0)
        parts["size"] = np.where(np.isnan(similarity), 0.0, r.size * np.nan_to_num(similarity))
        area_factor = np.where(h.new_to_area[rows], r.new_to_area_factor, 1.0)[:, None]
        hl, cl = hc(h.locality, self.locality)
        same_locality = (hl == cl) & (hl >= 0)
        parts["locality"] = np.where(same_locality, r.locality * area_factor, 0.0)
        hla, cla = hc(h.la, self.la)
        parts["local_authority"] = np.where(
            ~same_locality & (hla == cla) & (hla >= 0), r.local_authority * area_factor, 0.0
        )
        he, ce = hc(h.east, self.east)
        hn, cn = hc(h.north, self.north)
        km = np.sqrt((he - ce) ** 2 + (hn - cn) ** 2) / 1000.0
        near = np.clip(1.0 - km / r.max_km, 0.0, 1.0)
        parts["distance"] = np.where(np.isnan(near), 0.0, r.distance * area_factor * np.nan_to_num(near))
        htr, ctr = hc(h.trust, self.trust)
        parts["trust"] = np.where((htr == ctr) & (htr >= 0), r.trust, 0.0)
        met = h.need_matrix[rows] @ self.strength_matrix[col_idx].T
        parts["needs"] = r.need * np.minimum(met, r.max_needs).astype(np.float64)
        years = np.nan_to_num(self.years[col_idx])
        parts["experience"] = np.broadcast_to(r.experience * np.clip(years / 15.0, 0.0, 1.0), shape)
        parts["leader"] = np.broadcast_to(np.where(self.leader[col_idx], r.leader, 0.0), shape)
        share = self.free[col_idx] / np.maximum(self.capacity[col_idx], 1)
        parts["capacity"] = np.broadcast_to(r.capacity * share, shape)

        hs, cs = hc(h.school, self.school)
        hpers, cpers = hc(h.person, self.person)
        ok = np.broadcast_to(self.ok[col_idx][None, :], shape) & ~((hs == cs) & (hs >= 0)) & (hpers != cpers)
        ok = ok.copy()
        for out_row, head_row in enumerate(rows):
            blocked = h.blocked_candidates(int(head_row))
            if not blocked:
                continue
            if len(col_idx) == self.n:
                ok[out_row, blocked] = False
                continue
            at = np.flatnonzero(np.isin(col_idx, blocked))
            ok[out_row, at] = False
        return parts, ok

    def totals(self, h: _HeadArrays, rows: np.ndarray, cols: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        parts, ok = self.parts(h, rows, cols)
        total = np.zeros(ok.shape)
        for key in PART_ORDER:
            total = total + parts[key]
        return total, ok

    def totals_chunked(
        self, h: _HeadArrays, rows: np.ndarray, cols: np.ndarray, chunk: int = 32
    ) -> tuple[np.ndarray, np.ndarray]:
        """`totals` a few rows at a time, so the parts never take more memory than one chunk's."""
        total = np.empty((len(rows), len(cols)))
        ok = np.empty((len(rows), len(cols)), dtype=bool)
        for start in range(0, len(rows), chunk):
            part_total, part_ok = self.totals(h, rows[start : start + chunk], cols)
            total[start : start + chunk] = part_total
            ok[start : start + chunk] = part_ok
        return total, ok


class _HeadArrays:
    def __init__(self, pool: _Pool, heads: Sequence[NewHead]) -> None:
        self.pool = pool
        self.heads = list(heads)
        hs = self.heads
        n = len(hs)
        self.person = np.fromiter((x.person_id for x in hs), dtype=np.int64, count=n)
        self.school = np.fromiter((-1 if x.school_id is None else x.school_id for x in hs), dtype=np.int64, count=n)
        # Heads are coded with the candidates' tables (a value no candidate has gets a code of its own).
        self.phase = pool.phases.codes(x.phase for x in hs)
        self.type = pool.types.codes(type_group(x.school_type, x.phase) for x in hs)
        self.pupils = _floats(x.pupils for x in hs)
        self.locality = pool.places.codes(x.locality for x in hs)
        self.la = pool.places.codes(("la:" + x.local_authority) if x.local_authority else None for x in hs)
        self.east = _floats(x.easting for x in hs)
        self.north = _floats(x.northing for x in hs)
        self.trust = pool.trusts.codes(x.trust for x in hs)
        self.new_to_phase = np.fromiter((x.new_to_phase for x in hs), dtype=bool, count=n)
        self.new_to_area = np.fromiter((x.new_to_area for x in hs), dtype=bool, count=n)
        self.need_matrix = np.zeros((n, pool.strength_matrix.shape[1]), dtype=np.float32)
        for i, x in enumerate(hs):
            for need in dict.fromkeys(_norm(s) for s in x.needs):
                j = pool.skills.index.get(need)
                if j is not None:
                    self.need_matrix[i, j] = 1.0

    def blocked_candidates(self, row: int) -> list[int]:
        head = self.heads[row]
        blocked = list(self.pool.declined.get(head.person_id, ()))
        for pid in head.excluded:
            blocked.extend(self.pool.by_person.get(pid, ()))
        return blocked


# --------------------------------------------------------------------------------------------- reasons


def _reason(key: str, points: float, head: NewHead, cand: Candidate, rules: Rules) -> str:
    if points <= 0:
        return ""
    if key == "phase":
        # Reasons are read by the coordinator and the buddy as well as the new head: no "you" in them.
        return _("{phase}, the same phase").format(phase=_(PHASE_LABELS.get(cand.phase or "", cand.phase or "")))
    if key == "related_phase":
        return _("{phase}, a neighbouring phase").format(phase=_(PHASE_LABELS.get(cand.phase or "", cand.phase or "")))
    if key == "school_type":
        return _(TYPE_REASONS[type_group(cand.school_type, cand.phase) or ""])
    if key == "size":
        return _("a similar size ({pupils} pupils)").format(pupils=cand.pupils)
    if key == "locality":
        return _("same area")
    if key == "local_authority":
        return _("same local authority")
    if key == "distance":
        km = (
            math.hypot(
                float(head.easting or 0) - float(cand.easting or 0),
                float(head.northing or 0) - float(cand.northing or 0),
            )
            / 1000.0
        )
        if km < 1:
            return _("less than 1 km away")
        return _("{km} km away").format(km=round(km))
    if key == "trust":
        return _("same trust")
    if key == "needs":
        strengths = {_norm(s) for s in cand.strengths}
        met = [n for n in dict.fromkeys(_norm(n) for n in head.needs) if n in strengths]  # in the order asked
        return _("{needs}, as the new head asked").format(needs=join_words([need_label(m) for m in met]))
    if key == "experience":
        years = int(cand.years_headship or 0)
        return ngettext("{n} year a head", "{n} years a head", years).format(n=years)
    if key == "leader":
        return _("a Leader of Education")
    if key == "capacity":
        return ngettext("{free} of {capacity} place free", "{free} of {capacity} places free", cand.capacity).format(
            free=cand.free, capacity=cand.capacity
        )
    raise KeyError(key)


def _blocked(head: NewHead, cand: Candidate, rules: Rules) -> tuple[str, ...]:
    why = []
    if cand.person_id == head.person_id:
        why.append(_("is the new head"))
    if cand.years_headship is None or cand.years_headship < rules.min_years:
        why.append(_("fewer than {n} years a head").format(n=f"{rules.min_years:g}"))
    if not cand.available:
        why.append(_("not taking buddies at present"))
    if cand.free <= 0:
        why.append(_("no buddy place free"))
    if head.school_id is not None and cand.school_id == head.school_id:
        why.append(_("same school"))
    if head.person_id in cand.declined_with or cand.person_id in head.excluded:
        why.append(_("already asked"))
    return tuple(why)


def _scored(
    pool: _Pool, harr: _HeadArrays, row: int, col: int, parts: dict[str, np.ndarray], i: int, j: int, ok: bool
) -> Scored:
    head, cand = harr.heads[row], pool.candidates[col]
    built = []
    for key in PART_ORDER:
        points = float(parts[key][i, j])
        built.append(Part(key, points, _reason(key, points, head, cand, pool.rules)))
    total = float(sum(p.points for p in built))
    return Scored(
        person_id=cand.person_id,
        name=cand.name,
        total=total,
        parts=tuple(built),
        reasons=tuple(p.reason for p in built if p.points > 0),
        eligible=ok,
        blocked=() if ok else _blocked(head, cand, pool.rules),
    )


# --------------------------------------------------------------------------------------------- API


def score(newhead: NewHead, candidate: Candidate, rules: Rules = Rules()) -> Scored:
    """The score of one pairing, with its parts and plain-words reasons."""
    pool = _Pool([candidate], rules)
    harr = pool.heads([newhead])
    parts, ok = pool.parts(harr, np.array([0]), slice(None))
    return _scored(pool, harr, 0, 0, parts, 0, 0, bool(ok[0, 0]))


def score_matrix(
    newheads: Sequence[NewHead], candidates: Sequence[Candidate], rules: Rules = Rules()
) -> tuple[np.ndarray, np.ndarray]:
    """Totals (heads x candidates) and the mask of allowed pairs."""
    pool = _Pool(candidates, rules)
    harr = pool.heads(newheads)
    return pool.totals(harr, np.arange(len(harr.heads)), slice(None))


def suggest(newhead: NewHead, candidates: Sequence[Candidate], k: int = 5, rules: Rules = Rules()) -> list[Scored]:
    """The `k` best allowed buddies for one new head, best first (ties by name, then id)."""
    pool = _Pool(candidates, rules)
    if pool.n == 0 or k <= 0:
        return []
    harr = pool.heads([newhead])
    parts, ok = pool.parts(harr, np.array([0]), slice(None))
    total = cast(np.ndarray, sum(parts[key] for key in PART_ORDER))[0]
    allowed = np.flatnonzero(ok[0])
    order = sorted(
        allowed.tolist(),
        key=lambda j: (-round(float(total[j]), 9), pool.candidates[j].name, pool.candidates[j].person_id),
    )
    return [_scored(pool, harr, 0, j, parts, 0, j, True) for j in order[:k]]


def _top_k(pool: _Pool, harr: _HeadArrays, k: int | None, chunk: int = 32) -> list[np.ndarray]:
    """For each head, the indexes of its best `k` allowed candidates (all allowed ones when k is None)."""
    out: list[np.ndarray] = []
    n_heads = len(harr.heads)
    cols = np.flatnonzero(pool.ok)  # only candidates who pass the per-candidate filters
    for start in range(0, n_heads, chunk):
        rows = np.arange(start, min(n_heads, start + chunk))
        total, ok = pool.totals(harr, rows, cols)
        total = np.where(ok, total, -np.inf)
        for i in range(len(rows)):
            allowed = np.flatnonzero(ok[i])
            if k is None or len(allowed) <= k:
                out.append(cols[allowed])
                continue
            best = np.argpartition(-total[i], k - 1)[:k]
            out.append(cols[best])
    return out


def assign(
    newheads: Sequence[NewHead],
    candidates: Sequence[Candidate],
    rules: Rules = Rules(),
    *,
    top_k: int | None | str = "rules",
) -> Assignment:
    """The best plan for all `newheads` at once (see the module notes for the objective)."""
    k = rules.top_k if isinstance(top_k, str) else top_k  # "rules": the rules' own top_k
    heads = list(newheads)
    pool = _Pool(candidates, rules)
    harr = pool.heads(heads)
    n_heads = len(heads)
    stats: dict[str, float] = {"heads": n_heads, "candidates": pool.n, "top_k": -1 if k is None else k}
    if n_heads == 0 or pool.n == 0:
        return Assignment([], [h.appointment_id for h in heads], "optimal", stats)
    lists = _top_k(pool, harr, k)
    # Bipartite graph of the kept edges: heads are nodes 0..n-1, candidate i is node n + i.
    rows = np.concatenate([np.full(len(lst), i) for i, lst in enumerate(lists)] + [np.zeros(0, dtype=np.int64)])
    cols = np.concatenate(list(lists) + [np.zeros(0, dtype=np.int64)]).astype(np.int64)
    size = n_heads + pool.n
    # scipy is imported where it is used: scipy.optimize alone is ~45 MB resident, which a bot that never
    # runs a batch match need not carry (issue 15: half the memory).
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(rows)), (rows, n_heads + cols)), shape=(size, size))
    n_comp, labels = connected_components(graph, directed=False)
    head_comp = labels[:n_heads]
    used_cands = np.unique(cols)
    listed = np.bincount(cols, minlength=pool.n)
    comp_cands: dict[int, list[int]] = defaultdict(list)
    for c in used_cands.tolist():
        comp_cands[int(labels[n_heads + c])].append(c)
    comp_heads: dict[int, list[int]] = defaultdict(list)
    for i, comp in enumerate(head_comp.tolist()):
        comp_heads[comp].append(i)

    pairs: list[Pair] = []
    matched: set[int] = set()
    largest = 0
    cells = 0
    for comp, hrows in comp_heads.items():
        cands = comp_cands.get(comp, [])
        if not cands:
            continue
        hrow_arr = np.array(hrows)
        cand_arr = np.array(cands)
        total, ok = pool.totals_chunked(harr, hrow_arr, cand_arr)
        # A buddy needs no more slots than the heads whose lists name them (see the pruning proof).
        slots = np.minimum(pool.free[cand_arr], listed[cand_arr])
        slot_cand = np.repeat(np.arange(len(cands)), slots)
        # A cost above any possible gain makes "one more pair" always worth more than any score.
        big = float(np.abs(total[ok]).sum() + 1.0) * 2.0 if ok.any() else 1.0
        np.negative(total, out=total)
        total[~ok] = big
        cost = total[:, slot_cand]  # the cost matrix: one column per buddy slot
        del total
        if not rules.coverage_first:
            dummy = np.full((len(hrows), len(hrows)), big)
            np.fill_diagonal(dummy, 0.0)
            cost = np.hstack([cost, dummy])
        largest = max(largest, cost.shape[0] * cost.shape[1])
        cells += cost.size
        from scipy.optimize import linear_sum_assignment

        r_idx, c_idx = linear_sum_assignment(cost)
        for r, c in zip(r_idx.tolist(), c_idx.tolist()):
            if c >= len(slot_cand):
                continue  # left without a buddy (dummy column)
            j = int(slot_cand[c])
            if not ok[r, j]:
                continue
            head = heads[hrows[r]]
            pairs.append(
                Pair(head.appointment_id, head.person_id, pool.candidates[cand_arr[j]].person_id, -float(cost[r, c]))
            )
            matched.add(hrows[r])
    stats.update(components=n_comp, largest_matrix_cells=largest, matrix_cells=cells, kept_candidates=len(used_cands))
    pairs.sort(key=lambda p: p.appointment_id)
    unassigned = [heads[i].appointment_id for i in range(n_heads) if i not in matched]
    return Assignment(pairs, unassigned, "optimal", stats)


def assign_greedy(newheads: Sequence[NewHead], candidates: Sequence[Candidate], rules: Rules = Rules()) -> Assignment:
    """Baseline: repeatedly take the best-scoring allowed pair whose head is free and buddy has a place.

    Each head keeps a list of its best candidates; when every one of them is full the head's whole row is
    scored again, so the result is exactly the global greedy on all pairs.
    """
    heads = list(newheads)
    pool = _Pool(candidates, rules)
    harr = pool.heads(heads)
    n_heads = len(heads)
    stats: dict[str, float] = {"heads": n_heads, "candidates": pool.n}
    if n_heads == 0 or pool.n == 0:
        return Assignment([], [h.appointment_id for h in heads], "greedy", stats)
    k = max(rules.top_k or 50, 8)
    left = pool.free.copy()
    cols_ok = np.flatnonzero(pool.ok)

    def ranked(row: int, full: bool) -> list[tuple[float, int]]:
        cols = cols_ok[left[cols_ok] > 0] if full else cols_ok
        total, ok = pool.totals(harr, np.array([row]), cols)
        allowed = np.flatnonzero(ok[0])
        if not full and len(allowed) > k:
            allowed = allowed[np.argpartition(-total[0, allowed], k - 1)[:k]]
        items = [(-float(total[0, j]), int(cols[j])) for j in allowed]
        items.sort(key=lambda x: (x[0], pool.candidates[x[1]].person_id))
        return items

    queues: list[list[tuple[float, int]]] = []
    chunked = _top_k(pool, harr, k)  # vectorised first lists
    heap: list[tuple[float, int, int]] = []
    for row in range(n_heads):
        cols = chunked[row]
        if len(cols) == 0:
            queues.append([])
            continue
        total, ok = pool.totals(harr, np.array([row]), cols)
        items = sorted(
            ((-float(total[0, j]), int(cols[j])) for j in range(len(cols)) if ok[0, j]),
            key=lambda x: (x[0], pool.candidates[x[1]].person_id),
        )
        queues.append(items)
    pointer = [0] * n_heads
    refreshed = [False] * n_heads
    for row in range(n_heads):
        if queues[row]:
            neg, c = queues[row][0]
            heapq.heappush(heap, (neg, pool.candidates[c].person_id, row))
    pairs: list[Pair] = []
    done: set[int] = set()
    while heap:
        neg, _pid, row = heapq.heappop(heap)
        c = queues[row][pointer[row]][1]
        if left[c] > 0:
            left[c] -= 1
            head = heads[row]
            pairs.append(Pair(head.appointment_id, head.person_id, pool.candidates[c].person_id, -neg))
            done.add(row)
            continue
        # Buddy full: move to this head's next candidate with a place.
        pointer[row] += 1
        while pointer[row] < len(queues[row]) and left[queues[row][pointer[row]][1]] <= 0:
            pointer[row] += 1
        if pointer[row] >= len(queues[row]) and not refreshed[row]:
            refreshed[row] = True
            queues[row] = ranked(row, full=True)
            pointer[row] = 0
        if pointer[row] < len(queues[row]):
            neg2, c2 = queues[row][pointer[row]]
            heapq.heappush(heap, (neg2, pool.candidates[c2].person_id, row))
    pairs.sort(key=lambda p: p.appointment_id)
    unassigned = [heads[i].appointment_id for i in range(n_heads) if i not in done]
    return Assignment(pairs, unassigned, "greedy", stats)


def explain(
    newhead: NewHead, candidates: Sequence[Candidate], buddy_person_id: int, rules: Rules = Rules()
) -> Scored | None:
    """The scored pairing of `newhead` with one particular candidate (for showing a plan's reasons)."""
    for cand in candidates:
        if cand.person_id == buddy_person_id:
            return score(newhead, cand, rules)
    return None
