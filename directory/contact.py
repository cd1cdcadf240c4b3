"""How to reach a person: their own phone and email where the directory holds them, else their school's
(labelled as the school's); UK numbers formatted by Google's libphonenumber (`phonenumbers`); and the
vCard a shared Telegram contact carries. Pure: ORM rows in, strings out."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from storage.directory import Person

REGION = "GB"
VCARD_LIMIT = 2048  # Telegram's limit for a contact's vCard, in bytes


def _parse(raw: str | None) -> phonenumbers.PhoneNumber | None:
    if not raw or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, REGION)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def format_phone(raw: str | None) -> str | None:
    """'01642554129' -> '01642 554129'; a foreign number in international form; text that is no number
    as it was (it is still what the directory holds)."""
    number = _parse(raw)
    if number is None:
        return raw.strip() if raw and raw.strip() else None
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 44
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def dial_phone(raw: str | None) -> str | None:
    """The number as a phone dials it everywhere (E.164, '+441642554129'); None when it is no number."""
    number = _parse(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else None


_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


@dataclass(frozen=True)
class GivenContact:
    """What someone typed as "reach me on": a phone number (formatted) and/or an email address."""

    phone: str | None
    email: str | None

    @property
    def any(self) -> bool:
        return bool(self.phone or self.email)


def read_contact(text: str | None) -> GivenContact:
    """The first phone number (UK by default, read by libphonenumber) and the first email address in `text`;
    either may be missing ("07700 900123, j.smith@school.org.uk", "ring me on +44 7700 900123")."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", (text or "")[:500])  # pasted control characters are spaces
    found = _EMAIL.search(text)
    email = found.group(0).strip(".'").lower() if found else None
    rest = text.replace(found.group(0), " ") if found else text
    phone = None
    for match in phonenumbers.PhoneNumberMatcher(rest, REGION, leniency=phonenumbers.Leniency.POSSIBLE):
        if phonenumbers.is_possible_number(match.number):
            phone = format_phone(match.raw_string)
            break
    return GivenContact(phone, email)


@dataclass(frozen=True)
class Reach:
    phone: str | None = None  # as held
    phone_is_school: bool = False
    email: str | None = None
    email_is_school: bool = False

    @property
    def any(self) -> bool:
        return bool(self.phone or self.email)


def reach_of(person: Person) -> Reach:
    """`person.school` must be loaded. A former head is reached through nobody's school line."""
    school = person.school if not person.is_former else None
    phone, phone_school = person.phone, False
    if not phone and school is not None and school.phone:
        phone, phone_school = school.phone, True
    email, email_school = person.email, False
    if not email and school is not None and school.email:
        email, email_school = school.email, True
    return Reach(phone, phone_school, email, email_school)


def _v(value: str) -> str:
    """A vCard text value: backslash, comma, semicolon and line breaks escaped (RFC 6350 3.4)."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\r", "").replace("\n", "\\n")


def vcard(person: Person, reach: Reach) -> str:
    """A vCard 3.0 for a shared contact: name, role, school, phone and email (the school's marked WORK)."""
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"N:{_v(person.last_name or '')};{_v(person.first_name or '')};;{_v(person.title or '')};",
        f"FN:{_v(person.full_name or person.last_name or '')}",
    ]
    if person.school is not None:
        lines.append(f"ORG:{_v(person.school.name)}")
    if person.job_title:
        lines.append(f"TITLE:{_v(person.job_title)}")
    dial = dial_phone(reach.phone)
    if dial:
        lines.append(f"TEL;TYPE={'WORK,VOICE' if reach.phone_is_school else 'VOICE'}:{dial}")
    if reach.email:
        lines.append(f"EMAIL;TYPE=INTERNET{',WORK' if reach.email_is_school else ''}:{_v(reach.email)}")
    lines.append("END:VCARD")
    text = "\r\n".join(lines)
    while len(text.encode()) > VCARD_LIMIT and len(lines) > 4:  # only absurd names get here: drop extras
        lines.pop(-2)
        text = "\r\n".join(lines)
    return text
