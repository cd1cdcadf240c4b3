"""Import the directory from a spreadsheet: CSV/TSV (any common encoding and delimiter), XLSX, the
national register's (GIAS) extract and its list of schools.

Two steps, so the chat can show a preview before anything changes:

- `parse_directory_file(path_or_bytes, filename) -> ParsedDirectory` is pure: it reads the file,
  matches its headers by meaning (`directory.headers`), turns rows into school and person records,
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

import codecs
import csv
import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from core import clock
from core.i18n import _, format_date, ngettext
from directory.headers import DIRECTORY_FIELDS, NAME_FIELDS, HeaderMap, match_headers, normalise_header
from directory.normalise import TITLES, fold, normalise_person
from directory.specialisms import canonical_phase, split_unknown
from storage.directory import DESIGNATIONS, PHASES

csv.field_size_limit(1 << 20)

HEADER_SCAN_ROWS = 30  # a header row is looked for among the first rows (title rows come first)
SAMPLE_BYTES = 64 * 1024
MAX_LEN = {"name": 200, "first_name": 100, "last_name": 100, "title": 40, "job_title": 120, "email": 200,
           "phone": 40, "school_type": 120, "local_authority": 120, "locality": 120, "postcode": 10,
           "trust": 200, "website": 200, "urn": 16}


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


SCHOOL_FIELDS = ("name", "urn", "phase", "school_type", "local_authority", "locality", "postcode", "trust",
                 "pupils", "low_age", "high_age", "easting", "northing", "phone", "website")


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


PERSON_FIELDS = ("first_name", "last_name", "title", "job_title", "is_head", "email", "phone", "designations",
                 "headship_start", "mentor_capacity", "notes")


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
    # A school whose head in the file is not the head the directory has (see _head_changes).
    head_changes: list[HeadChange] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return self.schools_added + self.schools_changed + self.people_added + self.people_changed

    def counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), int)
                and not isinstance(getattr(self, f.name), bool)}


# --- reading files --------------------------------------------------------------------------------

Source = str | Path | bytes | bytearray | memoryview


def _open_binary(source: Source) -> IO[bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    try:
        return open(source, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise DirectoryImportError(_("Cannot open the file: {reason}").format(reason=exc.strerror or exc)) from None


def _detect_encoding(stream: IO[bytes], head: bytes) -> str:
    stream.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise DirectoryImportError(_("This is not a spreadsheet or a text file (it contains binary data)."))
    # Valid UTF-8 all the way through? Checked in chunks, so a big file is never held twice.
    decoder = codecs.getincrementaldecoder("utf-8")()
    stream.seek(0)
    try:
        while chunk := stream.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "cp1252"
        try:
            head.decode("cp1252")
        except UnicodeDecodeError:
            encoding = "latin-1"
    stream.seek(0)
    return encoding


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\r\n\t")
    return controls > max(2, len(text) // 100)


def _detect_delimiter(sample: str, filename: str) -> str:
    lines = [ln for ln in sample.splitlines()[:40] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", 0.0
    for delim in (",", "\t", ";", "|"):
        try:
            counts = [len(row) for row in csv.reader(lines[:20], delimiter=delim)]
        except csv.Error:
            continue
        wide = [c for c in counts if c > 1]
        if not wide:
            continue
        mode = max(set(wide), key=wide.count)
        score = mode * wide.count(mode) / len(counts)
        if delim == "\t" and filename.lower().endswith((".tsv", ".tab")):
            score *= 1.5
        if score > best_score:
            best, best_score = delim, score
    return best


def _text_rows(stream: IO[bytes], filename: str) -> tuple[str, Iterator[tuple[int, list[Any]]], IO[str]]:
    head = stream.read(SAMPLE_BYTES)
    if not head.strip():
        raise DirectoryImportError(_("The file is empty."))
    encoding = _detect_encoding(stream, head)
    sample = head.decode(encoding, errors="ignore")
    if _looks_binary(sample):
        raise DirectoryImportError(_("This is not a spreadsheet or a text file (it contains binary data)."))
    delimiter = _detect_delimiter(sample, filename)
    kind = "tsv" if delimiter == "\t" else "csv"
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")

    def rows() -> Iterator[tuple[int, list[Any]]]:
        reader = csv.reader(text, delimiter=delimiter)
        line = 1
        try:
            for row in reader:
                yield line, row
                line = reader.line_num + 1
        except csv.Error as exc:
            raise DirectoryImportError(
                _("Line {line} of the file cannot be read: {reason}").format(line=line, reason=str(exc))) from None

    return kind, rows(), text


def _xlsx_rows(stream: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    """Rows of the first worksheet that has a recognisable header row (checked by the caller)."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any failure here means "not a workbook we can read"
        raise DirectoryImportError(
            _("This file looks like a zip archive but not an Excel workbook; please send .xlsx or .csv.")) from None
    try:
        for sheet in workbook.worksheets:
            if not hasattr(sheet, "iter_rows"):
                continue
            rows = sheet.iter_rows(values_only=True)  # read lazily: a damaged sheet fails part way through
            index = 0
            while True:
                try:
                    row = next(rows, None)
                except Exception as exc:  # noqa: BLE001 - broken XML, impossible cell values ...
                    raise DirectoryImportError(
                        _("This is not a readable Excel workbook ({error}).").format(error=exc)) from None
                if row is None:
                    break
                index += 1
                yield index, list(row)
            yield -1, []  # sheet boundary: the caller looks for a header again
    finally:
        workbook.close()


# --- cell values ----------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_URN = re.compile(r"^\d{5,8}$")
_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})$")
_BLANKS = {"", "-", "--", "n/a", "na", "none", "null", "nil", "tbc", "tba", "not applicable", "#n/a", "?"}
_NO_PERSON = {"vacant", "vacancy", "tbc", "tba", "unknown", "not known", "not applicable", "n a", "none", "post vacant",
              "interim", "to be appointed", "headteacher", "head teacher"}


def cell_text(value: Any) -> str:
    """A cell as clean text: numbers without '.0', dates ISO, whitespace collapsed; blanks and N/A as ''."""
    if type(value) is str:  # the common case, kept fast for 50,000-row files
        text = value.strip()
        if "  " in text or "\u00a0" in text or "\n" in text or "\t" in text or "\r" in text:
            text = _SPACES.sub(" ", text.replace("\u00a0", " "))
        return "" if len(text) <= 14 and text.lower() in _BLANKS else text
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        value = int(value) if value.is_integer() else value
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = _SPACES.sub(" ", str(value).replace("\u00a0", " ")).strip()
    return "" if len(text) <= 14 and text.lower() in _BLANKS else text


_INT_LIMIT = 2**31 - 1  # the database's INTEGER: a bigger number cannot be stored on PostgreSQL


def _int(value: str) -> int | None:
    try:
        number = int(float(value.replace(",", ""))) if value else None
    except (ValueError, OverflowError):  # "abc", "nan"; "inf", "1e999"
        return None
    return number if number is None or abs(number) <= _INT_LIMIT else None


def _float(value: str) -> float | None:
    try:
        number = float(value.replace(",", "")) if value else None
    except ValueError:
        return None
    return number if number is None or math.isfinite(number) else None


def _clip(value: str | None, name: str) -> str | None:
    if not value:
        return None
    return value[: MAX_LEN.get(name, 200)]


def normalise_postcode(value: str) -> str | None:
    text = value.upper().replace(" ", "")
    if not text:
        return None
    match = _POSTCODE.match(text)
    if match:
        return f"{match[1]} {match[2]}"
    return value.upper()[:10]


def normalise_phone(value: str, raw: Any) -> str | None:
    if not value:
        return None
    if isinstance(raw, (int, float)) and len(value) == 10 and not value.startswith("0"):
        value = "0" + value  # a spreadsheet dropped the leading zero of a UK number
    elif value.isdigit() and len(value) == 10 and value[0] in "123457":
        value = "0" + value
    return value[:40]


_DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d-%m-%y", "%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d",
                 "%d %B %Y", "%d %b %Y", "%B %Y", "%b %Y", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M")


def parse_date(value: str, raw: Any = None) -> dt.date | None:
    """A date from a cell (UK order for numbers); raises ValueError for text that is not a date."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if not value:
        return None
    text = value.strip().replace("Sept ", "Sep ").replace("sept ", "sep ")
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    if re.fullmatch(r"(19|20)\d\d", text):
        return dt.date(int(text), 9, 1)  # a year alone: headships start in September
    raise ValueError(value)


# --- names ----------------------------------------------------------------------------------------

_PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "du", "la", "le", "del", "della", "st", "mac", "bin", "ben",
              "al", "el", "ter", "ten", "dos", "das"}
_TITLE_CANON = {"mr": "Mr", "mrs": "Mrs", "ms": "Ms", "miss": "Miss", "mx": "Mx", "dr": "Dr", "prof": "Prof",
                "professor": "Professor", "sir": "Sir", "dame": "Dame", "rev": "Rev", "revd": "Revd",
                "reverend": "Revd", "fr": "Fr", "father": "Fr", "sister": "Sister", "lady": "Lady", "lord": "Lord"}


_fold = lru_cache(maxsize=4096)(fold)  # for the short, repetitive values: titles, types, phases, statuses


def _title_of(word: str) -> str | None:
    key = _fold(word).replace(" ", "")
    return _TITLE_CANON.get(key) if key in TITLES else None


def split_full_name(text: str) -> tuple[str | None, str, str]:
    """'Mrs Catherine Croft' -> ('Mrs', 'Catherine', 'Croft'); 'Mr Coert Van Straaten' keeps 'Van Straaten';
    'Croft, Catherine' -> (None, 'Catherine', 'Croft'); 'Mr  Hooper' -> ('Mr', '', 'Hooper')."""
    text = _SPACES.sub(" ", text).strip()
    if "," in text:
        last, _sep, first = text.partition(",")
        title, first_name, _last = split_full_name(first)
        return title, (first_name + " " + _last).strip(), last.strip()
    words = text.split(" ")
    titles: list[str] = []
    while len(words) > 1 and _title_of(words[0].rstrip(".")):
        titles.append(_title_of(words.pop(0).rstrip(".")) or "")
    title = " ".join(titles) or None
    if len(words) == 1:
        return title, "", words[0]
    # The surname is the last word and any lower-case or known particles before it ("Van Straaten").
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in _PARTICLES:
        cut -= 1
    return title, " ".join(words[:cut]), " ".join(words[cut:])


def _is_no_person(text: str) -> bool:
    return (len(text) <= 24 and fold(text) in _NO_PERSON) or not re.search(r"[^\W\d_]", text)


def _split_co_names(text: str) -> list[str]:
    """'Mrs A Smith and Mr B Jones' -> two names when each part is a name of two words or more."""
    parts = [p.strip() for p in re.split(r"\s+(?:and|&)\s+|\s*[;/]\s*", text) if p.strip()]
    if len(parts) > 1 and all(len(p.split()) >= 2 for p in parts):
        return parts
    return [text]


_HEAD_RE = re.compile(r"\b(head ?teacher|head ?mistress|head ?master|principal|head of school|executive head|"
                      r"head|co ?head ?teacher|chief executive|ceo)\b", re.IGNORECASE)
_NOT_HEAD_RE = re.compile(r"\b(deputy|assistant|vice|associate|acting deputy|head of (?!school)|pa to|secretary|"
                          r"business)\b", re.IGNORECASE)


def is_head_title(job_title: str | None) -> bool:
    if not job_title:
        return False
    return bool(_HEAD_RE.search(job_title)) and not _NOT_HEAD_RE.search(job_title)


_DESIGNATION_WORDS = {
    "sle": "SLE", "specialist leader of education": "SLE", "specialist leaders of education": "SLE",
    "nle": "NLE", "national leader of education": "NLE", "national leaders of education": "NLE",
    "lle": "LLE", "local leader of education": "LLE", "local leaders of education": "LLE",
    "nlg": "NLG", "national leader of governance": "NLG", "national leaders of governance": "NLG",
}


def parse_designations(text: str) -> tuple[tuple[str, ...], list[str]]:
    """('SLE', 'NLE') in the canonical order, plus the parts not understood."""
    found: set[str] = set()
    unknown: list[str] = []
    for part in re.split(r"\s*(?:[,;/&+|]|\band\b)\s*", text):
        key = fold(part)
        if not key or key in {"no", "none", "n a"}:
            continue
        if key in _DESIGNATION_WORDS:
            found.add(_DESIGNATION_WORDS[key])
        elif key.upper() in DESIGNATIONS:
            found.add(key.upper())
        else:
            unknown.append(part.strip())
    return tuple(d for d in DESIGNATIONS if d in found), unknown


# --- phases ---------------------------------------------------------------------------------------

def phase_from_ages(low: int | None, high: int | None) -> str | None:
    if low is None or high is None:
        return None
    if low >= 16:
        return "16-plus"
    if high <= 5:
        return "nursery"
    if low <= 8 and high >= 16:
        return "all-through"
    if low >= 11:
        return "secondary"
    if low >= 7 and high in (12, 13, 14):
        return "middle"
    if low <= 7 and high == 13:
        return "middle"
    if high <= 12:
        return "primary"
    return "secondary" if low >= 9 else "middle"


def normalise_phase(phase: str | None, school_type: str | None = None, name: str | None = None,
                    low_age: int | None = None, high_age: int | None = None) -> str | None:
    """One of storage.directory.PHASES, from whatever the file says (register phase names, types, ages)."""
    context = f"{_fold(school_type or '')} {(name or '').lower()}"
    if re.search(r"\b(pupil referral|referral unit|alternative provision|pru)\b", context):
        return "pru"
    if re.search(r"\bspecial\b", context) and "post 16" not in context:
        return "special"
    key = _fold(phase or "")
    if key:
        if key in {"middle deemed primary", "middle deemed secondary"}:
            return "middle"
        if key in {"not applicable", "n a"}:
            key = ""
        elif "all through" in key or key == "allthrough":
            return "all-through"
        elif key.startswith("16 plus") or key in {"post 16", "sixth form", "16 19"}:
            return "16-plus"
        else:
            found = canonical_phase(phase or "")
            if found in PHASES:
                return found
    if "post 16" in context or "post-16" in context or re.search(r"\bsixth form college\b", context):
        return "16-plus"
    by_age = phase_from_ages(low_age, high_age)
    if by_age:
        return by_age
    for word, value in (("nursery school", "nursery"), ("infant", "primary"), ("junior", "primary"),
                        ("primary", "primary"), ("first school", "primary"), ("middle", "middle"),
                        ("secondary", "secondary"), ("high school", "secondary"), ("all through", "all-through")):
        if word in context:
            return value
    return None


# --- parsing --------------------------------------------------------------------------------------

_KEY_WORDS = {"saint": "st", "the": "", "school": "", "and": "", "cofe": "ce", "catholic": "rc", "c": "", "e": "",
              "of": ""}
_KEY_PHRASES = ((" church of england ", " ce "), (" c of e ", " ce "), (" roman catholic ", " rc "))


def school_key(name: str, postcode: str | None) -> str:
    """Same school when name and postcode agree up to punctuation, case, 'St'/'Saint', 'C of E'/'CofE'/'CE'
    and 'the'/'school' (cheap enough for 50,000 rows; the search index does the fuzzy matching)."""
    text = f" {fold(name)} "
    for phrase, short in _KEY_PHRASES:
        text = text.replace(phrase, short)
    words = [_KEY_WORDS.get(w, w) for w in text.split()]
    return " ".join(w for w in words if w) + "|" + (postcode or "").replace(" ", "").upper()


SCHOOLS_LIST_FIELDS: dict[str, tuple[str, ...]] = {
    **DIRECTORY_FIELDS, "school": ("name",), "full_name": ("headteacher",), "urn": ("school-eng",),
    "school_type": ("school-type",), "low_age": ("minimum-age",), "high_age": ("maximum-age",),
    "close_date": ("end-date",),
}


def _recognise(row: list[Any]) -> tuple[HeaderMap, str] | None:
    texts = [cell_text(c) if not isinstance(c, str) else c.strip() for c in row]
    if sum(1 for t in texts if t) < 2:
        return None
    normal = {normalise_header(t) for t in texts}
    if {"school eng", "headteacher"} <= normal:
        return match_headers(texts, SCHOOLS_LIST_FIELDS), "schools-list"
    header_map = match_headers(texts, DIRECTORY_FIELDS)
    if len(header_map.columns) < 2 or not any(f in header_map for f in NAME_FIELDS):
        return None
    if "status" in header_map and "urn" in header_map and "school" in header_map and \
            normalise_header(header_map.header_for("school")) == "establishment name":
        return header_map, "gias"
    return header_map, ""


def parse_directory_file(source: Source, filename: str = "") -> ParsedDirectory:
    """Read a directory file (see the module doc). Raises DirectoryImportError when it cannot be read."""
    filename = filename or (Path(source).name if isinstance(source, (str, Path)) else "upload")
    stream: IO[Any] = _open_binary(source)
    try:
        head = stream.read(8)
        stream.seek(0)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise DirectoryImportError(
                _("This is an old Excel (.xls) file; please save it as .xlsx or CSV and send it again."))
        if head.startswith(b"PK\x03\x04"):
            try:
                zipfile.ZipFile(stream).getinfo("xl/workbook.xml")
            except (zipfile.BadZipFile, KeyError):
                raise DirectoryImportError(
                    _("This file is a zip archive but not an Excel workbook; please send .xlsx or .csv.")) from None
            stream.seek(0)
            kind, rows = "xlsx", _xlsx_rows(stream)
        elif head.startswith(b"%PDF"):
            raise DirectoryImportError(_("This is a PDF; please send the directory as a spreadsheet (.xlsx or .csv)."))
        else:
            kind, rows, stream = _text_rows(stream, filename)  # closing the text wrapper closes the file
        return _parse_rows(rows, kind, filename)
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
                if kind == "xlsx":
                    continue  # try the next worksheet
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
        raise DirectoryImportError(_(
            "No header row was recognised. The first rows should name the columns, for example: "
            "School, URN, Title, First name, Surname, Role, Email, Phone, Phase, Town, Postcode."))
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
            "head" in normalise_header(h).split() or normalise_header(h).startswith("headteacher") for h in names)

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
                reason = _("{name}: closed establishment").format(name=name) if not closed else \
                    _("{name}: closed on {date}").format(name=name, date=format_date(closed))
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
                    self.parsed.rejected.append(RowProblem(
                        line, _("email {email} is already used on line {line}").format(email=person.email,
                                                                                       line=first)))
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
            key=key, line=line, name=name or None, urn=urn or None, phase=phase, school_type=school_type,
            local_authority=_clip(get("local_authority"), "local_authority"), locality=_clip(locality, "locality"),
            postcode=postcode, trust=_clip(get("trust"), "trust"), pupils=_int(get("pupils", "")),
            low_age=low, high_age=high, easting=_float(get("easting", "")), northing=_float(get("northing", "")),
            phone=normalise_phone(get("school_phone", ""), raw.get("school_phone")),
            website=_clip(get("website"), "website"))

    def _people(self, line: int, raw: dict[str, Any], cells: dict[str, str],
                school: SchoolRecord | None) -> list[PersonRecord]:
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
                raise _Reject(_("designation {value} is not one of {known}").format(
                    value=", ".join(unknown), known=", ".join(DESIGNATIONS)))
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
                raise _Reject(_("headship start {value} is not a date (use dd/mm/yyyy)").format(
                    value=get("headship_start"))) from None
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
            people.append(PersonRecord(
                line=line, first_name=p_first, last_name=p_last, title=_clip(p_title, "title"),
                job_title=_clip(job_title, "job_title"), is_head=is_head, email=email,
                phone=normalise_phone(get("phone", ""), raw.get("phone")), designations=designations,
                specialisms=specialisms, headship_start=start, mentor_capacity=capacity,
                notes=get("notes") or None, school_key=school.key if school else None))
        return people


class _Reject(Exception):
    pass


# --- applying to the database ---------------------------------------------------------------------

def _person_key(first: str, last: str, school_id: int | None) -> tuple[str, int | None]:
    return normalise_person(f"{first} {last}"), school_id


async def apply_directory(session: Any, parsed: ParsedDirectory, actor_id: int | None,
                          dry_run: bool = False) -> ImportSummary:
    """Upsert the parsed records in `session`'s transaction (see the module doc).

    Existing rows are loaded once into dictionaries; new rows are inserted in bulk and changed rows
    updated in bulk by primary key, so 50,000 rows take seconds. On any error the session is rolled
    back and the error raised: nothing is half-imported. A dry run writes nothing.
    """
    try:
        return await _apply(session, parsed, actor_id, dry_run)
    except Exception:
        await session.rollback()
        raise


async def _apply(session: Any, parsed: ParsedDirectory, actor_id: int | None, dry_run: bool) -> ImportSummary:
    from sqlalchemy import select

    from storage import audit
    from storage.directory import Person, School, Specialism, person_specialism

    summary = ImportSummary(filename=parsed.filename, kind=parsed.kind, dry_run=dry_run, rows=parsed.rows,
                            skipped=list(parsed.skipped), rejected=list(parsed.rejected),
                            unmatched_headers=parsed.unmatched_headers, matched_headers=parsed.header_map.matched)
    now = clock.now()

    # Schools ---------------------------------------------------------------------------------------
    school_cols = [getattr(School, n) for n in ("id", *SCHOOL_FIELDS)]
    by_urn: dict[str, Any] = {}  # rows (named tuples), not ORM objects: 50,000 of them stay small
    by_name: dict[str, Any] = {}
    for data in (await session.execute(select(*school_cols))).all():
        if data.urn:
            by_urn[data.urn] = data
        by_name.setdefault(school_key(data.name, data.postcode), data)

    school_ids: dict[str, int | None] = {}  # record key -> id (None: will be inserted)
    new_schools: list[SchoolRecord] = []
    school_updates: list[dict[str, Any]] = []
    claimed: dict[int, int] = {}
    bad_school_keys: dict[str, int] = {}  # record key -> line of the rejected school
    for rec in parsed.schools:
        name_key = school_key(rec.name or "", rec.postcode)
        current = by_urn.get(rec.urn) if rec.urn else None
        if current is None and rec.name:
            candidate = by_name.get(name_key)
            # Same name and postcode is the same school unless both have different URNs (an academy
            # conversion gets a new URN and keeps its name).
            if candidate is not None and not (rec.urn and candidate.urn and candidate.urn != rec.urn):
                current = candidate
        if current is None:
            if rec.name is None:
                summary.rejected.append(RowProblem(rec.line, _("URN {urn} is not in the directory and the row "
                                                               "gives no school name").format(urn=rec.urn)))
                bad_school_keys[rec.key] = rec.line
                continue
            new_schools.append(rec)
            school_ids[rec.key] = None
            summary.schools_added += 1
            continue
        if current.id in claimed:
            summary.rejected.append(RowProblem(rec.line, _("the same school as line {line}").format(
                line=claimed[current.id])))
            bad_school_keys[rec.key] = rec.line
            continue
        claimed[current.id] = rec.line
        school_ids[rec.key] = current.id
        changes = {n: getattr(rec, n) for n in SCHOOL_FIELDS
                   if getattr(rec, n) is not None and getattr(rec, n) != getattr(current, n)}
        if changes:
            changes.update(id=current.id, updated_at=now, updated_by=actor_id)
            school_updates.append(changes)
            summary.schools_changed += 1
        else:
            summary.schools_unchanged += 1

    # People ----------------------------------------------------------------------------------------
    person_cols = [getattr(Person, n) for n in ("id", "school_id", *PERSON_FIELDS)]
    people_by_email: dict[str, Any] = {}
    people_by_name: dict[tuple[str, int | None], Any] = {}
    for data in (await session.execute(select(*person_cols))).all():
        if data.email:
            people_by_email[data.email.lower()] = data
        people_by_name.setdefault(_person_key(data.first_name, data.last_name, data.school_id), data)
    links: dict[int, set[int]] = {}
    for person_id, specialism_id in (await session.execute(select(person_specialism))).all():
        links.setdefault(person_id, set()).add(specialism_id)
    specialism_ids: dict[str, int] = {}
    for sid, name, aliases in (await session.execute(select(Specialism.id, Specialism.name, Specialism.aliases))).all():
        for alias in (name, *(aliases or "").split("|")):
            if alias:
                specialism_ids.setdefault(fold(alias), sid)
    new_specialisms = sorted({s for p in parsed.people for s in (p.specialisms or ()) if fold(s) not in specialism_ids})
    summary.specialisms_added = len(new_specialisms)

    heads_now: dict[int, dict[int, str]] = {}  # school id -> {person id: name} of its current heads
    for pid, sid, first, last in (await session.execute(select(Person.id, Person.school_id, Person.first_name,
                                                               Person.last_name).where(
            Person.is_head.is_(True), Person.status == "current", Person.school_id.is_not(None)))).all():
        heads_now.setdefault(sid, {})[pid] = f"{first} {last}".strip()
    heads_in_file: dict[int, list[tuple[str, int | None]]] = {}  # school id -> (name, matched person id)
    new_people: list[PersonRecord] = []
    person_updates: list[dict[str, Any]] = []
    relink: dict[int, tuple[str, ...]] = {}  # existing person id -> specialisms to set
    claimed_people: dict[int, int] = {}
    pending_names: dict[tuple[str, str | None], int] = {}  # new people by (name, school key): one each
    for rec in parsed.people:
        if rec.school_key in bad_school_keys:
            if bad_school_keys[rec.school_key] != rec.line:
                summary.rejected.append(RowProblem(rec.line, _("{name}: the school was rejected on line {line}").format(
                    name=rec.display_name, line=bad_school_keys[rec.school_key])))
            continue
        school_id = school_ids.get(rec.school_key) if rec.school_key else None
        current = people_by_email.get(rec.email) if rec.email else None
        if current is None and (rec.school_key is None or school_id is not None):
            candidate = people_by_name.get(_person_key(rec.first_name, rec.last_name, school_id))
            if candidate is not None and not (rec.email and candidate.email and candidate.email.lower() != rec.email):
                current = candidate
        if rec.is_head and school_id is not None:
            heads_in_file.setdefault(school_id, []).append((rec.display_name, current.id if current else None))
        if current is None:
            name_key = (normalise_person(f"{rec.first_name} {rec.last_name}"), rec.school_key)
            if name_key in pending_names and not rec.email:
                summary.rejected.append(RowProblem(rec.line, _("{name} is already on line {line}").format(
                    name=rec.display_name, line=pending_names[name_key])))
                continue
            pending_names.setdefault(name_key, rec.line)
            new_people.append(rec)
            summary.people_added += 1
            continue
        if current.id in claimed_people:
            summary.rejected.append(RowProblem(rec.line, _("{name} is the same person as on line {line}").format(
                name=rec.display_name, line=claimed_people[current.id])))
            continue
        claimed_people[current.id] = rec.line
        changes: dict[str, Any] = {}
        for name in PERSON_FIELDS:
            value = getattr(rec, name)
            if name == "designations" and value is not None:
                value = ",".join(value)
            if name in {"first_name", "last_name"} and not value:
                continue
            if value is not None and value != getattr(current, name):
                changes[name] = value
        if school_id is not None and school_id != current.school_id:
            changes["school_id"] = school_id
        if rec.specialisms:
            wanted = {specialism_ids.get(fold(s), -1) for s in rec.specialisms}
            if wanted != links.get(current.id, set()):
                relink[current.id] = rec.specialisms
        if changes or current.id in relink:
            changes.update(id=current.id, updated_at=now, updated_by=actor_id)
            person_updates.append(changes)
            summary.people_changed += 1
        else:
            summary.people_unchanged += 1

    if not dry_run:
        # The audit entry is written first: on SQLite that takes the write lock for the whole import.
        audit.record(session, actor_id, "directory.import", "directory", parsed.filename[:40],
                     kind=parsed.kind, **summary.counts(), rejected=len(summary.rejected),
                     skipped=len(summary.skipped))
        await session.flush()
    summary.head_changes = _head_changes(heads_now, heads_in_file, by_id={v.id: v.name for v in by_urn.values()}
                                         | {v.id: v.name for v in by_name.values()})
    if not dry_run:
        await _write(session, actor_id, now, new_schools, school_updates, school_ids, new_specialisms,
                     specialism_ids, new_people, person_updates, relink)
        await _retire_heads(session, summary.head_changes, actor_id, now)
    return summary


def _head_changes(heads_now: dict[int, dict[int, str]], heads_in_file: dict[int, list[tuple[str, int | None]]],
                  by_id: dict[int, str]) -> list[HeadChange]:
    """Schools where the file names a head the directory does not have as head there: the directory's
    other heads of that school are outgoing (they become former heads, directory/succession.py)."""
    out = []
    for school_id, named in sorted(heads_in_file.items()):
        current = heads_now.get(school_id, {})
        kept = {pid for _name, pid in named if pid is not None and pid in current}
        incoming = [name for name, pid in named if pid is None or pid not in current]
        outgoing = {pid: name for pid, name in current.items() if pid not in kept}
        if incoming and outgoing:
            out.append(HeadChange(school_id, by_id.get(school_id, ""), sorted(outgoing.values()), incoming,
                                  sorted(outgoing)))
    return out


async def _retire_heads(session: Any, changes: list[HeadChange], actor_id: int | None, now: dt.datetime) -> None:
    from sqlalchemy import select, update

    from storage import audit
    from storage.directory import Person

    for change in changes:
        await session.execute(update(Person).where(Person.id.in_(change.outgoing_ids)).values(
            is_head=False, status="former", left_on=now.date(), updated_at=now, updated_by=actor_id))
        change.incoming_ids = list((await session.scalars(select(Person.id).where(
            Person.school_id == change.school_id, Person.is_head.is_(True), Person.status == "current")
            .order_by(Person.id))).all())
        audit.record(session, actor_id, "school.head_change", "school", change.school_id, source="import",
                     outgoing=change.outgoing_ids, incoming=change.incoming_ids)


def _chunks(items: list[Any], size: int = 1000) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


async def _reserve_ids(session: Any, table: Any, count: int) -> list[int]:
    """`count` primary keys for rows we insert ourselves (so no RETURNING round trip per row).

    PostgreSQL: drawn from the table's sequence, so other writers never collide with them. SQLite: after
    the current maximum; the caller has already written in this transaction, so it holds the write lock.
    """
    from sqlalchemy import func, select, text

    if count == 0:
        return []
    if session.bind.dialect.name == "postgresql":
        rows = await session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": count})
        return [r[0] for r in rows]
    start = (await session.scalar(select(func.max(table.c.id)))) or 0
    return list(range(start + 1, start + 1 + count))


async def _write(session: Any, actor_id: int | None, now: dt.datetime,
                 new_schools: list[SchoolRecord], school_updates: list[dict[str, Any]],
                 school_ids: dict[str, int | None], new_specialisms: list[str], specialism_ids: dict[str, int],
                 new_people: list[PersonRecord], person_updates: list[dict[str, Any]],
                 relink: dict[int, tuple[str, ...]]) -> None:
    from sqlalchemy import delete, insert

    from storage.directory import Person, School, Specialism, person_specialism

    schools, people = School.__table__, Person.__table__
    stamp = {"created_at": now, "updated_at": now, "updated_by": actor_id}
    ids = await _reserve_ids(session, schools, len(new_schools))
    for rec, school_id in zip(new_schools, ids, strict=True):
        school_ids[rec.key] = school_id
    for start in range(0, len(new_schools), 1000):  # row dicts a chunk at a time: memory stays flat
        batch = [{**{n: getattr(rec, n) for n in SCHOOL_FIELDS}, **stamp, "id": school_id}
                 for rec, school_id in zip(new_schools[start:start + 1000], ids[start:start + 1000])]
        await session.execute(insert(schools), batch)
    await _bulk_update(session, schools, school_updates)

    for name in new_specialisms:
        specialism_ids[fold(name)] = (await session.execute(
            insert(Specialism).returning(Specialism.id), [{"name": name[:80], "aliases": ""}])).scalar_one()

    new_links: list[dict[str, int]] = []
    ids = await _reserve_ids(session, people, len(new_people))
    for start in range(0, len(new_people), 1000):
        batch = []
        for rec, person_id in zip(new_people[start:start + 1000], ids[start:start + 1000]):
            row = {n: getattr(rec, n) for n in PERSON_FIELDS}
            row.update(designations=",".join(rec.designations or ()), is_head=bool(rec.is_head),
                       mentor_capacity=rec.mentor_capacity or 0, id=person_id,
                       school_id=school_ids.get(rec.school_key) if rec.school_key else None, **stamp)
            batch.append(row)
            for s in rec.specialisms or ():
                new_links.append({"person_id": person_id, "specialism_id": specialism_ids[fold(s)]})
        await session.execute(insert(people), batch)
    await _bulk_update(session, people, person_updates)

    for batch in _chunks(list(relink), 500):
        await session.execute(delete(person_specialism).where(person_specialism.c.person_id.in_(batch)))
    for person_id, names in relink.items():
        for s in dict.fromkeys(names):
            new_links.append({"person_id": person_id, "specialism_id": specialism_ids[fold(s)]})
    unique_links = list({(d["person_id"], d["specialism_id"]): d for d in new_links}.values())
    for batch in _chunks(unique_links):
        await session.execute(insert(person_specialism), batch)


async def _bulk_update(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """UPDATE ... WHERE id = ? as one executemany per set of changed columns."""
    from sqlalchemy import bindparam, update

    for group in _same_keys(rows):
        columns = [k for k in group[0] if k != "id"]
        statement = update(table).where(table.c.id == bindparam("_id")).values(
            {c: bindparam(f"_{c}") for c in columns})
        params = [{f"_{k}": v for k, v in row.items()} for row in group]
        for batch in _chunks(params):
            await session.execute(statement, batch)


def _same_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return list(groups.values())


# --- reporting ------------------------------------------------------------------------------------

def summary_lines(summary: ImportSummary, max_problems: int = 10) -> list[str]:
    """The summary as translated plain-text lines (the CLI prints them; the chat escapes them)."""
    out = []
    if summary.dry_run:
        out.append(_("Dry run of {file}: nothing has been changed.").format(file=summary.filename))
    else:
        out.append(_("Imported {file}.").format(file=summary.filename))
    out.append(ngettext("{n} row read", "{n} rows read", summary.rows).format(n=summary.rows))
    out.append(_("Schools: {added} added, {changed} changed, {unchanged} unchanged").format(
        added=summary.schools_added, changed=summary.schools_changed, unchanged=summary.schools_unchanged))
    out.append(_("People: {added} added, {changed} changed, {unchanged} unchanged").format(
        added=summary.people_added, changed=summary.people_changed, unchanged=summary.people_unchanged))
    if summary.head_changes:
        out.append(ngettext("{n} head change", "{n} head changes", len(summary.head_changes)).format(
            n=len(summary.head_changes)) + ":")
        for change in summary.head_changes[:max_problems]:
            out.append("  " + _("{school}: {old} → {new}").format(
                school=change.school, old=", ".join(change.outgoing), new=", ".join(change.incoming)))
        if len(summary.head_changes) > max_problems:
            out.append("  " + _("… and {n} more").format(n=len(summary.head_changes) - max_problems))
    if summary.specialisms_added:
        out.append(ngettext("{n} new specialism", "{n} new specialisms", summary.specialisms_added).format(
            n=summary.specialisms_added))
    for title, problems in ((ngettext("{n} row skipped", "{n} rows skipped", len(summary.skipped)), summary.skipped),
                            (ngettext("{n} row rejected", "{n} rows rejected", len(summary.rejected)),
                             summary.rejected)):
        if not problems:
            continue
        out.append(title.format(n=len(problems)) + ":")
        for problem in problems[:max_problems]:
            out.append("  " + _("line {line}: {reason}").format(line=problem.line, reason=problem.reason))
        if len(problems) > max_problems:
            out.append("  " + _("… and {n} more").format(n=len(problems) - max_problems))
    if summary.unmatched_headers:
        shown = summary.unmatched_headers[:max_problems]
        more = len(summary.unmatched_headers) - len(shown)
        text = ", ".join(shown) + (" " + _("and {n} more").format(n=more) if more > 0 else "")
        out.append(ngettext("{n} column not used: {names}", "{n} columns not used: {names}",
                            len(summary.unmatched_headers)).format(n=len(summary.unmatched_headers), names=text))
    return out
