"""Text files into tables: encodings, delimiters, Markdown pipe tables, tab-separated and comma-separated
tables, and text copied out of PDFs (columns as runs of tabs or spaces, rebuilt from their positions).

Text outside tables is kept: the lines before a table are its `headings` (the last one its `title`), and
the lines before the first table are the document's `preamble`. A plain line between two rows of the same
table (a section title in a tab-separated plan) stays in the table as a one-cell row, so the reader sees
it where it was.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import re
from collections import Counter
from dataclasses import dataclass

from core.i18n import _
from core.ingest.limits import check_bytes, refuse
from core.ingest.model import Cell, Document, IngestError, IngestLimits, NotRead, Row, Table

# ---------------------------------------------------------------------------------------------------------
# Bytes → text
# ---------------------------------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: UTF-8 (with or without BOM), UTF-16 (with a BOM, or without one
    when every other byte is NUL), else Windows-1252 (what Excel's "CSV" writes in the UK), else Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    head = data[:4000]
    if len(head) >= 4 and head.count(0) >= len(head) // 3:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        encoding = "utf-16-le" if odd > even else "utf-16-be"
        return data.decode(encoding, errors="replace"), encoding
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def looks_binary(text: str) -> bool:
    sample = text[:20000]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\r\n\t\f")
    return controls > max(2, len(sample) // 100)


# ---------------------------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------------------------

_BREAK_TAGS = re.compile(r"<\s*(br|/?li|/?p|/?div|/?ul|/?ol|/?tr)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_BULLETS = re.compile(r"\s*[•▪◦●]\s*")


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
    text = text.replace("\x00", "")
    if any(b in text for b in "•▪◦●") and text.strip() not in ("•", "▪", "◦", "●"):  # a mark alone is content
        text = _BULLETS.sub("\n", text)
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def unquote_formula(text: str) -> str:
    """Undo the apostrophe exports put before text a spreadsheet could run ("'=SUM" → "=SUM")."""
    if text[:1] == "'" and text.lstrip("'")[:1] in ("=", "+", "-", "@", "\t", "\r") and text.lstrip("'"):
        return text[1:]
    return text


def clean_title(text: str) -> str:
    """A heading line without Markdown decoration: '## **1. CPD**' → '1. CPD'."""
    text = clean_cell(text).replace("\n", " ")
    text = re.sub(r"^#{1,6}\s*", "", text)
    text = text.strip().strip("*_").strip()
    return text.rstrip(":").strip()


def _cells(values: list[str]) -> list[Cell]:
    return [Cell(text=clean_cell(unquote_formula(v))) for v in values]


# ---------------------------------------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------------------------------------

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
_SPACE_RUN = re.compile(r"\S(?: {3,}| {2,}(?=\S.* {2,}))\S")


def _line_kind(line: str, previous: str, following: str) -> str:
    stripped = line.strip()
    if not stripped:
        return "blank"
    if _SEPARATOR.match(stripped) and "-" in stripped and ("|" in stripped or previous == "pipe"):
        return "sep"
    if stripped.startswith("|") and stripped.count("|") >= 2:
        return "pipe"
    if stripped.count("|") >= 1 and (_SEPARATOR.match(following.strip() or "x") or previous in ("sep", "pipe")):
        return "pipe"
    if "\t" in stripped:
        return "tab"
    if _SPACE_RUN.search(stripped):
        return "spaced"
    if previous in ("tab", "spaced") and (line.startswith("\t") or line.startswith("   ")):
        return previous  # an indented line inside a table: a cell's next line, or a row with empty leading cells
    return "text"


def _pipe_cells(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [p.replace("\\|", "|") for p in re.split(r"(?<!\\)\|", body)]


@dataclass
class _Segment:
    start: int  # display column (tabs expanded to stops of 8)
    text: str


def _segments(line: str) -> list[_Segment]:
    """Pieces of a line split at tabs and at runs of two or more spaces, with where each starts."""
    out: list[_Segment] = []
    col = 0
    current: list[str] = []
    start = 0
    spaces = 0

    def flush() -> None:
        nonlocal current
        text = "".join(current).strip()
        if text:
            out.append(_Segment(start, text))
        current = []

    for ch in line:
        if ch == "\t":
            flush()
            col = (col // 8 + 1) * 8
            spaces = 0
            start = col
            continue
        if ch == " ":
            spaces += 1
            if spaces == 2:
                flush()
            col += 1
            if spaces >= 2:
                start = col
            else:
                current.append(ch)
            continue
        if not current:
            start = col
        spaces = 0
        current.append(ch)
        col += 1
    flush()
    return out


def _positional_grid(lines: list[tuple[int, str]]) -> list[Row]:
    """Rebuild columns of text copied out of a PDF from where each piece starts on its line."""
    segs = {n: _segments(text) for n, text in lines if text.strip()}
    starts = Counter(s.start for pieces in segs.values() for s in pieces)
    needed = max(2, len(segs) // 10)
    columns: list[int] = []
    for pos in sorted(p for p, n in starts.items() if n >= needed or p == 0):
        if columns and pos - columns[-1] <= 2:
            continue
        columns.append(pos)
    if not columns:
        columns = [0]
    rows: list[Row] = []
    for n, _text in lines:
        pieces = segs.get(n, [])
        values = [""] * len(columns)
        for piece in pieces:
            index = 0
            for k, pos in enumerate(columns):
                if pos <= piece.start + 1:
                    index = k
            values[index] = f"{values[index]} {piece.text}".strip()
        rows.append(Row(line=n, cells=_cells(values) if pieces else []))
    return rows


def _tab_grid(lines: list[tuple[int, str]]) -> list[Row]:
    return [Row(line=n, cells=_cells(text.split("\t")) if text.strip() else []) for n, text in lines]


def _is_positional(lines: list[tuple[int, str]], kinds: list[str]) -> bool:
    """Tab-separated (one tab per column) or columns laid out by position (runs of tabs or spaces)?"""
    filled = [k for k in kinds if k in ("tab", "spaced")]
    if not filled:
        return False
    if kinds.count("spaced") >= max(1, len(filled) * 3 // 10):
        return True
    counts = [len(text.rstrip("\t ").split("\t")) for _n, text in lines if "\t" in text]
    if not counts:
        return False
    mode = Counter(c for c in counts if c > 1).most_common(1)
    width = mode[0][0] if mode else max(counts)
    over = sum(1 for c in counts if c > width)
    inner_gaps = sum(1 for _n, text in lines if re.search(r"[^\t]\t\t+[^\t]", text.strip("\t ")))
    return over >= max(1, len(counts) // 5) and inner_gaps >= len(counts) // 2


# ---------------------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------------------


def _check_lines(lines: list[str], limits: IngestLimits, delimiter: str | None = None) -> None:
    count = len(lines) - (1 if lines and not lines[-1] else 0)  # a final newline ends a line, it is not one
    if count > limits.max_rows:
        raise refuse("rows", count, limits.max_rows)
    for line in lines:
        for delim in (delimiter,) if delimiter else ("\t", "|"):
            if line.count(delim) + 1 > limits.max_columns:
                raise refuse("columns", line.count(delim) + 1, limits.max_columns)
        if len(line) > limits.max_line_chars:
            raise refuse("line", len(line), limits.max_line_chars)


def sniff_delimiter(
    text: str, filename: str, sample_lines: int = 60, rows: int = 40, csv_name_counts: bool = True
) -> str | None:
    """The delimiter of a delimited file (',', ';', '\\t', '|'), or None for text that is not one: the one
    that splits the first `rows` of the first `sample_lines` non-blank lines into the most equal rows, with a
    file called .tsv/.tab (and, with `csv_name_counts`, .csv) leaning towards its own."""
    lines = [ln for ln in text.splitlines()[:sample_lines] if ln.strip()]
    if not lines:
        return None
    best, best_score = None, 0.0
    for delim in (",", "\t", ";", "|"):
        try:
            counts = [len(row) for row in csv.reader(lines[:rows], delimiter=delim)]
        except csv.Error:
            continue
        wide = [c for c in counts if c > 1]
        if not wide:
            continue
        mode = max(set(wide), key=wide.count)
        score = mode * wide.count(mode) / len(counts)
        if delim == "\t" and filename.lower().endswith((".tsv", ".tab")):
            score *= 1.5
        if csv_name_counts and delim == "," and filename.lower().endswith(".csv"):
            score *= 1.5
        if score > best_score:
            best, best_score = delim, score
    return best


def read_csv(text: str, delimiter: str, limits: IngestLimits) -> Document:
    lines = text.split("\n")
    _check_lines(lines, limits, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[Row] = []
    line = 1
    try:
        for values in reader:
            if len(values) > limits.max_columns:
                raise refuse("columns", len(values), limits.max_columns)
            rows.append(Row(line=line, cells=_cells(values) if any(v.strip() for v in values) else []))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise IngestError(
            _("Line {line} of the file cannot be read: {reason}").format(line=line, reason=str(exc))
        ) from None
    return Document(tables=[Table(rows=rows)], format="tsv" if delimiter == "\t" else "csv", delimiter=delimiter)


def read_lines(text: str, limits: IngestLimits) -> Document:
    """Markdown pipe tables, tab-separated blocks and PDF-copied (positional) blocks, with the text around."""
    lines = text.split("\n")
    _check_lines(lines, limits)
    kinds: list[str] = []
    for i, line in enumerate(lines):
        kinds.append(_line_kind(line, kinds[-1] if kinds else "", lines[i + 1] if i + 1 < len(lines) else ""))
    doc = Document(format="text")
    texts: list[str] = []  # plain lines since the last table
    text_lines: list[int] = []  # their line numbers
    i, n = 0, len(lines)
    while i < n:
        kind = kinds[i]
        if kind == "blank":
            i += 1
            continue
        if kind == "text":
            title = clean_title(lines[i])
            if title:
                texts.append(title)
                text_lines.append(i + 1)
            i += 1
            continue
        start = i
        if kind in ("pipe", "sep"):
            doc.format = "markdown"
            while i < n and kinds[i] in ("pipe", "sep"):
                i += 1
            rows = [Row(line=k + 1, cells=_cells(_pipe_cells(lines[k]))) for k in range(start, i) if kinds[k] == "pipe"]
            sep_at = next((k for k in range(start, i) if kinds[k] == "sep"), None)
            if sep_at is not None and sep_at > start:
                header_line = sep_at  # 1-based line of the row above the separator
                rows = [r for r in rows if r.line >= header_line]  # rows above it are its headings
            table_kind = "markdown"
        else:
            # A delimited block: tab or positional lines, with blank lines and short plain lines inside
            # kept while more rows of the block follow.
            block: list[int] = []
            while i < n:
                if kinds[i] in ("tab", "spaced"):
                    block.append(i)
                    i += 1
                    continue
                if kinds[i] in ("blank", "text"):
                    k = i
                    while k < n and kinds[k] in ("blank", "text") and k - i < 8:
                        k += 1
                    if (
                        k < n
                        and kinds[k] in ("tab", "spaced")
                        and all(kinds[j] == "blank" or len(lines[j]) <= 2000 for j in range(i, k))
                    ):
                        block.extend(range(i, k))
                        i = k
                        continue
                break
            numbered = [(k + 1, lines[k]) for k in block]
            block_kinds = [kinds[k] for k in block]
            if _is_positional(numbered, block_kinds):
                rows = _positional_grid(numbered)
                doc.format = "pdf-text"
                table_kind = "pdf-text"
            else:
                rows = _tab_grid(numbered)
                if doc.format == "text":
                    doc.format = "tsv"
                table_kind = "tsv"
        width = max((len(r.cells) for r in rows), default=0)
        for row in rows:
            if row.cells:
                row.cells.extend(Cell() for _ in range(width - len(row.cells)))
        if len(doc.tables) + 1 > limits.max_tables:
            raise refuse("tables", len(doc.tables) + 1, limits.max_tables)
        table = Table(rows=rows, title=texts[-1] if texts else "", headings=list(texts), source=table_kind)
        if not doc.tables:
            doc.preamble = list(texts)
        doc.tables.append(table)
        texts, text_lines = [], []
    if not doc.tables:
        doc.preamble = texts
    else:
        for number, words in zip(text_lines, texts):  # after the last table: footnotes, page numbers ...
            doc.not_read.append(
                NotRead(_("line {n}").format(n=number), _("text after the last table"), number, words[:80])
            )
    return doc


def read_text(data: bytes, filename: str, limits: IngestLimits) -> Document:
    check_bytes(data, limits)
    text, encoding = decode(data)
    if looks_binary(text):
        raise IngestError(_("This is not a text file or a spreadsheet I can read (it holds binary data)."))
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").replace("\x00", "")
    name = filename.lower()
    first_lines = [ln for ln in text.split("\n")[:80] if ln.strip()]
    delimiter = None
    if name.endswith((".csv", ".tsv", ".tab")):
        delimiter = sniff_delimiter(text, filename) or ("\t" if name.endswith((".tsv", ".tab")) else ",")
    elif first_lines and not any("\t" in ln or ln.strip().startswith("|") for ln in first_lines):
        guess = sniff_delimiter(text, filename)
        if guess in (",", ";"):
            counts = Counter(ln.count(guess) for ln in first_lines if ln.count(guess) >= 2)
            if counts and counts.most_common(1)[0][1] >= max(2, len(first_lines) // 2):
                delimiter = guess
    if delimiter is not None and delimiter != "\t":
        doc = read_csv(text, delimiter, limits)
    elif delimiter == "\t":
        doc = read_lines(text, limits)  # tab blocks, with the positional check
    else:
        doc = read_lines(text, limits)
    doc.encoding = encoding
    return doc
