"""Text is cleaned of control characters on its way into the database, whoever writes it.

A Telegram message may hold C0 control characters (U+0000 to U+001F); so may an uploaded file. PostgreSQL
refuses NUL in text ("invalid byte sequence") and `\\u0000` in jsonb, so one NUL in a comment used to crash
an update after "Save this update?" had been shown. Rather than trust every handler, importer and the
bot's persistence to remember, the storage layer cleans every value it writes:

- `CleanSession` (the session class storage.db makes) cleans the ORM objects before each flush, so what
  the objects hold after saving is what the database holds (a reply built from them shows the same text);
- `install(engine)` cleans every str parameter of every statement the engine executes (Core inserts of the
  importers, the persistence's upserts, WHERE clauses with user text), the last line that nothing passes;
- `json_dumps` is the engine's JSON serializer: strings nested anywhere in a JSON value (drafts in
  user_data, audit details) are cleaned before they are encoded.

What is removed is core.text.clean_text's rule (replies use it too, through `esc`). Kept: tab and line feed. A
carriage return becomes a line feed (CR LF one line feed), so a line break typed
on another system stays a line break. A lone surrogate (possible in forged JSON, never valid UTF-8)
becomes U+FFFD.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, String, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.text import clean_text

_DIRTY = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff]")  # as core.text's: one quick scan per value


def clean_value(value: Any) -> Any:
    """A copy of a JSON-like value with every string in it (keys too) cleaned; other values as they are."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(clean_value(v) for v in value)
    return value


def json_dumps(value: Any) -> str:
    """The engines' JSON serializer: clean, then encode as SQLAlchemy would."""
    return json.dumps(clean_value(value))


# --- ORM objects, before each flush -----------------------------------------------------------------


def _clean_objects(session: Session, _flush_context: Any, _instances: Any) -> None:
    for obj in list(session.new) + list(session.dirty):
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            column_type = attr.columns[0].type
            if not isinstance(column_type, (String, JSON)):
                continue  # Text is a String; JSON columns hold nested strings
            value = state.dict.get(attr.key)  # only what is loaded: never a lazy load here
            if value is None:
                continue
            cleaned = clean_value(value)
            if cleaned != value:
                setattr(obj, attr.key, cleaned)


class CleanSession(Session):
    """A Session that cleans the text of every new or changed object before it is flushed."""


event.listen(CleanSession, "before_flush", _clean_objects)


# --- every statement, at the cursor -----------------------------------------------------------------


def _clean_parameters(parameters: Any) -> Any:
    if isinstance(parameters, Mapping):
        if not any(isinstance(v, str) and _DIRTY.search(v) for v in parameters.values()):
            return parameters
        return {k: clean_text(v) if isinstance(v, str) else v for k, v in parameters.items()}
    if isinstance(parameters, (list, tuple)):
        if not any(isinstance(v, str) and _DIRTY.search(v) for v in parameters):
            return parameters
        cleaned = [clean_text(v) if isinstance(v, str) else v for v in parameters]
        return tuple(cleaned) if isinstance(parameters, tuple) else cleaned
    return parameters


def _before_cursor_execute(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
) -> tuple[str, Any]:
    if executemany and isinstance(parameters, (list, tuple)):
        return statement, type(parameters)(_clean_parameters(p) for p in parameters)
    return statement, _clean_parameters(parameters)


def install(engine: Engine) -> None:
    """Clean every str parameter of every statement `engine` (a sync engine) runs."""
    if not event.contains(engine, "before_cursor_execute", _before_cursor_execute):
        event.listen(engine, "before_cursor_execute", _before_cursor_execute, retval=True)
