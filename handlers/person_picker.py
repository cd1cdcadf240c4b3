"""Choosing a person by name for admin commands (/erase Draycott, /grant Draycott lead): the directory's
in-memory search index (services.directory) finds them, the admin picks one from buttons, then confirms.
Nobody is chosen by a number the admin would have to know."""

from __future__ import annotations

from typing import Any

from core.services import BotContext
from directory.search import PersonEntry

MAX_PICKS = 6


def people_named(context: BotContext, text: str, limit: int = MAX_PICKS) -> list[PersonEntry]:
    """The people whose name matches `text`, best first (schools and specialisms are left out)."""
    return people_in(context.services.directory, text, limit)


def people_in(index: Any, text: str, limit: int = MAX_PICKS) -> list[PersonEntry]:
    """`people_named` on a given index (the Mini App has the services, not a chat's context)."""
    if index is None or not text.strip():
        return []
    people = []
    for match in index.search(text.strip(), limit=limit * 2):
        if match.kind != "person":
            continue
        entry = index.person(match.id)
        if entry is not None:
            people.append(entry)
        if len(people) >= limit:
            break
    return people


def person_label(entry: PersonEntry) -> str:
    """How a person is told apart on a button: their name and school (or job)."""
    where = entry.school_name or entry.job_title or ""
    return f"{entry.full_name}, {where}" if where else entry.full_name
