"""The termly report: what the delivery group, the board and councillors read each term (no Telegram).

One report, three files, from this one module whether asked for in chat (`/report`) or on the command
line (`partnerbot report`):

- Word (plans.report_docx): title, summary, the RAG picture, exceptions, then the full table.
- Excel (plans.report_xlsx): summary, actions with one column per term of the span, every update.
- PNG (plans.export.render_rag_png): the RAG grid, for the chat.

The columns are the plan's span (core.terms.plan_span, through plans.store.build_plan_view): its
academic year(s) plus every term with an update. The data is read in a session that is closed before
anything is built; the files are built in a worker process (python-docx, openpyxl and Pillow hold the
GIL for the whole build), so the bot keeps answering meanwhile.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.i18n import _, active_locale, current_locale, format_date
from core.terms import LONDON, Term, current_term, term_label, to_local_date
from plans.export import ActionView, PlanView, UpdateView, render_rag_png

# Better ratings are further right: a move from Red to Amber is up, Green to Amber is down.
RAG_ORDER = {"R": 0, "A": 1, "G": 2, "B": 3}
EXCEPTION_CODES = ("R", "A")
IMPORTED = "import"  # author_label of rows read from an imported plan (plans.store.IMPORT_LABEL)


class TermNotInSpan(ValueError):
    """The term asked for is not one of the plan's terms."""

    def __init__(self, term: Term, span: list[Term]):
        super().__init__(term.code)
        self.term = term
        self.span = span


@dataclass
class Move:
    action: ActionView
    before: str
    after: str


@dataclass
class Exception_:
    """A red or amber action this term, with what the board needs to know about it."""

    action: ActionView
    rating: str
    before: str  # rating last term ('' = none)
    comment: UpdateView | None  # the latest comment up to this term


@dataclass
class Stale:
    """An action with no update this term, and its last rating before it."""

    action: ActionView
    last: str
    last_term: Term | None


@dataclass
class ReportSummary:
    term: Term
    previous: Term | None  # the span's term before `term`
    counts: dict[str, int]  # code → actions rated so this term ('' = no rating)
    previous_counts: dict[str, int]
    up: list[Move] = field(default_factory=list)
    down: list[Move] = field(default_factory=list)
    stale: list[Stale] = field(default_factory=list)
    exceptions: list[Exception_] = field(default_factory=list)


@dataclass
class ReportFiles:
    plan_id: int
    title: str
    term: Term
    span: list[Term]
    docx: tuple[str, bytes]
    xlsx: tuple[str, bytes]
    png: tuple[str, bytes]
    counts: dict[str, int]  # rating code → actions in the report's term ('' = no rating)
    rag_set: tuple[str, ...]
    chosen: bool = False  # True: the term was not asked for; the latest term with ratings was taken

    @property
    def files(self) -> list[tuple[str, bytes]]:
        return [self.docx, self.xlsx, self.png]


# ---------------------------------------------------------------------------------------------------------
# What the report says (pure)
# ---------------------------------------------------------------------------------------------------------


def default_term(span: list[Term], today: Term | None = None, rated: set[Term] | None = None) -> Term:
    """The latest term up to today in which some action was rated (a report on an empty term helps no
    one: a plan rated only in Spring 2020 reports Spring 2020); with no rating yet, this term when the
    plan spans it, else the latest of the plan's terms before it, else its first."""
    today = today or current_term()
    given = sorted(t for t in (rated or set()) if t in span and t <= today)
    if given:
        return given[-1]
    if today in span:
        return today
    earlier = [t for t in span if t < today]
    return earlier[-1] if earlier else span[0]


def rated_terms(view: PlanView) -> set[Term]:
    """The terms in which at least one action has a rating."""
    return {term for action in view.actions for term, code in action.rag.items() if code}


def previous_in_span(span: list[Term], term: Term) -> Term | None:
    earlier = [t for t in span if t < term]
    return earlier[-1] if earlier else None


def latest_comment(action: ActionView, term: Term) -> UpdateView | None:
    """The latest comment that counts, given in `term` or before it."""
    found: UpdateView | None = None
    for row in action.history:
        if row.counts and row.comment and row.term <= term and (found is None or row.term >= found.term):
            found = row
    return found


def updated_in(action: ActionView, term: Term) -> bool:
    return any(row.counts and row.term == term for row in action.history)


def summarise(view: PlanView, term: Term) -> ReportSummary:
    previous = previous_in_span(view.terms, term)
    summary = ReportSummary(
        term=term,
        previous=previous,
        counts=view.counts(term),
        previous_counts=view.counts(previous) if previous else {},
    )
    for action in view.actions:
        now = action.rag.get(term, "")
        before = action.rag.get(previous, "") if previous else ""
        if now and before and now != before:
            move = Move(action, before, now)
            (summary.up if RAG_ORDER[now] > RAG_ORDER[before] else summary.down).append(move)
        if not updated_in(action, term):
            rated = [t for t in action.rag if t < term]
            last_term = max(rated) if rated else None
            summary.stale.append(Stale(action, action.rag[last_term] if last_term else "", last_term))
        if now in EXCEPTION_CODES:
            summary.exceptions.append(Exception_(action, now, before, latest_comment(action, term)))
    # Reds first, then ambers, each in plan order.
    summary.exceptions.sort(key=lambda e: RAG_ORDER[e.rating])
    return summary


def author_text(row: UpdateView) -> str:
    if is_imported(row):
        return _("from the imported plan")
    return row.author or _("unknown")


def is_imported(row: UpdateView) -> bool:
    return row.kind == "import" or row.author == IMPORTED


def when_text(row: UpdateView) -> str:
    """The day it was posted; '' for a row read from an imported plan (its stored date is only the end of
    its term, not a day anyone wrote it)."""
    if is_imported(row) or row.at is None:
        return ""
    return format_date(to_local_date(row.at, LONDON))


def byline(row: UpdateView, with_term: bool = False) -> str:
    """'Lucy Draycott, 3 Feb 2026' / 'from the imported plan'; with the term: '… (Spr 26)'."""
    text = ", ".join(p for p in (author_text(row), when_text(row)) if p)
    return f"{text} ({term_label(row.term, short=True)})" if with_term else text


def owners_text(action: ActionView) -> str:
    return action.owners_display or _("no owner")


def change_text(before: str, after: str, previous: Term | None) -> str:
    """'up from Amber (Summer 2026)', 'down from Green (…)', 'unchanged', 'no rating last term'."""
    from plans.rag import rag_label

    if previous is None:
        return _("first term of the plan")
    if not before:
        return _("no rating in {term}").format(term=term_label(previous))
    if not after:
        return _("was {rating} in {term}").format(rating=rag_label(before), term=term_label(previous))
    if before == after:
        return _("unchanged since {term}").format(term=term_label(previous))
    if RAG_ORDER[after] > RAG_ORDER[before]:
        return _("up from {rating} in {term}").format(rating=rag_label(before), term=term_label(previous))
    return _("down from {rating} in {term}").format(rating=rag_label(before), term=term_label(previous))


def slug(text: str, limit: int = 40) -> str:
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[:limit].rstrip("-") or "plan"


def produced_on(view: PlanView) -> dt.date:
    return to_local_date(view.generated_at, LONDON) if view.generated_at else dt.date.today()


# ---------------------------------------------------------------------------------------------------------
# Building the files (pure: runs in the worker process)
# ---------------------------------------------------------------------------------------------------------


def render_report(view: PlanView, term: Term, locale: str | None = None) -> ReportFiles:
    """The three files of `view`'s report for `term`, in `locale` (the worker has no update's locale)."""
    from plans.report_docx import report_docx
    from plans.report_xlsx import report_xlsx

    token = current_locale.set(locale) if locale else None
    try:
        if term not in view.terms:
            raise TermNotInSpan(term, view.terms)
        summary = summarise(view, term)
        png = render_rag_png(view, term=term)
        base = f"{slug(view.title)}-{slug(term_label(term, short=True))}"
        return ReportFiles(
            plan_id=view.id,
            title=view.title,
            term=term,
            span=list(view.terms),
            docx=(f"{base}.docx", report_docx(view, summary, png)),
            xlsx=(f"{base}.xlsx", report_xlsx(view, summary)),
            png=(f"{base}.png", png),
            counts=summary.counts,
            rag_set=view.rag_set,
        )
    finally:
        if token is not None:
            current_locale.reset(token)


# ---------------------------------------------------------------------------------------------------------
# Loading and running (the one path chat and command line share)
# ---------------------------------------------------------------------------------------------------------


async def load_view(sessionmaker: async_sessionmaker[AsyncSession], plan_id: int, author: str = "") -> PlanView | None:
    """The plan as plain data, read in a session of its own that is closed before anything is built;
    `author` (the partnership's name from settings) signs the documents."""
    from plans.store import build_plan_view

    async with sessionmaker() as session:
        view = await build_plan_view(session, plan_id)
    if view is not None:
        view.author = author
    return view


async def make_report(
    sessionmaker: async_sessionmaker[AsyncSession], plan_id: int, term: Term | None = None, author: str = ""
) -> ReportFiles | None:
    """The report on plan `plan_id` for `term` (default: `default_term`, the latest term with ratings up
    to today); None when there is no such plan; TermNotInSpan when `term` is not one of its terms. Built
    off the event loop."""
    from plans.report_worker import run_off_loop

    view = await load_view(sessionmaker, plan_id, author)
    if view is None:
        return None
    chosen = term is None
    term = term or default_term(view.terms, rated=rated_terms(view))
    if term not in view.terms:
        raise TermNotInSpan(term, view.terms)
    files = await run_off_loop(render_report, view, term, active_locale())
    assert isinstance(files, ReportFiles)
    files.chosen = chosen
    return files


async def span_of(session: AsyncSession, plan_id: int) -> list[Term] | None:
    """The plan's span, for the term picker (the same function the files use)."""
    from plans.store import build_plan_view

    view = await build_plan_view(session, plan_id)
    return view.terms if view is not None else None
