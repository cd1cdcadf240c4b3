"""The support register's report as Excel and Word, A4 (pure: a SupportReport in, bytes out), written with
the plan report's document helpers (plans/report_xlsx.py, plans/report_docx.py): the same headers, filters,
shading, repeated header rows and column fitting.

Excel: Summary, System leaders (one row each), Cold spots. Word: the summary, then the register of system
leaders and the cold spots as tables whose header repeats on every page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import cast

from docx.shared import Cm, Pt
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from core.i18n import _, format_date
from directory.support_report import SupportReport
from plans.export import safe_cell
from plans.report_docx import HEADER_FILL, fit_widths, repeat_header, set_widths, shade_cell
from plans.report_xlsx import add_filter, sheet_title, write_header

A4_WIDTH, A4_HEIGHT = Cm(21.0), Cm(29.7)
MARGIN = Cm(1.8)


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _date(value: object) -> str:
    return format_date(value) if value is not None else ""  # type: ignore[arg-type]


def summary_rows(report: SupportReport) -> list[tuple[str, str]]:
    """The figures, in the order both documents give them."""
    yes = report.recommend_yes
    rows = [
        (_("System leaders"), str(len(report.leaders))),
        (_("By designation"), ", ".join(f"{k} {v}" for k, v in report.by_designation.items()) or "—"),
        (_("Designated this year"), str(report.designated_this_year)),
        (_("Trained (a date on their entry)"), str(report.trained)),
        (_("Trained this year"), str(report.trained_this_year)),
        (_("Deployed this year"), str(report.leaders_deployed)),
        (_("Deployments"), str(report.deployments)),
        (_("Days agreed"), _days(report.days_agreed)),
        (_("Days delivered"), _days(report.days_delivered)),
        (_("Schools supported"), str(report.schools_supported)),
        (_("Requests"), str(report.requests)),
        (_("Met"), str(report.met)),
        (_("Waiting"), str(report.waiting)),
        (_("Declined"), str(report.declined)),
        (_("Withdrawn by the school"), str(report.withdrawn)),
        (_("Time to broker, median (days)"), _days(report.broker_days_median) or "—"),
        (_("Time to broker, mean (days)"), _days(report.broker_days_mean) or "—"),
        (_("Impact answers"), str(report.impact_answers)),
        (_("Would recommend"), f"{yes} / {report.impact_answers}" if report.impact_answers else "—"),
        (_("Schools in the partnership"), str(report.schools)),
        (_("Cold spots: schools"), str(len(report.cold_schools))),
        (_("Cold spots: areas"), ", ".join(report.cold_areas) or "—"),
    ]
    return rows


def leader_headings() -> list[str]:
    return [
        _("System leader"),
        _("Designation"),
        _("Specialisms"),
        _("School"),
        _("Designated"),
        _("Trained"),
        _("Deployments"),
        _("Days agreed"),
        _("Days delivered"),
        _("Schools"),
        _("Capacity (days)"),
        _("Capacity left"),
    ]


def leader_cells(report: SupportReport) -> list[list[str]]:
    return [
        [
            line.name,
            line.designations,
            line.specialisms,
            line.school,
            _date(line.designated_on),
            _date(line.trained_on),
            str(line.deployments),
            _days(line.days_agreed),
            _days(line.days_delivered),
            str(line.schools),
            _days(line.capacity),
            _days(line.capacity_left),
        ]
        for line in report.leaders
    ]


def title(report: SupportReport) -> str:
    return _("School-to-school support register, {year}").format(year=report.year.label)


# --------------------------------------------------------------------------------------------- Excel


def _a4(sheet: Worksheet, landscape: bool) -> None:
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0


def _table(sheet: Worksheet, headings: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
    write_header(sheet, headings, widths)
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    add_filter(sheet, len(headings))
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"


def support_xlsx(report: SupportReport) -> bytes:
    book = Workbook()
    summary = cast(Worksheet, book.active)
    summary.title = sheet_title(_("Summary"))
    summary.append([safe_cell(title(report))])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([])
    for label, value in summary_rows(report):
        summary.append([safe_cell(label), safe_cell(value)])
    summary.column_dimensions["A"].width = 34
    summary.column_dimensions["B"].width = 60
    _a4(summary, landscape=False)
    leaders = book.create_sheet(sheet_title(_("System leaders")))
    _table(leaders, leader_headings(), leader_cells(report), (26, 12, 30, 28, 12, 12, 11, 10, 10, 9, 10, 10))
    _a4(leaders, landscape=True)
    cold = book.create_sheet(sheet_title(_("Cold spots")))
    _table(cold, [_("School"), _("Area")], [[s.name, s.area] for s in report.cold_schools], (40, 24))
    _a4(cold, landscape=False)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------------------------- Word


def _docx_table(document: object, headings: Sequence[str], rows: Sequence[Sequence[str]], total: int) -> None:
    table = document.add_table(rows=1, cols=len(headings))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, headings):
        cell.text = heading
        cell.paragraphs[0].runs[0].bold = True
        shade_cell(cell, HEADER_FILL)
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row):
            cell.text = safe_cell(value)
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(8)
    repeat_header(table)
    columns = [[h, *(r[i] for r in rows)] for i, h in enumerate(headings)]
    set_widths(table, fit_widths(columns, total, {}, int(Cm(1.4)), int(Cm(6))))


def support_docx(report: SupportReport) -> bytes:
    """Landscape A4 from core.word (the one place documents are made: page numbers, header, author)."""
    from core.word import new_document, save, usable_width

    document = new_document(title(report), "landscape", title(report))
    width = usable_width(document.sections[0])
    document.add_heading(title(report), level=0)
    _docx_table(document, [_("Figure"), _("This year")], summary_rows(report), width)
    document.add_heading(_("System leaders"), level=1)
    _docx_table(document, leader_headings(), leader_cells(report), width)
    document.add_heading(_("Cold spots: schools that neither asked for nor gave support"), level=1)
    _docx_table(document, [_("School"), _("Area")], [[s.name, s.area] for s in report.cold_schools], width)
    return save(document)
