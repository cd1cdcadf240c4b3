"""Fuzzy lookup over the directory: people, schools and specialisms.

Pure: plain dataclasses in, `Match` out; no database, no Telegram.

How a query is matched (everything per entry is vectorised; nothing loops over entries in Python):
1. The query is cut into words twice: as a person's name (folded, titles dropped) and as a school
   name (school abbreviations collapsed, see `directory.normalise`).
2. Each query word is compared with the *vocabulary* (every distinct word of every name, a few
   thousand to tens of thousands) at once: exact, prefix (a contiguous slice of the sorted vocabulary)
   and typo (`rapidfuzz.process.cdist` with optimal-string-alignment similarity, which counts a swap of
   two letters as one slip). This gives, per query word, a similarity
   for every vocabulary word: 1.0 exact, 0.9-0.98 prefix (a single letter is an initial), 0.59-0.88 typo.
3. Candidate entries are the union of the postings of the matched words (very common words such as
   "primary" or an initial do not generate candidates while a rarer word does).
4. Candidates are scored with numpy gathers over a padded (entries x words) matrix of word ids: for
   each query word the best similarity among the entry's words, averaged over query words (school
   type words weigh less), then scaled by how much of the entry's own name the query covered.
5. Ranking: entries where every query word matched exactly come first (`exact`), then those matched
   exactly or by prefix, then typo matches (`near_miss`: the bot says "did you mean"), then entries
   that matched only some of the words. Within a tier, by score.

A URN typed as digits finds its school; initials ("JH") find a person only when exactly one person
has them; a query naming a specialism ("maths", "SEN") yields a specialism match.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler

from directory import specialisms as spec_catalogue
from directory.normalise import GENERIC, TITLES, fold, person_tokens, school_tokens, strip_titles, title_key

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8
# Candidate entries come from the query's rarest words, within this many postings (see _Space.candidates).
POSTINGS_BUDGET = 1500
ALWAYS_POSTINGS = 100
CANDIDATE_CAP = 3000
MIN_PARTIAL_BASE = 0.55 # entries missing a query word altogether need this much of the query matched

EXACT_SIM = 1.0
PREFIX_FLOOR = 0.895  # similarities at or above this (below 1) are prefix matches
TYPO_SCALE = 0.89  # typo similarity = ratio / 100 * TYPO_SCALE, so always below PREFIX_FLOOR
INITIAL_SIM = 0.9
CONTEXT_SCALE = 0.92
# Telling equally close typos apart (each weight times a 0-1 measure, kept below TYPO_SCALE): a shared start
# (Jaro-Winkler), how plausible the slip is (slip_plausibility) and how common the name is.
TIE_JARO = 0.01
TIE_SLIP = 0.02
TIE_COMMON = 0.01
TIE_BREAK_TOTAL = TIE_JARO + TIE_SLIP + TIE_COMMON  # a query word matching a person's school or town, not their name


@dataclass(frozen=True, slots=True)
class PersonEntry:
    id: int
    title: str | None
    first_name: str
    last_name: str
    job_title: str | None = None
    school_id: int | None = None
    school_name: str | None = None
    locality: str | None = None
    phase: str | None = None
    designations: tuple[str, ...] = ()
    specialisms: tuple[str, ...] = ()
    is_head: bool = False

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)


@dataclass(frozen=True, slots=True)
class SchoolEntry:
    id: int
    urn: str | None
    name: str
    locality: str | None = None
    local_authority: str | None = None
    phase: str | None = None
    postcode: str | None = None
    easting: float | None = None
    northing: float | None = None


@dataclass(frozen=True, slots=True)
class SpecialismEntry:
    id: int
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    kind: str  # "person" | "school" | "specialism"
    id: int
    label: str
    score: float  # 0-100
    exact: bool
    near_miss: bool = False  # only a typo-tolerant match: say "did you mean"
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Area:
    """Where a member is or asks about: any of a locality, a local authority and a grid point."""

    locality: str | None = None
    local_authority: str | None = None
    easting: float | None = None
    northing: float | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class SleCandidate:
    person: PersonEntry
    school: SchoolEntry | None
    nearness: str  # "locality" | "authority" | "distance" | "other"
    distance_km: float | None


class _Space:
    """One kind of entry (people or schools) over one vocabulary."""

    def __init__(self, name_tokens: Sequence[Sequence[tuple[str, float]]],
                 context_tokens: Sequence[Sequence[str]] | None = None):
        vocab_set: set[str] = set()
        for toks in name_tokens:
            vocab_set.update(t for t, _w in toks)
        for ctx_toks in context_tokens or ():
            vocab_set.update(ctx_toks)
        self.vocab: list[str] = sorted(vocab_set)
        self.index: dict[str, int] = {t: i for i, t in enumerate(self.vocab)}
        v = len(self.vocab)
        self.pad = v  # sentinel id whose similarity is always 0
        self.lengths = np.array([len(t) for t in self.vocab] + [1], dtype=np.float32)
        n = len(name_tokens)
        width = max((len(t) for t in name_tokens), default=1) or 1
        self.tokmat = np.full((n, width), v, dtype=np.int32)
        self.wmat = np.zeros((n, width), dtype=np.float32)
        postings: list[list[int]] = [[] for _ in range(v)]
        for row, toks in enumerate(name_tokens):
            seen: set[int] = set()
            for col, (tok, weight) in enumerate(toks):
                tid = self.index[tok]
                self.tokmat[row, col] = tid
                self.wmat[row, col] = weight
                if tid not in seen:
                    postings[tid].append(row)
                    seen.add(tid)
        self.wsum = np.maximum(self.wmat.sum(axis=1), 1e-6)
        self.ctxmat: np.ndarray | None = None
        if context_tokens is not None:
            cwidth = max((len(t) for t in context_tokens), default=1) or 1
            self.ctxmat = np.full((n, cwidth), v, dtype=np.int32)
            for row, ctx_toks in enumerate(context_tokens):
                for col, ctx_tok in enumerate(ctx_toks):
                    self.ctxmat[row, col] = self.index[ctx_tok]
        self.postings = [np.array(p, dtype=np.int32) for p in postings]
        self.df = np.array([len(p) for p in postings] + [0], dtype=np.int64)
        self.commonness = (np.log1p(self.df[:-1]) / max(np.log1p(self.df.max()), 1.0)).astype(np.float32)
        # The vocabulary by length, so typo matching compares only words of a possible length.
        self.len_order = np.array(sorted(range(v), key=lambda i: (len(self.vocab[i]), self.vocab[i])), dtype=np.int32)
        self.vocab_by_len = [self.vocab[i] for i in self.len_order]
        self.len_sorted = [len(t) for t in self.vocab_by_len]
        self._typo_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def similarities(self, words: Sequence[str]) -> np.ndarray:
        """(len(words), V + 1) similarities of each query word to every vocabulary word."""
        sims = np.zeros((len(words), len(self.vocab) + 1), dtype=np.float32)
        for i, word in enumerate(words):
            ids, values = self._word_typos(word)
            for lo, hi, prefix in self._word_prefix(word):
                if len(ids) and len(word) >= 4:
                    # The word is also one slip from a whole name. A longer name it starts keeps its place
                    # only if it is the commoner: "thom" is Thomas typed in part, but "tatt" more likely
                    # Taitt mistyped than the start of Tatters. The rest compete as typos would.
                    rarer = self.commonness[lo:hi] <= self.commonness[ids].max()
                    prefix = np.where(rarer, TYPO_SCALE * (len(word) / self.lengths[lo:hi]), prefix)
                sims[i, lo:hi] = prefix
            if len(ids):
                sims[i, ids] = np.maximum(sims[i, ids], values)
            tid = self.index.get(word)
            if tid is not None:
                sims[i, tid] = EXACT_SIM
        return sims

    def _word_prefix(self, word: str) -> list[tuple[int, int, np.ndarray | float]]:
        """Vocabulary words starting with `word`: a contiguous slice of the sorted vocabulary."""
        lo = bisect.bisect_left(self.vocab, word)
        hi = bisect.bisect_left(self.vocab, word + "\uffff", lo)
        if hi <= lo:
            return []
        if len(word) == 1:
            return [(lo, hi, INITIAL_SIM)]
        # Closer in length first; among equal lengths, the commoner word ("dea": Dean before Deal).
        return [(lo, hi, np.minimum(PREFIX_FLOOR + 0.08 * (len(word) / self.lengths[lo:hi])
                                    + 0.004 * self.commonness[lo:hi], 0.98))]

    def _word_typos(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """(vocabulary ids, similarities) of words one or two slips from `word`; cached per word."""
        cached = self._typo_cache.get(word)
        if cached is not None:
            return cached
        result = (_EMPTY_IDS, _EMPTY_VALUES)
        n = len(word)
        if n >= 3 and self.vocab:
            cutoff = _typo_cutoff(word)
            # Only words whose length allows that similarity: |len difference| <= edits allowed.
            # (similarity = 1 - edits / longer length, and edits >= the difference in length).
            lo = bisect.bisect_left(self.len_sorted, math.floor(n * cutoff))
            hi = bisect.bisect_right(self.len_sorted, math.ceil(n / cutoff))
            if hi > lo:
                choices = self.vocab_by_len[lo:hi]
                scores = process.cdist([word], choices, scorer=OSA.normalized_similarity, score_cutoff=cutoff - 1e-4,
                                       dtype=np.float32, workers=1)[0]
                hits = np.flatnonzero(scores)
                if len(hits):
                    # Equal edit counts are told apart by Jaro-Winkler, which favours a shared start and
                    # a swap over a different letter ("tarvis": Travis before Jarvis).
                    jw = process.cdist([word], [choices[h] for h in hits], scorer=JaroWinkler.normalized_similarity,
                                       dtype=np.float32, workers=1)[0]
                    ids = self.len_order[lo:hi][hits]
                    # ... then by how people actually mistype (a swap, a dropped or doubled letter, the key
                    # next door) and by how common the word is: a slip more likely came from a common name.
                    slips = np.array([slip_plausibility(word, choices[h]) for h in hits], dtype=np.float32)
                    result = (ids, scores[hits] * (TYPO_SCALE - TIE_BREAK_TOTAL) + jw * TIE_JARO
                              + slips * TIE_SLIP + self.commonness[ids] * TIE_COMMON)
        if len(self._typo_cache) >= 4096:
            self._typo_cache.clear()
        self._typo_cache[word] = result
        return result

    def candidates(self, sims: np.ndarray, words: Sequence[str]) -> np.ndarray:
        """Entries sharing a matched word with the query, taken from the query's rarest words.

        Words are taken rarest first while their postings fit a budget (a word with very few postings
        always comes in); an initial only when nothing else matched. Scoring then looks at every query
        word for each candidate, so a common word still counts, it just does not pull in entries.
        """
        per_word: list[tuple[int, np.ndarray]] = []
        fallback: list[tuple[int, np.ndarray]] = []
        for i in range(sims.shape[0]):
            ids = np.flatnonzero(sims[i, :-1])
            total = int(self.df[ids].sum()) if len(ids) else 0
            if total == 0:
                continue
            (fallback if len(words[i]) == 1 else per_word).append((total, ids))
        per_word.sort(key=lambda p: p[0])
        chosen: list[np.ndarray] = []
        spent = 0
        for total, ids in per_word:
            if chosen and total > ALWAYS_POSTINGS and spent + total > POSTINGS_BUDGET:
                continue
            chosen.append(ids)
            spent += total
        if not chosen and fallback:
            chosen = [min(fallback, key=lambda p: p[0])[1]]
        parts = [self.postings[t] for ids in chosen for t in ids]
        if not parts:
            return np.zeros(0, dtype=np.int32)
        cand = parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))
        if len(cand) > CANDIDATE_CAP:
            # Only common words matched ("primary"): keep the entries with the shortest names, which are
            # the ones such a query covers best and so would rank first anyway.
            cand = np.sort(cand[np.argpartition(self.wsum[cand], CANDIDATE_CAP)[:CANDIDATE_CAP]])
        return cand

    def score(self, sims: np.ndarray, qweights: np.ndarray, cand: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(score 0-100, tier 0-3, name_hit, base) for each candidate."""
        toks = self.tokmat[cand]
        best = np.stack([sims[i][toks].max(axis=1) for i in range(sims.shape[0])])  # (m, C)
        name_hit = np.asarray((best > 0).any(axis=0))
        if self.ctxmat is not None:
            ctx = self.ctxmat[cand]
            ctx_best = np.stack([sims[i][ctx].max(axis=1) for i in range(sims.shape[0])]) * CONTEXT_SCALE
            best = np.maximum(best, np.minimum(ctx_best, 0.97))
        base = (best * qweights[:, None]).sum(axis=0) / qweights.sum()
        simmax = sims.max(axis=0)
        cover = (simmax[toks] * self.wmat[cand]).sum(axis=1) / self.wsum[cand]
        score = 100.0 * base * (0.75 + 0.25 * np.minimum(cover, 1.0))
        worst = best.min(axis=0)
        tier = np.where(worst >= EXACT_SIM, 0, np.where(worst >= PREFIX_FLOOR, 1, np.where(worst > 0, 2, 3)))
        return score, tier, name_hit, base


_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_POS = {ch: (r, c) for r, row in enumerate(_KEYBOARD_ROWS) for c, ch in enumerate(row)}


def _neighbouring_keys(a: str, b: str) -> bool:
    pa, pb = _KEY_POS.get(a), _KEY_POS.get(b)
    return pa is not None and pb is not None and abs(pa[0] - pb[0]) <= 1 and abs(pa[1] - pb[1]) <= 1


def slip_plausibility(typed: str, word: str) -> float:
    """How likely typing `word` produced `typed` by one slip: 1 for the commonest slips (two letters swapped,
    a letter dropped or doubled, the key next door hit instead), 0.75 for an extra letter from a key next
    door, 0.5 for a stray extra letter or a distant key, 0 when it takes more than one slip."""
    if len(typed) == len(word):
        diff = [i for i in range(len(word)) if typed[i] != word[i]]
        if len(diff) == 1:
            return 1.0 if _neighbouring_keys(typed[diff[0]], word[diff[0]]) else 0.5
        if len(diff) == 2 and diff[1] == diff[0] + 1 and typed[diff[0]] == word[diff[1]] \
                and typed[diff[1]] == word[diff[0]]:
            return 1.0
        return 0.0
    if len(typed) == len(word) - 1:  # a letter dropped
        return 1.0 if any(word[:i] + word[i + 1:] == typed for i in range(len(word))) else 0.0
    if len(typed) == len(word) + 1:  # a letter added: doubled, or the key next door, or stray
        for i in range(len(typed)):
            if typed[:i] + typed[i + 1:] == word:
                extra = typed[i]
                near = [typed[j] for j in (i - 1, i + 1) if 0 <= j < len(typed)]
                if extra in near:
                    return 1.0
                return 0.75 if any(_neighbouring_keys(extra, n) for n in near) else 0.5
    return 0.0


_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_VALUES = np.zeros(0, dtype=np.float32)


def _typo_cutoff(word: str) -> float:
    """Least similarity (1 - edits / longer length) a typo may have: one slip up to six letters, two beyond."""
    n = len(word)
    if n <= 3:
        return 0.66
    if n == 4:
        return 0.75
    if n == 5:
        return 0.8
    return 0.7


def _school_word_weight(word: str) -> float:
    return 0.35 if word in GENERIC else 1.0


class DirectoryIndex:
    """The in-memory search index over the whole directory. Build once; rebuild after changes."""

    def __init__(self, people: Iterable[PersonEntry] = (), schools: Iterable[SchoolEntry] = (),
                 specialisms: Iterable[SpecialismEntry] | None = None):
        self.people: list[PersonEntry] = list(people)
        self.schools: list[SchoolEntry] = list(schools)
        self.person_by_id: dict[int, PersonEntry] = {p.id: p for p in self.people}
        self.school_by_id: dict[int, SchoolEntry] = {s.id: s for s in self.schools}
        self.school_by_urn: dict[str, SchoolEntry] = {
            s.urn.strip().lstrip("0") or "0": s for s in self.schools if s.urn and s.urn.strip()}
        self._staff: dict[int, list[PersonEntry]] = defaultdict(list)
        for p in self.people:
            if p.school_id is not None:
                self._staff[p.school_id].append(p)

        # People: name words (surname weighs more than first names) + context words (school, town).
        name_tokens: list[list[tuple[str, float]]] = []
        context_tokens: list[list[str]] = []
        initials: dict[str, list[int]] = defaultdict(list)
        self._person_titles = np.zeros(len(self.people), dtype=np.int16)
        title_ids = {t: i + 1 for i, t in enumerate(sorted(TITLES))}
        self._title_ids = title_ids
        for row, p in enumerate(self.people):
            first = person_tokens(p.first_name)
            last = person_tokens(p.last_name)
            # First names weigh little in "how much of the name was given": a surname alone is a full answer.
            toks = [(t, 0.3) for t in first] + [(t, 1.0) for t in last]
            name_tokens.append(toks or [("", 0.0)])
            ctx = [t for t in school_tokens(p.school_name or "") if t not in GENERIC and len(t) > 2]
            ctx += [t for t in fold(p.locality or "").split() if len(t) > 2]
            context_tokens.append(ctx[:8])
            if first and last:
                initials["".join(t[0] for t in first[:2]) + last[-1][0]].append(row)
                initials[first[0][0] + last[-1][0]].append(row)
            tk = title_key(p.title)
            self._person_titles[row] = title_ids.get(tk, 0) if tk else 0
        self._people_space = _Space(name_tokens, context_tokens)
        self._initials = {k: sorted(set(v)) for k, v in initials.items()}

        school_toks = [[(t, _school_word_weight(t)) for t in school_tokens(s.name)] or [("", 0.0)]
                       for s in self.schools]
        self._school_space = _Space(school_toks)

        # Specialisms: from the database when given, else the catalogue plus what people list.
        if specialisms is None:
            names = set(spec_catalogue.CATALOGUE)
            for p in self.people:
                names.update(spec_catalogue.canonical(s) or s for s in p.specialisms)
            specialisms = [SpecialismEntry(i + 1, n) for i, n in enumerate(sorted(names))]
        else:
            # Catalogue specialisms the database does not have yet still answer "maths" (negative ids).
            specialisms = list(specialisms)
            known = {spec_catalogue.canonical(s.name) or fold(s.name) for s in specialisms}
            missing = [n for n in spec_catalogue.CATALOGUE if n not in known]
            specialisms += [SpecialismEntry(-(i + 1), n) for i, n in enumerate(missing)]
        self.specialisms: list[SpecialismEntry] = list(specialisms)
        self.specialism_by_id = {s.id: s for s in self.specialisms}
        self._spec_by_key: dict[str, SpecialismEntry] = {}
        for s in self.specialisms:
            for alias in (s.name, *s.aliases):
                if fold(alias):
                    self._spec_by_key.setdefault(fold(alias), s)
        for s in self.specialisms:
            canon = spec_catalogue.canonical(s.name)
            if canon:
                self._spec_by_key.setdefault(fold(canon), s)
        self.system_leaders = [p for p in self.people
                               if {d.upper() for d in p.designations} & set(SYSTEM_LEADER_DESIGNATIONS)]
        # Each person's specialisms as canonical keys, for system-leader lookups.
        self._person_specs: dict[int, frozenset[str]] = {
            p.id: frozenset(self._spec_key(s) for s in p.specialisms) for p in self.people}

        # Areas: localities and local authorities with their schools' grid centroid.
        self._areas: dict[str, Area] = {}
        by_locality: dict[str, list[SchoolEntry]] = defaultdict(list)
        by_la: dict[str, list[SchoolEntry]] = defaultdict(list)
        for school in self.schools:
            if school.locality and fold(school.locality):
                by_locality[fold(school.locality)].append(school)
            if school.local_authority and fold(school.local_authority):
                by_la[fold(school.local_authority)].append(school)
        for key, group in by_la.items():
            e, n = _centroid(group)
            self._areas[key] = Area(None, group[0].local_authority, e, n, group[0].local_authority or "")
        for key, group in by_locality.items():
            e, n = _centroid(group)
            las = Counter(s.local_authority for s in group if s.local_authority)
            la = las.most_common(1)[0][0] if las else None
            self._areas[key] = Area(group[0].locality, la, e, n, group[0].locality or "")
        self._area_keys = list(self._areas)

    # --- lookups -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.people) + len(self.schools)

    def person(self, person_id: int) -> PersonEntry | None:
        return self.person_by_id.get(person_id)

    def school(self, school_id: int) -> SchoolEntry | None:
        return self.school_by_id.get(school_id)

    def staff(self, school_id: int) -> list[PersonEntry]:
        """People at a school: heads first, then system leaders, then by surname."""
        return sorted(self._staff.get(school_id, []),
                      key=lambda p: (not p.is_head, not p.designations, fold(p.last_name), fold(p.first_name)))

    def _spec_key(self, text: str) -> str:
        return fold(spec_catalogue.canonical(text) or text)

    def specialism_for(self, text: str) -> SpecialismEntry | None:
        """The directory's specialism that `text` names (alias, catalogue name or typo), or None."""
        key = fold(text or "")
        if not key:
            return None
        if key in self._spec_by_key:
            return self._spec_by_key[key]
        canon = spec_catalogue.canonical(text)
        if canon is not None:
            return self._spec_by_key.get(fold(canon))
        return None

    def resolve_area(self, text: str | None) -> Area | None:
        """A locality, local authority or postcode district the user named; None if unknown."""
        key = fold(text or "")
        if not key or len(key) > 80:
            return None
        if key in self._areas:
            return self._areas[key]
        compact = key.replace(" ", "").upper()
        if 2 <= len(compact) <= 4 and compact[0].isalpha() and any(ch.isdigit() for ch in compact):
            group = [s for s in self.schools if s.postcode and
                     s.postcode.replace(" ", "").upper()[:-3] == compact]
            if group:
                e, n = _centroid(group)
                las = Counter(s.local_authority for s in group if s.local_authority)
                return Area(None, las.most_common(1)[0][0] if las else None, e, n, compact)
        if len(key) >= 4 and self._area_keys:
            best = process.extractOne(key, self._area_keys, scorer=fuzz.ratio, score_cutoff=85)
            if best is not None:
                return self._areas[best[0]]
        return None

    def area_of_school(self, school_id: int | None) -> Area | None:
        school = self.school_by_id.get(school_id) if school_id is not None else None
        if school is None:
            return None
        return Area(school.locality, school.local_authority, school.easting, school.northing,
                    school.locality or school.local_authority or school.name)

    # --- search --------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 10) -> list[Match]:
        """Ranked matches for what a user typed; [] for nothing useful (never raises on odd input)."""
        if not isinstance(query, str) or limit <= 0:
            return []
        query = query[:MAX_QUERY_CHARS]
        if not fold(query):
            return []
        ranked: list[tuple[int, float, int, str, Match]] = []  # (tier, -score, kind order, label)

        digits = query.strip().replace(" ", "")
        if digits.isdigit():
            school = self.school_by_urn.get(digits.lstrip("0") or "0")
            if school is not None:
                ranked.append((0, -100.0, 1, school.name,
                               Match("school", school.id, school.name, 100.0, True, False, _school_detail(school))))
            return [r[-1] for r in ranked[:limit]]

        ranked.extend(self._search_people(query, limit))
        ranked.extend(self._search_schools(query, limit))
        ranked.extend(self._search_specialism(query))
        if len(fold(query).split()) == 1:
            # One word is most often a surname: people come before schools of the same tier, whose one-word
            # names would otherwise win on coverage ("Middleton" the head, then the school), and a school
            # the word only starts ranks with the typos ("shre": Shore before Shrewsbury School).
            ranked.sort(key=lambda r: (2 if r[2] == 1 and r[0] == 1 else r[0], r[2], r[1], r[3]))
        else:
            ranked.sort(key=lambda r: r[:4])
        seen: set[tuple[str, int]] = set()
        out: list[Match] = []
        for r in ranked:
            m = r[-1]
            if (m.kind, m.id) in seen:
                continue
            seen.add((m.kind, m.id))
            out.append(m)
            if len(out) >= limit:
                break
        return out

    def _search_people(self, query: str, limit: int) -> list[tuple[int, float, int, str, Match]]:
        words, qtitle = strip_titles([w for w in fold(query).split() if w != "&"])
        words = [w for w in words if w not in TITLES] or words
        words = words[:MAX_QUERY_WORDS]
        if not words or not self.people:
            return []
        space = self._people_space
        sims = space.similarities(words)
        out: list[tuple[int, float, int, str, Match]] = []
        cand = space.candidates(sims, words)
        if len(cand):
            score, tier, name_hit, base = space.score(sims, np.ones(len(words), dtype=np.float32), cand)
            keep = name_hit & ((tier < 3) | (base >= MIN_PARTIAL_BASE))
            if qtitle is not None:
                tid = self._title_ids.get(qtitle, 0)
                score = score + np.where(self._person_titles[cand] == tid, 0.5, 0.0)
            score = np.minimum(score, 100.0)
            out.extend(self._top("person", cand, score, tier, keep, limit))
        if len(words) == 1 and 2 <= len(words[0]) <= 3 and words[0].isalpha():
            rows = self._initials.get(words[0], [])
            if len(rows) == 1 and not any(r[-1].id == self.people[rows[0]].id for r in out):
                p = self.people[rows[0]]
                out.append((1, -80.0, 0, fold(p.name), Match("person", p.id, p.full_name, 80.0, False, False,
                                                             _person_detail(p))))
        return out

    def _search_schools(self, query: str, limit: int) -> list[tuple[int, float, int, str, Match]]:
        words = school_tokens(query)[:MAX_QUERY_WORDS]
        if not words or not self.schools:
            return []
        space = self._school_space
        sims = space.similarities(words)
        cand = space.candidates(sims, words)
        if not len(cand):
            return []
        qweights = np.array([_school_word_weight(w) for w in words], dtype=np.float32)
        score, tier, name_hit, base = space.score(sims, qweights, cand)
        # A query of nothing but type words ("primary school") matches everything: show no partials.
        keep = name_hit & ((tier < 3) | (base >= MIN_PARTIAL_BASE))
        return self._top("school", cand, score, tier, keep, limit)

    def _top(self, kind: str, cand: np.ndarray, score: np.ndarray, tier: np.ndarray, keep: np.ndarray,
             limit: int) -> list[tuple[int, float, int, str, Match]]:
        idx = np.flatnonzero(keep)
        if not len(idx):
            return []
        # Sort key as one number: tier first, then score (higher first).
        key = tier[idx].astype(np.float64) * 1000.0 - score[idx].astype(np.float64)
        take = limit * 3
        if len(idx) > take:
            part = np.argpartition(key, take)[:take]
            idx = idx[part]
            key = key[part]
        order = idx[np.argsort(key, kind="stable")]
        out = []
        for i in order[: take]:
            row = int(cand[i])
            t = int(tier[i])
            s = round(float(score[i]), 1)
            if kind == "person":
                p = self.people[row]
                m = Match("person", p.id, p.full_name, s, t == 0, t >= 2, _person_detail(p))
                out.append((t, -s, 0, fold(p.last_name + " " + p.first_name), m))
            else:
                sc = self.schools[row]
                m = Match("school", sc.id, sc.name, s, t == 0, t >= 2, _school_detail(sc))
                out.append((t, -s, 1, fold(sc.name), m))
        return out

    def _search_specialism(self, query: str) -> list[tuple[int, float, int, str, Match]]:
        key = fold(query)
        if len(key) > 60:
            return []
        entry = self._spec_by_key.get(key)
        if entry is None and spec_catalogue.exact_alias(query):
            entry = self._spec_by_key.get(fold(spec_catalogue.exact_alias(query) or ""))
        exact = entry is not None
        if entry is None:
            entry = self.specialism_for(query)
        if entry is None:
            return []
        score = 100.0 if exact else 85.0
        label = spec_catalogue.label(spec_catalogue.canonical(entry.name) or entry.name)
        return [(0 if exact else 2, -score, 2, key,
                 Match("specialism", entry.id, label, score, exact, not exact, ""))]


def _centroid(group: Sequence[SchoolEntry]) -> tuple[float | None, float | None]:
    pts = [(s.easting, s.northing) for s in group if s.easting is not None and s.northing is not None]
    if not pts:
        return None, None
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


def _person_detail(p: PersonEntry) -> str:
    return ", ".join(x for x in (p.job_title, p.school_name) if x)


def _school_detail(s: SchoolEntry) -> str:
    return ", ".join(x for x in (s.locality or s.local_authority, f"URN {s.urn}" if s.urn else None) if x)


# --- system leaders ------------------------------------------------------------------------------

SYSTEM_LEADER_DESIGNATIONS = ("SLE", "NLE", "LLE", "NLG")
_PHASE_FAMILY = {"primary": {"primary", "all-through", "middle"}, "secondary": {"secondary", "all-through", "middle"},
                 "middle": {"middle", "all-through"}, "all-through": {"all-through"},
                 "nursery": {"nursery", "primary", "all-through"}, "special": {"special"}, "pru": {"pru"},
                 "16-plus": {"16-plus", "secondary", "all-through"}}


def sle_candidates(index: DirectoryIndex, specialism: str, phase: str | None = None,
                   area: str | Area | None = None, limit: int = 10,
                   origin_school_id: int | None = None) -> list[SleCandidate]:
    """System leaders (SLE/NLE/LLE/NLG) with `specialism`, nearest first.

    Nearness to `area` (a locality, local authority or postcode district name, or an `Area`), or to the
    school `origin_school_id` when no area is given: same locality, then same local authority, then by
    grid distance where both have coordinates, then everyone else (by name). `phase` keeps leaders whose
    school serves it (an all-through school serves primary and secondary). An NLG counts for governance.
    """
    spec_key = index._spec_key(specialism) if specialism else ""
    if not spec_key:
        return []
    target: Area | None
    if isinstance(area, Area):
        target = area
    elif area:
        target = index.resolve_area(area)
    else:
        target = index.area_of_school(origin_school_id)
    phases = _PHASE_FAMILY.get(phase, {phase}) if phase else None
    loc_key = fold(target.locality) if target and target.locality else None
    la_key = fold(target.local_authority) if target and target.local_authority else None
    has_point = target is not None and target.easting is not None and target.northing is not None

    ranked: list[tuple[int, float, str, str, SleCandidate]] = []
    for p in index.system_leaders:
        designations = {d.upper() for d in p.designations}
        specs = index._person_specs.get(p.id, frozenset())
        if spec_key not in specs and not (spec_key == "governance" and "NLG" in designations):
            continue
        school = index.school_by_id.get(p.school_id) if p.school_id is not None else None
        p_phase = p.phase or (school.phase if school else None)
        if phases is not None and p_phase not in phases:
            continue
        dist = None
        if (has_point and target is not None and target.easting is not None and target.northing is not None
                and school is not None and school.easting is not None and school.northing is not None):
            dist = math.hypot(school.easting - target.easting, school.northing - target.northing) / 1000.0
        p_loc = fold(p.locality or (school.locality if school else "") or "")
        p_la = fold(school.local_authority or "") if school else ""
        if loc_key and p_loc == loc_key:
            nearness, tier = "locality", 0
        elif la_key and p_la == la_key:
            nearness, tier = "authority", 1
        elif dist is not None:
            nearness, tier = "distance", 2
        else:
            nearness, tier = "other", 3
        ranked.append((tier, dist if dist is not None else math.inf, fold(p.last_name), fold(p.first_name),
                       SleCandidate(p, school, nearness, round(dist, 1) if dist is not None else None)))
    ranked.sort(key=lambda r: r[:4])
    return [r[-1] for r in ranked[:max(0, limit)]]
