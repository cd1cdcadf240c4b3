"""Reading a directory file the one way the chat and the command line both do: in the sandbox.

`read_directory(source, filename)` runs `directory.importer.parse_directory_file` in a child process with
a time and memory limit (core.sandbox), so a hostile spreadsheet costs its sender one clear line and the
bot goes on answering everyone else. Raises `DirectoryImportError` (refused, with the reason) or
`SandboxError` (over the limits); both carry a translated sentence.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core.sandbox import DIRECTORY_LIMITS, Limits, run_bounded

if TYPE_CHECKING:
    from directory.importer import ParsedDirectory


def _parse_job(source: bytes | Path, filename: str) -> ParsedDirectory:
    """Runs in the child (module-level, so it pickles)."""
    from directory.importer import parse_directory_file

    return parse_directory_file(source, filename)


async def read_directory(source: bytes | Path, filename: str, limits: Limits = DIRECTORY_LIMITS) -> ParsedDirectory:
    return await run_bounded(_parse_job, source, filename, limits=limits)
