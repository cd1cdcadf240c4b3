"""Where a person is mentioned in free text, found and shown before an erasure, never guessed at.

A person's identity (their directory entry and accounts) gives the forms people write them in: the full
name, "Last, First", initials and surname ("L Draycott", "L. Draycott"), first name and initial
("Lesley D"), any of those after a title ("Mrs. L Draycott", "Dr Draycott"), the bare surname, their email,
and their phone in any common format (07700 900123, +44 7700 900123, 0044 7700-900-123: read by
`phonenumbers`, not by a pattern of our own).

`find_places` reads every text and JSON column of every table (from `Base.metadata`, so a new table is
covered without a change here) and returns each place (table, column, row key) that mentions them, with
a short excerpt for the admin. Columns that *are* another row's identity (another person's name, another
account's display name, the name a stranger typed into their own access request, an owner's or an author's
name while the row links them to someone) are not free text:
they are keyed to someone else and never offered for redaction, whatever they say (the namesake case).
`redact` replaces the mentions in one value, strings inside JSON included, with the pseudonym.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from sqlalchemy import JSON, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator, TypeEngine

from storage.base import Base

TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Sir", "Dame", "Rev")
MIN_SURNAME = 3  # a two-letter surname ("Li") alone would hit too many other words
REGION = "GB"

# A row's own identity, keyed to that row's subject: never a "mention" of someone else.
IDENTITY_COLUMNS = frozenset(
    {
        ("person", "title"),
        ("person", "first_name"),
        ("person", "last_name"),
        ("person", "email"),
        ("person", "phone"),
        ("member", "display_name"),
        ("access_request", "name"),
        ("access_request", "telegram_name"),
        ("access_request", "telegram_username"),
        ("member", "username"),
    }
)
# A name that is keyed to someone while the row says whose it is (an owner linked to a directory entry, an
# update's author): identity then, free text only when the link is empty.
KEYED_COLUMNS = {
    ("plan_action_owner", "name"): ("person_id",),
    ("progress_update", "author_label"): ("author_id", "author_person_id"),
    ("audit_log", "actor_label"): ("actor_id",),
}
# Technical text that is never about people (ids, codes, hashes).
SKIP_COLUMNS = frozenset({("bot_state", "kind"), ("bot_state", "key"), ("button_use", "data")})


@dataclass(frozen=True)
class Identity:
    """What identifies one person: their directory entry and the Telegram accounts linked to it."""

    person_id: int
    title: str = ""
    first: str = ""
    last: str = ""
    email: str = ""
    phones: tuple[str, ...] = ()
    telegram_ids: tuple[int, ...] = ()
    names: tuple[str, ...] = ()  # other whole names they are known by (an account's display name)
    handles: tuple[str, ...] = ()  # their accounts' @usernames

    @property
    def pseudonym(self) -> str:
        return pseudonym(self.person_id) if self.person_id else FORMER_MEMBER


FORMER_MEMBER = "former member"  # an account erased without a directory entry (retention)


def pseudonym(person_id: int) -> str:
    """The stable stand-in for an erased person: the same in every table, different for each person."""
    return f"former member #{person_id}" if person_id else FORMER_MEMBER


def _words(text: str) -> str:
    return r"\s+".join(re.escape(w) for w in text.split())


def name_pattern(identity: Identity) -> re.Pattern[str] | None:
    first, last = identity.first.strip(), identity.last.strip()
    forms: list[str] = []
    for whole in sorted({n.strip() for n in identity.names if len(n.split()) > 1}, key=len, reverse=True):
        forms.append(_words(whole))
    if first and last:
        initial = re.escape(first[0])
        forms += [
            _words(f"{first} {last}"),
            rf"{_words(last)},\s*{_words(first)}",
            rf"{initial}\.?\s*{_words(last)}",  # L Draycott, L. Draycott, L.Draycott
            rf"{_words(first)}\s+{re.escape(last[0])}(?:\.|(?!\w))",  # Lesley D, Lesley D.
        ]
    if last and len(last) >= MIN_SURNAME:
        forms.append(_words(last))
    if identity.email:
        forms.insert(0, re.escape(identity.email.strip()))
    forms[:0] = [rf"@?{re.escape(h.lstrip('@'))}" for h in identity.handles if len(h.lstrip("@")) >= MIN_SURNAME]
    if not forms:
        return None
    titles = r"(?:" + "|".join(TITLES) + r")\.?\s+"
    body = "|".join(forms)
    with_title = rf"|{titles}{_words(first)}" if first else ""  # "Dr Zoë", "Mrs Lesley": a title and a first name
    return re.compile(rf"(?<![\w@.])(?:(?:{titles})?(?:{body}){with_title})(?![\w@])", re.IGNORECASE)


def _e164(raw: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, REGION)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass
class Finder:
    """Finds one person's identifiers in text."""

    identity: Identity
    pattern: re.Pattern[str] | None = field(init=False)
    needles: tuple[str, ...] = field(init=False)
    phones: frozenset[str] = field(init=False)
    ids: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.pattern = name_pattern(self.identity)
        # Every name form contains the surname or the first name (or a whole other name): a cheap test
        # before the pattern, which most text fails.
        identity = self.identity
        self.needles = tuple(
            n.casefold()
            for n in {
                identity.first.strip(),
                identity.last.strip(),
                identity.email.strip(),
                *identity.names,
                *(h.lstrip("@") for h in identity.handles),
            }
            if n and n.strip()
        )
        self.phones = frozenset(p for p in (_e164(x) for x in self.identity.phones if x) if p)
        self.ids = tuple(str(i) for i in self.identity.telegram_ids)

    def spans(self, text: str) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        if self.pattern is not None:
            folded = text.casefold()
            if any(n in folded for n in self.needles):
                found += [m.span() for m in self.pattern.finditer(text)]
        if self.phones and sum(ch.isdigit() for ch in text) >= 7:
            for match in phonenumbers.PhoneNumberMatcher(text, REGION, leniency=phonenumbers.Leniency.POSSIBLE):
                if phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164) in self.phones:
                    found.append((match.start, match.end))
        for telegram_id in self.ids:
            found += [m.span() for m in re.finditer(rf"(?<!\d){telegram_id}(?!\d)", text)]
        merged: list[tuple[int, int]] = []
        for start, end in sorted(found):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def _id(self, key: Any, value: Any) -> bool:
        """A JSON number that is one of their ids: a Telegram id anywhere, the person id under a person key."""
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        if value in self.identity.telegram_ids:
            return True
        return isinstance(key, str) and key.endswith("person_id") and value == self.identity.person_id > 0

    def mentions(self, value: Any, key: Any = None) -> bool:
        if isinstance(value, dict):
            return any(self.mentions(k) or self.mentions(v, k) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return any(self.mentions(v, key) for v in value)
        if isinstance(value, str):
            return bool(self.spans(value))
        return self._id(key, value)

    def redact(self, value: Any, key: Any = None) -> Any:
        """`value` with every mention replaced by the pseudonym (strings inside lists and dicts too)."""
        if self._id(key, value):
            return self.identity.pseudonym
        if isinstance(value, str):
            out, last = [], 0
            for start, end in self.spans(value):
                out += [value[last:start], self.identity.pseudonym]
                last = end
            return "".join(out) + value[last:] if out else value
        if isinstance(value, list):
            return [self.redact(v, key) for v in value]
        if isinstance(value, dict):
            return {self.redact(k): self.redact(v, k) for k, v in value.items()}
        return value

    def redact_ids(self, value: Any, key: Any = None) -> Any:
        """`value` with only their ids (JSON numbers) replaced by the pseudonym: what is keyed to them."""
        if self._id(key, value):
            return self.identity.pseudonym
        if isinstance(value, list):
            return [self.redact_ids(v, key) for v in value]
        if isinstance(value, dict):
            return {k: self.redact_ids(v, k) for k, v in value.items()}
        return value

    def excerpt(self, value: Any, width: int = 60) -> str:
        for text in strings(value):
            spans = self.spans(text)
            if spans:
                start, end = spans[0]
                left, right = max(0, start - width // 2), min(len(text), end + width // 2)
                return ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")
        return ""


def strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings(v)


# --- places in the database -------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """One column of one row that mentions the person."""

    table: str
    column: str
    key: tuple[Any, ...]  # the row's primary key values
    excerpt: str = ""

    @property
    def ref(self) -> list[Any]:
        """JSON-ready, ids only: what a draft or an audit entry keeps of a place."""
        return [self.table, self.column, list(self.key)]

    def same(self, ref: Any) -> bool:
        return (
            isinstance(ref, list)
            and len(ref) == 3
            and ref[:2] == [self.table, self.column]
            and (json.dumps(ref[2], default=str) == json.dumps(list(self.key), default=str))
        )


def _base(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    while isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance if hasattr(type_, "impl_instance") else type_.impl  # type: ignore[assignment]
    return type_


def text_columns() -> dict[str, list[str]]:
    """Every table's free-text and JSON columns that are not part of its key."""
    out: dict[str, list[str]] = {}
    for tbl in Base.metadata.sorted_tables:
        cols = [
            c.name
            for c in tbl.columns
            if not c.primary_key
            and isinstance(_base(c.type), (String, Text, JSON))
            and (tbl.name, c.name) not in IDENTITY_COLUMNS | SKIP_COLUMNS
        ]
        if cols:
            out[tbl.name] = cols
    return out


async def find_places(session: AsyncSession, finder: Finder, skip: Any = None) -> list[Place]:
    """Every (table, column, row) whose free text mentions the person, in table order.
    `skip(table, row_mapping)` leaves out rows the erasure handles by identity (the person's own)."""
    places: list[Place] = []
    await session.flush()
    for name, cols in text_columns().items():
        tbl = Base.metadata.tables[name]
        keys = list(tbl.primary_key.columns)
        if not keys:
            continue
        for row in (await session.execute(select(tbl))).all():
            mapping = row._mapping
            if skip is not None and skip(name, mapping):
                continue
            for col in cols:
                value = mapping[col]
                keyed = KEYED_COLUMNS.get((name, col), ())
                if any(mapping[k] is not None for k in keyed):
                    continue  # keyed to someone else, whatever it says
                if value is not None and finder.mentions(value):
                    key = tuple(mapping[k.name] for k in keys)
                    places.append(Place(name, col, key, finder.excerpt(value)))
    return places
