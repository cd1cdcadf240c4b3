"""The one UK date parser, used by every command and importer (pure: no Telegram, no database).

- `parse_uk_date(text, today)`: one day as people type it in the chat (below);
- `parse_day(text)`: a day written in digits only ("27/10/2025", "2025-10-27"), for strict prompts;
- `cell_date(value, raw)`: a day in a spreadsheet cell (a real date, or text in UK order), ValueError if not;
- `read_when(text, academic_year)`: what a plan's date cell means, as a period: a day, a week ("w/c 3 Oct"),
  a month ("Mar-20", "October 2014", "May/June 2015"), a term ("Summer 2020", "Spr 17", "by end of Autumn
  term"), a half-term ("Aut 1"), a school year ("2019-20"), or ongoing ("On-going", "termly", "TBC").

`parse_uk_date(text, today)` understands what people type for a start date:

- numeric, always day first: "1/9/25", "01/09/2025", "1-9-2025", "1.9.25"; ISO "2025-09-01";
- words: "1 Sept 2025", "1st September", "Monday 1st of September 2025", "September 2025", "Sept 25";
- a month alone: "September" (the 1st of that month);
- "today", "tomorrow", "Monday", "next Monday".

Where no year is given, the date is the first such date that is not more than `RECENT_DAYS` in the past:
a head who started on 1 September and is registered on 10 September gets this year's date, while
"September" typed in November means next September.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from core.terms import Term, easter_sunday

RECENT_DAYS = 45

MONTHS = {
    "jan": 1,
    "january": 1,
    "feb": 2,
    "february": 2,
    "mar": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "may": 5,
    "jun": 6,
    "june": 6,
    "jul": 7,
    "july": 7,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "november": 11,
    "dec": 12,
    "december": 12,
}
WEEKDAYS = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}

_NUMERIC = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{2}|\d{4}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?$")
_YEAR = re.compile(r"^(\d{2}|\d{4})$")


def _year(text: str) -> int:
    value = int(text)
    return 2000 + value if value < 100 else value


def _make(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _without_year(month: int, day: int, today: dt.date) -> dt.date | None:
    """The first (month, day) not more than RECENT_DAYS before today."""
    earliest = today - dt.timedelta(days=RECENT_DAYS)
    for year in range(today.year - 1, today.year + 5):
        candidate = _make(year, month, day)
        if candidate is not None and candidate >= earliest:
            return candidate
    return None  # 29 February with no leap year near: refuse rather than guess


def parse_uk_date(text: str | None, today: dt.date) -> dt.date | None:
    """The date `text` means, read the UK way (day first), or None if it is not a date."""
    if not text:
        return None
    raw = text.strip().lower().rstrip(".")
    if not raw or len(raw) > 60:
        return None

    match = _ISO.match(raw)
    if match:
        return _make(int(match[1]), int(match[2]), int(match[3]))
    match = _NUMERIC.match(raw)
    if match:
        number_day, number_month = int(match[1]), int(match[2])
        if match[3] is None:
            return _without_year(number_month, number_day, today) if 1 <= number_month <= 12 else None
        return _make(_year(match[3]), number_month, number_day)

    words = [w for w in re.split(r"[\s,]+", raw.replace("’", "'")) if w and w not in {"the", "of", "on"}]
    if not words:
        return None
    if words == ["today"]:
        return today
    if words == ["tomorrow"]:
        return today + dt.timedelta(days=1)
    if len(words) <= 2 and words[-1] in WEEKDAYS and (len(words) == 1 or words[0] in {"next", "this"}):
        ahead = (WEEKDAYS[words[-1]] - today.weekday()) % 7 or 7
        return today + dt.timedelta(days=ahead)

    # Drop a leading weekday ("Monday 1 September").
    if words[0] in WEEKDAYS and len(words) > 1:
        words = words[1:]
    day: int | None = None
    month: int | None = None
    year: int | None = None
    for word in words:
        if word in MONTHS and month is None:
            month = MONTHS[word]
            continue
        if word.startswith("'") and _YEAR.match(word[1:]) and month is not None and year is None:
            year = _year(word[1:])  # "Sept '25"
            continue
        ordinal = _ORDINAL.match(word)
        if ordinal and day is None and year is None and (month is None or int(ordinal[1]) <= 31):
            day = int(ordinal[1])  # "1st September" or "September 1st"
            continue
        if _YEAR.match(word) and month is not None and year is None:
            year = _year(word)
            continue
        return None
    if month is None:
        return None
    if day is None:
        if year is not None:
            return _make(year, month, 1)
        # A month alone: the 1st of the next such month (or of this one if it began recently).
        return _without_year(month, 1, today)
    if year is None:
        return _without_year(month, day, today)
    return _make(year, month, day)


# ---------------------------------------------------------------------------------------------------------
# Strict days, cells, and the periods plans write
# ---------------------------------------------------------------------------------------------------------

_STRICT = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})")


def parse_day(text: str | None) -> dt.date | None:
    """'27/10/2025', '27-10-2025', '27.10.25' (UK order) or '2025-10-27'; anything else None."""
    value = (text or "").strip()
    match = _ISO.fullmatch(value)
    if match:
        return _make(int(match[1]), int(match[2]), int(match[3]))
    match = _STRICT.fullmatch(value)
    if match:
        return _make(_year(match[3]), int(match[2]), int(match[1]))
    return None


def cell_date(value: str, raw: object = None) -> dt.date | None:
    """A date from a spreadsheet cell: a real date, or text in UK order ('1/9/2025', '1 Sept 2025',
    'September 2025', '2025-09-01 00:00:00', a year alone = 1 September). '' → None; not a date → ValueError."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if not value or not value.strip():
        return None
    text = value.strip()
    text = re.sub(r"\s+\d{1,2}:\d\d(?::\d\d)?$", "", text)  # a time after the date
    if re.fullmatch(r"(19|20)\d\d", text):
        return dt.date(int(text), 9, 1)  # a year alone: headships start in September
    day = parse_day(text)
    if day is not None:
        return day
    match = re.fullmatch(r"(\d{4})/(\d{1,2})/(\d{1,2})", text)
    if match:
        day = _make(int(match[1]), int(match[2]), int(match[3]))
        if day is not None:
            return day
    words = [w for w in re.split(r"[\s,]+", text.lower()) if w]
    if words and any(w in MONTHS for w in words) and any(_YEAR.match(w) and len(w) == 4 for w in words):
        day = parse_uk_date(text, dt.date(2000, 1, 1))
        if day is not None:
            return day
    raise ValueError(value)


@dataclass(frozen=True)
class When:
    """A period a plan's date cell names. `start`/`end` are None for ongoing or undated ones."""

    kind: str  # day | week | month | half_term | term | year | ongoing
    start: dt.date | None
    end: dt.date | None
    text: str = ""
    term: tuple[int, str] | None = None  # (academic year, term) for terms and half-terms


_ONGOING = re.compile(
    r"^(?:on[- ]?going|ongoing|tbc|tba|termly|half[- ]termly|annually|weekly|monthly|"
    r"fortnightly|throughout(?: the year)?|as required|as needed|continuous|regularly|"
    r"immediate(?:ly)?|asap|each term|every term)$"
)
_LEAD = re.compile(
    r"^(?:(?:by|before|from|until|till|to|end of|the end of|start of|beginning of|mid|w/?c|"
    r"week commencing|week beginning|wb|no later than|deadline|due|in|during|the|"
    r"completed by)\s+)+"
)
_MON_YY = re.compile(r"^([a-z]{3,9})[\s\-/'.’]+(\d{2}|\d{4})$")
_TERM_WORDS = {
    "autumn": "autumn",
    "aut": "autumn",
    "michaelmas": "autumn",
    "spring": "spring",
    "spr": "spring",
    "summer": "summer",
    "sum": "summer",
    "smr": "summer",
}
_TERM = re.compile(
    r"^(autumn|aut|michaelmas|spring|spr|summer|sum|smr)\.?(?:\s*term)?(?:\s*([12])(?!\d))?"
    r"(?:[\s,'’\-]*(\d{4}|\d{2})(?:\s*[/\-]\s*(\d{2,4}))?)?(?:\s*term)?$"
)
_ACADEMIC = re.compile(r"^((?:19|20)\d\d)\s*[/\-]\s*((?:19|20)?\d\d)$")


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def read_when(text: str | None, academic_year: int | None = None, today: dt.date | None = None) -> When | None:
    """What a plan's date cell means (see the module doc); None when it is not a date at all.
    `academic_year` (the plan's, 2016 for 2016-17) dates terms and months that name no year."""
    if not text:
        return None
    raw = " ".join(text.strip().split())
    value = raw.lower().rstrip(".").replace("’", "'")
    if not value or len(value) > 80:
        return None
    if _ONGOING.match(value):
        return When("ongoing", None, None, raw)
    week = bool(re.match(r"^(?:w/?c|week commencing|week beginning|wb)\b", value))
    value = _LEAD.sub("", value).strip()
    value = re.sub(r"\s+(?:term|half[- ]term)$", lambda m: m.group(0) if _TERM.match(value) else "", value)
    if not value:
        return None
    # A day in digits, or in words with a month.
    day = parse_day(value)
    if (
        day is None
        and re.search(r"\d", value)
        and any(w in MONTHS for w in re.findall(r"[a-z]+", value))
        and re.match(r"^(?:[a-z]+\s+)?\d{1,2}(?:st|nd|rd|th)?\s", value)
    ):
        base = today or (dt.date(academic_year, 9, 1) if academic_year is not None else dt.date.today())
        day = parse_uk_date(value, base)
    if day is not None:
        if week:
            return When("week", day, day + dt.timedelta(days=6), raw)
        return When("day", day, day, raw)
    # A month: "Mar-20", "March 2020", "Sept '25", "May/June 2015", "October".
    match = _MON_YY.match(value)
    months = [w for w in re.split(r"[\s/&\-]+|\band\b|\bto\b", value) if w in MONTHS]
    year_match = re.search(r"\b((?:19|20)\d\d)\b", value)
    if match and match.group(1) in MONTHS:
        month, year = MONTHS[match.group(1)], _year(match.group(2))
        return When("month", dt.date(year, month, 1), _month_end(year, month), raw)
    if (
        months
        and (year_match or academic_year is not None)
        and not re.sub(r"(?:19|20)\d\d|[a-z]+|[\s/&\-,']", "", value)
    ):
        last = MONTHS[months[-1]]
        first = MONTHS[months[0]]
        if year_match:
            year = int(year_match.group(1))
            first_year = year if first <= last else year - 1
        else:
            assert academic_year is not None
            year = academic_year if last >= 9 else academic_year + 1
            first_year = academic_year if first >= 9 else academic_year + 1
        return When("month", dt.date(first_year, first, 1), _month_end(year, last), raw)
    # A term or half-term: "Summer 2020", "Spr 17", "Autumn term", "Aut 1", "Spring 2 2024".
    match = _TERM.match(value)
    if match:
        term = _TERM_WORDS[match.group(1)]
        half, y1, y2 = match.group(2), match.group(3), match.group(4)
        if y1:
            first_year = _year(y1)
            start_year = first_year if (y2 or term == "autumn") else first_year - 1
        elif academic_year is not None:
            start_year = academic_year
        else:
            return None
        period = Term(start_year, term)
        start, end = period.start, period.end
        if half:
            middle = start + (end - start) / 2
            start, end = (start, middle) if half == "1" else (middle + dt.timedelta(days=1), end)
            return When("half_term", start, end, raw, (start_year, term))
        return When("term", start, end, raw, (start_year, term))
    match = _ACADEMIC.match(value)
    if match:
        first_year, second = int(match.group(1)), int(match.group(2)[-2:])
        if (first_year + 1) % 100 == second:
            return When("year", dt.date(first_year, 9, 1), dt.date(first_year + 1, 8, 31), raw)
    if re.fullmatch(r"(?:19|20)\d\d", value):
        year = int(value)
        return When("year", dt.date(year, 1, 1), dt.date(year, 12, 31), raw)
    match = re.match(r"^(easter|christmas|whitsun)(?:\s+((?:19|20)\d\d))?$", value)
    if match and (match.group(2) or academic_year is not None):
        year = int(match.group(2)) if match.group(2) else (academic_year or 0) + (match.group(1) != "christmas")
        if match.group(1) == "christmas":
            return When("day", dt.date(year, 12, 25), dt.date(year, 12, 25), raw)
        easter = easter_sunday(year)
        if match.group(1) == "easter":
            return When("day", easter, easter, raw)
        return When("week", easter + dt.timedelta(days=49), easter + dt.timedelta(days=55), raw)
    return None
