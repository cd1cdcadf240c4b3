"""Plans as people write their ratings (issue 21): every rating and comment in its term, whatever the
scale, the key, the layout; rows and sheets that are not actions; the partnership's own PDF-copied plan;
the preview's warnings and the coordinator's corrections (chat and command line). Pure parts first, then
the chat and the command line on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from core.ingest.model import Cell
from plans.cli import run_import_plan
from plans.fields import match_plan_headers
from plans.importer import PlanImportError, PlanOverrides, parse_plan
from plans.rag import numbered_terms
from plans.ratingkey import RatingKey, key_entries, parse_key_option
from plans.reader import leading_rating
from storage.plans import ProgressUpdate
from tests.harness import ChatDriver, Users
from tests.plan_corpus.rated import RATED_CORPUS, SCALES, Rated, faithful_actions, write_rated
from tests.shared import EXAMPLE_PLANS
from tests.test_plan_upload_control import buttons, check_messages, texts

MAP = EXAMPLE_PLANS / "map-priority-plan-2016-17-from-pdf.txt"


# ---------------------------------------------------------------------------------------------------------
# The generated corpus: ratings and comments per term per action
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", RATED_CORPUS, ids=[s.name for s in RATED_CORPUS])
def test_rated_plan_reads_every_rating_and_comment_in_its_term(spec: Rated) -> None:
    data, name = write_rated(spec)
    plan = parse_plan(data, name)
    ok, total, why = faithful_actions(spec, plan)
    assert ok == total, why[:5]
    assert plan.rag_set == ("B,R,A,G" if spec.has_blue() else "R,A,G")
    assert not plan.alerts, plan.alerts  # nothing lost, so nothing to warn about


def test_the_rated_corpus_is_faithful_well_above_the_bar() -> None:
    ok = total = 0
    for spec in RATED_CORPUS:
        data, name = write_rated(spec)
        got, n, _why = faithful_actions(spec, parse_plan(data, name))
        ok, total = ok + got, total + n
    assert total >= 250 and ok / total >= 0.9, (ok, total)


def test_the_rated_corpus_varies_every_dimension() -> None:
    def values(attr: str) -> set:
        return {getattr(s, attr) for s in RATED_CORPUS}

    assert values("scale") == set(SCALES)
    assert values("key_at") >= {"none", "above", "beside", "alongside", "sheet", "heading", "below"}
    assert values("cells") == {"separate", "combined", "trailing", "leading"}
    assert values("terms") >= {"named", "noyear", "six", "five", "half", "progress"}
    assert {e for s in RATED_CORPUS for e in s.extras} == {"totals", "signoff", "pale", "cover", "reftext", "paragraph"}
    assert values("fmt") >= {"csv", "tsv", "md", "xlsx", "docx", "xls", "ods", "html", "pdf"}
    assert len(values("year")) >= 8


def test_the_judge_fails_a_wrong_rating_a_lost_comment_and_a_non_action() -> None:
    spec = next(s for s in RATED_CORPUS if s.name == "num4-key-above-csv")
    data, name = write_rated(spec)
    plan = parse_plan(data, name)
    assert faithful_actions(spec, plan)[0] == 6
    first = plan.actions[0]
    first.history[0].rag = "R" if first.history[0].rag != "R" else "G"
    plan.actions[1].history[0].comment = ""
    plan.sections[0].actions.append(plan.actions[2].__class__(ref="Total", text="Total"))
    ok, total, why = faithful_actions(spec, plan)
    assert (ok, total) == (4, 7) and any("not an action" in w for w in why)


# ---------------------------------------------------------------------------------------------------------
# The key
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, expected",
    [
        ("Key: 1 Not started 2 Some progress 3 On track 4 Complete", {"1": "R", "2": "A", "3": "G", "4": "C"}),
        ("1 = on track, 2 = some concerns, 3 = significant concerns", {"1": "G", "2": "A", "3": "R"}),
        ("Legend: ✓ = On track; ~ = Some concerns; ✗ = Off track", {"✓": "G", "~": "A", "✗": "R"}),
        ("RAG key: Secure = Complete | Developing = On track | Emerging = Some concerns", None),
        ("Key: 🟢 On track, 🟡 Some concerns, 🔴 Off track", None),
        ("Not started = 1, In progress = 2, Achieved = 3", {"1": "R", "2": "A", "3": "C"}),
    ],
)
def test_a_key_is_read_from_a_line_however_it_is_written(line: str, expected: dict | None) -> None:
    entries = key_entries(line)
    assert len(entries) >= 3, entries
    if expected is not None:
        assert {s: c for s, _m, c in entries} == expected


@pytest.mark.parametrize(
    "line",
    [
        "Survey sent to 3 schools, 2 replied",
        "Version 1 – agreed at the board meeting of 12 September",
        "Why: leadership is the partnership's first priority",
        "1.1 Improve attendance across the schools",
        "",
    ],
)
def test_text_that_is_not_a_key_is_not_read_as_one(line: str) -> None:
    assert key_entries(line) == []


def test_a_rating_and_its_comment_in_one_cell_or_leading_an_update() -> None:
    key = RatingKey()
    for symbol, meaning, code in key_entries("Key: 1 Not started 2 Some progress 3 On track 4 Complete"):
        key.add(symbol, meaning, code)
    assert key.read("3 – recruitment on course") == ("G", "recruitment on course")
    assert key.read("2") == ("A", "")
    assert key.read("3 schools visited")[0] is None  # a number that starts a sentence is not a rating
    empty = RatingKey()
    assert leading_rating(Cell(), "🟢 Survey done", empty)[:2] == ("G", "Survey done")
    assert leading_rating(Cell(), "Amber – recruitment delayed", empty)[:2] == ("A", "recruitment delayed")
    assert leading_rating(Cell(), "Green light given by the board", empty)[0] is None
    assert leading_rating(Cell(), "Awaiting data", empty)[0] is None
    assert leading_rating(Cell(), "A-level results improved", empty)[0] is None
    assert leading_rating(Cell(), "G - all schools trained", empty)[:2] == ("G", "all schools trained")
    assert key.read("3-5 schools visited")[0] is None and key.read("3.5 days of training")[0] is None
    assert key.read("4. Complete and signed off") == ("C", "Complete and signed off")


def test_an_action_that_starts_like_a_sign_off_is_still_an_action() -> None:
    plan = "Plan 2025-26\n\nAction,Lead,Autumn 2025 RAG\nSign off the attendance policy,K Walsh,G\nSigned: ______,,\n"
    parsed = parse_plan(plan.encode(), "plan.csv")
    assert [a.text for a in parsed.actions] == ["Sign off the attendance policy"]
    assert any(n.reason == "a sign-off line" for n in parsed.not_read)


def test_the_coordinators_key_option() -> None:
    assert parse_key_option("1=R, 2=A; 3=G, 4=complete") == {"1": "R", "2": "A", "3": "G", "4": "C"}
    assert parse_key_option("✓=green, ~=amber") == {"✓": "G", "~": "A"}
    for bad in ("1", "1=purple", "=R", ""):
        with pytest.raises(ValueError):
            parse_key_option(bad)


# ---------------------------------------------------------------------------------------------------------
# Terms
# ---------------------------------------------------------------------------------------------------------


def test_six_and_five_term_years_map_to_the_three_english_terms() -> None:
    six = numbered_terms(["Ref", "Action", "T1", "T2", "T3", "T4", "T5", "T6"])
    assert [six[c][:2] for c in range(2, 8)] == [
        ("autumn", 1),
        ("autumn", 2),
        ("spring", 1),
        ("spring", 2),
        ("summer", 1),
        ("summer", 2),
    ]
    five = numbered_terms(["Action", "Term 1", "Term 2", "Term 3", "Term 4", "Term 5"])
    assert [five[c][:2] for c in range(1, 6)] == [
        ("autumn", 1),
        ("autumn", 2),
        ("spring", None),
        ("summer", 1),
        ("summer", 2),
    ]
    three = numbered_terms(["Action", "Term 1", "Term 2", "Term 3"])
    assert [three[c][:2] for c in (1, 2, 3)] == [("autumn", None), ("spring", None), ("summer", None)]
    assert numbered_terms(["Action", "T1", "Owner"]) == {}  # one alone is not a year of terms
    cols = match_plan_headers(["Action", "Lead", "T1", "T2", "T3", "T4", "T5", "T6"], default_year=2025)
    assert cols.rag_terms == {2: (2025, "autumn"), 3: (2025, "autumn"), 4: (2025, "spring")} | {
        5: (2025, "spring"),
        6: (2025, "summer"),
        7: (2025, "summer"),
    }


def test_a_term_without_a_year_takes_the_plans_span_and_the_preview_shows_it() -> None:
    plan = (
        "Partnership plan 2025–26\n\n"
        "Ref,Action,Lead,Autumn RAG,Autumn commentary\n1.1,Recruit heads,K Walsh,A,Delayed\n"
    )
    parsed = parse_plan(plan.encode(), "plan.csv")
    (update,) = parsed.actions[0].history
    assert (update.academic_year, update.term, update.rag, update.comment) == (2025, "autumn", "A", "Delayed")
    assert [(c.header, c.field, c.term) for c in parsed.mapping if c.term] == [
        ("Autumn RAG", "rag", (2025, "autumn")),
        ("Autumn commentary", "comment", (2025, "autumn")),
    ]


def test_an_explicit_progress_header_beats_months_in_the_comments() -> None:
    plan = (
        "Plan 2025-26\n\nRef,Action,RAG,Progress (Spring 2026)\n"
        "1.1,Networks,G,Two networks met since November\n1.2,Survey,A,Sent in October; replies due\n"
    )
    parsed = parse_plan(plan.encode(), "plan.csv")
    assert {(u.academic_year, u.term) for a in parsed.actions for u in a.history} == {(2025, "spring")}
    assert [m.field for m in parsed.mapping if m.header.startswith("Progress")] == ["comment"]


def test_a_historic_plans_terms_never_come_from_the_clock() -> None:
    plan = "Plan 2016-17\n\nRef,Action,RAG\n1.1,Networks,G\n"
    parsed = parse_plan(plan.encode(), "plan.csv")
    assert parsed.actions[0].history[0].academic_year == 2016
    assert parsed.term_assumptions[0].source != "today"


# ---------------------------------------------------------------------------------------------------------
# What is not an action
# ---------------------------------------------------------------------------------------------------------


def test_keys_totals_sign_off_cover_sheets_and_section_bands_are_listed_as_what_they_are() -> None:
    spec = next(s for s in RATED_CORPUS if s.name == "everything-xlsx")
    data, name = write_rated(spec)
    plan = parse_plan(data, name)
    assert [a.ref for a in plan.actions] == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3"]
    assert [s.title for s in plan.sections] == ["Leadership and management", "Quality of education"]
    reasons = {n.reason.split(": ")[-1] for n in plan.not_read}
    assert {"the plan's rating key", "a totals row", "a sign-off line", "a cover or notes sheet, no table"} <= reasons
    assert plan.rating_key_where == ["sheet 'Key'"]
    assert ("4", "Complete", "B") in plan.rating_key


def test_a_workbook_holding_only_a_key_is_refused_clearly() -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Key"
    for row in (["Rating", "Meaning"], ["1", "Not started"], ["2", "Some progress"], ["3", "On track"]):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(PlanImportError, match="only a rating key"):
        parse_plan(out.getvalue(), "key.xlsx")


def test_sections_come_from_priority_headings_not_the_nearest_paragraph() -> None:
    spec = next(s for s in RATED_CORPUS if s.name == "reftext-paragraph-docx")
    data, name = write_rated(spec)
    plan = parse_plan(data, name)
    titles = [s.title for s in plan.sections]
    assert not any(t.startswith(("Version", "Why")) for t in titles), titles
    assert [a.ref for a in plan.actions] == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3"]
    assert all(a.own_ref and not a.text[:1].isdigit() for a in plan.actions)


# ---------------------------------------------------------------------------------------------------------
# The partnership's own plan, copied out of its PDF
# ---------------------------------------------------------------------------------------------------------


def test_map_priority_plan_from_pdf_reads_as_its_five_actions() -> None:
    plan = parse_plan(MAP.read_bytes(), MAP.name)
    assert [a.ref for a in plan.actions] == ["1.1", "1.2", "1.3", "1.4", "1.5"]
    assert all(a.own_ref for a in plan.actions)
    by_ref = {a.ref: a for a in plan.actions}
    starts = {
        "1.1": "Action: Map leadership Delivery group to work in partnership with all Teaching Schools",
        "1.2": "Action: Undertake survey to identify from HTs",
        "1.3": "Action: Ensure an accurate and up to date directory of services",
        "1.4": "Action: Delivery group to identify key speakers",
        "1.5": "Action: Develop links and engage with educational/action research",
    }
    for ref, start in starts.items():
        assert " ".join(by_ref[ref].text.split()).startswith(start), (ref, by_ref[ref].text[:80])
    assert "Impact: Regular partnership meetings" in " ".join(by_ref["1.1"].text.split())
    assert "'one-stop shop'" in by_ref["1.2"].text
    owners = {ref: " ".join(a.owners_text.split()) for ref, a in by_ref.items()}
    assert owners["1.1"].startswith("Map Delivery Group in partnership with MSTA, MCSP, TVED reps")
    assert owners["1.2"].startswith("MAP delivery group")
    assert owners["1.4"] == "MAP (in consultation with Teaching Schools)"
    assert owners["1.5"].startswith("Delivery Group in partnership with other MAP groups")
    comments = {ref: " ".join(" ".join(u.comment for u in a.history).split()) for ref, a in by_ref.items()}
    assert comments["1.1"].startswith("Invites extended to the various teaching schools")
    assert "Effective meeting held" in comments["1.1"]
    assert comments["1.2"].startswith("Survey completed and sent to HTs - Autumn 2016")
    assert "Limited response to survey" in comments["1.2"]
    assert comments["1.3"].startswith("Alex (MSTA) contacted")
    assert comments["1.4"].startswith("Meeting in Oct suggested 'Inspiring Leadership'")
    assert {(u.academic_year) for a in plan.actions for u in a.history} == {2016}  # 2016-17, whatever the clock
    # The three-row term heading is the header, not rows of the plan; the ruled line is listed as such.
    assert plan.tables[0].header_lines == [40, 41, 42, 43]
    assert not any("nothing above it to continue" in n.reason for n in plan.not_read)
    assert any(n.reason == "a ruled line" for n in plan.not_read)
    assert plan.sections[0].title == "Strategic Priority To improve the effectiveness of leadership and management"


# ---------------------------------------------------------------------------------------------------------
# The preview's warnings and the coordinator's corrections
# ---------------------------------------------------------------------------------------------------------

NUMBERS = (
    "Cluster plan 2025-26\n\n"
    "Ref,Action,Lead,Score,Autumn 2025 RAG,Spring 2026 RAG,Summer 2026 RAG,Notes\n"
    "1.1,Recruit heads,K Walsh,3,3,2,,Survey done\n"
    "1.2,Phonics training,T Adeyemi,2,1,3,4,Training booked\n"
    "1.3,Governor training,M Rock,1,2,2,3,Booked\n"
)


def test_the_preview_warns_when_ratings_are_lost_and_the_key_fixes_it() -> None:
    plan = parse_plan(NUMBERS.encode(), "cluster.csv")
    assert plan.counts.ratings == 0
    assert any("3 rating columns" in a and "0 ratings" in a for a in plan.alerts), plan.alerts
    assert any("matched no rating" in a and "'3'" in a and "no key found" in a for a in plan.alerts), plan.alerts
    fixed = parse_plan(NUMBERS.encode(), "cluster.csv", PlanOverrides.from_options(key="1=R, 2=A, 3=G, 4=complete"))
    assert fixed.counts.ratings == 8 and not fixed.alerts
    assert fixed.rag_set == "B,R,A,G"
    ratings = {(a.ref, u.term): u.rag for a in fixed.actions for u in a.history}
    assert ratings[("1.2", "summer")] == "B" and ratings[("1.1", "spring")] == "A"
    # The "Score" column (no term) read as ratings for Autumn 2025, as the coordinator says.
    scored = parse_plan(
        NUMBERS.encode(),
        "cluster.csv",
        PlanOverrides.from_options(rating_columns=["Score=Autumn 2025"], key="1=R,2=A,3=G,4=B"),
    )
    score = next(c for c in scored.mapping if c.header == "Score")
    assert (score.field, score.term) == ("rag", (2025, "autumn"))


def test_comments_without_a_rating_column_are_kept_and_warned_about() -> None:
    plan = "Plan 2025-26\n\nRef,Action,Lead,Autumn 2025 comment\n1.1,Recruit,K Walsh,Survey done\n"
    parsed = parse_plan(plan.encode(), "plan.csv")
    assert parsed.actions[0].history[0].comment == "Survey done"
    assert any("no column holds ratings" in a for a in parsed.alerts)


@pytest.mark.parametrize(
    "options",
    [{"rating_columns": ["=Autumn 2025"]}, {"rating_columns": ["Score=Purple 9"]}, {"key": "1=purple"}],
)
def test_bad_rating_options_are_refused_with_a_reason(options: dict) -> None:
    with pytest.raises(ValueError):
        PlanOverrides.from_options(**options)


async def test_command_line_rating_column_and_key(db_url, sessionmaker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "cluster.csv"
    path.write_text(NUMBERS)
    out, err = io.StringIO(), io.StringIO()
    assert await run_import_plan(db_url, path, dry_run=True, out=out, err=err) == 0, err.getvalue()
    assert "Check before importing" in out.getvalue() and "0 ratings" in out.getvalue()
    out = io.StringIO()
    code = await run_import_plan(
        db_url,
        path,
        rating_columns=["Score=Autumn 2025"],
        key="1=R, 2=A, 3=G, 4=complete",
        columns=["Autumn 2025 RAG=ignore"],
        out=out,
        err=err,
    )
    assert code == 0, err.getvalue()
    assert "Score → RAG rating, Autumn 2025" in out.getvalue()
    async with sessionmaker() as session:
        saved = (await session.execute(select(ProgressUpdate.term, ProgressUpdate.rag))).all()
    assert ("autumn", "G") in saved and ("summer", "B") in saved and ("autumn", "R") in saved
    err = io.StringIO()
    assert await run_import_plan(db_url, path, key="1=purple", out=io.StringIO(), err=err) == 2
    assert "symbol=rating" in err.getvalue()


async def test_chat_rating_key_and_rating_column_buttons(chat: ChatDriver, users: Users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    sent = await chat.upload("cluster.csv", NUMBERS.encode(), user=users.coordinator, caption="plan")
    check_messages(sent)
    assert "Check before importing" in texts(sent) and "0 ratings" in texts(sent)
    # Rating key… offers each value that matched nothing, with a button per rating.
    values = await chat.press(buttons(sent)["Rating key…"], user=users.coordinator)
    check_messages(values)
    flat = [(label, d) for s in values for label, d in s.buttons]
    labels = [label for label, _d in flat]
    assert "3 →" in labels and labels[labels.index("3 →") + 1 : labels.index("3 →") + 5] == [
        "Red",
        "Amber",
        "Green",
        "Blue",
    ]
    green = flat[labels.index("3 →") + 3][1]  # the row of value '3': Red, Amber, Green, Blue
    assert ":kv:" in green and green.endswith(":G")
    sent = await chat.press(green, user=users.coordinator)
    check_messages(sent)
    assert "ratings" in texts(sent)
    # Rating column… → Score → Autumn 2025: the Score column is read as that term's ratings.
    columns = await chat.press(buttons(sent)["Rating column…"], user=users.coordinator)
    check_messages(columns)
    score = next(d for label, d in buttons(columns).items() if label.startswith("Score"))
    terms = await chat.press(score, user=users.coordinator)
    check_messages(terms)
    sent = await chat.press(buttons(terms)["Autumn 2025"], user=users.coordinator)
    check_messages(sent)
    assert "Score → RAG rating, Autumn 2025" in texts(sent)
    done = await chat.press(buttons(sent)["Import"], user=users.coordinator)
    assert "Imported plan 1" in texts(done)
    async with sessionmaker() as session:
        rated = [r for (r,) in (await session.execute(select(ProgressUpdate.rag))).all() if r]
    assert rated and "G" in rated


def test_a_plan_that_names_no_year_asks_for_the_term() -> None:
    parsed = parse_plan(b"Ref,Action,RAG\n1.1,Networks,G\n", "plan.csv")
    assert parsed.term_assumptions[0].source == "today"
    assert any("names no year" in a and "until you choose" in a for a in parsed.alerts), parsed.alerts


def test_a_mark_alone_in_a_cell_is_kept_for_its_colour() -> None:
    from core.ingest.text import clean_cell

    assert clean_cell("●") == "●"
    assert clean_cell("● first\n● second") == "first\nsecond"  # bullets before text are still list marks


def test_review_columns_named_by_month_and_half_terms_by_number() -> None:
    plan = (
        "Plan 2025-26\n\nRef,Action,Dec 2025 RAG,Dec 2025 update,March review,Marketing review,HT1,HT2\n"
        "1.1,Recruit,A,Advert out,G,Leaflets,R,Survey done (Green)\n"
    )
    parsed = parse_plan(plan.encode(), "plan.csv")
    got = {(u.term, u.half_term): (u.rag, u.comment) for u in parsed.actions[0].history}
    assert got[("autumn", None)] == ("A", "Advert out")
    assert got[("spring", None)] == ("G", "")
    assert got[("autumn", 1)] == ("R", "") and got[("autumn", 2)] == ("G", "Survey done")
    assert parsed.actions[0].extra["Marketing review"] == "Leaflets"  # a word that starts like a month is not one
