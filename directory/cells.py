"""One directory row's cells normalised: text, numbers, postcodes, phones, dates (through the one UK
date parser), names, headship, designations, phases and the key that says two rows are the same school."""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache
from typing import Any

from core.normalise import TITLES, fold
from directory.records import MAX_LEN
from directory.specialisms import canonical_phase
from storage.directory import DESIGNATIONS, PHASES

# --- cell values ----------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_URN = re.compile(r"^\d{5,8}$")
_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})$")
_BLANKS = {"", "-", "--", "n/a", "na", "none", "null", "nil", "tbc", "tba", "not applicable", "#n/a", "?"}
_NO_PERSON = {
    "vacant",
    "vacancy",
    "tbc",
    "tba",
    "unknown",
    "not known",
    "not applicable",
    "n a",
    "none",
    "post vacant",
    "interim",
    "to be appointed",
    "headteacher",
    "head teacher",
}


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


def parse_date(value: str, raw: Any = None) -> dt.date | None:
    """A date from a cell (UK order for numbers); raises ValueError for text that is not a date.
    The one UK date parser (`core.uk_dates`) does the reading."""
    from core.uk_dates import cell_date

    return cell_date(value, raw)


# --- names ----------------------------------------------------------------------------------------

_PARTICLES = {
    "van",
    "von",
    "de",
    "der",
    "den",
    "da",
    "di",
    "du",
    "la",
    "le",
    "del",
    "della",
    "st",
    "mac",
    "bin",
    "ben",
    "al",
    "el",
    "ter",
    "ten",
    "dos",
    "das",
}
_TITLE_CANON = {
    "mr": "Mr",
    "mrs": "Mrs",
    "ms": "Ms",
    "miss": "Miss",
    "mx": "Mx",
    "dr": "Dr",
    "prof": "Prof",
    "professor": "Professor",
    "sir": "Sir",
    "dame": "Dame",
    "rev": "Rev",
    "revd": "Revd",
    "reverend": "Revd",
    "fr": "Fr",
    "father": "Fr",
    "sister": "Sister",
    "lady": "Lady",
    "lord": "Lord",
}


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


_HEAD_RE = re.compile(
    r"\b(head ?teacher|head ?mistress|head ?master|principal|head of school|executive head|"
    r"head|co ?head ?teacher|chief executive|ceo)\b",
    re.IGNORECASE,
)
_NOT_HEAD_RE = re.compile(
    r"\b(deputy|assistant|vice|associate|acting deputy|head of (?!school)|pa to|secretary|"
    r"business)\b",
    re.IGNORECASE,
)


def is_head_title(job_title: str | None) -> bool:
    if not job_title:
        return False
    return bool(_HEAD_RE.search(job_title)) and not _NOT_HEAD_RE.search(job_title)


_DESIGNATION_WORDS = {
    "sle": "SLE",
    "specialist leader of education": "SLE",
    "specialist leaders of education": "SLE",
    "nle": "NLE",
    "national leader of education": "NLE",
    "national leaders of education": "NLE",
    "lle": "LLE",
    "local leader of education": "LLE",
    "local leaders of education": "LLE",
    "nlg": "NLG",
    "national leader of governance": "NLG",
    "national leaders of governance": "NLG",
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


def normalise_phase(
    phase: str | None,
    school_type: str | None = None,
    name: str | None = None,
    low_age: int | None = None,
    high_age: int | None = None,
) -> str | None:
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
    for word, value in (
        ("nursery school", "nursery"),
        ("infant", "primary"),
        ("junior", "primary"),
        ("primary", "primary"),
        ("first school", "primary"),
        ("middle", "middle"),
        ("secondary", "secondary"),
        ("high school", "secondary"),
        ("all through", "all-through"),
    ):
        if word in context:
            return value
    return None


# --- parsing --------------------------------------------------------------------------------------

_KEY_WORDS = {
    "saint": "st",
    "the": "",
    "school": "",
    "and": "",
    "cofe": "ce",
    "catholic": "rc",
    "c": "",
    "e": "",
    "of": "",
}
_KEY_PHRASES = ((" church of england ", " ce "), (" c of e ", " ce "), (" roman catholic ", " rc "))


def school_key(name: str, postcode: str | None) -> str:
    """Same school when name and postcode agree up to punctuation, case, 'St'/'Saint', 'C of E'/'CofE'/'CE'
    and 'the'/'school' (cheap enough for 50,000 rows; the search index does the fuzzy matching)."""
    text = f" {fold(name)} "
    for phrase, short in _KEY_PHRASES:
        text = text.replace(phrase, short)
    words = [_KEY_WORDS.get(w, w) for w in text.split()]
    return " ".join(w for w in words if w) + "|" + (postcode or "").replace(" ", "").upper()
