"""Reading plans the way a person reads them (issue 10): the example plans, the two shapes the issue
describes, a generated corpus of layouts and encodings, hostile files, and corrections that re-parse.

Pure: bytes in, `ParsedPlan` out; no Telegram, no database.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest

from core.ingest import DEFAULT_LIMITS, read_document
from plans.importer import PlanImportError, PlanOverrides, PlanTooLarge, parse_plan
from plans.parsed import ParsedPlan
from tests.plan_corpus.generator import CORPUS, Spec, write
from tests.plan_corpus.shapes import council_scrutiny_plan, pdf_priority_plan
from tests.shared import EXAMPLE_PLANS


def _example(name: str) -> ParsedPlan:
    return parse_plan((EXAMPLE_PLANS / name).read_bytes(), name)


def _ratings(plan: ParsedPlan, ref: str) -> list[tuple[int, str, int | None, str | None]]:
    action = next(a for a in plan.actions if a.ref == ref)
    return [(u.academic_year, u.term, u.half_term, u.rag) for u in action.history]


# ---------------------------------------------------------------------------------------------------------
# The example plans
# ---------------------------------------------------------------------------------------------------------


def test_trust_plan_key_above_header_half_terms_in_words_and_fills_sections_as_merged_rows() -> None:
    plan = _example("trust-school-improvement-plan-2023-24.xlsx")
    assert plan.title == "Harbour Lane Primary (Coastline Academy Trust) - School Improvement Plan 2023-24"
    assert plan.year == "2023-24"
    assert [a.ref for a in plan.actions] == ["1a", "1b", "1c", "2a", "2b", "3a", "3b", "3c"]
    assert not plan.refs_generated
    assert [(s.title, len(s.actions)) for s in plan.sections] == [
        ("1. Quality of education", 3),
        ("2. Behaviour and attitudes", 2),
        ("3. Leadership and management", 3),
    ]
    # The header is row 4, below the title and the key; the key (Achieved in blue) gives the plan Blue.
    assert plan.tables[0].header_lines == [4]
    assert plan.rag_set == "B,R,A,G"
    by_field = {m.header: m.field for m in plan.mapping}
    assert by_field["No."] == "ref" and by_field["Key action"] == "action" and by_field["Lead"] == "owner"
    assert by_field["Evaluation / next steps"] == "comment"
    assert [(m.header, m.term, m.half_term) for m in plan.mapping if m.field == "rag"][:3] == [
        ("Aut 1", (2023, "autumn"), 1),
        ("Aut 2", (2023, "autumn"), 2),
        ("Spr 1", (2023, "spring"), 1),
    ]
    assert _ratings(plan, "2b") == [
        (2023, "autumn", 1, "G"),
        (2023, "autumn", 2, "B"),
        (2023, "spring", 1, "B"),
        (2023, "spring", 2, "B"),
    ]
    assert _ratings(plan, "2a")[0] == (2023, "autumn", 1, "R")  # "Off track"
    assert _ratings(plan, "1b")[0] == (2023, "autumn", 1, "A")  # "Some concerns"
    assert _ratings(plan, "3c")[0] == (2023, "autumn", 2, "G")  # nothing in Aut 1: no rating there
    owners = {a.ref: a.owners for a in plan.actions}
    assert owners["1a"] == ["J. Osei (English lead)"] and owners["2b"] == ["D. Harris (DHT)"]
    assert plan.actions[0].history[-1].comment == "Books audited; two new staff trained in spring"
    # The second sheet is listed as not read, row by row; the key above the header is listed as the key.
    assert [(n.where, n.line) for n in plan.not_read] == [
        ("sheet 'Budget' row 1", 1),
        ("sheet 'Budget' row 2", 2),
        ("sheet 'Budget' row 3", 3),
        ("sheet 'SIP 23-24' row 2", 2),
    ]
    assert plan.not_read[-1].reason == "the plan's rating key"
    assert plan.counts.actions == 8 and plan.counts.sections == 3 and plan.counts.ratings == 31


def test_la_monitoring_plan_objective_on_first_row_statuses_in_words_no_references() -> None:
    plan = _example("la-monitoring-2019-20.csv")
    assert plan.year == "2019-20"
    assert [(s.title, len(s.actions)) for s in plan.sections] == [
        ("Raise attainment of disadvantaged pupils", 3),
        ("Improve transition from primary to secondary", 2),
        ("Recruit and retain headteachers", 2),
    ]
    # No references in the plan: numbered by section, and the result says so.
    assert [a.ref for a in plan.actions] == ["1.1", "1.2", "1.3", "2.1", "2.2", "3.1", "3.2"]
    assert plan.refs_generated and plan.counts.generated_refs == 7 and plan.tables[0].refs_generated
    assert all(a.aim == s.title for s in plan.sections for a in s.actions)
    # "Status" names no term: the plan's own year and its comments ("Spring data late") give Spring 2020.
    assumption = plan.tables[0].term_assumption
    assert assumption is not None and assumption.term == (2019, "spring") and assumption.source == "comments"
    assert [a.history[0].rag for a in plan.actions] == ["G", "G", "A", "G", "R", "G", "A"]  # Slipping, Not started
    assert plan.actions[2].history[0].comment == "Spring data late from 4 schools;\nchased by email"
    assert plan.actions[0].owners == ["Senior adviser (primary)"]
    assert plan.counts.blank == 2 and plan.not_read == []


def test_cluster_plan_docx_shading_vertical_merge_and_glossary_not_read() -> None:
    plan = _example("cluster-plan-2022-23.docx")
    assert plan.title == "Westmoor Cluster of Schools - Cluster Plan 2022-23"
    assert plan.partnership == "Westmoor Cluster of Schools"
    assert [s.title for s in plan.sections] == ["Priority A: Attendance", "Priority B: SEND"]
    assert [a.ref for a in plan.actions] == ["A1", "A2", "A3", "B1", "B2"]
    # The owner merged down over B2 is B2's owner too, bracket and all.
    assert [a.owners for a in plan.actions[3:]] == [["Ruth Ellison (SENDCo, St Aidan's)"]] * 2
    # "RAG" names no term; the comment column beside it is "Update (Spring)", in the plan's 2022-23.
    assert plan.tables[0].term_assumption is not None and plan.tables[0].term_assumption.term == (2022, "spring")
    assert [_ratings(plan, r) for r in ("A1", "A3")] == [[(2022, "spring", None, "A")], [(2022, "spring", None, "R")]]
    assert plan.actions[2].history[0].comment == "Not started: waiting for LA guidance"
    assert [n.line for n in plan.not_read] == [1, 2, 3] and "Glossary" in plan.not_read[0].reason


def test_the_two_original_examples_still_read_whole() -> None:
    md = _example("teaching-school-action-plan-2014-15.md")
    assert md.title == "Teaching School 2014/15 - Action Plan" and md.year == "2014-15"
    assert len(md.actions) == 22 and len(md.sections) == 7
    assert md.sections[5].title == "6. Business Management and Governance" and not md.sections[5].actions
    assert md.actions[0].ref == "1.1" and md.refs_generated
    tsv = _example("emtsa-action-plan-2016-17.txt")
    assert [len(s.actions) for s in tsv.sections] == [10, 9, 5, 3, 3]
    assert tsv.partnership == "East Midlands Teaching Schools Alliance"
    # The glossary rows above the plan's first header are listed with their lines, not lost.
    assert [n.line for n in tsv.not_read] == list(range(32, 42))


# ---------------------------------------------------------------------------------------------------------
# The shapes the issue describes
# ---------------------------------------------------------------------------------------------------------


def test_council_scrutiny_plan_every_recommendation_under_its_own_reference() -> None:
    data, expected = council_scrutiny_plan()
    plan = parse_plan(data, "scrutiny-response.txt")
    assert [a.ref for a in plan.actions] == expected.refs == [f"{c})" for c in "abcdefghijklm"]
    assert not plan.refs_generated
    for action in plan.actions:
        assert action.text == expected.texts[action.ref]
        assert action.owners == expected.owners[action.ref]
        assert action.aim == expected.aims[action.ref]
    assert plan.actions[0].owners == ["AD Learning & Skills"]
    # The unheaded first column was read as the references, from its contents, and is shown as a guess.
    ref_col = plan.mapping[0]
    assert (ref_col.field, ref_col.how, ref_col.guessed) == ("ref", "content", True)
    assert {m.header: m.field for m in plan.mapping}["Recommendation"] == "section"
    assert plan.counts.actions == 13 and plan.counts.continuations == 4 and plan.counts.blank >= 13
    assert plan.not_read == []


def test_pdf_copied_plan_columns_rebuilt_from_positions() -> None:
    data, expected = pdf_priority_plan()
    plan = parse_plan(data, "priority-plan.txt")
    assert plan.format == "pdf-text" and plan.year == "2016-17"
    assert [a.ref for a in plan.actions] == expected.refs  # no junk "---" action
    for action in plan.actions:
        assert action.text == expected.texts[action.ref]
        assert action.owners == expected.owners[action.ref]
        assert [(u.academic_year, u.term, u.rag) for u in action.history if u.rag] == expected.ratings[action.ref]
    # The two-row heading is joined; ratings are filed under the plan's terms, not today's.
    assert [m.header for m in plan.mapping if m.field == "rag"] == [
        "RAG rated / Aut 16",
        "RAG rated / Spr 17",
        "RAG rated / Sum 17",
    ]
    assert plan.actions[0].history[-1].comment == "Offer launched; take-up slow in the summer"
    assert [n.text for n in plan.not_read] == ["---", "Page 2 of 2"]


# ---------------------------------------------------------------------------------------------------------
# The generated corpus
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", CORPUS, ids=[s.name for s in CORPUS])
def test_generated_plan_reads_faithfully(spec: Spec) -> None:
    data, name = write(spec)
    expected = spec.expected()
    plan = parse_plan(data, name)
    assert [a.ref for a in plan.actions] == expected["refs"]
    assert [s.title for s in plan.sections if s.actions] == expected["sections"]
    assert plan.refs_generated == expected["generated"]
    for action in plan.actions:
        assert action.owners == expected["owners"][action.ref], action.ref
        assert action.text == expected["texts"][action.ref], action.ref
        got = sorted((u.academic_year, u.term, u.half_term, u.rag) for u in action.history if u.rag)
        assert got == expected["ratings"][action.ref], action.ref
    continued = sum(1 for _t, actions in spec.plan for a in actions if a.continued)
    assert plan.counts.continuations == continued
    if spec.terms == "unnamed":
        assumption = plan.tables[0].term_assumption
        assert assumption is not None and assumption.term == (spec.year, "summer") and assumption.source == "title"
    if spec.fmt == "xlsx":
        budget = [n.where.split(" row")[0] for n in plan.not_read if n.reason != "the plan's rating key"]
        assert budget == ["sheet 'Budget'"] * 2
        assert len(plan.not_read) - len(budget) == (1 if spec.legend else 0)  # the key row, listed as the key


def test_the_corpus_varies_what_it_should() -> None:
    assert len(CORPUS) >= 15
    assert {s.fmt for s in CORPUS} == {"csv", "tsv", "md", "xlsx", "docx"}
    assert {s.encoding for s in CORPUS} >= {"utf-8", "utf-8-sig", "cp1252", "utf-16"}
    assert {s.ratings for s in CORPUS} == {"letters", "words", "emoji", "fill", "mixed"}
    assert {s.terms for s in CORPUS} == {"termly", "half", "unnamed"}
    assert {s.refs for s in CORPUS} == {"numeric", "letter", "alnum", "none"}
    assert max(len(write(s)[0]) for s in CORPUS) > 30_000


# ---------------------------------------------------------------------------------------------------------
# Corrections: a changed mapping is what the parse returns
# ---------------------------------------------------------------------------------------------------------


def test_overrides_change_a_column_the_header_row_and_the_term() -> None:
    data = _example_bytes("la-monitoring-2019-20.csv")
    plain = parse_plan(data, "la.csv")
    fixed = parse_plan(
        data,
        "la.csv",
        PlanOverrides.from_options(["Commentary=ignore", "Responsible officer=owners"], term="Summer 2020"),
    )
    assert {m.header: m.field for m in fixed.mapping}["Commentary"] == "ignore"
    assert all(u.comment == "" for a in fixed.actions for u in a.history)
    assert any(u.comment for a in plain.actions for u in a.history)
    assert {(u.academic_year, u.term) for a in fixed.actions for u in a.history} == {(2019, "summer")}
    assert fixed.tables[0].term_assumption is not None and fixed.tables[0].term_assumption.source == "override"
    # Kept in JSON between button presses, and the same again.
    again = PlanOverrides.from_dict(fixed.overrides.to_dict() if fixed.overrides else None)
    assert again == fixed.overrides
    # A column by number; a field to another column moves the old one to extra detail.
    moved = parse_plan(data, "la.csv", PlanOverrides(columns={5: "action"}))
    assert moved.actions[0].text == "12 of 12 reviews done; reports to heads"
    assert {m.header: m.field for m in moved.mapping}["Key actions"] == "extra"


def test_header_row_override_and_bad_options() -> None:
    text = "Ref,Action,Lead\nNote,See below,\nRef,Action,Owner\n1,Do it,A Person\n"
    plan = parse_plan(text.encode(), "two-headers.csv")
    assert plan.tables[0].header_lines == [1]
    chosen = parse_plan(text.encode(), "two-headers.csv", PlanOverrides(header_row=3))
    assert chosen.tables[0].header_lines == [3] and [a.text for a in chosen.actions] == ["Do it"]
    with pytest.raises(ValueError, match="Header=field"):
        PlanOverrides.from_options(["owners"])
    with pytest.raises(ValueError, match="not a field"):
        PlanOverrides.from_options(["Lead=boss"])
    with pytest.raises(ValueError, match="not a term"):
        PlanOverrides.from_options([], term="Whenever")


def _example_bytes(name: str) -> bytes:
    return (EXAMPLE_PLANS / name).read_bytes()


# ---------------------------------------------------------------------------------------------------------
# Hostile files: refused clearly, before anything is expanded, in bounded memory
# ---------------------------------------------------------------------------------------------------------


def _xlsx_with_sheet_xml(edit) -> bytes:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Ref", "Action", "Owner"])
    book.active.append(["1", "Do it", "A Person"])
    buf = io.BytesIO()
    book.save(buf)
    source = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = edit(body)
            target.writestr(info.filename, body)
    return out.getvalue()


def _far_cell(body: bytes) -> bytes:
    body = body.replace(b'<dimension ref="A1:C2"/>', b'<dimension ref="A1:XFD1048576"/>')
    return body.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    )


def _huge_span(body: bytes) -> bytes:
    return body.replace(b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="A3:XFD3"/></mergeCells>')


def _many_merges(body: bytes) -> bytes:
    merges = b"".join(b'<mergeCell ref="A%d:B%d"/>' % (r, r) for r in range(10, 10 + 25_000))
    return body.replace(b"</sheetData>", b'</sheetData><mergeCells count="25000">' + merges + b"</mergeCells>")


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b" " * (1 << 20)
            for _ in range(DEFAULT_LIMITS.max_uncompressed // len(chunk) + 2):
                member.write(chunk)
    return out.getvalue()


def _docx_with_body(cells: bytes) -> bytes:
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    source = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "word/document.xml":
                body = body.replace(b"<w:body>", b"<w:body>" + cells)
            target.writestr(info.filename, body)
    return out.getvalue()


def _docx_span(n: int) -> bytes:
    row = (
        b'<w:tr><w:tc><w:p><w:r><w:t>Action</w:t></w:r></w:p></w:tc><w:tc><w:tcPr><w:gridSpan w:val="%d"/>'
        b"</w:tcPr><w:p><w:r><w:t>Owner</w:t></w:r></w:p></w:tc></w:tr>" % n
    )
    return _docx_with_body(b"<w:tbl>" + row + b"</w:tbl>")


def _docx_nested(depth: int) -> bytes:
    inner = b"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Action</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
    for _ in range(depth):
        inner = b"<w:tbl><w:tr><w:tc><w:p/>" + inner + b"</w:tc></w:tr></w:tbl>"
    return _docx_with_body(inner)


HOSTILE = {
    "far-cell.xlsx": (lambda: _xlsx_with_sheet_xml(_far_cell), "1,048,576 rows"),
    "huge-span.xlsx": (lambda: _xlsx_with_sheet_xml(_huge_span), "spans 16,384"),
    "many-merges.xlsx": (lambda: _xlsx_with_sheet_xml(_many_merges), "25,000 merged ranges"),
    "zip-bomb.xlsx": (_zip_bomb, "unpacks to"),
    "wide-header.csv": (lambda: ("Action" + "," * 200_000 + "\n1,2\n").encode(), "200,001 columns"),
    "wide-tabs.txt": (lambda: ("Action\tOwner" + "\t" * 200_000 + "\n").encode(), "columns"),
    "span-5m.docx": (lambda: _docx_span(5_000_000), "5,000,000"),
    "nested.docx": (lambda: _docx_nested(8), "nested"),
    "long-line.md": (lambda: b"| Action | Owner |\n|---|---|\n| " + b"x" * 300_000 + b" | y |\n", "characters long"),
    "many-rows.csv": (lambda: b"Action,Owner\n" + b"a,b\n" * 60_000, "60,001 rows"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_are_refused_clearly_in_bounded_memory(name: str) -> None:
    make, says = HOSTILE[name]
    data = make()
    tracemalloc.start()
    try:
        with pytest.raises(PlanTooLarge, match=says) as refused:
            parse_plan(data, name)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 1024 * 1024  # never the gigabytes the claimed size would take
    assert "I read" in str(refused.value)  # the refusal says the limit


@pytest.mark.parametrize(
    "data,name,says",
    [
        (b"\x00\x01\x02\x03" * 500, "plan.txt", "binary"),
        (b"PK\x03\x04" + b"\x00" * 100, "plan.docx", "Word document"),
        (b"%PDF-1.7 ...", "plan.pdf", "PDF"),
        (b"just some words\nand more words\n", "plan.txt", "no table"),
    ],
)
def test_unreadable_files_get_a_reason(data: bytes, name: str, says: str) -> None:
    with pytest.raises(PlanImportError, match=says):
        parse_plan(data, name)


def test_ingest_keeps_colour_span_and_line_of_every_cell() -> None:
    doc = read_document(_example_bytes("trust-school-improvement-plan-2023-24.xlsx"), "t.xlsx")
    sheet = doc.tables[0]
    title = sheet.rows[0].cells[0]
    assert title.col_span == 13 and sheet.rows[0].cells[1].covered_by == (0, 0)
    assert sheet.rows[5].line == 6 and sheet.rows[5].cells[6].fill == "00B050"
    word = read_document(_example_bytes("cluster-plan-2022-23.docx"), "c.docx")
    owner = word.tables[1].rows[1].cells[2]
    assert owner.row_span == 2 and word.tables[1].rows[2].cells[2].covered_by == (1, 2)
    assert word.tables[0].rows[1].cells[5].fill == "FFC000" and word.tables[0].title == "Priority A: Attendance"


def test_rag_kept_only_as_row_colour_and_a_merged_heading_over_term_columns() -> None:
    from openpyxl import Workbook
    from openpyxl.styles import PatternFill

    book = Workbook()
    sheet = book.active
    sheet.append(["Northfield Partnership action plan 2018-19"])
    sheet.append(["Ref", "Action", "Owner", "RAG rated progress", None, None])
    sheet.merge_cells("D2:F2")
    sheet.append([None, None, None, "Autumn", "Spring", "Summer"])
    sheet.append(["1", "Phonics", "Kerry Walsh", "G", "A", None])
    book.create_sheet("Colours only")
    colours = book["Colours only"]
    colours.append(["Ref", "Action", "Owner"])
    for n, rgb in enumerate(["FF0000", "00B050", "FFC000"], start=1):
        colours.append([f"2.{n}", f"Step {n}", "Tom Adeyemi"])
        colours.cell(n + 1, 1).fill = PatternFill(fill_type="solid", start_color="FF" + rgb, end_color="FF" + rgb)
    buf = io.BytesIO()
    book.save(buf)
    plan = parse_plan(buf.getvalue(), "northfield.xlsx")
    first, second = plan.tables
    assert first.header_lines == [2, 3]
    assert [(m.header, m.term) for m in first.columns if m.field == "rag"] == [
        ("RAG rated progress / Autumn", (2018, "autumn")),
        ("RAG rated progress / Spring", (2018, "spring")),
        ("RAG rated progress / Summer", (2018, "summer")),
    ]
    assert _ratings(plan, "1") == [(2018, "autumn", None, "G"), (2018, "spring", None, "A")]
    colour = next(m for m in second.columns if m.field == "rag")
    assert (colour.how, colour.guessed, colour.column) == ("colour", True, 0)
    assert [a.history[0].rag for a in plan.actions[1:]] == ["R", "G", "A"]
    assert all(a.history[0].from_colour for a in plan.actions[1:])
    assert second.term_assumption is not None and second.term_assumption.term == (2018, "summer")
    assert plan.counts.ratings_from_colour == 3
