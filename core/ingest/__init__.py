"""One ingest layer under every importer: file bytes → one table model (`core.ingest.model`).

Both the plan importer (`plans/`) and the directory importer (`directory/`) read files through here:
text is decoded once, tables are found once, and every cell keeps its text, colour and span.
"""

from core.ingest.model import (  # noqa: E402,F401 - the package's public names
    DEFAULT_LIMITS,
    Cell,
    Document,
    IngestError,
    IngestLimits,
    IngestRefusal,
    IngestTooLarge,
    NotRead,
    Row,
    Table,
)
from core.ingest.read import read_document  # noqa: E402,F401
