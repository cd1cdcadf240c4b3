"""`read_document(data, filename)`: any file we read, into the one table model.

The format is found from the bytes, not the name: a zip package by what it holds (an OpenDocument file
names itself in its `mimetype` member), an OLE2 container by its streams (.xls, or an old .doc), `%PDF`,
an HTML page by how it begins. The name only decides between text formats, and names the format a damaged
file claimed to be. Anything we cannot read is refused in one line that names what it is.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from core.i18n import _
from core.ingest.limits import check_bytes, check_zip, read_member
from core.ingest.model import (
    DEFAULT_LIMITS,
    Document,
    IngestError,
    IngestLimits,
    IngestRefusal,
    IngestTooLarge,
)

ODF_KINDS = {
    "application/vnd.oasis.opendocument.text": "OpenDocument text (.odt)",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument presentation (.odp)",
    "application/vnd.oasis.opendocument.graphics": "OpenDocument drawing (.odg)",
}


def format_name(kind: str) -> str:
    """The format's name as a user knows it."""
    names = {
        "xlsx": _("Excel workbook (.xlsx)"),
        "xls": _("Excel 97-2003 workbook (.xls)"),
        "ods": _("OpenDocument spreadsheet (.ods)"),
        "docx": _("Word document (.docx)"),
        "pdf": _("PDF"),
        "html": _("web page (HTML)"),
    }
    return names.get(kind, kind)


def sniff(data: bytes, filename: str) -> str:
    """The file's format from its bytes: xlsx, docx, odf (then its `mimetype` member decides), xls, pdf,
    html, text, or a refusal's kind (zip, zip-damaged, pptx, ole2-doc, ole2-encrypted, ole2, rtf)."""
    name = filename.lower()
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            ext = _ext(filename)
            return ext if ext in ("xlsx", "docx", "ods") else "zip-damaged"
        if "mimetype" in names:
            return "odf"
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if any(n.startswith("ppt/") for n in names):
            return "pptx"
        if name.endswith(".docx"):
            return "docx"  # the Word reader names what is missing
        return "xlsx" if name.endswith((".xlsx", ".xlsm")) else "zip"
    if data[:4] == b"\xd0\xcf\x11\xe0":
        from core.ingest.xls import ole2_streams

        streams = ole2_streams(data)
        if streams & {"Workbook", "Book", "WORKBOOK", "BOOK"}:
            return "xls"
        if "WordDocument" in streams:
            return "ole2-doc"
        if "EncryptedPackage" in streams:
            return "ole2-encrypted"
        return "xls" if name.endswith(".xls") and not streams else "ole2"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.lstrip()[:5] == b"{\\rtf":
        return "rtf"
    from core.ingest.html import looks_like_html

    if looks_like_html(data) or (name.endswith((".htm", ".html", ".xhtml")) and b"<" in data[:4096]):
        return "html"
    return "text"


def read_document(data: bytes, filename: str, limits: IngestLimits = DEFAULT_LIMITS) -> Document:
    """The file's tables. Raises IngestError (IngestTooLarge over a limit) with a translated reason."""
    check_bytes(data, limits)
    if not data or not data.strip():
        raise IngestError(_("The file is empty."))
    kind = sniff(data, filename)
    if kind == "odf":
        mimetype = read_member(check_zip(data, limits), "mimetype", limits).decode("ascii", "replace").strip()
        if mimetype.startswith("application/vnd.oasis.opendocument.spreadsheet"):
            kind = "ods"
        else:
            what = ODF_KINDS.get(mimetype, _("an OpenDocument file"))
            raise IngestRefusal(
                _(
                    "This is {what}; I read spreadsheets and Word documents: please save it as .ods, .xlsx or .docx."
                ).format(what=what)
            )
    refusals = {
        "zip-damaged": _("This is a damaged zip archive; please send the file again, or save it again first."),
        "zip": _("This is a zip archive but not an Excel, Word or OpenDocument file; please send the file itself."),
        "pptx": _("This is a PowerPoint presentation; please send the plan as a Word, Excel or PDF file."),
        "ole2-doc": _("This is an old Word document (.doc); please save it as .docx and send it again."),
        "ole2-encrypted": _("This Office file is protected with a password; please send it without one."),
        "ole2": _("This is an old Office file I cannot read; please save it as .xlsx or .docx and send it again."),
        "rtf": _("This is a Rich Text (.rtf) document; please save it as .docx and send it again."),
    }
    if kind in refusals:
        raise IngestRefusal(refusals[kind])
    if kind == "text":
        if filename.lower().endswith((".xlsx", ".xlsm", ".docx", ".ods")):
            raise IngestError(
                _(
                    "This file is named {name} but is not a readable {kind}: it is damaged or another kind of file."
                ).format(name=filename, kind=format_name(_ext(filename)))
            )
        from core.ingest.text import read_text

        return read_text(data, filename, limits)
    try:
        return _reader(kind)(data, limits)
    except (IngestTooLarge, IngestRefusal):
        raise
    except IngestError as exc:
        raise IngestError(
            _("This is not a readable {kind}: {reason}").format(kind=format_name(kind), reason=exc)
        ) from None


def _ext(filename: str) -> str:
    ext = filename.lower().rsplit(".", 1)[-1]
    return "xlsx" if ext == "xlsm" else ext


def _reader(kind: str) -> Callable[[bytes, IngestLimits], Document]:
    if kind == "xlsx":
        from core.ingest.xlsx import read_xlsx

        return read_xlsx
    if kind == "docx":
        from core.ingest.docx import read_docx

        return read_docx
    if kind == "ods":
        from core.ingest.ods import read_ods

        return read_ods
    if kind == "xls":
        from core.ingest.xls import read_xls

        return read_xls
    if kind == "pdf":
        from core.ingest.pdf import read_pdf

        return read_pdf
    from core.ingest.html import read_html

    return read_html
