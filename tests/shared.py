"""Where the tests' data files are: all inside the repository, so a clone with nothing beside it passes.

`data/gias/` (shipped for the demo) already holds the register's school list and head name counts; the
tests reuse it. What only the tests need lives in `tests/data/` (see tests/data/README.md for provenance).
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"
# schools-england-2017.tsv, head-first-name-counts.tsv, head-last-name-counts.tsv
GIAS = REPO / "data" / "gias"
# Four real rows in the register's full 133-column extract format.
GIAS_EXTRACT = TEST_DATA / "gias" / "gias-edubase-sample.csv"
# The five example action plans (two real, three fictional), exactly as received.
EXAMPLE_PLANS = TEST_DATA / "action-plans"
