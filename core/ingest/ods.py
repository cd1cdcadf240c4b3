"""OpenDocument spreadsheets (.ods) into tables: merged cells, cell backgrounds and font colours (from the
cell styles), dates, every visible sheet.

Read from the XML directly (as .docx is) so that nothing is expanded unchecked: an .ods says "this row, 1,048,576
times" and "this cell, 16,384 times" for the empty space after a sheet's data, and a hostile one says it for
cells that hold text. Repeats are counted, never materialised, until a row or cell holds text; then the rows,
columns, cells and spans they would make are checked against `IngestLimits` before they are made. The zip is
checked first (`check_zip`: a zip bomb), and the XML parser resolves no entities and loads nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from core.i18n import _
from core.ingest.limits import check_grid, check_zip, read_member, refuse
from core.ingest.model import Cell, Document, IngestError, IngestLimits, NotRead, Table, damaged, merge, sheet_rows
from core.ingest.text import clean_cell, unquote_formula

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
FO = "{urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_HEX = re.compile(r"#([0-9a-fA-F]{6})")
_MAX_SPACES = 100  # <text:s text:c="N"/>: N spaces, at most this many


@dataclass
class _Style:
    parent: str | None = None
    fill: str | None = None
    colour: str | None = None
    bold: bool | None = None
    hidden: bool = False


def _count(element: Any, name: str) -> int:
    value = element.get(name)
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


def _styles(root: Any, into: dict[str, _Style]) -> None:
    for node in root.iter(STYLE + "style"):
        name = node.get(STYLE + "name")
        if not name:
            continue
        style = _Style(parent=node.get(STYLE + "parent-style-name"))
        cell = node.find(STYLE + "table-cell-properties")
        if cell is not None:
            m = _HEX.fullmatch(cell.get(FO + "background-color") or "")
            style.fill = m.group(1).upper() if m else None
        text = node.find(STYLE + "text-properties")
        if text is not None:
            m = _HEX.fullmatch(text.get(FO + "color") or "")
            style.colour = m.group(1).upper() if m else None
            weight = text.get(FO + "font-weight")
            if weight:
                style.bold = weight == "bold" or (weight.isdigit() and int(weight) >= 600)
        table = node.find(STYLE + "table-properties")
        if table is not None and table.get(TABLE + "display") == "false":
            style.hidden = True
        into[name] = style


def _resolve(styles: dict[str, _Style], name: str | None) -> tuple[str | None, str | None, bool]:
    fill = colour = None
    bold: bool | None = None
    for _depth in range(10):  # parent chains are short; a loop in a hostile file ends here
        style = styles.get(name or "")
        if style is None:
            break
        fill = fill or style.fill
        colour = colour or style.colour
        bold = style.bold if bold is None else bold
        name = style.parent
    if colour == "000000":
        colour = None  # black written out is the automatic colour
    return fill, colour, bool(bold)


def _paragraph(p: Any, out: list[str]) -> None:
    if p.text:
        out.append(p.text)
    for child in p:
        tag = child.tag
        if tag == TEXT + "s":
            out.append(" " * min(_count(child, TEXT + "c"), _MAX_SPACES))
        elif tag == TEXT + "tab":
            out.append("\t")
        elif tag == TEXT + "line-break":
            out.append("\n")
        elif tag == OFFICE + "annotation":
            pass  # a comment on the cell, not its text
        else:
            _paragraph(child, out)
        if child.tail:
            out.append(child.tail)


def _cell_text(cell: Any) -> str:
    kind = cell.get(OFFICE + "value-type")
    if kind == "date":
        value = cell.get(OFFICE + "date-value") or ""
        try:
            when = dt.datetime.fromisoformat(value)
            return when.strftime("%d/%m/%Y") if when.time() == dt.time() else when.strftime("%d/%m/%Y %H:%M")
        except ValueError:
            pass
    paragraphs = []
    for p in cell.findall(TEXT + "p"):
        parts: list[str] = []
        _paragraph(p, parts)
        paragraphs.append("".join(parts))
    text = "\n".join(paragraphs)
    if not text and kind in ("float", "percentage", "currency"):
        text = cell.get(OFFICE + "value") or ""
    return clean_cell(unquote_formula(text))


class _Sheet:
    """One sheet's cells, kept as runs ("this row N times", "this cell N times") until the sheet's real size
    is known: the rows and columns that hold text, and the merges that start among them."""

    def __init__(self, limits: IngestLimits, styles: dict[str, _Style], column_styles: list[tuple[int, str | None]]):
        self.limits = limits
        self.styles = styles
        self.column_styles = column_styles  # (first column, style name), in order
        self.runs: list[tuple[int, int, list[tuple[int, int, Cell]]]] = []  # first row, repeat, cell runs
        self.merges: list[tuple[int, int, int, int]] = []  # row, column, rows, columns
        self.height = 0  # rows up to the last that holds text
        self.width = 0  # columns up to the last that holds text

    def column_style(self, col: int) -> str | None:
        found = None
        for first, name in self.column_styles:
            if first > col:
                break
            found = name
        return found

    def row(self, tr: Any, r: int, repeat: int) -> None:
        runs: list[tuple[int, int, Cell]] = []
        col = 0
        width = 0
        row_style = tr.get(TABLE + "default-cell-style-name")
        for tc in tr:
            if tc.tag not in (TABLE + "table-cell", TABLE + "covered-table-cell"):
                continue
            n = _count(tc, TABLE + "number-columns-repeated")
            if tc.tag == TABLE + "covered-table-cell" or col >= self.limits.max_columns:
                col += n  # covered cells are filled in from their anchor; past the limit only text counts
                if tc.tag == TABLE + "table-cell" and tc.find(TEXT + "p") is not None and _cell_text(tc):
                    raise refuse("columns", col, self.limits.max_columns)
                continue
            text = _cell_text(tc)
            name = tc.get(TABLE + "style-name") or row_style or self.column_style(col)
            fill, colour, bold = _resolve(self.styles, name)
            row_span = _count(tc, TABLE + "number-rows-spanned")
            col_span = _count(tc, TABLE + "number-columns-spanned")
            if text:
                if col + n > self.limits.max_columns:
                    raise refuse("columns", col + n, self.limits.max_columns)
                width = col + n
            else:
                n = min(n, self.limits.max_columns - col)  # formatting of empty space: kept as far as the limit
            if text or fill or row_span > 1 or col_span > 1:
                runs.append((col, n, Cell(text=text, fill=fill, colour=colour, bold=bold)))
                if (row_span > 1 or col_span > 1) and text:
                    span = max(row_span, col_span)
                    if span > self.limits.max_span:
                        raise refuse("span", span, self.limits.max_span)
                    for k in range(min(repeat, self.limits.max_rows)):
                        for j in range(n):
                            self.merges.append((r + k, col + j, row_span, col_span))
                            if len(self.merges) > self.limits.max_merges:
                                raise refuse("merges", len(self.merges), self.limits.max_merges)
            col += n
        if not runs or r >= self.limits.max_rows:
            if width:
                raise refuse("rows", r + repeat, self.limits.max_rows)
            return  # formatting of empty space past any real row
        if width:
            check_grid(r + repeat, max(width, self.width), self.limits)
            self.height = r + repeat
            self.width = max(self.width, width)
        self.runs.append((r, repeat, runs))

    def table(self, title: str, label: str) -> Table:
        height, width = self.height, self.width
        merges = [m for m in self.merges if m[0] < height and m[1] < width]
        for r, c, rows, cols in merges:
            height, width = max(height, r + rows), max(width, c + cols)
        check_grid(height, width, self.limits)
        grid = [[Cell() for _ in range(width)] for _ in range(height)]
        for first, repeat, runs in self.runs:
            for r in range(first, min(first + repeat, height)):
                for c0, n, cell in runs:
                    for c in range(c0, min(c0 + n, width)):
                        grid[r][c] = Cell(cell.text, cell.fill, cell.colour, bold=cell.bold)
        for r, c, rows, cols in merges:
            merge(grid, r, c, rows, cols)
        return Table(rows=sheet_rows(grid), title=title, source=label)


def _rows(table: Any) -> Any:
    """The sheet's rows in order, through header rows and row groups."""
    for child in table:
        if child.tag == TABLE + "table-row":
            yield child
        elif child.tag in (TABLE + "table-header-rows", TABLE + "table-rows", TABLE + "table-row-group"):
            yield from _rows(child)


def _columns(table: Any, limits: IngestLimits) -> list[tuple[int, str | None]]:
    out: list[tuple[int, str | None]] = []
    col = 0
    for node in table.iter(TABLE + "table-column"):
        if col > limits.max_columns:
            break
        out.append((col, node.get(TABLE + "default-cell-style-name")))
        col += _count(node, TABLE + "number-columns-repeated")
    return out


def read_ods(data: bytes, limits: IngestLimits) -> Document:
    archive = check_zip(data, limits)
    names = set(archive.namelist())
    if "content.xml" not in names:
        raise IngestError(_("it has no content (content.xml is missing)"))
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    styles: dict[str, _Style] = {}
    try:
        if "styles.xml" in names:
            _styles(etree.fromstring(read_member(archive, "styles.xml", limits), parser), styles)
        root = etree.fromstring(read_member(archive, "content.xml", limits), parser)
    except etree.XMLSyntaxError as exc:
        raise damaged(exc) from None
    _styles(root, styles)
    doc = Document(format="ods")
    sheets = list(root.iter(TABLE + "table"))
    if len(sheets) > limits.max_tables:
        raise refuse("tables", len(sheets), limits.max_tables)
    for number, node in enumerate(sheets, start=1):
        if node.getparent() is not None and node.getparent().tag != OFFICE + "spreadsheet":
            continue  # a table inside a shape or a cell: not a sheet
        name = node.get(TABLE + "name") or str(number)
        label = _("sheet {name}").format(name=repr(name))
        style = styles.get(node.get(TABLE + "style-name") or "")
        if style is not None and style.hidden:
            doc.not_read.append(NotRead(label, _("hidden sheet, not read")))
            continue
        sheet = _Sheet(limits, styles, _columns(node, limits))
        r = 0
        for tr in _rows(node):
            repeat = _count(tr, TABLE + "number-rows-repeated")
            sheet.row(tr, r, repeat)
            r += repeat
        doc.tables.append(sheet.table(name, label))
    return doc
