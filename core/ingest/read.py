"""`read_document(data, filename)`: any file we read, into the one table model."""

from __future__ import annotations

from core.i18n import _
from core.ingest.docx import read_docx
from core.ingest.limits import check_bytes
from core.ingest.model import DEFAULT_LIMITS, Document, IngestError, IngestLimits, IngestTooLarge
from core.ingest.text import read_text
from core.ingest.xlsx import read_xlsx


def read_document(data: bytes, filename: str, limits: IngestLimits = DEFAULT_LIMITS) -> Document:
    """The file's tables. Raises IngestError (IngestTooLarge over a limit) with a translated reason."""
    check_bytes(data, limits)
    if not data or not data.strip():
        raise IngestError(_("The file is empty."))
    name = filename.lower()
    if data[:2] == b"PK":
        head = data[:200_000]
        is_docx = name.endswith(".docx") or (b"word/" in head and not name.endswith((".xlsx", ".xlsm")))
        try:
            return read_docx(data, limits) if is_docx else read_xlsx(data, limits)
        except IngestTooLarge:
            raise
        except IngestError as exc:
            kind = _("Word document") if is_docx else _("Excel workbook")
            raise IngestError(_("This is not a readable {kind}: {reason}").format(kind=kind, reason=exc)) from None
    if data[:4] == b"\xd0\xcf\x11\xe0" or name.endswith((".xls", ".doc")):
        raise IngestError(
            _("This is an old Office file (.xls or .doc); please save it as .xlsx or .docx and send it again.")
        )
    if data[:5] == b"%PDF-" or name.endswith(".pdf"):
        raise IngestError(
            _("This is a PDF; please copy its table into a text file, or send the .docx or .xlsx it came from.")
        )
    if name.endswith((".odt", ".ods")):
        raise IngestError(_("I can read .xlsx, .docx, .csv, .md and .txt files; please save it as one of those."))
    if name.endswith((".xlsx", ".xlsm", ".docx")):
        raise IngestError(_("This file is damaged: it is not a readable zip package."))
    return read_text(data, filename, limits)
