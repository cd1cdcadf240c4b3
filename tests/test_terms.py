"""English academic terms, Easter, labels and holidays."""

from __future__ import annotations

import datetime as dt

import pytest

from core.terms import (
    AUTUMN,
    SPRING,
    SUMMER,
    HolidayRange,
    Term,
    academic_year_label,
    easter_sunday,
    in_holiday,
    previous_term,
    term_for,
    term_label,
    terms_between,
)

D = dt.date

KNOWN_EASTERS = [
    D(1818, 3, 22),
    D(1943, 4, 25),
    D(2000, 4, 23),
    D(2008, 3, 23),
    D(2011, 4, 24),
    D(2014, 4, 20),
    D(2015, 4, 5),
    D(2016, 3, 27),
    D(2017, 4, 16),
    D(2018, 4, 1),
    D(2019, 4, 21),
    D(2020, 4, 12),
    D(2021, 4, 4),
    D(2022, 4, 17),
    D(2023, 4, 9),
    D(2024, 3, 31),
    D(2025, 4, 20),
    D(2026, 4, 5),
    D(2027, 3, 28),
    D(2038, 4, 25),
    D(2285, 3, 22),
]


@pytest.mark.parametrize("easter", KNOWN_EASTERS, ids=lambda d: str(d.year))
def test_easter_matches_known_dates(easter: dt.date) -> None:
    assert easter_sunday(easter.year) == easter
    assert easter.weekday() == 6  # a Sunday


def test_easter_always_a_sunday_between_22_march_and_25_april() -> None:
    for year in range(1900, 2200):
        e = easter_sunday(year)
        assert e.weekday() == 6
        assert D(year, 3, 22) <= e <= D(year, 4, 25)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2025, 9, 1), Term(2025, AUTUMN)),
        (D(2025, 8, 31), Term(2024, SUMMER)),
        (D(2025, 12, 31), Term(2025, AUTUMN)),
        (D(2026, 1, 1), Term(2025, SPRING)),
        (D(2026, 4, 5), Term(2025, SPRING)),  # Easter Sunday 2026 ends Spring
        (D(2026, 4, 6), Term(2025, SUMMER)),  # Easter Monday starts Summer
        (D(2025, 4, 20), Term(2024, SPRING)),
        (D(2025, 4, 21), Term(2024, SUMMER)),
        (D(2024, 3, 31), Term(2023, SPRING)),
        (D(2024, 4, 1), Term(2023, SUMMER)),
        (D(2015, 1, 20), Term(2014, SPRING)),
    ],
)
def test_term_for_dates(day: dt.date, expected: Term) -> None:
    assert term_for(day) == expected


def test_term_for_reads_the_moment_in_london() -> None:
    # 23:30 UTC on 31 August 2025 is already 1 September in London (BST): Autumn.
    moment = dt.datetime(2025, 8, 31, 23, 30, tzinfo=dt.timezone.utc)
    assert term_for(moment) == Term(2025, AUTUMN)
    # 23:30 UTC on 31 December is still 31 December in London (GMT).
    assert term_for(dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.timezone.utc)) == Term(2025, AUTUMN)


def test_start_and_end_tile_the_year_without_gaps() -> None:
    term = Term(2010, AUTUMN)
    for _ in range(60):
        nxt = term.next()
        assert nxt.start == term.end + dt.timedelta(days=1)
        assert term_for(term.start) == term and term_for(term.end) == term
        assert nxt.previous() == term and previous_term(nxt) == term
        term = nxt


def test_ordering_and_codes() -> None:
    terms = [Term(2025, SUMMER), Term(2024, AUTUMN), Term(2025, AUTUMN), Term(2025, SPRING)]
    assert sorted(terms) == [Term(2024, AUTUMN), Term(2025, AUTUMN), Term(2025, SPRING), Term(2025, SUMMER)]
    assert Term.parse(Term(2025, SPRING).code) == Term(2025, SPRING)
    assert terms_between(Term(2024, SUMMER), Term(2025, SPRING)) == [
        Term(2024, SUMMER),
        Term(2025, AUTUMN),
        Term(2025, SPRING),
    ]
    with pytest.raises(ValueError):
        Term(2025, "winter")


def test_labels() -> None:
    assert term_label(Term(2025, AUTUMN)) == "Autumn 2025"
    assert term_label(Term(2025, SPRING)) == "Spring 2026"
    assert term_label(Term(2016, AUTUMN), short=True) == "Aut 16"
    assert term_label(Term(2016, SPRING), short=True) == "Spr 17"
    assert term_label(Term(2016, SUMMER), short=True) == "Sum 17"
    assert term_label(Term(2099, SUMMER), short=True) == "Sum 00"
    assert academic_year_label(2025) == "2025-26"
    assert academic_year_label(2099) == "2099-00"


def test_in_holiday_is_inclusive() -> None:
    half_term = HolidayRange(D(2025, 10, 27), D(2025, 10, 31), "Autumn half term")
    christmas = HolidayRange(D(2025, 12, 22), D(2026, 1, 2), "Christmas")
    holidays = [half_term, christmas]
    assert in_holiday(D(2025, 10, 27), holidays)
    assert in_holiday(D(2025, 10, 31), holidays)
    assert in_holiday(D(2026, 1, 1), holidays)
    assert not in_holiday(D(2025, 10, 26), holidays)
    assert not in_holiday(D(2025, 11, 1), holidays)
    assert not in_holiday(D(2025, 11, 1), [])
    # A moment is read in London: 23:30 UTC on 31 October is still 31 October (GMT), and
    # 23:30 UTC on 21 December is 21 December in London, the day before the Christmas holiday.
    assert in_holiday(dt.datetime(2025, 10, 31, 23, 30, tzinfo=dt.timezone.utc), holidays)
    assert not in_holiday(dt.datetime(2025, 12, 21, 23, 30, tzinfo=dt.timezone.utc), holidays)
    summer = [HolidayRange(D(2025, 7, 23), D(2025, 8, 31))]
    # 23:30 UTC on 22 July is 00:30 on 23 July in London (BST): in the holiday.
    assert in_holiday(dt.datetime(2025, 7, 22, 23, 30, tzinfo=dt.timezone.utc), summer)
