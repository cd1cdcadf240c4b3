"""The table model every importer reads (pure dataclasses, no I/O).

A file becomes a `Document`: its `tables` (each a list of `Row`s of `Cell`s, with the source line or sheet
row of every row), the text before them (`preamble`), and what could not be read at all (`not_read`, e.g.
other sheets of a workbook). Merged cells keep their span on the top-left cell ("anchor"); the cells they
cover are present, empty, with `covered_by` pointing at the anchor, so a reader can decide whether a merge
means "the same value again" (an owner merged down three rows) or "one title across the row".

Sizes are checked before anything is expanded (`IngestLimits`); a file over a limit raises `IngestTooLarge`
whose message (translated) names the limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Cell:
    text: str = ""
    fill: str | None = None  # background fill / shading as RGB hex "RRGGBB" (upper case), None when none
    colour: str | None = None  # font colour as RGB hex, None when automatic/black
    col_span: int = 1  # on an anchor: how many columns the merge covers
    row_span: int = 1  # on an anchor: how many rows the merge covers
    covered_by: tuple[int, int] | None = None  # on a covered cell: (row index, column index) of its anchor
    bold: bool = False

    @property
    def covered(self) -> bool:
        return self.covered_by is not None


@dataclass
class Row:
    line: int  # 1-based source line (text), sheet row (XLSX) or table row (DOCX)
    cells: list[Cell] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.cells]

    @property
    def blank(self) -> bool:
        return not any(c.text.strip() for c in self.cells)


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)
    title: str = ""  # the heading / line just before the table, if any
    headings: list[str] = field(default_factory=list)  # headings and paragraphs before it (outermost first)
    source: str = ""  # where it is, for messages: "", "sheet 'Plan'", "table 2"
    nested_in: int | None = None  # DOCX: index (in Document.tables) of the table this one sits in

    @property
    def width(self) -> int:
        return max((len(r.cells) for r in self.rows), default=0)


@dataclass
class NotRead:
    """Something in the file that no importer used, with where it was and why."""

    where: str  # "line 12", "sheet 'Notes'", "table 3 row 4"
    reason: str  # translated
    line: int | None = None
    text: str = ""  # an excerpt of what was there (at most a few dozen characters)

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}" if self.where else self.reason


@dataclass
class Document:
    tables: list[Table] = field(default_factory=list)
    preamble: list[str] = field(default_factory=list)  # text before the first table (titles, year ...)
    format: str = ""  # text | markdown | csv | tsv | pdf-text | xlsx | xls | ods | docx | html | pdf
    encoding: str | None = None  # text files: the encoding they were decoded with
    delimiter: str | None = None  # delimited text: the delimiter found
    sheet: str | None = None  # XLSX: the sheet read
    not_read: list[NotRead] = field(default_factory=list)

    @property
    def workbook(self) -> bool:
        """A spreadsheet file: one table per sheet, named by its sheet (xlsx, xls, ods)."""
        return self.format in WORKBOOK_FORMATS

    @property
    def numbered_tables(self) -> bool:
        """A document of numbered tables with text between them (docx, html, pdf): rows are "table N row M"."""
        return self.format in NUMBERED_TABLE_FORMATS


def merge(grid: list[list[Cell]], r: int, c: int, rows: int, cols: int) -> None:
    """Mark grid[r][c] as the anchor of a merge `rows` high and `cols` wide; the cells it covers become empty
    cells pointing at it (with its fill, as a merged coloured cell is coloured all over)."""
    top = grid[r][c]
    top.row_span, top.col_span = rows, cols
    for rr in range(r, r + rows):
        for cc in range(c, c + cols):
            if (rr, cc) != (r, c):
                grid[rr][cc] = Cell(fill=top.fill, covered_by=(r, c))


def sheet_rows(grid: list[list[Cell]]) -> list[Row]:
    """A sheet's grid as rows numbered from 1; a row with no text is a gap (no cells)."""
    rows = [Row(line=i + 1, cells=cells) for i, cells in enumerate(grid)]
    for row in rows:
        if row.blank:
            row.cells = []
    return rows


WORKBOOK_FORMATS = frozenset({"xlsx", "xls", "ods"})
NUMBERED_TABLE_FORMATS = frozenset({"docx", "html", "pdf"})


@dataclass(frozen=True)
class IngestLimits:
    """Limits no real plan or register reaches; a file over one is refused before it is expanded."""

    max_bytes: int = 20_000_000  # the file as sent
    max_uncompressed: int = 100_000_000  # XLSX/DOCX: the zip's members, as claimed and as read
    max_compression_ratio: int = 200  # one zip member's uncompressed ÷ compressed size
    max_rows: int = 50_000
    max_columns: int = 500
    max_cells: int = 2_000_000  # rows × columns of the claimed sheet dimensions / table grid
    max_span: int = 500  # one merged cell's columns or rows
    max_merges: int = 20_000
    max_tables: int = 500
    max_nesting: int = 5  # DOCX tables inside tables
    max_line_chars: int = 200_000  # one line of text
    max_pages: int = 100  # PDF pages (a plan is a few dozen at most; a dense page takes ~0.5 s to lay out)
    max_page_chars: int = 30_000  # characters on one PDF page (a dense A3 page has ~15,000)
    max_page_area: int = 4_000_000  # one PDF page in square points (A0 is ~4.9 million; A3 ~0.5 million)
    max_html_depth: int = 200  # elements nested in an HTML page


DEFAULT_LIMITS = IngestLimits()


class IngestError(Exception):
    """The file cannot be read (not what its name says, damaged, encrypted ...). The message is translated
    and fit to show a user."""


def damaged(detail: object = None) -> IngestError:
    """The reason for a file its library could not parse: damaged, or cut short in sending. The library's
    own words (record names, byte offsets) go to the log, not to the user."""
    import logging

    from core.i18n import _

    if detail is not None:
        logging.getLogger("core.ingest").info("unreadable file: %s", detail)
    return IngestError(_("it is damaged or incomplete; please save it again and send it"))


class IngestRefusal(IngestError):
    """A complete sentence that names the format and what to send instead (a password, a scanned PDF, an old
    Word file); shown as it is."""


class IngestTooLarge(IngestError):
    """The file is over one of the `IngestLimits`; the message names the limit."""

    def __init__(self, message: str, limit: str = "", value: int | None = None, maximum: int | None = None):
        super().__init__(message)
        self.limit = limit
        self.value = value
        self.maximum = maximum
