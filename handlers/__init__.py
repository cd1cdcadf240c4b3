"""Every handler is added here, in an order that matters."""

from __future__ import annotations

import importlib

from telegram.ext import Application

# Order within group 0 decides who gets an update first (one handler per group handles it):
# 1. commands and buttons of each feature;
# 2. conversations (they must see plain text before the search does);
# 3. uploaded files: the plan importer first (caption "plan", or any file holding an action table; it
#    passes on the rest), then the directory importer;
# 4. the plain-text router (answers to one-off questions, else a directory search);
# 5. fallbacks: unknown commands, stale buttons, and the error handler.
FEATURES = [
    "handlers.access",
    "handlers.privacy",
    "handlers.profile",
    "handlers.progress_chat",
    "handlers.plan_view",
    "handlers.plans_admin",
    "handlers.reminders_chat",
    "handlers.newhead",
    "handlers.buddy",
    "handlers.find",
    "handlers.plan_upload",
    "handlers.directory_upload",
]


def register(application: Application) -> None:
    from handlers import access, text_router as text

    # The gate runs before everything (group -1) and stops what the user's role does not allow.
    access.register_gate(application)
    for name in FEATURES:
        importlib.import_module(name).register(application)
    text.register(application)
    access.register_fallbacks(application)


def schedule_jobs(application: Application) -> None:
    """Daily jobs (reminders, check-ins) for the features that have them."""
    if application.job_queue is None:
        return
    for name in FEATURES:
        module = importlib.import_module(name)
        if hasattr(module, "schedule"):
            module.schedule(application)
