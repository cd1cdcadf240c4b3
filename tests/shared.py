"""Where ../shared is: beside the repository (as on developers' machines and in CI)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("PARTNERBOT_SHARED") or Path(__file__).resolve().parents[2] / "shared")
GIAS = SHARED / "data" / "gias"
# The example plans are copied into the repository so a clone with nothing beside it runs the tests.
EXAMPLE_PLANS = Path(__file__).resolve().parent / "data" / "action-plans"
