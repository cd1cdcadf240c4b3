"""Translation and locale-aware formatting: every user-facing string passes through here.

`_()` looks the message up in the catalog of the locale bound for the current update
(a context variable set by the access gate from the member's preference, falling back to
the configured default). Catalogs live in `locales/<locale>/LC_MESSAGES/messages.po` and are
compiled to `.mo` by `make` (pybabel compile); a missing `.mo` falls back to the source text.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import gettext
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

_default_locale = "en_GB"
current_locale: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_locale", default=None)


def set_default_locale(locale: str) -> None:
    global _default_locale
    _default_locale = locale


def active_locale() -> str:
    return current_locale.get() or _default_locale


@lru_cache(maxsize=16)
def _translations(locale: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, localedir=str(LOCALES_DIR), languages=[locale], fallback=True)


def _(message: str) -> str:
    """Translate `message` into the active locale ('' stays '': gettext would return the catalog header)."""
    if not message:
        return message
    return _translations(active_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations(active_locale()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (module-level constants)."""
    return message


def format_date(value: dt.date | None, format: str = "d MMM yyyy") -> str:
    """A UK-style date such as '1 Sept 2025' in the active locale; '' for None."""
    if value is None:
        return ""
    return _babel_format_date(value, format=format, locale=active_locale())


def format_datetime(value: dt.datetime | None, tz: dt.tzinfo | None = None, format: str = "d MMM yyyy, HH:mm") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return _babel_format_datetime(value, format=format, tzinfo=tz, locale=active_locale())


def format_period(days: int) -> str:
    """A number of days as people say it: "6 years" (2192 days), "18 months", "3 weeks", "90 days"."""
    years = round(days / 365.25)
    if years >= 1 and abs(days - years * 365.25) <= 2:
        return ngettext("{n} year", "{n} years", years).format(n=years)
    months = round(days / 30.44)
    if days > 180 and abs(days - months * 30.44) <= 2:
        return ngettext("{n} month", "{n} months", months).format(n=months)
    if days >= 14 and days % 7 == 0:
        return ngettext("{n} week", "{n} weeks", days // 7).format(n=days // 7)
    return ngettext("{n} day", "{n} days", days).format(n=days)
