"""Excel workbooks (.xlsx) into tables: merged cells, fills, font colours, rich text, every visible sheet.

Sizes are checked before openpyxl expands anything: the zip's members (a zip bomb), then each sheet's XML
for its claimed dimensions, its number of cells and its merged ranges (their count and spans). Cells are
then taken from those the sheet really holds, never by walking the claimed rectangle.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from core.i18n import _
from core.ingest.limits import check_grid, check_zip, read_member, refuse
from core.ingest.model import Cell, Document, IngestError, IngestLimits, Table, merge, sheet_rows
from core.ingest.text import clean_cell, unquote_formula

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?\"")
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]+)(\d+):([A-Z]+)(\d+)\"")
_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")


def _col(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def prescan(archive: zipfile.ZipFile, limits: IngestLimits) -> None:
    """Refuse a workbook whose sheets claim more than any plan or register has, before loading it."""
    for name in archive.namelist():
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        xml = read_member(archive, name, limits)
        cells = len(_CELL.findall(xml))
        if cells > limits.max_cells:
            raise refuse("cells", cells, limits.max_cells)
        m = _DIMENSION.search(xml)
        if m and m.group(3):
            rows = int(m.group(4)) - int(m.group(2) or 1) + 1
            cols = _col(m.group(3)) - _col(m.group(1) or b"A") + 1
            check_grid(rows, cols, limits)
        merges = _MERGE.findall(xml)
        if len(merges) > limits.max_merges:
            raise refuse("merges", len(merges), limits.max_merges)
        for c1, r1, c2, r2 in merges:
            span = max(_col(c2) - _col(c1) + 1, int(r2) - int(r1) + 1)
            if span > limits.max_span:
                raise refuse("span", span, limits.max_span)


def _rgb(colour: object) -> str | None:
    """'RRGGBB' of an openpyxl colour given as ARGB or a legacy index; None for theme or automatic colours."""
    if colour is None:
        return None
    try:
        kind = getattr(colour, "type", None)
        if kind == "rgb":
            value = str(colour.rgb)  # type: ignore[attr-defined]
            return value[-6:].upper() if re.fullmatch(r"[0-9A-Fa-f]{6,8}", value) else None
        if kind == "indexed":
            from openpyxl.styles.colors import COLOR_INDEX

            index = int(colour.indexed)  # type: ignore[attr-defined]
            if 0 <= index < len(COLOR_INDEX) and index not in (64, 65):
                return str(COLOR_INDEX[index])[-6:].upper()
    except (AttributeError, TypeError, ValueError):
        return None
    return None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y") if value.time() == dt.time() else value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)  # CellRichText joins its runs


def read_xlsx(data: bytes, limits: IngestLimits) -> Document:
    archive = check_zip(data, limits)
    if "xl/workbook.xml" not in archive.namelist():
        raise IngestError(_("This file is a zip package but not an Excel workbook; please send .xlsx, .docx or .csv."))
    prescan(archive, limits)
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=False, data_only=True, rich_text=True)
    except Exception as exc:  # noqa: BLE001 - broken XML, impossible values ...: not a workbook we can read
        raise IngestError(_("This is not a readable Excel workbook ({error}).").format(error=exc)) from None
    doc = Document(format="xlsx")
    try:
        for sheet in book.worksheets:
            label = _("sheet {name}").format(name=repr(sheet.title))
            if sheet.sheet_state != "visible":
                from core.ingest.model import NotRead

                doc.not_read.append(NotRead(label, _("hidden sheet, not read")))
                continue
            cells = getattr(sheet, "_cells", {})
            real = [
                (r, c)
                for (r, c), cell in cells.items()
                if cell.value not in (None, "") or (cell.fill is not None and cell.fill.fill_type == "solid")
            ]
            if not real:
                doc.tables.append(Table(rows=[], title=sheet.title, source=label))
                continue
            max_row = max(r for r, _c in real)
            max_col = max(c for _r, c in real)
            for merged in sheet.merged_cells.ranges:
                max_row = max(max_row, merged.max_row)
                max_col = max(max_col, merged.max_col)
            check_grid(max_row, max_col, limits)
            grid: list[list[Cell]] = [[Cell() for _ in range(max_col)] for _ in range(max_row)]
            for (r, c), source in cells.items():
                if r > max_row or c > max_col:
                    continue
                fill = source.fill
                grid[r - 1][c - 1] = Cell(
                    text=clean_cell(unquote_formula(_text(source.value))),
                    fill=_rgb(fill.fgColor) if fill is not None and fill.fill_type == "solid" else None,
                    colour=_rgb(source.font.color) if source.font is not None else None,
                    bold=bool(source.font is not None and source.font.b),
                )
            for merged in sheet.merged_cells.ranges:
                rows_high = merged.max_row - merged.min_row + 1
                cols_wide = merged.max_col - merged.min_col + 1
                merge(grid, merged.min_row - 1, merged.min_col - 1, rows_high, cols_wide)
            doc.tables.append(Table(rows=sheet_rows(grid), title=sheet.title, source=label))
    finally:
        book.close()
    if len(doc.tables) > limits.max_tables:
        raise refuse("tables", len(doc.tables), limits.max_tables)
    return doc
