"""The generator's plans written in the formats councils also send: legacy Excel (.xls, with xlwt),
OpenDocument (.ods, with odfpy), an intranet page's HTML table, and a PDF with a text layer (reportlab).

`write_as(spec, fmt)` lays out the same rows as `generator._xlsx` (title and key rows above, the header,
section rows merged across, ratings as text or as the cell's fill), so the same plan read from every format
must give the same actions, ratings and comments. Each writer has its own variations (`variant`): HTML in
several encodings, with colours as `bgcolor`, inline style or a class; a PDF whose table runs over pages.
"""

from __future__ import annotations

import html
import io

from tests.plan_corpus.generator import Spec

FORMATS = ("xls", "ods", "html", "pdf")


def _grid(spec: Spec) -> list[tuple[str, list[str], dict[int, str]]]:
    """(kind, cells, fills) of every row, top to bottom: 'above' rows, a blank, the header, the body."""
    width = len(spec.columns())
    out: list[tuple[str, list[str], dict[int, str]]] = []
    for cells, fills in spec.above():
        out.append(("title" if len(cells) == 1 else "key", cells + [""] * (width - len(cells)), fills))
    out.append(("blank", [""] * width, {}))
    out.append(("header", spec.columns(), {}))
    out.extend(spec.rows())
    return out


def _merged(kind: str) -> bool:
    return kind in ("title", "section")


# --- .xls ----------------------------------------------------------------------------------------------


def _xls(spec: Spec, variant: str = "") -> bytes:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Plan")
    styles: dict[str, object] = {}

    def style(rgb: str | None, bold: bool = False) -> object:
        key = f"{rgb}-{bold}"
        if key not in styles:
            s = xlwt.XFStyle()
            if rgb:
                index = 8 + len(styles) % 48  # xlwt writes a palette: give each colour its own slot
                book.set_colour_RGB(index, int(rgb[0:2], 16), int(rgb[2:4], 16), int(rgb[4:6], 16))
                pattern = xlwt.Pattern()
                pattern.pattern = xlwt.Pattern.SOLID_PATTERN
                pattern.pattern_fore_colour = index
                s.pattern = pattern
            s.font.bold = bold
            styles[key] = s
        return styles[key]

    width = len(spec.columns())
    for r, (kind, cells, fills) in enumerate(_grid(spec)):
        if kind == "blank":
            continue
        if _merged(kind):
            sheet.write_merge(r, r, 0, width - 1, cells[0], style(None, kind == "section"))
            continue
        for c, value in enumerate(cells):
            if value or c in fills:
                sheet.write(r, c, value, style(fills.get(c), kind == "header"))
    other = book.add_sheet("Budget")
    other.write(0, 0, "Line")
    other.write(0, 1, "Amount")
    other.write(1, 0, "Supply cover")
    other.write(1, 1, 3100)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- .ods ----------------------------------------------------------------------------------------------


def _ods(spec: Spec, variant: str = "") -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableCellProperties, TextProperties
    from odf.table import CoveredTableCell, Table, TableCell, TableColumn, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    styles: dict[str, Style] = {}

    def style(rgb: str | None, bold: bool) -> Style | None:
        if not rgb and not bold:
            return None
        key = f"c{rgb}{'b' if bold else ''}"
        if key not in styles:
            s = Style(name=key, family="table-cell")
            if rgb:
                s.addElement(TableCellProperties(backgroundcolor="#" + rgb.lower()))
            if bold:
                s.addElement(TextProperties(fontweight="bold"))
            doc.automaticstyles.addElement(s)
            styles[key] = s
        return styles[key]

    def cell(text: str, rgb: str | None = None, bold: bool = False, **attrs: object) -> TableCell:
        s = style(rgb, bold)
        tc = TableCell(valuetype="string", **({"stylename": s} if s is not None else {}), **attrs)
        for line in text.split("\n") if text else []:
            tc.addElement(P(text=line))
        return tc

    width = len(spec.columns())
    table = Table(name="Plan")
    table.addElement(TableColumn(numbercolumnsrepeated=width))
    for kind, cells, fills in _grid(spec):
        tr = TableRow()
        if kind == "blank":
            tr.addElement(TableCell(numbercolumnsrepeated=width))
        elif _merged(kind):
            tr.addElement(cell(cells[0], None, kind == "section", numbercolumnsspanned=width))
            for _c in range(width - 1):
                tr.addElement(CoveredTableCell())
        else:
            for c, value in enumerate(cells):
                tr.addElement(cell(value, fills.get(c), kind == "header"))
        table.addElement(tr)
    if variant == "trailing":  # what LibreOffice writes after the data: a million empty rows, columns
        tr = TableRow(numberrowsrepeated=1_048_000)
        tr.addElement(TableCell(numbercolumnsrepeated=16_000))
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    budget = Table(name="Budget")
    for values in (["Line", "Amount"], ["Supply cover", "3100"]):
        tr = TableRow()
        for value in values:
            tr.addElement(cell(value))
        budget.addElement(tr)
    doc.spreadsheet.addElement(budget)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


# --- HTML ----------------------------------------------------------------------------------------------


def _html(spec: Spec, variant: str = "") -> bytes:
    """variant: 'bgcolor' (attributes, cp1252, a <meta> charset), 'style' (inline styles, UTF-8),
    'class' (a stylesheet's classes, UTF-16 with a BOM), 'fragment' (a bare <table>, no page around it)."""
    width = len(spec.columns())
    classes = {}

    def fill_attr(rgb: str) -> str:
        if variant == "bgcolor":
            return f' bgcolor="#{rgb}"'
        if variant == "class":
            classes.setdefault(rgb, f"rag{len(classes)}")
            return f' class="{classes[rgb]}"'
        return f' style="background-color: #{rgb.lower()}; padding: 2px"'

    def text(value: str) -> str:
        return "<br>".join(html.escape(line) for line in value.split("\n"))

    grid = _grid(spec)
    above = [cells[0] for kind, cells, _f in grid if kind == "title"]
    lines = []
    for kind, cells, fills in grid:
        if kind in ("title", "blank"):
            continue
        if kind == "key":
            continue  # the key is written above the table, as a page would
        tag = "th" if kind == "header" else "td"
        if kind == "section":
            lines.append(f'<tr><td colspan="{width}"><strong>{text(cells[0])}</strong></td></tr>')
            continue
        tds = "".join(
            f"<{tag}{fill_attr(fills[c]) if c in fills else ''}>{text(v)}</{tag}>" for c, v in enumerate(cells)
        )
        lines.append(f"<tr>{tds}</tr>")
    key = next(((cells, fills) for kind, cells, fills in grid if kind == "key"), None)
    key_html = ""
    if key is not None:
        cells, fills = key
        tds = "".join(
            f"<td{fill_attr(fills[c]) if c in fills else ''}>{html.escape(v)}</td>" for c, v in enumerate(cells) if v
        )
        key_html = f"<table><tr>{tds}</tr></table>\n"
    body = "<table border=1>\n<thead>" + lines[0] + "</thead>\n<tbody>\n" + "\n".join(lines[1:]) + "\n</tbody></table>"
    css = "".join(f".{name} {{ background: #{rgb} }}\n" for rgb, name in classes.items())
    if variant == "fragment":
        return (key_html + body).encode("utf-8")
    charset = {"bgcolor": "windows-1252", "class": "utf-16"}.get(variant, "utf-8")
    title = "".join(f"<h1>{html.escape(t)}</h1>" for t in above)
    page = (
        "<!DOCTYPE html>\n<html><head>"
        + (f'<meta charset="{charset}">' if charset != "utf-16" else "")
        + f"<title>Intranet</title><style>{css}</style><script>document.write('x')</script></head>"
        + f"<body><nav><a href='/'>Home</a></nav>{title}\n{key_html}{body}\n<p>Updated by the office.</p></body></html>"
    )
    if charset == "utf-16":
        return page.encode("utf-16")
    return page.encode(charset, errors="xmlcharrefreplace")  # what a page in Windows-1252 does with emoji


# --- PDF -----------------------------------------------------------------------------------------------


def _pdf(spec: Spec, variant: str = "") -> bytes:
    """A ruled table (reportlab) with section rows spanned across, fills as the cells' backgrounds; long
    plans run over several pages with the header repeated. variant 'landscape' turns the page."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as RLTable

    sheet = getSampleStyleSheet()
    small = sheet["BodyText"].clone("small", fontSize=7, leading=8.5)
    out = io.BytesIO()
    page = landscape(A4) if variant == "landscape" else landscape(A4)
    doc = SimpleDocTemplate(out, pagesize=page, leftMargin=20, rightMargin=20, topMargin=24, bottomMargin=24)
    story: list = []
    grid = _grid(spec)
    for kind, cells, _fills in grid:
        if kind == "title":
            story.append(Paragraph(html.escape(cells[0]), sheet["Heading1"]))
    key = next(((cells, fills) for kind, cells, fills in grid if kind == "key"), None)
    if key is not None:
        cells, fills = key
        values = [v for v in cells if v]
        t = RLTable([values])
        t.setStyle(
            TableStyle(
                [("GRID", (0, 0), (-1, -1), 0.5, colors.black)]
                + [("BACKGROUND", (c, 0), (c, 0), colors.HexColor("#" + rgb)) for c, rgb in fills.items()]
            )
        )
        story += [t, Spacer(1, 12)]
    data, commands = [], [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    width = len(spec.columns())
    for kind, cells, fills in grid:
        if kind in ("title", "key", "blank"):
            continue
        r = len(data)
        if kind == "section":
            data.append([Paragraph("<b>" + html.escape(cells[0]) + "</b>", small)] + [""] * (width - 1))
            commands.append(("SPAN", (0, r), (-1, r)))
            continue
        data.append([Paragraph(html.escape(v).replace("\n", "<br/>"), small) if v else "" for v in cells])
        for c, rgb in fills.items():
            commands.append(("BACKGROUND", (c, r), (c, r), colors.HexColor("#" + rgb)))
    usable = page[0] - 40
    fixed = {"Ref": 30, "Key actions": 190, "Lead": 110, "Timescale": 60, "Notes": 80, "Objective": 100}
    rest = [c for c in spec.columns() if c not in fixed]
    share = (usable - sum(fixed.get(c, 0) for c in spec.columns())) / max(1, len(rest))
    widths = [fixed.get(c, share) for c in spec.columns()]
    table = RLTable(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(commands))
    story.append(table)
    doc.build(story)
    return out.getvalue()


def write_as(spec: Spec, fmt: str, variant: str = "") -> tuple[bytes, str]:
    """The plan `spec` written as `fmt` (xls, ods, html, pdf), and its file name."""
    writer = {"xls": _xls, "ods": _ods, "html": _html, "pdf": _pdf}[fmt]
    return writer(spec, variant), f"{spec.name}.{fmt}"


def write_rows(rows: list[list[str]], fmt: str) -> bytes:
    """Plain rows (a directory, a register) as a one-sheet workbook, a page's table or a ruled PDF table."""
    if fmt == "xls":
        import xlwt

        book = xlwt.Workbook(encoding="utf-8")
        sheet = book.add_sheet("Sheet1")
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value:
                    sheet.write(r, c, value)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    if fmt == "ods":
        from odf.opendocument import OpenDocumentSpreadsheet
        from odf.table import Table, TableCell, TableRow
        from odf.text import P

        doc = OpenDocumentSpreadsheet()
        table = Table(name="Sheet1")
        for row in rows:
            tr = TableRow()
            for value in row:
                tc = TableCell(valuetype="string")
                if value:
                    tc.addElement(P(text=value))
                tr.addElement(tc)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
        out = io.BytesIO()
        doc.write(out)
        return out.getvalue()
    if fmt == "html":
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>\n" for row in rows)
        return f"<html><body><h2>Directory</h2><table>\n{body}</table></body></html>".encode()
    if fmt == "pdf":
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A3, landscape
        from reportlab.platypus import SimpleDocTemplate, TableStyle
        from reportlab.platypus import Table as RLTable

        out = io.BytesIO()
        table = RLTable(rows, repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("FONTSIZE", (0, 0), (-1, -1), 6)]))
        SimpleDocTemplate(out, pagesize=landscape(A3), leftMargin=10, rightMargin=10).build([table])
        return out.getvalue()
    raise ValueError(fmt)
