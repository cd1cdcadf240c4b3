"""Reading one plan from each file format, beside reading it from .xlsx in the same run.

    python -m benchmarks.formats [--actions N] [--repeat K]

The plan is the tests' generated plan (tests/plan_corpus), written as .xlsx, .xls, .ods, HTML and PDF; each
is read through `core.ingest.read_document` + the plan reader (`plans.importer.parse_plan`) in this process.
Printed as a Markdown table: the median time, its ratio to .xlsx, and the file's size. Not part of `make
bench` (it needs the test dependencies that write .xls, .ods and PDF).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from plans.importer import parse_plan
    from tests.plan_corpus.formats import write_as
    from tests.plan_corpus.generator import Spec, write

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=120, help="actions in the plan (default 120)")
    parser.add_argument("--repeat", type=int, default=5, help="reads of each file (default 5)")
    args = parser.parse_args(argv)
    per = 20
    spec = Spec("bench", "xlsx", n_sections=max(1, args.actions // per), per_section=per, ratings="fill", year=2024)
    files = {"xlsx": write(spec)}
    for fmt, variant in (("xls", ""), ("ods", ""), ("html", "style"), ("pdf", "")):
        files[fmt] = write_as(spec, fmt, variant)
    print("| format | bytes | median read | × xlsx | peak traced memory | actions | ratings |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    base = None
    for fmt, (data, name) in files.items():
        times = []
        plan = None
        for _k in range(args.repeat):
            start = time.perf_counter()
            plan = parse_plan(data, name)
            times.append(time.perf_counter() - start)
        tracemalloc.start()
        parse_plan(data, name)
        _now, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        median = statistics.median(times)
        base = base or median
        assert plan is not None
        print(
            f"| {fmt} | {len(data):,} | {median * 1000:,.0f} ms | {median / base:.1f} | {peak / 1e6:,.1f} MB "
            f"| {plan.counts.actions} | {plan.counts.ratings} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
