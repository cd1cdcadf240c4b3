"""Hostile input, with hypothesis: odd Unicode, HTML, RTL and zero-width characters, 4096+ characters,
through every text entry point of the real Application, and empty, binary and random files through every
importer (directly and as uploads). Nothing raises to the user, every reply is valid Telegram HTML
(tests/telegram_html.py) of at most 4096 characters, and exported spreadsheets never hold a formula."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from core.offline import OfflineRequest, Sent
from core.settings import load_settings
from core.terms import Term
from directory.importer import DirectoryImportError, parse_directory_file
from handlers import fold_features
from plans.export import ActionView, PlanView, SectionView, export_csv, export_xlsx
from plans.importer import PlanImportError, parse_plan
from storage.db import make_engine, make_sessionmaker, upgrade_database
from tests.dbtools import populate
from tests.harness import USERS, ChatDriver, add_members
from tests.plan_seed import seed_plan
from tests.telegram_html import TelegramHtmlError, check

FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

NASTY = [
    "<b>",
    "</b>",
    "<i>x",
    "</a>",
    "<a href='javascript:alert(1)'>x</a>",
    "&",
    "&amp;",
    "&nbsp;",
    "&#0;",
    "<script>alert(1)</script>",
    "<",
    ">",
    "\u202e",
    "\u200f",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u0301",
    "👩‍🏫",
    "🏳️‍🌈",
    "مدرسة",
    "עברית",
    "𝕏",
    "Zoë",
    "O’Brien",
    "'; DROP TABLE person; --",
    "=SUM(A1)",
    "+44",
    "-1",
    "@x",
    "\t",
    "\r\n",
    "\n\n",
    "%s",
    "{name}",
    "{0}",
    "\\",
    '"',
    "/start",
    "1.1",
    "red",
    "amber",
    " ",
    "\u00a0",
    "\u2028",
    "\x7f",
    "\x01",
    "" + "x" * 70,
    "1" * 30,
]
# Telegram never delivers NUL characters or lone surrogates in a message.
ODD_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60)
PIECE = st.one_of(st.sampled_from(NASTY), ODD_TEXT)


@st.composite
def fuzz_text(draw: Any) -> str:
    text = "".join(draw(st.lists(PIECE, min_size=1, max_size=8)))
    if draw(st.integers(0, 5)) == 0:  # sometimes far over Telegram's 4096 characters
        text = (text or "x") * (4200 // max(1, len(text or "x")) + 1)
    assume(text.strip())
    return text


# --- a running bot, driven from synchronous hypothesis tests ----------------------------------------


class Bot:
    """The real Application over a populated SQLite database, on an event loop of its own."""

    def __init__(self, tmp: Path):
        self.runner = asyncio.Runner()
        self.url = f"sqlite+aiosqlite:///{tmp / 'fuzz.db'}"
        self.chat: ChatDriver = self.runner.run(self._start())

    async def _start(self) -> ChatDriver:
        from bot import build_application, start_services

        engine = make_engine(self.url)
        await upgrade_database(engine)
        sessionmaker = make_sessionmaker(engine)
        await add_members(sessionmaker)
        await populate(sessionmaker)
        await seed_plan(sessionmaker)
        await engine.dispose()
        settings_ = load_settings(
            database_url=self.url, admin_telegram_ids=(USERS.admin,), telegram_bot_token=None, search_limit_per_minute=0
        )
        request = OfflineRequest()
        self.app = build_application(settings_, request, rate_limit=False)
        await self.app.initialize()
        await start_services(self.app)
        return ChatDriver(self.app, request)

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    def close(self) -> None:
        async def stop() -> None:
            await self.app.shutdown()
            await self.app.bot_data["services"].close()

        self.runner.run(stop())
        self.runner.close()


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    bot = Bot(tmp_path_factory.mktemp("fuzz"))
    yield bot
    bot.close()


@pytest.fixture
def errors() -> Iterator[Errors]:
    handler = Errors()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def assert_replies_ok(sent: list[Sent], errors: Errors) -> None:
    if errors.records:
        record = errors.records[0]
        errors.records.clear()
        raise AssertionError(f"logged error: {record.getMessage()}") from (
            record.exc_info[1] if record.exc_info else None
        )
    for s in sent:
        if s.method in ("sendMessage", "editMessageText"):
            try:
                check(s.text)
            except TelegramHtmlError as exc:
                raise AssertionError(f"{s.method}: {exc}") from None
            assert "something went wrong" not in s.text, s.text
        elif s.method in ("sendDocument", "sendPhoto") and s.params.get("caption"):
            check(str(s.params["caption"]))
        elif s.method == "answerCallbackQuery" and s.params.get("text"):
            assert len(str(s.params["text"])) <= 200
        for _label, data in s.buttons:
            assert len(data.encode()) <= 64


def all_commands(bot: Bot) -> list[str]:
    return sorted(fold_features().commands)


async def _reset(chat: ChatDriver, user: int) -> None:
    await chat.send("/cancel", user=user)


# --- text entry points ---------------------------------------------------------------------------

ENTRY_POINTS = [
    "search_member",
    "search_stranger",
    "search_lead",
    "command_admin",
    "command_stranger",
    "access_request",
    "update_line",
    "update_guided",
    "newhead",
    "group_text",
]


async def _drive(bot: Bot, entry: str, text: str, command: str) -> list[Sent]:
    chat, u = bot.chat, USERS
    sent: list[Sent] = []
    if entry == "search_member":
        sent += await chat.send(text, user=u.member)
    elif entry == "search_stranger":
        sent += await chat.send(text, user=u.stranger)
    elif entry == "search_lead":
        sent += await chat.send(text, user=u.lead)
    elif entry == "command_admin":
        sent += await chat.send(f"/{command} {text}", user=u.admin)
        sent += await chat.send(text, user=u.admin)  # the answer to whatever it asked
        await _reset(chat, u.admin)
    elif entry == "command_stranger":
        sent += await chat.send(f"/{command} {text}", user=u.stranger)
    elif entry == "access_request":
        sent += await chat.press("ar:req", user=u.stranger)
        sent += await chat.send(text, user=u.stranger)
    elif entry == "update_line":
        sent += await chat.send(f"/update 1.1 green {text}", user=u.lead)
        confirm = [d for s in sent for _l, d in s.buttons if d.startswith("ups:")]
        if confirm:
            sent += await chat.press(confirm[-1], user=u.lead)
            sent += await chat.send("/plan", user=u.lead)  # the saved comment shown back
        await _reset(chat, u.lead)
    elif entry == "update_guided":
        sent += await chat.send("/update", user=u.lead)
        sent += await chat.send(text, user=u.lead)
        sent += await chat.send(text, user=u.lead)
        await _reset(chat, u.lead)
    elif entry == "newhead":
        sent += await chat.send("/newhead", user=u.member)
        for _i in range(3):
            sent += await chat.send(text, user=u.member)
        await _reset(chat, u.member)
    elif entry == "group_text":
        sent += await chat.send(text, user=u.member, chat=-100777)
        sent += await chat.send(f"/find {text}", user=u.member, chat=-100777)
    return sent


def test_every_command_takes_hostile_arguments(bot: Bot, errors: Errors) -> None:
    """Each registered command once with a long hostile argument, as admin and as a stranger."""
    nasty = "".join(NASTY) * 40
    assert len(nasty) > 4096
    for command in all_commands(bot):
        for user in (USERS.admin, USERS.stranger, USERS.member):
            sent = bot.run(bot.chat.send(f"/{command} {nasty}", user=user))
            sent += bot.run(bot.chat.send(nasty, user=user))
            assert_replies_ok(sent, errors)
            bot.run(_reset(bot.chat, user))


def _with_examples(test: Any) -> Any:
    """Every entry point at least with a realistic name and with a long hostile text, whatever is drawn."""
    for entry in ENTRY_POINTS:
        for text in ("Zoë O’Brien-Łukasiewicz, St Mary’s <b>Primary</b> & co", "".join(NASTY) * 40):
            test = example(entry=entry, text=text, pick=0)(test)
    return test


@FUZZ
@given(entry=st.sampled_from(ENTRY_POINTS), text=fuzz_text(), pick=st.integers(0, 10_000))
@_with_examples
def test_text_entry_points(bot: Bot, errors: Errors, entry: str, text: str, pick: int) -> None:
    errors.records.clear()
    commands = all_commands(bot)
    sent = bot.run(_drive(bot, entry, text, commands[pick % len(commands)]))
    assert sent, f"no answer at all to {entry}"
    assert_replies_ok(sent, errors)


# --- files --------------------------------------------------------------------------------------

SUFFIXES = [".csv", ".xlsx", ".docx", ".txt", ".md", ".tsv", ".xls", ".pdf", ".zip", ".ods", ".html", ""]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


FILE_BYTES = st.one_of(
    st.just(b""),
    st.just(b"   \n\t "),
    st.binary(max_size=2000),
    st.builds(lambda t: t.encode("utf-8", "surrogatepass"), ODD_TEXT),
    st.builds(
        lambda rows: "\n".join(",".join(r) for r in rows).encode(),
        st.lists(
            st.lists(
                st.sampled_from(NASTY + ["Name", "School", "Action", "Lead", "RAG", "URN", "Headteacher", "Email"]),
                max_size=6,
            ),
            max_size=8,
        ),
    ),
    st.builds(lambda b: b"PK\x03\x04" + b, st.binary(max_size=200)),
    st.builds(lambda b: _zip({"xl/workbook.xml": b, "word/document.xml": b}), st.binary(max_size=200)),
    st.builds(lambda b: b"\xd0\xcf\x11\xe0" + b, st.binary(max_size=50)),
    st.builds(lambda b: b"%PDF-1.4" + b, st.binary(max_size=50)),
    st.builds(
        lambda b: _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b}),
        st.binary(max_size=200),
    ),
    st.builds(lambda b: b"<table><tr><td rowspan=0 colspan=3>" + b, st.binary(max_size=200)),
    st.builds(lambda b: b"\xef\xbb\xbf" + b, st.binary(max_size=200)),
    st.builds(lambda b: b"\xff\xfe" + b, st.binary(max_size=200)),
)


@FUZZ
@given(data=FILE_BYTES, suffix=st.sampled_from(SUFFIXES))
def test_importers_refuse_bad_files_with_a_reason(data: bytes, suffix: str) -> None:
    for parse, allowed in ((parse_directory_file, DirectoryImportError), (parse_plan, PlanImportError)):
        try:
            parse(data, f"upload{suffix}")
        except allowed as exc:
            assert str(exc).strip(), f"{parse.__name__} refused without saying why"


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=FILE_BYTES, suffix=st.sampled_from(SUFFIXES), caption=st.one_of(st.none(), st.just("plan"), fuzz_text()))
def test_uploads_answer_politely(bot: Bot, errors: Errors, data: bytes, suffix: str, caption: str | None) -> None:
    errors.records.clear()
    for user in (USERS.coordinator, USERS.member, USERS.stranger):
        sent = bot.run(bot.chat.upload(f"file{suffix}", data, user=user, caption=caption))
        assert sent, "no answer to an upload"
        assert_replies_ok(sent, errors)
        bot.run(_reset(bot.chat, user))


# --- formula injection in exports ------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CELL = st.one_of(
    st.sampled_from(
        [
            "=1+1",
            '=HYPERLINK("http://x","y")',
            "+44 1273",
            "-2",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "=cmd|' /C calc'!A0",
            "'=already",
        ]
    ),
    ODD_TEXT,
)


def _view(texts: list[str]) -> PlanView:
    t = itertools.cycle(texts)
    term = Term(2025, "autumn")
    actions = [
        ActionView(
            id=i,
            ref=next(t),
            text=next(t),
            section=next(t),
            owners=[next(t)],
            owners_text=next(t),
            milestones=[{"text": next(t), "when": next(t)}],
            timeline=next(t),
            impact=next(t),
            kpis=next(t),
            funding=next(t),
            reporting=next(t),
            rag={term: "R"},
            comments={term: next(t)},
            latest_comment=next(t),
            latest_comment_by=next(t),
        )
        for i in range(2)
    ]
    return PlanView(
        id=1,
        title=next(t),
        partnership=next(t),
        year=next(t),
        terms=[term],
        sections=[SectionView(title=next(t), kpis=next(t))],
        actions=actions,
    )


@FUZZ
@given(texts=st.lists(CELL, min_size=1, max_size=12))
def test_exports_never_hold_a_formula(texts: list[str]) -> None:
    view = _view(texts)
    rows = list(csv.reader(io.StringIO(export_csv(view).decode("utf-8-sig"))))
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START), f"CSV cell {cell!r} would run as a formula"

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(export_xlsx(view)))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"XLSX cell {cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_START), f"XLSX cell {cell.value!r}"


# --- the checker itself ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "<b>bold</b> &amp; <i>it</i>",
        "a &lt;b&gt;",
        '<a href="https://x.org">x</a>',
        '<pre><code class="language-py">x</code></pre>',
        "<tg-spoiler>s</tg-spoiler>",
        '<span class="tg-spoiler">s</span>',
        "<blockquote expandable>q</blockquote>",
    ],
)
def test_checker_accepts_telegram_html(text: str) -> None:
    check(text)


@pytest.mark.parametrize(
    "text",
    [
        "<b>x",
        "x</b>",
        "<b><i>x</b></i>",
        "<div>x</div>",
        "<br/>",
        "a < b",
        "a > b",
        "a & b",
        "&nbsp;",
        "<a>x</a>",
        "<span>x</span>",
        "<b class='x'>x</b>",
        "",
        "x" * 4097,
        "<code><b>x</b></code>",
        "<!-- c -->",
    ],
)
def test_checker_rejects_what_telegram_rejects(text: str) -> None:
    with pytest.raises(TelegramHtmlError):
        check(text)
