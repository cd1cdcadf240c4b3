"""Where ../shared is: beside the repository (as on developers' machines and in CI)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("PARTNERBOT_SHARED") or Path(__file__).resolve().parents[2] / "shared")
GIAS = SHARED / "data" / "gias"
EXAMPLE_PLANS = SHARED / "examples" / "action-plans"
