"""Per-user search counting in memory: how many searches each user ran in the current minute.

An ordinary search costs no database write, which keeps lookups quick. What happens to a user over the
limit lives above this: the row that records it in `storage/search_limits.py`, the reply and the note
to the coordinators in `handlers/search_limits.py`. A restart forgets at most one minute's counts,
which only lets a scraper start a fresh minute early.
"""

from __future__ import annotations

import datetime as dt

from core import clock


def window_start(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.timezone.utc).replace(second=0, microsecond=0)


class SearchCounter:
    """Searches per user in the current minute window, in memory."""

    def __init__(self) -> None:
        self._counts: dict[int, tuple[dt.datetime, int]] = {}

    def hit(self, telegram_id: int, now: dt.datetime | None = None) -> int:
        """Count one search; returns the number in this minute, this one included."""
        window = window_start(now or clock.now())
        start, count = self._counts.get(telegram_id, (window, 0))
        count = count + 1 if start == window else 1
        self._counts[telegram_id] = (window, count)
        if len(self._counts) > 10_000:  # forget users whose minute has passed
            self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
        return count


def judge(count: int, limit: int) -> bool:
    """May the `count`-th search of the minute run? `limit` <= 0 means no limit."""
    return limit <= 0 or count <= limit
