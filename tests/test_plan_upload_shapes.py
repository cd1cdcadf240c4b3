"""A coordinator sends a plan in a shape the importer was not built on, through the chat: the preview shows
what was read, Import saves it, every action under its own reference with its ratings in the plan's terms."""

from __future__ import annotations

from sqlalchemy import select

from storage.plans import Action, ActionOwner, Plan, ProgressUpdate
from tests.plan_corpus.shapes import council_scrutiny_plan
from tests.shared import EXAMPLE_PLANS


def _buttons(sent) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {label: data for s in sent for label, data in s.buttons}


async def test_trust_xlsx_through_the_chat_saves_half_terms_and_colours(chat, users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    data = (EXAMPLE_PLANS / "trust-school-improvement-plan-2023-24.xlsx").read_bytes()
    sent = await chat.upload("trust-school-improvement-plan-2023-24.xlsx", data, user=users.coordinator, caption="plan")
    text = "\n".join(s.text for s in sent)
    assert "Import this plan?" in text and "8 actions" in text
    assert "sheet &#x27;Budget&#x27; row 1" in text or "sheet 'Budget' row 1" in text  # listed as not read
    sent = await chat.press(_buttons(sent)["Import"], user=users.coordinator)
    assert any("Imported plan" in s.text for s in sent)
    async with sessionmaker() as session:
        plan = (await session.execute(select(Plan))).scalar_one()
        actions = {a.ref: a for a in (await session.execute(select(Action).order_by(Action.position))).scalars()}
        updates = (
            (
                await session.execute(
                    select(ProgressUpdate)
                    .where(ProgressUpdate.action_id == actions["2b"].id)
                    .order_by(ProgressUpdate.id)
                )
            )
            .scalars()
            .all()
        )
        owners = (
            (await session.execute(select(ActionOwner.name).where(ActionOwner.action_id == actions["1a"].id)))
            .scalars()
            .all()
        )
    assert plan.rag_set == "B,R,A,G" and plan.year == "2023-24"
    assert list(actions) == ["1a", "1b", "1c", "2a", "2b", "3a", "3b", "3c"]
    assert [(u.academic_year, u.term, u.rag) for u in updates] == [
        (2023, "autumn", "G"),
        (2023, "autumn", "B"),
        (2023, "spring", "B"),
        (2023, "spring", "B"),
    ]
    assert owners == ["J. Osei (English lead)"]


async def test_council_scrutiny_plan_through_the_chat_keeps_its_references(chat, users, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    data, expected = council_scrutiny_plan()
    sent = await chat.upload("scrutiny-response.txt", data, user=users.coordinator, caption="plan")
    assert any("13 actions" in s.text for s in sent)
    await chat.press(_buttons(sent)["Import"], user=users.coordinator)
    async with sessionmaker() as session:
        refs = (await session.execute(select(Action.ref).order_by(Action.position))).scalars().all()
        owners = (
            (await session.execute(select(ActionOwner.name).join(Action).where(Action.ref == "a)"))).scalars().all()
        )
    assert refs == expected.refs
    assert owners == ["AD Learning & Skills"]
