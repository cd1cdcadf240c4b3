"""English academic terms and school holidays (pure: no database, no Telegram).

An academic year is named by the calendar year it starts in (2025 = 2025-26) and has three terms,
worked out from the date in Europe/London:

- Autumn: 1 September - 31 December
- Spring: 1 January - Easter Sunday
- Summer: Easter Monday - 31 August

Easter is computed with the anonymous Gregorian algorithm (Meeus/Jones/Butcher).

Terms as people and plans write them ("Aut 16", "Spring term 2017", "RAG rated progress Aut 16") are read by
`parse_term_label` and `parse_term_column`; `parse_term` also takes our own codes ("2025-spring").
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from functools import total_ordering
from typing import Protocol

from core import clock
from core.i18n import N_, _

LONDON = zoneinfo.ZoneInfo("Europe/London")

AUTUMN = "autumn"
SPRING = "spring"
SUMMER = "summer"
TERMS = (AUTUMN, SPRING, SUMMER)

_LONG = {AUTUMN: N_("Autumn {year}"), SPRING: N_("Spring {year}"), SUMMER: N_("Summer {year}")}
_SHORT = {AUTUMN: N_("Aut {yy}"), SPRING: N_("Spr {yy}"), SUMMER: N_("Sum {yy}")}
_NAMES = {AUTUMN: N_("Autumn"), SPRING: N_("Spring"), SUMMER: N_("Summer")}


def easter_sunday(year: int) -> dt.date:
    """Western (Gregorian) Easter Sunday: the anonymous Gregorian algorithm."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@total_ordering
@dataclass(frozen=True)
class Term:
    """One term of an academic year; ordered in time."""

    academic_year: int  # 2025 for 2025-26
    term: str  # autumn | spring | summer

    def __post_init__(self) -> None:
        if self.term not in TERMS:
            raise ValueError(f"unknown term {self.term!r}")

    @property
    def index(self) -> int:
        return TERMS.index(self.term)

    def _key(self) -> tuple[int, int]:
        return (self.academic_year, self.index)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Term):
            return NotImplemented
        return self._key() < other._key()

    @property
    def calendar_year(self) -> int:
        """The calendar year the term falls in (Spring and Summer are in the year after the start)."""
        return self.academic_year if self.term == AUTUMN else self.academic_year + 1

    @property
    def start(self) -> dt.date:
        if self.term == AUTUMN:
            return dt.date(self.academic_year, 9, 1)
        if self.term == SPRING:
            return dt.date(self.academic_year + 1, 1, 1)
        return easter_sunday(self.academic_year + 1) + dt.timedelta(days=1)

    @property
    def end(self) -> dt.date:
        """The last day of the term (inclusive)."""
        if self.term == AUTUMN:
            return dt.date(self.academic_year, 12, 31)
        if self.term == SPRING:
            return easter_sunday(self.academic_year + 1)
        return dt.date(self.academic_year + 1, 8, 31)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def next(self) -> Term:
        if self.term == SUMMER:
            return Term(self.academic_year + 1, AUTUMN)
        return Term(self.academic_year, TERMS[self.index + 1])

    def previous(self) -> Term:
        if self.term == AUTUMN:
            return Term(self.academic_year - 1, SUMMER)
        return Term(self.academic_year, TERMS[self.index - 1])

    @property
    def code(self) -> str:
        """A compact key for callback data and storage: '2025-autumn'."""
        return f"{self.academic_year}-{self.term}"

    @classmethod
    def parse(cls, code: str) -> Term:
        year, _sep, term = code.partition("-")
        return cls(int(year), term)

    def __str__(self) -> str:
        return term_label(self)


def to_local_date(value: dt.date | dt.datetime, tz: dt.tzinfo = LONDON) -> dt.date:
    """The calendar date in `tz` (Europe/London by default); naive datetimes are taken as UTC."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(tz).date()
    return value


def term_for(value: dt.date | dt.datetime, tz: dt.tzinfo = LONDON) -> Term:
    """The academic term a date (or moment, read in Europe/London) falls in."""
    day = to_local_date(value, tz)
    if day.month >= 9:
        return Term(day.year, AUTUMN)
    if day <= easter_sunday(day.year):
        return Term(day.year - 1, SPRING)
    return Term(day.year - 1, SUMMER)


def current_term(tz: dt.tzinfo = LONDON) -> Term:
    return term_for(clock.now(), tz)


def today(tz: dt.tzinfo = LONDON) -> dt.date:
    """Today's date in Europe/London by the controllable clock."""
    return to_local_date(clock.now(), tz)


def previous_term(term: Term) -> Term:
    return term.previous()


def term_label(term: Term, short: bool = False) -> str:
    """'Autumn 2025' or, short, 'Aut 25' (the labels plans use on their RAG columns)."""
    if short:
        return _(_SHORT[term.term]).format(yy=f"{term.calendar_year % 100:02d}")
    return _(_LONG[term.term]).format(year=term.calendar_year)


def term_name(term: str) -> str:
    """'Autumn', 'Spring' or 'Summer', translated."""
    return _(_NAMES[term])


def academic_year_label(academic_year: int) -> str:
    """'2025-26'."""
    return f"{academic_year}-{(academic_year + 1) % 100:02d}"


def terms_between(first: Term, last: Term) -> list[Term]:
    """Every term from `first` to `last` inclusive, in order."""
    out: list[Term] = []
    term = first
    while term <= last:
        out.append(term)
        term = term.next()
    return out


class HolidayLike(Protocol):
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class HolidayRange:
    """Inclusive date range of a school holiday (storage.plans.Holiday rows have the same shape)."""

    start: dt.date
    end: dt.date
    label: str = ""


def in_holiday(day: dt.date | dt.datetime, holidays: Iterable[HolidayLike], tz: dt.tzinfo = LONDON) -> bool:
    """True when the date falls in any of the (inclusive) holiday ranges."""
    local = to_local_date(day, tz)
    return any(h.start <= local <= h.end for h in holidays)


# ---------------------------------------------------------------------------------------------------------
# Term labels
# ---------------------------------------------------------------------------------------------------------

_TERM_WORDS = {
    "autumn": "autumn",
    "aut": "autumn",
    "au": "autumn",
    "autum": "autumn",
    "fall": "autumn",
    "michaelmas": "autumn",
    "spring": "spring",
    "spr": "spring",
    "sp": "spring",
    "spg": "spring",
    "lent": "spring",
    "summer": "summer",
    "sum": "summer",
    "su": "summer",
    "smr": "summer",
    "trinity": "summer",
}
_TERM_RE = re.compile(
    r"(?<![a-z])(autumn|autum|aut|au|fall|michaelmas|spring|spr|spg|sp|summer|sum|smr|su|lent|trinity)(?![a-z])"
    r"(?:\s*term)?\.?"
    r"(?:\s*(?P<half>[12])(?!\d))?"  # "Aut 1" / "Spr2": a half-term, not a year
    r"(?:[\s,'’-]*(?P<y1>\d{4}|\d{2})(?!\d)(?:\s*[-/–]\s*(?P<y2>\d{4}|\d{2})(?!\d))?)?",
    re.IGNORECASE,
)


def full_year(text: str) -> int:
    """A year as labels write it: '16' → 2016, '2016' → 2016."""
    year = int(text)
    return year + 2000 if year < 100 else year


def parse_term_column(text: str | None, default_year: int | None = None) -> tuple[int | None, str, int | None] | None:
    """A column label's term: (academic year or None when it names none, term, half-term 1/2 or None).
    'Aut 1' → (default_year, 'autumn', 1); 'Spr 17' → (2016, 'spring', None); 'RAG' → None."""
    if not text:
        return None
    for match in _TERM_RE.finditer(text):
        word = match.group(1).lower()
        term = _TERM_WORDS.get(word)
        if term is None:
            continue
        y1, y2, half = match.group("y1"), match.group("y2"), match.group("half")
        if len(word) <= 2 and not y1 and not half and "term" not in match.group(0).lower():
            continue
        year: int | None = default_year
        if y1:
            first = full_year(y1)
            year = first if (y2 or term == "autumn") else first - 1
        return year, term, int(half) if half else None
    return None


def parse_term_label(text: str | None, default_year: int | None = None) -> tuple[int, str] | None:
    """Read a term label: 'Aut 16' → (2016, 'autumn'); 'Spr 17' → (2016, 'spring'); 'Summer 2017' →
    (2016, 'summer'); 'Autumn 2016-17' → (2016, 'autumn'); 'RAG rated progress Aut 16' → (2016, 'autumn').

    A label without a year ('Autumn term', 'Aut 1') uses `default_year` (the academic year's start) or
    gives None. Not a term label → None.
    """
    if not text:
        return None
    for match in _TERM_RE.finditer(text):
        word = match.group(1).lower()
        term = _TERM_WORDS.get(word)
        if term is None:
            continue
        y1, y2 = match.group("y1"), match.group("y2")
        # Very short words ("au", "sp", "su") only count when a year or "term" follows, to avoid false hits.
        if len(word) <= 2 and not y1 and "term" not in match.group(0).lower():
            continue
        if y1:
            first = full_year(y1)
            if y2:  # "2016-17": the academic year is given
                return first, term
            return (first if term == "autumn" else first - 1), term
        if default_year is not None:
            return default_year, term
        return None
    return None


# ---------------------------------------------------------------------------------------------------------
# A plan's span of terms: the one answer chat, command line and every file use
# ---------------------------------------------------------------------------------------------------------

_YEARS_RE = re.compile(r"(?<!\d)((?:19|20)\d\d)(?:\s*[-/–—]\s*((?:19|20)?\d\d))?(?!\d)")


def plan_academic_years(year_text: str | None) -> list[int]:
    """The academic years a plan's year label names: '2016-17' → [2016]; '2016/17 - 2017/18' → [2016, 2017];
    '2016-2019' → [2016, 2017, 2018]; '2019' → [2019]; nothing readable → []."""
    starts: list[int] = []
    ends: list[int] = []
    for match in _YEARS_RE.finditer(year_text or ""):
        first = int(match.group(1))
        starts.append(first)
        if match.group(2):
            second = int(match.group(2))
            if second < 100:
                second += first // 100 * 100
                if second < first:
                    second += 100
            ends.append(second - 1 if second > first else first)
        else:
            ends.append(first)
    if not starts:
        return []
    first, last = min(starts), max(ends)
    if last - first > 10:  # not a plan's years ("2016-2099"): keep what was written first
        last = first
    return list(range(first, last + 1))


def plan_span(year_text: str | None, updated: Iterable[Term], fallback: Term | None = None) -> list[Term]:
    """The terms a plan spans, in order: every term of the plan's academic year(s), plus each term that
    holds an update (however long after: an old plan with one rating this term gets one more column, not
    the ten empty years between). A plan whose year cannot be read takes the academic year of its
    earliest update, else that of `fallback` (when the plan was made), else today's."""
    terms = set(updated)
    years = plan_academic_years(year_text)
    if not years:
        anchor = min(terms) if terms else (fallback or current_term())
        years = [anchor.academic_year]
    for year in years:
        terms.update(Term(year, name) for name in TERMS)
    return sorted(terms)


def parse_term(text: str | None) -> Term | None:
    """A term as people write it: 'Spring 2026', 'Spr 26', 'spring 2025-26', '2025-spring' → Term; else None."""
    if not text:
        return None
    try:
        return Term.parse(text.strip().lower())
    except ValueError:
        pass
    found = parse_term_label(text)
    return Term(*found) if found else None


def term_ordinal(term: Term) -> int:
    """A small number naming a term (for callback data): three a year, in order."""
    return term.academic_year * 3 + term.index


def term_from_ordinal(value: int) -> Term:
    year, index = divmod(value, 3)
    return Term(year, TERMS[index])
