"""The termly report as an Excel workbook (pure: a PlanView and its ReportSummary in, bytes out).

Sheets: Summary (title, counts by colour this term and last, what moved, what was not updated, the key),
Actions (one row per action, one column per term of the plan's span; the header on the first row, styled
and frozen, filters on), History (every update: term, rating, comment, author, date) and Key.
Every text cell goes through plans.export.safe_cell, so nothing typed into a comment runs as a formula.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import cast

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from core.i18n import _, format_date, ngettext
from core.terms import term_label
from plans.export import PlanView, action_cells, action_headings, safe_cell
from plans.rag import RAG_COLOURS, RAG_TEXT_COLOURS, rag_label, rag_meaning
from plans.report import (
    ReportSummary,
    author_text,
    byline,
    change_text,
    latest_comment,
    owners_text,
    produced_on,
    when_text,
)

HEADER_FILL = "D9D9D9"
_THIN = Side(style="thin", color="BBBBBB")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
TOP = Alignment(wrap_text=True, vertical="top")
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.timezone.utc)


def sheet_title(text: str) -> str:
    """A legal sheet name: at most 31 characters, none of []:*?/\\ (a translation might use them)."""
    for ch in "[]:*?/\\":
        text = text.replace(ch, " ")
    return text.strip()[:31] or "Sheet"


def write_header(sheet: Worksheet, headers: Sequence[str], widths: Sequence[float], row: int = 1) -> None:
    """Headings on `row`, bold on grey with borders, wrapped; the panes frozen below them; filters on
    (set by the caller once the rows are in, see `add_filter`)."""
    for col, (header, width) in enumerate(zip(headers, widths), start=1):
        cell = sheet.cell(row=row, column=col, value=safe_cell(header))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.border = BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(col)].width = width


def add_filter(sheet: Worksheet, columns: int, header_row: int = 1) -> None:
    last = max(sheet.max_row, header_row + 1)
    sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(columns)}{last}"


def rag_cell(sheet: Worksheet, row: int, col: int, code: str) -> None:
    """A rating: its letter (colour is never the only carrier) on its colour."""
    cell = sheet.cell(row=row, column=col, value=code or None)
    cell.border = BORDER
    cell.alignment = Alignment(horizontal="center", vertical="top")
    if code:
        cell.fill = PatternFill("solid", fgColor=RAG_COLOURS[code])
        cell.font = Font(bold=True, color=RAG_TEXT_COLOURS[code])


def _text_row(sheet: Worksheet, values: Sequence[object]) -> int:
    sheet.append([safe_cell(v) if isinstance(v, str) else v for v in values])
    row = sheet.max_row
    for col in range(1, len(values) + 1):
        cell = sheet.cell(row=row, column=col)
        cell.alignment = TOP
        cell.border = BORDER
    return row


def _summary_sheet(sheet: Worksheet, view: PlanView, summary: ReportSummary) -> None:
    term, previous = summary.term, summary.previous
    sheet.append([safe_cell(view.title)])
    sheet["A1"].font = Font(bold=True, size=14)
    for line in (
        view.partnership or "",
        _("Termly report: {term}").format(term=term_label(term)),
        _("Produced {date}").format(date=format_date(produced_on(view), "d MMMM yyyy")),
    ):
        if line:
            sheet.append([safe_cell(line)])
    sheet.append([])
    head = sheet.max_row + 1
    headers = [_("Rating"), term_label(term)] + ([term_label(previous)] if previous else [])
    for col, text in enumerate(headers, start=1):
        cell = sheet.cell(row=head, column=col, value=safe_cell(text))
        cell.font, cell.fill, cell.border = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL), BORDER
    for code in (*view.rag_set, ""):
        values: list[object] = [f"{code} – {rag_label(code)}" if code else _("No rating"), summary.counts.get(code, 0)]
        if previous:
            values.append(summary.previous_counts.get(code, 0))
        row = _text_row(sheet, values)
        if code:
            label = sheet.cell(row=row, column=1)
            label.fill = PatternFill("solid", fgColor=RAG_COLOURS[code])
            label.font = Font(bold=True, color=RAG_TEXT_COLOURS[code])
    total: list[object] = [_("Actions"), len(view.actions)] + ([len(view.actions)] if previous else [])
    row = _text_row(sheet, total)
    sheet.cell(row=row, column=1).font = Font(bold=True)

    def block(title: str, lines: list[list[object]], rag_column: int | None = None) -> None:
        sheet.append([])
        sheet.append([safe_cell(title)])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        for values in lines:
            row = _text_row(sheet, values)
            if rag_column is not None:
                rag_cell(sheet, row, rag_column, str(values[rag_column - 1]))

    up, down, stale = len(summary.up), len(summary.down), len(summary.stale)
    block(
        ngettext("{n} action moved up", "{n} actions moved up", up).format(n=up) if up else _("No action moved up."),
        [[m.action.ref, m.action.text, f"{m.before} → {m.after}"] for m in summary.up],
    )
    block(
        ngettext("{n} action moved down", "{n} actions moved down", down).format(n=down)
        if down
        else _("No action moved down."),
        [[m.action.ref, m.action.text, f"{m.before} → {m.after}"] for m in summary.down],
    )
    block(
        ngettext("{n} action not updated in {term}", "{n} actions not updated in {term}", stale).format(
            n=stale, term=term_label(term)
        )
        if stale
        else _("Every action was updated in {term}.").format(term=term_label(term)),
        [
            [
                s.action.ref,
                s.action.text,
                owners_text(s.action),
                _("last: {rating}, {term}").format(rating=rag_label(s.last), term=term_label(s.last_term))
                if s.last and s.last_term
                else _("no rating yet"),
            ]
            for s in summary.stale
        ],
    )
    block(
        ngettext("{n} red or amber action", "{n} red or amber actions", len(summary.exceptions)).format(
            n=len(summary.exceptions)
        ),
        [
            [
                e.action.ref,
                e.action.text,
                owners_text(e.action),
                e.rating,
                change_text(e.before, e.rating, previous),
                e.comment.comment if e.comment else "",
                byline(e.comment) if e.comment else "",
            ]
            for e in summary.exceptions
        ],
        rag_column=4,
    )
    for col, width in enumerate((22, 50, 24, 10, 28, 50, 30), start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width


def _actions_sheet(sheet: Worksheet, view: PlanView, summary: ReportSummary) -> None:
    terms = view.terms
    headers = (
        action_headings()
        + [term_label(t, short=True) for t in terms]
        + [_("Latest comment"), _("Comment by"), _("Comment date")]
    )
    widths = [8, 22, 45, 22, 36, 16, 30, 20, 12, 12] + [8] * len(terms) + [45, 18, 13]
    write_header(sheet, headers, widths)
    first_term = 11
    for action in view.actions:
        comment = latest_comment(action, summary.term)
        row = _text_row(
            sheet,
            action_cells(action)
            + [""] * len(terms)
            + [
                comment.comment if comment else "",
                author_text(comment) if comment else "",
                when_text(comment) if comment else "",
            ],
        )
        for i, term in enumerate(terms):
            rag_cell(sheet, row, first_term + i, action.rag.get(term, ""))
    sheet.freeze_panes = "D2"  # the header row, and Ref/Section/Action while scrolling right
    add_filter(sheet, len(headers))
    # The key beside the table (outside the filtered range), so the colours explain themselves here too.
    key_col = len(headers) + 2
    cell = sheet.cell(row=1, column=key_col, value=safe_cell(_("Key")))
    cell.font, cell.fill, cell.border = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL), BORDER
    sheet.column_dimensions[get_column_letter(key_col)].width = 22
    for i, code in enumerate(view.rag_set, start=2):
        rag_cell(sheet, i, key_col, code)
        sheet.cell(row=i, column=key_col).value = f"{code} = {rag_label(code)}"


def _history_sheet(sheet: Worksheet, view: PlanView) -> None:
    headers = [_("Ref"), _("Action"), _("Term"), _("Rating"), _("Comment"), _("Author"), _("Date"), _("Note")]
    write_header(sheet, headers, [8, 40, 13, 8, 60, 22, 13, 22])
    rows = [(action, row) for action in view.actions for row in action.history]
    # In the order they were posted (a stable sort keeps plan order for imported rows of the same moment).
    rows.sort(key=lambda pair: pair[1].at or EARLIEST)
    for action, update in rows:
        notes = {"correction": _("correction"), "withdrawal": _("withdrawal")}  # imported: the Author says so
        note = notes.get(update.kind, "")
        if not update.counts and update.kind != "withdrawal":
            note = ", ".join(p for p in (note, _("replaced later")) if p)
        row = _text_row(
            sheet,
            [
                action.ref,
                action.text,
                term_label(update.term),
                "",
                update.comment,
                author_text(update),
                when_text(update),
                note,
            ],
        )
        rag_cell(sheet, row, 4, update.rag)
    sheet.freeze_panes = "A2"
    add_filter(sheet, len(headers))


def _key_sheet(sheet: Worksheet, view: PlanView) -> None:
    write_header(sheet, [_("Code"), _("Rating"), _("Meaning")], [8, 14, 30])
    for code in view.rag_set:
        row = _text_row(sheet, ["", rag_label(code), rag_meaning(code)])
        rag_cell(sheet, row, 1, code)
    if any(s.kpis for s in view.sections):
        sheet.append([])
        sheet.append([safe_cell(_("Section")), safe_cell(_("KPIs"))])
        for section in view.sections:
            if section.kpis:
                sheet.append([safe_cell(section.title), safe_cell(section.kpis)])


def _printable(sheet: Worksheet, header_rows: str | None = "1:1") -> None:
    """Printed landscape, one page wide, the header row on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    if header_rows:
        sheet.print_title_rows = header_rows


def report_xlsx(view: PlanView, summary: ReportSummary) -> bytes:
    book = Workbook()
    summary_sheet = cast(Worksheet, book.active)  # a new workbook's one sheet
    summary_sheet.title = sheet_title(_("Summary"))
    _summary_sheet(summary_sheet, view, summary)
    _actions_sheet(book.create_sheet(sheet_title(_("Actions"))), view, summary)
    _history_sheet(book.create_sheet(sheet_title(_("History"))), view)
    _key_sheet(book.create_sheet(sheet_title(_("Key"))), view)
    for sheet in book.worksheets:
        _printable(sheet, None if sheet is summary_sheet else "1:1")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
