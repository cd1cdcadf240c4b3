"""Every reply passes through gettext: a pseudo-translation changes what a member sees, and dates follow
the locale through Babel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from core import i18n
from storage.members import Member
from tests.harness import ChatDriver, Users


@pytest.fixture
def pseudo_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A catalog 'en_XA' that upper-cases a few of the bot's own strings."""
    catalog = Catalog(locale="en_GB")
    for msgid in (
        "What I can do for you",
        "what I can do",
        "Or just type a name, a school or a specialism to search.",
        "I don't know /{command}. Send /help to see what I can do.",
    ):
        catalog.add(msgid, msgid.upper().replace("{COMMAND}", "{command}"))
    target = tmp_path / "en_XA" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "messages.mo", "wb") as handle:
        write_mo(handle, catalog)
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n._translations.cache_clear()
    yield "en_XA"
    i18n._translations.cache_clear()


async def test_replies_follow_the_members_locale(
    chat: ChatDriver, users: Users, sessionmaker, pseudo_locale: str
) -> None:
    async with sessionmaker.begin() as session:
        (await session.get(Member, users.member)).locale = pseudo_locale
    sent = await chat.send("/help", user=users.member)
    assert "WHAT I CAN DO FOR YOU" in sent[0].text
    assert "/help — WHAT I CAN DO" in sent[0].text
    sent = await chat.send("/nonsense", user=users.member)
    assert sent[0].text.startswith("I DON'T KNOW /nonsense.")
    # Someone else, in the default locale, is unaffected.
    sent = await chat.send("/help", user=users.lead)
    assert "What I can do for you" in sent[0].text


def test_dates_are_uk_style() -> None:
    assert i18n.format_date(dt.date(2025, 9, 1)) == "1 Sept 2025"
    assert i18n.format_date(None) == ""
    token = i18n.current_locale.set("fr_FR")
    try:
        assert i18n.format_date(dt.date(2025, 9, 1)) == "1 sept. 2025"
    finally:
        i18n.current_locale.reset(token)


def test_catalog_holds_every_translatable_string() -> None:
    """`make locales` was run after the last new string: the template lists every msgid in the code."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    keywords = {**DEFAULT_KEYWORDS, "t": None, "N_": None, "describe": (3,), "ngettext": (1, 2)}
    in_code: set[str] = set()
    for folder in ("core", "handlers", "directory", "plans", "storage"):
        for _file, _line, message, _comments, _context in extract_from_dir(root / folder, keywords=keywords):
            in_code.add(message[0] if isinstance(message, tuple) else message)
    with open(root / "locales" / "messages.pot", "rb") as handle:
        template = {m.id[0] if isinstance(m.id, tuple) else m.id for m in read_po(handle) if m.id}
    missing = sorted(m for m in in_code - template if m)
    assert not missing, f"run `make locales`: {len(missing)} strings are not in the catalog, e.g. {missing[:3]}"


def test_babel_extracts_t_only_from_calls() -> None:
    """The `t` keyword is a one-letter name: Babel also extracts `t["columns"]` when a loop variable is
    called `t` (Babel 2.19 does). Every msgid it takes for `t` must come from a real `t("...")` call."""
    import ast

    from babel.messages.extract import extract_from_dir

    root = Path(__file__).resolve().parent.parent
    extracted: set[tuple[str, str]] = set()
    called: set[tuple[str, str]] = set()
    for folder in ("core", "handlers", "directory", "plans", "storage"):
        for file, _line, message, _comments, _context in extract_from_dir(root / folder, keywords={"t": None}):
            extracted.add((f"{folder}/{file}", message[0] if isinstance(message, tuple) else message))
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "t"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    called.add((path.relative_to(root).as_posix(), node.args[0].value))
    stray = sorted(extracted - called)
    assert not stray, f"rename the variable `t` where these were extracted: {stray[:5]}"
