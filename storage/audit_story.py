"""The audit log told as sentences: who did what, to whom, when (in the reader's time zone). Names are looked
up for the people, members, requests and plans the entries point at; nothing shows an internal id or an
action code. Filters: by person (what they did and what was done to their entry or account) or by plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import N_, _, format_datetime
from storage.directory import Person, School
from storage.members import AccessRequest, AuditEntry, Member
from storage.plans import Action, Plan, ProgressUpdate

# action -> sentence; {who} the actor, {name} what the entry is about, {detail} a detail of the change.
SENTENCES = {
    "access.request": N_("{who} asked for access"),
    "access.approve": N_("{who} approved the access request of {name}"),
    "access.reject": N_("{who} turned down the access request of {name}"),
    "member.role": N_("{who} made {name} {detail}"),
    "member.revoke": N_("{who} ended the access of {name}"),
    "member.link": N_("{who} linked the account of {name} to their directory entry"),
    "member.reminders": N_("{who} switched progress reminders {detail}"),
    "person.create": N_("{who} added {name} to the directory"),
    "person.update": N_("{who} changed the {detail} of {name}"),
    "person.erase": N_("{who} erased the personal data of {name}"),
    "person.buddy_status": N_("{who} changed whether {name} takes buddies"),
    "school.create": N_("{who} added the school {name}"),
    "directory.import": N_("{who} imported the directory file {name}"),
    "directory.demo": N_("{who} loaded the demo partnership"),
    "demo.plan": N_("{who} loaded the demo action plan"),
    "plan.import": N_("{who} imported the plan {name}"),
    "plan.report": N_("{who} exported the report of {name}"),
    "plan.digest": N_("{who} posted the progress digest of {name}"),
    "plan.digest_chat": N_("{who} chose the group for the digest of {name}"),
    "plan.meeting_add": N_("{who} added a meeting of {name} on {detail}"),
    "plan.meeting_remove": N_("{who} removed the meeting of {name} on {detail}"),
    "progress.update": N_("{who} posted an update on action {detail} of {name}"),
    "progress.correction": N_("{who} corrected an update on action {detail} of {name}"),
    "progress.withdrawal": N_("{who} withdrew an update on action {detail} of {name}"),
    "reminder.send": N_("{who} sent a progress reminder"),
    "holiday.add": N_("{who} added a school holiday"),
    "holiday.remove": N_("{who} removed a school holiday"),
    "appointment.create": N_("{who} registered the appointment of {name} as a new head"),
    "appointment.update": N_("{who} updated the appointment of {name}"),
    "buddy.request": N_("{who} asked a buddy for {name}"),
    "buddy.accept": N_("{who} accepted to be the buddy of {name}"),
    "buddy.decline": N_("{who} declined to be the buddy of {name}"),
    "buddy.end": N_("{who} ended a buddy pairing of {name}"),
    "buddy.checkin": N_("{who} answered a buddy check-in"),
    "buddy.checkin_comment": N_("{who} commented on a buddy check-in"),
    "search.throttled": N_("{who} was slowed down for searching too fast"),
    "database.restore": N_("{who} restored the database from a backup"),
}
FIELD_WORDS = {
    "phone": N_("phone number"),
    "email": N_("email address"),
    "job": N_("job title"),
    "specialisms": N_("specialisms"),
    "capacity": N_("buddy places"),
}
ROLE_WORDS = {
    "member": N_("a member"),
    "lead": N_("an action lead"),
    "coordinator": N_("a coordinator"),
    "admin": N_("an admin"),
}


@dataclass(frozen=True)
class Filter:
    """Whose or which plan's entries; None fields are not filtered on."""

    label: str = ""
    person_id: int | None = None
    telegram_ids: tuple[int, ...] = ()
    plan_id: int | None = None


def _where(f: Filter) -> Any:
    clauses: list[Any] = []
    ids = [str(i) for i in f.telegram_ids]
    if f.person_id is not None or ids:
        if f.telegram_ids:
            clauses.append(AuditEntry.actor_id.in_(f.telegram_ids))
            clauses.append((AuditEntry.entity == "member") & AuditEntry.entity_id.in_(ids))
        if f.person_id is not None:
            clauses.append((AuditEntry.entity == "person") & (AuditEntry.entity_id == str(f.person_id)))
    if f.plan_id is not None:
        updates = (
            select(cast(ProgressUpdate.id, String))
            .join(Action, Action.id == ProgressUpdate.action_id)
            .where(Action.plan_id == f.plan_id)
        )
        clauses.append((AuditEntry.entity == "plan") & (AuditEntry.entity_id == str(f.plan_id)))
        clauses.append((AuditEntry.entity == "progress_update") & AuditEntry.entity_id.in_(updates))
    return or_(*clauses) if clauses else None


async def page(session: AsyncSession, f: Filter, offset: int, size: int) -> tuple[list[AuditEntry], int]:
    """One page of entries, newest first, and how many there are in all."""
    where = _where(f)
    query = select(AuditEntry)
    count = select(func.count()).select_from(AuditEntry)
    if where is not None:
        query, count = query.where(where), count.where(where)
    entries = list(
        await session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset(offset).limit(size))
    )
    return entries, int(await session.scalar(count) or 0)


def _int(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


async def _names(session: AsyncSession, entries: Sequence[AuditEntry]) -> dict[tuple[str, str], str]:
    """Names for what the entries point at: ('member', id), ('person', id), ('access_request', id) …"""
    want: dict[str, set[int]] = {}
    for e in entries:
        if e.actor_id is not None:
            want.setdefault("member", set()).add(e.actor_id)
        key = _int(e.entity_id)
        if key is not None:
            want.setdefault(e.entity, set()).add(key)
        for name in ("applicant", "person_id", "appointment_id", "plan_id"):
            value = e.detail.get(name) if isinstance(e.detail, dict) else None
            if isinstance(value, int):
                kind = {"applicant": "member", "person_id": "person"}.get(name, name.removesuffix("_id"))
                want.setdefault(kind, set()).add(value)
    names: dict[tuple[str, str], str] = {}

    async def load(kind: str, query: Any) -> None:
        for key, name in (await session.execute(query)).all():
            if name:
                names[(kind, str(key))] = str(name)

    if want.get("person"):
        people = await session.scalars(select(Person).where(Person.id.in_(want["person"])))
        names.update({("person", str(p.id)): p.full_name for p in people})
    if want.get("member"):
        await load(
            "member", select(Member.telegram_id, Member.display_name).where(Member.telegram_id.in_(want["member"]))
        )
    if want.get("access_request"):
        await load(
            "access_request",
            select(AccessRequest.id, AccessRequest.name).where(AccessRequest.id.in_(want["access_request"])),
        )
    if want.get("plan"):
        await load("plan", select(Plan.id, Plan.title).where(Plan.id.in_(want["plan"])))
    if want.get("school"):
        await load("school", select(School.id, School.name).where(School.id.in_(want["school"])))
    if want.get("progress_update"):
        await load(
            "progress_update",
            select(ProgressUpdate.id, Plan.title)
            .join(Action, Action.id == ProgressUpdate.action_id)
            .join(Plan, Plan.id == Action.plan_id)
            .where(ProgressUpdate.id.in_(want["progress_update"])),
        )
    if want.get("appointment") or want.get("buddy_match"):
        from storage.buddies import Appointment, BuddyMatch

        if want.get("appointment"):
            await load(
                "appointment",
                select(Appointment.id, Person.first_name + " " + Person.last_name)
                .join(Person, Person.id == Appointment.person_id)
                .where(Appointment.id.in_(want["appointment"])),
            )
        if want.get("buddy_match"):
            await load(
                "buddy_match",
                select(BuddyMatch.id, Person.first_name + " " + Person.last_name)
                .join(Appointment, Appointment.id == BuddyMatch.appointment_id)
                .join(Person, Person.id == Appointment.person_id)
                .where(BuddyMatch.id.in_(want["buddy_match"])),
            )
    return names


def _who(e: AuditEntry, names: dict[tuple[str, str], str]) -> str:
    if e.actor_id is None:
        return _("the command line") if e.actor_label in ("", "command line") else e.actor_label
    if e.actor_label.startswith("former member"):
        return e.actor_label if "#" in e.actor_label else _("a former member")
    return names.get(("member", str(e.actor_id))) or e.actor_label or _("a member no longer in the bot")


def _about(e: AuditEntry, names: dict[tuple[str, str], str]) -> str:
    detail = e.detail if isinstance(e.detail, dict) else {}
    if isinstance(detail.get("erased"), str):  # about a person since erased: their pseudonym
        return detail["erased"]
    if e.action == "person.erase" and e.entity_id.isdigit():
        from storage.mentions import pseudonym

        return pseudonym(int(e.entity_id))
    if e.entity == "access_request" and isinstance(detail.get("applicant"), int) and e.action != "access.request":
        found = names.get(("access_request", e.entity_id))
        if found:
            return found
    if e.entity in ("directory",):
        return e.entity_id
    if e.entity == "plan" and detail.get("title"):
        return str(detail["title"])
    if e.entity == "school" and detail.get("name"):
        return str(detail["name"])
    found = names.get((e.entity, e.entity_id))
    if found is None and e.entity == "buddy_match" and isinstance(detail.get("appointment_id"), int):
        found = names.get(("appointment", str(detail["appointment_id"])))
    if found is None and e.entity == "member" and detail.get("erased"):
        return _("an erased person")
    return found or {"member": _("an unnamed account"), "person": _("an erased person")}.get(
        e.entity, _("an entry since removed")
    )


def _detail(e: AuditEntry) -> str:
    detail = e.detail if isinstance(e.detail, dict) else {}
    if e.action == "member.role":
        if not detail.get("role"):
            return _("a new role")
        return _(ROLE_WORDS.get(str(detail.get("role")), str(detail.get("role", ""))))
    if e.action == "member.reminders":
        return _("on") if detail.get("on", detail.get("reminders")) else _("off")
    if e.action == "person.update":
        field = str(detail.get("field") or "")
        return _(FIELD_WORDS[field]) if field in FIELD_WORDS else _("entry")
    if e.action.startswith("progress."):
        return str(detail.get("ref") or "?")
    if e.action.startswith("plan.meeting"):
        try:
            from core.i18n import format_date

            return format_date(dt.date.fromisoformat(str(detail.get("date"))))
        except ValueError:
            return str(detail.get("date") or "")
    return ""


def sentence(e: AuditEntry, names: dict[tuple[str, str], str], tz: dt.tzinfo | None) -> str:
    """'1 Dec 2026, 10:02 — Ms Priya Shah approved the access request of Sam Newton.'"""
    template = SENTENCES.get(e.action)
    who = _who(e, names)
    if template is None:
        text = _("{who} made a change ({what})").format(who=who, what=e.action.replace(".", " ").replace("_", " "))
    else:
        text = _(template).format(who=who, name=_about(e, names), detail=_detail(e))
    when = format_datetime(e.at, tz)
    text = " ".join(text.split())  # an empty detail leaves no stray space before the full stop
    text = text[:1].upper() + text[1:]
    return _("{when} — {text}.").format(when=when, text=text)


async def sentences(session: AsyncSession, entries: Sequence[AuditEntry], tz: dt.tzinfo | None) -> list[str]:
    names = await _names(session, entries)
    return [sentence(e, names, tz) for e in entries]
