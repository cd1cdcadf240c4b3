"""Importing a plan again updates it by reference (text changed, actions added, missing ones archived,
history kept); plans are archived and restored from the command line and the chat; the command line
takes the chat's choices as options. On SQLite and PostgreSQL."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from plans.cli import run_archive_plan, run_import_plan, run_list_plans
from plans.importer import parse_plan
from plans.store import save_plan
from storage.directory import Person
from storage.members import AuditEntry
from storage.plans import Action, ActionOwner, Plan, ProgressUpdate
from tests.harness import ChatDriver, Users

HEAD = "Reading Partnership Action Plan 2016-17\n\n| Ref | Action | Lead | Aut 16 | Spr 17 |\n|---|---|---|---|---|\n"
FIRST = HEAD + (
    "| 1.1 | Phonics training for all KS1 staff | L Draycott | G | A |\n"
    "| 1.2 | Reading buddies in Y5 | K Shilton | A | |\n"
    "| 1.3 | Library audit | M Rock | R | |\n"
)
SECOND = HEAD + (
    "| 1.1 | Phonics training for all KS1 and KS2 staff | L Draycott | G | A |\n"
    "| 1.3 | Library audit | M Rock | R | G |\n"
    "| 1.4 | Parent reading workshops | K Shilton | | A |\n"
)


def texts(sent) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(s.text or "" for s in sent)


def buttons(sent) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(label, data) for s in sent for label, data in s.buttons]


async def _count(session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_reimport_updates_adds_archives_and_keeps_history(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    async with sessionmaker.begin() as session:
        session.add(Person(first_name="Lesley", last_name="Draycott"))
        first = await save_plan(session, parse_plan(FIRST.encode(), "plan.md"), actor_id=1003)
    async with sessionmaker.begin() as session:
        buddies = await session.scalar(select(Action).where(Action.ref == "1.2"))
        session.add(
            ProgressUpdate(
                action_id=buddies.id,
                rag="G",
                comment="Going well",
                academic_year=2016,
                term="spring",
                kind="update",
                author_id=1002,
                author_label="Lead",
            )
        )
    async with sessionmaker.begin() as session:  # a dry run reports and writes nothing
        preview = await save_plan(session, parse_plan(SECOND.encode(), "plan.md"), actor_id=1003, dry_run=True)
    diff = preview.diff
    assert diff is not None and diff.plan_id == first.plan_id
    assert diff.added == [("1.4", "Parent reading workshops")]
    assert [(c.ref, c.fields) for c in diff.changed] == [("1.1", ["text"])]  # 1.3 only gains a rating
    assert diff.archived == [("1.2", "Reading buddies in Y5")]
    assert diff.ratings == 2  # 1.3's new Spring rating and 1.4's
    async with sessionmaker() as session:
        assert await _count(session, Action, Action.archived_at.is_not(None)) == 0

    async with sessionmaker.begin() as session:
        summary = await save_plan(session, parse_plan(SECOND.encode(), "plan.md"), actor_id=1003)
    assert summary.plan_id == first.plan_id
    async with sessionmaker() as session:
        assert await _count(session, Plan) == 1
        actions = {a.ref: a for a in (await session.scalars(select(Action))).all()}
        assert set(actions) == {"1.1", "1.2", "1.3", "1.4"}
        assert actions["1.1"].text == "Phonics training for all KS1 and KS2 staff"
        assert actions["1.2"].archived_at is not None and actions["1.1"].archived_at is None
        # History kept: the archived action's own update, and 1.1's ratings still on the same row.
        assert await _count(session, ProgressUpdate, ProgressUpdate.action_id == actions["1.2"].id) == 2
        assert await _count(session, ProgressUpdate, ProgressUpdate.action_id == actions["1.1"].id) == 2
        ratings = (
            await session.execute(
                select(ProgressUpdate.term, ProgressUpdate.rag)
                .where(ProgressUpdate.action_id == actions["1.3"].id)
                .order_by(ProgressUpdate.id)
            )
        ).all()
        assert ratings == [("autumn", "R"), ("spring", "G")]
        owner = await session.scalar(select(ActionOwner).where(ActionOwner.action_id == actions["1.1"].id))
        assert owner.name == "L Draycott" and owner.person_id is not None
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "plan.reimport"))
        assert audit.detail["added"] == 1 and audit.detail["archived"] == 1

    # The same file again changes nothing and adds no rows; the first file brings 1.2 back.
    async with sessionmaker.begin() as session:
        again = await save_plan(session, parse_plan(SECOND.encode(), "plan.md"), actor_id=1003)
    assert again.diff is not None and again.diff.changes == 0 and again.diff.unchanged == 3
    async with sessionmaker.begin() as session:
        back = await save_plan(session, parse_plan(FIRST.encode(), "plan.md"), actor_id=1003)
    assert back.diff is not None and back.diff.restored == [("1.2", "Reading buddies in Y5")]
    assert back.diff.archived == [("1.4", "Parent reading workshops")]
    async with sessionmaker() as session:
        assert await _count(session, ProgressUpdate) == 2 + 1 + 1 + 1 + 1 + 1  # nothing duplicated
        assert await _count(session, Action, Action.archived_at.is_(None)) == 3


async def test_cli_reimport_plan_option_new_and_archive(db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "first.md", tmp_path / "second.md"
    first.write_text(FIRST)
    second.write_text(SECOND.replace("Reading Partnership Action Plan", "Reading plan, revised"))
    out, err = io.StringIO(), io.StringIO()
    assert await run_import_plan(db_url, first, out=out, err=err) == 0, err.getvalue()
    # A different title is a new plan unless --plan says which plan the file is.
    out = io.StringIO()
    assert await run_import_plan(db_url, second, dry_run=True, plan=1, out=out, err=err) == 0
    text = out.getvalue()
    assert "Would update plan 1" in text and "1 added, 1 changed, 1 archived" in text, text
    assert "added 1.4: Parent reading workshops" in text and "archived 1.2: Reading buddies in Y5" in text
    assert "Dry run" in text
    out = io.StringIO()
    assert await run_import_plan(db_url, second, plan=1, out=out, err=err) == 0
    assert "Updated plan 1" in out.getvalue()
    assert await run_import_plan(db_url, first, new=True, out=io.StringIO(), err=err) == 0
    assert await run_import_plan(db_url, first, plan=9, out=io.StringIO(), err=(bad := io.StringIO())) == 1
    assert "no plan 9" in bad.getvalue()
    bad = io.StringIO()
    assert await run_import_plan(db_url, first, columns=["Lead"], out=io.StringIO(), err=bad) == 2
    assert "Header=field" in bad.getvalue()
    bad = io.StringIO()
    assert await run_import_plan(db_url, first, columns=["Lead=colour"], out=io.StringIO(), err=bad) == 2
    assert "not a field" in bad.getvalue()

    listing = io.StringIO()
    assert await run_list_plans(db_url, out=listing) == 0
    assert [line.split()[0] for line in listing.getvalue().splitlines()] == ["1", "2"]
    assert await run_archive_plan(db_url, 2, out=(said := io.StringIO())) == 0
    assert "Archived plan 2" in said.getvalue()
    listing = io.StringIO()
    await run_list_plans(db_url, out=listing)
    assert [line.split()[0] for line in listing.getvalue().splitlines()] == ["1"]
    listing = io.StringIO()
    await run_list_plans(db_url, include_inactive=True, out=listing)
    assert "(archived)" in listing.getvalue().splitlines()[1]
    assert await run_archive_plan(db_url, 2, archive=False, out=(said := io.StringIO())) == 0
    assert "Restored plan 2" in said.getvalue()
    assert await run_archive_plan(db_url, 7, out=io.StringIO(), err=(bad := io.StringIO())) == 1
    assert "no plan 7" in bad.getvalue()


async def test_chat_reimport_previews_differences_then_updates(chat: ChatDriver, users: Users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    sent = await chat.upload("plan.md", FIRST.encode(), user=users.coordinator, caption="plan")
    assert "Import this plan?" in texts(sent)
    token = next(data for _l, data in buttons(sent) if data.startswith("pi:"))
    assert "Imported plan 1" in texts(await chat.press(token, user=users.coordinator))

    sent = await chat.upload("plan.md", SECOND.encode(), user=users.coordinator, caption="plan")
    text = texts(sent)
    assert "Would update plan 1" in text and "Changes to plan 1" in text, text
    assert "1 added, 1 changed, 1 archived" in text
    assert "added 1.4: Parent reading workshops" in text and "archived 1.2: Reading buddies in Y5" in text
    labels = dict(buttons(sent))
    assert "Update plan 1" in labels and "Import as a new plan" in labels
    done = texts(await chat.press(labels["Update plan 1"], user=users.coordinator))
    assert "Updated plan 1" in done and "1 added, 1 changed, 1 archived" in done
    async with sessionmaker() as session:
        assert await _count(session, Plan) == 1
        assert await _count(session, Action, Action.archived_at.is_(None)) == 3
    # One plan: /update and /plan ask no "Which plan?", and the archived action is not offered.
    sent = await chat.send("/plan", user=users.lead)
    assert "Which plan" not in texts(sent)
    assert "Reading buddies" not in texts(sent)

    # "Import as a new plan" makes a second plan; then the plan picker has two plans ...
    sent = await chat.upload("plan.md", SECOND.encode(), user=users.coordinator, caption="plan")
    sent = await chat.press(dict(buttons(sent))["Import as a new plan"], user=users.coordinator)
    assert "Import this plan?" in texts(sent) and "already exists (number 1)" in texts(sent)
    await chat.press(dict(buttons(sent))["Import"], user=users.coordinator)
    picker = await chat.send("/plan", user=users.lead)
    assert [data for _l, data in buttons(picker)] == ["pv:1", "pv:2"]
    # ... until a coordinator archives one in /plans; Restore brings it back.
    listing = await chat.send("/plans", user=users.coordinator)
    assert dict(buttons(listing))["Archive 2"] == "pl:2:a"
    after = await chat.press("pl:2:a", user=users.coordinator)
    assert "archived" in texts(after) and dict(buttons(after))["Restore 2"] == "pl:2:r"
    assert "Which plan" not in texts(await chat.send("/plan", user=users.lead))
    async with sessionmaker() as session:
        plan = await session.get(Plan, 2)
        assert plan is not None and not plan.active and plan.archived_by == users.coordinator
        assert await _count(session, Action, Action.plan_id == 2) == 3  # nothing lost
    await chat.press("pl:2:r", user=users.coordinator)
    picker = await chat.send("/plan", user=users.lead)
    assert [data for _l, data in buttons(picker)] == ["pv:1", "pv:2"]
    # Forged and old buttons answer politely; members cannot archive.
    for forged in ("pl:99:a", "pl:²:a", "pl:1:x", "pl:1"):
        said = await chat.press(forged, user=users.coordinator)
        assert said and not any("went wrong" in (s.text or "") for s in said), forged
    await chat.press("pl:1:a", user=users.member)
    async with sessionmaker() as session:
        assert (await session.get(Plan, 1)).active


async def test_every_example_plan_imported_twice_changes_nothing_the_second_time(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    from tests.shared import EXAMPLE_PLANS

    files = sorted(p for p in EXAMPLE_PLANS.iterdir() if p.is_file())
    assert len(files) >= 5
    for path in files:
        parsed = parse_plan(path.read_bytes(), path.name)
        async with sessionmaker.begin() as session:
            first = await save_plan(session, parsed, actor_id=None)
        async with sessionmaker() as session:
            rows = await _count(session, ProgressUpdate)
        async with sessionmaker.begin() as session:
            again = await save_plan(session, parse_plan(path.read_bytes(), path.name), actor_id=None)
        assert again.diff is not None and again.diff.plan_id == first.plan_id, path.name
        assert again.diff.changes == 0 and again.diff.unchanged == len(parsed.actions), (path.name, again.diff)
        async with sessionmaker() as session:
            assert await _count(session, ProgressUpdate) == rows, path.name
    async with sessionmaker() as session:
        assert await _count(session, Plan) == len(files)


async def test_every_generated_plan_imported_twice_changes_nothing(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    """The corpus the reading tests write (layouts, encodings, half-terms, colours): a second import of the same
    file finds every action under its reference and adds no rows."""
    from tests.plan_corpus.generator import CORPUS, write

    for spec in CORPUS:
        data, name = write(spec)
        parsed = parse_plan(data, name)
        async with sessionmaker.begin() as session:
            await save_plan(session, parsed, actor_id=None, as_new=True)
        async with sessionmaker() as session:
            rows = await _count(session, ProgressUpdate)
            actions = await _count(session, Action)
        async with sessionmaker.begin() as session:
            again = await save_plan(session, parse_plan(data, name), actor_id=None)
        assert again.diff is not None and again.diff.changes == 0, (name, again.diff)
        async with sessionmaker() as session:
            assert (await _count(session, ProgressUpdate), await _count(session, Action)) == (rows, actions), name
