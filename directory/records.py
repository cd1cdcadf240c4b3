"""The directory importer's records: what a file's rows become, and what an import did (pure dataclasses)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace

from core.headers import HeaderMap

HEADER_SCAN_ROWS = 30  # a header row is looked for among the first rows (title rows come first)
MAX_LEN = {
    "name": 200,
    "first_name": 100,
    "last_name": 100,
    "title": 40,
    "job_title": 120,
    "email": 200,
    "phone": 40,
    "school_type": 120,
    "local_authority": 120,
    "locality": 120,
    "postcode": 10,
    "trust": 200,
    "website": 200,
    "urn": 16,
}


class DirectoryImportError(Exception):
    """The file cannot be imported at all; `str(exc)` is a translated reason for the user."""


@dataclass(slots=True)
class RowProblem:
    line: int
    reason: str


@dataclass(slots=True)
class SchoolRecord:
    key: str  # "urn:100492" or "name:<normalised name>|<postcode>"
    line: int
    name: str | None = None  # None: a reference by URN to a school the directory should already have
    urn: str | None = None
    phase: str | None = None
    school_type: str | None = None
    local_authority: str | None = None
    locality: str | None = None
    postcode: str | None = None
    trust: str | None = None
    pupils: int | None = None
    low_age: int | None = None
    high_age: int | None = None
    easting: float | None = None
    northing: float | None = None
    phone: str | None = None
    website: str | None = None


SCHOOL_FIELDS = (
    "name",
    "urn",
    "phase",
    "school_type",
    "local_authority",
    "locality",
    "postcode",
    "trust",
    "pupils",
    "low_age",
    "high_age",
    "easting",
    "northing",
    "phone",
    "website",
)


@dataclass(slots=True)
class PersonRecord:
    line: int
    first_name: str = ""
    last_name: str = ""
    title: str | None = None
    job_title: str | None = None
    is_head: bool | None = None
    email: str | None = None
    phone: str | None = None
    designations: tuple[str, ...] | None = None
    specialisms: tuple[str, ...] | None = None
    headship_start: dt.date | None = None
    mentor_capacity: int | None = None
    notes: str | None = None
    school_key: str | None = None

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)


PERSON_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "job_title",
    "is_head",
    "email",
    "phone",
    "designations",
    "headship_start",
    "mentor_capacity",
    "notes",
)


@dataclass
class ParsedDirectory:
    filename: str
    kind: str  # csv | tsv | xlsx | gias | schools-list
    header_map: HeaderMap
    schools: list[SchoolRecord] = field(default_factory=list)
    people: list[PersonRecord] = field(default_factory=list)
    rejected: list[RowProblem] = field(default_factory=list)
    skipped: list[RowProblem] = field(default_factory=list)
    rows: int = 0  # data rows read (blank rows not counted)

    @property
    def unmatched_headers(self) -> list[str]:
        return list(self.header_map.unmatched)


@dataclass
class HeadChange:
    """A school whose head in the file is not the head the directory has (directory/saving._head_changes)."""

    school_id: int
    school: str
    outgoing: list[str]
    incoming: list[str]
    outgoing_ids: list[int] = field(default_factory=list)
    incoming_ids: list[int] = field(default_factory=list)  # known after saving


@dataclass
class ImportSummary:
    filename: str
    kind: str
    dry_run: bool
    rows: int = 0
    schools_added: int = 0
    schools_changed: int = 0
    schools_unchanged: int = 0
    people_added: int = 0
    people_changed: int = 0
    people_unchanged: int = 0
    specialisms_added: int = 0
    skipped: list[RowProblem] = field(default_factory=list)
    rejected: list[RowProblem] = field(default_factory=list)
    unmatched_headers: list[str] = field(default_factory=list)
    matched_headers: dict[str, str] = field(default_factory=dict)
    head_changes: list[HeadChange] = field(default_factory=list)
    # How many of each list above were left out of this copy (see `trimmed`); counted in `total`.
    left_out: dict[str, int] = field(default_factory=dict)

    def total(self, name: str) -> int:
        """How many skipped / rejected rows or head changes the import had, this copy's and those left out."""
        return len(getattr(self, name)) + self.left_out.get(name, 0)

    def trimmed(self, keep: int) -> ImportSummary:
        """A copy holding at most `keep` of each list, the rest counted in `left_out`: what crosses back from
        the import's child process (directory.import_job). Every row of the file is in the counts, and the
        chat shows at most eight of each; 25,000 head changes unpickled in the bot held its loop for 80 ms."""
        lists = ("skipped", "rejected", "head_changes")
        copy = replace(self, **{name: getattr(self, name)[:keep] for name in lists})
        copy.left_out = {name: self.total(name) - len(getattr(copy, name)) for name in lists}
        return copy

    @property
    def changes(self) -> int:
        return self.schools_added + self.schools_changed + self.people_added + self.people_changed

    def counts(self) -> dict[str, int]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if isinstance(getattr(self, f.name), int) and not isinstance(getattr(self, f.name), bool)
        }
