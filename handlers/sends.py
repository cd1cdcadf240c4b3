"""The words for a send claimed once (storage/sends.py): the losing presser is told who sent and when, and that
nothing was sent again; the winner, who was not reached. Shared by the chat's buttons and the Mini App's desk."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import N_, _, format_datetime
from storage import sends
from storage.members import Member

ALREADY = {
    sends.ASK_AGAIN: N_("Already asked by {who} at {when}: nothing was sent again."),
    sends.CHASE: N_("Reminders already sent by {who} at {when}: nothing was sent again."),
    sends.DIGEST: N_("Digest already posted by {who} at {when}: nothing was sent again."),
}


class AlreadySent(Exception):
    """The loser of two presses (or a second press within the window): `text` says who sent and when."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


async def who(session: AsyncSession, telegram_id: int | None) -> str:
    member = await session.get(Member, telegram_id) if telegram_id is not None else None
    return (member.display_name if member is not None else "") or (str(telegram_id) if telegram_id else "—")


async def claim_or_raise(
    session: AsyncSession, kind: str, subject_id: int, actor_id: int | None, tz: dt.tzinfo
) -> sends.Claim:
    """The one conditional write; AlreadySent (with the loser's sentence) when another press holds it."""
    claim = await sends.claim(session, kind, subject_id, actor_id, tz)
    if not claim.won:
        text = _(ALREADY[kind]).format(who=await who(session, claim.by), when=format_datetime(claim.at, tz))
        raise AlreadySent(text)
    return claim


# What a list says in place of the button, while a claim stands.
DONE = {
    sends.ASK_AGAIN: N_("Asked again by {who} at {when}: once a day."),
    sends.CHASE: N_("Reminders sent by {who} at {when}: once a day."),
}


async def standing_notes(session: AsyncSession, kind: str, subject_ids: list[int], tz: dt.tzinfo) -> dict[int, str]:
    """For each subject whose send was claimed within the window, the sentence shown instead of its button."""
    claims = await sends.standing(session, kind, subject_ids, tz)
    return {
        subject: _(DONE[kind]).format(who=await who(session, claim.by), when=format_datetime(claim.at, tz))
        for subject, claim in claims.items()
    }
