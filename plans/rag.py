"""RAG ratings: codes, parsing, labels and colours (pure, no I/O); and the review columns a plan names by
a term's number ("T1" … "T6") or by a month ("Dec 2025 RAG").

Codes: R red (off track), A amber (at risk / partly done), G green (on track), B blue (complete).
A plan keeps its own set (``Plan.rag_set``, e.g. "R,A,G" or "B,R,A,G"); parse it with `parse_rag_set`.

Term labels themselves ("Aut 16", "Spring term 2017") are read by core.terms (`parse_term_label`,
`parse_term_column`): a term is the same thing wherever it is written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from core.i18n import N_, _
from core.terms import full_year, parse_term_column, term_for
from core.uk_dates import MONTHS

RAG_CODES = ("B", "R", "A", "G")
DEFAULT_RAG_SET = ("R", "A", "G")

# Fill colours (RGB hex, no '#') used by every export and the RAG picture.
RAG_COLOURS: dict[str, str] = {
    "R": "E74C3C",  # red
    "A": "F5A623",  # amber
    "G": "2ECC71",  # green
    "B": "3498DB",  # blue = complete
}
# Text colour that reads well on each fill.
RAG_TEXT_COLOURS: dict[str, str] = {"R": "FFFFFF", "A": "000000", "G": "000000", "B": "FFFFFF"}

_RAG_LABELS = {"R": N_("Red"), "A": N_("Amber"), "G": N_("Green"), "B": N_("Blue")}
_RAG_MEANINGS = {"R": N_("off track"), "A": N_("at risk"), "G": N_("on track"), "B": N_("complete")}
_RAG_EMOJI = {"R": "🔴", "A": "🟠", "G": "🟢", "B": "🔵"}

# Words and phrases (lower case, without variation selectors) → code. "complete" is special (see parse_rag).
_WORDS: dict[str, str] = {
    "r": "R",
    "red": "R",
    "🔴": "R",
    "❤": "R",
    "🟥": "R",
    "off track": "R",
    "off-track": "R",
    "offtrack": "R",
    "a": "A",
    "amber": "A",
    "🟠": "A",
    "🟡": "A",
    "🟧": "A",
    "🟨": "A",
    "yellow": "A",
    "orange": "A",
    "at risk": "A",
    "at-risk": "A",
    "partly": "A",
    "partially": "A",
    "partly done": "A",
    "g": "G",
    "green": "G",
    "🟢": "G",
    "🟩": "G",
    "on track": "G",
    "on-track": "G",
    "ontrack": "G",
    "b": "B",
    "blue": "B",
    "🔵": "B",
    "🟦": "B",
    # Statuses as plans word them.
    "some concerns": "A",
    "concerns": "A",
    "concern": "A",
    "minor concerns": "A",
    "slipping": "A",
    "slipped": "A",
    "behind": "A",
    "behind schedule": "A",
    "delayed": "A",
    "slight delay": "A",
    "in progress": "A",
    "partially met": "A",
    "partly met": "A",
    "partially achieved": "A",
    "some progress": "A",
    "amber/green": "A",
    "significant concerns": "R",
    "serious concerns": "R",
    "major concerns": "R",
    "not on track": "R",
    "not started": "R",
    "not yet started": "R",
    "off target": "R",
    "not met": "R",
    "stalled": "R",
    "overdue": "R",
    "on target": "G",
    "good progress": "G",
    "ahead": "G",
    "ahead of schedule": "G",
    "progressing well": "G",
    "✅": "B",
    "✔": "B",
    "☑": "B",
    "⚠": "A",
    "❌": "R",
    "✖": "R",
}
_COMPLETE = {
    "complete",
    "completed",
    "done",
    "finished",
    "achieved",
    "met",
    "fully met",
    "fully achieved",
    "closed",
    "embedded",
    "secured",
}
_STRIP = " \t\r\n.,;:!-–—()[]*_\"'"


def _norm(text: str) -> str:
    text = text.replace("\ufe0f", "").replace("\u200d", "").strip(_STRIP).lower()
    return re.sub(r"\s+", " ", text)


def parse_rag_set(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """'R,A,G' → ('R', 'A', 'G'); 'B,R,A,G' adds Blue. Raises ValueError for unknown codes."""
    if value is None:
        return DEFAULT_RAG_SET
    parts = value.replace(";", ",").replace("/", ",").split(",") if isinstance(value, str) else list(value)
    codes: list[str] = []
    for part in parts:
        code = part.strip().upper()
        if not code:
            continue
        if code not in RAG_CODES:
            raise ValueError(f"unknown RAG code {part!r}: use B, R, A, G")
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ValueError("empty RAG set")
    return tuple(codes)


def format_rag_set(codes: Iterable[str]) -> str:
    return ",".join(codes)


def parse_rag(text: str | None, rag_set: str | Iterable[str] | None = None) -> str | None:
    """Read a RAG rating as people type it: 'r', 'Red', 'AMBER', '🟢', 'on track', 'done' ….

    'complete'/'completed'/'done' give B when the plan's set has B, else G. With `rag_set` given, a
    code outside it (e.g. 'blue' for an R/A/G plan) gives None; with no set, B/R/A/G are all accepted.
    Anything not a rating gives None.
    """
    if not text:
        return None
    word = _norm(text)
    if not word:
        return None
    allowed = set(parse_rag_set(rag_set)) if rag_set is not None else set(RAG_CODES)
    if word in _COMPLETE:
        return "B" if rag_set is not None and "B" in allowed else "G"
    code = _WORDS.get(word)
    if code is None and len(word) > 1 and all(ch in _WORDS for ch in word):
        return None  # "🔴🟢": ambiguous
    if code is None:
        return None
    return code if code in allowed else None


def split_rag_prefix(text: str, rag_set: str | Iterable[str] | None = None) -> tuple[str | None, str]:
    """Split a leading rating off a line: 'amber Survey sent' → ('A', 'Survey sent');
    'on track - all good' → ('G', 'all good'); no rating → (None, text)."""
    stripped = text.strip()
    tokens = stripped.split()
    for n in (3, 2, 1):
        if len(tokens) < n:
            continue
        head = " ".join(tokens[:n])
        # An emoji glued to the text ("🟢done") still counts.
        code = parse_rag(head, rag_set)
        if code is not None:
            rest = stripped.split(None, n)[n] if len(tokens) > n else ""
            return code, rest.lstrip(_STRIP).strip()
    if stripped and stripped[0] in "🔴🟠🟡🟢🔵🟥🟧🟨🟩🟦":
        code = parse_rag(stripped[0], rag_set)
        if code is not None:
            return code, stripped[1:].lstrip(_STRIP + "\ufe0f").strip()
    return None, text.strip()


def rag_from_fill(rgb: str | None) -> str | None:
    """The rating a cell's fill colour means ('FF0000' → 'R', 'FFC000' → 'A', '00B050' → 'G', '0070C0' → 'B'),
    by hue: greys, white, black and pale tints mean nothing."""
    if not rgb or not re.fullmatch(r"[0-9A-Fa-f]{6}", rgb):
        return None
    import colorsys

    r, g, b = (int(rgb[i : i + 2], 16) / 255 for i in (0, 2, 4))
    hue, saturation, value = colorsys.rgb_to_hsv(r, g, b)
    if saturation < 0.15 or value < 0.3:
        return None
    degrees = hue * 360
    if degrees < 15 or degrees >= 340:
        return "R"
    if degrees < 70:
        return "A"
    if degrees < 170:
        return "G"
    if 180 <= degrees < 260:
        return "B"
    return None


def rag_label(code: str | None) -> str:
    """'Red', 'Amber', 'Green', 'Blue' in the active locale; '' for None."""
    if not code:
        return ""
    return _(_RAG_LABELS[code.upper()])


def rag_meaning(code: str | None) -> str:
    """'off track', 'at risk', 'on track', 'complete' in the active locale."""
    if not code:
        return ""
    return _(_RAG_MEANINGS[code.upper()])


def rag_emoji(code: str | None) -> str:
    """🔴 🟠 🟢 🔵, or ⚪ when there is no rating."""
    if not code:
        return "⚪"
    return _RAG_EMOJI.get(code.upper(), "⚪")


# ---------------------------------------------------------------------------------------------------------
# Numbered terms: six-term (T1 … T6) and five-term years, mapped to the three English terms
# ---------------------------------------------------------------------------------------------------------

_NUMBERED = re.compile(r"^\s*(?:t|term|ht|half[- ]?term)\s*([1-6])(?![\d])", re.IGNORECASE)
# term number → (term, half-term or None), by how many terms the year has.
NUMBERED_TERMS: dict[int, dict[int, tuple[str, int | None]]] = {
    6: {
        1: ("autumn", 1),
        2: ("autumn", 2),
        3: ("spring", 1),
        4: ("spring", 2),
        5: ("summer", 1),
        6: ("summer", 2),
    },
    5: {1: ("autumn", 1), 2: ("autumn", 2), 3: ("spring", None), 4: ("summer", 1), 5: ("summer", 2)},
    3: {1: ("autumn", None), 2: ("spring", None), 3: ("summer", None)},
}


def numbered_terms(headers: Iterable[str]) -> dict[int, tuple[str, int | None, int]]:
    """Columns headed by a term's number ("T1" … "T6", "Term 4 RAG"): column → (term, half-term, terms in
    the year). The year has as many terms as its highest number says (four or more: six, unless five is
    the highest); "Term 1/2/3" alone are the three English terms."""
    found: dict[int, int] = {}
    headers_list = list(headers)
    for col, header in enumerate(headers_list):
        m = _NUMBERED.match(header or "")
        if m and not parse_term_column(header):
            found[col] = int(m.group(1))
    if len(found) < 2:
        return {}
    top = max(found.values())
    half_terms = any(re.match(r"\s*(?:ht|half)", headers_list[c], re.IGNORECASE) for c in found)
    count = 5 if top == 5 else 6 if top > 3 or half_terms else 3
    return {col: (*NUMBERED_TERMS[count][n], count) for col, n in found.items()}


_MONTH_COLUMN = re.compile(
    r"\b(jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|september|"
    r"oct|october|nov|november|dec|december)\b\.?(?:\s*[-–—/]\s*(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?)?"
    r"(?:\s*'?(\d{4}|\d{2})(?!\d))?",
    re.IGNORECASE,
)


def month_term(header: str, default_year: int | None) -> tuple[int, str] | None:
    """A review column named by its month ("Dec 2025 RAG", "March review", "Sept–Dec"): the term that month
    falls in (the last month of a range), in the plan's year when the header names none."""
    found = list(_MONTH_COLUMN.finditer(header or ""))
    if not found:
        return None
    m = found[-1]
    text = m.group(0)
    last = re.findall(r"[a-z]{3,9}", text.lower())[-1][:3]
    month = MONTHS.get(last) or MONTHS[m.group(1).lower()[:3]]
    if m.group(2):
        year = full_year(m.group(2))
    elif default_year is not None:
        year = default_year if month >= 8 else default_year + 1
    else:
        return None
    term = term_for(dt.date(year, month, 15))
    return term.academic_year, term.term
