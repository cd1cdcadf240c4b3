"""Size checks made before anything is expanded (pure).

Every refusal names the limit, in words a coordinator understands, and raises `IngestTooLarge`.
"""

from __future__ import annotations

import io
import zipfile

from core.i18n import _
from core.ingest.model import IngestError, IngestLimits, IngestTooLarge


def refuse(limit: str, value: int, maximum: int) -> IngestTooLarge:
    texts = {
        "bytes": _("The file is {value} bytes; I read files of up to {maximum} bytes."),
        "uncompressed": _("The file unpacks to {value} bytes; I read files that unpack to at most {maximum} bytes."),
        "ratio": _(
            "The file is packed {value} times smaller than its contents, which no real plan or list "
            "is; I read files packed at most {maximum} times."
        ),
        "rows": _("The table has {value} rows; I read tables of up to {maximum} rows."),
        "columns": _("The table has {value} columns; I read tables of up to {maximum} columns."),
        "cells": _("The table claims {value} cells; I read tables of up to {maximum} cells."),
        "span": _("A cell spans {value} rows or columns; I read cells spanning at most {maximum}."),
        "merges": _("The sheet has {value} merged ranges; I read sheets with up to {maximum}."),
        "tables": _("The file has {value} tables; I read files with up to {maximum}."),
        "nesting": _("Tables are nested {value} deep; I read tables nested at most {maximum} deep."),
        "pages": _("The PDF has {value} pages; I read PDFs of up to {maximum} pages."),
        "page_chars": _("A page of the PDF holds {value} characters; I read pages of up to {maximum}."),
        "page_area": _(
            "A page of the PDF is {value} square points, far bigger than any paper; I read pages of up to {maximum}."
        ),
        "depth": _("The page nests its elements {value} deep; I read pages nested at most {maximum} deep."),
        "line": _("A line of the file is {value} characters long; I read lines of up to {maximum} characters."),
    }
    return IngestTooLarge(texts[limit].format(value=f"{value:,}", maximum=f"{maximum:,}"), limit, value, maximum)


def check_bytes(data: bytes, limits: IngestLimits) -> None:
    if len(data) > limits.max_bytes:
        raise refuse("bytes", len(data), limits.max_bytes)


def check_zip(data: bytes, limits: IngestLimits) -> zipfile.ZipFile:
    """Open a zip (XLSX, DOCX) after checking what its members claim to unpack to (a zip bomb claims a lot,
    or lies: `read_member` checks again while reading)."""
    check_bytes(data, limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise IngestError(
            _("The file is damaged: it is not a readable zip package ({error}).").format(error=exc)
        ) from None
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.max_uncompressed or total > limits.max_uncompressed:
            raise refuse("uncompressed", total, limits.max_uncompressed)
        if (
            info.compress_size
            and info.file_size > 1_000_000
            and info.file_size // info.compress_size > limits.max_compression_ratio
        ):
            raise refuse("ratio", info.file_size // info.compress_size, limits.max_compression_ratio)
    return archive


def read_member(archive: zipfile.ZipFile, name: str, limits: IngestLimits) -> bytes:
    """A member's bytes, read in chunks and stopped at the limit whatever its header claimed."""
    out = io.BytesIO()
    with archive.open(name) as member:
        while chunk := member.read(1 << 16):
            out.write(chunk)
            if out.tell() > limits.max_uncompressed:
                raise refuse("uncompressed", out.tell(), limits.max_uncompressed)
    return out.getvalue()


def check_grid(rows: int, columns: int, limits: IngestLimits) -> None:
    if rows > limits.max_rows:
        raise refuse("rows", rows, limits.max_rows)
    if columns > limits.max_columns:
        raise refuse("columns", columns, limits.max_columns)
    if rows * columns > limits.max_cells:
        raise refuse("cells", rows * columns, limits.max_cells)
