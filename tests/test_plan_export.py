"""Exporting plans: XLSX / DOCX / CSV / PNG from the store, coloured RAG cells, formula escaping, the
command line, and the round trip (an exported XLSX re-imports to the same plan)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from core.terms import Term
from plans.cli import run_export_plan
from plans.export import export_csv, export_docx, export_xlsx, render_rag_png, safe_cell
from plans.importer import parse_plan
from plans.rag import RAG_COLOURS
from plans.store import build_plan_view, save_plan
from storage.directory import Person
from storage.plans import Action, ActionOwner, ProgressUpdate
from tests.harness import frozen_clock
from tests.test_plan_import import DATA, MD, TSV, _xlsx_plan

NOW = dt.datetime(2017, 3, 1, 10, 0, tzinfo=dt.timezone.utc)  # Spring 2017


@pytest.fixture(autouse=True)
def fixed_clock():  # type: ignore[no-untyped-def]
    with frozen_clock(NOW):
        yield


async def _import(sessionmaker, data: bytes, name: str) -> int:  # type: ignore[no-untyped-def]
    parsed = parse_plan(data, name)
    async with sessionmaker.begin() as session:
        summary = await save_plan(session, parsed, actor_id=1003)
    assert summary.plan_id is not None
    return summary.plan_id


async def _action_id(sessionmaker, plan_id: int, ref: str) -> int:  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:
        return await session.scalar(select(Action.id).where(Action.plan_id == plan_id, Action.ref == ref))


async def _post(
    sessionmaker,
    action_id: int,
    rag: str | None,
    comment: str,
    term: Term,  # type: ignore[no-untyped-def]
    kind: str = "update",
    replaces_id: int | None = None,
) -> int:
    async with sessionmaker.begin() as session:
        row = ProgressUpdate(
            action_id=action_id,
            rag=rag,
            comment=comment,
            academic_year=term.academic_year,
            term=term.term,
            kind=kind,
            replaces_id=replaces_id,
            author_id=1002,
            author_label="Lead",
        )
        session.add(row)
        await session.flush()
        return row.id


def test_safe_cell_escapes_formulas() -> None:
    for text in ("=SUM(A1:A3)", "+44 1234", "-£100", "@R Singh", "\tx"):
        assert safe_cell(text) == "'" + text
    assert safe_cell("Plain text") == "Plain text" and safe_cell(None) == ""


async def test_view_counts_corrections_and_withdrawals(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    plan_id = await _import(sessionmaker, _xlsx_plan(), "trust-plan.xlsx")
    a = await _action_id(sessionmaker, plan_id, "a)")
    c = await _action_id(sessionmaker, plan_id, "c)")
    spring = Term(2016, "spring")
    first = await _post(sessionmaker, c, "R", "Not started", spring)
    await _post(sessionmaker, c, "A", "Started after all", spring, kind="correction", replaces_id=first)
    wrong = await _post(sessionmaker, a, "R", "wrong action", spring)
    await _post(sessionmaker, a, None, "", spring, kind="withdrawal", replaces_id=wrong)
    async with sessionmaker() as session:
        view = await build_plan_view(session, plan_id)
    assert view is not None
    assert view.terms == [Term(2016, "autumn"), Term(2016, "spring"), Term(2016, "summer")]
    by_ref = {x.ref: x for x in view.actions}
    assert by_ref["c)"].rag == {spring: "A"} and by_ref["c)"].latest_comment == "Started after all"
    assert by_ref["a)"].rag == {Term(2016, "autumn"): "A", spring: "G"}  # the withdrawn red does not count
    assert by_ref["a)"].latest_comment == "Two sessions held"
    assert by_ref["b)"].owners == ["Karen Shilton", "M Rock"]
    assert view.counts(spring) == {"R": 0, "A": 2, "G": 2, "": 0}  # a) G, b) A, c) A, d) G
    assert view.counts(Term(2016, "summer")) == {"R": 0, "A": 0, "G": 2, "": 2}


async def test_exported_xlsx_reimports_to_the_same_plan(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    async with sessionmaker.begin() as session:
        session.add(Person(first_name="Karen", last_name="Shilton"))
    plan_id = await _import(sessionmaker, _xlsx_plan(), "trust-plan.xlsx")
    b = await _action_id(sessionmaker, plan_id, "b)")
    await _post(sessionmaker, b, "G", "=cmd|' /C calc'!A0 is not a formula", Term(2016, "summer"))
    async with sessionmaker() as session:
        view = await build_plan_view(session, plan_id)
        owners = (
            await session.execute(
                select(Action.ref, ActionOwner.name)
                .join(ActionOwner)
                .where(Action.plan_id == plan_id)
                .order_by(Action.position, ActionOwner.id)
            )
        ).all()
    data = export_xlsx(view)

    reparsed = parse_plan(data, "export.xlsx")
    assert reparsed.title == view.title == "School improvement action plan 2016-17"
    assert reparsed.partnership == "Riverside Learning Trust" and reparsed.year == "2016-17"
    assert [a.ref for a in reparsed.actions] == [a.ref for a in view.actions] == ["a)", "b)", "c)", "d)"]
    assert [a.text for a in reparsed.actions] == [a.text for a in view.actions]
    assert [(a.ref, o) for a in reparsed.actions for o in a.owners] == [tuple(r) for r in owners]
    assert {(a.ref, u.academic_year, u.term, u.rag) for a in reparsed.actions for u in a.history if u.rag} == {
        (a.ref, t.academic_year, t.term, code) for a in view.actions for t, code in a.rag.items()
    }
    b_again = next(a for a in reparsed.actions if a.ref == "b)")
    assert b_again.history[-1].comment == "=cmd|' /C calc'!A0 is not a formula"  # the latest comment survives
    assert [s.title for s in reparsed.sections] == ["", "Strand 2"]

    # Saved again, the copy has the same actions, owners and ratings.
    copy_id = await _import(sessionmaker, data, "export.xlsx")
    async with sessionmaker() as session:
        copy = await build_plan_view(session, copy_id)
    assert [(x.ref, x.text, x.owners, x.rag) for x in copy.actions] == [
        (x.ref, x.text, x.owners, x.rag) for x in view.actions
    ]


async def test_example_plans_round_trip_through_xlsx_docx_and_csv(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    for path in (MD, TSV):
        plan_id = await _import(sessionmaker, path.read_bytes(), path.name)
        async with sessionmaker() as session:
            view = await build_plan_view(session, plan_id)
        for name, data in (("x.xlsx", export_xlsx(view)), ("x.docx", export_docx(view)), ("x.csv", export_csv(view))):
            again = parse_plan(data, name)
            assert [(a.ref, a.text, a.owners) for a in again.actions] == [
                (a.ref, a.text, a.owners) for a in view.actions
            ], (path.name, name)
            assert [m for a in again.actions for m in a.milestones] == [
                m for a in view.actions for m in a.milestones
            ], (path.name, name)
            if name != "x.csv":  # CSV has no title rows
                assert again.title == view.title and again.year == view.year


async def test_xlsx_cells_are_coloured_and_formulas_escaped(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    plan_id = await _import(sessionmaker, (DATA / "recommendations.csv").read_bytes(), "recommendations.csv")
    ref = "2.2"  # recommendations are sections: the fourth action is the second of the second
    action_id = await _action_id(sessionmaker, plan_id, ref)
    await _post(sessionmaker, action_id, "R", "@everyone look", Term(2023, "autumn"))
    await _post(sessionmaker, await _action_id(sessionmaker, plan_id, "1.1"), "B", "Done", Term(2023, "autumn"))
    async with sessionmaker() as session:
        view = await build_plan_view(session, plan_id)
    book = load_workbook(io.BytesIO(export_xlsx(view)))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=False))
    header_index = next(i for i, r in enumerate(rows) if r[0].value == "Ref")
    header = [c.value for c in rows[header_index]]
    assert header[10:13] == ["Aut 23", "Spr 24", "Sum 24"] and header[-1] == "Latest comment"
    data_rows = {r[0].value: r for r in rows[header_index + 1 :]}
    evil = data_rows[ref]
    assert evil[2].value == '\'=HYPERLINK("http://evil.example","click")' and evil[2].data_type == "s"
    assert evil[3].value == "'@R Singh" and evil[8].value == "'-£100"
    assert evil[-1].value == "'@everyone look"
    assert evil[10].value == "R" and evil[10].fill.fgColor.rgb.endswith(RAG_COLOURS["R"])
    assert data_rows["1.1"][10].fill.fgColor.rgb.endswith(RAG_COLOURS["B"])
    assert data_rows["1.2"][10].fill.fill_type is None  # no rating, no colour
    # CSV: the same escaping.
    text = export_csv(view).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and '"\'@R Singh"' not in text and "'@R Singh" in text


async def test_docx_and_png(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    plan_id = await _import(sessionmaker, _xlsx_plan(), "trust-plan.xlsx")
    async with sessionmaker() as session:
        view = await build_plan_view(session, plan_id)
    document = docx.Document(io.BytesIO(export_docx(view)))
    table = document.tables[0]
    header = [c.text for c in table.rows[0].cells]
    assert header[5:8] == ["Aut 16", "Spr 17", "Sum 17"]
    b_row = next(r for r in table.rows if r.cells[0].text == "b)")
    assert [c.text for c in b_row.cells[5:8]] == ["R", "A", "G"]
    fills = [c._tc.tcPr.xml for c in b_row.cells[5:8]]
    for xml, code in zip(fills, "RAG"):
        assert f'w:fill="{RAG_COLOURS[code]}"' in xml
    assert any(r.cells[0].text == "Strand 2" and r.cells[-1].text == "Strand 2" for r in table.rows)  # section row

    image = Image.open(io.BytesIO(render_rag_png(view)))
    assert image.format == "PNG" and image.width >= 500 and image.height >= 200
    colours = {colour for _n, colour in image.convert("RGB").getcolors(maxcolors=1 << 20)}  # saved with a palette
    for code in "RAG":
        red, green, blue = (int(RAG_COLOURS[code][i : i + 2], 16) for i in (0, 2, 4))
        assert (red, green, blue) in colours


async def test_cli_export_by_number_and_title(sessionmaker, db_url, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    await _import(sessionmaker, MD.read_bytes(), MD.name)
    await _import(sessionmaker, TSV.read_bytes(), TSV.name)
    for fmt in ("xlsx", "docx", "csv", "png"):
        target = tmp_path / f"plan.{fmt}"
        out, err = io.StringIO(), io.StringIO()
        assert await run_export_plan(db_url, "2", fmt, target, out=out, err=err) == 0, err.getvalue()
        assert target.stat().st_size > 0 and "30 actions" in out.getvalue()
    target = tmp_path / "by-title.xlsx"
    out, err = io.StringIO(), io.StringIO()
    assert await run_export_plan(db_url, "teaching school 2014/15", None, target, out=out, err=err) == 0
    assert len(parse_plan(target.read_bytes(), target.name).actions) == 22
    assert await run_export_plan(db_url, "9", "xlsx", tmp_path / "none.xlsx", out=out, err=err) == 1
    assert "partnerbot plans" in err.getvalue() and not (tmp_path / "none.xlsx").exists()
    assert await run_export_plan(db_url, "1", None, tmp_path / "plan.pdf", out=out, err=err) == 2


def test_parser_wiring() -> None:
    import argparse

    from plans.cli import add_commands, add_export_plan, add_import_plan

    parser = argparse.ArgumentParser(prog="partnerbot")
    sub = parser.add_subparsers(dest="command")
    add_commands(sub)
    add_import_plan(sub.add_parser("import").add_subparsers(dest="what"))
    add_export_plan(sub.add_parser("export").add_subparsers(dest="what"))
    args = parser.parse_args(["import", "plan", "x.md", "--dry-run"])
    assert args.dry_run and args.file == Path("x.md")
    args = parser.parse_args(["export", "plan", "1", "--format", "png", "-o", "g.png"])
    assert args.plan == "1" and args.format == "png" and args.output == Path("g.png")
    assert parser.parse_args(["plans"]).all is False
    with pytest.raises(SystemExit):
        parser.parse_args(["export", "plan", "1", "--format", "pdf", "-o", "g.pdf"])
