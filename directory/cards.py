"""Contact cards: a person's or a school's entry as safe Telegram HTML, and the queries that load them.

Cards hold contact details (directory/contact.py says whose), so they are only ever sent to approved members
(every handler that sends one is declared for members).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_, _, format_date
from core.text import Html, bold, esc, t
from directory import specialisms as spec_catalogue
from directory.contact import format_phone, reach_of
from storage.buddies import Appointment
from storage.directory import Person, School

DESIGNATION_NAMES = {
    "SLE": N_("Specialist Leader of Education"),
    "NLE": N_("National Leader of Education"),
    "LLE": N_("Local Leader of Education"),
    "NLG": N_("National Leader of Governance"),
}
PHASE_NAMES = {
    "nursery": N_("Nursery"),
    "primary": N_("Primary"),
    "middle": N_("Middle"),
    "secondary": N_("Secondary"),
    "all-through": N_("All-through"),
    "special": N_("Special"),
    "pru": N_("Alternative provision"),
    "16-plus": N_("16 plus"),
}


def phase_label(phase: str | None) -> str:
    return _(PHASE_NAMES[phase]) if phase in PHASE_NAMES else (phase or "")


def designation_label(code: str) -> str:
    name = DESIGNATION_NAMES.get(code.upper())
    return f"{code.upper()} ({_(name)})" if name else code


def specialism_labels(names: Sequence[str]) -> list[str]:
    return [spec_catalogue.label(spec_catalogue.canonical(n) or n) for n in names]


def checked_label(person: Person) -> str | None:
    """'checked Autumn 2026': the term of the member's last "all correct" (directory/currency.py)."""
    if person.checked_on is None:
        return None
    from core.terms import term_for, term_label

    return _("checked {term}").format(term=term_label(term_for(person.checked_on)))


def contact_lines(person: Person) -> list[str]:
    """How to reach them: their own phone and email, else the school's, labelled as the school's."""
    reach = reach_of(person)
    lines: list[str] = []
    if reach.phone:
        phone = format_phone(reach.phone) or reach.phone
        lines.append(t("☎️ {phone} (school)", phone=phone) if reach.phone_is_school else t("☎️ {phone}", phone=phone))
    if reach.email:
        lines.append(
            t("✉️ {email} (school)", email=reach.email) if reach.email_is_school else t("✉️ {email}", email=reach.email)
        )
    return lines


def person_card(person: Person, upcoming: Appointment | None = None) -> Html:
    """Name, job title, school, how to reach them, designations, specialisms, headship and when checked.

    `person.school` and `person.specialisms` must be loaded (see `load_person`); `upcoming` is an
    appointment of theirs that has not started yet (directory/succession.py)."""
    parts: list[str] = [bold(person.full_name or _("(no name)"))]
    if person.is_former:
        if person.left_on is not None:
            parts.append(t("Former headteacher (until {date})", date=format_date(person.left_on)))
        else:
            parts.append(t("Former headteacher"))
    elif person.job_title:
        parts.append(esc(person.job_title))
    if person.school is not None:
        town = person.school.locality or person.school.local_authority
        if town and town.casefold() not in person.school.name.casefold():
            parts.append(t("🏫 {school}, {town}", school=person.school.name, town=town))
        else:
            parts.append(t("🏫 {school}", school=person.school.name))
    if upcoming is not None:
        where = upcoming.school.name if upcoming.school is not None else _("a new school")
        parts.append(t("Headteacher of {school} from {date}", school=where, date=format_date(upcoming.start_date)))
    parts.extend(contact_lines(person))
    designations = person.designation_list
    if designations:
        parts.append(t("Designations: {list}", list=", ".join(designation_label(d) for d in designations)))
    specs = [s.name for s in person.specialisms]
    if specs:
        parts.append(t("Specialisms: {list}", list=", ".join(specialism_labels(specs))))
    if person.headship_start is not None and person.is_head:
        parts.append(t("Headteacher since {date}", date=format_date(person.headship_start)))
    checked = checked_label(person)
    if checked:
        parts.append(esc(f"✔️ {checked}"))
    return Html("\n".join(parts))


def _leader_line(person: Person) -> str:
    role = person.job_title or ", ".join(person.designation_list)
    return t("{role}: {name}", role=role, name=person.full_name) if role else esc(person.full_name)


def school_card(school: School, people: Sequence[Person] | int = 0, upcoming: Sequence[Appointment] = ()) -> Html:
    """The school's name, URN, phase and type, area, trust, phone, email and website; its head first, then
    the other leaders, then an appointment still to start ("Headteacher from 1 Sep 2027: …")."""
    staff = list(people) if not isinstance(people, int) else []
    staff_count = people if isinstance(people, int) else len(staff)
    parts: list[str] = [bold(school.name)]
    facts = [f for f in (phase_label(school.phase), school.school_type) if f]
    if facts:
        parts.append(esc(" · ".join(facts)))
    if school.urn:
        parts.append(t("URN {urn}", urn=school.urn))
    place = ", ".join(p for p in (school.locality, school.local_authority, school.postcode) if p)
    if place:
        parts.append(t("📍 {place}", place=place))
    if school.trust:
        parts.append(t("Trust: {trust}", trust=school.trust))
    if school.pupils:
        parts.append(t("{n} pupils", n=school.pupils))
    if school.phone:
        parts.append(t("☎️ {phone}", phone=format_phone(school.phone) or school.phone))
    if school.email:
        parts.append(t("✉️ {email}", email=school.email))
    if school.website:
        parts.append(t("🌐 {site}", site=school.website))
    if staff:
        parts.append("")
        parts.extend(_leader_line(p) for p in staff[:12])
        if len(staff) > 12:
            parts.append(t("… and {n} more (buttons below)", n=len(staff) - 12))
    for appointment in upcoming:
        if appointment.person is not None:
            parts.append(
                t(
                    "Headteacher from {date}: {name}",
                    date=format_date(appointment.start_date),
                    name=appointment.person.full_name,
                )
            )
    if staff_count and not staff:
        parts.append("")
        parts.append(t("People in the directory: {n}", n=staff_count))
    elif not staff_count:
        parts.append("")
        parts.append(t("No one from this school is in the directory yet."))
    return Html("\n".join(parts))


def person_button_label(person: Person) -> str:
    """Short button text: name and role (Telegram cuts labels at 64 characters)."""
    role = person.job_title or ", ".join(person.designation_list)
    label = person.full_name or _("(no name)")
    return f"{label} · {role}" if role else label


async def load_person(session: AsyncSession, person_id: int) -> Person | None:
    return (
        await session.scalars(
            select(Person)
            .options(selectinload(Person.school), selectinload(Person.specialisms))
            .where(Person.id == person_id)
        )
    ).first()


async def load_school(session: AsyncSession, school_id: int) -> tuple[School, list[Person]] | None:
    """The school and its current people: heads first, then system leaders, then by surname."""
    school = await session.get(School, school_id)
    if school is None:
        return None
    people = list(
        (await session.scalars(select(Person).where(Person.school_id == school_id, Person.status == "current"))).all()
    )
    people.sort(
        key=lambda p: (not p.is_head, not p.designations, (p.last_name or "").lower(), (p.first_name or "").lower())
    )
    return school, people
