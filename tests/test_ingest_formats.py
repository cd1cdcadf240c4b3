"""The formats councils send besides .xlsx and .docx: legacy Excel (.xls), OpenDocument (.ods), an intranet
page's HTML table and a PDF with a text layer. The same plan read from each must give the same actions,
ratings and comments as from .xlsx; every cell keeps its fill, font colour and merge; what cannot be read is
refused in one line that names the format; hostile files are refused within bounds."""

from __future__ import annotations

import dataclasses
import io
import tracemalloc
import zipfile

import pytest

from core.ingest import IngestError, IngestLimits, IngestTooLarge, read_document
from core.ingest.model import Cell, Document
from plans.importer import parse_plan
from plans.parsed import ParsedPlan, PlanImportError, PlanTooLarge
from tests.plan_corpus.formats import write_as
from tests.plan_corpus.generator import Spec, write

# --- the same plan in every format ---------------------------------------------------------------------

SPECS = [
    Spec("fmt-fills-key-half-terms", "xlsx", legend=True, ratings="fill", terms="half", refs="alnum", year=2023),
    Spec("fmt-words-continuations", "xlsx", ratings="words", continuation=True, year=2019, owner_sep="\n"),
    Spec("fmt-letters-aim-column", "xlsx", sections="column", refs="letter", year=2016, seed=4),
    Spec("fmt-unnamed-no-refs", "xlsx", terms="unnamed", refs="none", ratings="words", year=2018),
    Spec("fmt-emoji", "xlsx", ratings="emoji", year=2021, seed=2),
    Spec("fmt-long-words", "xlsx", n_sections=4, per_section=14, ratings="words", year=2024, seed=5),
    Spec("fmt-long-fills", "xlsx", n_sections=3, per_section=12, ratings="fill", year=2020, seed=6),
]
VARIANTS = [
    ("xls", ""),
    ("ods", ""),
    ("ods", "trailing"),  # LibreOffice's million empty rows and columns after the data
    ("html", "bgcolor"),  # Windows-1252 with a <meta> charset, colours as bgcolor attributes
    ("html", "style"),  # UTF-8, colours as inline styles
    ("html", "class"),  # UTF-16 with a BOM, colours from the page's stylesheet
    ("html", "fragment"),  # a bare table, no page around it
    ("pdf", ""),
]


def _summary(plan: ParsedPlan) -> list[tuple]:
    return [
        (
            a.ref,
            a.text,
            tuple(a.owners),
            tuple(sorted((u.academic_year, u.term, u.half_term, u.rag or "", u.comment) for u in a.history)),
        )
        for a in plan.actions
    ]


_XLSX: dict[str, list[tuple]] = {}


def _from_xlsx(spec: Spec) -> list[tuple]:
    if spec.name not in _XLSX:
        data, name = write(spec)
        _XLSX[spec.name] = _summary(parse_plan(data, name))
    return _XLSX[spec.name]


# Every plan in every format, but emoji ratings in a PDF: the PDF writer's built-in fonts have no emoji glyphs,
# so such a file cannot be made here (the combination is left out, not skipped).
SAME_PLAN_CASES = [
    pytest.param(spec, fmt, variant, id=f"{spec.name}-{fmt}-{variant}" if variant else f"{spec.name}-{fmt}")
    for spec in SPECS
    for fmt, variant in VARIANTS
    if not (fmt == "pdf" and spec.ratings in ("emoji", "mixed"))
]


@pytest.mark.parametrize("spec,fmt,variant", SAME_PLAN_CASES)
def test_the_same_plan_reads_the_same_from_every_format(spec: Spec, fmt: str, variant: str) -> None:
    data, name = write_as(spec, fmt, variant)
    plan = parse_plan(data, name)
    assert _summary(plan) == _from_xlsx(spec)
    expected = spec.expected()
    assert [a.ref for a in plan.actions] == expected["refs"]
    assert [s.title for s in plan.sections if s.actions] == expected["sections"]
    for action in plan.actions:
        assert action.owners == expected["owners"][action.ref], action.ref
        assert action.text == expected["texts"][action.ref], action.ref
        got = sorted((u.academic_year, u.term, u.half_term, u.rag) for u in action.history if u.rag)
        assert got == expected["ratings"][action.ref], action.ref
        assert any(u.comment == "Progress noted" for u in action.history), action.ref
    if spec.ratings == "fill":
        assert plan.counts.ratings_from_colour == plan.counts.ratings > 0


def test_a_pdf_table_over_several_pages_is_one_table_without_its_repeated_header() -> None:
    spec = SPECS[5]
    data, name = write_as(spec, "pdf")
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) >= 3
    doc = read_document(data, name)
    plan_tables = [t for t in doc.tables if t.width == len(spec.columns())]
    assert len(plan_tables) == 1
    headers = [r for r in plan_tables[0].rows if r.cells and r.cells[1].text == "Key actions"]
    assert len(headers) == 1
    assert doc.format == "pdf" and doc.preamble[0] == spec.title()


def test_formats_are_named_in_the_document_and_workbooks_list_their_other_sheets() -> None:
    spec = SPECS[0]
    for fmt, expect in (("xls", "xls"), ("ods", "ods"), ("html", "html"), ("pdf", "pdf")):
        data, name = write_as(spec, fmt, "style" if fmt == "html" else "")
        doc = read_document(data, name)
        assert doc.format == expect
        assert doc.workbook == (fmt in ("xls", "ods")) and doc.numbered_tables == (fmt in ("html", "pdf"))
        if doc.workbook:
            assert [t.title for t in doc.tables] == ["Plan", "Budget"]
            plan = parse_plan(data, name)
            assert any("Budget" in n.where for n in plan.not_read)


# --- cells: text, fill, font colour, bold, merges, the same in every format ------------------------------

GRID = [
    ["Ref", "Action", "Lead", "Aut", "Spr"],
    ["1.1", "Phonics training", "K Walsh", "R", "G"],
    ["1.2", "Reading leads", "T Adeyemi", "A", "late"],
    ["", "and a second line", "", "", ""],
    ["Section two, across the row", "", "", "", ""],
]
FILLS = {(1, 3): "FF0000", (1, 4): "00B050", (2, 3): "FFC000"}
COLOURS = {(2, 4): "C00000"}
ACROSS = (4, 0, 5)  # row 4 from column 0, five columns wide
DOWN = (2, 2, 2)  # row 2 column 2, two rows high


def _grid_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    for r, row in enumerate(GRID, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(r, c, value or None)
            if r == 1:
                cell.font = Font(bold=True)
            if (r - 1, c - 1) in FILLS:
                cell.fill = PatternFill("solid", start_color="FF" + FILLS[(r - 1, c - 1)])
            if (r - 1, c - 1) in COLOURS:
                cell.font = Font(color="FF" + COLOURS[(r - 1, c - 1)])
    sheet.merge_cells(start_row=5, start_column=1, end_row=5, end_column=5)
    sheet.merge_cells(start_row=3, start_column=3, end_row=4, end_column=3)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _grid_xls() -> bytes:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet")
    palette: dict[str, int] = {}

    def colour_index(rgb: str) -> int:
        if rgb not in palette:
            palette[rgb] = 8 + len(palette)
            book.set_colour_RGB(palette[rgb], int(rgb[:2], 16), int(rgb[2:4], 16), int(rgb[4:], 16))
        return palette[rgb]

    for r, row in enumerate(GRID):
        for c, value in enumerate(row):
            if (r, c) == (ACROSS[0], ACROSS[1]):
                sheet.write_merge(r, r, 0, 4, value)
                continue
            if (r, c) == (DOWN[0], DOWN[1]):
                sheet.write_merge(r, r + 1, c, c, value)
                continue
            if (r, c) in ((3, 2),) or (r == ACROSS[0] and c > 0):
                continue
            style = xlwt.XFStyle()
            style.font.bold = r == 0
            if (r, c) in FILLS:
                style.pattern.pattern = xlwt.Pattern.SOLID_PATTERN
                style.pattern.pattern_fore_colour = colour_index(FILLS[(r, c)])
            if (r, c) in COLOURS:
                style.font.colour_index = colour_index(COLOURS[(r, c)])
            if value or (r, c) in FILLS:
                sheet.write(r, c, value, style)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _grid_ods() -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableCellProperties, TextProperties
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()

    def style(name: str, fill: str | None = None, colour: str | None = None, bold: bool = False) -> Style:
        s = Style(name=name, family="table-cell")
        if fill:
            s.addElement(TableCellProperties(backgroundcolor="#" + fill))
        if colour or bold:
            s.addElement(TextProperties(color="#" + colour if colour else None, fontweight="bold" if bold else None))
        doc.automaticstyles.addElement(s)
        return s

    bold = style("bold", bold=True)
    table = Table(name="Sheet")
    for r, row in enumerate(GRID):
        tr = TableRow()
        for c, value in enumerate(row):
            if (r, c) == (3, 2) or (r == ACROSS[0] and c > 0):
                tr.addElement(CoveredTableCell())
                continue
            attrs: dict = {}
            if r == 0:
                attrs["stylename"] = bold
            elif (r, c) in FILLS or (r, c) in COLOURS:
                attrs["stylename"] = style(f"s{r}{c}", FILLS.get((r, c)), COLOURS.get((r, c)))
            if (r, c) == (ACROSS[0], ACROSS[1]):
                attrs["numbercolumnsspanned"] = 5
            if (r, c) == (DOWN[0], DOWN[1]):
                attrs["numberrowsspanned"] = 2
            cell = TableCell(**attrs)
            if value:
                cell.addElement(P(text=value))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def _grid_html() -> bytes:
    rows = []
    for r, row in enumerate(GRID):
        tds = []
        for c, value in enumerate(row):
            if (r, c) == (3, 2) or (r == ACROSS[0] and c > 0):
                continue
            tag = "th" if r == 0 else "td"
            attrs = ""
            if (r, c) in FILLS:
                attrs += f' bgcolor="#{FILLS[(r, c)]}"'
            if (r, c) == (ACROSS[0], ACROSS[1]):
                attrs += ' colspan="5"'
            if (r, c) == (DOWN[0], DOWN[1]):
                attrs += ' rowspan="2"'
            inner = f'<font color="#{COLOURS[(r, c)]}">{value}</font>' if (r, c) in COLOURS else value
            tds.append(f"<{tag}{attrs}>{inner}</{tag}>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return ("<html><body><table>" + "".join(rows) + "</table></body></html>").encode()


def _grid_pdf() -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, TableStyle
    from reportlab.platypus import Table as RLTable

    body = getSampleStyleSheet()["BodyText"]
    data = []
    for r, row in enumerate(GRID):
        cells = []
        for c, value in enumerate(row):
            if r == 0:
                cells.append(Paragraph(f"<b>{value}</b>", body))
            elif (r, c) in COLOURS:
                cells.append(Paragraph(f'<font color="#{COLOURS[(r, c)]}">{value}</font>', body))
            else:
                cells.append(value)
        data.append(cells)
    commands = [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("SPAN", (0, 4), (4, 4)), ("SPAN", (2, 2), (2, 3))]
    commands += [("BACKGROUND", (c, r), (c, r), colors.HexColor("#" + rgb)) for (r, c), rgb in FILLS.items()]
    table = RLTable(data, colWidths=[40, 150, 80, 40, 40])
    table.setStyle(TableStyle(commands))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4).build([table])
    return out.getvalue()


GRID_WRITERS = {"xlsx": _grid_xlsx, "xls": _grid_xls, "ods": _grid_ods, "html": _grid_html, "pdf": _grid_pdf}


def _cells(doc: Document) -> list[list[Cell]]:
    table = next(t for t in doc.tables if t.rows)
    return [r.cells for r in table.rows]


@pytest.mark.parametrize("fmt", list(GRID_WRITERS))
def test_every_cell_keeps_its_text_fill_font_colour_and_merge(fmt: str) -> None:
    doc = read_document(GRID_WRITERS[fmt](), f"grid.{fmt}")
    rows = _cells(doc)
    assert [[c.text for c in row][:5] for row in rows] == [[v if v != "" else "" for v in row] for row in GRID]
    for r, row in enumerate(rows):
        for c, cell in enumerate(row[:5]):
            if cell.covered:
                continue
            assert cell.fill == FILLS.get((r, c)), (r, c, cell)
            assert cell.colour == COLOURS.get((r, c)), (r, c, cell)
    assert all(cell.bold for cell in rows[0][:5])
    assert not any(cell.bold for cell in rows[1][:5])
    r, c, width = ACROSS
    assert rows[r][c].col_span == width and all(rows[r][k].covered_by == (r, c) for k in range(1, width))
    r, c, height = DOWN
    assert rows[r][c].row_span == height and rows[r + 1][c].covered_by == (r, c)


# --- HTML: what a page holds besides its table ---------------------------------------------------------


def test_html_rowspan_colspan_nested_tables_classes_and_named_colours() -> None:
    page = b"""<!doctype html><html><head><title>Plan 2025-26</title>
    <style>/* RAG */ td.rag-red, .stop { background-color: red }
    .ok{background:#00b050 url(x.png)} .hot{color:#c00000}</style>
    <link rel="stylesheet" href="http://127.0.0.1:9/never.css"><script src="http://127.0.0.1:9/x.js"></script>
    </head><body><h1>Priority plan</h1><p>Agreed by the board</p>
    <table><caption>Priority 1</caption>
    <tr><th>Ref</th><th colspan=2>Action</th><th>Aut</th></tr>
    <tr><td rowspan="0">1.1</td><td>Read</td><td>more</td><td class="rag-red">R</td></tr>
    <tr><td>Write</td><td><table><tr><td>inner</td></tr></table>less</td>
        <td class="ok"><span class="hot">G</span></td></tr>
    <tr><td style="background: rgb(255, 192, 0)">Count</td><td style="BACKGROUND-COLOR:Yellow">x</td>
        <td class="stop">A</td></tr>
    </table><p>Footnote</p></body></html>"""
    doc = read_document(page, "plan.html")
    outer, inner = doc.tables
    assert doc.preamble == ["Plan 2025-26", "Priority plan", "Agreed by the board"]
    assert outer.title == "Priority 1" and inner.nested_in == 0 and inner.rows[0].texts == ["inner"]
    rows = [r.cells for r in outer.rows]
    assert [c.text for c in rows[0]] == ["Ref", "Action", "", "Aut"] and rows[0][2].covered_by == (0, 1)
    assert rows[1][0].row_span == 3 and rows[3][0].covered_by == (1, 0)  # rowspan=0: to the table's end
    assert [c.text for c in rows[2]] == ["", "Write", "less", "G"]
    assert rows[1][3].fill == "FF0000" and rows[2][3].fill == "00B050" and rows[2][3].colour == "C00000"
    assert rows[3][1].fill == "FFC000" and rows[3][2].fill == "FFFF00" and rows[3][3].fill == "FF0000"


def test_html_entities_scripts_and_comments_are_not_run_or_expanded() -> None:
    page = (
        b'<?xml version="1.0" encoding="utf-8"?><!DOCTYPE html [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><html><body><!-- <table><tr><td>hidden</td></tr></table> -->'
        b"<script>var t = '<table><tr><td>x</td></tr></table>';</script>"
        b"<table><tr><td>&b;</td><td>caf\xc3\xa9 &amp; &lt;b&gt;</td></tr></table></body></html>"
    )
    doc = read_document(page, "page.htm")
    assert len(doc.tables) == 1
    first, second = doc.tables[0].rows[0].texts
    assert "aaaaaaaaaa" * 10 not in first and second == "café & <b>"


@pytest.mark.parametrize(
    "data,expect",
    [
        ("<meta charset='windows-1252'><table><tr><td>£ – café</td></tr></table>".encode("cp1252"), "£ – café"),
        ("<table><tr><td>£ – café</td></tr></table>".encode("cp1252"), "£ – café"),  # no charset: 1252
        ("<table><tr><td>£ – café</td></tr></table>".encode("utf-16"), "£ – café"),
        (b"\xef\xbb\xbf<TABLE><TR><TD>\xc2\xa3 ok</TD></TR></TABLE>", "£ ok"),
    ],
)
def test_html_encodings(data: bytes, expect: str) -> None:
    assert read_document(data, "x.html").tables[0].rows[0].texts == [expect]


# --- refusals that name the format ---------------------------------------------------------------------


def _odt() -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    doc = OpenDocumentText()
    doc.text.addElement(P(text="Minutes"))
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def _scanned_pdf() -> bytes:
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawImage(ImageReader(Image.new("RGB", (60, 40), "white")), 50, 500, 300, 200)
    page.rect(40, 40, 200, 100, fill=1)
    page.showPage()
    page.save()
    return out.getvalue()


def _encrypted_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, encrypt="secret")
    page.drawString(100, 700, "Ref Action Lead")
    page.showPage()
    page.save()
    return out.getvalue()


REFUSALS = [
    (_odt, "minutes.odt", r"OpenDocument text \(\.odt\)"),
    (_odt, "renamed.ods", r"OpenDocument text \(\.odt\)"),
    (_scanned_pdf, "scan.pdf", r"^This PDF has no text: send the Word or Excel file it came from\.$"),
    (_encrypted_pdf, "locked.pdf", "PDF is protected with a password"),
    (lambda: b"{\\rtf1\\ansi plan}", "plan.doc", r"Rich Text \(\.rtf\)"),
    (lambda: b"<html><body><p>No table here</p></body></html>", "page.html", "no table in this HTML page"),
    (lambda: write_as(SPECS[0], "xls")[0][:3000], "cut.xls", r"Excel 97-2003 workbook \(\.xls\): it is damaged"),
    (lambda: write_as(SPECS[0], "ods")[0][:1500], "cut.ods", r"OpenDocument spreadsheet \(\.ods\)"),
    (lambda: write_as(SPECS[3], "pdf")[0][:1200], "cut.pdf", "PDF"),
    (lambda: b"\x00\x01garbage" * 50, "plan.ods", r"named plan\.ods but is not a readable OpenDocument spreadsheet"),
]


@pytest.mark.parametrize("make,name,says", REFUSALS, ids=[r[1] for r in REFUSALS])
def test_unreadable_files_are_refused_in_one_line_naming_the_format(make, name: str, says: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PlanImportError, match=says) as refused:
        parse_plan(make(), name)
    message = str(refused.value)
    assert "\n" not in message and "Excel workbook (.xlsx)" not in message and "Traceback" not in message
    assert len(message) < 300


@pytest.mark.parametrize(
    "fmt,wrong_name",
    [("xls", "plan.xlsx"), ("ods", "plan.xls"), ("html", "plan.xls"), ("pdf", "plan.docx"), ("ods", "plan")],
)
def test_the_format_is_found_from_the_bytes_not_the_name(fmt: str, wrong_name: str) -> None:
    spec = SPECS[1]
    data, _name = write_as(spec, fmt, "style")
    assert _summary(parse_plan(data, wrong_name)) == _from_xlsx(spec)


def test_an_xlsx_named_ods_and_a_tab_separated_export_named_xls_are_read() -> None:
    spec = SPECS[2]
    data, _name = write(spec)
    assert _summary(parse_plan(data, "plan.ods")) == _from_xlsx(spec)
    tsv = dataclasses.replace(spec, fmt="tsv", plan=[])
    data, _name = write(tsv)
    assert _summary(parse_plan(data, "export.xls")) == _summary(parse_plan(data, "export.txt"))
    assert parse_plan(data, "export.xls").counts.actions == 9


# --- hostile files: refused within bounds ----------------------------------------------------------------


def _ods_with(content_rows: str, extra: dict[str, bytes] | None = None) -> bytes:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
        f'<table:table table:name="Plan">{content_rows}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


ROW = "<table:table-row{rows}><table:table-cell{cols}><text:p>{text}</text:p></table:table-cell></table:table-row>"


def _many_pages_pdf(pages: int, width: float = 595, height: float = 842, chars: int = 20) -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(width, height))
    for n in range(pages):
        text = page.beginText(20, height - 30)
        text.setFont("Helvetica", 4)
        line = "x" * 200
        for _k in range(max(1, chars // 200)):
            text.textLine(line[: min(200, chars)])
        page.drawText(text)
        page.drawString(20, 20, f"page {n}")
        page.showPage()
    page.save()
    return out.getvalue()


def _ods_row(rows: str = "", cols: str = "", text: str = "x") -> bytes:
    return _ods_with(ROW.format(rows=rows, cols=cols, text=text))


def _html_deep(depth: int) -> bytes:
    return b"<table><tr><td>" + b"<div>" * depth + b"deep" + b"</div>" * depth + b"</td></tr></table>"


def _xls_with(rows: int = 1, merge_rows: int = 0) -> bytes:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Plan")
    for r in range(rows):
        sheet.write(r, 0, "1.1")
    if merge_rows:
        sheet.write_merge(1, merge_rows, 1, 1, "owner")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HOSTILE = [
    ("xls-rows", lambda: _xls_with(rows=60_000), "p.xls", ("rows",)),
    ("xls-span", lambda: _xls_with(merge_rows=2_000), "p.xls", ("span",)),
    (  # a zip bomb: a member of 300 MB that packs to a few hundred KB
        "ods-zip-bomb",
        lambda: _ods_with("", {"Pictures/fill.xml": b"<a>" + b" " * 300_000_000 + b"</a>"}),
        "plan.ods",
        ("uncompressed", "ratio"),
    ),
    ("ods-rows", lambda: _ods_row(rows=' table:number-rows-repeated="900000000"'), "p.ods", ("rows",)),
    ("ods-columns", lambda: _ods_row(cols=' table:number-columns-repeated="1000000"'), "p.ods", ("columns",)),
    ("ods-span", lambda: _ods_row(cols=' table:number-rows-spanned="100000000"'), "p.ods", ("span",)),
    ("html-colspan", lambda: b"<table><tr><td colspan=100000>x</td></tr></table>", "p.html", ("span",)),
    ("html-columns", lambda: b"<table><tr>" + b"<td colspan=400>x</td>" * 3 + b"</tr></table>", "p.html", ("columns",)),
    ("html-rows", lambda: b"<table>" + b"<tr><td>1</td></tr>" * 60_000 + b"</table>", "p.html", ("rows",)),
    ("html-tables", lambda: b"<p>x</p>" + b"<table><tr><td>1</td></tr></table>" * 600, "p.html", ("tables",)),
    ("html-deep", lambda: _html_deep(5000), "p.html", ("depth",)),
    ("html-nested", lambda: b"<table><tr><td>" * 30 + b"x" + b"</td></tr></table>" * 30, "p.html", ("nesting",)),
    ("pdf-pages", lambda: _many_pages_pdf(150), "p.pdf", ("pages",)),
    ("pdf-huge-page", lambda: _many_pages_pdf(1, width=14_400, height=14_400), "p.pdf", ("page_area",)),
    ("pdf-dense-page", lambda: _many_pages_pdf(1, chars=31_000, height=1500), "p.pdf", ("page_chars",)),
]


@pytest.mark.parametrize("case,make,name,limits", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_refused_within_bounds(case: str, make, name: str, limits: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    data = make()
    measure = case != "pdf-dense-page"  # laying out 30,000 characters under tracemalloc takes half a minute
    if measure:
        tracemalloc.start()
    try:
        with pytest.raises(IngestTooLarge) as refused:
            read_document(data, name)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.limit in limits, (case, str(refused.value))
    assert peak < 300 * 1024 * 1024, case
    with pytest.raises(PlanTooLarge, match="I read"):
        parse_plan(data, name)


def test_an_ods_says_a_million_empty_rows_and_columns_after_its_data_and_is_read() -> None:
    data = _ods_with(
        ROW.format(rows="", cols="", text="Ref")
        + '<table:table-row table:number-rows-repeated="1048570"><table:table-cell '
        'table:number-columns-repeated="16384"/></table:table-row>'
    )
    tracemalloc.start()
    try:
        doc = read_document(data, "p.ods")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [r.texts for r in doc.tables[0].rows] == [["Ref"]]
    assert peak < 50 * 1024 * 1024


def test_smaller_limits_bound_every_new_reader() -> None:
    tight = IngestLimits(max_rows=10, max_cells=100, max_columns=20)
    for fmt in ("xls", "ods", "html", "pdf"):
        data, name = write_as(SPECS[5], fmt, "style" if fmt == "html" else "")
        with pytest.raises(IngestTooLarge) as refused:
            read_document(data, name, tight)
        assert refused.value.limit in ("rows", "cells"), fmt


def test_reading_runs_in_the_sandbox_with_its_time_and_memory_limits() -> None:
    from core.sandbox import Limits, SandboxError
    from plans.importing import read_plan_sync

    pdf = _many_pages_pdf(95, chars=20_000, height=1200)  # within the page limits, but slow to lay out
    with pytest.raises(SandboxError, match="longer than 1 second"):
        read_plan_sync(pdf, "slow.pdf", limits=Limits(seconds=1.0, memory_bytes=1024 * 1024 * 1024))
    xls, name = write_as(dataclasses.replace(SPECS[5], plan=[]), "xls")
    assert read_plan_sync(xls, name).counts.actions == 56


def test_a_damaged_file_never_shows_the_library_s_words() -> None:
    data = write_as(SPECS[0], "xls")[0]
    broken = data[:512] + bytes(len(data) - 512)
    with pytest.raises(IngestError) as refused:
        read_document(broken, "plan.xls")
    assert "BOF" not in str(refused.value) and "record" not in str(refused.value)


def test_a_pdf_table_without_rules_is_read_from_the_positions_of_its_words() -> None:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate
    from reportlab.platypus import Table as RLTable

    from tests.plan_corpus.formats import _grid

    spec = Spec("unruled", "xlsx", ratings="letters", year=2021, n_sections=2, per_section=20, seed=9)
    rows = [cells for kind, cells, _f in _grid(spec) if kind in ("header", "action", "section")]
    out = io.BytesIO()
    heading = Paragraph(spec.title(), getSampleStyleSheet()["Heading1"])
    SimpleDocTemplate(out, pagesize=landscape(A4)).build([heading, RLTable(rows, repeatRows=1)])
    doc = read_document(out.getvalue(), "unruled.pdf")
    assert doc.format == "pdf-text" and len(doc.tables) == 1  # both pages, one table
    plan = parse_plan(out.getvalue(), "unruled.pdf")
    expected = spec.expected()
    assert [a.ref for a in plan.actions] == expected["refs"]
    assert [a.text for a in plan.actions] == [expected["texts"][r] for r in expected["refs"]]
    rated = sum(len(v) for v in expected["ratings"].values())
    assert plan.counts.ratings >= 0.9 * rated  # an owner too long for its column runs into the next


# --- files an office suite wrote ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,original",
    [
        ("trust-school-improvement-plan-2023-24.xls", "trust-school-improvement-plan-2023-24.xlsx"),
        ("trust-school-improvement-plan-2023-24.ods", "trust-school-improvement-plan-2023-24.xlsx"),
        ("trust-school-improvement-plan-2023-24.html", "trust-school-improvement-plan-2023-24.xlsx"),
        ("cluster-plan-2022-23.html", "cluster-plan-2022-23.docx"),
        ("cluster-plan-2022-23.pdf", "cluster-plan-2022-23.docx"),
    ],
)
def test_plans_saved_by_libreoffice_read_as_their_originals(name: str, original: str) -> None:
    from tests.shared import EXAMPLE_PLANS, TEST_DATA

    got = _summary(parse_plan((TEST_DATA / "formats" / name).read_bytes(), name))
    want = _summary(parse_plan((EXAMPLE_PLANS / original).read_bytes(), original))
    if name.endswith(".pdf"):
        # A column narrower than a word breaks it without a hyphen ("attendan" / "ce"): compare without spaces.
        def squeeze(rows: list[tuple]) -> list[tuple]:
            def bare(text: str) -> str:
                return text.replace(" ", "")

            return [(r, bare(t), tuple(map(bare, o)), tuple((*u[:4], bare(u[4])) for u in h)) for r, t, o, h in rows]

        got, want = squeeze(got), squeeze(want)
    assert got == want


def test_libreoffice_colours_survive_in_xls_ods_and_html() -> None:
    from tests.shared import EXAMPLE_PLANS, TEST_DATA

    original = read_document((EXAMPLE_PLANS / "trust-school-improvement-plan-2023-24.xlsx").read_bytes(), "t.xlsx")
    fills = {(r.line, c) for r in original.tables[0].rows for c, cell in enumerate(r.cells) if cell.fill}
    assert fills
    for ext in ("xls", "ods", "html"):
        name = f"trust-school-improvement-plan-2023-24.{ext}"
        doc = read_document((TEST_DATA / "formats" / name).read_bytes(), name)
        table = doc.tables[0]
        colours = {
            (r.line, c): cell.fill for r in table.rows for c, cell in enumerate(r.cells) if cell.fill and cell.text
        }
        want = {
            (r.line, c): cell.fill
            for r in original.tables[0].rows
            for c, cell in enumerate(r.cells)
            if cell.fill and cell.text
        }
        assert colours == want, ext


def test_a_text_plan_that_begins_with_pk_is_not_taken_for_a_zip() -> None:
    text = b"PKS Primary\tAction\tLead\n1.1\tRead more\tK Walsh\n1.2\tWrite more\tT Adeyemi\n"
    assert [a.ref for a in parse_plan(text, "plan.txt").actions] == ["1.1", "1.2"]
