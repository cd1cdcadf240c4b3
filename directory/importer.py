"""Import the directory from a spreadsheet: CSV/TSV (any common encoding and delimiter), XLSX, XLS, ODS, an
HTML or PDF table (read whole through `core.ingest`), the national register's (GIAS) extract and its list of schools.

Two steps, so the chat can show a preview before anything changes:

- `parse_directory_file(path_or_bytes, filename) -> ParsedDirectory` is pure: it reads the file,
  matches its headers by meaning (`core.headers`), turns rows into school and person records,
  and keeps every row it rejected or skipped with its line number and reason. A file that cannot be
  read at all raises `DirectoryImportError` with a reason a coordinator can act on.
- `apply_directory(session, parsed, actor_id, dry_run) -> ImportSummary` upserts the records in the
  caller's transaction (schools by URN, else by name and postcode; people by email, else by name and
  school), records one audit entry, and says what was added, changed and left alone. A dry run
  computes the same summary and writes nothing.

Blank cells never erase what the directory already holds; the import adds and updates, it never
deletes.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from core import clock
from core.headers import normalise_header
from core.i18n import _, format_date
from core.ingest.model import IngestError
from core.ingest.read import sniff
from core.ingest.stream import SAMPLE_BYTES, Source, document_rows, open_binary, text_rows, xlsx_rows
from core.normalise import fold

# The importer's parts, each in its module; their public names stay importable from here.
from directory.cells import (  # noqa: F401
    _EMAIL,
    _URN,
    _clip,
    _float,
    _fold,
    _int,
    _is_no_person,
    _split_co_names,
    _title_of,
    cell_text,
    is_head_title,
    normalise_phase,
    normalise_phone,
    normalise_postcode,
    parse_date,
    parse_designations,
    phase_from_ages,
    school_key,
    split_full_name,
)
from directory.recognise import _recognise
from directory.records import (  # noqa: F401
    HEADER_SCAN_ROWS,
    MAX_LEN,
    PERSON_FIELDS,
    SCHOOL_FIELDS,
    DirectoryImportError,
    ImportSummary,
    ParsedDirectory,
    PersonRecord,
    RowProblem,
    SchoolRecord,
)
from directory.saving import apply_directory, summary_lines  # noqa: F401
from directory.specialisms import split_unknown
from storage.directory import DESIGNATIONS


def parse_directory_file(source: Source, filename: str = "") -> ParsedDirectory:
    """Read a directory file (see the module doc). Raises DirectoryImportError when it cannot be read."""
    filename = filename or (Path(source).name if isinstance(source, (str, Path)) else "upload")
    try:
        stream: IO[Any] = open_binary(source)
    except IngestError as exc:
        raise DirectoryImportError(str(exc)) from None
    try:
        head = stream.read(8)
        stream.seek(0)
        if head.startswith(b"PK\x03\x04"):
            try:
                names = zipfile.ZipFile(stream).namelist()
            except zipfile.BadZipFile:
                names = []
            stream.seek(0)
            if "xl/workbook.xml" in names:
                kind, rows = "xlsx", xlsx_rows(stream)
            elif "mimetype" in names:  # OpenDocument: read whole, as a plan is (it names what it is if not a sheet)
                kind, rows = "ods", document_rows(stream.read(), filename)
            else:
                raise DirectoryImportError(
                    _("This file is a zip archive but not an Excel workbook; please send .xlsx or .csv.")
                )
        else:
            sample = stream.read(SAMPLE_BYTES)
            stream.seek(0)
            found = sniff(sample, filename)
            if found in ("xls", "html", "pdf") or found.startswith(("ole2", "rtf")):
                kind, rows = found, document_rows(stream.read(), filename)
            else:
                kind, rows, stream = text_rows(stream, filename)  # closing the text wrapper closes the file
        return _parse_rows(rows, kind, filename)
    except IngestError as exc:  # unreadable, or over a size limit: the reason, translated
        raise DirectoryImportError(str(exc)) from None
    finally:
        stream.close()


def _parse_rows(rows: Iterator[tuple[int, list[Any]]], kind: str, filename: str) -> ParsedDirectory:
    parsed: ParsedDirectory | None = None
    scanned = 0
    builder: _Builder | None = None
    for line, row in rows:
        if line == -1:  # next worksheet
            if parsed is not None:
                break
            scanned = 0
            continue
        if parsed is None:
            scanned += 1
            if scanned > HEADER_SCAN_ROWS:
                if kind in ("xlsx", "xls", "ods", "html", "pdf"):
                    continue  # try the next worksheet or table
                break
            found = _recognise(row)
            if found is None:
                continue
            header_map, special = found
            parsed = ParsedDirectory(filename=filename, kind=special or kind, header_map=header_map)
            builder = _Builder(parsed)
            continue
        assert builder is not None
        builder.add(line, row)
    if parsed is None or builder is None:
        raise DirectoryImportError(
            _(
                "No header row was recognised. The first rows should name the columns, for example: "
                "School, URN, Title, First name, Surname, Role, Email, Phone, Phase, Town, Postcode."
            )
        )
    if parsed.rows == 0:
        raise DirectoryImportError(_("The file has a header row but no rows of data."))
    builder.finish()
    return parsed


class _Builder:
    """Turns data rows into records, merging repeated schools and refusing repeated emails."""

    def __init__(self, parsed: ParsedDirectory):
        self.parsed = parsed
        self.map = parsed.header_map
        self.schools: dict[str, SchoolRecord] = {}
        self.emails: dict[str, int] = {}
        self.today = clock.now().date()
        names = [self.map.header_for(f) or "" for f in ("first_name", "last_name", "full_name")]
        self.heads_by_header = parsed.kind in {"gias", "schools-list"} or any(
            "head" in normalise_header(h).split() or normalise_header(h).startswith("headteacher") for h in names
        )

    def finish(self) -> None:
        self.parsed.schools = list(self.schools.values())

    def add(self, line: int, row: list[Any]) -> None:
        raw = {name: self.map.value(row, name) for name in self.map.columns}
        cells = {name: cell_text(value) for name, value in raw.items()}
        if not any(cells.values()):
            return
        self.parsed.rows += 1
        try:
            self._add(line, raw, cells)
        except _Reject as exc:
            self.parsed.rejected.append(RowProblem(line, str(exc)))

    def _add(self, line: int, raw: dict[str, Any], cells: dict[str, str]) -> None:
        get = cells.get
        # Closed establishments are skipped, not rejected: the register lists them on purpose.
        status = _fold(get("status", ""))
        close_text = get("close_date", "")
        if status.startswith("closed") or (close_text and not status.startswith("open")):
            try:
                closed = parse_date(close_text, raw.get("close_date"))
            except ValueError:
                closed = None
            if status.startswith("closed") or closed is None or closed <= self.today:
                name = get("school") or get("urn") or ""
                reason = (
                    _("{name}: closed establishment").format(name=name)
                    if not closed
                    else _("{name}: closed on {date}").format(name=name, date=format_date(closed))
                )
                self.parsed.skipped.append(RowProblem(line, reason))
                return

        school = self._school(line, raw, cells)
        people = self._people(line, raw, cells, school)
        if school is None and not people:
            raise _Reject(_("no school or person on this row"))
        if school is not None:
            existing = self.schools.get(school.key)
            if existing is None:
                self.schools[school.key] = school
            else:
                for name in SCHOOL_FIELDS:
                    if getattr(existing, name) is None and getattr(school, name) is not None:
                        setattr(existing, name, getattr(school, name))
        for person in people:
            if person.email:
                first = self.emails.get(person.email)
                if first is not None:
                    self.parsed.rejected.append(
                        RowProblem(
                            line,
                            _("email {email} is already used on line {line}").format(email=person.email, line=first),
                        )
                    )
                    continue
                self.emails[person.email] = line
            self.parsed.people.append(person)

    def _school(self, line: int, raw: dict[str, Any], cells: dict[str, str]) -> SchoolRecord | None:
        get = cells.get
        name = get("school", "")
        urn = get("urn", "")
        if urn:
            urn = re.sub(r"^urn\s*:?\s*", "", urn, flags=re.IGNORECASE)
            if not _URN.match(urn):
                raise _Reject(_("URN {urn} is not a number of 5 to 8 digits").format(urn=urn))
        if not name and not urn:
            return None
        if len(name) > MAX_LEN["name"]:
            raise _Reject(_("school name is longer than {n} characters").format(n=MAX_LEN["name"]))
        postcode = normalise_postcode(get("postcode", ""))
        key = f"urn:{urn}" if urn else "name:" + school_key(name, postcode)
        low, high = _int(get("low_age", "")), _int(get("high_age", ""))
        if (low is None or high is None) and get("age_range"):
            ages = re.findall(r"\d+", get("age_range", ""))
            if len(ages) >= 2:
                low, high = _int(ages[0]), _int(ages[1])
        school_type = _clip(get("school_type"), "school_type")
        phase = normalise_phase(get("phase"), school_type, name, low, high)
        locality = get("locality") or None
        return SchoolRecord(
            key=key,
            line=line,
            name=name or None,
            urn=urn or None,
            phase=phase,
            school_type=school_type,
            local_authority=_clip(get("local_authority"), "local_authority"),
            locality=_clip(locality, "locality"),
            postcode=postcode,
            trust=_clip(get("trust"), "trust"),
            pupils=_int(get("pupils", "")),
            low_age=low,
            high_age=high,
            easting=_float(get("easting", "")),
            northing=_float(get("northing", "")),
            phone=normalise_phone(get("school_phone", ""), raw.get("school_phone")),
            website=_clip(get("website"), "website"),
        )

    def _people(
        self, line: int, raw: dict[str, Any], cells: dict[str, str], school: SchoolRecord | None
    ) -> list[PersonRecord]:
        get = cells.get
        title, first, last = get("title", ""), get("first_name", ""), get("last_name", "")
        job_title = get("job_title", "")
        names: list[tuple[str | None, str, str]] = []
        co_heads = False
        if first or last:
            if title and not _title_of(title.rstrip(".")) and len(first.split()) >= 2 and len(last.split()) >= 2:
                # The register squeezes co-heads into the name fields: "Co Headteacher", "Claire Harrison",
                # "Victoria Wainwright".
                co_heads = True
                names = [split_full_name(first), split_full_name(last)]
                names = [(None, f, s) for _t, f, s in names]
            elif _is_no_person(f"{first} {last}"):
                names = []
            else:
                canon = _title_of(title.rstrip(".")) if title else None
                if title and canon is None and not job_title and "head" in fold(title):
                    job_title = title  # a role written where the title should be
                names = [(canon or (title or None), first, last)]
        elif get("full_name"):
            full = get("full_name", "")
            if not _is_no_person(full):
                parts = _split_co_names(full)
                co_heads = len(parts) > 1
                names = [split_full_name(p) for p in parts]
                if title and len(names) == 1 and names[0][0] is None:
                    names = [(_title_of(title.rstrip(".")) or title, names[0][1], names[0][2])]

        email = get("email", "").lower() or None
        if email:
            email = email.removeprefix("mailto:")
            if not _EMAIL.match(email) or len(email) > MAX_LEN["email"]:
                raise _Reject(_("{email} is not an email address").format(email=get("email", "")))
        if not names:
            if email:
                raise _Reject(_("there is an email address but no name"))
            return []
        if email and len(names) > 1:
            email = None  # one address cannot belong to two people; keep both names without it

        designations: tuple[str, ...] | None = None
        if get("designations"):
            designations, unknown = parse_designations(get("designations", ""))
            if unknown:
                raise _Reject(
                    _("designation {value} is not one of {known}").format(
                        value=", ".join(unknown), known=", ".join(DESIGNATIONS)
                    )
                )
            designations = designations or None
        specialisms: tuple[str, ...] | None = None
        if get("specialisms"):
            found, unknown = split_unknown(get("specialisms", ""))
            extra = [fold(u) for u in unknown if fold(u) and len(fold(u)) <= 80]
            specialisms = tuple(dict.fromkeys([*found, *extra])) or None
        start: dt.date | None = None
        if get("headship_start"):
            try:
                start = parse_date(get("headship_start", ""), raw.get("headship_start"))
            except ValueError:
                raise _Reject(
                    _("headship start {value} is not a date (use dd/mm/yyyy)").format(value=get("headship_start"))
                ) from None
        capacity: int | None = None
        if get("mentor_capacity"):
            text = get("mentor_capacity", "")
            capacity = _int(text)
            if capacity is None and fold(text) in {"yes", "y"}:
                capacity = 1
            elif capacity is None and fold(text) in {"no", "n"}:
                capacity = 0
            if capacity is None or not 0 <= capacity <= 20:
                raise _Reject(_("capacity {value} is not a number from 0 to 20").format(value=text))

        if co_heads:
            job_title = _("Co-headteacher")
        elif not job_title and self.heads_by_header:
            job_title = _("Headteacher")
        is_head: bool | None = None  # None: the file does not say, so an import leaves it as it was
        if self.heads_by_header or co_heads:
            is_head = True
        elif job_title:
            is_head = is_head_title(job_title)

        people = []
        for p_title, p_first, p_last in names:
            if len(p_first) > MAX_LEN["first_name"] or len(p_last) > MAX_LEN["last_name"]:
                raise _Reject(_("name is longer than {n} characters").format(n=MAX_LEN["last_name"]))
            if not p_last and not p_first:
                continue
            if not p_last:
                p_first, p_last = "", p_first
            people.append(
                PersonRecord(
                    line=line,
                    first_name=p_first,
                    last_name=p_last,
                    title=_clip(p_title, "title"),
                    job_title=_clip(job_title, "job_title"),
                    is_head=is_head,
                    email=email,
                    phone=normalise_phone(get("phone", ""), raw.get("phone")),
                    designations=designations,
                    specialisms=specialisms,
                    headship_start=start,
                    mentor_capacity=capacity,
                    notes=get("notes") or None,
                    school_key=school.key if school else None,
                )
            )
        return people


class _Reject(Exception):
    pass
