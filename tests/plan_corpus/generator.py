"""A generator of action plans in the shapes partnerships keep, with what a faithful import must hold.

A `Spec` says what is in the plan (sections, actions with their references, owners and ratings per term)
and how it is laid out (references, sections as rows / an aim column / separate tables, termly, half-termly
or unnamed RAG columns, ratings as letters / words / emoji / fill colour, a key above the header, title
rows, blank lines, continuation rows). `write(spec)` renders it as CSV (several encodings), TSV, Markdown,
XLSX or DOCX; `spec.expected()` is what parse_plan must return.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field

OWNER_POOL = [
    "AD Learning & Skills",
    "Ruth Ellison (SENDCo, St Aidan's)",
    "J. Osei (English lead)",
    "Kerry Walsh",
    "Tom Adeyemi",
    "Head of School Improvement",
    "Data & Performance Manager",
    "M Rock",
    "Dr A Khan",
    "Sarah O'Neill",
    "Virtual School Head",
    "Chair of Governors",
]
TOPICS = [
    "attendance",
    "reading",
    "phonics",
    "maths mastery",
    "SEND provision",
    "transition",
    "governance",
    "recruitment",
    "early years",
    "behaviour",
    "curriculum",
    "assessment",
    "CPD for middle leaders",
]
SECTION_TITLES = [
    "Quality of education",
    "Behaviour and attitudes",
    "Leadership and management",
    "Personal development",
    "Early years",
]
WORDS = {
    "G": ["On track", "Green", "on-track", "Good progress"],
    "A": ["Some concerns", "Amber", "Slipping", "At risk"],
    "R": ["Off track", "Red", "Not started", "Significant concerns"],
    "B": ["Achieved", "Complete"],
}
EMOJI = {"G": "🟢", "A": "🟠", "R": "🔴", "B": "🔵"}
FILLS = {"G": "00B050", "A": "FFC000", "R": "FF0000", "B": "0070C0"}
TERMS = ("autumn", "spring", "summer")
SHORT = {"autumn": "Aut", "spring": "Spr", "summer": "Sum"}


@dataclass
class Action:
    ref: str | None
    text: str
    owners: list[str]
    ratings: dict[tuple[str, int], str]  # (term, half 0/1/2) → code
    more_text: str = ""  # a continuation row adds this to the text
    more_owner: str = ""  # ... and this owner
    continued: bool = False  # a continuation row follows


@dataclass
class Spec:
    name: str
    fmt: str  # csv | tsv | md | xlsx | docx
    year: int = 2016
    refs: str = "numeric"  # numeric | letter | alnum | none
    sections: str = "rows"  # rows | column | tables
    terms: str = "termly"  # termly | half | unnamed
    ratings: str = "letters"  # letters | words | emoji | fill | mixed
    legend: bool = False
    title_rows: bool = True
    blank_between: bool = False
    continuation: bool = False
    encoding: str = "utf-8"
    n_sections: int = 3
    per_section: int = 3
    owner_sep: str = "; "
    seed: int = 1
    plan: list[tuple[str, list[Action]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rnd = random.Random(self.seed)
        codes = ["G", "A", "R"] + (["B"] if self.legend or self.ratings in ("fill", "emoji") else [])
        slots = self.slots()
        for s in range(self.n_sections):
            title = (
                f"{s + 1}. {SECTION_TITLES[s % len(SECTION_TITLES)]}"
                if self.sections == "rows"
                else SECTION_TITLES[s % len(SECTION_TITLES)] + ("" if s < len(SECTION_TITLES) else f" {s + 1}")
            )
            actions = []
            for k in range(self.per_section):
                ref = {
                    "numeric": f"{s + 1}.{k + 1}",
                    "letter": f"{'abcdefghijklmnopqrstuvwxyz'[(s * self.per_section + k) % 26]})",
                    "alnum": f"{s + 1}{'abcdefghijklmnopqrstuvwxyz'[k % 26]}",
                    "none": None,
                }[self.refs]
                if self.refs == "letter" and s * self.per_section + k >= 26:
                    ref = f"{s + 1}{'abcdefghijklmnopqrstuvwxyz'[k % 26]})"
                owners = rnd.sample(OWNER_POOL, rnd.choice([1, 1, 2]))
                rated = {slot: rnd.choice(codes) for slot in slots[: rnd.randint(1, len(slots))]}
                cont = self.continuation and k % 2 == 1
                # In Word the owner cell is merged down over the continuation row instead of naming another.
                actions.append(
                    Action(
                        ref,
                        f"Improve {rnd.choice(TOPICS)} across schools, step {s + 1}.{k + 1}",
                        owners,
                        rated,
                        "and report to the board" if cont and self.refs != "none" else "",
                        "Scrutiny Officer" if cont and self.fmt != "docx" else "",
                        cont,
                    )
                )
            self.plan.append((title, actions))

    def slots(self) -> list[tuple[str, int]]:
        if self.terms == "half":
            return [(t, h) for t in TERMS for h in (1, 2)]
        if self.terms == "unnamed":
            return [("summer", 0)]
        return [(t, 0) for t in TERMS]

    def columns(self) -> list[str]:
        yy = lambda term: f"{(self.year if term == 'autumn' else self.year + 1) % 100:02d}"  # noqa: E731
        cols = ["Ref"] if self.refs != "none" else []
        if self.sections == "column":
            cols.append("Objective")
        cols += ["Key actions", "Lead", "Timescale"]
        if self.terms == "half":
            cols += [f"{SHORT[t]} {h}" for t, h in self.slots()]
        elif self.terms == "unnamed":
            cols += ["RAG"]
        else:
            cols += [f"{SHORT[t]} {yy(t)}" for t, _h in self.slots()]
        return cols + ["Notes"]

    def title(self) -> str:
        return f"Harbour Partnership school improvement plan {self.year}-{(self.year + 1) % 100:02d}"

    def expected(self) -> dict:
        refs, owners, texts, ratings, sections = [], {}, {}, {}, []
        for s, (title, actions) in enumerate(self.plan):
            sections.append(title)
            for k, a in enumerate(actions):
                ref = a.ref or f"{s + 1}.{k + 1}"
                refs.append(ref)
                owners[ref] = a.owners + ([a.more_owner] if a.more_owner and a.more_owner not in a.owners else [])
                texts[ref] = f"{a.text} {a.more_text}".strip()
                has_blue = self.legend or any(
                    c == "B" for _t, acts in self.plan for x in acts for c in x.ratings.values()
                )
                ratings[ref] = sorted(
                    (self.year, term, half or None, ("B" if has_blue else "G") if code == "B" else code)
                    for (term, half), code in a.ratings.items()
                )
        return {
            "refs": refs,
            "owners": owners,
            "texts": texts,
            "ratings": ratings,
            "sections": sections,
            "generated": self.refs == "none",
        }

    # --- cells ---------------------------------------------------------------------------------------

    def rating_text(self, code: str, n: int) -> str:
        mode = self.ratings if self.ratings != "mixed" else ["letters", "words", "emoji"][n % 3]
        if mode == "letters":
            return code
        if mode == "words":
            return WORDS[code][n % len(WORDS[code])]
        if mode == "emoji":
            return EMOJI[code]
        return ""  # fill: the colour alone

    def rows(self) -> list[tuple[str, list[str], dict[int, str]]]:
        """(kind, cells, fills by column) for every row below the header."""
        out: list[tuple[str, list[str], dict[int, str]]] = []
        cols = self.columns()
        width = len(cols)
        n = 0
        for title, actions in self.plan:
            if self.sections in ("rows", "tables"):
                out.append(("section", [title] + [""] * (width - 1), {}))
            for k, a in enumerate(actions):
                cells, fills = [], {}
                if self.refs != "none":
                    cells.append(a.ref or "")
                if self.sections == "column":
                    cells.append(title if k == 0 else "")
                sep = self.owner_sep if self.fmt not in ("xlsx", "docx") or self.owner_sep != "\n" else "\n"
                cells += [a.text, sep.join(a.owners), f"By July {self.year + 1}"]
                for slot in self.slots():
                    code = a.ratings.get(slot)
                    n += 1
                    if code is None:
                        cells.append("")
                        continue
                    text = self.rating_text(code, n)
                    if not text:
                        fills[len(cells)] = FILLS[code]
                    cells.append(text)
                cells.append("Progress noted")
                out.append(("action", cells, fills))
                if a.continued:
                    more = [""] * width
                    more[cols.index("Key actions")] = a.more_text
                    more[cols.index("Lead")] = a.more_owner
                    out.append(("continuation", more, {}))
                if self.blank_between:
                    out.append(("blank", [""] * width, {}))
        return out

    def above(self) -> list[tuple[list[str], dict[int, str]]]:
        rows: list[tuple[list[str], dict[int, str]]] = []
        if self.title_rows:
            rows.append(([self.title()], {}))
        if self.legend:
            rows.append(
                (
                    ["Key:", "Achieved", "On track", "Some concerns", "Off track"],
                    {1: FILLS["B"], 2: FILLS["G"], 3: FILLS["A"], 4: FILLS["R"]},
                )
            )
        return rows


# ---------------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------------


def _delimited(spec: Spec, delimiter: str) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for cells, _f in spec.above():
        writer.writerow(cells)
    writer.writerow([])
    writer.writerow(spec.columns())
    for kind, cells, _fills in spec.rows():
        writer.writerow([] if kind == "blank" else cells)
    text = out.getvalue()
    if spec.encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(spec.encoding)


def _markdown(spec: Spec) -> bytes:
    lines = [f"# {spec.title()}", ""] if spec.title_rows else []
    cols = spec.columns()

    def table_head() -> None:
        lines.append("| " + " | ".join(cols) + " |")
        lines.append("|" + "|".join("---" for _ in cols) + "|")

    if spec.sections != "tables":
        table_head()
    for kind, cells, _f in spec.rows():
        if kind == "section" and spec.sections == "tables":
            lines.extend(["", f"## {cells[0]}", ""])
            table_head()
            continue
        if kind == "blank":
            continue
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", "<br>") for c in cells) + " |")
    return "\n".join(lines).encode(spec.encoding)


def _xlsx(spec: Spec) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "Plan"
    width = len(spec.columns())

    def fill(cell, rgb: str) -> None:  # type: ignore[no-untyped-def]
        cell.fill = PatternFill(fill_type="solid", start_color="FF" + rgb, end_color="FF" + rgb)

    r = 1
    for cells, fills in spec.above():
        for c, value in enumerate(cells, start=1):
            sheet.cell(r, c, value)
            if c - 1 in fills:
                fill(sheet.cell(r, c), fills[c - 1])
        if len(cells) == 1:
            sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        r += 1
    r += 1
    for c, value in enumerate(spec.columns(), start=1):
        sheet.cell(r, c, value).font = Font(bold=True)
    r += 1
    for kind, cells, fills in spec.rows():
        if kind != "blank":
            for c, value in enumerate(cells, start=1):
                if value:
                    sheet.cell(r, c, value)
                if c - 1 in fills:
                    fill(sheet.cell(r, c), fills[c - 1])
            if kind == "section":
                sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        r += 1
    other = book.create_sheet("Budget")
    other.append(["Line", "Amount"])
    other.append(["Supply cover", 3100])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _docx(spec: Spec) -> bytes:
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    if spec.title_rows:
        document.add_heading(spec.title(), level=1)
    cols = spec.columns()

    def shade(cell, rgb: str) -> None:  # type: ignore[no-untyped-def]
        shd = OxmlElement("w:shd")
        shd.set(qn("w:val"), "clear")
        shd.set(qn("w:fill"), rgb)
        cell._tc.get_or_add_tcPr().append(shd)

    table = None
    owner_col = cols.index("Lead")

    def new_table():  # type: ignore[no-untyped-def]
        t = document.add_table(rows=1, cols=len(cols))
        for cell, text in zip(t.rows[0].cells, cols):
            cell.text = text
        return t

    if spec.sections != "tables":
        table = new_table()
    previous_owner_cell = None
    for kind, cells, fills in spec.rows():
        if kind == "section" and spec.sections == "tables":
            document.add_heading(cells[0], level=2)
            table = new_table()
            continue
        if kind == "blank":
            continue
        assert table is not None
        row = table.add_row().cells
        if kind == "section":
            merged = row[0].merge(row[-1])
            merged.text = cells[0]
            continue
        for c, (cell, text) in enumerate(zip(row, cells)):
            if c == owner_col and kind == "continuation" and previous_owner_cell is not None:
                previous_owner_cell.merge(cell)  # vMerge: the owner over both rows
                continue
            cell.text = text
            if c in fills:
                shade(cell, fills[c])
        if kind == "action":
            previous_owner_cell = row[owner_col]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def write(spec: Spec) -> tuple[bytes, str]:
    """The file's bytes and its name."""
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
    raise ValueError(spec.fmt)


CORPUS: list[Spec] = [
    Spec("csv-utf8-numeric", "csv"),
    Spec("csv-bom-words-blank-lines", "csv", encoding="utf-8-sig", ratings="words", blank_between=True, year=2019),
    Spec(
        "csv-cp1252-aim-column-no-refs",
        "csv",
        encoding="cp1252",
        refs="none",
        sections="column",
        ratings="words",
        year=2021,
    ),
    Spec("csv-utf16-half-terms", "csv", encoding="utf-16", terms="half", year=2023, refs="alnum"),
    Spec("tsv-letters-continuations", "tsv", refs="letter", continuation=True, blank_between=True, year=2017),
    Spec("tsv-unnamed-rag", "tsv", terms="unnamed", ratings="words", year=2018),
    Spec("md-tables-per-section", "md", sections="tables", ratings="emoji", year=2014),
    Spec("md-aim-column-mixed", "md", sections="column", ratings="mixed", refs="alnum", year=2020),
    Spec("xlsx-legend-fills-half-terms", "xlsx", legend=True, ratings="fill", terms="half", refs="alnum", year=2023),
    Spec("xlsx-words-merged-sections", "xlsx", ratings="words", year=2022, owner_sep="\n"),
    Spec("xlsx-no-title-unnamed", "xlsx", title_rows=True, terms="unnamed", refs="none", year=2015),
    Spec("xlsx-big", "xlsx", n_sections=5, per_section=40, ratings="mixed", year=2024, seed=7),
    Spec("docx-shading-vmerge", "docx", ratings="fill", continuation=True, year=2022),
    Spec("docx-tables-per-section-words", "docx", sections="tables", ratings="words", refs="letter", year=2019),
    Spec("docx-merged-section-rows-emoji", "docx", ratings="emoji", legend=False, year=2021, refs="alnum"),
    Spec(
        "csv-big-continuations",
        "csv",
        n_sections=4,
        per_section=60,
        continuation=True,
        refs="numeric",
        ratings="words",
        year=2020,
        seed=3,
    ),
    Spec("tsv-cp1252-column-letters", "tsv", encoding="cp1252", sections="column", refs="letter", year=2016),
    Spec("md-half-terms-no-refs", "md", refs="none", terms="half", ratings="words", year=2023),
]
