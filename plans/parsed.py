"""What reading a plan produces, and how a caller corrects it (pure dataclasses).

`plans.importer.parse_plan(data, filename, overrides=None) -> ParsedPlan`.

The result carries, besides the sections and actions, everything the preview needs to let the coordinator
check and correct the reading before anything is saved:

- `tables[i].columns`: which column became which field (`ColumnMapping`), how sure the importer was
  (`confidence`, `guessed`), the header row(s) chosen (`header_lines`), and, for a RAG column that names no
  term, the term assumed and why (`TableReading.term_assumption`);
- `counts` (rows read, actions, continuations, sections, ratings, "not read");
- `not_read`: every source row or part of the file not used, with its line and the reason.

A corrected mapping goes back in as `PlanOverrides` and the file is parsed again:
`parse_plan(data, filename, overrides=PlanOverrides(columns={"By whom": "owner"}, term=(2016, "spring")))`.
`PlanOverrides.from_options(["By whom=owners"], term="Spring 2017")` reads the command line's options and
`to_dict` / `from_dict` keep overrides in JSON (chat user_data) between button presses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from core.i18n import N_, _
from core.ingest.model import NotRead

TermKey = tuple[int, str]  # (academic year's start, "autumn" | "spring" | "summer")

# The fields a column can hold. "rag" and "comment" may be per term (several columns), the rest one column each.
FIELDS: tuple[str, ...] = (
    "ref",
    "section",
    "action",
    "owner",
    "milestones",
    "date",
    "impact",
    "kpis",
    "funding",
    "reporting",
    "rag",
    "comment",
)
EXTRA = "extra"  # kept with the action as extra detail, under its header
IGNORE = "ignore"  # not read at all (listed as such in the preview)
TARGETS: tuple[str, ...] = FIELDS + (EXTRA, IGNORE)

FIELD_LABELS: dict[str, str] = {
    "ref": N_("Reference"),
    "section": N_("Section / aim"),
    "action": N_("Action"),
    "owner": N_("Owners"),
    "milestones": N_("Milestones"),
    "date": N_("Dates"),
    "impact": N_("Impact"),
    "kpis": N_("KPIs"),
    "funding": N_("Funding"),
    "reporting": N_("Reporting"),
    "rag": N_("RAG rating"),
    "comment": N_("Progress comment"),
    EXTRA: N_("Extra detail"),
    IGNORE: N_("Ignored"),
}

# What people may type for a field (command line, chat): plural and everyday names.
FIELD_ALIASES: dict[str, str] = {
    "owners": "owner",
    "lead": "owner",
    "leads": "owner",
    "who": "owner",
    "by whom": "owner",
    "responsible": "owner",
    "reference": "ref",
    "number": "ref",
    "no": "ref",
    "id": "ref",
    "aim": "section",
    "objective": "section",
    "recommendation": "section",
    "priority": "section",
    "actions": "action",
    "task": "action",
    "milestone": "milestones",
    "dates": "date",
    "timescale": "date",
    "timeline": "date",
    "when": "date",
    "kpi": "kpis",
    "success criteria": "kpis",
    "budget": "funding",
    "cost": "funding",
    "status": "rag",
    "rating": "rag",
    "comments": "comment",
    "progress": "comment",
    "notes": "comment",
    "skip": IGNORE,
    "none": IGNORE,
    "-": IGNORE,
    "keep": EXTRA,
    "other": EXTRA,
}


def field_label(name: str) -> str:
    return _(FIELD_LABELS[name])


def normalise_target(name: str) -> str | None:
    """'owners', 'Owner', 'by whom' → 'owner'; 'ignore' → 'ignore'; unknown → None."""
    key = " ".join(name.strip().lower().replace("_", " ").split())
    if key in TARGETS:
        return key
    if key in FIELD_ALIASES:
        return FIELD_ALIASES[key]
    for target, label in FIELD_LABELS.items():  # the labels the preview shows (in English and translated)
        if key in (label.lower(), _(label).lower()):
            return target
    return None


# ---------------------------------------------------------------------------------------------------------
# The mapping and how it was chosen
# ---------------------------------------------------------------------------------------------------------


@dataclass
class ColumnMapping:
    """One column of a table and what it was read as."""

    column: int  # 0-based column index in the table
    header: str  # as written; headings over several rows joined with " / " ("RAG rated / Aut 16")
    field: str  # one of TARGETS
    term: TermKey | None = None  # rag/comment columns for one term
    half_term: int | None = None  # 1 or 2 for half-termly columns ("Aut 1"), filed under `term`
    confidence: float = 1.0  # 0..1: 1 for a known header, lower for word/content guesses
    guessed: bool = False  # the importer was unsure: the preview offers to change it
    how: str = "header"  # header | words | content | position | colour | override

    @property
    def label(self) -> str:
        return field_label(self.field)


@dataclass
class TermAssumption:
    """The term given to ratings in a RAG column that names none, and why."""

    column: int
    header: str
    term: TermKey
    source: str  # title | heading | dates | comments | filename | override | today
    reason: str  # translated, for the preview: "from the plan's title '… 2016-17'"


@dataclass
class TableReading:
    """How one table of the file was read."""

    index: int  # position among the file's tables (0-based)
    where: str  # "line 12", "sheet 'Plan' row 5", "table 2 row 1"
    title: str
    header_lines: list[int] = field(default_factory=list)  # line(s) of the header row(s) used, top first
    header_candidates: list[int] = field(default_factory=list)  # other lines that could be the header
    columns: list[ColumnMapping] = field(default_factory=list)
    term_assumption: TermAssumption | None = None
    refs_generated: bool = False  # the table had no references: they were numbered by the importer
    used: bool = True  # False: the table holds no actions (listed in not_read)

    def column_for(self, name: str) -> ColumnMapping | None:
        return next((c for c in self.columns if c.field == name), None)


@dataclass
class Counts:
    rows: int = 0  # source rows below the header(s), blank ones not counted
    actions: int = 0
    continuations: int = 0  # rows that continued the action above
    sections: int = 0  # section / aim rows and tables
    ratings: int = 0  # RAG ratings read (words, letters, emoji or colour)
    ratings_from_colour: int = 0
    ratings_in_comments: int = 0  # ratings that led an update in a comment column ("🟢 Survey done")
    generated_refs: int = 0  # actions numbered by the importer
    not_read: int = 0
    blank: int = 0
    tables: int = 0


# ---------------------------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------------------------


class PlanImportError(Exception):
    """The file holds no plan we can read; the message says why (translated)."""


class PlanTooLarge(PlanImportError):
    """The file is over a size limit (rows, columns, spans, bytes ...); the message names it."""


@dataclass
class PlanWarning:
    where: str  # "line 12", "sheet 'Plan' row 4", "" for the whole file
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass
class ParsedUpdate:
    academic_year: int
    term: str
    rag: str | None
    comment: str = ""
    half_term: int | None = None  # the later half-term that rated it, for half-termly plans
    from_colour: bool = False  # read from the cell's fill or shading alone


@dataclass
class ParsedAction:
    ref: str
    text: str
    impact: str = ""
    owners: list[str] = field(default_factory=list)  # whole names ("AD Learning & Skills" is one)
    owners_text: str = ""
    milestones: list[dict] = field(default_factory=list)  # {"text", "when", "date" (ISO or None)}
    milestones_text: str = ""  # the Milestones cell as written
    timeline: str = ""
    kpis: str = ""
    funding: str = ""
    reporting: str = ""
    due_date: dt.date | None = None
    extra: dict[str, str] = field(default_factory=dict)
    history: list[ParsedUpdate] = field(default_factory=list)
    where: str = ""  # where the row was read, for messages
    own_ref: bool = False  # the plan gave this reference itself
    ref_as_written: str = ""  # the reference exactly as in the file ('' when generated)
    aim: str = ""  # the objective / recommendation / priority the action serves, when the plan has one
    line: int | None = None  # the source line of the action's first row
    lines: list[int] = field(default_factory=list)  # every source line the action was read from

    @property
    def ref_generated(self) -> bool:
        return not self.own_ref


@dataclass
class ParsedSection:
    title: str
    kpis: str = ""
    actions: list[ParsedAction] = field(default_factory=list)
    line: int | None = None  # the section row or heading's line, when it had one


# What a row of the file was read as (`RowReading.kind`). The first four are what a coordinator may make a row
# of the table below its header (`PlanOverrides.rows`); "skip" is shown as "not read".
ROW_KINDS: tuple[str, ...] = ("action", "section", "continuation", "skip")
ROW_KIND_LABELS: dict[str, str] = {
    "action": N_("Action"),
    "section": N_("Section heading"),
    "continuation": N_("Continues the action above"),
    "skip": N_("Not read"),
    "header": N_("Header row"),
    "title": N_("Title or note"),
    "note": N_("Note"),
    "key": N_("Rating key"),
}
MAX_ROW_OVERRIDES = 2000  # corrections of rows one file may carry (a plan's rows, with room)


def row_kind_label(kind: str) -> str:
    return _(ROW_KIND_LABELS.get(kind, ROW_KIND_LABELS["skip"]))


@dataclass
class RowReading:
    """One non-blank row of the file and what the reader made of it, in the file's order: nothing is used or
    dropped without being listed here."""

    table: int  # the table's index among the file's tables (0-based)
    line: int  # its source line (sheet row, table row)
    where: str  # "line 12", "sheet 'Plan' row 5"
    kind: str  # action | continuation | section | note | title | header | key | skip (not read)
    reason: str  # translated: why the reader read it so
    text: str  # a short text of the row ("1.2 | Recruit mentors | AB")
    ref: str = ""  # for an action its reference; for a continuation the reference of the action it continues
    of_line: int | None = None  # a continuation: the line of the action it continues
    editable: bool = False  # a row of the table below its header: the coordinator may change its kind
    forced: bool = False  # read as the coordinator said

    @property
    def choice(self) -> str:
        """The kind as the review's select shows it (one of ROW_KINDS)."""
        if self.kind in ("action", "continuation", "section"):
            return self.kind
        return "section" if self.kind == "note" else "skip"


@dataclass
class ParsedPlan:
    title: str
    partnership: str | None = None
    year: str | None = None  # "2016-17"
    sections: list[ParsedSection] = field(default_factory=list)
    warnings: list[PlanWarning] = field(default_factory=list)
    rag_set: str = "R,A,G"
    success_criteria: str | None = None
    source_name: str = ""
    format: str = ""
    tables: list[TableReading] = field(default_factory=list)  # how each table was read
    counts: Counts = field(default_factory=Counts)
    not_read: list[NotRead] = field(default_factory=list)
    overrides: PlanOverrides | None = None  # what the caller asked for (None: nothing)
    # The plan's rating key as read (symbol or "#RRGGBB", meaning, code R/A/G/B) and where it was found.
    rating_key: list[tuple[str, str, str]] = field(default_factory=list)
    rating_key_where: list[str] = field(default_factory=list)
    unknown_values: dict[str, int] = field(default_factory=dict)  # rating-column values no key matched
    # Where a faithful import would not happen (few ratings, comments with no rating, values no key
    # matched): shown first in the preview, each with what the coordinator can do about it.
    alerts: list[str] = field(default_factory=list)
    rows: list[RowReading] = field(default_factory=list)  # every non-blank row of every table, in order

    @property
    def actions(self) -> list[ParsedAction]:
        return [a for s in self.sections for a in s.actions]

    @property
    def terms(self) -> list[TermKey]:
        from core.terms import Term

        seen = {(u.academic_year, u.term) for a in self.actions for u in a.history}
        return sorted(seen, key=lambda t: Term(*t))

    @property
    def mapping(self) -> list[ColumnMapping]:
        """The main table's mapping (the first table read): what the preview shows first."""
        used = [t for t in self.tables if t.used]
        return used[0].columns if used else []

    @property
    def refs_generated(self) -> bool:
        return any(a.ref_generated for a in self.actions)

    @property
    def guessed(self) -> list[tuple[TableReading, ColumnMapping]]:
        """Columns the importer was unsure of, for the preview's buttons."""
        return [(t, c) for t in self.tables if t.used for c in t.columns if c.guessed]

    @property
    def term_assumptions(self) -> list[TermAssumption]:
        return [t.term_assumption for t in self.tables if t.term_assumption is not None]


# ---------------------------------------------------------------------------------------------------------
# Overrides: the caller's corrections, parsed again
# ---------------------------------------------------------------------------------------------------------


@dataclass
class PlanOverrides:
    """Corrections to the importer's reading.

    - `columns`: header text (as written, case-insensitive; joined multi-row headers match on any part) or
      0-based column index → a target in TARGETS (aliases such as "owners" accepted). Applies to every table
      with that header / column.
    - `column_terms`: header or index → the term of that RAG/comment column.
    - `header_row`: the source line of the header row (the table containing that line uses it).
    - `term`: the term for RAG columns that name none.
    - `key`: the rating key to apply, symbol → code ("3" → "G"), over the key the plan prints (if any).
    - `rows`: (table index or None for any table, source line) → one of ROW_KINDS: read that row of a table
      (below its header) as an action, a section heading, a continuation of the action above, or not at all.
    """

    columns: dict[str | int, str] = field(default_factory=dict)
    column_terms: dict[str | int, TermKey] = field(default_factory=dict)
    header_row: int | None = None
    term: TermKey | None = None
    key: dict[str, str] = field(default_factory=dict)
    rows: dict[tuple[int | None, int], str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(
            self.columns
            or self.column_terms
            or self.header_row is not None
            or self.term is not None
            or self.key
            or self.rows
        )

    def row_kind(self, table: int, line: int) -> tuple[tuple[int | None, int], str] | None:
        """The kind the caller gave the row at `line` of table `table` (a table-qualified one first)."""
        for where in ((table, line), (None, line)):
            if where in self.rows:
                return where, self.rows[where]
        return None

    def rate_column(self, column: str | int, term: TermKey | None) -> None:
        """The coordinator says: this column holds ratings (for this term)."""
        self.columns[column] = "rag"
        if term is not None:
            self.column_terms[column] = term

    def target_for(self, column: int, header: str) -> str | None:
        if column in self.columns:
            return normalise_target(self.columns[column])
        wanted = _header_key(header)
        parts = {_header_key(p) for p in header.split(" / ")}
        for key, value in self.columns.items():
            if isinstance(key, str) and (_header_key(key) == wanted or _header_key(key) in parts):
                return normalise_target(value)
        return None

    def term_for(self, column: int, header: str) -> TermKey | None:
        if column in self.column_terms:
            return self.column_terms[column]
        wanted = _header_key(header)
        for key, value in self.column_terms.items():
            if isinstance(key, str) and _header_key(key) == wanted:
                return value
        return None

    @classmethod
    def from_options(
        cls,
        columns: list[str] | None = None,
        term: str | None = None,
        header_row: int | None = None,
        rating_columns: list[str] | None = None,
        key: str | None = None,
        rows: list[str] | None = None,
    ) -> PlanOverrides:
        """The command line's `--column "By whom=owners"` (repeatable), `--term "Spring 2017"`,
        `--header-row 4`, `--rating-column "Score=Autumn 2025"` (repeatable; the term may be left out) and
        `--key "1=R, 2=A, 3=G, 4=B"`, `--row "12=section"` or `--row "2:12=action"` (table 2's line 12; the
        kinds: action, section, continuation, skip). Raises ValueError with a translated message for anything it
        cannot read."""
        from core.terms import parse_term_label
        from plans.ratingkey import parse_key_option

        out = cls(header_row=header_row)
        for option in rating_columns or []:
            header, sep, when = option.partition("=")
            header = header.strip()
            if not header:
                raise ValueError(
                    _('{option!r}: write a rating column as "Header=Term", for example "Score=Autumn 2025".').replace(
                        "{option!r}", repr(option)
                    )
                )
            found = parse_term_label(when) if sep and when.strip() else None
            if sep and when.strip() and found is None:
                raise ValueError(
                    _('{term!r} is not a term; write it as "Spring 2017" or "Aut 16".').replace("{term!r}", repr(when))
                )
            ref: str | int = int(header[1:]) - 1 if header[:1] == "#" and header[1:].isdigit() else header
            out.rate_column(ref, found)
        if key:
            out.key = parse_key_option(key)
        for option in columns or []:
            header, sep, target = option.rpartition("=")
            header = header.strip()
            if not sep or not header:
                raise ValueError(
                    _('{option!r}: write a column as "Header=field", for example "By whom=owners".').replace(
                        "{option!r}", repr(option)
                    )
                )
            name = normalise_target(target)
            if name is None:
                raise ValueError(
                    _("{field!r} is not a field; use one of: {fields}.")
                    .replace("{field!r}", repr(target.strip()))
                    .format(fields=", ".join(TARGETS))
                )
            column: str | int = int(header[1:]) - 1 if header[:1] == "#" and header[1:].isdigit() else header
            out.columns[column] = name
        for option in rows or []:
            where, table, kind = parse_row_option(option)
            out.rows[(table, where)] = kind
        if term:
            found = parse_term_label(term)
            if found is None:
                raise ValueError(
                    _('{term!r} is not a term; write it as "Spring 2017" or "Aut 16".').replace("{term!r}", repr(term))
                )
            out.term = found
        return out

    def to_dict(self) -> dict:
        data = asdict(self)
        data["columns"] = [[k, v] for k, v in self.columns.items()]
        data["column_terms"] = [[k, list(v)] for k, v in self.column_terms.items()]
        data["term"] = list(self.term) if self.term else None
        data["key"] = dict(self.key)
        data["rows"] = [[t, line, kind] for (t, line), kind in self.rows.items()]
        return data

    @classmethod
    def from_dict(cls, data: dict | None) -> PlanOverrides:
        data = data or {}
        term = data.get("term")
        return cls(
            columns={k: v for k, v in data.get("columns", [])},
            column_terms={k: (int(v[0]), str(v[1])) for k, v in data.get("column_terms", [])},
            header_row=data.get("header_row"),
            term=(int(term[0]), str(term[1])) if term else None,
            key={str(k): str(v) for k, v in (data.get("key") or {}).items() if v in ("R", "A", "G", "B", "C")},
            rows={
                (t if isinstance(t, int) else None, int(line)): str(kind)
                for t, line, kind in (data.get("rows") or [])[:MAX_ROW_OVERRIDES]
                if isinstance(line, int) and kind in ROW_KINDS
            },
        )


_ROW_ALIASES = {"not read": "skip", "ignore": "skip", "none": "skip", "heading": "section", "continue": "continuation"}


def parse_row_option(option: str) -> tuple[int, int | None, str]:
    """'12=section' → (12, None, 'section'); '2:12=action' → (12, 1, 'action') (tables are numbered from 1)."""
    where, sep, kind = option.rpartition("=")
    table_text, colon, line_text = where.strip().rpartition(":")
    name = " ".join(kind.strip().lower().split())
    name = _ROW_ALIASES.get(name, name)
    numbers_ok = line_text.strip().isdigit() and (not colon or table_text.strip().isdigit())
    if not sep or not numbers_ok or name not in ROW_KINDS:
        raise ValueError(
            _(
                '{option!r}: write a row as "line=kind" or "table:line=kind", for example "12=section"; '
                "the kinds: {kinds}."
            )
            .replace("{option!r}", repr(option))
            .format(kinds=", ".join(ROW_KINDS))
        )
    table = int(table_text) - 1 if colon else None
    if table is not None and table < 0:
        raise ValueError(_("Tables are numbered from 1."))
    return int(line_text), table, name


def _header_key(text: str) -> str:
    return " ".join(str(text).lower().split())
