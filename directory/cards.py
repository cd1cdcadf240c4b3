"""Contact cards: a person's or a school's entry as safe Telegram HTML, and the queries that load them.

Cards hold contact details, so they are only ever sent to approved members (the access gate sees to it).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_, _, format_date
from core.text import Html, bold, esc, t
from directory import specialisms as spec_catalogue
from storage.directory import Person, School

DESIGNATION_NAMES = {
    "SLE": N_("Specialist Leader of Education"),
    "NLE": N_("National Leader of Education"),
    "LLE": N_("Local Leader of Education"),
    "NLG": N_("National Leader of Governance"),
}
PHASE_NAMES = {
    "nursery": N_("Nursery"), "primary": N_("Primary"), "middle": N_("Middle"), "secondary": N_("Secondary"),
    "all-through": N_("All-through"), "special": N_("Special"), "pru": N_("Alternative provision"),
    "16-plus": N_("16 plus"),
}


def phase_label(phase: str | None) -> str:
    return _(PHASE_NAMES[phase]) if phase in PHASE_NAMES else (phase or "")


def designation_label(code: str) -> str:
    name = DESIGNATION_NAMES.get(code.upper())
    return f"{code.upper()} ({_(name)})" if name else code


def specialism_labels(names: Sequence[str]) -> list[str]:
    return [spec_catalogue.label(spec_catalogue.canonical(n) or n) for n in names]


def person_card(person: Person) -> Html:
    """Name, job title, school, phone, email, designations, specialisms and headship start.

    `person.school` and `person.specialisms` must be loaded (see `load_person`)."""
    parts: list[str] = [bold(person.full_name or _("(no name)"))]
    if person.job_title:
        parts.append(esc(person.job_title))
    if person.school is not None:
        parts.append(t("🏫 {school}", school=person.school.name))
    if person.phone:
        parts.append(t("☎️ {phone}", phone=person.phone))
    if person.email:
        parts.append(t("✉️ {email}", email=person.email))
    designations = person.designation_list
    if designations:
        parts.append(t("Designations: {list}", list=", ".join(designation_label(d) for d in designations)))
    specs = [s.name for s in person.specialisms]
    if specs:
        parts.append(t("Specialisms: {list}", list=", ".join(specialism_labels(specs))))
    if person.headship_start is not None:
        parts.append(t("Headteacher since {date}", date=format_date(person.headship_start)))
    return Html("\n".join(parts))


def school_card(school: School, staff_count: int = 0) -> Html:
    """The school's name, URN, phase and type, area, trust, phone and website; its people follow as buttons."""
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
        parts.append(t("☎️ {phone}", phone=school.phone))
    if school.website:
        parts.append(t("🌐 {site}", site=school.website))
    if staff_count:
        parts.append("")
        parts.append(t("People in the directory: {n}", n=staff_count))
    else:
        parts.append("")
        parts.append(t("No one from this school is in the directory yet."))
    return Html("\n".join(parts))


def person_button_label(person: Person) -> str:
    """Short button text: name and role (Telegram cuts labels at 64 characters)."""
    role = person.job_title or ", ".join(person.designation_list)
    label = person.full_name or _("(no name)")
    return f"{label} · {role}" if role else label


async def load_person(session: AsyncSession, person_id: int) -> Person | None:
    return (await session.scalars(select(Person).options(selectinload(Person.school),
                                                         selectinload(Person.specialisms))
                                  .where(Person.id == person_id))).first()


async def load_school(session: AsyncSession, school_id: int) -> tuple[School, list[Person]] | None:
    """The school and its people: heads first, then system leaders, then by surname."""
    school = await session.get(School, school_id)
    if school is None:
        return None
    people = list((await session.scalars(select(Person).where(Person.school_id == school_id))).all())
    people.sort(key=lambda p: (not p.is_head, not p.designations, (p.last_name or "").lower(),
                               (p.first_name or "").lower()))
    return school, people
