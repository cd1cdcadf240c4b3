"""Settings: defaults, .env-style values, and one clear line naming a wrong setting."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.settings import SettingsError, load_settings


def test_defaults() -> None:
    settings = load_settings(_env_file=None)
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.default_locale == "en_GB" and settings.timezone == "Europe/London"


def test_values_are_normalised() -> None:
    settings = load_settings(database_url="postgresql://u@h/db", admin_telegram_ids="1, 2;3", _env_file=None)
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.admin_telegram_ids == (1, 2, 3)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timezone", "Mars/Olympus"),
        ("default_locale", "xx_NOPE"),
        ("database_url", "mysql://x"),
        ("admin_telegram_ids", "bob"),
        ("rag_set", "R,A,Z"),
    ],
)
def test_wrong_value_names_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**{name: value}, _env_file=None)
    assert str(caught.value).startswith(name.upper() + ":")
    assert "\n" not in str(caught.value)


def test_cli_stops_with_one_line(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "db", "current"],
        capture_output=True,
        text=True,
        env={"TIMEZONE": "Nowhere/Land", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path.parent,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["partnerbot: setting TIMEZONE: unknown time zone 'Nowhere/Land'"]
