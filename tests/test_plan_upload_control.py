"""The coordinator in control of a plan import in the chat: the preview shows the mapping (which column
became which field), the counts, the term given to an unnamed RAG column and why, and the "not read" list;
buttons change a column's field, the header row and that term before Import; and the changed reading is what
is saved. The command line takes the same corrections as options. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import random

from sqlalchemy import func, select

from plans.cli import run_import_plan
from storage.plans import Action, ActionOwner, Plan, ProgressUpdate
from tests.harness import ChatDriver, Users
from tests.shared import EXAMPLE_PLANS
from tests.test_core_text import assert_valid

LA = EXAMPLE_PLANS / "la-monitoring-2019-20.csv"


def texts(sent) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(s.text or "" for s in sent)


def buttons(sent) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {label: data for s in sent for label, data in s.buttons}


def check_messages(sent) -> None:  # type: ignore[no-untyped-def]
    """Every message valid Telegram HTML within 4096 characters; every keyboard within 100 buttons and
    every button's data short (a prefix and numbers, within 64 bytes)."""
    for s in sent:
        if s.method in ("sendMessage", "editMessageText"):
            assert_valid(s.text)
        assert len(s.buttons) <= 100
        for _label, data in s.buttons:
            assert len(data.encode()) <= 64 and data.split(":")[0] in {"pi", "pix", "pu"}


async def _count(sessionmaker, model, *where) -> int:  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_preview_shows_mapping_and_a_changed_mapping_is_saved(
    chat: ChatDriver, users: Users, sessionmaker
) -> None:  # type: ignore[no-untyped-def]
    sent = await chat.upload(LA.name, LA.read_bytes(), user=users.coordinator)
    check_messages(sent)
    text = texts(sent)
    assert "Import this plan?" in text
    for line in (
        "Objective → Section / aim",
        "Key actions → Action",
        "Responsible officer → Owners",
        "Target date → Dates",
        "Status → RAG rating",
        "Commentary → Progress comment",
    ):
        assert line in text, line
    assert "7 actions" in text and "rows read" in text
    assert "Ratings in Status are filed under Spring 2020: the latest term its comments mention" in text
    assert "numbered by me" in text  # the plan has no references
    keys = buttons(sent)
    assert {"Import", "Cancel", "Columns…", "Term of ratings…"} <= set(keys)

    # Columns… → the owners column → Ignored: the file is read again and a new preview sent.
    columns = await chat.press(keys["Columns…"], user=users.coordinator)
    check_messages(columns)
    column = buttons(columns)["Responsible officer → Owners"]
    fields = await chat.press(column, user=users.coordinator)
    assert "✓ Owners" in buttons(fields)
    sent = await chat.press(buttons(fields)["Ignored"], user=users.coordinator)
    check_messages(sent)
    assert "Responsible officer → Ignored" in texts(sent)
    assert any(s.method == "editMessageReplyMarkup" and not s.buttons for s in sent)  # old buttons retired

    # Term of ratings… → Autumn 2019.
    terms = await chat.press(buttons(sent)["Term of ratings…"], user=users.coordinator)
    check_messages(terms)
    sent = await chat.press(buttons(terms)["Autumn 2019"], user=users.coordinator)
    check_messages(sent)
    assert "filed under Autumn 2019" in texts(sent) and "Responsible officer → Ignored" in texts(sent)
    old_import = keys["Import"]

    # Import saves the corrected reading: no owners, every rating in Autumn 2019.
    done = await chat.press(buttons(sent)["Import"], user=users.coordinator)
    assert "Imported plan 1" in texts(done)
    assert await _count(sessionmaker, Action) == 7
    assert await _count(sessionmaker, ActionOwner) == 0
    async with sessionmaker() as session:
        terms_saved = set((await session.execute(select(ProgressUpdate.academic_year, ProgressUpdate.term))).all())
    assert terms_saved == {(2019, "autumn")}
    # A button from an earlier preview answers politely and changes nothing.
    stale = await chat.press(old_import, user=users.coordinator)
    assert any("expired" in (s.params.get("text") or "") for s in stale)
    assert await _count(sessionmaker, Plan) == 1


async def test_header_row_and_target_plan_buttons(chat: ChatDriver, users: Users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    plan = (
        "Reading plan 2016-17\n\n| Ref | Action | Lead |\n|---|---|---|\n| 1.1 | Phonics training | L Draycott |\n"
        "| 1.2 | Reading buddies | K Shilton |\n"
    )
    sent = await chat.upload("plan.md", plan.encode(), user=users.coordinator, caption="plan")
    await chat.press(buttons(sent)["Import"], user=users.coordinator)
    sent = await chat.upload(
        "other.md", plan.replace("Reading plan", "Other plan").encode(), user=users.coordinator, caption="plan"
    )
    assert "Import this plan?" in texts(sent)
    # "Update an existing plan…" lists the plans; choosing plan 1 previews the differences with plan 1.
    choices = await chat.press(buttons(sent)["Update an existing plan…"], user=users.coordinator)
    assert buttons(choices)["1. Reading plan 2016-17"].endswith(":u:1")
    sent = await chat.press(buttons(choices)["1. Reading plan 2016-17"], user=users.coordinator)
    assert "Would update plan 1" in texts(sent) and "0 added, 0 changed, 0 archived" in texts(sent)
    assert "Update plan 1" in buttons(sent)
    # Header row… offers lines; a wrong choice is read as asked and the preview says what came of it.
    header = await chat.press(buttons(sent)["Header row…"], user=users.coordinator)
    lines = [label for label in buttons(header) if label.startswith("Line ")]
    assert "Line 4" in lines and "Line 3" not in lines  # line 3 is the header now
    back = await chat.press(buttons(header)["‹ Back"], user=users.coordinator)
    assert "Update plan 1" in buttons(back)
    await chat.press(buttons(sent)["Header row…"], user=users.coordinator)
    tried = await chat.press(buttons(header)["Line 4"], user=users.coordinator)  # the separator row
    check_messages(tried)
    said = texts(tried)
    assert "went wrong" not in said
    pressed = await chat.press(buttons(sent)["Update plan 1"], user=users.coordinator)
    if "could not read a plan" in said:
        # A reading that fails leaves the previous preview and its buttons as they were.
        assert "Updated plan 1" in texts(pressed)
    else:
        assert "Would update plan 1" in said, said
        assert any("expired" in (s.params.get("text") or "") for s in pressed)  # the new preview's buttons count
    assert await _count(sessionmaker, Plan) == 1
    async with sessionmaker() as session:
        assert (await session.get(Plan, 1)).title == "Reading plan 2016-17"


async def test_forged_and_random_buttons_change_nothing(chat: ChatDriver, users: Users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    sent = await chat.upload(LA.name, LA.read_bytes(), user=users.coordinator)
    token = buttons(sent)["Import"].split(":")[1]
    rng = random.Random(10)
    ops = ["c", "f", "a", "b", "h", "hr", "t", "tt", "p", "u", "n", "zz", ""]
    for _ in range(40):
        args = [
            rng.choice(["0", "1", "99", "-1", "x", "owner", "ignore", "2019", "a", "", "999999", "²", "٣"])
            for _ in range(rng.randint(0, 3))
        ]
        data = ":".join(["pu", rng.choice([token, "0", "x"]), rng.choice(ops), *args])[:64]
        answer = await chat.press(data, user=users.coordinator)
        check_messages([s for s in answer if s.method != "answerCallbackQuery"])
        assert not any("went wrong" in (s.text or "") for s in answer), data
    assert await _count(sessionmaker, Plan) == 0


async def test_command_line_takes_the_same_corrections(db_url, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    out, err = io.StringIO(), io.StringIO()
    assert await run_import_plan(db_url, LA, dry_run=True, out=out, err=err) == 0, err.getvalue()
    text = out.getvalue()
    assert "Responsible officer → Owners" in text and "filed under Spring 2020" in text
    out = io.StringIO()
    assert (
        await run_import_plan(
            db_url, LA, columns=["Responsible officer=ignore", "Commentary=extra"], term="Autumn 2019", out=out, err=err
        )
        == 0
    ), err.getvalue()
    text = out.getvalue()
    assert "Responsible officer → Ignored" in text and "Commentary → Extra detail" in text
    assert "filed under Autumn 2019" in text
    assert await _count(sessionmaker, ActionOwner) == 0
    async with sessionmaker() as session:
        saved = set((await session.execute(select(ProgressUpdate.academic_year, ProgressUpdate.term))).all())
        comments = [c for (c,) in (await session.execute(select(ProgressUpdate.comment))).all() if c]
        extra = [a.extra for a in (await session.scalars(select(Action))).all()]
    assert saved == {(2019, "autumn")} and not comments
    assert any("Commentary" in e for e in extra)


async def test_partnerbot_command_line_end_to_end(db_url, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.test_review_core import _in_thread

    monkeypatch.setenv("DATABASE_URL", db_url)
    assert (
        await _in_thread(["import", "plan", str(LA), "--column", "Responsible officer=ignore", "--term", "Autumn 2019"])
        == 0
    )
    out = capsys.readouterr().out
    assert "Imported plan 1" in out and "Responsible officer → Ignored" in out and "Autumn 2019" in out
    assert await _in_thread(["import", "plan", str(LA), "--term", "Autumn 2019", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Would update plan 1" in out and "Dry run" in out
    assert await _in_thread(["import", "plan", str(LA), "--column", "Nope"]) == 2
    assert "Header=field" in capsys.readouterr().err
    assert await _in_thread(["plans", "archive", "1"]) == 0
    assert "Archived plan 1" in capsys.readouterr().out
    assert await _in_thread(["plans"]) == 0
    assert "la monitoring" not in capsys.readouterr().out  # the archived plan is not listed by default
    assert await _in_thread(["plans", "--all"]) == 0
    assert "(archived)" in capsys.readouterr().out
    assert await _in_thread(["plans", "restore", "1"]) == 0
    assert "Restored plan 1" in capsys.readouterr().out


async def test_a_long_preview_is_valid_and_lists_what_it_leaves_out(chat: ChatDriver, users: Users) -> None:
    rows = "".join(f"| {i}.1 | Action <{i}> & more {'words ' * 12}| Lead {i} |\n" for i in range(1, 81))
    notes = "".join(f"\nNote {i}: <b>not</b> a table row & never will be {'x' * 80}\n" for i in range(120))
    plan = f"Big plan 2016-17\n\n| Ref | Action | Lead |\n|---|---|---|\n{rows}{notes}"
    sent = await chat.upload("big.md", plan.encode(), user=users.coordinator, caption="plan")
    check_messages(sent)
    text = texts(sent)
    assert "80 actions" in text
    raw = "\n".join(s.params.get("text", "") for s in sent)
    assert "<b>not</b>" not in raw  # the file's text is escaped, never markup
    assert "Not read (120)" in text and "… and 90 more (the command line lists them all)." in text
    assert len(sent) >= 1 and sent[-1].buttons  # the keyboard on the last part
