"""Plans as people write their ratings (issue 21): scales with keys, combined cells, emoji, term spans,
six- and five-term years, rows and sheets that are not actions; judged on ratings AND comments per term.

A `Rated` spec says what is in the plan (actions with a rating and a comment per term slot) and how it is
written down:

- `scale`: how a rating is written (RAG letters or words, 1-4 numbers, a reversed 1-3 scale, the plan's
  own words, ticks and crosses, emoji, fill colours matched to the key's own colours, a mark whose font
  colour is the rating);
- `key_at`: where the key that translates the scale is (above the table, beside the rows above it or
  beside the table's own rows, on another sheet or table, in the rating column's heading, below the table);
- `cells`: a rating and comment column per term, the rating and its comment in one cell ("A – delayed",
  or "Delayed (Amber)"), or one update column per term whose text leads with the rating ("🟢 Survey done");
- `terms`: terms named with their year, without one ("Autumn RAG" in a plan titled 2025–26), six terms
  (T1…T6), five terms, half-terms, or one unnamed RAG column beside a "Progress (Spring 2026)" column
  whose comments mention other months;
- `extras`: totals rows, a sign-off block, section rows marked only by a pale fill, a cover sheet,
  references typed at the start of the action text, a paragraph before the table that is not a section.

`write_rated(spec)` renders it (csv, tsv, md, xlsx, docx); `spec.expected()` is what a faithful import
holds; `judge(spec, plan)` counts the actions read faithfully (text, and every term's rating and comment).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field

from tests.plan_corpus.generator import OWNER_POOL, TOPICS

Slot = tuple[str, int]  # (term, half 0/1/2)

# How each scale writes G/A/R/B, and the key that explains it: (symbol, meaning, key colour or None).
SCALES: dict[str, dict[str, tuple[str, str, str | None]]] = {
    "letters": {"R": ("R", "Off track", None), "A": ("A", "At risk", None), "G": ("G", "On track", None)},
    "words": {"R": ("Red", "Red", None), "A": ("Amber", "Amber", None), "G": ("Green", "Green", None)},
    "num4": {
        "R": ("1", "Not started", None),
        "A": ("2", "Some progress", None),
        "G": ("3", "On track", None),
        "B": ("4", "Complete", None),
    },
    "num3-reversed": {
        "G": ("1", "On track", None),
        "A": ("2", "Some concerns", None),
        "R": ("3", "Significant concerns", None),
    },
    "own-words": {
        "B": ("Secure", "Complete", None),
        "G": ("Developing", "On track", None),
        "A": ("Emerging", "Some concerns", None),
        "R": ("Not yet", "Not started", None),
    },
    "symbols": {"G": ("✓", "On track", None), "A": ("~", "Some concerns", None), "R": ("✗", "Off track", None)},
    "emoji": {
        "R": ("🔴", "Off track", None),
        "A": ("🟡", "Some concerns", None),
        "G": ("🟢", "On track", None),
        "B": ("🔵", "Complete", None),
    },
    # The colour alone; the key's colours are the plan's own (purple for complete, a pink red).
    "fill-own": {
        "R": ("", "Off track", "FF99CC"),
        "A": ("", "Some slippage", "FFD966"),
        "G": ("", "On target", "A9D08E"),
        "B": ("", "Completed", "7030A0"),
    },
    # A mark whose font colour is the rating (Excel); the key, when there is one, in coloured words.
    "font-marks": {
        "R": ("●", "Off track", "font:C00000"),
        "A": ("●", "Some slippage", "font:FFC000"),
        "G": ("●", "On target", "font:00B050"),
    },
}
COMMENTS = [
    "Survey sent to all heads",
    "Recruitment delayed until spring",
    "Two networks met since November",
    "Data awaited from the LA",
    "Training booked for all staff",
    "Governors briefed at the summer meeting",
    "Pilot in three schools",
    "Funding agreed by the board",
]
TERM_NAMES = {"autumn": "Autumn", "spring": "Spring", "summer": "Summer"}
SHORT = {"autumn": "Aut", "spring": "Spr", "summer": "Sum"}
SIX = [("autumn", 1), ("autumn", 2), ("spring", 1), ("spring", 2), ("summer", 1), ("summer", 2)]
FIVE = [("autumn", 1), ("autumn", 2), ("spring", 0), ("summer", 1), ("summer", 2)]
PALE = "BDD7EE"  # "Blue, Accent 1, lighter 60%": pale, though its hue is blue


@dataclass
class Item:
    ref: str
    text: str
    owners: list[str]
    updates: dict[Slot, tuple[str, str]]  # slot → (code, comment)


@dataclass
class Rated:
    name: str
    fmt: str  # csv | tsv | md | xlsx | docx
    year: int = 2025
    scale: str = "letters"
    key_at: str = "none"  # none | above | beside | alongside | sheet | heading | below
    cells: str = "separate"  # separate | combined | trailing | leading
    terms: str = "named"  # named | noyear | six | five | half | progress
    extras: tuple[str, ...] = ()  # totals | signoff | pale | cover | reftext | paragraph
    n_sections: int = 2
    per_section: int = 3
    seed: int = 1
    items: list[tuple[str, list[Item]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rnd = random.Random(self.seed)
        codes = list(SCALES[self.scale])
        titles = ["Leadership and management", "Quality of education", "Personal development"]
        for s in range(self.n_sections):
            items = []
            for k in range(self.per_section):
                slots = self.slots()
                rated = slots[: rnd.randint(1, len(slots))]
                if self.terms == "progress":
                    rated = slots
                updates = {slot: (rnd.choice(codes), rnd.choice(COMMENTS)) for slot in rated}
                items.append(
                    Item(
                        f"{s + 1}.{k + 1}",
                        f"Improve {rnd.choice(TOPICS)} across the schools, strand {s + 1} step {k + 1}",
                        rnd.sample(OWNER_POOL, 1),
                        updates,
                    )
                )
            self.items.append((f"Priority {s + 1}: {titles[s % len(titles)]}", items))

    # --- what is in it ---------------------------------------------------------------------------------

    def slots(self) -> list[Slot]:
        if self.terms == "six":
            return list(SIX)
        if self.terms == "five":
            return list(FIVE)
        if self.terms == "half":
            return [("autumn", 1), ("autumn", 2), ("spring", 1), ("spring", 2)]
        if self.terms == "progress":
            return [("spring", 0)]
        return [("autumn", 0), ("spring", 0), ("summer", 0)]

    def has_blue(self) -> bool:
        return "B" in SCALES[self.scale]

    def title(self) -> str:
        return f"Northfield Learning Partnership – Priority Action Plan {self.year}–{(self.year + 1) % 100:02d}"

    def one_comment_column(self) -> bool:
        return self.cells == "separate" and self.terms in ("six", "five", "half")

    def expected(self) -> dict[str, tuple[str, dict[tuple[int, str, int | None], tuple[str, str]]]]:
        """ref → (text, {(year, term, half or None): (code, comment)}). With one comment column beside
        half-termly ratings, the comment belongs to the latest rated slot."""
        out = {}
        for _title, items in self.items:
            for item in items:
                ups = {}
                latest = max(item.updates, key=self.slots().index)
                for slot, (code, comment) in item.updates.items():
                    term, half = slot
                    if self.one_comment_column() and slot != latest:
                        comment = ""
                    ups[(self.year, term, half or None)] = (code, comment)
                out[item.ref] = (item.text, ups)
        return out

    # --- how it is written ---------------------------------------------------------------------------

    def symbol(self, code: str) -> str:
        return SCALES[self.scale][code][0]

    def key_entries(self) -> list[tuple[str, str, str | None]]:
        return list(SCALES[self.scale].values())

    def key_line(self) -> str:
        parts = []
        for symbol, meaning, _fill in self.key_entries():
            parts.append(f"{symbol} = {meaning}" if symbol and not self.scale.startswith("font") else meaning)
        return "Key: " + ", ".join(parts)

    def needs_key(self) -> bool:
        return self.scale not in ("letters", "words", "emoji")

    def term_header(self, slot: Slot, kind: str) -> str:
        term, half = slot
        yy = self.year if term == "autumn" else self.year + 1
        if self.terms == "six":
            return f"T{SIX.index(slot) + 1}" + (" comment" if kind == "comment" else "")
        if self.terms == "five":
            return f"Term {FIVE.index(slot) + 1}" + (" comment" if kind == "comment" else "")
        if self.terms == "half":
            return f"{SHORT[term]} {half}" + (" comment" if kind == "comment" else "")
        if self.terms == "noyear":
            return f"{TERM_NAMES[term]} " + {"rag": "RAG", "comment": "commentary", "update": "update"}[kind]
        if self.terms == "progress":
            return "RAG" if kind == "rag" else f"Progress ({TERM_NAMES[term]} {yy})"
        return f"{TERM_NAMES[term]} {yy} " + {"rag": "RAG", "comment": "comment", "update": "update"}[kind]

    def columns(self) -> list[tuple[str, str, Slot | None]]:
        """(header, kind, slot) for every column."""
        cols: list[tuple[str, str, Slot | None]] = []
        if "reftext" not in self.extras:
            cols.append(("Ref", "ref", None))
        cols += [("Key actions", "action", None), ("Lead", "owner", None), ("Timescale", "date", None)]
        for slot in self.slots():
            if self.cells == "leading":
                cols.append((self.term_header(slot, "update"), "update", slot))
            elif self.cells in ("combined", "trailing"):
                cols.append((self.term_header(slot, "rag"), "rag", slot))
            elif self.terms in ("six", "five", "half"):
                cols.append((self.term_header(slot, "rag"), "rag", slot))
            else:
                cols.append((self.term_header(slot, "rag"), "rag", slot))
                cols.append((self.term_header(slot, "comment"), "comment", slot))
        if self.cells == "separate" and self.terms in ("six", "five", "half"):
            cols.append(("Progress comment", "comment-latest", None))
        if self.key_at == "heading" and self.needs_key():
            for n, (header, kind, slot) in enumerate(cols):
                if kind in ("rag", "update"):
                    cols[n] = (f"{header} ({self.key_line()[5:]})", kind, slot)
                    break
        return cols

    def sheet(self) -> list[list[tuple[str, str | None, bool]]]:
        """The main table's rows, as (text, fill, merged across) per cell; the header row is marked by the
        caller (the first row after `above()`)."""
        cols = self.columns()
        width = len(cols)
        rows: list[list[tuple[str, str | None, bool]]] = []
        rows.append([(h, None, False) for h, _k, _s in cols])
        for title, items in self.items:
            if "pale" in self.extras:  # the section's name in the action column; only a pale fill marks it
                action_col = [k for _h, k, _s in cols].index("action")
                band = [("", PALE, False)] * width
                band[action_col] = (title.split(": ", 1)[1], PALE, False)
                rows.append(band)
            else:
                rows.append([(title, None, True)] + [("", None, False)] * (width - 1))
            for item in items:
                latest = max(item.updates, key=self.slots().index)
                row: list[tuple[str, str | None, bool]] = []
                for _header, kind, slot in cols:
                    text, fill = "", None
                    if kind == "ref":
                        text = item.ref
                    elif kind == "action":
                        text = f"{item.ref} {item.text}" if "reftext" in self.extras else item.text
                    elif kind == "owner":
                        text = "; ".join(item.owners)
                    elif kind == "date":
                        text = f"July {self.year + 1}"
                    elif slot is not None and slot in item.updates:
                        code, comment = item.updates[slot]
                        symbol, _m, colour = SCALES[self.scale][code]
                        if kind == "rag":
                            fill = colour
                            text = f"{symbol} – {comment}" if self.cells == "combined" and symbol else symbol
                            if self.cells == "trailing":
                                text = f"{comment} ({symbol})" if symbol else comment
                            if self.cells in ("combined", "trailing") and not symbol:
                                text = comment
                        elif kind == "comment":
                            text = comment
                        elif kind == "update":
                            fill = colour
                            text = f"{symbol} {comment}" if symbol else comment
                    elif kind == "comment-latest":
                        text = item.updates[latest][1]
                    row.append((text, fill, False))
                rows.append(row)
            if "totals" in self.extras:
                n = len(items)
                totals = [("", None, False)] * width
                totals[0] = ("Total", None, False)
                for c, (_h, kind, _s) in enumerate(cols):
                    if kind == "rag":
                        totals[c] = (str(n), None, False)
                        break
                rows.append(totals)
        return rows

    def above(self) -> list[str]:
        lines = [self.title()]
        if "paragraph" in self.extras:
            lines.append("Version 1 – agreed at the board meeting of 12 September")
            lines.append("Why: leadership is the partnership's first priority")
        if self.key_at == "above" and self.needs_key():
            lines.append(self.key_line())
        return lines

    def key_rows(self) -> list[list[tuple[str, str | None]]]:
        out: list[list[tuple[str, str | None]]] = [[("Rating", None), ("Meaning", None)]]
        for symbol, meaning, colour in self.key_entries():
            out.append([(symbol, colour), (meaning, colour)])
        return out

    def below(self) -> list[str]:
        lines = []
        if self.key_at == "below" and self.needs_key():
            lines.append(self.key_line())
        if "signoff" in self.extras:
            lines += ["Signed: ____________ (Chair of the partnership board)", "Date agreed: 12/09/2025"]
        return lines


# ---------------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------------


def _text_grid(spec: Rated) -> list[list[str]]:
    width = len(spec.columns())
    grid: list[list[str]] = [[line] + [""] * (width - 1) for line in spec.above()]
    if spec.key_at == "beside" and spec.needs_key():
        key = spec.key_rows()
        for n, krow in enumerate(key):
            if n < len(grid):
                grid[n] = grid[n] + [""] + [t for t, _f in krow]
            else:
                grid.append([""] * width + [""] + [t for t, _f in krow])
    grid.append([""] * width)
    for row in spec.sheet():
        grid.append([t for t, _f, _m in row])
    grid.append([""] * width)
    for line in spec.below():
        grid.append([line] + [""] * (width - 1))
    return grid


def _delimited(spec: Rated, delimiter: str) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in _text_grid(spec):
        while row and not row[-1]:
            row = row[:-1]
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def _markdown(spec: Rated) -> bytes:
    lines = [f"# {spec.above()[0]}", ""] + [f"{x}\n" for x in spec.above()[1:]]
    if spec.key_at in ("sheet", "beside") and spec.needs_key():
        lines += ["| Rating | Meaning |", "|---|---|"] + [f"| {a} | {b} |" for (a, _f), (b, _g) in spec.key_rows()[1:]]
        lines.append("")
    rows = spec.sheet()
    lines.append("| " + " | ".join(t for t, _f, _m in rows[0]) + " |")
    lines.append("|" + "|".join("---" for _ in rows[0]) + "|")
    for row in rows[1:]:
        lines.append("| " + " | ".join(t for t, _f, _m in row) + " |")
    lines.append("")
    lines += spec.below()
    return "\n".join(lines).encode("utf-8")


def _xlsx(spec: Rated) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    first = book.active
    if "cover" in spec.extras:
        first.title = "Cover"
        first.append([spec.title()])
        first.append(["Version 1 – agreed at the board meeting of 12 September"])
        first.append(["Contents: the plan, the key"])
        sheet = book.create_sheet("Plan")
    else:
        first.title = "Plan"
        sheet = first
    if spec.key_at == "sheet" and spec.needs_key():
        key = book.create_sheet("Key", 0 if "cover" not in spec.extras else 1)
        for r, krow in enumerate(spec.key_rows(), start=1):
            for c, (text, colour) in enumerate(krow, start=1):
                cell = key.cell(r, c, text or None)
                if colour:
                    cell.fill = PatternFill(fill_type="solid", start_color="FF" + colour, end_color="FF" + colour)
                if r == 1:
                    cell.font = Font(bold=True)

    def fill(cell, rgb: str) -> None:  # type: ignore[no-untyped-def]
        cell.fill = PatternFill(fill_type="solid", start_color="FF" + rgb, end_color="FF" + rgb)

    width = len(spec.columns())
    r = 1
    for line in spec.above():
        if line.startswith("Key: ") and spec.scale.startswith(("fill", "font")):
            sheet.cell(r, 1, "Key:")
            for c, (_s, meaning, colour) in enumerate(spec.key_entries(), start=2):
                fill(sheet.cell(r, c, meaning), (colour or "FFFFFF").removeprefix("font:"))
        else:
            sheet.cell(r, 1, line)
            sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        r += 1
    if spec.key_at == "beside" and spec.needs_key():
        for n, krow in enumerate(spec.key_rows()):
            for c, (text, colour) in enumerate(krow):
                cell = sheet.cell(1 + n, width + 2 + c, text or None)
                if colour:
                    fill(cell, colour)
        r = max(r, len(spec.key_rows()) + 1)
    r += 1
    if spec.key_at == "alongside" and spec.needs_key():  # the key beside the table's own rows
        for n, krow in enumerate(spec.key_rows()):
            for c, (text, colour) in enumerate(krow):
                cell = sheet.cell(r + n, width + 2 + c, text or None)
                if colour:
                    fill(cell, colour)
    rows = spec.sheet()
    for n, row in enumerate(rows):
        for c, (text, colour, merged) in enumerate(row, start=1):
            cell = sheet.cell(r, c, text or None)
            if colour and colour.startswith("font:"):
                cell.font = Font(color="FF" + colour.removeprefix("font:"))
            elif colour:
                fill(cell, colour)
            if n == 0:
                cell.font = Font(bold=True)
            if merged:
                sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        r += 1
    r += 1
    for line in spec.below():
        sheet.cell(r, 1, line)
        r += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _docx(spec: Rated) -> bytes:
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()

    def shade(cell, rgb: str) -> None:  # type: ignore[no-untyped-def]
        shd = OxmlElement("w:shd")
        shd.set(qn("w:val"), "clear")
        shd.set(qn("w:fill"), rgb)
        cell._tc.get_or_add_tcPr().append(shd)

    above = spec.above()
    document.add_heading(above[0], level=1)
    for line in above[1:]:
        document.add_paragraph(line)
    if spec.key_at in ("sheet", "beside") and spec.needs_key():
        key = spec.key_rows()
        t = document.add_table(rows=len(key), cols=2)
        for r, krow in enumerate(key):
            for c, (text, colour) in enumerate(krow):
                t.rows[r].cells[c].text = text
                if colour:
                    shade(t.rows[r].cells[c], colour)
    rows = spec.sheet()
    table = document.add_table(rows=0, cols=len(rows[0]))
    for row in rows:
        cells = table.add_row().cells
        if row[0][2]:
            merged = cells[0].merge(cells[-1])
            merged.text = row[0][0]
            continue
        for cell, (text, colour, _m) in zip(cells, row):
            cell.text = text
            if colour:
                shade(cell, colour)
    for line in spec.below():
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def write_rated(spec: Rated) -> tuple[bytes, str]:
    if spec.fmt == "csv":
        return _delimited(spec, ","), f"{spec.name}.csv"
    if spec.fmt == "tsv":
        return _delimited(spec, "\t"), f"{spec.name}.txt"
    if spec.fmt == "md":
        return _markdown(spec), f"{spec.name}.md"
    if spec.fmt == "xlsx":
        return _xlsx(spec), f"{spec.name}.xlsx"
    if spec.fmt == "docx":
        return _docx(spec), f"{spec.name}.docx"
    if spec.fmt in ("xls", "ods", "html", "pdf"):  # the formats' own writers, from the same rows (no colours)
        from tests.plan_corpus.formats import write_rows

        return write_rows(_text_grid(spec), spec.fmt), f"{spec.name}.{spec.fmt}"
    raise ValueError(spec.fmt)


# ---------------------------------------------------------------------------------------------------------
# The judge
# ---------------------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(text.split()).strip(" .").lower()


def faithful_actions(spec: Rated, plan: object) -> tuple[int, int, list[str]]:
    """(actions read faithfully, actions judged, why each other one is not). Faithful: its reference, its
    text, and for every term slot the rating and the comment; nothing rated that was not. Anything read as
    an action that is not one (a totals row, a key, a section band) counts as one more unfaithful action."""
    expected = spec.expected()
    blue = spec.has_blue()
    got = {a.ref: a for a in getattr(plan, "actions", [])}
    ok, why = 0, []
    for ref, (text, updates) in expected.items():
        action = got.get(ref)
        if action is None:
            why.append(f"{ref}: missing")
            continue
        if _norm(action.text) != _norm(text):
            why.append(f"{ref}: text {action.text[:40]!r}")
            continue
        have = {}
        for u in action.history:
            have[(u.academic_year, u.term, u.half_term)] = (u.rag, u.comment)
        want = {}
        for slot, (code, comment) in updates.items():
            want[slot] = ("B" if blue else "G") if code == "B" else code, comment
        bad = ""
        for slot, (code, comment) in want.items():
            rag, said = have.get(slot, (None, ""))
            if rag != code:
                bad = f"{slot} rating {rag} ≠ {code}"
                break
            if comment and (not said or _norm(comment) not in _norm(said)):
                bad = f"{slot} comment {said[:40]!r}"
                break
        if not bad:
            extra = [s for s, (rag, _c) in have.items() if rag and s not in want]
            if extra:
                bad = f"rated where it was not: {extra[0]}"
        if bad:
            why.append(f"{ref}: {bad}")
        else:
            ok += 1
    extra = [ref for ref in got if ref not in expected]
    why += [f"{ref}: not an action in the plan, read as one" for ref in extra]
    return ok, len(expected) + len(extra), why


# Every dimension, several values each; formats as the repository reads them.
RATED_CORPUS: list[Rated] = [
    Rated("num4-key-above-csv", "csv", scale="num4", key_at="above"),
    Rated("num4-key-above-xlsx", "xlsx", scale="num4", key_at="above", year=2024, seed=2),
    Rated("num3-reversed-key-sheet", "xlsx", scale="num3-reversed", key_at="sheet", seed=3),
    Rated("num3-reversed-key-below-tsv", "tsv", scale="num3-reversed", key_at="below", year=2019, seed=4),
    Rated("own-words-key-beside", "xlsx", scale="own-words", key_at="beside", seed=5),
    Rated("own-words-key-table-docx", "docx", scale="own-words", key_at="sheet", year=2022, seed=6),
    Rated("symbols-key-heading-md", "md", scale="symbols", key_at="heading", seed=7),
    Rated("symbols-key-above-docx", "docx", scale="symbols", key_at="above", year=2021, seed=8),
    Rated("fill-own-key-above-xlsx", "xlsx", scale="fill-own", key_at="above", seed=9),
    Rated("fill-own-key-sheet-xlsx", "xlsx", scale="fill-own", key_at="sheet", year=2023, seed=10),
    Rated("letters-combined-csv", "csv", scale="letters", cells="combined", seed=11),
    Rated("words-combined-docx", "docx", scale="words", cells="combined", year=2020, seed=12),
    Rated("num4-combined-key-above-xlsx", "xlsx", scale="num4", cells="combined", key_at="above", seed=13),
    Rated("emoji-leading-md", "md", scale="emoji", cells="leading", seed=14),
    Rated("emoji-leading-xlsx", "xlsx", scale="emoji", cells="leading", year=2018, seed=15),
    Rated("emoji-separate-tsv", "tsv", scale="emoji", seed=16),
    Rated("noyear-title-csv", "csv", terms="noyear", seed=17),
    Rated("noyear-title-xlsx", "xlsx", terms="noyear", scale="words", year=2017, seed=18),
    Rated("six-terms-csv", "csv", terms="six", seed=19),
    Rated("six-terms-xlsx", "xlsx", terms="six", scale="num4", key_at="above", year=2024, seed=20),
    Rated("five-terms-docx", "docx", terms="five", scale="letters", seed=21),
    Rated("half-terms-md", "md", terms="half", scale="emoji", seed=22),
    Rated("progress-header-csv", "csv", terms="progress", seed=23),
    Rated("progress-header-xlsx", "xlsx", terms="progress", scale="words", year=2021, seed=24),
    Rated("totals-signoff-csv", "csv", extras=("totals", "signoff"), seed=25),
    Rated("totals-signoff-xlsx", "xlsx", extras=("totals", "signoff"), scale="words", seed=26),
    Rated("pale-sections-xlsx", "xlsx", extras=("pale",), seed=27),
    Rated("pale-sections-docx", "docx", extras=("pale",), scale="words", year=2022, seed=28),
    Rated("cover-sheet-key-sheet", "xlsx", extras=("cover",), scale="num4", key_at="sheet", seed=29),
    Rated("reftext-paragraph-docx", "docx", extras=("reftext", "paragraph"), seed=30),
    Rated("reftext-paragraph-csv", "csv", extras=("reftext", "paragraph"), scale="words", year=2016, seed=31),
    # Combinations, in other formats and years.
    Rated("num4-key-below-docx", "docx", scale="num4", key_at="below", year=2015, seed=40),
    Rated("num3-reversed-key-heading-csv", "csv", scale="num3-reversed", key_at="heading", year=2026, seed=41),
    Rated("own-words-key-above-md", "md", scale="own-words", key_at="above", year=2014, seed=42),
    Rated("symbols-key-sheet-xlsx", "xlsx", scale="symbols", key_at="sheet", year=2019, seed=43),
    Rated("fill-own-key-beside-xlsx", "xlsx", scale="fill-own", key_at="beside", year=2020, seed=44),
    Rated("emoji-leading-docx", "docx", scale="emoji", cells="leading", year=2023, seed=45),
    Rated("emoji-combined-csv", "csv", scale="emoji", cells="combined", year=2022, seed=46),
    Rated("six-terms-emoji-leading-md", "md", terms="six", scale="emoji", cells="leading", seed=47),
    Rated("five-terms-key-sheet-xlsx", "xlsx", terms="five", scale="num3-reversed", key_at="sheet", seed=48),
    Rated("noyear-combined-docx", "docx", terms="noyear", cells="combined", scale="words", year=2018, seed=49),
    Rated("progress-header-docx", "docx", terms="progress", scale="letters", year=2024, seed=50),
    Rated("totals-pale-docx", "docx", extras=("totals", "pale", "signoff"), scale="num4", key_at="above", seed=51),
    Rated("six-terms-pale-xlsx", "xlsx", terms="six", extras=("pale", "totals"), scale="words", seed=52),
    Rated("num4-key-alongside-xlsx", "xlsx", scale="num4", key_at="alongside", year=2023, seed=56),
    Rated("own-words-key-alongside-xlsx", "xlsx", scale="own-words", key_at="alongside", seed=57),
    Rated("words-trailing-csv", "csv", scale="words", cells="trailing", year=2019, seed=58),
    Rated("num4-trailing-key-above-docx", "docx", scale="num4", cells="trailing", key_at="above", seed=59),
    Rated("num4-key-above-xls", "xls", scale="num4", key_at="above", year=2022, seed=60),
    Rated("six-terms-combined-ods", "ods", terms="six", cells="combined", scale="words", seed=61),
    Rated("emoji-leading-html", "html", scale="emoji", cells="leading", year=2024, seed=62),
    Rated("num3-reversed-key-below-pdf", "pdf", scale="num3-reversed", key_at="below", year=2016, seed=63),
    Rated("font-marks-xlsx", "xlsx", scale="font-marks", year=2021, seed=54),
    Rated("font-marks-key-above-xlsx", "xlsx", scale="font-marks", key_at="above", cells="combined", seed=55),
    Rated("half-terms-combined-tsv", "tsv", terms="half", cells="combined", scale="letters", year=2017, seed=53),
    Rated(
        "everything-xlsx",
        "xlsx",
        scale="num4",
        key_at="sheet",
        cells="combined",
        terms="noyear",
        extras=("totals", "signoff", "pale", "cover", "reftext"),
        seed=32,
    ),
]
