"""The import review in the Mini App: the plan file a coordinator last sent to the bot, as the importer read it,
with every column's field, every rating column's term, every row's reading (action, section heading,
continuation of the action above, not read) and the rating key changeable, re-read at once, then Import.

It is the chat's pending upload (handlers/plan_upload.py keeps it in the coordinator's user_data: the file's
id, its name, the corrections so far, the plan it updates) worked with the same code: `plans.importing.read_plan`
(the sandboxed reader, with `PlanOverrides`), `plans.store.save_plan` (dry-run for the preview, for real on
Import) and `plans.preview.preview_lines`. Nothing is saved before Import; a correction made here is also the
chat's (a later "Import" in chat imports what the review shows), and Import ends the chat's pending upload.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import N_, _, ngettext
from core.sandbox import SandboxError
from core.services import MemberInfo, Services
from core.terms import Term, term_label
from plans.importing import read_plan
from plans.parsed import (
    ROW_KINDS,
    TARGETS,
    ParsedPlan,
    PlanImportError,
    PlanOverrides,
    RowReading,
    field_label,
    row_kind_label,
)
from plans.preview import preview_lines
from plans.rag import parse_rag_set, rag_label
from plans.store import NoSuchPlan, PlanSummary, save_plan
from storage.import_lock import ImportBusy
from webapp.board import BoardError

PENDING = "plan_upload"  # handlers.plan_upload.PENDING
TERMS = ("autumn", "spring", "summer")
KEY_CODES = ("G", "A", "R", "B")  # what a symbol of the key may mean (plans.ratingkey: "C" is read as B or G)
MAX_ROW_CHANGES = 500  # row corrections in one request (a page sends one at a time)
MAX_KEY_CHANGES = 50
MAX_SYMBOL = 40
ROWS_SEEN = "rows_seen"  # in the pending upload (the chat's snapshot): the rows a correction may name

# The row list's and the key's words (kept here, beside the review's code, so the page's other strings
# in webapp/server.py stay as they are).
STRINGS: dict[str, str] = {
    "rows_title": N_("Rows as read"),
    "rows_intro": N_(
        "Every row of the file, and what I made of it. If a row is read wrongly, say what it is: "
        "I read the file again at once."
    ),
    "row_line": N_("Line {n}"),
    "row_kind": N_("Line {n} is"),
    "row_as_read": N_("(as I read it)"),
    "row_continues": N_("action {ref}, line {n}"),
    "row_changed": N_("changed by you"),
    "blank_rows": N_("{n} blank rows not listed"),
    "key_title": N_("Rating key"),
    "key_none": N_("No rating key found in the file."),
    "key_where": N_("Found: {where}"),
    "key_means": N_("{symbol} means"),
    "key_unknown": N_("Values no key matched"),
    "key_remove": N_("(not a rating)"),
    "key_add": N_("Add to the key"),
    "key_symbol": N_("Symbol or word"),
    "key_rating": N_("Rating"),
}


def _pending(application: Any, member: MemberInfo) -> dict[str, Any]:
    pending = application.user_data.get(member.telegram_id, {}).get(PENDING)
    if not isinstance(pending, dict) or "file_id" not in pending:
        raise BoardError(404, _("No plan file is waiting for review: send the file to the bot first."))
    return pending


def _target_args(target: Any) -> dict[str, Any]:
    from handlers.plan_upload import _target_args as chat_target_args  # the chat's own choice of plan

    return chat_target_args(target)


async def _read(application: Any, services: Services, pending: dict[str, Any], member: MemberInfo) -> Any:
    overrides = PlanOverrides.from_dict(pending.get("overrides"))
    try:
        file = await application.bot.get_file(pending["file_id"])
        data = bytes(await file.download_as_bytearray())
        parsed = await read_plan(data, pending["name"], overrides or None)
        async with services.sessionmaker() as session:  # a dry run, rolled back
            summary = await save_plan(
                session,
                parsed,
                member.telegram_id,
                dry_run=True,
                index=services.directory,
                **_target_args(pending.get("target")),
            )
            await session.rollback()
    except (PlanImportError, SandboxError, NoSuchPlan) as exc:
        raise BoardError(
            422, _("I could not read a plan from the file that way: {reason}").format(reason=exc)
        ) from None
    return parsed, summary


def _term_label(term: tuple[int, str] | None) -> str:
    return term_label(Term(term[0], term[1])) if term else ""


def _snapshot(pending: dict[str, Any], parsed: ParsedPlan) -> None:
    """What the chat keeps of this reading (its header-row choices, its columns): the chat's own function, so
    the review offers the chat's choices and checks a choice against them."""
    from handlers.plan_upload import _snapshot as chat_snapshot

    pending.update(chat_snapshot(parsed))  # with "rows_seen": the rows a correction may name


def _row(row: RowReading) -> dict[str, Any]:
    return {
        "table": row.table,
        "line": row.line,
        "where": row.where,
        "kind": row.kind,
        "kind_label": row_kind_label(row.kind),
        "choice": row.choice if row.editable else "",
        "reason": row.reason,
        "text": row.text,
        "ref": row.ref,
        "of_line": row.of_line,
        "editable": row.editable,
        "forced": row.forced,
    }


def _key(parsed: ParsedPlan, overrides: PlanOverrides) -> dict[str, Any]:
    """The rating key as read (symbol → meaning → rating), which symbols the coordinator changed, and the values
    in rating columns that no key matched (each may be given a meaning)."""
    return {
        "entries": [
            {
                "symbol": symbol,
                "meaning": meaning,
                "code": code,
                # a colour ("#FF0000") is matched by its fill, not by a symbol that can be typed
                "editable": bool(symbol) and not symbol.startswith("#"),
                "given": symbol in overrides.key,
            }
            for symbol, meaning, code in parsed.rating_key
        ],
        "where": list(parsed.rating_key_where),
        "unknown": [
            {"value": value, "count": count}
            for value, count in sorted(parsed.unknown_values.items(), key=lambda kv: -kv[1])[:20]
        ],
        "codes": [{"code": code, "label": rag_label(code)} for code in KEY_CODES],
    }


def _header(pending: dict[str, Any], parsed: ParsedPlan) -> dict[str, Any]:
    first = next((table for table in parsed.tables if table.used and table.header_lines), None)
    lines = list(first.header_lines) if first is not None else []
    return {
        "lines": lines,
        "label": ", ".join(_("line {n}").format(n=n) for n in lines),
        "choices": [
            {"line": n, "label": _("line {n}").format(n=n)} for n in pending.get("headers", []) if n not in lines
        ],
        "chosen": PlanOverrides.from_dict(pending.get("overrides")).header_row,
    }


def _counts_line(parsed: ParsedPlan) -> str:
    """The counts in words, each in its own plural: "12 actions in 3 sections; 1 row continued the action above"."""
    counts = parsed.counts
    return _("{actions} in {sections}; {continuations}").format(
        actions=ngettext("{n} action", "{n} actions", counts.actions).format(n=counts.actions),
        sections=ngettext("{n} section", "{n} sections", counts.sections).format(n=counts.sections),
        continuations=ngettext(
            "{n} row continued the action above", "{n} rows continued the action above", counts.continuations
        ).format(n=counts.continuations),
    )


def _shape(pending: dict[str, Any], parsed: ParsedPlan, summary: PlanSummary) -> dict[str, Any]:
    _snapshot(pending, parsed)
    start = (parsed.year or "")[:4]
    years = sorted({t[0] for t in parsed.terms} | ({int(start)} if start.isdigit() else set()))
    term_options = [
        {"code": f"{year}:{name}", "label": term_label(Term(year, name))} for year in years for name in TERMS
    ]
    return {
        "token": pending.get("id"),
        "name": pending.get("name", ""),
        "title": parsed.title,
        "fields": [{"code": code, "label": field_label(code)} for code in TARGETS],
        "terms": term_options,
        "header": _header(pending, parsed),
        "tables": [
            {
                "index": table.index,
                "where": table.where,
                "title": table.title,
                "used": table.used,
                "columns": [
                    {
                        "column": c.column,
                        "header": c.header,
                        "field": c.field,
                        "term": f"{c.term[0]}:{c.term[1]}" if c.term else "",
                        "term_label": _term_label(c.term),
                        "guessed": c.guessed,
                        "how": c.how,
                    }
                    for c in table.columns
                ],
            }
            for table in parsed.tables
        ],
        "counts": {
            "actions": parsed.counts.actions,
            "sections": parsed.counts.sections,
            "continuations": parsed.counts.continuations,
            "not_read": len(parsed.not_read),
        },
        "counts_line": _counts_line(parsed),
        # the rows as read, in order: each section (its row or heading) and its actions
        "sections": [
            {
                "title": section.title,
                "where": _("line {n}").format(n=section.line) if section.line else "",
                "actions": [
                    {"ref": a.ref, "text": a.text, "owners": ", ".join(a.owners) or a.owners_text}
                    for a in section.actions
                ],
            }
            for section in parsed.sections
        ],
        "actions": [{"ref": a.ref} for a in parsed.actions],
        "warnings": [str(w) for w in parsed.warnings],
        "rows": [_row(r) for r in parsed.rows],
        "blank_rows": parsed.counts.blank,
        "row_kinds": [{"code": code, "label": row_kind_label(code)} for code in ROW_KINDS],
        "key": _key(parsed, PlanOverrides.from_dict(pending.get("overrides"))),
        "strings": {name: _(text) for name, text in STRINGS.items()},
        "not_read": [{"where": n.where, "reason": n.reason, "text": n.text} for n in parsed.not_read],
        "rag_set": [{"code": c, "label": rag_label(c)} for c in parse_rag_set(parsed.rag_set)],
        "preview": [{"kind": kind, "text": text} for kind, text in preview_lines(parsed, summary, max_items=None)],
        "updates_plan": summary.updates_plan,
    }


async def show(application: Any, services: Services, member: MemberInfo) -> dict[str, Any]:
    pending = _pending(application, member)
    parsed, summary = await _read(application, services, pending, member)
    return _shape(pending, parsed, summary)


def _changes(pending: dict[str, Any], body: dict[str, Any]) -> PlanOverrides:
    """The corrections the page sends, on top of those made so far (here or in chat): `columns` is a list of
    {table, column, field, term}; a header names a column in every table, as the chat's corrections do."""
    if body.get("token") != pending.get("id"):
        raise BoardError(409, _("That file's review has changed in the chat: please reload the page."))
    overrides = PlanOverrides.from_dict(pending.get("overrides"))
    columns = body.get("columns", [])
    if not isinstance(columns, list) or len(columns) > 200:
        raise BoardError(400, _("That could not be done. Nothing was changed."))
    header_row = body.get("header_row")
    if header_row is not None:
        # one of the lines the chat offers for this reading ("Header row…"), nothing else
        if (
            not isinstance(header_row, int)
            or isinstance(header_row, bool)
            or header_row not in pending.get("headers", [])
        ):
            raise BoardError(400, _("That could not be done. Nothing was changed."))
        overrides.header_row = header_row
    for change in columns:
        if not isinstance(change, dict):
            raise BoardError(400, _("That could not be done. Nothing was changed."))
        column, header, field, term = (
            change.get("column"),
            change.get("header"),
            change.get("field"),
            change.get("term"),
        )
        if not isinstance(column, int) or isinstance(column, bool) or not isinstance(header, str):
            raise BoardError(400, _("That could not be done. Nothing was changed."))
        key: str | int = header if header.strip() else column
        if field is not None:
            if field not in TARGETS:
                raise BoardError(400, _("That could not be done. Nothing was changed."))
            overrides.columns[key] = field
        if term:
            year, _sep, name = str(term).partition(":")
            if not year.isdigit() or name not in TERMS:
                raise BoardError(400, _("That could not be done. Nothing was changed."))
            overrides.column_terms[key] = (int(year), name)
    _row_changes(pending, body.get("rows"), overrides)
    _key_changes(body.get("key"), overrides)
    return overrides


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _row_changes(pending: dict[str, Any], rows: Any, overrides: PlanOverrides) -> None:
    """`rows`: [{table, line, kind}], kind one of ROW_KINDS or "" (back to the reader's own reading), for rows
    of the last reading's tables only. All checked before any is applied."""
    if rows is None:
        return
    if not isinstance(rows, list) or len(rows) > MAX_ROW_CHANGES:
        raise BoardError(400, _("That could not be done. Nothing was changed."))
    seen = {(t, line) for t, line in pending.get(ROWS_SEEN, [])}
    changes: list[tuple[int, int, str]] = []
    for change in rows:
        if not isinstance(change, dict) or set(change) != {"table", "line", "kind"}:
            raise BoardError(400, _("That could not be done. Nothing was changed."))
        table, line, kind = change["table"], change["line"], change["kind"]
        if not _whole(table) or not _whole(line) or (table, line) not in seen:
            raise BoardError(400, _("That could not be done. Nothing was changed."))
        if not isinstance(kind, str) or (kind and kind not in ROW_KINDS):
            raise BoardError(400, _("That could not be done. Nothing was changed."))
        changes.append((table, line, kind))
    for table, line, kind in changes:
        overrides.rows.pop((None, line), None)  # a line given on the command line's way: this table's now
        if kind:
            overrides.rows[(table, line)] = kind
        else:
            overrides.rows.pop((table, line), None)


def _key_changes(key: Any, overrides: PlanOverrides) -> None:
    """`key`: [{symbol, code}]: the symbol (as the file writes it) means that rating; code "" takes the
    coordinator's meaning away again (the file's own key, if any, applies)."""
    if key is None:
        return
    if not isinstance(key, list) or len(key) > MAX_KEY_CHANGES:
        raise BoardError(400, _("That could not be done. Nothing was changed."))
    changes: list[tuple[str, str]] = []
    for change in key:
        if not isinstance(change, dict) or set(change) != {"symbol", "code"}:
            raise BoardError(400, _("That could not be done. Nothing was changed."))
        symbol, code = change["symbol"], change["code"]
        if not isinstance(symbol, str) or not symbol.strip() or len(symbol) > MAX_SYMBOL:
            raise BoardError(400, _("That could not be done. Nothing was changed."))
        if not isinstance(code, str) or (code and code not in KEY_CODES):
            raise BoardError(400, _("That could not be done. Nothing was changed."))
        if any(ord(ch) < 32 for ch in symbol):
            raise BoardError(400, _("That could not be done. Nothing was changed."))
        changes.append((symbol.strip(), code))
    for symbol, code in changes:
        if code:
            overrides.key[symbol] = code
        else:
            overrides.key.pop(symbol, None)


async def reread(application: Any, services: Services, member: MemberInfo, body: dict[str, Any]) -> dict[str, Any]:
    pending = _pending(application, member)
    trial = dict(pending, overrides=_changes(pending, body).to_dict())
    parsed, summary = await _read(application, services, trial, member)
    # the corrections stand (the chat's pending upload has them too); its old buttons expire as after a chat edit
    pending["overrides"] = trial["overrides"]
    pending["id"] = int(application.user_data[member.telegram_id].get("plan_upload_seq", 0)) + 1
    application.user_data[member.telegram_id]["plan_upload_seq"] = pending["id"]
    return _shape(pending, parsed, summary)


async def do_import(
    session: AsyncSession, application: Any, services: Services, member: MemberInfo, body: dict[str, Any]
) -> dict[str, Any]:
    pending = _pending(application, member)
    if body.get("token") != pending.get("id"):
        raise BoardError(409, _("That file's review has changed in the chat: please reload the page."))
    parsed, _summary = await _read(application, services, pending, member)
    application.user_data[member.telegram_id].pop(PENDING, None)  # one import, whoever presses first
    try:
        summary = await save_plan(
            session, parsed, member.telegram_id, index=services.directory, **_target_args(pending.get("target"))
        )
    except (ImportBusy, NoSuchPlan) as exc:
        application.user_data[member.telegram_id][PENDING] = pending
        raise BoardError(409, _("Not imported: {reason}. Nothing was changed.").format(reason=exc)) from None
    return {
        "plan": summary.plan_id if summary.diff is None else summary.diff.plan_id,
        "title": summary.title,
        "actions": summary.actions,
        "updates": summary.updates,
    }
