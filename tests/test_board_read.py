"""The plan board's read is the old one, made light: for generated plans (sections, owners linked or not, several
terms, imported ratings and posted updates, corrections and withdrawals, archived actions, an archived plan), the
board's JSON for each kind of caller equals what the former ORM-object reader produced, and so does the plan view
the exports and the report are built from. On SQLite and PostgreSQL.

The former reader is kept here only, as the reference (`_former_plan_view`, `_former_board`): a copy of the code
that served the board before, word for word but for names."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.services import MemberInfo
from core.terms import Term, current_term, plan_span, term_for, term_label
from plans import progress
from plans.export import ActionView, PlanView, SectionView, UpdateView
from plans.progress import effective_updates
from plans.rag import parse_rag_set, rag_label, rag_meaning
from plans.store import build_plan_view
from storage.directory import Person
from storage.members import Member, Role
from storage.plans import Action, ActionOwner, Plan, PlanCoordinator, ProgressUpdate, Section
from tests import webapp_harness
from tests.harness import frozen_clock
from webapp import board as board_module
from webapp.board import BoardError, board

office = webapp_harness.office  # the fixture

# --------------------------------------------------------------------------------------------------------------
# The former reader (the reference)
# --------------------------------------------------------------------------------------------------------------


async def _former_plan_view(session: AsyncSession, plan_id: int) -> PlanView | None:
    plan = await session.get(Plan, plan_id)
    if plan is None:
        return None
    sections = list(
        (
            await session.scalars(
                select(Section).where(Section.plan_id == plan_id).order_by(Section.position, Section.id)
            )
        ).all()
    )
    section_titles = {s.id: s.title for s in sections}
    actions = list(
        (
            await session.scalars(
                select(Action)
                .where(Action.plan_id == plan_id, Action.archived_at.is_(None))
                .order_by(Action.position, Action.id)
            )
        ).all()
    )
    owner_rows = (
        await session.execute(
            select(ActionOwner.action_id, ActionOwner.name)
            .join(Action, ActionOwner.action_id == Action.id)
            .where(Action.plan_id == plan_id)
            .order_by(ActionOwner.id)
        )
    ).all()
    owners: dict[int, list[str]] = defaultdict(list)
    for action_id, name in owner_rows:
        owners[action_id].append(name)
    rows_by_action: dict[int, list[ProgressUpdate]] = defaultdict(list)
    updates = (
        select(ProgressUpdate)
        .join(Action, ProgressUpdate.action_id == Action.id)
        .where(Action.plan_id == plan_id)
        .order_by(ProgressUpdate.id)
    )
    for row in (await session.scalars(updates)).all():
        rows_by_action[row.action_id].append(row)

    views: list[ActionView] = []
    seen_terms: set[Term] = set()
    for action in actions:
        view = ActionView(
            id=action.id,
            ref=action.ref,
            text=action.text,
            section=section_titles.get(action.section_id or -1, ""),
            owners=owners.get(action.id, []),
            owners_text=action.owners_text or "",
            milestones=list(action.milestones or []),
            timeline=action.timeline or "",
            impact=action.impact or "",
            kpis=action.kpis or "",
            funding=action.funding or "",
            reporting=action.reporting or "",
            due_date=action.due_date,
        )
        rows = rows_by_action.get(action.id, [])
        effective = effective_updates(rows)
        counting = {row.id for row in effective}
        view.history = [
            UpdateView(
                term=Term(row.academic_year, row.term),
                rag=row.rag or "",
                comment=row.comment or "",
                author=row.author_label or "",
                at=row.created_at,
                kind=row.kind or "update",
                counts=row.id in counting,
            )
            for row in rows
        ]
        for row in effective:
            term = Term(row.academic_year, row.term)
            seen_terms.add(term)
            if row.rag:
                view.rag[term] = row.rag
            if row.comment:
                view.comments[term] = row.comment
                latest = view.latest_comment_term
                if latest is None or term >= latest:
                    view.latest_comment = row.comment
                    view.latest_comment_term = term
                    view.latest_comment_by = row.author_label or ""
                    view.latest_comment_at = row.created_at
        views.append(view)
    try:
        rag_set = parse_rag_set(plan.rag_set)
    except ValueError:
        rag_set = ("R", "A", "G")
    made = term_for(plan.created_at) if plan.created_at else None
    return PlanView(
        id=plan.id,
        title=plan.title,
        partnership=plan.partnership,
        year=plan.year,
        rag_set=rag_set,
        terms=plan_span(plan.year, seen_terms, fallback=made),
        sections=[SectionView(s.title, s.kpis or "") for s in sections],
        actions=views,
        generated_at=None,
    )


async def _former_board(session: AsyncSession, member: MemberInfo, plan_id: int) -> dict[str, Any]:
    plan = await session.get(Plan, plan_id)
    if plan is None or not plan.active:
        raise BoardError(404, "That plan is no longer available.")
    view = await _former_plan_view(session, plan_id)
    assert view is not None
    live = set(
        (await session.scalars(select(Action.id).where(Action.plan_id == plan_id, Action.archived_at.is_(None)))).all()
    )
    owned: set[int] = set()
    if member.person_id is not None:
        owned = set(
            (
                await session.scalars(
                    select(ActionOwner.action_id)
                    .join(Action, ActionOwner.action_id == Action.id)
                    .where(Action.plan_id == plan_id, ActionOwner.person_id == member.person_id)
                )
            ).all()
        )
    everything = member.role >= Role.COORDINATOR or await progress.is_plan_coordinator(session, member, plan_id)
    now_term = current_term()
    terms = [{"code": tm.code, "label": term_label(tm, short=True), "long": term_label(tm)} for tm in view.terms]
    actions = []
    for action in view.actions:
        if action.id not in live:
            continue
        updated_now = any(row.term == now_term and row.counts and row.kind != "import" for row in action.history)
        actions.append(
            {
                "id": action.id,
                "ref": action.ref,
                "text": action.text,
                "section": action.section,
                "owners": action.owners_display,
                "owner_list": action.owners or ([action.owners_text] if action.owners_text else []),
                "rag": {term.code: code for term, code in action.rag.items()},
                "comment": action.latest_comment,
                "comment_term": term_label(action.latest_comment_term) if action.latest_comment_term else "",
                "mine": action.id in owned,
                "can_update": everything or action.id in owned,
                "updated_this_term": updated_now,
            }
        )
    return {
        "id": view.id,
        "title": view.title,
        "term": {"code": now_term.code, "label": term_label(now_term)},
        "terms": terms,
        "rag_set": [{"code": c, "label": rag_label(c), "meaning": rag_meaning(c)} for c in view.rag_set],
        "sections": [s.title for s in view.sections if s.title],
        "actions": actions,
    }


# --------------------------------------------------------------------------------------------------------------
# Generated plans
# --------------------------------------------------------------------------------------------------------------

NOW = dt.datetime(2025, 11, 10, 9, 0, tzinfo=dt.timezone.utc)  # Autumn 2025
TERMS = [Term(2024, "summer"), Term(2025, "autumn"), Term(2025, "spring"), Term(2025, "summer"), Term(2026, "autumn")]


@dataclass
class Generated:
    plan_id: int
    archived_plan_id: int
    callers: list[MemberInfo]
    archived_action_terms: set[Term]  # terms only an archived action has updates in (never a column)


async def _generate(
    sessionmaker: async_sessionmaker[AsyncSession], seed: int, *, ids: tuple[int, ...] = (7001, 7002, 7003, 7004, 7005)
) -> Generated:
    """A plan whose every shape is drawn from `seed`; and callers: a coordinator, an owner of some actions, a
    linked member who owns none, a member with no directory link, and a plan coordinator (a lead)."""
    rng = random.Random(seed)
    async with sessionmaker.begin() as session:
        people = [Person(first_name=f"First{i}", last_name=f"Last{i}") for i in range(6)]
        session.add_all(people)
        await session.flush()
        rag_set = rng.choice(["R,A,G", "B,R,A,G", "R,A,G", "X"])  # "X": unreadable, read as R,A,G
        codes = parse_rag_set(rag_set) if rag_set != "X" else ("R", "A", "G")
        plan = Plan(
            title=f"Plan {seed}",
            partnership="Alliance",
            year=rng.choice(["2025-26", "2025-26", None, "2024-26"]),
            rag_set=rag_set,
        )
        archived = Plan(title=f"Old plan {seed}", year="2024-25", active=False, archived_at=NOW)
        session.add_all([plan, archived])
        await session.flush()
        sections = [
            Section(
                plan_id=plan.id,
                position=s,
                title=rng.choice([f"{s + 1}. Priority", ""]),
                kpis=rng.choice([None, "KPI"]),
            )
            for s in range(rng.randint(1, 4))
        ]
        session.add_all(sections)
        session.add(Section(plan_id=archived.id, position=0, title="Old"))
        await session.flush()
        actions: list[Action] = []
        archived_actions: list[Action] = []
        for n in range(rng.randint(4, 18)):
            is_archived = rng.random() < 0.2
            action = Action(
                plan_id=plan.id,
                section_id=rng.choice([s.id for s in sections] + [None]),
                position=rng.randint(0, 5),  # ties: the id decides
                ref=f"{n + 1}.{rng.randint(1, 9)}",
                text=f"Action {n} " + "word " * rng.randint(0, 12),
                owners_text=rng.choice(["TBC", "", "L Draycott", None]),
                milestones=rng.choice([[], [{"text": "Milestone", "date": "2026-01-15", "when": "January 2026"}]]),
                timeline=rng.choice([None, "Autumn"]),
                due_date=rng.choice([None, dt.date(2026, 7, 1)]),
                archived_at=NOW - dt.timedelta(days=3) if is_archived else None,
            )
            session.add(action)
            await session.flush()
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                person = rng.choice(people + [None])
                name = f"{person.first_name} {person.last_name}" if person else rng.choice(["M Rock", "Office"])
                session.add(ActionOwner(action_id=action.id, person_id=person.id if person else None, name=name))
            (archived_actions if is_archived else actions).append(action)
        # one archived action of the plan with updates in a term nothing live has: never a column
        lonely = Action(plan_id=plan.id, position=99, ref="zz", text="Gone", archived_at=NOW, owners_text="")
        session.add(lonely)
        old_action = Action(plan_id=archived.id, position=0, ref="1", text="Old action")
        session.add(old_action)
        await session.flush()
        session.add(ActionOwner(action_id=lonely.id, person_id=people[0].id, name="First0 Last0"))
        far = Term(2028, "spring")
        session.add_all(
            [
                ProgressUpdate(
                    action_id=lonely.id,
                    rag="R",
                    comment="far",
                    academic_year=far.academic_year,
                    term=far.term,
                    kind="update",
                    author_id=ids[0],
                    author_label="Coordinator",
                    created_at=NOW,
                ),
                ProgressUpdate(
                    action_id=old_action.id,
                    rag="G",
                    comment="old",
                    academic_year=2024,
                    term="summer",
                    kind="update",
                    author_id=ids[0],
                    author_label="Coordinator",
                    created_at=NOW,
                ),
            ]
        )
        await session.flush()

        # progress rows: imports, updates, corrections (and corrections of corrections), withdrawals
        authors = [(ids[0], "Coordinator"), (ids[1], "Owner"), (None, "")]
        for action in actions + archived_actions:
            posted: list[ProgressUpdate] = []
            for _ in range(rng.choice([0, 1, 2, 3, 5, 8])):
                term = rng.choice(TERMS)
                at = NOW - dt.timedelta(hours=rng.randint(0, 24 * 200))
                shape = rng.random()
                base = rng.choice(posted) if posted and shape < 0.35 else None
                if base is not None and base.kind != "withdrawal" and not any(p.replaces_id == base.id for p in posted):
                    withdraw = rng.random() < 0.4
                    row = ProgressUpdate(
                        action_id=action.id,
                        rag=None if withdraw else rng.choice([*codes, None]),
                        comment="" if withdraw else rng.choice(["", "corrected", "fixed the date"]),
                        academic_year=base.academic_year,
                        term=base.term,
                        kind="withdrawal" if withdraw else "correction",
                        replaces_id=base.id,
                        author_id=base.author_id,
                        author_label=base.author_label,
                        created_at=max(at, base.created_at),
                    )
                else:
                    author_id, label = rng.choice(authors)
                    imported = author_id is None
                    row = ProgressUpdate(
                        action_id=action.id,
                        rag=rng.choice([*codes, None]) if not imported else rng.choice(codes),
                        comment=rng.choice(["", "", "on course", "see the minutes", f"term note {rng.randint(1, 99)}"]),
                        academic_year=term.academic_year,
                        term=term.term,
                        kind="import" if imported else "update",
                        author_id=author_id,
                        author_label="imported" if imported else label,
                        created_at=at,
                    )
                session.add(row)
                await session.flush()
                posted.append(row)

        # callers
        owning = set(
            (
                await session.scalars(
                    select(ActionOwner.person_id).where(ActionOwner.action_id.in_([a.id for a in actions]))
                )
            ).all()
        )
        owner_person = next((p for p in people if p.id in owning), people[0])
        idle_person = Person(first_name="Idle", last_name="Member")
        session.add(idle_person)
        await session.flush()
        callers = [
            MemberInfo(ids[0], Role.COORDINATOR, None, "Coordinator"),
            MemberInfo(ids[1], Role.LEAD, owner_person.id, "Owner"),
            MemberInfo(ids[2], Role.MEMBER, idle_person.id, "Idle"),
            MemberInfo(ids[3], Role.MEMBER, None, "Unlinked"),
            MemberInfo(ids[4], Role.LEAD, people[-1].id, "Plan coordinator"),
        ]
        for caller in callers:
            existing = await session.get(Member, caller.telegram_id)
            if existing is not None:  # the chat harness's members: linked as the caller says
                existing.person_id = caller.person_id
            else:
                session.add(
                    Member(
                        telegram_id=caller.telegram_id,
                        role=caller.role.name.lower(),
                        person_id=caller.person_id,
                        display_name=caller.display_name,
                    )
                )
        session.add(PlanCoordinator(plan_id=plan.id, telegram_id=ids[4]))
        return Generated(plan.id, archived.id, callers, {far})


def _plain(view: PlanView) -> PlanView:
    """A view without what only the new reader fills in (who owns, whether active) or the time it ran."""
    actions = [dataclasses.replace(a, owner_person_ids=[]) for a in view.actions]
    return dataclasses.replace(view, generated_at=None, active=True, actions=actions)


def _without_details(view: PlanView) -> PlanView:
    """A full view with what `details=False` leaves out emptied (what only the documents print)."""
    actions = [
        dataclasses.replace(
            a,
            milestones=[],
            timeline="",
            impact="",
            kpis="",
            funding="",
            reporting="",
            due_date=None,
            latest_comment_by="",
            latest_comment_at=None,
            history=[dataclasses.replace(row, author="", at=None) for row in a.history],
        )
        for a in view.actions
    ]
    sections = [dataclasses.replace(s, kpis="") for s in view.sections]
    return dataclasses.replace(view, actions=actions, sections=sections, generated_at=None)


# --------------------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
async def test_board_equals_the_former_reader(sessionmaker, seed):
    now = NOW + dt.timedelta(days=[0, 90, 200, 300][seed % 4])  # autumn, spring, summer, next autumn
    with frozen_clock(now):
        made = await _generate(sessionmaker, seed)
        async with sessionmaker() as session:
            view = await build_plan_view(session, made.plan_id)
        async with sessionmaker() as session:
            former_view = await _former_plan_view(session, made.plan_id)
        assert view is not None and former_view is not None
        assert _plain(view) == _plain(former_view)
        async with sessionmaker() as session:
            lean = await build_plan_view(session, made.plan_id, details=False)
        assert lean is not None
        assert dataclasses.replace(lean, generated_at=None) == _without_details(view)
        assert not made.archived_action_terms & set(view.terms)
        # the generator made what it says: several terms, and some rows that no longer count
        history = [row for action in view.actions for row in action.history]
        assert len({row.term for row in history}) >= 2 or len(history) < 3
        mine_somewhere = False
        for caller in made.callers:
            async with sessionmaker() as session:
                new = await board(session, caller, made.plan_id)
            async with sessionmaker() as session:
                old = await _former_board(session, caller, made.plan_id)
            assert new == old, caller
            mine_somewhere |= any(a["mine"] for a in new["actions"])
            if caller.display_name == "Plan coordinator":
                assert all(a["can_update"] for a in new["actions"])
            if caller.display_name in ("Idle", "Unlinked"):
                assert not any(a["mine"] or a["can_update"] for a in new["actions"])
        assert mine_somewhere == any(made.callers[1].person_id in a.owner_person_ids for a in view.actions)
        for caller in made.callers[:2]:
            for plan_id in (made.archived_plan_id, made.plan_id + 1000):
                async with sessionmaker() as session:
                    with pytest.raises(BoardError) as refused:
                        await board(session, caller, plan_id)
                assert refused.value.status == 404


async def test_board_counts_every_kind_of_row(sessionmaker):
    """Over the generated plans, the equivalence covered what it should: corrections, withdrawals, imports,
    rows that no longer count, archived actions, owned actions and several terms."""
    kinds: set[str] = set()
    replaced = archived = owned = 0
    terms: set[Term] = set()
    with frozen_clock(NOW):
        for seed in range(8):
            made = await _generate(sessionmaker, seed, ids=tuple(8000 + 10 * seed + i for i in range(5)))
            async with sessionmaker() as session:
                view = await build_plan_view(session, made.plan_id)
                archived += len(
                    (
                        await session.scalars(
                            select(Action.id).where(Action.plan_id == made.plan_id, Action.archived_at.is_not(None))
                        )
                    ).all()
                )
            assert view is not None
            for action in view.actions:
                kinds |= {row.kind for row in action.history}
                replaced += sum(not row.counts for row in action.history)
                terms |= {row.term for row in action.history}
                owned += made.callers[1].person_id in action.owner_person_ids
    assert kinds == {"update", "correction", "withdrawal", "import"}
    assert replaced > 10 and archived > 8 and owned > 3 and len(terms) == len(TERMS)


async def test_board_over_http_equals_the_former_reader(office, users, sessionmaker):
    """Through the real route: what the page receives is the former reader's answer, for the harness's member,
    lead and coordinator (the lead owns some actions; the member coordinates the plan)."""
    with frozen_clock(NOW):
        made = await _generate(sessionmaker, 3, ids=(users.coordinator, users.lead, 7102, 7103, users.member))
        async with sessionmaker() as session:
            for telegram_id in (users.member, users.lead, users.coordinator):
                member = await session.get(Member, telegram_id)
                assert member is not None
                caller = MemberInfo.from_row(member)
                async with office.client() as client:
                    got = await client.get(f"/app/api/board/{made.plan_id}", headers=office.headers(telegram_id))
                assert got.status_code == 200, got.text
                async with sessionmaker() as former:
                    assert got.json() == await _former_board(former, caller, made.plan_id)
                if telegram_id == users.member:
                    assert all(a["can_update"] for a in got.json()["actions"])  # plan coordinator


def test_former_reader_is_not_the_module():
    """The reference is a copy, not the module's function under another name (else the test could not fail)."""
    assert _former_board is not board_module.board and _former_plan_view is not build_plan_view


async def test_a_correction_keeps_the_place_of_what_it_corrects(sessionmaker):
    """Red, then green, then the red corrected to amber, all this term: the latest rating given is the green (a
    correction takes the place of the update it corrects). The board, the exports' view and the chat's status
    read it from the one rule (plans.progress.effective_updates, folded by plans.store.fold_updates)."""
    with frozen_clock(NOW):
        async with sessionmaker.begin() as session:
            plan = Plan(title="One action", year="2025-26")
            session.add(plan)
            await session.flush()
            action = Action(plan_id=plan.id, ref="1.1", text="Reading")
            session.add(action)
            await session.flush()
            author = MemberInfo(7001, Role.COORDINATOR, None, "Coordinator")
            red = await progress.post_update(session, action.id, "R", "not started", author)
            await progress.post_update(session, action.id, "G", "done", author)
            await progress.correct_update(session, red.id, author, "A", "started")
            plan_id, action_id = plan.id, action.id
        caller = MemberInfo(7001, Role.COORDINATOR, None, "Coordinator")
        async with sessionmaker() as session:
            shown = await board(session, caller, plan_id)
            status = await progress.status_by_action(session, plan_id, current_term())
        async with sessionmaker() as session:
            assert shown == await _former_board(session, caller, plan_id)
    assert shown["actions"][0]["rag"] == {"2025-autumn": "G"} and shown["actions"][0]["comment"] == "done"
    assert status[action_id].rag_this_term == "G"
