"""The access walk: every registered command and every button prefix, tried by a stranger and (for what is
above them, or with forged ids) by a member, against a database full of personal data. No name, phone
number or email from the database reaches them, nobody else is messaged on their behalf, and nothing
changes but what a stranger may do (ask for access).

Commands and prefixes come from both places they exist: the folded manifests (handlers/manifest.py) and the
handlers actually registered on the Application, and the test first checks the two agree: a handler
registered without a declared role would be a hole."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
)

from handlers.manifest import features_of
from storage.directory import Person, School
from storage.members import AccessRequest, AuditEntry, Role
from storage.persistence import PERSIST_GROUP
from tests.dbtools import populate, snapshot
from tests.harness import ChatDriver, Users
from tests.plan_seed import seed_plan

ARGS = ["", "1", "999999 x", "9001 admin", "Draycott zoe@example.org"]
FORGED = ["1", "1:1:y", "2:0", "999999", "x"]
NONEXISTENT = ["999999", "999999:999999:y", "x", "-1"]
MAY_CHANGE = ("bot_state", "throttle", "access_request", "audit_log")
STRANGER_ACTIONS = {"access.request"}


def _handlers(app: Application) -> Iterable[BaseHandler]:
    def walk(handlers: Iterable[BaseHandler]) -> Iterable[BaseHandler]:
        for h in handlers:
            yield h
            if isinstance(h, ConversationHandler):
                yield from walk(h.entry_points)
                for state in h.states.values():
                    yield from walk(state)
                yield from walk(h.fallbacks)

    for group in app.handlers.values():
        yield from walk(group)


def registered_commands(app: Application) -> set[str]:
    return {c for h in _handlers(app) if isinstance(h, CommandHandler) for c in h.commands}


def registered_prefixes(app: Application) -> set[str]:
    out = set()
    for h in _handlers(app):
        if isinstance(h, CallbackQueryHandler) and h.pattern is not None:
            pattern = h.pattern.pattern if isinstance(h.pattern, re.Pattern) else str(h.pattern)
            match = re.match(r"\^([a-z0-9_]+):", pattern)
            assert match, f"callback pattern {pattern!r} does not start with a prefix"
            out.add(match.group(1))
    return out


async def _secrets(sessionmaker: Any, walker: int) -> list[str]:
    async with sessionmaker() as session:
        people = list(await session.scalars(select(Person)))
        schools = list(await session.scalars(select(School)))
        requests = list(await session.scalars(select(AccessRequest).where(AccessRequest.telegram_id != walker)))
    out = set()
    for p in people:
        out.update(v for v in (p.email, p.phone) if v)
        if p.first_name and p.last_name:
            out.add(f"{p.first_name} {p.last_name}")
        if len(p.last_name) >= 5:
            out.add(p.last_name)
    out.update(s.phone for s in schools if s.phone)
    out.update(r.name for r in requests if len(r.name) >= 5)
    return sorted(out)


def _leaks(sent: list[Any], secrets: list[str]) -> list[tuple[str, str]]:
    found = []
    for s in sent:
        text = " ".join(str(v) for v in (s.text, s.params.get("text"), s.buttons) if v)
        plain = html.unescape(re.sub(r"<[^>]+>", "", text))
        for secret in secrets:
            if secret in text or secret in plain:
                found.append((secret, f"{s.method}: {text[:120]}"))
    return found


async def _prepare(chat: ChatDriver, sessionmaker: Any) -> None:
    await populate(sessionmaker)
    await seed_plan(sessionmaker)
    async with sessionmaker.begin() as session:
        (await session.get(School, 1)).phone = "01632 960001"
    await chat.app.bot_data["services"].refresh_directory()


def test_every_handler_is_in_a_manifest(app: Application) -> None:
    declared = features_of(app)
    commands, prefixes = registered_commands(app), registered_prefixes(app)
    assert commands, "no commands found"
    assert commands <= set(declared.commands), f"commands with no role: {commands - set(declared.commands)}"
    assert prefixes <= set(declared.buttons), f"buttons with no role: {prefixes - set(declared.buttons)}"
    assert set(declared.buttons) <= prefixes, f"declared but unhandled: {set(declared.buttons) - prefixes}"


def test_every_callback_is_guarded(app: Application) -> None:
    """Each handler's callback is the guard registration wraps it in, carrying its declared role."""
    for handler in _handlers(app):
        if isinstance(handler, ConversationHandler) or getattr(handler, "callback", None) is None:
            continue
        if handler in app.handlers.get(-1, []) or handler in app.handlers.get(PERSIST_GROUP, []):
            continue  # the gate itself, and persistence's writer
        assert hasattr(handler.callback, "required_role"), f"{handler!r} has no role check"


async def _walk(chat: ChatDriver, walker: int, items: list[tuple[str, str]]) -> list[Any]:
    sent = []
    for kind, value in items:
        if kind == "send":
            sent += await chat.send(value, user=walker)
        else:
            sent += await chat.press(value, user=walker)
        await chat.send("/cancel", user=walker)
    return sent


async def _check_nothing_changed(sessionmaker: Any, before: dict, walker: int, allowed: set[str]) -> None:
    after = await snapshot(sessionmaker.kw["bind"], skip=MAY_CHANGE)
    assert after == {k: v for k, v in before.items() if k not in MAY_CHANGE and not k.startswith("__")}
    async with sessionmaker() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.id > before["__audit_max"])))
        requests = list(await session.scalars(select(AccessRequest).where(AccessRequest.telegram_id != walker)))
    assert {(e.action, e.actor_id) for e in entries} <= {(a, walker) for a in allowed}, entries
    assert [(r.id, r.status, r.decided_by) for r in requests] == before["__requests"]


async def _before(sessionmaker: Any, walker: int) -> dict:
    before = await snapshot(sessionmaker.kw["bind"])
    async with sessionmaker() as session:
        before["__audit_max"] = max([e.id for e in await session.scalars(select(AuditEntry))] or [0])
        before["__requests"] = [
            (r.id, r.status, r.decided_by)
            for r in await session.scalars(select(AccessRequest).where(AccessRequest.telegram_id != walker))
        ]
    return before


async def test_stranger_walks_everything(chat: ChatDriver, users: Users, sessionmaker) -> None:
    await _prepare(chat, sessionmaker)
    walker = users.stranger
    secrets = await _secrets(sessionmaker, walker)
    assert "zoe@example.org" in secrets and "Lucy Draycott" in secrets
    declared = features_of(chat.app)
    commands = sorted(set(declared.commands) | registered_commands(chat.app))
    prefixes = sorted(set(declared.buttons) | registered_prefixes(chat.app))
    items = [("send", f"/{c} {a}".strip()) for c in commands for a in ARGS]
    items += [("press", f"{p}:{f}") for p in prefixes for f in FORGED]
    items += [("send", t) for t in ("Draycott", "zoe@example.org", "01273 000000", "St Mary")]
    before = await _before(sessionmaker, walker)
    start = len(chat.sent)

    sent = await _walk(chat, walker, items)
    assert len(sent) >= len(items) > 300  # every command and button was answered
    sent += await chat.upload("directory.csv", b"Name,Email\nEve Intruder,eve@example.org\n", user=walker)

    assert not _leaks([s for s in sent if s.chat_id in (walker, None)], secrets)
    others = [s for s in chat.sent[start:] if s.chat_id not in (walker, None)]
    assert all("Access request" in s.text for s in others), [s.text[:80] for s in others]
    await _check_nothing_changed(sessionmaker, before, walker, STRANGER_ACTIONS)


async def test_member_walks_what_is_above_them_and_forges_ids(chat: ChatDriver, users: Users, sessionmaker) -> None:
    await _prepare(chat, sessionmaker)
    walker = users.member
    secrets = await _secrets(sessionmaker, walker)
    declared = features_of(chat.app)
    above = sorted(c for c, role in declared.commands.items() if role > Role.MEMBER)
    above_prefixes = sorted(p for p, role in declared.buttons.items() if role > Role.MEMBER)
    own_prefixes = sorted(p for p, role in declared.buttons.items() if role <= Role.MEMBER)
    assert above and above_prefixes
    items = [("send", f"/{c} {a}".strip()) for c in above for a in ARGS]
    items += [("press", f"{p}:{f}") for p in above_prefixes for f in FORGED]
    items += [("press", f"{p}:{f}") for p in own_prefixes for f in NONEXISTENT]
    before = await _before(sessionmaker, walker)
    start = len(chat.sent)

    sent = await _walk(chat, walker, items)
    assert len(sent) >= len(items) > 100  # every command and button was answered
    sent += await chat.upload("plan.csv", b"Action,Lead\n1.1 Do it,Eve\n", user=walker, caption="plan")

    assert not _leaks(sent, secrets)
    assert [s for s in chat.sent[start:] if s.chat_id not in (walker, None)] == []
    await _check_nothing_changed(sessionmaker, before, walker, set())
