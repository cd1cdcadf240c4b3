"""A coordinator sends an action plan file: a preview they can correct, then Import or Cancel.

Which uploads are plans (handlers/uploads.py asks here first):
- caption "plan" (any case, may have more words after it): always a plan;
- caption "directory": never looked at here;
- anything else: the file is read as a plan; if it has no action table, `offer_plan` says so and
  handlers/uploads.py gives it to the directory importer, which reads the headers.

Supported: .md .txt .csv .tsv .xlsx .xls .ods .docx, HTML pages and PDFs with a text layer (a file whose
name says nothing is looked at when Telegram's mime type names one of those). The file is read in the
sandbox (plans.importing: a child process with a time and memory limit), so a large or hostile file costs
its sender one clear line and nobody else waits. Nothing is stored until Import is pressed.

The preview (plans.preview) shows the mapping (which column became which field), the counts, what was
guessed, the "not read" list and, when the plan exists already (same title), the differences the import
makes. Buttons change the reading before Import: a column's field (or ignore it), the header row, the term
of a RAG column that names none, and which plan the file updates (or a new plan). Each change reads the
file again with the corrections (`PlanOverrides`) and sends a new preview; Import saves exactly that
reading. The pending import lives in user_data (file_id, overrides, the columns shown); the buttons carry
only a token and numbers.

Callback data: pi:TOKEN (import)  pix:TOKEN (cancel)  pu:TOKEN:OP[:ARGS] (corrections):
  pu:T:c:TABLE:COL          choose a field for a column     pu:T:f:TABLE:COL:FIELD  set it
  pu:T:a                    every column                    pu:T:b                  back to the preview
  pu:T:h / pu:T:hr:LINE     header row                      pu:T:t / pu:T:tt:YEAR:X term of unnamed RAG
  pu:T:p / pu:T:u:PLAN      plan to update                  pu:T:n                  import as a new plan
  pu:T:r / pu:T:rc:TABLE:COL  the column that holds ratings   pu:T:rs:TABLE:COL:YEAR:X  for that term ("0:-": none)
  pu:T:k                    values no key matched           pu:T:kv:N:CODE          what value N means
  pu:T:ti                   the plan's title (the next message is the title: TextStep "plan_title")
  pu:T:w                    a row's reading (the next message says it, "12=section": TextStep "plan_row")
"""

from __future__ import annotations

import copy
import logging
import re
from pathlib import PurePath
from typing import Any

from telegram import Update
from telegram.error import BadRequest, TelegramError

from core.i18n import _, ngettext
from core.reply import Rows, answer, edit, keyboard, reply
from core.sandbox import SandboxError
from core.services import BotContext
from core.terms import Term, term_label
from core.text import Html, bold, esc, t
from handlers.files import download, fetch_document
from handlers.manifest import Button, Manifest, TextStep, Writes
from plans.archive import TITLE_LIMIT, clean_title
from plans.importing import read_plan
from plans.parsed import (
    ROW_KINDS,
    TARGETS,
    ParsedPlan,
    PlanImportError,
    PlanOverrides,
    field_label,
    parse_row_option,
    row_kind_label,
)
from plans.preview import preview_lines
from plans.progress import active_plans
from plans.rag import rag_label
from plans.store import NoSuchPlan, PlanSummary, save_plan
from storage.import_lock import ImportBusy
from storage.members import Role

log = logging.getLogger(__name__)

PLAN_EXTENSIONS = {".md", ".markdown", ".txt", ".csv", ".tsv", ".xlsx", ".xlsm", ".docx"}
PLAN_EXTENSIONS |= {".xls", ".ods", ".htm", ".html", ".pdf"}
# What Telegram says a file is, for a file sent without a name or with a name that says nothing.
PLAN_MIME_TYPES = {
    "application/vnd.ms-excel",
    "application/vnd.oasis.opendocument.spreadsheet",
    "text/html",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text/csv",
    "text/tab-separated-values",
    "text/plain",
    "text/markdown",
}
MAX_BYTES = 5 * 1024 * 1024
PENDING = "plan_upload"
MAX_GUESS_BUTTONS = 8
MAX_KEY_VALUES = 8  # values that matched no key, offered one per row with a button per rating
MAX_ROWS_SHOWN = 40  # rows listed with "Row…" (the rows of a table's actions; the Mini App lists them all)
_RATING_CODES = ("R", "A", "G", "B")
MAX_BUTTONS = 100  # Telegram's limit for one keyboard
_TERM_CODES = {"a": "autumn", "s": "spring", "u": "summer"}
_CODE_OF_TERM = {name: code for code, name in _TERM_CODES.items()}
_PLAN_CAPTION = re.compile(r"^\s*(?:action\s+)?plan\b", re.IGNORECASE)
_DIRECTORY_CAPTION = re.compile(r"^\s*directory\b", re.IGNORECASE)


def wants_plan(caption: str | None) -> bool | None:
    """True: caption says plan; False: caption says directory; None: look at the file."""
    if caption and _PLAN_CAPTION.match(caption):
        return True
    if caption and _DIRECTORY_CAPTION.match(caption):
        return False
    return None


# ---------------------------------------------------------------------------------------------------------
# Reading and previewing
# ---------------------------------------------------------------------------------------------------------


def _target_args(target: Any) -> dict[str, Any]:
    """save_plan's arguments for the pending choice: None = by title, "new", or a plan number."""
    if target == "new":
        return {"as_new": True}
    if isinstance(target, int):
        return {"into": target}
    return {}


async def _read(data: bytes, pending: dict[str, Any]) -> ParsedPlan:
    """The file read with the pending corrections, and the title the coordinator gave (if any)."""
    overrides = PlanOverrides.from_dict(pending.get("overrides"))
    parsed = await read_plan(data, pending["name"], overrides or None)
    if pending.get("title"):
        parsed.title = str(pending["title"])
    return parsed


async def _dry_run(context: BotContext, parsed: ParsedPlan, target: Any) -> PlanSummary:
    actor = context.member.telegram_id if context.member else None
    async with context.services.sessionmaker() as session:  # read only: a dry run, rolled back
        summary = await save_plan(
            session, parsed, actor, dry_run=True, index=context.services.directory, **_target_args(target)
        )
        await session.rollback()
    return summary


def preview_text(parsed: ParsedPlan, summary: PlanSummary) -> Html:
    out = []
    for kind, text in preview_lines(parsed, summary):
        if kind == "heading":
            out.append(bold(text))
        elif kind == "item":
            out.append(Html("• " + esc(text)))
        else:
            out.append(esc(text))
    return Html("\n".join(out))


def _snapshot(parsed: ParsedPlan) -> dict[str, Any]:
    """What the correction buttons need of this reading, kept in user_data (small: headers and codes)."""
    columns = [
        [table.index, c.column, c.header, c.field, bool(c.guessed)]
        for table in parsed.tables
        if table.used
        for c in table.columns
    ]
    headers = sorted({n for table in parsed.tables if table.used for n in table.header_candidates})
    if not headers:
        # No other candidates: offer the lines around the first table's header, so a wrong guess can be fixed.
        first = next((table for table in parsed.tables if table.used and table.header_lines), None)
        if first is not None:
            top, bottom = min(first.header_lines), max(first.header_lines)
            headers = [n for n in range(max(1, top - 3), bottom + 4) if n not in first.header_lines]
    terms = [list(a.term) for a in parsed.term_assumptions]
    editable = [r for r in parsed.rows if r.editable]
    # "Row…" lists the rows read as something other than an action first: those are the likely misreadings
    shown = sorted(editable, key=lambda r: (r.kind == "action", r.table, r.line))[:MAX_ROWS_SHOWN]
    return {
        "rows_seen": [[r.table, r.line] for r in editable],
        "rows_shown": [[r.table, r.line, r.kind, r.text[:40]] for r in sorted(shown, key=lambda r: (r.table, r.line))],
        "columns": columns,
        "headers": headers[:20],
        "terms": terms,
        "unknown": list(parsed.unknown_values)[:MAX_KEY_VALUES],
        "alerts": bool(parsed.alerts),
        "year": int(parsed.year[:4]) if parsed.year and parsed.year[:4].isdigit() else None,
    }


def _main_rows(token: int, pending: dict[str, Any]) -> Rows:
    updates = pending.get("update_plan")
    label = _("Update plan {number}").format(number=updates) if updates else _("Import")
    rows: list[list[tuple[str, str]]] = [[(label, f"pi:{token}"), (_("Cancel"), f"pix:{token}")]]
    guessed = [c for c in pending["columns"] if c[4]][:MAX_GUESS_BUTTONS]
    for table, column, header, field, _guessed in guessed:
        rows.append([(f"✏️ {header or column + 1} → {field_label(field)}", f"pu:{token}:c:{table}:{column}")])
    more = [(_("Title…"), f"pu:{token}:ti"), (_("Columns…"), f"pu:{token}:a")]
    if pending.get("rows_seen"):
        more.append((_("Row…"), f"pu:{token}:w"))
    if pending["headers"]:
        more.append((_("Header row…"), f"pu:{token}:h"))
    if pending["terms"]:
        more.append((_("Term of ratings…"), f"pu:{token}:t"))
    rows.append(more)
    ratings = [(_("Rating column…"), f"pu:{token}:r")]
    if pending.get("unknown"):
        ratings.append((_("Rating key…"), f"pu:{token}:k"))
    rows.append(ratings)
    if updates:
        rows.append([(_("Import as a new plan"), f"pu:{token}:n"), (_("Another plan…"), f"pu:{token}:p")])
    else:
        rows.append([(_("Update an existing plan…"), f"pu:{token}:p")])
    return rows


async def _read_and_preview(update: Update, context: BotContext, data: bytes, pending: dict[str, Any]) -> bool:
    """Parse with the pending corrections and send a new preview with its buttons (a new token: the old
    preview's buttons expire); False (after saying why) when the file cannot be read that way."""
    try:
        parsed = await _read(data, pending)
        summary = await _dry_run(context, parsed, pending.get("target"))
    except (PlanImportError, SandboxError, NoSuchPlan) as exc:
        await reply(
            update,
            context,
            t(
                "I could not read a plan from {file}: {reason}\nNothing was changed.",
                file=pending["name"],
                reason=str(exc),
            ),
        )
        return False
    token = int(context.user_data.get("plan_upload_seq", 0)) + 1
    context.user_data["plan_upload_seq"] = token
    pending.update(_snapshot(parsed), id=token, update_plan=summary.updates_plan)
    context.user_data[PENDING] = pending
    await reply(update, context, preview_text(parsed, summary), _with_review(context, _main_rows(token, pending)))
    return True


def _with_review(context: BotContext, rows: Rows) -> Any:
    """The preview's buttons, and "Open review" (the Mini App's import review) when WEBAPP_URL is set."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

    markup = keyboard(rows)
    url = context.services.settings.webapp_url
    if not url:
        return markup
    button = InlineKeyboardButton(_("Open review"), web_app=WebAppInfo(url.rstrip("/") + "/?view=review"))
    return InlineKeyboardMarkup([*markup.inline_keyboard, (button,)])


async def offer_plan(update: Update, context: BotContext) -> bool:
    """Read an uploaded file as a plan and offer its preview. False (having said nothing) when the file holds
    no plan and its caption did not say it was one: handlers/uploads.py then tries it as a directory."""
    message = update.effective_message
    if message is None or message.document is None:
        return True
    document = message.document
    filename = document.file_name or "plan"
    explicit = wants_plan(message.caption) is True
    known = PurePath(filename).suffix.lower() in PLAN_EXTENSIONS or (document.mime_type or "") in PLAN_MIME_TYPES
    if not known and not explicit:
        return False  # not a plan's kind of file: handlers/uploads.py offers it to the directory importer
    # Captioned "plan": read whatever it is; the reader finds the format from the bytes and, when it cannot
    # read it, names what it is and what to send instead.
    data = await fetch_document(update, context, MAX_BYTES)
    if data is None:
        return True
    try:
        parsed = await read_plan(data, filename)
    except PlanImportError as exc:
        if not explicit:
            return False
        await reply(
            update,
            context,
            t("I could not read a plan from {file}: {reason}\nNothing was changed.", file=filename, reason=str(exc)),
        )
        return True
    except SandboxError as exc:
        await reply(
            update,
            context,
            t("I could not read {file}: {reason}. Nothing was changed.", file=filename, reason=str(exc)),
        )
        return True
    summary = await _dry_run(context, parsed, None)
    pending: dict[str, Any] = {"file_id": document.file_id, "name": filename, "overrides": {}, "target": None}
    token = int(context.user_data.get("plan_upload_seq", 0)) + 1
    context.user_data["plan_upload_seq"] = token
    pending.update(_snapshot(parsed), id=token, update_plan=summary.updates_plan)
    context.user_data[PENDING] = pending
    await reply(update, context, preview_text(parsed, summary), _with_review(context, _main_rows(token, pending)))
    return True


def _pending(context: BotContext, data: str | None) -> dict | None:
    pending = context.user_data.get(PENDING)
    try:
        token = int((data or "").split(":")[1])
    except (IndexError, ValueError):
        return None
    if not isinstance(pending, dict) or pending.get("id") != token:
        return None
    return pending


# ---------------------------------------------------------------------------------------------------------
# Import / Cancel
# ---------------------------------------------------------------------------------------------------------


async def confirm_import(update: Update, context: BotContext) -> None:
    pending = _pending(context, update.callback_query.data if update.callback_query else None)
    if pending is None:
        await answer(update, _("That button has expired. Please send the file again."), alert=True)
        return
    context.user_data.pop(PENDING, None)
    await answer(update, _("Importing…"))
    try:
        data = await download(context, pending["file_id"])
        parsed = await _read(data, pending)
    except (TelegramError, PlanImportError, SandboxError) as exc:
        await edit(
            update, context, t("I could not read the file again ({error}). Nothing was changed.", error=str(exc))
        )
        return
    actor = context.member.telegram_id if context.member else None
    try:
        async with context.services.session() as session:
            summary = await save_plan(
                session, parsed, actor, index=context.services.directory, **_target_args(pending.get("target"))
            )
    except (ImportBusy, NoSuchPlan) as exc:
        await edit(update, context, t("Not imported: {reason}. Nothing was changed.", reason=str(exc)))
        return
    diff = summary.diff
    if diff is not None:
        await edit(
            update,
            context,
            t(
                "Updated plan {n}: {title} — {added} added, {changed} changed, {archived} archived, {restored} "
                "restored, {updates} new ratings or comments. Send /plan to see it.",
                n=diff.plan_id,
                title=diff.title,
                added=len(diff.added),
                changed=len(diff.changed),
                archived=len(diff.archived),
                restored=len(diff.restored),
                updates=diff.ratings,
            ),
        )
        return
    counts = ", ".join(
        (
            ngettext("{n} section", "{n} sections", summary.sections).format(n=summary.sections),
            ngettext("{n} action", "{n} actions", summary.actions).format(n=summary.actions),
            ngettext("{n} RAG rating", "{n} RAG ratings", summary.updates).format(n=summary.updates),
        )
    )
    await edit(
        update,
        context,
        t(
            "Imported plan {n}: {title} — {counts}. Send /plan to see it, /meetings to set its meeting dates.",
            n=summary.plan_id,
            title=summary.title,
            counts=counts,
        ),
    )


async def cancel_import(update: Update, context: BotContext) -> None:
    pending = _pending(context, update.callback_query.data if update.callback_query else None)
    await answer(update)
    if pending is not None:
        context.user_data.pop(PENDING, None)
    await edit(update, context, t("Cancelled. Nothing was imported."))


# ---------------------------------------------------------------------------------------------------------
# Corrections
# ---------------------------------------------------------------------------------------------------------


async def _set_buttons(update: Update, rows: Rows) -> None:
    """Show another keyboard under the preview (its text stays)."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_reply_markup(keyboard(rows))
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def _retire_buttons(update: Update) -> None:
    query = update.callback_query
    if query is not None:
        try:
            await query.edit_message_reply_markup(None)
        except BadRequest:
            pass  # already gone, or too old to edit


def _column(pending: dict[str, Any], table: int, column: int) -> list | None:
    return next((c for c in pending["columns"] if c[0] == table and c[1] == column), None)


def _back(token: int) -> tuple[str, str]:
    return (_("‹ Back"), f"pu:{token}:b")


def _term_choices(pending: dict[str, Any]) -> list[Term]:
    years = {y for y, _t in pending["terms"]} | ({pending["year"]} if pending.get("year") else set())
    if not years:
        return []
    low, high = min(years) - 1, max(years) + 1
    return [Term(y, name) for y in range(low, high + 1) for name in ("autumn", "spring", "summer")]


async def on_correction(update: Update, context: BotContext) -> None:
    query = update.callback_query
    data = query.data if query else None
    pending = _pending(context, data)
    if pending is None:
        await answer(update, _("That button has expired. Please send the file again."), alert=True)
        return
    token = int(pending["id"])
    parts = (data or "").split(":")[2:]
    op, args = (parts[0] if parts else ""), parts[1:]
    numbers = [int(a) for a in args if a.isascii() and a.isdigit()]
    overrides = dict(pending.get("overrides") or {})
    before = copy.deepcopy(pending)

    if op == "b":
        await answer(update)
        await _set_buttons(update, _main_rows(token, pending))
        return
    if op == "a":
        await answer(update)
        rows = [
            [(f"{header or column + 1} → {field_label(field)}", f"pu:{token}:c:{table}:{column}")]
            for table, column, header, field, _g in pending["columns"]
        ][: MAX_BUTTONS - 1]
        await _set_buttons(update, [*rows, [_back(token)]])
        return
    if op == "c" and len(numbers) == 2 and _column(pending, numbers[0], numbers[1]) is not None:
        await answer(update)
        table, column = numbers
        current = _column(pending, table, column)
        assert current is not None
        choices = [
            (("✓ " if code == current[3] else "") + field_label(code), f"pu:{token}:f:{table}:{column}:{code}")
            for code in TARGETS
        ]
        rows = [choices[i : i + 2] for i in range(0, len(choices), 2)]
        await _set_buttons(update, [*rows, [_back(token)]])
        return
    if op == "h" and pending["headers"]:
        await answer(update)
        rows = [[(_("Line {n}").format(n=line), f"pu:{token}:hr:{line}")] for line in pending["headers"]]
        await _set_buttons(update, [*rows, [_back(token)]])
        return
    if op == "t" and pending["terms"]:
        await answer(update)
        choices = [
            (term_label(term), f"pu:{token}:tt:{term.academic_year}:{_CODE_OF_TERM[term.term]}")
            for term in _term_choices(pending)
        ]
        rows = [choices[i : i + 3] for i in range(0, len(choices), 3)]
        await _set_buttons(update, [*rows, [_back(token)]])
        return
    if op == "r":
        await answer(update)
        rows = [
            [(f"{header or column + 1} → {field_label(field)}", f"pu:{token}:rc:{table}:{column}")]
            for table, column, header, field, _g in pending["columns"]
        ][: MAX_BUTTONS - 1]
        await _set_buttons(update, [*rows, [_back(token)]])
        return
    if op == "rc" and len(numbers) == 2 and _column(pending, numbers[0], numbers[1]) is not None:
        await answer(update)
        table, column = numbers
        choices = [
            (term_label(term), f"pu:{token}:rs:{table}:{column}:{term.academic_year}:{_CODE_OF_TERM[term.term]}")
            for term in _term_choices(pending)
        ]
        rows = [choices[i : i + 3] for i in range(0, len(choices), 3)]
        rows.append([(_("Ratings, term as the plan says"), f"pu:{token}:rs:{table}:{column}:0:-")])
        await _set_buttons(update, [*rows[: MAX_BUTTONS - 1], [_back(token)]])
        return
    if op == "k" and pending.get("unknown"):
        await answer(update)
        rows = [
            [(f"{value[:20]} →", f"pu:{token}:k")]
            + [(rag_label(code), f"pu:{token}:kv:{n}:{code}") for code in _RATING_CODES]
            for n, value in enumerate(pending["unknown"])
        ]
        await _set_buttons(update, [*rows, [_back(token)]])
        return
    if op == "ti":
        await answer(update)
        context.user_data["awaiting"] = "plan_title"
        await reply(
            update,
            context,
            t(
                "Send the plan's title as a message (one line, up to {n} characters). It heads every report "
                "and export; the preview comes again with it.",
                n=TITLE_LIMIT,
            ),
        )
        return
    if op == "w" and pending.get("rows_seen"):
        await answer(update)
        context.user_data["awaiting"] = "plan_row"
        await reply(update, context, _row_prompt(pending))
        return
    if op == "p":
        await answer(update)
        async with context.services.sessionmaker() as session:
            plans = list(await active_plans(session))
        rows = [[(f"{p.id}. {p.title}"[:60], f"pu:{token}:u:{p.id}")] for p in plans][: MAX_BUTTONS - 2]
        rows.append([(_("A new plan"), f"pu:{token}:n")])
        await _set_buttons(update, [*rows, [_back(token)]])
        return

    # Changes: read the file again with them and send a new preview.
    if op == "f" and len(args) == 3 and len(numbers) >= 2 and args[2] in TARGETS:
        picked = _column(pending, numbers[0], numbers[1])
        if picked is None:
            await answer(update, _("That button has expired. Please send the file again."), alert=True)
            return
        changes = PlanOverrides.from_dict(overrides)
        changes.columns[picked[2] if picked[2] else picked[1]] = args[2]
        overrides = changes.to_dict()
    elif op == "hr" and numbers and numbers[0] in pending["headers"]:
        changes = PlanOverrides.from_dict(overrides)
        changes.header_row = numbers[0]
        overrides = changes.to_dict()
    elif op == "tt" and len(args) == 2 and numbers and args[1] in _TERM_CODES:
        changes = PlanOverrides.from_dict(overrides)
        changes.term = (numbers[0], _TERM_CODES[args[1]])
        overrides = changes.to_dict()
    elif op == "rs" and len(args) == 4 and len(numbers) >= 3 and _column(pending, numbers[0], numbers[1]):
        picked = _column(pending, numbers[0], numbers[1])
        assert picked is not None
        changes = PlanOverrides.from_dict(overrides)
        term = (numbers[2], _TERM_CODES[args[3]]) if args[3] in _TERM_CODES and numbers[2] else None
        changes.rate_column(picked[2] if picked[2] else picked[1], term)
        overrides = changes.to_dict()
    elif (
        op == "kv"
        and len(args) == 2
        and numbers
        and numbers[0] < len(pending.get("unknown") or [])
        and args[1] in _RATING_CODES
    ):
        changes = PlanOverrides.from_dict(overrides)
        changes.key[pending["unknown"][numbers[0]]] = args[1]
        overrides = changes.to_dict()
    elif op == "n":
        pending["target"] = "new"
    elif op == "u" and numbers:
        pending["target"] = numbers[0]
    else:
        await answer(update, _("That button has expired. Please send the file again."), alert=True)
        return
    await answer(update, _("Reading the file again…"))
    pending["overrides"] = overrides
    read = await _read_again(update, context, pending)
    if read is None:
        return
    if read:
        await _retire_buttons(update)  # the new preview has the buttons now
    else:
        # That reading failed (said why): the previous preview and its buttons stay as they were.
        context.user_data[PENDING] = before
        await _set_buttons(update, _main_rows(token, before))


async def _read_again(update: Update, context: BotContext, pending: dict[str, Any]) -> bool | None:
    """The file downloaded again and previewed with the pending corrections: True when a new preview was
    sent, False when it could not be read that way, None when it could not be downloaded (both said)."""
    try:
        content = await download(context, pending["file_id"])
    except TelegramError as exc:
        await reply(
            update, context, t("I could not read the file again ({error}). Nothing was changed.", error=str(exc))
        )
        return None
    return await _read_and_preview(update, context, content, pending)


async def receive_title(update: Update, context: BotContext) -> None:
    """The title typed after "Title…": a new preview with it (Import saves it)."""
    context.user_data.pop("awaiting", None)
    message = update.effective_message
    pending = context.user_data.get(PENDING)
    if not isinstance(pending, dict):
        await reply(update, context, t("That import has ended. Please send the file again."))
        return
    title = clean_title(message.text if message and message.text else "")
    if title is None:
        context.user_data["awaiting"] = "plan_title"
        await reply(
            update, context, t("A plan's title is one line of 1 to {n} characters. Send it again.", n=TITLE_LIMIT)
        )
        return
    before = copy.deepcopy(pending)
    pending["title"] = title
    if not await _read_again(update, context, pending):
        context.user_data[PENDING] = before  # not read (said why): the previous preview stands


def _row_prompt(pending: dict[str, Any]) -> Html:
    several = len({table for table, _line in pending.get("rows_seen", [])}) > 1
    lines = [
        t(
            "Which row is read wrongly, and what is it? Send its line and what it is, for example "
            "<code>12=section</code>{tables}. What a row can be: {kinds}.",
            tables=Html(_(" (or <code>2:12=section</code> for table 2)")) if several else "",
            kinds=", ".join(f"{code} ({row_kind_label(code)})" for code in ROW_KINDS),
        )
    ]
    shown = pending.get("rows_shown") or []
    if shown:
        lines.append(bold(_("Rows as read:")))
    for table, line, kind, text in shown:
        where = f"{table + 1}:{line}" if several else str(line)
        lines.append(Html(f"{esc(where)} · {esc(row_kind_label(kind))} — {esc(text)}"))
    hidden = len(pending.get("rows_seen", [])) - len(shown)
    if hidden > 0:
        lines.append(
            esc(
                ngettext("…and {n} more row read as an action.", "…and {n} more rows read as actions.", hidden).format(
                    n=hidden
                )
            )
        )
    return Html("\n".join(lines))


def _row_change(pending: dict[str, Any], text: str) -> tuple[tuple[int, int], str] | str:
    """The row and kind a message names ("12=section", "2:12=action"), or why it names none (translated)."""
    try:
        line, table, kind = parse_row_option(text.strip())
    except ValueError as exc:
        return str(exc)
    seen = [(tb, ln) for tb, ln in pending.get("rows_seen", []) if ln == line and (table is None or tb == table)]
    if not seen:
        return _("Line {n} is not a row of the plan's tables (the header and what is above it are not).").format(n=line)
    if len(seen) > 1:
        return _("Several tables have a line {n}: write it as table:line, for example {example}.").format(
            n=line, example=f"{seen[1][0] + 1}:{line}={kind}"
        )
    return seen[0], kind


async def receive_row(update: Update, context: BotContext) -> None:
    """The row named after "Row…": a new preview with it read that way (Import saves it)."""
    context.user_data.pop("awaiting", None)
    message = update.effective_message
    pending = context.user_data.get(PENDING)
    if not isinstance(pending, dict):
        await reply(update, context, t("That import has ended. Please send the file again."))
        return
    found = _row_change(pending, message.text if message and message.text else "")
    if isinstance(found, str):
        context.user_data["awaiting"] = "plan_row"
        await reply(update, context, t("{reason} Send it again, or /cancel.", reason=found))
        return
    (table, line), kind = found
    before = copy.deepcopy(pending)
    changes = PlanOverrides.from_dict(pending.get("overrides"))
    changes.rows.pop((None, line), None)
    changes.rows[(table, line)] = kind
    pending["overrides"] = changes.to_dict()
    if not await _read_again(update, context, pending):
        context.user_data[PENDING] = before  # not read (said why): the previous preview stands


MANIFEST = Manifest(
    "plan_upload",
    buttons=(
        Button("pi", confirm_import, Role.COORDINATOR, args="id", writes=Writes("imports a plan (new, or an update)")),
        Button("pix", cancel_import, Role.COORDINATOR, args="id"),
        Button("pu", on_correction, Role.COORDINATOR, args="id:tok:part*"),
    ),
    text_steps=(
        TextStep("plan_title", receive_title, Role.COORDINATOR),
        TextStep("plan_row", receive_row, Role.COORDINATOR),
    ),
)
