"""The plan board's data: plain dicts (JSON) built from the same reads and writes the chat uses.

The grid comes from `plans.store.build_plan_view` (what the exports and the report read); an update is
`plans.progress.post_update` / `correct_update` / `withdraw_update` behind `plans.progress.can_update`, the
same calls and rights as /update in chat, so the chat's /plan shows a board update at once and the board
shows a chat update on its next load.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.i18n import _, format_datetime
from core.services import MemberInfo
from core.terms import LONDON, Term, current_term, term_label
from plans import progress
from plans.export import UpdateView
from plans.rag import rag_label, rag_meaning
from plans.store import build_plan_view
from storage.members import Role
from storage.plans import Action, Plan, ProgressUpdate

MAX_COMMENT = 2000  # the chat's comment fits a message; the board keeps the same order of size


class BoardError(Exception):
    """A refused or impossible request: `status` is the HTTP status, `message` a sentence for the user."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


async def plans(session: AsyncSession) -> list[dict[str, Any]]:
    return [{"id": p.id, "title": p.title} for p in await progress.active_plans(session)]


def _updated_in(history: list[UpdateView], term: Term) -> bool:
    """A row that counts was posted in `term` (in chat or here; an imported rating is not an update)."""
    return any(row.term == term and row.counts and row.kind != "import" for row in history)


async def board(session: AsyncSession, member: MemberInfo, plan_id: int) -> dict[str, Any]:
    """The grid: `plans.store.build_plan_view` (what the exports and the report read: five column-level
    SELECTs, no ORM objects), plus, for a member below coordinator, whether they coordinate this plan (a
    sixth); the rest is one pass over the actions, which never awaits."""
    view = await build_plan_view(session, plan_id, details=False)
    if view is None or not view.active:
        raise BoardError(404, _("That plan is no longer available."))
    everything = member.role >= Role.COORDINATOR or await progress.is_plan_coordinator(session, member, plan_id)
    person = member.person_id
    now_term = current_term()
    terms = [{"code": tm.code, "label": term_label(tm, short=True), "long": term_label(tm)} for tm in view.terms]
    long_labels = {tm: term_label(tm) for tm in view.terms}
    codes = {tm: tm.code for tm in view.terms}
    actions = []
    for action in view.actions:  # archived actions are not in the view (nor on the board)
        mine = person is not None and person in action.owner_person_ids
        comment_term = action.latest_comment_term
        actions.append(
            {
                "id": action.id,
                "ref": action.ref,
                "text": action.text,
                "section": action.section,
                "owners": action.owners_display,
                "owner_list": action.owners or ([action.owners_text] if action.owners_text else []),
                "rag": {codes[term]: code for term, code in action.rag.items()},
                "comment": action.latest_comment,
                "comment_term": (long_labels.get(comment_term) or term_label(comment_term)) if comment_term else "",
                "mine": mine,
                "can_update": everything or mine,
                "updated_this_term": _updated_in(action.history, now_term),
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


async def _action(session: AsyncSession, action_id: int) -> tuple[Action, Plan]:
    action = await session.get(Action, action_id)
    plan = await session.get(Plan, action.plan_id) if action is not None else None
    if action is None or plan is None or not plan.active or action.archived_at is not None:
        raise BoardError(404, _("That action is no longer in the plan. Nothing was saved."))
    return action, plan


def _row(row: ProgressUpdate, member: MemberInfo, replaced: set[int], now: dt.datetime) -> dict[str, Any]:
    term = progress.row_term(row)
    mine = row.author_id is not None and row.author_id == member.telegram_id
    open_ = (
        mine
        and row.kind in ("update", "correction")
        and row.id not in replaced
        and now - row.created_at <= progress.CORRECTION_WINDOW
    )
    return {
        "id": row.id,
        "term": term_label(term),
        "rag": row.rag or "",
        "comment": row.comment or "",
        "author": row.author_label or "",
        "at": format_datetime(row.created_at, LONDON) if row.created_at else "",
        "kind": row.kind or "update",
        "replaced": row.id in replaced,
        # Within the 48 hours, only its author, only the latest of its chain (the same test as the chat's
        # buttons; the write checks it again).
        "correctable": open_,
    }


async def history(session: AsyncSession, member: MemberInfo, action_id: int) -> dict[str, Any]:
    action, plan = await _action(session, action_id)
    rows = await progress.action_history(session, action.id)
    replaced = {r.replaces_id for r in rows if r.replaces_id is not None}
    now = clock.now()
    # A correction window counts from the first row of a chain: the write (plans.progress) decides.
    return {
        "id": action.id,
        "ref": action.ref,
        "text": action.text,
        "plan": plan.title,
        "can_update": await progress.can_update(session, member, action),
        "rows": [_row(r, member, replaced, now) for r in rows],
    }


def _comment(value: object) -> str:
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if len(text) > MAX_COMMENT:
        raise BoardError(400, _("That comment is too long; please shorten it. Nothing was saved."))
    return text


def _rating(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BoardError(400, _("That rating is not used in this plan."))
    return value


_REFUSALS = {
    "not_found": 404,
    "not_author": 403,
    "window_closed": 409,
    "replaced": 409,
    "bad_rating": 400,
    "archived": 409,
}


def _refused(exc: progress.ProgressError) -> BoardError:
    from handlers.progress_chat import _refusal_plain  # the chat's own sentence for each refusal

    return BoardError(_REFUSALS.get(exc.kind, 400), _refusal_plain(exc.kind))


async def post(session: AsyncSession, member: MemberInfo, body: dict[str, Any]) -> dict[str, Any]:
    """A new update, a correction (`replaces`) or a withdrawal (`withdraw`): the chat's functions and rights."""
    replaces = body.get("replaces")
    try:
        if replaces is not None:
            if not isinstance(replaces, int) or isinstance(replaces, bool):
                raise BoardError(400, _("That could not be done. Nothing was changed."))
            if body.get("withdraw") is True:
                row = await progress.withdraw_update(session, replaces, member)
            else:
                row = await progress.correct_update(
                    session, replaces, member, _rating(body.get("rag")), _comment(body.get("comment"))
                )
            return {"id": row.id, "action": row.action_id, "kind": row.kind}
        action_id = body.get("action")
        if not isinstance(action_id, int) or isinstance(action_id, bool):
            raise BoardError(400, _("That could not be done. Nothing was changed."))
        action, _plan = await _action(session, action_id)
        if not await progress.can_update(session, member, action):
            raise BoardError(403, _("Only this action's owners and the plan's coordinators can update it."))
        rating, comment = _rating(body.get("rag")), _comment(body.get("comment"))
        if rating is None and not comment:
            raise BoardError(400, _("Choose a rating or write a comment. Nothing was saved."))
        row = await progress.post_update(session, action.id, rating, comment, member)
    except progress.ProgressError as exc:
        raise _refused(exc) from None
    return {"id": row.id, "action": row.action_id, "kind": row.kind, "term": term_label(progress.row_term(row))}
