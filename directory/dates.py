"""UK dates for the directory: the one parser lives in `core.uk_dates` (kept here for existing imports)."""

from core.uk_dates import MONTHS, RECENT_DAYS, WEEKDAYS, parse_uk_date  # noqa: F401
