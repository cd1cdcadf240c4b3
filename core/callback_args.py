"""Callback data is the client's to send: an old message's button, or anything a modified client forges.
Every button's data is checked here before its callback runs (handlers/manifest.py wraps each one), so a
forged id never reaches a query. A number too large for its column raises in the driver instead of finding
nothing: beyond 64 bits on SQLite ("Python int too large to convert to SQLite INTEGER") and on PostgreSQL
BIGINT, beyond 32 bits on PostgreSQL INTEGER (most of our ids: `mapped_column(primary_key=True)`; the
append-only tables use storage.base.BigId).

The rule for every button: ASCII only, at most 64 bytes (Telegram's limit), at most MAX_PARTS parts after
the prefix, each of letters, digits and `_ . -` only; a part that is a number is written plainly (ASCII
digits, no `+`, `_` or leading zeros beyond "0") and lies within the 64-bit range. A button may declare
more with `args` (and should, where its data carries ids: only a declared `id` is held to its column's
range), one item per part, separated by ":":

    id        a row id or a small number (0 … 2^31-1: an INTEGER column on PostgreSQL)
    bigid     a BigId row id or a Telegram id (0 … 2^63-1: BIGINT)
    a|d|x     one of these words
    tok       a short token (letters, digits, `_ . -`): codes, dates, upload tokens
    part      a token, where a number is held to the id range (mixed words and ids: "c:3:7", "u:12")
    *         anything further that the rule above allows (only last)
    ITEM*     anything further, each part held to ITEM (only last): "id:tok:part*"
    ?         after an item: it and everything after it may be missing

e.g. `"a|d:id"` (bq:a:17), `"id:id?"` (sc:5 or sc:5:2), `"id:g|m|s"` (bk:9:g).

Every button declares its `args` (handlers/manifest.py refuses one without at start-up): an undeclared
number would only be held to 64 bits and could still reach an INTEGER column and raise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

MAX_ID = 2**31 - 1
MAX_BIGID = 2**63 - 1
MIN_INT = -(2**63)
MAX_PARTS = 8
MAX_BYTES = 64
PART_RE = re.compile(r"^[A-Za-z0-9_.\-]{0,48}$")
NUMBER_RE = re.compile(r"^-?[0-9]+$")
ID_RE = re.compile(r"^(0|[1-9][0-9]{0,18})$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,48}$")


def is_id(part: str, most: int = MAX_ID) -> bool:
    return bool(ID_RE.match(part)) and int(part) <= most


def _plain(part: str) -> bool:
    """Any part of any button: short, safe characters; a number within the 64-bit range."""
    if not PART_RE.match(part):
        return False
    if NUMBER_RE.match(part):
        return len(part) <= 20 and MIN_INT <= int(part) <= MAX_BIGID
    return True


def parts_of(prefix: str, data: object) -> list[str] | None:
    """The parts after `prefix:`, or None when the data breaks the rule every button follows."""
    if not isinstance(data, str) or not data.isascii() or len(data) > MAX_BYTES:
        return None
    head, sep, rest = data.partition(":")
    if head != prefix or not sep:
        return None
    parts = rest.split(":")
    if len(parts) > MAX_PARTS or not all(_plain(p) for p in parts):
        return None
    return parts


def _item(spec: str) -> Callable[[str], bool]:
    if spec == "id":
        return is_id
    if spec == "bigid":
        return lambda part: is_id(part, MAX_BIGID)
    if spec == "tok":
        return lambda part: bool(TOKEN_RE.match(part))
    if spec == "part":
        return lambda part: bool(TOKEN_RE.match(part)) and (not NUMBER_RE.match(part) or is_id(part))
    words = spec.split("|")
    if all(TOKEN_RE.match(w) for w in words):
        allowed = frozenset(words)
        return lambda part: part in allowed
    raise ValueError(f"unknown callback argument {spec!r}")


@lru_cache(maxsize=512)
def checker(prefix: str, args: str | None) -> Callable[[object], bool]:
    """The check for one button's data (built once per declaration; a bad `args` raises ValueError)."""
    if args is None:
        return lambda data: parts_of(prefix, data) is not None
    items = args.split(":")
    rest = items[-1].endswith("*")
    more: Callable[[str], bool] = lambda part: True  # noqa: E731 - the plain rule is checked by parts_of
    if rest:
        if items[-1] != "*":
            more = _item(items[-1][:-1])
        items = items[:-1]
    required = len(items)
    checks = []
    for i, item in enumerate(items):
        if item.endswith("?"):
            required = min(required, i)
            item = item[:-1]
        elif required < i:
            raise ValueError(f"{args!r}: a required part after an optional one")
        checks.append(_item(item))

    def check(data: object) -> bool:
        parts = parts_of(prefix, data)
        if parts is None or len(parts) < required or (len(parts) > len(checks) and not rest):
            return False
        return all(ok(part) for ok, part in zip(checks, parts, strict=False)) and all(
            more(part) for part in parts[len(checks) :]
        )

    return check
