"""Files shipped in `data/` (the demo's schools, name frequencies and plan)."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def data_file(*parts: str) -> Path:
    """A shipped data file; $PARTNERBOT_DATA_DIR may hold replacements with the same layout."""
    override = os.environ.get("PARTNERBOT_DATA_DIR")
    if override and Path(override, *parts).exists():
        return Path(override, *parts)
    path = DATA_DIR.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"data file missing: {path}")
    return path
