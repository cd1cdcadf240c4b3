"""Members keep their own directory entry up to date: /me shows it, /edit changes one field."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from core.i18n import N_, _, ngettext
from core.reply import not_in_private, reply
from core.services import BotContext
from core.text import fill, t
from directory.cards import load_person, person_card
from directory.specialisms import canonical_many
from handlers.manifest import Command, Manifest, Writes
from storage import audit
from storage.directory import Person, Specialism
from storage.members import Role

EDITABLE = {
    "phone": N_("phone number"),
    "email": N_("email address"),
    "job": N_("job title"),
    "specialisms": N_("specialisms (comma-separated)"),
    "capacity": N_("buddy places you can offer (0 to 5), or support days a year: 10 days"),
}
PLURAL_FIELDS = {"specialisms", "capacity"}  # "your specialisms are now …"
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
PHONE = re.compile(r"^[0-9 +()-]{6,20}$")


def _usage() -> str:
    lines = [t("Usage: /edit FIELD VALUE, where FIELD is one of:")]
    lines += [t("• {field} — {meaning}", field=name, meaning=_(meaning)) for name, meaning in EDITABLE.items()]
    return "\n".join(lines)


async def _linked_person(update: Update, context: BotContext, session: AsyncSession) -> Person | None:
    """The member's own directory entry, or None after saying it is not linked yet."""
    member = context.member
    person = await load_person(session, member.person_id) if member and member.person_id else None
    if person is None:
        await reply(
            update, context, t("Your account is not linked to a directory entry yet. Ask a coordinator to link it.")
        )
    return person


async def show_me(update: Update, context: BotContext) -> None:
    if await not_in_private(update, context):
        return
    async with context.services.session() as session:
        person = await _linked_person(update, context, session)
        if person is None:
            return
        card = person_card(person)
    await reply(
        update, context, card + "\n\n" + t("Change a detail with /edit, e.g. <code>/edit phone 01632 960123</code>")
    )


async def edit(update: Update, context: BotContext) -> None:
    if await not_in_private(update, context):
        return
    args = context.args or []
    if len(args) < 2 or args[0].lower() not in EDITABLE:
        await reply(update, context, _usage())
        return
    field, value = args[0].lower(), " ".join(args[1:]).strip()[:200]
    if field == "capacity" and "day" in value.lower() and context.member and context.member.person_id:
        # "/edit capacity 10 days": a system leader's support days a year (handlers/support.py).
        from handlers.support import set_own_capacity

        await reply(update, context, await set_own_capacity(context, context.member.person_id, value))
        return
    async with context.services.session() as session:
        person = await _linked_person(update, context, session)
        if person is None:
            return
        if field == "phone":
            if not PHONE.match(value):
                await reply(update, context, t("That does not look like a phone number. Nothing was changed."))
                return
            old, person.phone = person.phone, value
        elif field == "email":
            if not EMAIL.match(value):
                await reply(update, context, t("That does not look like an email address. Nothing was changed."))
                return
            taken = await session.scalar(select(Person.id).where(Person.email == value.lower(), Person.id != person.id))
            if taken:
                await reply(update, context, t("Another entry already uses that email address. Nothing was changed."))
                return
            old, person.email = person.email, value.lower()
        elif field == "job":
            value = value[:120]  # the column's width
            old, person.job_title = person.job_title, value
        elif field == "capacity":
            if not (value.isascii() and value.isdigit()) or not 0 <= int(value) <= 5:
                await reply(update, context, t("Please give a number from 0 to 5. Nothing was changed."))
                return
            old, person.mentor_capacity = str(person.mentor_capacity), int(value)
        else:
            names = canonical_many(value)
            if not names:
                await reply(
                    update,
                    context,
                    t("I did not recognise any specialism in “{text}”. Nothing was changed.", text=value),
                )
                return
            existing = {s.name: s for s in (await session.scalars(select(Specialism))).all()}
            for name in names:
                if name not in existing:
                    existing[name] = Specialism(name=name)
                    session.add(existing[name])
            old = ", ".join(s.name for s in person.specialisms)
            person.specialisms = [existing[name] for name in names]
            value = ", ".join(names)
        person.updated_by = context.member.telegram_id if context.member else None
        audit.record(session, person.updated_by, "person.update", "person", person.id, field=field, old=old, new=value)
        person_id = person.id
    await context.services.refresh_person(person_id)  # this one entry, in place
    label = _(EDITABLE[field]).split(" (")[0]
    if field == "capacity":
        places = int(value)
        await reply(
            update,
            context,
            fill(
                ngettext(
                    "Saved: you now offer {n} buddy place.",
                    "Saved: you now offer {n} buddy places.",
                    places,
                ),
                n=places,
            )
            if places
            else t("Saved: you offer no buddy places for now."),
        )
    elif field in PLURAL_FIELDS:
        await reply(update, context, t("Saved: your {field} are now {value}.", field=label, value=value))
    else:
        await reply(update, context, t("Saved: your {field} is now {value}.", field=label, value=value))


MANIFEST = Manifest(
    "profile",
    commands=(
        Command("me", show_me, Role.MEMBER, N_("your own directory entry"), private=True),
        Command(
            "edit",
            edit,
            Role.MEMBER,
            N_("change a detail of your own entry"),
            private=True,
            writes=Writes("the member's own directory entry", "linked"),
        ),
    ),
)
