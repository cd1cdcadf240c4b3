"""Applying a parsed directory to the database (in the caller's transaction, one audit entry) and
saying what it did."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, cast

from core import clock
from core.i18n import _, ngettext
from core.normalise import fold, normalise_person
from directory.cells import school_key
from directory.records import (
    PERSON_FIELDS,
    SCHOOL_FIELDS,
    HeadChange,
    ImportSummary,
    ParsedDirectory,
    PersonRecord,
    RowProblem,
    SchoolRecord,
)

# --- applying to the database ---------------------------------------------------------------------


def _person_key(first: str, last: str, school_id: int | None) -> tuple[str, int | None]:
    return normalise_person(f"{first} {last}"), school_id


async def apply_directory(
    session: Any, parsed: ParsedDirectory, actor_id: int | None, dry_run: bool = False
) -> ImportSummary:
    """Upsert the parsed records in `session`'s transaction (see the module doc).

    Existing rows are loaded once into dictionaries; new rows are inserted in bulk and changed rows
    updated in bulk by primary key, so 50,000 rows take seconds. On any error the session is rolled
    back and the error raised: nothing is half-imported. A dry run writes nothing. A real import first
    takes the database's import lock (storage.import_lock), so two imports of one file never add
    everything twice: the second waits, then finds what the first added.
    """
    from storage.import_lock import take_import_lock

    try:
        if not dry_run:
            await take_import_lock(session)
        return await _apply(session, parsed, actor_id, dry_run)
    except Exception:
        await session.rollback()
        raise


async def _apply(session: Any, parsed: ParsedDirectory, actor_id: int | None, dry_run: bool) -> ImportSummary:
    from sqlalchemy import select

    from storage import audit
    from storage.directory import Person, School, Specialism, person_specialism

    summary = ImportSummary(
        filename=parsed.filename,
        kind=parsed.kind,
        dry_run=dry_run,
        rows=parsed.rows,
        skipped=list(parsed.skipped),
        rejected=list(parsed.rejected),
        unmatched_headers=parsed.unmatched_headers,
        matched_headers=parsed.header_map.matched,
    )
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
                summary.rejected.append(
                    RowProblem(
                        rec.line,
                        _("URN {urn} is not in the directory and the row gives no school name").format(urn=rec.urn),
                    )
                )
                bad_school_keys[rec.key] = rec.line
                continue
            new_schools.append(rec)
            school_ids[rec.key] = None
            summary.schools_added += 1
            continue
        if current.id in claimed:
            summary.rejected.append(
                RowProblem(rec.line, _("the same school as line {line}").format(line=claimed[current.id]))
            )
            bad_school_keys[rec.key] = rec.line
            continue
        claimed[current.id] = rec.line
        school_ids[rec.key] = current.id
        changes = {
            n: getattr(rec, n)
            for n in SCHOOL_FIELDS
            if getattr(rec, n) is not None and getattr(rec, n) != getattr(current, n)
        }
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
    for pid, sid, first, last in (
        await session.execute(
            select(Person.id, Person.school_id, Person.first_name, Person.last_name).where(
                Person.is_head.is_(True), Person.status == "current", Person.school_id.is_not(None)
            )
        )
    ).all():
        heads_now.setdefault(sid, {})[pid] = f"{first} {last}".strip()
    heads_in_file: dict[int, list[tuple[str, int | None]]] = {}  # school id -> (name, matched person id)
    new_people: list[PersonRecord] = []
    person_updates: list[dict[str, Any]] = []
    relink: dict[int, tuple[str, ...]] = {}  # existing person id -> specialisms to set
    claimed_people: dict[int, int] = {}
    pending_names: dict[tuple[str, str | None], int] = {}  # new people by (name, school key): one each
    for prec in parsed.people:
        if prec.school_key in bad_school_keys:
            if bad_school_keys[prec.school_key] != prec.line:
                summary.rejected.append(
                    RowProblem(
                        prec.line,
                        _("{name}: the school was rejected on line {line}").format(
                            name=prec.display_name, line=bad_school_keys[prec.school_key]
                        ),
                    )
                )
            continue
        school_id = school_ids.get(prec.school_key) if prec.school_key else None
        current = people_by_email.get(prec.email) if prec.email else None
        if current is None and (prec.school_key is None or school_id is not None):
            candidate = people_by_name.get(_person_key(prec.first_name, prec.last_name, school_id))
            if candidate is not None and not (prec.email and candidate.email and candidate.email.lower() != prec.email):
                current = candidate
        if prec.is_head and school_id is not None:
            heads_in_file.setdefault(school_id, []).append((prec.display_name, current.id if current else None))
        if current is None:
            pending_key = (normalise_person(f"{prec.first_name} {prec.last_name}"), prec.school_key)
            if pending_key in pending_names and not prec.email:
                summary.rejected.append(
                    RowProblem(
                        prec.line,
                        _("{name} is already on line {line}").format(
                            name=prec.display_name, line=pending_names[pending_key]
                        ),
                    )
                )
                continue
            pending_names.setdefault(pending_key, prec.line)
            new_people.append(prec)
            summary.people_added += 1
            continue
        if current.id in claimed_people:
            summary.rejected.append(
                RowProblem(
                    prec.line,
                    _("{name} is the same person as on line {line}").format(
                        name=prec.display_name, line=claimed_people[current.id]
                    ),
                )
            )
            continue
        claimed_people[current.id] = prec.line
        person_changes: dict[str, Any] = {}
        for name in PERSON_FIELDS:
            value = getattr(prec, name)
            if name == "designations" and value is not None:
                value = ",".join(value)
            if name in {"first_name", "last_name"} and not value:
                continue
            if value is not None and value != getattr(current, name):
                person_changes[name] = value
        if school_id is not None and school_id != current.school_id:
            person_changes["school_id"] = school_id
        if prec.specialisms:
            wanted = {specialism_ids.get(fold(s), -1) for s in prec.specialisms}
            if wanted != links.get(current.id, set()):
                relink[current.id] = prec.specialisms
        if person_changes or current.id in relink:
            person_changes.update(id=current.id, updated_at=now, updated_by=actor_id)
            person_updates.append(person_changes)
            summary.people_changed += 1
        else:
            summary.people_unchanged += 1

    if not dry_run:
        # The audit entry is written first: on SQLite that takes the write lock for the whole import.
        audit.record(
            session,
            actor_id,
            "directory.import",
            "directory",
            parsed.filename[:40],
            kind=parsed.kind,
            **summary.counts(),  # type: ignore[arg-type]
            rejected=len(summary.rejected),
            skipped=len(summary.skipped),
        )
        await session.flush()
        await _write(
            session,
            actor_id,
            now,
            new_schools,
            school_updates,
            school_ids,
            new_specialisms,
            specialism_ids,
            new_people,
            person_updates,
            relink,
        )
    summary.head_changes = _head_changes(
        heads_now,
        heads_in_file,
        by_id={v.id: v.name for v in by_urn.values()} | {v.id: v.name for v in by_name.values()},
    )
    if not dry_run:
        await _retire_heads(session, summary.head_changes, actor_id, now)
    return summary


def _head_changes(
    heads_now: dict[int, dict[int, str]], heads_in_file: dict[int, list[tuple[str, int | None]]], by_id: dict[int, str]
) -> list[HeadChange]:
    """Schools where the file names a head the directory does not have as head there: the directory's
    other heads of that school are outgoing (they become former heads, directory/succession.py)."""
    out = []
    for school_id, named in sorted(heads_in_file.items()):
        current = heads_now.get(school_id, {})
        kept = {pid for _name, pid in named if pid is not None and pid in current}
        incoming = [name for name, pid in named if pid is None or pid not in current]
        outgoing = {pid: name for pid, name in current.items() if pid not in kept}
        if incoming and outgoing:
            out.append(
                HeadChange(school_id, by_id.get(school_id, ""), sorted(outgoing.values()), incoming, sorted(outgoing))
            )
    return out


async def _retire_heads(session: Any, changes: list[HeadChange], actor_id: int | None, now: dt.datetime) -> None:
    """Outgoing heads become former heads; the audit entry ("school.head_change") is what the running bot
    announces to the coordinators (handlers/currency.announce_head_changes)."""
    from sqlalchemy import select, update

    from storage import audit
    from storage.directory import Person

    for change in changes:
        await session.execute(
            update(Person)
            .where(Person.id.in_(change.outgoing_ids))
            .values(is_head=False, status="former", left_on=now.date(), updated_at=now, updated_by=actor_id)
        )
        change.incoming_ids = list(
            (
                await session.scalars(
                    select(Person.id)
                    .where(Person.school_id == change.school_id, Person.is_head.is_(True), Person.status == "current")
                    .order_by(Person.id)
                )
            ).all()
        )
        audit.record(
            session,
            actor_id,
            "school.head_change",
            "school",
            change.school_id,
            source="import",
            outgoing=change.outgoing_ids,
            incoming=change.incoming_ids,
        )


def _chunks(items: list[Any], size: int = 1000) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


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
            {"table": table.name, "n": count},
        )
        return [r[0] for r in rows]
    start = (await session.scalar(select(func.max(table.c.id)))) or 0
    return list(range(start + 1, start + 1 + count))


async def _write(
    session: Any,
    actor_id: int | None,
    now: dt.datetime,
    new_schools: list[SchoolRecord],
    school_updates: list[dict[str, Any]],
    school_ids: dict[str, int | None],
    new_specialisms: list[str],
    specialism_ids: dict[str, int],
    new_people: list[PersonRecord],
    person_updates: list[dict[str, Any]],
    relink: dict[int, tuple[str, ...]],
) -> None:
    from sqlalchemy import Table, delete, insert

    from storage.directory import Person, School, Specialism, person_specialism

    # The tables themselves (Core inserts): typed as Table, which is what __table__ is for these models.
    schools, people = cast(Table, School.__table__), cast(Table, Person.__table__)
    stamp = {"created_at": now, "updated_at": now, "updated_by": actor_id}
    ids = await _reserve_ids(session, schools, len(new_schools))
    for rec, school_id in zip(new_schools, ids, strict=True):
        school_ids[rec.key] = school_id
    for start in range(0, len(new_schools), 1000):  # row dicts a chunk at a time: memory stays flat
        batch = [
            {**{n: getattr(rec, n) for n in SCHOOL_FIELDS}, **stamp, "id": school_id}
            for rec, school_id in zip(new_schools[start : start + 1000], ids[start : start + 1000])
        ]
        await session.execute(insert(schools), batch)
    await _bulk_update(session, schools, school_updates)

    for name in new_specialisms:
        specialism_ids[fold(name)] = (
            await session.execute(insert(Specialism).returning(Specialism.id), [{"name": name[:80], "aliases": ""}])
        ).scalar_one()

    new_links: list[dict[str, int]] = []
    ids = await _reserve_ids(session, people, len(new_people))
    for start in range(0, len(new_people), 1000):
        batch = []
        for prec, person_id in zip(new_people[start : start + 1000], ids[start : start + 1000]):
            row = {n: getattr(prec, n) for n in PERSON_FIELDS}
            row.update(
                designations=",".join(prec.designations or ()),
                is_head=bool(prec.is_head),
                mentor_capacity=prec.mentor_capacity or 0,
                id=person_id,
                school_id=school_ids.get(prec.school_key) if prec.school_key else None,
                **stamp,
            )
            batch.append(row)
            for s in prec.specialisms or ():
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
        statement = update(table).where(table.c.id == bindparam("_id")).values({c: bindparam(f"_{c}") for c in columns})
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
    out.append(
        _("Schools: {added} added, {changed} changed, {unchanged} unchanged").format(
            added=summary.schools_added, changed=summary.schools_changed, unchanged=summary.schools_unchanged
        )
    )
    out.append(
        _("People: {added} added, {changed} changed, {unchanged} unchanged").format(
            added=summary.people_added, changed=summary.people_changed, unchanged=summary.people_unchanged
        )
    )
    head_changes = summary.total("head_changes")
    if head_changes:
        out.append(ngettext("{n} head change", "{n} head changes", head_changes).format(n=head_changes) + ":")
        for change in summary.head_changes[:max_problems]:
            out.append(
                "  "
                + _("{school}: {old} → {new}").format(
                    school=change.school, old=", ".join(change.outgoing), new=", ".join(change.incoming)
                )
            )
        if head_changes > max_problems:
            out.append("  " + _("… and {n} more").format(n=head_changes - max_problems))
    if summary.specialisms_added:
        out.append(
            ngettext("{n} new specialism", "{n} new specialisms", summary.specialisms_added).format(
                n=summary.specialisms_added
            )
        )
    skipped, rejected = summary.total("skipped"), summary.total("rejected")
    for title, count, problems in (
        (ngettext("{n} row skipped", "{n} rows skipped", skipped), skipped, summary.skipped),
        (ngettext("{n} row rejected", "{n} rows rejected", rejected), rejected, summary.rejected),
    ):
        if not count:
            continue
        out.append(title.format(n=count) + ":")
        for problem in problems[:max_problems]:
            out.append("  " + _("line {line}: {reason}").format(line=problem.line, reason=problem.reason))
        if count > max_problems:
            out.append("  " + _("… and {n} more").format(n=count - max_problems))
    if summary.unmatched_headers:
        shown = summary.unmatched_headers[:max_problems]
        more = len(summary.unmatched_headers) - len(shown)
        text = ", ".join(shown) + (" " + _("and {n} more").format(n=more) if more > 0 else "")
        out.append(
            ngettext(
                "{n} column not used: {names}", "{n} columns not used: {names}", len(summary.unmatched_headers)
            ).format(n=len(summary.unmatched_headers), names=text)
        )
    return out
