"""What an import would do, as lines both the chat preview and the command line show (pure, plain text).

`preview_lines(parsed, summary)` gives (kind, text) pairs: "heading" (the chat makes it bold), "line"
and "item" (a bullet). Everything the coordinator needs to check the reading is here: which column
became which field (and which were guessed), the counts, the term given to RAG columns that name none and
why, whether references were numbered by the importer, owners matched, the differences a re-import makes,
and every part of the file that was not read, with its line.
"""

from __future__ import annotations

from core.i18n import _, ngettext
from core.terms import Term, term_label
from plans.parsed import ColumnMapping, ParsedPlan, TableReading
from plans.rag import rag_label
from plans.reimport import field_name
from plans.store import PlanSummary

Line = tuple[str, str]  # (kind, text): kind is "heading", "line" or "item"


def column_text(column: ColumnMapping) -> str:
    """'By whom → Owners', 'Aut 16 → RAG rating, Autumn 2016', with '(guessed)' where unsure."""
    header = column.header or _("column {n}").format(n=column.column + 1)
    target = column.label
    if column.term is not None and column.field in ("rag", "comment"):
        target = f"{target}, {term_label(Term(*column.term))}"
        if column.half_term:
            target += " " + _("(half-term {n})").format(n=column.half_term)
    text = f"{header} → {target}"
    if column.how == "key":
        text += " " + _("(the plan's rating key)")
    if column.guessed:
        text += " " + _("(guessed)")
    return text


def _tables_to_show(parsed: ParsedPlan) -> list[TableReading]:
    """The tables read, without repeating a layout already shown (plans with one table per section)."""
    shown: list[TableReading] = []
    layouts: set[tuple[tuple[str, str], ...]] = set()
    for table in parsed.tables:
        if not table.used:
            continue
        layout = tuple((c.header, c.field) for c in table.columns)
        if layout in layouts:
            continue
        layouts.add(layout)
        shown.append(table)
    return shown


def preview_lines(
    parsed: ParsedPlan, summary: PlanSummary, max_items: int | None = 30, heading: bool = True
) -> list[Line]:
    """The preview; `max_items` caps each list (None: everything, as the command line prints);
    without `heading` it starts at the details (the command line prints its own first line)."""
    out: list[Line] = []

    def capped(items: list[str]) -> None:
        shown = items if max_items is None else items[:max_items]
        out.extend(("item", item) for item in shown)
        if len(items) > len(shown):
            out.append(
                ("line", _("… and {n} more (the command line lists them all).").format(n=len(items) - len(shown)))
            )

    diff = summary.diff
    if not heading:
        pass
    elif diff is not None:
        out.append(
            (
                "heading",
                (
                    _("Would update plan {number}: {title}") if summary.dry_run else _("Updated plan {number}: {title}")
                ).format(number=diff.plan_id, title=diff.title),
            )
        )
    else:
        out.append(
            (
                "heading",
                _("Import this plan?")
                if summary.dry_run
                else _("Imported plan {number}").format(number=summary.plan_id),
            )
        )
        out.append(("heading", parsed.title))
    details = " · ".join(x for x in (parsed.partnership or "", parsed.year or "") if x)
    if details:
        out.append(("line", details))
    counts = parsed.counts
    out.append(
        (
            "line",
            ngettext("{n} row read", "{n} rows read", counts.rows).format(n=counts.rows)
            + ": "
            + ", ".join(
                [
                    ngettext("{n} section", "{n} sections", summary.sections).format(n=summary.sections),
                    ngettext("{n} action", "{n} actions", summary.actions).format(n=summary.actions),
                    ngettext("{n} continuation row", "{n} continuation rows", counts.continuations).format(
                        n=counts.continuations
                    ),
                    ngettext("{n} rating", "{n} ratings", counts.ratings).format(n=counts.ratings),
                    ngettext("{n} not read", "{n} not read", len(parsed.not_read)).format(n=len(parsed.not_read)),
                ]
            ),
        )
    )

    if parsed.alerts:
        out.append(("heading", _("Check before importing")))
        capped(parsed.alerts)
    if parsed.rating_key:
        out.append(
            (
                "line",
                _("Rating key ({where}): {key}").format(
                    where="; ".join(parsed.rating_key_where[:3]) or _("read from the plan"),
                    key=", ".join(f"{s} = {m} → {rag_label(c)}" for s, m, c in parsed.rating_key[:12]),
                ),
            )
        )

    if parsed.sections:
        out.append(("heading", _("Sections")))
        capped([f"{s.title or _('(untitled)')} — {len(s.actions)}" for s in parsed.sections])
    tables = _tables_to_show(parsed)
    for table in tables:
        title = table.title if len(tables) > 1 and table.title else ""
        where = table.where or ""
        columns_heading = _("Columns") if not title else _("Columns of {table}").format(table=title)
        if table.header_lines:
            columns_heading += " " + ngettext(
                "(header on line {lines})", "(header on lines {lines})", len(table.header_lines)
            ).format(lines=", ".join(str(n) for n in table.header_lines))
        elif where:
            columns_heading += f" ({where})"
        out.append(("columns_heading", columns_heading))
        capped([column_text(c) for c in table.columns])
    for assumption in parsed.term_assumptions:
        out.append(
            (
                "line",
                _("Ratings in {header} are filed under {term}: {reason}").format(
                    header=assumption.header or _("the RAG column"),
                    term=term_label(Term(*assumption.term)),
                    reason=assumption.reason,
                ),
            )
        )
    if parsed.refs_generated:
        generated = sum(1 for a in parsed.actions if a.ref_generated)
        out.append(
            (
                "line",
                ngettext(
                    "{n} action had no reference in the plan and was numbered by me.",
                    "{n} actions had no reference in the plan and were numbered by me.",
                    generated,
                ).format(n=generated),
            )
        )

    out.append(
        (
            "line",
            _("Owners: {linked} of {total} matched to the directory.").format(
                linked=summary.owners_linked, total=summary.owners
            ),
        )
    )
    if summary.unlinked_names:
        out.append(("line", _("Kept as text: {names}").format(names=", ".join(summary.unlinked_names[:20]))))
    if summary.ambiguous_names:
        out.append(
            ("line", _("More than one person could be: {names}").format(names=", ".join(summary.ambiguous_names[:20])))
        )

    if diff is not None:
        out.append(("heading", _("Changes to plan {number}").format(number=diff.plan_id)))
        out.append(
            (
                "line",
                ", ".join(
                    [
                        ngettext("{n} added", "{n} added", len(diff.added)).format(n=len(diff.added)),
                        ngettext("{n} changed", "{n} changed", len(diff.changed)).format(n=len(diff.changed)),
                        ngettext("{n} archived", "{n} archived", len(diff.archived)).format(n=len(diff.archived)),
                        ngettext("{n} restored", "{n} restored", len(diff.restored)).format(n=len(diff.restored)),
                        ngettext("{n} unchanged", "{n} unchanged", diff.unchanged).format(n=diff.unchanged),
                        ngettext("{n} new rating or comment", "{n} new ratings or comments", diff.ratings).format(
                            n=diff.ratings
                        ),
                    ]
                ),
            )
        )
        items = [_("added {ref}: {text}").format(ref=ref, text=_short(text)) for ref, text in diff.added]
        items += [
            _("changed {ref} ({fields}): {text}").format(
                ref=c.ref, fields=", ".join(field_name(f) for f in c.fields), text=_short(c.text)
            )
            for c in diff.changed
        ]
        items += [_("archived {ref}: {text}").format(ref=ref, text=_short(text)) for ref, text in diff.archived]
        items += [_("restored {ref}: {text}").format(ref=ref, text=_short(text)) for ref, text in diff.restored]
        capped(items)
        if diff.changes == 0:
            out.append(("line", _("The file matches the plan: importing it changes nothing.")))
    elif summary.same_title_plan_id is not None:
        out.append(
            (
                "line",
                _("A plan with this title already exists (number {number}); this adds another.").format(
                    number=summary.same_title_plan_id
                ),
            )
        )

    if parsed.not_read:
        out.append(("heading", _("Not read ({n})").format(n=len(parsed.not_read))))
        capped([str(n) + (f" — “{_short(n.text, 40)}”" if n.text else "") for n in parsed.not_read])
    if parsed.warnings:
        out.append(("heading", _("Warnings ({n})").format(n=len(parsed.warnings))))
        capped([str(w) for w in parsed.warnings])
    return out


def _short(text: str, limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_preview(parsed: ParsedPlan, summary: PlanSummary, heading: bool = True) -> list[str]:
    """The preview as command-line lines (nothing capped)."""
    out = []
    for kind, text in preview_lines(parsed, summary, max_items=None, heading=heading):
        out.append(text if kind == "heading" else ("  - " + text if kind == "item" else "  " + text))
    return out
