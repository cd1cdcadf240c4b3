"""Match a file's column headers to the fields we know, by meaning.

Spreadsheets arrive with headers nobody planned for: "Surname", "Last name", "HeadLastName",
"Sur name", "E-mail address", "Specialism(s)". `match_headers` maps each known field to at most
one column, tolerant of case, punctuation, camelCase, word order, small misspellings and
synonyms; every header it could not place is returned so the caller can report it.

The matching is generic (`match_headers(headers, field_synonyms)`): the directory importer
passes `directory.fields.DIRECTORY_FIELDS`; the action-plan importer passes `plans.fields`' table.
Below both directory/ and plans/ (a shared text tool).

Pure: no database, no Telegram.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

# A header is taken for a field when its best synonym scores at least this (0-100).
FUZZY_THRESHOLD = 85.0

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# The national register labels text columns "X (name)" beside "X (code)": "(name)" adds nothing.
_NAME_SUFFIX = re.compile(r"\(\s*name\s*\)\s*$", re.IGNORECASE)


def normalise_header(text: object) -> str:
    """'HeadLastName' -> 'head last name'; 'E-mail Address ' -> 'e mail address'; 'LA (name)' -> 'la'."""
    value = "" if text is None else str(text)
    value = unicodedata.normalize("NFKD", value)
    value = "".join(c for c in value if not unicodedata.combining(c))
    value = _NAME_SUFFIX.sub("", value.strip())
    value = _CAMEL.sub(" ", value)
    value = value.replace("&", " and ")
    return _NON_WORD.sub(" ", value.lower()).strip()


def _compact(text: str) -> str:
    return text.replace(" ", "")


@dataclass
class HeaderMap:
    """Which column holds which field. Columns are 0-based indexes into the header row."""

    headers: list[str]
    columns: dict[str, int] = field(default_factory=dict)  # field -> column index
    scores: dict[str, float] = field(default_factory=dict)  # field -> match score (100 = exact)
    unmatched: list[str] = field(default_factory=list)  # headers we could not place (non-blank)

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def header_for(self, name: str) -> str | None:
        index = self.columns.get(name)
        return None if index is None else self.headers[index]

    def value(self, row: Sequence[object], name: str) -> object:
        """The cell for `name` in `row`, or None when the field is absent or the row is short."""
        index = self.columns.get(name)
        if index is None or index >= len(row):
            return None
        return row[index]

    @property
    def matched(self) -> dict[str, str]:
        """field -> the header it was read from (for reports)."""
        return {name: self.headers[i] for name, i in self.columns.items()}


def _score(header: str, synonym: str) -> float:
    if header == synonym:
        return 100.0
    if _compact(header) == _compact(synonym):
        return 99.0
    # Character-level ratio tolerates misspellings; token sort tolerates word order.
    return (
        max(
            fuzz.ratio(header, synonym),
            fuzz.token_sort_ratio(header, synonym),
            fuzz.ratio(_compact(header), _compact(synonym)),
        )
        * 0.98
    )


def match_headers(
    headers: Sequence[object], field_synonyms: Mapping[str, Sequence[str]], threshold: float = FUZZY_THRESHOLD
) -> HeaderMap:
    """Map fields to columns.

    `field_synonyms` maps a field name to the headers that mean it, most preferred first
    (when two columns both match a field exactly, the one matching the earlier synonym wins).
    Each field gets at most one column and each column at most one field: candidate pairs are
    taken best score first. Blank headers are ignored; duplicate headers are matched once.
    """
    raw = ["" if h is None else str(h).strip() for h in headers]
    normal = [normalise_header(h) for h in raw]
    synonyms = {name: [normalise_header(s) for s in syns] for name, syns in field_synonyms.items()}

    candidates: list[tuple[float, int, int, str, int]] = []  # (score, -synonym rank, -col, field, col)
    for col, header in enumerate(normal):
        if not header:
            continue
        for name, syns in synonyms.items():
            best, rank = 0.0, len(syns)
            for i, syn in enumerate(syns):
                s = _score(header, syn)
                if s > best:
                    best, rank = s, i
            if best >= threshold:
                candidates.append((best, -rank, -col, name, col))
    candidates.sort(reverse=True)

    result = HeaderMap(headers=raw)
    used_cols: set[int] = set()
    for score, _rank, _col, name, col in candidates:
        if name in result.columns or col in used_cols:
            continue
        result.columns[name] = col
        result.scores[name] = round(score, 1)
        used_cols.add(col)
    seen: set[str] = set()
    for col, header in enumerate(raw):
        if header and col not in used_cols and header not in seen:
            result.unmatched.append(header)
            seen.add(header)
    return result
