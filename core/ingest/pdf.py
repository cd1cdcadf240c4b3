"""PDFs with a text layer into tables, with pdfplumber: ruled tables from the positions of their lines and
words (merged cells, cell fills and text colours from the shapes and characters drawn), a table that runs
on over a page break joined into one (its repeated header dropped), the text above each table kept as its
headings. A PDF with no ruled table is read from the positions of its words, as text copied out of a PDF
is (`core.ingest.text`). A PDF with no text at all (a scan) is refused, naming what to send instead.

Bounds, checked before a page's contents are laid out: the number of pages, each page's size, and each
page's number of characters; the time and memory of the whole read are the sandbox's (core.sandbox).
"""

from __future__ import annotations

import bisect
import io
import logging
import re
from typing import Any

from core.i18n import _
from core.ingest.limits import check_bytes, check_grid, refuse
from core.ingest.model import Cell, Document, IngestError, IngestLimits, IngestRefusal, NotRead, Row, Table, damaged
from core.ingest.text import clean_cell, clean_title, read_lines

_WHITE = "FFFFFF"


def _damaged(detail: object) -> IngestError:
    """A PDF the library cannot parse: the reason, and the file to send instead."""
    damaged(detail)  # logs the library's words
    return IngestError(
        _("it is damaged or incomplete; please send it again, or the Word or Excel file (.docx, .xlsx) it came from")
    )


def _hex(colour: Any) -> str | None:
    """'RRGGBB' of a PDF colour (grey, RGB or CMYK components from 0 to 1); None when it is not one."""
    if colour is None:
        return None
    if isinstance(colour, (int, float)):
        colour = (colour,)
    try:
        values = [float(v) for v in colour]
    except (TypeError, ValueError):
        return None  # a pattern or a named colour space
    if not values or any(v < 0 or v > 1 for v in values):
        return None
    if len(values) == 1:
        rgb = (values[0],) * 3
    elif len(values) == 3:
        rgb = (values[0], values[1], values[2])
    elif len(values) == 4:
        c, m, y, k = values
        rgb = ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
    else:
        return None
    return "".join(f"{round(v * 255):02X}" for v in rgb)


def _open(data: bytes) -> Any:
    import pdfplumber

    try:
        return pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds for a damaged file
        # pdfplumber wraps pdfminer's exceptions; the password ones name themselves.
        names = {type(exc).__name__, *(type(a).__name__ for a in getattr(exc, "args", ())), str(exc)}
        if names & {"PDFPasswordIncorrect", "PDFEncryptionError", "PDFEncryptionWarning"}:
            raise IngestRefusal(_("The PDF is protected with a password; please send it without one.")) from None
        raise _damaged(exc) from None


def _check_page(page: Any, number: int, limits: IngestLimits) -> list[dict]:
    area = int(float(page.width) * float(page.height))
    if area > limits.max_page_area:
        raise refuse("page_area", area, limits.max_page_area)
    chars = page.chars
    if len(chars) > limits.max_page_chars:
        raise refuse("page_chars", len(chars), limits.max_page_chars)
    return list(chars)


def read_pdf(data: bytes, limits: IngestLimits) -> Document:
    check_bytes(data, limits)
    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # warnings about damaged objects: ours is the message
    pdf = _open(data)
    try:
        try:
            pages = pdf.pages
        except Exception as exc:  # noqa: BLE001 - a broken page tree
            raise _damaged(exc) from None
        if len(pages) > limits.max_pages:
            raise refuse("pages", len(pages), limits.max_pages)
        reader = _Reader(limits)
        any_text = False
        for number, page in enumerate(pages, start=1):
            try:
                chars = _check_page(page, number, limits)
                any_text = any_text or any(c.get("text", "").strip() for c in chars)
                reader.page(page, number, chars)
            except IngestError:
                raise
            except Exception as exc:  # noqa: BLE001 - one damaged page: listed, the others read
                reader.doc.not_read.append(
                    NotRead(_("page {n}").format(n=number), _("damaged page, not read ({error})").format(error=exc))
                )
            finally:
                page.close()  # drop the page's parsed objects before the next
        if not any_text:
            raise IngestRefusal(_("This PDF has no text: send the Word or Excel file it came from."))
        return reader.finish()
    finally:
        pdf.close()


class _Reader:
    def __init__(self, limits: IngestLimits):
        self.limits = limits
        self.doc = Document(format="pdf")
        self.paragraphs: list[str] = []  # text since the last table
        self.page_texts: list[str] = []  # every page laid out as text, for a PDF with no ruled table
        self.open_table: Table | None = None  # the last table, while it may run on to the next page
        self.open_header: list[str] = []

    def page(self, page: Any, number: int, chars: list[dict]) -> None:
        found = [t for t in page.find_tables() if len(t.rows) >= 1 and max(len(r.cells) for r in t.rows) >= 2]
        if found:
            self.page_texts = []  # a ruled table: the pages are read as tables, not as laid-out text
        elif not self.doc.tables:
            self.page_texts.append(_positional_text(page))
        found.sort(key=lambda t: (t.bbox[1], t.bbox[0]))
        fills = [
            (r["x0"], r["top"], r["x1"], r["bottom"], _hex(r.get("non_stroking_color")))
            for r in page.rects
            if r.get("fill") and r["x1"] - r["x0"] > 1 and r["bottom"] - r["top"] > 1
        ]
        top = 0.0
        for k, found_table in enumerate(found):
            x0, t0, x1, t1 = found_table.bbox
            above = _lines(page, (0, top, page.width, max(top, t0)))
            runs_on = (
                k == 0
                and self.open_table is not None
                and not [x for x in above if not _page_furniture(x)]
                and found_table.rows
                and len(found_table.rows[0].cells) == self.open_table.width
            )
            if not runs_on:
                self.paragraphs.extend(above)
            rows = self.rows(page, found_table, fills, chars)
            if runs_on and self.open_table is not None:
                if rows and [c.text for c in rows[0]] == self.open_header:
                    rows = rows[1:]  # the header repeated at the top of the page
                self.append(self.open_table, rows)
            else:
                self.start(rows)
            top = t1
        below = _lines(page, (0, top, page.width, page.height))
        self.paragraphs.extend(below)
        if below and [x for x in below if not _page_furniture(x)]:
            self.open_table = None  # text after it: the next page's table is another

    def rows(self, page: Any, found: Any, fills: list, chars: list[dict]) -> list[list[Cell]]:
        width = max(len(r.cells) for r in found.rows)
        check_grid(len(found.rows), width, self.limits)
        chars = sorted((ch for ch in chars if ch.get("text")), key=lambda ch: ch["top"])
        tops = [ch["top"] for ch in chars]
        grid: list[list[Cell]] = []
        boxes: list[list[Any]] = []
        for row in found.rows:
            cells: list[Cell] = []
            for c in range(width):
                box = row.cells[c] if c < len(row.cells) else None
                if box is None:
                    cells.append(Cell(covered_by=(-1, -1)))  # placed below
                    continue
                x0, top, x1, bottom = box
                inside = [
                    ch
                    for ch in chars[bisect.bisect_left(tops, top - 1) : bisect.bisect_right(tops, bottom + 1)]
                    if ch["x0"] >= x0 - 1 and ch["x1"] <= x1 + 1 and ch["bottom"] <= bottom + 1
                ]
                colour, bold = _font_of(inside)
                cells.append(Cell(text=_cell_text(inside, box), fill=_fill_of(box, fills), colour=colour, bold=bold))
            grid.append(cells)
            boxes.append(list(row.cells) + [None] * (width - len(row.cells)))
        # A cell pdfplumber found no box for is covered by a merged neighbour: the one to its left whose box
        # reaches over it, else the one above.
        for r, cells in enumerate(grid):
            for c, cell in enumerate(cells):
                if cell.covered_by != (-1, -1):
                    continue
                anchor = _anchor(grid, boxes, r, c)
                if anchor is None:
                    cells[c] = Cell()
                    continue
                ar, ac = anchor
                top = grid[ar][ac]
                top.col_span = max(top.col_span, c - ac + 1)
                top.row_span = max(top.row_span, r - ar + 1)
                cells[c] = Cell(fill=top.fill, covered_by=anchor)
        return grid

    def start(self, rows: list[list[Cell]]) -> None:
        if len(self.doc.tables) + 1 > self.limits.max_tables:
            raise refuse("tables", len(self.doc.tables) + 1, self.limits.max_tables)
        table = Table(
            title=self.paragraphs[-1] if self.paragraphs else "",
            headings=list(self.paragraphs),
            source=_("table {n}").format(n=len(self.doc.tables) + 1),
        )
        if not self.doc.tables:
            self.doc.preamble = list(self.paragraphs)
        self.paragraphs = []
        self.doc.tables.append(table)
        self.append(table, rows)
        self.open_table = table
        self.open_header = [c.text for c in rows[0]] if rows else []

    def append(self, table: Table, rows: list[list[Cell]]) -> None:
        base = len(table.rows)
        check_grid(base + len(rows), max([table.width, *(len(r) for r in rows)]), self.limits)
        for i, cells in enumerate(rows):
            for cell in cells:
                if cell.covered_by is not None:
                    cell.covered_by = (cell.covered_by[0] + base, cell.covered_by[1])
            table.rows.append(Row(line=base + i + 1, cells=cells if any(c.text for c in cells) else []))

    def finish(self) -> Document:
        if not self.doc.tables:
            # No ruled table: the words' positions, as text copied out of a PDF is read.
            doc = read_lines("\n".join(self.page_texts), self.limits)
            doc.not_read = self.doc.not_read + doc.not_read
            return doc
        for words in self.paragraphs:
            if not _page_furniture(words):
                where = _("after the last table")
                self.doc.not_read.append(NotRead(where, _("text after the last table"), None, words[:80]))
        return self.doc


def _anchor(grid: list[list[Cell]], boxes: list[list[Any]], r: int, c: int) -> tuple[int, int] | None:
    """The anchor of the merged cell covering (r, c): the cell to its left when its box reaches over this
    column's middle, else the cell above."""
    column = next((row[c] for row in boxes if row[c] is not None), None)
    if c > 0:
        left = grid[r][c - 1]
        anchor = left.covered_by if left.covered_by not in (None, (-1, -1)) else None
        if anchor is None and boxes[r][c - 1] is not None:
            anchor = (r, c - 1)
        if anchor is not None:
            box = boxes[anchor[0]][anchor[1]]
            if column is None or box[2] >= (column[0] + column[2]) / 2:
                return anchor
    if r > 0:
        up = grid[r - 1][c]
        if up.covered_by not in (None, (-1, -1)):
            return up.covered_by
        if boxes[r - 1][c] is not None:
            return r - 1, c
    return None


def _fill_of(box: tuple, fills: list) -> str | None:
    """The colour of the smallest filled shape under the cell's middle (not white: the page)."""
    x0, top, x1, bottom = box
    mx, my = (x0 + x1) / 2, (top + bottom) / 2
    best: tuple[float, str] | None = None
    for fx0, ftop, fx1, fbottom, colour in fills:
        if colour is None or colour == _WHITE or not (fx0 <= mx <= fx1 and ftop <= my <= fbottom):
            continue
        area = (fx1 - fx0) * (fbottom - ftop)
        if area > (x1 - x0) * (bottom - top) * 4:
            continue  # a band behind a whole region, not this cell's fill
        if best is None or area < best[0]:
            best = (area, colour)
    return best[1] if best else None


def _cell_text(chars: list[dict], box: tuple) -> str:
    """The cell's text, its lines joined where the PDF wrapped them (the next word would not have fitted on
    the line) and kept apart where the writer broke the line."""
    from pdfplumber.utils import extract_text

    if not chars:
        return ""
    lines: list[list[dict]] = []
    for ch in sorted(chars, key=lambda ch: (round(ch["top"]), ch["x0"])):
        if lines and abs(ch["top"] - lines[-1][0]["top"]) <= 2.5:
            lines[-1].append(ch)
        else:
            lines.append([ch])
    texts = [clean_cell(extract_text(sorted(line, key=lambda ch: ch["x0"]))) for line in lines]
    padding = max(0.0, min(line[0]["x0"] for line in lines) - box[0])
    limit = box[2] - padding
    out = ""
    for k, (line, text) in enumerate(zip(lines, texts)):
        if not text:
            continue
        if out:
            previous = lines[k - 1]
            right = max(ch["x1"] for ch in previous)
            first_word = [ch for ch in sorted(line, key=lambda ch: ch["x0"])]
            end = next((i for i, ch in enumerate(first_word) if not ch["text"].strip()), len(first_word))
            word_width = first_word[end - 1]["x1"] - first_word[0]["x0"] if end else 0
            space = float(first_word[0].get("size", 8)) * 0.28
            wrapped = right + space + word_width > limit - 0.5
            # A word too long for its column may be broken without a hyphen ("attendan" / "ce"); that cannot be
            # told from a line that ends with a whole word, so a wrapped line is always joined with a space.
            if not wrapped:
                out += "\n" + text
            else:
                out += ("" if out.endswith("-") else " ") + text
        else:
            out = text
    return clean_cell(out)


def _font_of(inside: list[dict]) -> tuple[str | None, bool]:
    inside = [ch for ch in inside if ch.get("text", "").strip()]
    if not inside:
        return None, False
    colours = {_hex(ch.get("non_stroking_color")) for ch in inside}
    colour = colours.pop() if len(colours) == 1 else None
    bold = all("bold" in str(ch.get("fontname", "")).lower() for ch in inside)
    return (None if colour in ("000000", None) else colour), bold


def _lines(page: Any, bbox: tuple[float, float, float, float]) -> list[str]:
    x0, top, x1, bottom = bbox
    if bottom - top < 1:
        return []
    try:
        text = page.within_bbox((x0, top, x1, bottom), strict=False).extract_text() or ""  # wholly inside only
    except Exception:  # noqa: BLE001 - a region that cannot be cropped: no text from it
        return []
    return [line for line in (clean_title(x) for x in text.split("\n")) if line]


def _positional_text(page: Any) -> str:
    """The page as lines of text with its columns where they are: words closer than about half a letter's
    height are one phrase; phrases further apart stand at their position, at least three spaces apart, so
    `core.ingest.text` reads the columns as it reads text copied out of a PDF."""
    try:
        words = page.extract_words(keep_blank_chars=False, use_text_flow=False, extra_attrs=["size"])
    except Exception:  # noqa: BLE001 - a page whose words cannot be laid out: its plain text
        return str(page.extract_text() or "")
    if not words:
        return ""
    sizes = sorted(float(w.get("size") or 10) for w in words)
    size = sizes[len(sizes) // 2]
    step = max(size * 0.5, 1.0)  # one character's width, about
    lines: list[list[dict]] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(word["top"] - lines[-1][0]["top"]) <= size * 0.4:
            lines[-1].append(word)
        else:
            lines.append([word])
    out: list[str] = []
    previous_bottom = None
    for line in lines:
        line.sort(key=lambda w: w["x0"])
        top = min(w["top"] for w in line)
        if previous_bottom is not None and top - previous_bottom > size * 1.2:
            out.append("")  # a gap between blocks, as a blank line
        previous_bottom = max(w["bottom"] for w in line)
        text = ""
        end = None
        for word in line:
            if end is not None and word["x0"] - end < size * 0.6:
                text += " " + word["text"]
            else:
                column = int(word["x0"] / step)
                text += " " * max(column - len(text), 3 if text else column) + word["text"]
            end = word["x1"]
        out.append(text)
    return "\n".join(out)


def _page_furniture(line: str) -> bool:
    """A page number or a running header's page count: not text between two parts of a table."""
    return bool(re.fullmatch(r"(?i)(page\s*)?\d+(\s*(of|/)\s*\d+)?", line.strip()))
