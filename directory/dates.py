"""UK date parsing for chat input (pure: no Telegram, no database).

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

import datetime as dt
import re

RECENT_DAYS = 45

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}
WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
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
        num_day, num_month = int(match[1]), int(match[2])
        if match[3] is None:
            return _without_year(num_month, num_day, today) if 1 <= num_month <= 12 else None
        return _make(_year(match[3]), num_month, num_day)

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
