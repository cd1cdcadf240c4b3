"""The console shows everything Telegram would (issue 23): a contact the bot sends (📇 Share contact), a
keyboard it changes under a message (so the import preview's "Columns…" correction can be made there), and
messages waiting for other users, kept across console runs in the console's own state beside its database."""

from __future__ import annotations

import re
from pathlib import Path

from cli.console import state_path
from core.settings import load_settings
from tests.shared import EXAMPLE_PLANS
from tests.test_console import a_head, run_script


def number_of(output: str, label: str) -> str:
    """The number the console gave the last button called `label`."""
    found = re.findall(r"\[(\d+)\] " + re.escape(label) + r"\s*$", output, flags=re.M)
    assert found, f"no button {label!r} in:\n{output[-1500:]}"
    return found[-1]


async def test_share_contact_is_shown(db_url: str, tmp_path: Path) -> None:
    await run_script(db_url, 1001, [], tmp_path)
    head = await a_head(db_url)
    output = await run_script(db_url, 1001, [f"/find {head.first_name} {head.last_name}"], tmp_path)
    if "📇 Share contact" not in output:  # a list first: open the card
        output = await run_script(db_url, 1001, [f"/find {head.first_name} {head.last_name}", "1"], tmp_path)
    output = await run_script(db_url, 1001, [number_of(output, "📇 Share contact")], tmp_path)
    assert f"📇 {head.first_name}" in output
    assert (head.phone or "").replace(" ", "")[1:] in output.replace(" ", "")  # +44 7700 … as dialled


async def test_import_preview_corrections_work_in_the_console(db_url: str, tmp_path: Path) -> None:
    plan = EXAMPLE_PLANS / "la-monitoring-2019-20.csv"
    output = await run_script(db_url, 1003, [f":file {plan}"], tmp_path)
    assert "Import this plan?" in output
    output = await run_script(db_url, 1003, [number_of(output, "Columns…")], tmp_path)
    assert "bot (buttons changed)>" in output and "Responsible officer → Owners" in output
    output = await run_script(db_url, 1003, [number_of(output, "Responsible officer → Owners")], tmp_path)
    assert "✓ Owners" in output
    output = await run_script(db_url, 1003, [number_of(output, "Milestones")], tmp_path)
    assert "Responsible officer → Milestones" in output  # the new preview, read again with the correction
    output = await run_script(db_url, 1003, [number_of(output, "Import")], tmp_path)
    assert re.search(r"Imported plan \d+: La monitoring 2019-20", output)


async def test_messages_for_others_wait_across_runs(db_url: str, tmp_path: Path) -> None:
    output = await run_script(db_url, 9001, ["/start", "1", "Sam Newton, Kimpton Primary School"], tmp_path)
    assert "↪ (to 1003" in output
    # Another day, another console run: the coordinator finds the request waiting, and answers it.
    output = await run_script(db_url, 1003, [], tmp_path)
    assert "1 message waiting" in output and "Access request" in output
    output = await run_script(db_url, 1003, [number_of(output, "Approve without link")], tmp_path)
    assert "↪ (to 9001" in output
    output = await run_script(db_url, 9001, [], tmp_path)
    assert "waiting" in output
    settings = load_settings(database_url=db_url, console_files_dir=str(tmp_path / "files"), _env_file=None)
    assert state_path(settings).exists()
    # A broken state file is said, and the console starts afresh.
    state_path(settings).write_text("{not json", encoding="utf-8")
    output = await run_script(db_url, 1003, [], tmp_path)
    assert "could not be read" in output and "PartnerBot console" in output
