"""Read an action plan out of the table model the way a person reads it (pure: `Document` in, `ParsedPlan` out).

For each table: the header row is the best-matching row below any titles, keys and legends (two rows
are joined when the one below names the terms of a heading above, "RAG rated" over "Aut 16 | Spr 17");
then every row is, in turn,

- blank (counted; it never ends the table),
- the header again (a new part of the plan starts; the one-value rows before it were its title),
- a section row (one value across the row, merged, or a heading such as "1. Quality of education"),
- an action (it has its own reference, or, in a plan without references, its own action text),
- a continuation of the action above (empty leading cells: words broken across lines, an owner merged
  down, a second line of milestones),
- or a line in `not_read`, with its line number and why.

Ratings come from words in any usual wording, letters, emoji, and from the cell's colour alone (using the
plan's own key when it has one). Half-termly columns are filed under their term. A RAG column that names
no term gets one from the plan itself (a comment column's term, the dates in its comments, the plan's
year), never silently today's: the choice and its reason are in `TableReading.term_assumption`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePath

from core.headers import normalise_header
from core.i18n import _, ngettext
from core.ingest.model import Cell, Document, NotRead, Row, Table
from core.names import split_names
from core.terms import AUTUMN, SPRING, SUMMER, TERMS, Term, current_term, parse_term_column, term_for, term_label
from core.uk_dates import MONTHS
from plans.fields import PLAN_FIELDS, PlanColumns, is_comment_header, match_plan_headers
from plans.parsed import (
    EXTRA,
    FIELDS,
    IGNORE,
    ColumnMapping,
    Counts,
    ParsedAction,
    ParsedPlan,
    ParsedSection,
    ParsedUpdate,
    PlanImportError,
    PlanOverrides,
    PlanWarning,
    RowReading,
    TableReading,
    TermAssumption,
    TermKey,
)
from plans.rag import _COMPLETE, _norm, parse_rag, rag_from_fill, split_rag_prefix
from plans.ratingkey import COMPLETE, RatingKey, key_entries, key_from_overrides, meaning_code, pair_entry

HEADER_SCAN_ROWS = 40  # the header is looked for among a table's first non-blank rows
MAX_REF = 20

_REF = re.compile(
    r"^(?:[A-Za-z]{0,3}\s?\d{1,3}(?:[.\-]\d{1,3}){0,3}[a-z]?[.)]?|[a-zA-Z][.)]|\(?[a-zA-Z]\)"
    r"|[ivxlIVXL]{1,6}[.)]|\d{1,3}[a-z]|[A-Z]\d{1,2}[a-z]?)$"
)
_SECTION_HEADING = re.compile(
    r"^\s*(?:(?:section|strand|priority|area|objective|aim|theme|part|key priority|"
    r"workstream|recommendation|outcome)\b\s*[\w.]*\s*[:.)\-–]?|\d{1,2}[.):]?\s+[A-Z(])",
    re.IGNORECASE,
)
_TYPED_REF = re.compile(r"^\s*((?:[A-Z]{1,2}\s?)?\d{1,2}(?:\.\d{1,2}){1,3}[a-z]?)[.):]?\s+(?=[^\d\s])")
_KPI_HEADING = re.compile(
    r"\b(kpis?|success criteria|what does better look like|measures? of success|targets?)\b", re.IGNORECASE
)
_YEAR_RE = re.compile(r"\b((?:19|20)\d\d)\s*[/\-–—]\s*((?:19|20)?\d\d)\b")
_PARTNERSHIP = re.compile(
    r"\b(alliance|partnership|trust|network|federation|council|hub|collaborative|"
    r"consortium|teaching school|cluster|academies)\b",
    re.IGNORECASE,
)
_MONTHS = MONTHS  # one month table: core/uk_dates.py


# ---------------------------------------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _Header:
    rows: list[int]  # indexes in table.rows, top first
    headers: list[str]
    cols: PlanColumns
    candidates: list[int] = field(default_factory=list)  # lines of other rows that could be the header

    @property
    def score(self) -> int:
        return len(self.cols.columns) + len(self.cols.rag_terms) + len(self.cols.comment_terms)


def _texts(row: Row, width: int) -> list[str]:
    texts = [c.text for c in row.cells] + [""] * (width - len(row.cells))
    return texts[:width]


def _match(headers: list[str], year: int | None) -> PlanColumns:
    return _match_cached(tuple(h.replace("\n", " ") for h in headers), year)


@lru_cache(maxsize=512)
def _match_cached(headers: tuple[str, ...], year: int | None) -> PlanColumns:
    return match_plan_headers(list(headers), default_year=year)


def _headerish(row: Row) -> bool:
    filled = [c.text for c in row.cells if c.text]
    return bool(filled) and all(len(t) <= 60 and "\n" not in t for t in filled)


def _join(top: Row, bottom: Row, width: int, year: int | None) -> list[str]:
    """Two header rows as one: a heading over a run of term columns is carried across them."""
    up, down = _texts(top, width), _texts(bottom, width)
    out: list[str] = []
    carry = ""
    for c in range(width):
        cell = top.cells[c] if c < len(top.cells) else Cell()
        head = up[c]
        if not head and cell.covered_by is not None and cell.covered_by[1] < len(top.cells):
            head = up[cell.covered_by[1]]
        is_term = bool(down[c]) and parse_term_column(down[c], year or 2000) is not None
        if up[c]:
            carry = up[c] if is_term else ""
        elif not head and is_term and carry:
            head = carry
        else:
            carry = carry if is_term else ""
        out.append(" / ".join(p for p in (head, down[c]) if p))
    return out


def find_header(table: Table, year: int | None, forced_line: int | None = None) -> _Header | None:
    width = table.width
    nonblank = [i for i, r in enumerate(table.rows) if not r.blank]
    if forced_line is not None:
        candidates = [i for i in nonblank if table.rows[i].line == forced_line]
    else:
        candidates = nonblank[:HEADER_SCAN_ROWS]
    best: _Header | None = None
    found_at: int | None = None
    seen: list[int] = []  # lines of every row that could be the header
    for pos, i in enumerate(candidates):
        if found_at is not None and pos > found_at + 4:
            break  # a header is followed by its data: a few rows more are enough to find a better one
        row = table.rows[i]
        texts = _texts(row, width)
        if sum(1 for t in texts if t) < 2 and forced_line is None:
            continue
        if any(len(t) > 150 for t in texts) and forced_line is None:
            continue
        cand = _Header([i], texts, _match(texts, year))
        following = nonblank[nonblank.index(i) + 1] if nonblank.index(i) + 1 < len(nonblank) else None
        if following is not None and _headerish(table.rows[following]) and _headerish(row):
            joined = _join(row, table.rows[following], width, year)
            jcols = _match(joined, year)
            jcand = _Header([i, following], joined, jcols)
            below = _Header(
                [following], _texts(table.rows[following], width), _match(_texts(table.rows[following], width), year)
            )
            bar = max(cand.score if cand.cols.has_action else 0, below.score if below.cols.has_action else 0)
            if jcols.has_action and jcand.score > bar:
                cand = jcand
        if not cand.cols.has_action:
            continue
        seen.append(table.rows[cand.rows[-1]].line)
        if best is None or cand.score > best.score:
            best = cand
            if found_at is None and cand.score >= 3:
                found_at = pos
    if best is not None:
        best.candidates = [n for n in seen if n != table.rows[best.rows[-1]].line]
    return best


_HEADING_WORDS = {
    "progress",
    "comment",
    "comments",
    "rated",
    "rating",
    "rag",
    "status",
    "update",
    "term",
    "date",
    "impact",
    "and",
}


def _heading_fragment(text: str) -> bool:
    t = text.strip()
    if re.fullmatch(r"\d{2}|\d{4}|[A-Za-z]{1,2}", t):
        return True
    if parse_term_column(t, 2000) is not None and len(t) <= 12:
        return True
    return normalise_header(t) in _HEADING_WORDS


_TOTALS = re.compile(r"^\s*(?:grand\s+|sub-?\s*)?totals?\b\s*:?\s*[\d\s.,%/]*$", re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"^\s*(?:signed|signature|sign[- ]?off|approved by|agreed by|date agreed|date approved|date of approval|"
    r"ratified|next review|review date)\b",
    re.IGNORECASE,
)


def _not_an_action(values: list[str]) -> str | None:
    """A totals row ("Total | | 3 | 5") or a sign-off line ("Signed: …", "Date agreed: …"): what it is."""
    filled = [v.strip() for v in values if v.strip()]
    if not filled:
        return None
    head, rest = filled[0], filled[1:]
    if _TOTALS.match(head) and all(re.fullmatch(r"[\d\s.,%/£-]{1,12}", v) for v in rest):
        return _("a totals row")
    signed = _SIGN_OFF.match(head)
    if (
        signed
        and len(filled) <= 3
        and all(len(v) <= 80 for v in filled)
        and re.match(r"\s*(?:[:.]|_|$)", head[signed.end() :])
    ):
        return _("a sign-off line")
    return None


def _rule_line(values: list[str]) -> bool:
    """'--- | -- | ----': the table's ruling, copied as text."""
    filled = [v for v in values if v]
    return bool(filled) and all(re.fullmatch(r"[\-=_—–.~*+|:\s]+", v) for v in filled)


def _absorb_heading_rows(table: Table, header: _Header) -> _Header:
    """Rows just below the header that continue its heading ("progress | Comment", "Spr | Sum | Aut", "17"):
    part of the header, not rows of the plan."""
    rows = table.rows
    extra: list[int] = []
    i = header.rows[-1] + 1
    while i < len(rows) and len(extra) < 4:
        row = rows[i]
        if row.blank:
            i += 1
            continue
        texts = [c.text for c in row.cells if c.text]
        if not texts or (row.cells and row.cells[0].text) or not all(_heading_fragment(t) for t in texts):
            break
        extra.append(i)
        i += 1
    if not extra:
        return header
    return _Header(header.rows + extra, header.headers, header.cols, header.candidates)


def _header_lost_ref_column(table: Table, header: _Header) -> bool:
    cols = header.cols.columns
    if cols.get("action") != 0 or "ref" in cols or not header.headers or header.headers[-1]:
        return False
    starts = [r.cells[0].text for r in table.rows[header.rows[-1] + 1 :] if r.cells and r.cells[0].text]
    bare = sum(1 for t in starts if _REF.match(t))
    typed = sum(1 for t in starts if not _REF.match(t) and _TYPED_REF.match(t))
    return bare >= 2 and bare + typed >= max(2, len(starts) * 7 // 10)


def _comments_beside_empty_column(mapping: list[ColumnMapping], data_rows: list[list[str]]) -> None:
    """A comment column empty in every row while the unheaded columns just left of it hold text (columns that
    drifted in a copy out of a PDF): those columns are its comments."""
    by_col = {m.column: m for m in mapping}
    for m in [m for m in mapping if m.field == "comment"]:
        if any(m.column < len(r) and r[m.column] for r in data_rows):
            continue
        col = m.column - 1
        while col >= 0 and col in by_col and by_col[col].field == EXTRA and not by_col[col].header:
            other = by_col[col]
            if any(col < len(r) and len(r[col].split()) >= 3 for r in data_rows):
                other.field, other.term, other.half_term = "comment", m.term, m.half_term
                other.how, other.guessed, other.confidence = "content", True, 0.6
            col -= 1


# ---------------------------------------------------------------------------------------------------------
# The mapping
# ---------------------------------------------------------------------------------------------------------


def _mapping(
    header: _Header, data_rows: list[list[str]], year: int | None, overrides: PlanOverrides
) -> list[ColumnMapping]:
    cols = header.cols
    by_col: dict[int, ColumnMapping] = {}
    exact = {normalise_header(s) for syns in PLAN_FIELDS.values() for s in syns}
    for name, col in cols.columns.items():
        score = cols.scores.get(name, 100.0)
        sure = score >= 99 and normalise_header(header.headers[col]) in exact
        by_col[col] = ColumnMapping(
            col,
            header.headers[col],
            name,
            confidence=round(score / 100, 2),
            guessed=not sure,
            how="header" if score >= 99 else "words",
        )
    for col, key in list(cols.rag_terms.items()) + list(cols.comment_terms.items()):
        name = "rag" if col in cols.rag_terms else "comment"
        found = parse_term_column(header.headers[col], year)
        half = found[2] if found else cols.numbered[col][1] if col in cols.numbered else None
        by_col[col] = ColumnMapping(col, header.headers[col], name, term=key, half_term=half)
    # Numbered terms (T1 … T6) in a plan that names no year: dated below from the plan's span.
    for col, (_term, half, _count) in cols.numbered.items():
        if col not in by_col:
            text = header.headers[col]
            by_col[col] = ColumnMapping(
                col, text, "comment" if is_comment_header(normalise_header(text)) else "rag", half_term=half
            )
    # Half-termly columns with no year and a plan with none either ("Aut 1" in a plan with no dates).
    for col, text in enumerate(header.headers):
        if col in by_col or not text:
            continue
        found = parse_term_column(text, None)
        if found is not None and found[0] is None:
            is_comment = any(w in normalise_header(text).split() for w in ("comment", "comments", "update", "notes"))
            by_col[col] = ColumnMapping(
                col, text, "comment" if is_comment else "rag", term=None, half_term=found[2], guessed=True, how="header"
            )
    # A column with no header whose cells read as references is the reference column.
    if not any(m.field == "ref" for m in by_col.values()):
        for col, text in enumerate(header.headers):
            if col in by_col or text:
                continue
            values = [r[col] for r in data_rows if col < len(r) and r[col]]
            if values and sum(1 for v in values if _REF.match(v)) >= max(2, len(values) * 7 // 10):
                by_col[col] = ColumnMapping(col, text, "ref", confidence=0.8, guessed=True, how="content")
                break
    for col, text in enumerate(header.headers):
        if col not in by_col:
            if text:
                by_col[col] = ColumnMapping(col, text, EXTRA, confidence=0.0, guessed=True, how="header")
            elif any(col < len(r) and r[col] for r in data_rows):
                by_col[col] = ColumnMapping(col, text, EXTRA, confidence=0.0, guessed=True, how="position")
    # The caller's corrections win.
    for col in range(len(header.headers)):
        text = header.headers[col]
        target = overrides.target_for(col, text)
        term = overrides.term_for(col, text)
        if target is None and term is None:
            continue
        mapping = by_col.get(col) or ColumnMapping(col, text, EXTRA)
        if target is not None:
            if target in FIELDS and target not in ("rag", "comment"):
                for other in by_col.values():  # one column per single-column field
                    if other.field == target and other.column != col:
                        other.field, other.how, other.guessed = EXTRA, "override", False
            mapping.field = target
        if term is not None:
            mapping.term = term
        mapping.how, mapping.guessed, mapping.confidence = "override", False, 1.0
        by_col[col] = mapping
    return [by_col[c] for c in sorted(by_col)]


# ---------------------------------------------------------------------------------------------------------
# Ratings
# ---------------------------------------------------------------------------------------------------------


_Key = RatingKey
_LABEL = re.compile(r"^\s*(key|legend|rating|ratings|rag|status|symbol|score|code|meaning)\s*:?\s*$", re.IGNORECASE)


def read_key(rows: list[Row]) -> tuple[RatingKey, set[int]]:
    """The key in some rows (above a table, a key table or sheet): coloured cells with their meaning, a
    line that spells a key out, or a symbol and its meaning in two cells side by side. The indexes of the
    rows that held it."""
    key = RatingKey()
    used: set[int] = set()
    for index, row in enumerate(rows):
        found = 0
        filled = [(c, cell) for c, cell in enumerate(row.cells) if cell.text]
        coloured = 0
        for _c, cell in filled:
            if not cell.fill or _LABEL.match(cell.text) or len(cell.text) > 40 or len(cell.text.split()) > 4:
                continue
            code = meaning_code(cell.text, cell.fill)  # its words first ("Completed" in purple), else its colour
            if code:
                key.add("", cell.text, code, cell.fill)
                coloured += 1
        found += coloured
        texts = [" ".join(cell.text for _c, cell in filled)] + [cell.text for _c, cell in filled]
        for text in texts:
            entries = key_entries(text)
            if entries:
                for entry in entries:
                    key.add(*entry)
                found += len(entries)
                break
        pairs = 0
        for (c1, left), (c2, right) in zip(filled, filled[1:]):
            if c2 != c1 + 1 or len(left.text) > 12 or len(left.text.split()) > 2 or _LABEL.match(left.text):
                continue
            own = meaning_code(left.text)
            if own is not None and own != meaning_code(right.text):
                continue  # two meanings side by side ("Achieved | On track"): a coloured key line
            pair = pair_entry(left.text, right.text, left.fill or right.fill)
            if pair is not None:
                key.add(*pair, fill=left.fill or right.fill)
                pairs += 1
        if found >= 2 or pairs or (coloured == 1 and len(filled) == 1 and len(rows) > 1):
            used.add(index)
    return key, used


def _rating_word(text: str, key: RatingKey) -> tuple[str | None, str]:
    code, rest = key.read(text)
    if code is not None:
        return code, rest
    word = _norm(text)
    if word in _COMPLETE:
        return COMPLETE, ""
    code = parse_rag(text)
    if code is not None:
        return code, ""
    code, rest = split_rag_prefix(text)
    if code is not None:
        head = _norm(text[: len(text) - len(rest)]) if rest else word
        if any(head.startswith(w) for w in _COMPLETE):
            code = COMPLETE
        return code, rest
    tail = _TRAILING.match(text.strip())
    if tail is not None:  # "Survey done (Green)", "Survey done – 3"
        said = tail.group(2) or tail.group(3)
        code = key.read(said)[0] if key.read(said)[1] == "" else None
        code = code or parse_rag(said) or (COMPLETE if _norm(said) in _COMPLETE else None)
        if code is not None:
            return code, tail.group(1).strip()
    return None, text.strip()


_TRAILING = re.compile(r"^(.*\S)\s*(?:[(\[]\s*([^()\[\]]{1,20}?)\s*[)\]]|\s[–—-]\s+(\S{1,14}))\s*\.?$", re.DOTALL)


_MARK = re.compile(r"^\s*[^\w\s(\[\"'‘“]{1,3}\s*(?:[–—\-:]\s*)?(\S.*)?$", re.DOTALL)


def read_rating(cell: Cell, key: RatingKey) -> tuple[str | None, str, bool]:
    """(code, comment, from colour) of a rating cell."""
    if cell.text:
        code, comment = _rating_word(cell.text, key)
        if code is not None:
            return code, comment, False
        colour = key.fills.get(cell.fill or "") or rag_from_fill(cell.fill)
        mark = _MARK.match(cell.text)
        if colour is None and cell.colour and mark is not None:
            # A mark ("●", "■", "✱") whose font colour is the rating, perhaps with its comment after it.
            colour = key.fills.get(cell.colour) or rag_from_fill(cell.colour)
            return colour, (mark.group(1) or "") if colour else cell.text, colour is not None
        return colour, cell.text, colour is not None
    colour = key.fills.get(cell.fill or "") or rag_from_fill(cell.fill)
    return colour, "", colour is not None


_LEADING_WORD = re.compile(
    r"^\s*(red|amber|green|blue|r|a|g|b|on[ -]track|off[ -]track|at[ -]risk|complete[d]?|achieved)"
    r"(?:\s*[–—:|]|\s+[-/])\s+(?=\S)",
    re.IGNORECASE,
)


def _shaded_band(row: Row, width: int) -> bool:
    """One fill across most of a row (a section's band, often pale): never a rating."""
    fills = [c.fill for c in row.cells if c.fill]
    if not fills or width < 3:
        return False
    common = max(set(fills), key=fills.count)
    return fills.count(common) >= max(3, (width * 6 + 9) // 10)


def leading_rating(cell: Cell, text: str, key: RatingKey) -> tuple[str | None, str, bool]:
    """(code, the comment after it, from colour) of an update that leads with its rating: the key's own
    symbols followed by a separator, an emoji or symbol, or a RAG word and a dash; else the cell's colour
    when the plan's key names it. (None, text, False) when it does not."""
    code, rest = key.read(text)
    if code is not None:
        return code, rest, False
    stripped = text.strip()
    if stripped[:1] and not stripped[:1].isalnum():
        code, rest = split_rag_prefix(stripped)
        if code is not None:
            return code, rest, False
    m = _LEADING_WORD.match(stripped)
    if m is not None:
        code = meaning_code(m.group(1))
        if code is not None:
            return code, stripped[m.end() :].strip(), False
    if cell.fill and cell.fill in key.fills:
        return key.fills[cell.fill], text, True
    return None, text, False


# ---------------------------------------------------------------------------------------------------------
# Years and terms
# ---------------------------------------------------------------------------------------------------------


def find_year(texts: list[str]) -> str | None:
    for text in texts:
        for m in _YEAR_RE.finditer(text or ""):
            first, second = int(m.group(1)), int(m.group(2)[-2:])
            if (first + 1) % 100 == second:
                return f"{first}-{second:02d}"
    return None


def _terms_mentioned(text: str, year: int) -> list[Term]:
    """Terms a comment names ('in spring', 'Spring data', 'in February', '12/03/2020') within the plan's year."""
    found: list[Term] = []
    lower = text.lower()
    for word, term in (("autumn", AUTUMN), ("spring", SPRING), ("summer", SUMMER)):
        if re.search(rf"\b{word}\b", lower):
            found.append(Term(year, term))
    for m in re.finditer(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", lower):
        month = _MONTHS[m.group(1)]
        day = dt.date(year if month >= 9 else year + 1, month, 15)
        found.append(term_for(day))
    for m in re.finditer(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\b", lower):
        try:
            y = int(m.group(3))
            day = dt.date(y + 2000 if y < 100 else y, int(m.group(2)), int(m.group(1)))
        except ValueError:
            continue
        period = term_for(day)
        if period.academic_year == year:
            found.append(period)
    return found


def infer_term(
    column: ColumnMapping,
    comments: list[str],
    plan_year: int | None,
    comment_term: TermKey | None,
    dated: list[dt.date],
    overrides: PlanOverrides,
    filename_year: int | None,
) -> TermAssumption:
    """The term for a RAG column that names none, and the reason shown in the preview."""
    header = column.header
    if overrides.term is not None:
        return TermAssumption(
            column.column,
            header,
            overrides.term,
            "override",
            _("as you chose: {term}").format(term=term_label(Term(*overrides.term))),
        )
    if comment_term is not None:
        return TermAssumption(
            column.column, header, comment_term, "heading", _("the term of the comment column beside it")
        )
    if plan_year is not None:
        mentioned = [t for text in comments for t in _terms_mentioned(text, plan_year)]
        if mentioned:
            latest = max(mentioned)
            return TermAssumption(
                column.column,
                header,
                (latest.academic_year, latest.term),
                "comments",
                _("the latest term its comments mention"),
            )
        now = current_term()
        if now.academic_year == plan_year:
            return TermAssumption(
                column.column,
                header,
                (now.academic_year, now.term),
                "title",
                _("the plan is for this school year: the current term"),
            )
        return TermAssumption(
            column.column,
            header,
            (plan_year, SUMMER),
            "title",
            _("the last term of the plan's year {year}").format(year=f"{plan_year}-{(plan_year + 1) % 100:02d}"),
        )
    if dated:
        term = term_for(max(dated))
        return TermAssumption(
            column.column,
            header,
            (term.academic_year, term.term),
            "dates",
            _("the term of the latest date in the plan"),
        )
    if filename_year is not None:
        return TermAssumption(
            column.column, header, (filename_year, SUMMER), "filename", _("the year in the file's name")
        )
    now = current_term()
    return TermAssumption(
        column.column,
        header,
        (now.academic_year, now.term),
        "today",
        _("the plan names no year, so the current term: please check"),
    )


# ---------------------------------------------------------------------------------------------------------
# Rows into actions
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _Draft:
    action: ParsedAction
    texts: dict[str, str] = field(default_factory=dict)  # field → raw text so far
    updates: dict[tuple[int, str, int], ParsedUpdate] = field(default_factory=dict)


_LISTS = {"owner"}  # a next row in these is a next item, never the same sentence


def _append(old: str, new: str, wrapped: bool, name: str = "") -> str:
    if not old:
        return new
    if not new:
        return old
    if not wrapped and name in _LISTS:
        return f"{old}\n{new}"
    if wrapped:  # text copied out of a PDF: a cell's lines, broken where the column was narrow
        if old.endswith("-") and new[:1].islower():
            return old[:-1] + new
        return f"{old} {new}"
    return f"{old}\n{new}" if ("\n" in old or "\n" in new or len(old) > 60) else f"{old} {new}"


@dataclass
class _TableResult:
    reading: TableReading
    sections: list[ParsedSection]
    title_rows: list[str]  # one-value rows above the header (title, notes)
    notes: list[str]


class _PlanReader:
    def __init__(self, doc: Document, filename: str, overrides: PlanOverrides):
        self.doc = doc
        self.filename = filename
        self.overrides = overrides
        self.counts = Counts()
        self.not_read: list[NotRead] = list(doc.not_read)
        self.warnings: list[PlanWarning] = []
        self.rag_seen: set[str] = set()
        self.key = RatingKey()
        self.table_keys: list[RatingKey] = []
        self.unknown: dict[str, int] = {}  # values in rating columns that matched no rating, with how often
        self.rows: list[RowReading] = []  # every non-blank row's reading, in the file's order
        self.row_actions: list[tuple[RowReading, ParsedAction]] = []  # filled with the final references
        self.table_index = {id(t): i for i, t in enumerate(doc.tables)}
        self.forced_used: set[tuple[int | None, int]] = set()  # the coordinator's row kinds that applied

    def where(self, table: Table, line: int) -> str:
        if self.doc.workbook:
            return _("{sheet} row {n}").format(sheet=table.source, n=line)
        if self.doc.numbered_tables:
            return _("{table} row {n}").format(table=table.source, n=line)
        return _("line {n}").format(n=line)

    def mark(
        self,
        table: Table,
        row: Row,
        kind: str,
        reason: str,
        values: list[str] | None = None,
        editable: bool = False,
        action: ParsedAction | None = None,
        forced: bool = False,
    ) -> RowReading:
        """List a row with what it was read as and why (every non-blank row is listed once)."""
        texts = values if values is not None else row.texts
        reading = RowReading(
            table=self.table_index.get(id(table), -1),
            line=row.line,
            where=self.where(table, row.line),
            kind=kind,
            reason=reason,
            text=" | ".join(" ".join(t.split()) for t in texts if t.strip())[:160],
            editable=editable,
            forced=forced,
        )
        self.rows.append(reading)
        if action is not None:
            self.row_actions.append((reading, action))
        return reading

    def skip_rows(self, table: Table, rows: list[Row], reason: str, kind: str = "skip", editable: bool = False) -> None:
        for row in rows:
            if not row.blank:
                text = " | ".join(t for t in row.texts if t)
                self.not_read.append(NotRead(self.where(table, row.line), reason, row.line, text[:80]))
                self.mark(table, row, kind, reason, editable=editable)

    # --- one table ---------------------------------------------------------------------------------

    def read_table(
        self, index: int, table: Table, header: _Header, plan_year: int | None, filename_year: int | None, key: _Key
    ) -> _TableResult:
        width = table.width
        rows = list(table.rows)  # a row may be re-aligned below; the document itself is left as read
        header = _absorb_heading_rows(table, header)
        shifted = False
        if _header_lost_ref_column(table, header):
            # The header's first heading names the actions but the first column holds references (a plan
            # copied out of a PDF loses the reference column's empty heading): headings sit one column left.
            headers = [""] + header.headers[:-1]
            header = _Header(header.rows, headers, _match(headers, plan_year), header.candidates)
            shifted = True
        first = header.rows[-1] + 1
        reading = TableReading(
            index=index,
            where=self.where(table, rows[header.rows[0]].line),
            title=table.title,
            header_lines=[rows[i].line for i in header.rows],
        )
        reading.header_candidates = list(header.candidates)
        for n, i in enumerate(header.rows):
            self.mark(
                table,
                rows[i],
                "header",
                _("the header row: its headings name the plan's columns")
                if n == 0
                else _("part of the header: its headings continue the row above"),
            )
        above = [rows[i] for i in range(header.rows[0]) if not rows[i].blank]
        data_texts = [self._row_values(rows, i, width, set()) for i in range(first, len(rows))]
        mapping = _mapping(header, data_texts, plan_year, self.overrides)
        _comments_beside_empty_column(mapping, data_texts)
        self._key_alongside(table, header, mapping, key)
        reading.columns = mapping
        fields = {m.field: m.column for m in mapping if m.field in FIELDS and m.field not in ("rag", "comment")}
        if not any(m.field == "rag" for m in mapping):
            colour = self._colour_column(table, first, mapping, key)
            if colour is not None:
                mapping.append(colour)
        rag_cols = [m for m in mapping if m.field == "rag"]
        comment_cols = [m for m in mapping if m.field == "comment"]
        protected = {fields[f] for f in ("ref", "action") if f in fields}
        key_cols = {m.column for m in mapping if m.how == "key"}  # a key beside the rows: no part of them
        header_norm = [normalise_header(h) if c not in key_cols else "" for c, h in enumerate(header.headers)]

        # Terms for RAG columns that name none.
        unnamed = [m for m in rag_cols + comment_cols if m.term is None]
        if unnamed:
            comments = [v[m.column] for v in data_texts for m in comment_cols + rag_cols if m.column < len(v)]
            comment_term = next((m.term for m in comment_cols if m.term is not None), None)
            dated = _dates_in([v[fields["date"]] for v in data_texts if "date" in fields and fields["date"] < len(v)])
            for m in unnamed:
                numbered = header.cols.numbered.get(m.column)
                if (m.half_term is not None or numbered is not None) and m.term is None:
                    assumption = infer_term(m, comments, plan_year, None, dated, self.overrides, filename_year)
                    word = parse_term_column(m.header, assumption.term[0])
                    if numbered is not None:
                        m.term = (assumption.term[0], numbered[0])
                    elif word is not None:
                        m.term = (assumption.term[0], word[1])
                    continue
                if m.field == "rag" or not comment_cols or m.field == "comment" and not rag_cols:
                    assumption = infer_term(
                        m,
                        comments,
                        plan_year,
                        comment_term if m.field == "rag" else None,
                        dated,
                        self.overrides,
                        filename_year,
                    )
                    if m.field == "rag" and reading.term_assumption is None:
                        reading.term_assumption = assumption
                    if m.field == "rag":
                        m.term = assumption.term
        default_term = reading.term_assumption.term if reading.term_assumption else None

        # Is this a plan with its own references? Then a row without one continues the row above.
        with_text = [v for v in data_texts if "action" in fields and fields["action"] < len(v) and v[fields["action"]]]
        refs_used = (
            "ref" in fields
            and bool(with_text)
            and sum(1 for v in with_text if v[fields["ref"]]) >= max(1, len(with_text) * 6 // 10)
        )

        section = ParsedSection(title="")
        sections = [section]
        aim_section: ParsedSection | None = None
        draft: _Draft | None = None
        drafts: list[_Draft] = []
        pending: list[tuple[int, list[str]]] = []  # one-value rows not yet placed: a title, or data
        gap_before_pending = False
        gap = False
        wrapped = table.source == "pdf-text"
        action_col = fields.get("action", -1)
        section_col = fields.get("section", -1)

        def start_section(title: str, line: int) -> None:
            nonlocal section, draft, aim_section
            if not section.actions and not section.title and not section.kpis:
                section.title, section.line = title, line
            else:
                section = ParsedSection(title=title, line=line)
                sections.append(section)
            aim_section = None
            draft = None
            self.counts.sections += 1

        def as_titles(reason: str, forced: bool = False) -> None:
            nonlocal pending
            if not pending:
                return
            (_i, head), *rest = pending
            start_section(next(v for v in head if v).replace("\n", " "), rows[_i].line)
            self.mark(table, rows[_i], "section", reason, head, editable=True, forced=forced)
            for _k, values in rest:
                self.mark(
                    table, rows[_k], "note", _("a line under the section heading: kept as its notes"), values, True
                )
            notes = [next(v for v in values if v) for _k, values in rest]
            if notes and _KPI_HEADING.search(notes[0]) and len(notes[0]) < 120 and len(notes) > 1:
                notes = notes[1:]
            section.kpis = "\n".join(x for x in [section.kpis] + notes if x)
            pending = []

        def as_data() -> None:
            nonlocal pending
            rows_now, pending = pending, []
            for k, values in rows_now:
                data_row(k, values)

        def data_row(i: int, values: list[str], force: str = "") -> None:
            nonlocal draft, section, aim_section
            row = rows[i]
            shown = values
            self.counts.rows += 1
            if force == "continuation" and draft is not None:
                self.counts.continuations += 1
                self._add_cells(draft, table, row, values, mapping, wrapped, key, default_term)
                draft.action.lines.append(row.line)
                self.mark(table, row, "continuation", _("as you said"), shown, True, draft.action, forced=True)
                return
            ref = values[fields["ref"]] if "ref" in fields else ""
            text = values[action_col] if action_col >= 0 else ""
            if not ref and text:
                typed = _TYPED_REF.match(text)
                if typed is not None:  # "1.2 Recruit …": the reference typed at the start of the action
                    ref, text = typed.group(1), text[typed.end() :].strip()
                    values = list(values)
                    values[action_col] = text
            aim = values[section_col] if section_col >= 0 else ""
            new_aim = False
            if aim and (aim_section is None or aim_section.title != aim):
                new_aim = True
                if not section.actions and not section.title:
                    section.title, section.line = aim, row.line
                else:
                    section = ParsedSection(title=aim, line=row.line)
                    sections.append(section)
                aim_section = section
                self.counts.sections += 1
                draft = None
            new_action = force == "action" or bool(ref) or (bool(text) and (not refs_used or draft is None))
            if not new_action:
                if draft is None:
                    self.counts.rows -= 1
                    if new_aim:  # the row names the next aim and nothing else: its section's heading
                        self.mark(table, row, "section", _("a new value in the section column"), shown, True)
                        return
                    reason = _("a row with no action and nothing above it to continue")
                    self.not_read.append(
                        NotRead(self.where(table, row.line), reason, row.line, " | ".join(v for v in values if v)[:80])
                    )
                    self.mark(table, row, "skip", reason, shown, True)
                    return
                self.counts.continuations += 1
                self._add_cells(draft, table, row, values, mapping, wrapped, key, default_term)
                draft.action.lines.append(row.line)
                if text and refs_used:
                    why = _("no reference of its own in a plan with references: continues the action above")
                elif text:
                    why = _("continues the action above")
                else:
                    why = _("no action text of its own: continues the action above")
                self.mark(table, row, "continuation", why, shown, True, draft.action)
                return
            action = ParsedAction(
                ref=ref[:MAX_REF],
                text="",
                own_ref=bool(ref),
                ref_as_written=ref,
                aim=aim_section.title if aim_section is not None else "",
                where=self.where(table, row.line),
                line=row.line,
                lines=[row.line],
            )
            if aim_section is not None and header.headers[section_col]:
                action.extra[header.headers[section_col]] = aim_section.title
            draft = _Draft(action)
            drafts.append(draft)
            section.actions.append(action)
            self.counts.actions += 1
            self._add_cells(draft, table, row, values, mapping, wrapped, key, default_term)
            if force == "action":
                why = _("as you said")
            elif ref and ref != (values[fields["ref"]] if "ref" in fields else ""):
                why = _("its reference is typed at the start of its text")
            elif ref:
                why = _("it has its own reference")
            else:
                why = _("it has its own action text")
            self.mark(table, row, "action", why, shown, True, action, forced=force == "action")

        for i in range(first, len(rows)):
            row = rows[i]
            if row.blank:
                self.counts.blank += 1
                gap = True
                continue
            given = self.overrides.row_kind(index, row.line)
            if given is not None:
                values = self._row_values(rows, i, width, protected)
                if self._forced_row(given, table, row, values, draft):
                    kind = given[1]
                    if kind == "skip":
                        self.skip_rows(table, [row], _("left out by you"), editable=True)
                        self.rows[-1].forced = True
                    elif kind == "section":
                        as_data()
                        pending = [(i, [" ".join(v for v in values if v)])]  # the whole row names it
                        as_titles(_("as you said"), forced=True)
                    else:
                        as_data()
                        data_row(i, values, force=kind)
                    gap = False
                    continue
            if (index, row.line) in key.lines:
                self.skip_rows(table, [row], _("the plan's rating key"), "key", editable=True)
                continue
            values = self._row_values(rows, i, width, protected)
            for c in key_cols:
                values[c] = ""
            if shifted and values and not _REF.match(values[0]) and _TYPED_REF.match(values[0]):
                # This row kept its reference with its text: it lines up with the headings as written.
                rows[i] = row = Row(row.line, [Cell()] + row.cells[: max(width - 1, 0)])
                values = self._row_values(rows, i, width, protected)
            if _rule_line(values):
                self.skip_rows(table, [row], _("a ruled line"), editable=True)
                continue
            not_action = _not_an_action(values)
            if not_action is not None:
                self.skip_rows(table, [row], not_action, editable=True)
                gap = True  # what follows a sign-off or totals row is not the action above's continuation
                continue
            if [normalise_header(v) for v in values] == header_norm or (
                len(header.rows) > 1
                and [normalise_header(v) for v in _texts(row, width)]
                == [normalise_header(v) for v in _texts(rows[header.rows[0]], width)]
            ):
                # the header again: the one-value rows just before it were the next part's title
                as_titles(_("the line before the header repeated: the next part's title"))
                self.mark(table, row, "header", _("the header row again: a new part of the plan starts"), values)
                gap = False
                continue
            filled = [c for c, v in enumerate(values) if v]
            if len(filled) == 1 and width > 1:
                col = filled[0]
                text = values[col]
                words = text.split()
                heading = bool(_SECTION_HEADING.match(text)) and not _REF.match(text) and len(text) <= 150
                if col == fields.get("ref") and not _REF.match(text) and len(words) >= 2 and len(text) <= 150:
                    heading = True  # words alone in the reference column: a heading, not a reference
                spans = any(c.col_span >= max(2, width // 2) for c in row.cells if c.text)
                band = _shaded_band(row, width) and len(text) <= 150
                if spans or heading or band or (row.cells[col].bold and col == 0 and len(text) <= 150):
                    as_data()
                    pending = [(i, values)]
                    if spans:
                        why = _("one value across the row")
                    elif heading:
                        why = _("it reads as a heading")
                    elif band:
                        why = _("one value on a shaded band")
                    else:
                        why = _("one value in bold in the first column")
                    as_titles(why)
                elif col == section_col:
                    as_data()
                    data_row(i, values)
                else:
                    if not pending:
                        gap_before_pending = gap
                    pending.append((i, values))
                gap = False
                continue
            as_data()
            data_row(i, values)
            gap = False
        if pending:
            if gap_before_pending or draft is None and not drafts:
                for k, values in pending:
                    self.not_read.append(
                        NotRead(
                            self.where(table, rows[k].line),
                            _("text after the table"),
                            rows[k].line,
                            next(v for v in values if v)[:80],
                        )
                    )
                    self.mark(table, rows[k], "skip", _("text after the table"), values, True)
                pending = []
            else:
                as_data()
        for d in drafts:
            self._finish(d)
        reading.refs_generated = any(not d.action.own_ref for d in drafts)
        singles = [  # the title and notes above the header; the plan's key there is its key, not a title
            r
            for r in above
            if (
                sum(1 for c in r.cells if c.text) == 1
                or any(c.col_span >= max(2, width // 2) for c in r.cells if c.text)
            )
            and (index, r.line) not in key.lines
        ]
        return _TableResult(
            reading,
            [s for s in sections if s.actions or s.title or s.kpis],
            [self._single_text(r) for r in singles],
            [],
        )

    def _key_alongside(self, table: Table, header: _Header, mapping: list[ColumnMapping], key: RatingKey) -> None:
        """A key kept beside the table's own rows, past an empty column ("Rating | Meaning", "1 | Not started"):
        the plan's key, and its two columns no part of any action."""
        rows = table.rows[header.rows[0] :]
        width = table.width

        def empty(col: int) -> bool:
            return all(col >= len(r.cells) or not r.cells[col].text for r in rows)

        by_col = {m.column: m for m in mapping}
        for col in range(2, width - 1):
            if not empty(col - 1) or by_col.get(col) is None or by_col[col].how == "override":
                continue
            entries = []
            other = 0
            for r in rows:
                left = r.cells[col] if col < len(r.cells) else Cell()
                right = r.cells[col + 1] if col + 1 < len(r.cells) else Cell()
                if not left.text and not right.text:
                    continue
                pair = pair_entry(left.text, right.text, left.fill or right.fill) if left.text else None
                if pair is None and left.fill and right.text:
                    pair = pair_entry("", right.text, left.fill)
                if pair is not None and len(left.text) <= 12:
                    entries.append((pair, left.fill or right.fill))
                else:
                    other += 1
            if len(entries) < 2 or other > 1 or any(not empty(c) for c in range(col + 2, width)):
                continue
            for (symbol, meaning, code), fill in entries:
                key.add(symbol, meaning, code, fill=fill)
            key.where.append(
                _("beside the table ({where})").format(where=self.where(table, table.rows[header.rows[0]].line))
            )
            for c in (col, col + 1):
                if c in by_col:
                    by_col[c].field, by_col[c].how, by_col[c].guessed = IGNORE, "key", False
            return

    def _forced_row(
        self, given: tuple[tuple[int | None, int], str], table: Table, row: Row, values: list[str], draft: _Draft | None
    ) -> bool:
        """Whether the kind the coordinator gave this row can be obeyed; when it cannot, a warning says why and
        the reader's own reading stands."""
        where, kind = given
        self.forced_used.add(where)
        if kind == "continuation" and draft is None:
            self.warnings.append(
                PlanWarning(
                    self.where(table, row.line),
                    _("there is no action above this row for it to continue: read as before"),
                )
            )
            return False
        # a row left empty by the key columns: nothing to read
        return not (kind in ("action", "section") and not any(values))

    def _single_text(self, row: Row) -> str:
        return next((c.text for c in row.cells if c.text), "").replace("\n", " ").strip()

    def _colour_column(self, table: Table, first: int, mapping: list[ColumnMapping], key: _Key) -> ColumnMapping | None:
        """A plan that keeps its RAG only as the colour of each action's row (no RAG column): the fills of its
        reference or action cells, when they are ratings (two colours at least, or the plan's key says so)."""
        for name in ("ref", "action"):
            column = next((m for m in mapping if m.field == name), None)
            if column is None:
                continue
            codes = set()
            for row in table.rows[first:]:
                if column.column < len(row.cells) and row.cells[column.column].fill:
                    fill = row.cells[column.column].fill or ""
                    code = key.fills.get(fill) or rag_from_fill(fill)
                    if code:
                        codes.add(code)
            if len(codes) >= 2 or (codes and key.fills):
                return ColumnMapping(
                    column.column,
                    _("colour of {header}").format(header=column.header or name),
                    "rag",
                    confidence=0.6,
                    guessed=True,
                    how="colour",
                )
        return None

    def _row_values(self, rows: list[Row], i: int, width: int, protected: set[int]) -> list[str]:
        """A row's texts; a cell merged down from the row above repeats its value (an owner over three rows),
        except in the reference and action columns (there a merge means the same action)."""
        row = rows[i]
        out = []
        for c in range(width):
            cell = row.cells[c] if c < len(row.cells) else Cell()
            text = cell.text
            if not text and cell.covered_by is not None and c not in protected:
                r0, c0 = cell.covered_by
                if r0 != i and c0 == c and r0 < len(rows) and c0 < len(rows[r0].cells):
                    text = rows[r0].cells[c0].text
            out.append(text)
        return out

    def _add_cells(
        self,
        draft: _Draft,
        table: Table,
        row: Row,
        values: list[str],
        mapping: list[ColumnMapping],
        wrapped: bool,
        key: _Key,
        default_term: TermKey | None,
    ) -> None:
        rated: list[tuple[int, str, int]] = []
        for m in mapping:
            if m.column >= len(values):
                continue
            value = values[m.column]
            cell = row.cells[m.column] if m.column < len(row.cells) else Cell()
            if m.field == IGNORE:
                continue
            if m.field == "rag":
                term = m.term or default_term
                if term is None:
                    continue
                if m.how == "colour":  # the row's colour only; the cell's text is the action's
                    colour = key.fills.get(cell.fill or "") or rag_from_fill(cell.fill)
                    code, comment, from_colour = colour, "", colour is not None
                else:
                    code, comment, from_colour = read_rating(cell, key)
                if code is None and not comment:
                    continue
                slot = (term[0], term[1], m.half_term or 0)
                update = draft.updates.setdefault(slot, ParsedUpdate(term[0], term[1], None, "", m.half_term))
                if code is not None:
                    update.rag = code
                    update.from_colour = from_colour
                    self.counts.ratings += 1
                    self.counts.ratings_from_colour += from_colour
                    self.rag_seen.add(code)
                elif comment:
                    self.unknown[comment[:40]] = self.unknown.get(comment[:40], 0) + 1
                    self.warnings.append(
                        PlanWarning(
                            self.where(table, row.line),
                            _("{value} is not a RAG rating; kept as a comment").format(value=repr(comment[:40])),
                        )
                    )
                if comment:
                    update.comment = _append(update.comment, comment, wrapped)
                rated.append(slot)
                continue
            if not value:
                continue
            if m.field == "comment":
                if m.term is not None:
                    slots = [s for s in draft.updates if (s[0], s[1]) == m.term]
                    slot = max(slots, key=lambda s: s[2]) if slots else (m.term[0], m.term[1], m.half_term or 0)
                else:
                    known = rated or list(draft.updates)
                    if known:
                        slot = max(known, key=lambda s: (Term(s[0], s[1]), s[2]))
                    elif default_term is not None:
                        slot = (default_term[0], default_term[1], 0)
                    else:
                        draft.texts["comment"] = _append(draft.texts.get("comment", ""), value, wrapped)
                        continue
                update = draft.updates.setdefault(slot, ParsedUpdate(slot[0], slot[1], None, "", slot[2] or None))
                if update.rag is None and not any(r.field == "rag" and r.term == m.term for r in mapping):
                    # No rating column for this term: an update that leads with its rating ("🟢 Survey done",
                    # "Amber – recruitment delayed") or a coloured cell carries it.
                    code, rest, from_colour = leading_rating(cell, value, key)
                    if code is not None:
                        update.rag, update.from_colour, value = code, from_colour, rest
                        self.counts.ratings += 1
                        self.counts.ratings_from_colour += from_colour
                        self.rag_seen.add(code)
                        self.counts.ratings_in_comments += 1
                if value:
                    update.comment = _append(update.comment, value, wrapped)
                continue
            if m.field == EXTRA:
                name = m.header or _("column {n}").format(n=m.column + 1)
                draft.action.extra[name] = _append(draft.action.extra.get(name, ""), value, wrapped)
                continue
            if m.field == "section":
                continue
            if m.field == "ref" and draft.action.own_ref and draft.texts.get("ref"):
                continue
            draft.texts[m.field] = _append(draft.texts.get(m.field, ""), value, wrapped, m.field)
        if not any(m.field == "rag" for m in mapping) and default_term is None:
            return

    def _finish(self, draft: _Draft) -> None:
        from plans.importer import build_milestones

        a, texts = draft.action, draft.texts
        if texts.get("ref") and not a.ref:
            a.ref = texts["ref"][:MAX_REF]
        a.text = texts.get("action", "")
        a.impact = texts.get("impact", "")
        a.owners_text = texts.get("owner", "")
        a.owners = split_names(a.owners_text)
        a.milestones_text = texts.get("milestones", "")
        a.timeline = texts.get("date", "")
        a.kpis = texts.get("kpis", "")
        a.funding = texts.get("funding", "")
        a.reporting = texts.get("reporting", "")
        if texts.get("comment"):
            a.extra[_("Comment")] = texts["comment"]
        for key, value in texts.items():
            if key.startswith("#"):
                a.extra[key] = value
        if a.milestones_text or a.timeline:
            a.milestones, a.due_date = build_milestones(a.milestones_text, a.timeline)
        a.history = [draft.updates[k] for k in sorted(draft.updates, key=lambda s: (Term(s[0], s[1]), s[2]))]
        if not a.text:
            self.warnings.append(PlanWarning(a.where, _("action {ref} has no text").format(ref=a.ref or "—")))

    # --- the plan's key ----------------------------------------------------------------------------

    def _text_key(self, doc: Document) -> RatingKey:
        """A key written out in the text before the tables or in their headings."""
        key = RatingKey()
        for text in list(doc.preamble) + [h for t in doc.tables for h in t.headings]:
            entries = key_entries(text)
            for entry in entries:
                key.add(*entry)
            if entries:
                key.where.append(_("the text above the table"))
        for n, item in enumerate(self.not_read):  # text after the table, as the reader of the file left it
            entries = key_entries(item.text)
            for entry in entries:
                key.add(*entry)
            if entries:
                key.where.append(item.where)
                self.not_read[n] = NotRead(item.where, _("the plan's rating key"), item.line, item.text)
        return key

    def _table_key(self, index: int, table: Table, header: _Header) -> RatingKey:
        """A key inside a plan's table: in a heading ("RAG (1 = on track, 3 = off track)"), or on a row of
        its own below or between the actions ("Key: ✓ = on track, ~ = some concerns")."""
        key = RatingKey()
        for text in header.headers:
            inner = re.findall(r"\(([^)]*)\)", text) or [text.split(":", 1)[-1]]
            for part in inner:
                entries = key_entries(part)
                for entry in entries:
                    key.add(*entry)
                if entries and _("in the heading {header}").format(header=repr(text)) not in key.where:
                    key.where.append(_("in the heading {header}").format(header=repr(text)))
        for row in table.rows[header.rows[-1] + 1 :]:
            filled = [c.text for c in row.cells if c.text]
            if not filled or len(filled) > 2:
                continue
            entries = key_entries(" ".join(filled))
            if entries:
                for entry in entries:
                    key.add(*entry)
                key.lines.add((index, row.line))
                key.where.append(self.where(table, row.line))
        return key

    # --- the whole file ----------------------------------------------------------------------------

    def read(self) -> ParsedPlan:
        doc = self.doc
        stem = PurePath(self.filename).stem.replace("_", "-")
        texts = list(doc.preamble) + [h for t in doc.tables for h in t.headings] + [t.title for t in doc.tables]
        top_rows = [" ".join(c.text for c in r.cells if c.text) for t in doc.tables for r in t.rows[:6]]
        year = find_year(texts[:40] + top_rows + [stem])
        plan_year = int(year[:4]) if year else None
        m = re.search(r"(?:19|20)(\d\d)", stem)
        filename_year = None if not m else int("20" + m.group(1)) if not year else None
        headers: list[tuple[int, Table, _Header]] = []
        criteria: list[str] = []
        key_tables: list[Table] = []
        self.key = self._text_key(doc)
        for index, table in enumerate(doc.tables):
            forced = self.overrides.header_row
            header = None
            if forced is not None and any(r.line == forced for r in table.rows):
                header = find_header(table, plan_year, forced)
            if header is None:
                header = find_header(table, plan_year)
            if header is None:
                self.counts.tables += 1
                table_key, used = read_key([r for r in table.rows if not r.blank])
                if len(table_key.entries) >= 2 and len(used) >= 2:
                    # A key or legend of its own (a sheet, a table beside the plan): the plan's vocabulary.
                    table_key.where.append(table.source or table.title or _("a table"))
                    self.key.merge(table_key)
                    key_tables.append(table)
                    self.skip_rows(table, table.rows, _("the plan's rating key"), "key")
                    continue
                heads = " ".join(table.rows[0].texts) if table.rows else ""
                if table.rows and (_KPI_HEADING.search(heads) or _KPI_HEADING.search(table.title)):
                    lines = [" – ".join(x for x in r.texts if x) for r in table.rows if not r.blank]
                    criteria.append("\n".join(lines))
                    for r in table.rows:
                        if not r.blank:
                            self.mark(table, r, "note", _("a table of success criteria: kept with the plan"))
                    continue
                label = table.title or table.source or _("a table")
                if self.doc.workbook and all(sum(1 for c in r.cells if c.text) <= 1 for r in table.rows if not r.blank):
                    self.skip_rows(
                        table, table.rows, _("{sheet}: a cover or notes sheet, no table").format(sheet=label)
                    )
                    continue
                self.skip_rows(
                    table,
                    table.rows,
                    _("{table}: no column reads as the actions").format(
                        table=label if not table.source or table.source in label else f"{table.source} ({label})"
                    ),
                )
                continue
            headers.append((index, table, header))
        if not headers:
            found = "; ".join(
                f"{t.title or t.source or '—'}: {', '.join(x for x in t.rows[0].texts if x)[:80]}"
                for t in doc.tables
                if t.rows and not t.rows[0].blank
            )[:600]
            if key_tables:
                raise PlanImportError(
                    _(
                        "This file holds only a rating key ({where}), not a plan: there is no table of actions "
                        "in it. Please send the plan itself."
                    ).format(where=", ".join(t.source or t.title for t in key_tables)[:200])
                )
            if not doc.tables:
                raise PlanImportError(
                    _(
                        "I found no table in this file. A plan needs a table with a column for the "
                        "actions (for example 'Action', 'Priority tasks' or 'Proposed action')."
                    )
                )
            raise PlanImportError(
                _(
                    "No table in this file has a column I can read as the actions (such as "
                    "'Action', 'Priority tasks', 'Proposed action' or 'Key actions'). Tables "
                    "found: {found}"
                ).format(found=found or "—")
            )

        results: list[tuple[Table, _TableResult]] = []
        several_sheets = len({t.source for _i, t, _h in headers}) > 1 and doc.workbook
        for index, table, header in headers:
            self.counts.tables += 1
            above = [table.rows[i] for i in range(header.rows[0]) if not table.rows[i].blank]
            above_key, key_rows = read_key(above)
            if above_key:
                above_key.where.append(_("above the table"))
                above_key.lines |= {(index, above[k].line) for k in key_rows}
            key = key_from_overrides(self.overrides.key)  # the coordinator's key wins over the plan's
            key.merge(above_key)
            key.merge(self.key)
            key.merge(self._table_key(index, table, header))
            self.table_keys.append(key)
            result = self.read_table(index, table, header, plan_year, filename_year, key)
            width = table.width
            for k, row in enumerate(above):
                single = sum(1 for c in row.cells if c.text) == 1 or any(
                    c.col_span >= max(2, width // 2) for c in row.cells if c.text
                )
                if k in key_rows:
                    self.skip_rows(table, [row], _("the plan's rating key"), "key")
                elif not single:
                    reason = _("above the table's header row")
                    self.skip_rows(table, [row], f"{table.title}: {reason}" if table.title else reason)
                else:
                    self.mark(table, row, "title", _("one value above the header row: a title or a note"))
            if several_sheets and result.sections and not result.sections[0].title and results:
                result.sections[0].title = table.title
            results.append((table, result))

        title, partnership = self._title(results, stem)
        sections: list[ParsedSection] = []
        for _table, result in results:
            sections.extend(result.sections)
        sections = [s for s in sections if s.actions or s.title]
        if not any(s.actions for s in sections):
            raise PlanImportError(_("The tables in this file have an action column but no actions in it."))
        has_blue = "B" in self.rag_seen or any(k.codes & {"B", COMPLETE} for k in self.table_keys)
        for s in sections:
            for a in s.actions:
                for u in a.history:
                    if u.rag == COMPLETE:
                        u.rag = "B" if has_blue else "G"
        _assign_refs(sections, self.warnings)
        for reading, action in self.row_actions:  # the references as they will be saved
            reading.ref = action.ref
            if reading.kind == "continuation":
                reading.of_line = action.line
        for (table_at, line), kind in self.overrides.rows.items():
            if (table_at, line) not in self.forced_used:
                where = (
                    _("line {n}").format(n=line)
                    if table_at is None
                    else _("table {t} line {n}").format(t=table_at + 1, n=line)
                )
                self.warnings.append(
                    PlanWarning(
                        where,
                        _("no row of a table's actions is there: your {kind!r} was not used").replace(
                            "{kind!r}", repr(kind)
                        ),
                    )
                )
        self.counts.sections = sum(1 for s in sections if s.title)
        self.counts.generated_refs = sum(1 for s in sections for a in s.actions if not a.own_ref)
        self.counts.not_read = len(self.not_read)
        for _table, result in results:
            for column in result.reading.columns:
                if column.field == EXTRA and column.header:
                    self.warnings.append(
                        PlanWarning(
                            result.reading.where,
                            _("column {header} is not a plan field; kept as extra detail").format(
                                header=repr(column.header)
                            ),
                        )
                    )
            # A RAG column's assumed term is not a warning as well: the preview says it once, from
            # `term_assumptions`, beside the button that changes it.
        for item in self.not_read:
            self.warnings.append(PlanWarning(item.where, item.reason))
        year = year or find_year([title])
        key = RatingKey()
        for table_key in self.table_keys:
            key.merge(table_key)
        key.entries = [(s, m, ("B" if has_blue else "G") if c == COMPLETE else c) for s, m, c in key.entries]
        alerts = self._alerts([r.reading for _t, r in results], sections, key)
        return ParsedPlan(
            title=title[:300],
            partnership=partnership,
            year=year,
            sections=sections,
            warnings=self.warnings,
            rag_set="B,R,A,G" if has_blue else "R,A,G",
            success_criteria="\n\n".join(criteria) or None,
            source_name=PurePath(self.filename).name,
            format=doc.format,
            tables=[r.reading for _t, r in results],
            counts=self.counts,
            not_read=self.not_read,
            overrides=self.overrides or None,
            rating_key=key.entries,
            rating_key_where=key.where,
            unknown_values=dict(self.unknown),
            alerts=alerts,
            rows=sorted(self.rows, key=lambda r: (r.table, r.line)),
        )

    def _alerts(self, readings: list[TableReading], sections: list[ParsedSection], key: RatingKey) -> list[str]:
        """What a faithful import would not keep, said before anything is saved."""
        out: list[str] = []
        rag_columns = [c for r in readings for c in r.columns if c.field == "rag"]
        comment_columns = [c for r in readings for c in r.columns if c.field == "comment"]
        actions = sum(len(s.actions) for s in sections)
        ratings = self.counts.ratings
        comments = sum(1 for s in sections for a in s.actions for u in a.history if u.comment)
        hint = _("say which column holds the ratings for which term, and which key applies")
        if rag_columns and actions and ratings < max(1, actions // 4) and (self.unknown or comments):
            out.append(
                ngettext(
                    "{n} rating column, but only {ratings} ratings read for {actions} actions: {hint}.",
                    "{n} rating columns, but only {ratings} ratings read for {actions} actions: {hint}.",
                    len(rag_columns),
                ).format(n=len(rag_columns), ratings=ratings, actions=actions, hint=hint)
            )
        elif rag_columns and actions and ratings == 0:
            out.append(
                ngettext(
                    "{n} rating column, but no rating read in it: {hint}.",
                    "{n} rating columns, but no rating read in them: {hint}.",
                    len(rag_columns),
                ).format(n=len(rag_columns), hint=hint)
            )
        if not rag_columns and comment_columns and comments and not self.counts.ratings_in_comments:
            out.append(
                ngettext(
                    "{n} action has a progress comment but no column holds ratings: {hint}.",
                    "{n} actions have progress comments but no column holds ratings: {hint}.",
                    comments,
                ).format(n=comments, hint=hint)
            )
        for reading in readings:
            assumption = reading.term_assumption
            if assumption is not None and assumption.source == "today":
                # The clock never decides a plan's history: the coordinator is asked.
                out.append(
                    _(
                        "The plan names no year, so the ratings in {header} are filed under the current term "
                        "({term}) only until you choose their term."
                    ).format(header=repr(assumption.header), term=term_label(Term(*assumption.term)))
                )
        if self.unknown:
            values = ", ".join(repr(v) for v in sorted(self.unknown, key=lambda v: -self.unknown[v])[:8])
            total = sum(self.unknown.values())
            found = key.describe() if key else _("no key found in the plan")
            out.append(
                ngettext(
                    "{n} value in the rating columns matched no rating ({values}); kept as a comment. Key: {key}.",
                    "{n} values in the rating columns matched no rating ({values}); kept as comments. Key: {key}.",
                    total,
                ).format(n=total, values=values, key=found)
            )
        return out

    def _title(self, results: list[tuple[Table, _TableResult]], stem: str) -> tuple[str, str | None]:
        """The plan's title and partnership: the lead-in its section titles share, a line naming the plan
        above the first table, or the file's name."""

        first_table, first = results[0]
        titles = [t.title for t, _r in results]
        lead, section_titles = _split_common_prefix(titles) if len(results) > 1 else ("", titles)
        head_lines = list(self.doc.preamble) if not self.doc.workbook else []
        own = first.title_rows
        candidates = head_lines + own
        labelled, consumed = _labelled_lines(candidates)
        partnership = labelled.get("partnership")
        if not partnership:
            for line in candidates[:10]:
                if (
                    _PARTNERSHIP.search(line)
                    and len(line) <= 100
                    and not re.search(r"\bplan\b", line, re.I)
                    and line not in consumed
                    and not line.rstrip().endswith(".")
                    and ". " not in line
                ):
                    partnership = line.strip()
                    consumed.add(line)
                    break
        title = lead
        if not title:
            for line in candidates[:14]:
                if re.search(r"\bplan\b", line, re.IGNORECASE) and len(line) <= 200 and line not in consumed:
                    title = line.strip()
                    consumed.add(line)
                    break
            if (
                title
                and partnership
                and partnership.lower() not in title.lower()
                and len(re.sub(r"[\d\s/-]|action|plan", "", title, flags=re.IGNORECASE)) < 3
            ):
                title = f"{partnership} – {title}"
        if title and not partnership:
            head = re.split(r"\s[-–—:]\s", title, maxsplit=1)[0]
            if head != title and _PARTNERSHIP.search(head) and not re.search(r"\bplan\b|\d", head, re.I):
                partnership = head.strip()
        if not title:
            line = next((x for x in candidates if x not in consumed and len(x) <= 200), "")
            title = line or _title_from_stem(stem) or _("Action plan")
            consumed.add(line)
        # What is left above each table names its first section (and its notes); else the table's title.
        for n, ((table, result), section_title) in enumerate(zip(results, section_titles)):
            if not result.sections:
                continue
            remaining = [x for x in result.title_rows if x not in consumed and x != title]
            if remaining:
                heading = table.title if table.title and table.title not in consumed and table.title != title else ""
                name = _heading_among(remaining + ([heading] if heading else []))
                notes = [x for x in remaining if x != name]
            elif self.doc.workbook:
                name, notes = (table.title if n > 0 and table.source != results[0][0].source else ""), []
            elif lead:
                name, notes = section_title, []
            elif len(results) > 1 or _SECTION_HEADING.match(table.title or ""):
                name, notes = table.title, []
            else:
                name, notes = "", []  # one table: the line above it is the plan's (a title, a note), not a section
            if name in consumed or name == title:
                name = ""
            if notes and _KPI_HEADING.search(notes[0]) and len(notes) > 1 and len(notes[0]) < 120:
                notes = notes[1:]
            if n > 0 and not self.doc.workbook:
                # Headings between two tables that look like section titles are sections with no rows.
                previous = results[n - 1][0].title
                for text in table.headings[:-1]:
                    if len(text) <= 200 and (_common_words(text, previous) >= 2 or _SECTION_HEADING.match(text)):
                        results[n - 1][1].sections.append(
                            ParsedSection(title=_split_common_prefix([previous, text])[1][1] if lead else text)
                        )
            first_section = result.sections[0]
            if not first_section.title and first_section.line is None:
                first_section.title = name
                first_section.kpis = "\n".join(x for x in notes + [first_section.kpis] if x)
            elif name and name != first_section.title:
                result.sections.insert(0, ParsedSection(title=name, kpis="\n".join(notes)))
        return title, partnership


_NOT_HEADING = re.compile(
    r"^\s*(version|v\d|why|rationale|purpose|agreed|approved|updated|last updated|date|draft|signed|"
    r"prepared|author|owner|review date|status|note|notes)\b",
    re.IGNORECASE,
)


def _heading_among(lines: list[str]) -> str:
    """The line above a table that names its section: a priority heading ("Priority 2: …", "Strategic
    Priority …", "1. Quality of education"), else a short line that reads as a heading (not a sentence, a
    version or a "Why: …" note); '' when none does."""
    for line in lines:
        if len(line) <= 150 and (_SECTION_HEADING.match(line) or re.search(r"\bpriorit(y|ies)\b", line, re.I)):
            return line
    for line in lines:
        if (
            len(line) <= 100
            and not _NOT_HEADING.match(line)
            and not line.rstrip().endswith((".", ":"))
            and ". " not in line
        ):
            return line
    return ""


def _common_words(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split(), b.split()):
        if x.lower() != y.lower():
            break
        n += 1
    return n


def _title_from_stem(stem: str) -> str:
    """A title from a file's name when the file has none of its own: "la-monitoring-2019-20" ->
    "La monitoring 2019-20" (a year range keeps its hyphen; the coordinator can rename it in the preview)."""
    text = re.sub(r"(?<=\d)[-_](?=\d)", "\x00", stem)
    text = " ".join(re.sub(r"[-_]+", " ", text).split()).replace("\x00", "-")
    return text[:1].upper() + text[1:]


def _split_common_prefix(titles: list[str]) -> tuple[str, list[str]]:
    """('Teaching School 2014/15 - Action Plan', ['1. Initial teacher training', ...]) when the titles share
    a lead-in ending at a dash or colon; else ('', titles)."""
    real = [t for t in titles if t]
    if len(real) < 2:
        return "", titles
    prefix = real[0]
    for t in real[1:]:
        n = 0
        while n < min(len(prefix), len(t)) and prefix[n] == t[n]:
            n += 1
        prefix = prefix[:n]
    separators = list(re.finditer(r"\s[-–—:|]\s|:\s", prefix))
    m = separators[-1] if separators else None  # the last separator in the shared prefix
    if m is None:
        return "", titles
    lead = prefix[: m.start()].strip()
    cut = m.end()
    if len(lead) < 4:
        return "", titles
    return lead, [t[cut:].strip() if t.startswith(prefix[:cut]) else t for t in titles]


def _labelled_lines(lines: list[str]) -> tuple[dict[str, str], set[str]]:
    """'Partnership: East Midlands TSA', 'Year: 2016-17' and 'Exported …' lines (as our exports write them):
    the values found, and the lines used."""
    labels = {"partnership": {"partnership", _("Partnership").lower()}, "year": {"year", _("Year").lower()}}
    out: dict[str, str] = {}
    used: set[str] = set()
    exported = _("Exported {date}").split("{", 1)[0].strip().lower()
    for line in lines:
        if line.lower().startswith(("exported ", exported + " ")):
            used.add(line)
            continue
        key, sep, value = line.partition(":")
        if not sep or not value.strip():
            continue
        for name, words in labels.items():
            if key.strip().lower() in words and name not in out:
                out[name] = value.strip()
                used.add(line)
    return out, used


def _dates_in(texts: list[str]) -> list[dt.date]:
    from plans.importer import parse_when

    out = []
    for text in texts:
        day = parse_when(text)
        if day is not None:
            out.append(day)
    return out


def _section_number(title: str) -> str | None:
    m = re.match(
        r"^\s*(?:section|strand|priority|area|objective|part)?\s*(\d{1,2})\s*[.):\-–]\s*\S", title, re.IGNORECASE
    )
    return m.group(1) if m else None


def _assign_refs(sections: list[ParsedSection], warnings: list[PlanWarning]) -> None:
    """Keep the plan's own references; number the rest '<section>.<position>'; make duplicates unique by
    putting the section number in front ('2.c)')."""
    numbers: list[str] = []
    used_numbers: set[str] = set()
    index = 0
    for section in sections:
        if section.actions:
            index += 1
        number = _section_number(section.title) or str(max(index, 1))
        if number in used_numbers:
            number = str(max(index, 1))
        used_numbers.add(number)
        numbers.append(number)
    counts: dict[str, int] = {}
    for section in sections:
        for action in section.actions:
            if action.ref:
                counts[action.ref.lower()] = counts.get(action.ref.lower(), 0) + 1
    duplicated = {ref for ref, n in counts.items() if n > 1}
    if duplicated:
        warnings.append(
            PlanWarning(
                "",
                _("references used more than once ({refs}) were prefixed with their section number").format(
                    refs=", ".join(sorted(duplicated))[:200]
                ),
            )
        )
    taken: set[str] = set()
    for section, number in zip(sections, numbers):
        for action in section.actions:
            if duplicated and action.ref and not re.match(r"^\d+\.", action.ref):
                action.ref = f"{number}.{action.ref}"[:MAX_REF]
            if action.ref:
                base, n = action.ref, 1
                while action.ref.lower() in taken:
                    n += 1
                    suffix = f"-{n}"
                    action.ref = base[: MAX_REF - len(suffix)] + suffix
                taken.add(action.ref.lower())
    for section, number in zip(sections, numbers):
        position = 0
        for action in section.actions:
            position += 1
            if action.ref:
                continue
            candidate = f"{number}.{position}"
            while candidate.lower() in taken:
                position += 1
                candidate = f"{number}.{position}"
            action.ref = candidate
            taken.add(candidate.lower())


def read_plan(doc: Document, filename: str, overrides: PlanOverrides | None = None) -> ParsedPlan:
    return _PlanReader(doc, filename, overrides or PlanOverrides()).read()


__all__ = ["read_plan", "find_header", "read_rating", "infer_term", "TERMS"]
