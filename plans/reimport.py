"""Importing a plan again updates the plan it already is, action by action by reference.

`reconcile(session, plan, parsed, ...)` compares the file with the stored plan and, unless it is a dry
run, brings the plan in line with the file:

- an action whose reference is in both keeps its row (so its progress history stays with it); its text and
  other fields are updated where the file changed them;
- an action only in the file is added; one that had been archived comes back ("restored");
- an action only in the plan is archived (`archived_at` set), never deleted: its history stays, and a later
  import with it brings it back;
- ratings and comments in the file's term columns are appended as "import" rows only where they differ
  from what the last import said for that term, so importing the same file twice adds nothing, and a lead's
  own update in the chat is not overwritten by an old value the file still holds.

The answer, a `PlanDiff`, is what the preview lists (added / changed / archived, with references).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import N_, _
from core.terms import Term
from plans.parsed import ParsedAction, ParsedPlan
from storage.plans import Action, ActionOwner, Plan, ProgressUpdate, Section

IMPORT_LABEL = "import"

# Stored field ← how the parsed action holds it; compared as text ("" and None alike).
_FIELDS: dict[str, Callable[[ParsedAction], Any]] = {
    "text": lambda a: a.text,
    "impact": lambda a: a.impact,
    "owners_text": lambda a: a.owners_text,
    "milestones": lambda a: a.milestones,
    "timeline": lambda a: a.timeline,
    "kpis": lambda a: a.kpis,
    "funding": lambda a: a.funding,
    "reporting": lambda a: a.reporting,
    "due_date": lambda a: a.due_date,
    "extra": lambda a: dict(a.extra),
    "aim": lambda a: getattr(a, "aim", "") or "",
}
FIELD_NAMES = {
    "text": N_("text"),
    "impact": N_("impact"),
    "owners_text": N_("owners"),
    "milestones": N_("milestones"),
    "timeline": N_("dates"),
    "kpis": N_("KPIs"),
    "funding": N_("funding"),
    "reporting": N_("reporting"),
    "due_date": N_("due date"),
    "extra": N_("extra detail"),
    "aim": N_("aim"),
    "section": N_("section"),
}


def field_name(code: str) -> str:
    return _(FIELD_NAMES.get(code, code))


@dataclass
class ActionChange:
    ref: str
    text: str
    fields: list[str] = field(default_factory=list)  # codes of FIELD_NAMES


@dataclass
class PlanDiff:
    plan_id: int
    title: str
    added: list[tuple[str, str]] = field(default_factory=list)  # (ref, text)
    changed: list[ActionChange] = field(default_factory=list)
    archived: list[tuple[str, str]] = field(default_factory=list)
    restored: list[tuple[str, str]] = field(default_factory=list)  # archived before, in the file again
    unchanged: int = 0
    ratings: int = 0  # rating / comment rows the file adds

    @property
    def changes(self) -> int:
        return len(self.added) + len(self.changed) + len(self.archived) + len(self.restored) + self.ratings


def _norm(value: Any) -> Any:
    return None if value is None or value == "" or value == [] or value == {} else value


def _same(stored: Any, parsed: Any) -> bool:
    return bool(_norm(stored) == _norm(parsed))


def _term_time(term: Term, now: dt.datetime) -> dt.datetime:
    from core.terms import LONDON

    end = dt.datetime.combine(term.end, dt.time(12, 0), tzinfo=LONDON).astimezone(dt.timezone.utc)
    return min(end, now)


async def reconcile(
    session: AsyncSession,
    plan: Plan,
    parsed: ParsedPlan,
    actor_id: int | None,
    owner_ids: dict[str, int | None],
    now: dt.datetime,
    dry_run: bool,
) -> PlanDiff:
    """Compare `parsed` with `plan` and, unless `dry_run`, update the plan (see the module doc).
    `owner_ids`: lower-cased owner name → the directory person it was matched to (or None)."""
    diff = PlanDiff(plan_id=plan.id, title=plan.title)
    actions = list(
        (
            await session.scalars(select(Action).where(Action.plan_id == plan.id).order_by(Action.position, Action.id))
        ).all()
    )
    by_ref = {a.ref.lower(): a for a in actions}
    sections = list(
        (
            await session.scalars(
                select(Section).where(Section.plan_id == plan.id).order_by(Section.position, Section.id)
            )
        ).all()
    )
    # The k-th section of a title in the file is the k-th stored section of that title.
    section_by_title: dict[str, list[Section]] = {}
    for s in sections:
        section_by_title.setdefault((s.title or "").lower(), []).append(s)
    section_titles = {s.id: s.title for s in sections}
    owners: dict[int, list[str]] = {}
    for action_id, name in (
        await session.execute(
            select(ActionOwner.action_id, ActionOwner.name)
            .join(Action, ActionOwner.action_id == Action.id)
            .where(Action.plan_id == plan.id)
            .order_by(ActionOwner.id)
        )
    ).all():
        owners.setdefault(action_id, []).append(name)
    # What the imports so far said for each action and term, in order (half-termly plans rate a term twice).
    imported: dict[tuple[int, int, str], list[tuple[str | None, str]]] = {}
    for row in (
        await session.scalars(
            select(ProgressUpdate)
            .join(Action, ProgressUpdate.action_id == Action.id)
            .where(Action.plan_id == plan.id, ProgressUpdate.kind == "import")
            .order_by(ProgressUpdate.id)
        )
    ).all():
        imported.setdefault((row.action_id, row.academic_year, row.term), []).append((row.rag, row.comment or ""))

    seen: set[str] = set()
    position = 0
    for s_index, parsed_section in enumerate(parsed.sections):
        same_title = section_by_title.get((parsed_section.title or "").lower())
        section = same_title.pop(0) if same_title else None
        if not dry_run:
            if section is None:
                section = Section(
                    plan_id=plan.id,
                    position=s_index,
                    title=parsed_section.title[:300],
                    kpis=parsed_section.kpis or None,
                )
                session.add(section)
                await session.flush()
                section_titles[section.id] = section.title
            else:
                section.position = s_index
                section.kpis = parsed_section.kpis or None
        for parsed_action in parsed_section.actions:
            key = parsed_action.ref.lower()
            seen.add(key)
            action = by_ref.get(key)
            history = parsed_action.history
            if action is None:
                diff.added.append((parsed_action.ref, parsed_action.text))
                diff.ratings += len(history)
                if not dry_run:
                    assert section is not None
                    action = Action(
                        plan_id=plan.id,
                        section_id=section.id,
                        position=position,
                        ref=parsed_action.ref,
                        updated_by=actor_id,
                    )
                    _set_fields(action, parsed_action)
                    session.add(action)
                    await session.flush()
                    _set_owners(session, action.id, parsed_action, owner_ids)
                    for update in history:
                        _add_update(session, action.id, update, now)
                position += 1
                continue
            changed = [name for name, get in _FIELDS.items() if not _same(getattr(action, name), get(parsed_action))]
            if (section_titles.get(action.section_id or -1) or "").lower() != (parsed_section.title or "").lower():
                changed.append("section")
            owners_changed = owners.get(action.id, []) != list(parsed_action.owners)
            if owners_changed and "owners_text" not in changed:
                changed.append("owners_text")
            new_updates = _new_updates(action.id, history, imported)
            diff.ratings += len(new_updates)
            was_archived = action.archived_at is not None
            if was_archived:
                diff.restored.append((parsed_action.ref, parsed_action.text))
            elif changed:
                diff.changed.append(ActionChange(parsed_action.ref, parsed_action.text, changed))
            else:
                diff.unchanged += 1
            if not dry_run:
                assert section is not None
                _set_fields(action, parsed_action)
                action.section_id = section.id
                action.position = position
                action.archived_at = None
                if changed or was_archived:
                    action.updated_by = actor_id
                if owners_changed:
                    await session.execute(delete(ActionOwner).where(ActionOwner.action_id == action.id))
                    _set_owners(session, action.id, parsed_action, owner_ids)
                for update in new_updates:
                    _add_update(session, action.id, update, now)
            position += 1

    for action in actions:
        if action.ref.lower() in seen or action.archived_at is not None:
            continue
        diff.archived.append((action.ref, action.text))
        if not dry_run:
            action.archived_at = now
            action.updated_by = actor_id
            action.position = position  # after the file's actions, in their old order
            position += 1

    if not dry_run:
        plan.partnership = (parsed.partnership or plan.partnership or None) and (
            parsed.partnership or plan.partnership or ""
        )[:200]
        plan.year = parsed.year or plan.year
        plan.success_criteria = parsed.success_criteria or plan.success_criteria
        if "B" in (parsed.rag_set or "") or "B" in (plan.rag_set or ""):
            plan.rag_set = "B,R,A,G"
        plan.source_name = (parsed.source_name or plan.source_name or None) and (
            parsed.source_name or plan.source_name or ""
        )[:300]
        plan.updated_by = actor_id
        await session.flush()
    return diff


def _new_updates(
    action_id: int, history: list[Any], imported: dict[tuple[int, int, str], list[tuple[str | None, str]]]
) -> list[Any]:
    """The file's ratings for a term are new unless the last imports of that term said exactly them."""
    by_term: dict[tuple[int, str], list[Any]] = {}
    for update in history:
        by_term.setdefault((update.academic_year, update.term), []).append(update)
    out: list[Any] = []
    for (year, term), updates in by_term.items():
        said = [(u.rag, u.comment or "") for u in updates]
        before = imported.get((action_id, year, term), [])
        if before[-len(said) :] != said:
            out.extend(updates)
    return out


def _set_fields(action: Action, parsed: ParsedAction) -> None:
    action.text = parsed.text
    action.impact = parsed.impact or None
    action.owners_text = parsed.owners_text or None
    action.milestones = list(parsed.milestones)
    action.timeline = parsed.timeline or None
    action.kpis = parsed.kpis or None
    action.funding = parsed.funding or None
    action.reporting = parsed.reporting or None
    action.due_date = parsed.due_date
    action.extra = dict(parsed.extra)
    action.aim = getattr(parsed, "aim", "") or None


def _set_owners(session: AsyncSession, action_id: int, parsed: ParsedAction, owner_ids: dict[str, int | None]) -> None:
    for name in parsed.owners:
        session.add(ActionOwner(action_id=action_id, person_id=owner_ids.get(name.lower()), name=name[:200]))


def _add_update(session: AsyncSession, action_id: int, update: Any, now: dt.datetime) -> None:
    term = Term(update.academic_year, update.term)
    session.add(
        ProgressUpdate(
            action_id=action_id,
            rag=update.rag,
            comment=update.comment or "",
            academic_year=term.academic_year,
            term=term.term,
            kind="import",
            author_id=None,
            author_label=IMPORT_LABEL,
            created_at=_term_time(term, now),
        )
    )
