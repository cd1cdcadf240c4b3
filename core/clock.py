"""Time: one place to ask what time it is, so tests can run on a controlled clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

_now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)  # noqa: E731


def now() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return _now()


def set_clock(func: Callable[[], dt.datetime] | None) -> None:
    """Replace the clock (tests); None restores the real one."""
    global _now
    _now = func or (lambda: dt.datetime.now(dt.timezone.utc))


def source() -> Callable[[], dt.datetime]:
    """The clock in use now, so that it can be shifted and later restored (the console's `:later`)."""
    return _now
