"""Every handler is added here, in an order that matters."""

from __future__ import annotations

import importlib

from telegram.ext import Application

# Order within group 0 decides who gets an update first (one handler per group handles it):
# 1. commands and buttons of each feature;
# 2. conversations (they must see plain text before the search does);
# 3. uploaded files: plans by caption before the directory importer, which also sniffs headers;
# 4. the plain-text router (answers to one-off questions, else a directory search);
# 5. fallbacks: unknown commands, stale buttons, and the error handler.
FEATURES = [
    "handlers.access",
    "handlers.privacy",
    "handlers.profile",
    "handlers.progress",
    "handlers.plan_view",
    "handlers.reminders",
    "handlers.newhead",
    "handlers.buddy",
    "handlers.find",
    "handlers.plan_upload",
    "handlers.directory_upload",
]


def register(application: Application) -> None:
    from handlers import access, text

    # The gate runs before everything (group -1) and stops what the user's role does not allow.
    access.register_gate(application)
    for name in FEATURES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # DEV-ONLY: features still being written
            if exc.name == name:
                continue
            raise
        module.register(application)
    text.register(application)
    access.register_fallbacks(application)


def schedule_jobs(application: Application) -> None:
    """Daily jobs (reminders, check-ins) for the features that have them."""
    if application.job_queue is None:
        return
    for name in FEATURES:
        module = importlib.import_module(name) if _exists(name) else None
        if module is not None and hasattr(module, "schedule"):
            module.schedule(application)


def _exists(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
