"""Telegram's keyboard limits: at most 100 buttons, 8 to a row, callback data of 1 to 64 bytes, labels that
are never empty. core.reply enforces them, and every keyboard built from a list that can grow (plan pickers,
a reference found in many plans) pages or caps, with a way on to the rest."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.reply import MAX_BUTTONS, keyboard, paged_rows
from storage.plans import Action, Plan
from tests.harness import ChatDriver, Users

MANY = 150


def _count(markup: Any) -> int:
    return sum(len(row) for row in markup.inline_keyboard)


def test_rows_wrap_at_eight_and_labels_fit() -> None:
    markup = keyboard([[(f"b{i}", f"x:{i}") for i in range(20)], [("", "y:1"), ("a\x00b " * 40, "y:2")]])
    assert [len(row) for row in markup.inline_keyboard] == [8, 8, 4, 2]
    labels = [b.text for b in markup.inline_keyboard[-1]]
    assert labels[0] == "…" and len(labels[1]) <= 64 and labels[1].endswith("…") and "\x00" not in labels[1]


def test_too_many_buttons_or_long_data_is_refused() -> None:
    keyboard([[(str(i), f"x:{i}")] for i in range(MAX_BUTTONS)])
    with pytest.raises(ValueError):
        keyboard([[(str(i), f"x:{i}")] for i in range(MAX_BUTTONS + 1)])
    with pytest.raises(ValueError):
        keyboard([[("x", "p:" + "9" * 63)]])
    with pytest.raises(ValueError):
        keyboard([[("x", "")]])
    keyboard([[("x", "p:" + "9" * 62)]])  # exactly 64 bytes


@pytest.mark.parametrize("per_page,per_row", [(10, 1), (500, 1), (500, 2), (99, 3)])
def test_every_page_fits_and_every_item_is_on_a_page(per_page: int, per_row: int) -> None:
    items = [(f"item {i}", f"it:{i}") for i in range(1000)]
    seen: list[str] = []
    page = 0
    while True:
        rows = paged_rows(items, page, per_page, "nav", per_row=per_row)
        markup = keyboard(rows)  # raises if over the limit
        assert _count(markup) <= MAX_BUTTONS
        seen += [d for row in rows for _label, d in row if d.startswith("it:")]
        nxt = [d for row in rows for _label, d in row if d == f"nav:{page + 1}"]
        if not nxt:
            break
        page += 1
    assert seen == [d for _l, d in items]


async def _many_plans(sessionmaker: Any, n: int = MANY) -> list[int]:
    async with sessionmaker.begin() as session:
        plans = [Plan(title=f"Plan {i:03d} of the partnership", partnership="P", year="2025-26") for i in range(n)]
        for plan in plans:
            session.add(plan)
            session.add(Action(plan=plan, position=1, ref="1.1", text="Phonics CPD"))
        await session.flush()
        return [p.id for p in plans]


def _buttons(sent: list[Any]) -> list[tuple[str, str]]:
    for s in reversed(sent):
        if s.buttons:
            markup = s.params["reply_markup"]
            markup = json.loads(markup) if isinstance(markup, str) else markup
            assert sum(len(r) for r in markup["inline_keyboard"]) <= MAX_BUTTONS
            assert all(len(r) <= 8 for r in markup["inline_keyboard"])
            return s.buttons
    raise AssertionError(f"no keyboard in {[s.text[:60] for s in sent]}")


@pytest.mark.parametrize(
    "command,prefix,user", [("/plan", "pv", "member"), ("/report", "rp", "coordinator"), ("/update", "upp", "lead")]
)
async def test_plan_pickers_page_through_every_plan(
    chat: ChatDriver, users: Users, sessionmaker: Any, command: str, prefix: str, user: str
) -> None:
    ids = await _many_plans(sessionmaker)
    walker = getattr(users, user)
    buttons = _buttons(await chat.send(command, user=walker))
    offered: list[int] = []
    for _page in range(MANY):
        offered += [int(d.split(":")[1]) for _l, d in buttons if d.startswith(f"{prefix}:")]
        nxt = [d for label, d in buttons if label.startswith("Next")]
        if not nxt:
            break
        buttons = _buttons(await chat.press(nxt[0], user=walker))
    assert offered == ids  # every plan once, in order, a page at a time
    # A plan on a later page is chosen like one on the first.
    sent = await chat.press(f"{prefix}:{ids[-1]}", user=walker)
    assert sent and all("went wrong" not in s.text for s in sent)


async def test_reference_in_many_plans_is_capped_with_a_way_on(
    chat: ChatDriver, users: Users, sessionmaker: Any
) -> None:
    await _many_plans(sessionmaker)
    sent = await chat.send("/action 1.1", user=users.member)
    buttons = _buttons(sent)
    assert 1 < len(buttons) <= 20 and f"of {MANY}" in sent[-1].text and "/plan" in sent[-1].text


async def test_page_button_refuses_strangers_and_forgeries(chat: ChatDriver, users: Users, sessionmaker: Any) -> None:
    await _many_plans(sessionmaker, 30)
    sent = await chat.press("pk:pv:1", user=users.stranger)
    assert not any("Plan 0" in s.text or any("Plan 0" in label for label, _d in s.buttons) for s in sent)
    for forged in ("pk:pv", "pk:PV:1", "pk:pv:-1", "pk:pv:x", "pk:a-b:1"):
        sent = await chat.press(forged, user=users.member)
        assert all("went wrong" not in s.text for s in sent), forged
