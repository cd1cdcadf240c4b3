"""Word documents (.docx) into tables, read from the XML directly so that nothing is expanded unchecked:
merged cells both ways (gridSpan across, vMerge down), shading, the headings and paragraphs before each
table, and tables nested in cells (each its own table, marked with the table it sits in).
"""

from __future__ import annotations

from typing import Any

from core.i18n import _
from core.ingest.limits import check_grid, check_zip, read_member, refuse
from core.ingest.model import Cell, Document, IngestError, IngestLimits, Row, Table
from core.ingest.text import clean_cell, clean_title

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _attr(element: Any, path: str, name: str = "val") -> str | None:
    found = element.find(path)
    if found is None:
        return None
    return found.get(W + name)


def _paragraph_text(p: Any) -> str:
    parts: list[str] = []
    for node in p.iter():
        if node.tag == W + "t" and node.text:
            parts.append(node.text)
        elif node.tag == W + "tab":
            parts.append("\t")
        elif node.tag in (W + "br", W + "cr"):
            parts.append("\n")
    return "".join(parts)


def _direct_paragraphs(tc: Any) -> list[Any]:
    """The cell's own paragraphs (not those of tables nested in it)."""
    return [child for child in tc if child.tag == W + "p"]


def _fill(tc: Any) -> str | None:
    value = _attr(tc, f"{W}tcPr/{W}shd", "fill")
    if value and value.lower() != "auto" and len(value) == 6:
        return value.upper()
    return None


class _Reader:
    def __init__(self, limits: IngestLimits):
        self.limits = limits
        self.doc = Document(format="docx")

    def table(self, tbl: Any, headings: list[str], depth: int, parent: int | None) -> None:
        if depth > self.limits.max_nesting:
            raise refuse("nesting", depth, self.limits.max_nesting)
        if len(self.doc.tables) + 1 > self.limits.max_tables:
            raise refuse("tables", len(self.doc.tables) + 1, self.limits.max_tables)
        index = len(self.doc.tables)
        number = index + 1
        table = Table(
            title=headings[-1] if headings else "",
            headings=list(headings),
            source=_("table {n}").format(n=number),
            nested_in=parent,
        )
        self.doc.tables.append(table)
        trs = tbl.findall(W + "tr")
        grid: list[list[Cell]] = []
        open_merges: dict[int, tuple[int, int]] = {}  # column → (row, column) of the vMerge anchor
        nested: list[Any] = []
        for r, tr in enumerate(trs):
            row: list[Cell] = []
            col = 0
            skip = _attr(tr, f"{W}trPr/{W}gridBefore")
            if skip and skip.isdigit():
                count = int(skip)
                if count > self.limits.max_span:
                    raise refuse("span", count, self.limits.max_span)
                row.extend(Cell() for _ in range(count))
                col += count
            for tc in tr.findall(W + "tc"):
                span_text = _attr(tc, f"{W}tcPr/{W}gridSpan") or "1"
                try:
                    span = max(1, int(span_text))
                except ValueError:
                    span = 1
                if span > self.limits.max_span:
                    raise refuse("span", span, self.limits.max_span)
                if col + span > self.limits.max_columns:
                    raise refuse("columns", col + span, self.limits.max_columns)
                text = clean_cell("\n".join(_paragraph_text(p) for p in _direct_paragraphs(tc)))
                vmerge_el = tc.find(f"{W}tcPr/{W}vMerge")
                vmerge = None if vmerge_el is None else (vmerge_el.get(W + "val") or "continue")
                fill = _fill(tc)
                if vmerge == "continue" and col in open_merges:
                    anchor_r, anchor_c = open_merges[col]
                    grid[anchor_r][anchor_c].row_span += 1
                    cell = Cell(fill=fill, covered_by=(anchor_r, anchor_c))
                else:
                    cell = Cell(text=text, fill=fill, col_span=span)
                    if vmerge == "restart":
                        open_merges[col] = (r, col)
                    else:
                        open_merges.pop(col, None)
                row.append(cell)
                for _k in range(1, span):
                    row.append(Cell(fill=fill, covered_by=(r, col)))
                for inner in tc.findall(W + "tbl"):
                    nested.append((inner, text))
                col += span
            grid.append(row)
            check_grid(len(grid), max((len(x) for x in grid), default=0), self.limits)
        width = max((len(x) for x in grid), default=0)
        for r, row in enumerate(grid):
            row.extend(Cell() for _ in range(width - len(row)))
            table.rows.append(
                Row(line=r + 1, cells=row if any(c.text for c in row) or any(c.fill for c in row) else [])
            )
        for inner, text in nested:
            self.table(inner, headings + ([clean_title(text)] if text else []), depth + 1, index)


def read_docx(data: bytes, limits: IngestLimits) -> Document:
    archive = check_zip(data, limits)
    if "word/document.xml" not in archive.namelist():
        raise IngestError(_("This file is a zip package but not a Word document; please send .docx, .xlsx or .csv."))
    xml = read_member(archive, "word/document.xml", limits)
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise IngestError(_("This is not a readable Word document ({error}).").format(error=exc)) from None
    body = root.find(W + "body")
    reader = _Reader(limits)
    paragraphs: list[str] = []
    if body is None:
        return reader.doc
    for block in body.iter(W + "p", W + "tbl"):
        parent = block.getparent()
        if parent is not body and parent.tag != W + "sdtContent":
            continue  # inside a table (read with it) or a text box
        if block.tag == W + "p":
            text = clean_title(_paragraph_text(block))
            if text:
                paragraphs.append(text)
            continue
        if not reader.doc.tables:
            reader.doc.preamble = list(paragraphs)
        reader.table(block, paragraphs, 0, None)
        paragraphs = []
    if not reader.doc.tables:
        reader.doc.preamble = paragraphs
    else:  # text after the last table (a key, a sign-off): listed, never silently dropped
        from core.ingest.model import NotRead

        for n, text in enumerate(paragraphs, start=1):
            reader.doc.not_read.append(
                NotRead(
                    _("paragraph {n} after the last table").format(n=n),
                    _("text after the last table"),
                    None,
                    text[:200],
                )
            )
    return reader.doc
