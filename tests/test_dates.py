"""UK date parsing for chat input."""

from __future__ import annotations

import datetime as dt

import pytest

from directory.dates import parse_uk_date

TODAY = dt.date(2025, 6, 18)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
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
    ],
)
def test_parses_uk_dates(text: str, expected: dt.date) -> None:
    assert parse_uk_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "soon",
        "31/2/25",
        "13/13/25",
        "1 Smarch 2025",
        "32 May",
        "2025",
        "1 2 3",
        "next year",
        "x" * 500,
        "<b>1/9/25</b>",
        "0/9/25",
    ],
)
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


# ---------------------------------------------------------------------------------------------------------
# The same parser for plans' date cells, spreadsheet cells and strict prompts (core.uk_dates)
# ---------------------------------------------------------------------------------------------------------

from core.uk_dates import cell_date, parse_day, read_when  # noqa: E402


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("1/9/25", "day", dt.date(2025, 9, 1), dt.date(2025, 9, 1)),
        ("31.03.2020", "day", dt.date(2020, 3, 31), dt.date(2020, 3, 31)),
        ("Mar-20", "month", dt.date(2020, 3, 1), dt.date(2020, 3, 31)),
        ("Summer 2020", "term", dt.date(2020, 4, 13), dt.date(2020, 8, 31)),
        ("Spr 17", "term", dt.date(2017, 1, 1), dt.date(2017, 4, 16)),
        ("On-going", "ongoing", None, None),
        ("w/c 3 Oct", "week", dt.date(2019, 10, 3), dt.date(2019, 10, 9)),
        ("by end of Autumn term", "term", dt.date(2019, 9, 1), dt.date(2019, 12, 31)),
        ("May/June 2015", "month", dt.date(2015, 5, 1), dt.date(2015, 6, 30)),
        ("Aut 1", "half_term", dt.date(2019, 9, 1), dt.date(2019, 10, 31)),
        ("2019-20", "year", dt.date(2019, 9, 1), dt.date(2020, 8, 31)),
        ("Easter 2021", "day", dt.date(2021, 4, 4), dt.date(2021, 4, 4)),
        ("TBC", "ongoing", None, None),
    ],
)
def test_read_when_reads_what_plans_write(text: str, kind: str, start: dt.date | None, end: dt.date | None) -> None:
    when = read_when(text, academic_year=2019)
    assert when is not None and (when.kind, when.start, when.end) == (kind, start, end)


def test_read_when_refuses_what_is_no_date_and_terms_without_a_year() -> None:
    assert read_when("When the new head starts") is None
    assert read_when("Autumn term") is None  # no year given and none known
    assert read_when("Spring 2 2024") is not None and read_when("Spring 2 2024").kind == "half_term"  # type: ignore[union-attr]


def test_strict_days_and_cells() -> None:
    assert parse_day("27.10.25") == dt.date(2025, 10, 27) and parse_day("27 Oct") is None
    assert parse_day("31/02/2025") is None
    assert cell_date("01/09/2025") == dt.date(2025, 9, 1)
    assert cell_date("1 Sept 2025") == dt.date(2025, 9, 1)
    assert cell_date("2025-09-01 00:00:00") == dt.date(2025, 9, 1)
    assert cell_date("2019") == dt.date(2019, 9, 1)
    assert cell_date("", None) is None
    assert cell_date("x", dt.datetime(2024, 1, 2, 9, 0)) == dt.date(2024, 1, 2)
    with pytest.raises(ValueError):
        cell_date("next year")
