"""Which row of a directory file is its header, and what kind of file it is (a register extract, its
list of schools, or our own columns), matched by meaning through `core.headers`."""

from __future__ import annotations

from typing import Any

from core.headers import HeaderMap, match_headers, normalise_header
from directory.cells import cell_text
from directory.fields import DIRECTORY_FIELDS, NAME_FIELDS

# The register's list of schools (its own column names).
SCHOOLS_LIST_FIELDS: dict[str, tuple[str, ...]] = {
    **DIRECTORY_FIELDS,
    "school": ("name",),
    "full_name": ("headteacher",),
    "urn": ("school-eng",),
    "school_type": ("school-type",),
    "low_age": ("minimum-age",),
    "high_age": ("maximum-age",),
    "close_date": ("end-date",),
}


def _recognise(row: list[Any]) -> tuple[HeaderMap, str] | None:
    """The header map and kind ('gias', 'schools-list' or '') of a header row; None for any other row."""
    texts = [cell_text(c) if not isinstance(c, str) else c.strip() for c in row]
    if sum(1 for t in texts if t) < 2:
        return None
    normal = {normalise_header(t) for t in texts}
    if {"school eng", "headteacher"} <= normal:
        return match_headers(texts, SCHOOLS_LIST_FIELDS), "schools-list"
    header_map = match_headers(texts, DIRECTORY_FIELDS)
    if len(header_map.columns) < 2 or not any(f in header_map for f in NAME_FIELDS):
        return None
    if (
        "status" in header_map
        and "urn" in header_map
        and "school" in header_map
        and normalise_header(header_map.header_for("school")) == "establishment name"
    ):
        return header_map, "gias"
    return header_map, ""
