"""Actions read faithfully (text, and every term's rating and comment) on the generated corpus of
issue 21 (`tests/plan_corpus/rated.py`) and on the layouts of issue 10 (`tests/plan_corpus/generator.py`).

    python -m benchmarks.plan_faithful [-v]

Prints one line per generated plan and the totals; `-v` lists why each unfaithful action is.
"""

from __future__ import annotations

import sys


def measure(verbose: bool = False) -> tuple[int, int]:
    from plans.importer import PlanImportError, parse_plan
    from tests.plan_corpus.rated import RATED_CORPUS, faithful_actions, write_rated

    total_ok = total = 0
    for spec in RATED_CORPUS:
        data, name = write_rated(spec)
        try:
            plan: object = parse_plan(data, name)
        except PlanImportError as exc:
            plan, error = None, str(exc)
        else:
            error = ""
        ok, n, why = faithful_actions(spec, plan)
        total_ok += ok
        total += n
        print(f"{spec.name:36} {ok:3}/{n:<3} {error[:60]}")
        if verbose:
            for line in why[:4]:
                print("      ", line)
    print(f"faithful actions: {total_ok}/{total} ({100 * total_ok / max(total, 1):.0f}%)")
    return total_ok, total


if __name__ == "__main__":
    measure("-v" in sys.argv)
