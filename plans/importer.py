"""Read an action plan from a file (pure: bytes in, `ParsedPlan` out): the public entry.

`parse_plan(data, filename, overrides=None)` reads the file into the one table model (`core.ingest`), then
reads the plan out of its tables (`plans.reader`): the result (`plans.parsed`) holds the sections and
actions, the column mapping, the counts and every row not read. Here too: the helpers for a plan's cells
(owners through `core.names`, the dates of milestones through `core.uk_dates`) and plan-level details.
A file with no usable table raises `PlanImportError` (`PlanTooLarge` over a size limit).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from core.i18n import _
from core.names import split_names
from plans.parsed import (  # noqa: F401 - the result's types are part of this module's API
    ParsedAction,
    ParsedPlan,
    ParsedSection,
    ParsedUpdate,
    PlanImportError,
    PlanOverrides,
    PlanTooLarge,
    PlanWarning,
)
from plans.reader import MAX_REF  # noqa: F401 - kept here for callers


def split_owners(text: str) -> list[str]:
    """The owners in a cell, each whole: the one name splitter (`core.names.split_names`)."""
    return split_names(text)


# ---------------------------------------------------------------------------------------------------------
# Dates and milestones
# ---------------------------------------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
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
        rest.append(cell[last : m.start()])
        last = m.end()
    rest.append(cell[last:])
    leftover = re.sub(r"[\s,;.&]+|\band\b|\bthen\b", "", " ".join(rest), flags=re.IGNORECASE)
    if len(leftover) > 2:
        return [cell]
    return [m.group(0).strip(" ,") for m in found]


def parse_when(text: str) -> dt.date | None:
    """A date for a 'when' where it names one (through `core.uk_dates.read_when`): 'October 2014' →
    2014-10-01 (the month), '12/03/2015' → 12 March 2015, 'May/June 2015' → 2015-06-01. Terms, 'On-going',
    'TBC' → None."""
    from core.uk_dates import read_when

    value = re.sub(r"\([^)]*\)", " ", text or "").strip()
    when = read_when(value)
    if when is None:  # a date inside other words: "by 12/03/2015 at the latest"
        found = re.search(r"\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*(?:\d{4}|\d{2})|(?:19|20)\d\d-\d\d-\d\d", value)
        when = read_when(found.group(0).replace(" ", "")) if found else None
    if when is None or when.end is None or when.start is None:
        return None
    if when.kind in ("day", "week"):
        return when.start
    if when.kind == "month":
        return when.end.replace(day=1)
    return None


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
