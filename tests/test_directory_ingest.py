"""The directory importer reads files through the shared ingest layer: hostile files are refused with the
limit they break, in bounded memory, and nothing is imported."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest

from core.ingest import DEFAULT_LIMITS
from directory.importer import DirectoryImportError, parse_directory_file


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b" " * (1 << 20)
            for _ in range(DEFAULT_LIMITS.max_uncompressed // len(chunk) + 2):
                member.write(chunk)
    return out.getvalue()


@pytest.mark.parametrize(
    "name,data,says",
    [
        ("wide.csv", b"Name,Email" + b"," * 200_000 + b"\nA B,a@b.org\n", "200,002 columns"),
        ("bomb.xlsx", None, "unpacks to"),
    ],
)
def test_hostile_directory_files_are_refused_with_their_limit(name: str, data: bytes | None, says: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(DirectoryImportError, match=says):
            parse_directory_file(data if data is not None else _bomb(), name)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 1024 * 1024


def test_directory_files_in_other_encodings_still_read() -> None:
    text = "First name,Surname,Email,School\nZoë,Brontë,zoe@example.org,St Mary’s\n"
    for encoding in ("utf-8", "utf-8-sig", "cp1252", "utf-16"):
        parsed = parse_directory_file(text.encode(encoding), "people.csv")
        assert [(p.first_name, p.last_name) for p in parsed.people] == [("Zoë", "Brontë")], encoding
        assert [s.name for s in parsed.schools] == ["St Mary’s"], encoding
