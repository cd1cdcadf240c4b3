"""Which account an admin's or coordinator's typed target means, for /grant, /revoke, /link and /unlink: the
one resolution they share, free of Telegram (the card, the "which one?" list and their buttons are in
handlers/access.py).

The rule (docs/ARCHITECTURE.md, "Identity: who is who"): a Telegram id means that account, whatever its
state (the command then says whether it qualifies); a name means only the active accounts already linked to a
directory entry of that name (`identity.accounts_of_people`), never a pending request and never an account's
self-declared name. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.person_picker import people_in
from storage import identity

Card = tuple[int, identity.Account | None]  # a Telegram id and its account (None: it never used the bot)
Eligible = Callable[[identity.Account | None], bool]


@dataclass(frozen=True)
class Target:
    """What was typed: a Telegram id, or else a name."""

    telegram_id: int | None = None
    name: str = ""


def telegram_id(text: str) -> int | None:
    """A Telegram id as typed or carried by a button: plain ASCII digits within 63 bits, above 0."""
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2**63 else None


def parse_target(text: str) -> Target | None:
    """None: the text is neither an id nor a name (empty, or digits that are no id: "²" is a digit too, and
    digits are never read as a name)."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        number = telegram_id(text)
        return Target(telegram_id=number) if number is not None else None
    return Target(name=text)


def anyone(_account: identity.Account | None) -> bool:
    """/grant: any account, even one that never used the bot (granting creates it)."""
    return True


def active(account: identity.Account | None) -> bool:
    """/revoke, /link: an account with access."""
    return account is not None and account.active


def linked(account: identity.Account | None) -> bool:
    """/unlink: an account linked to a directory entry."""
    return account is not None and account.person_id is not None


async def candidates(session: AsyncSession, index: Any, target: Target, eligible: Eligible) -> list[Card]:
    """The accounts `target` may mean that qualify for the command, in the directory's order of the names
    matched (`index`: the directory's search index, services.directory)."""
    if target.telegram_id is not None:
        cards: list[Card] = [(target.telegram_id, await identity.account(session, target.telegram_id))]
    else:
        people = people_in(index, target.name)
        accounts = await identity.accounts_of_people(session, [p.id for p in people])
        cards = [(a.telegram_id, a) for a in accounts]
    return [(tid, account) for tid, account in cards if eligible(account)]
