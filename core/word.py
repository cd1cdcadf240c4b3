"""Word documents as a UK office prints them: the one place every export makes a .docx.

`new_document(title, orientation, header_text, author)` gives an A4 document with 2 cm margins, the title
and author in its properties (never python-docx's "python-docx"), `header_text` at the top of every page
and "Page n of m" at the foot; `add_section(document, orientation, header_text)` starts a new page in the
other orientation (still A4, same header and page numbers); `save(document)` gives the bytes. The table
helpers (shading, a header row repeated on every page, fixed widths) are here because python-docx has no
API for them and every export wants them.

python-docx is imported when a document is made: the bot's process only builds files in its worker.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from docx.document import Document
    from docx.section import Section
    from docx.table import Table, _Cell
    from docx.text.paragraph import Paragraph
    from docx.text.run import Run

Orientation = Literal["portrait", "landscape"]

# A4 in EMU as Word stores it (11906 x 16838 twips, 635 EMU a twip: 210 mm x 297 mm).
A4_SHORT = 11906 * 635
A4_LONG = 16838 * 635
MARGIN = 1134 * 635  # 2 cm
# Characters Word cannot hold (control characters pasted into a comment), as openpyxl lists them.
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def word_text(value: object) -> str:
    """Text Word can hold: control characters are dropped."""
    return _ILLEGAL.sub("", "" if value is None else str(value))


def emu(length: int | None) -> int:
    """A section's size (python-docx types them Optional: a document may leave them to Word)."""
    return int(length or 0)


def usable_width(section: Section) -> int:
    return emu(section.page_width) - emu(section.left_margin) - emu(section.right_margin)


def usable_height(section: Section) -> int:
    return emu(section.page_height) - emu(section.top_margin) - emu(section.bottom_margin)


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) Word fills in when it lays the pages out."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    shown = OxmlElement("w:t")
    shown.text = "1"
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, text, separate, shown, end):
        run._r.append(element)


def _page_setup(section: Section, orientation: Orientation, header_text: str) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Emu, Pt

    from core.i18n import _

    landscape = orientation == "landscape"
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width = Emu(A4_LONG if landscape else A4_SHORT)
    section.page_height = Emu(A4_SHORT if landscape else A4_LONG)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Emu(MARGIN))
    section.header_distance = section.footer_distance = Emu(510 * 635)  # 9 mm
    # Each section holds its own header and footer (not linked to the one before), so a landscape
    # section after a portrait one keeps them whatever Word does with linking.
    section.header.is_linked_to_previous = False
    section.footer.is_linked_to_previous = False
    header = section.header.paragraphs[0]
    header.text = word_text(header_text)
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for run in header.runs:
        run.font.size = Pt(8)
    footer = section.footer.paragraphs[0]
    footer.text = ""
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # "Page {n} of {total}" as one translatable line, its two numbers Word's own fields.
    for part in re.split(r"(\{n\}|\{total\})", _("Page {n} of {total}")):
        if part == "{n}":
            _field(footer, "PAGE")
        elif part == "{total}":
            _field(footer, "NUMPAGES")
        elif part:
            footer.add_run(part)
    for run in footer.runs:
        run.font.size = Pt(8)


def new_document(
    title: str, orientation: Orientation = "portrait", header_text: str = "", author: str = "", subject: str = ""
) -> Document:
    """An A4 document in `orientation`, `header_text` at the top of every page, page numbers at the foot,
    `title`, `author` (the partnership) and `subject` in its properties."""
    import docx
    from docx.shared import Pt

    from core.i18n import _

    document = docx.Document()
    document.styles["Normal"].font.size = Pt(10)
    properties = document.core_properties
    properties.title = word_text(title)[:250]
    properties.author = word_text(author)[:250] or _("Partnership office")
    properties.last_modified_by = properties.author
    properties.subject = word_text(subject)[:250]
    properties.comments = ""
    properties.keywords = ""
    _page_setup(document.sections[0], orientation, header_text)
    return document


def add_section(document: Document, orientation: Orientation, header_text: str | None = None) -> Section:
    """A new page in `orientation` (A4), with `header_text` (default: the previous section's header)."""
    from docx.enum.section import WD_SECTION

    previous = document.sections[-1]
    text = header_text if header_text is not None else previous.header.paragraphs[0].text
    section = document.add_section(WD_SECTION.NEW_PAGE)
    _page_setup(section, orientation, text)
    return section


def save(document: Document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------------
# Tables (python-docx has no API for shading, repeated headers or grid widths)
# ---------------------------------------------------------------------------------------------------------


def _shading(colour: str) -> object:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour)
    return shading


def shade_cell(cell: _Cell, colour: str) -> None:
    from docx.oxml.ns import qn

    props = cell._tc.get_or_add_tcPr()
    for old in props.findall(qn("w:shd")):
        props.remove(old)
    props.append(_shading(colour))


def shade_run(run: Run, colour: str) -> None:
    run._r.get_or_add_rPr().append(_shading(colour))


def repeat_header(table: Table) -> None:
    """Mark the first row as a header row, repeated at the top of every page the table runs onto."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    props = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    props.append(header)
    props.append(OxmlElement("w:cantSplit"))


def set_widths(table: Table, widths: Sequence[int]) -> None:
    """Fixed column widths (EMU), written where Word reads them (each cell) and where LibreOffice reads
    them (the grid)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Emu

    table.autofit = False
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall(qn("w:gridCol")), widths):
        col.set(qn("w:w"), str(int(Emu(width).twips)))
    for row in table.rows:
        for i, cell in enumerate(row.cells):
            if i < len(widths):
                cell.width = Emu(widths[i])
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)


def header_row(table: Table, headers: Sequence[str], fill: str = "D9D9D9") -> None:
    """The first row: `headers`, bold on `fill`, repeated on every page."""
    for cell, text in zip(table.rows[0].cells, headers):
        cell.text = word_text(text)
        shade_cell(cell, fill)
        for paragraph in cell.paragraphs:
            for run in paragraph.runs:
                run.bold = True
    repeat_header(table)
