"""The termly report as a Word document (pure: a PlanView, its ReportSummary and the picture in, bytes out).

Portrait for reading: the title (partnership, plan, term, date), the summary (counts by colour this term
and last, what moved up or down, what was not updated and who owns it), the RAG picture, the exceptions
(every red and amber action with its owner, latest comment, author, date and change since last term).
Then a landscape section with the full table: column widths from their content, the header row repeated
on every page, ratings shaded AND lettered, so a black-and-white print still says which is which.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Emu, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from core.i18n import _, format_date, ngettext
from core.terms import term_label
from core.word import (
    add_section,
    new_document,
    repeat_header,
    save,
    set_widths,
    shade_cell,
    shade_run,
    usable_height,
    usable_width,
)
from core.word import word_text as _docx_text
from plans.export import ActionView, PlanView, document_author, document_header
from plans.rag import RAG_COLOURS, RAG_TEXT_COLOURS, rag_label, rag_meaning
from plans.report import (
    ReportSummary,
    byline,
    change_text,
    latest_comment,
    owners_text,
    produced_on,
)

HEADER_FILL = "D9D9D9"
SECTION_FILL = "EEEEEE"
TABLE_FONT = Pt(8)


def rag_run(paragraph: Paragraph, code: str, size: Pt | None = None) -> Run:
    """The rating's letter, bold, on its colour."""
    run = paragraph.add_run(f" {code} ")
    run.bold = True
    run.font.color.rgb = RGBColor.from_string(RAG_TEXT_COLOURS[code])
    if size is not None:
        run.font.size = size
    shade_run(run, RAG_COLOURS[code])
    return run


def rag_in_cell(cell: _Cell, code: str) -> None:
    """A rating cell: shaded and lettered, centred."""
    cell.text = code
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if code:
        shade_cell(cell, RAG_COLOURS[code])
        for run in paragraph.runs:
            run.bold = True
            run.font.color.rgb = RGBColor.from_string(RAG_TEXT_COLOURS[code])


def _small(cell: _Cell, size: Pt = TABLE_FONT) -> None:
    for paragraph in cell.paragraphs:
        paragraph.paragraph_format.space_after = Pt(0)
        for run in paragraph.runs:
            run.font.size = size


def _bold_row(row_cells: Sequence[_Cell]) -> None:
    for cell in row_cells:
        shade_cell(cell, HEADER_FILL)
        for paragraph in cell.paragraphs:
            for run in paragraph.runs:
                run.bold = True


# ---------------------------------------------------------------------------------------------------------
# Column widths from content
# ---------------------------------------------------------------------------------------------------------


def fit_widths(
    columns: Sequence[Sequence[str]], total: int, fixed: dict[int, int], minimum: int, maximum: int
) -> list[int]:
    """Widths (EMU) summing to `total`: `fixed` columns as given; the others share the rest by how much
    text they hold (the square root of their longest and average lengths, so one long cell does not take
    the page), each between `minimum` and `maximum` where the page allows."""
    weights: dict[int, float] = {}
    for i, values in enumerate(columns):
        if i in fixed:
            continue
        lengths = [max((len(line) for line in v.splitlines()), default=0) for v in values] or [0]
        longest = max(lengths)
        average = sum(lengths) / len(lengths)
        weights[i] = max(1.0, (min(longest, 60) * 0.4 + average * 0.6)) ** 0.5
    room = total - sum(fixed.values())
    widths = {i: room * w / sum(weights.values()) for i, w in weights.items()} if weights else {}
    # Clamp, then hand what clamping freed (or took) to the columns still free to grow or shrink.
    for _round in range(4):
        clamped = {i: min(max(w, minimum), maximum) for i, w in widths.items()}
        spare = room - sum(clamped.values())
        free = [i for i in clamped if minimum < clamped[i] < maximum] or list(clamped)
        if abs(spare) < 1 or not free:
            widths = clamped
            break
        share = sum(weights[i] for i in free)
        widths = {i: clamped[i] + (spare * weights[i] / share if i in free else 0) for i in clamped}
    out = [fixed.get(i, int(widths.get(i, minimum))) for i in range(len(columns))]
    out[max(weights, key=lambda i: weights[i]) if weights else 0] += total - sum(out)  # rounding
    return out


# ---------------------------------------------------------------------------------------------------------
# The parts of the report
# ---------------------------------------------------------------------------------------------------------


def _title(document: Document, view: PlanView, summary: ReportSummary) -> None:
    if view.partnership:
        document.add_paragraph(_docx_text(view.partnership), style="Subtitle")
    document.add_heading(_docx_text(view.title), level=0)
    line = document.add_paragraph()
    line.add_run(_("Termly report: {term}").format(term=term_label(summary.term))).bold = True
    line.add_run(" · " + _("produced {date}").format(date=format_date(produced_on(view), "d MMMM yyyy")))


def _counts_table(document: Document, view: PlanView, summary: ReportSummary) -> None:
    previous = summary.previous
    headers = [_("Rating"), term_label(summary.term)] + ([term_label(previous)] if previous else [])
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    for cell, text in zip(table.rows[0].cells, headers):
        cell.text = text
    _bold_row(table.rows[0].cells)
    for code in (*view.rag_set, ""):
        cells = table.add_row().cells
        paragraph = cells[0].paragraphs[0]
        if code:
            rag_run(paragraph, code)
            paragraph.add_run(" " + rag_label(code))
        else:
            paragraph.add_run(_("No rating"))
        cells[1].text = str(summary.counts.get(code, 0))
        if previous:
            cells[2].text = str(summary.previous_counts.get(code, 0))
    cells = table.add_row().cells
    cells[0].text = _("All actions")
    cells[1].text = str(len(view.actions))
    if previous:
        cells[2].text = str(len(view.actions))
    set_widths(table, [Cm(4.5), Cm(3.2)] + ([Cm(3.2)] if previous else []))


def _action_line(paragraph: Paragraph, action: ActionView) -> None:
    paragraph.add_run(_docx_text(action.ref)).bold = True
    paragraph.add_run(" " + _docx_text(action.text))


def _summary(document: Document, view: PlanView, summary: ReportSummary) -> None:
    term, previous = summary.term, summary.previous
    document.add_heading(_("Summary"), level=1)
    intro = ngettext("{n} action in the plan.", "{n} actions in the plan.", len(view.actions)).format(
        n=len(view.actions)
    )
    if previous:
        intro += " " + _("Ratings given in {term}, beside {previous}:").format(
            term=term_label(term), previous=term_label(previous)
        )
    else:
        intro += " " + _("Ratings given in {term}:").format(term=term_label(term))
    document.add_paragraph(intro)
    _counts_table(document, view, summary)
    document.add_paragraph().paragraph_format.space_after = Pt(0)  # air between the table and what follows

    # Empty lists are one plain sentence, not a heading over nothing (a heading keeps with what follows,
    # so a run of empty ones pushed the picture and half the summary onto the next page).
    if previous is None:
        document.add_paragraph(_("There is no earlier term to compare with."))
    elif not any(summary.previous_counts.get(code, 0) for code in view.rag_set):
        document.add_paragraph(
            _("No action was rated in {term}, so nothing could move.").format(term=term_label(previous))
        )
    else:
        up, down = len(summary.up), len(summary.down)
        for moves, heading, none in (
            (
                summary.up,
                ngettext("{n} action moved up", "{n} actions moved up", up).format(n=up),
                _("No action moved up."),
            ),
            (
                summary.down,
                ngettext("{n} action moved down", "{n} actions moved down", down).format(n=down),
                _("No action moved down."),
            ),
        ):
            if not moves:
                document.add_paragraph(none)
                continue
            document.add_paragraph(heading, style="Heading 3")
            for move in moves:
                bullet = document.add_paragraph(style="List Bullet")
                _action_line(bullet, move.action)
                bullet.add_run(": ")
                rag_run(bullet, move.before)
                bullet.add_run(" → ")
                rag_run(bullet, move.after)

    stale = summary.stale
    if not stale:
        document.add_paragraph(_("Every action was updated in {term}.").format(term=term_label(term)))
        return
    document.add_paragraph(
        ngettext("{n} action not updated in {term}", "{n} actions not updated in {term}", len(stale)).format(
            n=len(stale), term=term_label(term)
        ),
        style="Heading 3",
    )
    for item in stale:
        line = document.add_paragraph(style="List Bullet")
        _action_line(line, item.action)
        line.add_run(" — " + _docx_text(owners_text(item.action))).italic = True
        if item.last and item.last_term:
            line.add_run(" · " + _("last rated {term}:").format(term=term_label(item.last_term, short=True)) + " ")
            rag_run(line, item.last)
        else:
            line.add_run(" · " + _("never rated"))


def _picture(document: Document, png: bytes, width: int, height: int) -> None:
    """The RAG picture, as large as fits on one page (a long plan's picture is tall: fitted to the page's
    height, else Word pushes it to the next page and cuts it off there)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        aspect = image.height / image.width
    document.add_heading(_("The plan at a glance"), level=1)  # kept with the picture by its style
    room = int(height - Cm(3.2))  # the heading above and the caption below
    document.add_picture(io.BytesIO(png), width=Emu(min(width, int(room / aspect))))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.paragraphs[-1].paragraph_format.keep_with_next = True  # and its caption with it
    caption = document.add_paragraph(
        _("Each row is an action, each column a term of the plan; the letter in each box is its rating.")
    )
    caption.runs[0].italic = True


def _exceptions(document: Document, view: PlanView, summary: ReportSummary) -> None:
    document.add_heading(_("Exceptions: red and amber actions"), level=1)
    if not summary.exceptions:
        document.add_paragraph(_("No action is rated red or amber in {term}.").format(term=term_label(summary.term)))
        return
    document.add_paragraph(
        ngettext(
            "{n} action is rated red or amber in {term}.",
            "{n} actions are rated red or amber in {term}.",
            len(summary.exceptions),
        ).format(n=len(summary.exceptions), term=term_label(summary.term))
    )
    for item in summary.exceptions:
        head = document.add_paragraph(style="Heading 3")
        rag_run(head, item.rating)
        head.add_run(" " + _docx_text(item.action.ref) + " " + _docx_text(item.action.text))
        details = [
            (_("Owner"), owners_text(item.action)),
            (
                _("Rating"),
                f"{rag_label(item.rating)} ({rag_meaning(item.rating)}), "
                + change_text(item.before, item.rating, summary.previous),
            ),
        ]
        if item.comment is not None:
            details.append((_("Latest comment"), item.comment.comment))
            details.append((_("By"), byline(item.comment, with_term=True)))
        else:
            details.append((_("Latest comment"), _("none yet")))
        for n, (label, text) in enumerate(details):
            line = document.add_paragraph()
            line.paragraph_format.space_after = Pt(2)
            line.paragraph_format.left_indent = Cm(0.5)
            line.paragraph_format.keep_with_next = n < len(details) - 1  # one exception, one page
            line.add_run(label + ": ").bold = True
            line.add_run(_docx_text(text))


def _full_table(document: Document, view: PlanView, summary: ReportSummary) -> None:
    section = add_section(document, "landscape")
    document.add_heading(_("The full plan"), level=1)
    terms = view.terms
    comments = {a.id: latest_comment(a, summary.term) for a in view.actions}
    text_columns = [
        (_("Ref"), [a.ref for a in view.actions]),
        (_("Action"), [a.text for a in view.actions]),
        (_("Owners"), [a.owners_display for a in view.actions]),
        (_("Milestones"), [a.milestones_text for a in view.actions]),
        (_("Timeline"), [a.when_text for a in view.actions]),
        (_("Impact"), [a.impact for a in view.actions]),
    ]
    # A column nobody filled in is left out rather than given a width (Ref and Action always stay).
    text_columns = [c for i, c in enumerate(text_columns) if i < 2 or any(v.strip() for v in c[1])]
    comment_values = [c.comment if c else "" for c in comments.values()]
    usable = usable_width(section)
    ref_width = int(Cm(min(2.5, max(1.1, 0.2 * max((len(a.ref) for a in view.actions), default=3) + 0.5))))
    minimum = int(Cm(2.2))
    # The term columns share what the text columns leave at their narrowest; a span too long for the page
    # (a plan kept for many years) shows its latest terms, and says so: the Excel file has every one.
    budget = usable - ref_width - minimum * len(text_columns)  # the other text columns and the comment
    narrowest = int(Cm(0.8))
    if len(terms) * narrowest > budget:
        keep = max(1, budget // narrowest)
        document.add_paragraph(
            _("This table shows the latest {n} of the plan's {total} terms; the Excel file has them all.").format(
                n=keep, total=len(terms)
            )
        )
        terms = terms[-keep:]
    term_width = max(narrowest, min(int(Cm(1.15)), budget // max(len(terms), 1)))
    headers = [h for h, _values in text_columns] + [term_label(t, short=True) for t in terms] + [_("Latest comment")]
    columns = [values for _h, values in text_columns] + [[""] for _t in terms] + [comment_values]
    fixed = {0: ref_width} | {len(text_columns) + i: term_width for i in range(len(terms))}
    widths = fit_widths(columns, usable, fixed, minimum=minimum, maximum=int(Cm(9)))

    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers):
        cell.text = text
        _small(cell)
    _bold_row(table.rows[0].cells)
    repeat_header(table)
    current: str | None = None
    for index, action in enumerate(view.actions):
        if action.section and action.section != current:
            current = action.section
            row = table.add_row()
            merged = row.cells[0].merge(row.cells[len(headers) - 1])
            merged.text = _docx_text(action.section)
            for run in merged.paragraphs[0].runs:
                run.bold = True
            shade_cell(merged, SECTION_FILL)
            _small(merged)
        cells = table.add_row().cells
        for i, (_h, values) in enumerate(text_columns):
            cells[i].text = _docx_text(values[index])
        for i, term in enumerate(terms):
            rag_in_cell(cells[len(text_columns) + i], action.rag.get(term, ""))
        comment = comments[action.id]
        if comment is not None:
            cell = cells[-1]
            cell.text = _docx_text(comment.comment)
            meta = cell.add_paragraph()
            meta.add_run(byline(comment)).italic = True
        for cell in cells:
            _small(cell)
    set_widths(table, widths)
    key = document.add_paragraph()
    key.add_run(_("Key:") + " ").bold = True
    for code in view.rag_set:
        rag_run(key, code, TABLE_FONT)
        key.add_run(f" {rag_label(code)} ({rag_meaning(code)})   ")


def report_docx(view: PlanView, summary: ReportSummary, png: bytes) -> bytes:
    """Portrait A4 for the summary, landscape A4 for the grid; the plan's title and term at the top of
    every page, page numbers at the foot, the partnership as author."""
    subject = _("Termly report: {term}").format(term=term_label(summary.term))
    document = new_document(
        view.title, "portrait", document_header(view, subject), author=document_author(view), subject=subject
    )
    section = document.sections[0]
    _title(document, view, summary)
    _summary(document, view, summary)
    _picture(document, png, usable_width(section), usable_height(section))
    _exceptions(document, view, summary)
    _full_table(document, view, summary)
    return save(document)
