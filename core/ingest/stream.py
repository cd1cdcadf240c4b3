"""Rows streamed from big delimited files and workbooks, for the directory importer (registers run to tens of
thousands of rows, so they are read row by row, not into the table model). Encodings and delimiters are
found once, the same way as for plans; sizes are checked against `IngestLimits` (a register may have four
times a plan's rows) before a workbook is expanded.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from core.i18n import _
from core.ingest.limits import check_zip, refuse
from core.ingest.model import DEFAULT_LIMITS, IngestError, IngestLimits, IngestTooLarge
from core.ingest.text import sniff_delimiter
from core.ingest.xlsx import prescan

SAMPLE_BYTES = 64 * 1024
csv.field_size_limit(1 << 20)  # a cell of a megabyte at most (csv's default is 128 KB)

Source = str | Path | bytes | bytearray | memoryview


def open_binary(source: Source) -> IO[bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    try:
        return open(source, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise IngestError(_("Cannot open the file: {reason}").format(reason=exc.strerror or exc)) from None


def detect_encoding(stream: IO[bytes], head: bytes) -> str:
    stream.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise IngestError(_("This is not a spreadsheet or a text file (it contains binary data)."))
    # Valid UTF-8 all the way through? Checked in chunks, so a big file is never held twice.
    decoder = codecs.getincrementaldecoder("utf-8")()
    stream.seek(0)
    try:
        while chunk := stream.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "cp1252"
        try:
            head.decode("cp1252")
        except UnicodeDecodeError:
            encoding = "latin-1"
    stream.seek(0)
    return encoding


def looks_binary(text: str) -> bool:
    if not text:
        return False
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\r\n\t")
    return controls > max(2, len(text) // 100)


def detect_delimiter(sample: str, filename: str) -> str:
    """The delimiter of a file read as a stream, from its first lines (a comma when nothing splits them)."""
    return sniff_delimiter(sample, filename, sample_lines=40, rows=20, csv_name_counts=False) or ","


def text_rows(
    stream: IO[bytes], filename: str, limits: IngestLimits = DEFAULT_LIMITS
) -> tuple[str, Iterator[tuple[int, list[Any]]], IO[str]]:
    head = stream.read(SAMPLE_BYTES)
    if not head.strip():
        raise IngestError(_("The file is empty."))
    encoding = detect_encoding(stream, head)
    sample = head.decode(encoding, errors="ignore")
    if looks_binary(sample):
        raise IngestError(_("This is not a spreadsheet or a text file (it contains binary data)."))
    delimiter = detect_delimiter(sample, filename)
    kind = "tsv" if delimiter == "\t" else "csv"
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")

    def rows() -> Iterator[tuple[int, list[Any]]]:
        reader = csv.reader(text, delimiter=delimiter)
        line = 1
        try:
            for row in reader:
                if len(row) > limits.max_columns:
                    raise refuse("columns", len(row), limits.max_columns)
                if line > limits.max_rows * 4:  # a register is long, but not this long
                    raise refuse("rows", line, limits.max_rows * 4)
                yield line, row
                line = reader.line_num + 1
        except csv.Error as exc:
            raise IngestError(
                _("Line {line} of the file cannot be read: {reason}").format(line=line, reason=str(exc))
            ) from None

    return kind, rows(), text


def xlsx_rows(stream: IO[bytes], limits: IngestLimits = DEFAULT_LIMITS) -> Iterator[tuple[int, list[Any]]]:
    """Rows of every worksheet, lazily, with a (-1, []) between sheets; the caller looks for the header.
    The zip and the sheets' claimed sizes are checked first (a register's limits: four times a plan's rows)."""
    import openpyxl

    data = stream.read()
    register = IngestLimits(
        max_rows=limits.max_rows * 4,
        max_cells=limits.max_cells * 4,
        max_uncompressed=limits.max_uncompressed,
        max_columns=limits.max_columns,
    )
    try:
        archive = check_zip(data, register)
        prescan(archive, register)
    except IngestTooLarge:
        raise
    except IngestError:
        raise IngestError(
            _("This file looks like a zip archive but not an Excel workbook; please send .xlsx or .csv.")
        ) from None
    stream = io.BytesIO(data)

    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any failure here means "not a workbook we can read"
        raise IngestError(
            _("This file looks like a zip archive but not an Excel workbook; please send .xlsx or .csv.")
        ) from None
    try:
        for sheet in workbook.worksheets:
            if not hasattr(sheet, "iter_rows"):
                continue
            rows = sheet.iter_rows(values_only=True)  # read lazily: a damaged sheet fails part way through
            index = 0
            while True:
                try:
                    row = next(rows, None)
                except Exception as exc:  # noqa: BLE001 - broken XML, impossible cell values ...
                    raise IngestError(_("This is not a readable Excel workbook ({error}).").format(error=exc)) from None
                if row is None:
                    break
                index += 1
                if len(row) > register.max_columns:
                    raise refuse("columns", len(row), register.max_columns)
                yield index, list(row)
            yield -1, []  # sheet boundary: the caller looks for a header again
    finally:
        workbook.close()


def register_limits(limits: IngestLimits = DEFAULT_LIMITS) -> IngestLimits:
    """A register's limits: four times a plan's rows and cells, the rest as for a plan."""
    from dataclasses import replace

    return replace(limits, max_rows=limits.max_rows * 4, max_cells=limits.max_cells * 4)


def document_rows(data: bytes, filename: str, limits: IngestLimits = DEFAULT_LIMITS) -> Iterator[tuple[int, list[Any]]]:
    """Rows of a file read whole into the table model (.xls, .ods, HTML, PDF), as `xlsx_rows` gives them:
    each table's rows in turn, with a (-1, []) between tables; a merged cell's value on its first cell."""
    from core.ingest.read import read_document

    document = read_document(data, filename, register_limits(limits))
    for table in document.tables:
        for row in table.rows:
            yield row.line, [cell.text for cell in row.cells]
        yield -1, []
