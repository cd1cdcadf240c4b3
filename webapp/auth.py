"""Who is calling the Mini App's API: Telegram's signed init data, checked on every call.

The Mini App sends `window.Telegram.WebApp.initData` in the `Authorization: tma <initData>` header (never in
a URL, so it is in no access log). The signature (HMAC-SHA256 under the key HMAC-SHA256("WebAppData", bot
token), compared in constant time) and the age of `auth_date` are checked by init-data-py, a kept library,
rather than our own code. A valid signature only says which Telegram account is calling: what it may see is
read from the database on every call (webapp/server.py), so a role revoked while a page is open ends at the
next call.

The console signs its own init data with its own offline token (`sign`): that token is not a real bot's,
so a console link can never open a production bot's Mini App.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import init_data_py
from init_data_py import errors

from core import clock

SCHEME = "tma"
MAX_LENGTH = 8192  # real init data is well under 1 kB
FUTURE_SLACK = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    telegram_id: int
    auth_date: int


class AuthError(Exception):
    """No, or no valid, init data: the request gets 401 and nothing else."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # for the log line: missing | malformed | forged | expired (never the data)


def from_header(header: str | None) -> str:
    if not header:
        raise AuthError("missing")
    try:
        return init_data_py.strip_auth_header(header, scheme=SCHEME)
    except errors.InitDataPyError:
        raise AuthError("malformed") from None


def verify(init_data: str, token: str, max_age: int) -> Caller:
    """The caller, or AuthError. Any doubt refuses."""
    if len(init_data) > MAX_LENGTH:
        raise AuthError("malformed")
    now = clock.now()
    try:
        data = init_data_py.validate_by_hash(init_data, token, expires_in=max_age, now=now)
    except errors.ExpiredError:
        raise AuthError("expired") from None
    except Exception:  # noqa: BLE001 - forged, truncated or malformed: all the same to us
        raise AuthError("forged") from None
    user = data.user
    if user is None or user.id <= 0 or user.is_bot:
        raise AuthError("malformed")
    if dt.datetime.fromtimestamp(data.auth_date, dt.timezone.utc) > now + FUTURE_SLACK:
        raise AuthError("expired")  # signed in the future: not a clock we can trust
    return Caller(user.id, data.auth_date)


def sign(telegram_id: int, token: str, first_name: str = "", auth_date: dt.datetime | None = None) -> str:
    """Init data for `telegram_id` signed with `token`: the offline console's own link."""
    user = init_data_py.User(id=telegram_id, first_name=first_name or str(telegram_id))
    return init_data_py.sign(init_data_py.UnsignedInitData(user=user), token, auth_date=auth_date or clock.now())
