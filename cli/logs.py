"""Logging for the command line and the running bot: readable text by default, one JSON object per line
with LOG_FORMAT=json (for journald, Docker's log drivers or a log shipper).

A record's structured fields (core/update_log.py passes them as `extra={"update": {...}}`) become top-level
keys of the JSON line; in text they are already in the message.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """{"time": ..., "level": ..., "logger": ..., "message": ..., <structured fields>, "error": ...}"""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "update", None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if k not in line})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(verbose: bool = False, log_format: str = "text", *, updates: bool = False) -> None:
    """Root logging to stderr. `updates`: also the per-update lines (the running bot), which are INFO."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    if updates or verbose:
        for name in ("partnerbot", "partnerbot.updates", "partnerbot.serve"):
            logging.getLogger(name).setLevel(logging.INFO)
    # httpx logs every request URL at INFO, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
