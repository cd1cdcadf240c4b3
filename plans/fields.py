"""Which column of a plan's table holds which field, by meaning (pure).

Known headers are matched by `core.headers.match_headers` (the generic matcher, tolerant of case,
punctuation and misspellings) against `PLAN_FIELDS`. Headers it leaves unplaced get a second, word-level
pass here: a header that contains a synonym's words ("Person responsible" ⊃ "responsible", "Target
completion date" ⊃ "date") is taken for that field, the most specific synonym first. Columns labelled
with a term ("Aut 16", "RAG rated progress Spr 17", "Progress comment Sum 17") are RAG or comment
columns for that term, as many as the plan has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from core.headers import match_headers, normalise_header
from core.terms import parse_term_label
from plans.rag import month_term, numbered_terms

# Field → headers that mean it, preferred first. The action column is the one a table must have.
PLAN_FIELDS: dict[str, tuple[str, ...]] = {
    "action": (
        "Action",
        "Actions",
        "Action points",
        "Action point",
        "Priority tasks",
        "Priority task",
        "Task",
        "Tasks",
        "Proposed action",
        "Proposed actions",
        "Key actions and impact",
        "Key actions",
        "Key action",
        "Actions to be taken",
        "Action to be taken",
        "Activity",
        "Activities",
        "What will we do",
        "What we will do",
        "What",
        "Strategy",
        "Strategies",
        "Intervention",
        "Description",
        "Action and success criteria",
        "Actions and impact",
    ),
    "ref": (
        "Ref",
        "Ref.",
        "Reference",
        "No",
        "No.",
        "Number",
        "#",
        "Item",
        "Action no",
        "Action number",
        "Action ref",
        "ID",
    ),
    # Objectives, recommendations and priorities are the aim an action serves: its section.
    "section": (
        "Section",
        "Strand",
        "Area",
        "Priority",
        "Workstream",
        "Work stream",
        "Theme",
        "Focus",
        "Priority area",
        "Key priority",
        "Aim",
        "Aims",
        "Objective",
        "Objectives",
        "Recommendation",
        "Recommendations",
        "Key priorities",
        "Area for development",
        "Areas for development",
        "Key issue",
        "Improvement priority",
        "School priority",
        "Target area",
        "Outcome sought",
    ),
    "owner": (
        "Owner",
        "Owners",
        "Lead",
        "Leads",
        "Who leads",
        "Lead officer(s)",
        "Responsible officer",
        "Lead person",
        "Lead(s)",
        "By whom",
        "Task owner",
        "Responsible",
        "Who",
        "Person responsible",
        "Responsibility",
        "Accountable",
        "Action owner",
        "Led by",
        "Staff responsible",
        "Lead officer",
    ),
    "milestones": (
        "Milestones",
        "Milestone",
        "Key milestones",
        "Steps",
        "Key steps",
        "Interim milestones",
        "Milestones and success criteria",
    ),
    "date": (
        "Date",
        "Dates",
        "Timescale",
        "Timescales",
        "Timeline",
        "Timeframe",
        "Time frame",
        "When",
        "By when",
        "Deadline",
        "Target date(s)",
        "Review date",
        "End date",
        "Start date",
        "Target date",
        "Completion date",
        "Due",
        "Due date",
        "Date due",
    ),
    "impact": (
        "Impact",
        "Intended impact",
        "Expected impact",
        "Outcome",
        "Outcomes",
        "Expected outcome",
        "Intended outcome",
        "Evidence of impact",
        "Impact on pupils",
    ),
    "kpis": (
        "KPIs",
        "KPI",
        "Success criteria",
        "How we will know",
        "Measures of success",
        "Key performance indicators",
        "Measures",
        "Measure of success",
        "Success measures",
        "Targets",
        "Target",
        "What does better look like",
        "Performance indicators",
        "Evaluation",
        "How will we know",
        "Evidence of success",
    ),
    "funding": (
        "£ source",
        "Funding",
        "Funding source",
        "Source of funding",
        "Budget",
        "Budget cost",
        "Cost",
        "Costs",
        "Resources",
        "Resource",
        "£",
        "Finance",
        "Budget/resources",
    ),
    "reporting": (
        "Reporting",
        "Report to",
        "Reporting to",
        "Reports to",
        "Monitoring",
        "Monitored by",
        "Accountable to",
        "Governance",
        "Monitoring and evaluation",
    ),
    "rag": (
        "RAG",
        "RAG rating",
        "RAG rated progress",
        "RAG status",
        "Status",
        "BRAG",
        "Rating",
        "Progress RAG",
        "RAG rated",
        "Current status",
        "Progress status",
        "Overall status",
        "RAG rated progress / status",
    ),
    "comment": (
        "Progress comment",
        "Progress comments",
        "Progress",
        "Comment",
        "Comments",
        "Commentary",
        "Progress update",
        "Update",
        "Latest comment",
        "Next steps",
        "Evaluation and next steps",
        "Evaluation / next steps",
        "Progress and next steps",
        "Impact so far",
        "Notes",
        "Progress to date",
        "Evidence",
        "Latest update",
    ),
}

# Words in a header that mark a term column as a comment, not a RAG, column.
_COMMENT_WORDS = ("comment", "commentary", "progress update", "update", "note", "notes", "evidence", "narrative")
# "Progress (Spring 2026)" is commentary; "RAG rated progress Aut 16" is a rating.
_RATING_WORDS = ("rag", "rating", "rated", "status", "score", "bragg", "brag", "grade", "judgement")


# A column named by a month is a review point only with one of these words ("Dec 2025 RAG", "March update").
_REVIEW_WORDS = re.compile(r"\b(rag|rating|rated|status|review|progress|update|comment|commentary|brag)\b")


def is_comment_header(norm: str) -> bool:
    """A term column's header (normalised) that holds commentary rather than ratings."""
    words = norm.split()
    if any(w in words or (" " in w and w in norm) for w in _COMMENT_WORDS):
        return True
    return "progress" in words and not any(w in words for w in _RATING_WORDS)


# The word-level pass takes a header for a field when a synonym scores at least this (see `word_score`).
WORD_PASS_THRESHOLD = 80.0


@dataclass
class PlanColumns:
    headers: list[str]
    columns: dict[str, int] = field(default_factory=dict)  # field → column (single-column fields)
    rag_terms: dict[int, tuple[int, str]] = field(default_factory=dict)  # column → (academic year, term)
    comment_terms: dict[int, tuple[int, str]] = field(default_factory=dict)  # column → (academic year, term)
    unmatched: list[tuple[int, str]] = field(default_factory=list)  # (column, header) kept as extra
    how: dict[str, str] = field(default_factory=dict)  # field → header it was read from
    scores: dict[str, float] = field(default_factory=dict)  # field → how well its header matched (100 exact)
    # Columns headed by a term's number (T1 … T6): column → (term, half-term, terms in the year).
    numbered: dict[int, tuple[str, int | None, int]] = field(default_factory=dict)

    @property
    def has_action(self) -> bool:
        return "action" in self.columns


@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    return tuple(_stem(w) for w in normalise_header(text).split())


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


_STOP = {"the", "of", "and", "a", "an", "to", "for", "by", "in", "on", "what", "who", "when"}


def word_score(header: str, synonym: str) -> float:
    """How well `header` means `synonym` by words: every synonym word present (allowing misspellings)
    scores high, more so when the header has few other words."""
    h_words = [w for w in _words(header) if w]
    s_words = [w for w in _words(synonym) if w]
    if not h_words or not s_words:
        return 0.0
    s_content = [w for w in s_words if w not in _STOP] or s_words
    hits = 0.0
    for sw in s_content:
        best = max(fuzz.ratio(sw, hw) for hw in h_words)
        if best >= 85:
            hits += best / 100
    coverage = hits / len(s_content)
    if coverage < 0.99:
        return coverage * 70  # some words missing: below the threshold unless nearly all are there
    h_content = [w for w in h_words if w not in _STOP] or h_words
    extra = max(0, len(h_content) - len(s_content))
    return 100.0 - 6.0 * extra + 2.0 * min(len(s_content), 3)


def match_plan_headers(headers: Sequence[str], default_year: int | None = None) -> PlanColumns:
    """Place every header: term columns first, then `match_headers`, then the word-level pass.
    `default_year` (the plan's academic year) dates term columns that name no year ("Autumn term")."""
    raw = [h or "" for h in headers]
    result = PlanColumns(headers=list(raw))
    plain: list[str] = []
    result.numbered = numbered_terms(raw)
    for col, header in enumerate(raw):
        norm = normalise_header(header)
        term = parse_term_label(header, default_year) if norm else None
        if col in result.numbered:
            name, _half, _count = result.numbered[col]
            term = (default_year, name) if default_year is not None else None
            if term is None:
                plain.append("")  # dated by the reader from the plan's span
                continue
        if term is None and norm and _REVIEW_WORDS.search(norm):
            term = month_term(header, default_year)  # "Dec 2025 RAG", "March review"
        if term is not None:
            if is_comment_header(norm):
                result.comment_terms[col] = term
            else:
                result.rag_terms[col] = term
            plain.append("")  # hide it from the single-field matching
        else:
            plain.append(header)

    mapped = match_headers(plain, PLAN_FIELDS)
    result.columns = dict(mapped.columns)
    for name, col in result.columns.items():
        result.how[name] = raw[col]
        result.scores[name] = float(mapped.scores.get(name, 100.0))

    # Word-level pass for headers nobody has placed yet.
    used = set(result.columns.values()) | set(result.rag_terms) | set(result.comment_terms)
    candidates: list[tuple[float, int, str, int]] = []
    for col, header in enumerate(plain):
        if not header.strip() or col in used or len(header) > 80:  # a sentence is data, not a header
            continue
        for name, synonyms in PLAN_FIELDS.items():
            if name in result.columns:
                continue
            best = max(word_score(header, s) for s in synonyms)
            if best >= WORD_PASS_THRESHOLD:
                candidates.append((best, -list(PLAN_FIELDS).index(name), name, col))
    candidates.sort(reverse=True)
    for score, _order, name, col in candidates:
        if name in result.columns or col in used:
            continue
        result.columns[name] = col
        result.how[name] = raw[col]
        result.scores[name] = min(score, 90.0)  # a word-level match is a guess the preview shows
        used.add(col)
    if (
        "action" not in result.columns
        and "section" in result.columns
        and re.search(r"recommend|objective|priorit|\baims?\b|target", normalise_header(raw[result.columns["section"]]))
    ):
        # A plan of recommendations (or objectives) alone: they are its actions.
        result.columns["action"] = result.columns.pop("section")
        result.how["action"] = result.how.pop("section")
        result.scores["action"] = min(result.scores.pop("section", 100.0), 90.0)

    for col, header in enumerate(raw):
        if header.strip() and col not in used:
            result.unmatched.append((col, header))
    return result


def looks_like_header(cells: Sequence[str]) -> bool:
    """True when a row reads like a plan table's header (it names an action column and one more field)."""
    cols = match_plan_headers(list(cells))
    return cols.has_action and (len(cols.columns) + len(cols.rag_terms)) >= 2
