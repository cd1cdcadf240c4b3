"""A coordinator sends a plan or a directory in each of the formats councils send (.xls, .ods, an HTML page,
a PDF), as Telegram sends a document (a file name and a mime type): the preview shows what was read, Import
saves it; a scanned PDF and an OpenDocument text get one polite line naming what to send instead."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from storage.directory import Person
from storage.plans import Action, ProgressUpdate
from tests.plan_corpus.formats import write_as, write_rows
from tests.plan_corpus.generator import Spec
from tests.shared import TEST_DATA as DATA

MIME = {
    "xls": "application/vnd.ms-excel",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "html": "text/html",
    "pdf": "application/pdf",
}
SPEC = Spec("partnership-plan", "xlsx", ratings="fill", legend=True, year=2022, seed=3)


def _buttons(sent) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {label: data for s in sent for label, data in s.buttons}


@pytest.mark.parametrize("fmt", list(MIME))
async def test_a_plan_in_each_format_through_the_chat(chat, users, sessionmaker, fmt: str) -> None:  # type: ignore[no-untyped-def]
    data, name = write_as(SPEC, fmt, "bgcolor" if fmt == "html" else "")
    sent = await chat.upload(name, data, user=users.coordinator, mime_type=MIME[fmt])
    text = "\n".join(s.text for s in sent)
    expected = SPEC.expected()
    ratings = sum(len(r) for r in expected["ratings"].values())
    assert "Import this plan?" in text, text
    assert f"{len(expected['refs'])} actions" in text and f"{ratings} ratings" in text
    sent = await chat.press(_buttons(sent)["Import"], user=users.coordinator)
    assert any("Imported plan" in s.text for s in sent)
    async with sessionmaker() as session:
        refs = (await session.execute(select(Action.ref).order_by(Action.position))).scalars().all()
        saved = await session.scalar(
            select(func.count()).select_from(ProgressUpdate).where(ProgressUpdate.rag.is_not(None))
        )
    assert refs == expected["refs"] and saved == ratings


async def test_a_file_named_without_an_extension_is_read_by_its_mime_type(chat, users) -> None:  # type: ignore[no-untyped-def]
    data, _name = write_as(SPEC, "ods")
    sent = await chat.upload("Plan from the council", data, user=users.coordinator, mime_type=MIME["ods"])
    assert any("Import this plan?" in s.text for s in sent)


async def test_a_scanned_pdf_gets_one_line_naming_what_to_send(chat, users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    from tests.test_ingest_formats import _odt, _scanned_pdf

    sent = await chat.upload("scan.pdf", _scanned_pdf(), user=users.coordinator, caption="plan", mime_type=MIME["pdf"])
    assert len(sent) == 1
    assert "This PDF has no text: send the Word or Excel file it came from." in sent[0].text
    assert "Nothing was changed" in sent[0].text
    sent = await chat.upload(
        "notes.odt", _odt(), user=users.coordinator, caption="plan", mime_type="application/vnd.oasis.opendocument.text"
    )
    assert len(sent) == 1 and "OpenDocument text (.odt)" in sent[0].text
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Action)) == 0


@pytest.mark.parametrize("fmt", ["xls", "ods", "html", "pdf"])
async def test_a_directory_in_each_format_through_the_chat(chat, users, sessionmaker, fmt: str) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.reader(io.StringIO((DATA / "directory-misspelt.csv").read_text(encoding="utf-8"))))
    data = write_rows(rows, fmt)
    sent = await chat.upload(f"people.{fmt}", data, user=users.coordinator, caption="directory", mime_type=MIME[fmt])
    text = "\n".join(s.text for s in sent)
    assert f"Import the directory from people.{fmt}?" in text, text
    assert "Schools: 3 added" in text and "People: 3 added" in text
    assert "not-an-email is not an email address" in text
    sent = await chat.press(_buttons(sent)["Confirm"], user=users.coordinator)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 3
