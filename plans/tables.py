"""Find the tables in the files partnerships keep (pure: bytes in, `RawTable`s out).

Formats: Markdown / pipe tables, tab-separated text, CSV, XLSX (every sheet, every table block) and
Word .docx (every table). What a table is called comes from the line (or Word paragraph, or title row)
before it; text between the title and the header row (e.g. "KPIs - What does better look like …")
is kept as the table's notes. Cells are cleaned: HTML fragments are stripped and "•" bullets become
separate lines. Rows keep their line (or sheet row) numbers so the importer can say where a problem is.

No knowledge of plan fields here: `plans.fields` decides which columns mean what.
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass, field

from core.i18n import _


class TableReadError(Exception):
    """The file could not be read at all (not the format its name says, corrupt, encrypted ...)."""


@dataclass
class RawTable:
    title: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line or row number, cells)
    source_desc: str  # "line 12", "sheet 'Plan' row 3", "table 2"
    notes: list[str] = field(default_factory=list)  # text between the title and the header row
    header_line: int | None = None


@dataclass
class Extracted:
    tables: list[RawTable]
    preamble: list[str] = field(default_factory=list)  # text before the first table (plan title, year ...)
    format: str = ""  # markdown | text | csv | xlsx | docx


# ---------------------------------------------------------------------------------------------------------
# Cell cleaning
# ---------------------------------------------------------------------------------------------------------

_BREAK_TAGS = re.compile(r"<\s*(br|/?li|/?p|/?div|/?ul|/?ol|/?tr)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_BULLETS = re.compile(r"\s*[•▪◦●·]\s*")


def clean_cell(value: object) -> str:
    """Cell text without HTML, one line per list item or bullet, spaces collapsed; '' for None."""
    if value is None:
        return ""
    text = str(value)
    if "<" in text:
        text = _BREAK_TAGS.sub("\n", text)
        text = _TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ").replace("\u200b", "")
    if any(b in text for b in "•▪◦●"):
        text = _BULLETS.sub("\n", text)
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def unquote_formula(text: str) -> str:
    """Undo the apostrophe exports put before text a spreadsheet could run ("'=SUM" → "=SUM")."""
    if text[:1] == "'" and text.lstrip("'")[:1] in ("=", "+", "-", "@", "\t", "\r") and text.lstrip("'"):
        return text[1:]  # one apostrophe: "''=x" was "'=x" (see plans.export.safe_cell)
    return text


def clean_title(text: str) -> str:
    """A heading line without Markdown decoration: '## **1. CPD**' → '1. CPD'."""
    text = clean_cell(text).replace("\n", " ")
    text = re.sub(r"^#{1,6}\s*", "", text)
    text = text.strip().strip("*_").strip()
    return text.rstrip(":").strip()


# ---------------------------------------------------------------------------------------------------------
# Grids → tables (shared by tab text, CSV, XLSX and Word)
# ---------------------------------------------------------------------------------------------------------

Row = tuple[int, list[str]]


def _kind(cells: list[str]) -> str:
    filled = [c for c in cells if c]
    if not filled:
        return "blank"
    if len(filled) == 1 and cells and cells[0] == filled[0]:
        return "single"  # only the first cell: a title, a note, or an action with nothing else filled in
    if len(filled) >= 2 and len(set(filled)) == 1 and len(filled) == len(cells):
        return "merged"  # one value across the whole row (merged cells): a title row
    if len(filled) == 1:
        return "single_other"
    return "multi"


def _norm_row(cells: list[str]) -> tuple[str, ...]:
    return tuple(re.sub(r"\W+", " ", c.lower()).strip() for c in cells)


def grid_to_tables(rows: list[Row], source: str, before: list[str] | None = None,
                   default_title: str = "") -> tuple[list[RawTable], list[str]]:
    """Split a grid of rows (blank rows included) into tables.

    Rows with one value (only the first cell, or merged across) before a header row are the next
    table's title and notes; the first row with two or more values is a header. A row equal to the
    current header starts a new table (a repeated header), taking the one-value rows just before it as
    its title. A merged row inside a table starts a sub-table with the same header. Returns the tables
    and the one-value lines that came before the first table (preamble).
    """
    tables: list[RawTable] = []
    pending: list[str] = []  # one-value rows waiting for a header
    lead_text: list[str] = list(before or [])
    preamble: list[str] = []
    current: RawTable | None = None
    subtables: set[int] = set()
    gap = False

    def start(header_row: Row) -> RawTable:
        nonlocal pending, lead_text
        if pending:
            title, notes = pending[0], pending[1:]
        elif lead_text:
            title, notes = lead_text[-1], []
        else:
            title, notes = default_title, []
        line, cells = header_row
        table = RawTable(title=clean_title(title), headers=[c.replace("\n", " ") for c in cells], rows=[],
                         source_desc=f"{source} {line}".strip(), notes=notes, header_line=line)
        pending, lead_text = [], []
        tables.append(table)
        return table

    i = 0
    while i < len(rows):
        line, cells = rows[i]
        kind = _kind(cells)
        if kind == "blank":
            gap = True
            i += 1
            continue
        if current is None:
            if kind in ("single", "single_other", "merged"):
                value = next(c for c in cells if c)
                pending.append(value)
            else:
                if not tables and lead_text and not pending:
                    preamble.extend(lead_text[:-1])
                elif not tables and pending:
                    preamble.extend(lead_text)
                current = start((line, cells))
            gap = False
            i += 1
            continue
        # Inside a table.
        if kind == "multi":
            if _norm_row(cells) == _norm_row(current.headers):
                current = start((line, cells))
            else:
                current.rows.append((line, cells))
            gap = False
            i += 1
            continue
        if kind == "merged":
            # A title row across the table: a new sub-table with the same headers. A table with no rows
            # before its first such row was only a header: its title goes back to the text before.
            if not current.rows and not current.notes and tables and tables[-1] is current \
                    and id(current) not in subtables:
                tables.pop()
                if current.title and not tables:
                    preamble.append(current.title)
            sub = RawTable(title=clean_title(next(c for c in cells if c)), headers=list(current.headers), rows=[],
                           source_desc=f"{source} {line}".strip(), header_line=current.header_line)
            tables.append(sub)
            subtables.add(id(sub))
            current = sub
            gap = False
            i += 1
            continue
        # A one-value row inside a table: data, or the title of a table that follows? Look ahead.
        j = i
        look: list[Row] = []
        saw_gap = gap
        while j < len(rows) and _kind(rows[j][1]) in ("single", "single_other", "blank"):
            if _kind(rows[j][1]) == "blank":
                saw_gap = True
            else:
                look.append(rows[j])
            j += 1
        following = rows[j] if j < len(rows) else None
        is_title = False
        if following is None:
            is_title = False  # trailing one-value rows: data if no gap, otherwise notes (dropped below)
            if saw_gap:
                i = j
                continue
        elif _kind(following[1]) == "merged":
            is_title = False
        elif _norm_row(following[1]) == _norm_row(current.headers):
            is_title = True
        elif saw_gap:
            is_title = True  # a block of text after a blank row, then a new header row
        if is_title:
            pending = [next(c for c in cells if c) for _line, cells in look]
            current = start(rows[j])
            gap = False
            i = j + 1
            continue
        for pline, pcells in look:
            current.rows.append((pline, pcells))
        gap = False
        i = j
    return tables, preamble


# ---------------------------------------------------------------------------------------------------------
# Text: Markdown pipe tables and tab-separated tables
# ---------------------------------------------------------------------------------------------------------

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")


def _pipe_cells(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    parts = re.split(r"(?<!\\)\|", body)
    return [clean_cell(p.replace("\\|", "|")) for p in parts]


def _classify_lines(lines: list[str]) -> list[str]:
    kinds: list[str] = []
    for idx, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            kinds.append("blank")
        elif _SEPARATOR.match(stripped) and "-" in stripped:
            kinds.append("sep")
        elif stripped.startswith("|") and stripped.count("|") >= 2:
            kinds.append("pipe")
        elif "\t" in line:
            kinds.append("tab")
        elif stripped.count("|") >= 1 and (
                (idx + 1 < len(lines) and _SEPARATOR.match(lines[idx + 1].strip() or "x"))
                or (idx > 0 and kinds and kinds[-1] in ("sep", "pipe"))):
            kinds.append("pipe")
        else:
            kinds.append("text")
    return kinds


def extract_text(text: str, source: str | None = None) -> Extracted:
    """Pipe tables and tab-separated tables from text. Line numbers are 1-based."""
    source = source or _("line")
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    lines = text.split("\n")
    kinds = _classify_lines(lines)
    tables: list[RawTable] = []
    preamble: list[str] = []
    text_block: list[tuple[int, str]] = []  # plain lines since the last table
    fmt = "text"
    i = 0
    n = len(lines)

    def flush_between() -> list[str]:
        """The plain lines since the last table (the last one is the next table's title)."""
        nonlocal text_block
        block = [clean_title(t) for _l, t in text_block if clean_title(t)]
        text_block = []
        return block

    while i < n:
        kind = kinds[i]
        if kind in ("blank",):
            i += 1
            continue
        if kind == "text":
            text_block.append((i + 1, lines[i]))
            i += 1
            continue
        if kind in ("pipe", "sep"):
            fmt = "markdown"
            start = i
            while i < n and kinds[i] in ("pipe", "sep"):
                i += 1
            block = [(k + 1, lines[k]) for k in range(start, i)]
            before = flush_between()
            _add_pipe_tables(block, before, tables, preamble, source)
            continue
        # Tab block: consecutive tab lines, with blank lines inside kept as blanks while more tab rows follow.
        start = i
        grid: list[Row] = []
        while i < n and kinds[i] in ("tab", "blank"):
            if kinds[i] == "blank":
                # Stop at a blank line followed by plain text (the block ended).
                k = i
                while k < n and kinds[k] == "blank":
                    k += 1
                if k >= n or kinds[k] != "tab":
                    break
                grid.append((i + 1, []))
            else:
                grid.append((i + 1, [clean_cell(c) for c in lines[i].split("\t")]))
            i += 1
        width = max((len(c) for _l, c in grid), default=0)
        grid = [(line, cells + [""] * (width - len(cells))) for line, cells in grid]
        before = flush_between()
        found, pre = grid_to_tables(grid, source, before=before)
        if not tables:
            preamble.extend(before[:-1] if before and found and not _starts_with_single(grid) else before)
            preamble.extend(pre)
        else:
            _add_empty_sections(before[:-1] if found and not _starts_with_single(grid) else before, tables, source)
        tables.extend(found)
    # Trailing plain text after the last table is ignored (footnotes); it could not be a table.
    return Extracted(tables=tables, preamble=[p for p in preamble if p], format=fmt)


def _starts_with_single(grid: list[Row]) -> bool:
    for _line, cells in grid:
        kind = _kind(cells)
        if kind == "blank":
            continue
        return kind in ("single", "single_other", "merged")
    return False


def _common_prefix_words(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split(), b.split()):
        if x.lower() != y.lower():
            break
        n += 1
    return n


def _add_empty_sections(lines: list[str], tables: list[RawTable], source: str) -> None:
    """Heading lines between two tables that share the wording of the table titles around them
    ('… Action Plan – 6. Business Management') are sections without rows; other lines are dropped."""
    previous = tables[-1].title if tables else ""
    for text in lines:
        if len(text) <= 200 and previous and _common_prefix_words(text, previous) >= 2:
            tables.append(RawTable(title=text, headers=[], rows=[], source_desc=source))
        elif re.match(r"^(section|strand|priority|area|objective)?\s*\d+[.)]\s+\S", text, re.IGNORECASE):
            tables.append(RawTable(title=text, headers=[], rows=[], source_desc=source))


def _add_pipe_tables(block: list[tuple[int, str]], before: list[str], tables: list[RawTable],
                     preamble: list[str], source: str) -> None:
    if not tables:
        preamble.extend(before[:-1])
    else:
        _add_empty_sections(before[:-1], tables, source)
    title = before[-1] if before else ""
    rows: list[Row] = []
    header: Row | None = None
    for line, text in block:
        if _SEPARATOR.match(text.strip()) and "-" in text:
            if rows and header is None:
                header = rows.pop()
            continue
        rows.append((line, _pipe_cells(text)))
    if header is None:
        if not rows:
            return
        header = rows.pop(0)
    width = max([len(header[1])] + [len(c) for _l, c in rows])
    pad = lambda cells: cells + [""] * (width - len(cells))  # noqa: E731
    tables.append(RawTable(title=clean_title(title), headers=pad(header[1]),
                           rows=[(line, pad(cells)) for line, cells in rows],
                           source_desc=f"{source} {header[0]}", header_line=header[0]))


# ---------------------------------------------------------------------------------------------------------
# CSV, XLSX, DOCX
# ---------------------------------------------------------------------------------------------------------

def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" is UTF-16 with a BOM
        try:
            return data.decode("utf-16").replace("\x00", "")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding).replace("\x00", "")  # NUL is never text (and PostgreSQL refuses it)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1").replace("\x00", "")


def extract_csv(text: str) -> Extracted:
    text = text.lstrip("\ufeff")
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid: list[Row] = []
    line = 1
    for cells in reader:
        grid.append((line, [clean_cell(unquote_formula(c)) for c in cells]))
        line = reader.line_num + 1
    width = max((len(c) for _l, c in grid), default=0)
    grid = [(ln, cells + [""] * (width - len(cells))) for ln, cells in grid]
    tables, preamble = grid_to_tables(grid, _("line"))
    return Extracted(tables=tables, preamble=preamble, format="csv")


def extract_xlsx(data: bytes) -> Extracted:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    except Exception as exc:  # broken zip or XML, impossible cell values ...: not a workbook we can read
        raise TableReadError(_("This is not a readable Excel workbook ({error}).").format(error=exc)) from exc
    tables: list[RawTable] = []
    preamble: list[str] = []
    for sheet in book.worksheets:
        if sheet.sheet_state != "visible":
            continue
        values: list[list[object]] = [list(r) for r in sheet.iter_rows(values_only=True)]
        for merged in sheet.merged_cells.ranges:  # a merged range shows its value in every cell
            top = values[merged.min_row - 1][merged.min_col - 1] if merged.min_row - 1 < len(values) else None
            for r in range(merged.min_row - 1, min(merged.max_row, len(values))):
                for c in range(merged.min_col - 1, merged.max_col):
                    if c < len(values[r]):
                        values[r][c] = top
        grid = [(idx + 1, [clean_cell(unquote_formula(_xlsx_text(v))) for v in row]) for idx, row in enumerate(values)]
        width = max((max((k + 1 for k, c in enumerate(cells) if c), default=0) for _l, cells in grid), default=0)
        grid = [(ln, cells[:width]) for ln, cells in grid]
        label = _("sheet {name!r} row").replace("{name!r}", repr(sheet.title))
        found, pre = grid_to_tables(grid, label, default_title=sheet.title if len(book.worksheets) > 1 else "")
        if not tables:
            preamble.extend(pre)
        tables.extend(found)
    book.close()
    return Extracted(tables=tables, preamble=preamble, format="xlsx")


def _xlsx_text(value: object) -> str:
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y") if value.time() == dt.time() else value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def extract_docx(data: bytes) -> Extracted:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # not a package, bad zip, broken XML ...
        raise TableReadError(_("This is not a readable Word document ({error}).").format(error=exc)) from exc
    tables: list[RawTable] = []
    preamble: list[str] = []
    paragraphs: list[str] = []  # paragraphs since the last table
    number = 0
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = clean_title(block.text)
            if text:
                paragraphs.append(text)
            continue
        if not isinstance(block, Table):
            continue
        number += 1
        grid: list[Row] = []
        for r, row in enumerate(block.rows):
            cells = [clean_cell(cell.text) for cell in row.cells]
            grid.append((r + 1, cells))
        width = max((len(c) for _l, c in grid), default=0)
        grid = [(ln, cells + [""] * (width - len(cells))) for ln, cells in grid]
        before = paragraphs
        paragraphs = []
        label = _("table {n} row").format(n=number)
        found, pre = grid_to_tables(grid, label, before=before)
        if not tables:
            preamble.extend(before[:-1] if found and not _starts_with_single(grid) else before)
            preamble.extend(pre)
        elif found:
            _add_empty_sections(before[:-1] if not _starts_with_single(grid) else before, tables, label)
        tables.extend(found)
    return Extracted(tables=tables, preamble=preamble, format="docx")


def extract(data: bytes, filename: str) -> Extracted:
    """Every table in a file, chosen by its name's extension and, failing that, its content."""
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")) or (data[:2] == b"PK" and not name.endswith(".docx")
                                             and b"xl/" in data[:4000]):
        return extract_xlsx(data)
    if name.endswith(".docx") or (data[:2] == b"PK" and b"word/" in data[:4000]):
        return extract_docx(data)
    if name.endswith((".xls", ".doc", ".pdf", ".odt", ".ods")) or data[:4] in (b"\xd0\xcf\x11\xe0", b"%PDF"):
        raise TableReadError(_("I can read .xlsx, .docx, .csv, .md and .txt files; please save it as one of those."))
    text = _decode(data)
    if name.endswith(".csv"):
        return extract_csv(text)
    return extract_text(text)
