"""The scripted demo of a whole partnership day (docs/demo-day.txt, `make demo`), run through the console
session on both databases: every step shows what it should, in order, and the database holds the day's work."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import func, select

from cli.console import console_session
from core.settings import load_settings
from storage.buddies import BuddyMatch, CheckIn
from storage.db import make_engine, make_sessionmaker
from storage.desk import DeskState
from storage.directory import Person
from storage.members import AccessRequest, Member
from storage.plans import ProgressUpdate
from storage.support import SupportDeployment, SupportImpact

SCRIPT = Path(__file__).resolve().parent.parent / "docs" / "demo-day.txt"

# What the day must show, in this order.
MILESTONES = [
    "Thank you. A coordinator will look at your request soon",
    "Your request for access is with the coordinators since",
    "1 message waiting:",  # the coordinator switches and finds the request waiting
    "• 1 access request waiting",
    "approved by Ms Priya Shah",  # every copy of the request says who decided
    "Good news: your access has been approved.",
    "Saved: 1.1 🟢 Green",
    "How would you like your buddy to reach you?",
    "Reach them on: 07700 900123 · sam.newton@kimpton.sch.example",
    "Sent to the partnership office to confirm",  # a member's registration waits for the office
    "Confirmed: the appointment is registered.",
    "Link this account to Mr Sam Newton",
    "Linked:",
    "• 1 new head without a buddy",
    "(pressed “Confirm Mrs Helen Ashworth”)",
    "I have asked Mrs Helen Ashworth to be the buddy.",
    "Would you be a buddy to a new headteacher?",
    "Thank you for agreeing to be Mr Sam Newton's buddy.",
    "Meet your new head",  # the buddy has the phone the new head gave
    "Phone: 07700 900123",
    "Meet your buddy",  # the new head is on Telegram now: introduced directly
    "Buddy check-in, two weeks in",
    "Thank you. Your comment is kept for the coordinator.",
    "• 1 check-in answer since you last looked",
    "Mrs Helen Ashworth about Mr Sam Newton (two weeks in): Good",
    "Good first call; we meet again next week.",
    # School-to-school support (issue 25): ask, broker, accept, days, impact, the register.
    "(pressed “🤝 Ask for support”)",
    "is with the partnership office",
    "• 1 support request waiting",
    "Suggested system leaders",
    "SLE in mathematics, primary",
    "(pressed “Confirm Mr Chris Gunton”)",
    "Would you support a school?",
    "Thank you for agreeing to support request",
    "Support agreed: deployment 5",
    "Logged 1.5 days on deployment 5",
    "2.5 of 3 agreed days delivered",
    "Deployment 5 is finished.",
    "Would you recommend working with Mrs Helen Ashworth",
    "Your answers are kept for the partnership office.",
    "Would you recommend working with Mr Chris Gunton",
    "Your answers are kept for the partnership office.",
    "met, 0 waiting, 0 declined",
]


async def test_the_demo_day_plays_through(db_url: str, tmp_path: Path) -> None:
    settings = load_settings(database_url=db_url, console_files_dir=str(tmp_path / "files"), _env_file=None)
    out = io.StringIO()
    code = await console_session(settings, None, True, io.StringIO(SCRIPT.read_text(encoding="utf-8")), out)
    output = out.getvalue()
    assert code == 0
    position = 0
    for milestone in MILESTONES:
        found = output.find(milestone, position)
        assert found >= 0, f"not shown (after what came before): {milestone!r}\n\n{output[position : position + 3000]}"
        position = found + len(milestone)
    bot_said = "\n".join(line for line in output.splitlines() if not line.startswith("you> "))
    assert "I found no one" not in bot_said  # no press fell through to a search
    assert "Traceback" not in output and "went wrong" not in bot_said
    assert "Please introduce them yourself" not in bot_said  # the new head's account was linked

    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            request = (await session.scalars(select(AccessRequest))).one()
            assert request.status == "approved" and request.decided_by == 1003
            member = await session.get(Member, 9001)
            assert member is not None and member.active and member.person_id is not None
            match = (await session.scalars(select(BuddyMatch))).one()
            head = await session.get(Person, member.person_id)
            assert head is not None and head.phone == "07700 900123" and head.email == "sam.newton@kimpton.sch.example"
            assert match.status == "accepted"
            answered = (await session.scalars(select(CheckIn).where(CheckIn.answered_at.is_not(None)))).one()
            assert answered.answer == "good" and answered.comment == "Good first call; we meet again next week."
            assert (
                await session.scalar(
                    select(func.count()).select_from(ProgressUpdate).where(ProgressUpdate.author_id == 1002)
                )
                == 1
            )
            deployment = await session.get(SupportDeployment, 5)
            assert deployment is not None and deployment.status == "closed" and deployment.days_delivered == 2.5
            impacts = (await session.scalars(select(SupportImpact).where(SupportImpact.deployment_id == 5))).all()
            assert sorted((i.side, i.recommend) for i in impacts) == [("leader", True), ("school", True)]
            desk = await session.get(DeskState, 1003)
            assert desk is not None and desk.checkins_seen_at is not None
    finally:
        await engine.dispose()
