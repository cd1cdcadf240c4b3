"""The termly report: the live plan as XLSX and Word plus the RAG picture (no Telegram).

Builds on plans.store.build_plan_view and the plans.export writers. The report's columns are the terms
that hold a rating or comment, plus the report's own term; empty terms between an old imported plan and
today are left out so the grid stays readable.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from plans.export import PlanView, export_docx, export_xlsx, render_rag_png
from plans.store import build_plan_view
from plans.terms import Term, current_term, term_label


@dataclass
class ReportFiles:
    plan_id: int
    title: str
    term: Term
    xlsx: tuple[str, bytes]
    docx: tuple[str, bytes]
    png: tuple[str, bytes]
    counts: dict[str, int]  # rating code → actions in the report's term ('' = no rating)
    rag_set: tuple[str, ...]


def slug(text: str, limit: int = 40) -> str:
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[:limit].rstrip("-") or "plan"


def report_view(view: PlanView, term: Term) -> PlanView:
    """A copy of the view whose terms are those with any rating or comment, plus `term`."""
    used = {t for a in view.actions for t in (*a.rag, *a.comments)}
    used.add(term)
    terms = sorted(t for t in set(view.terms) | used if t in used)
    return dataclasses.replace(view, terms=terms)


async def build_report(session: AsyncSession, plan_id: int, term: Term | None = None) -> ReportFiles | None:
    """The three files for a plan's termly report; None when there is no such plan."""
    term = term or current_term()
    view = await build_plan_view(session, plan_id)
    if view is None:
        return None
    view = report_view(view, term)
    base = f"{slug(view.title)}-{slug(term_label(term, short=True))}"
    counts = view.counts(term)
    return ReportFiles(
        plan_id=view.id, title=view.title, term=term,
        xlsx=(f"{base}.xlsx", export_xlsx(view)),
        docx=(f"{base}.docx", export_docx(view)),
        png=(f"{base}.png", render_rag_png(view)),
        counts=counts, rag_set=view.rag_set)
