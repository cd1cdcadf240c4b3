"""Legacy Excel workbooks (.xls, BIFF in an OLE2 container) into tables, with xlrd: merged cells, fills and
font colours (from the workbook's formatting records), dates, every visible sheet.

An .xls is not compressed, so the file's size bounds its cells; what xlrd cannot bound by itself is checked
before anything is expanded: each sheet's rows and columns, its merged ranges (their count and spans).
Cells are taken from the rows the sheet really holds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.i18n import _
from core.ingest.limits import check_bytes, check_grid, refuse
from core.ingest.model import Cell, Document, IngestLimits, IngestRefusal, NotRead, Table, damaged, merge, sheet_rows
from core.ingest.text import clean_cell, unquote_formula

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_AUTOMATIC = (0x7FFF, 64, 65, 0x7FFE)  # system foreground/background and "automatic" colour indexes


def ole2_streams(data: bytes) -> set[str]:
    """The names of an OLE2 file's streams ('Workbook', 'WordDocument' ...); empty when it is not one."""
    try:
        from xlrd import compdoc

        return {entry.name for entry in compdoc.CompDoc(data, logfile=_Quiet()).dirlist}
    except Exception:  # noqa: BLE001 - a damaged container: no streams we can name
        return set()


class _Quiet:
    """xlrd writes its warnings to a log file; ours go nowhere (what matters is raised)."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        return None


def _hex(book: Any, index: int | None) -> str | None:
    if index is None or index in _AUTOMATIC:
        return None
    rgb = book.colour_map.get(index)
    if not rgb or len(rgb) != 3:
        return None
    return "{:02X}{:02X}{:02X}".format(*rgb)


def _text(book: Any, cell: Any) -> str:
    import xlrd

    kind, value = cell.ctype, cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return ""
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "")
    if kind == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if value else "FALSE"
    if kind == xlrd.XL_CELL_DATE:
        try:
            when = xlrd.xldate.xldate_as_datetime(value, book.datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return str(value)
        if when.time() == dt.time():
            return when.strftime("%d/%m/%Y")
        return when.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _style(book: Any, xf_index: int) -> tuple[str | None, str | None, bool]:
    """(fill, font colour, bold) of a cell's format record; (None, None, False) where the file has none."""
    try:
        xf = book.xf_list[xf_index]
    except (IndexError, AttributeError, TypeError):
        return None, None, False
    fill = None
    background = getattr(xf, "background", None)
    if background is not None and background.fill_pattern:  # 0: no fill; 1: solid; others: patterns
        fill = _hex(book, background.pattern_colour_index)
    colour, bold = None, False
    try:
        font = book.font_list[xf.font_index]
        colour = _hex(book, font.colour_index)
        bold = bool(font.bold)
    except (IndexError, AttributeError):
        pass
    if colour == "000000":
        colour = None  # black is the automatic colour written out
    return fill, colour, bold


def read_xls(data: bytes, limits: IngestLimits) -> Document:
    check_bytes(data, limits)
    import xlrd

    try:
        book = xlrd.open_workbook(
            file_contents=data, formatting_info=True, on_demand=True, logfile=_Quiet(), ragged_rows=True
        )
    except xlrd.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise IngestRefusal(_("The workbook is protected with a password; please send it without one.")) from None
        raise damaged(exc) from None
    except NotImplementedError:  # formatting of some BIFF versions: read it without the colours
        book = _plain(data)
    except Exception as exc:  # noqa: BLE001 - a damaged container or record: not a workbook we can read
        raise damaged(exc) from None
    doc = Document(format="xls")
    try:
        if book.nsheets > limits.max_tables:
            raise refuse("tables", book.nsheets, limits.max_tables)
        for index in range(book.nsheets):
            try:
                sheet = book.sheet_by_index(index)
            except Exception as exc:  # noqa: BLE001 - one damaged sheet: listed, the others read
                name = book.sheet_names()[index] if index < len(book.sheet_names()) else str(index + 1)
                label = _("sheet {name}").format(name=repr(name))
                doc.not_read.append(NotRead(label, _("damaged sheet, not read ({error})").format(error=exc)))
                continue
            label = _("sheet {name}").format(name=repr(sheet.name))
            if getattr(sheet, "visibility", 0):
                doc.not_read.append(NotRead(label, _("hidden sheet, not read")))
                book.unload_sheet(index)
                continue
            doc.tables.append(_sheet(book, sheet, label, limits))
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return doc


def _plain(data: bytes) -> Any:
    import xlrd

    try:
        return xlrd.open_workbook(file_contents=data, on_demand=True, logfile=_Quiet(), ragged_rows=True)
    except Exception as exc:  # noqa: BLE001
        raise damaged(exc) from None


def _sheet(book: Any, sheet: Any, label: str, limits: IngestLimits) -> Table:
    merges = list(getattr(sheet, "merged_cells", []) or [])
    if len(merges) > limits.max_merges:
        raise refuse("merges", len(merges), limits.max_merges)
    max_row = sheet.nrows
    max_col = max((sheet.row_len(r) for r in range(sheet.nrows)), default=0) if sheet.nrows <= limits.max_rows else 0
    check_grid(max_row, max_col, limits)
    for r1, r2, c1, c2 in merges:  # xlrd: half-open ranges
        span = max(r2 - r1, c2 - c1)
        if span > limits.max_span:
            raise refuse("span", span, limits.max_span)
        max_row, max_col = max(max_row, r2), max(max_col, c2)
    check_grid(max_row, max_col, limits)
    formatted = bool(book.formatting_info)
    grid: list[list[Cell]] = [[Cell() for _ in range(max_col)] for _ in range(max_row)]
    for r in range(sheet.nrows):
        for c in range(sheet.row_len(r)):
            source = sheet.cell(r, c)
            fill, colour, bold = None, None, False
            if formatted and source.xf_index is not None:
                fill, colour, bold = _style(book, source.xf_index)
            grid[r][c] = Cell(
                text=clean_cell(unquote_formula(_text(book, source))), fill=fill, colour=colour, bold=bold
            )
    for r1, r2, c1, c2 in merges:
        merge(grid, r1, c1, r2 - r1, c2 - c1)
    rows = sheet_rows(grid)
    # Trailing rows that hold nothing at all are not part of the sheet.
    while rows and not rows[-1].cells:
        rows.pop()
    return Table(rows=rows, title=sheet.name, source=label)
