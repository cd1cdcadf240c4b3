"""UK date parsing for chat input."""

from __future__ import annotations

import datetime as dt

import pytest

from directory.dates import parse_uk_date

TODAY = dt.date(2025, 6, 18)  # a Wednesday


@pytest.mark.parametrize(("text", "expected"), [
    ("1/9/25", dt.date(2025, 9, 1)),
    ("01/09/2025", dt.date(2025, 9, 1)),
    ("1-9-2025", dt.date(2025, 9, 1)),
    ("1.9.25", dt.date(2025, 9, 1)),
    ("9/1/26", dt.date(2026, 1, 9)),  # day first, always
    ("2025-09-01", dt.date(2025, 9, 1)),
    ("1 Sept 2025", dt.date(2025, 9, 1)),
    ("1 sep 2025", dt.date(2025, 9, 1)),
    ("1st September", dt.date(2025, 9, 1)),
    ("1st of September 2025", dt.date(2025, 9, 1)),
    ("Monday 1st September 2025", dt.date(2025, 9, 1)),
    ("September 1st", dt.date(2025, 9, 1)),
    ("September", dt.date(2025, 9, 1)),
    ("september 2026", dt.date(2026, 9, 1)),
    ("Sept '26", dt.date(2026, 9, 1)),
    ("January", dt.date(2026, 1, 1)),  # the next January
    ("6 Jan", dt.date(2026, 1, 6)),
    ("1/9", dt.date(2025, 9, 1)),
    ("today", TODAY),
    ("tomorrow", dt.date(2025, 6, 19)),
    ("next Monday", dt.date(2025, 6, 23)),
    ("Wednesday", dt.date(2025, 6, 25)),  # a weekday means the next one, never today
    ("  1 September 2025. ", dt.date(2025, 9, 1)),
])
def test_parses_uk_dates(text: str, expected: dt.date) -> None:
    assert parse_uk_date(text, TODAY) == expected


@pytest.mark.parametrize("text", ["", "   ", "soon", "31/2/25", "13/13/25", "1 Smarch 2025", "32 May",
                                  "2025", "1 2 3", "next year", "x" * 500, "<b>1/9/25</b>", "0/9/25"])
def test_refuses_what_is_not_a_date(text: str) -> None:
    assert parse_uk_date(text, TODAY) is None


def test_a_recent_date_without_a_year_is_this_year() -> None:
    # Registered on 10 September for a head who started on the 1st: not next year.
    assert parse_uk_date("1st September", dt.date(2025, 9, 10)) == dt.date(2025, 9, 1)
    assert parse_uk_date("September", dt.date(2025, 9, 10)) == dt.date(2025, 9, 1)
    # In November, "September" is next September.
    assert parse_uk_date("September", dt.date(2025, 11, 20)) == dt.date(2026, 9, 1)


def test_leap_day() -> None:
    assert parse_uk_date("29/2/28", TODAY) == dt.date(2028, 2, 29)
    assert parse_uk_date("29/2/27", TODAY) is None
    assert parse_uk_date("29 February", TODAY) == dt.date(2028, 2, 29)
