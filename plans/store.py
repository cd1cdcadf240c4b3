"""The action-plan store: saving an imported plan, finding plans, and building the view exports use.

Functions take an `AsyncSession` (the caller owns the transaction) or return `select()` statements.
Owners are linked to directory people by name ("L Draycott" ↔ "Lesley Draycott": initial and surname;
full names tolerate small misspellings); an owner no one matches, or more than one person matches,
is kept as text only. Imported RAG history becomes `ProgressUpdate` rows with kind="import".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from rapidfuzz import fuzz, utils
from sqlalchemy import Select, func, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.i18n import _
from core.normalise import person_tokens
from core.terms import LONDON, Term, plan_span, term_for
from plans.export import ActionView, PlanView, SectionView, UpdateView
from plans.owners import (
    NAME_THRESHOLD,
    OwnerMatcher,
    PeopleIndex,
    best_of,
    matcher_for,
    name_score,
    split_owner_name,
)
from plans.parsed import ParsedPlan, PlanWarning
from plans.progress import effective_updates
from plans.rag import parse_rag_set
from plans.reimport import PlanDiff, reconcile
from storage import audit
from storage.directory import Person
from storage.import_lock import take_import_lock
from storage.plans import Action, ActionOwner, Plan, ProgressUpdate, Section

IMPORT_LABEL = "import"


# ---------------------------------------------------------------------------------------------------------
# Owner ↔ person matching (pure)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonName:
    id: int
    first_name: str
    last_name: str


def _tokens(text: str) -> list[str]:
    return person_tokens(text or "")


def match_person(name: str, people: Sequence[PersonName]) -> tuple[int | None, list[int]]:
    """(the person `name` means, or None; every candidate that matched equally well).

    'L Draycott' matches a person whose surname is Draycott (allowing a slip) and whose first name
    starts with L; 'Lesley Draycott' matches on the whole name. One clear best match or nothing.
    """
    query = split_owner_name(name)
    if query is None:
        return None, []
    first, surname = query
    scored: list[tuple[float, int]] = []
    for person in people:
        p_last = " ".join(_tokens(person.last_name))
        if not p_last:
            continue
        last_score = fuzz.ratio(surname, p_last)
        if last_score < NAME_THRESHOLD:
            continue
        score = name_score(first, " ".join(_tokens(person.first_name)), last_score)
        if score is not None:
            scored.append((score, person.id))
    return best_of(scored)


# ---------------------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------------------


@dataclass
class PlanSummary:
    plan_id: int | None
    title: str
    partnership: str | None
    year: str | None
    sections: int
    actions: int
    owners: int  # owner entries in all
    owners_linked: int  # entries linked to a directory person
    unlinked_names: list[str] = field(default_factory=list)  # distinct owner names kept as text
    ambiguous_names: list[str] = field(default_factory=list)  # names more than one person could be
    updates: int = 0  # progress rows from RAG columns
    terms: list[Term] = field(default_factory=list)
    warnings: list[PlanWarning] = field(default_factory=list)
    dry_run: bool = False
    same_title_plan_id: int | None = None  # an existing (active) plan with the same title
    diff: PlanDiff | None = None  # set when the import updates an existing plan

    @property
    def updates_plan(self) -> int | None:
        """The plan this import updates (None: it adds a new plan)."""
        return self.diff.plan_id if self.diff is not None else None


class NoSuchPlan(Exception):
    """`into` names no plan; str() is a translated sentence."""


async def _people(session: AsyncSession) -> list[PersonName]:
    rows = await session.execute(select(Person.id, Person.first_name, Person.last_name))
    return [PersonName(pid, first or "", last or "") for pid, first, last in rows]


def _term_time(term: Term, now: dt.datetime) -> dt.datetime:
    """When an imported rating is dated: noon on the term's last day, or now if that is still ahead."""
    end = dt.datetime.combine(term.end, dt.time(12, 0), tzinfo=LONDON).astimezone(dt.timezone.utc)
    return min(end, now)


async def same_title_plan(session: AsyncSession, title: str) -> int | None:
    """The newest active plan with this title (case-insensitive), or None."""
    # Compared here, not with SQL lower(): SQLite's leaves non-ASCII letters as they are.
    rows = (
        await session.execute(select(Plan.id, Plan.title).where(Plan.active.is_(True)).order_by(Plan.id.desc()))
    ).all()
    return next((pid for pid, plan_title in rows if (plan_title or "").lower() == title.lower()), None)


async def save_plan(
    session: AsyncSession,
    parsed: ParsedPlan,
    actor_id: int | None,
    dry_run: bool = False,
    *,
    into: int | None = None,
    as_new: bool = False,
    index: PeopleIndex | None = None,
) -> PlanSummary:
    """Store a parsed plan, audited as "plan.import" (a new plan) or "plan.reimport" (an update).

    Which plan: `into` (a plan's number) when given; else, unless `as_new`, the active plan with the same
    title, which is updated action by action (plans.reimport); else a new plan. Owner names are matched
    through `index` (the bot's in-memory directory) when given, else through the people in the database.
    With dry_run nothing is written (and no lock taken); the summary says what would be. Otherwise the
    database's import lock is taken first, so two imports of one file never make two plans."""
    if not dry_run:
        await take_import_lock(session)
    matcher = await matcher_for(index) if index is not None else OwnerMatcher.from_names(await _people(session))
    owner_ids: dict[str, int | None] = {}
    owners = linked = 0
    unlinked: list[str] = []
    ambiguous: list[str] = []
    # Each name is a few milliseconds of rapidfuzz over every surname, holding the interpreter: thirty names
    # in a row on the event loop held it for 60 ms. In a thread, the loop has its turn between names.
    distinct = list(dict.fromkeys(name.lower() for a in parsed.actions for name in a.owners))
    first_spelling = {name.lower(): name for a in reversed(parsed.actions) for name in reversed(a.owners)}
    answers = await asyncio.to_thread(lambda: {key: matcher.match(first_spelling[key]) for key in distinct})
    for parsed_action in parsed.actions:
        for name in parsed_action.owners:
            key = name.lower()
            if key not in owner_ids:
                pid, tied = answers[key]
                owner_ids[key] = pid
                if pid is None and len(tied) > 1:
                    ambiguous.append(name)
                elif pid is None:
                    unlinked.append(name)
            owners += 1
            linked += owner_ids[key] is not None
    same = await same_title_plan(session, parsed.title)
    target: Plan | None = None
    if into is not None:
        target = await session.get(Plan, into)
        if target is None:
            raise NoSuchPlan(_("There is no plan {number}.").format(number=into))
    elif same is not None and not as_new:
        target = await session.get(Plan, same)
    updates = sum(len(a.history) for a in parsed.actions)
    summary = PlanSummary(
        plan_id=target.id if target is not None else None,
        title=parsed.title,
        partnership=parsed.partnership,
        year=parsed.year,
        sections=len(parsed.sections),
        actions=len(parsed.actions),
        owners=owners,
        owners_linked=linked,
        unlinked_names=unlinked,
        ambiguous_names=ambiguous,
        updates=updates,
        terms=[Term(*t) for t in parsed.terms],
        warnings=list(parsed.warnings),
        dry_run=dry_run,
        same_title_plan_id=same,
    )
    now = clock.now()
    if target is not None:
        summary.diff = await reconcile(session, target, parsed, actor_id, owner_ids, now, dry_run)
        summary.title = target.title
        summary.updates = summary.diff.ratings
        if not dry_run:
            audit.record(
                session,
                actor_id,
                "plan.reimport",
                "plan",
                target.id,
                title=target.title,
                source=parsed.source_name[:300],
                added=len(summary.diff.added),
                changed=len(summary.diff.changed),
                archived=len(summary.diff.archived),
                restored=len(summary.diff.restored),
                updates=summary.diff.ratings,
                warnings=len(parsed.warnings),
            )
        return summary
    if dry_run:
        return summary

    plan = Plan(
        title=parsed.title[:300],
        partnership=(parsed.partnership or None) and parsed.partnership[:200],
        year=parsed.year,
        success_criteria=parsed.success_criteria,
        rag_set=parsed.rag_set,
        source_name=(parsed.source_name or None) and parsed.source_name[:300],
        updated_by=actor_id,
    )
    session.add(plan)
    await session.flush()
    await reconcile(session, plan, parsed, actor_id, owner_ids, now, dry_run=False)
    summary.plan_id = plan.id
    audit.record(
        session,
        actor_id,
        "plan.import",
        "plan",
        plan.id,
        title=plan.title,
        source=plan.source_name,
        sections=summary.sections,
        actions=summary.actions,
        owners_linked=linked,
        owners=owners,
        updates=updates,
        warnings=len(parsed.warnings),
    )
    return summary


# ---------------------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------------------


async def action_counts(session: AsyncSession) -> dict[int, int]:
    """Each plan's number of actions in force (archived ones left out)."""
    rows = await session.execute(
        select(Action.plan_id, func.count(Action.id)).where(Action.archived_at.is_(None)).group_by(Action.plan_id)
    )
    return {plan_id: n for plan_id, n in rows.all()}


def plans_list(include_inactive: bool = False) -> Select[tuple[Plan]]:
    """Plans by number (their id, as `partnerbot plans` lists them)."""
    stmt = select(Plan).order_by(Plan.id)
    if not include_inactive:
        stmt = stmt.where(Plan.active.is_(True))
    return stmt


def plan_lookup(key: str) -> Select[tuple[Plan]]:
    """Candidate plans for `key`: its number ('1', '#1') or words of its title (case-insensitive).
    `find_plan` adds a fuzzy match on titles when this finds nothing."""
    text = key.strip().lstrip("#").strip()
    if text.isdigit():
        return select(Plan).where(Plan.id == int(text))
    pattern = "%" + re.sub(r"([%_\\])", r"\\\1", text.lower()) + "%"
    return select(Plan).where(func.lower(Plan.title).like(pattern, escape="\\")).order_by(Plan.id)


async def find_plan(session: AsyncSession, key: str) -> Plan | None:
    """The plan `key` means: by number, by title words, or by the closest title (score ≥ 70)."""
    rows = list((await session.scalars(plan_lookup(key))).all())
    if len(rows) == 1:
        return rows[0]
    text = key.strip()
    plans = rows or list((await session.scalars(select(Plan).order_by(Plan.id))).all())
    if not plans or text.lstrip("#").isdigit():
        return None
    exact = [p for p in plans if p.title.lower() == text.lower()]
    if exact:
        return exact[-1]
    scored = sorted(
        (
            (
                fuzz.token_set_ratio(text, p.title, processor=utils.default_process),
                fuzz.WRatio(text, p.title, processor=utils.default_process),
                -p.id,
                p,
            )
            for p in plans
        ),
        key=lambda x: x[:3],
        reverse=True,
    )
    if not scored or scored[0][0] < 70:
        return None
    return scored[0][3]


def actions_of_plan(plan_id: int) -> Select[tuple[Action]]:
    """The plan's actions in order, without the archived ones."""
    return (
        select(Action)
        .where(Action.plan_id == plan_id, Action.archived_at.is_(None))
        .order_by(Action.position, Action.id)
    )


def _plan_terms(year: str | None, created_at: dt.datetime | None, seen: set[Term]) -> list[Term]:
    """The plan's span (core.terms.plan_span): its academic year(s) plus every term with an update."""
    made = term_for(created_at) if created_at else None
    return plan_span(year, seen, fallback=made)


class UpdateRow(NamedTuple):
    """The columns of a progress row that a plan view reads: a plain tuple, not an ORM object per row.
    `author_label` and `created_at` are read for the documents only (None in the board's read)."""

    id: int
    action_id: int
    rag: str | None
    comment: str | None
    academic_year: int
    term: str
    kind: str | None
    replaces_id: int | None
    author_label: str | None = None
    created_at: dt.datetime | None = None


def update_rows_of_plan(plan_id: int, details: bool = True) -> Select[Any]:
    """The `UpdateRow` columns of every progress row of the plan's live actions (archived actions are in no
    view), oldest first."""
    u = ProgressUpdate
    columns: list[Any] = [u.id, u.action_id, u.rag, u.comment, u.academic_year, u.term, u.kind, u.replaces_id]
    if details:
        columns += [u.author_label, u.created_at]
    return (
        select(*columns)
        .join(Action, u.action_id == Action.id)
        .where(Action.plan_id == plan_id, Action.archived_at.is_(None))
        .order_by(u.id)
    )


class TermCache(dict[tuple[int, str], Term]):
    """One `Term` per (academic year, term) for a whole plan: a plan's rows name a handful of terms."""

    def __missing__(self, key: tuple[int, str]) -> Term:
        term = self[key] = Term(*key)
        return term


def fold_updates(view: ActionView, rows: Sequence[UpdateRow], terms: TermCache, seen: set[Term]) -> None:
    """Pure: an action's progress rows (oldest first) into its view. Every row goes into the history; from the
    effective ones (plans.progress.effective_updates) come the rating and comment of each term (the latest
    given that term) and the latest comment of all. The one place this is worked out for every reader of a
    plan (exports, the report, the Mini App's board). The terms of effective rows are added to `seen`."""
    effective = effective_updates(rows)
    counting = {row.id for row in effective}
    view.history = [
        UpdateView(
            term=terms[row.academic_year, row.term],
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
        term = terms[row.academic_year, row.term]
        seen.add(term)
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


_ACTION_COLUMNS = (Action.id, Action.ref, Action.text, Action.section_id, Action.owners_text)
# What only the documents print: the board leaves these out (`details=False`).
_ACTION_DETAILS = (
    Action.milestones,
    Action.timeline,
    Action.impact,
    Action.kpis,
    Action.funding,
    Action.reporting,
    Action.due_date,
)


async def build_plan_view(session: AsyncSession, plan_id: int, *, details: bool = True) -> PlanView | None:
    """Everything an export, the report or the Mini App's board shows, as plain data; None when there is no
    such plan. With `details=False` (the board), what only the documents print is left empty: each action's
    milestones, timeline, impact, KPIs, funding, reporting and due date, each section's KPIs, and each
    progress row's author and time (so `latest_comment_by`/`_at` too). Ratings, comments, history rows and
    the span are the same either way.

    Five column-level SELECTs on the session's connection (the plan, its sections, its live actions, their
    owners, their progress rows), never ORM objects: the board reads this on the bot's event loop at every
    load, and an ORM object per row, with its identity-map bookkeeping, was most of its cost
    (benchmarks/WEBAPP.md)."""
    await session.flush()  # what the session holds unsaved is read too, as an ORM query would (autoflush)
    connection = await session.connection()
    plan = (
        await connection.execute(
            select(Plan.id, Plan.title, Plan.partnership, Plan.year, Plan.rag_set, Plan.created_at, Plan.active).where(
                Plan.id == plan_id
            )
        )
    ).first()
    if plan is None:
        return None
    sections = (
        await connection.execute(
            select(Section.id, Section.title, Section.kpis if details else null())
            .where(Section.plan_id == plan_id)
            .order_by(Section.position, Section.id)
        )
    ).all()
    section_titles = {s_id: title for s_id, title, _kpis in sections}
    actions = (
        await connection.execute(
            select(*_ACTION_COLUMNS, *(_ACTION_DETAILS if details else ()))
            .where(Action.plan_id == plan_id, Action.archived_at.is_(None))
            .order_by(Action.position, Action.id)
        )
    ).all()
    owner_rows = (
        await connection.execute(
            select(ActionOwner.action_id, ActionOwner.name, ActionOwner.person_id)
            .join(Action, ActionOwner.action_id == Action.id)
            .where(Action.plan_id == plan_id)
            .order_by(ActionOwner.id)
        )
    ).all()
    owners: dict[int, list[str]] = defaultdict(list)
    owner_people: dict[int, list[int]] = defaultdict(list)
    for action_id, name, person_id in owner_rows:
        owners[action_id].append(name)
        if person_id is not None:
            owner_people[action_id].append(person_id)
    rows_by_action: dict[int, list[UpdateRow]] = defaultdict(list)
    for row in (await connection.execute(update_rows_of_plan(plan_id, details))).all():
        update = UpdateRow(*row)
        rows_by_action[update.action_id].append(update)

    views: list[ActionView] = []
    terms = TermCache()
    seen_terms: set[Term] = set()
    for action in actions:
        view = ActionView(
            id=action.id,
            ref=action.ref,
            text=action.text,
            section=section_titles.get(action.section_id or -1, ""),
            owners=owners.get(action.id, []),
            owners_text=action.owners_text or "",
            owner_person_ids=owner_people.get(action.id, []),
        )
        if details:
            view.milestones = list(action.milestones or [])
            view.timeline = action.timeline or ""
            view.impact = action.impact or ""
            view.kpis = action.kpis or ""
            view.funding = action.funding or ""
            view.reporting = action.reporting or ""
            view.due_date = action.due_date
        fold_updates(view, rows_by_action.get(action.id, []), terms, seen_terms)
        views.append(view)
    try:
        rag_set = parse_rag_set(plan.rag_set)
    except ValueError:
        rag_set = ("R", "A", "G")
    return PlanView(
        id=plan.id,
        title=plan.title,
        partnership=plan.partnership,
        year=plan.year,
        rag_set=rag_set,
        terms=_plan_terms(plan.year, plan.created_at, seen_terms),
        sections=[SectionView(title, kpis or "") for _s_id, title, kpis in sections],
        actions=views,
        generated_at=clock.now(),
        active=bool(plan.active),
    )
