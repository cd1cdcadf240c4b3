"""`/newhead`: register a new headteacher's appointment, for oneself or on someone's behalf.

Who is registering (me / the school / the trust / the partnership office) → the new head's name → school
(fuzzy pick from the directory, or a new school by name) → start date (UK formats) → which apply (toggle
buttons, then Done) → support wanted (toggle specialisms or type them, then Done) → how the new head would
like to be reached (a phone and/or an email, optional: kept on their directory entry, seen by members as
any entry is, and given to their buddy in the introduction) → confirm → stored.
The coordinators are told at once, with the top buddy suggestions (handlers.buddy.announce_appointment).
A member's registration (for themselves or anyone else) waits for a coordinator's confirm (directory/integrity.py,
listed on /desk); a start date more than a term back or eighteen months ahead is questioned (nhd:y keeps it);
Registering links no account (storage/identity.py).
"nhr:PERSON" starts the flow filled in from a register import's head change (handlers/directory_upload.py).

Callback data: nhw:self|school|trust|office  nhm:0 (use my entry)  nhs:SCHOOL_ID | nhs:new
               nhf:0-3 | nhf:done  nhk:INDEX | nhk:done  nhp:skip  nhc:save | nhc:x
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from telegram import Update
from telegram.ext import (
    ConversationHandler,
)

from core import clock
from core.i18n import N_, _, format_date
from core.reply import answer, edit, keyboard, reply
from core.services import BotContext
from core.terms import previous_term, term_for
from core.text import Html, bold, esc, t
from directory import appointments as ap
from directory import integrity
from directory.contact import read_contact
from directory.dates import parse_uk_date
from directory.matching import join_words, need_label
from handlers.manifest import Button, Command, Conversation, Manifest, Reply, Writes
from storage.directory import Person, School
from storage.members import Role

WHO, NAME, SCHOOL, START, FLAGS, NEEDS, CONFIRM, CONTACT = range(8)
END = ConversationHandler.END
DRAFT = "newhead"
MAX_NAME = 200
SCHOOL_CHOICES = 6
# Start dates: beyond this they are not a date someone meant ("could not read"); within it, more than a term
# back or more than LATEST_START ahead is questioned before it is kept.
UNREADABLE_DAYS = 10 * 366
LATEST_START = dt.timedelta(days=548)  # eighteen months
TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "professor", "sir", "dame", "rev", "mx"}
FLAGS_ORDER = ("new_to_headship", "new_to_area", "new_to_trust", "new_to_phase")
FLAG_LABELS = {
    "new_to_headship": N_("New to headship"),
    "new_to_area": N_("New to the area"),
    "new_to_trust": N_("New to an academy or trust"),
    "new_to_phase": N_("New to the phase"),
}
WHO_LABELS = {
    "self": N_("Me: I am the new head"),
    "school": N_("For the school"),
    "trust": N_("For the trust"),
    "office": N_("For the partnership office"),
}


def specialism_names() -> list[str]:
    """The catalogue of specialisms offered as buttons (canonical names)."""
    try:
        from directory.specialisms import CATALOGUE
    except ImportError:  # pragma: no cover - the catalogue ships with the package
        return []
    return list(CATALOGUE)


def split_name(text: str) -> tuple[str | None, str, str]:
    """(title, first names, last name): 'Mrs Jane van Dyke' -> ('Mrs', 'Jane', 'van Dyke'). The last word
    is the last name, with any particle before it ('van', 'de' ...)."""
    words = " ".join(text.split())[:MAX_NAME].split(" ")
    title = None
    if words and words[0].lower().rstrip(".") in TITLES and len(words) > 1:
        title = words.pop(0).rstrip(".").capitalize()
        title = "Dr" if title.lower() == "dr" else title
    if len(words) < 2:
        return title, "", words[0] if words else ""
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in {"van", "von", "de", "da", "di", "le", "la", "du", "del", "der"}:
        cut -= 1
    return title, " ".join(words[:cut]), " ".join(words[cut:])


def _draft(context: BotContext) -> dict[str, Any]:
    return context.draft(DRAFT)


def _flag_rows(draft: dict[str, Any]) -> list[list[tuple[str, str]]]:
    flags = draft.get("flags", {})
    rows = [
        [(("✅ " if flags.get(key) else "▫️ ") + _(FLAG_LABELS[key]), f"nhf:{i}")] for i, key in enumerate(FLAGS_ORDER)
    ]
    rows.append([(_("Done"), "nhf:done")])
    return rows


def _need_rows(draft: dict[str, Any]) -> list[list[tuple[str, str]]]:
    chosen = set(draft.get("needs", []))
    buttons = [
        (("✅ " if name in chosen else "") + need_label(name)[:1].upper() + need_label(name)[1:], f"nhk:{i}")
        for i, name in enumerate(specialism_names())
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([(_("Done"), "nhk:done")])
    return rows


# --------------------------------------------------------------------------------------------- steps


async def start(update: Update, context: BotContext) -> int:
    context.user_data[DRAFT] = {"flags": {"new_to_headship": True}, "needs": []}
    await reply(
        update,
        context,
        Html(
            bold(_("Register a new headteacher"))
            + "\n"
            + t("Who is registering the appointment? (/cancel stops at any time)")
        ),
        keyboard([[(_(label), f"nhw:{key}")] for key, label in WHO_LABELS.items()]),
    )
    return WHO


async def choose_who(update: Update, context: BotContext) -> int:
    who = (update.callback_query.data or "").split(":")[-1]  # type: ignore[union-attr]
    if who not in WHO_LABELS:
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return WHO
    draft = _draft(context)
    draft["who"] = who
    await answer(update)
    rows = None
    if who == "self" and context.member is not None and context.member.person_id is not None:
        async with context.services.session() as session:
            person = await session.get(Person, context.member.person_id)
            if person is not None:
                draft["me"] = {"id": person.id, "name": person.full_name, "school_id": person.school_id}
                rows = [[(_("Use my entry: {name}").format(name=person.full_name)[:60], "nhm:0")]]
    await edit(
        update,
        context,
        t("What is the new head's full name? (for example: Mrs Jane Smith)"),
        keyboard(rows) if rows else None,
    )
    return NAME


async def use_my_entry(update: Update, context: BotContext) -> int:
    draft = _draft(context)
    me = draft.get("me")
    await answer(update)
    if not isinstance(me, dict):
        await edit(update, context, t("What is the new head's full name? (for example: Mrs Jane Smith)"))
        return NAME
    draft["person_id"] = me["id"]
    draft["name"] = me["name"]
    async with context.services.session() as session:
        person = await session.get(Person, me["id"])
        if person is not None:
            draft["title"], draft["first"], draft["last"] = person.title, person.first_name, person.last_name
    return await _ask_school(update, context)


async def type_name(update: Update, context: BotContext) -> int:
    text = (update.effective_message.text or "") if update.effective_message else ""
    title, first, last = split_name(text)
    if not first or not last or any(ch in text for ch in "<>@/\\") or len(text) > MAX_NAME:
        await reply(update, context, t("Please send the new head's first and last name, for example: Jane Smith."))
        return NAME
    draft = _draft(context)
    draft.update(title=title, first=first, last=last, name=" ".join(p for p in (title, first, last) if p))
    draft.pop("person_id", None)
    return await _ask_school(update, context)


async def _ask_school(update: Update, context: BotContext) -> int:
    draft = _draft(context)
    rows = []
    me = draft.get("me")
    if draft.get("person_id") and isinstance(me, dict) and me.get("school_id"):
        async with context.services.session() as session:
            school = await session.get(School, me["school_id"])
            if school is not None:
                rows = [[(school.name[:60], f"nhs:{school.id}")]]
    await reply(
        update,
        context,
        t("Which school? Type its name (or part of it); I will look it up."),
        keyboard(rows) if rows else None,
    )
    return SCHOOL


async def _find_schools(context: BotContext, text: str) -> list[tuple[int, str]]:
    index = context.services.directory
    if index is not None:
        found = [(m.id, m.label) for m in index.search(text, limit=SCHOOL_CHOICES * 2) if m.kind == "school"]
        if found:
            return found[:SCHOOL_CHOICES]
    # No index yet, or nothing in it (it may be older than the latest import): plain words in the name.
    words = [w for w in text.split() if len(w) > 2][:4]
    if not words:
        return []
    async with context.services.session() as session:
        query = select(School.id, School.name)
        for word in words:
            query = query.where(School.name.ilike(f"%{word.replace('%', '').replace('_', '')}%"))
        return [
            (sid, name)
            for sid, name in (await session.execute(query.order_by(School.name).limit(SCHOOL_CHOICES))).all()
        ]


async def type_school(update: Update, context: BotContext) -> int:
    text = " ".join(((update.effective_message.text or "") if update.effective_message else "").split())[:200]
    if len(text) < 2:
        await reply(update, context, t("Please type the school's name."))
        return SCHOOL
    draft = _draft(context)
    draft["new_school"] = text
    found = await _find_schools(context, text)
    rows = [[(name[:60], f"nhs:{sid}")] for sid, name in found]
    rows.append([(_("A new school: {name}").format(name=text)[:60], "nhs:new")])
    message = t("Which of these is it?") if found else t("I could not find that school in the directory.")
    await reply(update, context, Html(message + "\n" + t("Or type the name again.")), keyboard(rows))
    return SCHOOL


async def choose_school(update: Update, context: BotContext) -> int:
    value = (update.callback_query.data or "").split(":")[-1]  # type: ignore[union-attr]
    draft = _draft(context)
    if value == "new":
        if not draft.get("new_school"):
            await answer(update, _("Please type the school's name."), alert=True)
            return SCHOOL
        draft["school_id"], draft["school_label"] = None, draft["new_school"]
    else:
        try:
            school_id = int(value)
        except ValueError:
            await answer(update, _("That button has expired. Please start again."), alert=True)
            return SCHOOL
        async with context.services.session() as session:
            school = await session.get(School, school_id)
            if school is None:
                await answer(update, _("That school is no longer in the directory."), alert=True)
                return SCHOOL
            draft["school_id"], draft["school_label"] = school.id, school.name
    await answer(update)
    await edit(update, context, t("School: {name}", name=draft["school_label"]))
    await reply(update, context, t("When do they start? For example: 1/9/25, 1 September 2025 or September."))
    return START


def date_doubt(start_date: dt.date, today: dt.date) -> str | None:
    """Why a start date deserves a second look: more than a term back (before the previous term began) or more
    than eighteen months ahead. None: it is plausible."""
    if start_date < previous_term(term_for(today)).start:
        return _("That is more than a term ago.")
    if start_date > today + LATEST_START:
        return _("That is more than eighteen months ahead.")
    return None


async def type_start(update: Update, context: BotContext) -> int:
    text = (update.effective_message.text or "") if update.effective_message else ""
    today = clock.now().astimezone(context.services.settings.tz).date()
    start_date = parse_uk_date(text, today)
    if start_date is None or abs((start_date - today).days) > UNREADABLE_DAYS:
        await reply(update, context, t("I could not read that as a date. Try 1/9/25, 1 September 2025 or September."))
        return START
    draft = _draft(context)
    doubt = date_doubt(start_date, today)
    if doubt is not None:
        draft["start_doubted"] = start_date.isoformat()
        await reply(
            update,
            context,
            Html(
                t("Starts {date}?", date=format_date(start_date))
                + " "
                + esc(doubt)
                + "\n"
                + t("Please check it: keep it, or type the right date.")
            ),
            keyboard([[(_("Yes, keep {date}").format(date=format_date(start_date))[:60], "nhd:y")]]),
        )
        return START
    return await _ask_flags(update, context, start_date)


async def keep_date(update: Update, context: BotContext) -> int:
    """nhd:y — the registrar confirms a start date that was questioned."""
    draft = _draft(context)
    doubted = draft.pop("start_doubted", None)
    if not isinstance(doubted, str):
        await answer(update, _("That button has expired. Please start again."), alert=True)
        return START
    await answer(update)
    return await _ask_flags(update, context, dt.date.fromisoformat(doubted))


async def _ask_flags(update: Update, context: BotContext, start_date: dt.date) -> int:
    draft = _draft(context)
    draft.pop("start_doubted", None)
    draft["start"] = start_date.isoformat()
    await reply(
        update,
        context,
        Html(
            t("Starts {date}.", date=format_date(start_date))
            + "\n\n"
            + t("Which of these apply? Press to tick, then Done.")
        ),
        keyboard(_flag_rows(draft)),
    )
    return FLAGS


async def toggle_flag(update: Update, context: BotContext) -> int:
    value = (update.callback_query.data or "").split(":")[-1]  # type: ignore[union-attr]
    draft = _draft(context)
    flags = draft.setdefault("flags", {})
    if value == "done":
        await answer(update)
        await edit(
            update,
            context,
            t(
                "Applies: {flags}",
                flags="; ".join(_(FLAG_LABELS[k]) for k in FLAGS_ORDER if flags.get(k)) or _("none of these"),
            ),
        )
        await reply(
            update,
            context,
            t(
                "What support would they like? Press the areas (several if you like) or "
                "type them, for example: SEND and pupil premium. Then press Done."
            ),
            keyboard(_need_rows(draft)),
        )
        return NEEDS
    if value.isdigit() and int(value) < len(FLAGS_ORDER):
        key = FLAGS_ORDER[int(value)]
        flags[key] = not flags.get(key)
    await answer(update)
    await edit(update, context, t("Which of these apply? Press to tick, then Done."), keyboard(_flag_rows(draft)))
    return FLAGS


async def toggle_need(update: Update, context: BotContext) -> int:
    value = (update.callback_query.data or "").split(":")[-1]  # type: ignore[union-attr]
    draft = _draft(context)
    needs: list[str] = draft.setdefault("needs", [])
    names = specialism_names()
    if value == "done":
        await answer(update)
        return await _ask_contact(update, context)
    if value.isdigit() and int(value) < len(names):
        name = names[int(value)]
        if name in needs:
            needs.remove(name)
        else:
            needs.append(name)
    await answer(update)
    await edit(
        update,
        context,
        t("What support would they like? Press the areas (several if you like) or type them, then press Done."),
        keyboard(_need_rows(draft)),
    )
    return NEEDS


async def type_needs(update: Update, context: BotContext) -> int:
    from directory.specialisms import split_unknown

    text = (update.effective_message.text or "") if update.effective_message else ""
    found, unknown = split_unknown(text)
    draft = _draft(context)
    needs: list[str] = draft.setdefault("needs", [])
    for name in found:
        if name not in needs:
            needs.append(name)
    lines = []
    if found:
        lines.append(t("Added: {names}", names=join_words([need_label(n) for n in found])))
    if unknown:
        lines.append(t("I did not recognise: {words}", words=", ".join(unknown[:5])))
    lines.append(t("Press more areas or type them, then press Done."))
    await reply(update, context, Html("\n".join(lines)), keyboard(_need_rows(draft)))
    return NEEDS


async def _ask_contact(update: Update, context: BotContext) -> int:
    draft = _draft(context)
    if draft.get("who") == "self":
        question = t(
            "How would you like your buddy to reach you? Send a phone number and/or an email address in one "
            "message, or press Skip. It is kept on your directory entry, which only members see."
        )
    else:
        question = t(
            "How would {name} like their buddy to reach them? Send a phone number and/or an email address in "
            "one message, or press Skip. It is kept on their directory entry, which only members see.",
            name=draft.get("name", ""),
        )
    await reply(
        update,
        context,
        question,
        keyboard([[(_("Skip"), "nhp:skip")]]),
    )
    return CONTACT


async def type_contact(update: Update, context: BotContext) -> int:
    text = (update.effective_message.text or "") if update.effective_message else ""
    given = read_contact(text)
    if not given.any:
        await reply(
            update,
            context,
            t(
                "I could not read a phone number or an email address there. Send one, for example "
                "<code>07700 900123, j.smith@school.org.uk</code>, or press Skip."
            ),
            keyboard([[(_("Skip"), "nhp:skip")]]),
        )
        return CONTACT
    draft = _draft(context)
    draft["phone"], draft["email"] = given.phone, given.email
    return await _confirm(update, context)


async def skip_contact(update: Update, context: BotContext) -> int:
    await answer(update)
    draft = _draft(context)
    draft.pop("phone", None)
    draft.pop("email", None)
    return await _confirm(update, context)


def summary(draft: dict[str, Any], registered_by: str | None = None) -> Html:
    """The draft to check; `registered_by` (the member's name, for the coordinators) joins the who line."""
    flags = draft.get("flags", {})
    applies = "; ".join(_(FLAG_LABELS[k]) for k in FLAGS_ORDER if flags.get(k)) or _("none of these")
    needs = join_words([need_label(n) for n in draft.get("needs", [])]) or _("none named")
    school = draft.get("school_label") or ""
    if draft.get("school_id") is None:
        school = _("{name} (a new school)").format(name=school)
    start = dt.date.fromisoformat(draft["start"])
    return Html(
        "\n".join(
            [
                bold(_("Please check:")),
                t("Name: {name}", name=draft.get("name", "")),
                t("School: {name}", name=school),
                t("Starts: {date}", date=format_date(start)),
                t("Applies: {flags}", flags=applies),
                t("Support wanted: {needs}", needs=needs),
                t(
                    "Reach them on: {contact}",
                    contact=" · ".join(x for x in (draft.get("phone"), draft.get("email")) if x) or _("not given"),
                ),
                t("Registered by: {who}", who=_(WHO_LABELS.get(draft.get("who", "office"), "")))
                if registered_by is None
                else t(
                    "Registered by {name}: {who}",
                    name=registered_by,
                    who=_(WHO_LABELS.get(draft.get("who", "office"), "")),
                ),
            ]
        )
    )


async def _confirm(update: Update, context: BotContext) -> int:
    await reply(
        update, context, summary(_draft(context)), keyboard([[(_("Save"), "nhc:save"), (_("Cancel"), "nhc:x")]])
    )
    return CONFIRM


async def save(update: Update, context: BotContext) -> int:
    draft = _draft(context)
    required = ("who", "name", "last", "start")
    if any(not draft.get(k) for k in required) or ("school_id" not in draft and not draft.get("school_label")):
        await answer(update, _("That button has expired. Please start again."), alert=True)
        context.user_data.pop(DRAFT, None)
        return END
    flags = draft.get("flags", {})
    member = context.member
    values: dict[str, Any] = dict(
        first_name=draft.get("first", ""),
        last_name=draft["last"],
        title=draft.get("title"),
        start_date=dt.date.fromisoformat(draft["start"]),
        school_id=draft.get("school_id"),
        new_school_name=draft.get("school_label") if draft.get("school_id") is None else None,
        person_id=draft.get("person_id"),
        needs=draft.get("needs", []),
        relation=draft["who"],
        phone=draft.get("phone"),
        email=draft.get("email"),
        **{k: bool(flags.get(k)) for k in FLAGS_ORDER},
    )
    if not _own_change(context, draft):
        return await _propose(update, context, values, draft)
    try:
        async with context.services.session() as session:
            registration = await ap.register_appointment(
                session, actor_id=member.telegram_id if member else None, **values
            )
            appointment_id, created = registration.appointment.id, registration.created
    except ap.MatchError as exc:
        await answer(update, str(exc), alert=True)
        return CONFIRM
    context.user_data.pop(DRAFT, None)
    await answer(update, _("Saved"))
    await edit(
        update,
        context,
        Html(
            summary(draft)
            + "\n\n"
            + (
                t("Saved. The partnership office has been told and will arrange a buddy.")
                if created
                else t("Updated: this appointment was registered before. The partnership office has been told.")
            )
        ),
    )
    await context.services.refresh_directory()
    from handlers.buddy import announce_appointment

    await announce_appointment(context, appointment_id)
    return END


def _own_change(context: BotContext, draft: dict[str, Any]) -> bool:
    """Members notify; the office decides. A coordinator's registration applies at once; a member's, for
    themselves or anyone else, waits for a coordinator (directory/integrity.py) and changes nothing in the
    directory until then: no head retired, no school changed, no account linked. Registering never links an
    account (storage/identity.py: only a coordinator's link decision does)."""
    member = context.member
    return member is not None and member.role >= Role.COORDINATOR


async def _propose(update: Update, context: BotContext, values: dict[str, Any], draft: dict[str, Any]) -> int:
    from handlers.buddy import tell_coordinators

    member = context.member
    actor = member.telegram_id if member else None
    text = summary(draft)
    async with context.services.session() as session:
        change = await integrity.propose_appointment(session, actor, values, _plain(text))
        change_id = change.id
    context.user_data.pop(DRAFT, None)
    await answer(update, _("Sent"))
    await edit(
        update,
        context,
        Html(
            text
            + "\n\n"
            + t(
                "Sent to the partnership office to confirm: a registration waits for a coordinator. "
                "Nothing has changed in the directory yet."
            )
        ),
    )
    who = member.display_name if member and member.display_name else str(actor)
    await tell_coordinators(
        context,
        Html(bold(_("Please confirm a new-head registration")) + "\n" + summary(draft, registered_by=who)),
        keyboard([[(_("Confirm"), f"ecd:y:{change_id}"), (_("Reject"), f"ecd:n:{change_id}")]]),
    )
    return END


def _plain(html: str) -> str:
    import html as html_lib
    import re

    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))


async def start_from_register(update: Update, context: BotContext) -> int:
    """nhr:PERSON — "New head at X (from the register): register for a buddy?": /newhead with the name and
    school filled in from the register; the coordinator gives the start date and the rest."""
    data = (update.callback_query.data or "") if update.callback_query else ""
    value = data.split(":")[-1]
    async with context.services.session() as session:
        person = await session.get(Person, int(value)) if value.isdigit() else None
        school = await session.get(School, person.school_id) if person is not None and person.school_id else None
        if person is None or school is None:
            await answer(update, _("That entry is no longer in the directory."), alert=True)
            return END
        context.user_data[DRAFT] = {
            "flags": {"new_to_headship": True},
            "needs": [],
            "who": "office",
            "person_id": person.id,
            "name": person.full_name,
            "title": person.title,
            "first": person.first_name,
            "last": person.last_name,
            "school_id": school.id,
            "school_label": school.name,
        }
        name, school_name = person.full_name, school.name
    await answer(update)
    await reply(
        update,
        context,
        Html(
            bold(_("Register a new headteacher"))
            + "\n"
            + t("{name} at {school}, from the register.", name=name, school=school_name)
            + "\n"
            + t("When do they start? For example: 1/9/25, 1 September 2025 or September.")
        ),
    )
    return START


async def cancel(update: Update, context: BotContext) -> int:
    context.user_data.pop(DRAFT, None)
    await answer(update)
    await edit(update, context, t("Cancelled. Nothing was saved."))
    return END


async def confirm_button(update: Update, context: BotContext) -> int:
    """nhc:save saves, nhc:x cancels (the last step's buttons)."""
    if update.callback_query is not None and update.callback_query.data == "nhc:save":
        return await save(update, context)
    return await cancel(update, context)


async def cancel_button(update: Update, context: BotContext) -> int | None:
    """nhc:x cancels from any step; a Save button left from an earlier draft has expired."""
    if update.callback_query is not None and update.callback_query.data == "nhc:x":
        return await cancel(update, context)
    await answer(update, _("That button has expired. Please start again."), alert=True)
    return None


MANIFEST = Manifest(
    "newhead",
    conversations=(
        Conversation(
            "newhead",
            entry=(
                Command("newhead", start, Role.MEMBER, N_("register a new headteacher's appointment"), private=True),
                Button("nhr", start_from_register, Role.COORDINATOR, args="id"),
            ),
            states={
                WHO: (Button("nhw", choose_who, Role.MEMBER, args="tok"),),
                NAME: (Button("nhm", use_my_entry, Role.MEMBER, args="id"), Reply(type_name)),
                SCHOOL: (Button("nhs", choose_school, Role.MEMBER, args="part"), Reply(type_school)),
                START: (Button("nhd", keep_date, Role.MEMBER, args="y"), Reply(type_start)),
                FLAGS: (Button("nhf", toggle_flag, Role.MEMBER, args="part"),),
                NEEDS: (Button("nhk", toggle_need, Role.MEMBER, args="part"), Reply(type_needs)),
                CONTACT: (Button("nhp", skip_contact, Role.MEMBER, args="skip"), Reply(type_contact)),
                CONFIRM: (
                    Button(
                        "nhc",
                        confirm_button,
                        Role.MEMBER,
                        writes=Writes("a registration: a member's waits for a coordinator, a coordinator's applies"),
                        args="save|x",
                    ),
                ),
            },
            # nhc:x cancels from any step.
            fallbacks=(
                Command("cancel", cancel, Role.MEMBER),
                Button("nhc", cancel_button, Role.MEMBER, args="save|x"),
            ),
            role=Role.MEMBER,
            drafts=(DRAFT,),
            label=N_("new-head registration"),
            timeout=dt.timedelta(hours=1),
            private=True,
        ),
    ),
)
