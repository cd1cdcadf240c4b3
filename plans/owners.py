"""Owner names in a plan ('L Draycott', 'Lesley Draycott') matched to people in the directory, fast.

`plans.store.match_person` is the rule, written as a scan over every person: a surname within
NAME_THRESHOLD (rapidfuzz ratio) of the person's, and a first name or initial that fits. A plan has
tens of owner names and a directory tens of thousands of people, so a scan per name costs seconds on the
event loop. `OwnerMatcher` gives the same answers from an index built once: people grouped by their
surname, and each name's surname compared with the distinct surnames at once (`rapidfuzz.process.extract`,
in C), then the rule (`name_score`, `best_of`, shared with the scan) applied to the few people who have
a close surname.

`await matcher_for(index)` builds it from the bot's in-memory `DirectoryIndex` (services.directory) once per
index and again after the index was edited in place, in a thread: over 55,000 people the build is 0.06 s
of Python that would otherwise stop the event loop at the first plan upload after an import
(benchmarks/RESULTS.md, section 7). `OwnerMatcher.from_names(...)` builds from rows read from the database
(the command line).
"""

from __future__ import annotations

import asyncio
import weakref
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from rapidfuzz import fuzz, process

from core.normalise import person_tokens

if TYPE_CHECKING:
    from plans.store import PersonName

NAME_THRESHOLD = 88.0
CACHE_SIZE = 5000  # names remembered per matcher (the matcher lives as long as its directory index)


class OwnerMatcher:
    def __init__(self, people: Iterable[tuple[int, str, str]]):
        """`people`: (id, first name, last name)."""
        # Built in a thread beside the event loop, so kept to the least Python per person: each distinct
        # surname is normalised once, and a first name only when its surname comes close to a name asked for.
        by_last: dict[str, list[tuple[int, str]]] = defaultdict(list)
        surname_key: dict[str, str] = {}
        for pid, first, last in people:
            p_last = surname_key.get(last)
            if p_last is None:
                p_last = surname_key[last] = " ".join(person_tokens(last or ""))
            if p_last:
                by_last[p_last].append((pid, first or ""))
        self._surnames = list(by_last)
        self._people = [by_last[s] for s in self._surnames]
        self._cache: dict[str, tuple[int | None, list[int]]] = {}

    @classmethod
    def from_names(cls, people: Iterable[PersonName]) -> OwnerMatcher:
        return cls((p.id, p.first_name, p.last_name) for p in people)

    def __len__(self) -> int:
        return sum(len(group) for group in self._people)

    def match(self, name: str) -> tuple[int | None, list[int]]:
        """(the person `name` means, or None; every candidate that matched equally well), exactly as
        `plans.store.match_person` answers."""
        key = name.lower()
        if key not in self._cache:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = self._match(name)
        found, tied = self._cache[key]
        return found, list(tied)

    def _match(self, name: str) -> tuple[int | None, list[int]]:
        query = split_owner_name(name)
        if query is None:
            return None, []
        first, surname = query
        close = process.extract(surname, self._surnames, scorer=fuzz.ratio, score_cutoff=NAME_THRESHOLD, limit=None)
        scored = [
            (score, pid)
            for _surname, last_score, index in close
            for pid, raw_first in self._people[index]
            if (score := name_score(first, " ".join(person_tokens(raw_first)), last_score)) is not None
        ]
        return best_of(scored)


# --- the rule, shared with the scan that states it (plans.store.match_person) ------------------------------


def split_owner_name(name: str) -> tuple[str, str] | None:
    """(first name or initial, surname) of an owner name as a plan writes it; None for a single word."""
    words = person_tokens(name or "")
    if len(words) < 2:
        return None
    return words[0], " ".join(words[1:])


def name_score(first: str, p_first: str, last_score: float) -> float | None:
    """How well a person whose surname scored `last_score` fits, given the first name or initial asked for
    and theirs (both normalised); None when the first name does not fit."""
    if len(first) == 1:
        if not p_first.startswith(first):
            return None
        return last_score - 1  # an initial is a little less sure than a full first name
    first_score = max(fuzz.ratio(first, p_first), 100.0 if p_first.startswith(first) and len(first) >= 3 else 0.0)
    if first_score < NAME_THRESHOLD:
        return None
    return (first_score + last_score) / 2


def best_of(scored: list[tuple[float, int]]) -> tuple[int | None, list[int]]:
    """One clear best (score, person id), or None with every person within half a point of the best."""
    if not scored:
        return None, []
    best = max(score for score, _pid in scored)
    tied = sorted(pid for score, pid in scored if score >= best - 0.5)
    if len(tied) > 1:
        return None, tied
    return tied[0], tied


class PeopleIndex(Protocol):
    """What owner matching needs of the directory's search index (directory.search.DirectoryIndex): its
    people's names, and how many edits it has had in place. Said here, so plans/ does not import directory/."""

    edits: int

    def person_names(self) -> Iterable[tuple[int, str, str]]:
        """(id, first name, last name) of everyone in the index."""
        ...


_by_index: weakref.WeakKeyDictionary[PeopleIndex, tuple[int, OwnerMatcher]] = weakref.WeakKeyDictionary()


async def matcher_for(index: PeopleIndex) -> OwnerMatcher:
    """The matcher over the people of `index`: built the first time it is asked for, and again once the
    index has been edited in place since (a renamed person is matched by their new name)."""
    held = _by_index.get(index)
    if held is not None and held[0] == index.edits:
        return held[1]
    edits = index.edits
    matcher = await asyncio.to_thread(lambda: OwnerMatcher(index.person_names()))
    _by_index[index] = (edits, matcher)
    return matcher
