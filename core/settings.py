"""Settings from the environment and an optional `.env` file (pydantic-settings)."""

from __future__ import annotations

import re
import zoneinfo
from functools import cached_property
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from pydantic import ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class SettingsError(Exception):
    """A setting has a wrong value; the message names it in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str | None = None
    database_url: str = "sqlite+aiosqlite:///partnerbot.db"
    telegram_api_base_url: str | None = None
    admin_telegram_ids: Annotated[tuple[int, ...], NoDecode] = ()
    default_locale: str = "en_GB"
    timezone: str = "Europe/London"
    # Webhook mode is chosen when WEBHOOK_URL is set (behind a proxy); polling otherwise.
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    # The one web server in the bot's process (webhook, /healthz, the Mini App) listens here, in polling mode
    # too; unset, WEBHOOK_LISTEN / WEBHOOK_PORT.
    web_listen: str | None = None
    web_port: int | None = None
    # The Mini App's public https address (the proxy forwards it to /app/); unset: no menu button, no
    # "Open" buttons. Telegram's signed init data older than WEBAPP_AUTH_MAX_AGE seconds is refused.
    webapp_url: str | None = None
    webapp_auth_max_age: int = 3600
    # Search throttling: a member may run this many searches a minute before being slowed.
    search_limit_per_minute: int = 30
    # RAG set: comma-separated codes, R/A/G by default; "B,R,A,G" adds Blue for complete.
    rag_set: str = "R,A,G"
    console_files_dir: str = "console-files"
    # Buddy matching: the years in headship an experienced head needs before being suggested.
    buddy_min_years: int = 3
    # School-to-school support: who may not support whom. "trust" (no one from the requesting school or its
    # trust) or "school" (no one from the requesting school; the same trust is allowed).
    support_conflict: str = "trust"
    # Operations (deploy/RUNBOOK.md): log lines as text or JSON; where the running bot writes its health
    # for `partnerbot status` (a container healthcheck, systemd, an operator).
    log_format: str = "text"
    status_file: str = "partnerbot-status.json"
    # Retention (deploy/DATA-PROTECTION.md), applied daily by the retention job: days after which
    # rejected access requests are deleted, former (deactivated) members are erased, buddy check-in
    # comments are removed once the pairing has ended, and audit entries are deleted (six years).
    retention_rejected_request_days: int = 90
    retention_former_member_days: int = 365
    retention_checkin_comment_days: int = 365
    retention_audit_days: int = 2192
    # The privacy notice /privacy shows and strangers read before asking for access: a UTF-8 text file;
    # empty means the built-in notice (handlers/privacy_notice.py).
    privacy_notice_file: str = ""
    # The partnership's name: the author of every Word document the bot makes (reports, exports).
    partnership_name: str = ""
    # How to reach the partnership office (an email address and/or a phone number), said wherever the bot
    # sends someone to it: a rejected applicant, a search with no system leader, a buddy with no contact.
    office_contact: str = ""

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("text", "json"):
            raise ValueError("must be text or json")
        return value

    @field_validator(
        "telegram_bot_token",
        "telegram_api_base_url",
        "webhook_url",
        "webhook_secret",
        "webapp_url",
        "web_listen",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_api_base_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL")
        if info.field_name == "webhook_url" and parts.scheme != "https" and not info.data.get("telegram_api_base_url"):
            raise ValueError("must be an https:// URL (Telegram only calls https webhooks)")
        return value

    @field_validator("webapp_url")
    @classmethod
    def _webapp_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("must be an https:// URL (Telegram opens Mini Apps only over https)")
        return value

    @field_validator("webapp_auth_max_age")
    @classmethod
    def _max_age(cls, value: int) -> int:
        if not 60 <= value <= 86400:
            raise ValueError("must be from 60 to 86400 seconds")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("must be 1-256 characters, only letters, digits, _ and -")
        return value

    @field_validator("webhook_port", "web_port")
    @classmethod
    def _port(cls, value: int | None) -> int | None:
        if value is not None and not 0 < value < 65536:
            raise ValueError("must be a port number from 1 to 65535")
        return value

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in value.replace(";", ",").replace(" ", ",").split(",") if p]
            try:
                return tuple(int(p) for p in parts)
            except ValueError as exc:
                raise ValueError("must be Telegram user ids (numbers) separated by commas") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if value.startswith(("postgres://", "postgresql://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value[len("sqlite:///") :]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite:/// path or a postgresql:// URL")
        if value.startswith("sqlite"):
            # SQLite creates the file but not its folder; without this the first query fails deep in the driver
            path = value.split(":///", 1)[-1].split("?", 1)[0]
            if path and path != ":memory:" and not Path(path).parent.is_dir():
                raise ValueError(f"the folder {Path(path).parent} does not exist")
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        try:
            Locale.parse(value)
        except (ValueError, UnknownLocaleError) as exc:
            raise ValueError(f"unknown locale {value!r}") from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("rag_set")
    @classmethod
    def _rag_set(cls, value: str) -> str:
        codes = [c.strip().upper() for c in value.split(",") if c.strip()]
        if not codes or any(c not in {"B", "R", "A", "G"} for c in codes):
            raise ValueError("must be a comma-separated subset of B,R,A,G")
        return ",".join(codes)

    @cached_property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def server_address(self) -> tuple[str, int]:
        """Where the one web server listens: WEB_LISTEN/WEB_PORT, else the webhook's."""
        return self.web_listen or self.webhook_listen, self.web_port or self.webhook_port

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def api_base_urls(self) -> tuple[str, str] | None:
        """(base_url, base_file_url) for python-telegram-bot from TELEGRAM_API_BASE_URL, which may be
        given with or without the trailing /bot (the self-hosted server's documentation writes it with)."""
        if not self.telegram_api_base_url:
            return None
        base = self.telegram_api_base_url.rstrip("/").removesuffix("/bot").rstrip("/")
        return f"{base}/bot", f"{base}/file/bot"


def load_settings(**overrides: object) -> Settings:
    """Read settings; a wrong value raises SettingsError naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "settings"
        raise SettingsError(f"{name}: {err['msg'].removeprefix('Value error, ')}") from None
