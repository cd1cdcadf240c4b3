"""Erasure that holds up (issue 22), through the bot as an admin would, on SQLite and PostgreSQL:

- one person seeded everywhere they can appear (every table that can hold them, the saved state, the
  running bot's memory, free text in every form: initials, titles, bare surname, phones in any format,
  email), erased through /erase with one place kept; then every column of every table (Base.metadata),
  the persisted state and the bot's memory hold none of their identifiers, except the place kept, which
  the receipt lists;
- a namesake: two people with the same name, one erased, the other untouched in every column;
- the undo scenario: the old Confirm of a pending proposal about them re-creates nobody;
- the coordinator holding an open /newhead draft about them, and their buddy, are told in neutral words;
- the audit log reads sensibly afterwards, and keeps no names.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from sqlalchemy import select

from directory import integrity
from storage import audit
from storage.base import Base
from storage.buddies import Appointment, BuddyMatch, CheckIn
from storage.desk import AccessRequestCopy, ButtonUse, DeskState
from storage.directory import EntryChange, Person, School, Specialism
from storage.members import AccessRequest, AuditEntry, BotState, Member, Throttle
from storage.mentions import pseudonym
from storage.plans import Action, ActionOwner, Plan, PlanCoordinator, ProgressUpdate, ReminderSent
from storage.sends import SendClaim
from storage.subject_access import member_columns, person_columns
from storage.support import SupportDay, SupportDeployment, SupportImpact, SupportLeader, SupportRequest
from tests.harness import ChatDriver, Users

LESLEY_TG = 5_000_000_041
BUDDY_TG = 5_000_000_077
NAMESAKE_TG = 5_000_000_128
EMAIL = "lesley.draycott@kimpton.example"
# Every way she can be written; none of these may survive anywhere but in the place the admin keeps.
IDENTIFIERS = [
    "Lesley",
    "Draycott",
    "lesley.draycott",
    "07700 900123",
    "07700900123",
    "7700 900123",
    "7700-900-123",
    "900123",
    "900 123",
    str(LESLEY_TG),
]
FREE_TEXT = [
    "Chased Mrs L. Draycott and L Draycott; Lesley D",
    "Ms Draycott to report; Mrs. Draycott agreed; Dr Draycott? Draycott, Lesley",
    "Ring 0044 7700 900123 or +44 (0)7700-900-123 or 07700900123 or 07700 900 123",
    f"Write to {EMAIL.upper()}",
]


def leaks(text: str) -> list[str]:
    low = text.lower()
    return [x for x in IDENTIFIERS if x.lower() in low]


async def every_column(sessionmaker: Any) -> dict[tuple[str, str, str], str]:
    """(table, column, row key) -> the value as text, for every column of every table."""
    out: dict[tuple[str, str, str], str] = {}
    async with sessionmaker() as s:
        for tbl in Base.metadata.sorted_tables:
            keys = [c.name for c in tbl.primary_key.columns] or [c.name for c in tbl.columns]
            for row in (await s.execute(select(tbl))).all():
                m = row._mapping
                key = ",".join(str(m[k]) for k in keys)
                for col in tbl.columns:
                    value = m[col.name]
                    out[(tbl.name, col.name, key)] = (
                        json.dumps(value, ensure_ascii=False, default=str)
                        if isinstance(value, (dict, list))
                        else str(value)
                    )
    return out


async def seed(sessionmaker: Any, users: Users) -> dict[str, int]:
    """Lesley Draycott everywhere: her entry, account, request, plan ownership and comments, appointment,
    pairing and check-ins, proposals, audit entries, throttle, desk, buttons, reminders, saved state; and
    other people's free text about her in every form."""
    async with sessionmaker.begin() as s:
        school = School(name="Kimpton Primary", phone="01438 000111")
        s.add(school)
        await s.flush()
        lesley = Person(
            title="Mrs",
            first_name="Lesley",
            last_name="Draycott",
            job_title="Headteacher",
            is_head=True,
            school_id=school.id,
            email=EMAIL,
            phone="07700 900123",
            notes="Prefers calls after 4",
        )
        buddy = Person(first_name="Bob", last_name="Buddy", email="bob@example.org", notes="Mentor: L Draycott")
        other = Person(first_name="Olive", last_name="Other", notes=FREE_TEXT[2])
        s.add_all([lesley, buddy, other])
        await s.flush()
        s.add_all(
            [
                Member(telegram_id=LESLEY_TG, role="lead", display_name="Lesley Draycott", person_id=lesley.id),
                Member(telegram_id=BUDDY_TG, role="member", display_name="Bob", person_id=buddy.id),
                AccessRequest(telegram_id=LESLEY_TG, telegram_name="lesleyd", name="Lesley Draycott", school="Kimpton"),
                Throttle(telegram_id=LESLEY_TG, window_start=dt.datetime.now(dt.timezone.utc), count=3),
                DeskState(telegram_id=LESLEY_TG),
                ButtonUse(chat_id=LESLEY_TG, message_id=5, data="dck:y:1", used_by=LESLEY_TG),
                SendClaim(
                    kind="chase", subject_id=1, claimed_at=dt.datetime.now(dt.timezone.utc), claimed_by=LESLEY_TG
                ),
            ]
        )
        plan = Plan(title="Kimpton partnership plan")
        s.add(plan)
        await s.flush()
        s.add(PlanCoordinator(plan_id=plan.id, telegram_id=LESLEY_TG))
        actions = []
        for i in range(10):
            action = Action(
                plan_id=plan.id,
                ref=f"1.{i + 1}",
                text=f"Action {i + 1}",
                owners_text="L Draycott" if i else "L Draycott / JS",
                milestones=["Mrs. Draycott to review in May"] if i == 2 else [],
                extra={"Notes": FREE_TEXT[1]} if i == 3 else {},
            )
            actions.append(action)
            s.add(action)
        await s.flush()
        s.add(ActionOwner(action_id=actions[0].id, person_id=lesley.id, name="Mrs Lesley Draycott"))
        s.add_all(
            [
                ProgressUpdate(
                    action_id=actions[0].id,
                    rag="G",
                    comment="Done, see me",
                    academic_year=2026,
                    term="autumn",
                    author_id=LESLEY_TG,
                    author_person_id=lesley.id,
                    author_label="Lesley Draycott",
                ),
                ProgressUpdate(
                    action_id=actions[1].id,
                    rag="A",
                    comment=FREE_TEXT[0],
                    academic_year=2026,
                    term="autumn",
                    author_id=users.lead,
                ),
                ProgressUpdate(
                    action_id=actions[2].id,
                    rag="A",
                    comment=FREE_TEXT[3],
                    academic_year=2026,
                    term="autumn",
                    author_id=users.lead,
                ),
                ReminderSent(plan_id=plan.id, telegram_id=LESLEY_TG, academic_year=2026, term="autumn"),
            ]
        )
        appointment = Appointment(
            person_id=lesley.id, school_id=school.id, start_date=dt.date(2026, 9, 1), notes="Lesley asked for maths"
        )
        s.add(appointment)
        await s.flush()
        # school-to-school support: she offers days, asks for support and gives it, logs days and answers
        s.add(SupportLeader(person_id=lesley.id, capacity_days=10, updated_by=LESLEY_TG))
        support = SupportRequest(
            requester_person_id=lesley.id,
            school_id=school.id,
            preferred_person_id=lesley.id,
            specialism="maths",
            context="Help with fractions",
            created_by=LESLEY_TG,
            decided_by=LESLEY_TG,
        )
        s.add(support)
        await s.flush()
        deployment = SupportDeployment(
            request_id=support.id,
            leader_person_id=lesley.id,
            status="accepted",
            asked_by=LESLEY_TG,
            closed_by=LESLEY_TG,
        )
        s.add(deployment)
        await s.flush()
        s.add_all(
            [
                SupportDay(
                    deployment_id=deployment.id,
                    person_id=lesley.id,
                    days=1,
                    on_date=dt.date(2026, 10, 1),
                    logged_by=LESLEY_TG,
                ),
                SupportImpact(
                    deployment_id=deployment.id,
                    person_id=lesley.id,
                    side="leader",
                    recommend=True,
                    answered_by=LESLEY_TG,
                ),
            ]
        )
        match = BuddyMatch(appointment_id=appointment.id, buddy_person_id=buddy.id, status="accepted")
        s.add(match)
        await s.flush()
        s.add(
            CheckIn(
                match_id=match.id,
                kind="two_weeks",
                due_date=dt.date(2026, 9, 14),
                answer="struggling",
                comment="Lesley is finding it hard",
                responder_id=BUDDY_TG,
            )
        )
        # a proposal about her entry, and one naming her as a new head someone else typed
        about_her = await integrity.propose_appointment(
            s,
            users.member,
            {
                "first_name": "Lesley",
                "last_name": "Draycott",
                "title": "Mrs",
                "person_id": lesley.id,
                "school_id": school.id,
                "start_date": dt.date(2026, 9, 1),
                "relation": "school",
            },
            "Mrs Lesley Draycott at Kimpton Primary from 1 Sept 2026",
        )
        typed = await integrity.propose_appointment(
            s,
            users.member,
            {
                "first_name": "Lesley",
                "last_name": "Draycott",
                "title": "Ms",
                "person_id": None,
                "school_id": school.id,
                "start_date": dt.date(2026, 9, 1),
                "relation": "school",
            },
            "Ms Lesley Draycott at Kimpton Primary from 1 Sept 2026",
        )
        # audit entries from before the log kept ids only, and new ones
        s.add_all(
            [
                AuditEntry(
                    actor_id=users.admin,
                    action="demo.plan",
                    entity="plan",
                    entity_id=str(plan.id),
                    detail={"owners_linked_to": LESLEY_TG},
                ),
                AuditEntry(
                    actor_id=LESLEY_TG,
                    action="access.request",
                    entity="access_request",
                    entity_id="999",
                    detail={"name": "Lesley Draycott", "school": "Kimpton 07700 900123"},
                ),
                AuditEntry(
                    actor_id=users.coordinator,
                    action="person.update",
                    entity="person",
                    entity_id=str(other.id),
                    detail={"field": "notes", "new": FREE_TEXT[2]},
                ),
            ]
        )
        audit.record(s, users.admin, "member.role", "member", LESLEY_TG, role="lead")
        audit.record(s, LESLEY_TG, "person.update", "person", lesley.id, field="phone", old=None, new="07700 900123")
        # her saved chat state, and another user's saved draft about her
        s.add_all(
            [
                BotState(kind="user", key=str(LESLEY_TG), data={"newhead": {"name": "Lesley Draycott"}}),
                BotState(kind="chat", key=str(LESLEY_TG), data={"x": 1}),
                BotState(kind="conv", key=f'["progress",{LESLEY_TG},{LESLEY_TG}]', data=1),
                BotState(kind="user", key="1002", data={"pick": {"person_id": lesley.id}, "keep": {"a": 1}}),
            ]
        )
        # her ids in every other column that can hold them
        olive_appointment = Appointment(
            person_id=other.id, start_date=dt.date(2026, 9, 1), reported_by=LESLEY_TG, updated_by=LESLEY_TG
        )
        s.add(olive_appointment)
        await s.flush()
        ended = BuddyMatch(
            appointment_id=olive_appointment.id, buddy_person_id=buddy.id, status="ended", ended_by=LESLEY_TG
        )
        s.add_all([ended, BuddyMatch(appointment_id=olive_appointment.id, buddy_person_id=lesley.id)])
        await s.flush()
        s.add(CheckIn(match_id=ended.id, kind="two_weeks", due_date=dt.date(2026, 9, 14), responder_id=LESLEY_TG))
        maths = Specialism(name="mathematics")
        s.add(maths)
        await s.flush()
        await s.refresh(lesley, ["specialisms"])
        lesley.specialisms.append(maths)
        school.updated_by = LESLEY_TG
        plan.updated_by = plan.archived_by = LESLEY_TG
        actions[5].updated_by = LESLEY_TG
        buddy.updated_by = LESLEY_TG
        bob = await s.get(Member, BUDDY_TG)
        bob.approved_by = bob.updated_by = LESLEY_TG
        claim = AccessRequest(
            telegram_id=9002,
            name="Pat Deputy",
            school="Kimpton",
            suggested_person_id=lesley.id,
            decided_by=LESLEY_TG,
            status="rejected",
        )
        s.add(claim)
        await s.flush()
        own_request = (await s.scalars(select(AccessRequest).where(AccessRequest.telegram_id == LESLEY_TG))).one()
        s.add(AccessRequestCopy(request_id=own_request.id, chat_id=users.coordinator, message_id=77))
        her_proposal = await integrity.propose_appointment(
            s,
            LESLEY_TG,
            {"first_name": "Olive", "last_name": "Other", "person_id": other.id, "start_date": dt.date(2026, 9, 1)},
            "Olive Other from 1 Sept 2026",
        )
        her_proposal.decided_by = LESLEY_TG
    return {
        "lesley": lesley.id,
        "buddy": buddy.id,
        "other": other.id,
        "about_her": about_her.id,
        "typed": typed.id,
        "action0": actions[0].id,
        "action1": actions[1].id,
        "match": match.id,
        "appointment": appointment.id,
    }


def _place_index(preview_text: str, where: str) -> int:
    for line in preview_text.splitlines():
        found = re.match(r"(\d+)\. (.*)", line)
        if found and found.group(2).startswith(where):
            return int(found.group(1))
    raise AssertionError(f"{where!r} not listed in the preview:\n{preview_text}")


async def test_erasure_leaves_nothing_but_what_the_admin_kept(chat: ChatDriver, users: Users, sessionmaker):
    ids = await seed(sessionmaker, users)
    app = chat.app
    # the running bot's memory: her own data, and a coordinator half-way through /newhead about her
    app.user_data[LESLEY_TG]["draft"] = {"note": "call 07700 900123"}
    await chat.send("/newhead", user=users.coordinator)
    await chat.press("nhw:office", user=users.coordinator)
    await chat.send("Mrs Lesley Draycott", user=users.coordinator)
    assert app.user_data[users.coordinator]["newhead"]["last"] == "Draycott"
    before = await every_column(sessionmaker)
    assert {x for v in before.values() for x in leaks(v)} == set(IDENTIFIERS)  # the scan can fail
    # she is in every column that can hold her ids (the set is derived from the models)
    for table, cols in person_columns().items():
        for col in cols:
            assert any(t == table and c == col and v == str(ids["lesley"]) for (t, c, _k), v in before.items()), col
    for table, cols in member_columns().items():
        for col in cols:
            assert any(t == table and c == col and v == str(LESLEY_TG) for (t, c, _k), v in before.items()), (
                table,
                col,
            )

    sent = await chat.send(f"/erase {ids['lesley']}", user=users.admin)
    preview = sent[-1].text
    assert "Mrs Lesley Draycott" in preview and "free text" in preview
    assert "“”" not in preview  # ids are keyed to her, not free text: handled without asking
    for where in ("plan action", "progress comment", "directory entry", "audit log entry"):
        assert where in preview
    # keep the owners cell of action 1.1 as the plan's historic record
    keep = _place_index(preview, f"plan action {ids['action0']}, owners text")
    sent = await chat.press(f"ek:{ids['lesley']}:{keep}", user=users.admin)
    assert ("the plan's historic record", f"ex:{ids['lesley']}:{keep}:h") in sent[-1].buttons
    sent = await chat.press(f"ex:{ids['lesley']}:{keep}:h", user=users.admin)
    assert f"{keep}. plan action {ids['action0']}, owners text" in sent[-1].text
    assert "keep: the plan's historic record" in sent[-1].text
    for button in (b for row in [sent[-1].buttons] for b in row):
        assert len(button[1].encode()) <= 64 and re.fullmatch(r"[a-z]+(:[0-9a-z]+)+", button[1])
    sent = await chat.press(f"er:{ids['lesley']}:y", user=users.admin)

    receipt = next(s.text for s in sent if "Erased" in s.text)
    assert "1 member account removed" in receipt and pseudonym(ids["lesley"]) in receipt
    assert f"plan action {ids['action0']}, owners text — the plan's historic record" in receipt
    assert not leaks(receipt)

    # every column of every table: nothing of hers but the kept place
    after = await every_column(sessionmaker)
    left = {key for key, value in after.items() if leaks(value)}
    assert left == {("plan_action", "owners_text", str(ids["action0"]))}, left
    assert after[("plan_action", "owners_text", str(ids["action1"]))] == pseudonym(ids["lesley"])
    # the running bot's memory and its saved state
    memory = json.dumps([app.user_data, app.chat_data], default=str, ensure_ascii=False)
    assert not leaks(memory)
    async with sessionmaker() as s:
        states = [(b.kind, b.key, b.data) for b in await s.scalars(select(BotState))]
        assert not leaks(json.dumps(states, default=str))
        assert ("user", "1002", {"keep": {"a": 1}}) in states  # the rest of another user's data is kept
        # the pseudonym is one and the same everywhere
        assert {u.author_label for u in await s.scalars(select(ProgressUpdate).where(ProgressUpdate.rag == "G"))} == {
            pseudonym(ids["lesley"])
        }
        assert (await s.get(EntryChange, ids["about_her"])).status == "erased"
        linked = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "demo.plan"))).one()
        assert linked.detail == {"owners_linked_to": pseudonym(ids["lesley"])}
        assert (await s.get(EntryChange, ids["typed"])).status == "erased"

    # those affected are told, in neutral words
    told_coordinator = [s.text for s in chat.to(users.coordinator) if "draft" in s.text]
    told_buddy = [s.text for s in chat.to(BUDDY_TG) if "pairing" in s.text]
    assert told_coordinator and told_buddy
    assert not leaks(" ".join(told_coordinator + told_buddy))

    # the coordinator's next step does not write her back from memory
    sent = await chat.send("Kimpton", user=users.coordinator)
    assert not any("Traceback" in s.text for s in sent)
    async with sessionmaker() as s:
        assert (await s.scalars(select(Person).where(Person.last_name == "Draycott"))).all() == []

    # the old buttons answer that her data has been erased, and change nothing
    sent = await chat.press(f"ecd:y:{ids['about_her']}", user=users.coordinator)
    assert any("erased" in (s.params.get("text") or "") for s in sent)
    sent = await chat.press(f"ecd:y:{ids['typed']}", user=users.coordinator)
    assert any("erased" in (s.params.get("text") or "") for s in sent)
    sent = await chat.send(f"/erase {ids['lesley']}", user=users.admin)
    assert "has been erased" in sent[-1].text
    sent = await chat.press(f"pc:{ids['lesley']}", user=users.member)
    assert "This person's data has been erased" in sent[-1].text
    sent = await chat.press(f"bq:a:{ids['match']}", user=BUDDY_TG)
    assert any("erased" in (s.params.get("text") or "") for s in sent)
    sent = await chat.press(f"bm:{ids['appointment']}", user=users.coordinator)
    assert any("erased" in (s.params.get("text") or "") for s in sent)
    async with sessionmaker() as s:
        assert (await s.scalars(select(Person).where(Person.last_name == "Draycott"))).all() == []
        assert [a.person_id for a in await s.scalars(select(Appointment))] == [ids["other"]]
    assert {k for k, v in (await every_column(sessionmaker)).items() if leaks(v)} == left

    # the audit log reads as sentences, with the pseudonym, and keeps no names
    sent = await chat.send("/audit 50", user=users.admin)
    text = " ".join(s.text for s in sent)
    assert " ." not in text and not leaks(text)
    assert f"Admin made {pseudonym(ids['lesley'])} an action lead." in text


async def test_namesake_is_untouched_in_every_column(chat: ChatDriver, users: Users, sessionmaker):
    """Person 3 (linked to a member who stays) and person 128 share a name; erasing 128 changes nothing
    keyed to 3."""
    async with sessionmaker.begin() as s:
        stays = Person(title="Mrs", first_name="Lesley", last_name="Draycott", email="ld1@example.org")
        goes = Person(title="Ms", first_name="Lesley", last_name="Draycott", email="ld2@example.org")
        s.add_all([stays, goes])
        await s.flush()
        member = await s.get(Member, users.member)
        member.person_id = stays.id
        member.display_name = "Mrs Lesley Draycott"
        s.add(Member(telegram_id=NAMESAKE_TG, role="member", display_name="Lesley Draycott", person_id=goes.id))
        plan = Plan(title="Plan")
        s.add(plan)
        await s.flush()
        action = Action(plan_id=plan.id, ref="1.1", text="Maths", owners_text="")
        s.add(action)
        await s.flush()
        s.add(ActionOwner(action_id=action.id, person_id=stays.id, name="Mrs Lesley Draycott"))
        s.add(
            ProgressUpdate(
                action_id=action.id,
                comment="On track",
                academic_year=2026,
                term="autumn",
                author_id=users.member,
                author_person_id=stays.id,
                author_label="Mrs Lesley Draycott",
            )
        )
        s.add(AccessRequest(telegram_id=users.member, name="Lesley Draycott", school="Kimpton", status="approved"))
        audit.record(s, users.admin, "member.role", "member", users.member, role="member")
        audit.record(s, users.admin, "member.role", "member", NAMESAKE_TG, role="member")
        stays_id, goes_id = stays.id, goes.id
    await chat.send("/mydata", user=users.member)  # her saved state and an audit-free read
    before = await every_column(sessionmaker)

    sent = await chat.send(f"/erase {goes_id}", user=users.admin)
    assert "not mentioned in any free text" in sent[-1].text
    await chat.press(f"er:{goes_id}:y", user=users.admin)

    after = await every_column(sessionmaker)
    changed = {k for k in before if k in after and before[k] != after[k]}
    gone = {k for k in before if k not in after}
    # what changed or went is all about 128 / their account; nothing about 3 or member 1001
    for table, column, key in changed | gone:
        row = {c: v for (t, c, k), v in before.items() if t == table and k == key}
        assert (
            str(goes_id) in row.values()
            or str(NAMESAKE_TG) in row.values()
            or table in ("audit_log", "directory_version")
        ), (
            table,
            column,
            row,
        )
    async with sessionmaker() as s:
        person = await s.get(Person, stays_id)
        assert (person.title, person.first_name, person.last_name, person.email) == (
            "Mrs",
            "Lesley",
            "Draycott",
            "ld1@example.org",
        )
        assert (await s.get(Member, users.member)).display_name == "Mrs Lesley Draycott"
        assert (await s.scalars(select(ActionOwner))).one().name == "Mrs Lesley Draycott"
        assert (await s.scalars(select(ProgressUpdate))).one().author_label == "Mrs Lesley Draycott"
        request = (await s.scalars(select(AccessRequest).where(AccessRequest.telegram_id == users.member))).one()
        assert request.name == "Lesley Draycott"
        entries = list(await s.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(users.member))))
        assert [e.detail for e in entries] == [{"role": "member"}]
    for key in before:
        if key[0] in ("person", "member") and key[2] in (str(stays_id), str(users.member)):
            assert before[key] == after[key], key


async def test_new_audit_entries_keep_ids_and_codes_not_names_or_typed_text(sessionmaker):
    async with sessionmaker.begin() as s:
        audit.record(
            s,
            LESLEY_TG,
            "access.request",
            "access_request",
            7,
            name="Rita Rejected",
            school="Secret School 07700 123456",
            privacy_notice="abc123",
            applicant=LESLEY_TG,
        )
        audit.record(
            s,
            1,
            "appointment.update",
            "appointment",
            3,
            changes={"notes": ["a", "Lesley"], "start_date": ["2026-09-01", "2026-09-02"]},
        )
        audit.record(s, 1, "school.create", "school", 4, name="Kimpton Primary")
        audit.record(s, 1, "person.create", "person", 5, name="Lesley Draycott")
    async with sessionmaker() as s:
        details = [e.detail for e in await s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert details[0] == {
        "name": audit.WITHHELD,
        "school": audit.WITHHELD,
        "privacy_notice": "abc123",
        "applicant": LESLEY_TG,
    }
    assert details[1] == {"changes": {"notes": [audit.WITHHELD] * 2, "start_date": ["2026-09-01", "2026-09-02"]}}
    assert details[2] == {"name": "Kimpton Primary"}  # a school's name is not personal data
    assert details[3] == {"name": audit.WITHHELD}


async def test_the_old_confirm_of_a_pending_proposal_recreates_nobody(chat: ChatDriver, users: Users, sessionmaker):
    """Issue 22, scenario 2: erase Lesley, then the coordinator presses the old Confirm on the member's
    pending proposal about her: it answers that her data has been erased, and the directory stays as it is."""
    async with sessionmaker.begin() as s:
        school = School(name="Kimpton Primary")
        lesley = Person(title="Mrs", first_name="Lesley", last_name="Draycott")
        s.add_all([school, lesley])
        await s.flush()
        values = {
            "first_name": "Lesley",
            "last_name": "Draycott",
            "title": "Mrs",
            "school_id": school.id,
            "start_date": dt.date(2026, 9, 1),
            "relation": "school",
        }
        linked = await integrity.propose_appointment(s, users.member, {**values, "person_id": lesley.id}, "Mrs L D")
        typed = await integrity.propose_appointment(s, users.member, {**values, "person_id": None}, "Mrs L D")
        lesley_id, proposals = lesley.id, (linked.id, typed.id)
    await chat.send(f"/erase {lesley_id}", user=users.admin)
    await chat.press(f"er:{lesley_id}:y", user=users.admin)
    for change_id in proposals:
        sent = await chat.press(f"ecd:y:{change_id}", user=users.coordinator)
        assert any("This person's data has been erased" in (s.params.get("text") or "") for s in sent)
    async with sessionmaker() as s:
        assert (await s.scalars(select(Person))).all() == []
        assert (await s.scalars(select(Appointment))).all() == []
        assert {c.status for c in await s.scalars(select(EntryChange))} == {"erased"}
        assert not leaks(json.dumps([c.payload for c in await s.scalars(select(EntryChange))]))
