"""A coordinator sends a directory file in the chat: preview, Confirm / Cancel, refusals."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path

from sqlalchemy import event, func, select

from storage.directory import Person, School
from storage.import_lock import ImportBusy
from storage.members import AuditEntry
from tests.dbtools import snapshot
from tests.harness import hold_next_child
from tests.shared import GIAS_EXTRACT

DATA = Path(__file__).parent / "data"
MISSPELT = (DATA / "directory-misspelt.csv").read_bytes()
EXTRACT = GIAS_EXTRACT.read_bytes()


async def _count(sessionmaker, model) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model))


def _buttons(sent) -> dict[str, str]:
    return {label: data for s in sent for label, data in s.buttons}


async def test_preview_then_confirm_imports(chat, users, sessionmaker) -> None:
    before = await snapshot(sessionmaker.kw["bind"], skip=("bot_state",))
    sent = await chat.upload("people.csv", MISSPELT, user=users.coordinator, caption="Directory autumn")
    text = "\n".join(s.text for s in sent)
    assert "Import the directory from people.csv?" in text
    assert "Schools: 3 added" in text and "People: 3 added" in text
    assert "line 4: not-an-email is not an email address" in text
    assert "Favourite colour" in text
    buttons = _buttons(sent)
    assert set(buttons) == {"Confirm", "Cancel"}
    assert buttons["Confirm"].startswith("di:ok:") and buttons["Cancel"].startswith("di:no:")
    # The preview changed nothing.
    assert await snapshot(sessionmaker.kw["bind"], skip=("bot_state",)) == before

    sent = await chat.press(buttons["Confirm"], user=users.coordinator)
    text = "\n".join(s.text for s in sent)
    assert "Imported people.csv." in text and "People: 3 added" in text
    assert await _count(sessionmaker, Person) == 3
    async with sessionmaker() as session:
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.action == "directory.import"))).scalar_one()
    assert entry.actor_id == users.coordinator and entry.detail["people_added"] == 3
    # The search index was rebuilt with the new people.
    index = chat.app.bot_data["services"].directory
    assert index is not None

    # The same button again: expired, nothing imported twice.
    sent = await chat.press(buttons["Confirm"], user=users.coordinator)
    assert any(s.method == "answerCallbackQuery" and "expired" in s.text for s in sent)
    assert await _count(sessionmaker, Person) == 3


async def test_uncaptioned_register_extract_is_recognised_by_its_headers(chat, users, sessionmaker) -> None:
    sent = await chat.upload("edubase.csv", EXTRACT, user=users.admin)
    text = "\n".join(s.text for s in sent)
    assert "Schools: 4 added" in text and "People: 5 added" in text
    await chat.press(_buttons(sent)["Confirm"], user=users.admin)
    async with sessionmaker() as session:
        names = set((await session.execute(select(Person.first_name, Person.last_name))).all())
    assert {("Claire", "Harrison"), ("Victoria", "Wainwright"), ("Sarah", "Bouette")} <= names
    # Sending it again: everything matches.
    sent = await chat.upload("edubase.csv", EXTRACT, user=users.admin, caption="directory")
    assert "would change nothing" in "\n".join(s.text for s in sent)


async def test_cancel_and_forged_buttons(chat, users, sessionmaker) -> None:
    sent = await chat.upload("people.csv", MISSPELT, user=users.coordinator, caption="directory")
    buttons = _buttons(sent)
    token = buttons["Confirm"].rsplit(":", 1)[1]
    forged = await chat.press("di:ok:00000000", user=users.coordinator)
    assert any(s.method == "answerCallbackQuery" and "expired" in s.text for s in forged)
    # Another coordinator's pending file is not theirs to confirm.
    other = await chat.press(f"di:ok:{token}", user=users.admin)
    assert any("expired" in s.text for s in other)
    sent = await chat.press(buttons["Cancel"], user=users.coordinator)
    assert any("Cancelled" in s.text for s in sent)
    late = await chat.press(buttons["Confirm"], user=users.coordinator)
    assert any("expired" in s.text for s in late)
    assert await _count(sessionmaker, Person) == 0 and await _count(sessionmaker, School) == 0


async def test_only_coordinators_may_upload(chat, users, sessionmaker) -> None:
    for user in (users.member, users.lead):
        sent = await chat.upload("people.csv", MISSPELT, user=user, caption="directory")
        assert any("Only coordinators" in s.text for s in sent)
        assert not _buttons(sent)
    sent = await chat.upload("people.csv", MISSPELT, user=users.stranger, caption="directory")
    assert not _buttons(sent) and sent
    pressed = await chat.press("di:ok:abcdef12", user=users.member)
    assert any(s.method == "answerCallbackQuery" for s in pressed)
    assert await _count(sessionmaker, Person) == 0


async def test_unreadable_files_are_refused_with_the_reason(chat, users, sessionmaker) -> None:
    cases = [
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00" + bytes(300), "binary data"),
        ("empty.csv", b"", "empty"),
        ("header.csv", b"Surname,First name,School\n", "no rows of data"),
        ("notes.csv", b"Minutes of the meeting\nApologies were received.\n", "No header row"),
    ]
    for name, data, reason in cases:
        sent = await chat.upload(name, data, user=users.coordinator, caption="directory")
        text = "\n".join(s.text for s in sent)
        assert f"I could not import {name} as a directory" in text and reason in text
        assert "Nothing was changed" in text and not _buttons(sent)
    assert await _count(sessionmaker, Person) == 0


async def test_file_names_and_cells_are_escaped(chat, users) -> None:
    data = b"Surname,First name,School,Email\n<b>Bold</b>,Amy,A & B <School>,bad<at>example\n"
    sent = await chat.upload("<evil>.csv", data, user=users.coordinator, caption="directory")
    text = "\n".join(s.text for s in sent)
    assert "&lt;evil&gt;.csv" in text and "<evil>" not in text
    assert "bad&lt;at&gt;example" in text


async def test_the_import_itself_runs_off_the_loop(chat, users, sessionmaker) -> None:
    """Confirm: the file is read and applied in a child process with its own connection (directory.import_job).
    The child is held still (SIGSTOP) once it exists; a member's search is answered meanwhile and nothing is
    imported yet; then the child goes on and the import lands, and none of its writes went through the
    bot's own connections (so none of its matching ran on the bot's event loop)."""
    sent = await chat.upload("people.csv", MISSPELT, user=users.coordinator, caption="directory")
    confirm = _buttons(sent)["Confirm"]
    bot_writes: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            bot_writes.append(statement.split("(")[0][:40])

    engine = chat.app.bot_data["services"].engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    message = next(dict(s.result) for s in reversed(chat.request.calls) if s.chat_id == users.coordinator)
    press = chat.factory.press(confirm, users.coordinator, message)
    async with hold_next_child() as child:
        importing = asyncio.create_task(chat.app.process_update(press))
        await child.started()
        answered = await chat.send("/find Coordinator", user=users.member)
        assert answered and answered[-1].chat_id == users.member
        assert not importing.done()
        assert await _count(sessionmaker, Person) == 0  # the child holds the whole import
    await importing
    event.remove(engine, "before_cursor_execute", record)
    assert "Imported people.csv." in "\n".join(s.text for s in chat.to(users.coordinator))
    assert await _count(sessionmaker, Person) == 3
    assert not [w for w in bot_writes if "people" in w or "schools" in w or "audit" in w], bot_writes
    async with sessionmaker() as session:
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.action == "directory.import"))).scalar_one()
    assert entry.actor_id == users.coordinator


def test_import_busy_crosses_back_from_the_child_as_itself() -> None:
    """The import lock's refusal is raised in the child and must unpickle in the bot as ImportBusy, so the
    coordinator hears "another import is running", not "the import failed"."""
    again = pickle.loads(pickle.dumps(ImportBusy()))
    assert isinstance(again, ImportBusy) and str(again) == str(ImportBusy())
