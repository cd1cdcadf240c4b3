"""The directory's people and schools as columns: numpy arrays and lists of interned strings.

A national directory is 50,000 schools and as many people; one object per entry (and a dict by id)
costs several hundred bytes each, so the search index keeps columns instead and makes a `PersonEntry`
or `SchoolEntry` only when one is asked for (a card, a result). Repeated strings (job titles, towns,
local authorities, first names, a person's school name) are stored once: `Interner`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

if TYPE_CHECKING:
    from directory.search import PersonEntry, SchoolEntry

T = TypeVar("T")
NO_ID = -1


class Interner:
    """One copy of each distinct string (or tuple of strings) seen while building."""

    def __init__(self) -> None:
        self._pool: dict[object, object] = {}

    def __call__(self, value: T) -> T:
        if value is None:
            return value
        return self._pool.setdefault(value, value)  # type: ignore[return-value]


class _IdRows:
    """Row of an id, by binary search over the sorted ids (no dict of boxed ints)."""

    def __init__(self, ids: np.ndarray):
        self.ids = ids
        self._reindex()

    def _reindex(self) -> None:
        self._order = np.argsort(self.ids, kind="stable").astype(np.int32)
        self._sorted = self.ids[self._order]

    def row(self, ident: int) -> int | None:
        if not len(self._sorted):
            return None
        i = int(np.searchsorted(self._sorted, ident))
        if i < len(self._sorted) and int(self._sorted[i]) == ident:
            return int(self._order[i])
        return None


class SchoolTable(_IdRows):
    def __init__(self, schools: Iterable[SchoolEntry], intern: Interner):
        rows = list(schools)
        super().__init__(np.array([s.id for s in rows], dtype=np.int64))
        self.urn = [intern(s.urn) for s in rows]
        self.name = [s.name for s in rows]
        self.locality = [intern(s.locality) for s in rows]
        self.local_authority = [intern(s.local_authority) for s in rows]
        self.phase = [intern(s.phase) for s in rows]
        self.postcode = [s.postcode for s in rows]
        self.easting = np.array([math.nan if s.easting is None else s.easting for s in rows], dtype=np.float64)
        self.northing = np.array([math.nan if s.northing is None else s.northing for s in rows], dtype=np.float64)
        # URN lookup: the register's URNs are digits; a query of digits can only ever match those.
        urn_rows = [
            (int(u.strip()), r) for r, u in enumerate(self.urn) if u and u.strip().isascii() and u.strip().isdigit()
        ]
        urn_rows.sort()
        self._urn_sorted = np.array([u for u, _r in urn_rows], dtype=np.int64)
        self._urn_rows = np.array([r for _u, r in urn_rows], dtype=np.int32)

    def __len__(self) -> int:
        return len(self.ids)

    def entry(self, row: int) -> SchoolEntry:
        from directory.search import SchoolEntry

        e, n = float(self.easting[row]), float(self.northing[row])
        return SchoolEntry(
            int(self.ids[row]),
            self.urn[row],
            self.name[row],
            self.locality[row],
            self.local_authority[row],
            self.phase[row],
            self.postcode[row],
            None if math.isnan(e) else e,
            None if math.isnan(n) else n,
        )

    def row_of_urn(self, digits: str) -> int | None:
        if not digits.isdigit() or len(digits) > 18 or not len(self._urn_sorted):
            return None
        value = int(digits)
        i = int(np.searchsorted(self._urn_sorted, value))
        if i < len(self._urn_sorted) and int(self._urn_sorted[i]) == value:
            return int(self._urn_rows[i])
        return None


class PersonTable(_IdRows):
    def __init__(self, people: Iterable[PersonEntry], intern: Interner):
        rows = list(people)
        super().__init__(np.array([p.id for p in rows], dtype=np.int64))
        self.title = [intern(p.title) for p in rows]
        self.first_name = [intern(p.first_name) for p in rows]
        self.last_name = [intern(p.last_name) for p in rows]
        self.job_title = [intern(p.job_title) for p in rows]
        self.school_id = np.array([NO_ID if p.school_id is None else p.school_id for p in rows], dtype=np.int64)
        self.school_name = [intern(p.school_name) for p in rows]
        self.locality = [intern(p.locality) for p in rows]
        self.phase = [intern(p.phase) for p in rows]
        self.designations = [intern(tuple(p.designations)) for p in rows]
        self.specialisms = [intern(tuple(p.specialisms)) for p in rows]
        self.is_head = np.array([bool(p.is_head) for p in rows], dtype=bool)
        self.alive = np.ones(len(rows), dtype=bool)  # False once removed (rows are never renumbered)
        self._index_schools()

    def _index_schools(self) -> None:
        self._by_school = np.argsort(self.school_id, kind="stable").astype(np.int32)
        self._school_sorted = self.school_id[self._by_school]

    def __len__(self) -> int:
        return len(self.ids)

    def entry(self, row: int) -> PersonEntry:
        from directory.search import PersonEntry

        sid = int(self.school_id[row])
        return PersonEntry(
            int(self.ids[row]),
            self.title[row],
            self.first_name[row],
            self.last_name[row],
            self.job_title[row],
            None if sid == NO_ID else sid,
            self.school_name[row],
            self.locality[row],
            self.phase[row],
            self.designations[row],
            self.specialisms[row],
            bool(self.is_head[row]),
        )

    def set_row(self, row: int, p: PersonEntry, intern: Interner) -> None:
        """Overwrite one row with `p` (same id) in place."""
        moved = int(self.school_id[row]) != (NO_ID if p.school_id is None else p.school_id)
        self.title[row] = intern(p.title)
        self.first_name[row] = intern(p.first_name)
        self.last_name[row] = intern(p.last_name)
        self.job_title[row] = intern(p.job_title)
        self.school_id[row] = NO_ID if p.school_id is None else p.school_id
        self.school_name[row] = intern(p.school_name)
        self.locality[row] = intern(p.locality)
        self.phase[row] = intern(p.phase)
        self.designations[row] = intern(tuple(p.designations))
        self.specialisms[row] = intern(tuple(p.specialisms))
        self.is_head[row] = bool(p.is_head)
        self.alive[row] = True
        if moved:
            self._index_schools()

    def rows_at_school(self, school_id: int) -> list[int]:
        lo = int(np.searchsorted(self._school_sorted, school_id, "left"))
        hi = int(np.searchsorted(self._school_sorted, school_id, "right"))
        return [r for r in self._by_school[lo:hi].tolist() if self.alive[r]]


class EntryView(Sequence[T], Generic[T]):
    """A read-only list of entries made on demand from a table (what `DirectoryIndex.people` returns)."""

    def __init__(self, table: PersonTable | SchoolTable, alive: np.ndarray | None = None):
        self._table = table
        self._rows = np.flatnonzero(alive) if alive is not None and not alive.all() else None

    def __len__(self) -> int:
        return len(self._table) if self._rows is None else len(self._rows)

    def __getitem__(self, i: Any) -> Any:  # an int gives an entry, a slice a list of them
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        row = i if self._rows is None else int(self._rows[i])
        return self._table.entry(row)

    def __iter__(self) -> Iterator[T]:
        for i in range(len(self)):
            yield self[i]
