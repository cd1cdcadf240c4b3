"""Read an action plan from a file into plain dataclasses (pure: bytes in, `ParsedPlan` out).

`parse_plan(data, filename)` finds the tables (`plans.tables`), matches their headers to plan fields
(`plans.fields`), and builds sections and actions: references (the plan's own "1.3" / "c)", or "1.1",
"1.2" … by section and position), owners split into people ("L Draycott K Shilton" → two), milestones
paired with the dates in the Date cell, KPIs, funding, reporting, and progress history from RAG columns
per term. Rows whose action cell is empty continue the action above. Everything it could not read is a
warning with its line number. A file with no usable table raises `PlanImportError`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import PurePath

from core.i18n import _
from plans.fields import PlanColumns, match_plan_headers
from plans.parsed import (  # noqa: F401 - the result's types are part of this module's API
    ParsedAction, ParsedPlan, ParsedSection, ParsedUpdate, PlanImportError, PlanOverrides, PlanTooLarge, PlanWarning)
from plans.rag import parse_rag, split_rag_prefix
from plans.tables import Extracted, RawTable, TableReadError, extract
from plans.terms import SUMMER, Term, current_term

MAX_REF = 20


# ---------------------------------------------------------------------------------------------------------
# Owners
# ---------------------------------------------------------------------------------------------------------

_TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame", "rev", "mx"}
_ROLE_WORDS = {"lead", "leads", "leadership", "practitioner", "practitioners", "team", "teams", "professional",
               "professionals", "sle", "sles", "nle", "nles", "head", "heads", "headteacher", "headteachers",
               "chair", "chairs", "rep", "reps", "coordinator", "coordinators", "manager", "managers", "director",
               "directors", "officer", "officers", "tbc", "all", "staff", "governor", "governors", "slt", "senco",
               "sendco", "board", "group", "committee", "partners", "network", "hub", "trust", "school", "schools"}
_NOT_OWNERS = {"tbc", "tba", "n/a", "na", "-", "–", "none", "various", "all", "?"}
_OWNER_SPLIT = re.compile(r"\s*(?:[,;/&+\n]|\band\b|\bsupported by\b|\bwith\b|\bplus\b)\s*", re.IGNORECASE)


def _is_initial(token: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]\.?|[A-Z]\.[A-Z]\.?|[A-Z]{2}\.?", token)) and len(token.rstrip(".")) <= 2 \
        and token.rstrip(".").isalpha() and (len(token.rstrip(".")) == 1 or "." in token)


def split_owners(text: str) -> list[str]:
    """'L Draycott K Shilton' → ['L Draycott', 'K Shilton']; 'TSC rep, RSCd, EMTSSG chairs' → three;
    'BSP and RSCd' → two; 'BSP/TSF Project lead' → two; 'M Rock Leadership' → ['M Rock', 'Leadership'].
    Placeholders such as 'TBC' are not owners."""
    owners: list[str] = []
    for part in _OWNER_SPLIT.split(text or ""):
        part = part.strip(" .:-–()")
        if not part:
            continue
        groups: list[list[str]] = []
        current: list[str] = []
        for token in part.split():
            lower = token.lower().rstrip(".")
            starts_person = _is_initial(token) or lower in _TITLES
            has_name = any(not _is_initial(t) and t.lower().rstrip(".") not in _TITLES for t in current)
            person_group = bool(current) and (_is_initial(current[0]) or current[0].lower().rstrip(".") in _TITLES)
            if current and starts_person and has_name:
                groups.append(current)
                current = []
            elif current and person_group and has_name and lower in _ROLE_WORDS:
                groups.append(current)  # "A Turner Lead Practitioners": the person ends at a role word
                current = []
            current.append(token)
        if current:
            groups.append(current)
        for group in groups:
            name = " ".join(group).strip()
            if name and name.lower() not in _NOT_OWNERS:
                owners.append(name)
    seen: set[str] = set()
    unique = []
    for name in owners:
        if name.lower() not in seen:
            seen.add(name.lower())
            unique.append(name)
    return unique


# ---------------------------------------------------------------------------------------------------------
# Dates and milestones
# ---------------------------------------------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|" \
         r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_YEAR = r"(?:19|20)\d\d"
_WHEN = re.compile(
    r"(?:(?:by(?: the)?|from|until|end of|start of|beginning of|mid|w/c|wc)\s+)*(?:"
    rf"\d{{1,2}}\s*[/.-]\s*\d{{1,2}}\s*[/.-]\s*(?:\d{{4}}|\d{{2}})"  # 12/03/2015
    rf"|{_YEAR}-\d\d-\d\d"  # ISO
    rf"|(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?)?{_MONTH}(?:\s*(?:[/&-]|to|and)\s*{_MONTH})*,?(?:\s+{_YEAR}|\s+'?\d\d(?!\d))?"
    rf"|(?:autumn|spring|summer)(?:\s+(?:term|half[- ]term))?(?:\s*[12](?!\d))?(?:\s+{_YEAR}(?:\s*[/-]\s*\d{{2,4}})?)?"
    rf"|(?:easter|christmas|half[- ]term|whitsun|end of (?:the )?(?:year|term))(?:\s+{_YEAR})?"
    rf"|on[- ]?going|tbc|tba|termly|half[- ]termly|annually|weekly|monthly|fortnightly|throughout(?: the year)?"
    rf"|as required|as needed|immediate(?:ly)?|asap|{_YEAR}(?:\s*[/-]\s*\d{{2,4}})?"
    r")(?:\s*\([^)]*\))?",
    re.IGNORECASE,
)


def split_whens(cell: str) -> list[str]:
    """The separate dates in a Date cell: 'October 2014 October 2014 February 2015 On-going On-going' →
    five; a cell written one date per line keeps its lines; a cell we cannot split stays whole."""
    cell = (cell or "").strip()
    if not cell:
        return []
    if "\n" in cell:
        return [line.strip() for line in cell.split("\n") if line.strip()]
    found = [m for m in _WHEN.finditer(cell)]
    if not found:
        return [cell]
    rest, last = [], 0
    for m in found:
        rest.append(cell[last:m.start()])
        last = m.end()
    rest.append(cell[last:])
    leftover = re.sub(r"[\s,;.&]+|\band\b|\bthen\b", "", " ".join(rest), flags=re.IGNORECASE)
    if len(leftover) > 2:
        return [cell]
    return [m.group(0).strip(" ,") for m in found]


def parse_when(text: str) -> dt.date | None:
    """A date for a 'when' where it names one: 'October 2014' → 2014-10-01 (the month), '12/03/2015' →
    12 March 2015, 'May/June 2015' → 2015-06-01. Terms, 'On-going', 'TBC' → None."""
    value = text.strip().lower()
    m = re.search(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4}|\d{2})", value)
    if m:
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        year = year + 2000 if year < 100 else year
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    m = re.search(r"((?:19|20)\d\d)-(\d\d)-(\d\d)", value)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    months = [w for w in re.findall(r"[a-z]+", value) if w in _MONTHS]
    year_m = re.search(r"\b((?:19|20)\d\d)\b", value) or re.search(r"'(\d\d)\b|\b(\d\d)$", value)
    if not months or not year_m:
        return None
    year = int(next(g for g in year_m.groups() if g))
    year = year + 2000 if year < 100 else year
    month = _MONTHS[months[-1]]
    day_m = re.match(r"\s*(\d{1,2})(?:st|nd|rd|th)?\s", value)
    if day_m and len(months) == 1:
        try:
            return dt.date(year, month, int(day_m.group(1)))
        except ValueError:
            return None
    return dt.date(year, month, 1)


def _month_end(day: dt.date, when: str) -> dt.date:
    """A milestone named by its month is due by the month's end."""
    if re.search(r"\b\d{1,2}\b", re.sub(r"(?:19|20)\d\d", "", when)) or re.search(r"\d{4}-\d\d-\d\d", when):
        return day
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


_SENTENCE = re.compile(r"(?<=[a-z0-9)%])\.\s+(?=[A-Z])")


def split_milestones(text: str, expected: int) -> list[str]:
    """Milestone items: one per line or bullet; failing that, by sentence when that gives the number of
    dates the row has. Otherwise the whole cell is one item."""
    text = (text or "").strip()
    if not text:
        return []
    if "\n" in text:
        return [line.strip() for line in text.split("\n") if line.strip()]
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    if expected > 1 and len(sentences) == expected:
        return sentences
    return [text]


def build_milestones(milestones_text: str, date_text: str) -> tuple[list[dict], dt.date | None]:
    whens = split_whens(date_text)
    items = split_milestones(milestones_text, len(whens))
    out: list[dict] = []

    def entry(text: str, when: str | None) -> dict:
        day = parse_when(when) if when else None
        return {"text": text, "when": when, "date": day.isoformat() if day else None}

    if items and len(items) == len(whens):
        out = [entry(t, w) for t, w in zip(items, whens)]
    else:
        out = [entry(t, None) for t in items] + [entry("", w) for w in whens]
    dated = [(_month_end(parse_when(m["when"]), m["when"])) for m in out if m["date"]]  # type: ignore[arg-type]
    return out, (max(dated) if dated else None)


# ---------------------------------------------------------------------------------------------------------
# Plan-level details
# ---------------------------------------------------------------------------------------------------------

_YEAR_RE = re.compile(r"\b((?:19|20)\d\d)\s*[/-]\s*((?:19|20)?\d\d)\b")
_PARTNERSHIP = re.compile(r"\b(alliance|partnership|trust|network|federation|council|hub|collaborative|"
                          r"consortium|teaching school|cluster|academies)\b", re.IGNORECASE)
_KPI_HEADING = re.compile(r"\b(kpis?|success criteria|what does better look like|measures? of success|targets?)\b",
                          re.IGNORECASE)


def find_year(texts: list[str]) -> str | None:
    for text in texts:
        m = _YEAR_RE.search(text or "")
        if m:
            first, second = int(m.group(1)), int(m.group(2)[-2:])
            if (first + 1) % 100 == second:
                return f"{first}-{second:02d}"
    return None


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
    m = None
    for m in re.finditer(r"\s[-–—:|]\s|:\s", prefix):
        pass
    if m is None:
        return "", titles
    lead = prefix[:m.start()].strip()
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


def _section_number(title: str) -> str | None:
    m = re.match(r"^\s*(?:section|strand|priority|area|objective|part)?\s*(\d{1,2})\s*[.):\-–]\s*\S", title,
                 re.IGNORECASE)
    return m.group(1) if m else None


def _join(a: str, b: str) -> str:
    if not a:
        return b
    if not b:
        return a
    return f"{a}\n{b}" if ("\n" in a or "\n" in b) else f"{a} {b}"


# ---------------------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------------------

@dataclass
class _Row:
    where: str
    values: dict[str, str]
    rag: dict[tuple[int, str], str]
    comments: dict[tuple[int, str], str]
    extra: dict[str, str]
    section: str


def _default_term(year: str | None) -> Term:
    now = current_term()
    if year:
        start = int(year[:4])
        if now.academic_year == start:
            return now
        return Term(start, SUMMER)
    return now


def parse_plan(data: bytes, filename: str, overrides: PlanOverrides | None = None) -> ParsedPlan:
    """Read a plan from a file's bytes (see `plans.reader`); `overrides` are the coordinator's corrections
    to the mapping. Raises PlanImportError (PlanTooLarge over a size limit) when nothing usable is in it."""
    from core.ingest import IngestError, IngestTooLarge, read_document
    from plans.reader import read_plan

    if not data or not data.strip():
        raise PlanImportError(_("The file is empty."))
    try:
        document = read_document(data, filename)
    except IngestTooLarge as exc:
        raise PlanTooLarge(str(exc)) from exc
    except IngestError as exc:
        raise PlanImportError(str(exc)) from exc
    return read_plan(document, filename, overrides)


def parse_extracted(extracted: Extracted, filename: str) -> ParsedPlan:
    warnings: list[PlanWarning] = []
    if not extracted.tables:
        raise PlanImportError(_("I found no table in this file. A plan needs a table with a column for the "
                                "actions (for example 'Action', 'Priority tasks' or 'Proposed action')."))
    stem = PurePath(filename).stem
    all_titles = [t.title for t in extracted.tables]
    year = find_year(extracted.preamble[:15] + all_titles + [n for t in extracted.tables[:3] for n in t.notes]
                     + [stem.replace("_", "-")])

    # Which tables hold actions?
    usable: list[tuple[RawTable, PlanColumns]] = []
    criteria: list[str] = []
    skipped: list[str] = []
    default_year = int(year[:4]) if year else None
    for table in extracted.tables:
        if not table.headers:
            usable.append((table, PlanColumns(headers=[])))  # a section with no rows
            continue
        cols = match_plan_headers(table.headers, default_year=default_year)
        if cols.has_action:
            usable.append((table, cols))
            for col, header in cols.unmatched:
                warnings.append(PlanWarning(table.source_desc, _("column {header!r} is not a plan field; "
                                                                 "kept as extra detail").replace(
                    "{header!r}", repr(header))))
            continue
        heads = ", ".join(h for h in table.headers if h)[:120]
        if _KPI_HEADING.search(" ".join(table.headers)) or _KPI_HEADING.search(table.title):
            lines = [" – ".join(c for c in cells if c) for _l, cells in table.rows]
            criteria.append("\n".join([" – ".join(h for h in table.headers if h)] + [ln for ln in lines if ln]))
            warnings.append(PlanWarning(table.source_desc, _("table {title} has no action column; "
                                                             "kept as the plan's success criteria").format(
                title=repr(table.title or heads))))
        else:
            skipped.append(f"{table.title or heads!r} ({table.source_desc})")
            warnings.append(PlanWarning(table.source_desc, _("table {title} has no action column "
                                                             "(headers: {headers}); skipped").format(
                title=repr(table.title or "—"), headers=heads)))
    if not any(cols.has_action for _t, cols in usable):
        found = "; ".join(f"{t.title or '—'}: {', '.join(h for h in t.headers if h)[:80]}"
                          for t in extracted.tables if t.headers)[:600]
        raise PlanImportError(_("No table in this file has a column I can read as the actions (such as "
                                "'Action', 'Priority tasks', 'Proposed action' or 'Key actions'). Tables "
                                "found: {found}").format(found=found or "—"))

    # Drop sections without rows that come before the first real table (titles of nothing).
    while usable and not usable[0][0].headers:
        usable.pop(0)

    # Plan title: the lead-in shared by the section titles, a line naming the plan (before the first table,
    # or the first table's own title rows, as spreadsheets have), or the file's name.
    titles = [t.title for t, _c in usable]
    lead, section_titles = _split_common_prefix(titles)
    first = usable[0][0]
    head_lines = list(extracted.preamble)
    first_lines = ([first.title] if first.title else []) + list(first.notes)
    candidates = head_lines + ([] if lead else first_lines)
    consumed: set[str] = set()
    labelled, used = _labelled_lines(head_lines + first_lines)
    consumed.update(used)
    partnership = labelled.get("partnership")
    if not partnership:
        for line in candidates[:10]:
            if _PARTNERSHIP.search(line) and len(line) <= 120 and "plan" not in line.lower() \
                    and line not in consumed:
                partnership = line.strip()
                consumed.add(line)
                break
    title = lead
    if not title and len(usable) == 1 and "section" in usable[0][1].columns and first.title:
        title = first.title  # one long table with a Section column (our own export): its title is the plan's
        consumed.add(first.title)
    if not title:
        for line in candidates[:12]:
            if re.search(r"\bplan\b", line, re.IGNORECASE) and len(line) <= 200 and line not in consumed:
                title = line.strip()
                consumed.add(line)
                break
        if title and partnership and partnership.lower() not in title.lower() and \
                len(re.sub(r"[\d\s/-]|action|plan", "", title, flags=re.IGNORECASE)) < 3:
            title = f"{partnership} – {title}"
    if not title:
        title = (extracted.preamble[0] if extracted.preamble and len(extracted.preamble[0]) <= 200
                 else stem.replace("_", " ").replace("-", " ").strip()) or _("Action plan")
    year = find_year([labelled.get("year", "")]) or find_year(
        head_lines[:15] + first_lines + all_titles + [title, stem.replace("_", "-")])
    if first.title in consumed and not lead:
        section_titles[0] = ""
        first.title = ""
    first.notes = [n for n in first.notes if n not in consumed]

    default_term = _default_term(year)
    sections: list[ParsedSection] = []
    rag_seen: set[str] = set()
    warned_plain_rag = False

    for (table, cols), section_title in zip(usable, section_titles):
        kpis = ""
        if table.notes:
            notes = list(table.notes)
            if _KPI_HEADING.search(notes[0]) and len(notes) > 1 and len(notes[0]) < 120:
                notes = notes[1:]
            kpis = "\n".join(notes)
        has_section_col = "section" in cols.columns
        section = ParsedSection(title=section_title if has_section_col else (section_title or table.title),
                                kpis=kpis)
        sections.append(section)
        if not table.headers:
            continue
        current_section = section
        previous: ParsedAction | None = None
        plain_rag_col = cols.columns.get("rag")
        if plain_rag_col is not None and not warned_plain_rag:
            warned_plain_rag = True
            warnings.append(PlanWarning(table.source_desc, _("RAG column {header!r} names no term; its ratings "
                                                             "are recorded for {term}").replace(
                "{header!r}", repr(table.headers[plain_rag_col])).format(term=str(default_term))))
        for line, cells in table.rows:
            where = f"{table.source_desc.rsplit(' ', 1)[0]} {line}" if table.source_desc else str(line)

            def cell(name: str) -> str:
                col = cols.columns.get(name)
                return cells[col].strip() if col is not None and col < len(cells) else ""

            if not any(c.strip() for c in cells):
                continue
            # A section column (our own exports, or plans kept in one long table) groups rows.
            sec_value = cell("section")
            if sec_value and sec_value != current_section.title:
                match = next((s for s in sections if s.title == sec_value), None)
                if match is None:
                    if not current_section.actions and current_section is section and len(sections) == 1 \
                            and not section.title:
                        section.title = sec_value
                        match = section
                    elif not current_section.actions and current_section.title in ("", table.title):
                        current_section.title = sec_value
                        match = current_section
                    else:
                        match = ParsedSection(title=sec_value)
                        sections.append(match)
                current_section = match
            text, ref = cell("action"), cell("ref")
            rag_cells = {term: cells[col].strip() for col, term in cols.rag_terms.items() if col < len(cells)}
            comment_cells = {term: cells[col].strip() for col, term in cols.comment_terms.items() if col < len(cells)}
            extra = {header: cells[col].strip() for col, header in cols.unmatched
                     if col < len(cells) and cells[col].strip()}
            if not text and not ref:
                if previous is None:
                    warnings.append(PlanWarning(where, _("a row with no action and nothing above it to "
                                                         "continue; skipped")))
                    continue
                # A continuation row: its cells belong to the action above.
                _merge_into(previous, cols, cells, extra)
                _add_history(previous, cols, cells, rag_cells, comment_cells, default_term, warnings, where,
                             rag_seen)
                continue
            if not text:
                warnings.append(PlanWarning(where, _("action {ref} has no text").format(ref=ref)))
            owners_text = cell("owner")
            milestones, due = build_milestones(cell("milestones"), cell("date"))
            action = ParsedAction(
                ref=ref[:MAX_REF], text=text, impact=cell("impact"), owners=split_owners(owners_text),
                owners_text=owners_text, milestones=milestones, milestones_text=cell("milestones"), timeline=cell("date"), kpis=cell("kpis"),
                funding=cell("funding"), reporting=cell("reporting"), due_date=due, extra=extra, where=where,
                own_ref=bool(ref))
            _add_history(action, cols, cells, rag_cells, comment_cells, default_term, warnings, where, rag_seen)
            current_section.actions.append(action)
            previous = action

    sections = [s for s in sections if s.actions or s.title]
    _assign_refs(sections, warnings)
    total = sum(len(s.actions) for s in sections)
    if total == 0:
        raise PlanImportError(_("The tables in this file have an action column but no actions in it."))
    rag_set = "B,R,A,G" if "B" in rag_seen else "R,A,G"
    return ParsedPlan(title=title[:300], partnership=partnership, year=year, sections=sections,
                      warnings=warnings, rag_set=rag_set,
                      success_criteria="\n\n".join(criteria) or None, source_name=PurePath(filename).name,
                      format=extracted.format)


def _merge_into(action: ParsedAction, cols: PlanColumns, cells: list[str], extra: dict[str, str]) -> None:
    def cell(name: str) -> str:
        col = cols.columns.get(name)
        return cells[col].strip() if col is not None and col < len(cells) else ""

    action.impact = _join(action.impact, cell("impact"))
    action.kpis = _join(action.kpis, cell("kpis"))
    action.funding = _join(action.funding, cell("funding"))
    action.reporting = _join(action.reporting, cell("reporting"))
    more_owners = cell("owner")
    if more_owners:
        action.owners_text = _join(action.owners_text, more_owners)
        for name in split_owners(more_owners):
            if name.lower() not in {o.lower() for o in action.owners}:
                action.owners.append(name)
    mtext, dtext = cell("milestones"), cell("date")
    if mtext or dtext:
        action.milestones_text = _join(action.milestones_text, mtext)
        action.timeline = _join(action.timeline, dtext)
        action.milestones, action.due_date = build_milestones(action.milestones_text, action.timeline)
    for key, value in extra.items():
        action.extra[key] = _join(action.extra.get(key, ""), value)


def _add_history(action: ParsedAction, cols: PlanColumns, cells: list[str], rag_cells: dict, comment_cells: dict,
                 default_term: Term, warnings: list[PlanWarning], where: str, rag_seen: set[str]) -> None:
    by_term: dict[tuple[int, str], ParsedUpdate] = {u_key(u): u for u in action.history}
    for term, value in rag_cells.items():
        if not value:
            continue
        code = parse_rag(value)
        comment = ""
        if code is None:
            code, comment = split_rag_prefix(value)
        if code is None:
            warnings.append(PlanWarning(where, _("{value!r} is not a RAG rating; kept as a comment").replace(
                "{value!r}", repr(value[:40]))))
            comment = value
        else:
            rag_seen.add(code)
        update = by_term.setdefault(term, ParsedUpdate(term[0], term[1], None, ""))
        if code is not None:
            update.rag = code
        update.comment = _join(update.comment, comment)
    plain_col = cols.columns.get("rag")
    if plain_col is not None and plain_col < len(cells) and cells[plain_col].strip():
        value = cells[plain_col].strip()
        code = parse_rag(value)
        comment = ""
        if code is None:
            code, comment = split_rag_prefix(value)
        if code is None:
            comment = value
        else:
            rag_seen.add(code)
        term = (default_term.academic_year, default_term.term)
        update = by_term.setdefault(term, ParsedUpdate(term[0], term[1], None, ""))
        if code is not None:
            update.rag = code
        update.comment = _join(update.comment, comment)
    for term, value in comment_cells.items():
        if value:
            update = by_term.setdefault(term, ParsedUpdate(term[0], term[1], None, ""))
            update.comment = _join(update.comment, value)
    comment_col = cols.columns.get("comment")
    if comment_col is not None and comment_col < len(cells) and cells[comment_col].strip():
        # A comment column without a term belongs to the latest term this row rated.
        if by_term:
            term = max(by_term, key=lambda t: Term(*t))
        else:
            term = (default_term.academic_year, default_term.term)
        update = by_term.setdefault(term, ParsedUpdate(term[0], term[1], None, ""))
        update.comment = _join(update.comment, cells[comment_col].strip())
    action.history = sorted(by_term.values(), key=lambda u: Term(u.academic_year, u.term))


def u_key(update: ParsedUpdate) -> tuple[int, str]:
    return (update.academic_year, update.term)


def _assign_refs(sections: list[ParsedSection], warnings: list[PlanWarning]) -> None:
    """Keep the plan's own references; number the rest '<section>.<position>'; make duplicates unique by
    putting the section number in front ('2.c)')."""
    numbers: list[str] = []
    used_numbers: set[str] = set()
    for index, section in enumerate(sections, start=1):
        number = _section_number(section.title) or str(index)
        if number in used_numbers:
            number = str(index)
        used_numbers.add(number)
        numbers.append(number)
    counts: dict[str, int] = {}
    for section in sections:
        for action in section.actions:
            if action.ref:
                counts[action.ref.lower()] = counts.get(action.ref.lower(), 0) + 1
    duplicated = {ref for ref, n in counts.items() if n > 1}
    if duplicated:
        warnings.append(PlanWarning("", _("references used more than once ({refs}) were prefixed with their "
                                          "section number").format(refs=", ".join(sorted(duplicated))[:200])))
    taken: set[str] = set()
    for section, number in zip(sections, numbers):
        for action in section.actions:
            # With duplicates, every reference not already numbered by section gets its section's number,
            # so the plan's references stay alike ('1.a)', '1.b)', '2.a)').
            if duplicated and action.ref and not re.match(r"^\d+\.", action.ref):
                action.ref = f"{number}.{action.ref}"[:MAX_REF]
            if action.ref:
                base, n = action.ref, 1
                while action.ref.lower() in taken:
                    n += 1
                    suffix = f"-{n}"
                    action.ref = base[:MAX_REF - len(suffix)] + suffix  # the suffix survives the length limit
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
