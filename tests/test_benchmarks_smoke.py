"""Every benchmark runs end to end at a tiny size and reports real figures (no timing assertions: speed is
measured by `make bench`, not by tests). PostgreSQL baselines run when TEST_POSTGRES_URL is set."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from benchmarks.__main__ import NAMES, main, render, run_all
from benchmarks.common import Sizes
from benchmarks.data import (
    bench_directory,
    gias_header,
    make_queries,
    school_names,
    typo,
    write_gias_extract,
)
from core.normalise import fold, normalise_school

PG_URL = os.environ.get("TEST_POSTGRES_URL") or None
SIZES = Sizes.tiny()


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bench-cache"
    monkeypatch.setenv("BENCH_CACHE_DIR", str(folder))
    return folder


def test_school_names_are_distinct_after_normalising() -> None:
    names = school_names(2000, seed=3)
    assert len(names) == 2000
    assert len({normalise_school(n) for n in names}) == 2000
    assert any(n.startswith(("St ", "Saint ")) or " St " in n for n in names)


def test_typos_change_one_letter_and_keep_the_first() -> None:
    import random

    rng = random.Random(1)
    for kind, length_change in (("transposition", 0), ("deletion", -1), ("substitution", 0), ("doubled", 1)):
        slipped = typo("Whitfield", kind, rng)
        assert slipped != "Whitfield"
        assert slipped[0] == "W"
        assert len(slipped) == len("Whitfield") + length_change


def test_queries_have_their_answers_in_the_directory() -> None:
    directory = bench_directory(SIZES.people, SIZES.schools, seed=0)
    queries = make_queries(directory, 60, seed=0)
    assert {q.kind for q in queries} == {"surname", "fullname", "school"}
    surnames = {fold(p.last_name) for p in directory.people}
    schools = {normalise_school(s.name) for s in directory.schools}
    for q in queries:
        assert q.answer in (
            schools
            if q.kind == "school"
            else surnames | {fold(f"{p.first_name} {p.last_name}") for p in directory.people}
        )
        if q.typo != "saint":
            assert fold(q.text) != q.answer


def test_gias_extract_has_the_registers_133_columns(tmp_path: Path) -> None:
    path = write_gias_extract(tmp_path / "extract.csv", 30, seed=0)
    with path.open(encoding="latin-1", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == gias_header() and len(rows[0]) == 133
    assert len(rows) == 31 and all(len(r) == 133 for r in rows)
    urn = rows[0].index("URN")
    name = rows[0].index("EstablishmentName")
    assert all(r[urn].isdigit() and r[name] for r in rows[1:])


@pytest.mark.parametrize("name", NAMES)
async def test_benchmark_runs_and_reports(name: str) -> None:
    sections, facts = await run_all(SIZES, (name,), pg_url=PG_URL, strict=True, log=lambda _line: None)
    assert len(sections) == 1
    section = sections[0]
    assert section.rows, f"{name} reported no figures"
    assert not [r for r in section.rows if r.value == "not measured"], section.rows
    text = render(sections, facts, SIZES, 1.0, "test")
    assert section.title in text and "| measure |" in text
    figures = section.figures
    if name == "lookup":
        for key in ("top1_surname", "top1_school", "top1_fullname"):
            assert 0.0 <= figures[key] <= 1.0
        assert figures["median"] > 0 and figures["p99"] >= figures["median"]
    elif name == "updates":
        assert figures["echo_rate"] > 0
        assert figures["sqlite_lookup_rate"] > 0 and figures["sqlite_save_rate"] > 0
        assert not [n for n in section.notes if "got no reply" in n], section.notes
    elif name == "import":
        assert figures["sqlite_peak_rss"] > 0
        assert not [r for r in section.rows if r.what.endswith("added") and r.verdict], section.rows
    elif name == "startup":
        assert figures["sqlite_idle_rss"] > 0
        assert not [r for r in section.rows if "not loaded" in r.verdict], section.rows
    elif name == "matching":
        assert figures["assign_total"] >= figures["greedy_total"] - 1e-6


def test_command_line_writes_the_results_file(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    assert (
        main(["--only", "matching", "--heads", "5", "--candidates", "100", "--out", str(out), "--pg-url", "none"]) == 0
    )
    text = out.read_text(encoding="utf-8")
    assert "# Benchmark results" in text and "5. Batch matching" in text and "| cores |" in text
