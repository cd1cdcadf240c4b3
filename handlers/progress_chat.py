"""Posting progress on an action: the guided `/update` conversation and the one-line form.

Guided:  /update → plan (skipped when there is one) → action (buttons, paged, or type its reference)
         → rating (the plan's own set) or "No change" → comment (or "skip") → Save / Cancel.
One line: /update 1.3 amber Survey sent to all heads → the same Save / Cancel.
Both store one appended ProgressUpdate row (plans.progress.post_update). After saving, "Correct" and
"Withdraw" buttons work for the author within plans.progress.CORRECTION_WINDOW.

Who may update: the action's owners, the plan's coordinators, coordinators and admins
(plans.progress.can_update); anyone else is told who can and nothing is stored.

Callback data: upp:PLAN  upa:ACTION  upn:PAGE  upr:CODE|-  upk:0 (skip comment)  ups:DRAFT  upx:DRAFT
               upc:UPDATE (correct)  upw:UPDATE (withdraw)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import (
    ConversationHandler,
)

from core import clock
from core.i18n import N_, _
from core.reply import answer, edit, keyboard, paged_rows, reply
from core.services import BotContext
from core.terms import term_for, term_label
from core.text import Html, bold, esc, t
from handlers.manifest import Button, Command, Conversation, Manifest, Reply, Writes
from handlers.plan_picker import plan_buttons
from plans import progress
from plans.labels import action_label, rag_text
from plans.oneline import (
    OneLineError,
    ParsedUpdate,
    actions_named,
    match_ref,
    parse_update_line,
    split_named_line,
    split_ref,
    suggest_refs,
)
from plans.rag import parse_rag, parse_rag_set, rag_label
from storage.members import Role
from storage.plans import Action, Plan, ProgressUpdate

PLAN, ACTION, RATING, COMMENT, CONFIRM = range(5)
END = ConversationHandler.END
PER_PAGE = 8
MAX_COMMENT = 2000
SKIP_WORDS = {"skip", "-", "none", "no comment", "n/a"}
DRAFT = "upd"  # user_data key of the draft being built
SEQ = "upd_seq"


async def who_can_text(session: AsyncSession, action: Action) -> Html:
    names = await progress.owner_names(session, action)
    if names:
        return t(
            "Only the owners of {ref} ({names}), the plan's coordinators and the partnership's "
            "coordinators can update it. Nothing was saved.",
            ref=action.ref,
            names=", ".join(names),
        )
    return t(
        "Only the plan's coordinators and the partnership's coordinators can update {ref}: it has no "
        "owner yet. Nothing was saved.",
        ref=action.ref,
    )


def _int(data: str | None, index: int = 1) -> int | None:
    try:
        return int((data or "").split(":")[index])
    except (IndexError, ValueError):
        return None


def _draft(context: BotContext) -> dict[str, Any]:
    return context.draft(DRAFT)


def _new_draft(context: BotContext, **values: Any) -> dict[str, Any]:
    seq = int(context.user_data.get(SEQ, 0)) + 1
    context.user_data[SEQ] = seq
    draft = {
        "id": seq,
        "plan": None,
        "action": None,
        "rag": None,
        "rated": False,
        "comment": None,
        "replaces": None,
        "line": None,
    }
    draft.update(values)
    context.user_data[DRAFT] = draft
    return draft


def _clear(context: BotContext) -> int:
    context.user_data.pop(DRAFT, None)
    return END


# --------------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------------


async def start_update(update: Update, context: BotContext) -> int:
    """/update, with or without a one-line update after it."""
    # The text after the command as typed (context.args would lose the user's spacing).
    message_text = update.effective_message.text if update.effective_message else ""
    parts = (message_text or "").split(None, 1)
    line = parts[1].strip() if len(parts) > 1 else ""
    draft = _new_draft(context, line=line or None)
    async with context.services.session() as session:
        plans = list(await progress.active_plans(session))
        if not plans:
            await reply(update, context, t("There is no action plan yet. A coordinator can import one."))
            return _clear(context)
        if line:
            return await _start_one_line(update, context, session, plans, draft, line)
        if len(plans) == 1:
            draft["plan"] = plans[0].id
            return await _ask_action(update, context, session, plans[0], page=0)
    await reply(update, context, t("Which plan?"), keyboard(plan_buttons(plans, "upp")))
    return PLAN


async def _start_one_line(
    update: Update, context: BotContext, session: AsyncSession, plans: list[Plan], draft: dict[str, Any], line: str
) -> int:
    token = split_ref(line)[0] or line.split(None, 1)[0]
    candidates = []
    for one_plan in plans:
        refs = await progress.plan_refs(session, one_plan.id)
        if match_ref(token, refs) is not None:
            candidates.append(one_plan)
    if len(candidates) > 1:
        # The same reference in several plans: prefer the ones this member may update.
        allowed = []
        for one_plan in candidates:
            refs = await progress.plan_refs(session, one_plan.id)
            ref = match_ref(token, refs)
            action = await session.get(Action, refs[ref]) if ref is not None else None
            if action is not None and await progress.can_update(session, context.member, action):
                allowed.append(one_plan)
        if len(allowed) == 1:
            candidates = allowed
    if len(candidates) > 1:
        await reply(
            update,
            context,
            t("{ref} is in more than one plan. Which plan?", ref=token),
            keyboard(plan_buttons(candidates, "upp")),
        )
        return PLAN
    if not candidates:
        # "/update Recruit School Direct amber …": the action named by its words, not its reference.
        named = split_named_line(line)
        if named is not None:
            rows = (
                await session.execute(
                    select(Action.id, Action.ref, Action.text, Action.plan_id).where(
                        Action.plan_id.in_([p.id for p in plans]), Action.archived_at.is_(None)
                    )
                )
            ).all()
            plan_of = {r.id: r.plan_id for r in rows}
            found = actions_named(named[0], [(r.id, r.ref, r.text) for r in rows])
            if len(found) == 1:
                its_plan = next(p for p in plans if p.id == plan_of[found[0][0]])
                draft["plan"] = its_plan.id
                return await _apply_line(update, context, session, its_plan, draft, f"{found[0][1]} {named[1]}")
            if found:
                await reply(
                    update,
                    context,
                    t(
                        "“{name}” could be {options}. Send the update again with the action's number, for "
                        "example <code>/update {ref} {rest}</code>. Nothing was saved.",
                        name=named[0],
                        options="; ".join(f"{ref} {text[:50]}" for _id, ref, text in found),
                        ref=found[0][1],
                        rest=named[1][:60],
                    ),
                )
                return _clear(context)
    plan = candidates[0] if candidates else (plans[0] if len(plans) == 1 else None)
    if plan is None:
        # Not in any plan: suggest from every plan's references.
        every: list[str] = []
        for p in plans:
            every.extend(r for r in await progress.plan_refs(session, p.id) if r not in every)
        await _unknown_ref(update, context, token, suggest_refs(token, every))
        return _clear(context)
    draft["plan"] = plan.id
    return await _apply_line(update, context, session, plan, draft, line)


async def _apply_line(
    update: Update, context: BotContext, session: AsyncSession, plan: Plan, draft: dict[str, Any], line: str
) -> int:
    refs = await progress.plan_refs(session, plan.id)
    parsed = parse_update_line(line, list(refs), plan.rag_set)
    if isinstance(parsed, OneLineError):
        if parsed.kind == "unknown_ref":
            await _unknown_ref(update, context, parsed.ref, parsed.suggestions)
        elif parsed.kind == "bad_rating":
            await reply(
                update,
                context,
                t(
                    "This plan rates progress as {set}: “{word}” is not one of them. Nothing was saved.",
                    set=_rag_set_text(plan),
                    word=parsed.rating,
                ),
            )
        else:
            await reply(update, context, _usage())
        return _clear(context)
    assert isinstance(parsed, ParsedUpdate)
    action = await session.get(Action, refs[parsed.ref])
    assert action is not None
    if not await progress.can_update(session, context.member, action):
        await reply(update, context, await who_can_text(session, action))
        return _clear(context)
    draft.update(
        action=action.id,
        rag=parsed.rag,
        rated=parsed.rating_given,
        line=None,
        comment=parsed.comment if (parsed.comment or parsed.rating_given) else None,
    )
    if not parsed.rating_given:
        return await _ask_rating(update, context, plan, action)
    return await _ask_confirm(update, context, session, plan, action, draft)


def _usage() -> Html:
    return t(
        "Send /update on its own to be guided, or in one line: <code>/update 1.3 amber Survey sent to "
        "all heads</code> (a rating: red, amber, green, or “no change”; then a comment)."
    )


def _rag_set_text(plan: Plan) -> str:
    return ", ".join(rag_label(c) for c in parse_rag_set(plan.rag_set))


async def _unknown_ref(update: Update, context: BotContext, ref: str, suggestions: tuple[str, ...]) -> None:
    if suggestions:
        await reply(
            update,
            context,
            t(
                "There is no action {ref}. Did you mean {options}? Nothing was saved.",
                ref=ref,
                options=" / ".join(suggestions),
            ),
        )
    else:
        await reply(
            update, context, t("There is no action {ref}. Send /plan to see the actions. Nothing was saved.", ref=ref)
        )


async def choose_plan(update: Update, context: BotContext) -> int:
    await answer(update)
    plan_id = _int(update.callback_query.data if update.callback_query else None)
    draft = _draft(context)
    async with context.services.session() as session:
        plan = await session.get(Plan, plan_id) if plan_id else None
        if plan is None or not plan.active:
            await edit(update, context, t("That plan is no longer available. Send /update to start again."))
            return _clear(context)
        draft["plan"] = plan.id
        if draft.get("line"):
            return await _apply_line(update, context, session, plan, draft, draft["line"])
        return await _ask_action(update, context, session, plan, page=0)


async def _ask_action(update: Update, context: BotContext, session: AsyncSession, plan: Plan, page: int) -> int:
    actions = await progress.plan_actions(session, plan.id)
    if not actions:
        await reply(update, context, t("{plan} has no actions yet.", plan=plan.title))
        return _clear(context)
    mine: list[Action] = []
    member = context.member
    if member is not None and member.person_id is not None:
        mine = [a for a in actions if any(o.person_id == member.person_id for o in a.owners)]
    ordered = mine + [a for a in actions if a not in mine]
    items = [(("★ " if a in mine else "") + action_label(a), f"upa:{a.id}") for a in ordered]
    rows = paged_rows(items, page, PER_PAGE, "upn")
    rows.append([(_("Cancel"), "upx:0")])
    text = t(
        "<b>{plan}</b>\nWhich action? Press it, or type its reference (for example {ref}).",
        plan=plan.title,
        ref=actions[0].ref,
    )
    await edit(update, context, text, keyboard(rows))
    return ACTION


async def page_actions(update: Update, context: BotContext) -> int:
    await answer(update)
    page = _int(update.callback_query.data if update.callback_query else None) or 0
    async with context.services.session() as session:
        plan = await session.get(Plan, _draft(context).get("plan") or 0)
        if plan is None:
            await edit(update, context, t("That plan is no longer available. Send /update to start again."))
            return _clear(context)
        return await _ask_action(update, context, session, plan, page)


async def quick_update(update: Update, context: BotContext) -> int:
    """'Update' / 'Post an update' under /mine and /action: straight to the rating."""
    await answer(update)
    _new_draft(context)
    action_id = _int(update.callback_query.data if update.callback_query else None)
    return await _take_action(update, context, action_id, new_message=True)


async def choose_action(update: Update, context: BotContext) -> int:
    await answer(update)
    action_id = _int(update.callback_query.data if update.callback_query else None)
    return await _take_action(update, context, action_id)


async def type_action(update: Update, context: BotContext) -> int:
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    draft = _draft(context)
    async with context.services.session() as session:
        refs = await progress.plan_refs(session, draft.get("plan") or 0)
        token, rest = split_ref(text)
        ref = match_ref(token, refs) if token else None
        plan = await session.get(Plan, draft.get("plan") or 0)
        if ref is not None and rest.strip() and plan is not None:
            # "1.3 amber Survey sent": the whole update in one message.
            return await _apply_line(update, context, session, plan, draft, text)
        if ref is None:
            suggestions = suggest_refs(text, list(refs))
            rows = [[(s, f"upa:{refs[s]}") for s in suggestions]] if suggestions else []
            rows.append([(_("Cancel"), "upx:0")])
            if suggestions:
                await reply(
                    update, context, t("There is no action {ref}. Did you mean:", ref=text[:30]), keyboard(rows)
                )
            else:
                await reply(
                    update,
                    context,
                    t("There is no action {ref}. Press one of the actions above or type its reference.", ref=text[:30]),
                    keyboard(rows),
                )
            return ACTION
    return await _take_action(update, context, refs[ref])


async def _take_action(update: Update, context: BotContext, action_id: int | None, new_message: bool = False) -> int:
    draft = _draft(context)
    say = reply if new_message else edit
    async with context.services.session() as session:
        action = await session.get(Action, action_id) if action_id else None
        if action is None or (draft.get("plan") and action.plan_id != draft["plan"]):
            await say(update, context, t("That action is no longer in the plan. Send /update to start again."))
            return _clear(context)
        plan = await session.get(Plan, action.plan_id)
        if plan is None or not plan.active or action.archived_at is not None:  # an old button on an archived plan
            await say(update, context, _refusal("archived"))
            return _clear(context)
        if not await progress.can_update(session, context.member, action):
            await say(update, context, await who_can_text(session, action))
            return _clear(context)
        draft.update(plan=plan.id, action=action.id)
        return await _ask_rating(update, context, plan, action, new_message=new_message)


async def _ask_rating(
    update: Update, context: BotContext, plan: Plan, action: Action, new_message: bool = False
) -> int:
    codes = parse_rag_set(plan.rag_set)
    rows = [[(rag_text(c), f"upr:{c}") for c in codes], [(rag_text(None), "upr:-"), (_("Cancel"), "upx:0")]]
    text = t(
        "<b>{action}</b>\nHow is it going this term ({term})?",
        action=action_label(action, 200),
        term=term_label(term_for(clock.now())),
    )
    if update.callback_query is not None and not new_message:
        await edit(update, context, text, keyboard(rows))
    else:
        await reply(update, context, text, keyboard(rows))
    return RATING


async def choose_rating(update: Update, context: BotContext) -> int:
    await answer(update)
    data = update.callback_query.data if update.callback_query else ""
    code = (data or "").split(":", 1)[-1]
    return await _take_rating(update, context, None if code == "-" else code)


async def type_rating(update: Update, context: BotContext) -> int:
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    draft = _draft(context)
    async with context.services.session() as session:
        plan = await session.get(Plan, draft.get("plan") or 0)
        rag_set = plan.rag_set if plan else None
    if text.lower() in ("no change", "nc", "-", "same", "unchanged"):
        return await _take_rating(update, context, None)
    code = parse_rag(text, rag_set)
    if code is None:
        await reply(
            update,
            context,
            t(
                "Please press one of the buttons, or type {set} or “no change”.",
                set=", ".join(rag_label(c) for c in parse_rag_set(rag_set)),
            ),
        )
        return RATING
    return await _take_rating(update, context, code)


async def _take_rating(update: Update, context: BotContext, code: str | None) -> int:
    draft = _draft(context)
    async with context.services.session() as session:
        found = await _draft_action(update, context, session, draft)
        if found is None:
            return _clear(context)
        action, plan = found
        if code is not None and code not in parse_rag_set(plan.rag_set):
            await answer(update, _("That rating is not used in this plan."), alert=True)
            return RATING
        draft.update(rag=code, rated=True)
        if draft.get("comment") is not None:
            return await _ask_confirm(update, context, session, plan, action, draft)
    text = t("Now the comment: what has happened? (Send <i>skip</i> for none.)")
    markup = keyboard([[(_("Skip"), "upk:0"), (_("Cancel"), "upx:0")]])
    await edit(update, context, text, markup)
    return COMMENT


async def type_comment(update: Update, context: BotContext) -> int:
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    if len(text) > MAX_COMMENT:
        await reply(
            update,
            context,
            t("That comment is {n} characters long; please keep it under {max}.", n=len(text), max=MAX_COMMENT),
        )
        return COMMENT
    return await _take_comment(update, context, "" if text.lower() in SKIP_WORDS else text)


async def skip_comment(update: Update, context: BotContext) -> int:
    await answer(update)
    return await _take_comment(update, context, "")


async def _take_comment(update: Update, context: BotContext, comment: str) -> int:
    draft = _draft(context)
    draft["comment"] = comment
    async with context.services.session() as session:
        found = await _draft_action(update, context, session, draft)
        if found is None:
            return _clear(context)
        return await _ask_confirm(update, context, session, found[1], found[0], draft)


async def _draft_action(
    update: Update, context: BotContext, session: AsyncSession, draft: dict[str, Any]
) -> tuple[Action, Plan] | None:
    """The action being updated and its plan; None (after saying so) if it has left the plan meanwhile."""
    action = await session.get(Action, draft.get("action") or 0)
    plan = await session.get(Plan, action.plan_id) if action else None
    if action is None or plan is None:
        await edit(update, context, t("That action is no longer in the plan. Send /update to start again."))
        return None
    return action, plan


async def _ask_confirm(
    update: Update, context: BotContext, session: AsyncSession, plan: Plan, action: Action, draft: dict[str, Any]
) -> int:
    if not draft.get("rag") and not draft.get("comment"):
        await reply(
            update,
            context,
            t("“No change” with no comment would say nothing. Please add a comment, or press Cancel."),
            keyboard([[(_("Cancel"), "upx:0")]]),
        )
        draft["comment"] = None
        return COMMENT
    heading = _("Correct your update?") if draft.get("replaces") else _("Save this update?")
    lines = [
        bold(heading),
        t("Action: {action}", action=action_label(action, 200)),
        t("Rating: {rating}", rating=rag_text(draft.get("rag"))),
        t("Comment: {comment}", comment=draft.get("comment") or "—"),
        t("Term: {term}", term=term_label(term_for(clock.now()))),
    ]
    rows = [[(_("Save"), f"ups:{draft['id']}"), (_("Cancel"), f"upx:{draft['id']}")]]
    text = Html("\n".join(lines))
    await edit(update, context, text, keyboard(rows))
    return CONFIRM


async def save(update: Update, context: BotContext) -> int:
    draft = _draft(context)
    if _int(update.callback_query.data if update.callback_query else None) != draft.get("id"):
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return CONFIRM if draft else END
    member = context.member
    assert member is not None
    try:  # outside the session: a correction that lost a race (ProgressError "replaced") spent its transaction
        async with context.services.session() as session:
            action = await session.get(Action, draft.get("action") or 0)
            if action is None:
                await answer(update)
                await edit(update, context, t("That action is no longer in the plan. Nothing was saved."))
                return _clear(context)
            if not await progress.can_update(session, member, action):
                await answer(update)
                await edit(update, context, await who_can_text(session, action))
                return _clear(context)
            if draft.get("replaces"):
                row = await progress.correct_update(
                    session, int(draft["replaces"]), member, draft.get("rag"), draft.get("comment") or ""
                )
            else:
                row = await progress.post_update(
                    session, action.id, draft.get("rag"), draft.get("comment") or "", member
                )
            text = _saved_text(action, row)
            markup = _after_save_buttons(row)
    except progress.ProgressError as exc:
        await answer(update)
        await edit(update, context, _refusal(exc.kind))
        return _clear(context)
    await answer(update, _("Saved"))
    await edit(update, context, text, markup)
    return _clear(context)


def _saved_text(action: Action, row: ProgressUpdate) -> Html:
    term = term_label(progress.row_term(row))
    if row.kind == "correction":
        head = t("Corrected: {ref} {rating}, {term}.", ref=action.ref, rating=rag_text(row.rag), term=term)
    else:
        head = t("Saved: {ref} {rating}, {term}.", ref=action.ref, rating=rag_text(row.rag), term=term)
    hours = int(progress.CORRECTION_WINDOW.total_seconds() // 3600)
    tail = t("You can correct or withdraw it for {hours} hours.", hours=hours)
    return Html(f"{head}\n{tail}")


def _after_save_buttons(row: ProgressUpdate) -> Any:
    return keyboard([[(_("Correct"), f"upc:{row.id}"), (_("Withdraw"), f"upw:{row.id}")]])


_REFUSALS = {
    "not_found": N_("That update no longer exists."),
    "not_author": N_("Only the person who posted an update can correct or withdraw it."),
    "window_closed": N_("The time to correct or withdraw that update has passed; post a new update instead."),
    "replaced": N_("That update has already been corrected or withdrawn."),
    "bad_rating": N_("That rating is not used in this plan."),
    "archived": N_("That plan has been archived, so it can no longer be updated. Nothing was saved."),
}


def _refusal_plain(kind: str) -> str:
    return _(_REFUSALS.get(kind, N_("That could not be done. Nothing was changed.")))


def _refusal(kind: str) -> Html:
    return esc(_refusal_plain(kind))


async def cancel_button(update: Update, context: BotContext) -> int:
    await answer(update)
    await edit(update, context, t("Cancelled. Nothing was saved."))
    return _clear(context)


async def cancel_command(update: Update, context: BotContext) -> int:
    await reply(update, context, t("Cancelled. Nothing was saved."))
    return _clear(context)


# --------------------------------------------------------------------------------------------------
# Corrections and withdrawals
# --------------------------------------------------------------------------------------------------


async def start_correction(update: Update, context: BotContext) -> int:
    update_id = _int(update.callback_query.data if update.callback_query else None)
    member = context.member
    assert member is not None
    async with context.services.session() as session:
        try:
            row = await progress._replaceable(session, update_id or 0, member, clock.now())
        except progress.ProgressError as exc:
            await answer(update, _refusal_plain(exc.kind), alert=True)
            return END
        action = await session.get(Action, row.action_id)
        plan = await session.get(Plan, action.plan_id) if action else None
        assert action is not None and plan is not None
        if not plan.active or action.archived_at is not None:  # Save would refuse: say so now
            await answer(update, _refusal_plain("archived"), alert=True)
            return END
        _new_draft(context, plan=plan.id, action=action.id, replaces=row.id)
    await answer(update)
    return await _ask_rating(update, context, plan, action)


async def withdraw(update: Update, context: BotContext) -> None:
    update_id = _int(update.callback_query.data if update.callback_query else None)
    member = context.member
    assert member is not None
    try:  # one insert decides (storage/plans.py: an update is replaced once); a lost race spent the session
        async with context.services.session() as session:
            row = await progress.withdraw_update(session, update_id or 0, member)
            action = await session.get(Action, row.action_id)
            ref = action.ref if action else ""
    except progress.ProgressError as exc:
        await answer(update, _refusal_plain(exc.kind), alert=True)
        return
    await answer(update, _("Withdrawn"))
    await edit(
        update, context, t("Withdrawn: your update on {ref}. It stays in the history, marked withdrawn.", ref=ref)
    )


# --------------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------------

MANIFEST = Manifest(
    "progress",
    conversations=(
        Conversation(
            "update",
            entry=(
                Command("update", start_update, Role.MEMBER, N_("post progress on an action")),
                Button("upc", start_correction, Role.MEMBER, args="bigid"),
                Button("upq", quick_update, Role.MEMBER, args="id"),
            ),
            states={
                PLAN: (Button("upp", choose_plan, Role.MEMBER, args="id"),),
                ACTION: (
                    Button("upa", choose_action, Role.MEMBER, args="id"),
                    Button("upn", page_actions, Role.MEMBER, args="id"),
                    Reply(type_action),
                ),
                RATING: (Button("upr", choose_rating, Role.MEMBER, args="tok"), Reply(type_rating)),
                COMMENT: (Button("upk", skip_comment, Role.MEMBER, args="id"), Reply(type_comment)),
                CONFIRM: (
                    Button(
                        "ups",
                        save,
                        Role.MEMBER,
                        args="id",
                        writes=Writes("an update on an action; a correction of one's own", "owner or office"),
                    ),
                ),
            },
            fallbacks=(
                Command("cancel", cancel_command, Role.MEMBER),
                Button("upx", cancel_button, Role.MEMBER, args="id"),
            ),
            role=Role.MEMBER,
            drafts=(DRAFT,),
            label=N_("progress update"),
        ),
    ),
    # Withdraw works outside the conversation (a button on a saved update, valid for the window).
    buttons=(
        Button(
            "upw", withdraw, Role.MEMBER, args="bigid", writes=Writes("withdraws an update (its author only)", "owner")
        ),
    ),
)
