"""Finding people, schools and system leaders: /find, plain-text search, contact cards, /sle.

- `/find QUERY`, or a member just typing a name (the plain-text router, Features.route_text in
  handlers/manifest.py, hands us
  whatever no conversation took), searches the in-memory index. One exact match opens its card at
  once; otherwise the matches come as buttons, 8 a page ("fp:<page>"; the query itself stays in
  `context.browsing["find_query"]`, in memory, never in callback data). Only typo matches: "Did you mean …?".
- "pc:<person id>" a person's card (how to reach them: directory/contact.py); "ct:<person id>" sends it as a
  Telegram contact with a vCard; "sc:<school id>[:<page>]" a school's card with its people as buttons;
  "ss:<specialism id>" the system leaders in that specialism nearest the member.
- `/sle SPECIALISM [PHASE] [AREA]` lists system leaders for a need, nearest first (to the member's own
  school when no area is given); "sp:<page>" pages through them (arguments in `context.browsing["sle_query"]`).

Everything here is for members, in private chats (the MANIFEST says so and every handler is registered
behind it).
Contact cards are sent only in private chats.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import Update

from core.i18n import N_, _, ngettext
from core.office import ask_the_office
from core.reply import (
    answer,
    edit,
    is_private,
    keyboard,
    not_in_private,
    paged_rows,
    reply,
)
from core.services import BotContext
from core.text import Html, bold, esc, fill, t
from directory import cards, succession
from directory import query as understood
from directory import specialisms as spec_catalogue
from directory.contact import dial_phone, reach_of, vcard
from directory.search import Area, DirectoryIndex, Match, SleCandidate, sle_candidates
from handlers.manifest import Button, Command, Inline, Location, Manifest
from handlers.search_limits import check_search_allowed, counted
from storage import erasure
from storage.members import Role

PER_PAGE = 8
MAX_RESULTS = 48  # six pages; past that the query needs to be more specific
MAX_QUERY = 200
SLE_MAX = 40
QUERY_KEY = "find_query"
SLE_KEY = "sle_query"


# --- helpers -------------------------------------------------------------------------------------


def _index(context: BotContext) -> DirectoryIndex | None:
    return context.services.directory


async def _throttled(update: Update, context: BotContext) -> bool:
    """Count a search against the member's per-minute allowance (core.throttle); True when over it."""
    return not await check_search_allowed(update, context)


def _fit(label: str, limit: int = 64) -> str:
    """A button label within Telegram's limit, cut with an ellipsis."""
    return label if len(label) <= limit else label[: limit - 1].rstrip(" ,·") + "…"


def _person_label(m: Match, limit: int = 64) -> str:
    """ "👤 Name · Headteacher, School, Town": when too long, the school's name is shortened (then the job
    title left out), not the town at the end: two heads of two St Mary's differ only there."""
    label = f"👤 {m.label} · {m.detail}" if m.detail else f"👤 {m.label}"
    parts = m.detail.split(", ")
    if len(label) <= limit or len(parts) < 3:
        return label
    middle, tail = ", ".join(parts[1:-1]), f", {parts[-1]}"
    for head in (f"👤 {m.label} · {parts[0]}, ", f"👤 {m.label} · "):
        room = limit - len(head) - len(tail)
        if room >= 8:
            return head + middle[: room - 1].rstrip(" ,·") + "…" + tail
    return label


def _button_label(m: Match) -> str:
    if m.kind == "person":
        return _person_label(m)
    if m.kind == "school":
        return f"🏫 {m.label}"
    return _("🎓 {name}: system leaders").format(name=m.label)


def _button_data(m: Match) -> str:
    prefix = {"person": "pc", "school": "sc", "specialism": "ss"}[m.kind]
    return f"{prefix}:{m.id}"


def _labels(matches: list[Match]) -> list[str]:
    """Button labels; schools that share a name are told apart by town and URN ("St Mary's · Redcar · URN 1")."""
    names: dict[str, int] = {}
    for m in matches:
        if m.kind == "school":
            names[m.label.casefold()] = names.get(m.label.casefold(), 0) + 1
    out = []
    for m in matches:
        label = _button_label(m)
        if m.kind == "school" and names.get(m.label.casefold(), 0) > 1 and m.detail:
            label = f"{label} · {m.detail.replace(', ', ' · ')}"
        out.append(_fit(label))
    return out


def _results_page(query: str, matches: list[Match], page: int) -> tuple[Html, Any]:
    items = list(zip(_labels(matches), [_button_data(m) for m in matches], strict=True))
    pages = max(1, (len(items) + PER_PAGE - 1) // PER_PAGE)
    page = min(max(page, 0), pages - 1)
    if all(m.near_miss for m in matches):
        head = t("I found nothing called “{query}”. Did you mean:", query=query)
    else:
        head = fill(
            ngettext("{n} match for “{query}”:", "{n} matches for “{query}”:", len(matches)),
            n=len(matches) if len(matches) < MAX_RESULTS else f"{MAX_RESULTS}+",
            query=query,
        )
    if pages > 1:
        head = Html(head + "\n" + t("Page {page} of {pages}", page=page + 1, pages=pages))
    return head, keyboard(paged_rows(items, page, PER_PAGE, "fp"))


def _no_match_text(query: str) -> Html:
    return t(
        "I found no one, no school and no specialism matching “{query}”.\n"
        "Try a surname, part of a school's name or its URN, or a specialism such as “maths”; /help shows "
        "what else I can do.",
        query=query,
    )


async def run_search(update: Update, context: BotContext, query: str) -> None:
    """Search and answer: a card for a single exact match, else a page of buttons."""
    query = " ".join(query.split())[:MAX_QUERY]
    if not query:
        await reply(
            update,
            context,
            t("What shall I look for? For example <code>/find Heffernan</code> or <code>/find St Thomas</code>."),
        )
        return
    if await not_in_private(update, context) or await _throttled(update, context):
        return
    index = _index(context)
    if index is None:
        await reply(update, context, t("The directory is still loading. Please try again in a moment."))
        return
    matches = understood.search(index, query, limit=MAX_RESULTS)
    context.browsing[QUERY_KEY] = query
    context.browsing["find_page"] = 0
    if not matches:
        await reply(update, context, _no_match_text(query))
        return
    exact = [m for m in matches if m.exact]
    if len(exact) == 1:
        await _open(update, context, exact[0], back=len(matches) > 1)
        return
    text, markup = _results_page(query, matches, 0)
    await reply(update, context, text, markup)


async def _open(update: Update, context: BotContext, m: Match, back: bool = False) -> None:
    if m.kind == "person":
        await _send_person(update, context, m.id, back=back)
    elif m.kind == "school":
        await _send_school(update, context, m.id, 0, as_edit=False, back=back)
    else:
        await _send_specialism_leaders(update, context, m.id, as_edit=False)


# --- /find and plain text ------------------------------------------------------------------------


async def find_command(update: Update, context: BotContext) -> None:
    await run_search(update, context, " ".join(context.args or []))


async def search_text(update: Update, context: BotContext) -> None:
    """What a member typed that no conversation or question took: a search (private chats only)."""
    message = update.effective_message
    if message is None or not message.text or not is_private(update):
        return
    if not_a_search(message.text):
        await reply(update, context, _help_pointer())
        return
    await run_search(update, context, message.text)


# Words that make a message conversation, not a search: a greeting, thanks, a question about the bot.
_CHAT = re.compile(
    r"^\W*(?:hello|hi|hiya|hey|hallo|good\s+(?:morning|afternoon|evening)|morning|thanks?(?:\s+you)?|"
    r"thank\s+you|cheers|ok(?:ay)?|yes|no|help|start|menu|what\s+can\s+you\s+do|how\s+does\s+this\s+work|"
    r"who\s+are\s+you)\b[\W\s]*(?:there|bot|all|again|very\s+much|so\s+much)?[\W\s]*$",
    re.IGNORECASE,
)


def not_a_search(text: str) -> bool:
    """A greeting, thanks or a question about the bot ("hello", "thanks!", "what can you do?")."""
    return bool(_CHAT.match(" ".join(text.split())[:80]))


def _help_pointer() -> Html:
    return t("Send /help to see what I can do, or type a name, a school or a specialism to search the directory.")


async def page_button(update: Update, context: BotContext) -> None:
    await answer(update)
    query = context.browsing.get(QUERY_KEY)
    index = _index(context)
    try:
        page = int((update.callback_query.data or "").split(":")[1])  # type: ignore[union-attr]
    except (IndexError, ValueError):
        page = 0
    if not query or index is None:
        await edit(update, context, t("That search has expired. Please search again."))
        return
    matches = understood.search(index, query, limit=MAX_RESULTS)
    if not matches:
        await edit(update, context, _no_match_text(query))
        return
    text, markup = _results_page(query, matches, page)
    context.browsing["find_page"] = page
    await edit(update, context, text, markup)


# --- cards ---------------------------------------------------------------------------------------


def _callback_int(update: Update, position: int = 1) -> int | None:
    data = update.callback_query.data if update.callback_query else None
    try:
        return int((data or "").split(":")[position])
    except (IndexError, ValueError):
        return None


async def person_button(update: Update, context: BotContext) -> None:
    person_id = _callback_int(update)
    # Opening a card reveals contact details, so it counts against the search allowance like a search.
    if person_id is None or await not_in_private(update, context):
        await answer(update)
        return
    await answer(update)
    await _send_person(update, context, person_id, back=bool(context.browsing.get(QUERY_KEY)))


async def _send_person(update: Update, context: BotContext, person_id: int, back: bool = False) -> None:
    async with context.services.session() as session:
        person = await cards.load_person(session, person_id)
        if person is None:
            erased = await erasure.erased_person(session, person_id)
            await reply(
                update,
                context,
                t("This person's data has been erased.") if erased else t("That entry is no longer in the directory."),
            )
            return
        upcoming = await succession.upcoming_for_person(session, person.id, _today(context))
        text = cards.person_card(person, upcoming)
        rows: list[list[tuple[str, str]]] = []
        if reach_of(person).phone and dial_phone(reach_of(person).phone):
            rows.append([(_("📇 Share contact"), f"ct:{person.id}")])
        if person.school_id is not None and person.school is not None:
            rows.append([(_fit(_("🏫 {school}").format(school=person.school.name)), f"sc:{person.school_id}")])
        if person.designations:  # a system leader: ask them for support (handlers/support.py)
            rows.append([(_("🤝 Ask for support"), f"ua:{person.id}")])
    if back:
        rows.append([(_("‹ Back to results"), f"fp:{int(context.browsing.get('find_page', 0))}")])
    await reply(update, context, text, keyboard(rows) if rows else None)


async def school_button(update: Update, context: BotContext) -> None:
    school_id = _callback_int(update)
    page = _callback_int(update, 2)  # None: open the card; a number: turn its pages
    if school_id is None or await not_in_private(update, context):
        await answer(update)
        return
    await answer(update)
    await _send_school(
        update, context, school_id, page or 0, as_edit=page is not None, back=bool(context.browsing.get(QUERY_KEY))
    )


async def _send_school(
    update: Update, context: BotContext, school_id: int, page: int, as_edit: bool, back: bool = False
) -> None:
    async with context.services.session() as session:
        loaded = await cards.load_school(session, school_id)
        if loaded is None:
            await reply(update, context, t("That school is no longer in the directory."))
            return
        school, people = loaded
        upcoming = await succession.upcoming_at_school(session, school_id, _today(context))
        text = cards.school_card(school, people, upcoming)
        items = [(_fit(cards.person_button_label(p)), f"pc:{p.id}") for p in people]
    rows = paged_rows(items, page, PER_PAGE, f"sc:{school_id}") if items else []
    if back:
        rows.append([(_("‹ Back to results"), f"fp:{int(context.browsing.get('find_page', 0))}")])
    markup = keyboard(rows) if rows else None
    if as_edit:
        await edit(update, context, text, markup)
    else:
        await reply(update, context, text, markup)


def _today(context: BotContext) -> Any:
    from core.terms import today

    return today(context.services.settings.tz)


async def share_contact_button(update: Update, context: BotContext) -> None:
    """ct:<person id>: send the person as a Telegram contact (name, phone, and a vCard with role, school
    and email) that the member can save or forward. Private chats, members only (the MANIFEST)."""
    person_id = _callback_int(update)
    if person_id is None or await not_in_private(update, context):
        await answer(update)
        return
    async with context.services.session() as session:
        person = await cards.load_person(session, person_id)
        reach = reach_of(person) if person is not None else None
        dial = dial_phone(reach.phone) if reach is not None else None
        if person is None or reach is None or dial is None:
            await answer(update, _("There is no phone number to share for this entry."), alert=True)
            return
        card = vcard(person, reach)
        first = (person.first_name or person.full_name or "?")[:64]
        last = (person.last_name if person.first_name else "")[:64]
    await answer(update)
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_contact(chat.id, phone_number=dial, first_name=first, last_name=last or None, vcard=card)


async def location_shared(update: Update, context: BotContext) -> None:
    """A shared location: the system leaders of the member's last /sle nearest to it, by the register's
    grid (the location converted to OSGB36 easting/northing, directory/query.grid_point); without an
    /sle before it, the nearest schools."""
    message = update.effective_message
    if message is None or message.location is None or await not_in_private(update, context):
        return
    index = _index(context)
    if index is None:
        await reply(update, context, t("The directory is still loading. Please try again in a moment."))
        return
    point = understood.grid_point(message.location.latitude, message.location.longitude)
    if point is None:
        await reply(
            update, context, t("That location is outside Great Britain's grid, so I cannot say what is near it.")
        )
        return
    if await _throttled(update, context):
        return
    saved = context.browsing.get(SLE_KEY)
    if isinstance(saved, dict) and saved.get("spec"):
        saved.update(area=None, point=list(point))
        body, markup = _sle_page(index, context, saved["spec"], saved.get("phase"), None, 0, point)
        await reply(update, context, body, markup)
        return
    near = sorted(
        (s for s in index.schools if s.easting is not None and s.northing is not None),
        key=lambda s: ((s.easting or 0.0) - point[0]) ** 2 + ((s.northing or 0.0) - point[1]) ** 2,
    )[:PER_PAGE]
    if not near:
        await reply(update, context, t("No school in the directory has a map position yet."))
        return
    rows = [[(_fit(f"🏫 {s.name} · {s.locality or s.local_authority or ''}".rstrip(" ·")), f"sc:{s.id}")] for s in near]
    await reply(
        update,
        context,
        t("Schools nearest you (for system leaders, send /sle with a need first, then your location):"),
        keyboard(rows),
    )


# --- system leaders ------------------------------------------------------------------------------


def _own_school_id(context: BotContext, index: DirectoryIndex) -> int | None:
    member = context.member
    if member is None or member.person_id is None:
        return None
    person = index.person(member.person_id)
    return person.school_id if person else None


def _sle_line(n: int, c: SleCandidate) -> Html:
    p = c.person
    bits = [", ".join(p.designations)]
    if c.school is not None:
        place = c.school.locality or c.school.local_authority
        bits.append(f"{c.school.name} ({place})" if place else c.school.name)
    if c.distance_km is not None and c.nearness != "locality":
        bits.append(_("{km} km").format(km=f"{c.distance_km:.0f}" if c.distance_km >= 10 else f"{c.distance_km:.1f}"))
    return Html(f"{n}. {bold(p.full_name)} — {esc(' · '.join(b for b in bits if b))}")


def _sle_page(
    index: DirectoryIndex,
    context: BotContext,
    spec: str,
    phase: str | None,
    area: str | None,
    page: int,
    point: Any = None,
) -> tuple[Html, Any]:
    origin = None if area or point else _own_school_id(context, index)
    place: Area | None = None
    if point:
        place = Area(easting=float(point[0]), northing=float(point[1]), label=_("your location"))
    elif area:
        place = understood.resolve_place(index, area)
    found = sle_candidates(index, spec, phase=phase, area=place or area, limit=SLE_MAX, origin_school_id=origin)
    what = spec_catalogue.label(spec)
    if phase:
        what = f"{what}, {cards.phase_label(phase).lower()}"
    if not found:
        return _no_sle(index, context, spec, phase, place or area, what), None
    pages = max(1, (len(found) + PER_PAGE - 1) // PER_PAGE)
    page = min(max(page, 0), pages - 1)
    resolved = place if (area or point) else index.area_of_school(origin)
    if resolved is not None:
        head = t("System leaders for {what}, nearest {place} first:", what=what, place=resolved.label)
    elif area:
        head = t(
            "I don't know a place called “{area}”, so these are in no particular order. System leaders for {what}:",
            area=understood.without_near(area),
            what=what,
        )
    else:
        head = t("System leaders for {what}:", what=what)
    chunk = found[page * PER_PAGE : (page + 1) * PER_PAGE]
    lines = [head, ""] + [_sle_line(page * PER_PAGE + i + 1, c) for i, c in enumerate(chunk)]
    if pages > 1:
        lines.append(t("Page {page} of {pages}", page=page + 1, pages=pages))
    items = [(_fit(f"{i + 1}. {c.person.full_name}"), f"pc:{c.person.id}") for i, c in enumerate(found)]
    rows = paged_rows(items, page, PER_PAGE, "sp", per_row=2)
    rows.append([(_("🤝 Ask for support"), "ua:0")])  # handlers/support.py: the need is this search's
    return Html("\n".join(lines)), keyboard(rows)


SLE_SUGGESTIONS = 6


def _no_sle(
    index: DirectoryIndex, context: BotContext, spec: str, phase: str | None, area: Area | str | None, what: str
) -> Html:
    """No system leader for that: the next steps (the same specialism in any phase, the specialisms that
    have leaders, the office)."""
    lines = [t("No system leaders in the directory for {what} yet.", what=what)]
    name = spec_catalogue.label(spec)
    if phase:
        other = len(sle_candidates(index, spec, area=area, limit=SLE_MAX))
        if other:
            lines.append(
                fill(
                    ngettext(
                        "There is {n} for {spec} in other phases: <code>/sle {command}</code>",
                        "There are {n} for {spec} in other phases: <code>/sle {command}</code>",
                        other,
                    ),
                    n=other,
                    spec=name,
                    command=name.lower(),
                )
            )
    offered = [
        spec_catalogue.label(other)
        for other in spec_catalogue.CATALOGUE
        if other != spec and sle_candidates(index, other, phase=phase, limit=1)
    ][:SLE_SUGGESTIONS]
    if offered:
        lines.append(t("System leaders can help with: {list}.", list=", ".join(offered)))
    lines.append(ask_the_office(context.services.settings))
    return Html("\n".join(lines))


def _sle_usage() -> Html:
    examples = ", ".join(spec_catalogue.label(n) for n in list(spec_catalogue.CATALOGUE)[:12])
    return Html(
        t(
            "Usage: <code>/sle SPECIALISM [PHASE] [AREA]</code>, e.g. <code>/sle maths primary</code> or "
            "<code>/sle SEND secondary Islington</code>."
        )
        + "\n"
        + t("Specialisms include: {list} …", list=examples)
    )


async def sle_command(update: Update, context: BotContext) -> None:
    text = " ".join(context.args or [])[:MAX_QUERY]
    if await not_in_private(update, context):
        return
    index = _index(context)
    if index is None:
        await reply(update, context, t("The directory is still loading. Please try again in a moment."))
        return
    spec, phase, area = spec_catalogue.parse_sle_query(text)
    if spec is None:
        # Not in the catalogue: perhaps one of the partnership's own specialisms (or an alias of one).
        words = text.split()
        for n in range(min(len(words), 6), 0, -1):
            entry = index.specialism_for(" ".join(words[:n]))
            if entry is not None:
                spec = entry.name
                _ignored, phase, area = spec_catalogue.parse_sle_query(" ".join(words[n:]))
                break
    if spec is None:
        if text:
            await reply(
                update, context, Html(t("I don't know the specialism “{text}”.", text=text) + "\n" + _sle_usage())
            )
        else:
            await reply(update, context, _sle_usage())
        return
    if await _throttled(update, context):
        return
    context.browsing[SLE_KEY] = {"spec": spec, "phase": phase, "area": area}
    body, markup = _sle_page(index, context, spec, phase, area, 0)
    await reply(update, context, body, markup)


async def sle_page_button(update: Update, context: BotContext) -> None:
    await answer(update)
    saved = context.browsing.get(SLE_KEY)
    index = _index(context)
    page = _callback_int(update) or 0
    if not isinstance(saved, dict) or index is None or not saved.get("spec"):
        await edit(update, context, t("That list has expired. Please ask again with /sle."))
        return
    body, markup = _sle_page(
        index, context, saved["spec"], saved.get("phase"), saved.get("area"), page, saved.get("point")
    )
    await edit(update, context, body, markup)


async def specialism_button(update: Update, context: BotContext) -> None:
    await answer(update)
    spec_id = _callback_int(update)
    if spec_id is None or await not_in_private(update, context):
        return
    await _send_specialism_leaders(update, context, spec_id, as_edit=False)


async def _send_specialism_leaders(update: Update, context: BotContext, spec_id: int, as_edit: bool) -> None:
    index = _index(context)
    entry = index.specialism_by_id.get(spec_id) if index is not None else None
    if index is None or entry is None:
        await reply(update, context, t("That list has expired. Please search again."))
        return
    context.browsing[SLE_KEY] = {"spec": entry.name, "phase": None, "area": None}
    body, markup = _sle_page(index, context, entry.name, None, None, 0)
    if as_edit:
        await edit(update, context, body, markup)
    else:
        await reply(update, context, body, markup)


async def inline_query(update: Update, context: BotContext) -> None:
    """`@bot name` in any chat: up to 10 cards the member can send there. Personal and never cached: what
    one member may see is not kept for anyone else (strangers get an empty answer: Inline in the manifest)."""
    from telegram import InlineQueryResultArticle, InputTextMessageContent

    query = update.inline_query
    if query is None:
        return
    index = _index(context)
    text = " ".join((query.query or "").split())[:MAX_QUERY]
    results: list[InlineQueryResultArticle] = []
    if index is not None and len(text) >= 2 and await check_search_allowed(update, context):
        matches = [m for m in understood.search(index, text, limit=10) if m.kind in ("person", "school")]
        async with context.services.session() as session:
            for m in matches:
                if m.kind == "person":
                    person = await cards.load_person(session, m.id)
                    if person is None:
                        continue
                    card = cards.person_card(person)
                else:
                    loaded = await cards.load_school(session, m.id)
                    if loaded is None:
                        continue
                    card = cards.school_card(loaded[0], loaded[1])
                results.append(
                    InlineQueryResultArticle(
                        id=f"{m.kind[0]}{m.id}",
                        title=_fit(m.label, 100),
                        description=m.detail[:200] or None,
                        input_message_content=InputTextMessageContent(card[:4096], parse_mode="HTML"),
                    )
                )
    await query.answer(results, cache_time=0, is_personal=True)


MANIFEST = Manifest(
    "find",
    commands=(
        Command(
            "find",
            find_command,
            Role.MEMBER,
            N_("find a person, school or specialism by name (typos are fine)"),
            private=True,
        ),
        Command(
            "sle",
            sle_command,
            Role.MEMBER,
            N_("system leaders for a need, nearest first: /sle maths primary"),
            private=True,
        ),
    ),
    # Every button that shows people or schools counts as a search (handlers/search_limits.counted).
    buttons=(
        Button("fp", counted(page_button), Role.MEMBER, private=True, args="id"),
        Button("pc", counted(person_button), Role.MEMBER, private=True, args="id"),
        Button("sc", counted(school_button), Role.MEMBER, private=True, args="id:id?"),
        Button("ss", counted(specialism_button), Role.MEMBER, private=True, args="id"),
        Button("ct", counted(share_contact_button), Role.MEMBER, private=True, args="id"),
        Button("sp", counted(sle_page_button), Role.MEMBER, private=True, args="id"),
    ),
    locations=(Location(location_shared, Role.MEMBER, private=True),),
    inline=(Inline(inline_query, Role.MEMBER),),
    # Plain text reaches the search last, through the router (Features.route_text), after every conversation.
    search=search_text,
)
