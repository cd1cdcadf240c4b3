"""Export a plan in the shapes people circulate (pure: a `PlanView` in, file bytes out).

- XLSX: one row per action with a RAG column per term (cells filled red/amber/green/blue), the latest
  comment, owners and milestones; above the header, the plan's title, partnership and year. It
  re-imports to the same plan (`plans.importer.parse_plan`).
- DOCX: the same as a Word table (landscape), sections as full-width rows, RAG cells shaded.
- CSV: the XLSX columns, one header row.
- PNG: the RAG grid (actions by terms) with a legend, for the chat.

Every text cell that a spreadsheet could take for a formula (starting with = + - @, tab or CR) is
written with a leading apostrophe; the importer removes it again.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
from dataclasses import dataclass, field

from core.i18n import _, format_date
from core.terms import Term, term_label
from plans.rag import RAG_COLOURS, RAG_TEXT_COLOURS, rag_label

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class UpdateView:
    """One progress row as a report shows it (every row, corrected and withdrawn ones included)."""

    term: Term
    rag: str  # '' = no rating given
    comment: str
    author: str  # as recorded ("imported" rows say so; erased members read "former member")
    at: dt.datetime | None
    kind: str = "update"  # update | correction | withdrawal | import
    counts: bool = True  # False: replaced by a later correction or withdrawal, or a withdrawal itself


@dataclass
class ActionView:
    id: int
    ref: str
    text: str
    section: str = ""
    owners: list[str] = field(default_factory=list)  # owner names (linked to people or not)
    owners_text: str = ""  # the owner cell as the plan wrote it (shown when no owner could be read: "TBC")
    owner_person_ids: list[int] = field(default_factory=list)  # the owners linked to directory people
    milestones: list[dict] = field(default_factory=list)
    timeline: str = ""
    impact: str = ""
    kpis: str = ""
    funding: str = ""
    reporting: str = ""
    due_date: dt.date | None = None
    rag: dict[Term, str] = field(default_factory=dict)  # rating given in each term (latest that term)
    comments: dict[Term, str] = field(default_factory=dict)  # latest comment in each term
    latest_comment: str = ""
    latest_comment_term: Term | None = None
    latest_comment_by: str = ""
    latest_comment_at: dt.datetime | None = None
    history: list[UpdateView] = field(default_factory=list)  # every row, in the order posted

    @property
    def owners_display(self) -> str:
        return ", ".join(self.owners) if self.owners else self.owners_text

    @property
    def milestones_text(self) -> str:
        return "\n".join(str(m.get("text") or "") for m in self.milestones if m.get("text"))

    @property
    def when_text(self) -> str:
        whens = [str(m.get("when") or "") for m in self.milestones if m.get("when")]
        return "\n".join(whens) if whens else self.timeline


@dataclass
class SectionView:
    title: str
    kpis: str = ""


@dataclass
class PlanView:
    id: int
    title: str
    partnership: str | None = None
    year: str | None = None
    rag_set: tuple[str, ...] = ("R", "A", "G")
    terms: list[Term] = field(default_factory=list)
    sections: list[SectionView] = field(default_factory=list)
    actions: list[ActionView] = field(default_factory=list)
    generated_at: dt.datetime | None = None
    author: str = ""  # the partnership that issues the document (settings: PARTNERSHIP_NAME)
    active: bool = True  # False: the plan is archived (the Mini App's board refuses it)

    def counts(self, term: Term) -> dict[str, int]:
        """How many actions have each rating in `term` ('' = no rating)."""
        out: dict[str, int] = {code: 0 for code in self.rag_set}
        out[""] = 0
        for action in self.actions:
            code = action.rag.get(term, "")
            out[code] = out.get(code, 0) + 1
        return out


@functools.cache
def _illegal_characters() -> re.Pattern[str]:
    # openpyxl's own list, imported when a file is built: the bot's process never needs openpyxl otherwise
    # (the files are built in a worker process), and importing it cost the idle bot about 10 MB.
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE


def safe_cell(value: object) -> str:
    """Text a spreadsheet will not run: a leading = + - @ (or tab, CR) gets an apostrophe in front; control
    characters a spreadsheet cannot hold (pasted into a comment) are dropped."""
    text = _illegal_characters().sub("", "" if value is None else str(value))
    if text.lstrip("'").startswith(FORMULA_START):
        return "'" + text  # also "'=…": the importer takes one apostrophe off, so the text's own one stays
    return text


def document_author(view: PlanView) -> str:
    """Who a document is from: the partnership named in settings, else the one the plan names."""
    return view.author or view.partnership or ""


def document_header(view: PlanView, what: str) -> str:
    """The line at the top of every page: the plan's title and what this is (its term, an export)."""
    return f"{view.title} · {what}"


def action_headings() -> list[str]:
    """The columns every export of a plan starts with (this module's spreadsheet, the termly report's Actions
    sheet); `action_cells` gives an action's values for them. Translated when called."""
    return [
        _("Ref"),
        _("Section"),
        _("Action"),
        _("Owners"),
        _("Milestones"),
        _("Timeline"),
        _("Impact"),
        _("KPIs"),
        _("Funding"),
        _("Reporting"),
    ]


def action_cells(action: ActionView) -> list[str]:
    """One action's values under `action_headings`."""
    return [
        action.ref,
        action.section,
        action.text,
        action.owners_display,
        action.milestones_text,
        action.when_text,
        action.impact,
        action.kpis,
        action.funding,
        action.reporting,
    ]


def _headers(view: PlanView) -> list[str]:
    return action_headings() + [term_label(t, short=True) for t in view.terms] + [_("Latest comment")]


def _row(view: PlanView, action: ActionView) -> list[str]:
    return action_cells(action) + [action.rag.get(t, "") for t in view.terms] + [action.latest_comment]


def _subtitle(view: PlanView) -> list[str]:
    lines = []
    if view.partnership:
        lines.append(_("Partnership: {name}").format(name=view.partnership))
    if view.year:
        lines.append(_("Year: {year}").format(year=view.year))
    lines.append(_("Exported {date}").format(date=format_date(_exported_on(view))))
    return lines


def _exported_on(view: PlanView) -> dt.date:
    return (view.generated_at or dt.datetime.now(dt.timezone.utc)).date()


# ---------------------------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------------------------


def export_xlsx(view: PlanView) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.worksheets[0]  # a new workbook's one sheet, the active one
    sheet.title = _("Plan")[:31]
    headers = _headers(view)
    sheet.append([safe_cell(view.title)])
    sheet["A1"].font = Font(bold=True, size=14)
    for line in _subtitle(view):
        sheet.append([safe_cell(line)])
    sheet.append([])
    sheet.append([safe_cell(h) for h in headers])
    # Counted after the append: an empty row does not raise max_row, so "max_row + 1" before it named the
    # blank row, and the styling and the frozen panes sat one row above the headings.
    header_row = sheet.max_row
    thin = Side(style="thin", color="BBBBBB")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for col in range(1, len(headers) + 1):
        cell = sheet.cell(row=header_row, column=col)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
        cell.border = border
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    first_term_col = 11
    for action in view.actions:
        sheet.append([safe_cell(v) for v in _row(view, action)])
        r = sheet.max_row
        for col in range(1, len(headers) + 1):
            cell = sheet.cell(row=r, column=col)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = border
        for i, term in enumerate(view.terms):
            code = action.rag.get(term)
            if code:
                cell = sheet.cell(row=r, column=first_term_col + i)
                cell.fill = PatternFill("solid", fgColor=RAG_COLOURS[code])
                cell.font = Font(bold=True, color=RAG_TEXT_COLOURS[code])
                cell.alignment = Alignment(horizontal="center", vertical="top")
    widths = [8, 22, 45, 22, 40, 18, 35, 20, 14, 14] + [8] * len(view.terms) + [45]
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=4).coordinate

    legend = book.create_sheet(_("Key")[:31])
    legend.append([_("Code"), _("Rating")])
    for code in view.rag_set:
        legend.append([code, rag_label(code)])
        legend.cell(row=legend.max_row, column=1).fill = PatternFill("solid", fgColor=RAG_COLOURS[code])
    if any(s.kpis for s in view.sections):
        legend.append([])
        legend.append([_("Section"), _("KPIs")])
        for section in view.sections:
            if section.kpis:
                legend.append([safe_cell(section.title), safe_cell(section.kpis)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------------------


def export_csv(view: PlanView) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in _headers(view)])
    for action in view.actions:
        writer.writerow([safe_cell(v) for v in _row(view, action)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 correctly


# ---------------------------------------------------------------------------------------------------------
# DOCX
# ---------------------------------------------------------------------------------------------------------


def export_docx(view: PlanView) -> bytes:
    """The plan as a Word table on landscape A4, sections as full-width rows, RAG cells shaded."""
    from docx.shared import Pt, RGBColor

    from core.word import header_row, new_document, save, shade_cell, word_text

    what = _("Exported {date}").format(date=format_date(_exported_on(view)))
    if view.terms:
        what = _("{first} to {last}").format(
            first=term_label(view.terms[0], short=True), last=term_label(view.terms[-1], short=True)
        )
    document = new_document(view.title, "landscape", document_header(view, what), author=document_author(view))
    document.add_heading(word_text(view.title), level=1)
    for line in _subtitle(view):
        document.add_paragraph(word_text(line))

    headers = (
        [_("Ref"), _("Action"), _("Owners"), _("Milestones"), _("Timeline")]
        + [term_label(t, short=True) for t in view.terms]
        + [_("Latest comment")]
    )
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    header_row(table, headers, "DDDDDD")
    current_section: str | None = None
    for action in view.actions:
        if action.section and action.section != current_section:
            current_section = action.section
            row = table.add_row()
            merged = row.cells[0].merge(row.cells[len(headers) - 1])
            merged.text = word_text(action.section)
            for run in merged.paragraphs[0].runs:
                run.bold = True
            shade_cell(merged, "EEEEEE")
        cells = table.add_row().cells
        values = (
            [action.ref, action.text, action.owners_display, action.milestones_text, action.when_text]
            + [action.rag.get(t, "") for t in view.terms]
            + [action.latest_comment]
        )
        for i, value in enumerate(values):
            cells[i].text = word_text(value)
        for i, term in enumerate(view.terms):
            code = action.rag.get(term)
            if code:
                cell = cells[5 + i]
                shade_cell(cell, RAG_COLOURS[code])
                for run in cell.paragraphs[0].runs:
                    run.bold = True
                    run.font.color.rgb = RGBColor.from_string(RAG_TEXT_COLOURS[code])
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(8)
    key = document.add_paragraph()
    key.add_run(_("Key: ")).bold = True
    key.add_run(", ".join(f"{code} = {rag_label(code)}" for code in view.rag_set))
    return save(document)


# ---------------------------------------------------------------------------------------------------------
# PNG: the RAG grid
# ---------------------------------------------------------------------------------------------------------

_FONT_FILES = (
    "DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "LiberationSans-Regular.ttf",
    "Arial.ttf",
)
_BOLD_FILES = (
    "DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "LiberationSans-Bold.ttf",
    "Arial Bold.ttf",
)


def _font(size: int, bold: bool = False):  # returns a Pillow font; its class differs by version
    """A TrueType font if the system has one, else Pillow's built-in scalable font (Pillow >= 10.1)."""
    from PIL import ImageFont

    for name in _BOLD_FILES if bold else _FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _fit(draw, text: str, font, width: int) -> str:
    text = " ".join(text.split())
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


# Sized for a phone: Telegram shows a photo at the screen's width, so a picture at most this wide keeps
# 22 px text at a readable size; sendPhoto also wants width + height under 10,000.
PNG_MAX_WIDTH = 1080
PNG_MAX_HEIGHT = 8000
_TEXT_LINES = 2  # lines of an action's text before it is cut with an ellipsis


def _wrap(draw, text: str, font, width: int, lines: int) -> list[str]:
    """`text` broken into at most `lines` lines of `width` pixels; what does not fit ends in an ellipsis."""
    words = " ".join(text.split()).split(" ")
    out: list[str] = []
    current = ""
    while words:
        word = words[0]
        trial = f"{current} {word}".strip()
        if draw.textlength(trial, font=font) <= width:
            current = trial
            words.pop(0)
            continue
        if not current:  # one word longer than the line: cut it
            current = _fit(draw, word, font, width)
            words.pop(0)
        out.append(current)
        current = ""
        if len(out) == lines:
            break
    if current and len(out) < lines:
        out.append(current)
        current = ""
    if words or current:
        out[-1] = _fit(draw, out[-1] + " " + " ".join(words), font, width)
        if not out[-1].endswith("…"):
            out[-1] = _fit(draw, out[-1] + " …", font, width)
    return out or [""]


def render_rag_png(view: PlanView, max_actions: int | None = None, term: Term | None = None) -> bytes:
    """The RAG grid as a PNG: one row per action (ref and text, wrapped), one column per term of the
    plan's span, coloured cells with their letter, section bands and a legend with the counts for `term`
    (default: the latest term with a rating). At most PNG_MAX_WIDTH wide: when the span has more terms than
    fit, the latest are shown and the picture says how many are left out (the files hold them all)."""
    from PIL import Image, ImageDraw

    actions = view.actions[:max_actions] if max_actions else list(view.actions)
    all_terms = list(view.terms or [])
    font, bold, small, small_bold = _font(22), _font(22, bold=True), _font(18), _font(18, bold=True)
    title_font = _font(30, bold=True)
    pad, line_h, ref_w, min_text_w = 20, 28, 78, 380
    term_w = 80
    room = PNG_MAX_WIDTH - 2 * pad - ref_w - min_text_w
    if len(all_terms) * term_w > room:
        term_w = 64
    fit_terms = max(1, room // term_w)
    terms = all_terms[-fit_terms:] if len(all_terms) > fit_terms else all_terms
    hidden_terms = len(all_terms) - len(terms)
    width = min(PNG_MAX_WIDTH, max(720, 2 * pad + ref_w + 560 + term_w * max(len(terms), 1)))
    text_w = width - 2 * pad - ref_w - term_w * max(len(terms), 1)

    scratch = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    title_lines = _wrap(scratch, view.title, title_font, width - 2 * pad, 2)
    sub = " · ".join(p for p in (view.partnership or "", view.year or "") if p)
    # Lay out first (row heights depend on wrapping), then draw.
    rows: list[tuple[str, object, list[str]]] = []  # ("section", title, lines) | ("action", action, lines)
    current = None
    height_so_far = 0
    shown = 0
    for action in actions:
        extra: list[tuple[str, object, list[str]]] = []
        if action.section and action.section != current:
            extra.append(("section", action.section, [_fit(scratch, action.section, bold, width - 2 * pad - 12)]))
        lines = _wrap(scratch, action.text, font, text_w - 12, _TEXT_LINES)
        extra.append(("action", action, lines))
        cost = sum(len(x[2]) * line_h + 14 for x in extra)
        if height_so_far + cost > PNG_MAX_HEIGHT - 400:
            break
        if action.section and action.section != current:
            current = action.section
        rows.extend(extra)
        height_so_far += cost
        shown += 1
    hidden_actions = len(actions) - shown

    header_h = pad + len(title_lines) * 38 + (30 if sub else 0) + 12
    head_row_h = 56
    notes = []
    if hidden_terms:
        notes.append(
            _("Showing the latest {n} of {total} terms; the Excel and Word files have them all.").format(
                n=len(terms), total=len(all_terms)
            )
        )
    if hidden_actions:
        notes.append(
            _("Showing {n} of {total} actions; the Excel and Word files have them all.").format(
                n=shown, total=len(actions)
            )
        )
    legend_h = 40 + 28 + 28 * len(notes)
    height = header_h + head_row_h + height_so_far + legend_h + pad
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    y = pad
    for line in title_lines:
        draw.text((pad, y), line, font=title_font, fill="black")
        y += 38
    if sub:
        draw.text((pad, y + 2), _fit(draw, sub, small, width - 2 * pad), font=small, fill=(80, 80, 80))
    y = header_h
    x_terms = pad + ref_w + text_w
    draw.rectangle([pad, y, width - pad, y + head_row_h], fill=(225, 225, 225))
    draw.text((pad + 6, y + 16), _fit(draw, _("Ref"), small_bold, ref_w - 8), font=small_bold, fill="black")
    draw.text((pad + ref_w + 6, y + 16), _("Action"), font=small_bold, fill="black")
    for i, t in enumerate(terms):
        x = x_terms + i * term_w
        if t == term:
            draw.rectangle([x + 1, y + 1, x + term_w - 1, y + head_row_h - 1], outline="black", width=2)
        words = term_label(t, short=True).split(" ", 1)
        for j, word in enumerate(words):
            word = _fit(draw, word, small_bold, term_w - 8)
            cx = x + (term_w - int(draw.textlength(word, font=small_bold))) // 2
            draw.text((cx, y + 6 + j * 22 + (11 if len(words) == 1 else 0)), word, font=small_bold, fill="black")
    y += head_row_h
    for kind, item, lines in rows:
        row_h = len(lines) * line_h + 14
        if kind == "section":
            draw.rectangle([pad, y, width - pad, y + row_h], fill=(240, 240, 240))
            draw.text((pad + 6, y + 7), lines[0], font=bold, fill=(50, 50, 50))
            y += row_h
            continue
        assert isinstance(item, ActionView)
        draw.line([pad, y + row_h, width - pad, y + row_h], fill=(215, 215, 215))
        draw.text((pad + 6, y + 7), _fit(draw, item.ref, bold, ref_w - 10), font=bold, fill="black")
        for j, line in enumerate(lines):
            draw.text((pad + ref_w + 6, y + 7 + j * line_h), line, font=font, fill="black")
        for i, t in enumerate(terms):
            x = x_terms + i * term_w
            code = item.rag.get(t)
            box = [x + 4, y + 4, x + term_w - 4, y + row_h - 4]
            if code:
                draw.rectangle(box, fill=_hex(RAG_COLOURS[code]))
                cx = x + (term_w - int(draw.textlength(code, font=bold))) // 2
                draw.text((cx, y + (row_h - 26) // 2), code, font=bold, fill=_hex(RAG_TEXT_COLOURS[code]))
            else:
                draw.rectangle(box, outline=(200, 200, 200))
        y += row_h
    # Legend, with the counts for the report's term (or the latest rated one).
    y += 12
    x = pad
    rated = [t for t in all_terms if any(t in a.rag for a in view.actions)]
    counted = term if term is not None else (rated[-1] if rated else (all_terms[-1] if all_terms else None))
    counts = view.counts(counted) if counted else {}
    for code in view.rag_set:
        draw.rectangle([x, y + 2, x + 26, y + 28], fill=_hex(RAG_COLOURS[code]))
        draw.text((x + 7, y + 3), code, font=small_bold, fill=_hex(RAG_TEXT_COLOURS[code]))
        label = rag_label(code) + (f" {counts.get(code, 0)}" if counted else "")
        draw.text((x + 32, y + 5), label, font=small, fill="black")
        x += 32 + int(draw.textlength(label, font=small)) + 22
    if counted:
        draw.rectangle([x, y + 2, x + 26, y + 28], outline=(170, 170, 170))
        label = _("No rating {n}").format(n=counts.get("", 0))
        draw.text((x + 32, y + 5), label, font=small, fill="black")
        y += 36
        draw.text(
            (pad, y),
            _fit(draw, _("Counts for {term}").format(term=term_label(counted)), small, width - 2 * pad),
            font=small,
            fill=(80, 80, 80),
        )
    for note in notes:
        y += 28
        draw.text((pad, y), _fit(draw, note, small, width - 2 * pad), font=small, fill=(80, 80, 80))
    out = io.BytesIO()
    # A palette of 64 colours holds the fills, greys and the text's anti-aliasing: a third of the bytes.
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()
