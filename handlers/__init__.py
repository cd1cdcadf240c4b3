"""The bot's features, folded into one Application in one place.

Each module named in FEATURES declares a MANIFEST (handlers/manifest.py); `register` folds them. The order
of FEATURES is the order /help and the menus list commands in; the order handlers are added in (and why)
is explained in `Features.register`.
"""

from __future__ import annotations

import importlib

from telegram.ext import Application

from handlers.manifest import Features, features_of

FEATURES = (
    "handlers.access",
    "handlers.privacy",
    "handlers.retention",
    "handlers.privacy_notice",
    "handlers.audit_log",
    "handlers.profile",
    "handlers.find",
    "handlers.progress_chat",
    "handlers.plan_view",
    "handlers.plan_picker",
    "handlers.plans_admin",
    "handlers.reminders_chat",
    "handlers.newhead",
    "handlers.currency",
    "handlers.buddy",
    "handlers.support",
    "handlers.desk",
    "handlers.plan_upload",
    "handlers.directory_upload",
    "handlers.uploads",
)


def fold_features() -> Features:
    return Features(tuple(importlib.import_module(name).MANIFEST for name in FEATURES))


def register(application: Application) -> Features:
    """Every handler of every feature, behind its role; the folded features are kept in bot_data."""
    from handlers import access

    features = fold_features()
    application.bot_data["features"] = features
    # The gate runs before everything (group -1): it admits the update and loads who is talking.
    access.register_gate(application)
    features.register(application)
    access.register_fallbacks(application)
    return features


def schedule_jobs(application: Application) -> None:
    """The features' scheduled jobs (reminders, check-ins)."""
    services = application.bot_data["services"]
    features_of(application).schedule(application, services.settings.tz)
