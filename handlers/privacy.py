"""Data protection: `/mydata` (what the bot holds about you and what you wrote), `/erase NAME` (admin:
who, where they are mentioned in free text, keep or redact each place, confirm) and `/audit [N]`.

The data work is in plain functions over a session (`collect_my_data`, `erase_person`, `erase_preview`; the
erasure itself is storage.erasure.erase_ids, which restores and retention use too), tested on their own;
the handlers only format and send. The erasure works by identity and replaces the person by a stable
pseudonym ("former member #41") where the partnership's record stays (storage/erasure.py says what goes
and what stays); the places in free text that mention them are shown before the confirm
(storage/mentions.py), each redacted unless the admin keeps it with a reason, and the receipt lists what
was kept. After the commit the running bot forgets them too (handlers/erase_memory.py).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InputFile, Update

from core.i18n import N_, _, format_datetime, ngettext
from core.reply import answer, edit, keyboard, reply
from core.services import BotContext
from core.text import Html, bold, fill, t
from handlers.access import role_label
from handlers.erase_memory import draft_conversations, forget_in_memory, tell_affected
from handlers.manifest import Button, Command, Manifest, Writes
from handlers.once import once
from handlers.person_picker import people_named, person_label
from storage import audit, erasure, subject_access
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.directory import Person
from storage.members import AccessRequest, AuditEntry, BotState, Member, Role, Throttle
from storage.mentions import Place, pseudonym
from storage.plans import Action, ActionOwner, Plan, ProgressUpdate

log = logging.getLogger(__name__)

FORMER_MEMBER = erasure.FORMER_MEMBER  # an account erased without a directory entry; a person: pseudonym(id)
AUDIT_DEFAULT, AUDIT_MAX = 20, 100


def _iso(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _row(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {f: _iso(getattr(obj, f)) for f in fields}


# --- subject access ----------------------------------------------------------------------------


async def collect_my_data(
    session: AsyncSession, telegram_id: int, person_id: int | None = None, for_admin: bool = False
) -> dict[str, Any]:
    """Everything held about one Telegram user (or, from the command line, one directory entry: pass
    `person_id` and the user's id, or 0 when they have no account), as a JSON-ready document.

    The readable parts come first; `held` then has every row of every table that refers to them,
    tables found from the models (storage/subject_access.py), so nothing new is left out.

    It is what is about them and what they wrote: other people's confidential words (a buddy's check-in
    comment kept for the coordinator) and other accounts' Telegram ids are withheld
    (`subject_access.withhold`); the document says how many. The admin's export (`for_admin`, the
    command line's `admin mydata`) lists them under `for_dpo_review`, for the DPO to decide."""
    member = await session.get(Member, telegram_id) if telegram_id else None
    if person_id is None:
        person_id = member.person_id if member else None
    person = await session.get(Person, person_id) if person_id else None
    accounts = sorted(
        {
            telegram_id,
            *(await session.scalars(select(Member.telegram_id).where(Member.person_id == person.id)) if person else []),
        }
        - {0}
    )
    doc: dict[str, Any] = {
        "telegram_id": telegram_id or None,
        "telegram_ids": accounts,
        "generated_at": _iso(dt.datetime.now(dt.timezone.utc)),
    }
    doc["member"] = (
        None
        if member is None
        else _row(
            member,
            [
                "telegram_id",
                "role",
                "display_name",
                "locale",
                "reminders",
                "active",
                "approved_by",
                "approved_at",
                "created_at",
                "updated_at",
            ],
        )
    )
    if person is not None:
        await session.refresh(person, ["specialisms", "school"])
        doc["person"] = _row(
            person,
            [
                "id",
                "title",
                "first_name",
                "last_name",
                "job_title",
                "is_head",
                "email",
                "phone",
                "designations",
                "headship_start",
                "mentor_capacity",
                "buddy_status",
                "buddy_paused_until",
                "notes",
                "created_at",
                "updated_at",
            ],
        )
        doc["person"]["school"] = person.school.name if person.school else None
        doc["person"]["specialisms"] = sorted(s.name for s in person.specialisms)
    else:
        doc["person"] = None

    authored = or_(
        ProgressUpdate.author_id.in_(accounts) if accounts else false(),
        (ProgressUpdate.author_person_id == person.id) if person else false(),
    )
    updates = [
        {
            **_row(u, ["id", "rag", "comment", "academic_year", "term", "kind", "replaces_id", "created_at"]),
            "action_ref": ref,
            "plan": title,
        }
        for u, ref, title in (
            await session.execute(
                select(ProgressUpdate, Action.ref, Plan.title)
                .join(Action, Action.id == ProgressUpdate.action_id)
                .join(Plan, Plan.id == Action.plan_id)
                .where(authored)
                .order_by(ProgressUpdate.id)
            )
        ).all()
    ]
    doc["progress_updates"] = {"count": len(updates), "latest": updates[-1] if updates else None, "all": updates}
    doc["access_requests"] = (
        [
            _row(r, ["id", "telegram_name", "name", "school", "status", "created_at", "decided_at"])
            for r in await session.scalars(
                select(AccessRequest).where(AccessRequest.telegram_id.in_(accounts)).order_by(AccessRequest.id)
            )
        ]
        if accounts
        else []
    )
    if person is not None:
        doc["appointments"] = [
            _row(
                a,
                [
                    "id",
                    "start_date",
                    "new_to_headship",
                    "new_to_area",
                    "new_to_trust",
                    "new_to_phase",
                    "needs",
                    "status",
                    "notes",
                ],
            )
            for a in await session.scalars(select(Appointment).where(Appointment.person_id == person.id))
        ]
        doc["buddy_matches_as_buddy"] = (
            await session.scalar(
                select(func.count()).select_from(BuddyMatch).where(BuddyMatch.buddy_person_id == person.id)
            )
            or 0
        )
        doc["actions_owned"] = list(
            await session.scalars(
                select(Action.ref)
                .join(ActionOwner, ActionOwner.action_id == Action.id)
                .where(ActionOwner.person_id == person.id)
                .order_by(Action.id)
            )
        )
    doc["appointments_reported"] = (
        [
            _row(a, ["id", "person_id", "start_date", "reporter_relation", "status", "created_at"])
            for a in await session.scalars(
                select(Appointment).where(Appointment.reported_by.in_(accounts)).order_by(Appointment.id)
            )
        ]
        if accounts
        else []
    )
    pairings = (
        select(BuddyMatch)
        .join(Appointment, Appointment.id == BuddyMatch.appointment_id)
        .where(or_(BuddyMatch.buddy_person_id == person.id, Appointment.person_id == person.id))
        if person
        else None
    )
    matches = list(await session.scalars(pairings.order_by(BuddyMatch.id))) if pairings is not None else []
    doc["pairings"] = [
        _row(m, ["id", "appointment_id", "buddy_person_id", "status", "created_at", "end_reason"]) for m in matches
    ]
    answered = or_(
        CheckIn.match_id.in_([m.id for m in matches]) if matches else false(),
        CheckIn.responder_id.in_(accounts) if accounts else false(),
    )
    doc["check_ins"] = [
        _row(c, ["id", "match_id", "kind", "due_date", "answer", "comment", "responder_id"])
        for c in await session.scalars(select(CheckIn).where(answered).order_by(CheckIn.id))
    ]
    entries = list(
        await session.scalars(
            select(AuditEntry).where(_about(accounts, person.id if person else None)).order_by(AuditEntry.id.desc())
        )
    )
    doc["audit_entries_about_you"] = [
        _row(e, ["at", "actor_id", "action", "entity", "entity_id", "detail"]) for e in entries
    ]
    doc["changes_you_made"] = (
        [
            _row(e, ["at", "action", "entity", "entity_id", "detail"])
            for e in await session.scalars(
                select(AuditEntry).where(AuditEntry.actor_id.in_(accounts)).order_by(AuditEntry.id)
            )
        ]
        if accounts
        else []
    )
    states = [
        s
        for telegram in accounts
        for s in await session.scalars(select(BotState).where(erasure.bot_state_of(telegram)))
    ]
    doc["saved_chat_state"] = [{"kind": s.kind, "key": s.key, "data": s.data} for s in states]
    throttle = await session.get(Throttle, telegram_id) if telegram_id else None
    doc["search_throttle"] = (
        None if throttle is None else _row(throttle, ["window_start", "count", "flagged_at", "note"])
    )
    held = await subject_access.rows_about(session, person.id if person else None, accounts)
    doc["held"], review = subject_access.withhold(held, accounts)
    # the readable parts follow the same rule as `held`
    for section, table in (("check_ins", "buddy_checkin"), ("pairings", "buddy_match")):
        doc[section], more = subject_access.withhold({table: doc[section]}, accounts)
        doc[section] = doc[section][table]
        review += [r for r in more if r not in review]
    if doc["member"] and doc["member"].get("approved_by") not in (None, *accounts):
        doc["member"]["approved_by"] = subject_access.WITHHELD
    # other accounts' ids inside audit details ("applicant", "to", ...): any Telegram id the bot knows
    known = set(await session.scalars(select(Member.telegram_id))) | set(
        await session.scalars(select(AccessRequest.telegram_id))
    )
    others = known - set(accounts)

    def hide(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: hide(v) for k, v in value.items()}
        if isinstance(value, list):
            return [hide(v) for v in value]
        if isinstance(value, int) and not isinstance(value, bool) and value in others:
            review.append({"table": "audit_log", "value": value, "why": "another account's Telegram id"})
            return subject_access.WITHHELD
        return value

    for section in ("audit_entries_about_you", "changes_you_made"):
        for entry in doc[section]:
            if entry.get("actor_id") is not None and entry["actor_id"] not in accounts:
                entry["actor_id"] = subject_access.WITHHELD
            entry["detail"] = hide(entry.get("detail"))
    for row in doc["held"].get("audit_log", []):
        row["detail"] = hide(row.get("detail"))
    doc["withheld"] = len(review)
    if for_admin:
        doc["for_dpo_review"] = review
    return doc


def _about(telegram_ids: list[int], person_id: int | None) -> Any:
    clauses = [(AuditEntry.entity == "member") & AuditEntry.entity_id.in_([str(i) for i in telegram_ids])]
    if person_id is not None:
        clauses.append((AuditEntry.entity == "person") & (AuditEntry.entity_id == str(person_id)))
    requests = select(cast(AccessRequest.id, String)).where(AccessRequest.telegram_id.in_(telegram_ids))
    clauses.append((AuditEntry.entity == "access_request") & AuditEntry.entity_id.in_(requests))
    return or_(*clauses)


def summary_text(doc: dict[str, Any]) -> Html:
    lines = [bold(_("What I hold about you"))]
    member = doc["member"]
    if member:
        lines.append(
            t(
                "Member since {date}, role {role}, shown as “{name}”.",
                date=format_datetime(dt.datetime.fromisoformat(member["created_at"]))
                if member.get("created_at")
                else "—",
                role=role_label(member["role"]),
                name=member["display_name"],
            )
        )
    else:
        lines.append(t("You are not a member."))
    person = doc["person"]
    if person:
        name = " ".join(p for p in (person["title"], person["first_name"], person["last_name"]) if p)
        lines.append(
            t(
                "Directory entry: {name}, {job}, {school}; email {email}, phone {phone}.",
                name=name,
                job=person["job_title"] or "—",
                school=person["school"] or "—",
                email=person["email"] or "—",
                phone=person["phone"] or "—",
            )
        )
    updates = doc["progress_updates"]
    lines.append(
        fill(
            ngettext("{n} progress update by you.", "{n} progress updates by you.", updates["count"]),
            n=updates["count"],
        )
    )
    if updates["latest"]:
        latest = updates["latest"]
        lines.append(
            t(
                "Latest: action {ref}, {rag} “{comment}”.",
                ref=latest["action_ref"],
                rag=latest["rag"] or "—",
                comment=latest["comment"][:200],
            )
        )
    if doc["access_requests"]:
        lines.append(
            fill(
                ngettext("{n} access request.", "{n} access requests.", len(doc["access_requests"])),
                n=len(doc["access_requests"]),
            )
        )
    n = len(doc["appointments_reported"])
    if n:
        lines.append(fill(ngettext("{n} new appointment you reported.", "{n} new appointments you reported.", n), n=n))
    n = len(doc["pairings"])
    if n:
        lines.append(fill(ngettext("{n} buddy pairing.", "{n} buddy pairings.", n), n=n))
    n = len(doc["check_ins"])
    if n:
        lines.append(fill(ngettext("{n} buddy check-in.", "{n} buddy check-ins.", n), n=n))
    n = len(doc["changes_you_made"])
    if n:
        lines.append(
            fill(ngettext("{n} change you made, in the audit log.", "{n} changes you made, in the audit log.", n), n=n)
        )
    n_about = len(doc["audit_entries_about_you"])
    lines.append(
        fill(ngettext("{n} audit log entry about you.", "{n} audit log entries about you.", n_about), n=n_about)
    )
    tables = len(doc.get("held", {}))
    lines.append(
        fill(
            ngettext("Rows about you are held in {n} table.", "Rows about you are held in {n} tables.", tables),
            n=tables,
        )
    )
    if doc.get("withheld"):
        n = doc["withheld"]
        lines.append(
            fill(
                ngettext(
                    "{n} item is another person's information and is withheld; the data protection officer "
                    "can review it on request.",
                    "{n} items are other people's information and are withheld; the data protection officer "
                    "can review them on request.",
                    n,
                ),
                n=n,
            )
        )
    lines.append(t("Everything is in the attached file. To have your data erased, ask the partnership office."))
    return Html("\n".join(lines))


# --- erasure -----------------------------------------------------------------------------------

ERASE_DRAFT = "erase"  # the admin's choices between the preview and the confirm: ids and codes only
MAX_PLACES_WITH_BUTTONS = 40  # two buttons a place within Telegram's 100; places beyond are redacted
KEEP_REASONS = {code: N_(text) for code, text in erasure.KEEP_REASONS.items()}
TABLE_WORDS = {
    "plan_action": N_("plan action"),
    "plan": N_("plan"),
    "plan_section": N_("plan section"),
    "plan_action_owner": N_("action owner"),
    "progress_update": N_("progress comment"),
    "person": N_("directory entry"),
    "school": N_("school"),
    "appointment": N_("new-head appointment"),
    "buddy_match": N_("buddy pairing"),
    "buddy_checkin": N_("buddy check-in"),
    "access_request": N_("access request"),
    "entry_change": N_("change waiting for a coordinator"),
    "audit_log": N_("audit log entry"),
}


@dataclass
class ErasePreview:
    person_id: int
    name: str
    telegram_ids: list[int]
    updates: int
    places: list[Place]


def place_label(place: Place) -> str:
    what = _(TABLE_WORDS[place.table]) if place.table in TABLE_WORDS else place.table
    return f"{what} {','.join(str(k) for k in place.key)}, {place.column.replace('_', ' ')}"


async def erase_preview(sessionmaker: Any, person_id: int) -> ErasePreview | None:
    """Who would be erased and where they are mentioned in free text once everything keyed to them is
    gone. The erasure by identity is run and rolled back, so the places shown are the ones that remain."""
    async with sessionmaker() as session:
        try:
            person = await session.get(Person, person_id)
            if person is None:
                return None
            name = person.full_name
            ids = sorted(await session.scalars(select(Member.telegram_id).where(Member.person_id == person_id)))
            updates = (
                await session.scalar(
                    select(func.count())
                    .select_from(ProgressUpdate)
                    .where(or_(ProgressUpdate.author_person_id == person_id, ProgressUpdate.author_id.in_(ids)))
                )
                or 0
            )
            places = await erasure.preview(session, person_id, person, ids)
        finally:
            await session.rollback()
    return ErasePreview(person_id, name, ids, updates, places)


async def erase_person(
    session: AsyncSession,
    person_id: int,
    actor_id: int | None,
    keep: dict[str, str] | None = None,
    conversations: dict[str, str] | None = None,
) -> erasure.EraseResult | None:
    """Erase one person (and the members linked to them) within the caller's transaction."""
    person = await session.get(Person, person_id)
    if person is None:
        return None
    ids = sorted(await session.scalars(select(Member.telegram_id).where(Member.person_id == person_id)))
    return await erasure.erase_ids(session, person_id, person, ids, actor_id, keep=keep, conversations=conversations)


# --- audit log ----------------------------------------------------------------------------------


async def audit_lines(session: AsyncSession, limit: int, tz: dt.tzinfo | None = None) -> list[Html]:
    entries = list(await session.scalars(audit.recent(limit)))
    actor_ids = {e.actor_id for e in entries if e.actor_id is not None}
    names: dict[int, str] = (
        {
            telegram_id: name
            for telegram_id, name in (
                await session.execute(
                    select(Member.telegram_id, Member.display_name).where(Member.telegram_id.in_(actor_ids))
                )
            ).all()
        }
        if actor_ids
        else {}
    )
    out = []
    for e in entries:
        who = (
            e.actor_label
            or (names.get(e.actor_id) if e.actor_id is not None else None)
            or (str(e.actor_id) if e.actor_id is not None else _("system"))
        )
        if e.actor_id is not None and who != str(e.actor_id):
            who = f"{who} ({e.actor_id})"
        detail = json.dumps(e.detail, ensure_ascii=False, separators=(", ", ": ")) if e.detail else ""
        if len(detail) > 160:
            detail = detail[:157] + "…"
        line = t(
            "{when} — {who}: <b>{action}</b> {entity} {id}",
            when=format_datetime(e.at, tz),
            who=who,
            action=e.action,
            entity=e.entity,
            id=e.entity_id,
        )
        if detail:
            line = Html(line + " " + t("<i>{detail}</i>", detail=detail))
        out.append(line)
    return out


# --- handlers -----------------------------------------------------------------------------------


async def _private_only(update: Update, context: BotContext) -> bool:
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        return True
    await reply(update, context, t("Personal data is only shown in a private chat: please message me directly."))
    return False


async def mydata(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None or not await _private_only(update, context):
        return
    async with context.services.session() as session:
        doc = await collect_my_data(session, user.id)
    await reply(update, context, summary_text(doc))
    payload = json.dumps(doc, ensure_ascii=False, indent=2, default=str).encode()
    await context.bot.send_document(
        user.id,  # /mydata is private-only: the chat is the user's own
        InputFile(payload, filename="mydata.json"),
        caption=_("What PartnerBot holds about you (JSON)."),
    )


def _parse_id(value: str) -> int | None:
    value = value.strip().lstrip("#")
    # ASCII digits only ("²" passes isdigit() but not int()), within the database's integer ids
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 and int(value) < 2**31 else None


async def erase_command(update: Update, context: BotContext) -> None:
    """/erase NAME: the person is picked from the directory's search, then the places that mention them
    are shown, the admin chooses what to keep, and confirms. (/erase PERSON_ID works for the command
    line's numbers.)"""
    if not await _private_only(update, context):
        return
    args = context.args or []
    text = " ".join(args).strip()
    if not text:
        await reply(
            update,
            context,
            t(
                "Usage: /erase NAME, for example <code>/erase Draycott</code>. I will show "
                "who I found and ask you to confirm."
            ),
        )
        return
    person_id = _parse_id(text) if len(args) == 1 else None
    if person_id is None and text.isdigit():  # "²", or past the database's ids
        await reply(update, context, t("Usage: /erase NAME, for example <code>/erase Draycott</code>."))
        return
    if person_id is None:
        people = people_named(context, text)
        if not people:
            await reply(
                update,
                context,
                t("I found nobody called “{name}” in the directory. Nothing was changed.", name=text[:100]),
            )
            return
        if len(people) > 1:
            rows = [[(person_label(p), f"ep:{p.id}")] for p in people]
            await reply(update, context, t("Whose personal data should be erased?"), keyboard(rows))
            return
        person_id = people[0].id
    await _erase_preview(update, context, person_id, fresh=True)


async def _gone(update: Update, context: BotContext, person_id: int) -> None:
    async with context.services.session() as session:
        erased = await erasure.erased_person(session, person_id)
    if erased:
        await edit(update, context, t("This person's data has been erased. Nothing was changed."))
    else:
        await edit(update, context, t("There is no such person in the directory any more. Nothing was changed."))


def _choices(context: BotContext, person_id: int) -> dict[str, Any] | None:
    draft = context.user_data.get(ERASE_DRAFT) if context.user_data is not None else None
    if isinstance(draft, dict) and draft.get("p") == person_id:
        return draft
    return None


async def _erase_preview(update: Update, context: BotContext, person_id: int, fresh: bool = False) -> None:
    preview = await erase_preview(context.services.sessionmaker, person_id)
    if preview is None:
        await _gone(update, context, person_id)
        return
    choices = None if fresh else _choices(context, person_id)
    ids = [erasure.place_id(p) for p in preview.places]
    if choices is None or choices.get("places") != ids:
        choices = {"p": person_id, "places": ids, "keep": {}}
        if context.user_data is not None:
            context.user_data[ERASE_DRAFT] = choices
    keep: dict[str, str] = choices["keep"]
    accounts = fill(
        ngettext("{n} member account", "{n} member accounts", len(preview.telegram_ids)), n=len(preview.telegram_ids)
    )
    updates = fill(
        ngettext("Their {n} progress update stays", "Their {n} progress updates stay", preview.updates),
        n=preview.updates,
    )
    lines = [
        t(
            "Erase <b>{name}</b>?\n\nThis removes their directory entry, contact details and {accounts}, their "
            "appointments and buddy matches, and their saved drafts. {updates}, shown as by “{pseudonym}”. "
            "This cannot be undone.",
            name=preview.name or "—",
            accounts=accounts,
            updates=updates,
            pseudonym=pseudonym(person_id),
        )
    ]
    rows: list[list[tuple[str, str]]] = []
    if preview.places:
        n = len(preview.places)
        lines.append(
            fill(
                ngettext(
                    "\nThey are mentioned in free text in {n} place. Each is redacted (replaced by the "
                    "pseudonym) unless you keep it:",
                    "\nThey are mentioned in free text in {n} places. Each is redacted (replaced by the "
                    "pseudonym) unless you keep it:",
                    n,
                ),
                n=n,
            )
        )
        for i, place in enumerate(preview.places, 1):
            code = keep.get(erasure.place_id(place))
            state = t("keep: {reason}", reason=_(KEEP_REASONS[code])) if code in KEEP_REASONS else t("redact")
            lines.append(
                t(
                    "{i}. {where}: “{excerpt}” — <b>{state}</b>",
                    i=i,
                    where=place_label(place),
                    excerpt=place.excerpt[:120],
                    state=state,
                )
            )
            if i <= MAX_PLACES_WITH_BUTTONS:
                button = (
                    (_("{i}: redact instead").format(i=i), f"ex:{person_id}:{i}:r")
                    if code in KEEP_REASONS
                    else (_("{i}: keep…").format(i=i), f"ek:{person_id}:{i}")
                )
                if rows and len(rows[-1]) < 2:
                    rows[-1].append(button)
                else:
                    rows.append([button])
        if n > MAX_PLACES_WITH_BUTTONS:
            lines.append(t("Places after {n} are redacted.", n=MAX_PLACES_WITH_BUTTONS))
    else:
        lines.append(t("\nThey are not mentioned in any free text."))
    rows.append([(_("Erase"), f"er:{person_id}:y"), (_("Cancel"), f"er:{person_id}:n")])
    await edit(update, context, Html("\n".join(lines)), keyboard(rows))


async def erase_pick(update: Update, context: BotContext) -> None:
    parts = (update.callback_query.data or "").split(":") if update.callback_query else []
    person_id = _parse_id(parts[1]) if len(parts) == 2 else None
    if person_id is None:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    await answer(update)
    await _erase_preview(update, context, person_id, fresh=True)


def _place_button(update: Update, context: BotContext, size: int) -> tuple[int, int, dict[str, Any]] | None:
    parts = (update.callback_query.data or "").split(":") if update.callback_query else []
    if len(parts) != size:
        return None
    person_id, index = _parse_id(parts[1]), _parse_id(parts[2])
    if person_id is None or index is None:
        return None
    choices = _choices(context, person_id)
    if choices is None or not 1 <= index <= min(len(choices["places"]), MAX_PLACES_WITH_BUTTONS):
        return None
    return person_id, index, choices


async def erase_keep_ask(update: Update, context: BotContext) -> None:
    """ek:PERSON:N — why keep place N? The reasons are fixed (a button carries a code, never text)."""
    found = _place_button(update, context, 3)
    if found is None:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    person_id, index, _choices_ = found
    await answer(update)
    rows = [[(_(text), f"ex:{person_id}:{index}:{code}")] for code, text in KEEP_REASONS.items()]
    rows.append([(_("Back"), f"ex:{person_id}:{index}:b")])
    await edit(
        update, context, t("Why keep place {i}? The reason is recorded with the erasure.", i=index), keyboard(rows)
    )


async def erase_keep_set(update: Update, context: BotContext) -> None:
    """ex:PERSON:N:CODE — keep place N for reason CODE, or r (redact it), or b (back, no change)."""
    found = _place_button(update, context, 4)
    code = (update.callback_query.data or "").split(":")[-1] if update.callback_query else ""
    if found is None or code not in (*KEEP_REASONS, "r", "b"):
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    person_id, index, choices = found
    await answer(update)
    place = choices["places"][index - 1]
    if code == "r":
        choices["keep"].pop(place, None)
    elif code != "b":
        choices["keep"][place] = code
    await _erase_preview(update, context, person_id)


async def erase_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    parts = (query.data or "").split(":") if query else []
    person_id = _parse_id(parts[1]) if len(parts) == 3 and parts[2] in ("y", "n") else None
    if person_id is None:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return
    await answer(update)
    choices = _choices(context, person_id)
    if context.user_data is not None:
        context.user_data.pop(ERASE_DRAFT, None)
    if parts[2] == "n":
        await edit(update, context, t("Cancelled. Nothing was changed."))
        return
    keep = dict(choices["keep"]) if choices else {}
    actor = context.member.telegram_id if context.member else None
    conversations = draft_conversations(context.application)
    async with context.services.session() as session:
        result = await erase_person(session, person_id, actor, keep=keep, conversations=conversations)
    if result is None:
        await _gone(update, context, person_id)
        return
    closed = await forget_in_memory(context.application, result, result.finder) if result.finder else []
    await context.services.refresh_directory()
    await edit(update, context, receipt(result, len(closed)))
    await tell_affected(context.application, result, closed)


def receipt(result: erasure.EraseResult, drafts_closed: int) -> Html:
    """What the admin is told, and can keep: what was removed, how many mentions were redacted, and each
    place kept with its reason."""
    accounts = ngettext("{n} member account removed", "{n} member accounts removed", len(result.telegram_ids)).format(
        n=len(result.telegram_ids)
    )
    kept = ngettext(
        "{n} progress update kept as by “{pseudonym}”",
        "{n} progress updates kept as by “{pseudonym}”",
        result.updates_kept,
    ).format(n=result.updates_kept, pseudonym=result.pseudonym)
    lines = [t("Erased: {accounts}, {kept}.", accounts=accounts, kept=kept)]
    lines.append(
        fill(
            ngettext("{n} mention in free text redacted.", "{n} mentions in free text redacted.", len(result.redacted)),
            n=len(result.redacted),
        )
    )
    if drafts_closed:
        lines.append(
            fill(
                ngettext(
                    "{n} person's unfinished draft was closed; they were told.",
                    "{n} people's unfinished drafts were closed; they were told.",
                    drafts_closed,
                ),
                n=drafts_closed,
            )
        )
    if result.kept:
        lines.append(bold(_("Kept, at your choice:")))
        for place, code in result.kept:
            reason = _(KEEP_REASONS[code]) if code in KEEP_REASONS else code
            lines.append(t("• {where} — {reason}", where=place_label(place), reason=reason))
    return Html("\n".join(lines))


async def audit_command(update: Update, context: BotContext) -> None:
    if not await _private_only(update, context):
        return
    args = context.args or []
    limit = AUDIT_DEFAULT
    if args:
        parsed = _parse_id(args[0])
        if parsed is None or len(args) > 1:
            await reply(update, context, t("Usage: /audit [N] — the last N changes (at most {max}).", max=AUDIT_MAX))
            return
        limit = max(1, min(parsed, AUDIT_MAX))
    async with context.services.session() as session:
        lines = await audit_lines(session, limit, context.services.settings.tz)
    if not lines:
        await reply(update, context, t("The audit log is empty."))
        return
    await reply(update, context, Html("\n".join([bold(_("Latest changes")), *lines])))


MANIFEST = Manifest(
    "privacy",
    commands=(
        Command("mydata", mydata, Role.STRANGER, N_("see everything I hold about you"), private=True, menu=False),
        Command("erase", erase_command, Role.ADMIN, N_("erase a person's personal data"), private=True),
    ),
    buttons=(
        Button(
            "er",
            once(erase_button),
            Role.ADMIN,
            private=True,
            args="id:y|n",
            writes=Writes("erases a person's personal data"),
        ),
        Button("ep", erase_pick, Role.ADMIN, private=True, args="id"),
        Button("ek", erase_keep_ask, Role.ADMIN, private=True, args="id:id"),
        Button("ex", erase_keep_set, Role.ADMIN, private=True, args="id:id:h|l|o|r|b"),
    ),
)
