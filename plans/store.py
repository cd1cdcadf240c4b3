"""The action-plan store: saving an imported plan, finding plans, and building the view exports use.

Functions take an `AsyncSession` (the caller owns the transaction) or return `select()` statements.
Owners are linked to directory people by name ("L Draycott" ↔ "Lesley Draycott": initial and surname;
full names tolerate small misspellings); an owner no one matches, or more than one person matches,
is kept as text only. Imported RAG history becomes `ProgressUpdate` rows with kind="import".
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, utils
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from directory.normalise import person_tokens
from plans.export import ActionView, PlanView, SectionView
from plans.importer import ParsedPlan, PlanWarning
from plans.progress import effective_updates
from plans.rag import parse_rag_set
from plans.terms import LONDON, Term, current_term, terms_between
from storage import audit
from storage.directory import Person
from storage.plans import Action, ActionOwner, Plan, ProgressUpdate, Section

NAME_THRESHOLD = 88.0
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
    words = _tokens(name)
    if len(words) < 2:
        return None, []
    first, surname = words[0], " ".join(words[1:])
    scored: list[tuple[float, int]] = []
    for person in people:
        p_first = " ".join(_tokens(person.first_name))
        p_last = " ".join(_tokens(person.last_name))
        if not p_last:
            continue
        last_score = fuzz.ratio(surname, p_last)
        if last_score < NAME_THRESHOLD:
            continue
        if len(first) == 1:
            if not p_first.startswith(first):
                continue
            score = last_score - 1  # an initial is a little less sure than a full first name
        else:
            first_score = max(fuzz.ratio(first, p_first), 100.0 if p_first.startswith(first) and len(first) >= 3
                              else 0.0)
            if first_score < NAME_THRESHOLD:
                continue
            score = (first_score + last_score) / 2
        scored.append((score, person.id))
    if not scored:
        return None, []
    scored.sort(reverse=True)
    best = scored[0][0]
    tied = sorted(pid for score, pid in scored if score >= best - 0.5)
    if len(tied) > 1:
        return None, tied
    return tied[0], tied


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
    same_title_plan_id: int | None = None  # an existing plan with the same title


async def _people(session: AsyncSession) -> list[PersonName]:
    rows = await session.execute(select(Person.id, Person.first_name, Person.last_name))
    return [PersonName(pid, first or "", last or "") for pid, first, last in rows]


def _term_time(term: Term, now: dt.datetime) -> dt.datetime:
    """When an imported rating is dated: noon on the term's last day, or now if that is still ahead."""
    end = dt.datetime.combine(term.end, dt.time(12, 0), tzinfo=LONDON).astimezone(dt.timezone.utc)
    return min(end, now)


async def save_plan(session: AsyncSession, parsed: ParsedPlan, actor_id: int | None,
                    dry_run: bool = False) -> PlanSummary:
    """Store a parsed plan: Plan, Sections, Actions, ActionOwners and imported ProgressUpdates, audited
    as "plan.import". With dry_run nothing is written; the summary says what would be."""
    people = await _people(session)
    cache: dict[str, tuple[int | None, list[int]]] = {}
    owners = linked = 0
    unlinked: list[str] = []
    ambiguous: list[str] = []
    for parsed_action in parsed.actions:
        for name in parsed_action.owners:
            key = name.lower()
            if key not in cache:
                cache[key] = match_person(name, people)
                pid, tied = cache[key]
                if pid is None and len(tied) > 1:
                    ambiguous.append(name)
                elif pid is None:
                    unlinked.append(name)
            owners += 1
            linked += cache[key][0] is not None
    # Compared here, not with SQL lower(): SQLite's leaves non-ASCII letters as they are.
    same = next((pid for pid, title in (await session.execute(select(Plan.id, Plan.title).order_by(Plan.id))).all()
                 if (title or "").lower() == parsed.title.lower()), None)
    updates = sum(len(a.history) for a in parsed.actions)
    summary = PlanSummary(
        plan_id=None, title=parsed.title, partnership=parsed.partnership, year=parsed.year,
        sections=len(parsed.sections), actions=len(parsed.actions), owners=owners, owners_linked=linked,
        unlinked_names=unlinked, ambiguous_names=ambiguous, updates=updates,
        terms=[Term(*t) for t in parsed.terms], warnings=list(parsed.warnings), dry_run=dry_run,
        same_title_plan_id=same)
    if dry_run:
        return summary

    now = clock.now()
    plan = Plan(title=parsed.title[:300], partnership=(parsed.partnership or None) and parsed.partnership[:200],
                year=parsed.year, success_criteria=parsed.success_criteria, rag_set=parsed.rag_set,
                source_name=(parsed.source_name or None) and parsed.source_name[:300], updated_by=actor_id)
    session.add(plan)
    await session.flush()
    position = 0
    for s_index, parsed_section in enumerate(parsed.sections):
        section = Section(plan_id=plan.id, position=s_index, title=parsed_section.title[:300],
                          kpis=parsed_section.kpis or None)
        session.add(section)
        await session.flush()
        for parsed_action in parsed_section.actions:
            extra = dict(parsed_action.extra)
            action = Action(
                plan_id=plan.id, section_id=section.id, position=position, ref=parsed_action.ref,
                text=parsed_action.text, impact=parsed_action.impact or None,
                owners_text=parsed_action.owners_text or None, milestones=parsed_action.milestones,
                timeline=parsed_action.timeline or None, kpis=parsed_action.kpis or None,
                funding=parsed_action.funding or None, reporting=parsed_action.reporting or None,
                due_date=parsed_action.due_date, extra=extra, updated_by=actor_id)
            position += 1
            session.add(action)
            await session.flush()
            for name in parsed_action.owners:
                session.add(ActionOwner(action_id=action.id, person_id=cache[name.lower()][0], name=name[:200]))
            for update in parsed_action.history:
                term = Term(update.academic_year, update.term)
                session.add(ProgressUpdate(
                    action_id=action.id, rag=update.rag, comment=update.comment, academic_year=term.academic_year,
                    term=term.term, kind="import", author_id=None, author_label=IMPORT_LABEL,
                    created_at=_term_time(term, now)))
    await session.flush()
    summary.plan_id = plan.id
    audit.record(session, actor_id, "plan.import", "plan", plan.id, title=plan.title, source=plan.source_name,
                 sections=summary.sections, actions=summary.actions, owners_linked=linked, owners=owners,
                 updates=updates, warnings=len(parsed.warnings))
    return summary


# ---------------------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------------------

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
    scored = sorted(((fuzz.token_set_ratio(text, p.title, processor=utils.default_process),
                      fuzz.WRatio(text, p.title, processor=utils.default_process), -p.id, p) for p in plans),
                    key=lambda x: x[:3], reverse=True)
    if not scored or scored[0][0] < 70:
        return None
    return scored[0][3]


def actions_of_plan(plan_id: int) -> Select[tuple[Action]]:
    return select(Action).where(Action.plan_id == plan_id).order_by(Action.position, Action.id)


def updates_of_plan(plan_id: int) -> Select[tuple[ProgressUpdate]]:
    return (select(ProgressUpdate).join(Action, ProgressUpdate.action_id == Action.id)
            .where(Action.plan_id == plan_id).order_by(ProgressUpdate.id))


def latest_rag_per_term(plan_id: int) -> Select[tuple[ProgressUpdate]]:
    """The latest rating given for each action in each term (rows with a rating, not withdrawn, not
    replaced by a correction). One row per (action, academic_year, term)."""
    replaced = select(ProgressUpdate.replaces_id).where(ProgressUpdate.replaces_id.is_not(None))
    latest = (
        select(func.max(ProgressUpdate.id).label("id"))
        .join(Action, ProgressUpdate.action_id == Action.id)
        .where(Action.plan_id == plan_id, ProgressUpdate.rag.is_not(None), ProgressUpdate.kind != "withdrawal",
               ProgressUpdate.id.not_in(replaced))
        .group_by(ProgressUpdate.action_id, ProgressUpdate.academic_year, ProgressUpdate.term)
    ).subquery()
    return select(ProgressUpdate).where(ProgressUpdate.id.in_(select(latest.c.id))).order_by(
        ProgressUpdate.action_id, ProgressUpdate.academic_year, ProgressUpdate.term)


def _plan_terms(plan: Plan, seen: set[Term]) -> list[Term]:
    terms = set(seen)
    if plan.year and re.match(r"^\d{4}", plan.year):
        start = int(plan.year[:4])
        terms.update(Term(start, t) for t in ("autumn", "spring", "summer"))
    if not terms:
        terms.add(current_term())
    return terms_between(min(terms), max(terms))


async def build_plan_view(session: AsyncSession, plan_id: int) -> PlanView | None:
    """Everything an export or the RAG picture shows, as plain data; None when there is no such plan."""
    plan = await session.get(Plan, plan_id)
    if plan is None:
        return None
    sections = list((await session.scalars(select(Section).where(Section.plan_id == plan_id)
                                           .order_by(Section.position, Section.id))).all())
    section_titles = {s.id: s.title for s in sections}
    actions = list((await session.scalars(actions_of_plan(plan_id))).all())
    owner_rows = (await session.execute(
        select(ActionOwner.action_id, ActionOwner.name).join(Action, ActionOwner.action_id == Action.id)
        .where(Action.plan_id == plan_id).order_by(ActionOwner.id))).all()
    owners: dict[int, list[str]] = defaultdict(list)
    for action_id, name in owner_rows:
        owners[action_id].append(name)
    rows_by_action: dict[int, list[ProgressUpdate]] = defaultdict(list)
    for row in (await session.scalars(updates_of_plan(plan_id))).all():
        rows_by_action[row.action_id].append(row)

    views: list[ActionView] = []
    seen_terms: set[Term] = set()
    for action in actions:
        view = ActionView(
            id=action.id, ref=action.ref, text=action.text, section=section_titles.get(action.section_id or -1, ""),
            owners=owners.get(action.id, []), owners_text=action.owners_text or "",
            milestones=list(action.milestones or []), timeline=action.timeline or "", impact=action.impact or "",
            kpis=action.kpis or "", funding=action.funding or "", reporting=action.reporting or "",
            due_date=action.due_date)
        for row in effective_updates(rows_by_action.get(action.id, [])):
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
    return PlanView(
        id=plan.id, title=plan.title, partnership=plan.partnership, year=plan.year, rag_set=rag_set,
        terms=_plan_terms(plan, seen_terms), sections=[SectionView(s.title, s.kpis or "") for s in sections],
        actions=views, generated_at=clock.now())
