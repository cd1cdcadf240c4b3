"""The import review's rows as read and its rating key, over the Mini App's API (no browser): every row is
listed with its reading and reason; a row's kind and a symbol's meaning are changed and read again at once;
anything malformed is refused with nothing changed; Import saves what the review showed. The real web server
and Application on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.plans import Action, Plan, ProgressUpdate, Section
from tests import webapp_harness
from tests.harness import frozen_clock

office = webapp_harness.office  # the fixture

NOW = dt.datetime(2025, 11, 10, 9, 0, tzinfo=dt.timezone.utc)

# Line 5 is a section heading the reader takes for an action (it has a reference, "2"); "4" in the rating
# column is in no key the file prints.
PLAN = b"""Kimpton Partnership action plan 2025-26
Ref,Action,Lead,Autumn RAG,Comment
1.1,Run the reading survey,Jo Bloggs,G,Done
1.2,Train the mentors,Ann Lee,A,Half way
2,Leadership and governance,,,
2.1,Write the bid,Jo Bloggs,4,Sent
"""


@pytest.fixture
def at_now() -> Iterator[None]:
    with frozen_clock(NOW):
        yield


def _refused(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    assert response.headers["Cache-Control"] == "no-store"


def _row(review: dict[str, Any], line: int) -> dict[str, Any]:
    return next(r for r in review["rows"] if r["line"] == line)


async def test_rows_and_key_are_listed_changed_and_imported(office, chat, users, sessionmaker, at_now):
    await chat.upload("kimpton-plan.csv", PLAN, user=users.coordinator, caption="plan")
    headers = office.headers(users.coordinator)
    async with office.client() as client:
        review = (await client.get("/app/api/review", headers=headers)).json()
        assert [(r["line"], r["kind"], r["editable"]) for r in review["rows"]] == [
            (1, "title", False),
            (2, "header", False),
            (3, "action", True),
            (4, "action", True),
            (5, "action", True),
            (6, "action", True),
        ]
        assert _row(review, 5)["reason"] == "it has its own reference" and _row(review, 5)["ref"] == "2"
        assert _row(review, 5)["text"] == "2 | Leadership and governance"
        assert [k["code"] for k in review["row_kinds"]] == ["action", "section", "continuation", "skip"]
        assert review["key"]["unknown"] == [{"value": "4", "count": 1}]
        assert review["strings"]["rows_title"] == "Rows as read"
        assert review["counts_line"] == "4 actions in 0 sections; 0 rows continued the action above"
        token = review["token"]

        # a heading read as an action: made a section, read again at once, nothing saved
        body = {"token": token, "rows": [{"table": 0, "line": 5, "kind": "section"}]}
        fixed = await client.post("/app/api/review/read", json=body, headers=headers)
        assert fixed.status_code == 200, fixed.text
        fixed = fixed.json()
        assert fixed["counts_line"] == "3 actions in 1 section; 0 rows continued the action above"
        row = _row(fixed, 5)
        assert (row["kind"], row["choice"], row["forced"], row["reason"]) == ("section", "section", True, "as you said")
        assert [(s["title"], [a["ref"] for a in s["actions"]]) for s in fixed["sections"]] == [
            ("", ["1.1", "1.2"]),
            ("2 Leadership and governance", ["2.1"]),
        ]
        assert fixed["counts"]["actions"] == 3
        # "4" in the rating column means complete here: given in the key, read again at once
        body = {"token": fixed["token"], "key": [{"symbol": "4", "code": "B"}]}
        keyed = (await client.post("/app/api/review/read", json=body, headers=headers)).json()
        assert keyed["key"]["unknown"] == []
        assert {"symbol": "4", "meaning": "4", "code": "B", "editable": True, "given": True} in keyed["key"]["entries"]
        assert _row(keyed, 5)["kind"] == "section"  # the row's correction stands
        # back to the reader's reading, and again
        body = {"token": keyed["token"], "rows": [{"table": 0, "line": 5, "kind": ""}]}
        undone = (await client.post("/app/api/review/read", json=body, headers=headers)).json()
        assert _row(undone, 5)["kind"] == "action" and not _row(undone, 5)["forced"]
        body = {"token": undone["token"], "rows": [{"table": 0, "line": 5, "kind": "section"}]}
        again = (await client.post("/app/api/review/read", json=body, headers=headers)).json()
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Plan)) == 0
        # the chat's pending upload holds the corrections (its own Import would read the same)
        overrides = chat.app.user_data[users.coordinator]["plan_upload"]["overrides"]
        assert overrides["rows"] == [[0, 5, "section"]] and overrides["key"] == {"4": "B"}

        done = await client.post("/app/api/review/import", json={"token": again["token"]}, headers=headers)
        assert done.status_code == 200, done.text
    async with sessionmaker() as session:
        sections = {s.id: s.title for s in await session.scalars(select(Section))}
        actions = {a.ref: sections.get(a.section_id) for a in await session.scalars(select(Action))}
        ratings = {
            ref: rag
            for ref, rag in (
                await session.execute(
                    select(Action.ref, ProgressUpdate.rag).join(Action, ProgressUpdate.action_id == Action.id)
                )
            ).all()
        }
    assert actions == {"1.1": "", "1.2": "", "2.1": "2 Leadership and governance"}, actions
    assert "2" not in actions
    assert ratings["2.1"] == "B" and ratings["1.1"] == "G"


async def test_malformed_row_and_key_changes_are_refused_and_change_nothing(office, chat, users, sessionmaker, at_now):
    await chat.upload("kimpton-plan.csv", PLAN, user=users.coordinator, caption="plan")
    headers = office.headers(users.coordinator)
    async with office.client() as client:
        review = (await client.get("/app/api/review", headers=headers)).json()
        token = review["token"]
        good = {"table": 0, "line": 5, "kind": "section"}
        bad_rows: list[Any] = [
            "5=section",
            {"table": 0, "line": 5, "kind": "section"},  # one change, not a list
            [["0", "5", "section"]],
            [{"table": 0, "line": "5", "kind": "section"}],
            [{"table": "0", "line": 5, "kind": "section"}],
            [{"table": True, "line": 5, "kind": "section"}],
            [{"table": 0, "line": 5.0, "kind": "section"}],
            [{"table": 0, "line": 5, "kind": "heading"}],
            [{"table": 0, "line": 5, "kind": None}],
            [{"table": 0, "line": 5, "kind": "section", "extra": 1}],
            [{"table": 0, "line": 5}],
            [{"table": 0, "line": 99, "kind": "section"}],  # not a line of the file
            [{"table": 1, "line": 5, "kind": "section"}],  # no second table
            [{"table": 0, "line": 2, "kind": "action"}],  # the header row: not a row of the actions
            [{"table": 0, "line": -1, "kind": "skip"}],
            [good, {"table": 0, "line": 99, "kind": "skip"}],  # one bad change spoils the lot
            [1] * 10_000,
            [good] * 501,
        ]
        for rows in bad_rows:
            _refused(
                await client.post("/app/api/review/read", json={"token": token, "rows": rows}, headers=headers), 400
            )
        bad_keys: list[Any] = [
            {"4": "B"},
            [{"symbol": "4", "code": "purple"}],
            [{"symbol": "", "code": "B"}],
            [{"symbol": "  ", "code": "B"}],
            [{"symbol": 4, "code": "B"}],
            [{"symbol": "x" * 41, "code": "B"}],
            [{"symbol": "4\n", "code": "B"}],
            [{"symbol": "4", "code": "B", "meaning": "done"}],
            [{"symbol": "4", "code": "B"}] * 51,
        ]
        for key in bad_keys:
            _refused(await client.post("/app/api/review/read", json={"token": token, "key": key}, headers=headers), 400)
        # ten thousand full changes are over the size of any request: refused before they are read
        many = json.dumps({"token": token, "rows": [good] * 10_000})
        _refused(
            await client.post(
                "/app/api/review/read", content=many, headers={**headers, "Content-Type": "application/json"}
            ),
            413,
        )
        # a member may not, even well formed
        member = office.headers(users.member)
        _refused(await client.post("/app/api/review/read", json={"token": token, "rows": [good]}, headers=member), 403)
        _refused(
            await client.post(
                "/app/api/review/read", json={"token": token, "key": [{"symbol": "4", "code": "B"}]}, headers=member
            ),
            403,
        )
        # nothing changed: the same reading, the same token, no corrections kept
        again = (await client.get("/app/api/review", headers=headers)).json()
        assert again["token"] == token and again["rows"] == review["rows"] and again["key"] == review["key"]
    pending = chat.app.user_data[users.coordinator]["plan_upload"]
    overrides = pending.get("overrides") or {}
    assert not overrides.get("rows") and not overrides.get("key")
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Plan)) == 0
