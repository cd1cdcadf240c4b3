"""How to reach the partnership office, said wherever the bot sends someone to it (a rejected applicant, a
search with no system leader, a buddy with no contact details): OFFICE_CONTACT in settings (an email address
and/or a phone number), else a pointer to the coordinators who run the bot."""

from __future__ import annotations

from core.settings import Settings
from core.text import Html, t


def ask_the_office(settings: Settings) -> Html:
    """One sentence: how to ask the partnership office."""
    contact = " ".join((settings.office_contact or "").split())
    if contact:
        return t("You can reach the partnership office at {contact}.", contact=contact)
    return t("The partnership office (the coordinators who run this bot) can help.")
